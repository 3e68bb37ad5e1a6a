import Pcap
import RTPAnalysis
import RTPCore
import Testing

/// Which datagrams become streams, RTCP or "other", and how streams are keyed.
@Suite struct ClassificationTests {
    static let dnsClient = IPEndpoint(.v4(IPv4Address(192, 0, 2, 53)), 33333)
    static let dnsServer = IPEndpoint(.v4(IPv4Address(198, 51, 100, 53)), 53)

    /// DNS queries (RFC 1035 §4.1.1) with IDs 0x8000–0xBFFF, so that most of them pass the
    /// RTP header checks (version 2): the flags 0x0100 sit where the sequence number would
    /// be, so their "sequence number" never moves.
    static func dnsQuery(id: UInt16, name: String) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in name.split(separator: ".") {
            bytes.append(UInt8(label.utf8.count))
            bytes += Array(label.utf8)
        }
        bytes += [0, 0, 1, 0, 1]
        return bytes
    }

    /// DNS-like queries and random datagrams (half of them forced to look like RTP version 2)
    /// around one real stream.
    static func noisyCapture() throws -> (bytes: [UInt8], rtpShapedNoise: Int) {
        var capture = SyntheticCapture()
        capture.add(Scenarios.perfect)
        var random = SeededGenerator(seed: 42)
        var rtpShaped = 0
        for index in 0..<200 {
            let query = dnsQuery(id: UInt16(0x8000 | (index * 97 % 0x4000)), name: "host\(index).example.org")
            if isRTPShaped(query) { rtpShaped += 1 }
            capture.add(query, from: dnsClient, to: dnsServer, atMicroseconds: Int64(index) * 23_000 + 7)
        }
        let noiseSource = IPEndpoint(.v4(IPv4Address(203, 0, 113, 7)), 40000)
        let noiseDestination = IPEndpoint(.v4(IPv4Address(203, 0, 113, 8)), 50000)
        for index in 0..<500 {
            var bytes = (0..<(12 + Int(random.next() % 200))).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if index % 2 == 0 { bytes[0] = 0x80 }  // V=2, no padding, extension or CSRCs
            if isRTPShaped(bytes) { rtpShaped += 1 }
            capture.add(bytes, from: noiseSource, to: noiseDestination, atMicroseconds: Int64(index) * 9_000 + 3)
        }
        return (try capture.pcap(), rtpShaped)
    }

    /// What the analysis would take for an RTP packet if its flow qualified.
    static func isRTPShaped(_ bytes: [UInt8]) -> Bool {
        !RTCPHeader.isRTCP(bytes) && (try? RTPPacketView(parsing: bytes)) != nil
    }

    @Test func noiseDoesNotBecomeStreams() throws {
        let (bytes, rtpShaped) = try Self.noisyCapture()
        let report = try analyze(bytes)
        #expect(report.streams.map(\.key.ssrc) == [0x1122_3344])
        #expect(report.streams.first?.packets == 250)
        // RTCP-shaped noise (second octet 192–223) that does not decode is not RTCP here:
        // nothing on those ports ever carried RTCP.
        #expect(report.tally.rtcpPackets == 0)
        #expect(report.tally.rtcpMalformed == 0)
        #expect(report.tally.nonRTP == 700)
        #expect(report.tally.rtpLikeUnconfirmed == rtpShaped)
        #expect(rtpShaped > 250)
        #expect(report.tally.capture.udpDatagrams == 950)
    }

    @Test func manyOneOffFlowsAreEvictedNotKept() throws {
        // 10 000 RTP-shaped datagrams with distinct SSRCs: candidates, never streams.
        var capture = SyntheticCapture()
        for index in 0..<10_000 {
            let packet = RTPPacket(payloadType: 0, sequenceNumber: UInt16(index), timestamp: 0, ssrc: UInt32(index), payload: [1, 2, 3]).encoded()
            capture.add(packet, from: Hosts.a, to: Hosts.b, atMicroseconds: Int64(index) * 100)
        }
        capture.add(Scenarios.perfect)
        let report = try analyze(capture.pcap())
        #expect(report.streams.count == 1)
        #expect(report.tally.rtpLikeUnconfirmed == 10_000)
    }

    @Test func ipv6Stream() throws {
        var stream = Scenarios.jitter
        stream.source = Hosts.a6
        stream.destination = Hosts.b6
        let report = try analyze(Scenarios.capture(stream).pcapng())
        let only = try #require(report.streams.first)
        #expect(report.streams.count == 1)
        #expect(only.key.source.description == "[2001:db8::10]:40002")
        #expect(only.key.destination.description == "[2001:db8:1::20]:50002")
        #expect(isClose(only.jitterMeanMs, 1.6372083265472277))
        #expect(only.statistics.packetsReceived == 500)
    }

    // MARK: payload types

    static let dynamic: SyntheticStream = {
        var stream = Scenarios.jitter
        stream.payloadType = 96
        return stream
    }()

    @Test func dynamicPayloadTypeWithoutAClockHasNoJitter() throws {
        let stream = try #require(try analyze(Scenarios.capture(Self.dynamic).pcap()).streams.first)
        #expect(stream.payloadType == 96)
        #expect(stream.clockRate == nil)
        #expect(stream.jitterMeanMs == nil)
        #expect(stream.jitterMaxMs == nil)
        #expect(stream.jitterBuffer == nil)
        #expect(stream.codec == nil)
        #expect(stream.mosLQ == nil)
        #expect(stream.ptimeMs == nil)
        // Loss and timing of arrivals need no clock.
        #expect(stream.statistics.packetsReceived == 500)
        #expect(stream.statistics.maxDeltaMs == 21)
        #expect(stream.notes.contains("jitter not computed: payload type 96 is dynamic and its clock rate is unknown (give --clock 96=RATE)"))
        #expect(stream.notes.contains { $0.hasPrefix("no MOS: payload type 96 is not a codec the E-model scores") })
    }

    @Test func dynamicPayloadTypeWithAClock() throws {
        let map = try PayloadTypeMap(parsing: ["96=8000"])
        let stream = try #require(try analyze(Scenarios.capture(Self.dynamic).pcap(), .init(payloadTypes: map)).streams.first)
        #expect(stream.clockRate == 8000)
        #expect(isClose(stream.jitterMeanMs, 1.6372083265472277))
        #expect(isClose(stream.jitterMaxMs, 1.8315464910331527))
        #expect(stream.ptimeMs == 20)
        #expect(stream.codec == nil)

        let named = try PayloadTypeMap(parsing: ["96=PCMU/8000"])
        let scored = try #require(try analyze(Scenarios.capture(Self.dynamic).pcap(), .init(payloadTypes: named)).streams.first)
        #expect(scored.codec == "PCMU")
        #expect(scored.encodingName == "PCMU")
        #expect(isClose(scored.mosLQ, 4.409405954387269, 1e-6))
    }

    /// Audio with an RFC 4733 digit in the same sequence-number space: audio 3000–3049, the
    /// digit 3050–3055 (marker on the first; the end packet sent three times with one sequence
    /// number, as sipp does), audio again 3056–3097; one packet per 20 ms slot, audio
    /// timestamps following the media clock.
    static func audioWithDigit() throws -> [UInt8] {
        var capture = SyntheticCapture()
        for index in 0..<100 where !(50..<58).contains(index) {
            let sequence = UInt16(3000 + (index < 50 ? index : index - 2))
            let packet = RTPPacket(payloadType: 0, sequenceNumber: sequence, timestamp: UInt32(160 * index),
                                   ssrc: 0x5151_5151, payload: [UInt8](repeating: 0xFF, count: 160)).encoded()
            capture.add(packet, from: Hosts.a, to: Hosts.b, atMicroseconds: Int64(index) * 20_000)
        }
        let sender = TelephoneEventSender(packetInterval: 160, endPacketCount: 3, endSequencing: .repeatSequenceNumber)
        let digit = try sender.packets(event: 5, duration: 960, startTimestamp: 160 * 50, startSequence: 3050)
        for (offset, packet) in digit.enumerated() {
            var payload: [UInt8] = []
            packet.report.encode(into: &payload)
            let bytes = RTPPacket(payloadType: 101, sequenceNumber: packet.sequenceNumber, timestamp: packet.timestamp,
                                  ssrc: 0x5151_5151, marker: packet.marker, payload: payload).encoded()
            capture.add(bytes, from: Hosts.a, to: Hosts.b, atMicroseconds: Int64(50 + offset) * 20_000)
        }
        return try capture.pcap()
    }

    @Test func telephoneEventsShareTheSequenceSpaceButNotTheJitter() throws {
        let report = try analyze(try Self.audioWithDigit())
        let stream = try #require(report.streams.first)
        #expect(report.streams.count == 1)
        // 5 updates + 3 copies of the end packet (the copies repeat 3055).
        #expect(stream.telephoneEventPackets == 8)
        #expect(stream.eventEndRepeats == 2)
        #expect(stream.packets == 100)
        #expect(stream.statistics.packetsExpected == 98)
        #expect(stream.statistics.packetsLost == 0)
        #expect(stream.statistics.duplicates == 0)
        #expect(stream.payloadType == 0)
        #expect(stream.payloadTypeChanges == 2)
        #expect(stream.payloadTypes.map(\.payloadType) == [0, 101])
        #expect(stream.payloadTypes.map(\.isTelephoneEvent) == [false, true])
        #expect(stream.payloadTypes.map(\.encodingName) == ["PCMU", "telephone-event"])
        // Audio timing is perfect: the event packets' frozen timestamps do not count as jitter.
        #expect(stream.jitterMaxMs == 0)
        #expect(report.tally.telephoneEventPackets == 8)
    }

    @Test func eventPayloadTypeGivenByTheUser() throws {
        // Declared as events, PT 101 is events whatever its first packet looks like.
        let map = try PayloadTypeMap(parsing: ["101=telephone-event"])
        let stream = try #require(try analyze(try Self.audioWithDigit(), .init(payloadTypes: map)).streams.first)
        #expect(stream.telephoneEventPackets == 8)
        #expect(stream.jitterMaxMs == 0)
    }

    // MARK: RTCP

    @Test func rtcpIsCountedAndBrokenRTCPWhereRTCPFlowsIsMalformed() throws {
        var capture = SyntheticCapture()
        capture.add(Scenarios.perfect)
        let rr = RTCPCompoundPacket(packets: [.receiverReport(RTCPReceiverReport(ssrc: 7, reports: [RTCPReportBlock(ssrc: 0x1122_3344)]))]).encoded()
        capture.add(rr, from: Hosts.rtcp(Hosts.b), to: Hosts.rtcp(Hosts.a), atMicroseconds: 1_000_000)
        // An RR whose length field says one word more than the datagram has.
        var broken = rr
        broken[3] += 1
        capture.add(broken, from: Hosts.rtcp(Hosts.b), to: Hosts.rtcp(Hosts.a), atMicroseconds: 2_000_000)
        // The same bytes between two hosts that never carry RTCP or RTP.
        let elsewhere = IPEndpoint(.v4(IPv4Address(203, 0, 113, 9)), 7000)
        capture.add(broken, from: elsewhere, to: IPEndpoint(.v4(IPv4Address(203, 0, 113, 10)), 7000), atMicroseconds: 3_000_000)
        let report = try analyze(capture.pcap())
        #expect(report.tally.rtcpPackets == 1)
        #expect(report.tally.rtcpMalformed == 1)
        #expect(report.tally.nonRTP == 1)
        #expect(report.tally.rtpPackets == 250)
        // LSR 0: "no SR received yet", so no round trip.
        #expect(report.streams.first?.roundTrip == nil)
    }

    @Test func portFilter() throws {
        var capture = SyntheticCapture()
        capture.add(Scenarios.perfect)
        var other = Scenarios.jitter
        other.source = IPEndpoint(.v4(IPv4Address(192, 0, 2, 10)), 16000)
        other.destination = IPEndpoint(.v4(IPv4Address(198, 51, 100, 20)), 16002)
        other.ssrc = 0x7777_7777
        capture.add(other)
        let rr = RTCPCompoundPacket(packets: [.receiverReport(RTCPReceiverReport(ssrc: 1))]).encoded()
        capture.add(rr, from: IPEndpoint(other.destination.address, 16003), to: IPEndpoint(other.source.address, 16001), atMicroseconds: 500_000)
        // RTP-shaped on N+1 (the RTCP port): not RTP.
        capture.add(SyntheticStream(count: 1, firstSequence: 1).packet(index: 0), from: IPEndpoint(other.source.address, 16001),
                    to: IPEndpoint(other.destination.address, 16003), atMicroseconds: 600_000)
        let bytes = try capture.pcap()

        let all = try analyze(bytes)
        #expect(all.streams.count == 2)
        let filtered = try analyze(bytes, .init(port: 16002))
        #expect(filtered.streams.map(\.key.ssrc) == [0x7777_7777])
        #expect(filtered.tally.portFiltered == 250)
        #expect(filtered.tally.rtcpPackets == 1)
        #expect(filtered.tally.nonRTP == 1)
        #expect(filtered.tally.rtpPackets == 500)
    }

    @Test func anSSRCFromTwoSourcesIsTwoStreams() throws {
        // The same stream seen before and after a relay: same SSRC, other addresses.
        var capture = SyntheticCapture()
        capture.add(Scenarios.perfect)
        var relayed = Scenarios.perfect
        relayed.source = IPEndpoint(.v4(IPv4Address(203, 0, 113, 1)), 30000)
        relayed.startMicroseconds = 5_000
        capture.add(relayed)
        let report = try analyze(capture.pcap())
        #expect(report.streams.count == 2)
        #expect(Set(report.streams.map(\.key.ssrc)) == [0x1122_3344])
        #expect(report.streams.map(\.packets) == [250, 250])
        #expect(report.streams[0].notes.contains {
            $0.hasPrefix("SSRC also seen on 203.0.113.1:30000 → 198.51.100.20:50000: measured as separate streams")
        })
        #expect(report.streams[1].notes.contains { $0.hasPrefix("SSRC also seen on 192.0.2.10:40000 → 198.51.100.20:50000") })
    }

    @Test func dscpOfTheStream() throws {
        var capture = SyntheticCapture()
        for index in 0..<10 {
            capture.add(Scenarios.perfect.packet(index: index), from: Hosts.a, to: Hosts.b, atMicroseconds: Int64(index) * 20_000,
                        trafficClass: index < 5 ? 46 << 2 : 0)
        }
        let stream = try #require(try analyze(capture.pcap()).streams.first)
        #expect(stream.dscpReceived == 46)
        #expect(stream.dscpValues == [0, 46])
        #expect(stream.notes.contains("DSCP varied: 0, 46"))
    }
}
