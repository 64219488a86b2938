"""The HTML report (optimiser.report.page, ``wfopt report``, ``Result.report``).

The report is read from a real results directory written by ``wfopt solve``
and checked as text (every section, the headline numbers, nothing fetched from
the network, the same bytes every time, the same from a Result in memory) and
in a real headless Chromium (tests/chromium.py): no console errors, no request
leaves the machine, every chart drawn at a non-zero size, no page-wide
horizontal scroll at a laptop's 1366 px, and a full-page screenshot written.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from chromium import HeadlessChromium, needs_chromium
from conftest import build_doc, write_doc
from typer.testing import CliRunner

from cli import app
from optimiser import load_instance, solve
from optimiser.explain.marginals import CAVEAT
from optimiser.explain.wording import money
from optimiser.report.page import SECTIONS, ResultsView, marginal_section, render_report, sections

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "instances" / "tiny" / "instance.yaml"
INFEASIBLE = REPO / "tests" / "data" / "infeasible" / "regional_supervision.yaml"

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


OPTIONAL = ("fair-shares", "vacancies")
"""Sections only for results that have fair shares / funded posts (tiny has neither)."""


def test_report_has_every_section_and_the_headline(report, results):
    text = report.read_text(encoding="utf-8")
    summary = json.loads((results / "summary.json").read_text())
    for anchor, _name in SECTIONS:
        shown = anchor not in OPTIONAL
        assert (f'<section id="{anchor}">' in text) is shown, anchor
        assert (f'href="#{anchor}"' in text) is shown, anchor
    assert "<h1>Workforce plan: tiny</h1>" in text
    assert "optimal" in text
    w = summary["weighted_shortfall"]
    assert f'<div class="v ">{w:,.1f} FTE</div>' in text
    assert f'<div class="v ">{money(summary["total_cost"])}</div>' in text
    overview, *reasons = summary["explanations"]
    assert f"<p>{html.escape(overview)}</p>" in text
    for sentence in reasons:
        assert f"<li>{html.escape(sentence)}</li>" in text
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
    assert ("Mental health nurse (nurse) in post at Northern Care Trust (north_trust) at the end "
            "of 2018 are the previous year&#x27;s staff less the 30% who leave") in text
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


@needs_chromium
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
    assert [s[0] for s in sections] == ["headline", *[a for a, _ in SECTIONS
                                                      if a not in OPTIONAL]]
    assert all(height > 40 for _, height in sections)
    assert widths[0] <= widths[1], "the page scrolls sideways at 1366 px"
    assert wide_tables == [], "tables that scroll sideways at 1366 px"
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 100_000


# ---------------------------------------------------------------- what the charts show (issue 11)


@pytest.fixture
def figures(monkeypatch) -> list:
    """The matplotlib figures the report's charts would embed, in page order."""
    from optimiser.report import charts

    caught: list = []

    def keep(fig, alt, caption=None, share=1.0):
        caught.append(fig)
        return ""

    monkeypatch.setattr(charts, "embed", keep)
    return caught


def chart_texts(fig) -> list[str]:
    """Every title, tick label and legend entry of a figure."""
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def test_charts_use_names_and_ids_as_words_never_raw_ids(results, figures):
    """Targets by label, staff groups and units by the instance's names (from the
    summary's names), programmes and pots without a name as words."""
    from optimiser.report.page import render_report
    from optimiser.results.tables import instance_names

    view = ResultsView.from_dir(results)
    view.summary["names"] = instance_names(load_instance(TINY))
    render_report(view)
    assert len(figures) == CHARTS
    texts = [t for fig in figures for t in chart_texts(fig)]
    flat = " ".join(t.replace("\n", " ") for t in texts)
    assert "Mental health nurses (national)" in flat        # a target's label
    assert "Mental health nurse: " in flat                  # a staff group's name
    assert "Nursing degree → Mental health nurse" in flat   # no name: the id as words
    assert "Northern Care Trust" in flat or "City Mental Health Trust" in flat  # units
    assert "Main" in flat and "Education" in flat           # pots have no names
    ids = [t for t in texts if "_" in t]
    assert ids == [], f"ids in the charts: {ids}"


