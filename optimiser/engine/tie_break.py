"""The tie-breaks (SPEC §2.9): which of the equally good plans is reported.

The stages fix W, M and C; many plans reach them, and the earlier stages return
whichever HiGHS met first. Two LPs, each on the handed-over model with the
plan's integer decisions held and what the stages reached kept (W and C, or the
weighted objective, within a hair), choose among them:

1. **Fewest unplaced** (SPEC §2.9): the least Σ UP, so that no graduate is
   reported unplaced while a post is free for them.
2. **Share-out**: with every lever's variables but its flows into units held (so
   its totals, C and Σ UP) and W kept, each lever's supply is shared among the
   units in its scope in proportion to their funded posts. Placing staff costs
   nothing, so without it the stages may place a region's whole graduating
   cohort in one trust (measured on the generated 150-trust plan: one trust's
   nurses 493 → 1,335 FTE in its last plan year while its neighbours stayed at
   up to 60% vacancies). For every lever ℓ with an allocation ``a[ℓ,u,y]`` (graduates
   ``A``, returners ``AR``, recruits ``AI``) and plan year y::

       a[ℓ,u,y] ≤ L[ℓ,y] · w[u,g(ℓ),y]          share_level[ℓ,u,y], every u in scope
       minimise Σ_{ℓ,y} L[ℓ,y]

   where ``w`` is the unit's funded posts ``posts[u,g,y]`` (2.11), or its
   baseline staff where it has none, and at least :data:`LEAST_SHARE_WEIGHT`.
   ``L[ℓ,y]`` is the lever's highest allocation per post that year: the least
   such level shares the supply out like water, every unit at the same level
   except those a posts cap or a target holds elsewhere. Targets, posts caps,
   budgets and every lever's totals are untouched: W, M, C and Σ UP are those of
   the stages, only where staff go changes. (Each level counts once: weighted
   by its lever's posts, Σ_u w, the interior point made no progress on
   long-term-2028 and its simplex clean-up took 41 s; unweighted, 6 s.)

Each tie-break keeps the plan it was given when its LP ends without an optimum
(a time limit): the reported plan is then the stages' own. Both are LPs solved
by interior point; on the generated 500-trust plan the share-out did not finish
in 400 s (benchmarks/README.md, "The tie-breaks"), so at that size and a
10-minute limit the engine skips them (:func:`tie_breaks`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo

from formulations import free_allocations, lever_unplaced, share_out_held
from formulations.data import ModelData
from optimiser.engine import progress
from optimiser.engine.budget import RESERVES, TimeBudget, time_left
from optimiser.engine.highs import option_value, options_set
from optimiser.engine.highs_model import HighsModel
from optimiser.engine.stages import stage_record

UNPLACED_TOL = 1e-6
"""FTE of unplaced graduates below which the fewest-unplaced tie-break is not run."""

LEAST_SHARE_WEIGHT = 1.0
"""FTE: the share weight of a unit with neither posts nor staff in the group, so
that the share-out may still place a target's staff there (at a weight of 0 its
row would forbid any) without it taking more than a one-post unit's share."""

IPM_OPTIMALITY_TOLERANCE = 1e-3
"""The interior point's relative gap at which the tie-breaks hand over to
crossover (:func:`held_plan`)."""

KEEP_REL, KEEP_ABS = 1e-9, 1e-7
"""How much a tie-break may give back of what it keeps (W, C, Σ UP): a hair,
for the LP's own tolerances."""


def unplaced_weights(hm: HighsModel, weights: dict[int, float]) -> np.ndarray:
    """The cost vector of Σ UP: ``weights`` maps ``id(UP component)`` to its
    weight (1 for a plan; π_s for each scenario's block of a stochastic plan)."""
    return np.array([weights.get(id(v.parent_component()), 0.0) for v in hm.columns],
                    dtype=np.float64)


