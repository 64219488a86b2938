"""The ph engine (issue 20): progressive hedging on mpi-sppy against the
extensive form, one rank against two under a real ``mpiexec``, the out-of-sample
confidence interval, and what it refuses. Real HiGHS, real MPI, no mocks.

The instance: two trusts of nurses over three plan years, a course with a
minimum cohort (an on/off decision), a return-to-practice campaign with a fixed
cost (another), an international route and one budget; 10 sampled futures of
turnover, returners and the route's cap. Small enough for PH to take seconds.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pytest import approx
from typer.testing import CliRunner

from cli import app
from optimiser import SolveOptions, load_instance, solve_scenarios

REPO = Path(__file__).resolve().parent.parent

if importlib.util.find_spec("mpisppy") is None and not os.environ.get("CI"):
    # CI installs the mpi extra (scripts/test.sh): there these tests must run.
    pytest.skip("the mpi extra is not installed (pip install -c constraints.txt '.[mpi]')",
                allow_module_level=True)

ITERATIONS = 15


def futures_doc(make_doc, count: int = 10) -> dict:
    doc = make_doc(
        years=3, groups={"nurse": 0.12}, units={"u1": "r1", "u2": "r1"},
        workforce=[{"unit": "u1", "group": "nurse", "fte": 100, "leaver_rate": 0.12},
                   {"unit": "u2", "group": "nurse", "fte": 60, "leaver_rate": 0.2}],
        training=[{"id": "course", "group": "nurse", "duration": 1, "completion_rate": 0.9,
                   "cost_per_place_year": 100, "max_places_per_year": 30, "min_cohort": 10,
                   "cohort_fixed_cost": 500, "integer_places": False}],
        return_to_practice=[{"id": "back", "group": "nurse", "pool": 50,
                             "response": [[0, 0], [2000, 8], [5000, 12]],
                             "cost_per_returner": 50, "fixed_cost": 1000}],
        international=[{"id": "abroad", "group": "nurse", "cost_per_recruit": 1000,
                        "max_per_year": 15}],
        budgets=[{"id": "main", "per_year": 20000}],
        targets=[{"id": "keep", "groups": ["nurse"], "required": {2022: 175, 2023: 190}}])
    doc["scenarios"] = {"sample": {"count": count, "seed": 7, "scale": {
        "workforce.*.leaver_rate": [0.6, 1.6],
        "return_to_practice.back.response.*.1": [0.5, 1.0],
        "international.abroad.max_per_year": [0.5, 1.0]}}}
    return doc


@pytest.fixture(scope="module")
def futures(tmp_path_factory) -> Path:
    from conftest import build_doc, write_doc

    return write_doc(futures_doc(build_doc), tmp_path_factory.mktemp("futures"))


@pytest.fixture(scope="module")
def one_rank(futures):
    from optimiser.engine.ph import solve_ph

    return solve_ph(load_instance(futures), ranks=1, iterations=ITERATIONS)


def decided_now(summary_or_stochastic: dict) -> dict[str, float]:
    st = summary_or_stochastic.get("stochastic", summary_or_stochastic)
    return {d["decision"]: d["value"] for d in st["here_and_now"]}


def test_ph_and_the_extensive_form_agree_within_the_reported_gap(futures, one_rank):
    ef = solve_scenarios(load_instance(futures), figures=False)
    ph = one_rank
    st = ph.stochastic
    assert ef.status == "optimal" and ph.has_plan
    lower, upper = st["lower_bound"], ph.weighted_shortfall
    # ρ of the extensive form lies between PH's bounds, and the gap says how far apart.
    assert lower - 1e-6 <= ef.weighted_shortfall <= upper + 1e-6
    assert upper - lower == approx(st["gap"] * max(upper, 1.0), abs=1e-6)
    # The gap itself: on these futures the bound (the wait-and-see one, 3.637, or
    # the last weights' Lagrangian one, 3.641) lies 0.78 FTE below the optimum
    # 4.422, 17.7%; a plan 3% worse than the optimum, or iteration 1's plan of
    # PH run for one iteration (6.92 FTE: 47%), would not be within 20%.
    assert st["gap"] < 0.20
    assert lower >= st["trivial_bound"] - 1e-9
    # The wait-and-see bound is a bound (a candidate's evaluation solves, with
    # the decisions held, must not have overwritten it).
    assert st["trivial_bound"] <= ef.weighted_shortfall + 1e-6
    assert st["iterations"] <= ITERATIONS and st["ranks"] == 1
    # Every scenario's tables, with the here-and-now decisions equal in each.
    t = ph.tables["training"]
    first = t[t["year"] == 2021]
    assert list(first["scenario"]) == [f"s{k}" for k in range(1, 11)]
    assert first["places"].nunique() == 1
    assert first["places"].iloc[0] == approx(decided_now(st)["N[course,2021]"], abs=1e-6)
    assert [s["id"] for s in ph.scenarios["list"]] == [f"s{k}" for k in range(1, 11)]
    assert sum(s["probability"] * s["weighted_shortfall"] for s in ph.scenarios["list"]) \
        == approx(upper, abs=1e-6)


def test_two_ranks_under_mpiexec_give_the_one_rank_plan(futures, one_rank):
    """On two ranks both are PH's hub, each with half the futures: PH's
    iterates, its candidates and the plan are the one-rank run's."""
    p = subprocess.run([sys.executable, "-m", "cli", "solve", str(futures), "--engine", "ph",
                        "--ranks", "2", "--ph-iterations", str(ITERATIONS), "--json"],
                       capture_output=True, text=True, cwd=REPO, timeout=300, check=False)
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout)  # nothing but JSON on stdout
    assert summary["stochastic"]["ranks"] == 2
    assert decided_now(summary) == approx(decided_now(one_rank.stochastic), abs=1e-6)
    assert summary["weighted_shortfall"] == approx(one_rank.weighted_shortfall, abs=1e-6)
    assert summary["stochastic"]["lower_bound"] >= one_rank.stochastic["trivial_bound"] - 1e-6
    assert [c["rho"] for c in summary["stochastic"]["candidates"]] == approx(
        [c["rho"] for c in one_rank.stochastic["candidates"]], abs=1e-6)


