@testable import AgentKit
import RTPCore
import Testing

/// A generator that always returns the same word: `UInt64.max` makes every
/// `random(in: 0...n)` return n (the top of the range), 1 returns 0 (0 itself would make the
/// standard library's rejection sampling loop for ever).
struct ConstantRandom: RandomNumberGenerator {
    var value: UInt64
    mutating func next() -> UInt64 { value }
}

@Suite("Reconnect backoff")
struct BackoffTests {
    @Test func ceilingsDoubleFromOneSecondToTheCap() {
        var backoff = ReconnectBackoff(base: .seconds(1), cap: .seconds(60))
        var top = ConstantRandom(value: .max)
        let delays = (0..<9).map { _ in backoff.next(using: &top) }
        #expect(delays == [1, 2, 4, 8, 16, 32, 60, 60, 60].map { Duration.seconds($0) })
        #expect(backoff.attempt == 9)
    }

    @Test func fullJitterReachesZero() {
        var backoff = ReconnectBackoff(base: .seconds(1), cap: .seconds(60))
        var bottom = ConstantRandom(value: 1)
        #expect((0..<5).map { _ in backoff.next(using: &bottom) } == Array(repeating: .zero, count: 5))
    }

    @Test func seededSequenceIsRepeatableAndInsideTheCeilings() {
        var a = ReconnectBackoff(base: .seconds(1), cap: .seconds(60))
        var b = ReconnectBackoff(base: .seconds(1), cap: .seconds(60))
        var rngA = SplitMix64(seed: 7)
        var rngB = SplitMix64(seed: 7)
        let ceilings: [Duration] = [1, 2, 4, 8, 16, 32, 60, 60, 60, 60].map { .seconds($0) }
        let first = (0..<10).map { _ in a.next(using: &rngA) }
        let second = (0..<10).map { _ in b.next(using: &rngB) }
        #expect(first == second)
        for (delay, ceiling) in zip(first, ceilings) {
            #expect(delay >= .zero && delay <= ceiling, "\(delay) outside 0...\(ceiling)")
        }
        // Jitter, not a fixed schedule: the delays are not simply the ceilings.
        #expect(first != ceilings)
        var other = ReconnectBackoff(base: .seconds(1), cap: .seconds(60))
        var rngC = SplitMix64(seed: 8)
        #expect((0..<10).map { _ in other.next(using: &rngC) } != first)
    }

    @Test func resetStartsOverAndFatalWaitsTheCap() {
        var backoff = ReconnectBackoff(base: .milliseconds(500), cap: .seconds(30))
        var top = ConstantRandom(value: .max)
        _ = backoff.next(using: &top)
        _ = backoff.next(using: &top)
        #expect(backoff.ceiling == .seconds(2))
        backoff.reset()
        #expect(backoff.next(using: &top) == .milliseconds(500))
        #expect(backoff.fatal() == .seconds(30))
        // After a fatal refusal the next ordinary delay stays at the cap too.
        #expect(backoff.next(using: &top) == .seconds(30))
    }
}
