/// ITU-T G.711 companding: µ-law (PCMU, RTP payload type 0) and A-law (PCMA, payload type 8).
///
/// The algorithms are those of the classic Sun Microsystems `g711.c` (the reference code
/// behind SoX, CPython's `audioop` and most soft phones): µ-law works on the 14 most
/// significant bits of a 16-bit sample, A-law on the 13 most significant bits, and A-law
/// inverts the even bits of the code (XOR 0x55). Decoding uses 256-entry tables; encoding
/// finds the segment with a leading-zero count instead of the original linear search.
///
/// Hand checks against the G.711 tables (Table 1a/2a, decoder outputs scaled to 16 bits):
/// * µ-law codes are transmitted inverted: 0xFF and 0x7F are +0 and −0 → 0; 0x80 (inverted
///   0x7F: positive, segment 7, step 15) → +8031·4 = 32124; 0x00 → −32124; 0xEF (inverted
///   0x10: segment 1, step 0) → 33·4 = 132.
/// * A-law 0xD5 (1 000 0000 after the even-bit inversion) → +1·8 = 8, 0x55 → −8;
///   0xAA (1 111 1111) → +4032·8 = 32256; 0x2A → −32256.
public enum G711Law: Sendable, Hashable, CaseIterable {
    /// PCMU: North America and Japan.
    case muLaw
    /// PCMA: the rest of the world.
    case aLaw

    /// The static RTP payload type (RFC 3551 Table 4).
    public var rtpPayloadType: UInt8 {
        switch self {
        case .muLaw: 0
        case .aLaw: 8
        }
    }

    /// The code a zero sample encodes to (what a silent frame is filled with).
    public var silenceCode: UInt8 {
        switch self {
        case .muLaw: 0xFF
        case .aLaw: 0xD5
        }
    }

    public func encode(_ sample: Int16) -> UInt8 {
        switch self {
        case .muLaw: G711Law.muLawEncode(sample)
        case .aLaw: G711Law.aLawEncode(sample)
        }
    }

    public func decode(_ code: UInt8) -> Int16 {
        switch self {
        case .muLaw: G711Law.muLawDecodeTable[Int(code)]
        case .aLaw: G711Law.aLawDecodeTable[Int(code)]
        }
    }

    /// Appends the codes of `samples` to `codes` (one byte per sample).
    ///
    /// The generic entry point hands contiguous storage to a concrete loop: called from another
    /// module, an unspecialised `for sample in samples` costs an allocation per element
    /// (measured in BENCHMARKS.md: 13× slower than the concrete loop).
    public func encode(_ samples: some Collection<Int16>, into codes: inout [UInt8]) {
        let handled: Void? = samples.withContiguousStorageIfAvailable { encode(buffer: $0, into: &codes) }
        if handled == nil {
            Array(samples).withUnsafeBufferPointer { encode(buffer: $0, into: &codes) }
        }
    }

    /// Appends the samples of `codes` to `samples`.
    public func decode(_ codes: some Collection<UInt8>, into samples: inout [Int16]) {
        let handled: Void? = codes.withContiguousStorageIfAvailable { decode(buffer: $0, into: &samples) }
        if handled == nil {
            Array(codes).withUnsafeBufferPointer { decode(buffer: $0, into: &samples) }
        }
    }

    private func encode(buffer samples: UnsafeBufferPointer<Int16>, into codes: inout [UInt8]) {
        let start = codes.count
        let law = self
        codes.append(contentsOf: repeatElement(0, count: samples.count))
        codes.withUnsafeMutableBufferPointer { out in
            switch law {
            case .muLaw: for i in samples.indices { out[start + i] = G711Law.muLawEncode(samples[i]) }
            case .aLaw: for i in samples.indices { out[start + i] = G711Law.aLawEncode(samples[i]) }
            }
        }
    }

    private func decode(buffer codes: UnsafeBufferPointer<UInt8>, into samples: inout [Int16]) {
        let start = samples.count
        samples.append(contentsOf: repeatElement(0, count: codes.count))
        let table = self == .muLaw ? G711Law.muLawDecodeTable : G711Law.aLawDecodeTable
        table.withUnsafeBufferPointer { table in
            samples.withUnsafeMutableBufferPointer { out in
                for i in codes.indices { out[start + i] = table[Int(codes[i])] }
            }
        }
    }

    // MARK: µ-law

    private static let muLawBias: Int32 = 0x84
    private static let muLawClip: Int32 = 8159

    /// Sun `linear2ulaw`: 14-bit magnitude, clipped to 8159, biased by 33, segment = position
    /// of the highest set bit above bit 5; `seg_uend[seg] = 2^(6+seg) - 1`.
    @inline(__always)
    static func muLawEncode(_ sample: Int16) -> UInt8 {
        var value = Int32(sample) >> 2
        let mask: UInt8
        if value < 0 {
            value = -value
            mask = 0x7F
        } else {
            mask = 0xFF
        }
        value = min(value, muLawClip) + (muLawBias >> 2)
        // Values 33...8192: bit length 6...14 → segment 0...8.
        let segment = max(0, (32 - UInt32(value).leadingZeroBitCount) - 6)
        if segment >= 8 { return 0x7F ^ mask }  // out of range: the maximum code
        let code = UInt8(segment << 4) | UInt8((value >> (segment + 1)) & 0xF)
        return code ^ mask
    }

    /// Sun `ulaw2linear`.
    private static func muLawDecodeReference(_ code: UInt8) -> Int16 {
        let inverted = ~code
        var t = (Int32(inverted & 0x0F) << 3) + muLawBias
        t <<= Int32((inverted & 0x70) >> 4)
        return Int16(inverted & 0x80 != 0 ? muLawBias - t : t - muLawBias)
    }

    static let muLawDecodeTable: [Int16] = (0...255).map { muLawDecodeReference(UInt8($0)) }

    // MARK: A-law

    /// Sun `linear2alaw`: 13-bit magnitude (one's complement for negatives), segment = position
    /// of the highest set bit above bit 4; `seg_aend[seg] = 2^(5+seg) - 1`; even bits inverted.
    @inline(__always)
    static func aLawEncode(_ sample: Int16) -> UInt8 {
        var value = Int32(sample) >> 3
        let mask: UInt8
        if value >= 0 {
            mask = 0xD5  // sign (7th) bit = 1
        } else {
            mask = 0x55  // sign bit = 0
            value = -value - 1
        }
        // Magnitudes 0...4095: bit length 0...12 → segment 0...7 (never out of range).
        let segment = max(0, (32 - UInt32(value).leadingZeroBitCount) - 5)
        let quantisation = segment < 2 ? (value >> 1) & 0xF : (value >> segment) & 0xF
        return (UInt8(segment << 4) | UInt8(quantisation)) ^ mask
    }

    /// Sun `alaw2linear`.
    private static func aLawDecodeReference(_ code: UInt8) -> Int16 {
        let value = code ^ 0x55
        var t = Int32(value & 0x0F) << 4
        let segment = Int32((value & 0x70) >> 4)
        switch segment {
        case 0: t += 8
        case 1: t += 0x108
        default:
            t += 0x108
            t <<= segment - 1
        }
        return Int16(value & 0x80 != 0 ? t : -t)
    }

    static let aLawDecodeTable: [Int16] = (0...255).map { aLawDecodeReference(UInt8($0)) }
}
