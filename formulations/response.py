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


def response_problem(points: list[tuple[float, float]]) -> str | None:
    """Why a response curve is not a concave, increasing-spend curve from (0, 0)."""
    if tuple(points[0]) != (0.0, 0.0):
        return f"must start at [0, 0], got [{points[0][0]:g}, {points[0][1]:g}]"
    slope = float("inf")
    for k in range(1, len(points)):
        (s0, r0), (s1, r1) = points[k - 1], points[k]
        if s1 <= s0:
            return (f"spends must increase: breakpoint {k + 1} spend {s1:g} is not above "
                    f"{s0:g}")
        new = (r1 - r0) / (s1 - s0)
        if new > slope * (1 + 1e-9) + 1e-15:
            return (f"not concave: slope rises from {slope:.6g} to {new:.6g} at breakpoint "
                    f"{k + 1} ({s1:g}, {r1:g}); returns must diminish")
        slope = new
    return None
