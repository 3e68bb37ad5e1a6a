// RTP data packets: RFC 3550 §5.1 (fixed header), §5.3.1 (header extension), A.1 (validity).

/// The header fields of a validated RTP datagram, with the payload located but not copied.
///
/// This is the receive hot path: receiver statistics need only payload type, sequence number,
/// timestamp, SSRC and marker, so nothing is allocated. All RFC 3550 A.1 header checks are
/// applied, so a datagram a `RTPPacketView` accepts is exactly one `RTPPacket` accepts.
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |V=2|P|X|  CC   |M|     PT      |       sequence number         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                           timestamp                           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           synchronization source (SSRC) identifier            |
/// +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
/// |            contributing source (CSRC) identifiers             |
/// |                             ....                              |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |      defined by profile       |           length              |  } if X = 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  } RFC 3550 §5.3.1
/// |                        header extension                       |  }
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                            payload  ...                       |
/// |                               +-------------------------------+
/// |                               | padding ...   | padding count |  } if P = 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
public struct RTPPacketView: Hashable, Sendable {
    public let marker: Bool
    public let payloadType: UInt8
    public let sequenceNumber: UInt16
    public let timestamp: UInt32
    public let ssrc: UInt32
    public let csrcCount: Int
    public let hasExtension: Bool
    /// Octets of padding at the end (including the count octet itself); 0 when P is clear.
    public let paddingCount: Int
    /// Where the payload starts, in octets from the start of the parsed bytes (= header size).
    public let payloadOffset: Int
    /// Payload length in octets, padding excluded.
    public let payloadCount: Int

    /// Length of the whole datagram in octets.
    public var packetCount: Int { payloadOffset + payloadCount + paddingCount }

    /// Validates `packet` as one RTP datagram (RFC 3550 A.1) and reads its fixed header.
    public init(parsing packet: ArraySlice<UInt8>) throws(RTPError) {
        let count = packet.count
        guard count >= RTPPacket.fixedHeaderSize else { throw .truncatedFixedHeader }
        let b0 = packet[packet.startIndex]
        let b1 = packet[packet.startIndex + 1]
        // A.1: "RTP version field must equal 2."
        guard b0 >> 6 == RTPPacket.version else { throw .unsupportedVersion }
        let payloadType = b1 & 0x7F
        // A.1: "The payload type must be known, and in particular it must not be equal to SR or
        // RR." RFC 5761 §4 extends the collision to SDES, BYE and APP: PT 72–76 with M = 1.
        guard !RTPPacket.rtcpConflictingPayloadTypes.contains(payloadType) else {
            throw .payloadTypeConflictsWithRTCP
        }
        let csrcCount = Int(b0 & 0x0F)
        var headerSize = RTPPacket.fixedHeaderSize + 4 * csrcCount
        guard headerSize <= count else { throw .csrcCountBeyondPacket }
        let hasExtension = b0 & 0x10 != 0
        if hasExtension {
            // §5.3.1: a 4-octet extension header, then `length` 32-bit words.
            guard headerSize + 4 <= count else { throw .headerExtensionBeyondPacket }
            let words = Int(packet.bigEndianUInt16(at: headerSize + 2))
            headerSize += 4 + 4 * words
            guard headerSize <= count else { throw .headerExtensionBeyondPacket }
        }
        var paddingCount = 0
        if b0 & 0x20 != 0 {
            // §5.1: "The last octet of the padding contains a count of how many padding octets
            // should be ignored, including itself." A.1 requires it to fit after the header. A
            // packet of padding only (count == everything after the header) is accepted: it is
            // how some senders probe bandwidth.
            paddingCount = Int(packet[packet.endIndex - 1])
            guard paddingCount > 0 else { throw .paddingCountZero }
            guard paddingCount <= count - headerSize else { throw .paddingBeyondPayload }
        }
        self.marker = b1 & 0x80 != 0
        self.payloadType = payloadType
        self.sequenceNumber = packet.bigEndianUInt16(at: 2)
        self.timestamp = packet.bigEndianUInt32(at: 4)
        self.ssrc = packet.bigEndianUInt32(at: 8)
        self.csrcCount = csrcCount
        self.hasExtension = hasExtension
        self.paddingCount = paddingCount
        self.payloadOffset = headerSize
        self.payloadCount = count - headerSize - paddingCount
    }

    public init(parsing packet: [UInt8]) throws(RTPError) {
        try self.init(parsing: packet[...])
    }

    /// The payload octets inside `packet`, which must be the bytes this view was parsed from.
    public func payload(in packet: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let start = packet.startIndex + payloadOffset
        return packet[start..<(start + payloadCount)]
    }

    public func payload(in packet: [UInt8]) -> ArraySlice<UInt8> {
        payload(in: packet[...])
    }
}

