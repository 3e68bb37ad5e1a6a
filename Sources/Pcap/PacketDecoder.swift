/// A UDP datagram found in a capture: what the RTP analysis works on.
public struct UDPDatagram: Hashable, Sendable {
    /// The packet's `CapturedPacket.number` (1-based).
    public var packetNumber: Int
    /// Nil only for pcapng Simple Packet Blocks.
    public var timestamp: CaptureTimestamp?
    public var sectionIndex: Int
    public var interfaceIndex: Int
    public var source: IPEndpoint
    public var destination: IPEndpoint
    /// The UDP payload: exactly UDP Length − 8 bytes. A slice of the packet's bytes — its
    /// indices are those of `CapturedPacket.data`, so index from `payload.startIndex`.
    public var payload: ArraySlice<UInt8>
    /// IPv4 Type of Service or IPv6 Traffic Class: DSCP in the upper 6 bits, ECN in the lower 2.
    public var trafficClass: UInt8
    /// IPv4 TTL or IPv6 Hop Limit.
    public var hopLimit: UInt8
    /// As captured; not verified (see `UDPHeader`).
    public var checksum: UInt16

    public init(packetNumber: Int, timestamp: CaptureTimestamp?, sectionIndex: Int = 0, interfaceIndex: Int = 0,
                source: IPEndpoint, destination: IPEndpoint, payload: ArraySlice<UInt8>,
                trafficClass: UInt8 = 0, hopLimit: UInt8 = 64, checksum: UInt16 = 0) {
        self.packetNumber = packetNumber
        self.timestamp = timestamp
        self.sectionIndex = sectionIndex
        self.interfaceIndex = interfaceIndex
        self.source = source
        self.destination = destination
        self.payload = payload
        self.trafficClass = trafficClass
        self.hopLimit = hopLimit
        self.checksum = checksum
    }

    /// Differentiated Services Code Point (RFC 2474): e.g. 46 (EF) for voice.
    public var dscp: UInt8 { trafficClass >> 2 }
}

/// Why a captured packet was not yielded as a UDP datagram.
public enum SetAsideReason: Hashable, Sendable, CustomStringConvertible {
    /// A link layer `PacketDecoder` does not decode (802.11, PPP, USB, …).
    case unsupportedLinkType(LinkType)
    /// The link layer carries something other than IPv4/IPv6 (ARP, LLDP, an unknown address family, …).
    case nonIP
    /// IP, but the upper-layer protocol is not UDP: TCP (6), ICMP (1), ICMPv6 (58), ESP (50),
    /// no next header (59), …
    case nonUDP(ipProtocol: UInt8)
    /// An IPv4 or IPv6 fragment: a later one, or the first with More Fragments set. Fragments are
    /// not reassembled — RTP over UDP is never fragmented in practice, and reassembly would need
    /// state across packets and memory an adversarial capture could exhaust.
    case fragment
    /// The snap length cut the packet before the end of what UDP needs (headers and payload).
    case truncated
    /// A header contradicts itself or the bytes the wire carried.
    case malformed(MalformedPacket)

    public var description: String {
        switch self {
        case .unsupportedLinkType(let type): "unsupported link type \(type)"
        case .nonIP: "not IP"
        case .nonUDP(let number): "IP protocol \(number), not UDP"
        case .fragment: "IP fragment"
        case .truncated: "cut short by the snap length"
        case .malformed(let reason): "malformed: \(reason)"
        }
    }
}

/// What became of one captured packet.
public enum DecodedPacket: Hashable, Sendable {
    case udp(UDPDatagram)
    case setAside(SetAsideReason)
}

