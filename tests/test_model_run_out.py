"""Run-out years (SPEC §2.15), worked out by hand.

Every case has one unit ``u1`` whose nurses are held to their funded posts (100
unless it says otherwise), base year 2020, two plan years 2021–2022; 10% of the
nurses leave each year, so a unit at its 100 posts needs 10 new nurses a year
to keep a held target of 100. In the run-out years every lever decision equals
its 2022 value.
"""

from __future__ import annotations

import json

import pytest
from pytest import approx
from typer.testing import CliRunner

from cli import app
from optimiser import load_instance, solve_scenarios

KEEP_100 = [{"id": "keep", "groups": ["nurse"], "required": {2021: 100}, "hold": True}]
"""100 nurses from 2021, held in every later year (run-out years included)."""


def nurses(fte: float = 100, posts: float = 100) -> list[dict]:
    return [{"unit": "u1", "group": "nurse", "fte": fte, "posts": posts}]


def train_or_recruit(make_doc, run_out=None, hold=True):
    """A 2-year degree (every entrant completes, £100 a place-year; 10 entrants
    committed in 2020, who qualify in 2022) and a route at £1,000 a recruit."""
    doc = make_doc(years=2, groups={"nurse": 0.1}, workforce=nurses(),
                   training=[{"id": "degree", "group": "nurse", "duration": 2,
                              "completion_rate": 1.0, "cost_per_place_year": 100,
                              "committed": {2020: 10}}],
                   international=[{"id": "abroad", "group": "nurse", "cost_per_recruit": 1000,
                                   "max_per_year": 100}],
                   targets=[{**KEEP_100[0], "hold": hold}])
    if run_out is not None:
        doc["horizon"]["run_out"] = run_out
    return doc


def column(plan, table: str, name: str, **keys) -> list[float]:
    return [float(x) for x in plan.rows(table, **keys).sort_values("year")[name]]


def test_a_held_target_in_the_run_out_makes_the_plan_train(make_doc, solve_doc):
    """auto: R = 2 (the degree's duration), model years 2021–2024.

    2021: 90 remain, nothing qualifies (no 2019 entrants): recruit I21 = 10.
    2022: 90 remain + the 10 committed graduates = 100: I22 = 0.
    2023: 90 + N21 = 100 → N21 = 10 (a recruit held from 2022 would cost
    £1,000 in 2022, 2023 and 2024 and overfill 2022's posts).
    2024: 90 + N22 = 100 → N22 = 10, held: N23 = N24 = 10, I23 = I24 = I22 = 0.
    Cost by year: 2021 £100·10 + £10,000 = 11,000; 2022 £100·(10 + 10) = 2,000;
    2023 and 2024 £100·(10 + 10) = 2,000 each (the held places are costed).
    W = 0; C = 17,000 = 13,000 in the plan years + 4,000 in the run-out.
    Without the run-out the degree's places qualify after the plan and count for
    nothing: N = 0, C = 10,000 (the next test).
    """
    plan = solve_doc(train_or_recruit(make_doc))
    assert plan.status == "optimal"
    assert plan.shortfall == approx(0.0, abs=1e-6)
    assert plan.cost == approx(17_000, abs=1e-4)
    assert column(plan, "training", "places") == [10, 10, 10, 10]
    assert column(plan, "training", "run_out") == [False, False, True, True]
    assert column(plan, "international", "recruits") == approx([10, 0, 0, 0], abs=1e-6)
    assert column(plan, "training", "cost") == approx([1_000, 2_000, 2_000, 2_000])
    assert column(plan, "targets", "required") == [100, 100, 100, 100]
    assert column(plan, "workforce", "fte", year=2024) == approx([100], abs=1e-6)
    summary = plan.result.summary()
    assert summary["run_out"] == {
        "years": 2, "why": "auto: the longest training duration (degree, 2 years)"}
    assert summary["run_out_years"] == [2023, 2024]
    assert summary["weighted_shortfall_plan"] == approx(0.0, abs=1e-6)
    assert summary["weighted_shortfall_run_out"] == approx(0.0, abs=1e-6)
    assert summary["total_cost_plan"] == approx(13_000, abs=1e-4)
    assert summary["total_cost_run_out"] == approx(4_000, abs=1e-4)


