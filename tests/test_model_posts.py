"""Posts and vacancies (SPEC §2.11) and unplaced graduates (§2.3, tie-break §2.9),
worked out by hand.

Base year 2020. Staff in post may not exceed max(posts, natural path), where the
natural path is the staff with no lever: n[y] = (1 − λ)·n[y−1] + J. Recruits and
graduates count in post at the end of the year they join.
"""

from __future__ import annotations

import math

from pytest import approx


def route(**fields):
    return {"id": "abroad", "group": "nurse", "cost_per_recruit": 100, **fields}


def test_posts_spread_national_recruits_over_units(make_doc, solve_doc):
    """u1 (λ 10%) and u2 (λ 20%), 100 nurses and 100 posts each; a national route
    of at most 30 a year at £100; the nation needs 200 nurses in 2022.

    Natural paths: u1 90, 81; u2 80, 64. With b1, b2 recruits in 2021 and a1, a2
    in 2022: S1[2022] = 81 + 0.9·b1 + a1 ≤ 100, S2[2022] = 64 + 0.8·b2 + a2 ≤ 100,
    and S[2021] ≤ 100 gives b1 ≤ 10, b2 ≤ 20. The most 2022 staff is
    145 + 0.9·10 + 0.8·20 + 30 = 200 with b = (10, 20), a = (10, 20): W = 0, the
    only plan reaching it, C = 60 × £100 = £6,000. Without posts every recruit
    would join u1 in 2021 (it keeps more of them): 25 / 0.9 of them and 30 in 2022.
    """
    doc = make_doc(placement="free", years=2, groups={"nurse": 0.0}, units={"u1": "r1", "u2": "r1"},
                   workforce=[{"unit": "u1", "group": "nurse", "fte": 100, "leaver_rate": 0.1,
                               "posts": 100},
                              {"unit": "u2", "group": "nurse", "fte": 100, "leaver_rate": 0.2,
                               "posts": 100}],
                   international=[route(max_per_year=30)],
                   targets=[{"id": "t", "groups": ["nurse"], "required": {2022: 200}}])
    plan = solve_doc(doc)
    assert plan.status == "optimal"
    assert plan.shortfall == approx(0, abs=1e-6)
    assert plan.cost == approx(6000, abs=1e-3)
    got = {(u, y): plan.value("workforce", "international", unit=u, group="nurse", year=y)
           for u in ("u1", "u2") for y in (2021, 2022)}
    assert got == approx({("u1", 2021): 10, ("u2", 2021): 20, ("u1", 2022): 10,
                          ("u2", 2022): 20}, abs=1e-6)
    for u in ("u1", "u2"):
        assert plan.value("workforce", "fte", unit=u, group="nurse", year=2022) == approx(100)
        assert plan.value("workforce", "vacancies", unit=u, group="nurse", year=2022) == \
            approx(0, abs=1e-6)
    # Without posts, the same data sends every recruit to u1.
    for row in doc["workforce"]:
        del row["posts"]
    free = solve_doc(doc)
    assert free.shortfall == approx(0, abs=1e-6)
    assert free.cost == approx(100 * 25 / 0.9 + 3000, abs=1e-3)
    assert free.value("workforce", "international", unit="u2", group="nurse",
                      year=2021) == approx(0, abs=1e-6)


