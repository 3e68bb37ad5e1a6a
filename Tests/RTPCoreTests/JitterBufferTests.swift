import RTPCore
import Testing

/// 20-ms packets at 8 kHz: packet i carries sequence `firstSequence + i`, timestamp
/// `firstTimestamp + 160·i`, and arrives `20·i + delay_i` ms after the first one's send time.
private struct Sender {
    var buffer: JitterBufferEmulator
    var firstSequence: UInt16 = 1000
    var firstTimestamp: UInt32 = 50_000
    let origin: Int64 = 5_000_000_000

    init(_ mode: JitterBufferEmulator.Mode) {
        buffer = JitterBufferEmulator(mode: mode, clockRate: 8000)
    }

    @discardableResult
    mutating func deliver(_ index: Int, delayMs: Double, marker: Bool = false) -> JitterBufferEmulator.Outcome {
        buffer.record(sequence: firstSequence &+ UInt16(index), rtpTimestamp: firstTimestamp &+ UInt32(160 * index), marker: marker,
                      arrivalNanoseconds: origin + Int64(index) * 20_000_000 + Int64(delayMs * 1e6))
    }
}

@Suite struct JitterBufferFixedTests {
    /// Nominal delay 40 ms; packet delays relative to the first: 0, 10, 50, 30, 41, 40, 0 ms.
    /// Due 40 ms after schedule, so 50 and 41 are late; 40 exactly is still on time.
    @Test func lateDiscardsOfAKnownPattern() {
        var sender = Sender(.fixed(delayMs: 40))
        let outcomes = [0, 10, 50, 30, 41, 40, 0].enumerated().map { sender.deliver($0.offset, delayMs: Double($0.element)) }
        #expect(outcomes == [
            .played(bufferDelayNanoseconds: 40_000_000), .played(bufferDelayNanoseconds: 30_000_000),
            .late(byNanoseconds: 10_000_000), .played(bufferDelayNanoseconds: 10_000_000),
            .late(byNanoseconds: 1_000_000), .played(bufferDelayNanoseconds: 0), .played(bufferDelayNanoseconds: 40_000_000),
        ])
        let summary = sender.buffer.summary
        #expect(summary.packetsPlayed == 5)
        #expect(summary.lateDiscards == 2)
        #expect(summary.meanBufferDelayMs == 24)  // (40 + 30 + 10 + 0 + 40) / 5
        #expect(summary.maxBufferDelayMs == 40)
        #expect(summary.playoutOffsetMs == 40)
    }

    @Test func duplicatesAreNeitherPlayedNorDiscardedTwice() {
        var sender = Sender(.fixed(delayMs: 40))
        sender.deliver(0, delayMs: 0)
        sender.deliver(1, delayMs: 60)  // late
        sender.deliver(2, delayMs: 0)
        #expect(sender.deliver(1, delayMs: 70) == .duplicate)  // the late one again
        #expect(sender.deliver(2, delayMs: 5) == .duplicate)  // a played one again
        let summary = sender.buffer.summary
        #expect(summary.lateDiscards == 1)
        #expect(summary.packetsPlayed == 2)
        #expect(summary.duplicates == 2)
    }

    @Test func reorderedPacketInTimeIsPlayed() {
        var sender = Sender(.fixed(delayMs: 60))
        sender.deliver(0, delayMs: 0)
        sender.deliver(2, delayMs: 0)
        // Packet 1 arrives after packet 2 (at 45 ms), 35 ms before its 80-ms playout time.
        #expect(sender.deliver(1, delayMs: 25) == .played(bufferDelayNanoseconds: 35_000_000))
        #expect(sender.buffer.summary.lateDiscards == 0)
    }

    @Test func sequenceAndTimestampWrapsAreSeamless() {
        var sender = Sender(.fixed(delayMs: 20))
        sender.firstSequence = 65534
        sender.firstTimestamp = UInt32.max - 200
        #expect(sender.deliver(0, delayMs: 0) == .played(bufferDelayNanoseconds: 20_000_000))
        for index in 1..<6 { #expect(sender.deliver(index, delayMs: 5) == .played(bufferDelayNanoseconds: 15_000_000)) }
        #expect(sender.deliver(1, delayMs: 5) == .duplicate)  // sequence 65535, after 0...3
        #expect(sender.buffer.summary.duplicates == 1)
    }

    @Test func timestampDiscontinuityReanchors() {
        var buffer = JitterBufferEmulator(mode: .fixed(delayMs: 30), clockRate: 8000)
        buffer.record(sequence: 1, rtpTimestamp: 1000, arrivalNanoseconds: 0)
        buffer.record(sequence: 2, rtpTimestamp: 1160, arrivalNanoseconds: 20_000_000)
        // The sender's timestamps jump by a day's worth of ticks; the buffer restarts on it.
        let outcome = buffer.record(sequence: 3, rtpTimestamp: 1000 + 8000 * 86_400, arrivalNanoseconds: 40_000_000)
        #expect(outcome == .played(bufferDelayNanoseconds: 30_000_000))
        #expect(buffer.record(sequence: 4, rtpTimestamp: 1160 + 8000 * 86_400, arrivalNanoseconds: 60_000_000)
            == .played(bufferDelayNanoseconds: 30_000_000))
        #expect(buffer.summary.resets == 1)
        #expect(buffer.summary.lateDiscards == 0)
    }
}

