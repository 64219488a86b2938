"""Training programmes (SPEC §2.3), worked out by hand.

Every case has one unit ``u1`` with 100 nurses and no leavers unless it says
otherwise, base year 2020, so the stock moves only by what the case adds.
"""

from __future__ import annotations

import pytest
from pytest import approx


def degree(**fields):
    """A nursing programme; the case gives the fields that matter to it."""
    return {"id": "degree", "group": "nurse", **fields}


def test_committed_pipeline_and_new_places_graduate_after_the_lag(make_doc, solve_doc):
    """ℓ = 3, c = 0.8, κ = 0.5 so graduates Q[y] = 0.4·E[y−3];
    committed {2018: 100, 2019: 50, 2020: 200}; 4 plan years 2021–2024.

    Q[2021] = 0.4·100 = 40, Q[2022] = 0.4·50 = 20, Q[2023] = 0.4·200 = 80,
    Q[2024] = 0.4·N[2021].  Stock: 140, 160, 240, 240 + 0.4·N[2021].
    Target 280 in 2024 → N[2021] = 40 / 0.4 = 100 places (a whole number).
    Places after 2021 graduate after the horizon, so they would only cost: 0.
    Cost per place-year 1,000: the 100 places are paid in 2021, 2022 and 2023
    (100,000 each), committed entrants cost nothing more → C = 300,000, W = 0.
    """
    doc = make_doc(years=4, training=[degree(
        duration=3, completion_rate=0.8, employment_rate=0.5, cost_per_place_year=1000,
        committed={2018: 100, 2019: 50, 2020: 200})],
        targets=[{"id": "t", "groups": ["nurse"], "required": {2024: 280}}])
    plan = solve_doc(doc)
    assert plan.status == "optimal"
    assert plan.shortfall == approx(0.0, abs=1e-6)
    assert plan.cost == approx(300_000, abs=1e-6)
    t = plan.table("training").set_index("year")
    assert list(t["places"]) == [100, 0, 0, 0]
    assert list(t["graduates"]) == approx([40, 20, 80, 40], abs=1e-9)
    assert list(t["cost"]) == approx([100_000, 100_000, 100_000, 0])
    assert list(t["cohort_runs"]) == [1, 0, 0, 0]
    fte = [plan.value("workforce", "fte", unit="u1", group="nurse", year=y)
           for y in range(2021, 2025)]
    assert fte == approx([140, 160, 240, 280], abs=1e-6)
    assert plan.value("workforce", "graduates", unit="u1", group="nurse", year=2023) == approx(80)


@pytest.mark.parametrize(("integer", "places", "cost"), [
    (True, 103, 309_000),     # 102.5 rounded up to a whole place
    (False, 102.5, 307_500),  # fractional places allowed
])
def test_integer_places_round_up(make_doc, solve_doc, integer, places, cost):
    """As the pipeline case with target 281 in 2024: 0.4·N ≥ 41 → N ≥ 102.5.

    Whole places: N = 103, graduates 41.2, S[2024] = 281.2, C = 3·1,000·103 = 309,000.
    Fractional: N = 102.5, C = 307,500.
    """
    doc = make_doc(years=4, training=[degree(
        duration=3, completion_rate=0.8, employment_rate=0.5, cost_per_place_year=1000,
        committed={2018: 100, 2019: 50, 2020: 200}, integer_places=integer)],
        targets=[{"id": "t", "groups": ["nurse"], "required": {2024: 281}}])
    plan = solve_doc(doc)
    assert plan.status == "optimal"
    assert plan.shortfall == approx(0.0, abs=1e-6)
    assert plan.cost == approx(cost, abs=1e-4)
    assert plan.value("training", "places", year=2021) == approx(places, abs=1e-6)


def short_course(**fields):
    """A one-year course, every entrant completes; 100 a place."""
    return degree(duration=1, completion_rate=1.0, cost_per_place_year=100,
                  max_places_per_year=50, **fields)


TARGET_110 = [{"id": "t", "groups": ["nurse"], "required": {2022: 110}}]
"""Ten more nurses at the end of 2022: only 2021 entrants of a one-year course help."""


def test_without_min_cohort_buys_exactly_the_places_needed(make_doc, solve_doc):
    """Need 10: N[2021] = 10, cost 100·10 = 1,000; W = 0."""
    plan = solve_doc(make_doc(years=2, training=[short_course()], targets=TARGET_110))
    assert plan.shortfall == approx(0.0, abs=1e-6)
    assert plan.cost == approx(1000)
    assert plan.value("training", "places", year=2021) == 10
    assert plan.value("training", "graduates", year=2022) == approx(10)


