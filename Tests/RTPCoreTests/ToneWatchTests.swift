import Foundation
import RTPCore
import Testing

/// A sine at `dB` dBov, whole 20-ms frame starting at sample 0 (the tones complete whole cycles).
private func sine(_ hz: Int, dB: Double) -> [Int16] {
    let amplitude = 32767 * pow(10, dB / 20)
    return (0..<160).map { Int16((amplitude * sin(2 * .pi * Double(hz * $0) / 8000)).rounded()) }
}

private func sum(_ frames: [Int16]...) -> [Int16] {
    (0..<160).map { i in Int16(frames.reduce(0) { $0 + Int($1[i]) }) }
}

@Suite struct ToneWatchTests {
    /// Two tones of three watched, in the frames of second 0; nothing in second 1 but one
    /// missing frame; the per-second counts, trackers and mean levels follow.
    @Test func countsPerSecondAndLevels() {
        var watch = ToneWatch(frequencies: [1750, 1850, 1950])
        let both = sum(sine(1750, dB: -20), sine(1950, dB: -26))
        for k in 0..<50 {
            let mask = watch.measure(both)
            #expect(mask == 0b101)
            watch.record(mask, at: Int64(k) * 20_000_000)
        }
        for k in 50..<99 { watch.record(watch.measure(sine(1850, dB: -30)), at: Int64(k) * 20_000_000) }
        watch.record(nil, at: 99 * 20_000_000)
        #expect(watch.framesInSecond == [50, 50])
        #expect(watch.framesPerSecond == [[50, 0], [0, 49], [50, 0]])
        #expect(abs((watch.meanLevelDb(0) ?? 0) + 20) < 0.1)
        #expect(abs((watch.meanLevelDb(1) ?? 0) + 30) < 0.1)
        #expect(abs((watch.meanLevelDb(2) ?? 0) + 26) < 0.1)
        #expect(watch.trackers[0].report.framesWithTone == 50)
        #expect(watch.trackers[1].report.longestGapFrames == 50)
        #expect(watch.trackers[2].report.fraction == 0.5)
    }

    /// Digital silence has no tone; a negative offset counts in second 0.
    @Test func silenceAndEarlyFrames() {
        var watch = ToneWatch(frequencies: [550])
        #expect(watch.measure(Array(repeating: 0, count: 160)) == 0)
        watch.record(0, at: -5_000_000)
        watch.record(watch.measure(sine(550, dB: -20)), at: 2_500_000_000)
        #expect(watch.framesInSecond == [1, 0, 1])
        #expect(watch.framesPerSecond == [[0, 0, 1]])
        #expect(watch.meanLevelDb(0) != nil)
    }
}
