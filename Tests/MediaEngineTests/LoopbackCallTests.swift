import CallQuality
import MediaEngine
import RTPCore
import Testing

@Suite("Two sessions on loopback")
struct LoopbackCallTests {
    /// A 3-second call both ways: 150 packets each way, no loss, DSCP EF read back from the
    /// IP header, the tone heard, RTT from RTCP, DTMF through, BYE at the end.
    @Test func threeSecondCall() async throws {
        let engine = try makeEngine(ports: 23000...23019)
        let a = try await engine.openSession()
        let b = try await engine.openSession()
        #expect(a.rtpPort % 2 == 0 && b.rtpPort % 2 == 0)
        #expect(a.rtpPort != b.rtpPort)
        try await engine.start(a, MediaParameters(remote: loopback(b.rtpPort), toneFrequency: 1750,
                                                  expectedRemoteToneFrequency: 1850, ssrc: 0xA))
        try await engine.start(b, MediaParameters(remote: loopback(a.rtpPort), toneFrequency: 1850,
                                                  expectedRemoteToneFrequency: 1750, ssrc: 0xB))
        #expect(try await waitUntilSent(engine, a, packets: 40))
        try await engine.sendDTMF(a, digits: "123#")
        // Stop once the digits are out and ~3 s have gone (a loaded machine may resume this
        // task late: the counts below are checked against each other, not against the clock).
        #expect(try await eventually { try await engine.report(a).sent.dtmf == "123#" })
        #expect(try await waitUntilSent(engine, a, packets: 150))
        try await engine.stopSending(a)
        #expect(try await waitUntilSent(engine, b, packets: 150))
        try await engine.stopSending(b)

        // Each side has the other's final SR count; packets in flight have landed.
        let settled = try await eventually {
            let ra = try await engine.report(a), rb = try await engine.report(b)
            return rb.received.senderReportedPackets.map(Int.init) == ra.sent.packets
                && ra.received.senderReportedPackets.map(Int.init) == rb.sent.packets
                && rb.received.statistics.packetsReceived == ra.sent.packets
                && ra.received.statistics.packetsReceived == rb.sent.packets
                && ra.rtt.samples > 0 && rb.rtt.samples > 0
        }
        #expect(settled)
        let finalA = try await engine.stop(a)
        #expect(try await eventually { try await engine.report(b).rtcp.byeReceived })
        let finalB = try await engine.stop(b)

        for (report, peer) in [(finalA, finalB), (finalB, finalA)] {
            #expect(report.sent.packets >= 150)
            #expect(report.sent.audioPackets + report.sent.eventPackets == report.sent.packets)
            #expect(report.sent.packets == report.sent.pacingLatenessUs.count)
            #expect(report.received.statistics.packetsReceived == peer.sent.packets)
            #expect(report.received.statistics.packetsExpected == peer.sent.packets)
            #expect(report.received.statistics.packetsLost == 0)
            #expect(report.received.statistics.duplicates == 0)
            #expect(report.received.dscpReceived == 46)
            #expect(report.received.dscpValues == [46])
            #expect(report.sent.dscpSent == 46)
            #expect(report.received.audioOK)
            #expect(report.received.audio.kind == "tone")
            #expect(report.received.codec == "PCMU")
            #expect(report.received.ptime == 20)
            #expect(report.rtt.samples >= 1)
            #expect((report.rtt.meanMs ?? 99) < 5)
            #expect(report.received.oneWaySource == "estimated_rtt_half")
            #expect(report.received.assessment?.mosCQ != nil)
            #expect(report.junk.total == 0)
            #expect(report.remoteView?.cumulativeLost == 0)
            #expect(report.rtcp.byeSent)
        }
        #expect(finalB.rtcp.byeReceived)
        #expect(finalA.sent.dtmf == "123#")
        #expect(finalA.sent.eventPackets == 4 * 7)
        #expect(finalB.received.dtmf == "123#")
        #expect(finalB.received.dtmfDigitsReceived.map(\.ending) == Array(repeating: "end_bit", count: 4))
        #expect(finalB.received.telephoneEventPackets == 4 * 7)
        // Per-digit latency on one host: both offsets on the shared monotonic clock.
        let sentAt = finalA.sent.dtmfDigitsSent.map { Double(finalA.session.startMonotonicNs ?? 0) / 1e6 + $0.offsetMs }
        let heardAt = finalB.received.dtmfDigitsReceived.map { Double(finalB.session.startMonotonicNs ?? 0) / 1e6 + $0.offsetMs }
        #expect(sentAt.count == 4 && heardAt.count == 4)
        #expect(zip(sentAt, heardAt).allSatisfy { $1 > $0 - 1 })  // heard after (µs of rounding aside) it was due
        #expect(finalB.session.remoteSSRC == 0xA)
        #expect(finalA.session.remoteSSRC == 0xB)
    }

    @Test func wrongExpectedToneFailsTheAudioCheck() async throws {
        let engine = try makeEngine(ports: 23020...23039)
        let a = try await engine.openSession()
        let b = try await engine.openSession()
        try await engine.start(a, MediaParameters(remote: loopback(b.rtpPort), toneFrequency: 1750, expectedRemoteToneFrequency: 2950))
        try await engine.start(b, MediaParameters(remote: loopback(a.rtpPort), toneFrequency: 1850, expectedRemoteToneFrequency: 1750))
        #expect(try await eventually { try await engine.report(a).received.statistics.packetsReceived >= 30 })
        #expect(try await eventually { try await engine.report(b).received.statistics.packetsReceived >= 30 })
        let ra = try await engine.stop(a)
        let rb = try await engine.stop(b)
        #expect(!ra.received.audioOK)
        #expect(ra.received.audio.tracker.verdict == .absent)
        #expect(ra.received.audio.tracker.framesWithTone == 0)
        #expect(rb.received.audioOK)
        #expect(rb.received.audio.tracker.verdict == .continuous)
        await engine.shutdown()
    }
}
