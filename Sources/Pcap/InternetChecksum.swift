/// The Internet checksum (RFC 1071 §4.1): the ones' complement of the ones' complement sum of
/// 16-bit big-endian words, an odd final byte padded with zero.
public struct InternetChecksum: Sendable {
    private var sum: UInt64 = 0
    private var pendingByte: UInt8?

    public init() {}

    public mutating func add(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            if let high = pendingByte {
                sum += UInt64(high) << 8 | UInt64(byte)
                pendingByte = nil
            } else {
                pendingByte = byte
            }
        }
    }

    public mutating func add(_ word: UInt16) {
        precondition(pendingByte == nil, "add whole words only at even offsets")
        sum += UInt64(word)
    }

    /// The checksum field value: the complemented, folded sum.
    public var value: UInt16 {
        var total = sum
        if let high = pendingByte { total += UInt64(high) << 8 }
        while total > 0xFFFF { total = (total & 0xFFFF) + (total >> 16) }
        return ~UInt16(total)
    }

    public static func of(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var checksum = InternetChecksum()
        checksum.add(bytes)
        return checksum.value
    }
}
