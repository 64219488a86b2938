"""Retention schemes (SPEC §2.5), worked out by hand.

Responses are per 1,000 baseline FTE of the unit in the scheme's groups
(σ_u = FTE / 1000); retained staff are leavers who stay, added back in the year
they would have left, and a scheme keeps at most ρ·λ·S[y−1] of them.
"""

from __future__ import annotations

import pytest
from pytest import approx

W_TOL = {"abs": 1e-6}


def scheme(**fields):
    return {"id": "keep", "eligible": ["a"], **fields}


def nurses(required, **scope):
    return [{"id": "t", "groups": ["nurse"], "required": required, **scope}]


def one_unit(make_doc, years=1, **sections):
    """Unit a: 1,000 nurses, λ = 0.1 (100 leavers in the first year), σ = 1."""
    return make_doc(years=years, groups={"nurse": 0.1}, units={"a": "r1"},
                    workforce=[{"unit": "a", "group": "nurse", "fte": 1000}], **sections)


def test_retention_is_capped_by_a_share_of_last_years_leavers(make_doc, solve_doc):
    """ρ = 0.2; response [[0,0],[1000,10],[5000,30]] (slopes 0.01 then 0.005);
    target 1,000 nurses in 2021 and 2022.

    2021: leavers λ·S[2020] = 100, cap 0.2·100 = 20 (the curve could give 30).
          20 retained: 10 for 1,000 + 10 more at 0.005 = 2,000 → F = 3,000.
          S = 900 + 20 = 920 → shortfall 80.
    2022: leavers 0.1·920 = 92, cap 18.4: F = 1,000 + 8.4/0.005 = 2,680.
          S = 828 + 18.4 = 846.4 → shortfall 153.6.
    W = 233.6; C = 3,000 + 2,680 = 5,680.
    """
    doc = one_unit(make_doc, years=2,
                   retention=[scheme(max_retained_share=0.2,
                                     response=[[0, 0], [1000, 10], [5000, 30]])],
                   targets=nurses({2021: 1000, 2022: 1000}))
    plan = solve_doc(doc)
    assert plan.status == "optimal"
    assert plan.shortfall == approx(233.6, **W_TOL)
    assert plan.cost == approx(5680, abs=1e-4)
    r = plan.table("retention").set_index("year")
    assert list(r["retained"]) == approx([20, 18.4], abs=1e-6)
    assert list(r["funding"]) == approx([3000, 2680], abs=1e-4)
    assert list(r["funded"]) == [1, 1]
    wf = plan.rows("workforce", unit="a", group="nurse").set_index("year")
    assert wf.loc[2022, "leavers"] == approx(92, abs=1e-6)
    assert wf.loc[2022, "retained"] == approx(18.4, abs=1e-6)
    assert wf.loc[2022, "fte"] == approx(846.4, abs=1e-6)


def test_two_schemes_together_keep_no_more_than_the_leavers(make_doc, solve_doc):
    """Two schemes on unit a, each ρ = 0.8 (80 of the 100 leavers) and
    [[0,0],[1000,100]] (0.1 FTE per £). Target 1,100 in 2021.
    Alone each could keep 80, together 160 — but only 100 leave:
    Σ_s RET ≤ λ·S[2020] = 100 → S = 1,000, W = 100; 100 retained cost 1,000.
    """
    response = [[0, 0], [1000, 100]]
    doc = one_unit(make_doc, retention=[
        scheme(id="keep_1", max_retained_share=0.8, response=response),
        scheme(id="keep_2", max_retained_share=0.8, response=response)],
        targets=nurses({2021: 1100}))
    plan = solve_doc(doc)
    assert plan.shortfall == approx(100, **W_TOL)
    assert plan.cost == approx(1000, abs=1e-4)
    assert plan.total("retention", "retained") == approx(100, abs=1e-6)
    assert plan.value("workforce", "retained", unit="a", group="nurse", year=2021) == approx(100, abs=1e-6)
    assert plan.value("workforce", "fte", unit="a", group="nurse", year=2021) == approx(1000, abs=1e-6)


