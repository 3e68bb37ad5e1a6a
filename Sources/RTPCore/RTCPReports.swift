// RTCP sender and receiver reports: RFC 3550 §6.4.1 (SR), §6.4.2 (RR).

/// One reception report block (RFC 3550 §6.4.1), as carried in SR and RR packets.
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
/// |                 SSRC_1 (SSRC of first source)                 |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | fraction lost |       cumulative number of packets lost       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           extended highest sequence number received           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                      interarrival jitter                      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         last SR (LSR)                         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                   delay since last SR (DLSR)                  |
/// +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
/// ```
public struct RTCPReportBlock: Hashable, Sendable {
    public static let encodedSize = 24
    /// The 24-bit signed range of "cumulative number of packets lost".
    public static let cumulativeLostRange: ClosedRange<Int32> = -0x80_0000...0x7F_FFFF

    public var ssrc: UInt32
    /// Packets lost since the previous report over packets expected, in 1/256 (binary point at
    /// the left edge, RFC 3550 §6.4.1, A.3).
    public var fractionLost: UInt8
    /// Expected minus received since the start, 24-bit signed: duplicates can make it negative
    /// (RFC 3550 §6.4.1). `encode` clamps to `cumulativeLostRange` as A.3 says.
    public var cumulativeLost: Int32
    /// Cycles of sequence wrap in the high 16 bits, highest sequence number in the low 16.
    public var extendedHighestSequence: UInt32
    /// Interarrival jitter in timestamp units (RFC 3550 §6.4.1, A.8).
    public var jitter: UInt32
    /// LSR: middle 32 bits of the NTP timestamp of the last SR from this source, 0 if none.
    public var lastSenderReport: UInt32
    /// DLSR: time since that SR was received, in 1/65536 s, 0 if none.
    public var delaySinceLastSenderReport: UInt32

    public init(
        ssrc: UInt32,
        fractionLost: UInt8 = 0,
        cumulativeLost: Int32 = 0,
        extendedHighestSequence: UInt32 = 0,
        jitter: UInt32 = 0,
        lastSenderReport: UInt32 = 0,
        delaySinceLastSenderReport: UInt32 = 0
    ) {
        self.ssrc = ssrc
        self.fractionLost = fractionLost
        self.cumulativeLost = cumulativeLost
        self.extendedHighestSequence = extendedHighestSequence
        self.jitter = jitter
        self.lastSenderReport = lastSenderReport
        self.delaySinceLastSenderReport = delaySinceLastSenderReport
    }

    /// `fractionLost` as a ratio in 0..<1.
    public var fractionLostRatio: Double { Double(fractionLost) / 256 }

    /// Reads one block; the caller has checked that 24 octets remain.
    init(reading cursor: inout ByteCursor) throws(RTCPError) {
        ssrc = try cursor.readUInt32(or: RTCPError.reportCountExceedsLength)
        let lossWord = try cursor.readUInt32(or: RTCPError.reportCountExceedsLength)
        fractionLost = UInt8(truncatingIfNeeded: lossWord >> 24)
        // Sign-extend the low 24 bits.
        cumulativeLost = Int32(bitPattern: lossWord << 8) >> 8
        extendedHighestSequence = try cursor.readUInt32(or: RTCPError.reportCountExceedsLength)
        jitter = try cursor.readUInt32(or: RTCPError.reportCountExceedsLength)
        lastSenderReport = try cursor.readUInt32(or: RTCPError.reportCountExceedsLength)
        delaySinceLastSenderReport = try cursor.readUInt32(or: RTCPError.reportCountExceedsLength)
    }

    public func encode(into buffer: inout [UInt8]) {
        buffer.appendBigEndian(ssrc)
        // A.3: "clamp at 0x7fffff for positive loss or 0x800000 for negative loss".
        let lost = min(max(cumulativeLost, Self.cumulativeLostRange.lowerBound), Self.cumulativeLostRange.upperBound)
        buffer.appendBigEndian(UInt32(fractionLost) << 24 | UInt32(bitPattern: lost) & 0x00FF_FFFF)
        buffer.appendBigEndian(extendedHighestSequence)
        buffer.appendBigEndian(jitter)
        buffer.appendBigEndian(lastSenderReport)
        buffer.appendBigEndian(delaySinceLastSenderReport)
    }
}

