"""The HTML report (optimiser.report, ``wfopt report``, ``Result.report``).

The report is read from a real results directory written by ``wfopt solve``
and checked as text (every section, the headline numbers, nothing fetched from
the network, the same bytes every time, the same from a Result in memory) and
in a real headless Chromium (tests/chromium.py): no console errors, no request
leaves the machine, every chart drawn at a non-zero size, no page-wide
horizontal scroll at a laptop's 1366 px, and a full-page screenshot written.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from chromium import HeadlessChromium, chromium_path
from typer.testing import CliRunner

from cli import app
from optimiser import load_instance, solve
from optimiser.marginals import CAVEAT
from optimiser.report import SECTIONS, ResultsView, marginal_section
from optimiser.wording import money

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "instances" / "tiny" / "instance.yaml"
INFEASIBLE = REPO / "tests" / "data" / "infeasible" / "upskill_drains_group.yaml"

CHARTS = 9
"""tiny's charts: targets, staff by group, shortfall, spend by lever, pots,
training, retention, returners and recruits, marginal values of budgets."""


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tiny") / "results"
    res = CliRunner().invoke(app, ["solve", str(TINY), "--out", str(out),
                                   "--set", "budgets.main.per_year=300000"])
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="module")
def report(results: Path) -> Path:
    res = CliRunner().invoke(app, ["report", str(results)])
    assert res.exit_code == 0, res.output
    path = results / "report.html"
    assert res.output.strip() == f"report written to {path}"
    return path


def test_report_has_every_section_and_the_headline(report, results):
    text = report.read_text(encoding="utf-8")
    summary = json.loads((results / "summary.json").read_text())
    for anchor, _name in SECTIONS:
        assert f'<section id="{anchor}">' in text
        assert f'href="#{anchor}"' in text
    assert "<h1>Workforce plan: tiny</h1>" in text
    assert "optimal" in text
    w = summary["weighted_shortfall"]
    assert f'<div class="v ">{w:,.1f} FTE</div>' in text
    assert f'<div class="v ">{money(summary["total_cost"])}</div>' in text
    for sentence in summary["explanations"]:
        assert f"<li>{sentence.replace(chr(39), '&#x27;')}</li>" in text
    assert ("Budget &#x27;main&#x27; is spent to its limit of £300,000 a year in 2017, 2018, "
            "2019 and 2020") in text
    assert CAVEAT in text
    assert text.count('<img class="chart"') == CHARTS
    assert "Weighted shortfall removed per extra £1m by budget pot and year" in text


def test_report_is_self_contained(report):
    text = report.read_text(encoding="utf-8")
    assert "<script" not in text
    assert not re.search(r"""(src|href)=["'](?!data:|#)""", text)
    assert "http://" not in text.replace("http://www.w3.org", "")
    assert "https://" not in text


def test_report_is_the_same_every_time_and_from_memory(results, report, tmp_path):
    again = tmp_path / "again.html"
    res = CliRunner().invoke(app, ["report", str(results), "-o", str(again)])
    assert res.exit_code == 0
    assert again.read_bytes() == report.read_bytes()
    inst = load_instance(TINY, [("set", "budgets.main.per_year", 300000)])
    memory = solve(inst).report(tmp_path / "memory.html")
    assert memory.read_bytes() == report.read_bytes()


def test_report_of_a_plan_without_marginal_values(results, tmp_path):
    """Solved with explain off: the section says so (only it is rendered here;
    rendering the whole page is covered above)."""
    bare = tmp_path / "bare"
    shutil.copytree(results, bare)
    (bare / "marginal_values.csv").unlink()
    view = ResultsView.from_dir(bare)
    assert view.marginal_values is None
    text = marginal_section(view)
    assert "These results carry no marginal values" in text
    assert "<img" not in text


def test_report_of_an_infeasible_instance_shows_the_conflict(tmp_path):
    out = tmp_path / "results"
    res = CliRunner().invoke(app, ["solve", str(INFEASIBLE), "--out", str(out)])
    assert res.exit_code == 1
    res = CliRunner().invoke(app, ["report", str(out), "-o", str(tmp_path / "r.html")])
    assert res.exit_code == 0, res.output
    text = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<h2>Why no plan exists</h2>" in text
    assert "status-infeasible" in text
    assert ("Support worker (support) in post at Coastal Partnership Trust (coast_trust) at the "
            "end of 2017 cannot be negative.") in text
    assert '<section id="targets">' not in text