def test_out_of_sample_estimate_with_a_confidence_interval(futures, one_rank):
    from optimiser.engine.confidence import out_of_sample, plan_decisions
    from optimiser.engine.solve import effective_options

    inst = load_instance(futures)
    est = out_of_sample(inst, plan_decisions(one_rank), 8, 99,
                        effective_options(inst, SolveOptions()))
    assert est["count"] == 8 and est["seed"] == 99 and not est["infeasible"]
    lo, hi = est["ci95"]
    assert lo <= est["mean"] <= hi
    assert hi - lo == approx(2 * 2.364624251592784 * est["std"] / 8 ** 0.5, rel=1e-6)


def test_what_the_ph_engine_refuses(futures, make_doc, write_instance):
    runner = CliRunner()
    doc = futures_doc(make_doc)
    doc["scenarios"]["risk"] = "worst_case"
    res = runner.invoke(app, ["solve", str(write_instance(doc)), "--engine", "ph"])
    assert res.exit_code == 2
    assert "risk worst_case is not supported by progressive hedging" in res.output
    res = runner.invoke(app, ["solve", str(futures), "--ranks", "2"])
    assert res.exit_code == 2 and "--ranks | is for --engine ph" in res.output
    res = runner.invoke(app, ["solve", str(futures), "--no-scenarios", "--engine", "ph"])
    assert res.exit_code == 2 and "--engine ph | plans under scenarios" in res.output
    res = runner.invoke(app, ["solve", str(futures), "--engine", "pH"])
    assert res.exit_code == 2 and "--engine | must be ef or ph" in res.output
    assert "Traceback" not in res.output


