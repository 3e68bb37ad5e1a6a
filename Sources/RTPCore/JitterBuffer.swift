/// A receiver's jitter buffer, emulated: which packets would have arrived too late to be
/// played, and how long the played ones waited.
///
/// Packets that arrive after their playout time are lost to the listener even though the
/// network delivered them; the E-model counts them with the network losses
/// (reference/emodel.md: Ppl = (unique lost + discarded) / expected), and the time packets
/// wait in the buffer is part of the mouth-to-ear delay Ta. Nothing is actually buffered:
/// each packet's fate is decided from its RTP timestamp and arrival time as it arrives.
///
/// Playout schedule. The first packet anchors the media clock: packet i is due at
///
///     playout_i = arrival_first + (ts_i − ts_first) / clockRate + P
///
/// where P is the playout offset. A packet is a *late discard* when `arrival_i > playout_i`;
/// otherwise it waits `playout_i − arrival_i` (its buffer delay).
///
/// * **Fixed** — P is the nominal delay D for the whole call.
/// * **Adaptive** — Ramjee, Kurose, Towsley, Schulzrinne, "Adaptive playout mechanisms for
///   packetized audio applications in wide-area networks", IEEE INFOCOM 1994, Algorithm 1.
///   With n_i the packet's delay relative to the first packet's
///   (`arrival_i − arrival_first − (ts_i − ts_first)/clockRate`), every packet updates
///
///       d̂_i = α·d̂_{i−1} + (1 − α)·n_i
///       v̂_i = α·v̂_{i−1} + (1 − α)·|d̂_i − n_i|
///
///   and at an adaptation point the offset becomes `P = d̂ + clamp(β·v̂, minimum, maximum)`
///   (α = 0.998002 and β = 4 as in the paper; the clamp is Earshot's, so that the buffer
///   neither starts at zero delay nor grows without bound). Adaptation points are the
///   first packet, every talkspurt start (marker bit, RFC 3551 §4.1 — the paper's choice,
///   where a gap in the audio hides the change), and — because Earshot's senders send
///   continuously and set the marker only once — every `resizeIntervalMs` of media time,
///   emulating the time-stretching buffers of current phones. A new offset applies to the
///   adaptation packet and everything after it in timestamp order; a late straggler from
///   before keeps the previous offset.
///
/// Duplicates (by sequence number) are neither played twice nor discarded twice: they are
/// counted apart and ignored. A packet more than 1024 sequence numbers older than the
/// newest is scheduled without a duplicate check (it is late in any sane buffer). When the
/// newest packet's relative delay differs from the playout offset by more than 10 s (a
/// timestamp discontinuity, e.g. a sender restart) the schedule is re-anchored on it, as a
/// real buffer would flush and restart (`resets`). There is no clock-drift compensation:
/// with a fixed buffer, sender/receiver clock skew slowly changes the buffer delay, as it
/// would in a real fixed buffer.
public struct JitterBufferEmulator: Sendable {
    /// How the playout offset is chosen. Options may grow, hence a struct.
    public struct Mode: Sendable, Hashable {
        enum Kind: Sendable, Hashable {
            case fixed(delayNanoseconds: Int64)
            case adaptive(AdaptivePolicy)
        }
        let kind: Kind

        /// Every packet is due D ms after the first packet's schedule.
        public static func fixed(delayMs: Double) -> Mode {
            precondition(delayMs >= 0, "JitterBufferEmulator: negative delay")
            return Mode(kind: .fixed(delayNanoseconds: Int64((delayMs * 1e6).rounded())))
        }

        /// Ramjee et al. Algorithm 1 (see the type's documentation).
        public static func adaptive(_ policy: AdaptivePolicy = AdaptivePolicy()) -> Mode {
            Mode(kind: .adaptive(policy))
        }
    }

    /// Parameters of the adaptive mode.
    public struct AdaptivePolicy: Sendable, Hashable {
        /// Lower bound of the jitter allowance β·v̂ (the buffer delay above the mean delay).
        public var minimumDelayMs: Double
        /// Upper bound of the jitter allowance.
        public var maximumDelayMs: Double
        /// β: how many mean deviations of delay the buffer absorbs.
        public var variationMultiplier: Double
        /// α: weight of the history in the delay and deviation estimates.
        public var smoothing: Double
        /// Media time between adaptations during a talkspurt; nil adapts at talkspurt starts only.
        public var resizeIntervalMs: Double?

