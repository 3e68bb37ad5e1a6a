/// Why a writer or `PacketBuilder` refused its input.
public enum PcapWriterError: Error, Hashable, Sendable {
    /// Source and destination are not both IPv4 or both IPv6.
    case addressFamilyMismatch
    /// The payload does not fit the IP/UDP length fields (65 507 bytes over IPv4, 65 527 over IPv6).
    case payloadTooLarge(Int)
    /// The link type carries only the other IP version (LINKTYPE_IPV4 with an IPv6 packet, …).
    case linkTypeCannotCarry(LinkType, ipVersion: UInt8)
    case unsupportedLinkType(LinkType)
    /// A timestamp the format cannot hold: before 1970 or after 2106 in classic pcap, before the
    /// interface's `if_tsoffset` or too large for 64 bits of units in pcapng.
    case timestampOutOfRange(CaptureTimestamp)
    /// pcapng: no such interface was declared.
    case unknownInterface(Int)
    /// The frame is longer than a 32-bit length field.
    case frameTooLarge(Int)
}

/// Header fields of a synthetic UDP packet beyond addresses, ports and payload.
public struct UDPPacketOptions: Hashable, Sendable {
    /// IPv4 TOS / IPv6 Traffic Class (DSCP << 2 | ECN); e.g. `46 << 2` for EF.
    public var trafficClass: UInt8 = 0
    /// IPv4 TTL / IPv6 Hop Limit.
    public var hopLimit: UInt8 = 64
    /// IPv4 Identification.
    public var identification: UInt16 = 0
    /// IPv6 Flow Label (20 bits).
    public var flowLabel: UInt32 = 0
    /// IPv4 only: send checksum 0 ("not computed", RFC 768) instead of the real one.
    public var omitUDPChecksum = false

    public init(trafficClass: UInt8 = 0, hopLimit: UInt8 = 64, identification: UInt16 = 0, flowLabel: UInt32 = 0,
                omitUDPChecksum: Bool = false) {
        self.trafficClass = trafficClass
        self.hopLimit = hopLimit
        self.identification = identification
        self.flowLabel = flowLabel
        self.omitUDPChecksum = omitUDPChecksum
    }
}

/// Builds the packets of synthetic captures: an IP + UDP packet around a payload, with a correct
/// IPv4 header checksum and UDP checksum, and a link-layer header in front of it.
public enum PacketBuilder {
    /// An IPv4 (DF set, no options) or IPv6 (no extension headers) packet carrying one UDP datagram.
    public static func udpPacket(from source: IPEndpoint, to destination: IPEndpoint, payload: some Collection<UInt8>,
                                 options: UDPPacketOptions = .init()) throws(PcapWriterError) -> [UInt8] {
        let udpLength = UDPHeader.encodedSize + payload.count
        var datagram: [UInt8] = []
        datagram.reserveCapacity(udpLength)
        var packet: [UInt8] = []
        switch (source.address, destination.address) {
        case (.v4(let from), .v4(let to)):
            guard udpLength + 20 <= Int(UInt16.max) else { throw .payloadTooLarge(payload.count) }
            UDPHeader(sourcePort: source.port, destinationPort: destination.port, length: UInt16(udpLength)).encode(into: &datagram)
            datagram.append(contentsOf: payload)
            if !options.omitUDPChecksum {
                datagram.store(u16: UDPHeader.checksum(source: source.address, destination: destination.address, datagram: datagram), at: 6)
            }
            let header = IPv4Header(typeOfService: options.trafficClass, totalLength: UInt16(20 + udpLength),
                                    identification: options.identification, timeToLive: options.hopLimit,
                                    source: from, destination: to).withComputedChecksum()
            packet.reserveCapacity(20 + udpLength)
            header.encode(into: &packet)
        case (.v6(let from), .v6(let to)):
            guard udpLength <= Int(UInt16.max) else { throw .payloadTooLarge(payload.count) }
            UDPHeader(sourcePort: source.port, destinationPort: destination.port, length: UInt16(udpLength)).encode(into: &datagram)
            datagram.append(contentsOf: payload)
            datagram.store(u16: UDPHeader.checksum(source: source.address, destination: destination.address, datagram: datagram), at: 6)
            packet.reserveCapacity(40 + udpLength)
            IPv6Header(trafficClass: options.trafficClass, flowLabel: options.flowLabel, payloadLength: UInt16(udpLength),
                       hopLimit: options.hopLimit, source: from, destination: to).encode(into: &packet)
        default:
            throw .addressFamilyMismatch
        }
        packet.append(contentsOf: datagram)
        return packet
    }

    /// `ipPacket` behind the link-layer header of `linkType`: Ethernet (locally administered
    /// MACs), Linux cooked v1/v2 (loopback, "to us"), raw IP, BSD null (AF in `byteOrder`,
    /// AF_INET6 = 30 as on Darwin) or OpenBSD loop (AF_INET6 = 24).
    public static func frame(ipPacket: [UInt8], linkType: LinkType, byteOrder: ByteOrder = .little) throws(PcapWriterError) -> [UInt8] {
        let version: UInt8 = (ipPacket.first ?? 0) >> 4
        let etherType = version == 6 ? EtherType.ipv6 : EtherType.ipv4
        var frame: [UInt8] = []
        frame.reserveCapacity(ipPacket.count + 20)
        switch linkType {
        case .ethernet: EthernetHeader(etherType: etherType).encode(into: &frame)
        case .linuxSLL: LinuxSLLHeader(protocolType: etherType).encode(into: &frame)
        case .linuxSLL2: LinuxSLL2Header(protocolType: etherType).encode(into: &frame)
        case .null: LoopbackHeader(family: version == 6 ? 30 : LoopbackHeader.familyIPv4).encode(into: &frame, byteOrder: byteOrder)
        case .loop: LoopbackHeader(family: version == 6 ? 24 : LoopbackHeader.familyIPv4).encode(into: &frame, byteOrder: .big)
        case .raw: break
        case .ipv4: guard version == 4 else { throw .linkTypeCannotCarry(linkType, ipVersion: version) }
        case .ipv6: guard version == 6 else { throw .linkTypeCannotCarry(linkType, ipVersion: version) }
        default: throw .unsupportedLinkType(linkType)
        }
        frame.append(contentsOf: ipPacket)
        return frame
    }

    /// `udpPacket` inside `frame`.
    public static func udpFrame(from source: IPEndpoint, to destination: IPEndpoint, payload: some Collection<UInt8>,
                                linkType: LinkType, byteOrder: ByteOrder = .little,
                                options: UDPPacketOptions = .init()) throws(PcapWriterError) -> [UInt8] {
        try frame(ipPacket: udpPacket(from: source, to: destination, payload: payload, options: options),
                  linkType: linkType, byteOrder: byteOrder)
    }
}
