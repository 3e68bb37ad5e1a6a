import Pcap
import Testing

@Suite struct WriterTests {
    @Test func builtPacketsMatchTheIndependentVectors() throws {
        let v4 = try PacketBuilder.udpPacket(from: Vectors.source4, to: Vectors.destination4, payload: Vectors.payload,
                                             options: UDPPacketOptions(trafficClass: 0xB8, identification: 0x1234))
        #expect(v4 == Vectors.ipv4UDP)
        let v6 = try PacketBuilder.udpPacket(from: Vectors.source6, to: Vectors.destination6, payload: Vectors.payload,
                                             options: UDPPacketOptions(trafficClass: 0xB8, flowLabel: 0x12345))
        #expect(v6 == Vectors.ipv6UDP)
    }

    @Test func checksumsVerifyForOddAndEmptyPayloads() throws {
        for payload in [[], [0x01], [0xFF, 0xFF, 0xFF], Array(0..<255)] as [[UInt8]] {
            for (from, to) in [(Vectors.source4, Vectors.destination4), (Vectors.source6, Vectors.destination6)] {
                let packet = try PacketBuilder.udpPacket(from: from, to: to, payload: payload)
                let headerLength = from.address.isIPv6 ? 40 : 20
                if !from.address.isIPv6 {
                    // The ones' complement sum over a header with a correct checksum is 0xFFFF, so its checksum is 0.
                    #expect(InternetChecksum.of(packet.prefix(20)) == 0)
                }
                let stored = UInt16(packet[headerLength + 6]) << 8 | UInt16(packet[headerLength + 7])
                var zeroed = Array(packet[headerLength...])
                zeroed[6] = 0
                zeroed[7] = 0
                #expect(stored == UDPHeader.checksum(source: from.address, destination: to.address, datagram: zeroed))
                #expect(stored != 0)
            }
        }
    }

    /// RFC 768: a computed checksum of zero is sent as all ones. Among all 2-byte payloads some
    /// sum to zero; none may come out as 0.
    @Test func zeroChecksumIsSentAsAllOnes() {
        var sawAllOnes = false
        for word in 0...0xFFFF {
            let datagram: [UInt8] = [0x13, 0x8C, 0x17, 0x70, 0x00, 0x0A, 0x00, 0x00, UInt8(word >> 8), UInt8(word & 0xFF)]
            let checksum = UDPHeader.checksum(source: Vectors.source4.address, destination: Vectors.destination4.address, datagram: datagram)
            #expect(checksum != 0)
            if checksum == 0xFFFF { sawAllOnes = true }
        }
        #expect(sawAllOnes)
    }

    @Test func omittedIPv4Checksum() throws {
        let packet = try PacketBuilder.udpPacket(from: Vectors.source4, to: Vectors.destination4, payload: Vectors.payload,
                                                 options: UDPPacketOptions(omitUDPChecksum: true))
        #expect(packet[26] == 0 && packet[27] == 0)
    }

    static let linkTypes: [LinkType] = [.ethernet, .linuxSLL, .linuxSLL2, .raw, .null, .loop]

    /// A few datagrams of each family at sub-microsecond times.
    static func sampleTraffic(ipv4: Bool = true, ipv6: Bool = true) -> [DatagramSummary] {
        var traffic: [DatagramSummary] = []
        var time = CaptureTimestamp(seconds: 1_700_000_000, nanoseconds: 999_999_999)
        for index in 0..<6 {
            let isV6 = index % 2 == 1
            guard isV6 ? ipv6 : ipv4 else { continue }
            let payload = (0..<(12 + 37 * index)).map { UInt8(truncatingIfNeeded: $0 * 7 + index) }
            traffic.append(DatagramSummary(timestamp: time, source: isV6 ? Vectors.source6 : Vectors.source4,
                                           destination: isV6 ? Vectors.destination6 : Vectors.destination4, payload: payload))
            time = time.advanced(by: .nanoseconds(20_000_123))
        }
        return traffic
    }

    static func microseconds(_ summary: DatagramSummary) -> DatagramSummary {
        var copy = summary
        copy.timestamp = summary.timestamp.map { CaptureTimestamp(seconds: $0.seconds, nanoseconds: $0.nanoseconds / 1000 * 1000) }
        return copy
    }

