// RTCP: the common header (RFC 3550 §6.4.1), one packet of any type, and compound datagrams
// with the RFC 3550 A.2 validity checks.

/// An RTCP packet type (RFC 3550 §12.1, RFC 3611 §6.1, RFC 4585 §6.1).
public struct RTCPPacketType: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let senderReport = RTCPPacketType(rawValue: 200)
    public static let receiverReport = RTCPPacketType(rawValue: 201)
    public static let sourceDescription = RTCPPacketType(rawValue: 202)
    public static let goodbye = RTCPPacketType(rawValue: 203)
    public static let application = RTCPPacketType(rawValue: 204)
    /// RFC 4585 transport-layer feedback; carried as `.unknown`.
    public static let transportFeedback = RTCPPacketType(rawValue: 205)
    /// RFC 4585 payload-specific feedback; carried as `.unknown`.
    public static let payloadFeedback = RTCPPacketType(rawValue: 206)
    public static let extendedReport = RTCPPacketType(rawValue: 207)
}

/// The header every RTCP packet starts with (RFC 3550 §6.4.1).
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |V=2|P|  count  |      PT       |             length            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// `count` is RC (SR, RR), SC (SDES, BYE), the subtype (APP) or FMT (RFC 4585); `length` is the
/// packet's size in 32-bit words minus one, header and padding included.
public struct RTCPHeader: Hashable, Sendable {
    public static let encodedSize = 4

    public var padding: Bool
    /// Five bits.
    public var count: UInt8
    public var packetType: RTCPPacketType
    public var length: UInt16

    public init(padding: Bool = false, count: UInt8, packetType: RTCPPacketType, length: UInt16) {
        self.padding = padding
        self.count = count
        self.packetType = packetType
        self.length = length
    }

    /// The first four octets of `bytes` as a header; the rest of `bytes` is not looked at.
    public init(parsing bytes: ArraySlice<UInt8>) throws(RTCPError) {
        guard bytes.count >= Self.encodedSize else { throw .truncatedHeader }
        let b0 = bytes[bytes.startIndex]
        guard b0 >> 6 == 2 else { throw .unsupportedVersion }
        self.padding = b0 & 0x20 != 0
        self.count = b0 & 0x1F
        self.packetType = RTCPPacketType(rawValue: bytes[bytes.startIndex + 1])
        self.length = bytes.bigEndianUInt16(at: 2)
    }

    public init(parsing bytes: [UInt8]) throws(RTCPError) {
        try self.init(parsing: bytes[...])
    }

    /// Whether a datagram on a port shared by RTP and RTCP is RTCP (RFC 5761 §4): version 2 and a
    /// second octet in 192–223, the range RTP payload types 64–95 (with either marker value) are
    /// kept out of. Only the first two octets are looked at.
    public static func isRTCP(_ datagram: ArraySlice<UInt8>) -> Bool {
        guard datagram.count >= 2, datagram[datagram.startIndex] >> 6 == 2 else { return false }
        return (192...223).contains(datagram[datagram.startIndex + 1])
    }

    public static func isRTCP(_ datagram: [UInt8]) -> Bool { isRTCP(datagram[...]) }

    /// Octets of the whole packet, header and padding included.
    public var packetSize: Int { (Int(length) + 1) * 4 }

    public var encodedSize: Int { Self.encodedSize }

    public func encode(into buffer: inout [UInt8]) {
        buffer.append(2 << 6 | (padding ? 0x20 : 0) | (count & 0x1F))
        buffer.append(packetType.rawValue)
        buffer.appendBigEndian(length)
    }
}

// MARK: - Shared plumbing of the typed packets

/// What each typed RTCP packet supplies; the header, length and padding are handled once, here.
protocol RTCPPacketBody {
    static var packetType: RTCPPacketType { get }
    /// The header's five-bit count field (RC, SC, subtype).
    var headerCount: UInt8 { get }
    /// Octets after the header, without padding; a multiple of four.
    var bodySize: Int { get }
    func encodeBody(into buffer: inout [UInt8])
    /// Decodes the octets after the header, padding already removed.
    init(count: UInt8, body: ArraySlice<UInt8>) throws(RTCPError)
}

/// One packet cut out of a datagram: its header and its body without padding.
struct RTCPFrame {
    var header: RTCPHeader
    var body: ArraySlice<UInt8>
    /// Octets the packet occupies in the datagram.
    var size: Int

