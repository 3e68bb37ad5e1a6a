import RTPCore

extension MediaReport {
    /// Media counters of one second of a session, counted from `start` (the evidence's
    /// `media_seconds`, DESIGN §3): what happened in that second, so that a drop-out shows
    /// where it began. Seconds are closed as the media loop handles the first packet or timer
    /// at or after each whole second; the last entry of a report may be a partial second.
    public struct Second: Sendable, Hashable, Encodable {
        /// 0 for the first second after `start`.
        public var second: Int
        /// RTP packets sent (audio and events) in this second.
        public var sent: Int
        /// Unique RTP packets received in this second (after RFC 3550 A.1 probation).
        public var received: Int
        /// Change of the unique loss count in this second. Sequence numbers still inside the
        /// reorder window count as lost until they arrive, so a late arrival can make a
        /// second's value negative; the sum over all seconds is the stream's `packets_lost`.
        public var lost: Int
        /// RFC 3550 A.8 interarrival jitter of the audio packets at the end of the second, ms;
        /// nil before the first audio packet.
        public var jitterMs: Double?

        public init(second: Int, sent: Int, received: Int, lost: Int, jitterMs: Double?) {
            self.second = second
            self.sent = sent
            self.received = received
            self.lost = lost
            self.jitterMs = jitterMs
        }

        enum CodingKeys: String, CodingKey { case second, sent, received, lost, jitterMs = "jitter_ms" }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(second, forKey: .second)
            try c.encode(sent, forKey: .sent)
            try c.encode(received, forKey: .received)
            try c.encode(lost, forKey: .lost)
            try c.encode(jitterMs, forKey: .jitterMs)
        }
    }
}

/// The per-second counters of one session: cumulative totals are sampled at each whole second
/// after `start` and kept as differences. Sampling costs one comparison per packet or timer,
/// and one statistics snapshot per second.
struct SecondCounters: Sendable {
    struct Totals: Sendable, Hashable {
        var sent = 0
        var received = 0
        var lost = 0
        var jitterMs: Double?
    }

    /// A day of seconds; later seconds are not kept (the totals still are, in the report).
    static let limit = 86_400
    static let second: Int64 = 1_000_000_000

    private(set) var closed: [MediaReport.Second] = []
    private var base = Totals()
    private var index = 0
    /// The monotonic time at which the current second ends (`.max` before `start`).
    private(set) var nextBoundary: Int64 = .max

    mutating func start(at time: Int64) {
        nextBoundary = time + Self.second
    }

    /// Closes every second that ended by `now`. `totals` is read only when one did.
    mutating func close(upTo now: Int64, totals: () -> Totals) {
        guard now >= nextBoundary else { return }
        let current = totals()
        while now >= nextBoundary {
            append(current, to: &closed, base: &base, index: &index)
            nextBoundary += Self.second
        }
    }

    /// The closed seconds, then the seconds that ended by `end` with nothing handled since
    /// (the first takes what changed, the rest are quiet), then the partial second `end`
    /// falls in.
    func seconds(end: Int64, totals: Totals) -> [MediaReport.Second] {
        guard nextBoundary != .max else { return [] }
        var out = closed
        var base = self.base
        var index = self.index
        var boundary = nextBoundary
        while end >= boundary {
            append(totals, to: &out, base: &base, index: &index)
            boundary += Self.second
        }
        if end > boundary - Self.second {
            append(totals, to: &out, base: &base, index: &index)
        }
        return out
    }

    private func append(_ totals: Totals, to list: inout [MediaReport.Second], base: inout Totals, index: inout Int) {
        if list.count < Self.limit {
            list.append(MediaReport.Second(second: index, sent: totals.sent - base.sent, received: totals.received - base.received,
                                           lost: totals.lost - base.lost, jitterMs: totals.jitterMs))
        }
        base = totals
        index += 1
    }
}

extension SessionCore {
    /// The cumulative counters the per-second view is made of.
    func secondTotals() -> SecondCounters.Totals {
        let statistics = receiver?.sequence.snapshot()
        let audio = (receiver?.audioPackets ?? 0) > 0
        return SecondCounters.Totals(
            sent: sender?.packets ?? 0, received: statistics?.packetsReceived ?? 0, lost: statistics?.packetsLost ?? 0,
            jitterMs: audio ? receiver.map { $0.timing.jitter * 1000 / Double($0.clockRate) } : nil)
    }

    /// Closes the seconds that ended by `now` (before handling what happens at `now`).
    mutating func closeSeconds(upTo now: Int64) {
        guard now >= seconds.nextBoundary else { return }
        let totals = secondTotals()
        seconds.close(upTo: now) { totals }
    }
}
