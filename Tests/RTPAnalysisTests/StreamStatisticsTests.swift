import CallQuality
import Pcap
import RTPAnalysis
import RTPCore
import Testing

// Expected jitter values come from this independent Python computation (RFC 3550 A.8 over
// the arrival order, duplicates included; and tshark's variant from ui/tap-rtp-analysis.c,
// which takes D against the last packet in timestamp order and averages only "regular"
// packets). `stream()` builds the same arrivals as `SyntheticStream`.
//
//     def rfc(rows, clock=8000):          # rows: (arrival_us, seq, ts) in arrival order
//         J = 0.0; js = []; prev = None; maxd = 0
//         for a, s, t in rows:
//             if prev is not None:
//                 D = (a - prev[0]) * clock / 1e6 - ((t - prev[2] + 2**31) % 2**32 - 2**31)
//                 J += (abs(D) - J) / 16
//                 js.append(J * 1000 / clock); maxd = max(maxd, (a - prev[0]) / 1000)
//             prev = (a, s, t)
//         return dict(mean=sum(js) / len(js), max=max(js), last=js[-1], maxdelta=maxd)
//
//     def tshark(rows, clock=8000):
//         first = True; J = 0.0; mean = 0.0; mx = 0.0; total = 0; time = None; seqts = None
//         for a, s, t in rows:
//             a_ms = a / 1000
//             if first: time = a_ms; seqts = t; total = 1; first = False; continue
//             in_seq = seqts <= t
//             J = (15 * J + abs(a_ms - (time + (t - seqts) / (clock / 1000)))) / 16
//             if in_seq: mx = max(mx, J); mean = (mean * (total - 1) + J) / total; time = a_ms; seqts = t
//             total += 1
//         return dict(mean=mean, max=mx)
//
//     def stream(n, seq0, ts0, offsets_us=lambda i: 0, drop=(), extra=()):
//         rows = [(i * 20000 + offsets_us(i), (seq0 + i) & 0xFFFF, ts0 + 160 * i) for i in range(n) if i not in drop]
//         rows += [(a, (seq0 + i) & 0xFFFF, ts0 + 160 * i) for i, a in extra]
//         rows.sort(key=lambda r: r[0]); return rows
//
//     jitter:  rfc(stream(500, 20000, 8000, lambda i: ((i * 7919) % 13 - 6) * 500))
//              → mean 1.6372083265472277, max 1.8315464910331527, last 1.6022030035288815, maxdelta 21.0
//              tshark(...) → the same mean and max
//     reorder: rfc(stream(300, 100, 0, lambda i: 30000 if i == 80 else 0))
//              → mean 0.20066874551110758, max 3.6328125, maxdelta 40.0
//              tshark(...) → mean 0.09406347217793909, max 1.7578125
//     spike:   rfc(stream(100, 7000, 0, lambda i: {40: 80000, 41: 65000, 42: 50000, 43: 35000, 44: 19000}.get(i, 0)))
//              → mean 1.5786990868756356, max 8.066629409790039, maxdelta 100.0 (tshark: the same)
//     dups:    rfc(stream(300, 100, 0, drop=(150, 151), extra=((50, 50 * 20000 + 1000), (120, 120 * 20000 + 5000))))
//              → mean 0.040133424169438776, max 0.6067077815150759, maxdelta 60.0 (tshark: the same)
//
// MOS values: Tests/CallQualityTests/emodel_reference.py, `from_measurement` and `e_model`.

/// Loss, duplicates, reordering, jitter, wrap, restart and the jitter buffer on synthetic
/// single-stream captures with known answers.
@Suite struct StreamStatisticsTests {
    static func only(_ report: RTPAnalysisReport, sourceLocation: SourceLocation = #_sourceLocation) throws -> RTPStreamReport {
        try #require(report.streams.count == 1, "\(report.streams.map(\.key))", sourceLocation: sourceLocation)
        return report.streams[0]
    }

