/// Why a capture file cannot be read further.
///
/// These are faults in the *file structure* (headers, block framing). A packet inside a good
/// file that is not a well-formed UDP datagram is not an error: it is set aside and counted
/// (see `SetAsideReason`, `CaptureTally`). `offset` is the absolute file offset of the header or
/// block at fault, so an engineer can look at it with a hex dump.
public struct PcapError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: Hashable, Sendable {
        /// The input holds no bytes at all.
        case emptyInput
        /// The input ends inside the file header (classic pcap: 24 bytes; pcapng: the first Section Header Block).
        case truncatedFileHeader(available: Int)
        /// The first four bytes are neither a pcap magic number nor a pcapng Section Header Block type.
        /// The value is read big-endian, as a hex dump shows it.
        case badMagic(UInt32)
        /// Classic pcap other than 2.x, or pcapng other than 1.x.
        case unsupportedVersion(major: UInt16, minor: UInt16)
        /// A classic record's or packet block's captured length exceeds `CaptureReader.Limits.maximumPacketLength`
        /// (a corrupt length, caught before the reader waits for bytes that will never come).
        case packetTooLarge(capturedLength: UInt32, limit: Int)
        /// pcapng: the Section Header Block's byte-order magic is not 0x1A2B3C4D in either order.
        case badByteOrderMagic(UInt32)
        /// pcapng: a block total length below the minimum for its type.
        case blockTooShort(type: UInt32, length: UInt32)
        /// pcapng: a block total length that is not a multiple of 4.
        case blockLengthNotMultipleOfFour(type: UInt32, length: UInt32)
        /// pcapng: a block total length above `CaptureReader.Limits.maximumBlockLength`.
        case blockTooLarge(type: UInt32, length: UInt32, limit: Int)
        /// pcapng: the trailing Block Total Length differs from the leading one.
        case blockLengthMismatch(type: UInt32, leading: UInt32, trailing: UInt32)
        /// pcapng: a packet block names an interface no Interface Description Block of this section declared.
        case unknownInterface(id: UInt32, declared: Int)
        /// pcapng: a packet block's captured length does not fit in the block.
        case capturedLengthExceedsBlock(type: UInt32, capturedLength: UInt32, available: Int)
        /// pcapng: an option runs past the end of its block, or has a length its code does not allow.
        case malformedOption(blockType: UInt32, code: UInt16)
        /// pcapng: an `if_tsresol` this reader cannot convert (10^-n with n > 38, or 2^-n with n > 127).
        case unsupportedTimestampResolution(UInt8)
        /// A timestamp (after `if_tsoffset`) that does not fit in signed 64-bit seconds.
        case timestampOutOfRange
    }

    public let code: Code
    /// Absolute byte offset, in the input, of the header or block at fault.
    public let offset: Int

    public init(_ code: Code, offset: Int) {
        self.code = code
        self.offset = offset
    }

    public var description: String {
        let what: String
        switch code {
        case .emptyInput: what = "the capture is empty"
        case .truncatedFileHeader(let available): what = "the file header is cut short (\(available) bytes)"
        case .badMagic(let magic): what = "not a pcap or pcapng file (magic 0x\(hex(magic)))"
        case .unsupportedVersion(let major, let minor): what = "unsupported format version \(major).\(minor)"
        case .packetTooLarge(let length, let limit): what = "packet of \(length) bytes exceeds the limit of \(limit)"
        case .badByteOrderMagic(let magic): what = "pcapng section header with bad byte-order magic 0x\(hex(magic))"
        case .blockTooShort(let type, let length): what = "pcapng block type 0x\(hex(type)) too short (\(length) bytes)"
        case .blockLengthNotMultipleOfFour(let type, let length):
            what = "pcapng block type 0x\(hex(type)) length \(length) is not a multiple of 4"
        case .blockTooLarge(let type, let length, let limit):
            what = "pcapng block type 0x\(hex(type)) of \(length) bytes exceeds the limit of \(limit)"
        case .blockLengthMismatch(let type, let leading, let trailing):
            what = "pcapng block type 0x\(hex(type)): leading length \(leading) ≠ trailing length \(trailing)"
        case .unknownInterface(let id, let declared):
            what = "packet on interface \(id), but the section declares \(declared) interface(s)"
        case .capturedLengthExceedsBlock(let type, let length, let available):
            what = "pcapng block type 0x\(hex(type)): captured length \(length) exceeds the \(available) bytes the block holds"
        case .malformedOption(let type, let optionCode):
            what = "pcapng block type 0x\(hex(type)): malformed option \(optionCode)"
        case .unsupportedTimestampResolution(let value): what = "unsupported if_tsresol 0x\(hex(value))"
        case .timestampOutOfRange: what = "timestamp out of range"
        }
        return "\(what) at offset \(offset)"
    }
}

func hex(_ value: some FixedWidthInteger) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, value.bitWidth / 4 - digits.count)) + digits
}
