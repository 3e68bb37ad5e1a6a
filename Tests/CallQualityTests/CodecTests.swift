import CallQuality
import Testing

@Suite struct CodecTests {
    typealias Impairment = ModelInputs.CodecImpairment

    /// G.113 Appendix I: (codec, receiver conceals?, Ie, Bpl, look-ahead ms, default ptime ms).
    @Test(arguments: [
        ("PCMU", false, 0.0, 4.3, 0.0, 20.0),
        ("PCMU", true, 0.0, 25.1, 0.0, 20.0),
        ("PCMA", false, 0.0, 4.3, 0.0, 20.0),
        ("PCMA", true, 0.0, 25.1, 0.0, 20.0),
        ("G729A", false, 11.0, 19.0, 5.0, 20.0),
        ("G729A", true, 11.0, 19.0, 5.0, 20.0),
        ("G723.1", false, 15.0, 16.1, 7.5, 30.0),
        ("G723.1", true, 15.0, 16.1, 7.5, 30.0),
    ])
    func g113Table(name: String, plc: Bool, ie: Double, bpl: Double, lookAhead: Double, ptime: Double) throws {
        let codec = try Codec.named(name)
        let impairment = try Impairment(codec: codec, concealment: plc)
        #expect(codec.name == name)
        #expect(codec.isNarrowband)
        #expect(impairment.equipmentImpairment == ie)
        #expect(impairment.packetLossRobustness == bpl)
        #expect(impairment.source == .g113)
        #expect(codec.lookAheadMs == lookAhead)
        #expect(codec.defaultPtimeMs == ptime)
        // G.729A and G.723.1 conceal by design: their row always says so.
        #expect(impairment.concealment == (plc || name.hasPrefix("G72")))
    }

    @Test(arguments: [
        ("pcmu", "PCMU"), ("G.711u", "PCMU"), ("g711-ulaw", "PCMU"), ("PCMA", "PCMA"), ("G711A", "PCMA"),
        ("g729a", "G729A"), ("G.729", "G729A"), ("G729", "G729A"), ("g723.1", "G723.1"), ("G723", "G723.1"),
        ("G.722", "G722"), ("opus", "OPUS"),
    ])
    func namesAndAliases(spelling: String, canonical: String) throws {
        #expect(try Codec.named(spelling).name == canonical)
    }

    @Test func unknownCodecIsRefused() {
        let error = #expect(throws: CallQualityError.self) { try Codec.named("GSM") }
        #expect(error?.code == .unknownCodec)
        #expect(error?.message.contains("'GSM'") == true)
        #expect(error?.message.contains("PCMU") == true)
    }

    /// Wideband codecs belong to G.107.1: refused with narrowband values, scored with explicit ones.
    @Test(arguments: ["G722", "OPUS"])
    func widebandNeedsExplicitImpairment(name: String) throws {
        let codec = try Codec.named(name)
        #expect(!codec.isNarrowband)
        let error = #expect(throws: CallQualityError.self) { try Impairment(codec: codec, concealment: true) }
        #expect(error?.code == .codecNeedsExplicitImpairment)
        let explicit = try Impairment(codec: codec, equipmentImpairment: 3, packetLossRobustness: 20, concealment: true)
        #expect(explicit.equipmentImpairment == 3)
        #expect(explicit.packetLossRobustness == 20)
        #expect(explicit.source == .explicit)
    }

    @Test(arguments: [(-1.0, 10.0), (96.0, 10.0), (Double.nan, 10.0), (10.0, 0.0), (10.0, -3.0), (10.0, .infinity)])
    func explicitImpairmentRange(ie: Double, bpl: Double) {
        let error = #expect(throws: CallQualityError.self) {
            try Impairment(codec: .pcmu, equipmentImpairment: ie, packetLossRobustness: bpl, concealment: false)
        }
        #expect(error?.code == .impairmentOutOfRange)
    }
}
