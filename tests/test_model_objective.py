"""The two objective modes and the lexicographic tolerance (SPEC §2.9), by hand.

One unit with 100 nurses, no leavers, one plan year; an international route at
1,000 a recruit (up to 50 a year); the target is 110 nurses: 10 recruits close it.
"""

from __future__ import annotations

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
