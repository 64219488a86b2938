"""The results' format: the tables, their columns and how numbers are rounded.
A leaf module, so that whatever reads or writes results (the engine, the
report, the workbook export, marginal values) shares it without importing the
results' extraction."""

from __future__ import annotations

TABLES = ("workforce", "targets", "training", "return_to_practice", "retention",
          "international", "budget")

COLUMNS: dict[str, list[str]] = {
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

DECIMALS = 6


def clean(x: float | None) -> float:
    """Round solver noise away; ``None`` (a variable the solver never saw) is 0."""
    if x is None:
        return 0.0
    r = round(float(x), DECIMALS)
    return 0.0 if r == 0 else r
