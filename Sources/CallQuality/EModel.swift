#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

/// The narrowband E-model of ITU-T G.107 (06/2015 clause numbering), in full — not the
/// popular linear approximations, which diverge badly above ~350 ms one-way delay.
///
///     R = Ro − Is − Id − Ie,eff + A                                  (G.107 §7.1)
///
/// Pure: the same parameters always give the same result. Inputs are taken as given, as a
/// planning tool would; range checks belong to whoever turns measurements or a command
/// line into parameters (`ModelInputs`).
public enum EModel {
    /// Scores one connection.
    public static func evaluate(_ p: EModelParameters) -> EModelResult {
        let SLR = p.sendLoudnessRating, RLR = p.receiveLoudnessRating
        let STMR = p.sidetoneMaskingRating, LSTR = p.listenerSidetoneRating
        let Ds = p.sendSideDValue, TELR = p.talkerEchoLoudnessRating, WEPL = p.weightedEchoPathLoss
        let T = p.meanOneWayDelayMs, Tr = p.roundTripDelayMs, Ta = p.absoluteDelayMs
        let Nc = p.circuitNoise, Nfor = p.receiveNoiseFloor, Ps = p.sendRoomNoise, Pr = p.receiveRoomNoise

        // §7.2 Basic signal-to-noise ratio: Ro = 15 − 1.5·(SLR + No), where No is the power
        // sum of circuit noise Nc, send room noise Nos, receive room noise Nor and the
        // receive noise floor Nfo.
        let OLR = SLR + RLR
        let Nos = Ps - SLR - Ds - 100 + 0.004 * square(Ps - OLR - Ds - 14)
        let Pre = Pr + 10 * log10(1 + dB(10 - LSTR))
        let Nor = RLR - 121 + Pre + 0.008 * square(Pre - 35)
        let Nfo = Nfor + RLR
        let No = 10 * log10(dB(Nc) + dB(Nos) + dB(Nor) + dB(Nfo))
        let Ro = 15 - 1.5 * (SLR + No)

        // §7.3 Simultaneous impairment factor: Is = Iolr + Ist + Iq.
        let Xolr = OLR + 0.2 * (64 + No - RLR)
        let Iolr = 20 * (pow(1 + pow(Xolr / 8, 8), 1.0 / 8) - Xolr / 8)
        // STMRo: sidetone plus the talker echo that arrives within ~T/4 ms.
        let STMRo = -10 * log10(dB(-STMR) + exp(-T / 4) * dB(-TELR))
        let Ist = 12 * pow(1 + pow((STMRo - 13) / 6, 8), 1.0 / 8)
            - 28 * pow(1 + pow((STMRo + 1) / 19.4, 35), 1.0 / 35)
            - 13 * pow(1 + pow((STMRo - 3) / 33, 13), 1.0 / 13)
            + 29
        let Q = 37 - 15 * log10(p.quantizingDistortionUnits)
        let G = 1.07 + 0.258 * Q + 0.0602 * Q * Q
        let Y = (Ro - 100) / 15 + 46 / 8.4 - G / 9
        let Z = 46.0 / 30 - G / 40
        let Iq = 15 * log10(1 + pow(10, Y) + pow(10, Z))
        let Is = Iolr + Ist + Iq

        // §7.4 Delay impairment factor: Id = Idte + Idle + Idd.
        // Talker echo, Idte. TERV is the echo's loudness weighted by its delay; with a loud
        // sidetone (STMR < 9 dB) the sidetone masks part of the echo: TERVs = TERV + Ist/2.
        let Roe = -1.5 * (No - RLR)
        var TERV = TELR - 40 * log10((1 + T / 10) / (1 + T / 150)) + 6 * exp(-0.3 * T * T)
        if STMR < 9 { TERV += Ist / 2 }
        let Re = 80 + 2.5 * (TERV - 14)
        var Idte: Double
        if T < 1 {
            // Echo that arrives within a millisecond is heard as sidetone, not as echo.
            Idte = 0
        } else {
            Idte = ((Roe - Re) / 2 + (square(Roe - Re) / 4 + 100).squareRoot() - 1) * (1 - exp(-T))
        }
        // With almost no sidetone (STMR > 20 dB) the missing sidetone adds to the echo
        // impairment: Idtes = √(Idte² + Ist²). Applied after the T < 1 ms rule, so at T = 0
        // Idtes = |Ist| (emodel.md lists the rules in this order).
        if STMR > 20 { Idte = (Idte * Idte + Ist * Ist).squareRoot() }
        // Listener echo, Idle.
        let Rle = 10.5 * (WEPL + 7) * pow(Tr + 1, -0.25)
        let Idle = (Ro - Rle) / 2 + (square(Ro - Rle) / 4 + 169).squareRoot()
        // Absolute delay, Idd: nothing up to mT, then the sT-shaped curve. The exponent is
        // 6·sT (not 6 − sT, a common transcription error).
        let Idd: Double
        let mT = p.minimumPerceivableDelayMs
        if Ta <= mT {
            Idd = 0
        } else {
            let X = log10(Ta / mT) / log10(2.0)
            let e = 6 * p.delaySensitivity
            Idd = 25 * (pow(1 + pow(X, e), 1 / e) - 3 * pow(1 + pow(X / 3, e), 1 / e) + 2)
        }
        let Id = Idte + Idle + Idd

        // §7.5 Effective equipment impairment factor, with Ppl in percent and BurstR for
        // bursty loss. Ppl = 0 gives Ie exactly (and no 0/0 should Bpl be 0). With heavy
        // bursty loss Ie,eff can exceed 95; R then goes negative and the MOS clamps.
        let Ie = p.equipmentImpairment, Ppl = p.packetLossPercent
        let IeEff = Ppl == 0
            ? Ie
            : Ie + (95 - Ie) * Ppl / (Ppl / p.burstRatio + p.packetLossRobustness)

        // §7.6 Advantage factor A, §7.1 the rating.
        let A = p.advantage
        let R = Ro - Is - Id - IeEff + A
        return EModelResult(
            rFactor: R,
            impairments: Impairments(
                Ro: Ro, Is: Is, Iolr: Iolr, Ist: Ist, Iq: Iq,
                Id: Id, Idte: Idte, Idle: Idle, Idd: Idd, IeEff: IeEff, A: A
            )
        )
    }

