"""Shared helpers of the peer scripts: repeated timing and a JSON record per measurement."""

import json
import statistics
import sys


def summarise(name, seconds_per_call, units_per_call, unit, note=""):
    """One record: median and p90 of the seconds one call took, and what a call does."""
    ordered = sorted(seconds_per_call)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return {
        "name": name,
        "median_s": statistics.median(ordered),
        "p90_s": p90,
        "min_s": ordered[0],
        "samples": len(ordered),
        "units_per_call": units_per_call,
        "unit": unit,
        "note": note,
    }


def emit(records):
    json.dump(records, sys.stdout, indent=1)
    print()
