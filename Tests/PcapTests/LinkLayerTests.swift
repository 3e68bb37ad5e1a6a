import Pcap
import Testing

@Suite struct LinkLayerTests {
    /// Checks `outcome` is the datagram of `Vectors.ipv4UDP` (or `ipv6UDP`).
    func expectDatagram(_ outcome: DecodedPacket, ipv6: Bool, sourceLocation: SourceLocation = #_sourceLocation) {
        guard case .udp(let datagram) = outcome else {
            Issue.record("expected a datagram, got \(outcome)", sourceLocation: sourceLocation)
            return
        }
        #expect(datagram.source == (ipv6 ? Vectors.source6 : Vectors.source4), sourceLocation: sourceLocation)
        #expect(datagram.destination == (ipv6 ? Vectors.destination6 : Vectors.destination4), sourceLocation: sourceLocation)
        #expect(Array(datagram.payload) == Vectors.payload, sourceLocation: sourceLocation)
        #expect(datagram.trafficClass == 0xB8 && datagram.dscp == 46, sourceLocation: sourceLocation)
        #expect(datagram.hopLimit == 64, sourceLocation: sourceLocation)
        #expect(datagram.checksum == (ipv6 ? 0xD6EF : 0x462D), sourceLocation: sourceLocation)
    }

    func expectIPv4Datagram(_ outcome: DecodedPacket, sourceLocation: SourceLocation = #_sourceLocation) {
        expectDatagram(outcome, ipv6: false, sourceLocation: sourceLocation)
    }

    func expectIPv6Datagram(_ outcome: DecodedPacket, sourceLocation: SourceLocation = #_sourceLocation) {
        expectDatagram(outcome, ipv6: true, sourceLocation: sourceLocation)
    }

    // MARK: Ethernet

    @Test func ethernet() throws {
        let frame: [UInt8] = [
            0x02, 0x00, 0x00, 0x00, 0x00, 0x02, // destination MAC
            0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // source MAC
            0x08, 0x00,                         // EtherType IPv4
        ] + Vectors.ipv4UDP
        expectIPv4Datagram(decode(frame, linkType: .ethernet))
        let header = try EthernetHeader(parsing: frame[...])
        #expect(header == EthernetHeader(etherType: EtherType.ipv4))
        var encoded: [UInt8] = []
        header.encode(into: &encoded)
        #expect(encoded == Array(frame.prefix(14)))
    }

    @Test func ethernetPaddingAndFCSAreIgnored() {
        // A 32-byte IP packet is padded to the 46-byte minimum payload, then a 4-byte FCS.
        let frame = concat(Array(Vectors.ethernetHeaderIPv6.prefix(12)), [0x08, 0x00], Vectors.ipv4UDP,
                           Array(repeating: 0, count: 14), [0xDE, 0xAD, 0xBE, 0xEF])
        expectIPv4Datagram(decode(frame, linkType: .ethernet))
    }

