// pcapng (draft-ietf-opsawg-pcapng, "PCAP Next Generation (pcapng) Capture File Format").
//
// Every block has the same frame (§3.1); its body depends on the type:
//
//     0                   1                   2                   3
//     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//    +---------------------------------------------------------------+
//  0 |                          Block Type                           |
//    +---------------------------------------------------------------+
//  4 |                      Block Total Length                       |
//    +---------------------------------------------------------------+
//  8 /                          Block Body                           /
//    /              variable length, padded to 32 bits               /
//    +---------------------------------------------------------------+
//    |                      Block Total Length                       |
//    +---------------------------------------------------------------+
//
// Fields are in the byte order of the section, which its Section Header Block declares.

/// pcapng block type codes (§11.1) this module reads or writes.
public enum PcapNGBlockType {
    public static let sectionHeader: UInt32 = 0x0A0D_0D0A
    public static let interfaceDescription: UInt32 = 0x0000_0001
    /// Obsolete Packet Block (Appendix A of the draft); still written by old tools.
    public static let obsoletePacket: UInt32 = 0x0000_0002
    public static let simplePacket: UInt32 = 0x0000_0003
    public static let enhancedPacket: UInt32 = 0x0000_0006

    /// The smallest Block Total Length each type can have: frame (12) plus its fixed body.
    static func minimumLength(of type: UInt32) -> UInt32 {
        switch type {
        case sectionHeader: 28
        case interfaceDescription: 20
        case obsoletePacket, enhancedPacket: 32
        case simplePacket: 16
        default: 12
        }
    }
}

/// One option of a pcapng block (§3.5): a 16-bit code, a 16-bit length, the value padded to 32 bits.
///
/// ```
///  0 |      Option Code              |         Option Length         |
///  4 /                       Option Value                            /
///    /              variable length, padded to 32 bits               /
/// ```
public struct PcapNGOption: Hashable, Sendable {
    public var code: UInt16
    public var value: [UInt8]

    public init(code: UInt16, value: [UInt8]) {
        self.code = code
        self.value = value
    }

    public static let endOfOptions: UInt16 = 0
    /// `if_name` (§4.2): the interface's name, UTF-8.
    public static let interfaceName: UInt16 = 2
    /// `if_tsresol` (§4.2): one byte, see `TimestampResolution`.
    public static let interfaceTimestampResolution: UInt16 = 9
    /// `if_tsoffset` (§4.2): a signed 64-bit number of seconds added to every timestamp.
    public static let interfaceTimestampOffset: UInt16 = 14

    public var encodedSize: Int { 4 + paddedToFour(value.count) }

    public func encode(into buffer: inout [UInt8], byteOrder: ByteOrder) {
        buffer.append(u16: code, byteOrder)
        buffer.append(u16: UInt16(value.count), byteOrder)
        buffer.append(contentsOf: value)
        buffer.padToFour()
    }

    /// Parses an options area up to `opt_endofopt` or its end. An option whose padded value
    /// runs past the area is `.malformedOption`; `offset` is the block's file offset for errors.
    static func parseList(_ area: ArraySlice<UInt8>, byteOrder: ByteOrder, blockType: UInt32, offset: Int) throws(PcapError) -> [PcapNGOption] {
        var options: [PcapNGOption] = []
        var position = 0
        while position < area.count {
            guard area.count - position >= 4 else { throw PcapError(.malformedOption(blockType: blockType, code: 0), offset: offset) }
            let code = area.u16(position, byteOrder)
            let length = Int(area.u16(position + 2, byteOrder))
            if code == endOfOptions { break }
            guard area.count - position - 4 >= length else {
                throw PcapError(.malformedOption(blockType: blockType, code: code), offset: offset)
            }
            options.append(PcapNGOption(code: code, value: Array(area.bytes(position + 4, length))))
            position += 4 + min(paddedToFour(length), area.count - position - 4)
        }
        return options
    }

    static func encodeList(_ options: [PcapNGOption], into buffer: inout [UInt8], byteOrder: ByteOrder) {
        guard !options.isEmpty else { return }
        for option in options { option.encode(into: &buffer, byteOrder: byteOrder) }
        buffer.append(u16: endOfOptions, byteOrder)
        buffer.append(u16: 0, byteOrder)
    }

    static func encodedSize(of options: [PcapNGOption]) -> Int {
        options.isEmpty ? 0 : options.reduce(4) { $0 + $1.encodedSize }
    }
}