        public init(minimumDelayMs: Double = 20, maximumDelayMs: Double = 300, variationMultiplier: Double = 4,
                    smoothing: Double = 0.998002, resizeIntervalMs: Double? = 1000) {
            precondition(0 <= minimumDelayMs && minimumDelayMs <= maximumDelayMs, "AdaptivePolicy: need 0 ≤ minimum ≤ maximum")
            precondition(0 <= smoothing && smoothing < 1, "AdaptivePolicy: smoothing must be in [0, 1)")
            self.minimumDelayMs = minimumDelayMs
            self.maximumDelayMs = maximumDelayMs
            self.variationMultiplier = variationMultiplier
            self.smoothing = smoothing
            self.resizeIntervalMs = resizeIntervalMs
        }
    }

    /// What happened to one packet.
    public enum Outcome: Sendable, Hashable {
        /// Played after waiting this long in the buffer.
        case played(bufferDelayNanoseconds: Int64)
        /// Arrived this long after its playout time; discarded.
        case late(byNanoseconds: Int64)
        /// Already seen; ignored.
        case duplicate
    }

    public struct Summary: Sendable, Hashable, Codable {
        public var packetsPlayed: Int
        /// Packets that arrived after their playout time (DESIGN §2 `jb_discards`).
        public var lateDiscards: Int
        public var duplicates: Int
        /// Mean time the played packets waited, in ms (the buffer's share of Ta).
        public var meanBufferDelayMs: Double
        public var maxBufferDelayMs: Double
        /// The playout offset now in force, in ms after the first packet's schedule.
        public var playoutOffsetMs: Double
        /// Times the adaptive mode recomputed its offset (the first packet included).
        public var adaptations: Int
        /// Times the schedule was re-anchored after a timestamp discontinuity.
        public var resets: Int

        enum CodingKeys: String, CodingKey {
            case packetsPlayed = "jb_played"
            case lateDiscards = "jb_discards"
            case duplicates = "jb_duplicates"
            case meanBufferDelayMs = "jb_mean_delay_ms"
            case maxBufferDelayMs = "jb_max_delay_ms"
            case playoutOffsetMs = "jb_playout_offset_ms"
            case adaptations = "jb_adaptations"
            case resets = "jb_resets"
        }
    }

    public let mode: Mode
    public let clockRate: Int

    private static let resetThreshold: Int64 = 10_000_000_000
    private var seen = SequenceArrivalWindow(capacity: 1024)
    /// The window's finalised fates are not needed here.
    private var ignoredRuns = LossRuns()
    private var anchor: (arrival: Int64, timestamp: Int64)?
    private var previousTimestamp: (raw: UInt32, extended: Int64) = (0, 0)

    // Playout offset in force, and the one before it for stragglers.
    private var offset: Int64 = 0
    private var previousOffset: Int64 = 0
    private var offsetStartTimestamp: Int64 = 0
    // Ramjee Algorithm 1 estimates, in ns.
    private var meanDelay: Double = 0
    private var meanDeviation: Double = 0

    private var played = 0
    private var late = 0
    private var duplicates = 0
    private var bufferDelaySum: Double = 0
    private var bufferDelayMax: Int64 = 0
    private var adaptations = 0
    private var resets = 0

    public init(mode: Mode, clockRate: Int) {
        precondition(clockRate > 0, "JitterBufferEmulator: clock rate must be positive")
        self.mode = mode
        self.clockRate = clockRate
    }

