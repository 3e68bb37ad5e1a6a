import Pcap
import Testing

@Suite struct IPDecodingTests {
    /// `Vectors.ipv4UDP` with some bytes replaced.
    func ipv4(_ changes: [Int: UInt8]) -> [UInt8] {
        var bytes = Vectors.ipv4UDP
        for (index, value) in changes { bytes[index] = value }
        return bytes
    }

    func ipv6(_ changes: [Int: UInt8]) -> [UInt8] {
        var bytes = Vectors.ipv6UDP
        for (index, value) in changes { bytes[index] = value }
        return bytes
    }

    @Test func ipv4HeaderRoundTripsAndChecksum() throws {
        let header = try IPv4Header(parsing: Vectors.ipv4UDP[...])
        #expect(header == IPv4Header(typeOfService: 0xB8, totalLength: 32, identification: 0x1234, dontFragment: true,
                                     timeToLive: 64, protocolNumber: 17, headerChecksum: 0x3BAA,
                                     source: IPv4Address(192, 0, 2, 1), destination: IPv4Address(198, 51, 100, 2)))
        #expect(header.computedChecksum == 0x3BAA)
        var encoded: [UInt8] = []
        header.encode(into: &encoded)
        #expect(encoded == Array(Vectors.ipv4UDP.prefix(20)))
    }

    @Test func ipv4OptionsAreSkippedByIHL() throws {
        let packet: [UInt8] = [
            0x46, 0x00, 0x00, 0x24, // v=4, IHL=6 (24 bytes), TOS 0, total length 36
            0x00, 0x01, 0x00, 0x00, // identification 1, no flags
            0x01, 0x11, 0x00, 0x00, // TTL 1, UDP, checksum (not verified)
            0x0A, 0x00, 0x00, 0x01, // 10.0.0.1
            0xE0, 0x00, 0x00, 0x01, // 224.0.0.1
            0x94, 0x04, 0x00, 0x00, // option: Router Alert (RFC 2113)
            0x04, 0xD2, 0x16, 0x2E, // UDP 1234 → 5678
            0x00, 0x0C, 0x00, 0x00, // length 12, checksum 0 (none)
            0xCA, 0xFE, 0xBA, 0xBE, // payload
        ]
        let outcome = decode(packet, linkType: .raw)
        guard case .udp(let datagram) = outcome else { Issue.record("\(outcome)"); return }
        #expect(datagram.source == IPEndpoint(.v4(IPv4Address(10, 0, 0, 1)), 1234))
        #expect(datagram.destination == IPEndpoint(.v4(IPv4Address(224, 0, 0, 1)), 5678))
        #expect(Array(datagram.payload) == [0xCA, 0xFE, 0xBA, 0xBE])
        #expect(datagram.payload.startIndex == 32)
        #expect(datagram.hopLimit == 1)
        let header = try IPv4Header(parsing: packet[...])
        #expect(header.options == [0x94, 0x04, 0x00, 0x00])
        var encoded: [UInt8] = []
        header.encode(into: &encoded)
        #expect(encoded == Array(packet.prefix(24)))
    }

    @Test func ipv4HeaderLengthBelowFive() {
        #expect(decode(ipv4([0: 0x44]), linkType: .raw) == .setAside(.malformed(.ipv4HeaderLengthTooShort)))
        #expect(decode(ipv4([0: 0x40]), linkType: .raw) == .setAside(.malformed(.ipv4HeaderLengthTooShort)))
    }

    @Test func ipv4HeaderLengthBeyondTheData() {
        let stub = Array(ipv4([0: 0x4F]).prefix(40)) // IHL 15 = 60 bytes, only 40 captured
        #expect(decode(stub, linkType: .raw) == .setAside(.malformed(.ipv4HeaderLengthBeyondData)))
        #expect(decode(stub, linkType: .raw, originalLength: 100) == .setAside(.truncated))
    }

    @Test func ipv4TotalLengthBelowHeader() {
        #expect(decode(ipv4([3: 0x10]), linkType: .raw) == .setAside(.malformed(.ipv4TotalLengthTooShort)))
    }

    @Test func ipv4TotalLengthBeyondTheData() {
        let claims100 = ipv4([3: 0x64])
        #expect(decode(claims100, linkType: .raw) == .setAside(.malformed(.ipLengthBeyondData)))
        #expect(decode(claims100, linkType: .raw, originalLength: 100) == .setAside(.truncated))
        // Snapped in the middle of the header.
        #expect(decode(Array(Vectors.ipv4UDP.prefix(12)), linkType: .raw, originalLength: 32) == .setAside(.truncated))
        #expect(decode(Array(Vectors.ipv4UDP.prefix(12)), linkType: .raw) == .setAside(.malformed(.ipv4HeaderTooShort)))
    }

    @Test func ipv4Fragments() {
        // First fragment: MF set, offset 0.
        #expect(decode(ipv4([6: 0x20, 7: 0x00]), linkType: .raw) == .setAside(.fragment))
        // Later fragment: offset 185 × 8 bytes, MF clear — and no UDP header in it.
        #expect(decode(ipv4([6: 0x00, 7: 0xB9]), linkType: .raw) == .setAside(.fragment))
        // DF alone is not a fragment.
        #expect(decode(ipv4([6: 0x40, 7: 0x00]), linkType: .raw) != .setAside(.fragment))
    }

    @Test func ipv4OtherProtocols() {
        #expect(decode(ipv4([9: 6]), linkType: .raw) == .setAside(.nonUDP(ipProtocol: 6)))
        #expect(decode(ipv4([9: 1]), linkType: .raw) == .setAside(.nonUDP(ipProtocol: 1)))
        // A snapped TCP packet is "not UDP", not "truncated".
        let bigTCP = ipv4([2: 0x05, 3: 0xDC, 9: 6]) // total length 1500
        #expect(decode(bigTCP, linkType: .raw, originalLength: 1500) == .setAside(.nonUDP(ipProtocol: 6)))
    }

    @Test func udpLengthChecks() {
        #expect(decode(ipv4([25: 0x07]), linkType: .raw) == .setAside(.malformed(.udpLengthTooShort)))
        #expect(decode(ipv4([25: 0x00]), linkType: .raw) == .setAside(.malformed(.udpLengthTooShort)))
        #expect(decode(ipv4([25: 0x0D]), linkType: .raw) == .setAside(.malformed(.udpLengthBeyondIPPayload)))
        // IP total length 24: only 4 bytes of IP payload.
        #expect(decode(ipv4([3: 0x18]), linkType: .raw) == .setAside(.malformed(.udpHeaderTooShort)))
        // UDP shorter than the IP payload: the UDP length wins.
        let outcome = decode(ipv4([25: 0x0A]), linkType: .raw)
        guard case .udp(let datagram) = outcome else { Issue.record("\(outcome)"); return }
        #expect(Array(datagram.payload) == Array("RT".utf8))
    }

    @Test func udpPayloadCutBySnapLength() {
        let snapped = Array(Vectors.ipv4UDP.prefix(30))
        #expect(decode(snapped, linkType: .raw, originalLength: 32) == .setAside(.truncated))
        #expect(decode(snapped, linkType: .raw) == .setAside(.malformed(.ipLengthBeyondData)))
    }

    @Test func ipv6HeaderRoundTrip() throws {
        let header = try IPv6Header(parsing: Vectors.ipv6UDP[...])
        #expect(header == IPv6Header(trafficClass: 0xB8, flowLabel: 0x12345, payloadLength: 12, nextHeader: 17, hopLimit: 64,
                                     source: IPv6Address("2001:db8::1")!, destination: IPv6Address("2001:db8::2")!))
        var encoded: [UInt8] = []
        header.encode(into: &encoded)
        #expect(encoded == Array(Vectors.ipv6UDP.prefix(40)))
    }

    static let extensionChain: [UInt8] = [
        0x2B, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, // hop-by-hop: next 43, len 0 (8 bytes), PadN 4
        0x3C, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, // routing: next 60, len 0, type 4, segments left 0
        0x2C, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, // destination options: next 44, len 0, PadN 4
        0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2A, // fragment: next 17, offset 0, M 0 (atomic), id 42
    ]

    /// `Vectors.ipv6UDP` with `chain` inserted after the fixed header, starting from `first`.
    func ipv6(chain: [UInt8], first: UInt8) -> [UInt8] {
        var packet = Array(Vectors.ipv6UDP.prefix(40)) + chain + Array(Vectors.ipv6UDP.dropFirst(40))
        packet[5] = UInt8(12 + chain.count)
        packet[6] = first
        return packet
    }

    @Test func ipv6ExtensionHeadersAreWalked() {
        let packet = ipv6(chain: Self.extensionChain, first: 0)
        let outcome = decode(packet, linkType: .raw)
        guard case .udp(let datagram) = outcome else { Issue.record("\(outcome)"); return }
        #expect(datagram.source == Vectors.source6)
        #expect(Array(datagram.payload) == Vectors.payload)
        // AH: length field 1 → (1 + 2) × 4 = 12 bytes.
        let ah: [UInt8] = [0x11, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01]
        #expect(udp(CapturedPacket(number: 1, timestamp: nil, linkType: .raw, data: ipv6(chain: ah, first: 51)))?.source == Vectors.source6)
    }

    @Test func ipv6Fragments() {
        var first = Self.extensionChain
        first[27] = 0x01 // M flag, offset 0
        #expect(decode(ipv6(chain: first, first: 0), linkType: .raw) == .setAside(.fragment))
        var later = Self.extensionChain
        later[26] = 0x05 // offset 160 × 8 bytes
        later[27] = 0x00
        #expect(decode(ipv6(chain: later, first: 0), linkType: .raw) == .setAside(.fragment))
    }

    @Test func ipv6ExtensionHeaderOverrun() {
        var chain = Self.extensionChain
        chain[1] = 0x05 // hop-by-hop claims 48 bytes
        #expect(decode(ipv6(chain: chain, first: 0), linkType: .raw) == .setAside(.malformed(.ipv6ExtensionHeaderBeyondPayload)))
        // Payload length 1 with a hop-by-hop header announced.
        #expect(decode(Array(ipv6([5: 0x01, 6: 0x00]).prefix(41)), linkType: .raw)
                == .setAside(.malformed(.ipv6ExtensionHeaderBeyondPayload)))
    }

    @Test func ipv6OtherProtocols() {
        #expect(decode(ipv6([6: 58]), linkType: .raw) == .setAside(.nonUDP(ipProtocol: 58)))
        #expect(decode(ipv6([6: 59]), linkType: .raw) == .setAside(.nonUDP(ipProtocol: 59)))
        #expect(decode(ipv6([6: 6]), linkType: .raw) == .setAside(.nonUDP(ipProtocol: 6)))
    }

    @Test func ipv6LengthsAgainstTheData() {
        #expect(decode(Array(Vectors.ipv6UDP.prefix(39)), linkType: .raw) == .setAside(.malformed(.ipv6HeaderTooShort)))
        #expect(decode(Array(Vectors.ipv6UDP.prefix(39)), linkType: .raw, originalLength: 52) == .setAside(.truncated))
        #expect(decode(ipv6([5: 0x20]), linkType: .raw) == .setAside(.malformed(.ipLengthBeyondData)))
        #expect(decode(ipv6([5: 0x20]), linkType: .raw, originalLength: 72) == .setAside(.truncated))
        // Extension headers cut by the snap length: truncated, not malformed.
        let chained = ipv6(chain: Self.extensionChain, first: 0)
        #expect(decode(Array(chained.prefix(50)), linkType: .raw, originalLength: chained.count) == .setAside(.truncated))
        #expect(decode(ipv6([45: 0x07]), linkType: .raw) == .setAside(.malformed(.udpLengthTooShort)))
        #expect(decode(ipv6([5: 0x04]), linkType: .raw) == .setAside(.malformed(.udpHeaderTooShort)))
    }

    @Test func udpHeaderRoundTrip() throws {
        let header = try UDPHeader(parsing: Vectors.ipv4UDP[20...])
        #expect(header == UDPHeader(sourcePort: 5004, destinationPort: 6000, length: 12, checksum: 0x462D))
        var encoded: [UInt8] = []
        header.encode(into: &encoded)
        #expect(encoded == Array(Vectors.ipv4UDP[20..<28]))
        #expect(throws: MalformedPacket.udpHeaderTooShort) { try UDPHeader(parsing: Vectors.ipv4UDP[26...]) }
    }

    /// Every packet is yielded or counted in exactly one bucket.
    @Test func tallyAccountsForEveryPacket() throws {
        var writer = PcapWriter(linkType: .raw, precision: .nanoseconds)
        let t = CaptureTimestamp(seconds: 1_700_000_000)
        let packets: [[UInt8]] = [
            Vectors.ipv4UDP, Vectors.ipv6UDP,             // 2 datagrams
            ipv4([9: 6]), ipv4([9: 1]), ipv6([6: 58]),    // 3 not UDP
            ipv4([6: 0x20]),                              // 1 fragment
            ipv4([0: 0x44]), ipv4([25: 0x07]),            // 2 malformed
            [0x55] + Array(Vectors.ipv4UDP.dropFirst()),  // 1 not IP
        ]
        for packet in packets { try writer.write(frame: packet, at: t) }
        try writer.write(frame: Array(Vectors.ipv4UDP.prefix(30)), at: t, originalLength: 32) // 1 truncated
        let (datagrams, tally) = try UDPDatagramReader.readAll(writer.bytes)
        #expect(datagrams.count == 2)
        var expected = CaptureTally()
        expected.packets = 10
        expected.udpDatagrams = 2
        expected.nonUDP = 3
        expected.nonUDPByProtocol = [6: 1, 1: 1, 58: 1]
        expected.fragments = 1
        expected.malformed = 2
        expected.malformedByReason = [.ipv4HeaderLengthTooShort: 1, .udpLengthTooShort: 1]
        expected.nonIP = 1
        expected.truncated = 1
        #expect(tally == expected)
        #expect(tally.packets == tally.udpDatagrams + tally.setAside)
    }
}
