import CallQuality
import Testing

/// Swift against the independent Python transcription of emodel.md
/// (`emodel_reference.py`, output committed as `EModelReferenceTable.swift`), to 1e-6.
@Suite struct EModelReferenceTests {
    static let tolerance = 1e-6

    static func codec(_ name: String, plc: Bool) throws -> ModelInputs.CodecImpairment {
        try ModelInputs.CodecImpairment(codec: Codec.named(name), concealment: plc)
    }

    /// Every codec × delay (0…800 ms) × loss (0…20 %) × BurstR (1, 1.5, 3), with T = Ta, Tr = 2·Ta.
    @Test func codecLossBurstDelayGrid() throws {
        #expect(EModelReferenceTable.grid.count == 6 * 9 * 7 * 3)
        for row in EModelReferenceTable.grid {
            let (name, plc, ta, ppl, burst, r, is_, id, idte, idle, idd, ieEff, mos) = row
            let codec = try Self.codec(name, plc: plc)
            var p = EModelParameters()
            p.equipmentImpairment = codec.equipmentImpairment
            p.packetLossRobustness = codec.packetLossRobustness
            p.packetLossPercent = ppl
            p.burstRatio = burst
            p.absoluteDelayMs = ta
            p.meanOneWayDelayMs = ta
            p.roundTripDelayMs = 2 * ta
            let result = EModel.evaluate(p)
            let t = result.impairments
            let context = Comment(rawValue: "\(name) plc=\(plc) Ta=\(ta) Ppl=\(ppl) BurstR=\(burst)")
            #expect(abs(result.rFactor - r) < Self.tolerance, context)
            #expect(abs(t.Is - is_) < Self.tolerance, context)
            #expect(abs(t.Id - id) < Self.tolerance, context)
            #expect(abs(t.Idte - idte) < Self.tolerance, context)
            #expect(abs(t.Idle - idle) < Self.tolerance, context)
            #expect(abs(t.Idd - idd) < Self.tolerance, context)
            #expect(abs(t.IeEff - ieEff) < Self.tolerance, context)
            #expect(abs(result.mos - mos) < Self.tolerance, context)
        }
    }

    /// STMR 5 (TERVs), 15, 25 (Idtes), at T below and above 1 ms.
    @Test func sidetoneSpecialCases() {
        for (stmr, t, r, is_, ist, idte, id) in EModelReferenceTable.sidetone {
            var p = EModelParameters()
            p.sidetoneMaskingRating = stmr
            p.absoluteDelayMs = t
            p.meanOneWayDelayMs = t
            p.roundTripDelayMs = 2 * t
            let result = EModel.evaluate(p)
            let context = Comment(rawValue: "STMR=\(stmr) T=\(t)")
            #expect(abs(result.rFactor - r) < Self.tolerance, context)
            #expect(abs(result.impairments.Is - is_) < Self.tolerance, context)
            #expect(abs(result.impairments.Ist - ist) < Self.tolerance, context)
            #expect(abs(result.impairments.Idte - idte) < Self.tolerance, context)
            #expect(abs(result.impairments.Id - id) < Self.tolerance, context)
        }
    }

    /// Every other G.107 parameter moved off its default in a few combinations.
    @Test func nonDefaultParameters() {
        for v in EModelReferenceTable.parameterSets {
            var p = EModelParameters()
            p.sendLoudnessRating = v[0]
            p.receiveLoudnessRating = v[1]
            p.sidetoneMaskingRating = v[2]
            p.listenerSidetoneRating = v[3]
            p.sendSideDValue = v[4]
            p.talkerEchoLoudnessRating = v[5]
            p.weightedEchoPathLoss = v[6]
            p.meanOneWayDelayMs = v[7]
            p.roundTripDelayMs = v[8]
            p.absoluteDelayMs = v[9]
            p.quantizingDistortionUnits = v[10]
            p.equipmentImpairment = v[11]
            p.packetLossRobustness = v[12]
            p.packetLossPercent = v[13]
            p.burstRatio = v[14]
            p.circuitNoise = v[15]
            p.receiveNoiseFloor = v[16]
            p.sendRoomNoise = v[17]
            p.receiveRoomNoise = v[18]
            p.advantage = v[19]
            p.delaySensitivity = v[20]
            p.minimumPerceivableDelayMs = v[21]
            let result = EModel.evaluate(p)
            let t = result.impairments
            let context = Comment(rawValue: "\(v[0..<22])")
            #expect(abs(result.rFactor - v[22]) < Self.tolerance, context)
            #expect(abs(t.Ro - v[23]) < Self.tolerance, context)
            #expect(abs(t.Is - v[24]) < Self.tolerance, context)
            #expect(abs(t.Iq - v[25]) < Self.tolerance, context)
            #expect(abs(t.Idte - v[26]) < Self.tolerance, context)
            #expect(abs(t.Idle - v[27]) < Self.tolerance, context)
            #expect(abs(t.Idd - v[28]) < Self.tolerance, context)
        }
    }

    @Test func rToMOSAndBands() {
        for (r, mos, band) in EModelReferenceTable.mos {
            #expect(abs(EModel.mos(fromR: r) - mos) < Self.tolerance, "R=\(r)")
            #expect(QualityBand(rFactor: r).rawValue == band, "R=\(r)")
        }
    }

    /// Raw counters → Ppl, BurstR, Ta → MOS-CQ and MOS-LQ, the whole measurement path.
    @Test func measurementsToScores() throws {
        for row in EModelReferenceTable.measurements {
            let (name, plc, expected, lost, discards, burst, measured, delay, jb, ptime, advantage,
                 ta, ppl, burstR, rCQ, mosCQ, rLQ, mosLQ) = row
            let measurement = StreamMeasurement(
                codec: try Codec.named(name),
                concealment: plc,
                packetsExpected: expected,
                packetsLost: lost,
                jitterBufferDiscards: discards,
                burstRatio: burst,
                networkDelay: measured ? .measured(oneWayMs: delay) : .roundTrip(rttMs: delay),
                jitterBufferDelayMs: jb,
                ptimeMs: ptime,
                advantage: advantage
            )
            let a = try CallQualityAssessment(measurement: measurement)
            let context = Comment(rawValue: "\(row)")
            let usedTa = try #require(a.inputs.delay.mouthToEarMs)
            let r = try #require(a.rFactor)
            let mos = try #require(a.mosCQ)
            #expect(abs(usedTa - ta) < Self.tolerance, context)
            #expect(abs(a.inputs.packetLossPercent - ppl) < Self.tolerance, context)
            #expect(a.inputs.burstRatio == burstR, context)
            #expect(abs(r - rCQ) < Self.tolerance, context)
            #expect(abs(mos - mosCQ) < Self.tolerance, context)
            #expect(abs(a.listening.rFactor - rLQ) < Self.tolerance, context)
            #expect(abs(a.mosLQ - mosLQ) < Self.tolerance, context)
        }
    }
}