/// RC is five bits: a report carries at most 31 blocks (RFC 3550 §6.4.1); `encode` writes the
/// first 31 — more sources need another RR in the compound.
private let maximumReportBlocks = 31

/// Reads `count` report blocks and keeps what follows as the profile-specific extension.
private func readReportBlocks(
    count: UInt8,
    from cursor: inout ByteCursor
) throws(RTCPError) -> (reports: [RTCPReportBlock], profileExtension: [UInt8]) {
    guard Int(count) * RTCPReportBlock.encodedSize <= cursor.remaining else {
        throw .reportCountExceedsLength
    }
    var reports: [RTCPReportBlock] = []
    reports.reserveCapacity(Int(count))
    for _ in 0..<count { reports.append(try RTCPReportBlock(reading: &cursor)) }
    return (reports, Array(cursor.readRest()))
}

private func encodeReportBlocks(_ reports: [RTCPReportBlock], profileExtension: [UInt8], into buffer: inout [UInt8]) {
    for report in reports.prefix(maximumReportBlocks) { report.encode(into: &buffer) }
    buffer.append(contentsOf: profileExtension)
    buffer.appendZeros(roundedUpToWord(profileExtension.count) - profileExtension.count)
}

private func reportBlocksSize(_ reports: [RTCPReportBlock], profileExtension: [UInt8]) -> Int {
    min(reports.count, maximumReportBlocks) * RTCPReportBlock.encodedSize + roundedUpToWord(profileExtension.count)
}

/// An RTCP sender report (RFC 3550 §6.4.1).
///
/// ```
///         0                   1                   2                   3
///         0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// header |V=2|P|    RC   |   PT=SR=200   |             length            |
///        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///        |                         SSRC of sender                        |
///        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
/// sender |              NTP timestamp, most significant word             |
/// info   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///        |             NTP timestamp, least significant word             |
///        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///        |                         RTP timestamp                         |
///        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///        |                     sender's packet count                     |
///        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///        |                      sender's octet count                     |
///        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
/// report |                 SSRC_1 (SSRC of first source)                 |
/// block  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///   1    :                     (see RTCPReportBlock)                     :
///        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
///        |                  profile-specific extensions                  |
///        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
public struct RTCPSenderReport: Hashable, Sendable, RTCPPacketBody {
    static let packetType = RTCPPacketType.senderReport
    /// SSRC of sender plus the 20 octets of sender info.
    static let fixedBodySize = 24

    public var ssrc: UInt32
    /// Wall-clock time when this report was sent.
    public var ntpTimestamp: NTPTimestamp
    /// The same instant in the RTP clock of this source.
    public var rtpTimestamp: UInt32
    public var packetCount: UInt32
    /// Payload octets sent (headers and padding excluded, RFC 3550 §6.4.1).
    public var octetCount: UInt32
    public var reports: [RTCPReportBlock]
    /// Profile-specific extension octets after the report blocks, kept as received;
    /// `encode` zero-pads them to a 32-bit boundary.
    public var profileExtension: [UInt8]

    public init(
        ssrc: UInt32,
        ntpTimestamp: NTPTimestamp,
        rtpTimestamp: UInt32,
        packetCount: UInt32,
        octetCount: UInt32,
        reports: [RTCPReportBlock] = [],
        profileExtension: [UInt8] = []
    ) {
        self.ssrc = ssrc
        self.ntpTimestamp = ntpTimestamp
        self.rtpTimestamp = rtpTimestamp
        self.packetCount = packetCount
        self.octetCount = octetCount
        self.reports = reports
        self.profileExtension = profileExtension
    }