/// Decodes captured packets down to UDP: link layer → IPv4/IPv6 → UDP. Pure and stateless.
///
/// Link layers: Ethernet (with 802.1Q/802.1ad tags), Linux cooked v1/v2, raw IP (101, 228,
/// 229), BSD loopback (0) and OpenBSD loop (108). IPv4 options are skipped by IHL; IPv6
/// extension headers are walked. Trailing bytes after the IP packet (Ethernet padding, FCS)
/// and after the UDP Length are ignored. Neither the IPv4 header checksum nor the UDP checksum
/// is verified: checksum offload leaves captured values unreliable.
public enum PacketDecoder {
    public static func decode(_ packet: CapturedPacket) -> DecodedPacket {
        do throws(MalformedPacket) {
            let bytes = packet.data[...]
            let network: ArraySlice<UInt8>
            let expectedVersion: UInt8?
            switch packet.linkType {
            case .ethernet:
                let header = try EthernetHeader(parsing: bytes)
                guard let version = ipVersion(etherType: header.etherType) else { return .setAside(.nonIP) }
                (network, expectedVersion) = (bytes.dropFirst(header.encodedSize), version)
            case .linuxSLL:
                let header = try LinuxSLLHeader(parsing: bytes)
                guard let version = ipVersion(etherType: header.protocolType) else { return .setAside(.nonIP) }
                (network, expectedVersion) = (bytes.dropFirst(LinuxSLLHeader.encodedSize), version)
            case .linuxSLL2:
                let header = try LinuxSLL2Header(parsing: bytes)
                guard let version = ipVersion(etherType: header.protocolType) else { return .setAside(.nonIP) }
                (network, expectedVersion) = (bytes.dropFirst(LinuxSLL2Header.encodedSize), version)
            case .null, .loop:
                let header = try LoopbackHeader(parsing: bytes, byteOrder: packet.linkType == .loop ? .big : packet.byteOrder)
                let version: UInt8
                if header.family == LoopbackHeader.familyIPv4 {
                    version = 4
                } else if LoopbackHeader.familiesIPv6.contains(header.family) {
                    version = 6
                } else {
                    return .setAside(.nonIP)
                }
                (network, expectedVersion) = (bytes.dropFirst(LoopbackHeader.encodedSize), version)
            case .raw:
                (network, expectedVersion) = (bytes, nil)
            case .ipv4:
                (network, expectedVersion) = (bytes, 4)
            case .ipv6:
                (network, expectedVersion) = (bytes, 6)
            default:
                return .setAside(.unsupportedLinkType(packet.linkType))
            }
            return try decodeIP(network, expectedVersion: expectedVersion, packet: packet)
        } catch {
            return .setAside(error.isShortOfData && packet.isCutShort ? .truncated : .malformed(error))
        }
    }

    private static func ipVersion(etherType: UInt16) -> UInt8? {
        switch etherType {
        case EtherType.ipv4: 4
        case EtherType.ipv6: 6
        default: nil
        }
    }

    private static func decodeIP(_ bytes: ArraySlice<UInt8>, expectedVersion: UInt8?, packet: CapturedPacket) throws(MalformedPacket) -> DecodedPacket {
        guard let first = bytes.first else { throw expectedVersion == 6 ? .ipv6HeaderTooShort : .ipv4HeaderTooShort }
        let version = first >> 4
        if let expectedVersion, version != expectedVersion { throw .ipVersionMismatch }
        let source: IPAddress, destination: IPAddress
        let trafficClass: UInt8, hopLimit: UInt8
        let transport: ArraySlice<UInt8>
        switch version {
        case 4:
            let header = try IPv4Header(parsing: bytes)
            // Fragment and protocol first: a snapped TCP packet is "not UDP", not "truncated".
            if header.isFragment { return .setAside(.fragment) }
            guard header.protocolNumber == IPProtocolNumber.udp else { return .setAside(.nonUDP(ipProtocol: header.protocolNumber)) }
            guard Int(header.totalLength) <= bytes.count else { throw .ipLengthBeyondData }
            (source, destination) = (.v4(header.source), .v4(header.destination))
            (trafficClass, hopLimit) = (header.typeOfService, header.timeToLive)
            transport = bytes.bytes(header.headerLength, Int(header.totalLength) - header.headerLength)
        case 6:
            let header = try IPv6Header(parsing: bytes)
            let declared = Int(header.payloadLength)
            let captured = bytes.count - IPv6Header.encodedSize
            let payload = bytes.bytes(IPv6Header.encodedSize, min(declared, captured))
            let upper: IPv6Header.UpperLayer
            do throws(MalformedPacket) {
                upper = try IPv6Header.upperLayer(of: payload, nextHeader: header.nextHeader)
            } catch {
                throw declared > captured ? .ipLengthBeyondData : error
            }
            if upper.isFragment { return .setAside(.fragment) }
            guard upper.protocolNumber == IPProtocolNumber.udp else { return .setAside(.nonUDP(ipProtocol: upper.protocolNumber)) }
            guard declared <= captured else { throw .ipLengthBeyondData }
            (source, destination) = (.v6(header.source), .v6(header.destination))
            (trafficClass, hopLimit) = (header.trafficClass, header.hopLimit)
            transport = payload.dropFirst(upper.offset)
        default:
            // LINKTYPE_RAW with a version that is neither: not IP at all.
            if expectedVersion == nil { return .setAside(.nonIP) }
            throw .ipVersionMismatch
        }
        let udp = try UDPHeader(parsing: transport)
        guard Int(udp.length) <= transport.count else { throw .udpLengthBeyondIPPayload }
        return .udp(UDPDatagram(
            packetNumber: packet.number, timestamp: packet.timestamp, sectionIndex: packet.sectionIndex,
            interfaceIndex: packet.interfaceIndex,
            source: IPEndpoint(source, udp.sourcePort), destination: IPEndpoint(destination, udp.destinationPort),
            payload: transport.bytes(UDPHeader.encodedSize, Int(udp.length) - UDPHeader.encodedSize),
            trafficClass: trafficClass, hopLimit: hopLimit, checksum: udp.checksum))
    }
}
