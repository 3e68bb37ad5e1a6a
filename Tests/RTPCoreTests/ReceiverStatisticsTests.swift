import Foundation
import RTPCore
import Testing

/// An 8-kHz stream of 20-ms packets. Packet `slot` carries timestamp `base + 160·slot` and
/// arrives at `20·slot` ms unless a test says otherwise.
private struct Stream {
    var stats = ReceiverStatistics(clockRate: 8000)
    var timestampBase: UInt32 = 0
    var arrivalBase: Int64 = 0

    /// Each element: the sequence number sent in that slot.
    @discardableResult
    mutating func send(_ packets: [(sequence: UInt16, slot: Int)]) -> [ReceiverStatistics.Disposition] {
        packets.map { packet in
            stats.record(sequence: packet.sequence,
                         rtpTimestamp: timestampBase &+ UInt32(160 * packet.slot),
                         arrivalNanoseconds: arrivalBase + Int64(packet.slot) * 20_000_000)
        }
    }

    /// Sequence numbers sent in consecutive slots starting at `firstSlot`.
    @discardableResult
    mutating func send(_ sequences: [UInt16], firstSlot: Int = 0) -> [ReceiverStatistics.Disposition] {
        send(sequences.enumerated().map { (sequence: $0.element, slot: firstSlot + $0.offset) })
    }
}

/// Sequence numbers `range` with `missing` left out (sequence n sent in slot n).
private func sequences(_ range: ClosedRange<UInt16>, missing: Set<UInt16> = []) -> [(sequence: UInt16, slot: Int)] {
    range.filter { !missing.contains($0) }.map { (sequence: $0, slot: Int($0)) }
}

@Suite struct ReceiverStatisticsSequenceTests {
    @Test func perfectStreamCountsEveryPacketIncludingProbation() throws {
        var stream = Stream()
        let dispositions = stream.send(sequences(1000...1099))
        #expect(dispositions[0] == .probation)
        #expect(dispositions[1] == .validated)
        #expect(dispositions[2...].allSatisfy { $0 == .inOrder })

        let summary = stream.stats.snapshot()
        #expect(summary.packetsExpected == 100)
        #expect(summary.packetsReceived == 100)
        #expect(summary.packetsLost == 0)
        #expect(summary.duplicates == 0)
        #expect(summary.reordered == 0)
        #expect(summary.lossPercent == 0)
        #expect(summary.burstRatio == 1)
        #expect(summary.maxBurst == 0)
        #expect(summary.jitterMeanMs == 0)
        #expect(summary.jitterMaxMs == 0)
        #expect(summary.maxDeltaMs == 20)
        #expect(summary.firstArrivalNanoseconds == Int64(1000 * 20_000_000))
        #expect(summary.lastArrivalNanoseconds == Int64(1099 * 20_000_000))
        #expect(summary.packetsRejected == 0)
        #expect(summary.rfc3550CumulativeLost == 0)

        let blockFields = stream.stats.makeReportBlockFields()

        let block = try #require(blockFields)
        #expect(block == .init(fractionLost: 0, cumulativeLost: 0, extendedHighestSequence: 1099, interarrivalJitter: 0))
    }

    @Test func nothingCountsBeforeValidation() {
        var stream = Stream()
        #expect(stream.send([7]) == [.probation])
        #expect(!stream.stats.isValidated)
        #expect(stream.stats.makeReportBlockFields() == nil)
        let summary = stream.stats.snapshot()
        #expect(summary.packetsExpected == 0)
        #expect(summary.packetsReceived == 0)
        #expect(summary.packetsRejected == 1)  // held, and final if nothing follows
    }

    @Test func probationRestartsOnANonSequentialPacket() {
        // A.1: 100 starts probation, 102 is not 101 so probation restarts at 102, 103 validates.
        var stream = Stream()
        #expect(stream.send([100, 102, 103, 104]) == [.probation, .probation, .validated, .inOrder])
        let summary = stream.stats.snapshot()
        #expect(summary.packetsExpected == 3)  // 102...104
        #expect(summary.packetsReceived == 3)
        #expect(summary.packetsRejected == 1)  // 100
    }

