// RTCP goodbye: RFC 3550 §6.6.

/// An RTCP BYE packet (RFC 3550 §6.6): the sources leaving, and optionally why.
///
/// ```
///        0                   1                   2                   3
///        0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///       |V=2|P|    SC   |   PT=BYE=203  |             length            |
///       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///       |                           SSRC/CSRC                           |
///       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///       :                              ...                              :
///       +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
/// (opt) |     length    |               reason for leaving            ...
///       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// The reason is padded with null octets to the next 32-bit boundary; octets after it up to the
/// end of the packet are taken as that padding and not kept.
public struct RTCPGoodbye: Hashable, Sendable, RTCPPacketBody {
    static let packetType = RTCPPacketType.goodbye
    /// SC is five bits; `encode` writes the first 31 sources.
    static let maximumSources = 31

    public var sources: [UInt32]
    /// The reason octets (UTF-8 text), nil when the packet has none; at most 255 — `encode`
    /// writes the first 255.
    public var reason: [UInt8]?

    public init(sources: [UInt32], reason: [UInt8]? = nil) {
        self.sources = sources
        self.reason = reason
    }

    public init(sources: [UInt32], reasonText: String) {
        self.init(sources: sources, reason: Array(reasonText.utf8))
    }

    public var reasonText: String? { reason.map { String(decoding: $0, as: UTF8.self) } }

    init(count: UInt8, body: ArraySlice<UInt8>) throws(RTCPError) {
        guard Int(count) * 4 <= body.count else { throw .byeSourceCountExceedsLength }
        var cursor = ByteCursor(body)
        var sources: [UInt32] = []
        sources.reserveCapacity(Int(count))
        for _ in 0..<count { sources.append(try cursor.readUInt32(or: RTCPError.byeSourceCountExceedsLength)) }
        self.sources = sources
        if cursor.isAtEnd {
            reason = nil
        } else {
            let length = Int(try cursor.readUInt8(or: RTCPError.byeReasonOverrun))
            reason = Array(try cursor.readBytes(length, or: RTCPError.byeReasonOverrun))
        }
    }

    public init(parsing bytes: ArraySlice<UInt8>) throws(RTCPError) { self = try .decodeSingle(bytes) }
    public init(parsing bytes: [UInt8]) throws(RTCPError) { self = try .decodeSingle(bytes[...]) }
    public var encodedSize: Int { packetSize }
    public func encode(into buffer: inout [UInt8]) { encodePacket(into: &buffer) }

    private var encodedSources: ArraySlice<UInt32> { sources.prefix(Self.maximumSources) }
    private var encodedReasonLength: Int? { reason.map { min($0.count, 255) } }

    var headerCount: UInt8 { UInt8(encodedSources.count) }
    var bodySize: Int { 4 * encodedSources.count + (encodedReasonLength.map { roundedUpToWord(1 + $0) } ?? 0) }

    func encodeBody(into buffer: inout [UInt8]) {
        for source in encodedSources { buffer.appendBigEndian(source) }
        if let reason, let length = encodedReasonLength {
            buffer.append(UInt8(length))
            buffer.append(contentsOf: reason.prefix(length))
            buffer.appendZeros(roundedUpToWord(1 + length) - (1 + length))
        }
    }
}