def test_the_time_limit_holds(futures):
    """PH stops before an iteration that would overrun its share of the limit
    (mpi-sppy checks its own limit only between iterations), and the stages
    per scenario share the rest: the whole solve ends within the limit."""
    import time

    from optimiser.engine.ph import solve_ph

    t0 = time.perf_counter()
    # A ρ this small moves the futures too little to agree: PH runs until the
    # time is up, whatever the machine's speed.
    r = solve_ph(load_instance(futures), SolveOptions(time_limit=8), ranks=1,
                 iterations=10_000, rho=1e-3)
    assert time.perf_counter() - t0 < 8 + 1.5
    assert r.has_plan
    # Which check ends PH depends on the machine's speed and the test order (a
    # clean-clone CI run once ended it without the time flag, 0.006 from
    # converging): what must hold is the limit above, and the words when it is time.
    if r.stochastic["stopped_for_time"]:
        assert any("stopped before converging" in m for m in r.messages)


def test_ph_after_a_solve_on_highs_default_threads_in_the_same_process(futures):
    """HiGHS keeps one thread scheduler per process, made by its first run; from
    highspy 1.16 a run asking for another number of threads fails at once
    (model status "Not Set"). PH's subproblems run on one thread in HiGHS
    objects that mpi-sppy's Pyomo interface creates, not the engine's: after an
    in-process solve on HiGHS's default threads (two or more on this machine and
    CI's), each of them failed and mpi-sppy stopped with "Infeasibility detected;
    E_feas=0.0". Which test ran first decided it (pytest-randomly). Under
    highspy 1.15.1 a run on fewer threads than the scheduler's is allowed, so
    this test fails only with 1.16 and later, which scripts/check-latest.sh runs.
    ρ is given so that PH's first HiGHS run is a subproblem's (the default ρ's
    own solve goes through the engine's HiGHS and would reset the scheduler)."""
    from optimiser import solve
    from optimiser.engine.ph import solve_ph

    inst = load_instance(futures)
    assert solve(inst, SolveOptions(explain=False)).has_plan  # HiGHS's default threads
    r = solve_ph(inst, ranks=1, iterations=2, rho=1.0)
    assert r.has_plan, r.messages


SLOW_RHO = 1e-3
"""A ρ this small keeps the futures from agreeing within a few iterations: PH
is still iterating when a test stops some of its subproblems."""


def stop_subproblems(monkeypatch, names: set[str], from_iteration: int) -> None:
    """Give the PH subproblems of ``names`` a HiGHS time limit of 0 s from PH
    iteration ``from_iteration`` on: HiGHS then stops before it has any plan,
    as a large future does when its share of the time is too short. The limit
    goes in as mpi-sppy gives the engine's own: in the solver options of the
    subproblem's solve (``SPOpt.solve_one``). Real HiGHS, whatever the machine's
    speed."""
    from mpisppy.spopt import SPOpt

    solve_one = SPOpt.solve_one

    def limited(self, solver_options, k, s, *args, **kwargs):
        if k in names and getattr(self, "_PHIter", 0) >= from_iteration:
            solver_options = {**(solver_options or {}), "time_limit": 0.0}
        return solve_one(self, solver_options, k, s, *args, **kwargs)

    monkeypatch.setattr(SPOpt, "solve_one", limited)


def test_a_subproblem_stopped_without_a_plan_at_iteration_0_leaves_no_plan(futures,
                                                                          monkeypatch):
    """Iteration 0 solves every future alone; when one stops on its time limit
    before finding a plan, PH has no complete iterate to build a plan from: the
    result says so (no_solution, which future, why), with no traceback."""
    from optimiser.engine.ph import solve_ph

    stop_subproblems(monkeypatch, {"s3"}, 0)
    r = solve_ph(load_instance(futures), ranks=1, iterations=ITERATIONS, rho=SLOW_RHO)
    assert r.status == "no_solution" and not r.has_plan
    st = r.stochastic
    assert st["subproblem_time_out"] == {"iteration": 0, "scenarios": ["s3"], "seconds": 0.0}
    assert st["iterations"] == 0 and st["RP"] is None and st["here_and_now"] == []
    assert r.stages[0]["stage"] == "progressive_hedging"
    assert r.stages[0]["status"] == "no_solution"
    why = r.messages[0]
    assert "s3" in why and "time limit" in why and "iteration 0" in why
    json.dumps(r.summary(), allow_nan=False)  # no bound is null, not -Infinity


