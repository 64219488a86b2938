"""Scenarios (SPEC §2.13): the extensive form, the risk measures and what knowing
the future is worth, worked out by hand.

One unit with 100 nurses, base year 2020, two plan years; 100 nurses required
in 2022. A one-year course (intake 2021 only, graduates in 2022, £10 a place)
and an expensive route (£1,000 a recruit, at most 20 a year). Here and now:
2021's places and recruits. Scenario ``central`` (p 0.5): 10% leave a year, so
81 of the 100 remain in 2022 and 19 are needed; ``high`` (p 0.5): 30% leave, 49
remain, 51 needed. With N places and recruits I21 (kept at 1 − λ) and I22:
supply in 2022 = N + (1 − λ)·I21 + I22.
"""

from __future__ import annotations

import json

import pytest
from pytest import approx
from typer.testing import CliRunner

from cli import app
from optimiser import InputError, load_instance, solve, solve_scenarios
from optimiser.engine.scenarios import risk_measure, scenario_set


def hedge(make_doc, *, places=40, route=20, risk="expected", alpha=None, extra=(),
          budgets=None):
    doc = make_doc(years=2, groups={"nurse": 0.1},
                   training=[{"id": "course", "group": "nurse", "duration": 1,
                              "completion_rate": 1, "cost_per_place_year": 10,
                              "max_places_per_year": places, "integer_places": False,
                              "intake_years": [2021]}],
                   international=[{"id": "abroad", "group": "nurse", "cost_per_recruit": 1000,
                                   "max_per_year": route}],
                   targets=[{"id": "keep", "groups": ["nurse"], "required": {2022: 100}}])
    if budgets:
        doc["budgets"] = budgets
    doc["scenarios"] = {"here_and_now_years": 1, "risk": risk,
                        "list": [{"id": "central", "probability": 0.5},
                                 {"id": "high", "probability": 0.5,
                                  "scale": {"staff_groups.nurse.leaver_rate": 3}},
                                 *extra]}
    if alpha is not None:
        doc["scenarios"]["cvar_alpha"] = alpha
    return doc


def stochastic(write_instance, doc):
    return solve_scenarios(load_instance(write_instance(doc)))


def places_2021(result, scenario):
    t = result.tables["training"]
    return float(t[(t["scenario"] == scenario) & (t["year"] == 2021)]["places"].iloc[0])


def test_hedging_changes_the_first_year_decision(make_doc, write_instance):
    """Both scenarios can reach W = 0 (high: 40 + 0.7·20 + 20 ≥ 51), so RP = WS = 0.
    The cheapest plan that keeps both at 0 trains all 40 places now (£400) and
    buys 11 recruits in 2022 in ``high`` only: expected C = 400 + 0.5·11,000 =
    £5,900. The central scenario alone trains just 19 (£190): fixed at that,
    ``high`` reaches at most 19 + 20 = 39 of 51, W = 12, so EEV = 0.5·12 = 6,
    VSS = 6, EVPI = 0."""
    r = stochastic(write_instance, hedge(make_doc))
    assert r.status == "optimal"
    assert r.weighted_shortfall == approx(0, abs=1e-6)
    assert r.total_cost == approx(5900, abs=1e-3)
    assert places_2021(r, "central") == places_2021(r, "high") == approx(40, abs=1e-6)
    alone = solve(load_instance(write_instance(hedge(make_doc))))  # scenarios ignored
    assert alone.tables["training"].query("year == 2021")["places"].iloc[0] == approx(19)
    assert any("scenarios were not used" in m for m in alone.messages)
    st = r.stochastic
    assert (st["RP"], st["WS"], st["EEV"], st["EVPI"], st["VSS"]) == approx(
        (0, 0, 6, 0, 6), abs=1e-6)
    assert st["EEV_by_scenario"] == approx({"central": 0, "high": 12}, abs=1e-6)
    per = {s["id"]: s for s in r.scenarios["list"]}
    assert per["central"]["total_cost"] == approx(400, abs=1e-3)
    assert per["high"]["total_cost"] == approx(11400, abs=1e-3)
    rec = r.tables["international"]
    assert rec[(rec["scenario"] == "high") & (rec["year"] == 2022)]["recruits"].iloc[0] == \
        approx(11, abs=1e-6)


def limited(make_doc, **kw):
    """At most 25 places and 10 recruits a year: ``high`` can reach 25 + 7 + 10 =
    42 of 51 (W ≥ 9); ``central`` needs 19 and gets them."""
    return hedge(make_doc, places=25, route=10, **kw)


