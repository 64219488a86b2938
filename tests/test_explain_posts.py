"""Posts, unplaced graduates and stable commissioning in the explanations:
marginal values (optimiser.explain.marginals), why the shortfall remains
(optimiser.explain.diagnose.explain_shortfall), the conflict in words
(optimiser.explain.wording) and the summary the command line prints (cli.print_summary).

Every number is worked out by hand in the test's docstring. Base year 2020;
recruits and graduates count in post at the end of the year they join.
"""

from __future__ import annotations

import json

import highspy
import numpy as np
import pytest
from pytest import approx
from typer.testing import CliRunner

from cli import app
from formulations import build_model, model_data
from optimiser import load_instance
from optimiser.engine.solve import HighsModel
from optimiser.explain.diagnose import irreducible_set
from optimiser.explain.marginals import fixed_integer_lp, gain
from optimiser.explain.wording import Words


def route(**fields):
    return {"id": "abroad", "group": "nurse", "cost_per_recruit": 100, **fields}


def course(**fields):
    """A one-year course: everyone completes and takes a post, £10 a place."""
    return {"id": "course", "group": "nurse", "duration": 1, "completion_rate": 1.0,
            "cost_per_place_year": 10, "integer_places": False, **fields}


def mv_row(plan, kind: str, item: str, year):
    mv = plan.result.marginal_values
    rows = mv[(mv["kind"] == kind) & (mv["item"] == item) & (mv["year"] == str(year))]
    assert len(rows) == 1, f"{len(rows)} rows for {kind} {item} {year}:\n{mv}"
    return rows.iloc[0]


def plan_lp(plan, hold_places: bool = True):
    """The plan's LP with integers fixed (or with places free, binaries held)."""
    hm = HighsModel(plan.result.model)
    x = np.array([v.value or 0.0 for v in hm.columns])
    hold = None if hold_places else np.array([v.is_binary() for v in hm.columns])
    lp = fixed_integer_lp(hm, x, hm.c_W, hold=hold)
    assert lp.status == "Optimal"
    return lp


# ---------------------------------------------------------------- marginal values: posts


def one_unit_short_of_posts(make_doc, posts=100):
    """100 nurses and ``posts`` posts, no leavers; a route of 50 a year at £100;
    110 nurses required in 2021."""
    return make_doc(workforce=[{"unit": "u1", "group": "nurse", "fte": 100, "posts": posts}],
                    international=[route(max_per_year=50)],
                    targets=[{"id": "t", "groups": ["nurse"], "required": {2021: 110}}])


def test_one_more_post_closes_one_fte_of_shortfall(make_doc, solve_doc):
    """The unit is full (100 of 100) and the route has 50 to give: each post more
    takes one recruit, 1 FTE less W, until 110 posts meet the target. W = 10.
    The same on the fixed LP (+1 on the row) and on the full model with 101 posts."""
    plan = solve_doc(one_unit_short_of_posts(make_doc))
    assert plan.shortfall == approx(10, abs=1e-6)
    row = mv_row(plan, "posts", "u1/nurse", 2021)
    assert row["value"] == approx(1.0, rel=1e-9)
    assert row["limit"] == 100 and row["used"] == approx(100) and row["binding"]
    assert row["per"] == "post"
    assert row["holds_up_to"] == approx(110)
    assert row["note"] == ("1 FTE less weighted shortfall per extra post while the posts "
                           "stay below 110.0; integers fixed at the plan")
    lp = plan_lp(plan)
    i = lp.row_of["posts_cap", ("u1", "nurse", 2021)]
    assert gain(lp, rows={i: (lp.row_lower[i], lp.row_upper[i] + 1)}) == approx(1.0)
    assert solve_doc(one_unit_short_of_posts(make_doc, posts=101)).shortfall == approx(9)


