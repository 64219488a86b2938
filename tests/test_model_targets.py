"""Targets, services and priorities (SPEC §2.8), worked out by hand.

Unit u1 has 100 nurses and 20 therapists, no leavers, one plan year (2021), no
levers: the only decision is how staff are deployed to services.
"""

from __future__ import annotations

import pytest
from pytest import approx


def services_doc(make_doc, therapy_priority: float):
    """Therapy needs 40, counting a therapist 1 and a nurse 0.5; crisis needs 80 nurses."""
    return make_doc(
        groups={"nurse": 0.0, "therapist": 0.0},
        workforce=[{"unit": "u1", "group": "nurse", "fte": 100},
                   {"unit": "u1", "group": "therapist", "fte": 20}],
        targets=[{"id": "therapy", "service": "talking_therapies",
                  "groups": {"therapist": 1, "nurse": 0.5}, "required": {2021: 40},
                  "priority": therapy_priority},
                 {"id": "crisis", "service": "crisis", "groups": ["nurse"],
                  "required": {2021: 80}}])


def test_substitution_weight_and_one_fte_counted_once(make_doc, solve_doc):
    """Equal priorities. With d nurses in crisis and 100 − d in therapy:
    crisis short max(0, 80 − d); therapy short max(0, 40 − 20 − 0.5·(100 − d)).
    A nurse is worth 1 in crisis and 0.5 in therapy, so crisis gets its 80 and
    the other 20 nurses count 10 in therapy: therapy achieved 30, short 10 → W = 10.
    (Counting a nurse in both services would wrongly give W = 0.)
    """
    plan = solve_doc(services_doc(make_doc, therapy_priority=1))
    assert plan.status == "optimal"
    assert plan.shortfall == approx(10, abs=1e-6)
    assert plan.cost == 0
    assert plan.value("targets", "achieved", target="crisis") == approx(80, abs=1e-6)
    assert plan.value("targets", "achieved", target="therapy") == approx(30, abs=1e-6)
    assert plan.value("targets", "shortfall", target="therapy") == approx(10, abs=1e-6)
    assert plan.rows("targets", target="therapy")["service"].tolist() == ["talking_therapies"]
    assert plan.rows("targets", target="therapy")["scope"].tolist() == ["national"]


def test_priorities_move_staff_to_the_heavier_target(make_doc, solve_doc):
    """Therapy priority 3: moving a nurse from crisis to therapy costs 1 and saves
    0.5·3 = 1.5, so therapy is filled first: 40 nurses there (20 + 0.5·40 = 40),
    60 in crisis → crisis short 20 → W = 1·20 + 3·0 = 20."""
    plan = solve_doc(services_doc(make_doc, therapy_priority=3))
    assert plan.shortfall == approx(20, abs=1e-6)
    assert plan.value("targets", "achieved", target="therapy") == approx(40, abs=1e-6)
    assert plan.value("targets", "achieved", target="crisis") == approx(60, abs=1e-6)
    assert plan.value("targets", "priority", target="therapy") == 3


def test_a_target_without_service_counts_every_fte(make_doc, solve_doc):
    """Add a plain national nurse target of 100: it counts all 100 nurses even
    though they are deployed to services → its shortfall is 0 and W stays 10."""
    doc = services_doc(make_doc, therapy_priority=1)
    doc["targets"].append({"id": "all_nurses", "groups": ["nurse"], "required": {2021: 100}})
    plan = solve_doc(doc)
    assert plan.shortfall == approx(10, abs=1e-6)
    assert plan.value("targets", "achieved", target="all_nurses") == approx(100, abs=1e-6)


@pytest.mark.parametrize(("scope", "achieved", "label"), [
    ({"region": "r1"}, 150, "region:r1"),
    ({"unit": "u2"}, 50, "unit:u2"),
    ({}, 250, "national"),
])
def test_target_scope(make_doc, solve_doc, scope, achieved, label):
    """Nurses: u1 100 and u2 50 in r1, u3 100 in r2. A target of 300 counts its
    scope only: r1 → 150, u2 → 50, national → 250."""
    doc = make_doc(units={"u1": "r1", "u2": "r1", "u3": "r2"},
                   workforce=[{"unit": "u1", "group": "nurse", "fte": 100},
                              {"unit": "u2", "group": "nurse", "fte": 50},
                              {"unit": "u3", "group": "nurse", "fte": 100}],
                   targets=[{"id": "t", "groups": ["nurse"], "required": {2021: 300}, **scope}])
    plan = solve_doc(doc)
    assert plan.value("targets", "achieved", target="t") == approx(achieved, abs=1e-6)
    assert plan.shortfall == approx(300 - achieved, abs=1e-6)
    assert plan.rows("targets", target="t")["scope"].tolist() == [label]


def test_priority_zero_target_reports_its_real_shortfall(make_doc, solve_doc):
    """A target of 150 with priority 0 does not count in W (W = 0), but its row
    still says how far the plan is from it: achieved 100, shortfall 50."""
    plan = solve_doc(make_doc(targets=[{"id": "t", "groups": ["nurse"],
                                        "required": {2021: 150}, "priority": 0}]))
    assert plan.shortfall == 0
    assert plan.value("targets", "shortfall", target="t") == approx(50, abs=1e-6)
    assert plan.value("targets", "required", target="t") == 150


def test_deployment_reports_what_targets_need_not_an_arbitrary_surplus(make_doc, solve_doc):
    """100 nurses, crisis needs 30 and therapy (nurses count 1) needs 20: both
    are met (W = 0) by many deployments — 80/20 is as optimal as 30/20 — because
    deployment costs nothing. The plan reports the least deployment that meets
    them: crisis achieved exactly 30, therapy exactly 20, and the other 50
    nurses deployed to neither. A third target asking 150 in crisis from the
    same 100 nurses (another scope: the same unit) is short: 150 − (100 − 20)
    = 70 if therapy keeps its 20, and W = 70 (priority 1 each)."""
    doc = make_doc(
        workforce=[{"unit": "u1", "group": "nurse", "fte": 100}],
        targets=[{"id": "crisis", "service": "crisis", "groups": ["nurse"],
                  "required": {2021: 30}},
                 {"id": "therapy", "service": "therapy", "groups": ["nurse"],
                  "required": {2021: 20}}])
    plan = solve_doc(doc)
    assert plan.shortfall == approx(0, abs=1e-9)
    assert plan.value("targets", "achieved", target="crisis") == approx(30, abs=1e-6)
    assert plan.value("targets", "achieved", target="therapy") == approx(20, abs=1e-6)

    doc["targets"].append({"id": "crisis_u1", "unit": "u1", "service": "crisis",
                           "groups": ["nurse"], "required": {2021: 150}})
    plan = solve_doc(doc)
    assert plan.shortfall == approx(70, abs=1e-6)
    assert plan.value("targets", "achieved", target="crisis_u1") == approx(80, abs=1e-6)
    assert plan.value("targets", "shortfall", target="crisis_u1") == approx(70, abs=1e-6)
    assert plan.value("targets", "achieved", target="therapy") == approx(20, abs=1e-6)
    assert plan.value("targets", "achieved", target="crisis") == approx(80, abs=1e-6)
