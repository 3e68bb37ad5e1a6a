import RTPCore
import Testing

/// Builds a `LossRuns` from a pattern: "R" received, "L" lost (spaces ignored).
private func runs(_ pattern: String) -> LossRuns {
    var result = LossRuns()
    for character in pattern where character != " " {
        result.record(received: character == "R")
    }
    return result
}

@Suite struct LossRunsTests {
    @Test func emptyAndLossFreeSequencesHaveBurstRatioOne() {
        #expect(LossRuns().burstRatio == 1)
        #expect(LossRuns().lossFraction == 0)
        let clean = runs("RRRRRRRR")
        #expect(clean.burstRatio == 1)
        #expect(clean.runs == 0)
        #expect(clean.longestRun == 0)
    }

    @Test func knownPattern() {
        // R R L L L R R R R L R: 7 received, 4 lost in runs of 3 and 1.
        let pattern = runs("RR LLL RRRR L R")
        #expect(pattern.received == 7)
        #expect(pattern.lost == 4)
        #expect(pattern.runs == 2)
        #expect(pattern.longestRun == 3)
        #expect(pattern.openRun == 0)
        #expect(pattern.meanRunLength == 2)
        #expect(pattern.receivedToLost == 2.0 / 7)  // p
        #expect(pattern.lostToReceived == 0.5)  // q
        // 1/(2/7 + 1/2) = 14/11 = mean run 2 × (1 − 4/11).
        #expect(abs(pattern.burstRatio - 14.0 / 11) < 1e-15)
    }

    @Test func openRunAtTheEnd() {
        let pattern = runs("RRLL")
        #expect(pattern.openRun == 2)
        #expect(pattern.runs == 1)
        #expect(pattern.longestRun == 2)
    }

    @Test func bulkRecordingEqualsOneByOne() {
        var bulk = LossRuns()
        bulk.record(received: true, count: 5)
        bulk.record(received: false, count: 3)
        bulk.record(received: false, count: 2)  // continues the same run
        bulk.record(received: true, count: 1)
        bulk.record(received: false, count: 0)  // nothing
        #expect(bulk == runs("RRRRR LLLLL R"))
    }

    @Test func moreSpreadThanRandomIsClampedToOne() {
        // Alternate packets lost: mean run 1 × (1 − 0.5) = 0.5 < 1.
        let alternate = runs(String(repeating: "RL", count: 50) + "R")
        #expect(alternate.burstRatio == 1)
    }

    /// The two G.107 readings of BurstR — 1/(p + q) of the Markov model, and mean observed
    /// run length over the mean run length of random loss, 1/(1 − loss fraction) — agree
    /// for every sequence.
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func markovAndMeanRunReadingsAgree(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var pattern = LossRuns()
        pattern.record(received: true)
        for _ in 0..<5_000 { pattern.record(received: random.next() % 7 != 0 || random.next() % 3 == 0) }
        pattern.record(received: true)
        let markov = 1 / (pattern.receivedToLost + pattern.lostToReceived)
        let meanRun = pattern.meanRunLength * (1 - pattern.lossFraction)
        #expect(abs(markov - meanRun) < 1e-12)
        #expect(pattern.burstRatio == max(1, markov))
    }

    /// A two-state Markov (Gilbert) loss process with p = 0.05, q = 0.25 has BurstR =
    /// 1/(p + q) = 3.33…; the estimate from one million steps is within 2 %.
    @Test func estimatesTheBurstRatioOfAMarkovProcess() {
        var random = SplitMix64(seed: 107)
        var lost = false
        var pattern = LossRuns()
        for _ in 0..<1_000_000 {
            let roll = Double(random.next() >> 11) / Double(1 << 53)
            lost = lost ? roll >= 0.25 : roll < 0.05
            pattern.record(received: !lost)
        }
        #expect(abs(pattern.burstRatio - 1 / 0.3) / (1 / 0.3) < 0.02)
        #expect(abs(pattern.lossFraction - 0.05 / 0.3) < 0.005)  // stationary p/(p + q)
    }
}
