import RTPCore
import Testing

/// The signal a listener gets: `frames` 20-ms frames of `samples(start)`, through a G.711
/// encode/decode round trip.
private func received(_ law: G711Law, frames: Int, firstFrame: Int = 0, _ samples: (Int64) -> [Int16]) -> [[Int16]] {
    (firstFrame..<firstFrame + frames).map { frame in
        var codes: [UInt8] = []
        law.encode(samples(Int64(frame) * 160), into: &codes)
        var decoded: [Int16] = []
        law.decode(codes, into: &decoded)
        return decoded
    }
}

/// A conference bridge's mix: the sum of the participants' signals, scaled, clipped.
private func mix(_ generators: [TestSignalGenerator], gain: Double) -> (Int64) -> [Int16] {
    { start in
        let frames = generators.map { $0.frame(startingAt: start) }
        return (0..<160).map { index in
            let sum = frames.reduce(0.0) { $0 + Double($1[index]) } * gain
            return Int16(max(-32768, min(32767, sum.rounded())))
        }
    }
}

@Suite struct GoertzelTests {
    /// Three seconds: a whole talk/pause cycle.
    static let cycleFrames = 150

    @Test(arguments: [G711Law.muLaw, .aLaw])
    func everyToneIsFoundAfterAG711RoundTrip(law: G711Law) {
        for frequency in IdentifyingTone.frequencies {
            let generator = TestSignalGenerator(toneFrequency: frequency)
            let detector = GoertzelDetector(frequency: Double(frequency))
            let frames = received(law, frames: Self.cycleFrames) { generator.frame(startingAt: $0) }
            let shares = frames.map { detector.measure($0).share }
            #expect(frames.allSatisfy(detector.detects(in:)), "\(frequency) Hz over \(law)")
            #expect(shares.min()! > 0.5, "\(frequency) Hz over \(law)")
        }
    }

    @Test(arguments: [G711Law.muLaw, .aLaw])
    func fiveToneConferenceMixKeepsTonesApart(law: G711Law) {
        let present = (0..<5).map(IdentifyingTone.frequency(slot:))
        let absent = (5..<IdentifyingTone.frequencies.count).map(IdentifyingTone.frequency(slot:))
        let frames = received(law, frames: Self.cycleFrames, mix(present.map { TestSignalGenerator(toneFrequency: $0) }, gain: 0.5))
        for frequency in present {
            let detector = GoertzelDetector(frequency: Double(frequency))
            #expect(frames.allSatisfy(detector.detects(in:)), "\(frequency) Hz should be heard")
            // Each tone carries about a fifth of the mix's energy, well above the 0.05 threshold.
            #expect(frames.map { detector.measure($0).share }.min()! > 0.15)
        }
        for frequency in absent {
            let detector = GoertzelDetector(frequency: Double(frequency))
            #expect(!frames.contains(where: detector.detects(in:)), "\(frequency) Hz is not in the mix")
            #expect(frames.map { detector.measure($0).share }.max()! < 0.001)
        }
    }

    @Test func tenPartyMixStillCarriesEveryTone() {
        let present = (0..<10).map(IdentifyingTone.frequency(slot:))
        let frames = received(.muLaw, frames: Self.cycleFrames, mix(present.map { TestSignalGenerator(toneFrequency: $0) }, gain: 0.3))
        for frequency in present {
            let detector = GoertzelDetector(frequency: Double(frequency))
            #expect(frames.allSatisfy(detector.detects(in:)), "\(frequency) Hz should be heard")
            #expect(frames.map { detector.measure($0).share }.min()! > 0.08)
        }
    }

    @Test func anotherParticipantsToneIsNotMistakenForOurs() {
        let frames = received(.muLaw, frames: Self.cycleFrames) { TestSignalGenerator(toneFrequency: 1750).frame(startingAt: $0) }
        for frequency in IdentifyingTone.frequencies where frequency != 1750 {
            let detector = GoertzelDetector(frequency: Double(frequency))
            #expect(!frames.contains(where: detector.detects(in:)), "\(frequency) Hz")
        }
    }

