@testable import MediaEngine
import RTPCore
import Testing

/// The session logic without sockets: time, datagrams and sources are handed in.
@Suite("Session core (no sockets)")
struct SessionCoreTests {
    static let settings = SessionSettings(
        rtcpIntervalNanoseconds: 1_000_000_000, startAlignmentNanoseconds: 1_000_000, jitterBufferMs: 60,
        concealment: false, cname: "test@127.0.0.1", earlyPacketLimit: 4, dscp: 46)
    static let clock = NTPClock(monotonicBase: 0, unixSeconds: 1_800_000_000, unixNanoseconds: 0)
    static let peer = MediaEndpoint(host: "127.0.0.1", port: 50000)!
    static let stranger = MediaEndpoint(host: "127.0.0.1", port: 50002)!
    static let frames = SignalFrames(toneFrequency: 1750, law: .muLaw, samplesPerPacket: 160)

    static func started(latch: Bool = false, at now: Int64 = 1_000_500_000, seed: UInt64 = 1) throws -> SessionCore {
        var core = SessionCore(id: 1, local: MediaEndpoint(host: "127.0.0.1", port: 40000)!, settings: settings, seed: seed)
        try core.start(MediaParameters(remote: peer, toneFrequency: 1750, expectedRemoteToneFrequency: 1850,
                                       ssrc: 0x1111, latchToSource: latch),
                       now: now, frames: frames, clock: clock)
        return core
    }

    static func rtp(sequence: UInt16, ssrc: UInt32 = 0x2222, payloadType: UInt8 = 0, payload: [UInt8]? = nil) -> [UInt8] {
        RTPPacket(payloadType: payloadType, sequenceNumber: sequence, timestamp: UInt32(sequence) * 160, ssrc: ssrc,
                  payload: payload ?? Array(repeating: 0xFF, count: 160)).encoded()
    }

    static func packets(_ outbox: Outbox) -> [RTPPacket] {
        outbox.items.filter { $0.socket == .rtp }.map { try! RTPPacket(parsing: Array(outbox.bytes[$0.range])) }
    }

    @Test func packetsFollowTheAbsoluteGrid() throws {
        var core = try Self.started()
        let origin: Int64 = 1_001_000_000  // start rounded up to the 1 ms alignment
        #expect(core.nextDeadline == origin)
        var outbox = Outbox()
        core.runDue(now: origin - 1, clock: Self.clock, into: &outbox)
        #expect(outbox.items.isEmpty)
        core.runDue(now: origin, clock: Self.clock, into: &outbox)
        core.runDue(now: origin + 59_000_000, clock: Self.clock, into: &outbox)  // late: ticks 1 and 2 at once
        let sent = Self.packets(outbox)
        #expect(sent.count == 3)
        #expect(outbox.items.compactMap(\.deadline) == [origin, origin + 20_000_000, origin + 40_000_000])
        #expect(sent.map(\.marker) == [true, false, false])
        #expect(sent.map { $0.sequenceNumber &- sent[0].sequenceNumber } == [0, 1, 2])
        #expect(sent.map { $0.timestamp &- sent[0].timestamp } == [0, 160, 320])
        #expect(sent.allSatisfy { $0.ssrc == 0x1111 && $0.payloadType == 0 && $0.payload.count == 160 })
        #expect(sent[1].payload == Self.frames.frames[1])
        #expect(core.nextDeadline == origin + 60_000_000)

        // 10 s behind (a stopped process): the missed ticks are skipped, not sent in a burst.
        outbox.removeAll()
        core.runDue(now: origin + 10_000_000_000, clock: Self.clock, into: &outbox)
        let late = Self.packets(outbox)
        #expect(late.count == 1)
        #expect(late[0].timestamp &- sent[0].timestamp == 500 * 160)
        #expect(late[0].sequenceNumber &- sent[0].sequenceNumber == 3)
        #expect(core.sender?.skippedTicks == 497)
    }

