import RTPCore

public enum AudioFixtures {
    /// `count` samples of Earshot's test signal (identifying tone over a speech-like signal,
    /// `TestSignalGenerator`), so the companders see a realistic level distribution.
    public static func samples(count: Int) -> [Int16] {
        TestSignalGenerator(toneFrequency: 1000).frame(startingAt: 0, count: count)
    }

    /// Little-endian 16-bit PCM, what Python's `audioop` takes.
    public static func littleEndianBytes(_ samples: [Int16]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(samples.count * 2)
        for s in samples {
            let u = UInt16(bitPattern: s)
            bytes.append(UInt8(truncatingIfNeeded: u))
            bytes.append(UInt8(truncatingIfNeeded: u >> 8))
        }
        return bytes
    }
}
