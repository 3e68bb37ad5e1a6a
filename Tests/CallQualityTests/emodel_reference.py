#!/usr/bin/env python3
"""Independent reference values for Earshot's ITU-T G.107 E-model.

Written straight from ../shared/reference/emodel.md, without looking at the Swift code,
so that the Swift implementation is checked against a second transcription of the
formulas. It is NOT run at test time: run it once and commit its output,

    python3 Tests/CallQualityTests/emodel_reference.py > Tests/CallQualityTests/EModelReferenceTable.swift

and `EModelReferenceTests` asserts that Swift reproduces every row to 1e-6.

Conventions reproduced here (Earshot's, from emodel.md "Turning measurements into model
inputs"): Ppl = 100 * (unique lost + jitter-buffer discards) / expected; BurstR never
below 1; Ta = one-way network delay + jitter buffer + ptime + codec look-ahead, with the
one-way delay either measured or RTT/2; T = Ta, Tr = 2 Ta; MOS-LQ uses Ta = T = Tr = 0.
"""

import math

LG = math.log10

G107_DEFAULTS = {
    "SLR": 8.0, "RLR": 2.0, "STMR": 15.0, "LSTR": 18.0, "Ds": 3.0, "Dr": 3.0,
    "TELR": 65.0, "WEPL": 110.0, "T": 0.0, "Tr": 0.0, "Ta": 0.0, "qdu": 1.0,
    "Ie": 0.0, "Bpl": 4.3, "Ppl": 0.0, "BurstR": 1.0, "Nc": -70.0, "Nfor": -64.0,
    "Ps": 35.0, "Pr": 35.0, "A": 0.0, "sT": 1.0, "mT": 100.0,
}

# G.113 Appendix I rows: (Ie, Bpl without PLC, Bpl with PLC, look-ahead ms, default ptime ms)
CODECS = {
    "PCMU": (0.0, 4.3, 25.1, 0.0, 20.0),
    "PCMA": (0.0, 4.3, 25.1, 0.0, 20.0),
    "G729A": (11.0, 19.0, 19.0, 5.0, 20.0),
    "G723.1": (15.0, 16.1, 16.1, 7.5, 30.0),
}


def r_to_mos(r):
    if r < 0:
        return 1.0
    if r > 100:
        return 4.5
    return max(1.0, 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6)


def band(r):
    for limit, name in ((90, "best"), (80, "high"), (70, "medium"), (60, "low"), (50, "poor")):
        if r >= limit:
            return name
    return "not_recommended"


def e_model(**overrides):
    p = dict(G107_DEFAULTS)
    p.update(overrides)
    SLR, RLR, STMR, LSTR = p["SLR"], p["RLR"], p["STMR"], p["LSTR"]
    Ds, TELR, WEPL = p["Ds"], p["TELR"], p["WEPL"]
    T, Tr, Ta = p["T"], p["Tr"], p["Ta"]
    qdu, Ie, Bpl, Ppl, BurstR = p["qdu"], p["Ie"], p["Bpl"], p["Ppl"], p["BurstR"]
    Nc, Nfor, Ps, Pr, A, sT, mT = p["Nc"], p["Nfor"], p["Ps"], p["Pr"], p["A"], p["sT"], p["mT"]

    OLR = SLR + RLR
    Pre = Pr + 10 * LG(1 + 10 ** ((10 - LSTR) / 10))
    Nor = RLR - 121 + Pre + 0.008 * (Pre - 35) ** 2
    Nos = Ps - SLR - Ds - 100 + 0.004 * (Ps - OLR - Ds - 14) ** 2
    Nfo = Nfor + RLR
    No = 10 * LG(10 ** (Nc / 10) + 10 ** (Nos / 10) + 10 ** (Nor / 10) + 10 ** (Nfo / 10))
    Ro = 15 - 1.5 * (SLR + No)

    Xolr = OLR + 0.2 * (64 + No - RLR)
    Iolr = 20 * (math.pow(1 + math.pow(Xolr / 8, 8), 1 / 8) - Xolr / 8)
    STMRo = -10 * LG(10 ** (-STMR / 10) + math.exp(-T / 4) * 10 ** (-TELR / 10))
    Ist = (12 * math.pow(1 + math.pow((STMRo - 13) / 6, 8), 1 / 8)
           - 28 * math.pow(1 + math.pow((STMRo + 1) / 19.4, 35), 1 / 35)
           - 13 * math.pow(1 + math.pow((STMRo - 3) / 33, 13), 1 / 13)
           + 29)
    Q = 37 - 15 * LG(qdu)
    G = 1.07 + 0.258 * Q + 0.0602 * Q * Q
    Y = (Ro - 100) / 15 + 46 / 8.4 - G / 9
    Z = 46 / 30 - G / 40
    Iq = 15 * LG(1 + 10 ** Y + 10 ** Z)
    Is = Iolr + Ist + Iq

    Roe = -1.5 * (No - RLR)
    TERV = TELR - 40 * LG((1 + T / 10) / (1 + T / 150)) + 6 * math.exp(-0.3 * T * T)
    if STMR < 9:
        TERV = TERV + Ist / 2
    Re = 80 + 2.5 * (TERV - 14)
    if T < 1:
        Idte = 0.0
    else:
        Idte = ((Roe - Re) / 2 + math.sqrt((Roe - Re) ** 2 / 4 + 100) - 1) * (1 - math.exp(-T))
    if STMR > 20:
        Idte = math.sqrt(Idte * Idte + Ist * Ist)
    Rle = 10.5 * (WEPL + 7) * math.pow(Tr + 1, -0.25)
    Idle = (Ro - Rle) / 2 + math.sqrt((Ro - Rle) ** 2 / 4 + 169)
    if Ta <= mT:
        Idd = 0.0
    else:
        X = LG(Ta / mT) / LG(2)
        e = 6 * sT
        Idd = 25 * (math.pow(1 + math.pow(X, e), 1 / e) - 3 * math.pow(1 + math.pow(X / 3, e), 1 / e) + 2)
    Id = Idte + Idle + Idd

    Ie_eff = Ie if Ppl == 0 else Ie + (95 - Ie) * Ppl / (Ppl / BurstR + Bpl)

    R = Ro - Is - Id - Ie_eff + A
    return {"R": R, "MOS": r_to_mos(R), "Ro": Ro, "Is": Is, "Iolr": Iolr, "Ist": Ist,
            "Iq": Iq, "Id": Id, "Idte": Idte, "Idle": Idle, "Idd": Idd, "Ie_eff": Ie_eff,
            "band": band(R)}


