"""Same instance and options → byte-identical tables (SPEC §4)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from optimiser import load_instance, solve

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "instances" / "tiny" / "instance.yaml"
TIMING_KEYS = {"solve_seconds", "timings", "stages", "good_plan", "versions"}
"""summary.json fields that measure the run rather than describe the plan."""


def csv_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.csv"))}


def plan_summary(folder: Path) -> dict:
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    return {k: v for k, v in summary.items() if k not in TIMING_KEYS}


def test_two_wfopt_solve_runs_give_identical_csv_files(tmp_path):
    """Two separate processes (fresh interpreter, fresh HiGHS) on tiny."""
    outs = [tmp_path / "first", tmp_path / "second"]
    for out in outs:
        proc = subprocess.run(["wfopt", "solve", str(TINY), "--out", str(out)],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
    first, second = (csv_bytes(o) for o in outs)
    spec_tables = {"workforce", "targets", "training", "return_to_practice", "retention",
                   "international", "budget"}
    assert {f"{t}.csv" for t in spec_tables} <= set(first)
    assert first == second
    assert plan_summary(outs[0]) == plan_summary(outs[1])


def test_solving_twice_in_one_process_writes_the_same_bytes(tmp_path, make_doc,
                                                            write_instance):
    """A plan with a free split (two routes at the same price, one unit in each
    of two regions, a national target) is still written the same way each time."""
    doc = make_doc(
        years=2, units={"u1": "r1", "u2": "r2"},
        workforce=[{"unit": "u1", "group": "nurse", "fte": 100},
                   {"unit": "u2", "group": "nurse", "fte": 100}],
        international=[{"id": "east", "group": "nurse", "cost_per_recruit": 100,
                        "max_per_year": 10},
                       {"id": "west", "group": "nurse", "cost_per_recruit": 100,
                        "max_per_year": 10}],
        targets=[{"id": "t", "groups": ["nurse"], "required": {2022: 215}}])
    path = write_instance(doc)
    for name in ("a", "b"):
        solve(load_instance(path)).write(tmp_path / name)
    assert csv_bytes(tmp_path / "a") == csv_bytes(tmp_path / "b")


def test_a_solve_that_names_no_thread_count_runs_highs_on_two_threads_with_one_threads_plan(
        tmp_path, make_doc, write_instance, capfd):
    """With no ``threads`` asked for, HiGHS runs on two threads where the process
    may use two cores (HiGHS's own default is half the hardware threads: one on
    CI's two cores), so that the analytic centre HiGHS computes at each MIP's
    root runs beside the root LP instead of after the fifth cut round
    (``highs.default_threads``). HiGHS's own log says how many threads its MIP
    had: "Thread count 2 (of 2 threads)" on CI's two cores (more on a machine
    whose half is more; never more than the cores the process may use; 1 where
    it may use one). The branch and bound still runs one search, so the plan is
    byte for byte the one of ``threads: 1``. The plan: three regions, one trust
    and one course each, a target in each region, all in one fair-share group;
    the courses' minimum cohorts (on/off flags) under one budget make a MIP
    that HiGHS's presolve (1.15 and 1.16) leaves for its search in at least one
    stage, so its log says the thread count."""
    import os
    import re

    from optimiser import SolveOptions

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    regions = ("r1", "r2", "r3")
    doc = make_doc(
        years=2, units={f"u{i}": r for i, r in enumerate(regions)}, groups={"nurse": 0.1},
        workforce=[{"unit": f"u{i}", "group": "nurse", "fte": 100 - 7 * i}
                   for i, _ in enumerate(regions)],
        training=[{"id": f"course_{r}", "group": "nurse", "duration": 1, "completion_rate": 1,
                   "cost_per_place_year": 10 + i, "max_places_per_year": 40, "min_cohort": 17,
                   "integer_places": False, "intake_years": [2021], "region": r}
                  for i, r in enumerate(regions)],
        budgets=[{"id": "main", "per_year": {2021: 433}}],
        targets=[{"id": f"keep_{r}", "region": r, "groups": ["nurse"],
                  "required": {2022: 100}, "fair_share": "regions"} for r in regions])
    path = write_instance(doc)
    solve(load_instance(path), SolveOptions(verbose=True)).write(tmp_path / "default")
    # HiGHS 1.15: "Thread count 2 (of 2 threads)"; 1.16: "... across 2 threads".
    log = capfd.readouterr().out
    counts = {int(a or b) for a, b in re.findall(
        r"Thread count (\d+) \(of|using up to \d+ workers? across (\d+) threads?", log)}
    assert len(counts) == 1  # every MIP search on the same count (presolve solves some stages)
    assert (2 <= counts.pop() <= usable) if usable >= 2 else counts == {1}
    solve(load_instance(path), SolveOptions(threads=1)).write(tmp_path / "one")
    assert csv_bytes(tmp_path / "default") == csv_bytes(tmp_path / "one")
    default, one = plan_summary(tmp_path / "default"), plan_summary(tmp_path / "one")
    assert (default.pop("options")["threads"], one.pop("options")["threads"]) == (None, 1)
    assert default == one


def test_a_solve_runs_after_another_highs_user_made_the_scheduler_with_one_thread(
        tmp_path) -> None:
    """HiGHS keeps one thread scheduler per process, made by the first run with
    that run's ``threads``; a later run asking for another count fails ("Not
    Set"). A script or library that ran HiGHS first with one thread (Pyomo's
    ``appsi_highs`` does: HiGHS's default on a 2-core machine) left the engine's
    default of two failing every run: the solve reported status ``error``. The
    engine resets the scheduler before its first run in a process. A fresh
    process, so that no earlier test has made the scheduler."""
    import sys

    script = tmp_path / "first.py"
    script.write_text(
        "import sys, highspy\n"
        "h = highspy.Highs()\n"
        "h.setOptionValue('output_flag', False)\n"
        "h.setOptionValue('threads', 1)\n"
        "h.addVar(0.0, 1.0)\n"
        "h.changeColCost(0, 1.0)\n"
        "h.run()\n"
        "assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal\n"
        "from optimiser import SolveOptions, load_instance, solve\n"
        "result = solve(load_instance(sys.argv[1]), SolveOptions(explain=False))\n"
        "print(result.status, result.weighted_shortfall)\n")
    tiny = Path(__file__).parent.parent / "instances" / "tiny" / "instance.yaml"
    done = subprocess.run([sys.executable, str(script), str(tiny)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    # The last line: highspy 1.16's own ``Highs()`` prints its banner first.
    status, _w = done.stdout.strip().splitlines()[-1].split()
    assert status == "optimal"