    /// Decides one packet's fate. Call in arrival order; `marker` is the RTP marker bit.
    @discardableResult
    public mutating func record(sequence: UInt16, rtpTimestamp: UInt32, marker: Bool = false,
                                arrivalNanoseconds arrival: Int64) -> Outcome {
        let extendedSequence = seen.isEmpty
            ? Int64(sequence)
            : seen.high + Int64(Int16(bitPattern: sequence &- UInt16(truncatingIfNeeded: seen.high)))
        let isNewest = seen.isEmpty || extendedSequence > seen.high
        if seen.insert(extendedSequence, finalisingInto: &ignoredRuns) == .duplicate {
            duplicates += 1
            return .duplicate
        }

        let timestamp = extend(rtpTimestamp)
        guard let anchor else {
            start(arrival: arrival, timestamp: timestamp)
            return schedule(arrival: arrival, timestamp: timestamp)
        }
        let delay = arrival - anchor.arrival - mediaNanoseconds(timestamp - anchor.timestamp)
        if isNewest, abs(delay - offset) > Self.resetThreshold {
            resets += 1
            start(arrival: arrival, timestamp: timestamp)
            return schedule(arrival: arrival, timestamp: timestamp)
        }
        if case .adaptive(let policy) = mode.kind {
            estimate(delay: Double(delay), policy: policy)
            let dueByInterval = policy.resizeIntervalMs.map {
                isNewest && mediaNanoseconds(timestamp - offsetStartTimestamp) >= Int64($0 * 1e6)
            } ?? false
            if marker || dueByInterval { adapt(at: timestamp, policy: policy) }
        }
        return schedule(arrival: arrival, timestamp: timestamp)
    }

    public var summary: Summary {
        Summary(
            packetsPlayed: played,
            lateDiscards: late,
            duplicates: duplicates,
            meanBufferDelayMs: played == 0 ? 0 : bufferDelaySum / Double(played) / 1e6,
            maxBufferDelayMs: Double(bufferDelayMax) / 1e6,
            playoutOffsetMs: Double(offset) / 1e6,
            adaptations: adaptations,
            resets: resets
        )
    }

    // MARK: Schedule

    private mutating func start(arrival: Int64, timestamp: Int64) {
        anchor = (arrival, timestamp)
        meanDelay = 0
        meanDeviation = 0
        switch mode.kind {
        case .fixed(let delay):
            offset = delay
            previousOffset = delay
            offsetStartTimestamp = timestamp
        case .adaptive(let policy):
            adapt(at: timestamp, policy: policy)
            previousOffset = offset
        }
    }

    private mutating func schedule(arrival: Int64, timestamp: Int64) -> Outcome {
        guard let anchor else { preconditionFailure("JitterBufferEmulator: schedule before anchor") }
        let offsetInForce = timestamp >= offsetStartTimestamp ? offset : previousOffset
        let playout = anchor.arrival + mediaNanoseconds(timestamp - anchor.timestamp) + offsetInForce
        guard arrival <= playout else {
            late += 1
            return .late(byNanoseconds: arrival - playout)
        }
        let wait = playout - arrival
        played += 1
        bufferDelaySum += Double(wait)
        bufferDelayMax = max(bufferDelayMax, wait)
        return .played(bufferDelayNanoseconds: wait)
    }

    // MARK: Ramjee et al. Algorithm 1

    private mutating func estimate(delay: Double, policy: AdaptivePolicy) {
        let alpha = policy.smoothing
        meanDelay = alpha * meanDelay + (1 - alpha) * delay
        meanDeviation = alpha * meanDeviation + (1 - alpha) * abs(meanDelay - delay)
    }

    private mutating func adapt(at timestamp: Int64, policy: AdaptivePolicy) {
        let allowance = min(max(policy.variationMultiplier * meanDeviation, policy.minimumDelayMs * 1e6),
                            policy.maximumDelayMs * 1e6)
        previousOffset = offset
        offset = Int64((meanDelay + allowance).rounded())
        offsetStartTimestamp = timestamp
        adaptations += 1
    }

    // MARK: Time

    /// Unwraps a 32-bit RTP timestamp against the previous packet's (differences beyond
    /// ±2^31 ticks are taken as wraps).
    private mutating func extend(_ timestamp: UInt32) -> Int64 {
        let extended = anchor == nil
            ? Int64(timestamp)
            : previousTimestamp.extended + Int64(Int32(bitPattern: timestamp &- previousTimestamp.raw))
        previousTimestamp = (timestamp, extended)
        return extended
    }

    /// Timestamp ticks → ns, exactly for integral ns per tick, without overflow for any call length.
    private func mediaNanoseconds(_ ticks: Int64) -> Int64 {
        let rate = Int64(clockRate)
        return (ticks / rate) * 1_000_000_000 + (ticks % rate) * 1_000_000_000 / rate
    }
}