@pytest.mark.parametrize(("run_out", "hold"), [(0, True), ("auto", False)])
def test_without_run_out_years_the_plan_is_todays(make_doc, solve_doc, run_out, hold):
    """``run_out: 0``, or ``auto`` without a held target: the plain horizon. The
    degree's places would qualify in 2023 or later, after the plan: none; the
    route fills 2021 (I21 = 10), the committed graduates 2022. W = 0, C = 10,000.
    The tables are today's: no run-out rows, no ``run_out`` column. (Without
    hold, 2022 has no target; its 100 nurses are what the plan gives.)"""
    plan = solve_doc(train_or_recruit(make_doc, run_out=run_out, hold=hold))
    assert plan.status == "optimal"
    assert plan.shortfall == approx(0.0, abs=1e-6)
    assert plan.cost == approx(10_000, abs=1e-4)
    assert column(plan, "training", "places") == [0, 0]
    assert column(plan, "international", "recruits") == approx([10, 0], abs=1e-6)
    assert all("run_out" not in frame for frame in plan.result.tables.values())
    summary = plan.result.summary()
    assert summary["run_out"]["years"] == 0
    assert summary["run_out_years"] == []
    assert summary["total_cost_plan"] == approx(10_000, abs=1e-4)
    assert summary["total_cost_run_out"] == 0


def test_auto_takes_the_longest_training_duration(make_doc, write_instance):
    """Two programmes of 2 and 3 years and a held target: R = 3, named."""
    doc = train_or_recruit(make_doc)
    doc["training"].append({"id": "doctorate", "group": "nurse", "duration": 3,
                            "completion_rate": 1.0, "cost_per_place_year": 100})
    inst = load_instance(write_instance(doc))
    assert inst.run_out() == (3, "auto: the longest training duration (doctorate, 3 years)")
    assert inst.run_out_years == [2023, 2024, 2025]


def test_decisions_are_held_at_their_last_plan_year_value(make_doc, solve_doc):
    """190 posts and a target of 190 held (200 nurses in 2020, above the posts):
    a one-year course (£100 a place, at most 15 a year, 4 committed in 2020) and
    the route (£1,000); ``run_out: 2`` (given: auto would be 1).

    2021: 180 remain + 4 graduates: I21 = 6.  Every later year: 171 remain, 19
    needed = N[y−1] + I[y]; the course is cheaper, so N = 15 and I = 4 from
    2022, and in the run-out I23 = I24 = I22 = 4 (not 2021's 6) and
    N23 = N24 = N22 = 15 (N24 qualifies in 2025, after the model, and is paid).
    C = £100·15·4 + £1,000·(6 + 4 + 4 + 4) = 6,000 + 18,000 = 24,000:
    13,000 in the plan years, 11,000 in the run-out; W = 0.
    """
    doc = make_doc(years=2, groups={"nurse": 0.1}, workforce=nurses(200, 190),
                   training=[{"id": "course", "group": "nurse", "duration": 1,
                              "completion_rate": 1.0, "cost_per_place_year": 100,
                              "max_places_per_year": 15, "committed": {2020: 4}}],
                   international=[{"id": "abroad", "group": "nurse", "cost_per_recruit": 1000,
                                   "max_per_year": 100}],
                   targets=[{**KEEP_100[0], "required": {2021: 190}}])
    doc["horizon"]["run_out"] = 2
    plan = solve_doc(doc)
    assert plan.status == "optimal"
    assert plan.shortfall == approx(0.0, abs=1e-6)
    assert plan.cost == approx(24_000, abs=1e-4)
    assert column(plan, "international", "recruits") == approx([6, 4, 4, 4], abs=1e-6)
    assert column(plan, "training", "places") == [15, 15, 15, 15]
    summary = plan.result.summary()
    assert summary["run_out"] == {"years": 2, "why": "given in horizon.run_out"}
    assert summary["total_cost_plan"] == approx(13_000, abs=1e-4)
    assert summary["total_cost_run_out"] == approx(11_000, abs=1e-4)