@pytest.mark.parametrize(("budget", "places", "W", "C"), [
    (2500, 20, 0.0, 2000),  # affordable: the course runs at its minimum, 20 places
    (1500, 0, 10.0, 0.0),   # 20 places cost 2,000 > 1,500: the course cannot run
])
def test_min_cohort_runs_when_affordable_and_not_otherwise(make_doc, solve_doc,
                                                           budget, places, W, C):
    """min_cohort 20: the course runs with 0 or ≥ 20 places. Need 10.

    Budget 2,500 a year: run with 20 (W = 0, C = 2,000; 10 FTE more than needed).
    Budget 1,500 a year: 10 places would fit the budget but the cohort may not run
    below 20, which costs 2,000 → N = 0, W = 10, C = 0.
    """
    doc = make_doc(years=2, training=[short_course(min_cohort=20)], targets=TARGET_110,
                   budgets=[{"id": "main", "per_year": budget}])
    plan = solve_doc(doc)
    assert plan.status == "optimal"
    assert plan.shortfall == approx(W, abs=1e-6)
    assert plan.cost == approx(C, abs=1e-6)
    assert plan.value("training", "places", year=2021) == places
    assert plan.value("training", "cohort_runs", year=2021) == (1 if places else 0)


@pytest.mark.parametrize(("min_cohort", "places", "W", "C"), [
    (0, 10, 0.0, 1000),   # 1000/150 = 6.67 < 10: worth buying the 10 places
    (20, 0, 10.0, 0.0),   # 2000/150 = 13.3 > 10: the minimum cohort is not worth it
])
def test_min_cohort_not_worthwhile_in_weighted_mode(make_doc, solve_doc,
                                                    min_cohort, places, W, C):
    """Weighted mode, value_per_fte 150: minimise W + C/150. Need 10.

    No minimum: 10 places → 0 + 1,000/150 = 6.67 < 10 (do nothing) → run.
    min_cohort 20: 20 places → 0 + 2,000/150 = 13.3 > 10 → do nothing.
    """
    doc = make_doc(years=2, training=[short_course(min_cohort=min_cohort)], targets=TARGET_110,
                   objective={"mode": "weighted", "value_per_fte": 150})
    plan = solve_doc(doc)
    assert plan.status == "optimal"
    assert plan.shortfall == approx(W, abs=1e-6)
    assert plan.cost == approx(C, abs=1e-6)
    assert plan.value("training", "places", year=2021) == places


def test_cohort_fixed_cost_favours_one_larger_cohort(make_doc, solve_doc):
    """Fixed cost 500 per cohort run; targets 110 in 2022 and 120 in 2023 (λ = 0).

    One cohort of 20 in 2021: 100·20 + 500 = 2,500.
    Two cohorts of 10 (2021, 2022): 2·(1,000 + 500) = 3,000.
    → N = (20, 0, 0), runs = (1, 0, 0), cost in 2021 = 2,500 = C, W = 0.
    """
    doc = make_doc(years=3, training=[short_course(cohort_fixed_cost=500)],
                   targets=[{"id": "t", "groups": ["nurse"],
                             "required": {2022: 110, 2023: 120}}])
    plan = solve_doc(doc)
    assert plan.status == "optimal"
    assert plan.shortfall == approx(0.0, abs=1e-6)
    assert plan.cost == approx(2500)
    t = plan.table("training").set_index("year")
    assert list(t["places"]) == [20, 0, 0]
    assert list(t["cohort_runs"]) == [1, 0, 0]
    assert list(t["cost"]) == approx([2500, 0, 0])


@pytest.mark.parametrize(("mentor_leaver_rate", "places", "W", "C"), [
    (0.0, 4, 14.0, 8000),
    (0.5, 3, 15.0, 6000),
])
def test_supervision_capacity_binds_on_previous_year_end_stock(
        make_doc, solve_doc, mentor_leaver_rate, places, W, C):
    """ℓ = 2, c = 1, 1,000 a place-year; committed {2020: 2}; supervision 0.1
    trainees per FTE of ``mentor`` (60 FTE at the end of 2020). Target 120 nurses
    in 2023; only N[2021] graduates in time (in 2023).

    Trainees in y are E[y] + E[y−1]:
      2021: N[2021] + 2 ≤ 0.1·S_mentor[2020] = 6           → N[2021] ≤ 4
      2022: N[2022] + N[2021] ≤ 0.1·S_mentor[2021]
    Mentors without leavers: S_mentor[2021] = 60, so N[2021] = 4.
      S_nurse: 2021 100, 2022 102 (committed), 2023 106 → W = 14;
      C = 1,000·4 in 2021 and 2022 = 8,000.
    Mentors with λ = 0.5: S_mentor[2021] = 30, the 2022 row allows 3 → N[2021] = 3,
      S_nurse[2023] = 105 → W = 15, C = 6,000.
    """
    doc = make_doc(
        years=3, groups={"nurse": 0.0, "mentor": mentor_leaver_rate},
        workforce=[{"unit": "u1", "group": "nurse", "fte": 100},
                   {"unit": "u1", "group": "mentor", "fte": 60}],
        training=[degree(duration=2, completion_rate=1.0, cost_per_place_year=1000,
                         committed={2020: 2},
                         supervision={"group": "mentor", "max_trainees_per_fte": 0.1})],
        targets=[{"id": "t", "groups": ["nurse"], "required": {2023: 120}}])
    plan = solve_doc(doc)
    assert plan.status == "optimal"
    assert plan.shortfall == approx(W, abs=1e-6)
    assert plan.cost == approx(C)
    assert plan.value("training", "places", year=2021) == places
    assert plan.value("training", "graduates", year=2022) == approx(2)
    assert plan.value("workforce", "fte", unit="u1", group="nurse", year=2023) == approx(100 + 2 + places)