    /// MOS (conversational or listening, depending on the R given) from the rating,
    /// G.107 Annex B:
    ///
    ///     MOS = 1                                          for R < 0
    ///     MOS = 1 + 0.035·R + R·(R − 60)·(100 − R)·7·10⁻⁶   for 0 ≤ R ≤ 100
    ///     MOS = 4.5                                        for R > 100
    ///
    /// The cubic dips below 1 for 0 < R < 6.5153; that is clamped to 1, as RFC 3611 cannot
    /// carry a MOS below 1.0 either.
    public static func mos(fromR r: Double) -> Double {
        if r < 0 { return 1 }
        if r > 100 { return 4.5 }
        return max(1, 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6)
    }

    @inline(__always) private static func square(_ x: Double) -> Double { x * x }
    /// 10^(x/10): a level in dB back to a power ratio.
    @inline(__always) private static func dB(_ x: Double) -> Double { pow(10, x / 10) }
}

/// What the E-model says about one connection: the rating, its MOS and quality band, and
/// every term that went into it, so a user can see *why* a call scored what it scored.
public struct EModelResult: Sendable, Hashable, Codable {
    /// R, the transmission rating factor. Not clamped: heavy bursty loss can drive it below 0.
    public let rFactor: Double
    /// MOS from `rFactor` by G.107 Annex B, clamped to 1…4.5.
    public let mos: Double
    /// The G.109 category `rFactor` falls in.
    public let quality: QualityBand
    public let impairments: Impairments

    public init(rFactor: Double, impairments: Impairments) {
        self.rFactor = rFactor
        self.mos = EModel.mos(fromR: rFactor)
        self.quality = QualityBand(rFactor: rFactor)
        self.impairments = impairments
    }

    enum CodingKeys: String, CodingKey {
        case rFactor = "r_factor", mos, quality, impairments
    }
}

/// The terms of R = Ro − Is − Id − Ie,eff + A with their sub-terms, named by their G.107
/// symbols (and encoded under them: `Ro`, `Is`, `Iolr`, …, `Ie_eff`, `A`).
public struct Impairments: Sendable, Hashable, Codable {
    /// Ro — basic signal-to-noise ratio (§7.2).
    public let Ro: Double
    /// Is = Iolr + Ist + Iq — impairments simultaneous with the voice signal (§7.3).
    public let Is: Double
    /// Iolr — too-low overall loudness rating.
    public let Iolr: Double
    /// Ist — non-optimum sidetone.
    public let Ist: Double
    /// Iq — quantizing distortion.
    public let Iq: Double
    /// Id = Idte + Idle + Idd — impairments caused by delay (§7.4).
    public let Id: Double
    /// Idte — talker echo.
    public let Idte: Double
    /// Idle — listener echo.
    public let Idle: Double
    /// Idd — too-long absolute delay.
    public let Idd: Double
    /// Ie,eff — codec and packet loss (§7.5).
    public let IeEff: Double
    /// A — advantage factor (§7.6).
    public let A: Double

    public init(
        Ro: Double, Is: Double, Iolr: Double, Ist: Double, Iq: Double,
        Id: Double, Idte: Double, Idle: Double, Idd: Double, IeEff: Double, A: Double
    ) {
        self.Ro = Ro
        self.Is = Is
        self.Iolr = Iolr
        self.Ist = Ist
        self.Iq = Iq
        self.Id = Id
        self.Idte = Idte
        self.Idle = Idle
        self.Idd = Idd
        self.IeEff = IeEff
        self.A = A
    }

    enum CodingKeys: String, CodingKey {
        case Ro, Is, Iolr, Ist, Iq, Id, Idte, Idle, Idd, IeEff = "Ie_eff", A
    }
}

/// The user-satisfaction categories of ITU-T G.109 by R, as emodel.md lists them.
/// Lower bounds are inclusive: R = 90 is `best`, R = 89.99 is `high`.
public enum QualityBand: String, Sendable, Hashable, Codable, CaseIterable {
    /// R ≥ 90: very satisfied.
    case best
    /// 80 ≤ R < 90: satisfied.
    case high
    /// 70 ≤ R < 80: some users dissatisfied.
    case medium
    /// 60 ≤ R < 70: many users dissatisfied.
    case low
    /// 50 ≤ R < 60: nearly all users dissatisfied.
    case poor
    /// R < 50: G.109 does not recommend planning for it.
    case notRecommended = "not_recommended"

    public init(rFactor r: Double) {
        switch r {
        case 90...: self = .best
        case 80..<90: self = .high
        case 70..<80: self = .medium
        case 60..<70: self = .low
        case 50..<60: self = .poor
        default: self = .notRecommended
        }
    }
}
