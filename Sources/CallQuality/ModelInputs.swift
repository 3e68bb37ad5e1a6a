/// The handful of E-model inputs a call actually determines — codec impairment, packet
/// loss, burst ratio, delay budget, advantage — validated, with everything else at its
/// G.107 default. Both the `earshot mos` command line and measured stream statistics
/// (`StreamMeasurement`) become one of these, and `CallQualityAssessment` scores it.
///
/// Earshot's conventions (emodel.md, "Turning measurements into model inputs"):
/// * the mouth-to-ear delay is Ta = one-way network delay + jitter-buffer delay + ptime +
///   codec look-ahead, and the echo paths follow it: T = Ta, Tr = 2·Ta;
/// * MOS-CQ (conversational) uses that delay; MOS-LQ (listening) is the same model with
///   Ta = T = Tr = 0.
public struct ModelInputs: Sendable, Hashable {
    public let codec: CodecImpairment
    /// Ppl, percent 0…100.
    public let packetLossPercent: Double
    /// BurstR ≥ 1.
    public let burstRatio: Double
    public let delay: DelayBudget
    /// A, 0…20.
    public let advantage: Double

    /// Longest delay (each of mouth-to-ear, one-way, round trip, jitter buffer) accepted, ms.
    /// Far beyond where G.107 is meaningful (it is calibrated to about 500 ms), but a
    /// number above it is a unit mistake rather than a network.
    public static let maximumDelayMs: Double = 10_000
    /// Longest packetisation accepted, ms.
    public static let maximumPtimeMs: Double = 1_000

    public init(
        codec: CodecImpairment,
        packetLossPercent: Double,
        burstRatio: Double = 1,
        delay: DelayBudget,
        advantage: Double = 0
    ) throws(CallQualityError) {
        guard packetLossPercent.isFinite, (0...100).contains(packetLossPercent) else {
            throw .outOfRange(.lossOutOfRange, "packet loss", packetLossPercent, "0…100 %")
        }
        guard burstRatio.isFinite, burstRatio >= 1 else {
            throw .outOfRange(.burstRatioOutOfRange, "burst ratio", burstRatio, "≥ 1; 1 is random loss")
        }
        guard advantage.isFinite, (0...20).contains(advantage) else {
            throw .outOfRange(.advantageOutOfRange, "advantage factor", advantage, "0…20")
        }
        self.codec = codec
        self.packetLossPercent = packetLossPercent
        self.burstRatio = burstRatio
        self.delay = delay
        self.advantage = advantage
    }

    /// The listening-quality model: these inputs with Ta = T = Tr = 0.
    public var listeningParameters: EModelParameters {
        var p = EModelParameters()
        p.equipmentImpairment = codec.equipmentImpairment
        p.packetLossRobustness = codec.packetLossRobustness
        p.packetLossPercent = packetLossPercent
        p.burstRatio = burstRatio
        p.advantage = advantage
        return p
    }

    /// The conversational model: Ta from the delay budget, T = Ta, Tr = 2·Ta. Nil when the
    /// delay is unknown.
    public var conversationalParameters: EModelParameters? {
        guard let ta = delay.mouthToEarMs else { return nil }
        var p = listeningParameters
        p.absoluteDelayMs = ta
        p.meanOneWayDelayMs = ta
        p.roundTripDelayMs = 2 * ta
        return p
    }
}

extension ModelInputs {
    /// The codec's contribution: Ie and Bpl, from G.113 Appendix I or given explicitly.
    public struct CodecImpairment: Sendable, Hashable {
        public enum Source: String, Sendable, Hashable, Codable {
            /// G.113 Appendix I.
            case g113
            /// Given by the caller (required for codecs outside the narrowband table).
            case explicit
        }

        public let codec: Codec
        /// Ie.
        public let equipmentImpairment: Double
        /// Bpl.
        public let packetLossRobustness: Double
        /// Whether the receiver is assumed to conceal lost packets. Always true for G.729A and
        /// G.723.1, whose G.113 values include their built-in concealment.
        public let concealment: Bool
        public let source: Source

        /// The G.113 Appendix I row for `codec`; for G.711 the row depends on whether the
        /// *receiving* side conceals loss (Bpl 25.1 with PLC, 4.3 without). Refuses codecs
        /// outside the narrowband model.
        public init(codec: Codec, concealment: Bool) throws(CallQualityError) {
            guard let row = codec.g113 else { throw .codecNeedsExplicitImpairment(codec) }
            let builtIn = row.packetLossRobustness == row.packetLossRobustnessConcealed
            self.codec = codec
            self.equipmentImpairment = row.equipmentImpairment
            self.packetLossRobustness = concealment ? row.packetLossRobustnessConcealed : row.packetLossRobustness
            self.concealment = concealment || builtIn
            self.source = .g113
        }

