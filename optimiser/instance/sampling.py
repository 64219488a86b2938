"""Sampled scenario sets (SPEC §2.13, "Sampled scenarios").

``sample: {count: N, seed: S, set: {KEY: [lo, hi]}, scale: {KEY: [lo, hi]}}``
stands for N scenarios of probability 1/N with ids ``s1 … sN``. The draw is
normative, so that the same instance and seed give the same futures on every
machine: one ``numpy.random.default_rng(S)``; scenario after scenario, one
``uniform(lo, hi)`` per key in the order written, ``set`` keys first, then
``scale`` keys. A ``*`` key is one draw shared by every item it addresses
(``workforce.*.leaver_rate``: every trust's rate moves together).

numpy documents ``default_rng`` (PCG64) and ``Generator.uniform`` as stable
across versions for a given seed, which is what makes the set reproducible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from optimiser.errors import Problem
from optimiser.instance.schema import Scenario, ScenarioSample


def sample_keys(sample: ScenarioSample) -> list[tuple[str, str, float, float]]:
    """(op, key, lo, hi) in the order of the draw: ``set`` keys, then ``scale``."""
    return ([("set", k, lo, hi) for k, (lo, hi) in sample.set.items()]
            + [("scale", k, lo, hi) for k, (lo, hi) in sample.scale.items()])


def range_problems(sample: ScenarioSample) -> list[Problem]:
    """Ranges that cannot be drawn from: lo above hi, or not finite."""
    out = []
    for op, key, lo, hi in sample_keys(sample):
        where = f"scenarios.sample.{op}.{key}"
        if not (math.isfinite(lo) and math.isfinite(hi)):
            out.append(Problem(where, f"the range must be finite, got [{lo:g}, {hi:g}]"))
        elif lo > hi:
            out.append(Problem(where, f"lo {lo:g} is above hi {hi:g}"))
    return out


def draw(sample: ScenarioSample) -> list[Scenario]:
    """The N scenarios of ``sample`` (its ranges must be valid: :func:`range_problems`)."""
    rng = np.random.default_rng(sample.seed)
    keys = sample_keys(sample)
    p = 1.0 / sample.count
    items = []
    for j in range(sample.count):
        values: dict[str, dict[str, float]] = {"set": {}, "scale": {}}
        for op, key, lo, hi in keys:
            values[op][key] = float(rng.uniform(lo, hi))
        # model_construct: the values are valid by construction, and validating
        # 100,000 scenarios one by one would cost seconds for nothing.
        items.append(Scenario.model_construct(id=f"s{j + 1}", probability=p,
                                              set=values["set"], scale=values["scale"]))
    return items


@dataclass(frozen=True)
class DrawnRange:
    """What a sample drew for one key: the asked range and the values' spread."""

    op: str
    key: str
    lo: float
    hi: float
    low: float
    high: float
    mean: float


def drawn_ranges(sample: ScenarioSample, items: list[Scenario]) -> list[DrawnRange]:
    """Per key, in the order of the draw, the smallest, largest and mean value drawn."""
    out = []
    for op, key, lo, hi in sample_keys(sample):
        vals = [getattr(s, op)[key] for s in items]
        out.append(DrawnRange(op, key, lo, hi, min(vals), max(vals), sum(vals) / len(vals)))
    return out


__all__ = ["DrawnRange", "draw", "drawn_ranges", "range_problems", "sample_keys"]
