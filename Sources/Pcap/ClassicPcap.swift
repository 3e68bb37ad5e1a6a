// Classic libpcap file format (draft-ietf-opsawg-pcap, "PCAP Capture File Format").

/// The two fractional-second units classic pcap knows, chosen by the magic number.
public enum PcapTimestampPrecision: Sendable, Hashable {
    /// Magic 0xA1B2C3D4: the record's second field counts microseconds.
    case microseconds
    /// Magic 0xA1B23C4D: the record's second field counts nanoseconds.
    case nanoseconds

    var magic: UInt32 { self == .microseconds ? 0xA1B2_C3D4 : 0xA1B2_3C4D }
    var nanosecondsPerUnit: UInt32 { self == .microseconds ? 1_000 : 1 }
    var resolution: TimestampResolution { self == .microseconds ? .microseconds : .nanoseconds }
}

/// The 24-byte header at the start of a classic pcap file (draft-ietf-opsawg-pcap §4).
///
/// ```
///     0                   1                   2                   3
///     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///  0 |                          Magic Number                         |
///  4 |          Major Version        |         Minor Version         |
///  8 |                           Reserved1                           |
/// 12 |                           Reserved2                           |
/// 16 |                            SnapLen                            |
/// 20 |FCS len|R|P|     Reserved3     |         LinkType              |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// Every field is in the writer's byte order, which the magic number reveals.
public struct PcapFileHeader: Hashable, Sendable {
    public static let encodedSize = 24

    public var byteOrder: ByteOrder
    public var precision: PcapTimestampPrecision
    public var versionMajor: UInt16 = 2
    public var versionMinor: UInt16 = 4
    public var snapLength: UInt32
    public var linkType: LinkType
    /// The top bits of the LinkType word, as libpcap's LT_FCS_* macros read them: FCS length in
    /// 16-bit units (bits 28–31) and P (bit 26), set when that length is known.
    public var linkTypeFlags: UInt32 = 0

    public init(byteOrder: ByteOrder = .little, precision: PcapTimestampPrecision = .microseconds,
                snapLength: UInt32 = 262_144, linkType: LinkType) {
        self.byteOrder = byteOrder
        self.precision = precision
        self.snapLength = snapLength
        self.linkType = linkType
    }

    /// Parses the header at the start of `bytes` (which must begin at file offset 0).
    /// Errors: `.truncatedFileHeader`, `.badMagic`, `.unsupportedVersion` (only 2.x is pcap).
    public init(parsing bytes: ArraySlice<UInt8>) throws(PcapError) {
        guard bytes.count >= 4 else { throw PcapError(bytes.isEmpty ? .emptyInput : .truncatedFileHeader(available: bytes.count), offset: 0) }
        let magic = bytes.u32(0, .big)
        switch magic {
        case 0xA1B2_C3D4: (byteOrder, precision) = (.big, .microseconds)
        case 0xD4C3_B2A1: (byteOrder, precision) = (.little, .microseconds)
        case 0xA1B2_3C4D: (byteOrder, precision) = (.big, .nanoseconds)
        case 0x4D3C_B2A1: (byteOrder, precision) = (.little, .nanoseconds)
        default: throw PcapError(.badMagic(magic), offset: 0)
        }
        guard bytes.count >= Self.encodedSize else { throw PcapError(.truncatedFileHeader(available: bytes.count), offset: 0) }
        versionMajor = bytes.u16(4, byteOrder)
        versionMinor = bytes.u16(6, byteOrder)
        guard versionMajor == 2 else { throw PcapError(.unsupportedVersion(major: versionMajor, minor: versionMinor), offset: 0) }
        snapLength = bytes.u32(16, byteOrder)
        let word = bytes.u32(20, byteOrder)
        linkType = LinkType(rawValue: UInt16(truncatingIfNeeded: word))
        linkTypeFlags = word & 0xFFFF_0000
    }

    public func encode(into buffer: inout [UInt8]) {
        buffer.append(u32: precision.magic, byteOrder)
        buffer.append(u16: versionMajor, byteOrder)
        buffer.append(u16: versionMinor, byteOrder)
        buffer.append(u32: 0, byteOrder)
        buffer.append(u32: 0, byteOrder)
        buffer.append(u32: snapLength, byteOrder)
        buffer.append(u32: linkTypeFlags | UInt32(linkType.rawValue), byteOrder)
    }
}

/// The 16-byte header before each packet of a classic pcap file (draft-ietf-opsawg-pcap §5).
///
/// ```
///  0 |                      Timestamp (Seconds)                      |
///  4 |            Timestamp (Microseconds or nanoseconds)            |
///  8 |                    Captured Packet Length                     |
/// 12 |                    Original Packet Length                     |
/// ```
public struct PcapRecordHeader: Hashable, Sendable {
    public static let encodedSize = 16

    public var seconds: UInt32
    /// Microseconds or nanoseconds, per the file's magic number.
    public var fraction: UInt32
    public var capturedLength: UInt32
    public var originalLength: UInt32

    public init(seconds: UInt32, fraction: UInt32, capturedLength: UInt32, originalLength: UInt32) {
        self.seconds = seconds
        self.fraction = fraction
        self.capturedLength = capturedLength
        self.originalLength = originalLength
    }

    /// `bytes` must hold at least 16 bytes (the reader checks before calling).
    public init(parsing bytes: ArraySlice<UInt8>, byteOrder: ByteOrder) {
        precondition(bytes.count >= Self.encodedSize)
        seconds = bytes.u32(0, byteOrder)
        fraction = bytes.u32(4, byteOrder)
        capturedLength = bytes.u32(8, byteOrder)
        originalLength = bytes.u32(12, byteOrder)
    }

    /// A fraction at or beyond one second (seen in files from buggy writers) carries into the seconds.
    public func timestamp(precision: PcapTimestampPrecision) -> CaptureTimestamp {
        let nanoseconds = UInt64(fraction) * UInt64(precision.nanosecondsPerUnit)
        return CaptureTimestamp(seconds: Int64(seconds) + Int64(nanoseconds / 1_000_000_000),
                                nanoseconds: UInt32(nanoseconds % 1_000_000_000))
    }

    public func encode(into buffer: inout [UInt8], byteOrder: ByteOrder) {
        buffer.append(u32: seconds, byteOrder)
        buffer.append(u32: fraction, byteOrder)
        buffer.append(u32: capturedLength, byteOrder)
        buffer.append(u32: originalLength, byteOrder)
    }
}
