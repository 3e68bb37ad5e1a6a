// Big-endian ("network byte order", RFC 3550 §5.1 and §6.4) reading and writing shared by the
// RTP, RTCP and RFC 4733 codecs of this module.

/// A forward-only reader over a byte slice.
///
/// Every read checks the remaining length and throws the caller's error when it is short, so a
/// decoder can say *which* structure was truncated (`try cursor.readUInt32(or: .truncatedHeader)`)
/// without a separate length check before each field. Offsets are relative to the start of the
/// slice, whatever its `startIndex`.
struct ByteCursor {
    let bytes: ArraySlice<UInt8>
    /// Offset of the next unread byte, relative to `bytes.startIndex`.
    private(set) var offset: Int = 0

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
    }

    var remaining: Int { bytes.count - offset }
    var isAtEnd: Bool { offset >= bytes.count }

    mutating func readUInt8<E: Error>(or error: @autoclosure () -> E) throws(E) -> UInt8 {
        guard remaining >= 1 else { throw error() }
        defer { offset += 1 }
        return bytes[bytes.startIndex + offset]
    }

    mutating func readUInt16<E: Error>(or error: @autoclosure () -> E) throws(E) -> UInt16 {
        guard remaining >= 2 else { throw error() }
        defer { offset += 2 }
        return bytes.bigEndianUInt16(at: offset)
    }

    mutating func readUInt32<E: Error>(or error: @autoclosure () -> E) throws(E) -> UInt32 {
        guard remaining >= 4 else { throw error() }
        defer { offset += 4 }
        return bytes.bigEndianUInt32(at: offset)
    }

    /// The next `count` bytes as a slice of the underlying storage (no copy).
    mutating func readBytes<E: Error>(_ count: Int, or error: @autoclosure () -> E) throws(E) -> ArraySlice<UInt8> {
        guard count >= 0, remaining >= count else { throw error() }
        let start = bytes.startIndex + offset
        offset += count
        return bytes[start..<(start + count)]
    }

    mutating func skip<E: Error>(_ count: Int, or error: @autoclosure () -> E) throws(E) {
        guard count >= 0, remaining >= count else { throw error() }
        offset += count
    }

    /// Everything not read yet.
    mutating func readRest() -> ArraySlice<UInt8> {
        let start = bytes.startIndex + offset
        offset = bytes.count
        return bytes[start..<bytes.endIndex]
    }
}

extension ArraySlice<UInt8> {
    /// The big-endian `UInt16` at `offset` bytes from `startIndex`; the caller has checked bounds.
    @inline(__always)
    func bigEndianUInt16(at offset: Int) -> UInt16 {
        let i = startIndex + offset
        return UInt16(self[i]) << 8 | UInt16(self[i + 1])
    }

    /// The big-endian `UInt32` at `offset` bytes from `startIndex`; the caller has checked bounds.
    @inline(__always)
    func bigEndianUInt32(at offset: Int) -> UInt32 {
        let i = startIndex + offset
        return UInt32(self[i]) << 24 | UInt32(self[i + 1]) << 16 | UInt32(self[i + 2]) << 8 | UInt32(self[i + 3])
    }
}

extension [UInt8] {
    @inline(__always)
    mutating func appendBigEndian(_ value: UInt16) {
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value))
    }

    @inline(__always)
    mutating func appendBigEndian(_ value: UInt32) {
        append(UInt8(truncatingIfNeeded: value >> 24))
        append(UInt8(truncatingIfNeeded: value >> 16))
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value))
    }

    /// Appends `count` zero octets (padding to a 32-bit boundary, RFC 3550 §5.1 / §6.4).
    @inline(__always)
    mutating func appendZeros(_ count: Int) {
        for _ in 0..<count { append(0) }
    }
}

/// Rounds `n` up to a multiple of four — RTP extensions and every RTCP structure are counted in
/// 32-bit words (RFC 3550 §5.3.1, §6.4.1).
@inline(__always)
func roundedUpToWord(_ n: Int) -> Int { (n + 3) & ~3 }