@contextmanager
def held_plan(hm: HighsModel, x: np.ndarray, keep: Sequence[np.ndarray],
              also: np.ndarray | None = None) -> Iterator[None]:
    """The handed-over model with ``x``'s integer decisions held (and the columns
    ``also``, at their values in ``x``) and ``c @ x`` kept (within a hair) for
    every cost vector ``c`` in ``keep``. On leaving, the model is as it was."""
    h = hm.h
    ints = np.flatnonzero(hm.integrality).astype(np.int32)
    cols = ints if also is None else np.union1d(ints, also).astype(np.int32)
    lp = h.getLp()
    lower = np.asarray(lp.col_lower_)[cols].copy()
    upper = np.asarray(lp.col_upper_)[cols].copy()
    values = x.copy()
    values[ints] = np.round(x[ints])
    # Within the columns' bounds: the solver's values may stray by its tolerance.
    held = np.clip(values[cols], lower, upper)
    h.changeColsBounds(len(cols), cols, held, held)
    # Every integer held, the model is an LP: solved as one, by interior point
    # with crossover (a vertex, as simplex would give). As a MIP HiGHS ran dual
    # simplex from scratch: the share-out on the 150-trust plan took 95 s that
    # way, 16 s by interior point (benchmarks/README.md, "The tie-breaks").
    h.changeColsIntegrality(len(ints), ints, np.zeros(len(ints), dtype=np.uint8))
    hm.as_lp = True
    options = {
        "solver": "ipm",
        # The held values are a MIP solution's, feasible within HiGHS's MIP
        # tolerance (1e-6): judged at the LP's own 1e-7, a row whose columns are
        # all held could fail by that difference, and HiGHS then reported
        # "Optimal" without a feasible solution (stepping-forward-2017's share-out).
        "primal_feasibility_tolerance": max(
            option_value(h, "primal_feasibility_tolerance", 1e-7),
            option_value(h, "mip_feasibility_tolerance", 1e-6)),
        # The interior point only takes crossover near the optimal face; crossover
        # and HiGHS's simplex clean-up make the basis optimal at simplex's own
        # tolerances, so a coarse interior-point tolerance loses nothing. At its
        # default (1e-8) the share-out from the 150-trust plan's 10-minute plan
        # stalled ("no progress" after 24 s at the optimum's 31.54) and the
        # clean-up took 130 s more (98,066 simplex iterations); at 1e-3 the same
        # optimum (Σ L 31.5417) took 26 s in all.
        "ipm_optimality_tolerance": IPM_OPTIMALITY_TOLERANCE,
    }
    for c in keep:
        v = float(c @ x)
        hm.add_row(c, v + max(KEEP_REL * abs(v), KEEP_ABS))
    try:
        with options_set(h, options):
            yield
    finally:
        n_rows = h.getNumRow()
        h.deleteRows(len(keep), np.arange(n_rows - len(keep), n_rows, dtype=np.int32))
        hm.as_lp = False
        h.changeColsIntegrality(len(ints), ints, hm.integrality[ints].astype(np.uint8))
        h.changeColsBounds(len(cols), cols, lower, upper)
        h.clearSolver()


def stage_keeps(hm: HighsModel, mode: str, objective) -> list[np.ndarray]:
    """What the stages reached, as cost vectors to keep: W and C, or the weighted
    objective (M, when a fairness stage ran, is a row of the model already)."""
    if mode == "weighted":
        return [hm.c_W + hm.c_C / objective.value_per_fte]
    return [hm.c_W, hm.c_C]


def least_unplaced(hm: HighsModel, up: np.ndarray, x: np.ndarray, mode: str,
                   objective, time_limit: float | None) -> dict[str, Any] | None:
    """SPEC §2.9's tie-break: among plans as good as ``x`` (W and C, or the
    weighted objective, no worse) with its integer decisions held, the one with
    the least unplaced graduates Σ UP. An LP; None when ``x`` leaves none
    unplaced. The stage's ``x`` is None when the LP found no plan (``x`` stands).

    Placing a graduate costs nothing, so the earlier stages may leave graduates
    unplaced although a post is free for them; a planner would read that as
    graduates with nowhere to go.
    """
    if not up.any() or float(up @ x) <= UNPLACED_TOL:
        return None
    with held_plan(hm, x, stage_keeps(hm, mode, objective)):
        rec = hm.run(up, time_limit)  # no start: interior point does not use one
    return lp_record(rec)


