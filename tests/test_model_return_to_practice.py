"""Return-to-practice campaigns (SPEC §2.4), worked out by hand.

One unit ``u1`` with 100 nurses and no leavers, base year 2020. The response
``[[0, 0], [1000, 20], [3000, 30]]`` gives returners per year: 20 for the first
1,000 (slope 0.02, 50 a returner), then 10 more for the next 2,000 (slope 0.005,
200 a returner); spend is capped at 3,000.
"""

from __future__ import annotations

import pytest
from pytest import approx

RESPONSE = [[0, 0], [1000, 20], [3000, 30]]


def campaign(**fields):
    return {"id": "rtp", "group": "nurse", "response": RESPONSE, "cost_per_returner": 10,
            **{"pool": 1000, **fields}}


def nurses(required):
    return [{"id": "t", "groups": ["nurse"], "required": required}]


def test_spend_goes_to_the_steep_segment_first(make_doc, solve_doc):
    """Need 25 returners in 2021: 20 from the first 1,000, 5 more at 200 each
    = 1,000 → spend X = 2,000; C = 2,000 + 10·25 = 2,250; W = 0."""
    plan = solve_doc(make_doc(return_to_practice=[campaign()], targets=nurses({2021: 125})))
    assert plan.status == "optimal"
    assert plan.shortfall == approx(0.0, abs=1e-6)
    assert plan.cost == approx(2250, abs=1e-4)
    assert plan.value("return_to_practice", "spend", year=2021) == approx(2000, abs=1e-4)
    assert plan.value("return_to_practice", "returners", year=2021) == approx(25, abs=1e-6)
    assert plan.value("return_to_practice", "cost", year=2021) == approx(2250, abs=1e-4)
    assert plan.value("workforce", "returners", unit="u1", group="nurse", year=2021) == approx(25, abs=1e-6)


def test_response_caps_returners_per_year(make_doc, solve_doc):
    """Need 40 in one year: the curve gives at most 30 (at 3,000) → W = 10,
    C = 3,000 + 300 = 3,300."""
    plan = solve_doc(make_doc(return_to_practice=[campaign()], targets=nurses({2021: 140})))
    assert plan.shortfall == approx(10, abs=1e-6)
    assert plan.cost == approx(3300, abs=1e-4)
    assert plan.value("return_to_practice", "returners", year=2021) == approx(30, abs=1e-6)


def test_pool_is_exhausted_over_the_horizon(make_doc, solve_doc):
    """Pool 45 over 2021–2022; need 60 more nurses by the end of 2022. Returners
    stay (λ = 0), so the years add up: 45 returners (the pool), W = 15.
    Cheapest 45 over two years: 20 + 20 on the steep segment (2,000) and 5 on the
    flat one (1,000) → spend 3,000, C = 3,000 + 10·45 = 3,450. How the 45 split
    between the years is not unique, so only the totals are asserted.
    """
    plan = solve_doc(make_doc(years=2, return_to_practice=[campaign(pool=45)],
                              targets=nurses({2022: 160})))
    assert plan.status == "optimal"
    assert plan.shortfall == approx(15, abs=1e-6)
    assert plan.cost == approx(3450, abs=1e-4)
    assert plan.total("return_to_practice", "returners") == approx(45, abs=1e-6)
    assert plan.total("return_to_practice", "spend") == approx(3000, abs=1e-4)
    assert plan.value("workforce", "fte", unit="u1", group="nurse", year=2022) == approx(145, abs=1e-6)


@pytest.mark.parametrize(("fixed_cost", "C"), [(0, 1200), (500, 1700)])
def test_campaign_fixed_cost_is_paid_once_per_active_year(make_doc, solve_doc, fixed_cost, C):
    """Need 20 by the end of 2022 (two years). 20 returners cost 1,000 spend
    + 200 per-returner however they are split; with a fixed cost of 500 per
    active year the campaign runs in one year only: C = 1,700 (else 1,200).
    """
    plan = solve_doc(make_doc(years=2, return_to_practice=[campaign(fixed_cost=fixed_cost)],
                              targets=nurses({2022: 120})))
    assert plan.status == "optimal"
    assert plan.shortfall == approx(0, abs=1e-6)
    assert plan.cost == approx(C, abs=1e-4)
    assert plan.total("return_to_practice", "returners") == approx(20, abs=1e-6)
    if fixed_cost:
        costs = sorted(plan.table("return_to_practice")["cost"])
        assert costs == approx([0, 1700], abs=1e-3)


def test_returners_join_only_the_campaigns_region(make_doc, solve_doc):
    """Campaign in region r2 (unit u2 only); targets: u1 needs 5 more, u2 needs 3
    more. Returners can reach u2 only: 3 returners (spend 150, C = 150 + 30 =
    180); u1's 5 stay short → W = 5."""
    doc = make_doc(
        units={"u1": "r1", "u2": "r2"},
        workforce=[{"unit": "u1", "group": "nurse", "fte": 100},
                   {"unit": "u2", "group": "nurse", "fte": 100}],
        return_to_practice=[campaign(region="r2")],
        targets=[{"id": "at_u1", "unit": "u1", "groups": ["nurse"], "required": {2021: 105}},
                 {"id": "at_u2", "unit": "u2", "groups": ["nurse"], "required": {2021: 103}}])
    plan = solve_doc(doc)
    assert plan.shortfall == approx(5, abs=1e-6)
    assert plan.cost == approx(180, abs=1e-4)
    assert plan.value("workforce", "returners", unit="u1", group="nurse", year=2021) == 0
    assert plan.value("workforce", "returners", unit="u2", group="nurse", year=2021) == approx(3, abs=1e-6)
    assert plan.value("targets", "shortfall", target="at_u1", year=2021) == approx(5, abs=1e-6)
