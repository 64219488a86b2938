"""Placement (SPEC §2.14): where new staff go follows fixed shares, worked out by hand.

Every instance here has leaver rates and posts chosen so that the shares are
round numbers: ``need`` weighs a unit by ``max(0, posts − n)``, n its natural
path (no lever), so a unit with 100 staff, no leavers and 110 posts weighs 10.
Each test also says what a ``free`` placement would do, and where that differs
the test solves it too, so that it fails if the shares are not applied.
"""

from __future__ import annotations

import json

import pytest
from pytest import approx
from typer.testing import CliRunner

from cli import app
from formulations import build_model, model_data
from optimiser import load_instance, solve_scenarios


def intl(**extra):
    return {"id": "abroad", "group": "nurse", "cost_per_recruit": 1000, "max_per_year": 1000,
            **extra}


def flow(plan, column, unit, year, group="nurse"):
    return plan.value("workforce", column, unit=unit, group=group, year=year)


# ----------------------------------------------------------------- need, graduates

def retention_fills(make_doc, placement):
    """Two trusts of one region, two plan years (2021, 2022).

    u1: 100 nurses, 20% leave a year, 100 posts; natural path 80, 64.
    u2: 100 nurses, 10% leave, 120 posts; natural path 90, 81.
    A one-year course (intake 2021 only, £1,000 a place) graduates N in 2022.
    A retention scheme for u1 only keeps one leaver per £100 (response 1,000 FTE
    per £100,000 per 1,000 baseline FTE; u1 has 100: at most £10,000), at most
    all of its leavers. Targets: u1 holds 100 in 2021 (only retention can do it:
    20 retained, £2,000), and the region holds 220 in 2022 (every post).
    """
    return make_doc(
        years=2, groups={"nurse": 0.0}, units={"u1": "r1", "u2": "r1"},
        workforce=[{"unit": "u1", "group": "nurse", "fte": 100, "leaver_rate": 0.2,
                    "posts": 100},
                   {"unit": "u2", "group": "nurse", "fte": 100, "leaver_rate": 0.1,
                    "posts": 120}],
        placement=placement,
        training=[{"id": "course", "group": "nurse", "duration": 1, "completion_rate": 1,
                   "cost_per_place_year": 1000, "intake_years": [2021]}],
        retention=[{"id": "keep", "eligible": ["u1"], "max_retained_share": 1,
                    "response": [[0, 0], [100000, 1000]]}],
        targets=[{"id": "u1_2021", "unit": "u1", "groups": ["nurse"], "required": {2021: 100}},
                 {"id": "region", "region": "r1", "groups": ["nurse"],
                  "required": {2022: 220}}])


def test_need_leaves_a_full_units_share_unplaced_where_free_moves_it(make_doc, solve_doc):
    """``need`` in 2022: u1 weighs 100 − 64 = 36, u2 120 − 81 = 39, shares 0.48 and
    0.52. u2 must gain 39 (81 → 120), so N ≥ 39 / 0.52 = 75 places. u1 is full at
    100 after 2021's retention; 80 survive to 2022 and its share of graduates is
    0.48·75 = 36: 20 fill it for free (cheaper than retaining at £100 each) and 16
    are unplaced. W = 0, C = 75·£1,000 + £2,000 = £77,000.

    ``free``: all 39 graduates go to u2 (N = 39), and u1 retains its 20 leavers of
    2022 too (£2,000): C = £39,000 + £4,000 = £43,000, none unplaced."""
    need = solve_doc(retention_fills(make_doc, "need"))
    assert need.status == "optimal"
    assert need.shortfall == approx(0, abs=1e-6)
    assert need.cost == approx(77_000, rel=1e-6)
    assert need.value("training", "places", programme="course", year=2021) == 75
    assert need.value("training", "unplaced", programme="course", year=2022) == approx(16)
    assert flow(need, "graduates", "u1", 2022) == approx(20)
    assert flow(need, "graduates", "u2", 2022) == approx(39)
    assert flow(need, "retained", "u1", 2021) == approx(20)
    assert flow(need, "retained", "u1", 2022) == approx(0, abs=1e-6)

    free = solve_doc(retention_fills(make_doc, "free"))
    assert free.shortfall == approx(0, abs=1e-6)
    assert free.cost == approx(43_000, rel=1e-6)
    assert free.value("training", "places", programme="course", year=2021) == 39
    assert flow(free, "graduates", "u1", 2022) == approx(0, abs=1e-6)
    assert flow(free, "retained", "u1", 2022) == approx(20)


