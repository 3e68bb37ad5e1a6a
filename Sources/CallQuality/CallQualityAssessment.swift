/// The score of one direction of one call: MOS-CQ (with the delay) and MOS-LQ (without),
/// both E-model results in full, and the inputs they came from.
///
/// Encodes as the DESIGN §2 JSON shape, so that every consumer prints the same names:
///
///     { "r_factor", "r_factor_lq", "mos_cq", "mos_lq", "quality",
///       "impairments": {Ro, Is, Iolr, Ist, Iq, Id, Idte, Idle, Idd, Ie_eff, A},
///       "impairments_lq": {…},
///       "inputs": {codec, plc, Ie, Bpl, impairment_source, loss_pct, burst_ratio,
///                  advantage, delay_source, one_way_ms, network_one_way_ms, rtt_ms,
///                  jb_ms, ptime_ms, lookahead_ms
///                  [, packets_expected, packets_lost, jb_discards, burst_ratio_measured]} }
///
/// `inputs.one_way_ms` is the mouth-to-ear delay Ta the model used (null when unknown);
/// `inputs.loss_pct` is the Ppl it used (for a measurement: unique lost + discards). The
/// conversational fields (`r_factor`, `mos_cq`, `quality`, `impairments`) are null when the
/// delay is unknown. Absent values are written as null so the shape never changes.
public struct CallQualityAssessment: Sendable, Hashable, Encodable {
    public let inputs: ModelInputs
    /// The raw counters, when the inputs came from a measurement.
    public let measurement: StreamMeasurement?
    /// With Ta = T = Tr = 0.
    public let listening: EModelResult
    /// With the delay; nil when the delay is unknown.
    public let conversational: EModelResult?

    /// R of the conversational model.
    public var rFactor: Double? { conversational?.rFactor }
    public var mosCQ: Double? { conversational?.mos }
    public var mosLQ: Double { listening.mos }
    /// Quality band of the conversational R.
    public var quality: QualityBand? { conversational?.quality }

    public init(inputs: ModelInputs) {
        self.init(inputs: inputs, measurement: nil)
    }

    /// Converts (`ModelInputs(measurement:)`) and scores; keeps the counters.
    public init(measurement: StreamMeasurement) throws(CallQualityError) {
        self.init(inputs: try ModelInputs(measurement: measurement), measurement: measurement)
    }

    private init(inputs: ModelInputs, measurement: StreamMeasurement?) {
        self.inputs = inputs
        self.measurement = measurement
        self.listening = EModel.evaluate(inputs.listeningParameters)
        self.conversational = inputs.conversationalParameters.map(EModel.evaluate)
    }

    enum CodingKeys: String, CodingKey {
        case rFactor = "r_factor", rFactorLQ = "r_factor_lq", mosCQ = "mos_cq", mosLQ = "mos_lq"
        case quality, impairments, impairmentsLQ = "impairments_lq", inputs
    }

    enum InputKeys: String, CodingKey {
        case codec, plc, ie = "Ie", bpl = "Bpl", impairmentSource = "impairment_source"
        case lossPct = "loss_pct", burstRatio = "burst_ratio", advantage
        case delaySource = "delay_source", oneWayMs = "one_way_ms", networkOneWayMs = "network_one_way_ms"
        case rttMs = "rtt_ms", jbMs = "jb_ms", ptimeMs = "ptime_ms", lookaheadMs = "lookahead_ms"
        case packetsExpected = "packets_expected", packetsLost = "packets_lost", jbDiscards = "jb_discards"
        case burstRatioMeasured = "burst_ratio_measured"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(rFactor, forKey: .rFactor)
        try c.encode(listening.rFactor, forKey: .rFactorLQ)
        try c.encode(mosCQ, forKey: .mosCQ)
        try c.encode(mosLQ, forKey: .mosLQ)
        try c.encode(quality, forKey: .quality)
        try c.encode(conversational?.impairments, forKey: .impairments)
        try c.encode(listening.impairments, forKey: .impairmentsLQ)

        var i = c.nestedContainer(keyedBy: InputKeys.self, forKey: .inputs)
        let codec = inputs.codec, delay = inputs.delay
        try i.encode(codec.codec.name, forKey: .codec)
        try i.encode(codec.concealment, forKey: .plc)
        try i.encode(codec.equipmentImpairment, forKey: .ie)
        try i.encode(codec.packetLossRobustness, forKey: .bpl)
        try i.encode(codec.source, forKey: .impairmentSource)
        try i.encode(inputs.packetLossPercent, forKey: .lossPct)
        try i.encode(inputs.burstRatio, forKey: .burstRatio)
        try i.encode(inputs.advantage, forKey: .advantage)
        try i.encode(delay.source, forKey: .delaySource)
        try i.encode(delay.mouthToEarMs, forKey: .oneWayMs)
        try i.encode(delay.networkOneWayMs, forKey: .networkOneWayMs)
        try i.encode(delay.rttMs, forKey: .rttMs)
        try i.encode(delay.jitterBufferMs, forKey: .jbMs)
        try i.encode(delay.ptimeMs, forKey: .ptimeMs)
        try i.encode(delay.lookAheadMs, forKey: .lookaheadMs)
        if let m = measurement {
            try i.encode(m.packetsExpected, forKey: .packetsExpected)
            try i.encode(m.packetsLost, forKey: .packetsLost)
            try i.encode(m.jitterBufferDiscards, forKey: .jbDiscards)
            try i.encode(m.burstRatio, forKey: .burstRatioMeasured)
        }
    }
}
