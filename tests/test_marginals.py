"""Marginal values (optimiser.explain.marginals) and why the shortfall remains
(optimiser.explain.diagnose.explain_shortfall).

``tests/data/marginal/instance.yaml`` works every value out by hand in its
header. The values are checked three ways: against those hand numbers, against
finite differences on the plan's LP with integers fixed (re-solved with +£1m or
+1 unit), and against the full MIP re-solved with +£1m where that does not change
the whole-number decisions.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from pytest import approx
from typer.testing import CliRunner

from cli import app
from optimiser import Override, SolveOptions, load_instance, solve
from optimiser.engine.solve import HighsModel
from optimiser.explain.marginals import COLUMNS, fixed_integer_lp, gain

HERE = Path(__file__).resolve().parent
MARGINAL = HERE / "data" / "marginal" / "instance.yaml"
TINY = HERE.parent / "instances" / "tiny" / "instance.yaml"


def solved(path: Path, *sets: str, **options):
    """The instance solved with the overrides ``sets``; tiny's levers placed
    ``free`` (SPEC §2.14), the plan these marginal values were worked on."""
    sets = ("placement=free", *sets) if path == TINY else sets
    inst = load_instance(path, [Override.parse("set", s) for s in sets])
    return solve(inst, SolveOptions(**options))


def value(mv: pd.DataFrame, kind: str, item: str, year) -> pd.Series:
    rows = mv[(mv["kind"] == kind) & (mv["item"] == item) & (mv["year"] == str(year))]
    assert len(rows) == 1, f"{len(rows)} rows for {kind} {item} {year}"
    return rows.iloc[0]


def plan_lp(result):
    """The plan's LP with integers fixed, rebuilt from the solved Pyomo model."""
    hm = HighsModel(result.model)
    x = np.array([v.value or 0.0 for v in hm.columns])
    lp = fixed_integer_lp(hm, x, hm.c_W)
    assert lp.status == "Optimal"
    return lp


@pytest.fixture(scope="module")
def marginal():
    return solved(MARGINAL)


@pytest.fixture(scope="module")
def tiny():
    return solved(TINY)


# ---------------------------------------------------------------- by hand


def test_budget_values_worked_out_by_hand(marginal):
    mv = marginal.marginal_values
    assert list(mv.columns) == COLUMNS
    total = value(mv, "budget_total", "main", "total")
    assert total["value"] == approx(67.5, rel=1e-6)
    assert total["binding"]
    assert total["per"] == "£1m"
    assert value(mv, "budget_per_year", "main", 2019)["value"] == approx(1e6 / 12000 - 67.5,
                                                                         rel=1e-6)
    assert value(mv, "budget_per_year", "main", 2018)["value"] == approx(7.5, rel=1e-6)
    y2017 = value(mv, "budget_per_year", "main", 2017)
    assert y2017["value"] == 0 and not y2017["binding"]
    assert y2017["used"] == approx(2.0e6, rel=1e-4)
    # The education pot never runs short: worth nothing at the margin.
    edu = mv[mv["item"] == "education"]
    assert len(edu) == 3 and (edu["value"] == 0).all()


def test_cap_values_worked_out_by_hand(marginal):
    mv = marginal.marginal_values
    for year, want in ((2017, 0.405), (2018, 0.45), (2019, 0.5)):
        row = value(mv, "international_per_year", "partner", year)
        assert row["value"] == approx(want, rel=1e-6)
        assert row["per"] == "recruit" and row["limit"] == 20 and row["binding"]
    assert value(mv, "training_places", "nursing_course", 2017)["value"] == approx(0.72)
    assert value(mv, "training_places", "nursing_course", 2018)["value"] == approx(0.8)
    # A 2019 intake graduates after the target: the plan takes none, so no cap binds.
    assert not ((mv["kind"] == "training_places") & (mv["year"] == "2019")).any()
    # The agency route is far from its caps: not listed.
    assert not (mv["item"] == "agency").any()


def test_every_row_says_the_integers_are_held(marginal, tiny):
    for mv in (marginal.marginal_values, tiny.marginal_values):
        binding = mv[mv["value"] > 0]
        assert len(binding) >= 5
        assert binding["note"].str.contains("integers fixed").all()


