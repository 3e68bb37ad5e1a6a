import RTPCore
import Synchronization

/// The G.711 payloads of one sender's test signal, computed once and shared.
///
/// `TestSignalGenerator`'s signal is periodic: the tone repeats every second (its frequency is
/// a whole number of Hz), the voiced period divides the sample rate, and the talk/pause
/// envelope repeats every (talk + pause) syllables. So the signal repeats after
/// lcm(sample rate, envelope cycle) samples — 3 s (150 packets of 20 ms) with the defaults —
/// and a sender can cycle through precomputed payloads instead of synthesising and encoding
/// 8,000 samples a second per call. The table spans lcm(period, packet) samples; a period
/// longer than `maximumPeriodSamples` (a non-default configuration) is cut there, which puts
/// one discontinuity in the signal per minute.
struct SignalFrames: Sendable {
    let frames: [[UInt8]]
    let samplesPerPacket: Int

    static let maximumPeriodSamples = 8000 * 60

    static func period(of configuration: TestSignalGenerator.Configuration, samplesPerPacket: Int) -> Int? {
        let syllable = configuration.sampleRate / configuration.syllableRate
        let cycle = syllable * (configuration.talkSyllables + configuration.pauseSyllables)
        let period = lcm(lcm(configuration.sampleRate, cycle), samplesPerPacket)
        return period <= maximumPeriodSamples ? period : nil
    }

    init(toneFrequency: Int, law: G711Law, samplesPerPacket: Int) {
        let generator = TestSignalGenerator(toneFrequency: toneFrequency)
        self.samplesPerPacket = samplesPerPacket
        let period = Self.period(of: generator.configuration, samplesPerPacket: samplesPerPacket)
            ?? Self.maximumPeriodSamples / samplesPerPacket * samplesPerPacket
        var frames: [[UInt8]] = []
        frames.reserveCapacity(period / samplesPerPacket)
        var codes: [UInt8] = []
        for start in stride(from: 0, to: period, by: samplesPerPacket) {
            codes.removeAll(keepingCapacity: true)
            law.encode(generator.frame(startingAt: Int64(start), count: samplesPerPacket), into: &codes)
            frames.append(codes)
        }
        self.frames = frames
    }

    /// The payload of packet `index` (packet 0 starts at sample 0).
    func payload(packet index: Int64) -> [UInt8] {
        frames[Int(index % Int64(frames.count))]
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
    private static func lcm(_ a: Int, _ b: Int) -> Int { a / gcd(a, b) * b }
}

/// Shares `SignalFrames` between sessions with the same tone, law and packet size.
final class SignalFrameCache: Sendable {
    private struct Key: Hashable {
        var tone: Int
        var law: G711Law
        var samples: Int
    }

    private let frames = Mutex<[Key: SignalFrames]>([:])

    func frames(toneFrequency: Int, law: G711Law, samplesPerPacket: Int) -> SignalFrames {
        let key = Key(tone: toneFrequency, law: law, samples: samplesPerPacket)
        if let cached = frames.withLock({ $0[key] }) { return cached }
        let computed = SignalFrames(toneFrequency: toneFrequency, law: law, samplesPerPacket: samplesPerPacket)
        return frames.withLock { table in
            if let cached = table[key] { return cached }
            table[key] = computed
            return computed
        }
    }
}