def test_expected_worst_case_and_cvar(make_doc, write_instance):
    """Expected: ρ = 0.5·9 = 4.5 (central 0). Worst case: ρ = 9, and the stage on
    the expected shortfall keeps central at 0. CVaR at α = 0.5 of {0, 9}: the mean
    of the worst half, 9. WS: 4.5 / 9 / 9 (EVPI 0). EEV: central alone trains 19
    and recruits none now; then high reaches 19 + 10 = 29, W = 22: EEV 11 (VSS
    6.5) for expected, 22 (VSS 13) for worst case and CVaR."""
    expected = stochastic(write_instance, limited(make_doc))
    assert expected.weighted_shortfall == approx(4.5, abs=1e-6)
    assert expected.stochastic["EEV"] == approx(11, abs=1e-6)
    assert expected.stochastic["VSS"] == approx(6.5, abs=1e-6)
    assert expected.stochastic["EVPI"] == approx(0, abs=1e-6)
    for risk, alpha in (("worst_case", None), ("cvar", 0.5)):
        r = stochastic(write_instance, limited(make_doc, risk=risk, alpha=alpha))
        assert r.weighted_shortfall == approx(9, abs=1e-6), risk
        per = {s["id"]: s["weighted_shortfall"] for s in r.scenarios["list"]}
        assert per == approx({"central": 0, "high": 9}, abs=1e-6), risk
        assert "expected_shortfall" in [s["stage"] for s in r.stages]
        assert (r.stochastic["WS"], r.stochastic["EEV"], r.stochastic["VSS"]) == approx(
            (9, 22, 13), abs=1e-6), risk


def test_risk_measures_of_a_distribution():
    assert risk_measure([0, 9], [0.5, 0.5], "expected", None) == 4.5
    assert risk_measure([0, 9], [0.5, 0.5], "worst_case", None) == 9
    assert risk_measure([0, 10, 20], [0.5, 0.3, 0.2], "cvar", 0.7) == approx(
        (0.1 * 10 + 0.2 * 20) / 0.3)


def test_a_budget_scenario_and_one_infeasible_under_the_reference_plan(make_doc,
                                                                       write_instance):
    """A third scenario, ``cut`` (p 0.25; the others 0.375 each), limits 2021's
    spend to £100. The central scenario alone spends £190 on places in 2021: its
    decisions do not fit ``cut``, so EEV and VSS are null and ``cut`` is named.
    The stochastic plan keeps 2021 within £100 in every scenario (non-anticipativity):
    10 places now."""
    doc = hedge(make_doc, budgets=[{"id": "main", "per_year": 1e9}],
                extra=[{"id": "cut", "probability": 0.25,
                        "set": {"budgets.main.per_year": {2021: 100, 2022: 1e9}}}])
    doc["scenarios"]["list"][0]["probability"] = 0.375
    doc["scenarios"]["list"][1]["probability"] = 0.375
    r = stochastic(write_instance, doc)
    assert r.status == "optimal"
    assert [places_2021(r, s) for s in ("central", "high", "cut")] == approx([10, 10, 10])
    assert r.stochastic["EEV"] is None and r.stochastic["VSS"] is None
    assert r.stochastic["EEV_infeasible"] == ["cut"]


def test_one_scenario_is_the_deterministic_plan(make_doc, write_instance):
    doc = hedge(make_doc)
    doc["scenarios"]["list"] = [{"id": "only", "probability": 1.0,
                                 "scale": {"staff_groups.nurse.leaver_rate": 3}}]
    r = stochastic(write_instance, doc)
    det = hedge(make_doc)
    det.pop("scenarios")
    det["staff_groups"][0]["leaver_rate"] = 0.3
    plan = solve(load_instance(write_instance(det)))
    assert r.weighted_shortfall == approx(plan.weighted_shortfall, abs=1e-6)
    assert r.total_cost == approx(plan.total_cost, abs=1e-3)


def test_bad_scenarios_are_located(make_doc, write_instance):
    doc = hedge(make_doc)
    doc["scenarios"]["list"] = [
        {"id": "a", "probability": 0.5, "scale": {"staff_groups.nruse.leaver_rate": 2}},
        {"id": "a", "probability": 0.4, "set": {"training.course.name": "Course"}}]
    with pytest.raises(InputError) as info:
        scenario_set(load_instance(write_instance(doc)))
    got = [str(p) for p in info.value.problems]
    assert "scenarios.list[a].id | duplicate scenario id 'a'" in got
    assert "scenarios.list | probabilities sum to 0.9, not 1" in got
    assert any(g.startswith("scenarios.list[a].scale.staff_groups.nruse.leaver_rate | no item "
                            "'nruse'") for g in got), got
    assert ("scenarios.list[a].set.training.course.name | a scenario changes numbers "
            "only, got 'Course'") in got


