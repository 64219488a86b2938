"""Comparing plans (SPEC §6; optimiser/compare.py, ``wfopt compare``).

tiny is solved three times through the command line — the plan, a +10% budget
what-if and a lean one (``main`` cut to £300,000 a year) — and compared: the
terminal table and ``optimiser.report.compare``'s DataFrames agree with each plan's
summary and tables, every difference is the plan's value minus the base's, the
HTML page is self-contained, deterministic and draws in a real headless
Chromium without errors, and results that cannot be compared (no results,
another horizon, other staff groups) are a usage error, exit 2.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from chromium import HeadlessChromium, needs_chromium
from typer.testing import CliRunner

import optimiser
from cli import app
from optimiser.report.compare import delta, format_comparison

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "instances" / "tiny" / "instance.yaml"
INFEASIBLE = REPO / "tests" / "data" / "infeasible" / "regional_supervision.yaml"


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def plans(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("plans")
    out = []
    for name, extra in (("base", []), ("budget", ["--scale", "budgets=1.1"]),
                        ("lean", ["--set", "budgets.main.per_year=300000"])):
        res = run("solve", TINY, "--out", root / name, *extra)
        assert res.exit_code == 0, res.output
        out.append(root / name)
    return out


@pytest.fixture(scope="module")
def page(plans, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("page") / "compare.html"
    res = run("compare", *plans, "-o", path)
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[-1] == f"comparison written to {path}"
    return path


def summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text())


def test_the_library_returns_the_tables(plans):
    cmp = optimiser.compare(*plans)
    assert cmp.names == ["base", "budget", "lean"]
    sums = [summary(p) for p in plans]
    p = cmp.plans
    assert list(p["status"]) == [s["status"] for s in sums]
    assert list(p["weighted_shortfall"]) == [s["weighted_shortfall"] for s in sums]
    assert list(p["total_cost"]) == [s["total_cost"] for s in sums]
    assert pd.isna(p[delta("total_cost")].iloc[0])
    assert p[delta("weighted_shortfall")].iloc[2] == pytest.approx(
        sums[2]["weighted_shortfall"] - sums[0]["weighted_shortfall"])
    for name in cmp.names:
        total = cmp.spend_by_lever.set_index("lever").loc["total", name]
        assert total == pytest.approx(p.set_index("plan").loc[name, "total_cost"], abs=1e-3)
    for name, folder in zip(cmp.names, plans, strict=True):
        t = pd.read_csv(folder / "targets.csv")
        weighted = (cmp.shortfall[name] * t["priority"].to_numpy()).sum()
        assert weighted == pytest.approx(summary(folder)["weighted_shortfall"], abs=1e-4)
        wf = pd.read_csv(folder / "workforce.csv")
        assert cmp.staff[name].sum() == pytest.approx(wf[wf["year"] == 2020]["fte"].sum())
    for table in (cmp.shortfall, cmp.spend_by_lever, cmp.spend_by_pot, cmp.staff):
        for name in cmp.names[1:]:
            assert (table[delta(name)] == table[name] - table["base"]).all()
    assert cmp.year == "2020"
    assert cmp.vacancies.empty  # tiny has no funded posts
    assert set(cmp.tables()) == {"plans", "shortfall", "spend_by_lever", "spend_by_pot",
                                 "staff", "vacancies"}
    # The +10% what-if raised every pot's limit: the page draws the limits.
    limits = cmp.spend_by_pot.set_index("pot")
    assert limits.loc["main", "limit budget"] == pytest.approx(1.1 * limits.loc["main",
                                                                                "limit base"])


def test_the_terminal_table(plans):
    res = run("compare", *plans)
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].split() == ["base", "budget", "Δ", "lean", "Δ"]
    assert lines[1].split() == ["status", "optimal", "optimal", "optimal"]
    sums = [summary(p) for p in plans]
    w = [s["weighted_shortfall"] for s in sums]
    row = lines[2].split()
    assert row[:3] == ["weighted", "shortfall", "(FTE)"]
    assert row[3:] == [f"{w[0]:,.1f}", f"{w[1]:,.1f}", f"{w[1] - w[0]:+,.1f}",
                       f"{w[2]:,.1f}", f"{w[2] - w[0]:+,.1f}"]
    for heading in ("shortfall by target, all target years (FTE)",
                    "shortfall by year, all targets (FTE)", "spend by lever, all years",
                    "spend by pot, all years", "staff in post by region, end of 2020 (FTE)"):
        assert heading in lines
    assert res.output == format_comparison(optimiser.compare(*plans)) + "\n"


def test_the_page_is_self_contained_and_deterministic(plans, page, tmp_path):
    text = page.read_text(encoding="utf-8")
    for anchor in ("plans", "shortfall", "spend", "staff"):
        assert f'<section id="{anchor}">' in text and f'href="#{anchor}"' in text
    assert "<script" not in text
    assert not re.search(r"""(src|href)=["'](?!data:|#)""", text)
    assert "https://" not in text
    assert text.count('<img class="chart"') == 5  # W and C, 2 of shortfall, spend, staff
    assert "No plan has funded posts" in text
    again = tmp_path / "again.html"
    assert run("compare", *plans, "-o", again).exit_code == 0
    assert again.read_bytes() == page.read_bytes()


