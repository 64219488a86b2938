"""``wfopt solve`` end to end (SPEC §4, §5): the summary, the results directory,
``--json``, overrides, exit codes, and atomic output.

The first test runs the installed console script in a subprocess, as a user
would; the others use typer's in-process runner on the same ``app`` (faster,
the same code). The expected tables and columns are written out here from SPEC
§4, not imported from the code, so that the test checks the contract.
"""

from __future__ import annotations

import csv
import json
import math
import subprocess
from pathlib import Path

import pytest
from pytest import approx
from typer.testing import CliRunner

from cli import app

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "instances" / "tiny" / "instance.yaml"

SPEC_COLUMNS = {
    "workforce": ["unit", "region", "group", "year", "fte", "leavers", "retained",
                  "graduates", "upskilled_out", "returners", "international", "joiners",
                  "posts", "vacancies"],
    "targets": ["target", "label", "service", "scope", "year", "required", "achieved",
                "shortfall", "priority", "fair_share"],
    "training": ["programme", "group", "year", "places", "cohort_runs", "graduates",
                 "unplaced", "cost"],
    "return_to_practice": ["campaign", "group", "year", "spend", "returners", "cost"],
    "retention": ["scheme", "unit", "year", "funding", "funded", "retained", "cost"],
    "international": ["route", "group", "year", "recruits", "cost"],
    "budget": ["pot", "year", "spent", "limit"],
}
SUMMARY_KEYS = {"instance", "status", "objective_mode", "weighted_shortfall", "total_cost",
                "mip_gap", "solve_seconds", "stages", "versions"}


def header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh))