    /// Cuts the packet at the start of `bytes`, checking its length and padding
    /// (RFC 3550 §6.4.1).
    init(cutting bytes: ArraySlice<UInt8>) throws(RTCPError) {
        let header = try RTCPHeader(parsing: bytes)
        let size = header.packetSize
        guard size <= bytes.count else { throw .lengthBeyondDatagram }
        var end = bytes.startIndex + size
        let bodyStart = bytes.startIndex + RTCPHeader.encodedSize
        if header.padding {
            let padding = Int(bytes[end - 1])
            guard padding > 0 else { throw .paddingCountZero }
            guard padding <= size - RTCPHeader.encodedSize else { throw .paddingBeyondPacket }
            guard padding % 4 == 0 else { throw .paddingNotMultipleOfFour }
            end -= padding
        }
        self.header = header
        self.body = bytes[bodyStart..<end]
        self.size = size
    }

    /// Cuts a packet that must fill `bytes` exactly.
    init(exactly bytes: ArraySlice<UInt8>) throws(RTCPError) {
        self = try RTCPFrame(cutting: bytes)
        guard size == bytes.count else { throw .lengthMismatch }
    }
}

extension RTCPPacketBody {
    /// Header plus body, no padding (what `encode(into:)` writes).
    var packetSize: Int { RTCPHeader.encodedSize + bodySize }

    /// Decodes a single packet of this type that fills `bytes` (trailing padding allowed).
    static func decodeSingle(_ bytes: ArraySlice<UInt8>) throws(RTCPError) -> Self {
        let frame = try RTCPFrame(exactly: bytes)
        guard frame.header.packetType == packetType else { throw .wrongPacketType }
        return try Self(count: frame.header.count, body: frame.body)
    }

    func encodePacket(into buffer: inout [UInt8], paddingCount: Int = 0) {
        buffer.reserveCapacity(buffer.count + packetSize + paddingCount)
        RTCPHeader(
            padding: paddingCount > 0,
            count: headerCount,
            packetType: Self.packetType,
            length: UInt16(truncatingIfNeeded: (packetSize + paddingCount) / 4 - 1)
        ).encode(into: &buffer)
        encodeBody(into: &buffer)
        appendRTCPPadding(paddingCount, to: &buffer)
    }
}

/// RFC 3550 §6.4.1: zeros, then the count in the last octet.
func appendRTCPPadding(_ count: Int, to buffer: inout [UInt8]) {
    guard count > 0 else { return }
    buffer.appendZeros(count - 1)
    buffer.append(UInt8(count))
}

// MARK: - One packet of any type

/// One RTCP packet. Types this module does not model (RTPFB, PSFB, later RFCs) are kept as
/// `.unknown` with their body, so a datagram that carries them still parses and re-encodes.
public enum RTCPPacket: Hashable, Sendable {
    case senderReport(RTCPSenderReport)
    case receiverReport(RTCPReceiverReport)
    case sourceDescription(RTCPSourceDescription)
    case goodbye(RTCPGoodbye)
    case application(RTCPApplication)
    case extendedReport(RTCPExtendedReport)
    /// `count` is the header's five-bit field (FMT for feedback); `body` the octets after the
    /// header, padding removed. `encode` zero-pads `body` to a 32-bit boundary.
    case unknown(type: UInt8, count: UInt8, body: [UInt8])

    /// Decodes one packet that fills `bytes` exactly (trailing padding allowed and dropped).
    public init(parsing bytes: ArraySlice<UInt8>) throws(RTCPError) {
        try self.init(frame: RTCPFrame(exactly: bytes))
    }

    public init(parsing bytes: [UInt8]) throws(RTCPError) {
        try self.init(parsing: bytes[...])
    }

    init(frame: RTCPFrame) throws(RTCPError) {
        let count = frame.header.count
        let body = frame.body
        switch frame.header.packetType {
        case .senderReport: self = .senderReport(try RTCPSenderReport(count: count, body: body))
        case .receiverReport: self = .receiverReport(try RTCPReceiverReport(count: count, body: body))
        case .sourceDescription: self = .sourceDescription(try RTCPSourceDescription(count: count, body: body))
        case .goodbye: self = .goodbye(try RTCPGoodbye(count: count, body: body))
        case .application: self = .application(try RTCPApplication(count: count, body: body))
        case .extendedReport: self = .extendedReport(try RTCPExtendedReport(count: count, body: body))
        case let other: self = .unknown(type: other.rawValue, count: count, body: Array(body))
        }
    }

    public var packetType: RTCPPacketType {
        switch self {
        case .senderReport: .senderReport
        case .receiverReport: .receiverReport
        case .sourceDescription: .sourceDescription
        case .goodbye: .goodbye
        case .application: .application
        case .extendedReport: .extendedReport
        case .unknown(let type, _, _): RTCPPacketType(rawValue: type)
        }
    }

    /// Octets `encode(into:)` appends (no padding).
    public var encodedSize: Int {
        switch self {
        case .senderReport(let p): p.packetSize
        case .receiverReport(let p): p.packetSize
        case .sourceDescription(let p): p.packetSize
        case .goodbye(let p): p.packetSize
        case .application(let p): p.packetSize
        case .extendedReport(let p): p.packetSize
        case .unknown(_, _, let body): RTCPHeader.encodedSize + roundedUpToWord(body.count)
        }
    }

