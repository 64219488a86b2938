"""Plain-language sentences about a plan (optimiser.explain.diagnose) and the names the
report shows for ids (optimiser.explain.wording.readable).

The budget sentences are built here from hand-made tables (no solve): the
point is what a planner reads when a pot is used up in several years.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from formulations.data import model_data
from optimiser import load_instance
from optimiser.explain.diagnose import explain_shortfall
from optimiser.results.tables import empty_tables

TINY = Path(__file__).resolve().parents[1] / "instances" / "tiny" / "instance.yaml"


def budget_sentences(per_year: dict[int, float], spent: dict[int, float]) -> list[str]:
    """explain_shortfall's sentences about pot 'main' of tiny, given each year's
    limit and spend (a shortfall is left so that the budgets are explained)."""
    inst = load_instance(TINY, [("set", "budgets.main.per_year", per_year),
                                ("set", "budgets.main.total", 1e9)])
    tables = empty_tables()
    tables["targets"] = pd.DataFrame([{
        "target": "nurses", "label": "", "service": "", "scope": "national", "year": "2020",
        "required": 100.0, "achieved": 90.0, "shortfall": 10.0, "priority": 1.0}])
    rows = [{"pot": "main", "year": str(y), "spent": spent[y], "limit": per_year[y]}
            for y in per_year]
    tables["budget"] = pd.DataFrame([*rows, {"pot": "main", "year": "total",
                                             "spent": sum(spent.values()), "limit": 1e9}])
    text = explain_shortfall(model_data(inst), tables, 10.0)
    return [t for t in text if t.startswith("Budget 'main'")]


def test_a_pot_used_up_in_several_years_is_said_per_year_not_summed():
    """Issue 11: '(£90m of £90m)' over three years read as one year's limit of
    £90m when the pot holds £30m a year."""
    years = {2017: 3e7, 2018: 3e7, 2019: 3e7, 2020: 3e7}
    spent = {2017: 3e7, 2018: 3e7, 2019: 3e7, 2020: 0.0}
    assert budget_sentences(years, spent) == [
        "Budget 'main' is spent to its limit of £30m a year in 2017, 2018 and 2019."]


def test_years_with_different_limits_give_each_year_its_figures():
    years = {2017: 6e7, 2018: 1e8, 2019: 1.25e8, 2020: 1.25e8}
    spent = {2017: 6e7, 2018: 9.96e7, 2019: 1e7, 2020: 0.0}
    assert budget_sentences(years, spent) == [
        "Budget 'main' is spent to its limit in 2017 (£60m) and 2018 (£99.6m of £100m)."]


def test_a_pot_used_up_in_one_year():
    years = {2017: 6e7, 2018: 1e8, 2019: 1e8, 2020: 1e8}
    spent = {2017: 6e7, 2018: 0.0, 2019: 0.0, 2020: 0.0}
    assert budget_sentences(years, spent) == [
        "Budget 'main' is spent to its limit of £60m in 2017."]


def test_amounts_and_year_spans_read_as_a_planner_writes_them():
    from optimiser.explain.wording import amount, spans

    assert [amount(x) for x in (1234.0, 1234.04, 12.5, 0.26, 20000.0)] == [
        "1,234", "1,234", "12.5", "0.3", "20,000"]
    assert spans([2022, 2019, 2020, 2021]) == "2019–2022"
    assert spans([2017, 2019, 2020]) == "2017 and 2019–2020"
    assert spans([2017, 2019, 2021]) == "2017, 2019 and 2021"
    assert spans(["2018"]) == "2018"