def leaver_rank_doc(make_doc, groups=None):
    """Units ranked by FTE-weighted baseline leaver rate:

    a: 100 nurses at λ 0.10, 300 support at λ 0.30 → nurses only 0.10; all groups
       (10 + 90)/400 = 0.25
    b: 100 nurses at 0.20;  c: 100 nurses at 0.20;  d: 100 nurses at 0.15.
    Baseline nurses at the end of 2021: 90 + 80 + 80 + 85 = 335; target 336.
    Response [[0,0],[1000,5]] per 1,000 FTE, ρ = 1.
    """
    wf = [{"unit": "a", "group": "nurse", "fte": 100, "leaver_rate": 0.10},
          {"unit": "a", "group": "support", "fte": 300, "leaver_rate": 0.30},
          {"unit": "b", "group": "nurse", "fte": 100, "leaver_rate": 0.20},
          {"unit": "c", "group": "nurse", "fte": 100, "leaver_rate": 0.20},
          {"unit": "d", "group": "nurse", "fte": 100, "leaver_rate": 0.15}]
    s = scheme(eligible={"top_leaver_rate": 1}, response=[[0, 0], [1000, 5]])
    if groups is not None:
        s["groups"] = groups
    return make_doc(groups={"nurse": 0.1, "support": 0.1},
                    units={"d": "r1", "c": "r1", "b": "r1", "a": "r1"},
                    workforce=wf, retention=[s], targets=nurses({2021: 336}))


def test_top_leaver_rate_over_the_schemes_groups_breaks_ties_by_unit_id(make_doc, solve_doc):
    """Scheme on nurses only: b and c tie at 0.20, ahead of d (0.15) and a (0.10);
    the tie goes to the smaller unit id → b (units are declared d, c, b, a so the
    file order cannot decide it). σ_b = 0.1: at most 0.5 retained for 100
    → W = 0.5, C = 100."""
    plan = solve_doc(leaver_rank_doc(make_doc, groups=["nurse"]))
    assert set(plan.table("retention")["unit"]) == {"b"}
    assert plan.shortfall == approx(0.5, **W_TOL)
    assert plan.cost == approx(100, abs=1e-4)
    assert plan.value("retention", "retained", unit="b", year=2021) == approx(0.5, abs=1e-6)


def test_top_leaver_rate_is_fte_weighted_over_all_groups_by_default(make_doc, solve_doc):
    """No ``groups``: a ranks first at 0.25. σ_a = 0.4 (400 FTE), up to 2 retained;
    one nurse is needed → F = 1/0.005 = 200, W = 0, C = 200."""
    plan = solve_doc(leaver_rank_doc(make_doc))
    assert set(plan.table("retention")["unit"]) == {"a"}
    assert plan.shortfall == approx(0, **W_TOL)
    assert plan.cost == approx(200, abs=1e-4)
    assert plan.value("workforce", "retained", unit="a", group="nurse", year=2021) == approx(1, abs=1e-6)


def test_max_units_per_year_funds_the_units_that_help_most(make_doc, solve_doc):
    """Units a and b with 1,000 nurses, c with 500, all λ = 0.1; response
    [[0,0],[1000,10]] per 1,000 FTE (a, b up to 10, c up to 5); at most 2 units a
    year. Without retention S[2021] = 900 + 900 + 450 = 2,250; target 2,280.
    Best two: a and b, 20 retained for 2,000 → W = 10, C = 2,000; c unfunded.
    """
    doc = make_doc(groups={"nurse": 0.1}, units={"a": "r1", "b": "r1", "c": "r1"},
                   workforce=[{"unit": "a", "group": "nurse", "fte": 1000},
                              {"unit": "b", "group": "nurse", "fte": 1000},
                              {"unit": "c", "group": "nurse", "fte": 500}],
                   retention=[scheme(eligible=["a", "b", "c"], response=[[0, 0], [1000, 10]],
                                     max_units_per_year=2)],
                   targets=nurses({2021: 2280}))
    plan = solve_doc(doc)
    assert plan.status == "optimal"
    assert plan.shortfall == approx(10, **W_TOL)
    assert plan.cost == approx(2000, abs=1e-4)
    funded = {u: plan.value("retention", "funded", unit=u, year=2021) for u in "abc"}
    assert funded == {"a": 1, "b": 1, "c": 0}
    assert plan.value("retention", "funding", unit="c", year=2021) == 0