    public func encode(into buffer: inout [UInt8]) {
        encode(into: &buffer, paddingCount: 0)
    }

    func encode(into buffer: inout [UInt8], paddingCount: Int) {
        switch self {
        case .senderReport(let p): p.encodePacket(into: &buffer, paddingCount: paddingCount)
        case .receiverReport(let p): p.encodePacket(into: &buffer, paddingCount: paddingCount)
        case .sourceDescription(let p): p.encodePacket(into: &buffer, paddingCount: paddingCount)
        case .goodbye(let p): p.encodePacket(into: &buffer, paddingCount: paddingCount)
        case .application(let p): p.encodePacket(into: &buffer, paddingCount: paddingCount)
        case .extendedReport(let p): p.encodePacket(into: &buffer, paddingCount: paddingCount)
        case .unknown(let type, let count, let body):
            let bodySize = roundedUpToWord(body.count)
            RTCPHeader(
                padding: paddingCount > 0,
                count: count,
                packetType: RTCPPacketType(rawValue: type),
                length: UInt16(truncatingIfNeeded: (RTCPHeader.encodedSize + bodySize + paddingCount) / 4 - 1)
            ).encode(into: &buffer)
            buffer.append(contentsOf: body)
            buffer.appendZeros(bodySize - body.count)
            appendRTCPPadding(paddingCount, to: &buffer)
        }
    }
}

// MARK: - Compound datagrams

/// The packets of one RTCP datagram (RFC 3550 §6.1 compound packet).
///
/// Decoding applies the RFC 3550 A.2 header validity check: every packet has version 2, only the
/// last may carry padding, the first is an SR or RR, and the packets' lengths add up to the
/// datagram. The first-packet rule is relaxed by default for RFC 5506 reduced-size RTCP (a lone
/// feedback or XR packet); `isReducedSize` says when that happened.
public struct RTCPCompoundPacket: Hashable, Sendable {
    public var packets: [RTCPPacket]
    /// Padding octets on the last packet, including the count octet; 0 for none. RFC 3550 §6.4.1
    /// wants a multiple of four: `encode` rounds down to one.
    public var paddingCount: UInt8

    public init(packets: [RTCPPacket], paddingCount: UInt8 = 0) {
        self.packets = packets
        self.paddingCount = paddingCount
    }

    /// True when the first packet is not an SR or RR, i.e. reduced-size RTCP (RFC 5506 §3).
    public var isReducedSize: Bool {
        guard let first = packets.first else { return false }
        return first.packetType != .senderReport && first.packetType != .receiverReport
    }

    /// Splits and decodes a datagram.
    ///
    /// - Parameter allowReducedSize: when false, a datagram not starting with SR or RR is
    ///   rejected with `.firstPacketNotReport` (the strict RFC 3550 A.2 rule).
    public init(parsing datagram: ArraySlice<UInt8>, allowReducedSize: Bool = true) throws(RTCPError) {
        guard !datagram.isEmpty else { throw .truncatedHeader }
        var packets: [RTCPPacket] = []
        var paddingCount = 0
        var rest = datagram
        while !rest.isEmpty {
            let frame = try RTCPFrame(cutting: rest)
            rest = rest.dropFirst(frame.size)
            // A.2: padding "should only be applied ... to the last packet".
            if frame.header.padding {
                guard rest.isEmpty else { throw .paddingNotOnLastPacket }
                paddingCount = frame.size - RTCPHeader.encodedSize - frame.body.count
            }
            if packets.isEmpty, !allowReducedSize,
                frame.header.packetType != .senderReport, frame.header.packetType != .receiverReport
            {
                throw .firstPacketNotReport
            }
            packets.append(try RTCPPacket(frame: frame))
        }
        self.packets = packets
        self.paddingCount = UInt8(paddingCount)
    }

    public init(parsing datagram: [UInt8], allowReducedSize: Bool = true) throws(RTCPError) {
        try self.init(parsing: datagram[...], allowReducedSize: allowReducedSize)
    }

    private var encodedPaddingCount: Int { packets.isEmpty ? 0 : Int(paddingCount & ~3) }

    public var encodedSize: Int {
        packets.reduce(encodedPaddingCount) { $0 + $1.encodedSize }
    }

    public func encode(into buffer: inout [UInt8]) {
        buffer.reserveCapacity(buffer.count + encodedSize)
        for (index, packet) in packets.enumerated() {
            let isLast = index == packets.count - 1
            packet.encode(into: &buffer, paddingCount: isLast ? encodedPaddingCount : 0)
        }
    }

    public func encoded() -> [UInt8] {
        var buffer: [UInt8] = []
        encode(into: &buffer)
        return buffer
    }
}
