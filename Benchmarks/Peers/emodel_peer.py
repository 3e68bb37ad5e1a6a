#!/usr/bin/env python3
"""Peer for the E-model benchmarks: the independent Python transcription of G.107 that the
CallQuality tests are checked against (Tests/CallQualityTests/emodel_reference.py), with the
inputs of the Swift benchmarks (EarshotBenchmarks.swift, peerEModelParameters/peerMeasurement).

    emodel_peer.py REPO_ROOT > emodel.json

Pure Python: the ratio says what a compiled E-model buys over a scripted one, not that one
transcription is cleverer than the other. Both print the same R (see the "check" field).
"""

import os
import sys
import timeit

from peerlib import emit, summarise

sys.path.insert(0, os.path.join(sys.argv[1], "Tests", "CallQualityTests"))
import emodel_reference as ref  # noqa: E402

NUMBER = 2000
REPEATS = 30


def evaluate():
    return ref.e_model(Bpl=25.1, Ppl=2.0, BurstR=1.5, Ta=150.0, T=150.0, Tr=300.0)


def assess():
    return ref.from_measurement("PCMU", True, 3000, 45, 15, 1.4, ("rtt", 160.0), 60.0, 20.0, 0.0)


records = []
for name, call, check in [
    ("E-model evaluate", evaluate, lambda: "R=%.6f" % evaluate()["R"]),
    ("CallQualityAssessment from counters", assess, lambda: "R_CQ=%.6f R_LQ=%.6f" % (assess()[3]["R"], assess()[4]["R"])),
]:
    call()
    totals = timeit.repeat(call, number=NUMBER, repeat=REPEATS)
    record = summarise(name, [t / NUMBER for t in totals], 1, "evaluations" if name.startswith("E-model") else "assessments",
                       "emodel_reference.py, CPython %s" % sys.version.split()[0])
    record["check"] = check()
    records.append(record)
emit(records)