    @Test func telephoneEventsFreezeTheTimestampAndRepeatTheEnd() throws {
        var core = try Self.started()
        try core.queueDigits("5#", durationMs: 100, gapMs: 40)
        var outbox = Outbox()
        let origin: Int64 = 1_001_000_000
        for tick in 0..<20 {
            core.runDue(now: origin + Int64(tick) * 20_000_000, clock: Self.clock, into: &outbox)
        }
        let sent = Self.packets(outbox)
        #expect(sent.count == 20)
        #expect(sent.map(\.payloadType) == Array(repeating: 101, count: 7) + [0, 0] + Array(repeating: 101, count: 7) + [0, 0, 0, 0])
        let first = sent[0..<7].map { try! TelephoneEvent(parsing: $0.payload) }
        #expect(first.map(\.event) == Array(repeating: 5, count: 7))
        #expect(first.map(\.duration) == [160, 320, 480, 640, 800, 800, 800])
        #expect(first.map(\.isEnd) == [false, false, false, false, true, true, true])
        #expect(sent[0..<7].map(\.timestamp) == Array(repeating: sent[0].timestamp, count: 7))
        #expect(sent[0..<7].map(\.marker) == [true] + Array(repeating: false, count: 6))
        // Sequence numbers run on through events and audio (RFC 4733 §2.5.1.6).
        #expect(sent.map { $0.sequenceNumber &- sent[0].sequenceNumber } == (0..<20).map(UInt16.init))
        // Audio after the event sits where the grid is: 7 ticks later.
        #expect(sent[7].timestamp &- sent[0].timestamp == 7 * 160)
        #expect(sent[7].marker == false)
        #expect(sent[9].timestamp &- sent[0].timestamp == 9 * 160)
        #expect(try TelephoneEvent(parsing: sent[9].payload).event == 11)
        #expect(core.sender?.digitsSent.map(\.digit) == ["5", "#"])
        #expect(core.sender?.digitsSent.map(\.offsetNanoseconds) == [500_000, 500_000 + 9 * 20_000_000])
        #expect(throws: MediaEngineError.self) { try core.queueDigits("12x", durationMs: 100, gapMs: 100) }
    }

    @Test func junkIsCountedAndLeavesTheStatisticsAlone() throws {
        var core = try Self.started()
        func feed(_ bytes: [UInt8], from source: MediaEndpoint = Self.peer, rtcp: Bool = false, truncated: Bool = false, at time: Int64) {
            core.receive(bytes[...], source: source, tos: 0xB8, truncated: truncated, arrival: time, onRTCPSocket: rtcp, clock: Self.clock)
        }
        for n in 0..<10 { feed(Self.rtp(sequence: UInt16(100 + n)), at: 1_010_000_000 + Int64(n) * 20_000_000) }
        let before = core.report(now: 1_300_000_000).received.statistics

        let t: Int64 = 1_250_000_000
        feed(Array(repeating: 0x00, count: 40), at: t)                       // not RTP: version 0
        feed([0x80, 0x00, 0x00, 0x6E, 0, 0, 0, 1], at: t)                     // truncated header
        var wrongVersion = Self.rtp(sequence: 110)
        wrongVersion[0] = 0x40                                                // version 1
        feed(wrongVersion, at: t)
        var csrcBeyond = Self.rtp(sequence: 110, payload: [])
        csrcBeyond[0] = 0x8F                                                  // 15 CSRCs announced, none there
        feed(csrcBeyond, at: t)
        feed(Self.rtp(sequence: 110, payloadType: 99), at: t)                 // not negotiated
        feed(Self.rtp(sequence: 110, ssrc: 0x3333), at: t)                    // another SSRC
        feed(Self.rtp(sequence: 110, payloadType: 101, payload: [1, 2, 3]), at: t)  // event payload not 4-octet reports
        feed([0x80, 0xC8, 0x00, 0x09, 1, 2], rtcp: true, at: t)              // SR whose length runs past the datagram
        feed([0x81, 0xC9, 0x00, 0x01, 0, 0, 0, 1], rtcp: true, at: t)        // RR announcing a block it lacks
        feed(Self.rtp(sequence: 110), truncated: true, at: t)                 // cut by the kernel

        let report = core.report(now: 1_300_000_000)
        #expect(report.received.statistics == before)
        #expect(report.received.statistics.packetsReceived == 10)
        #expect(report.junk.wrongVersion == 2)
        #expect(report.junk.truncated == 2)
        #expect(report.junk.unknownPayloadType == 1)
        #expect(report.junk.wrongSSRC == 1)
        #expect(report.junk.malformedEvent == 1)
        #expect(report.junk.malformedRTCP == 2)
        #expect(report.junk.oversize == 1)
        #expect(report.junk.unexpectedSource == 0)
        #expect(report.junk.total == 10)
        #expect(report.rtcp.received == 0)
        #expect(report.received.dscpValues == [46])
    }