    @Test func sequenceWrapCountsACycle() throws {
        // 65533, 65534, 65535, 0, 1, 2: one cycle, nothing lost.
        var stream = Stream()
        let dispositions = stream.send([65533, 65534, 65535, 0, 1, 2])
        #expect(dispositions == [.probation, .validated, .inOrder, .inOrder, .inOrder, .inOrder])
        let summary = stream.stats.snapshot()
        #expect(summary.packetsExpected == 6)
        #expect(summary.packetsLost == 0)
        let blockFields = stream.stats.makeReportBlockFields()
        let block = try #require(blockFields)
        #expect(block.extendedHighestSequence == 0x0001_0002)  // cycles 1, highest 2
        #expect(block.cumulativeLost == 0)
    }

    @Test func validationAcrossTheWrapIsExact() throws {
        // Probation run 65535, 0: A.1 sets base_seq = 0; the adopted 65535 is extended −1.
        var stream = Stream()
        stream.send([65535, 0, 1, 2])
        let blockFields = stream.stats.makeReportBlockFields()
        let block = try #require(blockFields)
        #expect(block.extendedHighestSequence == 2)  // no cycle counted yet: A.1 init_seq reset cycles
        #expect(block.cumulativeLost == 0)  // expected 4, received 4
        #expect(stream.stats.snapshot().packetsExpected == 4)
    }

    @Test func duplicatesDoNotHideUniqueLoss() throws {
        // 1...10 with 5 lost and 7 sent twice: RFC 3550 A.3 sees 10 expected, 10 received.
        var stream = Stream()
        let dispositions = stream.send([1, 2, 3, 4, 6, 7, 7, 8, 9, 10])
        #expect(dispositions[6] == .duplicate)
        let summary = stream.stats.snapshot()
        #expect(summary.packetsExpected == 10)
        #expect(summary.packetsReceived == 9)
        #expect(summary.packetsLost == 1)
        #expect(summary.duplicates == 1)
        #expect(summary.lossPercent == 10)
        #expect(summary.rfc3550CumulativeLost == 0)
        let blockFields = stream.stats.makeReportBlockFields()
        let block = try #require(blockFields)
        #expect(block.cumulativeLost == 0)
        #expect(block.fractionLost == 0)
    }

    @Test func reorderedPacketIsCountedOnceAndFillsItsGap() {
        var stream = Stream()
        stream.send([1, 2, 4])
        #expect(stream.stats.snapshot().packetsLost == 1)  // provisional: 3 may still come
        #expect(stream.send([3], firstSlot: 3) == [.reordered])
        stream.send([5], firstSlot: 4)
        let summary = stream.stats.snapshot()
        #expect(summary.packetsExpected == 5)
        #expect(summary.packetsLost == 0)
        #expect(summary.reordered == 1)
        #expect(summary.duplicates == 0)
    }

    @Test func lateDuplicateIsADuplicateNotAReorder() {
        var stream = Stream()
        stream.send([1, 2, 3, 4, 2])
        let summary = stream.stats.snapshot()
        #expect(summary.duplicates == 1)
        #expect(summary.reordered == 0)
        #expect(summary.packetsReceived == 4)
    }

    @Test func misorderHorizonIsA1s() {
        // A.1: a packet up to MAX_MISORDER − 1 = 99 behind the highest is accepted;
        // 100 behind is a "very large jump" and is rejected.
        var accepted = Stream()
        accepted.send(sequences(1...200, missing: [101]))
        #expect(accepted.send([(sequence: 101, slot: 201)]) == [.reordered])
        #expect(accepted.stats.snapshot().packetsLost == 0)

        var rejected = Stream()
        rejected.send(sequences(1...200, missing: [100]))
        #expect(rejected.send([(sequence: 100, slot: 201)]) == [.largeJump])
        let summary = rejected.stats.snapshot()
        #expect(summary.packetsLost == 1)
        #expect(summary.packetsRejected == 1)
    }

    @Test func gapBelowMaxDropoutIsLoss() {
        // 1...10 then 3009: udelta = 2999 < MAX_DROPOUT, so 2998 packets were lost.
        var stream = Stream()
        stream.send(sequences(1...10))
        #expect(stream.send([(sequence: 3009, slot: 3009)]) == [.inOrder])
        let summary = stream.stats.snapshot()
        #expect(summary.packetsExpected == 3009)
        #expect(summary.packetsLost == 2998)
        #expect(summary.maxBurst == 2998)
        #expect(summary.lossRuns == 1)
        #expect(summary.sequenceResyncs == 0)
    }

