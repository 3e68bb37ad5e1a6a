import CallQuality
import Foundation
import Testing

@Suite struct EModelTests {
    /// G.107 §7.7: with every default the model gives R = 93.2 (93.2062… unrounded), which
    /// checks the whole Ro/Is/Idle chain at once.
    @Test func g107DefaultsScore93Point2() {
        let result = EModel.evaluate(EModelParameters())
        #expect(abs(result.rFactor - 93.2062) < 1e-3)
        #expect(abs(result.rFactor - 93.20620772327571) < 1e-9)
        // Annex B at R = 93.2062: 1 + 0.035 R + R (R − 60)(100 − R) 7e-6.
        #expect(abs(result.mos - 4.409405954387269) < 1e-9)
        #expect(result.quality == .best)
        let t = result.impairments
        #expect(abs(t.Ro - 94.76882157936254) < 1e-9)
        #expect(abs(t.Iolr - 0.44017812561113256) < 1e-9)
        #expect(abs(t.Ist - -0.0007151328889563047) < 1e-9)
        #expect(abs(t.Iq - 0.974105138427228) < 1e-9)
        #expect(abs(t.Is - (t.Iolr + t.Ist + t.Iq)) < 1e-12)
        // T = 0: echo within 1 ms is sidetone, so no talker echo; Ta = 0: no Idd.
        #expect(t.Idte == 0)
        #expect(t.Idd == 0)
        #expect(abs(t.Idle - 0.14904572493742307) < 1e-9)
        #expect(t.IeEff == 0)
        #expect(t.A == 0)
        #expect(abs(result.rFactor - (t.Ro - t.Is - t.Id - t.IeEff + t.A)) < 1e-12)
    }

    @Test func defaultsAreTheG107Table() {
        let p = EModelParameters.g107Defaults
        let values: [Double] = [
            p.sendLoudnessRating, p.receiveLoudnessRating, p.sidetoneMaskingRating, p.listenerSidetoneRating,
            p.sendSideDValue, p.receiveSideDValue, p.talkerEchoLoudnessRating, p.weightedEchoPathLoss,
            p.meanOneWayDelayMs, p.roundTripDelayMs, p.absoluteDelayMs, p.quantizingDistortionUnits,
            p.equipmentImpairment, p.packetLossRobustness, p.packetLossPercent, p.burstRatio,
            p.circuitNoise, p.receiveNoiseFloor, p.sendRoomNoise, p.receiveRoomNoise,
            p.advantage, p.delaySensitivity, p.minimumPerceivableDelayMs,
        ]
        #expect(values == [8, 2, 15, 18, 3, 3, 65, 110, 0, 0, 0, 1, 0, 4.3, 0, 1, -70, -64, 35, 35, 0, 1, 100])
    }