def test_weighted_mode_values_count_the_money_too(tmp_path):
    """W + C/v with v = £100,000 per FTE: every pound also costs 1e-5, so the
    total limit is worth 67.5 − 10 = 57.5 per £1m; a per-year limit moves money
    between years and keeps its 15.8333."""
    r = solved(MARGINAL, "objective.mode=weighted", "objective.value_per_fte=1e5")
    mv = r.marginal_values
    assert r.objective_mode == "weighted"
    assert value(mv, "budget_total", "main", "total")["value"] == approx(57.5, rel=1e-6)
    assert value(mv, "budget_per_year", "main", 2019)["value"] == approx(15.833333, rel=1e-6)
    assert "weighted objective" in value(mv, "budget_total", "main", "total")["note"]
    assert any(t.startswith("Budget 'main' is spent to its total limit of £4m over the plan "
                            "(an extra £1m would remove 57.5 FTE of weighted objective")
               for t in r.explanations)


def test_a_pot_that_only_pays_for_places_is_valued_with_places_free():
    """With £300,000 a year for education the course runs 29 places (29 × £10,000 +
    £10,000 for the cohort): the pot binds, but with places held more money buys
    nothing. With places free to grow, £1m buys 100 more places: 100 × 0.72 =
    72 FTE in 2017 (graduates in 2018, 0.9 left by 2019) and 100 × 0.8 = 80 in
    2018. A re-solve of that LP with +£100,000 (inside the 21 places left under
    the cap of 50) removes a tenth of it."""
    r = solved(MARGINAL, "budgets.education.per_year=300000")
    mv = r.marginal_values
    for year, want in ((2017, 72.0), (2018, 80.0)):
        row = value(mv, "budget_per_year", "education", year)
        assert row["binding"] and row["value"] == 0
        assert row["value_places_free"] == approx(want, rel=1e-6)
        assert "with training places free to grow" in row["note"]
    assert value(mv, "budget_total", "main", "total")["value_places_free"] == approx(67.5)
    assert mv[~mv["kind"].str.startswith("budget")]["value_places_free"].isna().all()

    hm = HighsModel(r.model)
    x = np.array([v.value or 0.0 for v in hm.columns])
    binary = np.array([v.is_binary() for v in hm.columns])
    free = fixed_integer_lp(hm, x, hm.c_W, hold=binary)
    i = free.row_of["budget_per_year", ("education", 2018)]
    assert gain(free, rows={i: (free.row_lower[i], free.row_upper[i] + 1e5)}) == approx(8.0)
    assert any(t.startswith("Budget 'education' is spent to its limit of £300,000 a year in "
                            "2017 and 2018 (an extra £1m there would remove 80 FTE of "
                            "weighted shortfall, in 2018, spent on more training places)")
               for t in r.explanations)


# ---------------------------------------------------------------- finite differences


def test_budget_values_agree_with_plus_one_million_on_the_fixed_lp(marginal):
    lp = plan_lp(marginal)
    mv = marginal.marginal_values
    checked = 0
    for _, row in mv[mv["kind"].str.startswith("budget")].iterrows():
        comp = row["kind"]
        key = (comp, row["item"]) if comp == "budget_total" else (
            comp, (row["item"], int(row["year"])))
        i = lp.row_of[key]
        removed = gain(lp, rows={i: (lp.row_lower[i], lp.row_upper[i] + 1e6)})
        assert removed == approx(row["value"], rel=1e-6, abs=1e-6), key
        checked += 1
    assert checked == 7


