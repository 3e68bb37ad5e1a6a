import CallQuality
import Foundation
import Testing

@Suite struct ModelInputsTests {
    static func measurement(
        codec: Codec = .pcmu, expected: Int = 1000, lost: Int = 0, discards: Int = 0, burst: Double = 1,
        delay: NetworkDelay = .measured(oneWayMs: 20), jb: Double = 40, ptime: Double? = nil
    ) -> StreamMeasurement {
        StreamMeasurement(
            codec: codec, concealment: false, packetsExpected: expected, packetsLost: lost,
            jitterBufferDiscards: discards, burstRatio: burst, networkDelay: delay,
            jitterBufferDelayMs: jb, ptimeMs: ptime
        )
    }

    // MARK: delay budget

    /// Ta = one-way + jitter buffer + ptime + look-ahead; T = Ta, Tr = 2·Ta.
    @Test func measuredOneWayDelayBudget() throws {
        let inputs = try ModelInputs(measurement: Self.measurement(delay: .measured(oneWayMs: 20)))
        let d = inputs.delay
        #expect(d.source == .measured)
        #expect(d.networkOneWayMs == 20)
        #expect(d.rttMs == nil)
        #expect(d.jitterBufferMs == 40)
        #expect(d.ptimeMs == 20)
        #expect(d.lookAheadMs == 0)
        #expect(d.mouthToEarMs == 80)
        let p = try #require(inputs.conversationalParameters)
        #expect(p.absoluteDelayMs == 80)
        #expect(p.meanOneWayDelayMs == 80)
        #expect(p.roundTripDelayMs == 160)
        let lq = inputs.listeningParameters
        #expect(lq.absoluteDelayMs == 0 && lq.meanOneWayDelayMs == 0 && lq.roundTripDelayMs == 0)
    }

    /// One-way estimated as RTT/2 and flagged; G.729A adds its 5 ms look-ahead.
    @Test func roundTripDelayBudget() throws {
        let inputs = try ModelInputs(
            measurement: Self.measurement(codec: .g729a, delay: .roundTrip(rttMs: 100), jb: 40)
        )
        #expect(inputs.delay.source == .estimatedRTTHalf)
        #expect(inputs.delay.rttMs == 100)
        #expect(inputs.delay.networkOneWayMs == 50)
        #expect(inputs.delay.mouthToEarMs == 115)  // 100/2 + 40 + 20 + 5
    }

    /// G.723.1 packs 30 ms frames: default ptime 30 and 7.5 ms look-ahead.
    @Test func g7231DefaultPtime() throws {
        let d = try DelayBudget(network: .measured(oneWayMs: 0), jitterBufferMs: 0, codec: .g723_1)
        #expect(d.ptimeMs == 30)
        #expect(d.mouthToEarMs == 37.5)
    }

    @Test func givenMouthToEarIsUsedAsIs() throws {
        let d = try DelayBudget(mouthToEarMs: 150)
        #expect(d.source == .given)
        #expect(d.mouthToEarMs == 150)
        #expect(d.networkOneWayMs == nil && d.jitterBufferMs == nil && d.ptimeMs == nil && d.lookAheadMs == nil)
    }