    @Test func latchingFollowsTheFirstSourceAndRefusesOthers() throws {
        var core = try Self.started(latch: true)
        #expect(core.rtpDestination == Self.peer)
        let natted = MediaEndpoint(host: "127.0.0.1", port: 61000)!
        for n in 0..<5 {
            core.receive(Self.rtp(sequence: UInt16(n))[...], source: natted, tos: nil, truncated: false,
                         arrival: 1_010_000_000 + Int64(n) * 20_000_000, onRTCPSocket: false, clock: Self.clock)
        }
        #expect(core.rtpDestination == natted)
        #expect(core.latchedRTP == natted)
        core.receive(Self.rtp(sequence: 5)[...], source: Self.stranger, tos: nil, truncated: false,
                     arrival: 1_120_000_000, onRTCPSocket: false, clock: Self.clock)
        core.receive([0x00, 0x01][...], source: Self.stranger, tos: nil, truncated: false,
                     arrival: 1_120_000_000, onRTCPSocket: false, clock: Self.clock)
        let report = core.report(now: 1_200_000_000)
        #expect(report.junk.unexpectedSource == 1)
        #expect(report.junk.truncated == 1)
        #expect(report.received.statistics.packetsReceived == 5)
        #expect(report.session.latchedSource == "127.0.0.1:61000")
        #expect(report.session.remote == "127.0.0.1:61000")
    }

    @Test func earlyPacketsAreReplayedAtStart() throws {
        var core = SessionCore(id: 7, local: MediaEndpoint(host: "127.0.0.1", port: 40000)!, settings: Self.settings, seed: 3)
        for n in 0..<6 {
            core.receive(Self.rtp(sequence: UInt16(n))[...], source: Self.peer, tos: nil, truncated: false,
                         arrival: 900_000_000 + Int64(n) * 20_000_000, onRTCPSocket: false, clock: Self.clock)
        }
        try core.start(MediaParameters(remote: Self.peer, toneFrequency: 1750), now: 1_000_000_000, frames: Self.frames,
                       clock: Self.clock)
        let report = core.report(now: 1_100_000_000)
        #expect(report.earlyPackets == 4)
        #expect(report.junk.beforeStart == 2)
        #expect(report.received.statistics.packetsReceived == 4)
        #expect(report.received.firstPacketMs == -100)
        #expect(report.received.audio.kind == "signal")
    }