    @Test func jumpOfMaxDropoutResyncsWithoutCountingLoss() throws {
        // 1...10 then 3010, 3011, 3012: udelta = 3000 is a large jump; the second sequential
        // packet re-syncs (A.1) and the jump packet is adopted into the new epoch.
        var stream = Stream()
        stream.send(sequences(1...10))
        let dispositions = stream.send(sequences(3010...3012))
        #expect(dispositions == [.largeJump, .resynchronized, .inOrder])
        let summary = stream.stats.snapshot()
        #expect(summary.packetsExpected == 13)
        #expect(summary.packetsReceived == 13)
        #expect(summary.packetsLost == 0)
        #expect(summary.sequenceResyncs == 1)
        #expect(summary.packetsRejected == 0)
        #expect(summary.maxDeltaMs == 20 * 3000)  // the silence before the jump shows here
        // The RFC view restarts at the re-sync, as A.1's init_seq does.
        let blockFields = stream.stats.makeReportBlockFields()
        let block = try #require(blockFields)
        #expect(block.extendedHighestSequence == 3012)
        #expect(block.cumulativeLost == 0)
    }

    @Test func backwardRestartResyncs() {
        // A sender restarting its numbering lower (5000 → 17), with new random timestamps: a
        // large jump as well. Every packet arrives on time, so jitter must stay 0 — the
        // estimator does not take a transit difference across the restart.
        var stats = ReceiverStatistics(clockRate: 8000)
        var dispositions: [ReceiverStatistics.Disposition] = []
        for (slot, sequence) in (4990...5000).enumerated() {
            dispositions.append(stats.record(sequence: UInt16(sequence), rtpTimestamp: UInt32(slot * 160),
                                             arrivalNanoseconds: Int64(slot) * 20_000_000))
        }
        for (slot, sequence) in (17...20).enumerated() {
            dispositions.append(stats.record(sequence: UInt16(sequence), rtpTimestamp: 0x9000_0000 + UInt32(slot * 160),
                                             arrivalNanoseconds: Int64(11 + slot) * 20_000_000))
        }
        #expect(dispositions.suffix(4) == [.largeJump, .resynchronized, .inOrder, .inOrder])
        let summary = stats.snapshot()
        #expect(summary.packetsExpected == 15)
        #expect(summary.packetsLost == 0)
        #expect(summary.sequenceResyncs == 1)
        #expect(summary.jitterMaxMs == 0)
    }

    @Test func strayJumpPacketIsRejected() {
        var stream = Stream()
        stream.send(sequences(1...10))
        #expect(stream.send([(sequence: 40000, slot: 11)]) == [.largeJump])
        stream.send(sequences(11...12))
        let summary = stream.stats.snapshot()
        #expect(summary.packetsExpected == 12)
        #expect(summary.packetsLost == 0)
        #expect(summary.packetsRejected == 1)
        #expect(summary.sequenceResyncs == 0)
    }

    @Test func latePacketFromBeforeTheFirstExtendsTheUniqueRange() throws {
        // 10, 11 validate; 8 arrives late: 8...11 were sent, 9 is missing.
        var stream = Stream()
        stream.send([(sequence: 10, slot: 10), (sequence: 11, slot: 11), (sequence: 8, slot: 12)])
        let summary = stream.stats.snapshot()
        #expect(summary.packetsExpected == 4)
        #expect(summary.packetsReceived == 3)
        #expect(summary.packetsLost == 1)
        #expect(summary.reordered == 1)
        // A.1 keeps base_seq = 10: expected 2, received 3, "lost" −1, as the RFC allows.
        #expect(summary.rfc3550CumulativeLost == -1)
        let blockFields = stream.stats.makeReportBlockFields()
        let block = try #require(blockFields)
        #expect(block.cumulativeLost == -1)
    }
}