def test_unplaced_graduates_are_explained_by_the_shares(make_doc, solve_doc):
    """The plan above with 130 posts at u2 (2022 need 49, u1's 36: shares 36/85 and
    49/85), the region asking for all 230 and at most 70 places: u2 gains
    70·49/85 = 40.35 and keeps room, u1's share 70·36/85 = 29.65 meets 20 places
    of room, so 9.65 are unplaced and W = 230 − 100 − 81 − 40.35 = 8.65. Why the
    shortfall remains says the shares sent them to a full unit while u2 had room."""
    doc = retention_fills(make_doc, "need")
    doc["workforce"][1]["posts"] = 130
    doc["training"][0]["max_places_per_year"] = 70
    doc["targets"][1]["required"] = {2022: 230}
    plan = solve_doc(doc)
    assert plan.shortfall == approx(230 - 100 - 81 - 70 * 49 / 85, rel=1e-6)
    assert plan.value("training", "unplaced", programme="course", year=2022) == approx(
        70 * 36 / 85 - 20)
    said = [t for t in plan.result.explanations if "Training 'course' leaves" in t]
    assert len(said) == 1, plan.result.explanations
    assert "shares by placement (need) sent them to units with no room" in said[0]
    assert "u2 of its scope had room" in said[0]


# ----------------------------------------------------------------- fallback to staff

def test_need_falls_back_to_staff_where_units_have_no_posts(make_doc, solve_doc):
    """No posts anywhere: ``need`` and ``posts`` cannot apply, so a national route
    shares its recruits by baseline staff, u1 100 and u2 300: a quarter to u1.
    u1 must reach 120: I = 80 (20 to u1, 60 to u2), W = 0, C = £80,000. (Free, the
    20 would all go to u1: C = £20,000.)"""
    doc = make_doc(groups={"nurse": 0.0}, units={"u1": "r1", "u2": "r2"},
                   workforce=[{"unit": "u1", "group": "nurse", "fte": 100},
                              {"unit": "u2", "group": "nurse", "fte": 300}],
                   international=[intl()],
                   targets=[{"id": "t", "unit": "u1", "groups": ["nurse"],
                             "required": {2021: 120}}])
    plan = solve_doc(doc)
    assert plan.shortfall == approx(0, abs=1e-6)
    assert plan.cost == approx(80_000, rel=1e-6)
    assert flow(plan, "international", "u1", 2021) == approx(20)
    assert flow(plan, "international", "u2", 2021) == approx(60)
    said = plan.result.placement["international"]["abroad"]
    assert said["rule"] == "need"
    assert [f["to"] for f in said["fallback"]] == ["staff"]
    assert said["fallback"][0]["years"] == [2021]
    assert "no 'nurse' posts" in said["fallback"][0]["why"]

    free = solve_doc({**doc, "placement": "free"})
    assert free.cost == approx(20_000, rel=1e-6)


# ----------------------------------------------------------------- a mapping on a campaign

