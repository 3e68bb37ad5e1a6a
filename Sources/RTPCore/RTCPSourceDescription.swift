// RTCP source description: RFC 3550 §6.5.

/// An SDES item type (RFC 3550 §6.5, §12.2).
public struct RTCPSDESItemType: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// 0 terminates a chunk's item list; never an item of its own.
    public static let end = RTCPSDESItemType(rawValue: 0)
    /// §6.5.1 canonical end-point identifier, `user@host`: the one item every compound carries.
    public static let cname = RTCPSDESItemType(rawValue: 1)
    public static let name = RTCPSDESItemType(rawValue: 2)
    public static let email = RTCPSDESItemType(rawValue: 3)
    public static let phone = RTCPSDESItemType(rawValue: 4)
    public static let location = RTCPSDESItemType(rawValue: 5)
    public static let tool = RTCPSDESItemType(rawValue: 6)
    public static let note = RTCPSDESItemType(rawValue: 7)
    /// §6.5.8 private extension: a length-prefixed prefix string, then the value.
    public static let priv = RTCPSDESItemType(rawValue: 8)
}

/// One SDES item: type, then a length octet and that many octets of UTF-8 text (RFC 3550 §6.5).
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |    CNAME=1    |     length    | user and domain name        ...
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     PRIV=8    |     length    | prefix length |prefix string...
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ...             |                  value string                ...
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// `value` holds the octets after the length, as received (for PRIV the prefix length and prefix
/// included), so non-UTF-8 text survives a round trip; `text` decodes it.
public struct RTCPSDESItem: Hashable, Sendable {
    public var type: RTCPSDESItemType
    /// At most 255 octets: `encode` writes the first 255.
    public var value: [UInt8]

    public init(type: RTCPSDESItemType, value: [UInt8]) {
        self.type = type
        self.value = value
    }

    public init(type: RTCPSDESItemType, text: String) {
        self.init(type: type, value: Array(text.utf8))
    }

    /// A PRIV item (§6.5.8); `prefix` is cut at 255 octets.
    public static func privateExtension(prefix: [UInt8], value: [UInt8]) -> RTCPSDESItem {
        let prefix = prefix.prefix(255)
        return RTCPSDESItem(type: .priv, value: [UInt8(prefix.count)] + prefix + value)
    }

    /// The value as UTF-8 text (invalid sequences replaced); for PRIV, the whole value.
    public var text: String { String(decoding: value, as: UTF8.self) }

    /// For a PRIV item, its prefix and value strings (§6.5.8); nil for other types or when the
    /// prefix length does not fit (decoding rejects that already).
    public var privateParts: (prefix: ArraySlice<UInt8>, value: ArraySlice<UInt8>)? {
        guard type == .priv, let prefixLength = value.first.map(Int.init),
            prefixLength + 1 <= value.count
        else { return nil }
        return (value[1..<(1 + prefixLength)], value[(1 + prefixLength)...])
    }

    var encodedSize: Int { 2 + min(value.count, 255) }

    func encode(into buffer: inout [UInt8]) {
        let length = min(value.count, 255)
        buffer.append(type.rawValue)
        buffer.append(UInt8(length))
        buffer.append(contentsOf: value.prefix(length))
    }
}

/// An RTCP SDES packet (RFC 3550 §6.5): one chunk per source.
///
/// ```
///         0                   1                   2                   3
///         0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// header |V=2|P|    SC   |  PT=SDES=202  |             length            |
///        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
/// chunk  |                          SSRC/CSRC_1                          |
///   1    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///        |                           SDES items                          |
///        |                              ...                              |
///        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
/// chunk  |                          SSRC/CSRC_2                          |
///   2    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///        |                           SDES items                          |
///        |                              ...                              |
///        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
/// ```
/// "The list of items in each chunk MUST be terminated by one or more null octets, the first of
/// which is interpreted as an item type of zero to denote the end of the list. No length octet
/// follows the null item type octet, but additional null octets MUST be included if needed to pad
/// until the next 32-bit boundary."
public struct RTCPSourceDescription: Hashable, Sendable, RTCPPacketBody {
    static let packetType = RTCPPacketType.sourceDescription
    /// SC is five bits; `encode` writes the first 31 chunks.
    static let maximumChunks = 31

    public struct Chunk: Hashable, Sendable {
        public var source: UInt32
        public var items: [RTCPSDESItem]

        public init(source: UInt32, items: [RTCPSDESItem]) {
            self.source = source
            self.items = items
        }

        /// SSRC, items, then 1–4 null octets up to the next 32-bit boundary.
        var encodedSize: Int {
            roundedUpToWord(4 + items.reduce(0) { $0 + $1.encodedSize } + 1)
        }

        func encode(into buffer: inout [UInt8]) {
            let start = buffer.count
            buffer.appendBigEndian(source)
            for item in items { item.encode(into: &buffer) }
            let used = buffer.count - start
            buffer.appendZeros(roundedUpToWord(used + 1) - used)
        }
    }

    public var chunks: [Chunk]

    public init(chunks: [Chunk]) {
        self.chunks = chunks
    }

    /// The usual single-source SDES carrying just a CNAME (§6.5.1).
    public init(source: UInt32, cname: String) {
        self.init(chunks: [Chunk(source: source, items: [RTCPSDESItem(type: .cname, text: cname)])])
    }

    init(count: UInt8, body: ArraySlice<UInt8>) throws(RTCPError) {
        var cursor = ByteCursor(body)
        var chunks: [Chunk] = []
        for _ in 0..<count {
            guard !cursor.isAtEnd else { throw .sdesChunkCountMismatch }
            let source = try cursor.readUInt32(or: RTCPError.sdesChunkOverrun)
            var items: [RTCPSDESItem] = []
            while true {
                let type = try cursor.readUInt8(or: RTCPError.sdesChunkOverrun)
                if type == RTCPSDESItemType.end.rawValue {
                    // Skip the remaining null octets to the 32-bit boundary. Chunks start on a
                    // boundary of the body, so the body offset tells where it is.
                    try cursor.skip(roundedUpToWord(cursor.offset) - cursor.offset, or: RTCPError.sdesChunkOverrun)
                    break
                }
                let length = Int(try cursor.readUInt8(or: RTCPError.sdesChunkOverrun))
                let value = try cursor.readBytes(length, or: RTCPError.sdesChunkOverrun)
                if type == RTCPSDESItemType.priv.rawValue {
                    guard let prefixLength = value.first, Int(prefixLength) + 1 <= value.count else {
                        throw .sdesPrivatePrefixOverrun
                    }
                }
                items.append(RTCPSDESItem(type: RTCPSDESItemType(rawValue: type), value: Array(value)))
            }
            chunks.append(Chunk(source: source, items: items))
        }
        guard cursor.isAtEnd else { throw .sdesChunkCountMismatch }
        self.chunks = chunks
    }

    public init(parsing bytes: ArraySlice<UInt8>) throws(RTCPError) { self = try .decodeSingle(bytes) }
    public init(parsing bytes: [UInt8]) throws(RTCPError) { self = try .decodeSingle(bytes[...]) }
    public var encodedSize: Int { packetSize }
    public func encode(into buffer: inout [UInt8]) { encodePacket(into: &buffer) }

    var headerCount: UInt8 { UInt8(min(chunks.count, Self.maximumChunks)) }
    var bodySize: Int { chunks.prefix(Self.maximumChunks).reduce(0) { $0 + $1.encodedSize } }

    func encodeBody(into buffer: inout [UInt8]) {
        for chunk in chunks.prefix(Self.maximumChunks) { chunk.encode(into: &buffer) }
    }
}