/// An RTP data packet (RFC 3550 §5.1) as an owned value: for sending, and for receivers that
/// keep packets (jitter buffer, pcap analysis). Receivers that only count should use
/// `RTPPacketView`, which copies nothing.
///
/// The version is always 2 (`RTPPacket.version`); the P, X and CC header fields follow from
/// `paddingCount`, `headerExtension` and `csrcs`.
public struct RTPPacket: Hashable, Sendable {
    public static let version: UInt8 = 2
    public static let fixedHeaderSize = 12
    /// RFC 3550 §5.1: CC is four bits.
    public static let maximumCSRCCount = 15
    /// Payload types that read as RTCP SR/RR/SDES/BYE/APP when M = 1 (RFC 5761 §4).
    public static let rtcpConflictingPayloadTypes: ClosedRange<UInt8> = 72...76

    public var marker: Bool
    /// Seven bits (RFC 3550 §5.1); `encode` keeps the low seven. The encoder does not refuse
    /// 72–76 — that check belongs to whoever picks payload types (SDP negotiation).
    public var payloadType: UInt8
    public var sequenceNumber: UInt16
    public var timestamp: UInt32
    public var ssrc: UInt32
    /// Contributing sources (RFC 3550 §5.1); at most 15 — `encode` writes the first 15.
    public var csrcs: [UInt32]
    public var headerExtension: RTPHeaderExtension?
    public var payload: [UInt8]
    /// Padding octets after the payload including the count octet (RFC 3550 §5.1); 0 means the
    /// P bit is clear. `encode` writes zeros followed by the count; the content of received
    /// padding octets other than the count is not kept.
    public var paddingCount: UInt8

    public init(
        payloadType: UInt8,
        sequenceNumber: UInt16,
        timestamp: UInt32,
        ssrc: UInt32,
        marker: Bool = false,
        csrcs: [UInt32] = [],
        headerExtension: RTPHeaderExtension? = nil,
        payload: [UInt8] = [],
        paddingCount: UInt8 = 0
    ) {
        self.marker = marker
        self.payloadType = payloadType
        self.sequenceNumber = sequenceNumber
        self.timestamp = timestamp
        self.ssrc = ssrc
        self.csrcs = csrcs
        self.headerExtension = headerExtension
        self.payload = payload
        self.paddingCount = paddingCount
    }

    /// Decodes one RTP datagram; see `RTPPacketView` for the checks and the bit diagram.
    public init(parsing packet: ArraySlice<UInt8>) throws(RTPError) {
        let view = try RTPPacketView(parsing: packet)
        var csrcs: [UInt32] = []
        csrcs.reserveCapacity(view.csrcCount)
        for i in 0..<view.csrcCount {
            csrcs.append(packet.bigEndianUInt32(at: Self.fixedHeaderSize + 4 * i))
        }
        var headerExtension: RTPHeaderExtension?
        if view.hasExtension {
            let at = Self.fixedHeaderSize + 4 * view.csrcCount
            let dataStart = packet.startIndex + at + 4
            headerExtension = RTPHeaderExtension(
                profile: packet.bigEndianUInt16(at: at),
                words: Array(packet[dataStart..<(packet.startIndex + view.payloadOffset)])
            )
        }
        self.init(
            payloadType: view.payloadType,
            sequenceNumber: view.sequenceNumber,
            timestamp: view.timestamp,
            ssrc: view.ssrc,
            marker: view.marker,
            csrcs: csrcs,
            headerExtension: headerExtension,
            payload: Array(view.payload(in: packet)),
            paddingCount: UInt8(view.paddingCount)
        )
    }

    public init(parsing packet: [UInt8]) throws(RTPError) {
        try self.init(parsing: packet[...])
    }

    private var encodedCSRCCount: Int { min(csrcs.count, Self.maximumCSRCCount) }

    public var encodedSize: Int {
        Self.fixedHeaderSize + 4 * encodedCSRCCount + (headerExtension?.encodedSize ?? 0)
            + payload.count + Int(paddingCount)
    }

    /// Appends the datagram to `buffer`.
    public func encode(into buffer: inout [UInt8]) {
        buffer.reserveCapacity(buffer.count + encodedSize)
        let csrcCount = encodedCSRCCount
        var b0 = Self.version << 6 | UInt8(csrcCount)
        if paddingCount > 0 { b0 |= 0x20 }
        if headerExtension != nil { b0 |= 0x10 }
        buffer.append(b0)
        buffer.append((marker ? 0x80 : 0) | (payloadType & 0x7F))
        buffer.appendBigEndian(sequenceNumber)
        buffer.appendBigEndian(timestamp)
        buffer.appendBigEndian(ssrc)
        for csrc in csrcs.prefix(csrcCount) { buffer.appendBigEndian(csrc) }
        headerExtension?.encode(into: &buffer)
        buffer.append(contentsOf: payload)
        if paddingCount > 0 {
            buffer.appendZeros(Int(paddingCount) - 1)
            buffer.append(paddingCount)
        }
    }

    /// The datagram as a new array (convenience for tests and one-off sends).
    public func encoded() -> [UInt8] {
        var buffer: [UInt8] = []
        encode(into: &buffer)
        return buffer
    }
}
