"""Budgets (SPEC §2.7), worked out by hand.

One unit with 100 nurses, no leavers, base year 2020, two plan years. An
international route (100 a recruit, at most 10 a year) is the only lever, and
the target is 120 nurses at the end of 2022: 20 recruits close it.
"""

from __future__ import annotations

import math

import pytest
from pytest import approx

TARGET = [{"id": "t", "groups": ["nurse"], "required": {2022: 120}}]


def route(**fields):
    return {"id": "abroad", "group": "nurse", "cost_per_recruit": 100, "max_per_year": 10,
            **fields}


def budget_rows(plan, pot):
    """{year or 'total': (spent, limit)} of one pot in budget.csv."""
    rows = plan.rows("budget", pot=pot)
    return {str(r.year): (r.spent, r.limit) for r in rows.itertuples()}


@pytest.mark.parametrize(("pot", "recruits", "W", "C"), [
    ({"id": "main", "per_year": 800}, 16, 4, 1600),               # 8 a year
    ({"id": "main", "per_year": 800, "total": 1200}, 12, 8, 1200),  # the total binds
    ({"id": "main", "total": 1200}, 12, 8, 1200),
])
def test_per_year_limits_and_a_total_that_binds_across_years(make_doc, solve_doc,
                                                              pot, recruits, W, C):
    """800 a year buys 8 a year: 16 → W = 4, C = 1,600. A total of 1,200 over
    the horizon binds across the years: 12 recruits → W = 8, C = 1,200."""
    plan = solve_doc(make_doc(years=2, international=[route()], budgets=[pot],
                              targets=TARGET))
    assert plan.status == "optimal"
    assert plan.shortfall == approx(W, abs=1e-6)
    assert plan.cost == approx(C, abs=1e-4)
    assert plan.total("international", "recruits") == approx(recruits, abs=1e-6)
    b = budget_rows(plan, "main")
    assert b["total"][0] == approx(C, abs=1e-4)
    for y in ("2021", "2022"):
        assert b[y][0] <= pot.get("per_year", math.inf) + 1e-6
    if "per_year" in pot:
        assert b["2021"][1] == b["2022"][1] == 800
    else:
        assert math.isnan(b["2021"][1])
    if "total" in pot:
        assert b["total"][1] == 1200
    else:
        assert math.isnan(b["total"][1])


def test_a_year_missing_from_per_year_is_unlimited(make_doc, solve_doc):
    """per_year {2021: 500}: 5 recruits in 2021, 2022 unlimited → 10 more (the
    route's cap) → 15 recruits, W = 5, C = 1,500; 2022's limit is blank."""
    plan = solve_doc(make_doc(years=2, international=[route()],
                              budgets=[{"id": "main", "per_year": {2021: 500}}],
                              targets=TARGET))
    assert plan.shortfall == approx(5, abs=1e-6)
    assert plan.cost == approx(1500, abs=1e-4)
    assert plan.value("international", "recruits", year=2021) == approx(5, abs=1e-6)
    assert plan.value("international", "recruits", year=2022) == approx(10, abs=1e-6)
    b = budget_rows(plan, "main")
    assert b["2021"] == (approx(500), 500)
    assert math.isnan(b["2022"][1])


def test_undeclared_main_pot_is_unlimited_but_cost_is_still_minimised(make_doc, solve_doc):
    """No pots at all: spending is unlimited. Two routes, 100 and 50 a recruit,
    10 a year each, one year, need 12: stage 2 takes the cheap 10 and 2 dear ones,
    C = 500 + 200 = 700, W = 0. budget.csv reports main with no limit."""
    plan = solve_doc(make_doc(
        international=[route(id="dear"), route(id="cheap", cost_per_recruit=50)],
        targets=[{"id": "t", "groups": ["nurse"], "required": {2021: 112}}]))
    assert plan.shortfall == approx(0, abs=1e-6)
    assert plan.cost == approx(700, abs=1e-4)
    assert plan.value("international", "recruits", route="cheap") == approx(10, abs=1e-6)
    assert plan.value("international", "recruits", route="dear") == approx(2, abs=1e-6)
    b = budget_rows(plan, "main")
    assert b["total"][0] == approx(700, abs=1e-4)
    assert all(math.isnan(limit) for _, limit in b.values())


def test_levers_without_a_pot_use_main_even_when_other_pots_are_declared(make_doc, solve_doc):
    """Pot ``hee`` is declared with 0 a year; ``main`` is not declared. The cheap
    route is charged to hee and cannot spend; the dear route (no pot → main,
    unlimited) recruits the 10 needed: W = 0, C = 1,000."""
    plan = solve_doc(make_doc(
        international=[route(id="dear"), route(id="cheap", cost_per_recruit=50, pot="hee")],
        budgets=[{"id": "hee", "per_year": 0}],
        targets=[{"id": "t", "groups": ["nurse"], "required": {2021: 110}}]))
    assert plan.shortfall == approx(0, abs=1e-6)
    assert plan.cost == approx(1000, abs=1e-4)
    assert plan.value("international", "recruits", route="cheap") == 0
    assert budget_rows(plan, "hee")["2021"] == (0, 0)
    assert budget_rows(plan, "main")["2021"][0] == approx(1000, abs=1e-4)


def test_a_total_of_zero_is_reported_as_a_limit_not_as_unlimited(make_doc, solve_doc):
    """total 0: nothing may be spent (W = 10, C = 0), and budget.csv shows the
    limit 0, not a blank (which would read as "no limit")."""
    plan = solve_doc(make_doc(international=[route()], budgets=[{"id": "main", "total": 0}],
                              targets=[{"id": "t", "groups": ["nurse"], "required": {2021: 110}}]))
    assert plan.shortfall == approx(10, abs=1e-6)
    assert plan.cost == 0
    assert budget_rows(plan, "main")["total"] == (0, 0)