def campaign_doc(make_doc, placement):
    """u1 and u2: 100 nurses each, no leavers, 200 posts each (need 100 and 100).
    A campaign brings back one returner per £100 (response [[0,0],[10000,100]]);
    u1 must reach 105."""
    camp = {"id": "back", "group": "nurse", "pool": 1000,
            "response": [[0, 0], [10000, 100]]}
    if placement is not None:
        camp["placement"] = placement
    return make_doc(groups={"nurse": 0.0}, units={"u1": "r1", "u2": "r1"},
                    workforce=[{"unit": "u1", "group": "nurse", "fte": 100, "posts": 200},
                               {"unit": "u2", "group": "nurse", "fte": 100, "posts": 200}],
                    return_to_practice=[camp],
                    targets=[{"id": "t", "unit": "u1", "groups": ["nurse"],
                              "required": {2021: 105}}])


def test_a_campaigns_own_weights_share_its_returners(make_doc, solve_doc):
    """Weights {u1: 1, u2: 3}: u1 takes a quarter, so 20 returners (5 and 15) at
    £100 each, C = £2,000. By need (100 and 100) it would be 10 (£1,000); free, 5
    (£500)."""
    mapped = solve_doc(campaign_doc(make_doc, {"u1": 1, "u2": 3}))
    assert mapped.shortfall == approx(0, abs=1e-6)
    assert mapped.cost == approx(2_000, rel=1e-6)
    assert flow(mapped, "returners", "u1", 2021) == approx(5)
    assert flow(mapped, "returners", "u2", 2021) == approx(15)
    assert mapped.result.placement["return_to_practice"]["back"] == {
        "rule": "mapping", "weights": {"u1": 1.0, "u2": 3.0}}

    assert solve_doc(campaign_doc(make_doc, None)).cost == approx(1_000, rel=1e-6)
    assert solve_doc(campaign_doc(make_doc, "free")).cost == approx(500, rel=1e-6)


# ----------------------------------------------------------------- a national route

def test_a_national_route_shares_exactly_across_regions(make_doc, solve_doc):
    """Three trusts of two regions, 100 nurses each, no leavers, posts 110, 130 and
    160: need 10, 30 and 60, shares 0.1, 0.3 and 0.6. Every post filled nationally
    (400) takes I = 100: 10, 30 and 60, W = 0, C = £100,000."""
    doc = make_doc(groups={"nurse": 0.0}, units={"u1": "r1", "u2": "r1", "u3": "r2"},
                   workforce=[{"unit": u, "group": "nurse", "fte": 100, "posts": p}
                              for u, p in (("u1", 110), ("u2", 130), ("u3", 160))],
                   international=[intl()],
                   targets=[{"id": "t", "groups": ["nurse"], "required": {2021: 400}}])
    plan = solve_doc(doc)
    assert plan.shortfall == approx(0, abs=1e-6)
    assert plan.cost == approx(100_000, rel=1e-6)
    for u, n in (("u1", 10), ("u2", 30), ("u3", 60)):
        assert flow(plan, "international", u, 2021) == approx(n)
        assert flow(plan, "vacancies", u, 2021) == approx(0, abs=1e-5)


def test_a_national_route_by_posts(make_doc, solve_doc):
    """The same trusts with ``placement: posts`` at the route: shares 110/400,
    130/400, 160/400. u1 fills its 10 vacancies first, at I = 10·400/110 =
    36.36…; the national target of 400 needs more, but then u1 would exceed its
    posts, so I stays at 36.36 and W = 400 − 336.36 = 63.64."""
    doc = make_doc(groups={"nurse": 0.0}, units={"u1": "r1", "u2": "r1", "u3": "r2"},
                   workforce=[{"unit": u, "group": "nurse", "fte": 100, "posts": p}
                              for u, p in (("u1", 110), ("u2", 130), ("u3", 160))],
                   international=[intl(placement="posts")],
                   targets=[{"id": "t", "groups": ["nurse"], "required": {2021: 400}}])
    plan = solve_doc(doc)
    recruits = 10 * 400 / 110
    assert plan.shortfall == approx(400 - 300 - recruits, rel=1e-6)
    assert plan.cost == approx(1000 * recruits, rel=1e-6)
    assert flow(plan, "international", "u3", 2021) == approx(recruits * 160 / 400)