def test_cap_values_agree_with_one_more_unit_on_the_fixed_lp(marginal, tiny):
    lp = plan_lp(marginal)
    for y in (2017, 2018, 2019):
        j = lp.col_of["I", ("partner", y)]
        removed = gain(lp, cols={j: (0.0, 21.0)})
        assert removed == approx(value(marginal.marginal_values, "international_per_year",
                                       "partner", y)["value"], rel=1e-6)
    # A place is a fixed whole number, and its cohort's cap row goes up with it.
    j = lp.col_of["N", ("nursing_course", 2018)]
    i = lp.row_of["cohort_max", ("nursing_course", 2018)]
    removed = gain(lp, cols={j: (51.0, 51.0)}, rows={i: (lp.row_lower[i], 1.0)})
    assert removed == approx(0.8, rel=1e-6)
    assert value(marginal.marginal_values, "training_places", "nursing_course",
                 2018)["holds_up_to"] == 51

    lp = plan_lp(tiny)
    mv = tiny.marginal_values
    i = lp.row_of["returners_pool", "nurse_rtp"]
    assert gain(lp, rows={i: (lp.row_lower[i], 61.0)}) == approx(
        value(mv, "return_to_practice_pool", "nurse_rtp", "all")["value"], rel=1e-6)
    i = lp.row_of["recruits_total", "nurse_intl"]
    assert gain(lp, rows={i: (lp.row_lower[i], 41.0)}) == approx(
        value(mv, "international_total", "nurse_intl", "all")["value"], rel=1e-6)


def test_a_whole_place_that_does_not_fit_is_said_so(tiny):
    """tiny's upskilling course is at its cap of 30, and one place more is worth
    1.488 FTE at the margin, but the education pot has £6,000 left in 2018 and a
    place costs £15,000 a year: a whole place does not fit."""
    row = value(tiny.marginal_values, "training_places", "nurse_associate_upskill", 2017)
    assert row["value"] == approx(1.488, rel=1e-6)
    assert "does not fit" in row["note"]
    assert pd.isna(row["holds_up_to"])
    lp = plan_lp(tiny)
    j = lp.col_of["N", ("nurse_associate_upskill", 2017)]
    assert gain(lp, cols={j: (31.0, 31.0)}) is None


def test_an_extra_funded_unit_is_no_better_in_the_full_mip(tiny):
    """The value of one more funded retention unit comes from a re-solve with the
    other integers held; the full MIP with the cap raised can only do better."""
    row = value(tiny.marginal_values, "retention_units", "high_exit", 2019)
    assert row["value"] > 1.0 and "coast_trust" in row["note"]
    wider = solved(TINY, "retention.high_exit.max_units_per_year=2")
    assert tiny.weighted_shortfall - wider.weighted_shortfall >= row["value"] - 1e-6


# ---------------------------------------------------------------- the full MIP


@pytest.mark.parametrize(("override", "kind", "year"), [
    ("budgets.main.total=5.0e6", "budget_total", "total"),
    ("budgets.main.per_year.2019=2.0e6", "budget_per_year", 2019),
    ("budgets.main.per_year.2018=2.0e6", "budget_per_year", 2018),
])
def test_budget_values_agree_with_the_full_mip_when_integers_stay(marginal, override, kind,
                                                                  year):
    more = solved(MARGINAL, override)
    same = ["places", "cohort_runs"]
    assert more.tables["training"][same].equals(marginal.tables["training"][same])
    removed = marginal.weighted_shortfall - more.weighted_shortfall
    assert removed == approx(value(marginal.marginal_values, kind, "main", year)["value"],
                             rel=1e-5)


# ---------------------------------------------------------------- outputs


def test_solve_writes_marginal_values_csv_deterministically(tmp_path):
    runner = CliRunner()
    texts = []
    for name in ("a", "b"):
        res = runner.invoke(app, ["solve", str(MARGINAL), "--out", str(tmp_path / name)])
        assert res.exit_code == 0, res.output
        texts.append((tmp_path / name / "marginal_values.csv").read_bytes())
    assert texts[0] == texts[1]
    lines = texts[0].decode().splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert any(line.startswith("budget_total,main,total,4000000,") and ",67.5,£1m," in line
               for line in lines)
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert "explain" in summary["timings"]


def test_explain_off_writes_no_marginal_values(tmp_path):
    r = solved(MARGINAL, explain=False)
    assert r.marginal_values is None and r.explanations == []
    r.write(tmp_path / "out")
    assert not (tmp_path / "out" / "marginal_values.csv").exists()


# ---------------------------------------------------------------- why the shortfall remains