def from_measurement(codec, plc, expected, lost, discards, burst, delay, jb, ptime, advantage):
    """delay: ("measured", one_way_ms) or ("rtt", rtt_ms). Returns (Ta, Ppl, BurstR, CQ, LQ)."""
    Ie, bpl_plain, bpl_plc, lookahead, _ = CODECS[codec]
    Bpl = bpl_plc if plc else bpl_plain
    Ppl = 100.0 * (lost + discards) / expected
    BurstR = max(1.0, burst)
    kind, ms = delay
    one_way = ms if kind == "measured" else ms / 2
    Ta = one_way + jb + ptime + lookahead
    cq = e_model(Ie=Ie, Bpl=Bpl, Ppl=Ppl, BurstR=BurstR, A=advantage, Ta=Ta, T=Ta, Tr=2 * Ta)
    lq = e_model(Ie=Ie, Bpl=Bpl, Ppl=Ppl, BurstR=BurstR, A=advantage)
    return Ta, Ppl, BurstR, cq, lq


def swift(x):
    if isinstance(x, str):
        return '"%s"' % x
    if isinstance(x, bool):
        return "true" if x else "false"
    return repr(float(x))


def main():
    out = []
    w = out.append
    w("// GENERATED by emodel_reference.py (an independent Python transcription of")
    w("// ../shared/reference/emodel.md). Do not edit; re-run the script instead.")
    w("")
    w("enum EModelReferenceTable {")

    # 1. Codec x loss x BurstR x mouth-to-ear delay (T = Ta, Tr = 2 Ta).
    w("    /// (codec, plc, Ta ms, Ppl %, BurstR, R, Is, Id, Idte, Idle, Idd, Ie_eff, MOS)")
    w("    static let grid: [(String, Bool, Double, Double, Double, Double, Double, Double, Double, Double, Double, Double, Double)] = [")
    delays = [0, 50, 100, 150, 200, 300, 400, 500, 800]
    losses = [0, 0.5, 1, 2, 5, 10, 20]
    bursts = [1, 1.5, 3]
    rows = [("PCMU", False), ("PCMU", True), ("PCMA", False), ("PCMA", True), ("G729A", False), ("G723.1", False)]
    for codec, plc in rows:
        Ie, bpl_plain, bpl_plc, _, _ = CODECS[codec]
        Bpl = bpl_plc if plc else bpl_plain
        for d in delays:
            for loss in losses:
                for b in bursts:
                    m = e_model(Ie=Ie, Bpl=Bpl, Ppl=loss, BurstR=b, Ta=d, T=d, Tr=2 * d)
                    w("        (%s),"
                      % ", ".join(swift(v) for v in (codec, plc, d, loss, b, m["R"], m["Is"], m["Id"], m["Idte"],
                                                    m["Idle"], m["Idd"], m["Ie_eff"], m["MOS"])))
    w("    ]")
    w("")

    # 2. Sidetone: STMR < 9 (TERVs), 15, > 20 (Idtes), including T < 1 ms.
    w("    /// (STMR, T = Ta ms, R, Is, Ist, Idte, Id)")
    w("    static let sidetone: [(Double, Double, Double, Double, Double, Double, Double)] = [")
    for stmr in [5, 15, 25]:
        for d in [0, 0.5, 1, 5] + delays[1:]:
            m = e_model(STMR=stmr, Ta=d, T=d, Tr=2 * d)
            w("        (%s)," % ", ".join(swift(v) for v in (stmr, d, m["R"], m["Is"], m["Ist"], m["Idte"], m["Id"])))
    w("    ]")
    w("")

    # 3. Every other parameter away from its default, a few at a time.
    w("    /// (SLR, RLR, STMR, LSTR, Ds, TELR, WEPL, T, Tr, Ta, qdu, Ie, Bpl, Ppl, BurstR, Nc, Nfor, Ps, Pr, A, sT, mT, R, Ro, Is, Iq, Idte, Idle, Idd)")
    w("    static let parameterSets: [[Double]] = [")
    sets = [
        dict(SLR=12, RLR=6, Nc=-60, Ps=50, Pr=45),
        dict(qdu=4, Ie=5, Bpl=10, Ppl=3, BurstR=2),
        dict(TELR=45, WEPL=90, T=120, Tr=240, Ta=120),
        dict(STMR=8, LSTR=11, TELR=55, T=30, Tr=60, Ta=30),
        dict(STMR=22, LSTR=25, T=250, Tr=500, Ta=250, sT=0.55, mT=150),
        dict(Ds=-5, Nfor=-50, Ps=60, Pr=60, A=10, T=400, Tr=800, Ta=400, sT=2, mT=50),
        dict(SLR=2, RLR=-3, qdu=14, A=20, Ta=600, T=300, Tr=900),
    ]
    keys = ["SLR", "RLR", "STMR", "LSTR", "Ds", "TELR", "WEPL", "T", "Tr", "Ta", "qdu", "Ie", "Bpl",
            "Ppl", "BurstR", "Nc", "Nfor", "Ps", "Pr", "A", "sT", "mT"]
    for s in sets:
        p = dict(G107_DEFAULTS)
        p.update(s)
        m = e_model(**s)
        vals = [p[k] for k in keys] + [m["R"], m["Ro"], m["Is"], m["Iq"], m["Idte"], m["Idle"], m["Idd"]]
        w("        [%s]," % ", ".join(swift(v) for v in vals))
    w("    ]")
    w("")

    # 4. R -> MOS (G.107 Annex B) with the clamps.
    w("    /// (R, MOS, band)")
    w("    static let mos: [(Double, Double, String)] = [")
    for r in [-5, 0, 3, 6.52, 50, 59.99, 60, 70, 80, 90, 93.2, 100, 120]:
        w("        (%s, %s, %s)," % (swift(r), swift(r_to_mos(r)), swift(band(r))))
    w("    ]")
    w("")

    # 5. Raw counters -> model inputs -> MOS-CQ / MOS-LQ.
    w("    /// (codec, plc, expected, lost, discards, burst, measured?, delay ms, jb, ptime, A, Ta, Ppl, BurstR, R-CQ, MOS-CQ, R-LQ, MOS-LQ)")
    w("    static let measurements: [(String, Bool, Int, Int, Int, Double, Bool, Double, Double, Double, Double, Double, Double, Double, Double, Double, Double, Double)] = [")
    cases = [
        ("PCMU", False, 1000, 0, 0, 0.0, ("measured", 20.0), 40.0, 20.0, 0.0),
        ("PCMU", True, 1000, 10, 5, 1.0, ("rtt", 100.0), 40.0, 20.0, 0.0),
        ("PCMA", False, 3000, 45, 15, 2.4, ("rtt", 300.0), 60.0, 20.0, 0.0),
        ("PCMA", True, 500, 1, 0, 0.96, ("measured", 75.5), 30.0, 10.0, 5.0),
        ("G729A", False, 1500, 30, 0, 1.3, ("measured", 150.0), 40.0, 20.0, 0.0),
        ("G729A", False, 6000, 600, 120, 3.1, ("rtt", 640.0), 80.0, 40.0, 10.0),
        ("G723.1", False, 2000, 20, 20, 1.0, ("rtt", 250.0), 60.0, 30.0, 0.0),
        ("G723.1", False, 100, 50, 0, 5.0, ("measured", 900.0), 100.0, 60.0, 20.0),
        ("PCMU", False, 50000, 0, 0, 1.0, ("rtt", 0.0), 0.0, 20.0, 0.0),
    ]
    for codec, plc, exp, lost, disc, burst, delay, jb, ptime, adv in cases:
        Ta, Ppl, BurstR, cq, lq = from_measurement(codec, plc, exp, lost, disc, burst, delay, jb, ptime, adv)
        vals = (codec, plc, exp, lost, disc, burst, delay[0] == "measured", delay[1], jb, ptime, adv,
                Ta, Ppl, BurstR, cq["R"], cq["MOS"], lq["R"], lq["MOS"])
        w("        (%s)," % ", ".join(str(v) if isinstance(v, int) and not isinstance(v, bool) else swift(v) for v in vals))
    w("    ]")
    w("}")
    print("\n".join(out))


if __name__ == "__main__":
    main()