def test_a_per_year_budget_binds_in_plan_years_only(make_doc, solve_doc):
    """The degree takes entrants in 2022 only (intake years [2022], so held in the
    run-out), 10 committed in 2019 and in 2020 keep 2021 and 2022 at 100; no
    route. A pot of £1,000 a year: 2022 pays N22's first year, £100·N22 ≤ 1,000
    → N22 = 10 (binding; 19 would be needed). In 2023 nothing qualifies (no 2021
    intake): 90 nurses, shortfall 10. In 2024 N22's 10 qualify: 0.9·90 + 10 = 91,
    shortfall 9. The run-out pays two cohorts a year, £2,000 > £1,000, because
    ``per_year`` binds in plan years only (with it there, N22 would be 5).
    W = 19, all in the run-out; C = 1,000 + 2·2,000 = 5,000.
    """
    doc = train_or_recruit(make_doc)
    del doc["international"]
    doc["training"][0].update(committed={2019: 10, 2020: 10}, intake_years=[2022])
    doc["budgets"] = [{"id": "main", "per_year": 1000}]
    plan = solve_doc(doc)
    assert plan.status == "optimal"
    assert plan.shortfall == approx(19.0, abs=1e-6)
    assert plan.cost == approx(5_000, abs=1e-4)
    assert column(plan, "training", "places") == [0, 10, 10, 10]
    assert column(plan, "targets", "shortfall") == approx([0, 0, 10, 9], abs=1e-6)
    budget = plan.table("budget")
    years = budget[budget["year"] != "total"]
    assert [float(x) for x in years["spent"]] == approx([0, 1_000, 2_000, 2_000])
    assert list(years["limit"].fillna(-1)) == [1000, 1000, -1, -1]
    summary = plan.result.summary()
    assert summary["weighted_shortfall_plan"] == approx(0.0, abs=1e-6)
    assert summary["weighted_shortfall_run_out"] == approx(19.0, abs=1e-6)


def test_a_campaign_pool_counts_plan_and_run_out_years(make_doc, solve_doc):
    """A campaign at £500 a returner (up to 20 a year), pool 34; ``run_out: 2``.
    Returners RTP22 are held in 2023 and 2024, so they draw on the pool three
    times. One returner of 2021 adds 1 + 0.9 + 0.81 + 0.729 = 3.439 FTE-years
    per pool place, one of 2022 (held) 1 + 1.9 + 2.71 = 5.61 per 3 = 1.87: 2021
    first, up to its posts (RTP21 = 10), then RTP22 = (34 − 10) / 3 = 8.
    Staff 100, 98, 0.9·98 + 8 = 96.2, 0.9·96.2 + 8 = 94.58: W = 2 + 3.8 + 5.42
    = 11.22 (2 in the plan years); C = £500·34 = 17,000. A pool counted over the
    plan years only would have let RTP22 = 10 and W = 0.
    """
    doc = make_doc(years=2, groups={"nurse": 0.1}, workforce=nurses(),
                   return_to_practice=[{"id": "back", "group": "nurse", "pool": 34,
                                        "response": [[0, 0], [10_000, 20]]}],
                   targets=KEEP_100)
    doc["horizon"]["run_out"] = 2
    plan = solve_doc(doc)
    assert plan.status == "optimal"
    assert plan.shortfall == approx(11.22, abs=1e-6)
    assert plan.cost == approx(17_000, abs=1e-4)
    assert column(plan, "return_to_practice", "returners") == approx([10, 8, 8, 8], abs=1e-6)
    assert column(plan, "return_to_practice", "spend") == approx([5_000, 4_000, 4_000, 4_000])
    summary = plan.result.summary()
    assert summary["weighted_shortfall_plan"] == approx(2.0, abs=1e-6)
    assert summary["weighted_shortfall_run_out"] == approx(9.22, abs=1e-6)