def test_cli_scenarios_file_one_scenario_and_none(make_doc, write_instance, tmp_path):
    doc = hedge(make_doc)
    scenarios = doc.pop("scenarios")
    path = write_instance(doc)
    (tmp_path / "futures.csv").write_text(
        "id,probability,op,key,value\ncentral,0.5,,,\n"
        "high,0.5,scale,staff_groups.nurse.leaver_rate,3\n")
    runner = CliRunner()
    res = runner.invoke(app, ["solve", str(path), "--scenarios", str(tmp_path / "futures.csv"),
                              "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert summary["risk"] == "expected" and summary["here_and_now_years"] == 1
    assert [s["id"] for s in summary["scenarios"]] == ["central", "high"]
    assert summary["stochastic"]["VSS"] == approx(6, abs=1e-6)
    res = runner.invoke(app, ["solve", str(write_instance({**doc, "scenarios": scenarios})),
                              "--scenario", "high", "--json"])
    assert res.exit_code == 0, res.output
    assert "scenarios" not in json.loads(res.output)
    res = runner.invoke(app, ["solve", str(write_instance({**doc, "scenarios": scenarios})),
                              "--no-scenarios"])
    assert res.exit_code == 0 and "scenarios (" not in res.output
    res = runner.invoke(app, ["solve", str(path), "--scenario", "high"])
    assert res.exit_code == 2


def test_ws_and_eev_on_worker_processes_equal_in_process(make_doc, write_instance):
    inst = load_instance(write_instance(limited(make_doc)))
    one = solve_scenarios(inst).stochastic
    two = solve_scenarios(inst, workers=2).stochastic
    for key in ("RP", "WS", "EEV", "EVPI", "VSS", "EEV_by_scenario", "WS_by_scenario"):
        assert two[key] == approx(one[key], abs=1e-6), key


def test_a_reference_decision_above_a_scenarios_cap_makes_eev_undefined(make_doc,
                                                                         write_instance):
    """``slow`` halves the route to 10 a year. The central scenario alone buys no
    recruits in 2021 here, so take a central scenario that needs them: no course,
    120 nurses required in 2021 → 20 recruits in 2021, above ``slow``'s cap of 10:
    EEV is undefined and ``slow`` is named (the decision is not silently allowed)."""
    doc = hedge(make_doc)
    doc["training"] = []
    doc["targets"] = [{"id": "grow", "groups": ["nurse"], "required": {2021: 110}}]
    doc["scenarios"]["list"] = [{"id": "central", "probability": 0.5},
                                {"id": "slow", "probability": 0.5,
                                 "scale": {"international.abroad.max_per_year": 0.5}}]
    r = stochastic(write_instance, doc)
    assert r.stochastic["EEV_infeasible"] == ["slow"]
    assert r.stochastic["EEV"] is None and r.stochastic["VSS"] is None


def test_cli_prints_a_stochastic_plans_fair_shares(make_doc, write_instance):
    """A stochastic plan with a fair-share group: the summary names each scenario's
    fairness measure and shows the reference scenario's rates (it once failed with
    an internal error, reading the deterministic summary's keys). Both targets
    count the same nurses against the same 100 required in 2022, so each scenario's
    measure is its one shortfall rate: 0 in both (the hedged plan reaches 100)."""
    doc = hedge(make_doc)
    doc["targets"] = [{"id": f"keep_{k}", "groups": ["nurse"], "required": {2022: 100},
                       "fair_share": "both"} for k in ("a", "b")]
    res = CliRunner().invoke(app, ["solve", str(write_instance(doc))])
    assert res.exit_code == 0, res.output
    assert "fair shares by scenario (measure: central 0.0000, high 0.0000)" in res.output
    assert "below, 'central'" in res.output
    assert "internal error" not in res.output


def test_only_the_extensive_form_s_fairness_stage_runs_without_presolve(
        make_doc, write_instance, capfd):
    """HiGHS's presolve is off for the extensive form's fairness stage and for no
    other run (``scenarios.FAIRNESS_PRESOLVE``: on ten sampled futures the
    presolved stage's root LP finished in 55 s or not in 212 s as the model's
    numbers moved at their 15th digit; unpresolved, it was optimal within 150 s
    on every copy tried). HiGHS's own log (``verbose``) says "Presolve is
    switched off" for such a run: once with a fair-share group, never without
    one, and never in a single plan with the same group. The plan is the one of
    ``test_cli_prints_a_stochastic_plans_fair_shares`` with a cohort's on/off
    flag (a minimum cohort of 1, below the 40 places it trains): each future
    reaches the 100 required, so each future's measure is 0."""
    from optimiser import SolveOptions

    off = "Presolve is switched off"  # HiGHS says so for a MIP (its LP log does not)
    doc = hedge(make_doc)
    doc["training"][0]["min_cohort"] = 1  # a cohort's on/off flag: each stage is a MIP
    r = solve_scenarios(load_instance(write_instance(doc)), SolveOptions(verbose=True))
    assert r.status == "optimal"
    assert capfd.readouterr().out.count(off) == 0
    doc["targets"] = [{"id": f"keep_{k}", "groups": ["nurse"], "required": {2022: 100},
                       "fair_share": "both"} for k in ("a", "b")]
    r = solve_scenarios(load_instance(write_instance(doc)), SolveOptions(verbose=True))
    assert r.status == "optimal"
    assert capfd.readouterr().out.count(off) == 1
    assert {k: v["measure"] for k, v in r.fairness["by_scenario"].items()} == {
        "central": 0.0, "high": 0.0}
    del doc["scenarios"]
    r = solve(load_instance(write_instance(doc)), SolveOptions(verbose=True))
    assert r.status == "optimal"
    assert capfd.readouterr().out.count(off) == 0


def test_the_time_limit_counts_from_the_commands_start(make_doc, write_instance, monkeypatch):
    """``--time-limit`` is for the whole command, from its start
    (``SolveOptions.started``; the command passes the process's start): the
    extensive form's stages and the WS/EEV solves after them get what is left
    of it, as a deterministic solve's stages do, not the whole limit again once
    the futures are built (10 stepping-forward futures took 383 s under 300).
    Here 20 of 30 s went before the call: every HiGHS run of the command must
    be given no more than what is then left to the command's deadline. With
    none left, nothing is solved, and the result says why."""
    import time

    from optimiser import SolveOptions
    from optimiser.engine.solve import HighsModel

    given = []  # (when a run starts, its HiGHS time limit)
    run, first_plan = HighsModel.run, HighsModel.first_plan

    def recorded_run(self, cost, time_limit, **kw):
        given.append((time.perf_counter(), time_limit))
        return run(self, cost, time_limit, **kw)

    def recorded_first_plan(self, cost, time_limit):
        given.append((time.perf_counter(), time_limit))
        return first_plan(self, cost, time_limit)

    monkeypatch.setattr(HighsModel, "run", recorded_run)
    monkeypatch.setattr(HighsModel, "first_plan", recorded_first_plan)
    inst = load_instance(write_instance(hedge(make_doc)))
    started = time.perf_counter() - 20.0
    r = solve_scenarios(inst, SolveOptions(time_limit=30, started=started))
    assert r.status == "optimal" and r.stochastic is not None  # the figures were computed
    deadline = started + 30
    assert len(given) >= 7  # the stages, the WS and EEV solves and the reference plan's
    # A limit is computed just before its run starts: a few ms of slack.
    late = [(round(deadline - at, 3), t) for at, t in given if t is None or t > deadline - at + 0.05]
    assert not late, f"(seconds left, limit given): {late}"

    given.clear()
    r = solve_scenarios(inst, SolveOptions(time_limit=30, started=time.perf_counter() - 31))
    assert r.status == "no_solution" and not given
    assert "ran out while the model was built" in r.messages[0]


def test_without_the_reference_plan_eev_is_missing_not_a_crash(make_doc, write_instance):
    """The WS and EEV solves share what the plan left of the time limit; when the
    reference scenario solved alone finds no plan in its share (here a limit of a
    millisecond: HiGHS stops before any plan), there is nothing to hold the
    others to. EEV and VSS are None, no scenario is named infeasible under a plan
    that does not exist, and the note says why. (It raised ``zip() argument 2 is
    shorter than argument 1`` on stepping-forward-2017's five futures with the
    run-out years.)"""
    from optimiser.engine.options import effective_options
    from optimiser.engine.scenarios import stochastic_figures

    inst = load_instance(write_instance(hedge(make_doc)))
    ss = scenario_set(inst)
    opts = {**effective_options(inst, None), "time_limit": 1e-3}
    st = stochastic_figures(ss, 0.0, opts)
    assert st.EEV is None and st.VSS is None
    assert st.EEV_infeasible == []
    assert "the reference scenario 'central' solved alone found no plan" in st.note
