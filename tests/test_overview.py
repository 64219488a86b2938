"""The plan on one screen (issue 31, optimiser.results.overview): the reasons
ranked by the marginal value they state, shortened to 200 characters, and the
HTML report's "why" section opening with the same five. The stepping-forward
summary itself is checked in tests/test_realistic.py (which holds every test
of the realistic instances)."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from formulations.words import removed_value, value_words
from optimiser.report.page import ResultsView, why_section
from optimiser.results.overview import ranked_reasons, shorten

OVERVIEW = "A weighted shortfall of 40.0 FTE remains in 2 of 4 target-years."
REASONS = [
    "Intakes grow as fast as allowed in 2 programmes: 'a' (5 a year, 2021); 'b' (6 a year, "
    "2021).",
    "Budget 'edu' is spent to its limit of £1m in 2021 (an extra £1m there would remove "
    "0.5 FTE of weighted shortfall, in 2021, with the plan's whole-number decisions held).",
    "Posts for Nurse are full at A (one more post would remove up to 12 FTE of weighted "
    "shortfall, at A in 2021, with the plan's whole-number decisions held).",
    "Training 'slow' (a 6-year course) cannot help the targets.",
    "International route 'far' recruits its maximum of 80 a year in 2021 (one more recruit "
    "would remove 1.23e+03 FTE of weighted shortfall, in 2021, with the plan's whole-number "
    "decisions held).",
    "Budget 'big' is spent to its total limit of £9m over the plan (an extra £1m would remove "
    "12 FTE of weighted shortfall, with the plan's whole-number decisions held).",
]


def marginal(value: float) -> pd.DataFrame:
    return pd.DataFrame([{"kind": "budget_per_year", "item": "edu", "year": "2021",
                          "value": value, "value_places_free": None, "note": ""}])


@pytest.mark.parametrize("value, stated", [(119.3, 119.0), (0.0022, 0.0022),
                                           (1234.5, 1230.0), (12345.0, 12300.0)])
def test_the_value_a_sentence_states_is_read_back(value, stated):
    """value_words writes 3 significant figures ({:,.3g}: 1.23e+03 from 1,000);
    removed_value reads them back, so the ranking follows the words' figure."""
    words = value_words(marginal(value), "budget_per_year", "edu", ["2021"], "an extra £1m")
    assert removed_value(words) == pytest.approx(stated)
    assert removed_value("Training 'slow' (a 6-year course) cannot help the targets.") is None


def test_reasons_rank_by_their_marginal_value_then_the_engines_order():
    """1,230 > 12 = 12 > 0.5, then those without a value; the equal twelves and
    the valueless keep the engine's order; the overview stays apart."""
    overview, reasons = ranked_reasons([OVERVIEW, *REASONS])
    assert overview == OVERVIEW
    assert [r.text for r in reasons] == [REASONS[i] for i in (4, 2, 5, 1, 0, 3)]
    assert [r.value for r in reasons] == [1230.0, 12.0, 12.0, 0.5, None, None]
    assert ranked_reasons([]) == (None, [])
    assert ranked_reasons(["Every target is met in every year it names."]) == (
        "Every target is met in every year it names.", [])


def test_a_long_list_becomes_the_first_three_and_a_count():
    items = [f"'p{i:02d}' ({i} a year)" for i in range(22)]
    text = ("Training takes its maximum places in 22 programmes: " + "; ".join(items)
            + "; one more place would remove up to 2.5 FTE of weighted shortfall "
            "('p03', 2018) with the plan's whole-number decisions held.")
    assert len(text) > 200
    short = shorten(text)
    assert short == ("Training takes its maximum places in 22 programmes: 'p00' (0 a year); "
                     "'p01' (1 a year); 'p02' (2 a year) and 19 more; one more place would "
                     "remove up to 2.5 FTE of weighted shortfall ('p03', 2018).")
    assert len(short) <= 200
    assert shorten(REASONS[1]) == REASONS[1]  # short already: unchanged


def test_named_and_counted_units_keep_their_first_and_the_value():
    units = ", ".join(f"Trust {i} NHS Foundation Trust (trust_{i})" for i in range(3))
    text = (f"Posts for Nurse (nurse) are full in 50 units in "
            f"2018–2019: {units} and 47 more (one more post would remove up to 0.476 FTE of "
            "weighted shortfall, at Trust 0 (trust_0) in 2018, "
            "with the plan's whole-number decisions held).")
    assert len(text) > 200
    assert shorten(text) == (
        "Posts for Nurse are full in 50 units in 2018–2019: Trust 0 NHS Foundation Trust and 49 "
        "more (one more post would remove up to 0.476 FTE of weighted shortfall, at Trust 0 in "
        "2018).")


def test_what_still_does_not_fit_is_cut_at_a_word():
    text = "word " * 100
    short = shorten(text, 50)
    assert len(short) <= 50 and short.endswith("word…")


def test_report_opens_with_the_five_reasons_and_folds_the_rest():
    """The "why" section: the overview, the five reasons of the largest value
    in the summary's order, then the sixth in a <details> element."""
    view = ResultsView(summary={"status": "optimal", "explanations": [OVERVIEW, *REASONS]},
                       tables={}, marginal_values=None)
    page = why_section(view)
    top, _, folded = page.partition("<details>")
    assert f"<p>{html.escape(OVERVIEW)}</p>" in top
    order = [REASONS[i] for i in (4, 2, 5, 1, 0)]
    at = [top.index(f"<li>{html.escape(r)}</li>") for r in order]
    assert at == sorted(at)
    assert folded.startswith("<summary>1 more reason</summary>")
    assert f"<li>{html.escape(REASONS[3])}</li>" in folded


def test_explain_reads_a_results_folder(tmp_path: Path):
    """``wfopt explain`` prints the overview and every reason, ranked; a folder
    without results is exit 2 with a located line."""
    (tmp_path / "summary.json").write_text(json.dumps(
        {"instance": "x", "status": "optimal", "explanations": [OVERVIEW, *REASONS],
         "messages": ["a note"]}), encoding="utf-8")
    res = CliRunner().invoke(app, ["explain", str(tmp_path)])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    start = lines.index("why the shortfall remains (every reason, the largest marginal value "
                        "first)")
    assert lines[start + 1] == f"  {OVERVIEW}"
    assert lines[start + 2:start + 8] == [f"  - {REASONS[i]}" for i in (4, 2, 5, 1, 0, 3)]
    assert lines[-1] == "note                a note"
    res = CliRunner().invoke(app, ["explain", str(tmp_path / "none")])
    assert res.exit_code == 2
    assert res.stderr == f"{tmp_path / 'none'} | no such results directory\n"


def test_the_good_plan_line_says_when_w_and_c_were_first_close():
    """summary.json's good_plan in one line: W within 1% at 7.6 s and within the
    gap at 17.8 s; C within 1% at 22.5 s and never within the gap (stopped by
    the limit at 0.24%), so only its 1% figure is told."""
    from optimiser.results.overview import Facts, good_plan_lines

    summary = {"status": "feasible", "good_plan": {
        "weighted_shortfall": {"within_1pct_seconds": 7.64, "within_gap_seconds": 17.818},
        "total_cost": {"within_1pct_seconds": 22.547, "within_gap_seconds": None}}}
    (line,) = good_plan_lines(Facts(summary, {}))
    assert line.split(None, 2)[2] == ("W within 1% at 7.6 s, within the gap at 17.8 s; "
                                      "C within 1% at 22.5 s (of its final bound, from "
                                      "the start)")
    assert good_plan_lines(Facts({"status": "no_solution"}, {})) == []