def test_a_unit_above_its_posts_is_worth_nothing_per_post(make_doc, solve_doc):
    """u1 has 100 nurses and 80 posts (it keeps its 100, the natural path, and
    takes no one); u2 has 100 and 100. Route of 50; 250 required: W = 50. One more
    post at u2 takes one more recruit: 1 FTE. At u1 one more post (81) leaves the
    limit at 100: worth nothing, said in one row for the group and year."""
    plan = solve_doc(make_doc(placement="free",
        units={"u1": "r1", "u2": "r2"},
        workforce=[{"unit": "u1", "group": "nurse", "fte": 100, "posts": 80},
                   {"unit": "u2", "group": "nurse", "fte": 100, "posts": 100}],
        international=[route(max_per_year=50)],
        targets=[{"id": "t", "groups": ["nurse"], "required": {2021: 250}}]))
    assert plan.shortfall == approx(50, abs=1e-6)
    assert mv_row(plan, "posts", "u2/nurse", 2021)["value"] == approx(1.0)
    full = mv_row(plan, "posts", "*/nurse", 2021)
    assert full["value"] == 0 and full["binding"]
    assert full["limit"] == 80 and full["used"] == approx(100)
    assert full["note"] == (
        "1 unit at its limit (u1); one more post in any of them would not reduce the "
        "weighted shortfall; 1 of them is above its funded posts and keeps the staff of its "
        "natural path, so one more post does not lift the limit there")
    assert not (plan.result.marginal_values["item"] == "u1/nurse").any()


# ---------------------------------------------------------------- marginal values: ramps


def ramp_doc(make_doc, **fields):
    """From 0 places in 2020 at most +10 a year (N ≤ 10 in 2021, ≤ 20 in 2022);
    160 nurses required in 2023 with 100 in post: W = 160 − 130 = 30."""
    return make_doc(years=3, training=[course(max_increase=10, **fields)],
                    targets=[{"id": "t", "groups": ["nurse"], "required": {2023: 160}}])


@pytest.mark.parametrize("integer", [False, True])
def test_one_more_place_of_growth(make_doc, solve_doc, integer):
    """One more place of growth in 2021 lets 2021 take 11 and 2022 take 21: 2 more
    graduates by 2023, 2 FTE. In 2022: 21 places, 1 FTE. The rate holds until the
    target is met: 2021's limit up to 25 (25 + 35 = 60 graduates), 2022's up to
    40 (10 + 50). Whole places change nothing: the value is with places free to
    grow (the ramp limits nothing else)."""
    plan = solve_doc(ramp_doc(make_doc, integer_places=integer))
    assert plan.shortfall == approx(30, abs=1e-6)
    for year, value, holds in ((2021, 2.0, 25.0), (2022, 1.0, 40.0)):
        row = mv_row(plan, "intake_increase", "course", year)
        assert row["value"] == approx(value) and row["value_places_free"] == approx(value)
        assert row["used"] == approx(10) and row["limit"] == 10 and row["binding"]
        assert row["holds_up_to"] == approx(holds)
        assert row["per"] == "place a year"
        assert "training places free to grow" in row["note"]
    assert not ((plan.result.marginal_values["kind"] == "intake_increase")
                & (plan.result.marginal_values["year"] == "2023")).any()
    lp = plan_lp(plan, hold_places=False)
    i = lp.row_of["intake_increase", ("course", 2021)]
    assert gain(lp, rows={i: (lp.row_lower[i], lp.row_upper[i] + 1)}) == approx(2.0)
    # Both rows one place wider in the full model: 3 FTE less.
    wider = solve_doc(make_doc(years=3, training=[course(max_increase=11,
                                                         integer_places=integer)],
                               targets=[{"id": "t", "groups": ["nurse"],
                                         "required": {2023: 160}}]))
    assert plan.shortfall - wider.shortfall == approx(3.0)


def test_a_faster_fall_is_worth_its_cost_in_weighted_mode(make_doc, solve_doc):
    """50 committed in 2020, at most −10 a year: places 40, 30, 20 (£900), no
    target. At £10 per FTE of shortfall (weighted mode) every £10 is 1 unit of
    the objective. Allowing one more place of fall in 2021 saves a place in each
    of 2021, 2022 and 2023: 3; in 2022: 2; in 2023: 1. In lexicographic mode the
    fall saves no shortfall: binding, worth nothing."""
    doc = make_doc(years=3, training=[course(committed={2020: 50}, max_decrease=10)],
                   objective={"mode": "weighted", "value_per_fte": 10})
    plan = solve_doc(doc)
    assert plan.cost == approx(900)
    for year, value in ((2021, 3.0), (2022, 2.0), (2023, 1.0)):
        row = mv_row(plan, "intake_decrease", "course", year)
        assert row["value"] == approx(value)
        assert row["used"] == approx(10) and row["binding"]
        assert "weighted objective per extra place of fall a year" in row["note"]
    plan = solve_doc(make_doc(years=3, training=[course(committed={2020: 50},
                                                        max_decrease=10)]))
    row = mv_row(plan, "intake_decrease", "course", 2021)
    assert row["value"] == 0 and row["binding"]
    assert row["note"] == ("limit reached, but one more place of fall a year would not "
                           "reduce the weighted shortfall")


