import Foundation
import Pcap
import RTPAnalysis
import RTPCore
import Testing

/// Seeded garbage: every datagram is classified, the tally adds up, the report encodes (no
/// NaN or infinity in the JSON), and nothing traps — whatever the bytes and timestamps.
@Suite struct HostileInputTests {
    static func bytes(_ count: Int, _ random: inout SeededGenerator) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    static func datagrams(seed: UInt64, count: Int) -> [UDPDatagram] {
        var random = SeededGenerator(seed: seed)
        let endpoints = [Hosts.a, Hosts.b, Hosts.rtcp(Hosts.a), Hosts.rtcp(Hosts.b), Hosts.a6, Hosts.b6]
        var seconds: Int64 = 1_700_000_000
        var nanoseconds: UInt32 = 0
        var sequence: UInt16 = 0
        var ntpSeen: [NTPTimestamp] = [NTPTimestamp(seconds: 1, fraction: 2)]
        var result: [UDPDatagram] = []
        for index in 0..<count {
            var payload: [UInt8]
            switch random.next() % 7 {
            case 0:
                payload = bytes(Int(random.next() % 200), &random)
            case 1:
                payload = RTPPacket(payloadType: UInt8(random.next() % 128), sequenceNumber: UInt16(truncatingIfNeeded: random.next()),
                                    timestamp: UInt32(truncatingIfNeeded: random.next()), ssrc: UInt32(random.next() % 4),
                                    marker: random.next() % 2 == 0, payload: bytes(Int(random.next() % 40), &random)).encoded()
            case 2:
                // A mostly sequential stream with jumps, restarts and payload type changes.
                sequence &+= random.next() % 10 == 0 ? UInt16(truncatingIfNeeded: random.next()) : 1
                let payloadType: UInt8 = [0, 8, 18, 96, 101, 13][Int(random.next() % 6)]
                payload = RTPPacket(payloadType: payloadType, sequenceNumber: sequence, timestamp: UInt32(sequence) &* 160,
                                    ssrc: 1, payload: payloadType == 101 ? bytes(4, &random) : bytes(160, &random)).encoded()
            case 3:
                let blocks = (0..<Int(random.next() % 3)).map { _ in
                    RTCPReportBlock(ssrc: UInt32(random.next() % 4), lastSenderReport: ntpSeen[Int(random.next() % UInt64(ntpSeen.count))].compact,
                                    delaySinceLastSenderReport: UInt32(truncatingIfNeeded: random.next()))
                }
                let ntp = NTPTimestamp(rawValue: random.next())
                ntpSeen.append(ntp)
                payload = RTCPCompoundPacket(packets: [
                    random.next() % 2 == 0
                        ? .senderReport(RTCPSenderReport(ssrc: UInt32(random.next() % 4), ntpTimestamp: ntp, rtpTimestamp: 0,
                                                         packetCount: 0, octetCount: 0, reports: blocks))
                        : .receiverReport(RTCPReceiverReport(ssrc: UInt32(random.next() % 4), reports: blocks)),
                ]).encoded()
            case 4:
                payload = [0x80 | UInt8(random.next() % 64), 192 + UInt8(random.next() % 32)] + bytes(Int(random.next() % 60), &random)
            case 5:
                payload = RTPPacket(payloadType: 101, sequenceNumber: sequence &+ 1, timestamp: 0, ssrc: 1,
                                    payload: bytes(4 * Int(1 + random.next() % 4), &random)).encoded()
            default:
                payload = []
            }
            // Time: mostly forward by up to 40 ms; sometimes backward, absurdly far, or absent.
            var timestamp: CaptureTimestamp? = CaptureTimestamp(seconds: seconds, nanoseconds: nanoseconds)
            switch random.next() % 50 {
            case 0: seconds = Int64(bitPattern: random.next()) / 2
            case 1: seconds &-= Int64(random.next() % 100)
            case 2: timestamp = nil
            case 3: seconds = random.next() % 2 == 0 ? .max - 1 : .min + 1
            default:
                nanoseconds += UInt32(random.next() % 40_000_000)
                if nanoseconds >= 1_000_000_000 { nanoseconds -= 1_000_000_000; seconds &+= 1 }
            }
            let v6 = random.next() % 8 == 0
            let source = v6 ? endpoints[4 + Int(random.next() % 2)] : endpoints[Int(random.next() % 4)]
            let destination = v6 ? endpoints[4 + Int(random.next() % 2)] : endpoints[Int(random.next() % 4)]
            result.append(UDPDatagram(packetNumber: index + 1, timestamp: timestamp, source: source, destination: destination,
                                      payload: payload[...], trafficClass: UInt8(truncatingIfNeeded: random.next())))
        }
        return result
    }

    @Test(arguments: [1, 2, 3] as [UInt64], [nil, 50000] as [UInt16?])
    func garbage(seed: UInt64, port: UInt16?) throws {
        let datagrams = Self.datagrams(seed: seed, count: 20_000)
        var analyzer = RTPAnalyzer(configuration: .init(port: port, detection: StreamDetectionRule(minimumPackets: 2)))
        for datagram in datagrams { analyzer.add(datagram) }
        var capture = CaptureTally()
        capture.packets = datagrams.count
        capture.udpDatagrams = datagrams.count
        let report = analyzer.report(captureTally: capture)
        #expect(report.tally.classifiedDatagrams == datagrams.count, "\(report.tally)")
        #expect(report.streams.reduce(0) { $0 + $1.packets } == report.tally.rtpPackets)
        #expect(!report.streams.isEmpty)
        for stream in report.streams {
            let s = stream.statistics
            #expect(s.packetsLost >= 0 && s.packetsLost <= s.packetsExpected, "\(stream.key) \(s)")
            #expect(s.packetsReceived + s.packetsLost == s.packetsExpected, "\(stream.key) \(s)")
        }
        let json = try JSONEncoder().encode(report)
        #expect(!json.isEmpty)
    }
}
