/// Every input of the narrowband E-model, ITU-T G.107 (06/2015) §7, with the defaults of
/// G.107 §7.7 (Table 3). `EModelParameters()` is the G.107 reference connection, which
/// scores R = 93.2062… (G.107 prints 93.2).
///
/// Names say what a parameter is; each doc comment gives the G.107 symbol, its unit and
/// default, and the coding keys are the symbols, so a stored parameter set reads like the
/// Recommendation.
public struct EModelParameters: Sendable, Hashable, Codable {
    /// SLR — send loudness rating, dB. Default 8.
    public var sendLoudnessRating: Double = 8
    /// RLR — receive loudness rating, dB. Default 2.
    public var receiveLoudnessRating: Double = 2
    /// STMR — sidetone masking rating, dB. Default 15. Below 9 dB and above 20 dB the
    /// talker-echo term changes form (G.107 §7.4).
    public var sidetoneMaskingRating: Double = 15
    /// LSTR — listener sidetone rating, dB. Default 18.
    public var listenerSidetoneRating: Double = 18
    /// Ds — D-value of the telephone, send side. Default 3.
    public var sendSideDValue: Double = 3
    /// Dr — D-value of the telephone, receive side. Default 3. Carried for completeness:
    /// G.107 uses it only through LSTR = STMR + Dr, and LSTR is an input of its own here.
    public var receiveSideDValue: Double = 3
    /// TELR — talker echo loudness rating, dB. Default 65.
    public var talkerEchoLoudnessRating: Double = 65
    /// WEPL — weighted echo path loss, dB. Default 110.
    public var weightedEchoPathLoss: Double = 110
    /// T — mean one-way delay of the echo path, ms. Default 0.
    public var meanOneWayDelayMs: Double = 0
    /// Tr — round-trip delay in a 4-wire loop, ms. Default 0.
    public var roundTripDelayMs: Double = 0
    /// Ta — absolute (mouth-to-ear) delay in echo-free connections, ms. Default 0.
    public var absoluteDelayMs: Double = 0
    /// qdu — number of quantizing distortion units. Default 1.
    public var quantizingDistortionUnits: Double = 1
    /// Ie — equipment impairment factor of the codec (G.113 Appendix I). Default 0.
    public var equipmentImpairment: Double = 0
    /// Bpl — packet-loss robustness factor of the codec (G.113 Appendix I). Default 4.3.
    public var packetLossRobustness: Double = 4.3
    /// Ppl — packet-loss probability in percent (0–100). Default 0.
    public var packetLossPercent: Double = 0
    /// BurstR — burst ratio: 1 for random loss, > 1 for bursty loss. Default 1.
    public var burstRatio: Double = 1
    /// Nc — circuit noise referred to the 0 dBr point, dBm0p. Default −70.
    public var circuitNoise: Double = -70
    /// Nfor — noise floor at the receive side, dBmp. Default −64.
    public var receiveNoiseFloor: Double = -64
    /// Ps — room noise at the send side, dB(A). Default 35.
    public var sendRoomNoise: Double = 35
    /// Pr — room noise at the receive side, dB(A). Default 35.
    public var receiveRoomNoise: Double = 35
    /// A — advantage factor (G.107 §7.6): 0 wired (default), 5 mobility in a building,
    /// 10 mobility in a geographic area, 20 hard-to-reach places (multi-hop satellite).
    public var advantage: Double = 0
    /// sT — delay sensitivity of the Idd curve. Default 1.
    public var delaySensitivity: Double = 1
    /// mT — minimum perceivable delay, ms: Idd is 0 up to this Ta. Default 100.
    public var minimumPerceivableDelayMs: Double = 100

    /// The G.107 §7.7 defaults.
    public init() {}

    /// The G.107 §7.7 defaults, spelled out where a call site reads better with a name.
    public static let g107Defaults = EModelParameters()

    enum CodingKeys: String, CodingKey {
        case sendLoudnessRating = "SLR"
        case receiveLoudnessRating = "RLR"
        case sidetoneMaskingRating = "STMR"
        case listenerSidetoneRating = "LSTR"
        case sendSideDValue = "Ds"
        case receiveSideDValue = "Dr"
        case talkerEchoLoudnessRating = "TELR"
        case weightedEchoPathLoss = "WEPL"
        case meanOneWayDelayMs = "T"
        case roundTripDelayMs = "Tr"
        case absoluteDelayMs = "Ta"
        case quantizingDistortionUnits = "qdu"
        case equipmentImpairment = "Ie"
        case packetLossRobustness = "Bpl"
        case packetLossPercent = "Ppl"
        case burstRatio = "BurstR"
        case circuitNoise = "Nc"
        case receiveNoiseFloor = "Nfor"
        case sendRoomNoise = "Ps"
        case receiveRoomNoise = "Pr"
        case advantage = "A"
        case delaySensitivity = "sT"
        case minimumPerceivableDelayMs = "mT"
    }
}