    @Test func perfectG711Stream() throws {
        let report = try analyze(Scenarios.capture(Scenarios.perfect).pcap())
        let stream = try Self.only(report)
        #expect(stream.key == RTPStreamKey(ssrc: 0x1122_3344, source: Hosts.a, destination: Hosts.b))
        #expect(stream.payloadType == 0)
        #expect(stream.codec == "PCMU")
        #expect(stream.clockRate == 8000)
        #expect(stream.ptimeMs == 20)
        #expect(stream.packets == 250)
        let s = stream.statistics
        #expect(s.packetsExpected == 250)
        #expect(s.packetsReceived == 250)
        #expect(s.packetsLost == 0)
        #expect(s.duplicates == 0)
        #expect(s.reordered == 0)
        #expect(s.lossPercent == 0)
        #expect(s.maxDeltaMs == 20)
        #expect(s.burstRatio == 1)
        #expect(s.maxBurst == 0)
        #expect(s.sequenceResyncs == 0)
        #expect(stream.jitterMeanMs == 0)
        #expect(stream.jitterMaxMs == 0)
        #expect(stream.jitterBuffer?.lateDiscards == 0)
        #expect(stream.firstPacketTime == captureStart)
        #expect(stream.lastPacketTime == captureStart.advanced(by: .milliseconds(249 * 20)))
        #expect(stream.durationSeconds == 4.98)
        #expect(stream.dscpReceived == 46)
        // R = 93.2062…, G.107's all-defaults value: no loss, no delay.
        #expect(isClose(stream.assessment?.listening.rFactor, 93.20620772327571, 1e-6))
        #expect(isClose(stream.mosLQ, 4.409405954387269, 1e-6))
        #expect(stream.mosCQ == nil)
        #expect(stream.roundTrip == nil)
        #expect(stream.notes == ["no MOS-CQ: no RTCP report block about this SSRC with a round trip (LSR/DLSR)"])
        #expect(report.tally.rtpPackets == 250)
        #expect(report.tally.nonRTP == 0)
    }

    @Test func knownLossWithBursts() throws {
        let stream = try Self.only(try analyze(Scenarios.capture(Scenarios.loss).pcap()))
        let s = stream.statistics
        #expect(s.packetsExpected == 1000)
        #expect(s.packetsReceived == 989)
        #expect(s.packetsLost == 11)
        #expect(isClose(s.lossPercent, 1.1))
        #expect(s.lossRuns == 4)
        #expect(s.maxBurst == 5)
        // G.107 BurstR = mean run length × (1 − loss fraction) = 11/4 × 0.989.
        #expect(isClose(s.burstRatio, 2.71975))
        // Indices 99 → 105: six 20 ms slots.
        #expect(s.maxDeltaMs == 120)
        #expect(stream.jitterMaxMs == 0)
        // emodel_reference.from_measurement('PCMU', False, 1000, 11, 0, 2.71975, …): LQ.
        #expect(isClose(stream.assessment?.listening.rFactor, 70.99319162509616, 1e-6))
        #expect(isClose(stream.mosLQ, 3.6432285788602026, 1e-6))
        #expect(stream.assessment?.inputs.packetLossPercent == 1.1)
    }

    @Test func knownArrivalJitter() throws {
        let stream = try Self.only(try analyze(Scenarios.capture(Scenarios.jitter).pcap()))
        #expect(isClose(stream.jitterMeanMs, 1.6372083265472277))
        #expect(isClose(stream.jitterMaxMs, 1.8315464910331527))
        #expect(isClose(stream.jitterLastMs, 1.6022030035288815))
        #expect(stream.statistics.maxDeltaMs == 21)
        #expect(stream.statistics.packetsLost == 0)
        #expect(stream.jitterBuffer?.lateDiscards == 0)
    }

    @Test func duplicatesDoNotHideLoss() throws {
        let stream = try Self.only(try analyze(Scenarios.capture(Scenarios.duplicates).pcap()))
        let s = stream.statistics
        #expect(stream.packets == 300)
        #expect(s.packetsReceived == 298)
        #expect(s.packetsExpected == 300)
        #expect(s.packetsLost == 2)
        #expect(s.duplicates == 2)
        #expect(s.reordered == 0)
        // RFC 3550 A.3 (and tshark): expected − arrivals, duplicates counted as received.
        #expect(s.rfc3550CumulativeLost == 0)
        #expect(s.maxDeltaMs == 60)
        #expect(isClose(stream.jitterMeanMs, 0.040133424169438776))
        #expect(isClose(stream.jitterMaxMs, 0.6067077815150759))
    }

    @Test func reorderedPacket() throws {
        let stream = try Self.only(try analyze(Scenarios.capture(Scenarios.reorder).pcap()))
        let s = stream.statistics
        #expect(s.packetsReceived == 300)
        #expect(s.packetsLost == 0)
        #expect(s.reordered == 1)
        #expect(s.duplicates == 0)
        #expect(s.maxDeltaMs == 40)
        #expect(isClose(stream.jitterMeanMs, 0.20066874551110758))
        #expect(isClose(stream.jitterMaxMs, 3.6328125))
    }

    @Test func sequenceAndTimestampWrap() throws {
        let stream = try Self.only(try analyze(Scenarios.capture(Scenarios.wrap).pcap()))
        let s = stream.statistics
        #expect(s.packetsExpected == 200)
        #expect(s.packetsLost == 2)
        #expect(s.maxBurst == 2)
        #expect(s.sequenceResyncs == 0)
        #expect(s.maxDeltaMs == 60)
        #expect(stream.jitterMaxMs == 0)
    }

    @Test func sequenceRestartIsAResyncNotLoss() throws {
        let stream = try Self.only(try analyze(Scenarios.restart().pcap()))
        let s = stream.statistics
        #expect(s.packetsReceived == 200)
        #expect(s.packetsExpected == 200)
        #expect(s.packetsLost == 0)
        #expect(s.sequenceResyncs == 1)
        #expect(s.maxDeltaMs == 20)
    }