def test_a_subproblem_stopped_without_a_plan_later_ends_ph_on_the_last_complete_iterate(
        futures, monkeypatch):
    """Two futures stop without a plan at iteration 2: the others' iteration-2
    decisions and those two's (left at iteration 1's) are no iterate of PH.
    PH ends there, and the plan is built from iteration 1's iterate: the plan
    of PH run for one iteration. Its lower bound stays valid (a stopped
    subproblem contributes no bound of its own, not a stale one)."""
    from optimiser.engine.ph import solve_ph

    inst = load_instance(futures)
    one = solve_ph(inst, ranks=1, iterations=1, rho=SLOW_RHO)
    ef = solve_scenarios(inst, figures=False)
    stop_subproblems(monkeypatch, {"s2", "s5"}, 2)
    r = solve_ph(inst, ranks=1, iterations=ITERATIONS, rho=SLOW_RHO)
    assert r.has_plan
    st = r.stochastic
    assert st["subproblem_time_out"] == {"iteration": 2, "scenarios": ["s2", "s5"],
                                         "seconds": 0.0}
    assert st["iterations"] == 1 == one.stochastic["iterations"]
    assert decided_now(st) == approx(decided_now(one.stochastic), abs=1e-9)
    assert r.weighted_shortfall == approx(one.weighted_shortfall, abs=1e-6)
    assert st["lower_bound"] <= ef.weighted_shortfall + 1e-6
    assert r.status == ("optimal" if st["gap"] <= inst.solver.mip_gap else "feasible")
    assert any("iteration 2" in m and "s2, s5" in m and "iteration 1" in m
               for m in r.messages), r.messages
    json.dumps(r.summary(), allow_nan=False)


def test_an_infeasible_subproblem_is_not_taken_for_a_time_out(futures, monkeypatch):
    """A future whose subproblem HiGHS proves infeasible is an error of its own,
    named as such: no time limit is involved and no plan is pretended."""
    import pyomo.environ as pyo

    from optimiser.engine import ph

    build = ph.Scenarios.__call__

    def with_an_impossible_row(self, name):
        m = build(self, name)
        if name == "s4":
            m.impossible = pyo.Var(bounds=(0, 1))
            m.impossible_row = pyo.Constraint(expr=m.impossible >= 2)
        return m

    monkeypatch.setattr(ph.Scenarios, "__call__", with_an_impossible_row)
    with pytest.raises(ph.PHFailed, match=r"'s4'.*infeasible") as err:
        ph.solve_ph(load_instance(futures), ranks=1, iterations=ITERATIONS, rho=SLOW_RHO)
    assert "time" not in str(err.value)


def test_futures_without_a_plan_on_data_are_named_as_the_extensive_form_names_them(
        make_doc, write_instance):
    """A sampled future whose rows fail on data alone (here a course's first-year
    cap drawn below what its intake may fall to) has no plan: ph reports status
    infeasible with every such future's row and reason, the extensive form's
    messages, on one rank and on two, with no traceback and before any solve."""
    doc = futures_doc(make_doc)
    doc["training"][0].update(committed={2020: 30}, max_decrease=5)
    doc["scenarios"]["sample"]["scale"]["training.course.max_places_per_year"] = [0.5, 1.0]
    path = write_instance(doc)
    ef = solve_scenarios(load_instance(path), figures=False)
    assert ef.status == "infeasible" and len(ef.messages) >= 2, ef.messages

    from optimiser.engine.ph import solve_ph

    one = solve_ph(load_instance(path), ranks=1, iterations=ITERATIONS)
    assert (one.status, one.messages) == ("infeasible", ef.messages)
    out = path.parent / "two"
    res = CliRunner().invoke(app, ["solve", str(path), "--engine", "ph", "--ranks", "2",
                                   "--out", str(out), "--json"])
    assert res.exit_code == 1, res.output
    summary = json.loads(res.stdout)
    assert (summary["status"], summary["messages"]) == ("infeasible", ef.messages)
    assert "Traceback" not in res.output


