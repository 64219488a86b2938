"""The two objective modes and the lexicographic tolerance (SPEC §2.9), by hand.

One unit with 100 nurses, no leavers, one plan year; an international route at
1,000 a recruit (up to 50 a year); the target is 110 nurses: 10 recruits close it.
"""

from __future__ import annotations

import numpy as np
import pytest
from pytest import approx

ROUTE = [{"id": "abroad", "group": "nurse", "cost_per_recruit": 1000, "max_per_year": 50}]
TARGET = [{"id": "t", "groups": ["nurse"], "required": {2021: 110}}]


def test_lexicographic_closes_the_shortfall_whatever_it_costs(make_doc, solve_doc):
    """Stage 1: W = 0 needs 10 recruits; stage 2: the cheapest such plan, C = 10,000."""
    plan = solve_doc(make_doc(international=ROUTE, targets=TARGET))
    assert plan.result.objective_mode == "lexicographic"
    assert plan.shortfall == approx(0, abs=1e-6)
    assert plan.cost == approx(10_000, abs=1e-4)
    # Its levers are placed (SPEC §2.14), so the share-out has nothing to move.
    assert [s["stage"] for s in plan.result.stages] == ["shortfall", "cost"]


@pytest.mark.parametrize(("value_per_fte", "recruits", "W", "C"), [
    (500, 0, 10, 0),          # a recruit costs 1000/500 = 2 > 1 FTE of shortfall: leave it
    (2000, 10, 0, 10_000),    # 1000/2000 = 0.5 < 1: recruit
])
def test_weighted_mode_trades_shortfall_against_cost(make_doc, solve_doc,
                                                     value_per_fte, recruits, W, C):
    """Weighted mode minimises W + C/value_per_fte in one stage. At 500 an FTE the
    10 recruits (10,000 → 20) are worth less than the 10 FTE of shortfall they
    close, so lexicographic's plan is not chosen: W = 10, C = 0. At 2,000 an FTE
    they are (10,000/2,000 = 5 < 10): W = 0, C = 10,000."""
    doc = make_doc(international=ROUTE, targets=TARGET,
                   objective={"mode": "weighted", "value_per_fte": value_per_fte})
    plan = solve_doc(doc)
    assert plan.status == "optimal"
    assert plan.result.objective_mode == "weighted"
    assert [s["stage"] for s in plan.result.stages] == ["weighted"]
    assert plan.shortfall == approx(W, abs=1e-6)
    assert plan.cost == approx(C, abs=1e-4)
    assert plan.value("international", "recruits") == approx(recruits, abs=1e-6)


def test_mode_option_overrides_the_instance(make_doc, solve_doc):
    """The instance says weighted at 500 an FTE (W = 10); SolveOptions(mode=
    "lexicographic") gives lexicographic's plan instead: W = 0, C = 10,000."""
    doc = make_doc(international=ROUTE, targets=TARGET,
                   objective={"mode": "weighted", "value_per_fte": 500,
                              "rel_tol": 1e-9, "abs_tol": 1e-9})
    plan = solve_doc(doc, mode="lexicographic")
    assert plan.shortfall == approx(0, abs=1e-6)
    assert plan.cost == approx(10_000, abs=1e-4)


def test_weighted_mode_without_value_per_fte_is_refused(make_doc, solve_doc):
    """Asking for weighted mode when the instance has no value_per_fte is an error
    before anything is built."""
    with pytest.raises(ValueError, match="value_per_fte"):
        solve_doc(make_doc(international=ROUTE, targets=TARGET), mode="weighted")


def test_stage_two_gives_back_at_most_the_tolerance(make_doc, solve_doc):
    """SPEC tolerances (rel 1e-6, abs 1e-6). A route limited to 5 recruits and a
    target of 115: stage 1 W₁ = 10. Stage 2 may keep W ≤ W₁ + max(1e-6, 1e-5)
    = 10.00001 and buys just less than 5 recruits to save money: W lies in
    [10, 10.00001] and C = 1,000·(15 − W) ≥ 4,999.99.
    """
    route = [{**ROUTE[0], "max_per_year": 5}]
    doc = make_doc(international=route, targets=[{**TARGET[0], "required": {2021: 115}}],
                   objective={"mode": "lexicographic"})
    plan = solve_doc(doc)
    assert 10 - 1e-9 <= plan.shortfall <= 10.00001 + 1e-9
    assert plan.cost == approx(1000 * (15 - plan.shortfall), abs=1e-3)
    bound = plan.result.stages[1]["weighted_shortfall_bound"]
    assert bound == approx(10.00001, abs=1e-9)


def test_first_plan_starts_with_no_integer_decisions_and_leaves_the_model_whole(
        make_doc, write_instance):
    """The start a time-limited stage falls back on: one unit needing 10 more
    nurses by 2022, a one-year course that may only run with ≥ 20 places
    (integer places, a run flag) and recruits at 1,000 (up to 4 a year).

    With every integer decision at 0 the course cannot run, so the best such
    plan recruits 4 in each year: W = 10 − 8 = 2. The first plan is that one or
    the rounded LP relaxation where better (tests/test_starting_plan.py; which
    of the relaxation's optima the interior point picks differs between HiGHS
    releases), so W ≤ 2. Afterwards the bounds are back: stage 1 runs the
    course (20 places) and closes the gap, W = 0.
    """
    from formulations import build_model, model_data
    from optimiser import load_instance
    from optimiser.engine.solve import HighsModel

    doc = make_doc(
        years=2,
        training=[{"id": "course", "group": "nurse", "duration": 1, "completion_rate": 1.0,
                   "min_cohort": 20, "max_places_per_year": 50}],
        international=[{**ROUTE[0], "max_per_year": 4}],
        targets=[{"id": "t", "groups": ["nurse"], "required": {2022: 110}}])
    hm = HighsModel(build_model(model_data(load_instance(write_instance(doc)))))
    ints = np.flatnonzero(hm.integrality).astype(np.int32)
    low = hm.lower_bound_plan(hm.c_W, ints, None)
    assert float(hm.c_W @ low) == approx(2, abs=1e-6)
    assert all(low[j] == 0 for j in ints)
    x = hm.first_plan(hm.c_W, None)
    assert x is not None and float(hm.c_W @ x) <= 2 + 1e-6
    rec = hm.run(hm.c_W, None, start=x)
    assert rec["status"] == "optimal"
    assert float(hm.c_W @ rec["x"]) == approx(0, abs=1e-6)
