/// The byte order of multi-byte fields in a capture file.
///
/// Capture files are written in the byte order of the host that wrote them (classic pcap) or
/// of the section (pcapng); network headers inside packets are always big-endian.
public enum ByteOrder: Sendable, Hashable, CustomStringConvertible {
    case big
    case little

    public var description: String { self == .big ? "big-endian" : "little-endian" }

    /// The other order; a magic number read in the wrong order reveals a file from the other kind of host.
    var swapped: ByteOrder { self == .big ? .little : .big }
}

// MARK: - Reading fixed-width integers
//
// Offsets are relative to the slice's `startIndex`; callers check bounds first (every parser
// compares `count` against the bytes it needs before reading), so these never see short input.

extension ArraySlice<UInt8> {
    @inline(__always)
    func u8(_ offset: Int) -> UInt8 { self[startIndex + offset] }

    @inline(__always)
    func u16(_ offset: Int, _ order: ByteOrder = .big) -> UInt16 {
        let a = UInt16(self[startIndex + offset]), b = UInt16(self[startIndex + offset + 1])
        return order == .big ? a << 8 | b : b << 8 | a
    }

    @inline(__always)
    func u32(_ offset: Int, _ order: ByteOrder = .big) -> UInt32 {
        let a = UInt32(u16(offset, order)), b = UInt32(u16(offset + 2, order))
        return order == .big ? a << 16 | b : b << 16 | a
    }

    @inline(__always)
    func u64(_ offset: Int, _ order: ByteOrder = .big) -> UInt64 {
        let a = UInt64(u32(offset, order)), b = UInt64(u32(offset + 4, order))
        return order == .big ? a << 32 | b : b << 32 | a
    }

    /// A sub-slice by relative offsets (indices stay those of the underlying array).
    @inline(__always)
    func bytes(_ offset: Int, _ length: Int) -> ArraySlice<UInt8> {
        self[(startIndex + offset)..<(startIndex + offset + length)]
    }
}

// MARK: - Writing fixed-width integers

extension Array<UInt8> {
    mutating func append(u16 value: UInt16, _ order: ByteOrder = .big) {
        if order == .big {
            append(UInt8(truncatingIfNeeded: value >> 8)); append(UInt8(truncatingIfNeeded: value))
        } else {
            append(UInt8(truncatingIfNeeded: value)); append(UInt8(truncatingIfNeeded: value >> 8))
        }
    }

    mutating func append(u32 value: UInt32, _ order: ByteOrder = .big) {
        let high = UInt16(truncatingIfNeeded: value >> 16), low = UInt16(truncatingIfNeeded: value)
        if order == .big { append(u16: high, order); append(u16: low, order) } else { append(u16: low, order); append(u16: high, order) }
    }

    mutating func append(u64 value: UInt64, _ order: ByteOrder = .big) {
        let high = UInt32(truncatingIfNeeded: value >> 32), low = UInt32(truncatingIfNeeded: value)
        if order == .big { append(u32: high, order); append(u32: low, order) } else { append(u32: low, order); append(u32: high, order) }
    }

    /// Zero bytes up to the next multiple of four (pcapng pads every variable field to 32 bits).
    mutating func padToFour() {
        while count % 4 != 0 { append(0) }
    }

    /// Overwrite a big-endian 16-bit field in place (checksums and lengths filled in after the fact).
    mutating func store(u16 value: UInt16, at index: Int) {
        self[index] = UInt8(truncatingIfNeeded: value >> 8)
        self[index + 1] = UInt8(truncatingIfNeeded: value)
    }
}

/// `value` rounded up to a multiple of four.
@inline(__always)
func paddedToFour(_ value: Int) -> Int { (value + 3) & ~3 }