    @Test func silenceBetweenTalkspurtsIsNeitherLossNorJitter() throws {
        let stream = try Self.only(try analyze(Scenarios.talkspurts().pcap()))
        #expect(stream.statistics.packetsLost == 0)
        #expect(stream.statistics.packetsExpected == 100)
        // The silence is the largest gap between arrivals.
        #expect(stream.statistics.maxDeltaMs == 520)
        #expect(stream.jitterMaxMs == 0)
        #expect(stream.jitterBuffer?.lateDiscards == 0)
    }

    @Test func jitterBufferDiscardsCountAsLoss() throws {
        let stream = try Self.only(try analyze(Scenarios.capture(Scenarios.spike).pcap()))
        #expect(stream.statistics.packetsLost == 0)
        #expect(stream.statistics.maxDeltaMs == 100)
        #expect(isClose(stream.jitterMeanMs, 1.5786990868756356))
        #expect(isClose(stream.jitterMaxMs, 8.066629409790039))
        // Fixed 60 ms buffer anchored on the first packet: index 40 is due at 860 ms and
        // arrives at 880, index 41 due at 880 arrives at 885; index 42 (890 ≤ 900) plays.
        #expect(stream.jitterBufferMs == 60)
        #expect(stream.jitterBuffer?.lateDiscards == 2)
        #expect(stream.assessment?.measurement?.effectiveLossPercent == 2)
        // emodel_reference.from_measurement('PCMU', False, 100, 0, 2, 1, …): LQ.
        #expect(isClose(stream.mosLQ, 3.2563610250942174, 1e-6))

        // A 100 ms buffer absorbs the spike.
        let relaxed = try Self.only(try analyze(Scenarios.capture(Scenarios.spike).pcap(), .init(jitterBufferMs: 100)))
        #expect(relaxed.jitterBuffer?.lateDiscards == 0)
        #expect(isClose(relaxed.mosLQ, 4.409405954387269, 1e-6))
    }

    @Test func concealmentSelectsTheG113PLCRow() throws {
        let stream = try Self.only(try analyze(Scenarios.capture(Scenarios.loss).pcap(), .init(concealment: true)))
        #expect(stream.assessment?.inputs.codec.packetLossRobustness == 25.1)
    }

    @Test func pcapAndPcapngAndChunkedReadingAgree() throws {
        let capture = Scenarios.capture(Scenarios.jitter)
        let whole = try analyze(capture.pcap())
        let ng = try analyze(capture.pcapng(linkType: .linuxSLL2))
        // Drip-fed in 7-byte chunks through the streaming reader.
        let bytes = try capture.pcap()
        var reader = UDPDatagramReader()
        var analyzer = RTPAnalyzer()
        var start = 0
        while start < bytes.count {
            reader.append(bytes[start..<min(start + 7, bytes.count)])
            while let datagram = try reader.next() { analyzer.add(datagram) }
            start += 7
        }
        reader.finish()
        while let datagram = try reader.next() { analyzer.add(datagram) }
        let chunked = analyzer.report(captureTally: reader.tally)
        for other in [ng, chunked] {
            #expect(other.streams.map(\.statistics) == whole.streams.map(\.statistics))
            #expect(other.streams.map(\.jitterMeanMs) == whole.streams.map(\.jitterMeanMs))
            #expect(other.tally == whole.tally)
        }
    }

    @Test func firstPacketsBeforeConfirmationAreCounted() throws {
        // Confirmation needs 5 packets in a row; a reorder among the first ones only delays it.
        var capture = SyntheticCapture()
        capture.add(SyntheticStream(count: 20, firstSequence: 10, offset: { $0 == 1 ? 25_000 : 0 }))
        let stream = try Self.only(try analyze(capture.pcap()))
        #expect(stream.packets == 20)
        #expect(stream.statistics.packetsReceived == 20)
        #expect(stream.statistics.packetsLost == 0)
        #expect(stream.statistics.reordered == 1)
        #expect(stream.statistics.packetsRejected == 0)
    }

    @Test func tooShortAFlowIsNotAStream() throws {
        let report = try analyze(Scenarios.capture(SyntheticStream(count: 4, firstSequence: 1)).pcap())
        #expect(report.streams.isEmpty)
        #expect(report.tally.rtpLikeUnconfirmed == 4)
        #expect(report.tally.nonRTP == 4)
        // With the rule relaxed to one packet, like tshark's heuristic.
        let relaxed = try analyze(Scenarios.capture(SyntheticStream(count: 4, firstSequence: 1)).pcap(),
                                  .init(detection: StreamDetectionRule(minimumPackets: 1)))
        #expect(relaxed.streams.count == 1)
        #expect(relaxed.streams.first?.statistics.packetsReceived == 4)
    }
}
