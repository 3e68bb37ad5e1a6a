#!/usr/bin/env python3
"""Peer for the G.711 benchmarks: CPython's C `audioop` (Python 3.11; removed in 3.13) over the
same samples the Swift benchmarks use (bench-fixtures' samples.s16le, 16-bit little-endian).

    g711_peer.py samples.s16le > g711.json

Each call converts all samples and returns a new bytes object, as the Swift benchmark writes
into a new array. Timed with timeit, one call per repeat.
"""

import sys
import timeit
import warnings

from peerlib import emit, summarise

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

REPEATS = 60

pcm = open(sys.argv[1], "rb").read()
samples = len(pcm) // 2
ulaw = audioop.lin2ulaw(pcm, 2)
alaw = audioop.lin2alaw(pcm, 2)

cases = [
    ("G.711 µ-law encode", lambda: audioop.lin2ulaw(pcm, 2)),
    ("G.711 A-law encode", lambda: audioop.lin2alaw(pcm, 2)),
    ("G.711 µ-law decode", lambda: audioop.ulaw2lin(ulaw, 2)),
    ("G.711 A-law decode", lambda: audioop.alaw2lin(alaw, 2)),
]
records = []
for name, call in cases:
    call()  # warm-up
    times = timeit.repeat(call, number=1, repeat=REPEATS)
    records.append(summarise(name, times, samples, "samples",
                             "audioop (C) in CPython %s" % sys.version.split()[0]))
emit(records)