# ----------------------------------------------------------------- one unit, upskilling

def test_a_scope_of_one_unit_adds_no_share_rows(make_doc, solve_doc, write_instance):
    """A route of region r2, whose only unit is u3: no share rows; u3 takes every
    recruit it needs (30, to reach 130), C = £30,000."""
    doc = make_doc(groups={"nurse": 0.0}, units={"u1": "r1", "u2": "r1", "u3": "r2"},
                   workforce=[{"unit": u, "group": "nurse", "fte": 100, "posts": 200}
                              for u in ("u1", "u2", "u3")],
                   international=[intl(region="r2")],
                   targets=[{"id": "t", "unit": "u3", "groups": ["nurse"],
                             "required": {2021: 130}}])
    m = build_model(model_data(load_instance(write_instance(doc))))
    assert len(m.recruits_share) == 0
    plan = solve_doc(doc)
    assert plan.cost == approx(30_000, rel=1e-6)
    assert flow(plan, "international", "u3", 2021) == approx(30)


def test_an_upskilling_programme_is_placed_by_the_group_it_joins(make_doc, solve_doc):
    """Healthcare assistants (50 in each trust) upskill into nurses: 40 committed
    entrants qualify in 2021. Nurse need: u1 110 − 100 = 10, u2 150 − 100 = 50,
    shares 1/6 and 5/6: u1 takes 6.67 and u2 33.33, each leaving its own
    assistants. The national nurse target (240) is met, W = 0, C = 0. (Free, or
    shared by posts, 110:150, u1 would take 16.9.)"""
    doc = make_doc(groups={"nurse": 0.0, "hca": 0.0}, units={"u1": "r1", "u2": "r1"},
                   workforce=[{"unit": "u1", "group": "nurse", "fte": 100, "posts": 110},
                              {"unit": "u2", "group": "nurse", "fte": 100, "posts": 150},
                              {"unit": "u1", "group": "hca", "fte": 50},
                              {"unit": "u2", "group": "hca", "fte": 50}],
                   training=[{"id": "upskill", "group": "nurse", "from_group": "hca",
                              "duration": 1, "completion_rate": 1,
                              "committed": {2020: 40}, "intake_years": []}],
                   targets=[{"id": "t", "groups": ["nurse"], "required": {2021: 240}}])
    plan = solve_doc(doc)
    assert plan.shortfall == approx(0, abs=1e-6)
    assert plan.cost == approx(0, abs=1e-6)
    assert flow(plan, "graduates", "u1", 2021) == approx(40 / 6)
    assert flow(plan, "graduates", "u2", 2021) == approx(200 / 6)
    assert flow(plan, "fte", "u1", 2021, group="hca") == approx(50 - 40 / 6)
    assert flow(plan, "fte", "u2", 2021, group="hca") == approx(50 - 200 / 6)


# ----------------------------------------------------------------- scenarios