    @Test func ethernetWithQinQTags() throws {
        let frame: [UInt8] = [
            0x02, 0x00, 0x00, 0x00, 0x00, 0x02, // destination MAC
            0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // source MAC
            0x88, 0xA8, 0x00, 0x64,             // 802.1ad S-tag: PCP 0, VID 100
            0x81, 0x00, 0xA0, 0xC8,             // 802.1Q C-tag: PCP 5, VID 200
            0x86, 0xDD,                         // EtherType IPv6
        ] + Vectors.ipv6UDP
        expectIPv6Datagram(decode(frame, linkType: .ethernet))
        let header = try EthernetHeader(parsing: frame[...])
        #expect(header.vlanTags.map(\.vlanID) == [100, 200])
        #expect(header.vlanTags.map(\.priority) == [0, 5])
        #expect(header.vlanTags.map(\.protocolID) == [EtherType.serviceVLAN, EtherType.vlan])
        #expect(header.encodedSize == 22)
        var encoded: [UInt8] = []
        header.encode(into: &encoded)
        #expect(encoded == Array(frame.prefix(22)))
        #expect(EthernetHeader(vlanTags: [VLANTag(protocolID: EtherType.serviceVLAN, vlanID: 100),
                                          VLANTag(vlanID: 200, priority: 5)], etherType: EtherType.ipv6) == header)
    }

    @Test func ethernetSingleTagAndLegacyQinQ() {
        let tagged: [UInt8] = Array(Vectors.ethernetHeaderIPv6.prefix(12)) + [
            0x91, 0x00, 0x00, 0x0A, // legacy Q-in-Q outer tag, VID 10
            0x81, 0x00, 0x00, 0x14, // 802.1Q, VID 20
            0x08, 0x00,             // IPv4
        ] + Vectors.ipv4UDP
        expectIPv4Datagram(decode(tagged, linkType: .ethernet))
    }

    @Test func ethernetNonIP() {
        let arp: [UInt8] = Array(Vectors.ethernetHeaderIPv6.prefix(12)) + [0x08, 0x06] + Array(repeating: 0, count: 28)
        #expect(decode(arp, linkType: .ethernet) == .setAside(.nonIP))
    }

    @Test func ethernetHeaderCutShort() {
        let stub = Array(Vectors.ethernetHeaderIPv6.prefix(10))
        #expect(decode(stub, linkType: .ethernet) == .setAside(.malformed(.linkHeaderTooShort)))
        #expect(decode(stub, linkType: .ethernet, originalLength: 60) == .setAside(.truncated))
        // A tag announced but cut off.
        let tagCut: [UInt8] = Array(Vectors.ethernetHeaderIPv6.prefix(12)) + [0x81, 0x00, 0x00]
        #expect(decode(tagCut, linkType: .ethernet) == .setAside(.malformed(.linkHeaderTooShort)))
    }

    // MARK: Linux cooked

    @Test func linuxCookedV1() throws {
        let frame = Vectors.linuxSLLHeaderIPv4 + Vectors.ipv4UDP
        expectIPv4Datagram(decode(frame, linkType: .linuxSLL))
        let header = try LinuxSLLHeader(parsing: frame[...])
        #expect(header == LinuxSLLHeader(packetType: 0, addressType: 772, address: [0, 0, 0, 0, 0, 0], protocolType: 0x0800))
        var encoded: [UInt8] = []
        header.encode(into: &encoded)
        #expect(encoded == Vectors.linuxSLLHeaderIPv4)
        #expect(decode(Array(frame.prefix(15)), linkType: .linuxSLL) == .setAside(.malformed(.linkHeaderTooShort)))
    }

    @Test func linuxCookedV2() throws {
        let header: [UInt8] = [
            0x86, 0xDD,                         // protocol type IPv6
            0x00, 0x00,                         // reserved
            0x00, 0x00, 0x00, 0x03,             // interface index 3
            0x00, 0x01,                         // ARPHRD_ETHER
            0x04,                               // packet type 4: outgoing
            0x06,                               // address length 6
            0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // address
            0x00, 0x00,                         // padding
        ]
        expectIPv6Datagram(decode(header + Vectors.ipv6UDP, linkType: .linuxSLL2))
        let parsed = try LinuxSLL2Header(parsing: header[...])
        #expect(parsed == LinuxSLL2Header(protocolType: 0x86DD, interfaceIndex: 3, addressType: 1, packetType: 4,
                                          address: [0x02, 0, 0, 0, 0, 0x01]))
        var encoded: [UInt8] = []
        parsed.encode(into: &encoded)
        #expect(encoded == header)
        var arp = header
        arp[0...1] = [0x08, 0x06]
        #expect(decode(arp + Array(repeating: 0, count: 28), linkType: .linuxSLL2) == .setAside(.nonIP))
    }

    // MARK: raw IP

    @Test func rawIP() {
        expectIPv4Datagram(decode(Vectors.ipv4UDP, linkType: .raw))
        expectIPv6Datagram(decode(Vectors.ipv6UDP, linkType: .raw))
        expectIPv4Datagram(decode(Vectors.ipv4UDP, linkType: .ipv4))
        expectIPv6Datagram(decode(Vectors.ipv6UDP, linkType: .ipv6))
    }

    @Test func rawIPVersionChecks() {
        #expect(decode(Vectors.ipv6UDP, linkType: .ipv4) == .setAside(.malformed(.ipVersionMismatch)))
        #expect(decode(Vectors.ipv4UDP, linkType: .ipv6) == .setAside(.malformed(.ipVersionMismatch)))
        var version5 = Vectors.ipv4UDP
        version5[0] = 0x55
        #expect(decode(version5, linkType: .raw) == .setAside(.nonIP))
        #expect(decode([], linkType: .raw) == .setAside(.malformed(.ipv4HeaderTooShort)))
        #expect(decode([], linkType: .ipv6) == .setAside(.malformed(.ipv6HeaderTooShort)))
    }

    // MARK: loopback

    @Test func bsdNullInTheCapturingHostsByteOrder() {
        let littleHost: [UInt8] = [0x02, 0x00, 0x00, 0x00] // AF_INET, little-endian host
        expectIPv4Datagram(decode(littleHost + Vectors.ipv4UDP, linkType: .null, byteOrder: .little))
        let bigHost: [UInt8] = [0x00, 0x00, 0x00, 0x1E] // AF_INET6 = 30 (Darwin), big-endian host
        expectIPv6Datagram(decode(bigHost + Vectors.ipv6UDP, linkType: .null, byteOrder: .big))
        for family: UInt8 in [24, 28, 30] {
            expectIPv6Datagram(decode([family, 0, 0, 0] + Vectors.ipv6UDP, linkType: .null, byteOrder: .little))
        }
        // Written by a host of the other byte order than the file header's: recognised anyway.
        expectIPv4Datagram(decode([0x00, 0x00, 0x00, 0x02] + Vectors.ipv4UDP, linkType: .null, byteOrder: .little))
        #expect(decode([0x07, 0, 0, 0] + Vectors.ipv4UDP, linkType: .null) == .setAside(.nonIP))
        #expect(decode([0x02, 0, 0], linkType: .null) == .setAside(.malformed(.linkHeaderTooShort)))
        // The family and the version nibble must agree.
        #expect(decode([0x02, 0, 0, 0] + Vectors.ipv6UDP, linkType: .null) == .setAside(.malformed(.ipVersionMismatch)))
    }

    @Test func openBSDLoopIsAlwaysNetworkOrder() {
        let header: [UInt8] = [0x00, 0x00, 0x00, 0x18] // AF_INET6 = 24, network order
        expectIPv6Datagram(decode(header + Vectors.ipv6UDP, linkType: .loop, byteOrder: .little))
        expectIPv4Datagram(decode([0, 0, 0, 2] + Vectors.ipv4UDP, linkType: .loop, byteOrder: .little))
    }

    @Test func loopbackHeaderRoundTrip() throws {
        let header = try LoopbackHeader(parsing: [0x1E, 0, 0, 0][...], byteOrder: .little)
        #expect(header.family == 30)
        var encoded: [UInt8] = []
        header.encode(into: &encoded, byteOrder: .big)
        #expect(encoded == [0, 0, 0, 0x1E])
    }

    @Test func unsupportedLinkType() {
        let wifi = LinkType(rawValue: 105)
        #expect(decode(Vectors.ipv4UDP, linkType: wifi) == .setAside(.unsupportedLinkType(wifi)))
        #expect(!wifi.isSupported)
        #expect(wifi.description == "LINKTYPE_105")
        #expect(LinkType.linuxSLL2.description == "LINUX_SLL2")
    }
}