def test_a_unit_above_its_posts_receives_nothing(make_doc, solve_doc):
    """u1 has 100 nurses but 80 posts; u2 100 nurses and 120 posts; no leavers.
    The nation needs 250 in 2021; a national route of 50 at £100. u1 may keep its
    100 (natural path above posts) but take no one; u2 takes 20: W = 30, C = £2,000.
    """
    doc = make_doc(units={"u1": "r1", "u2": "r2"},
                   workforce=[{"unit": "u1", "group": "nurse", "fte": 100, "posts": 80},
                              {"unit": "u2", "group": "nurse", "fte": 100, "posts": 120}],
                   international=[route(max_per_year=50)],
                   targets=[{"id": "t", "groups": ["nurse"], "required": {2021: 250}}])
    plan = solve_doc(doc)
    assert plan.status == "optimal"
    assert plan.shortfall == approx(30, abs=1e-6)
    assert plan.cost == approx(2000, abs=1e-3)
    assert plan.value("workforce", "international", unit="u1", year=2021) == approx(0, abs=1e-6)
    assert plan.value("workforce", "international", unit="u2", year=2021) == approx(20, abs=1e-6)
    assert plan.value("workforce", "fte", unit="u1", year=2021) == approx(100, abs=1e-6)
    assert plan.value("workforce", "posts", unit="u1", year=2021) == 80
    assert plan.value("workforce", "vacancies", unit="u1", year=2021) == 0
    assert plan.value("workforce", "vacancies", unit="u2", year=2021) == approx(0, abs=1e-6)


def committed(fields=None):
    """A one-year course whose 20 committed entrants of 2020 all qualify in 2021."""
    return {"id": "course", "group": "nurse", "duration": 1, "completion_rate": 1.0,
            "cost_per_place_year": 1000, "max_places_per_year": 0,
            "committed": {2020: 20}, **(fields or {})}


def test_committed_graduates_with_no_room_are_unplaced(make_doc, solve_doc):
    """100 nurses, 100 posts, no leavers; 20 committed graduates in 2021 and a
    target of 110. No post is free: all 20 unplaced, staff stay at 100, W = 10,
    C = 0 (committed places were paid before the plan)."""
    doc = make_doc(workforce=[{"unit": "u1", "group": "nurse", "fte": 100, "posts": 100}],
                   training=[committed()],
                   targets=[{"id": "t", "groups": ["nurse"], "required": {2021: 110}}])
    plan = solve_doc(doc)
    assert plan.status == "optimal"
    assert plan.shortfall == approx(10, abs=1e-6)
    assert plan.cost == approx(0, abs=1e-6)
    assert plan.value("training", "graduates", programme="course", year=2021) == approx(20)
    assert plan.value("training", "unplaced", programme="course", year=2021) == approx(20)
    assert plan.value("workforce", "graduates", unit="u1", year=2021) == approx(0, abs=1e-6)
    assert plan.value("workforce", "fte", unit="u1", year=2021) == approx(100, abs=1e-6)


def test_no_graduate_is_unplaced_while_a_post_is_free(make_doc, solve_doc):
    """As above with 105 posts and no target at all: W = 0 and C = 0 whatever
    happens to the graduates, so only the tie-break decides: 5 placed, 15
    unplaced (not 20 unplaced, which is as good for W and C)."""
    doc = make_doc(workforce=[{"unit": "u1", "group": "nurse", "fte": 100, "posts": 105}],
                   training=[committed()])
    plan = solve_doc(doc)
    assert plan.status == "optimal"
    assert plan.shortfall == approx(0, abs=1e-9)
    assert plan.cost == approx(0, abs=1e-6)
    assert plan.value("training", "unplaced", programme="course", year=2021) == approx(15)
    assert plan.value("workforce", "fte", unit="u1", year=2021) == approx(105)
    assert [s["stage"] for s in plan.result.stages] == ["shortfall", "cost", "unplaced",
                                                        "share_out"]


def test_posts_step_up_in_a_later_year(make_doc, solve_doc):
    """100 nurses and 100 posts, no leavers; posts rise to 130 from 2022. Targets
    120 (2021) and 140 (2022); route of 50 a year at £100. 2021: no room, 20 short;
    2022: 30 recruits fill the new posts, 10 short. W = 30, C = £3,000."""
    doc = make_doc(years=2,
                   workforce=[{"unit": "u1", "group": "nurse", "fte": 100, "posts": 100}],
                   posts=[{"unit": "u1", "group": "nurse", "year": 2022, "posts": 130}],
                   international=[route(max_per_year=50)],
                   targets=[{"id": "t", "groups": ["nurse"],
                             "required": {2021: 120, 2022: 140}}])
    plan = solve_doc(doc)
    assert plan.shortfall == approx(30, abs=1e-6)
    assert plan.cost == approx(3000, abs=1e-3)
    assert plan.value("international", "recruits", year=2021) == approx(0, abs=1e-6)
    assert plan.value("international", "recruits", year=2022) == approx(30, abs=1e-6)
    assert plan.value("workforce", "posts", unit="u1", year=2021) == 100
    assert plan.value("workforce", "posts", unit="u1", year=2022) == 130