def test_without_names_ids_read_as_words(results):
    view = ResultsView.from_dir(results)
    # The summary names what the instance names; programmes of stepping-forward
    # have no name, and a results folder of an older engine has no names at all.
    view.summary.pop("names", None)
    assert view.name("training", "nursing_degree_east_of_england") == \
        "Nursing degree east of england"
    assert view.name("staff_groups", "mh_nurse") == "MH nurse"
    view.summary["names"] = {"staff_groups": {"mh_nurse": "Mental health nurse"}}
    assert view.name("staff_groups", "mh_nurse") == "Mental health nurse"


def test_target_panels_show_a_small_gap_and_say_how_large(figures):
    """1,728 FTE short of 43,788 is 4%: on an axis from zero it was invisible.
    The axis is around the data and the gap is drawn and labelled."""
    from optimiser.report import charts

    charts.target_gaps([("Mental health nurses (+8,100)", ["2018", "2019", "2020"],
                         [39116.3, 41088.0, 42060.1], [38388.0, 41088.0, 43788.0])],
                       alt="", caption="")
    (fig,) = figures
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    assert 30_000 < low < 38_388 and high > 43_788
    assert (43_788 - 42_060.1) / (high - low) > 0.2, "the gap is a fifth of the panel or more"
    assert "−1,728" in chart_texts(fig)
    gaps = [c for c in ax.collections if c.get_label() == "shortfall"]
    assert len(gaps) == 1
    ((_, a), (_, r)) = gaps[0].get_segments()[0]
    assert (a, r) == pytest.approx((42060.1, 43788.0))


def test_long_titles_wrap_and_are_not_cut(figures):
    from optimiser.report import charts

    title = ("Children and young people's psychological therapist training, North East and "
             "Yorkshire (CYP IAPT)")
    charts.small_multiples([(title, ["2017"], [1.0], [2.0])] * 4, bar_label="a",
                           overlay_label="b", overlay="marks", alt="", caption="", cols=4)
    for ax in figures[0].axes:
        shown = ax.get_title()
        assert "…" not in shown and shown.replace("\n", " ") == title
        assert max(len(line) for line in shown.splitlines()) <= charts.title_width(4)


@pytest.mark.parametrize("n", [12, 20])
def test_up_to_twenty_series_get_twenty_colours(figures, n):
    """Twelve staff groups or targets drew with eight colours, so four pairs shared one."""
    from matplotlib.colors import to_hex

    from optimiser.report import charts

    assert len(set(charts.palette(n))) == n
    charts.stacked_years({f"series {k}": [1.0, 2.0] for k in range(n)}, ["2017", "2018"],
                         "FTE", alt="", caption="")
    ax = figures[0].axes[0]
    colours = {to_hex(p.get_facecolor()) for p in ax.patches}
    assert len(colours) == n


# ---------------------------------------------------------------- posts, vacancies, fair shares


def posts_and_fair_shares() -> dict:
    """Nurses have funded posts: Northern Trust (north) 100 of 100, Southern Trust
    (south) 80 of 100, Coastal Trust (south) 90 of 100, Eastern Trust (east) 94 of
    100. None leave, and nothing recruits nurses but a northern course whose 20
    committed entrants of 2020 graduate in 2021, when no northern post is free:
    all 20 are unplaced. At the end of 2021, 36 of 400 posts are vacant (9.0%):
    Southern Trust has the highest rate (20 of 100), then Coastal (10%) and
    Eastern (6%). Therapists have no posts: 100 at Northern and 100 at Southern,
    a national route of 30; the north needs 120 and the south 140, one fair-share
    group, so both end 11.5% short (30 × 120/260 and 30 × 140/260 FTE): the
    solver splits the recruits (placement free, SPEC §2.14)."""
    doc = build_doc(
        placement="free",
        groups={"nurse": 0.0, "therapist": 0.0},
        units={"u1": "north", "u2": "south", "u3": "south", "u4": "east"},
        workforce=[*({"unit": u, "group": "nurse", "fte": fte, "posts": 100}
                     for u, fte in (("u1", 100), ("u2", 80), ("u3", 90), ("u4", 94))),
                   {"unit": "u1", "group": "therapist", "fte": 100},
                   {"unit": "u2", "group": "therapist", "fte": 100}],
        international=[{"id": "therapists_abroad", "group": "therapist",
                        "cost_per_recruit": 100, "max_per_year": 30}],
        training=[{"id": "north_course", "name": "Northern nursing course", "group": "nurse",
                   "duration": 1, "completion_rate": 1.0, "cost_per_place_year": 10,
                   "integer_places": False, "max_places_per_year": 0,
                   "committed": {2020: 20}, "region": "north"}],
        targets=[{"id": "nurses", "label": "Nurses (national)", "groups": ["nurse"],
                  "required": {2021: 400}},
                 *({"id": f"{r}_therapists", "label": f"Therapists, {r}", "region": r,
                    "groups": ["therapist"], "required": {2021: need},
                    "fair_share": "therapists"} for r, need in (("north", 120),
                                                                ("south", 140)))])
    doc["staff_groups"][0]["name"] = "Nurse"
    doc["staff_groups"][1]["name"] = "Therapist"
    names = {"u1": "Northern Trust", "u2": "Southern Trust", "u3": "Coastal Trust",
             "u4": "Eastern Trust"}
    for unit in doc["units"]:
        unit["name"] = names[unit["id"]]
    return doc