    @Test func silenceIsRejected() {
        let detector = GoertzelDetector(frequency: 1750)
        let digitalSilence = detector.measure([Int16](repeating: 0, count: 160))
        #expect(!digitalSilence.isPresent)
        #expect(digitalSilence.share == 0)
        #expect(digitalSilence.frameLevelDb == -.infinity)
        // A-law has no zero: silence decodes to +8 everywhere (−72 dBov, no energy at 1750 Hz).
        let aLawSilence = [Int16](repeating: G711Law.aLaw.decode(G711Law.aLaw.silenceCode), count: 160)
        #expect(aLawSilence.first == 8)
        #expect(!detector.detects(in: aLawSilence))
    }

    @Test func toneBelowTheLevelFloorIsRejected() {
        let faint = TestSignalGenerator(configuration: .init(toneFrequency: 1750, toneLevelDb: -60, harmonics: 0))
        let measurement = GoertzelDetector(frequency: 1750).measure(faint.frame(startingAt: 0))
        #expect(measurement.share > 0.99)  // it is there, and alone...
        #expect(!measurement.isPresent)  // ...but at −60 dBov it is line noise, not a participant
    }

    @Test func whiteNoiseIsRejected() {
        var random = SplitMix64(seed: 42)
        let detector = GoertzelDetector(frequency: 1750)
        var tracker = ToneTracker()
        var hits = 0
        for _ in 0..<500 {
            let frame = TestSignalGenerator.whiteNoise(count: 160, levelDb: -20, using: &random)
            let detected = detector.detects(in: frame)
            if detected { hits += 1 }
            tracker.record(toneDetected: detected)
        }
        // The share of one bin in white noise is exponential with mean 2/160: P(> 0.05) ≈ 1.8 %.
        #expect(hits < 25)
        #expect(tracker.report.verdict == .absent)
    }
}

@Suite struct ToneTrackerTests {
    func track(_ law: G711Law, frequency: Int, frames: Int, silent: (Int) -> Bool) -> ToneTracker.Report {
        let generator = TestSignalGenerator(toneFrequency: frequency)
        let detector = GoertzelDetector(frequency: Double(frequency))
        var tracker = ToneTracker()
        let stream = received(law, frames: frames) { start in
            silent(Int(start / 160)) ? [Int16](repeating: 0, count: 160) : generator.frame(startingAt: start)
        }
        for frame in stream { tracker.record(toneDetected: detector.detects(in: frame)) }
        return tracker.report
    }

    @Test func unbrokenToneIsContinuous() {
        let report = track(.aLaw, frequency: 2250, frames: 500, silent: { _ in false })
        #expect(report == .init(frames: 500, framesWithTone: 500, fraction: 1, firstToneFrame: 0,
                                longestGapFrames: 0, longestGapMs: 0, verdict: .continuous))
    }

    @Test func oneSecondGapIsNotContinuous() {
        // 10 s with audio missing from 4 s to 5 s: 90 % of frames carry the tone, but a
        // one-second hole is what one-way audio after a re-INVITE looks like.
        let report = track(.muLaw, frequency: 1850, frames: 500, silent: { (200..<250).contains($0) })
        #expect(report == .init(frames: 500, framesWithTone: 450, fraction: 0.9, firstToneFrame: 0,
                                longestGapFrames: 50, longestGapMs: 1000, verdict: .intermittent))
    }

    @Test func scatteredLostFramesStayContinuous() {
        let report = track(.muLaw, frequency: 450, frames: 500, silent: { $0 % 50 == 7 })  // 2 % loss
        #expect(report.verdict == .continuous)
        #expect(report.longestGapFrames == 1)
        #expect(report.framesWithTone == 490)
    }

    @Test func lateStartCountsAsAGap() {
        let report = track(.muLaw, frequency: 550, frames: 100, silent: { $0 < 20 })
        #expect(report.firstToneFrame == 20)
        #expect(report.longestGapMs == 400)
        #expect(report.verdict == .intermittent)
    }

    @Test func noFramesIsAbsent() {
        #expect(ToneTracker().report.verdict == .absent)
        var tracker = ToneTracker()
        for _ in 0..<10 { tracker.record(toneDetected: false) }
        #expect(tracker.report == .init(frames: 10, framesWithTone: 0, fraction: 0, firstToneFrame: nil,
                                        longestGapFrames: 10, longestGapMs: 200, verdict: .absent))
    }
}
