/// What a read of a capture found: every packet is either a UDP datagram or counted in exactly
/// one set-aside bucket, so `packets == udpDatagrams + setAside`.
public struct CaptureTally: Hashable, Sendable {
    /// Packet records read.
    public var packets = 0
    public var udpDatagrams = 0
    public var unsupportedLinkType = 0
    public var nonIP = 0
    public var nonUDP = 0
    public var fragments = 0
    public var truncated = 0
    public var malformed = 0
    /// `nonUDP` by IP protocol number (6 TCP, 1 ICMP, 58 ICMPv6, …).
    public var nonUDPByProtocol: [UInt8: Int] = [:]
    /// `malformed` by reason.
    public var malformedByReason: [MalformedPacket: Int] = [:]
    /// 1 when the input ended inside a record (`CaptureReader.truncatedRecord`); that partial
    /// record is not among `packets`.
    public var truncatedRecordsAtEnd = 0

    public init() {}

    public var setAside: Int { unsupportedLinkType + nonIP + nonUDP + fragments + truncated + malformed }

    public mutating func count(_ outcome: DecodedPacket) {
        packets += 1
        switch outcome {
        case .udp: udpDatagrams += 1
        case .setAside(.unsupportedLinkType): unsupportedLinkType += 1
        case .setAside(.nonIP): nonIP += 1
        case .setAside(.nonUDP(let number)):
            nonUDP += 1
            nonUDPByProtocol[number, default: 0] += 1
        case .setAside(.fragment): fragments += 1
        case .setAside(.truncated): truncated += 1
        case .setAside(.malformed(let reason)):
            malformed += 1
            malformedByReason[reason, default: 0] += 1
        }
    }
}

/// The UDP datagrams of a capture, with a tally of every packet set aside: `CaptureReader`
/// and `PacketDecoder` in one. Fed the same way as `CaptureReader` (`append`, `next` until nil,
/// `finish`, `next` until nil), or given the whole capture with `init(bytes:)`.
///
/// ```swift
/// var reader = UDPDatagramReader(bytes: fileBytes)
/// while let datagram = try reader.next() { analyse(datagram) }
/// print(reader.tally)
/// ```
public struct UDPDatagramReader: Sendable {
    public private(set) var captureReader: CaptureReader
    public private(set) var tally = CaptureTally()

    public init(limits: CaptureReader.Limits = .init()) {
        captureReader = CaptureReader(limits: limits)
    }

    public init(bytes: [UInt8], limits: CaptureReader.Limits = .init()) {
        captureReader = CaptureReader(bytes: bytes, limits: limits)
    }

    public mutating func append(_ bytes: some Collection<UInt8>) {
        captureReader.append(bytes)
    }

    public mutating func finish() {
        captureReader.finish()
    }

    /// The next UDP datagram; packets that are not UDP datagrams are counted in `tally` and
    /// skipped. Nil when more input is needed or, after `finish()`, at the end.
    public mutating func next() throws(PcapError) -> UDPDatagram? {
        while let packet = try captureReader.next() {
            let outcome = PacketDecoder.decode(packet)
            tally.count(outcome)
            if case .udp(let datagram) = outcome { return datagram }
        }
        tally.truncatedRecordsAtEnd = captureReader.truncatedRecord == nil ? 0 : 1
        return nil
    }

    /// Every datagram of a capture held in memory, and the tally.
    public static func readAll(_ bytes: [UInt8], limits: CaptureReader.Limits = .init()) throws(PcapError) -> (datagrams: [UDPDatagram], tally: CaptureTally) {
        var reader = UDPDatagramReader(bytes: bytes, limits: limits)
        var datagrams: [UDPDatagram] = []
        while let datagram = try reader.next() { datagrams.append(datagram) }
        return (datagrams, reader.tally)
    }
}
