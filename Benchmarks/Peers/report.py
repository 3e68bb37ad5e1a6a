#!/usr/bin/env python3
"""Turns one scripts/bench run into Markdown tables: ours per unit of work, and ours against
the peers measured in the same run, as ratios (ours / peer in units per second, so > 1 means
Earshot is faster).

    report.py OUT_DIR     (reads OUT_DIR/ours.jmh.json, OUT_DIR/peers/*.json, OUT_DIR/fixtures/emodel-check.txt)

Benchmark JMH values are per measured iteration, in µs; UNITS says how much work one iteration
is, so adding a benchmark without adding it here fails loudly rather than printing a wrong unit.
"""

import glob
import json
import os
import sys

# Benchmark name -> (units of work per measured iteration, unit).
UNITS = {
    "SIP parse INVITE with SDP": (1_000, "messages"),
    "SIP parse INVITE + dialog headers": (1_000, "messages"),
    "SIP serialize INVITE": (1_000, "messages"),
    "SDP parse offer": (1_000, "descriptions"),
    "RTP header view parse (172 B)": (1_000, "packets"),
    "RTP packet parse, owned payload (172 B)": (1_000, "packets"),
    "ReceiverStatistics.record (lossy stream)": (1_000, "packets"),
    "ReceiverStatistics.snapshot (10k-packet stream)": (1_000, "snapshots"),
    "JitterBufferEmulator.record (adaptive, lossy stream)": (1_000, "packets"),
    "Goertzel measure (160-sample frame)": (1_000, "frames"),
    "G.711 µ-law encode (1M samples)": (1_000_000, "samples"),
    "G.711 A-law encode (1M samples)": (1_000_000, "samples"),
    "G.711 µ-law decode (1M samples)": (1_000_000, "samples"),
    "G.711 A-law decode (1M samples)": (1_000_000, "samples"),
    "G.711 µ-law encode (1M samples, per-sample encode(_:))": (1_000_000, "samples"),
    "G.711 µ-law encode (160-sample frame, reused buffer)": (1_000, "frames"),
    "E-model evaluate": (1_000, "evaluations"),
    "CallQualityAssessment from counters (CQ + LQ)": (1_000, "assessments"),
    "pcap read (100k packets)": (100_000, "packets"),
    "pcap read + UDP decode (100k packets)": (100_000, "packets"),
    "pcap RTP stream statistics (100k packets, 50 streams)": (100_000, "packets"),
    "pcap SIP parse + Call-ID (10k INVITEs)": (10_000, "messages"),
}

# (ours, peer, what is compared). Peers whose record is missing (e.g. `earshot pcap analyze`
# before it exists) are skipped with a note.
PAIRS = [
    ("G.711 µ-law encode (1M samples)", "G.711 µ-law encode", "same 1M samples, new output buffer per call"),
    ("G.711 A-law encode (1M samples)", "G.711 A-law encode", "same 1M samples, new output buffer per call"),
    ("G.711 µ-law decode (1M samples)", "G.711 µ-law decode", "same 1M codes, new output buffer per call"),
    ("G.711 A-law decode (1M samples)", "G.711 A-law decode", "same 1M codes, new output buffer per call"),
    ("E-model evaluate", "E-model evaluate", "same inputs; compiled vs interpreted"),
    ("CallQualityAssessment from counters (CQ + LQ)", "CallQualityAssessment from counters", "counters → inputs → CQ + LQ"),
    ("pcap SIP parse + Call-ID (10k INVITEs)", "tshark SIP Call-ID (10k INVITEs)",
     "NOT like-for-like: tshark whole command (start-up, file I/O, full SIP+SDP dissection, field output)"),
    ("pcap SIP parse + Call-ID (10k INVITEs)", "tshark SIP Call-ID (10k INVITEs) net of start-up",
     "tshark minus its 1-packet run; still full dissection vs our parse"),
    ("pcap RTP stream statistics (100k packets, 50 streams)", "tshark rtp,streams (100k packets)",
     "NOT like-for-like: tshark whole command (start-up, file I/O, RTP dissection, per-stream analysis)"),
    ("pcap RTP stream statistics (100k packets, 50 streams)", "tshark rtp,streams (100k packets) net of start-up",
     "tshark minus its 1-packet run"),
    ("earshot pcap analyze (100k packets)", "tshark rtp,streams (100k packets)",
     "whole commands both: like-for-like"),
]


def fmt_time(seconds):
    ns = seconds * 1e9
    if ns < 1_000:
        return "%.3g ns" % ns if ns < 100 else "%.0f ns" % ns
    if ns < 1_000_000:
        return "%.3g µs" % (ns / 1e3)
    if ns < 1_000_000_000:
        return "%.3g ms" % (ns / 1e6)
    return "%.3g s" % (ns / 1e9)