# ---------------------------------------------------------------- why the shortfall remains


def four_trusts(make_doc):
    """Northern Trust (north) is full: 100 nurses, 100 posts. Southern (80 of
    100) and Coastal (90 of 100) are in the south, Eastern (94 of 100) in the
    east. No leavers. The route and the course (20 committed entrants of 2020,
    all graduating in 2021, no new places) serve only the north, where no post
    is free: the 20 graduates are unplaced and the route recruits no one. 400
    nurses required in 2021: W = 400 − 364 = 36, the 36 vacant posts (30 of 200
    in the south, 15%; 6 of 100 in the east, 6%; 9% in all). One more post at
    Northern Trust takes one graduate: 1 FTE."""
    doc = make_doc(
        groups={"nurse": 0.0},
        workforce=[{"unit": u, "group": "nurse", "fte": fte, "posts": 100}
                   for u, fte in (("u1", 100), ("u2", 80), ("u3", 90), ("u4", 94))],
        international=[route(id="north_route", max_per_year=50, region="north")],
        training=[course(id="north_course", max_places_per_year=0, committed={2020: 20},
                         region="north")],
        targets=[{"id": "nurses", "groups": ["nurse"], "required": {2021: 400}}])
    doc["staff_groups"][0]["name"] = "Nurse"
    doc["units"] = [{"id": "u1", "name": "Northern Trust", "region": "north"},
                    {"id": "u2", "name": "Southern Trust", "region": "south"},
                    {"id": "u3", "name": "Coastal Trust", "region": "south"},
                    {"id": "u4", "name": "Eastern Trust", "region": "east"}]
    return doc


def test_full_posts_vacancies_and_unplaced_graduates_are_said(make_doc, solve_doc):
    plan = solve_doc(four_trusts(make_doc))
    assert plan.shortfall == approx(36, abs=1e-6)
    assert plan.value("training", "unplaced", programme="north_course",
                      year=2021) == approx(20)
    assert mv_row(plan, "posts", "u1/nurse", 2021)["value"] == approx(1.0)
    text = plan.result.explanations
    assert ("Posts for Nurse (nurse) are full at Northern Trust (u1) in 2021 (one more post "
            "would remove 1 FTE of weighted shortfall, with the plan's whole-number decisions "
            "held).") in text
    assert ("Nurse (nurse) posts left vacant in 2021 while targets are short: 36 of 400 "
            "(9.0%); worst south 30 of 200 (15.0%), east 6 of 100 (6.0%).") in text
    assert ("Training 'north_course' leaves 20 graduates unplaced in 2021: no unit of region "
            "north had a free Nurse (nurse) post for them.") in text


def test_many_full_units_are_one_sentence(make_doc, solve_doc):
    """Five units of 100 nurses and 100 posts, a national route of 50: 600
    required, W = 100, every unit full, each post more worth 1 FTE."""
    units = [f"u{k}" for k in range(1, 6)]
    plan = solve_doc(make_doc(placement="free",
        units={u: "r1" for u in units},
        workforce=[{"unit": u, "group": "nurse", "fte": 100, "posts": 100} for u in units],
        international=[route(max_per_year=50)],
        targets=[{"id": "t", "groups": ["nurse"], "required": {2021: 600}}]))
    assert plan.shortfall == approx(100, abs=1e-6)
    assert [t for t in plan.result.explanations if t.startswith("Posts")] == [
        "Posts for nurse are full in 5 units in 2021: u1, u2, u3 and 2 more (one more post "
        "would remove up to 1 FTE of weighted shortfall, at u1 in 2021, with the plan's "
        "whole-number decisions held)."]


def test_a_binding_ramp_is_said_with_its_years(make_doc, solve_doc):
    plan = solve_doc(ramp_doc(make_doc))
    assert ("Training 'course' can grow by at most 10 places a year: 2021–2022 (one more "
            "place of growth a year would remove 2 FTE of weighted shortfall, in 2021, with "
            "training places free to grow).") in plan.result.explanations