def test_committed_trainees_above_supervision_capacity_are_infeasible(make_doc, solve_doc):
    """Committed {2020: 8} are in training in 2021; 0.1·60 mentors allow 6 → no plan."""
    doc = make_doc(
        years=2, groups={"nurse": 0.0, "mentor": 0.0},
        workforce=[{"unit": "u1", "group": "nurse", "fte": 100},
                   {"unit": "u1", "group": "mentor", "fte": 60}],
        training=[degree(duration=2, completion_rate=1.0, committed={2020: 8},
                         supervision={"group": "mentor", "max_trainees_per_fte": 0.1})])
    plan = solve_doc(doc)
    assert plan.status == "infeasible"
    assert plan.shortfall is None and plan.cost is None
    assert any("supervision_capacity[degree,2021]" in m and "8 committed trainees" in m
               and "allows 6" in m for m in plan.result.messages)


UPSKILL = {"id": "upskill", "group": "nurse", "from_group": "support", "region": "r1",
           "duration": 1, "cost_per_place_year": 1000}


def upskill_doc(make_doc, support_u1: float, completion: float = 0.5,
                employment: float = 1.0):
    upskill = {**UPSKILL, "completion_rate": completion, "employment_rate": employment}
    return make_doc(
        years=2, groups={"nurse": 0.0, "support": 0.0}, units={"u1": "r1", "u2": "r2"},
        workforce=[{"unit": "u1", "group": "nurse", "fte": 50},
                   {"unit": "u1", "group": "support", "fte": support_u1},
                   {"unit": "u2", "group": "nurse", "fte": 50},
                   {"unit": "u2", "group": "support", "fte": 100}],
        training=[upskill],
        targets=[{"id": "nurses", "groups": ["nurse"], "required": {2022: 110}}])


@pytest.mark.parametrize(("completion", "employment"), [(0.5, 1.0), (1.0, 0.5)])
def test_upskilling_moves_graduates_between_groups_in_the_same_unit(
        make_doc, solve_doc, completion, employment):
    """Support workers in u1 (region r1) train as nurses: ℓ = 1, c·κ = 0.5
    (half do not complete, or all complete and half do not take the post).

    Need 10 more nurses nationally in 2022 → 10 graduates → N[2021] = 20, cost 20,000.
    In 2022, u1: nurses 50 + 10 = 60, support 100 − 10 = 90 (the 10 who did not
    complete, or did not take the post, stay support workers; trainees count in
    support while training, so support is 100 in 2021). u2 is outside the
    programme's region: unchanged.
    """
    plan = solve_doc(upskill_doc(make_doc, support_u1=100, completion=completion,
                                 employment=employment))
    assert plan.status == "optimal"
    assert plan.shortfall == approx(0.0, abs=1e-6)
    assert plan.cost == approx(20_000)
    assert plan.value("training", "places", year=2021) == 20
    assert plan.value("training", "graduates", year=2022) == approx(10)

    def wf(col, u, g, y):
        return plan.value("workforce", col, unit=u, group=g, year=y)

    assert wf("fte", "u1", "support", 2021) == approx(100)
    assert wf("fte", "u1", "nurse", 2022) == approx(60)
    assert wf("fte", "u1", "support", 2022) == approx(90)
    assert wf("graduates", "u1", "nurse", 2022) == approx(10)
    assert wf("upskilled_out", "u1", "support", 2022) == approx(10)
    assert wf("fte", "u2", "nurse", 2022) == approx(50)
    assert wf("fte", "u2", "support", 2022) == approx(100)


def test_upskilling_is_limited_by_the_staff_there_are_to_upskill(make_doc, solve_doc):
    """Only 8 support workers in u1: graduates cannot exceed them (S ≥ 0), so
    N[2021] = 16 (8 graduates), support in u1 ends at 0, nurses 108 → W = 2,
    C = 16,000. Support workers in u2 cannot be used (outside region r1).
    """
    plan = solve_doc(upskill_doc(make_doc, support_u1=8))
    assert plan.status == "optimal"
    assert plan.shortfall == approx(2.0, abs=1e-6)
    assert plan.cost == approx(16_000)
    assert plan.value("training", "places", year=2021) == 16
    assert plan.value("workforce", "fte", unit="u1", group="support", year=2022) == approx(0, abs=1e-6)