    @Test(arguments: linkTypes)
    func classicRoundTrip(linkType: LinkType) throws {
        let traffic = Self.sampleTraffic()
        for precision in [PcapTimestampPrecision.microseconds, .nanoseconds] {
            for order in [ByteOrder.little, .big] {
                var writer = PcapWriter(linkType: linkType, precision: precision, byteOrder: order)
                for d in traffic {
                    try writer.writeUDP(from: d.source, to: d.destination, payload: d.payload, at: d.timestamp!)
                }
                #expect(writer.packetCount == traffic.count)
                let (datagrams, tally) = try UDPDatagramReader.readAll(writer.bytes)
                let expected = precision == .microseconds ? traffic.map(Self.microseconds) : traffic
                #expect(datagrams.map(DatagramSummary.init) == expected, "\(linkType) \(precision) \(order)")
                #expect(tally.packets == traffic.count && tally.udpDatagrams == traffic.count)
                #expect(datagrams.map(\.packetNumber) == Array(1...traffic.count))
            }
        }
    }

    @Test func rawIPv4AndIPv6LinkTypes() throws {
        var v4 = PcapWriter(linkType: .ipv4)
        var v6 = PcapWriter(linkType: .ipv6)
        for d in Self.sampleTraffic(ipv6: false) { try v4.writeUDP(from: d.source, to: d.destination, payload: d.payload, at: d.timestamp!) }
        for d in Self.sampleTraffic(ipv4: false) { try v6.writeUDP(from: d.source, to: d.destination, payload: d.payload, at: d.timestamp!) }
        #expect(try UDPDatagramReader.readAll(v4.bytes).datagrams.map(DatagramSummary.init) == Self.sampleTraffic(ipv6: false).map(Self.microseconds))
        #expect(try UDPDatagramReader.readAll(v6.bytes).datagrams.map(DatagramSummary.init) == Self.sampleTraffic(ipv4: false).map(Self.microseconds))
        #expect(throws: PcapWriterError.linkTypeCannotCarry(.ipv4, ipVersion: 6)) {
            try v4.writeUDP(from: Vectors.source6, to: Vectors.destination6, payload: [], at: CaptureTimestamp(seconds: 0))
        }
    }

    @Test func pcapngRoundTripWithSeveralInterfaces() throws {
        let interfaces = [
            CaptureInterface(linkType: .ethernet, snapLength: 0, resolution: .nanoseconds, name: "eth0"),
            CaptureInterface(linkType: .linuxSLL2, snapLength: 65_535, resolution: .microseconds, offsetSeconds: 1_000),
            CaptureInterface(linkType: .raw, snapLength: 0, resolution: .powerOfTwo(32)),
        ]
        let traffic = Self.sampleTraffic()
        for order in [ByteOrder.little, .big] {
            var writer = PcapNGWriter(interfaces: interfaces, byteOrder: order)
            for (index, d) in traffic.enumerated() {
                try writer.writeUDP(from: d.source, to: d.destination, payload: d.payload, interface: index % 3, at: d.timestamp!)
            }
            var reader = UDPDatagramReader(bytes: writer.bytes)
            var datagrams: [UDPDatagram] = []
            while let datagram = try reader.next() { datagrams.append(datagram) }
            #expect(reader.captureReader.interfaces == interfaces)
            #expect(datagrams.map(\.interfaceIndex) == traffic.indices.map { $0 % 3 })
            let expected = traffic.enumerated().map { $0.offset % 3 == 1 ? Self.microseconds($0.element) : $0.element }
            #expect(datagrams.map(DatagramSummary.init) == expected, "\(order)")
        }
    }

    @Test func snapLengthCutsLikeACapturingTool() throws {
        var writer = PcapWriter(linkType: .ethernet, snapLength: 40)
        try writer.writeUDP(from: Vectors.source4, to: Vectors.destination4, payload: Array(repeating: 0xAB, count: 100),
                            at: CaptureTimestamp(seconds: 1))
        let packet = try #require(try readPackets(writer.bytes).first)
        #expect(packet.data.count == 40)
        #expect(packet.originalLength == 14 + 20 + 8 + 100)
        #expect(PacketDecoder.decode(packet) == .setAside(.truncated))

        var ng = PcapNGWriter(interfaces: [CaptureInterface(linkType: .raw, snapLength: 30)])
        try ng.writeUDP(from: Vectors.source6, to: Vectors.destination6, payload: Vectors.payload, at: CaptureTimestamp(seconds: 1))
        #expect(try UDPDatagramReader.readAll(ng.bytes).tally.truncated == 1)
    }

    @Test func writerErrors() throws {
        var writer = PcapWriter()
        #expect(throws: PcapWriterError.addressFamilyMismatch) {
            try writer.writeUDP(from: Vectors.source4, to: Vectors.destination6, payload: [], at: CaptureTimestamp(seconds: 0))
        }
        #expect(throws: PcapWriterError.payloadTooLarge(65_508)) {
            try writer.writeUDP(from: Vectors.source4, to: Vectors.destination4, payload: Array(repeating: 0, count: 65_508),
                                at: CaptureTimestamp(seconds: 0))
        }
        #expect(throws: PcapWriterError.payloadTooLarge(65_528)) {
            try writer.writeUDP(from: Vectors.source6, to: Vectors.destination6, payload: Array(repeating: 0, count: 65_528),
                                at: CaptureTimestamp(seconds: 0))
        }
        #expect(throws: PcapWriterError.timestampOutOfRange(CaptureTimestamp(seconds: -1))) {
            try writer.write(frame: [0], at: CaptureTimestamp(seconds: -1))
        }
        #expect(throws: PcapWriterError.timestampOutOfRange(CaptureTimestamp(seconds: 1 << 32))) {
            try writer.write(frame: [0], at: CaptureTimestamp(seconds: 1 << 32))
        }
        var wifi = PcapWriter(linkType: LinkType(rawValue: 105))
        #expect(throws: PcapWriterError.unsupportedLinkType(LinkType(rawValue: 105))) {
            try wifi.writeUDP(from: Vectors.source4, to: Vectors.destination4, payload: [], at: CaptureTimestamp(seconds: 0))
        }
        var ng = PcapNGWriter(interfaces: [CaptureInterface(linkType: .raw, snapLength: 0, offsetSeconds: 100)])
        #expect(throws: PcapWriterError.unknownInterface(1)) {
            try ng.write(frame: [0], interface: 1, at: CaptureTimestamp(seconds: 200))
        }
        #expect(throws: PcapWriterError.timestampOutOfRange(CaptureTimestamp(seconds: 99))) {
            try ng.write(frame: [0], at: CaptureTimestamp(seconds: 99))
        }
        #expect(writer.packetCount == 0 && ng.packetCount == 0)
    }

    @Test func largestPayloadsFit() throws {
        let v4 = try PacketBuilder.udpPacket(from: Vectors.source4, to: Vectors.destination4, payload: Array(repeating: 1, count: 65_507))
        #expect(v4.count == 65_535)
        let v6 = try PacketBuilder.udpPacket(from: Vectors.source6, to: Vectors.destination6, payload: Array(repeating: 1, count: 65_527))
        #expect(v6.count == 40 + 65_535)
    }

    @Test func takeBytesStreamsAWriterOut() throws {
        var writer = PcapWriter(linkType: .raw)
        var file = writer.takeBytes()
        #expect(file.count == 24)
        for second in 1...3 {
            try writer.writeUDP(from: Vectors.source4, to: Vectors.destination4, payload: Vectors.payload,
                                at: CaptureTimestamp(seconds: Int64(second)))
            file += writer.takeBytes()
        }
        #expect(writer.bytes.isEmpty)
        #expect(try UDPDatagramReader.readAll(file).datagrams.map(\.timestamp?.seconds) == [1, 2, 3])
    }

    @Test func timestampArithmetic() {
        let t = CaptureTimestamp(seconds: 10, nanoseconds: 900_000_000)
        #expect(t.advanced(by: .milliseconds(200)) == CaptureTimestamp(seconds: 11, nanoseconds: 100_000_000))
        #expect(t.advanced(by: .milliseconds(-950)) == CaptureTimestamp(seconds: 9, nanoseconds: 950_000_000))
        #expect(CaptureTimestamp(seconds: 11, nanoseconds: 100_000_000).duration(since: t) == .milliseconds(200))
        #expect(t.duration(since: CaptureTimestamp(seconds: 11)) == .milliseconds(-100))
        #expect(CaptureTimestamp(seconds: 1, nanoseconds: 2_500_000_000) == CaptureTimestamp(seconds: 3, nanoseconds: 500_000_000))
        #expect(CaptureTimestamp(seconds: 1, nanoseconds: 5).description == "1.000000005")
        #expect(CaptureTimestamp(seconds: 1) < CaptureTimestamp(seconds: 1, nanoseconds: 1))
    }
}