@pytest.mark.parametrize(("setup", "expected"), [
    (lambda d: None, "{d}/nowhere | no such results directory"),
    (lambda d: (d / "nowhere").mkdir(),
     "{d}/nowhere | not a results directory: summary.json is missing"),
])
def test_report_of_no_results_directory_is_a_usage_error(tmp_path, setup, expected):
    setup(tmp_path)
    res = CliRunner().invoke(app, ["report", str(tmp_path / "nowhere")])
    assert res.exit_code == 2
    assert res.output.strip() == expected.format(d=tmp_path)


def test_report_reads_marginal_values_without_later_columns(results, tmp_path):
    """A results directory from before value_places_free / holds_up_to existed."""
    old = tmp_path / "old"
    shutil.copytree(results, old)
    path = old / "marginal_values.csv"
    frame = pd.read_csv(path).drop(columns=["value_places_free", "holds_up_to"])
    frame.to_csv(path, index=False)
    view = ResultsView.from_dir(old)
    assert view.marginal_values["value_places_free"].isna().all()
    text = marginal_section(view)
    assert "budget in a year" in text and text.count("<img") == 1


def test_report_file_is_readable_by_others(report):
    """Written through a private temporary file, but shared like any new file."""
    umask = os.umask(0)
    os.umask(umask)
    assert report.stat().st_mode & 0o777 == 0o666 & ~umask


def test_report_names_each_broken_file(results, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(results, broken)
    (broken / "report.html").unlink(missing_ok=True)
    (broken / "training.csv").unlink()
    targets = (broken / "targets.csv").read_text().replace(",shortfall,", ",short,")
    (broken / "targets.csv").write_text(targets)
    (broken / "budget.csv").write_text("")
    res = CliRunner().invoke(app, ["report", str(broken)])
    assert res.exit_code == 2
    assert res.output.splitlines() == [
        f"{broken}/targets.csv | missing columns: shortfall",
        f"{broken}/training.csv | missing",
        f"{broken}/budget.csv | empty: not even a header",
    ]
    assert "Traceback" not in res.output
    assert not (broken / "report.html").exists()


def test_report_onto_a_directory_is_a_usage_error_and_writes_nothing(results, tmp_path):
    target = tmp_path / "taken"
    target.mkdir()
    res = CliRunner().invoke(app, ["report", str(results), "-o", str(target)])
    assert res.exit_code == 2
    assert res.output.strip() == f"--output {target} | is a directory, not a file"
    assert list(tmp_path.iterdir()) == [target]


@pytest.mark.skipif(chromium_path() is None, reason="needs chromium (scripts/test.sh "
                    "installs it)")
def test_report_in_headless_chromium(report, tmp_path):
    with HeadlessChromium(width=1366, height=900) as browser:
        browser.open(report)
        errors = browser.console_errors()
        remote = browser.remote_requests()
        images = browser.evaluate(
            "Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete, "
            "natural: [i.naturalWidth, i.naturalHeight], shown: [i.clientWidth, "
            "i.clientHeight]}))")
        sections = browser.evaluate(
            "Array.from(document.querySelectorAll('section')).map(s => [s.id, "
            "s.offsetHeight])")
        widths = browser.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        wide_tables = browser.evaluate(
            "Array.from(document.querySelectorAll('.scroll')).filter(b => b.scrollWidth > "
            "b.clientWidth + 1).map(b => b.closest('section').id)")
        shot = browser.screenshot(tmp_path / "report.png")
    assert errors == []
    assert remote == []
    assert len(images) == CHARTS
    for img in images:
        assert img["complete"], img["alt"]
        assert min(img["natural"]) > 0 and min(img["shown"]) > 50, img
    assert [s[0] for s in sections] == ["headline", *[a for a, _ in SECTIONS]]
    assert all(height > 40 for _, height in sections)
    assert widths[0] <= widths[1], "the page scrolls sideways at 1366 px"
    assert wide_tables == [], "tables that scroll sideways at 1366 px"
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 100_000