def test_progress_reports_each_ph_iteration(futures):
    """Issue 31: on one rank (in this process) each PH iteration is reported
    with mpi-sppy's convergence metric and the bound so far."""
    from optimiser.engine.ph import solve_ph

    heard = []
    solve_ph(load_instance(futures), SolveOptions(progress=heard.append), ranks=1,
             iterations=3)
    phases = list(dict.fromkeys(p.phase for p in heard if p.phase))
    assert phases[0] == "progressive hedging on 1 rank"
    # Iteration 0's candidates (n: 8 under HiGHS 1.15.1, fewer where futures
    # share their decisions), then each later iteration's one before the
    # iteration is reported; each names the future whose decisions it is.
    evaluating = "progressive hedging: evaluating candidate plan"
    n = len(phases) - 1 - 2 * 3
    assert 1 <= n <= 8
    assert [p.split(" (")[0].split(",")[0] for p in phases[1:]] == [
        *(f"{evaluating} {k}" for k in range(1, n + 2)), "progressive hedging iteration 1",
        f"{evaluating} {n + 2}", "progressive hedging iteration 2",
        f"{evaluating} {n + 3}", "progressive hedging iteration 3"]
    assert re.fullmatch(rf"{evaluating} 1 \(future s\d+'s decisions\)", phases[1])
    first = {}
    for p in heard:
        first.setdefault(p.phase, p)
    iterations = [ph for ph in phases if ph.startswith("progressive hedging iteration")]
    assert all(first[ph].bound is not None for ph in iterations)  # the trivial bound


def held_rho(inst, decisions: dict) -> float:
    """Σ π_s·W_s of a first-year plan evaluated independently of the ph engine:
    each future solved alone, shortfall stage, with ``decisions`` held, by the
    extensive form's code (``scenarios.shortfall_only``, as for EEV)."""
    from optimiser.engine.scenarios import scenario_set, shortfall_only
    from optimiser.engine.solve import effective_options

    ss = scenario_set(inst)
    last = ss.base.horizon.base_year + ss.here_and_now_years
    opts = effective_options(inst, SolveOptions())
    values = [shortfall_only(i, opts, decisions, last) for i in ss.instances]
    assert None not in values
    return sum(p * w for p, w in zip(ss.probabilities, values, strict=True))


def candidate_decisions(result, candidate: dict) -> dict:
    """A candidate's here-and-now decisions keyed as ``result.decisions`` (its
    list is in the same order)."""
    values = [d["value"] for d in candidate["here_and_now"]]
    return dict(zip(result.decisions, values, strict=True))


def test_a_later_worse_plan_does_not_replace_iteration_0s(futures):
    """On these futures (seed 7) the nearest of iteration 0's candidates is its
    best (5.39 FTE; the others 7.50 to 14.77), and PH's iteration 1 (default ρ)
    moves the futures' decisions to a candidate worse than it: 10.18. Run for
    one iteration, PH's last iterate is that worse one (the engine reported it
    before issue 33); the plan must be iteration 0's, the better candidate, and
    both candidates' ρ are what an independent evaluation gives."""
    from optimiser.engine.ph import solve_ph

    inst = load_instance(futures)
    r = solve_ph(inst, ranks=1, iterations=1)
    st = r.stochastic
    c0, c1 = st["candidates"][0], st["candidates"][-1]
    assert (c0["iteration"], c1["iteration"]) == (0, 1)
    assert [c["iteration"] for c in st["candidates"]].count(1) == 1
    rho0 = held_rho(inst, candidate_decisions(r, c0))
    rho1 = held_rho(inst, candidate_decisions(r, c1))
    assert (c0["rho"], c1["rho"]) == (approx(rho0, rel=1e-4), approx(rho1, rel=1e-4))
    assert rho1 > rho0 + 1.0  # the later candidate is clearly worse
    assert st["kept"] == 0
    assert r.weighted_shortfall == approx(rho0, rel=1e-4)
    assert decided_now(st) == {d["decision"]: d["value"] for d in c0["here_and_now"]}
    assert any("iteration 0's candidate" in m for m in r.messages), r.messages