def invoke(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def leftovers(folder: Path, name: str) -> list[str]:
    """Temporary siblings a write of ``folder/name`` might leave behind."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".{name}"))


def test_console_script_solves_tiny_and_writes_every_table(tmp_path):
    """The installed ``wfopt`` prints status, W and C and writes summary.json
    and the seven tables with SPEC §4's columns; the printed W and C are the
    summary's."""
    out = tmp_path / "tiny-out"
    proc = subprocess.run(["wfopt", "solve", str(TINY), "--out", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert set(summary) >= SUMMARY_KEYS
    assert summary["status"] == "optimal"
    assert summary["instance"] == "tiny"
    assert summary["objective_mode"] == "lexicographic"
    lines = proc.stdout.splitlines()
    assert "status              optimal" in lines
    assert f"weighted shortfall  {summary['weighted_shortfall']:,.2f} FTE" in lines
    cost = summary["total_cost"]
    assert f"total cost          £{cost / 1e6:,.2f}m" in lines
    assert f"results written to {out}" in lines
    for name, columns in SPEC_COLUMNS.items():
        assert header(out / f"{name}.csv") == columns, name
    # W in the summary is the priority-weighted sum of the targets table.
    with (out / "targets.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    w = sum(float(r["priority"]) * float(r["shortfall"]) for r in rows)
    assert w == approx(summary["weighted_shortfall"], abs=1e-5)
    assert leftovers(tmp_path, "tiny-out") == []


def test_json_prints_the_summary(tmp_path):
    res = invoke("solve", TINY, "--json")
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert set(summary) >= SUMMARY_KEYS
    assert summary["status"] == "optimal"
    assert summary["weighted_shortfall"] >= 0
    # Every lever is placed (SPEC §2.14): no share-out stage.
    assert [s["stage"] for s in summary["stages"]] == ["shortfall", "cost"]
    assert not (tmp_path / "out").exists()


@pytest.fixture
def recruit_instance(make_doc, write_instance) -> Path:
    """100 nurses, target 110 in 2021, recruits at 1,000 (up to 50), pot main
    8,000 a year: 8 recruits → W = 2, C = 8,000."""
    return write_instance(make_doc(
        international=[{"id": "abroad", "group": "nurse", "cost_per_recruit": 1000,
                        "max_per_year": 50}],
        budgets=[{"id": "main", "per_year": 8000}],
        targets=[{"id": "t", "groups": ["nurse"], "required": {2021: 110}}]))


@pytest.mark.parametrize(("args", "W", "C"), [
    ([], 2, 8000),
    (["--set", "budgets.main.per_year=2e4"], 0, 10_000),       # enough for all 10
    (["--set", "international.abroad.max_per_year=4"], 6, 4000),
    (["--scale", "budgets=0.5"], 6, 4000),                     # 4,000 buys 4
    (["--scale", "budgets=0.5", "--set", "targets.t.required.2021=103"], 0, 3000),
])
def test_set_and_scale_change_the_answer_as_expected(recruit_instance, args, W, C):
    res = invoke("solve", recruit_instance, "--json", *args)
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["weighted_shortfall"] == approx(W, abs=1e-6)
    assert summary["total_cost"] == approx(C, abs=1e-4)


def test_bad_override_key_is_a_one_line_input_error(recruit_instance, tmp_path):
    out = tmp_path / "out"
    res = invoke("solve", recruit_instance, "--set", "budgets.nope.per_year=1", "--out", out)
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    assert res.stderr.splitlines()[0].startswith("--set budgets.nope.per_year | ")
    assert not out.exists()


def test_weighted_mode_without_value_per_fte_is_a_usage_error(recruit_instance, tmp_path):
    out = tmp_path / "out"
    res = invoke("solve", recruit_instance, "--mode", "weighted", "--out", out)
    assert res.exit_code == 2
    assert res.stdout == ""
    lines = res.stderr.splitlines()
    assert len(lines) == 1
    location, sep, message = lines[0].partition(" | ")
    assert sep and location and "value_per_fte" in message
    assert not out.exists()


def test_unknown_mode_is_a_usage_error(recruit_instance):
    res = invoke("solve", recruit_instance, "--mode", "cheapest")
    assert res.exit_code == 2
    assert res.stderr.strip() == "--mode | must be lexicographic or weighted, got 'cheapest'"


def test_invalid_input_leaves_no_output_directory(make_doc, write_instance, tmp_path):
    doc = make_doc(training=[{"id": "degree", "group": "nurse", "duration": 3,
                              "completion_rate": 1.3}])
    out = tmp_path / "out"
    res = invoke("solve", write_instance(doc), "--out", out)
    assert res.exit_code == 2
    assert "training[degree].completion_rate | must be in (0, 1], got 1.3" in res.stderr.splitlines()
    assert "Traceback" not in res.output
    assert not out.exists()
    assert leftovers(tmp_path, "out") == []


def test_invalid_input_keeps_an_existing_output_directory(make_doc, write_instance, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("{}", encoding="utf-8")
    doc = make_doc(targets=[{"id": "t", "groups": ["nobody"], "required": {2021: 1}}])
    res = invoke("solve", write_instance(doc), "--out", out)
    assert res.exit_code == 2
    assert (out / "summary.json").read_text(encoding="utf-8") == "{}"


def test_existing_output_directory_is_replaced_whole(recruit_instance, tmp_path):
    """A stale file from an earlier run (its results.xlsx) does not survive;
    nothing is left beside. (A folder of the user's own files is refused instead:
    tests/test_atomic.py.)"""
    out = tmp_path / "out"
    res = invoke("solve", recruit_instance, "--out", out, "--xlsx")
    assert res.exit_code == 0, res.output
    assert (out / "results.xlsx").exists()
    res = invoke("solve", recruit_instance, "--out", out)
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in out.iterdir())
    assert "results.xlsx" not in names
    assert {f"{t}.csv" for t in SPEC_COLUMNS} | {"summary.json"} <= set(names)
    assert leftovers(tmp_path, "out") == []


def test_a_write_that_fails_midway_leaves_the_old_directory(recruit_instance, tmp_path):
    """summary.json refuses NaN (``allow_nan=False``) and is written after the
    tables: a result whose W is NaN fails half-way through the write, and the
    previous results directory must be left exactly as it was."""
    from optimiser import load_instance, solve

    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("{}", encoding="utf-8")
    result = solve(load_instance(recruit_instance))
    result.weighted_shortfall = math.nan
    with pytest.raises(ValueError):
        result.write(out)
    assert sorted(p.name for p in out.iterdir()) == ["summary.json"]
    assert (out / "summary.json").read_text(encoding="utf-8") == "{}"
    assert leftovers(tmp_path, "out") == []


def test_infeasible_data_exits_1_and_says_why(make_doc, write_instance, tmp_path):
    """Committed trainees (8) above supervision capacity (0.1·60 = 6): no plan."""
    doc = make_doc(
        years=2, groups={"nurse": 0.0, "mentor": 0.0},
        workforce=[{"unit": "u1", "group": "nurse", "fte": 100},
                   {"unit": "u1", "group": "mentor", "fte": 60}],
        training=[{"id": "degree", "group": "nurse", "duration": 2, "completion_rate": 1.0,
                   "committed": {2020: 8},
                   "supervision": {"group": "mentor", "max_trainees_per_fte": 0.1}}])
    out = tmp_path / "out"
    res = invoke("solve", write_instance(doc), "--out", out)
    assert res.exit_code == 1
    assert "status              infeasible" in res.stdout.splitlines()
    assert "8 committed trainees in 2021 but supervision allows 6" in res.stdout
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "infeasible"
    assert summary["weighted_shortfall"] is None and summary["total_cost"] is None


def hard_doc(make_doc, n_units: int = 10, years: int = 6) -> dict:
    """A plan HiGHS does not finish in 30 s on this machine (10 trusts, 6 years,
    minimum cohorts, fixed costs, funded-unit limits, service targets per trust):
    at a 0.2 s limit it must stop at the limit."""
    units = {f"t{i:02d}": f"r{i % 4}" for i in range(n_units)}
    wf = []
    for i, u in enumerate(units):
        wf += [{"unit": u, "group": "nurse", "fte": 200 + 37 * (i % 7),
                "leaver_rate": round(0.08 + 0.01 * (i % 9), 3)},
               {"unit": u, "group": "therapist", "fte": 30 + 11 * (i % 5)},
               {"unit": u, "group": "support", "fte": 100 + 13 * (i % 6)}]
    plan_years = range(2021, 2021 + years)
    training = [{"id": f"course_r{r}", "group": "therapist", "region": f"r{r}", "duration": 1,
                 "completion_rate": 0.85, "cost_per_place_year": 9000 + 500 * r,
                 "cohort_fixed_cost": 40000, "min_cohort": 13, "max_places_per_year": 60}
                for r in range(4)]
    training += [{"id": f"degree_r{r}", "group": "nurse", "region": f"r{r}", "duration": 2,
                  "completion_rate": 0.7, "cost_per_place_year": 20000, "min_cohort": 7,
                  "max_places_per_year": 90, "cohort_fixed_cost": 15000} for r in range(4)]
    rtp = [{"id": f"rtp_r{r}", "group": "nurse", "region": f"r{r}", "pool": 80,
            "response": [[0, 0], [100000, 11], [300000, 23]], "cost_per_returner": 1500,
            "fixed_cost": 21000} for r in range(4)]
    retention = [{"id": "keep", "eligible": {"top_leaver_rate": n_units // 2},
                  "max_retained_share": 0.3, "response": [[0, 0], [40000, 7], [120000, 13]],
                  "fixed_cost": 9000, "min_funding": 5000, "max_units_per_year": n_units // 5}]
    targets = []
    for i, u in enumerate(units):
        targets.append({"id": f"crisis_{u}", "unit": u, "service": "crisis", "groups": ["nurse"],
                        "required": {y: 150 + 20 * (i % 7) + 7 * (y - 2020) for y in plan_years},
                        "priority": 1 + (i % 3) * 0.5})
        targets.append({"id": f"therapy_{u}", "unit": u, "service": "therapy",
                        "groups": {"therapist": 1, "nurse": 0.5},
                        "required": {y: 40 + 9 * (i % 5) + 3 * (y - 2020) for y in plan_years},
                        "priority": 1.7})
    return make_doc(years=years, groups={"nurse": 0.12, "therapist": 0.1, "support": 0.15},
                    units=units, workforce=wf, training=training, return_to_practice=rtp,
                    retention=retention, budgets=[{"id": "main", "per_year": 2.5e6,
                                                   "total": 1.1e7}],
                    targets=targets, objective={"mode": "lexicographic"})


def test_time_limit_reports_feasible_or_no_solution(make_doc, write_instance, tmp_path):
    """Whether HiGHS has found a plan after 0.2 s may vary; that it has not
    proven one optimal may not. The summary says a limit was reached, and the
    exit code follows the status (0 with a plan, 1 without)."""
    out = tmp_path / "out"
    res = invoke("solve", write_instance(hard_doc(make_doc)), "--time-limit", "0.2",
                 "--out", out)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] in ("feasible", "no_solution")
    assert res.exit_code == (0 if summary["status"] == "feasible" else 1)
    lines = res.stdout.splitlines()
    assert f"status              {summary['status']}" in lines
    notes = [line for line in lines if line.startswith("note")]
    assert any("a limit was reached" in n for n in notes), res.stdout
    assert not any("nan" in n for n in notes), res.stdout  # an unknown gap is said in words
    assert any("a limit was reached" in m for m in summary["messages"])
    if summary["status"] == "feasible":
        assert summary["mip_gap"] is None or summary["mip_gap"] >= 0
        assert summary["weighted_shortfall"] is not None
    else:
        assert summary["weighted_shortfall"] is None


# ---------------------------------------------------------------- the summary and the help


def test_largest_shortfalls_show_the_priority_and_weighted_shortfall_they_are_ordered_by(
        capsys):
    """Issue 11: the list is ordered by shortfall × priority (what the plan
    minimises), so a smaller shortfall of a higher priority comes first; the
    row must say so, or it reads as 3,966 listed above 5,177."""
    import pandas as pd

    from cli import print_summary
    from optimiser import Result
    from optimiser.results.tables import empty_tables

    tables = empty_tables()
    tables["targets"] = pd.DataFrame([
        {"target": "consultants", "label": "", "service": "", "scope": "national",
         "year": "2028", "required": 9000.0, "achieved": 5034.0, "shortfall": 3966.0,
         "priority": 3.0},
        {"target": "nurses", "label": "", "service": "", "scope": "national",
         "year": "2028", "required": 60000.0, "achieved": 54823.0, "shortfall": 5177.0,
         "priority": 1.0}])
    result = Result(instance="two", status="optimal", objective_mode="lexicographic",
                    weighted_shortfall=3 * 3966.0 + 5177.0, total_cost=0.0, mip_gap=0.0,
                    solve_seconds=0.0, tables=tables)
    print_summary(result)
    lines = capsys.readouterr().out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("largest shortfalls"))
    assert "weighted shortfall = short × priority" in lines[start]
    assert lines[start + 1].split() == ["target", "year", "required", "achieved", "short",
                                        "priority", "weighted"]
    assert lines[start + 2].split() == ["consultants", "2028", "9,000.0", "5,034.0", "3,966.0",
                                        "3", "11,898.0"]
    assert lines[start + 3].split() == ["nurses", "2028", "60,000.0", "54,823.0", "5,177.0",
                                        "1", "5,177.0"]


@pytest.mark.parametrize("command", ["", "solve", "sweep", "validate", "generate", "report",
                                     "schema", "explain"])
def test_help_reads_cleanly(command):
    """Issue 11: no Python types for values (<bool>, <list[str]>), no {instance}
    template, no pointer to a SPEC a clone does not have, and no bracketed note
    broken over two lines; the documents it points to exist."""
    import re

    res = CliRunner().invoke(app, [*command.split(), "--help"], terminal_width=100)
    assert res.exit_code == 0, res.output
    text = res.output
    for raw in ("<bool>", "<list", "<path>", "<int", "<float", "<str>", "{instance}",
                "{results_dir}", "SPEC"):
        assert raw not in text, (raw, text)
    for line in text.splitlines():
        assert line.count("[") == line.count("]"), line
        assert not line.endswith("...") or line.startswith("Usage:"), line
    for doc in re.findall(r"docs/[\w.-]+\.md", text):
        assert (REPO / doc).is_file(), doc
    if command:
        assert "docs/" in text or command in ("generate", "report")


@pytest.mark.parametrize("path", ["out/tiny/summary.json", "instances/tiny/out/targets.csv",
                                  "sweeps/budget/sweep.csv", "generated/M/instance.yaml"])
def test_output_folders_are_ignored_by_git(path):
    """Issue 11: results (out/, anywhere), sweeps and generated instances, where
    the README and docs/ write them, never show up as files to commit."""
    import shutil

    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    proc = subprocess.run(["git", "check-ignore", "--no-index", "-q", path], cwd=REPO)
    assert proc.returncode == 0, f"{path} is not ignored"
