import Foundation
import RTPCore
import Testing

@Suite struct TestSignalTests {
    @Test func framesArePhaseContinuousAndRepeatable() {
        let generator = TestSignalGenerator(toneFrequency: 1750)
        let long = generator.frame(startingAt: 8000 * 3600, count: 320)  // an hour in
        let halves = generator.frame(startingAt: 8000 * 3600, count: 160) + generator.frame(startingAt: 8000 * 3600 + 160, count: 160)
        #expect(long == halves)
        #expect(long == (0..<320).map { generator.sample(at: 8000 * 3600 + Int64($0)) })
        #expect(TestSignalGenerator(toneFrequency: 1750).frame(startingAt: 77, count: 500) == generator.frame(startingAt: 77, count: 500))
    }

    /// Talk 8 syllables, pause 4 (at 4 syllables/s: 2 s talk, 1 s pause). During the pause the
    /// signal is exactly the tone alone; a pause spans 8000 samples = 50 frames, 49 whole
    /// ones when it does not start on a frame boundary.
    @Test func pausesCarryOnlyTheTone() {
        let signal = TestSignalGenerator(toneFrequency: 1850)
        let toneOnly = TestSignalGenerator(configuration: .init(toneFrequency: 1850, harmonics: 0))
        let pauseFrames = (0..<150).filter { frame in
            signal.frame(startingAt: Int64(frame) * 160) == toneOnly.frame(startingAt: Int64(frame) * 160)
        }
        #expect((49...50).contains(pauseFrames.count))
        #expect(pauseFrames.last! - pauseFrames.first! == pauseFrames.count - 1)  // one contiguous pause
    }

    @Test func levelsAreCalibrated() {
        let toneOnly = TestSignalGenerator(configuration: .init(toneFrequency: 550, harmonics: 0))
        let measurement = GoertzelDetector(frequency: 550).measure(toneOnly.frame(startingAt: 0))
        #expect(abs(measurement.toneLevelDb - -20) < 0.01)
        #expect(abs(measurement.frameLevelDb - -20) < 0.01)
        #expect(measurement.share > 0.9999)

        // Speech alone (signal − tone): its loudest frame, at a syllable's peak, is ≈ −26 dBov.
        let signal = TestSignalGenerator(toneFrequency: 550)
        let speechLevels = (0..<150).map { frame -> Double in
            let start = Int64(frame) * 160
            let speech = zip(signal.frame(startingAt: start), toneOnly.frame(startingAt: start)).map { Double($0) - Double($1) }
            let meanSquare = speech.reduce(0) { $0 + $1 * $1 } / 160
            return 10 * log10(meanSquare / (32767.0 * 32767.0 / 2))
        }
        let loudest = speechLevels.max()!
        #expect(loudest > -26.3 && loudest < -26)
    }

    @Test func identifyingTonesAreWellPlaced() {
        let tones = IdentifyingTone.frequencies
        #expect(tones.count == 17)
        #expect(Set(tones).count == tones.count)
        let dtmfAndTestTones = [697, 770, 852, 941, 1209, 1336, 1477, 1633, 1004, 1100]
        for tone in tones {
            #expect(tone % 100 == 50, "\(tone) Hz is not an odd multiple of 50 Hz")
            #expect(tone > 300 && tone < 3400)
            #expect(dtmfAndTestTones.allSatisfy { abs($0 - tone) >= 60 }, "\(tone) Hz")
            #expect([2100, 2600].allSatisfy { abs($0 - tone) >= 100 }, "\(tone) Hz")
        }
        #expect(IdentifyingTone.frequency(slot: 0) == 1750)
        #expect(IdentifyingTone.frequency(slot: 17) == 1750)
        #expect(IdentifyingTone.frequency(slot: -1) == 3350)
    }

    @Test func participantIdMapsToAStableSlot() {
        // FNV-1a-64("agent-1") = 0x9c3f9a8a5ba8d740 (computed in Python); mod 17 = 12.
        #expect(IdentifyingTone.slot(for: "agent-1") == 12)
        #expect(IdentifyingTone.frequency(for: "agent-1") == IdentifyingTone.frequencies[12])
    }
}