@needs_chromium
def test_the_page_in_headless_chromium(page, tmp_path):
    with HeadlessChromium(width=1366, height=900) as browser:
        browser.open(page)
        errors = browser.console_errors()
        remote = browser.remote_requests()
        images = browser.evaluate(
            "Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete, "
            "natural: [i.naturalWidth, i.naturalHeight], shown: [i.clientWidth, "
            "i.clientHeight]}))")
        widths = browser.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        shot = browser.screenshot(tmp_path / "compare.png")
    assert errors == []
    assert remote == []
    assert len(images) == 5
    for img in images:
        assert img["complete"], img["alt"]
        assert min(img["natural"]) > 0 and min(img["shown"]) > 50, img
    assert widths[0] <= widths[1], "the page scrolls sideways at 1366 px"
    assert shot.stat().st_size > 10_000


def test_a_plan_without_a_plan_is_compared_by_its_status(plans, tmp_path):
    out = tmp_path / "infeasible"
    assert run("solve", INFEASIBLE, "--out", out).exit_code == 1
    res = run("compare", plans[0], out, "-o", tmp_path / "c.html")
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[1].split() == ["status", "optimal", "infeasible"]
    assert res.output.splitlines()[2].split()[-2:] == [
        f"{summary(plans[0])['weighted_shortfall']:,.1f}", "-"]


def _edit_csv(folder: Path, name: str, edit) -> None:
    path = folder / f"{name}.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    edit(frame).to_csv(path, index=False)


def test_other_horizons_are_a_usage_error(plans, tmp_path):
    short = tmp_path / "short"
    shutil.copytree(plans[1], short)
    _edit_csv(short, "workforce", lambda f: f[f["year"] != "2020"])
    res = run("compare", plans[0], short)
    assert res.exit_code == 2
    assert res.output.strip() == (
        f"{short} | plan 'short' covers base year 2016 and plan years 2017–2019, the base "
        "'base' base year 2016 and plan years 2017–2020: plans over different horizons "
        "cannot be compared")


def test_other_staff_groups_are_a_usage_error(plans, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(plans[1], other)
    _edit_csv(other, "workforce", lambda f: f.assign(group=f["group"].replace("support",
                                                                               "porter")))
    res = run("compare", plans[0], other, "-o", tmp_path / "c.html")
    assert res.exit_code == 2
    assert res.output.strip() == (
        f"{other} | plan 'other' has other staff groups than the base 'base' (groups not in "
        "the base: porter; base groups it lacks: support): plans of different groups cannot "
        "be compared")
    assert not (tmp_path / "c.html").exists()


@pytest.mark.parametrize(("setup", "expected"), [
    (lambda d: None, "{d}/nowhere | no such results directory"),
    (lambda d: (d / "nowhere").mkdir(),
     "{d}/nowhere | not a results directory: summary.json is missing"),
])
def test_a_folder_without_results_is_a_usage_error(plans, tmp_path, setup, expected):
    setup(tmp_path)
    res = run("compare", plans[0], tmp_path / "nowhere")
    assert res.exit_code == 2
    assert res.output.strip() == expected.format(d=tmp_path)


def test_compare_needs_another_plan(plans):
    res = run("compare", plans[0])
    assert res.exit_code == 2


def test_plans_of_the_same_folder_name_are_told_apart(plans, tmp_path):
    twin = tmp_path / "base"
    shutil.copytree(plans[1], twin)
    cmp = optimiser.compare(plans[0], twin)
    assert cmp.names[0] != cmp.names[1]
    assert cmp.names[1].endswith("/base")


def test_results_in_memory(plans):
    inst = optimiser.load_instance(TINY)
    result = optimiser.solve(inst)
    cmp = optimiser.compare(plans[0], result, names=["on disk", "in memory"])
    assert cmp.plans["Δ weighted_shortfall"].iloc[1] == pytest.approx(0.0, abs=1e-6)
    assert (cmp.shortfall[delta("in memory")].abs() < 1e-6).all()


@pytest.mark.parametrize("command", ["compare", "convert", "export"])
def test_help_reads_cleanly(command):
    """As tests/test_solve_cli.py checks the other commands: values by name,
    never Python types or templates, and the page it points to exists."""
    res = CliRunner().invoke(app, [command, "--help"], terminal_width=100)
    assert res.exit_code == 0, res.output
    text = res.output
    for raw in ("<bool>", "<list", "<path>", "<int", "<float", "<str>", "{", "SPEC"):
        assert raw not in text, (raw, text)
    for line in text.splitlines():
        assert line.count("[") == line.count("]"), line
    for doc in re.findall(r"docs/[\w.-]+\.md", text):
        assert (REPO / doc).is_file(), doc
    assert "docs/planners.md" in text