def test_explanations_name_what_binds(marginal):
    text = marginal.explanations
    assert text[0].startswith("A weighted shortfall of 2,020.4 FTE remains in 1 of 1 "
                              "target-years; the largest is 'nurses_2019' in 2019")
    assert ("Budget 'main' is spent to its limit of £1m a year in 2018 and 2019 (an extra £1m "
            "there would remove 15.8 FTE of weighted shortfall, in 2019, with the plan's "
            "whole-number decisions held).") in text
    assert any(t.startswith("Budget 'main' is spent to its total limit of £4m over the plan "
                            "(an extra £1m would remove 67.5 FTE") for t in text)
    assert any(t.startswith("International route 'partner' recruits its maximum of 20 a year "
                            "in 2017, 2018 and 2019 (one more recruit would remove 0.5 FTE")
               for t in text)
    assert any(t.startswith("Training 'nursing_course' takes its maximum of 50 places in 2017 "
                            "and 2018") for t in text)
    assert not any("education" in t for t in text)
    assert not any("agency" in t for t in text)


def test_explanations_find_pools_units_and_curves(tiny):
    text = "\n".join(tiny.explanations)
    assert ("Return-to-practice pool 'nurse_rtp' is used up: all 60 returners are brought "
            "back") in text
    assert "Retention scheme 'high_exit' funds its maximum of 1 unit a year in 2017, 2018, " \
           "2019 and 2020" in text
    assert "International route 'nurse_intl' recruits its maximum of 40 over the plan" in text
    assert ("Training 'nurse_associate_upskill' takes its maximum of 30 places in 2017 and 2018 "
            "(one more place would remove 1.49 FTE of weighted shortfall, in 2017, with the "
            "plan's whole-number decisions held, though a whole one does not fit within the "
            "budgets).") in text


def test_many_capped_programmes_are_named_in_one_sentence(tmp_path):
    """Four 1-year courses capped at 10 places, all worth taking in every year
    whose graduates arrive by 2019 (2017 and 2018 intakes): one sentence, the
    best value first."""
    doc = yaml.safe_load(MARGINAL.read_text())
    doc["training"] = [
        {"id": f"course_{k}", "group": "nurse", "duration": 1, "completion_rate": 0.5 + k / 10,
         "cost_per_place_year": 1000, "max_places_per_year": 10, "pot": "education"}
        for k in range(4)]
    path = tmp_path / "instance.yaml"
    path.write_text(yaml.safe_dump(doc))
    r = solved(path)
    lines = [t for t in r.explanations if t.startswith("Training")]
    assert lines == [
        "Training takes its maximum places in 4 programmes: 'course_0' (10 in 2017 and 2018); "
        "'course_1' (10 in 2017 and 2018); 'course_2' (10 in 2017 and 2018); 'course_3' (10 in "
        "2017 and 2018); one more place would remove up to 0.8 FTE of weighted shortfall "
        "('course_3', 2018) with the plan's whole-number decisions held."]


def test_explanations_find_a_pipeline_too_long():
    """A 3-year degree whose first intake is 2018 graduates in 2021 at the
    earliest, after tiny's last nurse target (2020)."""
    r = solved(TINY, "training.nursing_degree.intake_years=[2018, 2019]")
    assert ("Training 'nursing_degree' (a 3-year course) cannot help the targets: places "
            "started in 2018 or later graduate in 2021 at the earliest, after the last target "
            "year for Mental health nurse (nurse) (2020).") in r.explanations


def test_explanations_find_supervision_filled():
    """With 0.2 trainees per nurse, 2017 allows 0.2 × 1,270 = 254 trainees: the
    185 committed and at most 69 new places."""
    r = solved(TINY, "training.nursing_degree.supervision.max_trainees_per_fte=0.2")
    assert r.tables["training"].set_index(["programme", "year"]).loc[
        ("nursing_degree", 2017), "places"] == 69
    assert any(t.startswith("Training 'nursing_degree' fills its supervision capacity "
                            "(0.2 trainees per FTE of nurse) in 2017") for t in r.explanations)


def test_no_shortfall_says_so():
    r = solved(MARGINAL, "targets.nurses_2019.required={2019: 100}")
    assert r.weighted_shortfall == 0
    assert r.explanations == ["Every target is met in every year it names: no shortfall "
                              "remains."]