def test_shares_follow_each_scenarios_posts(make_doc, write_instance):
    """u1 and u2: 100 nurses, no leavers. Central (p 0.5): posts 110 and 130, need
    shares 0.25 and 0.75; ``more_posts`` (p 0.5): u1 has 130 posts, shares 0.5 and
    0.5. u2 must reach 130. The recruits I of 2021 are decided now, for both: in
    central u1's 10 vacancies bound I ≤ 40 (u2 then gains 30); in more_posts I = 40
    gives u2 20, W = 10. ρ = 0.5·0 + 0.5·10 = 5, C = £40,000 in both."""
    doc = make_doc(groups={"nurse": 0.0}, units={"u1": "r1", "u2": "r1"},
                   workforce=[{"unit": "u1", "group": "nurse", "fte": 100, "posts": 110},
                              {"unit": "u2", "group": "nurse", "fte": 100, "posts": 130}],
                   international=[intl()],
                   targets=[{"id": "t", "unit": "u2", "groups": ["nurse"],
                             "required": {2021: 130}}])
    doc["scenarios"] = {"list": [
        {"id": "central", "probability": 0.5},
        {"id": "more_posts", "probability": 0.5,
         "set": {"workforce.u1/nurse.posts": 130}}]}
    result = solve_scenarios(load_instance(write_instance(doc)))
    assert result.weighted_shortfall == approx(5, rel=1e-6)
    assert result.total_cost == approx(40_000, rel=1e-6)
    wf = result.tables["workforce"]

    def got(scenario, unit):
        row = wf[(wf["scenario"] == scenario) & (wf["unit"] == unit) & (wf["year"] == 2021)]
        return float(row["international"].iloc[0])

    assert got("central", "u1") == approx(10)
    assert got("central", "u2") == approx(30)
    assert got("more_posts", "u1") == approx(20)
    assert got("more_posts", "u2") == approx(20)


# ----------------------------------------------------------------- input and output

def test_placement_from_the_command_line_and_csv(make_doc, write_instance, tmp_path):
    """``--set placement=free`` and a CSV cell ``u1:1;u2:3`` reach the model: the
    campaign above solves to £500 free and £2,000 with the weights from its CSV."""
    doc = campaign_doc(make_doc, None)
    path = write_instance(doc)
    out = tmp_path / "free"
    res = CliRunner().invoke(app, ["solve", str(path), "--out", str(out), "--set",
                                   "placement=free"])
    assert res.exit_code == 0, res.output
    assert json.loads((out / "summary.json").read_text())["total_cost"] == approx(500)

    camp = doc.pop("return_to_practice")[0]
    (path.parent / "campaigns.csv").write_text(
        "id,group,pool,response,placement\n"
        f"{camp['id']},nurse,1000,0:0;10000:100,u1:1;u2:3\n", encoding="utf-8")
    doc["return_to_practice"] = "campaigns.csv"
    from tests.conftest import write_doc

    csv_path = write_doc(doc, path.parent)
    out2 = tmp_path / "mapped"
    res = CliRunner().invoke(app, ["solve", str(csv_path), "--out", str(out2)])
    assert res.exit_code == 0, res.output
    summary = json.loads((out2 / "summary.json").read_text())
    assert summary["total_cost"] == approx(2_000)
    assert summary["placement"]["return_to_practice"]["back"]["rule"] == "mapping"


@pytest.mark.parametrize(("placement", "message"), [
    ({"u1": 1, "u9": 2}, "return_to_practice[back].placement.u9 | unknown unit 'u9'"),
    ({"u1": 0, "u2": 0}, "return_to_practice[back].placement | every weight is 0"),
    ({"u1": -1, "u2": 1}, "return_to_practice[back].placement.u1 | must be ≥ 0, got -1"),
    ("sideways", "return_to_practice[back].placement | must be one of 'need', 'posts', "
                 "'staff' or 'free', or weights {unit: weight}, got 'sideways'"),
])
def test_bad_placements_are_located(make_doc, write_instance, placement, message):
    path = write_instance(campaign_doc(make_doc, placement))
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert res.exit_code == 2
    assert message in res.output, res.output


def test_a_weight_outside_the_levers_region_is_refused(make_doc, write_instance):
    doc = campaign_doc(make_doc, {"u1": 1, "u3": 1})
    doc["units"].append({"id": "u3", "region": "r2"})
    doc["return_to_practice"][0]["region"] = "r1"
    res = CliRunner().invoke(app, ["validate", str(write_instance(doc))])
    assert res.exit_code == 2
    assert ("return_to_practice[back].placement.u3 | unit 'u3' is in region 'r2', outside "
            "the scope of return_to_practice 'back' (region 'r1')") in res.output, res.output