def test_every_scenario_runs_the_same_run_out(make_doc, write_instance):
    """The first case under two scenarios (p 0.5 each, 2021 here and now):
    ``dear`` doubles the route's cost. Neither changes the plan (2021 must recruit
    10 either way; training stays cheaper): each scenario trains 10 a year,
    held in 2023–2024. C: 17,000 and 7,000 + 20,000 = 27,000, expected 22,000:
    plan years 13,000 and 23,000 (expected 18,000), run-out 4,000 in each."""
    doc = train_or_recruit(make_doc)
    doc["scenarios"] = {"list": [
        {"id": "central", "probability": 0.5},
        {"id": "dear", "probability": 0.5,
         "scale": {"international.abroad.cost_per_recruit": 2}}]}
    result = solve_scenarios(load_instance(write_instance(doc)))
    assert result.status == "optimal"
    assert result.weighted_shortfall == approx(0.0, abs=1e-6)
    assert result.total_cost == approx(22_000, abs=1e-4)
    tr = result.tables["training"]
    assert list(tr.columns[:5]) == ["scenario", "programme", "group", "year", "run_out"]
    for s in ("central", "dear"):
        rows = tr[tr["scenario"] == s].sort_values("year")
        assert list(rows["year"]) == [2021, 2022, 2023, 2024]
        assert [float(x) for x in rows["places"]] == [10, 10, 10, 10]
    summary = result.summary()
    assert summary["run_out_years"] == [2023, 2024]
    assert summary["total_cost_plan"] == approx(18_000, abs=1e-4)
    assert summary["total_cost_run_out"] == approx(4_000, abs=1e-4)


@pytest.mark.parametrize(("value", "shown"), [("-1", "-1"), ("1.5", "1.5"), ("soon", "'soon'")])
def test_a_bad_run_out_is_a_located_error(make_doc, write_instance, value, shown):
    doc = train_or_recruit(make_doc)
    doc["horizon"]["run_out"] = json.loads(value) if value != "soon" else value
    res = CliRunner().invoke(app, ["validate", str(write_instance(doc))])
    assert res.exit_code == 2
    assert (f"horizon.run_out | must be a whole number of years from 0 to 60 or 'auto', "
            f"got {shown}") in res.output
    assert "Traceback" not in res.output


def test_set_run_out_zero_restores_the_plain_horizon(make_doc, write_instance, tmp_path):
    """``--set horizon.run_out=0`` on the first case: today's C = 10,000, and the
    files have no run-out rows; without it, C = 17,000 and the rows are marked."""
    path = str(write_instance(train_or_recruit(make_doc)))
    res = CliRunner().invoke(app, ["solve", path, "--out", str(tmp_path / "plain"),
                                   "--set", "horizon.run_out=0"])
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "plain" / "summary.json").read_text())
    assert summary["total_cost"] == approx(10_000, abs=1e-4)
    assert (tmp_path / "plain" / "training.csv").read_text().splitlines()[0] == (
        "programme,group,year,places,cohort_runs,graduates,unplaced,cost")
    res = CliRunner().invoke(app, ["solve", path, "--out", str(tmp_path / "run_out")])
    assert res.exit_code == 0, res.output
    assert "of which run-out  W 0.00 FTE, C £4,000 in 2023–2024" in res.output
    lines = (tmp_path / "run_out" / "training.csv").read_text().splitlines()
    assert lines[0] == "programme,group,year,run_out,places,cohort_runs,graduates,unplaced,cost"
    assert lines[3].startswith("degree,nurse,2023,true,10,")


def test_report_and_compare_keep_the_run_out_apart(make_doc, write_instance, tmp_path):
    """The first case solved with and without its run-out: the report labels
    2023–2024 as run-out years and shows the plan's £13,000 and the run-out's
    £4,000 apart; ``wfopt compare`` compares the two over their plan years,
    labels the run-out rows (blank in the plan without them) and says its spend
    totals include the run-out."""
    path = str(write_instance(train_or_recruit(make_doc)))
    runner = CliRunner()
    for name, extra in (("plain", ["--set", "horizon.run_out=0"]), ("run_out", [])):
        res = runner.invoke(app, ["solve", path, "--out", str(tmp_path / name), *extra])
        assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["report", str(tmp_path / "run_out"), "-o",
                              str(tmp_path / "report.html")])
    assert res.exit_code == 0, res.output
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "2024 (run-out)" in page and "run-out total" in page
    assert "Run-out 2023–2024" in page and "£13,000" in page and "£4,000" in page
    res = runner.invoke(app, ["compare", str(tmp_path / "plain"), str(tmp_path / "run_out")])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert any(line.split() == ["2023", "(run-out)", "-", "0.0"] for line in lines), res.output
    assert any(line.split()[:5] == ["of", "which", "run-out", "years", "£0"]
               and line.split()[5:] == ["£4,000", "+£4,000"] for line in lines), res.output
    assert "spend by lever, all years, run-out included" in res.output
    assert "staff in post by region, end of 2022 (FTE)" in res.output