    init(count: UInt8, body: ArraySlice<UInt8>) throws(RTCPError) {
        var cursor = ByteCursor(body)
        guard body.count >= Self.fixedBodySize else { throw .packetTooShort }
        ssrc = try cursor.readUInt32(or: RTCPError.packetTooShort)
        let seconds = try cursor.readUInt32(or: RTCPError.packetTooShort)
        let fraction = try cursor.readUInt32(or: RTCPError.packetTooShort)
        ntpTimestamp = NTPTimestamp(seconds: seconds, fraction: fraction)
        rtpTimestamp = try cursor.readUInt32(or: RTCPError.packetTooShort)
        packetCount = try cursor.readUInt32(or: RTCPError.packetTooShort)
        octetCount = try cursor.readUInt32(or: RTCPError.packetTooShort)
        (reports, profileExtension) = try readReportBlocks(count: count, from: &cursor)
    }

    public init(parsing bytes: ArraySlice<UInt8>) throws(RTCPError) { self = try .decodeSingle(bytes) }
    public init(parsing bytes: [UInt8]) throws(RTCPError) { self = try .decodeSingle(bytes[...]) }
    public var encodedSize: Int { packetSize }
    public func encode(into buffer: inout [UInt8]) { encodePacket(into: &buffer) }

    var headerCount: UInt8 { UInt8(min(reports.count, maximumReportBlocks)) }
    var bodySize: Int { Self.fixedBodySize + reportBlocksSize(reports, profileExtension: profileExtension) }

    func encodeBody(into buffer: inout [UInt8]) {
        buffer.appendBigEndian(ssrc)
        buffer.appendBigEndian(ntpTimestamp.seconds)
        buffer.appendBigEndian(ntpTimestamp.fraction)
        buffer.appendBigEndian(rtpTimestamp)
        buffer.appendBigEndian(packetCount)
        buffer.appendBigEndian(octetCount)
        encodeReportBlocks(reports, profileExtension: profileExtension, into: &buffer)
    }
}

/// An RTCP receiver report (RFC 3550 §6.4.2).
///
/// ```
///         0                   1                   2                   3
///         0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// header |V=2|P|    RC   |   PT=RR=201   |             length            |
///        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///        |                     SSRC of packet sender                     |
///        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
/// report |                 SSRC_1 (SSRC of first source)                 |
/// block  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///   1    :                     (see RTCPReportBlock)                     :
///        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
///        |                  profile-specific extensions                  |
///        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
public struct RTCPReceiverReport: Hashable, Sendable, RTCPPacketBody {
    static let packetType = RTCPPacketType.receiverReport

    public var ssrc: UInt32
    public var reports: [RTCPReportBlock]
    /// Profile-specific extension octets after the report blocks; zero-padded on encode.
    public var profileExtension: [UInt8]

    public init(ssrc: UInt32, reports: [RTCPReportBlock] = [], profileExtension: [UInt8] = []) {
        self.ssrc = ssrc
        self.reports = reports
        self.profileExtension = profileExtension
    }

    init(count: UInt8, body: ArraySlice<UInt8>) throws(RTCPError) {
        var cursor = ByteCursor(body)
        ssrc = try cursor.readUInt32(or: RTCPError.packetTooShort)
        (reports, profileExtension) = try readReportBlocks(count: count, from: &cursor)
    }

    public init(parsing bytes: ArraySlice<UInt8>) throws(RTCPError) { self = try .decodeSingle(bytes) }
    public init(parsing bytes: [UInt8]) throws(RTCPError) { self = try .decodeSingle(bytes[...]) }
    public var encodedSize: Int { packetSize }
    public func encode(into buffer: inout [UInt8]) { encodePacket(into: &buffer) }

    var headerCount: UInt8 { UInt8(min(reports.count, maximumReportBlocks)) }
    var bodySize: Int { 4 + reportBlocksSize(reports, profileExtension: profileExtension) }

    func encodeBody(into buffer: inout [UInt8]) {
        buffer.appendBigEndian(ssrc)
        encodeReportBlocks(reports, profileExtension: profileExtension, into: &buffer)
    }
}
