"""Concave piecewise-linear responses (return to practice, retention).

A concave curve through breakpoints (s_0=0, r_0=0), …, (s_K, r_K) is the
minimum of its segments' lines, so ``effect ≤ r_k + slope_k·(spend − s_k)`` for
every segment k is exact without binaries (the validation has rejected
non-concave curves).
"""

from __future__ import annotations

import itertools


def segments(points) -> list[tuple[float, float, float]]:
    """(s_k, r_k, slope_k) for each segment, dropping repeats of a slope."""
    out: list[tuple[float, float, float]] = []
    for (s0, r0), (s1, r1) in itertools.pairwise(points):
        slope = (r1 - r0) / (s1 - s0)
        if out and abs(out[-1][2] - slope) <= 1e-12 * max(1.0, abs(slope)):
            continue  # collinear with the previous segment: same line
        out.append((float(s0), float(r0), slope))
    return out


def max_spend(points) -> float:
    return float(points[-1][0])