def share_weight(d: ModelData, u: str, g: str, y: int) -> float:
    """w[u,g,y]: the unit's funded posts, else its baseline staff, at least
    :data:`LEAST_SHARE_WEIGHT`."""
    posts = d.posts.get((u, g, y))
    return max(d.S0[u, g] if posts is None else posts, LEAST_SHARE_WEIGHT)


def lever_columns(hm: HighsModel, blocks: Sequence[tuple[pyo.Block, ModelData, float]]
                  ) -> np.ndarray:
    """The columns of every lever's variables but its flows into units (places,
    cohorts, campaigns' spend and returners, recruits, retention funding,
    unplaced graduates): the share-out holds them at the plan's values, so that
    every lever's totals, and with them C and Σ UP, stay as they are. The flows
    (graduates, returners and recruits placed, staff retained within the
    funding's response) may move: each lever says which (its ``share_out_moves``
    hook, :func:`formulations.share_out_held`); a lever that says nothing has
    every variable held, so the share-out cannot raise its cost."""
    held = {id(var) for b, _d, _p in blocks for var in share_out_held(b)}
    return np.array([j for j, v in enumerate(hm.columns) if id(v.parent_component()) in held],
                    dtype=np.int32)


def share_rows(hm: HighsModel, blocks: Sequence[tuple[pyo.Block, ModelData, float]]
               ) -> tuple[np.ndarray, list[tuple[int, int, float]]]:
    """The share-out's levels and rows on the compiled model: the cost of each
    level ``L[ℓ,y]`` (its block's probability π, in the order of the levels) and,
    per allocation column, ``(column, level, w)``. ``blocks``: (block, its data,
    its probability)."""
    column = {id(v): j for j, v in enumerate(hm.columns)}
    level: dict[tuple[int, str, str, int], int] = {}
    level_cost: list[float] = []
    rows: list[tuple[int, int, float]] = []
    for b_i, (b, d, prob) in enumerate(blocks):
        group_of = {}
        for (_u, g, _y), terms in b.ledger.inflow.items():
            for coef, var, _flow in terms:
                if coef > 0:
                    group_of[id(var)] = g
        for alloc, free in free_allocations(b):
            for lever, u, y in free:
                var = alloc[lever, u, y]
                j = column.get(id(var))
                if j is None:  # in no row: the compile left it out, and it stays 0
                    continue
                w = share_weight(d, u, group_of[id(var)], y)
                key = (b_i, alloc.local_name, lever, y)
                if key not in level:
                    level[key] = len(level_cost)
                    level_cost.append(prob)
                rows.append((j, level[key], w))
    return np.array(level_cost), rows


