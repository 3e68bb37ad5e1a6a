import CallQuality
import Pcap
import RTPAnalysis
import RTPCore
import Testing

/// Two streams in opposite directions with RTCP between them, and the round trip and MOS-CQ
/// that follow. The network: 40 ms each way between A and B (RTT 80 ms).
@Suite struct RoundTripTests {
    static let ssrcA: UInt32 = 0xA1A1_A1A1
    static let ssrcB: UInt32 = 0xB2B2_B2B2

    /// Where the capture is taken: `oneWayFromA` ms after A on the path A → B (0: on A's host),
    /// and B's NTP clock offset from true time (A's is exact).
    struct Vantage {
        var oneWayFromA: Int64
        var clockOffsetB: Int64 = 0
        var includeSenderReports = true
    }

    static let networkOneWay: Int64 = 40_000  // µs

    /// A → B audio sent from t = 0, B → A audio from t = 10 ms, 500 packets each; A's SR at
    /// 1 s, B's report about A 0.5 s after it arrives; B's SR at 2 s, A's report about B 0.3 s
    /// after it arrives. All times µs of true time; the capture sees each datagram when it
    /// passes the vantage point.
    static func capture(_ vantage: Vantage) throws -> [UInt8] {
        let toB = vantage.oneWayFromA, toA = networkOneWay - vantage.oneWayFromA
        var capture = SyntheticCapture()
        capture.add(SyntheticStream(ssrc: ssrcA, source: Hosts.a, destination: Hosts.b, count: 500, firstSequence: 1,
                                    startMicroseconds: toB))
        capture.add(SyntheticStream(ssrc: ssrcB, source: Hosts.b, destination: Hosts.a, count: 500, firstSequence: 9,
                                    startMicroseconds: 10_000 + toA))

        // A's SR at 1 s (A's clock is true time); B holds it 0.5 s.
        let srA: Int64 = 1_000_000
        let lsrA = ntp(srA).compact
        if vantage.includeSenderReports {
            capture.add(senderReport(ssrcA, atMicroseconds: srA, reports: []), from: Hosts.rtcp(Hosts.a), to: Hosts.rtcp(Hosts.b),
                        atMicroseconds: srA + toB)
        }
        let rrB = srA + networkOneWay + 500_000
        let aboutA = RTCPReportBlock(ssrc: ssrcA, lastSenderReport: lsrA, delaySinceLastSenderReport: 0x8000)  // 0.5 s
        capture.add(senderReport(ssrcB, atMicroseconds: rrB + vantage.clockOffsetB, reports: [aboutA]),
                    from: Hosts.rtcp(Hosts.b), to: Hosts.rtcp(Hosts.a), atMicroseconds: rrB + toA)

        // B's SR at 2 s of B's clock; A holds it 0.3 s (19660.8 units: DLSR 19661 is 3.05 µs long).
        let srB: Int64 = 2_000_000
        if vantage.includeSenderReports {
            capture.add(senderReport(ssrcB, atMicroseconds: srB + vantage.clockOffsetB, reports: []),
                        from: Hosts.rtcp(Hosts.b), to: Hosts.rtcp(Hosts.a), atMicroseconds: srB + toA)
        }
        let rrA = srB + networkOneWay + 300_000
        let aboutB = RTCPReportBlock(ssrc: ssrcB, lastSenderReport: ntp(srB + vantage.clockOffsetB).compact,
                                     delaySinceLastSenderReport: 19_661)
        let receiverReport = RTCPCompoundPacket(packets: [.receiverReport(RTCPReceiverReport(ssrc: ssrcA, reports: [aboutB]))]).encoded()
        capture.add(receiverReport, from: Hosts.rtcp(Hosts.a), to: Hosts.rtcp(Hosts.b), atMicroseconds: rrA + toB)
        return try capture.pcap()
    }

    static func ntp(_ microseconds: Int64) -> NTPTimestamp {
        let time = captureStart.advanced(by: .microseconds(microseconds))
        return NTPTimestamp(unixSeconds: time.seconds, nanoseconds: time.nanoseconds)
    }

    static func senderReport(_ ssrc: UInt32, atMicroseconds time: Int64, reports: [RTCPReportBlock]) -> [UInt8] {
        RTCPCompoundPacket(packets: [
            .senderReport(RTCPSenderReport(ssrc: ssrc, ntpTimestamp: ntp(time), rtpTimestamp: 0, packetCount: 50,
                                           octetCount: 8000, reports: reports)),
            .sourceDescription(RTCPSourceDescription(source: ssrc, cname: "earshot@test")),
        ]).encoded()
    }

    static func streams(_ vantage: Vantage) throws -> (RTPStreamReport, RTPStreamReport, RTPAnalysisReport) {
        let report = try analyze(capture(vantage))
        let ab = try #require(report.streams.first { $0.key.ssrc == ssrcA })
        let ba = try #require(report.streams.first { $0.key.ssrc == ssrcB })
        return (ab, ba, report)
    }