@pytest.fixture(scope="module")
def posts_results(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("posts")
    path = write_doc(posts_and_fair_shares(), folder / "instance")
    out = folder / "results"
    res = CliRunner().invoke(app, ["solve", str(path), "--out", str(out)])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["report", str(out)])
    assert res.exit_code == 0, res.output
    return out


def table_after(text: str, heading: str) -> list[list[str]]:
    """The body rows (cell texts) of the first table after ``heading``."""
    start = text.index(heading)
    body = text[text.index("<tbody>", start):text.index("</tbody>", start)]
    rows = re.findall(r"<tr>(.*?)</tr>", body)
    return [[html.unescape(c.replace("<wbr>", "")) for c in re.findall(r"<td[^>]*>(.*?)</td>", r)]
            for r in rows]


def test_vacancies_and_fair_shares_appear_with_posts_and_fair_shares(posts_results):
    text = (posts_results / "report.html").read_text(encoding="utf-8")
    summary = json.loads((posts_results / "summary.json").read_text())
    assert summary["fairness"]["groups"]["therapists"]["2021"]["worst"] == \
        pytest.approx(30 / 260, abs=1e-6)
    view = ResultsView.from_dir(posts_results)
    assert [a for a, _ in sections(view)] == [a for a, _ in SECTIONS]
    for anchor in OPTIONAL:
        assert f'<section id="{anchor}">' in text and f'href="#{anchor}"' in text
    assert "<strong>36 of 400 funded posts are vacant (9.0%)</strong>" in text
    # The trust with the highest vacancy rate at the end of the plan comes first.
    trusts = table_after(text, "<h3>Trusts with the highest vacancy rate at the end of 2021")
    assert trusts == [
        ["Southern Trust", "South", "100.0", "80.0", "20.0", "20.0%", "Nurse 20 (20%)"],
        ["Coastal Trust", "South", "100.0", "90.0", "10.0", "10.0%", "Nurse 10 (10%)"],
        ["Eastern Trust", "East", "100.0", "94.0", "6.0", "6.0%", "Nurse 6 (6%)"]]
    # The spread between a region's trusts: only the South has two trusts with
    # nurse posts, 20% and 10% vacant in 2020 and in 2021 (nobody joins them).
    assert ("differ by <strong>10.0 points</strong> at the median over regions, groups "
            "and years, and by 10.0 at most (Nurse in South, 2020)") in text
    spread = table_after(text, "<summary>Least and most vacant trust per region")
    assert spread == [["South", "Nurse", "10%–20%", "10%–20%"]]
    unplaced = table_after(text, "<h3>Graduates left unplaced</h3>")
    assert unplaced == [["Northern nursing course", "Nurse", "20.0", "20.0"]]
    fair = table_after(text, '<section id="fair-shares">')
    assert sorted(row[2:4] for row in fair) == [["Therapists, north", "11.5%"],
                                                ["Therapists, south", "11.5%"]]
    assert text.count('<img class="chart"') == CHARTS_WITH_POSTS


CHARTS_WITH_POSTS = 11
"""The posts instance's charts: targets, staff by group, shortfall, fair shares,
vacancy rate by region, staff against posts by group, rate by group and region,
spend by lever, the pot, training, recruits (no retention, no budget that binds)."""