@Suite struct JitterBufferAdaptiveTests {
    @Test func steadyDelayKeepsTheMinimumAllowance() {
        // No jitter: d̂ = v̂ = 0, so the offset stays at the 20-ms minimum; it is recomputed
        // at the first packet and every 1000 ms of media (at 1, 2 and 3 s).
        var sender = Sender(.adaptive())
        for index in 0...150 {
            #expect(sender.deliver(index, delayMs: 7) == .played(bufferDelayNanoseconds: 20_000_000))
        }
        let summary = sender.buffer.summary
        #expect(summary.lateDiscards == 0)
        #expect(summary.meanBufferDelayMs == 20)
        #expect(summary.adaptations == 4)
        #expect(summary.playoutOffsetMs == 20)
    }

    /// A 60-ms delay step at packet 50, adapting only at the talkspurt starting at packet 60
    /// (α = 0.9, β = 4, allowance 50...300 ms). Independent computation (Python):
    ///
    ///     a = 0.9; d = v = 0.0
    ///     for i, n in enumerate([0] * 50 + [60e6] * 11):   # packets 1...60
    ///         if i == 0: continue
    ///         d = a * d + (1 - a) * n; v = a * v + (1 - a) * abs(d - n)
    ///     P = round(d + min(max(4 * v, 50e6), 300e6))        # 124017362 ns
    ///
    /// Packets 50...59 (60 ms late, offset still 50 ms) are discarded; from 60 on the new
    /// offset plays them after 124.017362 − 60 = 64.017362 ms.
    @Test func adaptsAtTheTalkspurtStart() {
        let policy = JitterBufferEmulator.AdaptivePolicy(minimumDelayMs: 50, maximumDelayMs: 300, variationMultiplier: 4,
                                                         smoothing: 0.9, resizeIntervalMs: nil)
        var sender = Sender(.adaptive(policy))
        var outcomes: [JitterBufferEmulator.Outcome] = []
        for index in 0..<100 {
            outcomes.append(sender.deliver(index, delayMs: index < 50 ? 0 : 60, marker: index == 60))
        }
        #expect(outcomes[0..<50].allSatisfy { $0 == .played(bufferDelayNanoseconds: 50_000_000) })
        #expect(outcomes[50..<60].allSatisfy { $0 == .late(byNanoseconds: 10_000_000) })
        #expect(outcomes[60...].allSatisfy { $0 == .played(bufferDelayNanoseconds: 64_017_362) })
        let summary = sender.buffer.summary
        #expect(summary.lateDiscards == 10)
        #expect(summary.packetsPlayed == 90)
        #expect(summary.adaptations == 2)
        #expect(summary.playoutOffsetMs == 124.017362)
        #expect(abs(summary.meanBufferDelayMs - 56.229938666666666) < 1e-9)
        #expect(summary.maxBufferDelayMs == 64.017362)
    }

    @Test func stragglerFromBeforeAnAdaptationKeepsTheOldOffset() {
        let policy = JitterBufferEmulator.AdaptivePolicy(minimumDelayMs: 30, maximumDelayMs: 30, resizeIntervalMs: nil)
        var sender = Sender(.adaptive(policy))
        sender.deliver(0, delayMs: 0)
        sender.deliver(2, delayMs: 100, marker: true)  // new talkspurt: offset ≈ 30 + d̂
        // Packet 1 belongs to the old talkspurt (offset 30 ms): due at 50 ms, arrives at 61.
        #expect(sender.deliver(1, delayMs: 41) == .late(byNanoseconds: 11_000_000))
    }
}
