/// Reconnect delays: capped exponential backoff with full jitter — the n-th delay (from 0) is
/// uniform in [0, min(cap, base·2ⁿ)] — so that agents cut off together do not come back
/// together. A fatal refusal (`revoked`, `version_mismatch`, `enrollment_refused`) waits the
/// cap itself: nothing an immediate retry could fix.
public struct ReconnectBackoff: Sendable, Hashable {
    public let base: Duration
    public let cap: Duration
    /// Failures since the last successful session.
    public private(set) var attempt = 0

    public init(base: Duration = .seconds(1), cap: Duration = .seconds(60)) {
        self.base = base
        self.cap = max(cap, base)
    }

    /// The ceiling of the next delay: min(cap, base·2^attempt).
    public var ceiling: Duration {
        // 2^attempt overflows nothing: past 62 doublings the cap has long been reached.
        guard attempt < 62 else { return cap }
        let grown = base * (1 << attempt)
        return grown > cap || grown < base ? cap : grown
    }

    /// The delay before the next attempt, and one more failure counted.
    public mutating func next(using random: inout some RandomNumberGenerator) -> Duration {
        let ceiling = self.ceiling
        attempt += 1
        let nanoseconds = ceiling.nanoseconds
        guard nanoseconds > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...nanoseconds, using: &random))
    }

    /// After a fatal refusal: the cap, and the sequence stays at its top.
    public mutating func fatal() -> Duration {
        attempt = max(attempt, 62)
        return cap
    }

    /// A session got as far as `welcome`: start again from `base`.
    public mutating func reset() { attempt = 0 }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    var seconds: Double { Double(nanoseconds) / 1e9 }
}
