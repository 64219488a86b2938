"""The stages of SPEC §2.9 on a handed-over model (:func:`run_stages`): one
weighted stage, or shortfall, expected shortfall, fairness and cost, each later
stage keeping the earlier ones' values within the instance's tolerance."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from optimiser.engine import progress
from optimiser.engine.budget import time_left
from optimiser.engine.highs_model import GOOD_PLAN_GAPS, HighsModel
from optimiser.results.tables import clean

STAGE1_TIME_SHARE = 0.8
"""Share of a lexicographic solve's time limit that stage 1 (W) may use, at most:
see :data:`ROOT_RESERVE`."""


ROOT_RESERVE = 4.0
"""Each later stage keeps at least this many times stage 1's root time (from the
start of its run to its first dual bound: presolve and the root LP): stage 1 is
stopped when it would eat into that. Why: a cost stage stopped before its own
root LP has no bound (gap 100%, the plan's cost unproven). With the root LPs by
dual simplex, the generated 500-trust plan's stage-1 root took about 150 s and
its cost stage's about 205 s (1.4 times; 2 was the factor then); by interior
point (:data:`~optimiser.engine.highs_model.MIP_ROOT_LP`) the generated NHS
plan's stage-1 root takes 25 s and its cost stage's 87 s (3.5 times), and with
2 the cost stage had 57 s and ended without a bound (benchmarks/README.md,
"Speed after placement and run-out"). Where stage 1's root is quick (every
shipped instance; 55 and 150 trusts) the 80% share decides."""


STATUSES = ("optimal", "feasible", "infeasible", "no_solution", "error")


@dataclass
class StageRun:
    """What :func:`run_stages` found: each stage's record, the reported stage's
    solution (``final``: status, x, …), notes, and the shortfall stage's plan
    when a fairness stage ran (for the rates before it)."""

    stages: list[dict[str, Any]]
    messages: list[str]
    final: dict[str, Any]
    before_fair: np.ndarray | None = None


def run_stages(hm: HighsModel, objective, mode: str, deadline: float | None,
               expected: np.ndarray | None = None) -> StageRun:
    """The stages of SPEC §2.9 on a handed-over model: one weighted stage, or
    shortfall (``hm.c_W``), then with ``expected`` (a stochastic plan's expected
    shortfall under a worst-case or CVaR ρ) a stage on it, then fairness
    (``hm.c_M``) when fair-share groups exist, then cost (``hm.c_C``); each later
    stage keeps the earlier values within ``tol`` (``objective``: the instance's
    ``objective`` section)."""
    stages: list[dict[str, Any]] = []
    messages: list[str] = []
    before_fair: np.ndarray | None = None

    def remaining() -> float | None:
        return time_left(deadline)

    if mode == "weighted":
        progress.stage("weighted")
        cost = hm.c_W + hm.c_C / objective.value_per_fte
        # The starting plan first, then the run gets what is left of the limit
        # (as one call's arguments, run's limit was read before the LP ran).
        start = hm.first_plan(cost, remaining())
        rec = hm.run(cost, remaining(), start=start)
        stages.append(stage_record("weighted", rec, hm))
        return StageRun(stages, messages, rec)
    # Later stages keep a share of a time limit: a stage 1 that used it all would
    # leave the plan's cost unminimised. The starting-plan LP counts against stage
    # 1's share: on the 500-trust generated plan it takes minutes, and stage 1
    # overran its limit by that much.
    stage1_end = (None if deadline is None
                  else time.perf_counter() + remaining() * STAGE1_TIME_SHARE)
    later = [("expected_shortfall", expected)] if expected is not None else []
    if hm.c_M is not None:
        later.append(("fairness", hm.c_M))
    progress.stage("shortfall")
    start = hm.first_plan(hm.c_W, time_left(stage1_end))
    keep = (None if deadline is None
            else (deadline, ROOT_RESERVE * len(later) + cost_reserve(hm)))
    rec1 = hm.run(hm.c_W, time_left(stage1_end), start=start, keep=keep)
    stages.append(stage_record("shortfall", rec1, hm))
    if rec1["stopped_for_reserve"]:
        messages.append(
            f"the shortfall stage stopped early so that the later stages keep "
            f"{keep[1]:.3g} times its root time ({rec1['root_seconds']:.0f} s) to reach "
            "their bounds; a longer time limit lets it go further")
    if rec1["x"] is None:
        return StageRun(stages, messages, rec1)
    w1 = float(hm.c_W @ rec1["x"])
    bound = w1 + tolerance(objective, w1)
    hm.add_row(hm.c_W, bound)
    before = rec1
    for name, c in later:
        if name == "fairness":
            before_fair = before["x"]
        progress.stage(name.replace("_", " "))
        rec = hm.run(c, share_of(remaining(), FAIRNESS_TIME_SHARE), start=before["x"],
                     presolve=hm.fairness_presolve or name != "fairness")
        stages.append(stage_record(name, rec, hm, w_bound=bound))
        if rec["x"] is not None:
            v = float(c @ rec["x"])
            hm.add_row(c, v + tolerance(objective, v))
            before = {**rec, "status": worst(before["status"], rec["status"])}
        else:
            before = {**before, "status": "feasible"}
            messages.append(f"the {name.replace('_', ' ')} stage found no plan within the "
                            "limits; the previous stage's plan stands for it")
    progress.stage("cost")
    start = hm.held_on_off(hm.c_C, before["x"],
                           held_search_time(remaining(), rec1["root_seconds"]))
    rec2 = hm.run(hm.c_C, remaining(), start=before["x"] if start is None else start)
    stages.append(stage_record("cost", rec2, hm, w_bound=bound))
    if rec2["x"] is not None:
        final = {**rec2, "status": worst(before["status"], rec2["status"])}
    else:
        final = {**before, "status": "feasible"}
        messages.append("the cost stage found no plan within the limits; the previous "
                        "stage's plan is reported and its cost was not minimised")
    return StageRun(stages, messages, final, before_fair)


HELD_ON_OFF_TIME_SHARE = 0.4
"""Share of what is left for the cost stage that its search with the on/off
decisions held may use at most (:meth:`HighsModel.held_on_off`), its
relaxation's LP included. Two fifths: on the generated NHS plan (220 trusts) the
LP takes 17–20 s and the search's cheaper plan comes about 30 s after it; with a
tenth it had 10–15 s and found nothing (C 1.96% from its bound at 300 s, 0.46%
with the search's time). On the generated 55-trust plan at 60 s: C 0.17% from
its bound, 0.44% with a tenth (benchmarks/README.md, "The cost stage's search
near the relaxation"). Less where the full stage would then keep less than
:data:`ROOT_RESERVE` times stage 1's root time (:func:`held_search_time`)."""


LEAST_HELD_SHARE = 0.1
"""The held search's share where the full stage's root time leaves it less (the
share it had before the two fifths: the generated 150-trust plan, whose stage 1
ends late, kept its C gap with it, 0.84% at 300 s, and lost with two fifths,
1.04%)."""


def held_search_time(left: float | None, root: float | None) -> float | None:
    """Seconds for the cost stage's held search, of the ``left`` seconds of the
    cost stage (None: no limit): :data:`HELD_ON_OFF_TIME_SHARE` of them, but no
    more than leaves the full stage :data:`ROOT_RESERVE` times stage 1's root
    time ``root`` (None: not measured), and at least :data:`LEAST_HELD_SHARE`."""
    most = share_of(left, HELD_ON_OFF_TIME_SHARE)
    if left is None or root is None:
        return most
    return max(min(most, max(left * LEAST_HELD_SHARE, left - ROOT_RESERVE * root)), 1e-3)


def cost_reserve(hm: HighsModel) -> float:
    """How many times stage 1's root time the cost stage keeps: :data:`ROOT_RESERVE`
    for the full stage's root, and with it the held search's share where that
    search runs (whole places and on/off decisions), so that the search does not
    eat the full stage's root time (the 500-trust plan's cost stage, given a
    quarter less for its root, ended without a bound, gap 100%)."""
    if not hm.general_integers:
        return ROOT_RESERVE
    return ROOT_RESERVE / (1.0 - HELD_ON_OFF_TIME_SHARE)


FAIRNESS_TIME_SHARE = 0.5
"""Share of what is left of a time limit after stage 1 that the fairness stage
may use (the cost stage keeps the rest)."""


def tolerance(objective, value: float) -> float:
    """tol(v) = max(abs_tol, rel_tol·v): how much a later stage may give back
    (``objective``: the instance's ``objective`` section)."""
    return max(objective.abs_tol, objective.rel_tol * abs(value))


def share_of(left: float | None, share: float) -> float | None:
    return None if left is None else max(left * share, 1e-3)


def worst(a: str, b: str) -> str:
    return a if STATUSES.index(a) > STATUSES.index(b) else b


def stage_record(name: str, rec: dict[str, Any], hm: HighsModel,
                 w_bound: float | None = None) -> dict[str, Any]:
    x = rec["x"]
    out = {
        "stage": name,
        "status": rec["status"],
        "highs_status": rec["highs_status"],
        "weighted_shortfall": None if x is None else clean(float(hm.c_W @ x)),
        "total_cost": None if x is None else clean(float(hm.c_C @ x)),
        "mip_gap": rec["gap"],
        "seconds": round(rec["seconds"], 6),
        **(rec.get("good_plan") or dict.fromkeys(GOOD_PLAN_GAPS)),
    }
    if w_bound is not None:
        out["weighted_shortfall_bound"] = clean(w_bound)
    return out
