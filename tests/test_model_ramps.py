"""Stable commissioning (SPEC §2.3 ``max_increase``/``max_decrease``) and targets
that hold after their last year (§2.8 ``hold``), worked out by hand.

One unit, base year 2020, three plan years. The course lasts one year,
everyone completes and takes a post, and a place costs £10 a year: places
started in y join in y+1.
"""

from __future__ import annotations

from pytest import approx


def course(**fields):
    return {"id": "course", "group": "nurse", "duration": 1, "completion_rate": 1.0,
            "cost_per_place_year": 10, "integer_places": False, **fields}


def places(plan) -> list[float]:
    return plan.table("training").sort_values("year")["places"].tolist()


def test_a_ramp_forces_gradual_growth(make_doc, solve_doc):
    """From 0 places in 2020, at most +10 a year: N ≤ 10 in 2021, ≤ 20 in 2022.
    Target 160 nurses in 2023 (100 in post, no leavers): graduates 10 (2022) and
    20 (2023) give 130, W = 30. 2023's places would graduate after the plan:
    none. C = 10 × (10 + 20) = £300."""
    doc = make_doc(years=3, training=[course(max_increase=10)],
                   targets=[{"id": "t", "groups": ["nurse"], "required": {2023: 160}}])
    plan = solve_doc(doc)
    assert plan.status == "optimal"
    assert plan.shortfall == approx(30, abs=1e-6)
    assert plan.cost == approx(300, abs=1e-6)
    assert places(plan) == approx([10, 20, 0], abs=1e-6)


def test_a_decrease_limit_keeps_places_that_would_be_cut(make_doc, solve_doc):
    """50 entrants committed in 2020, no target: without a limit no place is
    bought (C = 0). With max_decrease 10 the intake may only come down 40, 30,
    20: C = 10 × 90 = £900, W = 0."""
    doc = make_doc(years=3, training=[course(committed={2020: 50})])
    assert solve_doc(doc).cost == approx(0, abs=1e-9)
    doc = make_doc(years=3, training=[course(committed={2020: 50}, max_decrease=10)])
    plan = solve_doc(doc)
    assert plan.shortfall == approx(0, abs=1e-9)
    assert plan.cost == approx(900, abs=1e-6)
    assert places(plan) == approx([40, 30, 20], abs=1e-6)


def test_a_gap_in_the_intake_years_is_a_decrease(make_doc, solve_doc):
    """Intake years 2021 and 2023, 20 committed in 2020, max_decrease 10: 2021
    takes at least 10, and 2022 (no intake, 0 places) at most 10 below 2021, so
    2021 takes exactly 10. No target: 2023 takes none. C = £100."""
    doc = make_doc(years=3, training=[course(committed={2020: 20}, max_decrease=10,
                                             intake_years=[2021, 2023])])
    plan = solve_doc(doc)
    assert plan.cost == approx(100, abs=1e-6)
    assert places(plan) == approx([10, 0, 0], abs=1e-6)


def test_a_base_year_intake_that_cannot_come_down_is_named_before_solving(make_doc,
                                                                          solve_doc):
    """20 committed in 2020, intake only from 2022, max_decrease 10: 2021 has 0
    places, a fall of 20. And 50 committed with at most 30 places a year and
    max_decrease 10. Both are data-only conflicts: infeasible, in words."""
    plan = solve_doc(make_doc(years=3, training=[
        course(committed={2020: 20}, max_decrease=10, intake_years=[2022])]))
    assert plan.status == "infeasible"
    assert plan.result.conflicts == [
        "Training 'course' had 20 entrants in 2020 and may fall by at most 10 a year, but "
        "2021 is not one of its intake years (0 places)."]
    plan = solve_doc(make_doc(years=3, training=[
        course(committed={2020: 50}, max_decrease=10, max_places_per_year=30)]))
    assert plan.status == "infeasible"
    assert plan.result.conflicts == [
        "Training 'course' had 50 entrants in 2020 and may fall by at most 10 a year, but "
        "may take at most 30 places in 2021 (max_places_per_year)."]


def test_hold_keeps_the_target_in_later_years(make_doc, solve_doc):
    """100 nurses leaving at 10%; a route of at most 15 a year at £100; 110
    nurses required in 2021. Without hold: 15 recruits in 2021 → 105, W = 5,
    C = £1,500. With hold, 2022 and 2023 require 110 too: 15 in 2021 (105, 5
    short), 15 in 2022 (0.9 × 105 + 15 = 109.5, 0.5 short), 11.45 in 2023
    (0.9 × 109.5 + 11.45 = 110): W = 5.5, C = £4,145."""
    route = {"id": "abroad", "group": "nurse", "cost_per_recruit": 100, "max_per_year": 15}
    target = {"id": "t", "groups": ["nurse"], "required": {2021: 110}}
    doc = make_doc(years=3, groups={"nurse": 0.1}, international=[route], targets=[target])
    plan = solve_doc(doc)
    assert plan.shortfall == approx(5, abs=1e-6)
    assert plan.cost == approx(1500, abs=1e-4)
    held = solve_doc(make_doc(years=3, groups={"nurse": 0.1}, international=[route],
                              targets=[{**target, "hold": True}]))
    assert held.shortfall == approx(5.5, abs=1e-6)
    assert held.cost == approx(4145, abs=1e-4)
    assert held.rows("targets", target="t")["required"].tolist() == [110, 110, 110]
    assert held.table("international").sort_values("year")["recruits"].tolist() == approx(
        [15, 15, 11.45], abs=1e-6)