def test_a_binding_fall_is_said_too(make_doc, solve_doc):
    """50 committed, at most −10 a year, and a doctor target nothing can meet (W =
    10): the plan cuts 40, 30, 20, as fast as allowed, in every year."""
    plan = solve_doc(make_doc(
        years=3, groups={"nurse": 0.0, "doctor": 0.0},
        training=[course(committed={2020: 50}, max_decrease=10)],
        targets=[{"id": "doctors", "groups": ["doctor"], "required": {2021: 10}}]))
    assert plan.shortfall == approx(10)
    assert "Training 'course' can fall by at most 10 places a year: 2021–2023." in \
        plan.result.explanations


def upskilling(make_doc, support_target=None):
    """20 support workers qualify as nurses in 2021; 10 nurse posts are free."""
    targets = [{"id": "nurses", "groups": ["nurse"], "required": {2021: 120}}]
    if support_target is not None:
        targets.append(support_target)
    return make_doc(groups={"nurse": 0.0, "support": 0.0},
                    workforce=[{"unit": "u1", "group": "nurse", "fte": 100, "posts": 110},
                               {"unit": "u1", "group": "support", "fte": 50}],
                    training=[course(id="upskill", from_group="support", committed={2020: 20},
                                     max_places_per_year=0)],
                    targets=targets)


def test_unplaced_upskilling_graduates_say_why(make_doc, solve_doc):
    """10 fill the free posts, 10 are unplaced: no post left. With a support target
    of 50 at priority 2, none moves although 10 posts are free: moving one closes
    1 FTE of nurse shortfall and opens 2 of weighted support shortfall."""
    plan = solve_doc(upskilling(make_doc))
    assert ("Training 'upskill' leaves 10 graduates unplaced in 2021: no unit had a free nurse "
            "post for them.") in plan.result.explanations
    plan = solve_doc(upskilling(make_doc, {"id": "support", "groups": ["support"],
                                           "required": {2021: 50}, "priority": 2}))
    assert ("Training 'upskill' leaves 20 graduates unplaced in 2021: they stay support, where "
            "moving them would leave more shortfall than it closes.") in plan.result.explanations


# ---------------------------------------------------------------- the conflict in words


def ramp_against_posts(make_doc):
    """A support-worker course supervised by nurses (0.5 trainees per nurse at the
    end of the year before), 80 entrants committed in 2020, falling by at most 5
    a year: at least 75 trainees in 2021 and 70 in 2022. 2022's 70 need 140
    nurses at the end of 2021. 160 nurses leave at 25% (120 on the natural path)
    and a route could recruit 100, but the posts fall to 130 in 2021: at most 130
    nurses, 65 trainees. No plan."""
    return make_doc(
        years=2, groups={"nurse": 0.25, "support": 0.0},
        workforce=[{"unit": "u1", "group": "nurse", "fte": 160, "posts": 160}],
        posts=[{"unit": "u1", "group": "nurse", "year": 2021, "posts": 130}],
        international=[route(max_per_year=100)],
        training=[course(id="support_course", group="support", committed={2020: 80},
                         max_decrease=5,
                         supervision={"group": "nurse", "max_trainees_per_fte": 0.5})])


CONFLICT = [
    "Trainees of 'support_course' in training in 2022 may not exceed 0.5 per FTE of nurse "
    "in all units at the end of 2021.",
    "Training 'support_course' may start at most 5 fewer places in 2021 than the 80 "
    "committed entrants of 2020 (max_decrease).",
    "Training 'support_course' may start at most 5 fewer places in 2022 than in 2021 "
    "(max_decrease).",
    "nurse in post at u1 at the end of 2021 may not exceed its 130 funded posts.",
]


def test_a_ramp_against_posts_is_worded(make_doc, write_instance, tmp_path):
    path = write_instance(ramp_against_posts(make_doc))
    res = CliRunner().invoke(app, ["solve", str(path), "--out", str(tmp_path / "out")])
    assert res.exit_code == 1, res.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert sorted(summary["conflicts"]) == sorted(CONFLICT)
    for sentence in CONFLICT:
        assert f"  - {sentence}" in res.output