    /// DLSR 19661 units is 0.3 s + 3.0518 µs (19661/65536 s): the receiver said it held the
    /// SR that much longer than it did, so the loop toward A comes out 3.05 µs short — clamped
    /// to 0 when captured on A's host.
    static let dlsrRoundingMs = (19_661.0 / 65_536 - 0.3) * 1000

    @Test func capturedOnTheSendersHost() throws {
        let (ab, ba, report) = try Self.streams(Vantage(oneWayFromA: 0))
        #expect(report.streams.count == 2)
        #expect(report.tally.rtcpPackets == 4)
        #expect(report.tally.rtcpMalformed == 0)
        let rt = try #require(ab.roundTrip)
        #expect(rt.method == .captureBothDirections)
        #expect(isClose(rt.towardReceiverMs, 80, 1e-6))
        #expect(isClose(rt.towardSenderMs, 0, 1e-6))
        #expect(isClose(rt.rttMs, 80, 1e-6))
        #expect(rt.samples == 2)
        // The reverse stream measures the same round trip.
        #expect(isClose(ba.roundTrip?.rttMs, 80, 1e-6))

        // Ta = 80/2 + 60 (jb) + 20 (ptime) + 0 = 120 ms;
        // emodel_reference.from_measurement('PCMU', False, 500, 0, 0, 1, ('rtt', 80), 60, 20, 0).
        let assessment = try #require(ab.assessment)
        #expect(isClose(assessment.inputs.delay.rttMs, 80, 1e-6))
        #expect(isClose(assessment.inputs.delay.mouthToEarMs, 120, 1e-6))
        #expect(isClose(ab.rFactor, 90.2642548059894, 1e-5))
        #expect(isClose(ab.mosCQ, 4.345420344011318, 1e-6))
        #expect(isClose(ab.mosLQ, 4.409405954387269, 1e-6))
        #expect(!ab.notes.contains { $0.contains("MOS-CQ") })
    }

    @Test func capturedInTheMiddleWithAnOffsetClock() throws {
        // 15 ms from A, 25 ms from B, and B's NTP clock 7 s ahead: each loop alone is partial,
        // their sum is the round trip; no NTP clock is used.
        let (ab, ba, _) = try Self.streams(Vantage(oneWayFromA: 15_000, clockOffsetB: 7_000_000))
        let rt = try #require(ab.roundTrip)
        #expect(rt.method == .captureBothDirections)
        #expect(isClose(rt.towardReceiverMs, 50, 1e-6))
        #expect(isClose(rt.towardSenderMs, 30 - Self.dlsrRoundingMs, 1e-6))
        #expect(isClose(rt.rttMs, 80 - Self.dlsrRoundingMs, 1e-6))
        #expect(isClose(ba.roundTrip?.rttMs, 80 - Self.dlsrRoundingMs, 1e-6))
    }

    @Test func capturedOnTheReceiversHost() throws {
        let (ab, _, _) = try Self.streams(Vantage(oneWayFromA: 40_000))
        let rt = try #require(ab.roundTrip)
        #expect(isClose(rt.towardReceiverMs, 0, 1e-6))
        #expect(isClose(rt.towardSenderMs, 80 - Self.dlsrRoundingMs, 1e-6))
        #expect(isClose(rt.rttMs, 80 - Self.dlsrRoundingMs, 1e-6))
    }

    @Test func withoutTheSenderReportsTheCaptureTimeStandsInForTheSendersClock() throws {
        // Only the reports are in the capture; RFC 3550 §6.4.1 with A = capture time as NTP.
        let (ab, ba, _) = try Self.streams(Vantage(oneWayFromA: 0, includeSenderReports: false))
        let rt = try #require(ab.roundTrip)
        #expect(rt.method == .senderNTPClock)
        // Compact NTP has 1/65536 s units: A and LSR each truncated.
        #expect(isClose(rt.rttMs, 80, 1000.0 / 65536 * 2))
        #expect(ab.notes.contains { $0.contains("exact only when captured on the sender") })
        // The report about B came from A, where the capture is: A − LSR is B's one-way delay
        // only — and with B's clock right, it is positive and plausible. Documented limit.
        #expect(isClose(ba.roundTrip?.rttMs, 40 - Self.dlsrRoundingMs, 1000.0 / 65536 * 2))
    }

    @Test func aSenderNTPClockFarOffIsRejected() throws {
        // B's clock 7 s ahead and no SRs in the capture: the report about B yields A − LSR − DLSR
        // < 0, which cannot be a round trip.
        let (_, ba, report) = try Self.streams(Vantage(oneWayFromA: 0, clockOffsetB: 7_000_000, includeSenderReports: false))
        #expect(ba.roundTrip == nil)
        #expect(report.tally.roundTripSamplesRejected == 1)
        #expect(ba.mosCQ == nil)
        #expect(ba.notes.contains("no MOS-CQ: no RTCP report block about this SSRC with a round trip (LSR/DLSR)"))
    }
}
