/// What was measured on one direction of one stream, as raw as possible, so that every
/// number derived from it can be reproduced: the media engine and the capture analyser fill
/// one in and call `CallQualityAssessment(measurement:)`.
public struct StreamMeasurement: Sendable, Hashable {
    public var codec: Codec
    /// Whether the *receiving* side conceals lost packets (G.711 Appendix I style PLC).
    /// Selects the G.711 row of G.113; G.729A and G.723.1 always conceal.
    public var concealment: Bool
    /// Ie and Bpl to use instead of G.113's — required for codecs outside the narrowband table.
    public var explicitImpairment: ExplicitImpairment?
    /// Packets the sequence numbers say were sent (RFC 3550 A.3 `expected`).
    public var packetsExpected: Int
    /// Unique sequence numbers never received. Not RFC 3550's cumulative "lost", which counts
    /// duplicates as received and so hides loss.
    public var packetsLost: Int
    /// Packets received but discarded by the (emulated) jitter buffer as too late.
    public var jitterBufferDiscards: Int
    /// Burst ratio of the observed loss runs (`BurstRatio.observed`). A value below 1 —
    /// all runs of length 1, or no loss at all — is raised to 1, the random-loss value.
    public var burstRatio: Double
    public var networkDelay: NetworkDelay
    /// Delay the jitter buffer adds, ms.
    public var jitterBufferDelayMs: Double
    /// Packetisation, ms; nil means the codec's default.
    public var ptimeMs: Double?
    /// Advantage factor A, 0…20 (0 for wired enterprise networks).
    public var advantage: Double

    public struct ExplicitImpairment: Sendable, Hashable {
        public var equipmentImpairment: Double
        public var packetLossRobustness: Double
        public init(equipmentImpairment: Double, packetLossRobustness: Double) {
            self.equipmentImpairment = equipmentImpairment
            self.packetLossRobustness = packetLossRobustness
        }
    }

    public init(
        codec: Codec,
        concealment: Bool,
        explicitImpairment: ExplicitImpairment? = nil,
        packetsExpected: Int,
        packetsLost: Int,
        jitterBufferDiscards: Int = 0,
        burstRatio: Double,
        networkDelay: NetworkDelay,
        jitterBufferDelayMs: Double,
        ptimeMs: Double? = nil,
        advantage: Double = 0
    ) {
        self.codec = codec
        self.concealment = concealment
        self.explicitImpairment = explicitImpairment
        self.packetsExpected = packetsExpected
        self.packetsLost = packetsLost
        self.jitterBufferDiscards = jitterBufferDiscards
        self.burstRatio = burstRatio
        self.networkDelay = networkDelay
        self.jitterBufferDelayMs = jitterBufferDelayMs
        self.ptimeMs = ptimeMs
        self.advantage = advantage
    }

    /// Ppl = 100 × (unique lost + jitter-buffer discards) / expected: what the listener
    /// missed, whether the network dropped it or it came too late to play.
    public var effectiveLossPercent: Double {
        100 * (Double(packetsLost) + Double(jitterBufferDiscards)) / Double(packetsExpected)
    }
}

extension ModelInputs {
    /// Earshot's conversion of a measurement into model inputs (emodel.md, "Turning
    /// measurements into model inputs"): Ppl from unique loss plus discards, BurstR raised
    /// to at least 1, Ta = one-way (measured or RTT/2) + jitter buffer + ptime + look-ahead.
    public init(measurement m: StreamMeasurement) throws(CallQualityError) {
        guard m.packetsExpected > 0, m.packetsLost >= 0, m.jitterBufferDiscards >= 0,
              m.packetsLost <= m.packetsExpected - m.jitterBufferDiscards
        else {
            throw CallQualityError(
                .countersInconsistent,
                "packet counters cannot describe a stream: expected \(m.packetsExpected), "
                    + "lost \(m.packetsLost), discarded \(m.jitterBufferDiscards) "
                    + "(need expected > 0 and 0 ≤ lost + discarded ≤ expected)"
            )
        }
        guard m.burstRatio.isFinite, m.burstRatio >= 0 else {
            throw .outOfRange(.burstRatioOutOfRange, "measured burst ratio", m.burstRatio, "≥ 0")
        }
        let codec: CodecImpairment
        if let explicit = m.explicitImpairment {
            codec = try CodecImpairment(
                codec: m.codec,
                equipmentImpairment: explicit.equipmentImpairment,
                packetLossRobustness: explicit.packetLossRobustness,
                concealment: m.concealment
            )
        } else {
            codec = try CodecImpairment(codec: m.codec, concealment: m.concealment)
        }
        try self.init(
            codec: codec,
            packetLossPercent: m.effectiveLossPercent,
            burstRatio: max(1, m.burstRatio),
            delay: DelayBudget(
                network: m.networkDelay, jitterBufferMs: m.jitterBufferDelayMs, ptimeMs: m.ptimeMs, codec: m.codec
            ),
            advantage: m.advantage
        )
    }
}

/// BurstR, the burst ratio of G.107 §7.5: how much burstier the loss is than random loss
/// of the same rate (1 = random, > 1 = bursty).
public enum BurstRatio {
    /// For a two-state Markov loss process with p = P(found → lost) and q = P(lost → found):
    /// BurstR = 1/(p + q).
    public static func markov(lossProbability p: Double, recoveryProbability q: Double) -> Double {
        1 / (p + q)
    }

    /// From observed loss runs: BurstR = mean loss-run length × (1 − loss fraction), never
    /// below 1. (With random loss every run tends to length 1 and the product to 1 − loss,
    /// just under 1; G.107 calls that random, BurstR = 1.)
    public static func observed(meanLossRunLength: Double, lossFraction: Double) -> Double {
        max(1, meanLossRunLength * (1 - lossFraction))
    }
}