def test_a_candidate_further_from_the_average_can_be_the_plan(make_doc, tmp_path):
    """Iteration 0's candidates are the futures' own decisions, nearest to x̄
    first. On the futures of seed 1 the nearest (ρ 13.69 FTE) is not the best:
    a further one is (12.81: the 5th nearest under HiGHS 1.15.1, the 4th under
    1.16.0, where two futures share their decisions), and PH's iteration 1
    gives 13.09 or 13.10. The plan is that further one; its ρ and the
    nearest's are what an independent evaluation gives, every candidate is a
    different plan, and the message names it."""
    from conftest import write_doc

    from optimiser.engine.ph import solve_ph

    doc = futures_doc(make_doc)
    doc["scenarios"]["sample"]["seed"] = 1
    inst = load_instance(write_doc(doc, tmp_path))
    r = solve_ph(inst, ranks=1, iterations=1)
    st = r.stochastic
    cands = st["candidates"]
    first = [c for c in cands if c["iteration"] == 0]
    assert 2 <= len(first) <= 8  # CANDIDATES_AT_ITERATION_0, with no time limit
    plans = [tuple(d["value"] for d in c["here_and_now"]) for c in first]
    assert len(set(plans)) == len(plans)
    assert len({c["source"] for c in first}) == len(first)
    kept = cands[st["kept"]]
    assert kept["iteration"] == 0 and st["kept"] > 0
    nth = {1: "2nd", 2: "3rd"}.get(st["kept"], f"{st['kept'] + 1}th") + " nearest"
    assert kept["formed"].startswith(f"future {kept['source']}'s decisions, {nth}")
    nearest = held_rho(inst, candidate_decisions(r, first[0]))
    best = held_rho(inst, candidate_decisions(r, kept))
    assert (first[0]["rho"], kept["rho"]) == (approx(nearest, rel=1e-4), approx(best, rel=1e-4))
    assert best < nearest - 0.5
    assert kept["rho"] == min(c["rho"] for c in cands)
    assert r.weighted_shortfall == approx(best, rel=1e-4)
    assert any("iteration 0's candidate" in m and nth in m for m in r.messages), r.messages


def test_the_reported_rho_is_the_plans_own_expected_shortfall(futures, one_rank):
    """ρ as reported equals the plan's first-year decisions held in each future,
    each solved alone by the extensive form's code, to HiGHS's gap (1e-4), and
    is the least of the candidates' ρ."""
    inst = load_instance(futures)
    st = one_rank.stochastic
    assert one_rank.weighted_shortfall == approx(held_rho(inst, one_rank.decisions), rel=1e-4)
    scored = [c["rho"] for c in st["candidates"] if c["rho"] is not None]
    assert len(scored) == len(st["candidates"])
    # Up to 8 of iteration 0's (fewer where futures share their decisions:
    # under HiGHS 1.16 four of these ten plans are distinct), then one an iteration.
    first = [c["iteration"] for c in st["candidates"]].count(0)
    assert 1 <= first <= 8
    assert [c["iteration"] for c in st["candidates"]][first:] == list(
        range(1, st["iterations"] + 1))
    assert st["candidates"][st["kept"]]["rho"] == min(scored)
    # The stages after PH start from the plan's evaluation in every future, so
    # ρ is never above the kept candidate's (beyond rounding), not merely
    # within HiGHS's gap of it.
    assert st["started_from_evaluation"] == 10
    assert st["shortfall_stage_rho"] <= min(scored) + 1e-9
    # The cost stage may give back tol(W_s) = max(1e-6, 1e-6·W_s) = 1e-6 here.
    assert one_rank.weighted_shortfall <= st["shortfall_stage_rho"] + 1e-6 + 1e-9
