// RTCP application-defined packets: RFC 3550 §6.7.

/// An RTCP APP packet (RFC 3550 §6.7). Earshot defines no application of its own, so the data is
/// kept opaque: checked for length, carried through re-encoding, otherwise ignored.
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |V=2|P| subtype |   PT=APP=204  |             length            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                           SSRC/CSRC                           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                          name (ASCII)                         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                   application-dependent data                ...
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
public struct RTCPApplication: Hashable, Sendable, RTCPPacketBody {
    static let packetType = RTCPPacketType.application

    /// Five bits.
    public var subtype: UInt8
    public var source: UInt32
    /// The four ASCII octets of the name, big-endian in one word.
    public var name: UInt32
    /// "Application-dependent data ... MUST be a multiple of 32 bits long": `encode` zero-pads it.
    public var data: [UInt8]

    public init(subtype: UInt8, source: UInt32, name: UInt32, data: [UInt8] = []) {
        self.subtype = subtype
        self.source = source
        self.name = name
        self.data = data
    }

    /// The name as text, one character per octet.
    public var nameText: String {
        String(decoding: [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: name >> $0) }, as: UTF8.self)
    }

    init(count: UInt8, body: ArraySlice<UInt8>) throws(RTCPError) {
        var cursor = ByteCursor(body)
        subtype = count
        source = try cursor.readUInt32(or: RTCPError.packetTooShort)
        name = try cursor.readUInt32(or: RTCPError.packetTooShort)
        data = Array(cursor.readRest())
    }

    public init(parsing bytes: ArraySlice<UInt8>) throws(RTCPError) { self = try .decodeSingle(bytes) }
    public init(parsing bytes: [UInt8]) throws(RTCPError) { self = try .decodeSingle(bytes[...]) }
    public var encodedSize: Int { packetSize }
    public func encode(into buffer: inout [UInt8]) { encodePacket(into: &buffer) }

    var headerCount: UInt8 { subtype & 0x1F }
    var bodySize: Int { 8 + roundedUpToWord(data.count) }

    func encodeBody(into buffer: inout [UInt8]) {
        buffer.appendBigEndian(source)
        buffer.appendBigEndian(name)
        buffer.append(contentsOf: data)
        buffer.appendZeros(roundedUpToWord(data.count) - data.count)
    }
}