    /// Parameters encode under their G.107 symbols, and decode back equal.
    @Test func parametersRoundTripUnderG107Symbols() throws {
        var p = EModelParameters()
        p.talkerEchoLoudnessRating = 55
        p.packetLossPercent = 2.5
        let data = try JSONEncoder().encode(p)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Double])
        #expect(object.count == 23)
        #expect(object["TELR"] == 55)
        #expect(object["Ppl"] == 2.5)
        #expect(object["mT"] == 100)
        #expect(try JSONDecoder().decode(EModelParameters.self, from: data) == p)
    }

    /// G.107 Annex B with the clamps: 1 below R = 0, 4.5 above 100, and 1 where the cubic
    /// dips below it (0 < R < 6.5153).
    @Test(arguments: [
        (-5.0, 1.0), (0.0, 1.0), (3.0, 1.0), (6.5, 1.0),
        (6.52, 1.0000314733), (50.0, 2.575), (93.2, 4.409285824), (100.0, 4.5), (120.0, 4.5),
    ])
    func rToMOS(r: Double, mos: Double) {
        #expect(abs(EModel.mos(fromR: r) - mos) < 1e-7)
    }

    @Test func mosNeverLeavesOneToFourPointFive() {
        for tenths in -200...1500 {
            let mos = EModel.mos(fromR: Double(tenths) / 10)
            #expect((1...4.5).contains(mos))
        }
    }

    @Test(arguments: [
        (100.0, QualityBand.best), (90.0, .best), (89.999, .high), (80.0, .high), (79.9, .medium),
        (70.0, .medium), (69.9, .low), (60.0, .low), (59.9, .poor), (50.0, .poor), (49.9, .notRecommended),
        (-20.0, .notRecommended),
    ])
    func qualityBands(r: Double, band: QualityBand) {
        #expect(QualityBand(rFactor: r) == band)
    }

    /// G.107 §7.4: no absolute-delay impairment up to mT = 100 ms; published values above.
    @Test func iddIsZeroUpTo100ms() {
        for ta in stride(from: 0.0, through: 100.0, by: 0.5) {
            var p = EModelParameters()
            p.absoluteDelayMs = ta
            #expect(EModel.evaluate(p).impairments.Idd == 0, "Ta=\(ta)")
        }
        var p = EModelParameters()
        p.absoluteDelayMs = 200
        #expect(abs(EModel.evaluate(p).impairments.Idd - 3.0444142235187543) < 1e-9)
        p.absoluteDelayMs = 400
        #expect(abs(EModel.evaluate(p).impairments.Idd - 24.070089219772616) < 1e-9)
        // sT enters the exponent as 6·sT: with sT = 2 the knee is sharper, Idd at 200 ms smaller.
        p.absoluteDelayMs = 200
        p.delaySensitivity = 2
        #expect(EModel.evaluate(p).impairments.Idd < 3.0444142235187543)
    }

    /// §7.5 by hand: G.729A (Ie 11, Bpl 19) at 2 % random loss: 11 + 84·2/(2 + 19) = 19 exactly.
    @Test func ieEffByHand() {
        var p = EModelParameters()
        p.equipmentImpairment = 11
        p.packetLossRobustness = 19
        p.packetLossPercent = 2
        #expect(abs(EModel.evaluate(p).impairments.IeEff - 19) < 1e-12)
        // Bursty: BurstR 2 halves Ppl in the denominator: 11 + 84·2/(1 + 19) = 19.4.
        p.burstRatio = 2
        #expect(abs(EModel.evaluate(p).impairments.IeEff - 19.4) < 1e-12)
        // Ppl 0 is Ie, even with Bpl 0 (no 0/0).
        p.packetLossPercent = 0
        p.packetLossRobustness = 0
        #expect(EModel.evaluate(p).impairments.IeEff == 11)
    }

    /// Heavy bursty loss: Ie,eff above 95, R below 0, MOS clamped to 1.
    @Test func heavyBurstyLossGoesBelowZero() {
        var p = EModelParameters()
        p.equipmentImpairment = 15
        p.packetLossRobustness = 16.1
        p.packetLossPercent = 60
        p.burstRatio = 8
        let result = EModel.evaluate(p)
        #expect(result.impairments.IeEff > 95)
        #expect(result.rFactor < 0)
        #expect(result.mos == 1)
        #expect(result.quality == .notRecommended)
    }

    /// MOS falls (never rises) as loss grows, for every codec row and burst ratio.
    @Test func mosMonotonicInLoss() throws {
        for codec in Codec.narrowband {
            for plc in [false, true] {
                let impairment = try ModelInputs.CodecImpairment(codec: codec, concealment: plc)
                for burst in [1.0, 1.5, 3.0] {
                    var previous = Double.infinity
                    for tenths in 0...1000 {
                        var p = EModelParameters()
                        p.equipmentImpairment = impairment.equipmentImpairment
                        p.packetLossRobustness = impairment.packetLossRobustness
                        p.packetLossPercent = Double(tenths) / 10
                        p.burstRatio = burst
                        p.absoluteDelayMs = 150
                        p.meanOneWayDelayMs = 150
                        p.roundTripDelayMs = 300
                        let r = EModel.evaluate(p).rFactor
                        #expect(r < previous, "\(codec.name) plc=\(plc) BurstR=\(burst) Ppl=\(p.packetLossPercent)")
                        previous = r
                    }
                }
            }
        }
    }

    /// MOS falls as the mouth-to-ear delay grows (T = Ta, Tr = 2·Ta), from 5 ms up. Between
    /// 0 and 5 ms R may rise by a tenth: G.107's Idte is slightly negative for very short
    /// echo delays, and 0 below 1 ms by definition.
    @Test func mosMonotonicInDelay() {
        var previous = EModel.evaluate(EModelParameters()).rFactor
        for ta in stride(from: 5.0, through: 2000.0, by: 5.0) {
            var p = EModelParameters()
            p.absoluteDelayMs = ta
            p.meanOneWayDelayMs = ta
            p.roundTripDelayMs = 2 * ta
            let r = EModel.evaluate(p).rFactor
            #expect(r < previous, "Ta=\(ta)")
            previous = r
        }
    }
}