def test_posts_from_a_later_year_only_leave_earlier_years_unlimited(make_doc, solve_doc):
    """No base-year posts, a posts row of 110 from 2022 (no leavers, natural path
    100). 2021 has no limit of its own, but whoever joins in 2021 is still in post
    in 2022, where 110 is the most: at most 10 recruits in 2021 and none in 2022.
    Targets 120 and 140: W = 10 + 30 = 40, C = £1,000."""
    doc = make_doc(years=2,
                   posts=[{"unit": "u1", "group": "nurse", "year": 2022, "posts": 110}],
                   international=[route(max_per_year=50)],
                   targets=[{"id": "t", "groups": ["nurse"],
                             "required": {2021: 120, 2022: 140}}])
    plan = solve_doc(doc)
    assert plan.shortfall == approx(40, abs=1e-6)
    assert plan.cost == approx(1000, abs=1e-3)
    assert plan.value("workforce", "fte", unit="u1", year=2022) == approx(110, abs=1e-6)
    assert math.isnan(plan.value("workforce", "posts", unit="u1", year=2021))
    assert math.isnan(plan.value("workforce", "vacancies", unit="u1", year=2021))
    assert plan.value("workforce", "posts", unit="u1", year=2022) == 110


def upskilling(make_doc, support_target=None):
    targets = [{"id": "nurses", "groups": ["nurse"], "required": {2021: 120}}]
    if support_target is not None:
        targets.append(support_target)
    return make_doc(groups={"nurse": 0.0, "support": 0.0},
                    workforce=[{"unit": "u1", "group": "nurse", "fte": 100, "posts": 110},
                               {"unit": "u1", "group": "support", "fte": 50}],
                    training=[committed({"id": "upskill", "from_group": "support"})],
                    targets=targets)


def test_upskilling_into_a_group_with_posts(make_doc, solve_doc):
    """20 support workers qualify as nurses in 2021; 10 nurse posts are free. 10
    join the nurses (110), 10 stay support workers (50 − 10 = 40). Nurse target
    120: W = 10, C = 0."""
    plan = solve_doc(upskilling(make_doc))
    assert plan.status == "optimal"
    assert plan.shortfall == approx(10, abs=1e-6)
    assert plan.cost == approx(0, abs=1e-6)
    assert plan.value("training", "unplaced", programme="upskill", year=2021) == approx(10)
    assert plan.value("workforce", "fte", unit="u1", group="nurse", year=2021) == approx(110)
    assert plan.value("workforce", "fte", unit="u1", group="support", year=2021) == approx(40)
    assert plan.value("workforce", "upskilled_out", unit="u1", group="support",
                      year=2021) == approx(10)


def test_upskilled_graduates_stay_where_they_are_worth_more(make_doc, solve_doc):
    """The same with a support-worker target of 50 at priority 2: each placed
    graduate closes 1 FTE of nurse shortfall and opens 2 of weighted support
    shortfall, so none is placed: all 20 unplaced, W = 20 (nurses 100 of 120)."""
    plan = solve_doc(upskilling(make_doc, {"id": "support", "groups": ["support"],
                                           "required": {2021: 50}, "priority": 2}))
    assert plan.shortfall == approx(20, abs=1e-6)
    assert plan.cost == approx(0, abs=1e-6)
    assert plan.value("training", "unplaced", programme="upskill", year=2021) == approx(20)
    assert plan.value("workforce", "fte", unit="u1", group="support", year=2021) == approx(50)