def share_out(hm: HighsModel, blocks: Sequence[tuple[pyo.Block, ModelData, float]],
              x: np.ndarray, time_limit: float | None) -> dict[str, Any] | None:
    """The share-out tie-break (the module's docstring) from the plan ``x``: the
    stage record, whose ``x`` is None when the LP found no optimum (``x`` stands);
    None when no lever allocates anything."""
    level_cost, rows = share_rows(hm, blocks)
    if not rows:
        return None
    h = hm.h
    n_levels = len(level_cost)
    # L[ℓ,y] ≥ 0 columns, then a[ℓ,u,y] − w·L[ℓ,y] ≤ 0 rows. (Chaining a copy of
    # L per row, so that no column is dense, solved no faster: 150 trusts 20 s
    # against 18 s; the 500-trust plan stalled either way.)
    h.addCols(n_levels, level_cost, np.zeros(n_levels), np.full(n_levels, highspy.kHighsInf),
              0, np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))
    n_rows = len(rows)
    index = np.empty(2 * n_rows, dtype=np.int32)
    index[0::2] = [j for j, _k, _w in rows]
    index[1::2] = [hm.n + k for _j, k, _w in rows]
    value = np.empty(2 * n_rows)
    value[0::2] = 1.0
    value[1::2] = [-w for _j, _k, w in rows]
    first_row = h.getNumRow()
    h.addRows(n_rows, np.full(n_rows, -highspy.kHighsInf), np.zeros(n_rows), 2 * n_rows,
              np.arange(0, 2 * n_rows, 2, dtype=np.int32), index, value)
    # Every cost is a lever's, held: C (and the weighted objective's C part) and
    # Σ UP cannot change, so W alone is kept.
    try:
        with held_plan(hm, x, [hm.c_W], also=lever_columns(hm, blocks)):
            # No start: interior point does not use one.
            rec = hm.run(np.zeros(hm.n), time_limit)
    finally:
        h.deleteRows(n_rows, np.arange(first_row, first_row + n_rows, dtype=np.int32))
        h.deleteCols(n_levels, np.arange(hm.n, hm.n + n_levels, dtype=np.int32))
        h.clearSolver()
    return lp_record(rec)


def lp_record(rec: dict[str, Any]) -> dict[str, Any]:
    """A tie-break's stage record: an LP's, so its gap is 0 when it is solved and
    unknown otherwise (HiGHS's MIP gap would be the previous stage's), and its
    plan is taken only when solved (``x`` None: the plan it was given stands)."""
    solved = rec["status"] == "optimal"
    return {**rec, "gap": 0.0 if solved else None, "x": rec["x"] if solved else None}


def tie_breaks(hm: HighsModel, blocks: list[tuple[pyo.Block, ModelData, float]], mode: str,
               objective, final: dict[str, Any], stages: list[dict[str, Any]],
               messages: list[str], budget: TimeBudget) -> dict[str, Any]:
    """The tie-breaks (this module's docstring) after the stages: as good a plan
    with the fewest graduates left unplaced, then each lever's supply shared out
    in proportion to the units' posts. ``blocks``: (the model or a scenario's
    block, its data, its probability). Under a time limit they run when the
    ``budget`` left them their time (:meth:`TimeBudget.tie_breaks_fit`), and say
    so when not."""
    if budget.deadline is not None and not budget.tie_breaks_fit():
        messages.append(TIE_BREAKS_SKIPPED.format(
            seconds=budget.tie_break_seconds(), share=RESERVES["tie_breaks"].cap,
            limit=budget.time_limit))
        return final
    end = budget.tie_breaks_until()
    progress.stage("tie-breaks")
    unplaced = unplaced_weights(hm, {id(v): p for b, _d, p in blocks for v in lever_unplaced(b)})
    rec = least_unplaced(hm, unplaced, final["x"], mode, objective, time_left(end))
    final = _tie_break_stage("unplaced", rec, hm, final, stages, messages)
    rec = share_out(hm, blocks, final["x"], time_left(end))
    return _tie_break_stage("share_out", rec, hm, final, stages, messages)


TIE_BREAKS_SKIPPED = (
    "the tie-breaks were not run (fewest unplaced graduates, staff shared out by posts): "
    "they would need about {seconds:.0f} s, more than {share:.0%} of the time limit "
    "({limit:g} s); within a lever's scope, where staff go is the stages' choice")


def _tie_break_stage(name: str, rec: dict[str, Any] | None, hm: HighsModel,
                     final: dict[str, Any], stages: list[dict[str, Any]],
                     messages: list[str]) -> dict[str, Any]:
    """Record a tie-break's stage (when it ran) and take its plan (when it found one)."""
    if rec is None:
        return final
    stages.append(stage_record(name, rec, hm))
    if rec["x"] is None:
        messages.append(f"the {name.replace('_', '-')} tie-break ended without a plan "
                        f"({rec['highs_status']}): the plan before it is reported")
        return final
    return {**final, "x": rec["x"]}