/// Checks a whole block's frame: the leading length equals the slice's size, is a multiple of
/// 4, reaches the type's minimum, and the trailing copy agrees. Returns the block type.
func validateBlockFrame(_ block: ArraySlice<UInt8>, byteOrder: ByteOrder, offset: Int) throws(PcapError) -> UInt32 {
    guard block.count >= 12 else {
        throw PcapError(.blockTooShort(type: block.count >= 4 ? block.u32(0, byteOrder) : 0, length: UInt32(block.count)), offset: offset)
    }
    let type = block.u32(0, byteOrder)
    let leading = block.u32(4, byteOrder)
    guard leading % 4 == 0 else { throw PcapError(.blockLengthNotMultipleOfFour(type: type, length: leading), offset: offset) }
    guard leading >= PcapNGBlockType.minimumLength(of: type) else { throw PcapError(.blockTooShort(type: type, length: leading), offset: offset) }
    let trailing = block.u32(block.count - 4, byteOrder)
    guard leading == block.count, trailing == leading else {
        throw PcapError(.blockLengthMismatch(type: type, leading: leading, trailing: trailing), offset: offset)
    }
    return type
}

/// Wraps a block body in its frame (type, total length, body, total length).
func encodeBlock(type: UInt32, bodySize: Int, into buffer: inout [UInt8], byteOrder: ByteOrder, body: (inout [UInt8]) -> Void) {
    let total = UInt32(12 + bodySize)
    buffer.append(u32: type, byteOrder)
    buffer.append(u32: total, byteOrder)
    let start = buffer.count
    body(&buffer)
    precondition(buffer.count - start == bodySize, "pcapng block body size mismatch")
    buffer.append(u32: total, byteOrder)
}

/// Section Header Block (§4.1): starts a section and fixes its byte order.
///
/// ```
///  0 |                   Block Type = 0x0A0D0D0A                     |
///  4 |                      Block Total Length                       |
///  8 |                      Byte-Order Magic  (0x1A2B3C4D)           |
/// 12 |          Major Version        |         Minor Version         |
/// 16 |                                                               |
///    |                          Section Length                       |
/// 24 /                      Options (variable)                       /
///    |                      Block Total Length                       |
/// ```
public struct SectionHeaderBlock: Hashable, Sendable {
    public static let byteOrderMagic: UInt32 = 0x1A2B_3C4D

    public var byteOrder: ByteOrder
    public var versionMajor: UInt16 = 1
    public var versionMinor: UInt16 = 0
    /// Bytes in the section after this block, or -1 when unknown (what writers usually say).
    public var sectionLength: Int64 = -1
    public var options: [PcapNGOption] = []

    public init(byteOrder: ByteOrder = .little, options: [PcapNGOption] = []) {
        self.byteOrder = byteOrder
        self.options = options
    }

    /// The byte order a Section Header Block declares, from its first 12 bytes; the reader needs
    /// it before it can read the block's length.
    static func byteOrder(of head: ArraySlice<UInt8>, offset: Int) throws(PcapError) -> ByteOrder {
        let magic = head.u32(8, .big)
        switch magic {
        case byteOrderMagic: return .big
        case 0x4D3C_2B1A: return .little
        default: throw PcapError(.badByteOrderMagic(magic), offset: offset)
        }
    }

    /// Parses a whole block. Errors: `.badByteOrderMagic`, frame errors, `.unsupportedVersion`
    /// (major version other than 1), `.malformedOption`.
    public init(parsing block: ArraySlice<UInt8>, offset: Int = 0) throws(PcapError) {
        guard block.count >= 12 else { throw PcapError(.blockTooShort(type: PcapNGBlockType.sectionHeader, length: UInt32(block.count)), offset: offset) }
        byteOrder = try Self.byteOrder(of: block, offset: offset)
        _ = try validateBlockFrame(block, byteOrder: byteOrder, offset: offset)
        versionMajor = block.u16(12, byteOrder)
        versionMinor = block.u16(14, byteOrder)
        guard versionMajor == 1 else { throw PcapError(.unsupportedVersion(major: versionMajor, minor: versionMinor), offset: offset) }
        sectionLength = Int64(bitPattern: block.u64(16, byteOrder))
        options = try PcapNGOption.parseList(block.bytes(24, block.count - 28), byteOrder: byteOrder,
                                             blockType: PcapNGBlockType.sectionHeader, offset: offset)
    }

    public var encodedSize: Int { 28 + PcapNGOption.encodedSize(of: options) }