@Suite struct ReceiverStatisticsLossTests {
    @Test func lossRunsOfKnownLengths() {
        // 1...100 with runs {10}, {20, 21, 22}, {50, 51}: 6 lost in 3 runs.
        var stream = Stream()
        stream.send(sequences(1...100, missing: [10, 20, 21, 22, 50, 51]))
        let summary = stream.stats.snapshot()
        #expect(summary.packetsExpected == 100)
        #expect(summary.packetsLost == 6)
        #expect(summary.lossPercent == 6)
        #expect(summary.lossRuns == 3)
        #expect(summary.maxBurst == 3)
        // Mean run 2 × (1 − 0.06) = 1.88 = 1/(3/94 + 3/6).
        #expect(abs(summary.burstRatio - 1.88) < 1e-12)
    }

    @Test func reportBlockFractionIsPerInterval() throws {
        var stream = Stream()
        stream.send(sequences(1...100, missing: Set(41...50)))
        let firstFields = stream.stats.makeReportBlockFields()
        let first = try #require(firstFields)
        #expect(first.fractionLost == 25)  // (10 << 8) / 100 = 25.6 → 25
        #expect(first.cumulativeLost == 10)
        #expect(first.extendedHighestSequence == 100)

        stream.send(sequences(101...200))
        let secondFields = stream.stats.makeReportBlockFields()
        let second = try #require(secondFields)
        #expect(second.fractionLost == 0)
        #expect(second.cumulativeLost == 10)

        stream.send(sequences(201...300, missing: [300 - 1]))
        let fields = stream.stats.makeReportBlockFields()
        #expect(fields?.fractionLost == 2)  // (1 << 8) / 100
    }

    @Test func cumulativeLostClampsTo24BitSigned() throws {
        // 2,800 gaps of 2,998 lost packets each: 8,394,400 lost > 0x7FFFFF = 8,388,607.
        var stats = ReceiverStatistics(clockRate: 8000)
        var sequence: UInt16 = 0
        var slot: Int64 = 0
        func send() {
            stats.record(sequence: sequence, rtpTimestamp: UInt32(truncatingIfNeeded: slot * 160), arrivalNanoseconds: slot * 20_000_000)
            slot += 1
        }
        send(); sequence &+= 1; send()
        for _ in 0..<2800 {
            sequence &+= 2999
            send()
        }
        let summary = stats.snapshot()
        #expect(summary.packetsLost == 2800 * 2998)
        let blockFields = stats.makeReportBlockFields()
        let block = try #require(blockFields)
        #expect(block.cumulativeLost == 0x7F_FFFF)
    }

    /// Random loss (Gilbert model), duplicates and short reorders over 200,000 packets
    /// (three sequence wraps), checked against a direct computation on sets.
    @Test func matchesABruteForceCountOverALongStream() {
        var random = SplitMix64(seed: 2024)
        var sent: [Int64] = []
        var lossState = false
        for extended in Int64(60_000)..<260_000 {
            // p(received→lost) = 2 %, p(lost→received) = 40 %; the first two always arrive.
            let roll = Double(random.next() % 10_000) / 10_000
            lossState = lossState ? roll >= 0.4 : roll < 0.02
            if extended < 60_002 || !lossState { sent.append(extended) }
        }
        var arrivals: [Int64] = []
        var index = 0
        while index < sent.count {
            // Occasionally swap with a packet up to 5 ahead; occasionally duplicate.
            if index > 2, random.next() % 100 == 0, index + 5 < sent.count {
                let other = index + Int(random.next() % 5) + 1
                sent.swapAt(index, other)
            }
            arrivals.append(sent[index])
            if index > 2, random.next() % 200 == 0 { arrivals.append(sent[index]) }
            index += 1
        }

        var stats = ReceiverStatistics(clockRate: 8000)
        for (slot, extended) in arrivals.enumerated() {
            stats.record(sequence: UInt16(truncatingIfNeeded: extended), rtpTimestamp: UInt32(truncatingIfNeeded: extended * 160),
                         arrivalNanoseconds: Int64(slot) * 20_000_000)
        }

        // Brute force.
        let unique = Set(arrivals)
        let lowest = unique.min()!, highest = unique.max()!
        var runs = 0, longest = 0, current = 0
        for extended in lowest...highest {
            if unique.contains(extended) { current = 0 } else {
                if current == 0 { runs += 1 }
                current += 1
                longest = max(longest, current)
            }
        }
        var seen = Set<Int64>(), highestSoFar = Int64.min, reordered = 0, duplicates = 0
        for extended in arrivals {
            if seen.contains(extended) { duplicates += 1; continue }
            if extended < highestSoFar { reordered += 1 }
            seen.insert(extended)
            highestSoFar = max(highestSoFar, extended)
        }
        let expected = Int(highest - lowest + 1)
        let lost = expected - unique.count

        let summary = stats.snapshot()
        #expect(summary.packetsExpected == expected)
        #expect(summary.packetsReceived == unique.count)
        #expect(summary.packetsLost == lost)
        #expect(summary.duplicates == duplicates)
        #expect(summary.reordered == reordered)
        #expect(summary.lossRuns == runs)
        #expect(summary.maxBurst == longest)
        let burst = Double(lost) / Double(runs) * Double(unique.count) / Double(expected)
        #expect(abs(summary.burstRatio - burst) < 1e-9)
        #expect(summary.burstRatio > 2)  // the Gilbert model's 1/(p+q) = 1/0.42 ≈ 2.4
        #expect(summary.packetsRejected == 0)
    }
}

