import InteropTestSupport
import Foundation
import Pcap
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Independent cross-checks with Wireshark's tools: files converted by editcap read the same;
/// tshark decodes every file to the same datagrams as `UDPDatagramReader`; live loopback
/// captures by tshark (pcapng, pcap, `-i any` as Linux cooked v1 and v2) hold exactly the
/// datagrams this test sent.
@Suite(.tags(.interop), .enabled(if: Tools.available, Tools.skipReason))
struct InteropTests {
    /// Mixed IPv4/IPv6 traffic: empty, odd-sized and large payloads, sub-microsecond times.
    static let traffic: [DatagramSummary] = {
        var traffic: [DatagramSummary] = []
        var time = CaptureTimestamp(seconds: 1_700_000_000, nanoseconds: 123_456_789)
        for (index, size) in [0, 1, 12, 160, 161, 1_200, 33, 8_000].enumerated() {
            let isV6 = index % 3 == 1
            let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }
            traffic.append(DatagramSummary(timestamp: time, source: isV6 ? Vectors.source6 : Vectors.source4,
                                           destination: isV6 ? Vectors.destination6 : Vectors.destination4, payload: payload))
            time = time.advanced(by: .nanoseconds(20_000_777))
        }
        return traffic
    }()

    static func truncatedToMicroseconds(_ traffic: [DatagramSummary]) -> [DatagramSummary] {
        traffic.map { summary in
            var copy = summary
            copy.timestamp = summary.timestamp.map { CaptureTimestamp(seconds: $0.seconds, nanoseconds: $0.nanoseconds / 1_000 * 1_000) }
            return copy
        }
    }

    static func summaries(_ path: String) throws -> [DatagramSummary] {
        let (datagrams, tally) = try UDPDatagramReader.readAll(readFile(path))
        #expect(tally.packets == datagrams.count, "\(path): \(tally)")
        return datagrams.map(DatagramSummary.init)
    }

    static func linkTypes(_ path: String) throws -> Set<LinkType> {
        Set(try readPackets(readFile(path)).map(\.linkType))
    }

    // MARK: (a) editcap conversions

    @Test func editcapConversionsOfAMicrosecondEthernetCapture() throws {
        let dir = try ScratchDirectory(prefix: "pcap")
        var writer = PcapWriter(linkType: .ethernet, precision: .microseconds)
        for d in Self.traffic { try writer.writeUDP(from: d.source, to: d.destination, payload: d.payload, at: d.timestamp!) }
        let original = try dir.write(writer.bytes, to: "original.pcap")
        try Tools.run(Tools.editcap, ["-F", "pcapng", original, dir.path("converted.pcapng")])
        try Tools.run(Tools.editcap, ["-F", "nsecpcap", original, dir.path("converted-ns.pcap")])
        try Tools.run(Tools.editcap, ["-F", "pcap", dir.path("converted.pcapng"), dir.path("back.pcap")])

        let expected = Self.truncatedToMicroseconds(Self.traffic)
        for name in ["original.pcap", "converted.pcapng", "converted-ns.pcap", "back.pcap"] {
            #expect(try Self.summaries(dir.path(name)) == expected, "\(name)")
            #expect(try Self.linkTypes(dir.path(name)) == [.ethernet], "\(name)")
        }
        #expect(CaptureReader(bytes: try readFile(dir.path("converted.pcapng"))).formatAfterFirstPacket == .pcapng)
        #expect(try PcapFileHeader(parsing: readFile(dir.path("converted-ns.pcap"))[...]).precision == .nanoseconds)
    }

    @Test func editcapConversionsOfABigEndianNanosecondCookedCapture() throws {
        let dir = try ScratchDirectory(prefix: "pcap")
        var writer = PcapWriter(linkType: .linuxSLL, precision: .nanoseconds, byteOrder: .big)
        for d in Self.traffic { try writer.writeUDP(from: d.source, to: d.destination, payload: d.payload, at: d.timestamp!) }
        let original = try dir.write(writer.bytes, to: "original.pcap")
        try Tools.run(Tools.editcap, ["-F", "pcapng", original, dir.path("converted.pcapng")])
        try Tools.run(Tools.editcap, ["-F", "pcap", original, dir.path("converted-us.pcap")])

        #expect(try Self.summaries(original) == Self.traffic)
        // pcapng keeps nanoseconds (if_tsresol 9); classic microsecond pcap truncates them.
        #expect(try Self.summaries(dir.path("converted.pcapng")) == Self.traffic)
        #expect(try Self.summaries(dir.path("converted-us.pcap")) == Self.truncatedToMicroseconds(Self.traffic))
        #expect(try PcapFileHeader(parsing: readFile(dir.path("converted-us.pcap"))[...]).byteOrder == .little)
    }

    @Test func editcapRelabelsRawIPAsIPv4AndIPv6LinkTypes() throws {
        let dir = try ScratchDirectory(prefix: "pcap")
        for (ipv6, encapsulation, linkType) in [(false, "rawip4", LinkType.ipv4), (true, "rawip6", LinkType.ipv6)] {
            let traffic = Self.traffic.filter { $0.source.address.isIPv6 == ipv6 }
            var writer = PcapWriter(linkType: .raw, precision: .nanoseconds)
            for d in traffic { try writer.writeUDP(from: d.source, to: d.destination, payload: d.payload, at: d.timestamp!) }
            let original = try dir.write(writer.bytes, to: "\(encapsulation)-original.pcap")
            let relabelled = dir.path("\(encapsulation).pcap")
            try Tools.run(Tools.editcap, ["-F", "nsecpcap", "-T", encapsulation, original, relabelled])
            #expect(try PcapFileHeader(parsing: readFile(relabelled)[...]).linkType == linkType)
            #expect(try Self.linkTypes(relabelled) == [linkType])
            #expect(try Self.summaries(relabelled) == traffic)
            try Tools.run(Tools.editcap, ["-F", "pcapng", relabelled, dir.path("\(encapsulation).pcapng")])
            #expect(try Self.summaries(dir.path("\(encapsulation).pcapng")) == traffic)
        }
    }

    @Test func editcapConvertsOurPcapngWithSeveralResolutions() throws {
        let dir = try ScratchDirectory(prefix: "pcap")
        let interfaces = [
            CaptureInterface(linkType: .ethernet, snapLength: 0, resolution: .nanoseconds, name: "first"),
            CaptureInterface(linkType: .ethernet, snapLength: 0, resolution: .powerOfTwo(30), offsetSeconds: 1_000_000),
        ]
        for order in [ByteOrder.little, .big] {
            var writer = PcapNGWriter(interfaces: interfaces, byteOrder: order)
            for (index, d) in Self.traffic.enumerated() {
                try writer.writeUDP(from: d.source, to: d.destination, payload: d.payload, interface: index % 2, at: d.timestamp!)
            }
            let ours = try dir.write(writer.bytes, to: "ours-\(order == .big ? "be" : "le").pcapng")
            let converted = dir.path("converted-\(order == .big ? "be" : "le").pcap")
            try Tools.run(Tools.editcap, ["-F", "nsecpcap", ours, converted])
            #expect(try Self.summaries(ours) == Self.traffic)
            #expect(try Self.summaries(converted) == Self.traffic)
            #expect(try FieldsLine.fromReader(ours) == FieldsLine.fromTshark(ours))
        }
    }

    // MARK: (b) tshark reads what we read

    @Test func tsharkDecodesTheSameDatagramsAndAcceptsOurChecksums() throws {
        let dir = try ScratchDirectory(prefix: "pcap")
        for (linkType, precision) in [(LinkType.ethernet, PcapTimestampPrecision.microseconds), (.linuxSLL2, .nanoseconds),
                                      (.null, .nanoseconds), (.raw, .microseconds)] {
            var writer = PcapWriter(linkType: linkType, precision: precision)
            for d in Self.traffic {
                try writer.writeUDP(from: d.source, to: d.destination, payload: d.payload, at: d.timestamp!,
                                    options: UDPPacketOptions(trafficClass: 46 << 2, identification: 0xBEEF))
            }
            let path = try dir.write(writer.bytes, to: "\(linkType).pcap")
            let theirs = try FieldsLine.fromTshark(path)
            #expect(theirs.count == Self.traffic.count)
            #expect(try FieldsLine.fromReader(path) == theirs, "\(linkType)")

            // 1 = "Good" for both checksums; IPv6 has no header checksum.
            let statuses = try FieldsLine.tshark(path, extraFields: ["ip.checksum.status", "udp.checksum.status", "ip.dsfield.dscp", "ipv6.tclass.dscp"],
                                                 options: ["-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"])
            for (line, d) in zip(statuses, Self.traffic) {
                let fields = line.split(separator: "\t", omittingEmptySubsequences: false).suffix(4).map(String.init)
                #expect(fields == (d.source.address.isIPv6 ? ["", "1", "", "46"] : ["1", "1", "46", ""]), "\(linkType): \(line)")
            }
        }
    }

    @Test func tsharkAgreesWithTheHandBuiltVectors() throws {
        let dir = try ScratchDirectory(prefix: "pcap")
        for (name, bytes) in [("vectors.pcapng", Vectors.pcapngLittle + Vectors.pcapngBigSection),
                              ("little-micro.pcap", Vectors.classicLittleMicro), ("big-nano.pcap", Vectors.classicBigNano)] {
            let path = try dir.write(bytes, to: name)
            var ours = try FieldsLine.fromReader(path)
            let theirs = try FieldsLine.fromTshark(path)
            // A Simple Packet Block has no timestamp; tshark shows one of its own making.
            for index in ours.indices where ours[index].time == "-" && index < theirs.count { ours[index].time = theirs[index].time }
            // Wireshark numbers an unknown block as a frame of its own; compare all but the numbers.
            for index in ours.indices where index < theirs.count { ours[index].number = theirs[index].number }
            #expect(ours == theirs, "\(name)")
            #expect(!ours.isEmpty)
        }
    }

    // MARK: (c) live loopback captures

    struct LiveCapture: Sendable, CustomTestStringConvertible {
        var interface: String
        var arguments: [String]
        var format: CaptureFormat
        var linkType: LinkType
        var testDescription: String { "-i \(interface) \(arguments.joined(separator: " "))" }
    }

    @Test(arguments: [
        LiveCapture(interface: "lo", arguments: [], format: .pcapng, linkType: .ethernet),
        LiveCapture(interface: "lo", arguments: ["-F", "pcap"], format: .pcap, linkType: .ethernet),
        LiveCapture(interface: "any", arguments: ["-y", "LINUX_SLL"], format: .pcapng, linkType: .linuxSLL),
        LiveCapture(interface: "any", arguments: ["-y", "LINUX_SLL2", "-F", "pcap"], format: .pcap, linkType: .linuxSLL2),
    ])
    func liveLoopbackCapture(_ capture: LiveCapture) throws {
        let dir = try ScratchDirectory(prefix: "pcap")
        let run = try Self.captureLive(capture, into: dir.path("live"))
        let bytes = try readFile(run.path)
        var reader = UDPDatagramReader(bytes: bytes)
        var datagrams: [UDPDatagram] = []
        while let datagram = try reader.next() { datagrams.append(datagram) }
        #expect(reader.captureReader.format == capture.format)
        #expect(try Set(readPackets(bytes).map(\.linkType)) == [capture.linkType])
        #expect(reader.tally.packets == reader.tally.udpDatagrams, "\(reader.tally)")

        // Exactly what was sent, in order (a duplicate seen on two interfaces would sit next to its twin).
        var received = datagrams.filter { run.senderPorts.contains($0.source.port) }.map {
            DatagramSummary(timestamp: nil, source: $0.source, destination: $0.destination, payload: Array($0.payload))
        }
        received = received.enumerated().filter { $0.offset == 0 || received[$0.offset - 1] != $0.element }.map(\.element)
        #expect(received == run.sent)
        let times = datagrams.compactMap(\.timestamp)
        #expect(times.count == datagrams.count)
        #expect(times == times.sorted())
        #expect(try FieldsLine.fromReader(run.path) == FieldsLine.fromTshark(run.path))
    }

    struct LiveRun {
        var path: String
        var sent: [DatagramSummary]
        var senderPorts: Set<UInt16>
    }

    /// Starts tshark on a loopback capture filtered to a port of our own, sends probes until
    /// tshark reports one (so the capture is live), sends known datagrams over IPv4 and IPv6,
    /// waits until tshark has seen them all, and stops it with SIGINT so it closes the file.
    static func captureLive(_ capture: LiveCapture, into base: String) throws -> LiveRun {
        guard let receiver = LoopbackSocket(ipv6: false), let probe = LoopbackSocket(ipv6: false),
              let sender4 = LoopbackSocket(ipv6: false) else { throw Tools.Failure(description: "no IPv4 loopback socket") }
        let port = receiver.endpoint.port
        // IPv6 only where the loopback has ::1 (a container may lack it).
        let receiver6 = LoopbackSocket(ipv6: true, port: port)
        let sender6 = receiver6 == nil ? nil : LoopbackSocket(ipv6: true)
        let path = base + (capture.format == .pcap ? ".pcap" : ".pcapng")

        // -a duration: tshark stops by itself should this test die before stopping it.
        let tshark = try SpawnedProcess(
            Tools.tshark!,
            ["-i", capture.interface, "-f", "udp port \(port)", "-w", path, "-a", "duration:120", "-P", "-l", "-n",
             "-T", "fields", "-e", "udp.srcport"] + capture.arguments,
            outputPath: base + ".out", errorPath: base + ".err")
        func seen(_ ports: Set<UInt16>) -> Int {
            tshark.output.split(separator: "\n").filter { UInt16($0).map(ports.contains) ?? false }.count
        }

        let live = waitUntil(seconds: 30, interval: 0.1) {
            _ = probe.send(Array("probe".utf8), to: port)
            return seen([probe.endpoint.port]) > 0
        }
        guard live else { throw Tools.Failure(description: "tshark never captured a probe: \(tshark.errors)") }

        var sent: [DatagramSummary] = []
        for index in 0..<8 {
            let socket = (index % 2 == 1 ? sender6 : nil) ?? sender4
            let payload = Array("earshot live capture \(index) ".utf8) + (0..<(index * 37)).map { UInt8(truncatingIfNeeded: $0) }
            guard socket.send(payload, to: port) else { throw Tools.Failure(description: "sendto failed: \(errno)") }
            let destination = IPEndpoint(socket.endpoint.address, port)
            sent.append(DatagramSummary(timestamp: nil, source: socket.endpoint, destination: destination, payload: payload))
        }
        let senderPorts = Set([sender4.endpoint.port] + (sender6.map { [$0.endpoint.port] } ?? []))
        let complete = waitUntil(seconds: 30, interval: 0.05) { seen(senderPorts) >= sent.count }
        tshark.signal(SIGINT)
        let stopped = waitUntil(seconds: 30, interval: 0.05) { tshark.hasExited }
        guard complete, stopped else {
            throw Tools.Failure(description: "tshark saw \(seen(senderPorts)) of \(sent.count) datagrams (stopped: \(stopped)): \(tshark.errors)")
        }
        return LiveRun(path: path, sent: sent, senderPorts: senderPorts)
    }
}

extension CaptureReader {
    /// The format, once the first packet has been read.
    var formatAfterFirstPacket: CaptureFormat? {
        var copy = self
        _ = try? copy.next()
        return copy.format
    }
}