    public func encode(into buffer: inout [UInt8]) {
        encodeBlock(type: PcapNGBlockType.sectionHeader, bodySize: encodedSize - 12, into: &buffer, byteOrder: byteOrder) { body in
            body.append(u32: Self.byteOrderMagic, byteOrder)
            body.append(u16: versionMajor, byteOrder)
            body.append(u16: versionMinor, byteOrder)
            body.append(u64: UInt64(bitPattern: sectionLength), byteOrder)
            PcapNGOption.encodeList(options, into: &body, byteOrder: byteOrder)
        }
    }
}

/// Interface Description Block (§4.2): declares one capture interface of the section; packet
/// blocks refer to interfaces by their order of declaration (0, 1, …).
///
/// ```
///  0 |                    Block Type = 0x00000001                    |
///  4 |                      Block Total Length                       |
///  8 |           LinkType            |           Reserved            |
/// 12 |                            SnapLen                            |
/// 16 /                      Options (variable)                       /
///    |                      Block Total Length                       |
/// ```
public struct InterfaceDescriptionBlock: Hashable, Sendable {
    public var linkType: LinkType
    /// 0 means no limit.
    public var snapLength: UInt32
    public var options: [PcapNGOption]

    public init(linkType: LinkType, snapLength: UInt32 = 0, options: [PcapNGOption] = []) {
        self.linkType = linkType
        self.snapLength = snapLength
        self.options = options
    }

    /// Errors: frame errors; `.malformedOption` for an option overrunning the block or an
    /// `if_tsresol`/`if_tsoffset` of the wrong size; `.unsupportedTimestampResolution`.
    public init(parsing block: ArraySlice<UInt8>, byteOrder: ByteOrder, offset: Int = 0) throws(PcapError) {
        _ = try validateBlockFrame(block, byteOrder: byteOrder, offset: offset)
        linkType = LinkType(rawValue: block.u16(8, byteOrder))
        snapLength = block.u32(12, byteOrder)
        options = try PcapNGOption.parseList(block.bytes(16, block.count - 20), byteOrder: byteOrder,
                                             blockType: PcapNGBlockType.interfaceDescription, offset: offset)
        for option in options {
            switch option.code {
            case PcapNGOption.interfaceTimestampResolution:
                guard option.value.count == 1 else { throw PcapError(.malformedOption(blockType: 1, code: option.code), offset: offset) }
                guard TimestampResolution(rawValue: option.value[0]).isSupported else {
                    throw PcapError(.unsupportedTimestampResolution(option.value[0]), offset: offset)
                }
            case PcapNGOption.interfaceTimestampOffset:
                guard option.value.count == 8 else { throw PcapError(.malformedOption(blockType: 1, code: option.code), offset: offset) }
            default: break
            }
        }
    }

    /// `if_tsresol`, or microseconds when absent.
    public var resolution: TimestampResolution {
        options.last { $0.code == PcapNGOption.interfaceTimestampResolution && $0.value.count == 1 }
            .map { TimestampResolution(rawValue: $0.value[0]) } ?? .microseconds
    }

    /// `if_tsoffset` in seconds, or 0 when absent.
    public func offsetSeconds(byteOrder: ByteOrder) -> Int64 {
        options.last { $0.code == PcapNGOption.interfaceTimestampOffset && $0.value.count == 8 }
            .map { Int64(bitPattern: $0.value[...].u64(0, byteOrder)) } ?? 0
    }

    /// `if_name`, when present and valid UTF-8.
    public var name: String? {
        options.last { $0.code == PcapNGOption.interfaceName }.flatMap { option in
            String(validating: option.value, as: UTF8.self)
        }
    }

    public var encodedSize: Int { 20 + PcapNGOption.encodedSize(of: options) }

    public func encode(into buffer: inout [UInt8], byteOrder: ByteOrder) {
        encodeBlock(type: PcapNGBlockType.interfaceDescription, bodySize: encodedSize - 12, into: &buffer, byteOrder: byteOrder) { body in
            body.append(u16: linkType.rawValue, byteOrder)
            body.append(u16: 0, byteOrder)
            body.append(u32: snapLength, byteOrder)
            PcapNGOption.encodeList(options, into: &body, byteOrder: byteOrder)
        }
    }
}

