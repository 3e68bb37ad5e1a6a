#!/usr/bin/env python3
"""Times whole commands (tshark, and `earshot pcap analyze` once it exists): wall-clock time of
the process from start to exit, repeated, with its output checked so a broken command cannot
pass for a fast one.

    command_peer.py NAME UNITS UNIT EXPECT REPEATS -- COMMAND...   (COMMAND runs under bash -c)

EXPECT is a regular expression the command's output must match (use '.' for anything).
"""

import re
import subprocess
import sys
import time

from peerlib import emit, summarise

name, units, unit, expect, repeats = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
assert sys.argv[6] == "--"
command = " ".join(sys.argv[7:])

times = []
output = ""
for i in range(repeats + 1):
    start = time.perf_counter()
    result = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit("%s: exit %d: %s" % (command, result.returncode, result.stderr[-2000:]))
    output = result.stdout
    if i > 0:  # the first run warms the page cache
        times.append(elapsed)
if not re.search(expect, output, re.MULTILINE):
    sys.exit("%s: output does not match %r:\n%s" % (command, expect, output[-2000:]))
emit([summarise(name, times, units, unit, command)])