def test_the_sections_show_only_what_the_results_have(posts_results, tmp_path):
    """Without fairness in the summary no fair-shares section; without posts (and
    no unplaced graduates) no vacancies section; a results folder of an earlier
    engine, without the posts, vacancies, unplaced and fair_share columns, reads
    as having neither."""
    view = ResultsView.from_dir(posts_results)
    assert view.has_posts and view.has_fairness
    view.summary.pop("fairness")
    assert [a for a, _ in sections(view)] == [a for a, _ in SECTIONS if a != "fair-shares"]
    assert '<section id="fair-shares">' not in render_report(view)
    view.tables["workforce"]["posts"] = float("nan")
    assert view.has_posts  # the unplaced graduates are still there
    view.tables["training"]["unplaced"] = 0.0
    assert not view.has_posts
    assert '<section id="vacancies">' not in render_report(view)
    old = tmp_path / "old"
    shutil.copytree(posts_results, old)
    for name, columns in (("workforce", ["posts", "vacancies"]), ("training", ["unplaced"]),
                          ("targets", ["fair_share"])):
        frame = pd.read_csv(old / f"{name}.csv").drop(columns=columns)
        frame.to_csv(old / f"{name}.csv", index=False)
    summary = json.loads((old / "summary.json").read_text())
    summary.pop("fairness")
    (old / "summary.json").write_text(json.dumps(summary))
    view = ResultsView.from_dir(old)
    assert not view.has_posts and not view.has_fairness
    assert set(view.tables["targets"]["fair_share"]) == {""}
    assert [a for a, _ in sections(view)] == [a for a, _ in SECTIONS if a not in OPTIONAL]


def test_vacancy_and_fair_share_charts_use_names(posts_results, figures):
    from optimiser.report.page import fair_shares_section, vacancies_section

    view = ResultsView.from_dir(posts_results)
    vacancies_section(view)
    fair_shares_section(view)
    assert len(figures) == 4
    texts = [t for fig in figures for t in chart_texts(fig)]
    flat = " ".join(t.replace("\n", " ") for t in texts)
    assert "South: 15.0% vacant in 2021 (30 of 200)" in flat   # the worst region first
    assert "Nurse: 36 of 400 vacant in 2021 (9%)" in flat
    assert "All regions" in flat and "20% 30 FTE" not in flat and "15% 30 FTE" in flat
    assert "Therapists, 2021: worst 11.5%" in flat
    assert "Therapists, north" in flat and "Therapists, south" in flat
    ids = [t for t in texts if "_" in t]
    assert ids == [], f"ids in the charts: {ids}"
    regions = [ax.get_title().replace("\n", " ") for ax in figures[0].axes]
    assert [r.split(":")[0] for r in regions] == ["South", "East", "North"]


@needs_chromium
def test_vacancies_and_fair_shares_in_headless_chromium(posts_results, tmp_path):
    """The vacancy and fair-share sections as a reader sees them: in the page and the
    navigation, their charts drawn, the worst trust in the first row, nothing
    scrolling sideways at 1366 px."""
    with HeadlessChromium(width=1366, height=900) as browser:
        browser.open(posts_results / "report.html")
        errors = browser.console_errors()
        remote = browser.remote_requests()
        shown = browser.evaluate(
            "Array.from(document.querySelectorAll('section')).map(s => [s.id, "
            "s.offsetHeight, Array.from(s.querySelectorAll('img')).map(i => i.complete && "
            "i.naturalWidth > 0 && i.clientWidth > 50 && i.clientHeight > 50)])")
        nav = browser.evaluate("Array.from(document.querySelectorAll('nav a')).map(a => "
                               "a.getAttribute('href'))")
        first = browser.evaluate(
            "Array.from(document.querySelectorAll('#vacancies h3 + p + .scroll tbody tr, "
            "#vacancies h3 + .scroll tbody tr')).slice(0, 1).map(r => "
            "Array.from(r.cells).map(c => c.innerText))[0]")
        widths = browser.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        wide = browser.evaluate(
            "Array.from(document.querySelectorAll('.scroll')).filter(b => b.scrollWidth > "
            "b.clientWidth + 1).map(b => b.closest('section').id)")
        browser.screenshot(tmp_path / "posts.png")
    assert errors == [] and remote == []
    ids = [s[0] for s in shown]
    assert ids == ["headline", *[a for a, _ in SECTIONS]]
    assert nav == [f"#{a}" for a, _ in SECTIONS]
    assert all(height > 40 for _, height, _ in shown)
    drawn = {s[0]: s[2] for s in shown}
    assert drawn["vacancies"] == [True, True, True]
    assert drawn["fair-shares"] == [True]
    assert first[:2] == ["Southern Trust", "South"] and first[5] == "20.0%"
    assert widths[0] <= widths[1], "the page scrolls sideways at 1366 px"
    assert wide == [], "tables that scroll sideways at 1366 px"
