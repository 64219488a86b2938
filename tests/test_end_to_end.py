"""The command line end to end where no other test went: what ``wfopt validate``
prints of an instance, ``--mip-gap`` and ``--workers`` reaching the solver and
the sweep, and the shipped stepping-forward-2017 scenarios resolved against
their instance and solved. Expected values are read from the instance's own
files (YAML and CSV, with yaml and pandas), not from the code under test."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from cli import app

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "instances" / "tiny"
STEPPING = REPO / "instances" / "stepping-forward-2017"


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_validate_prints_groups_units_regions_years_levers_and_targets() -> None:
    doc = yaml.safe_load((TINY / "instance.yaml").read_text(encoding="utf-8"))
    units = pd.read_csv(TINY / "units.csv")
    targets = pd.read_csv(TINY / "targets.csv")
    groups = [g["id"] for g in doc["staff_groups"]]
    regions = sorted(units["region"].unique())
    base, years = doc["horizon"]["base_year"], doc["horizon"]["years"]
    res = invoke("validate", TINY / "instance.yaml")
    assert res.exit_code == 0, res.output
    lines = {line.split(None, 1)[0]: line.split(None, 1)[1] for line in res.stdout.splitlines()
             if len(line.split(None, 1)) == 2}
    assert lines["groups"] == f"{len(groups)}: {', '.join(sorted(groups))}"
    assert lines["units"] == f"{len(units)} in {len(regions)} regions: {', '.join(regions)}"
    assert lines["years"] == (f"base {base}, plan {base + 1}–{base + years} ({years} years)")
    counts = {s: len(doc[s]) for s in ("training", "return_to_practice", "retention",
                                       "international")}
    assert lines["levers"] == (f"{counts['training']} training, {counts['return_to_practice']} "
                               f"return to practice, {counts['retention']} retention, "
                               f"{counts['international']} international")
    assert lines["targets"] == (f"{targets['id'].nunique()} ({len(targets)} target-years)")
    assert res.stdout.splitlines()[-1] == "valid"


def test_mip_gap_reaches_the_solver(tmp_path: Path) -> None:
    """--mip-gap 0.05 is the gap the solve was run with (summary.json's options)
    and no stage reports a larger one; the instance's own is 1e-4."""
    assert yaml.safe_load((TINY / "instance.yaml").read_text())["solver"]["mip_gap"] != 0.05
    res = invoke("solve", TINY / "instance.yaml", "--mip-gap", "0.05", "--out", tmp_path / "o")
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["options"]["mip_gap"] == 0.05
    assert all(s["mip_gap"] is None or s["mip_gap"] <= 0.05 for s in summary["stages"])


@pytest.mark.parametrize("workers, chains", [(1, ["", "1", "1", "1"]), (2, ["", "1", "", "1"])])
def test_workers_split_a_sweep_into_chains(tmp_path: Path, workers: int, chains) -> None:
    """--workers 2: two chains of two points, each chain's second point warm-started
    from its first; --workers 1: one chain of four."""
    res = invoke("sweep", TINY / "instance.yaml", "--scale-grid", "budgets=0.6,0.8,1.0,1.2",
                 "--workers", workers, "--no-point-tables", "--out", tmp_path / "s")
    assert res.exit_code == 0, res.output
    frame = pd.read_csv(tmp_path / "s" / "sweep_timings.csv", dtype={"warm_start": str},
                        keep_default_na=False)
    assert frame["warm_start"].tolist() == chains


def shipped_scenarios() -> dict:
    return yaml.safe_load((STEPPING / "scenarios.yaml").read_text(encoding="utf-8"))


def test_the_shipped_scenarios_resolve_against_their_instance() -> None:
    """Each future of scenarios.yaml is the instance with its overrides applied:
    the leaver rates scaled (the factors read from the YAML), returners' response
    and the international caps set or scaled as written."""
    from optimiser import load_instance
    from optimiser.engine.scenarios import load_scenarios_file, scenario_set

    written = shipped_scenarios()
    inst = load_instance(STEPPING / "instance.yaml")
    inst = inst.model_copy(update={"scenarios": load_scenarios_file(STEPPING
                                                                     / "scenarios.yaml")})
    ss = scenario_set(inst)
    assert ss.ids == [s["id"] for s in written["list"]]
    assert ss.probabilities == [s["probability"] for s in written["list"]]
    assert sum(ss.probabilities) == pytest.approx(1.0)
    doc = yaml.safe_load((STEPPING / "instance.yaml").read_text(encoding="utf-8"))
    base_rates = {g["id"]: g["leaver_rate"] for g in doc["staff_groups"]}
    for item, s_inst in zip(written["list"], ss.instances, strict=True):
        factor = item.get("scale", {}).get("staff_groups.*.leaver_rate", 1.0)
        assert {g.id: g.leaver_rate for g in s_inst.staff_groups} == pytest.approx(
            {g: r * factor for g, r in base_rates.items()}), item["id"]
        for key, f in item.get("scale", {}).items():
            section, item_id, fld = key.split(".")
            if item_id == "*":
                continue  # the leaver rates, above
            before = next(x for x in doc[section] if x["id"] == item_id)[fld]
            got = getattr(next(x for x in getattr(s_inst, section) if x.id == item_id), fld)
            assert got == pytest.approx(before * f), (item["id"], key)
        for key, value in item.get("set", {}).items():
            section, item_id, fld = key.split(".")
            got = getattr(next(x for x in getattr(s_inst, section) if x.id == item_id), fld)
            if isinstance(value, list):  # response breakpoints ("1.0e6" is text to PyYAML)
                got = [list(p) for p in got]
                value = [[float(a), float(b)] for a, b in value]
            assert got == value, (item["id"], key)


def test_the_shipped_scenarios_are_solved(tmp_path: Path) -> None:
    """``wfopt solve`` with the shipped scenarios, a short time limit (the
    extensive form of five futures needs minutes to prove its optimum): a plan
    with a row per future and the reference future's decisions taken now."""
    res = invoke("solve", STEPPING / "instance.yaml", "--scenarios",
                 STEPPING / "scenarios.yaml", "--time-limit", "60", "--out", tmp_path / "o")
    assert res.exit_code in (0, 1), res.output
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["status"] in ("optimal", "feasible")
    ids = [s["id"] for s in shipped_scenarios()["list"]]
    assert [s["id"] for s in summary["scenarios"]] == ids
    workforce = pd.read_csv(tmp_path / "o" / "workforce.csv")
    assert sorted(workforce["scenario"].unique()) == sorted(ids)
    # ρ is the expectation of the futures' W (risk: expected).
    rows = summary["scenarios"]
    assert summary["weighted_shortfall"] == pytest.approx(
        sum(s["probability"] * s["weighted_shortfall"] for s in rows), rel=1e-6, abs=1e-3)