def fmt_rate(per_second, unit):
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if per_second >= scale:
            return "%.3g %s %s/s" % (per_second / scale, suffix, unit)
    return "%.3g %s/s" % (per_second, unit)


def load_ours(path):
    ours = {}
    for element in json.load(open(path)):
        key = element["benchmark"].split(".", 3)[3]  # package.benchmark.<target>.<name>
        name = next((n for n in UNITS if key.startswith(n.replace(" ", "_"))), None)
        if name is None:
            sys.exit("report.py: no UNITS entry for benchmark %r" % key)
        units, unit = UNITS[name]
        wall = element["secondaryMetrics"]["Time (wall clock)"]["scorePercentiles"]
        malloc = element["secondaryMetrics"].get("Malloc (total)", {}).get("scorePercentiles", {})
        ours[name] = {
            "median_s": wall["50.0"] * 1e-6 / units,
            "p90_s": wall["90.0"] * 1e-6 / units,
            "mallocs": malloc.get("50.0", float("nan")) / units,
            "samples": element["measurementIterations"],
            "unit": unit,
        }
    return ours


def load_peers(directory):
    peers = {}
    for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
        for record in json.load(open(path)):
            record["median_unit_s"] = record["median_s"] / record["units_per_call"]
            record["p90_unit_s"] = record["p90_s"] / record["units_per_call"]
            peers[record["name"]] = record
    # tshark net of its start-up (the same command over a one-packet capture).
    for name, startup in (("tshark SIP Call-ID (10k INVITEs)", "tshark SIP start-up (1 packet)"),
                          ("tshark rtp,streams (100k packets)", "tshark rtp,streams start-up (1 packet)")):
        if name in peers and startup in peers:
            net = dict(peers[name])
            net["name"] = name + " net of start-up"
            net["median_s"] = peers[name]["median_s"] - peers[startup]["median_s"]
            net["p90_s"] = peers[name]["p90_s"] - peers[startup]["median_s"]
            net["median_unit_s"] = net["median_s"] / net["units_per_call"]
            net["p90_unit_s"] = net["p90_s"] / net["units_per_call"]
            peers[net["name"]] = net
    return peers


def main():
    out = sys.argv[1]
    ours = load_ours(os.path.join(out, "ours.jmh.json"))
    peers = load_peers(os.path.join(out, "peers"))

    print("### Ours (per unit of work; median and p90 over the measured iterations)\n")
    print("| Benchmark | median | p90 | rate at median | mallocs/unit | iterations |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in UNITS:
        if name not in ours:
            continue
        r = ours[name]
        print("| %s | %s | %s | %s | %.3g | %d |" % (name, fmt_time(r["median_s"]), fmt_time(r["p90_s"]),
                                                   fmt_rate(1 / r["median_s"], r["unit"]), r["mallocs"], r["samples"]))

    print("\n### Against peers measured in the same run (ratio = our rate / peer rate; > 1: Earshot faster)\n")
    print("| Ours | ours median | Peer | peer median | peer p90 | ratio (median) | compared |")
    print("|---|---:|---|---:|---:|---:|---|")
    skipped = []
    for mine, theirs, what in PAIRS:
        if theirs not in peers:
            skipped.append(theirs)
            continue
        peer = peers[theirs]
        if mine in ours:
            our_median, unit = ours[mine]["median_s"], ours[mine]["unit"]
        elif mine in peers:  # a whole command of ours, timed like the peer
            our_median, unit = peers[mine]["median_unit_s"], peers[mine]["unit"]
        else:
            skipped.append(mine)
            continue
        print("| %s | %s | %s | %s | %s | %.3g | %s |" % (
            mine, fmt_rate(1 / our_median, unit), theirs, fmt_rate(1 / peer["median_unit_s"], peer["unit"]),
            fmt_rate(1 / peer["p90_unit_s"], peer["unit"]), peer["median_unit_s"] / our_median, what))
    for name in ("tshark SIP start-up (1 packet)", "tshark rtp,streams start-up (1 packet)"):
        if name in peers:
            print("\n%s: median %s (p90 %s)" % (name, fmt_time(peers[name]["median_s"]), fmt_time(peers[name]["p90_s"])), end="")
    print()
    for name in sorted(set(skipped)):
        print("\nNot measured in this run: %s" % name)

    check = os.path.join(out, "fixtures", "emodel-check.txt")
    if os.path.exists(check):
        print("\nSame answers — Swift: %s" % "; ".join(open(check).read().strip().splitlines()))
        for name in ("E-model evaluate", "CallQualityAssessment from counters"):
            if name in peers and "check" in peers[name]:
                print("Python %s: %s" % (name, peers[name]["check"]))


if __name__ == "__main__":
    main()