    @Test(arguments: [
        (Codec.g729a, 25.0), (.g729a, 0.0), (.g723_1, 20.0), (.g723_1, 45.0), (.pcmu, -20.0), (.pcmu, 1001.0),
        (.pcmu, Double.nan),
    ])
    func ptimeOutOfRange(codec: Codec, ptime: Double) {
        let error = #expect(throws: CallQualityError.self) {
            try DelayBudget(network: .measured(oneWayMs: 10), jitterBufferMs: 40, ptimeMs: ptime, codec: codec)
        }
        #expect(error?.code == .ptimeOutOfRange)
    }

    @Test(arguments: [(Codec.pcmu, 25.0), (.pcmu, 10.0), (.g729a, 30.0), (.g723_1, 60.0)])
    func ptimeWholeFrames(codec: Codec, ptime: Double) throws {
        let d = try DelayBudget(network: .measured(oneWayMs: 10), jitterBufferMs: 40, ptimeMs: ptime, codec: codec)
        #expect(d.ptimeMs == ptime)
    }

    @Test(arguments: [
        NetworkDelay.measured(oneWayMs: -1), .measured(oneWayMs: 10_001), .measured(oneWayMs: .nan),
        .roundTrip(rttMs: -0.5), .roundTrip(rttMs: .infinity),
    ])
    func delayOutOfRange(delay: NetworkDelay) {
        let error = #expect(throws: CallQualityError.self) {
            try DelayBudget(network: delay, jitterBufferMs: 40, codec: .pcmu)
        }
        #expect(error?.code == .delayOutOfRange)
    }

    @Test func negativeJitterBufferAndMouthToEar() {
        let jb = #expect(throws: CallQualityError.self) {
            try DelayBudget(network: .measured(oneWayMs: 10), jitterBufferMs: -5, codec: .pcmu)
        }
        #expect(jb?.code == .delayOutOfRange)
        #expect(jb?.message == "jitter-buffer delay -5 is out of range (0…10000 ms)")
        let ta = #expect(throws: CallQualityError.self) { try DelayBudget(mouthToEarMs: 10_000.5) }
        #expect(ta?.code == .delayOutOfRange)
    }

    /// A capture without RTCP: MOS-LQ only, conversational fields nil.
    @Test func unknownDelayGivesListeningQualityOnly() throws {
        let a = try CallQualityAssessment(measurement: Self.measurement(lost: 20, delay: .unknown))
        #expect(a.inputs.delay.source == .unknown)
        #expect(a.inputs.delay.mouthToEarMs == nil)
        #expect(a.conversational == nil && a.rFactor == nil && a.mosCQ == nil && a.quality == nil)
        #expect(a.listening == EModel.evaluate(a.inputs.listeningParameters))
        #expect(a.mosLQ == a.listening.mos)
    }

    // MARK: loss and burst ratio

    /// Ppl counts unique loss plus jitter-buffer discards: 10 + 5 of 1000 = 1.5 %.
    @Test func effectiveLossIncludesDiscards() throws {
        let m = Self.measurement(lost: 10, discards: 5)
        #expect(m.effectiveLossPercent == 1.5)
        let inputs = try ModelInputs(measurement: m)
        #expect(inputs.packetLossPercent == 1.5)
        #expect(inputs.listeningParameters.packetLossPercent == 1.5)
    }

    @Test(arguments: [(0.0, 1.0), (0.96, 1.0), (1.0, 1.0), (2.4, 2.4)])
    func measuredBurstRatioIsNeverBelowOne(measured: Double, used: Double) throws {
        let inputs = try ModelInputs(measurement: Self.measurement(lost: 10, burst: measured))
        #expect(inputs.burstRatio == used)
    }

    @Test(arguments: [-0.1, Double.nan, .infinity])
    func measuredBurstRatioInvalid(burst: Double) {
        let error = #expect(throws: CallQualityError.self) {
            try ModelInputs(measurement: Self.measurement(lost: 10, burst: burst))
        }
        #expect(error?.code == .burstRatioOutOfRange)
    }

    @Test(arguments: [(0, 0, 0), (100, -1, 0), (100, 0, -1), (100, 60, 41), (100, 101, 0), (-5, 0, 0)])
    func inconsistentCounters(expected: Int, lost: Int, discards: Int) {
        let error = #expect(throws: CallQualityError.self) {
            try ModelInputs(measurement: Self.measurement(expected: expected, lost: lost, discards: discards))
        }
        #expect(error?.code == .countersInconsistent)
    }

    @Test func everythingLostIsStillAScore() throws {
        let a = try CallQualityAssessment(measurement: Self.measurement(expected: 100, lost: 60, discards: 40))
        #expect(a.inputs.packetLossPercent == 100)
        #expect(a.mosLQ == 1)
    }

    @Test(arguments: [-0.1, 100.01, Double.nan])
    func lossOutOfRange(loss: Double) throws {
        let error = #expect(throws: CallQualityError.self) {
            try ModelInputs(
                codec: .init(codec: .pcmu, concealment: false), packetLossPercent: loss,
                delay: DelayBudget(mouthToEarMs: 0)
            )
        }
        #expect(error?.code == .lossOutOfRange)
    }

    @Test(arguments: [0.99, 0, -1, Double.nan])
    func assertedBurstRatioBelowOne(burst: Double) throws {
        let error = #expect(throws: CallQualityError.self) {
            try ModelInputs(
                codec: .init(codec: .pcmu, concealment: false), packetLossPercent: 1, burstRatio: burst,
                delay: DelayBudget(mouthToEarMs: 0)
            )
        }
        #expect(error?.code == .burstRatioOutOfRange)
    }

    @Test(arguments: [-1.0, 20.5, .infinity])
    func advantageOutOfRange(advantage: Double) throws {
        let error = #expect(throws: CallQualityError.self) {
            try ModelInputs(
                codec: .init(codec: .pcmu, concealment: false), packetLossPercent: 1,
                delay: DelayBudget(mouthToEarMs: 0), advantage: advantage
            )
        }
        #expect(error?.code == .advantageOutOfRange)
        #expect(error?.message.contains("0…20") == true)
    }

    @Test func widebandMeasurementNeedsExplicitValues() throws {
        var m = Self.measurement(codec: .g722, lost: 10)
        let error = #expect(throws: CallQualityError.self) { try CallQualityAssessment(measurement: m) }
        #expect(error?.code == .codecNeedsExplicitImpairment)
        m.explicitImpairment = .init(equipmentImpairment: 0, packetLossRobustness: 10)
        let a = try CallQualityAssessment(measurement: m)
        #expect(a.inputs.codec.source == .explicit)
        #expect(a.inputs.codec.packetLossRobustness == 10)
    }

    @Test func burstRatioDefinitions() {
        #expect(BurstRatio.markov(lossProbability: 0.01, recoveryProbability: 0.99) == 1)
        #expect(abs(BurstRatio.markov(lossProbability: 0.02, recoveryProbability: 0.48) - 2) < 1e-12)
        #expect(abs(BurstRatio.observed(meanLossRunLength: 2, lossFraction: 0.05) - 1.9) < 1e-12)
        #expect(BurstRatio.observed(meanLossRunLength: 1, lossFraction: 0.02) == 1)
    }

    /// MOS-CQ below MOS-LQ once delay matters; MOS-LQ is exactly the zero-delay model.
    @Test func conversationalAndListening() throws {
        let a = try CallQualityAssessment(measurement: Self.measurement(lost: 10, delay: .roundTrip(rttMs: 300)))
        var zero = a.inputs.listeningParameters
        #expect(a.listening == EModel.evaluate(zero))
        // Ta = 300/2 + 40 (jb) + 20 (ptime) + 0 (G.711 look-ahead).
        zero.absoluteDelayMs = 210
        zero.meanOneWayDelayMs = 210
        zero.roundTripDelayMs = 420
        #expect(a.conversational == EModel.evaluate(zero))
        #expect(try #require(a.mosCQ) < a.mosLQ)
        #expect(a.rFactor == a.conversational?.rFactor)
        #expect(a.quality == a.conversational?.quality)
    }

    // MARK: JSON

    @Test func jsonShapeFromMeasurement() throws {
        let a = try CallQualityAssessment(
            measurement: Self.measurement(codec: .g729a, lost: 10, discards: 10, burst: 1.5, delay: .roundTrip(rttMs: 100))
        )
        let object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(a)) as? [String: Any])
        #expect(Set(object.keys) == [
            "r_factor", "r_factor_lq", "mos_cq", "mos_lq", "quality", "impairments", "impairments_lq", "inputs",
        ])
        #expect(object["r_factor"] as? Double == a.rFactor)
        #expect(object["mos_lq"] as? Double == a.mosLQ)
        #expect(object["quality"] as? String == a.quality?.rawValue)
        let impairments = try #require(object["impairments"] as? [String: Double])
        #expect(Set(impairments.keys) == ["Ro", "Is", "Iolr", "Ist", "Iq", "Id", "Idte", "Idle", "Idd", "Ie_eff", "A"])
        let ieEff = try #require(impairments["Ie_eff"])
        #expect(abs(ieEff - 11 - 84 * 2 / (2 / 1.5 + 19)) < 1e-12)
        let inputs = try #require(object["inputs"] as? [String: Any])
        #expect(inputs["codec"] as? String == "G729A")
        #expect(inputs["plc"] as? Bool == true)
        #expect(inputs["Ie"] as? Double == 11)
        #expect(inputs["Bpl"] as? Double == 19)
        #expect(inputs["impairment_source"] as? String == "g113")
        #expect(inputs["loss_pct"] as? Double == 2)
        #expect(inputs["burst_ratio"] as? Double == 1.5)
        #expect(inputs["delay_source"] as? String == "estimated_rtt_half")
        #expect(inputs["one_way_ms"] as? Double == 115)
        #expect(inputs["network_one_way_ms"] as? Double == 50)
        #expect(inputs["rtt_ms"] as? Double == 100)
        #expect(inputs["jb_ms"] as? Double == 40)
        #expect(inputs["ptime_ms"] as? Double == 20)
        #expect(inputs["lookahead_ms"] as? Double == 5)
        #expect(inputs["packets_expected"] as? Int == 1000)
        #expect(inputs["packets_lost"] as? Int == 10)
        #expect(inputs["jb_discards"] as? Int == 10)
        #expect(inputs["burst_ratio_measured"] as? Double == 1.5)
    }

    /// Unknown delay keeps the shape: the conversational fields are null, not missing.
    @Test func jsonNullsWhenDelayUnknown() throws {
        let a = try CallQualityAssessment(measurement: Self.measurement(delay: .unknown))
        let object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(a)) as? [String: Any])
        for key in ["r_factor", "mos_cq", "quality", "impairments"] {
            #expect(object[key] is NSNull, "\(key)")
        }
        let inputs = try #require(object["inputs"] as? [String: Any])
        #expect(inputs["one_way_ms"] is NSNull)
        #expect(inputs["rtt_ms"] is NSNull)
        #expect(inputs["delay_source"] as? String == "unknown")
    }
}
