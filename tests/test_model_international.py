"""International recruitment routes (SPEC §2.6), worked out by hand.

Units u1 (region r1) and u2 (region r2), 100 nurses each, no leavers, base
year 2020. Recruits count in post at the end of the year they are recruited.
"""

from __future__ import annotations

from pytest import approx


def two_units(make_doc, **sections):
    return make_doc(placement="free", units={"u1": "r1", "u2": "r2"},
                    workforce=[{"unit": "u1", "group": "nurse", "fte": 100},
                               {"unit": "u2", "group": "nurse", "fte": 100}], **sections)


def route(**fields):
    return {"id": "abroad", "group": "nurse", "cost_per_recruit": 100, "max_per_year": 10,
            **fields}


def test_a_regional_route_places_staff_only_in_its_regions_units(make_doc, solve_doc):
    """Route limited to r2. Unit targets: u1 needs 105, u2 needs 103.
    Recruits can only join u2: 3 recruits (C = 300); u1 stays 5 short → W = 5.
    """
    doc = two_units(make_doc, international=[route(region="r2")], targets=[
        {"id": "at_u1", "unit": "u1", "groups": ["nurse"], "required": {2021: 105}},
        {"id": "at_u2", "unit": "u2", "groups": ["nurse"], "required": {2021: 103}}])
    plan = solve_doc(doc)
    assert plan.status == "optimal"
    assert plan.shortfall == approx(5, abs=1e-6)
    assert plan.cost == approx(300, abs=1e-4)
    assert plan.value("international", "recruits", year=2021) == approx(3, abs=1e-6)
    assert plan.value("workforce", "international", unit="u1", group="nurse", year=2021) == 0
    assert plan.value("workforce", "international", unit="u2", group="nurse", year=2021) == approx(3, abs=1e-6)
    assert plan.value("targets", "shortfall", target="at_u1", year=2021) == approx(5, abs=1e-6)
    assert plan.rows("targets", target="at_u1")["scope"].tolist() == ["unit:u1"]


def test_a_national_route_reaches_every_unit(make_doc, solve_doc):
    """Same targets, no region on the route: 5 recruits to u1 and 3 to u2 → W = 0, C = 800."""
    doc = two_units(make_doc, international=[route()], targets=[
        {"id": "at_u1", "unit": "u1", "groups": ["nurse"], "required": {2021: 105}},
        {"id": "at_u2", "unit": "u2", "groups": ["nurse"], "required": {2021: 103}}])
    plan = solve_doc(doc)
    assert plan.shortfall == approx(0, abs=1e-6)
    assert plan.cost == approx(800, abs=1e-4)
    assert plan.value("workforce", "international", unit="u1", group="nurse", year=2021) == approx(5, abs=1e-6)
    assert plan.value("workforce", "international", unit="u2", group="nurse", year=2021) == approx(3, abs=1e-6)


def test_max_per_year_and_max_total(make_doc, solve_doc):
    """Two years, at most 10 a year and 15 in all; national target 225 by 2022
    (25 more). 15 recruits → W = 10, C = 1,500."""
    doc = two_units(make_doc, years=2, international=[route(max_total=15)],
                    targets=[{"id": "t", "groups": ["nurse"], "required": {2022: 225}}])
    plan = solve_doc(doc)
    assert plan.shortfall == approx(10, abs=1e-6)
    assert plan.cost == approx(1500, abs=1e-4)
    assert plan.total("international", "recruits") == approx(15, abs=1e-6)
    assert plan.table("international")["recruits"].max() <= 10 + 1e-9