        /// Explicit Ie (0…95) and Bpl (> 0), for any codec — the only way to score one
        /// outside the narrowband table.
        public init(
            codec: Codec, equipmentImpairment: Double, packetLossRobustness: Double, concealment: Bool
        ) throws(CallQualityError) {
            guard equipmentImpairment.isFinite, (0...95).contains(equipmentImpairment) else {
                throw .outOfRange(.impairmentOutOfRange, "Ie", equipmentImpairment, "0…95")
            }
            guard packetLossRobustness.isFinite, packetLossRobustness > 0, packetLossRobustness <= 100 else {
                throw .outOfRange(.impairmentOutOfRange, "Bpl", packetLossRobustness, "above 0, at most 100")
            }
            self.codec = codec
            self.equipmentImpairment = equipmentImpairment
            self.packetLossRobustness = packetLossRobustness
            self.concealment = concealment
            self.source = .explicit
        }
    }
}

/// How the one-way network delay of a stream is known.
public enum NetworkDelay: Sendable, Hashable {
    /// Measured one-way, ms: both agents' clocks are trustworthy.
    case measured(oneWayMs: Double)
    /// Only the round trip is known (RTCP, RFC 3550 §6.4.1), ms; the one-way delay is
    /// estimated as RTT/2 and flagged `estimated_rtt_half`.
    case roundTrip(rttMs: Double)
    /// Nothing is known (a capture without RTCP): only MOS-LQ can be given.
    case unknown
}

/// The mouth-to-ear delay Ta and the parts it was built from.
public struct DelayBudget: Sendable, Hashable {
    public enum Source: String, Sendable, Hashable, Codable {
        /// Ta given as-is (e.g. `earshot mos --delay`).
        case given
        /// From a measured one-way network delay.
        case measured
        /// From RTT/2.
        case estimatedRTTHalf = "estimated_rtt_half"
        /// No delay known; Ta is nil.
        case unknown
    }

    public let source: Source
    /// Ta, ms; nil when the delay is unknown.
    public let mouthToEarMs: Double?
    /// One-way network delay used (measured, or RTT/2), ms.
    public let networkOneWayMs: Double?
    /// Round trip the one-way delay was estimated from, ms.
    public let rttMs: Double?
    public let jitterBufferMs: Double?
    public let ptimeMs: Double?
    public let lookAheadMs: Double?

    /// Ta known as a whole, used as-is.
    public init(mouthToEarMs: Double) throws(CallQualityError) {
        try Self.check(mouthToEarMs, "mouth-to-ear delay")
        source = .given
        self.mouthToEarMs = mouthToEarMs
        networkOneWayMs = nil
        rttMs = nil
        jitterBufferMs = nil
        ptimeMs = nil
        lookAheadMs = nil
    }

    /// Ta = one-way network delay + jitter-buffer delay + ptime + the codec's look-ahead.
    /// `ptimeMs` nil means the codec's default; it must be whole frames of the codec.
    public init(
        network: NetworkDelay, jitterBufferMs: Double, ptimeMs: Double? = nil, codec: Codec
    ) throws(CallQualityError) {
        try Self.check(jitterBufferMs, "jitter-buffer delay")
        let ptime = ptimeMs ?? codec.defaultPtimeMs
        guard ptime.isFinite, ptime > 0, ptime <= ModelInputs.maximumPtimeMs else {
            throw .outOfRange(.ptimeOutOfRange, "ptime", ptime, "above 0, at most \(CallQualityError.number(ModelInputs.maximumPtimeMs)) ms")
        }
        if codec.frameMs > 0 {
            let frames = ptime / codec.frameMs
            guard abs(frames - frames.rounded()) < 1e-9 else {
                throw CallQualityError(
                    .ptimeOutOfRange,
                    "ptime \(CallQualityError.number(ptime)) ms is not a whole number of \(codec.name) frames (\(CallQualityError.number(codec.frameMs)) ms each)"
                )
            }
        }
        self.jitterBufferMs = jitterBufferMs
        self.ptimeMs = ptime
        self.lookAheadMs = codec.lookAheadMs
        switch network {
        case .measured(let oneWay):
            try Self.check(oneWay, "one-way network delay")
            source = .measured
            networkOneWayMs = oneWay
            rttMs = nil
        case .roundTrip(let rtt):
            try Self.check(rtt, "round-trip time")
            source = .estimatedRTTHalf
            networkOneWayMs = rtt / 2
            rttMs = rtt
        case .unknown:
            source = .unknown
            networkOneWayMs = nil
            rttMs = nil
        }
        mouthToEarMs = networkOneWayMs.map { $0 + jitterBufferMs + ptime + codec.lookAheadMs }
    }

    private static func check(_ ms: Double, _ what: String) throws(CallQualityError) {
        guard ms.isFinite, ms >= 0, ms <= ModelInputs.maximumDelayMs else {
            throw .outOfRange(.delayOutOfRange, what, ms, "0…\(CallQualityError.number(ModelInputs.maximumDelayMs)) ms")
        }
    }
}