/// Enhanced Packet Block (§4.3): one packet with its interface and a 64-bit timestamp in the
/// interface's `if_tsresol` units.
///
/// ```
///  0 |                    Block Type = 0x00000006                    |
///  4 |                      Block Total Length                       |
///  8 |                         Interface ID                          |
/// 12 |                        Timestamp (High)                       |
/// 16 |                        Timestamp (Low)                        |
/// 20 |                    Captured Packet Length                     |
/// 24 |                    Original Packet Length                     |
/// 28 /                          Packet Data                          /
///    /              variable length, padded to 32 bits               /
///    /                      Options (variable)                       /
///    |                      Block Total Length                       |
/// ```
public struct EnhancedPacketBlock: Hashable, Sendable {
    public var interfaceID: UInt32
    public var timestampUnits: UInt64
    public var originalLength: UInt32
    public var data: [UInt8]
    public var options: [PcapNGOption]

    public init(interfaceID: UInt32, timestampUnits: UInt64, originalLength: UInt32? = nil, data: [UInt8], options: [PcapNGOption] = []) {
        self.interfaceID = interfaceID
        self.timestampUnits = timestampUnits
        self.originalLength = originalLength ?? UInt32(data.count)
        self.data = data
        self.options = options
    }

    /// Errors: frame errors, `.capturedLengthExceedsBlock`, `.malformedOption`.
    public init(parsing block: ArraySlice<UInt8>, byteOrder: ByteOrder, offset: Int = 0) throws(PcapError) {
        _ = try validateBlockFrame(block, byteOrder: byteOrder, offset: offset)
        interfaceID = block.u32(8, byteOrder)
        let fields = try PacketFields(parsing: block, byteOrder: byteOrder, blockType: PcapNGBlockType.enhancedPacket, offset: offset)
        (timestampUnits, originalLength, data, options) = (fields.timestampUnits, fields.originalLength, fields.data, fields.options)
    }

    private var fields: PacketFields {
        PacketFields(timestampUnits: timestampUnits, originalLength: originalLength, data: data, options: options)
    }

    public var encodedSize: Int { 16 + fields.encodedSize }

    public func encode(into buffer: inout [UInt8], byteOrder: ByteOrder) {
        encodeBlock(type: PcapNGBlockType.enhancedPacket, bodySize: encodedSize - 12, into: &buffer, byteOrder: byteOrder) { body in
            body.append(u32: interfaceID, byteOrder)
            fields.encode(into: &body, byteOrder: byteOrder)
        }
    }
}

/// Simple Packet Block (§4.4): a packet on interface 0 with no timestamp and no captured
/// length; the captured length is the smaller of the original length and the interface's
/// snap length (and, here, of what the block holds).
///
/// ```
///  0 |                    Block Type = 0x00000003                    |
///  4 |                      Block Total Length                       |
///  8 |                    Original Packet Length                     |
/// 12 /                          Packet Data                          /
///    /              variable length, padded to 32 bits               /
///    |                      Block Total Length                       |
/// ```
public struct SimplePacketBlock: Hashable, Sendable {
    public var originalLength: UInt32
    public var data: [UInt8]

    public init(originalLength: UInt32? = nil, data: [UInt8]) {
        self.originalLength = originalLength ?? UInt32(data.count)
        self.data = data
    }

    /// `snapLength` is interface 0's (0 = unlimited).
    public init(parsing block: ArraySlice<UInt8>, byteOrder: ByteOrder, snapLength: UInt32, offset: Int = 0) throws(PcapError) {
        _ = try validateBlockFrame(block, byteOrder: byteOrder, offset: offset)
        originalLength = block.u32(8, byteOrder)
        var captured = min(Int(originalLength), block.count - 16)
        if snapLength > 0 { captured = min(captured, Int(snapLength)) }
        data = Array(block.bytes(12, captured))
    }

    public var encodedSize: Int { 16 + paddedToFour(data.count) }

    public func encode(into buffer: inout [UInt8], byteOrder: ByteOrder) {
        encodeBlock(type: PcapNGBlockType.simplePacket, bodySize: encodedSize - 12, into: &buffer, byteOrder: byteOrder) { body in
            body.append(u32: originalLength, byteOrder)
            body.append(contentsOf: data)
            body.padToFour()
        }
    }
}