def test_the_ramp_conflict_is_irreducible(make_doc, write_instance):
    """The four rows alone (every other row and bound lifted) cannot hold; without
    any one of them they can."""
    m = build_model(model_data(load_instance(write_instance(ramp_against_posts(make_doc)))))
    hm = HighsModel(m)
    conflict = irreducible_set(hm)
    assert conflict is not None
    names = sorted(hm.rows[i][0].parent_component().local_name for i in conflict.rows)
    assert names == ["intake_decrease", "intake_decrease", "posts_cap",
                     "supervision_capacity"]
    kept = dict(conflict.bounds)
    inf = highspy.kHighsInf

    def feasible(drop: int | None = None) -> bool:
        h = hm.lp_copy()
        for i in range(hm.num_rows):
            if i not in conflict.rows or i == drop:
                h.changeRowBounds(i, -inf, inf)
        for j, v in enumerate(hm.columns):
            lo, hi = v.bounds
            which = kept.get(j)
            h.changeColBounds(j, lo if which in ("lower", "both") and lo is not None else -inf,
                              hi if which in ("upper", "both") and hi is not None else inf)
        h.run()
        return h.getModelStatus() == highspy.HighsModelStatus.kOptimal

    assert not feasible()
    for i in conflict.rows:
        assert feasible(drop=i)


def test_new_rows_and_unplaced_graduates_in_words(make_doc, write_instance):
    """Sentences for rows that rarely meet in one conflict: growth measured from
    committed entrants and across a year with no intake, a unit above its posts,
    graduates that may be unplaced, unplaced graduates that cannot be negative."""
    doc = make_doc(years=3, groups={"nurse": 0.1},
                   workforce=[{"unit": "u1", "group": "nurse", "fte": 100, "posts": 80}],
                   training=[course(committed={2020: 5}, max_increase=10, max_decrease=4,
                                    intake_years=[2021, 2023])])
    d = model_data(load_instance(write_instance(doc)))
    words = Words(d)
    assert words.row("intake_increase", ("course", 2021)) == (
        "Training 'course' may start at most 10 more places in 2021 than the 5 committed "
        "entrants of 2020 (max_increase).")
    assert words.row("intake_decrease", ("course", 2022)) == (
        "Training 'course' may start at most 4 fewer places in 2022 than in 2021 "
        "(max_decrease); 2022 is not one of its intake years (0 places).")
    assert words.row("intake_increase", ("course", 2023)) == (
        "Training 'course' may start at most 10 more places in 2023 than in 2022 (0 places) "
        "(max_increase).")
    # Natural path 100 → 90 → 81: above the 80 posts in 2021 and 2022, not in 2023 (72.9).
    assert words.row("posts_cap", ("u1", "nurse", 2021)) == (
        "nurse in post at u1 at the end of 2021 may not exceed 90, the staff it keeps with no "
        "lever (above its 80 funded posts).")
    assert words.row("posts_cap", ("u1", "nurse", 2023)) == (
        "nurse in post at u1 at the end of 2023 may not exceed its 80 funded posts.")
    assert words.row("graduates_join", ("course", 2021)) == (
        "Graduates of training 'course' joining in 2021 are all of the 5 committed entrants "
        "who started in 2020 = 5 FTE, placed in any unit or, without a free post, unplaced.")
    assert words.nonnegative([("UP", ("course", 2021)), ("UP", ("course", 2022))]) == (
        "These cannot be negative: unplaced graduates of training 'course' (2021, 2022).")


# ---------------------------------------------------------------- the printed summary


def test_summary_prints_vacancies_and_unplaced_graduates(make_doc, write_instance):
    """four_trusts in 2021: 400 posts, 364 in post, 36 vacant (9.0%); the south
    15.0% (30 of 200), the east 6.0% (6 of 100); the north has none vacant and is
    not listed. 20 graduates unplaced. ``--json`` stays pure JSON."""
    path = write_instance(four_trusts(make_doc))
    res = CliRunner().invoke(app, ["solve", str(path)])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    start = lines.index("posts and vacancies in 2021 (units and groups with funded posts)")
    assert lines[start + 1].split() == ["posts", "staff", "vacancies", "rate"]
    assert lines[start + 2].split() == ["national", "400.0", "364.0", "36.0", "9.0%"]
    assert lines[start + 3].split() == ["south", "200.0", "170.0", "30.0", "15.0%"]
    assert lines[start + 4].split() == ["east", "100.0", "94.0", "6.0", "6.0%"]
    assert lines[start + 5] == "unplaced graduates  20.0 FTE over the plan (north_course 20.0)"
    res = CliRunner().invoke(app, ["solve", str(path), "--json"])
    assert res.exit_code == 0
    assert json.loads(res.output)["weighted_shortfall"] == approx(36)


def test_summary_without_posts_says_nothing_of_them(make_doc, write_instance):
    res = CliRunner().invoke(app, ["solve", str(write_instance(ramp_doc(make_doc)))])
    assert res.exit_code == 0, res.output
    assert "posts and vacancies" not in res.output
    assert "unplaced graduates" not in res.output