    /// RFC 3550 §6.4.1 end to end: A's SR travels 5 ms, B holds it, B's report travels 5 ms:
    /// A computes RTT = 10 ms (to the 1/65536 s of the compact NTP format).
    @Test func roundTripFromSenderReports() throws {
        var a = try Self.started(seed: 11)
        var b = try Self.started(seed: 12)
        var outbox = Outbox()
        let origin: Int64 = 1_001_000_000
        // Some RTP each way, so that each side has a validated source to report on.
        for tick in 0..<5 {
            let now = origin + Int64(tick) * 20_000_000
            outbox.removeAll()
            a.runDue(now: now, clock: Self.clock, into: &outbox)
            for item in outbox.items where item.socket == .rtp {
                b.receive(outbox.bytes[item.range], source: Self.peer, tos: nil, truncated: false, arrival: now + 5_000_000,
                          onRTCPSocket: false, clock: Self.clock)
            }
            outbox.removeAll()
            b.runDue(now: now, clock: Self.clock, into: &outbox)
            for item in outbox.items where item.socket == .rtp {
                a.receive(outbox.bytes[item.range], source: Self.peer, tos: nil, truncated: false, arrival: now + 5_000_000,
                          onRTCPSocket: false, clock: Self.clock)
            }
        }
        outbox.removeAll()
        a.stopSending(now: 1_200_000_000, clock: Self.clock, into: &outbox)  // A's SR
        let sr = outbox.items.last!
        b.receive(outbox.bytes[sr.range], source: Self.peer, tos: nil, truncated: false, arrival: 1_205_000_000,
                  onRTCPSocket: true, clock: Self.clock)
        outbox.removeAll()
        b.finish(now: 1_700_000_000, clock: Self.clock, into: &outbox)  // B's SR + BYE, 495 ms later
        let reply = outbox.items.last!
        a.receive(outbox.bytes[reply.range], source: Self.peer, tos: nil, truncated: false, arrival: 1_705_000_000,
                  onRTCPSocket: true, clock: Self.clock)
        let report = a.report(now: 1_800_000_000)
        #expect(report.rtt.samples == 1)
        #expect(abs((report.rtt.lastMs ?? 0) - 10) < 0.05)
        #expect(report.rtcp.byeReceived)
        #expect(report.rtcp.remoteCNAME == "test@127.0.0.1")
        #expect(report.received.senderReportedPackets == 5)
        #expect(report.remoteView?.reportsReceived == 1)
        #expect(report.remoteView?.cumulativeLost == 0)
        #expect(report.remoteView?.packetsExpected == 5)
        #expect(report.received.rttMs.map { abs($0 - 10) < 0.05 } == true)
        #expect(report.received.oneWayMs.map { abs($0 - 5) < 0.03 } == true)
    }

    /// 20,000 seeded random datagrams (half made to look like RTP version 2) on both sockets:
    /// every one is refused or read as RTCP, nothing crashes, the statistics do not move.
    @Test func seededGarbageNeverReachesTheStatistics() throws {
        var core = try Self.started()
        for n in 0..<20 {
            core.receive(Self.rtp(sequence: UInt16(n))[...], source: Self.peer, tos: nil, truncated: false,
                         arrival: 1_010_000_000 + Int64(n) * 20_000_000, onRTCPSocket: false, clock: Self.clock)
        }
        let before = core.report(now: 2_000_000_000).received
        var random = SplitMix64(seed: 2024)
        let count = 20_000
        for i in 0..<count {
            let length = Int(random.next() % 300)
            var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if i % 2 == 0, !bytes.isEmpty { bytes[0] = 0x80 | (bytes[0] & 0x3F) }
            core.receive(bytes[...], source: i % 3 == 0 ? Self.stranger : Self.peer, tos: UInt8(truncatingIfNeeded: i),
                         truncated: false, arrival: 1_500_000_000 + Int64(i), onRTCPSocket: i % 5 == 0, clock: Self.clock)
        }
        let report = core.report(now: 2_000_000_000)
        #expect(report.received.statistics == before.statistics)
        #expect(report.received.audioPackets == before.audioPackets)
        #expect(report.received.dscpValues == before.dscpValues)
        #expect(report.received.dtmfDigitsReceived.isEmpty)
        #expect(report.junk.total + report.rtcp.received == count)
        #expect(report.junk.wrongVersion > 0 && report.junk.truncated > 0 && report.junk.malformedRTCP > 0)
    }
}
