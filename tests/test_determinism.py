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