/// Obsolete Packet Block (pcapng draft Appendix A, type 2): the Enhanced Packet Block's
/// predecessor, with a 16-bit interface ID and a drops counter.
///
/// ```
///  0 |                    Block Type = 0x00000002                    |
///  4 |                      Block Total Length                       |
///  8 |         Interface ID          |          Drops Count          |
/// 12 |                        Timestamp (High)                       |
/// 16 |                        Timestamp (Low)                        |
/// 20 |                    Captured Packet Length                     |
/// 24 |                    Original Packet Length                     |
/// 28 /                          Packet Data                          /
///    /                      Options (variable)                       /
///    |                      Block Total Length                       |
/// ```
public struct ObsoletePacketBlock: Hashable, Sendable {
    public var interfaceID: UInt16
    public var dropsCount: UInt16
    public var timestampUnits: UInt64
    public var originalLength: UInt32
    public var data: [UInt8]
    public var options: [PcapNGOption]

    public init(interfaceID: UInt16, dropsCount: UInt16 = 0, timestampUnits: UInt64, originalLength: UInt32? = nil,
                data: [UInt8], options: [PcapNGOption] = []) {
        self.interfaceID = interfaceID
        self.dropsCount = dropsCount
        self.timestampUnits = timestampUnits
        self.originalLength = originalLength ?? UInt32(data.count)
        self.data = data
        self.options = options
    }

    public init(parsing block: ArraySlice<UInt8>, byteOrder: ByteOrder, offset: Int = 0) throws(PcapError) {
        _ = try validateBlockFrame(block, byteOrder: byteOrder, offset: offset)
        interfaceID = block.u16(8, byteOrder)
        dropsCount = block.u16(10, byteOrder)
        let fields = try PacketFields(parsing: block, byteOrder: byteOrder, blockType: PcapNGBlockType.obsoletePacket, offset: offset)
        (timestampUnits, originalLength, data, options) = (fields.timestampUnits, fields.originalLength, fields.data, fields.options)
    }

    private var fields: PacketFields {
        PacketFields(timestampUnits: timestampUnits, originalLength: originalLength, data: data, options: options)
    }

    public var encodedSize: Int { 16 + fields.encodedSize }

    public func encode(into buffer: inout [UInt8], byteOrder: ByteOrder) {
        encodeBlock(type: PcapNGBlockType.obsoletePacket, bodySize: encodedSize - 12, into: &buffer, byteOrder: byteOrder) { body in
            body.append(u16: interfaceID, byteOrder)
            body.append(u16: dropsCount, byteOrder)
            fields.encode(into: &body, byteOrder: byteOrder)
        }
    }
}

/// What Enhanced and Obsolete Packet Blocks share from body offset 12 on: the 64-bit
/// timestamp, the two lengths, the padded data and the options.
private struct PacketFields {
    var timestampUnits: UInt64
    var originalLength: UInt32
    var data: [UInt8]
    var options: [PcapNGOption]

    init(timestampUnits: UInt64, originalLength: UInt32, data: [UInt8], options: [PcapNGOption]) {
        self.timestampUnits = timestampUnits
        self.originalLength = originalLength
        self.data = data
        self.options = options
    }

    /// `block` is the whole (frame-validated) block. Error: `.capturedLengthExceedsBlock`, option errors.
    init(parsing block: ArraySlice<UInt8>, byteOrder: ByteOrder, blockType: UInt32, offset: Int) throws(PcapError) {
        timestampUnits = UInt64(block.u32(12, byteOrder)) << 32 | UInt64(block.u32(16, byteOrder))
        let capturedLength = block.u32(20, byteOrder)
        originalLength = block.u32(24, byteOrder)
        let room = block.count - 32
        guard capturedLength <= room else {
            throw PcapError(.capturedLengthExceedsBlock(type: blockType, capturedLength: capturedLength, available: room), offset: offset)
        }
        data = Array(block.bytes(28, Int(capturedLength)))
        let optionsStart = min(28 + paddedToFour(Int(capturedLength)), block.count - 4)
        options = try PcapNGOption.parseList(block.bytes(optionsStart, block.count - 4 - optionsStart), byteOrder: byteOrder,
                                             blockType: blockType, offset: offset)
    }

    /// Bytes from the timestamp to the end of the options.
    var encodedSize: Int { 16 + paddedToFour(data.count) + PcapNGOption.encodedSize(of: options) }

    func encode(into body: inout [UInt8], byteOrder: ByteOrder) {
        body.append(u32: UInt32(truncatingIfNeeded: timestampUnits >> 32), byteOrder)
        body.append(u32: UInt32(truncatingIfNeeded: timestampUnits), byteOrder)
        body.append(u32: UInt32(data.count), byteOrder)
        body.append(u32: originalLength, byteOrder)
        body.append(contentsOf: data)
        body.padToFour()
        PcapNGOption.encodeList(options, into: &body, byteOrder: byteOrder)
    }
}
