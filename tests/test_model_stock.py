"""Stock and flow with no levers (SPEC §2.2), worked out by hand."""

from __future__ import annotations

import math

from pytest import approx


def test_leavers_and_joiners_carry_the_stock_year_to_year(make_doc, solve_doc):
    """Two units, two plan years (2021, 2022), no levers.

    u1: S0 = 100, its own λ = 0.1, J = 5 a year.
        S[2021] = 0.9·100 + 5 = 95;   S[2022] = 0.9·95 + 5 = 90.5
        leavers 10 then 9.5.
    u2: S0 = 50, the group's λ = 0.2 (no rate on its row), no joiners.
        S[2021] = 0.8·50 = 40;        S[2022] = 0.8·40 = 32
    A group with no workforce row (support) stays at 0.

    National nurse target {2021: 140, 2022: 130}:
        achieved 135 and 122.5 → shortfall 5 and 7.5 → W = 12.5, C = 0.
    """
    doc = make_doc(
        years=2,
        groups={"nurse": 0.2, "support": 0.3},
        units={"u1": "r1", "u2": "r2"},
        workforce=[{"unit": "u1", "group": "nurse", "fte": 100, "leaver_rate": 0.1,
                    "joiners": 5},
                   {"unit": "u2", "group": "nurse", "fte": 50}],
        targets=[{"id": "nurses", "groups": ["nurse"], "required": {2021: 140, 2022: 130}}],
    )
    plan = solve_doc(doc)
    assert plan.status == "optimal"
    assert plan.shortfall == approx(12.5, abs=1e-6)
    assert plan.cost == approx(0.0, abs=1e-9)
    fte = {(u, y): plan.value("workforce", "fte", unit=u, group="nurse", year=y)
           for u in ("u1", "u2") for y in (2020, 2021, 2022)}
    assert fte == approx({("u1", 2020): 100, ("u1", 2021): 95, ("u1", 2022): 90.5,
                          ("u2", 2020): 50, ("u2", 2021): 40, ("u2", 2022): 32}, abs=1e-6)
    assert plan.value("workforce", "leavers", unit="u1", group="nurse", year=2022) == approx(9.5)
    assert plan.value("workforce", "joiners", unit="u1", group="nurse", year=2022) == approx(5)
    assert plan.value("workforce", "leavers", unit="u2", group="nurse", year=2021) == approx(10)
    # The base-year row carries the baseline only: its flows are not applicable.
    assert math.isnan(plan.value("workforce", "leavers", unit="u1", group="nurse", year=2020))
    assert plan.value("workforce", "fte", unit="u2", group="support", year=2022) == 0
    assert plan.value("targets", "shortfall", target="nurses", year=2021) == approx(5, abs=1e-6)
    assert plan.value("targets", "achieved", target="nurses", year=2022) == approx(122.5)
    assert plan.value("targets", "shortfall", target="nurses", year=2022) == approx(7.5, abs=1e-6)


def test_target_met_without_levers_has_no_shortfall(make_doc, solve_doc):
    """S0 = 100, λ = 0: S[2021] = 100 ≥ required 80 → shortfall 0, achieved 100, W = 0."""
    doc = make_doc(targets=[{"id": "t", "groups": ["nurse"], "required": {2021: 80}}])
    plan = solve_doc(doc)
    assert plan.status == "optimal"
    assert plan.shortfall == approx(0.0, abs=1e-9)
    assert plan.value("targets", "achieved", target="t", year=2021) == approx(100)
    assert plan.value("targets", "shortfall", target="t", year=2021) == 0
