"""How fast this machine is right now, for tests that bound a duration.

A bound in seconds written for an idle machine fails on a loaded two-core CI
that runs the same code three to five times slower. :func:`scaled` stretches
such a bound by how much slower than :data:`REFERENCE_SECONDS` loading the
tiny instance takes here and now (the median of a few loads, measured once per
process), never shrinking it. What the tests guard against (a read that never
ends, an expansion of 9⁹ values, a solve that ignores its limit) takes minutes
or forever, far beyond any stretched bound.
"""

from __future__ import annotations

import statistics
import time
from functools import cache
from pathlib import Path

TINY = Path(__file__).resolve().parent.parent / "instances" / "tiny" / "instance.yaml"

REFERENCE_SECONDS = 0.025
"""Loading (and validating) instances/tiny on an idle machine: 20-32 ms."""


@cache
def slowdown() -> float:
    """How many times slower than :data:`REFERENCE_SECONDS` this machine loads
    the tiny instance now (at least 1)."""
    from optimiser import load_instance

    load_instance(TINY)  # the first load imports and warms caches: not counted
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        load_instance(TINY)
        times.append(time.perf_counter() - t0)
    return max(1.0, statistics.median(times) / REFERENCE_SECONDS)


def scaled(seconds: float) -> float:
    """``seconds`` (a bound written for an idle machine) at this machine's pace."""
    return seconds * slowdown()
