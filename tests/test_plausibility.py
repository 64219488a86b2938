"""benchmarks/plausibility.py reads a plan's workforce.csv as a workforce lead
would. A two-trust plan worked out by hand:

=====  ====  ===========  =========  =====  ==========
unit   year  fte (prev.)  graduates  posts  change
=====  ====  ===========  =========  =====  ==========
u1     2021  20 (10)      9          25     +100%
u2     2021  101 (100)    1          75     +1%
=====  ====  ===========  =========  =====  ==========

Two unit-group-years; one grows by more than half; the percentiles of the
changes (1.00 and 0.01, interpolated) are +2.0%, +50.5%, +99.0%; the largest
intake is u1's 9 of 10; u2 is above its posts; u1 takes 9 of the region's 10
graduates (0.90) on a quarter of its posts (0.25): 3.60 times its share.
Vacancies: u1 5 of 25 (20%), u2 none (above its posts), so the region's trusts
differ by 20 points (median and worst of one region-group-year); the region is
5 of 100 vacant (5%), u1 15 points above it, not more; nobody starves (one
plan year).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

import plausibility  # noqa: E402


def plan_folder(folder: Path) -> Path:
    folder.mkdir()
    pd.DataFrame([
        ["u1", "r1", "nurse", 2020, 10.0, None, None, None, None, None],
        ["u2", "r1", "nurse", 2020, 100.0, None, None, None, None, None],
        ["u1", "r1", "nurse", 2021, 20.0, 9.0, 0.0, 0.0, 25.0, 5.0],
        ["u2", "r1", "nurse", 2021, 101.0, 1.0, 0.0, 0.0, 75.0, 0.0],
    ], columns=["unit", "region", "group", "year", "fte", "graduates", "returners",
                "international", "posts", "vacancies"]).to_csv(folder / "workforce.csv",
                                                                index=False)
    return folder


def test_the_hand_worked_plan(tmp_path: Path) -> None:
    row, top = plausibility.summary(plan_folder(tmp_path / "plan"))
    assert row == {
        "plan": str(tmp_path / "plan"),
        "unit-group-years": 2,
        "grow > 50% (≥ 5 FTE)": 1,
        "change p1 / p50 / p99": "+2.0% / +50.5% / +99.0%",
        "largest intake / last year's staff (≥ 5 FTE)": "0.90",
        "above posts (on the natural path)": 1,
        "last year: worst share / posts share": "3.60",
        "vacancy spread in region, median / worst (points)": "20.0 / 20.0",
        "> 15 points above region": "0 of 2 (0.0%)",
        "starved 3+ years": 0,
    }
    assert top["unit"].tolist() == ["u1", "u2"]  # the largest growth first


def test_the_script_prints_the_table(tmp_path: Path) -> None:
    folder = plan_folder(tmp_path / "plan")
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "plausibility.py"),
                           str(folder)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("| plan | unit-group-years |")
    assert lines[2] == (f"| {folder} | 2 | 1 | +2.0% / +50.5% / +99.0% | 0.90 | 1 | 3.60 "
                        "| 20.0 / 20.0 | 0 of 2 (0.0%) | 0 |")
    assert f"{folder}: the largest one-year growths" in proc.stdout