@Suite struct ReceiverStatisticsJitterTests {
    /// Arrivals at 0, 20, 45, 60, 80, 110, 120 ms for packets sent every 20 ms (160 ticks).
    /// Independent computation (Python, RFC 3550 A.8 floating-point form):
    ///
    ///     arr = [0, 20, 45, 60, 80, 110, 120]; J = 0; js = []
    ///     for i in range(1, len(arr)):
    ///         D = (arr[i] - arr[i-1]) * 8 - 160
    ///         J += (abs(D) - J) / 16; js.append(J)
    ///     # js = [0.0, 2.5, 4.84375, 4.541015625, 9.2572021484375, 13.678627014160156]
    ///     # mean(js) = 5.803432464599609 ticks = 0.7254290580749512 ms; max = 1.7098283767700195 ms
    static let arrivalsMs: [Int64] = [0, 20, 45, 60, 80, 110, 120]

    func run(timestampBase: UInt32, arrivalBase: Int64) -> ReceiverStatistics {
        var stats = ReceiverStatistics(clockRate: 8000)
        for (index, arrival) in Self.arrivalsMs.enumerated() {
            stats.record(sequence: UInt16(500 + index), rtpTimestamp: timestampBase &+ UInt32(160 * index),
                         arrivalNanoseconds: arrivalBase + arrival * 1_000_000)
        }
        return stats
    }

    @Test func knownArrivalPattern() throws {
        var stats = run(timestampBase: 1000, arrivalBase: 0)
        #expect(abs(stats.jitter - 13.678627014160156) < 1e-9)
        let summary = stats.snapshot()
        #expect(abs(summary.jitterMs - 1.7098283767700195) < 1e-12)
        #expect(abs(summary.jitterMeanMs - 0.7254290580749512) < 1e-12)
        #expect(abs(summary.jitterMaxMs - 1.7098283767700195) < 1e-12)
        #expect(summary.maxDeltaMs == 30)
        let fields = stats.makeReportBlockFields()
        #expect(fields?.interarrivalJitter == 13)
    }

    @Test func timestampWrapAndArrivalBaseDoNotMatter() {
        // Timestamps crossing 2^32 and arrivals on an epoch-sized clock give the same jitter.
        let stats = run(timestampBase: UInt32.max - 400, arrivalBase: 1_700_000_000_000_000_000)
        #expect(abs(stats.jitter - 13.678627014160156) < 1e-9)
    }

    @Test func summaryEncodesWithDesignNames() throws {
        let summary = run(timestampBase: 0, arrivalBase: 0).snapshot()
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(summary)) as? [String: Any]
        let keys = Set(try #require(json).keys)
        #expect(keys.isSuperset(of: ["packets_expected", "packets_received", "packets_lost", "duplicates", "reordered",
                                     "loss_pct", "burst_ratio", "max_burst", "jitter_mean_ms", "jitter_max_ms", "max_delta_ms"]))
        #expect(try JSONDecoder().decode(ReceiverStatistics.Summary.self, from: JSONEncoder().encode(summary)) == summary)
    }
}