@pytest.mark.parametrize(("min_funding", "budget", "funding", "W", "C"), [
    (0, None, 500, 0, 500),         # 5 retained for 5/0.01 = 500
    (2000, None, 2000, 0, 2000),    # a funded unit gets at least 2,000
    (2000, 1500, 0, 5, 0),          # 2,000 is over budget: not funded at all
])
def test_min_funding(make_doc, solve_doc, min_funding, budget, funding, W, C):
    """Response [[0,0],[1000,10],[3000,20]]; need 5 retained (target 905 in 2021).
    Without a minimum F = 500. With min_funding 2,000 the unit gets 2,000 or
    nothing: 2,000 if the budget allows (W = 0, C = 2,000), else nothing
    (budget 1,500: W = 5, C = 0, not funded)."""
    budgets = [] if budget is None else [{"id": "main", "per_year": budget}]
    doc = one_unit(make_doc, retention=[scheme(min_funding=min_funding,
                                               response=[[0, 0], [1000, 10], [3000, 20]])],
                   budgets=budgets, targets=nurses({2021: 905}))
    plan = solve_doc(doc)
    assert plan.status == "optimal"
    assert plan.shortfall == approx(W, **W_TOL)
    assert plan.cost == approx(C, abs=1e-4)
    assert plan.value("retention", "funding", year=2021) == approx(funding, abs=1e-4)
    assert plan.value("retention", "funded", year=2021) == (1 if funding else 0)
    retained = plan.value("retention", "retained", year=2021)
    if funding == 0:
        assert retained == 0
    else:  # 5 are needed; 2,000 could keep up to 15, at no extra cost
        assert 5 - 1e-6 <= retained <= (5 if funding == 500 else 15) + 1e-6


def test_fixed_cost_per_funded_unit_year(make_doc, solve_doc):
    """As above with fixed_cost 300 and no minimum: F = 500, funded, cost 800 = C."""
    doc = one_unit(make_doc, retention=[scheme(fixed_cost=300,
                                               response=[[0, 0], [1000, 10], [3000, 20]])],
                   targets=nurses({2021: 905}))
    plan = solve_doc(doc)
    assert plan.shortfall == approx(0, **W_TOL)
    assert plan.cost == approx(800, abs=1e-4)
    assert plan.value("retention", "funding", year=2021) == approx(500, abs=1e-4)
    assert plan.value("retention", "funded", year=2021) == 1
    assert plan.value("retention", "cost", year=2021) == approx(800, abs=1e-4)


def test_units_without_staff_in_the_schemes_groups_are_not_eligible(make_doc, solve_doc):
    """Add unit e with support workers only (λ 0.9) and ask for the top 5 on
    nurses: e has no nurse to rank or retain (σ_e = 0), so the eligible units
    are the four with nurses, a to d."""
    doc = leaver_rank_doc(make_doc, groups=["nurse"])
    doc["units"].append({"id": "e", "region": "r1"})
    doc["workforce"].append({"unit": "e", "group": "support", "fte": 500, "leaver_rate": 0.9})
    doc["retention"][0]["eligible"] = {"top_leaver_rate": 5}
    plan = solve_doc(doc)
    assert set(plan.table("retention")["unit"]) == {"a", "b", "c", "d"}
