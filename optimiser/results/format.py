"""The results' format: the tables, their columns and how numbers are rounded.
A leaf of the results stage, so that whatever reads or writes results (the
engine, the report, the workbook export, marginal values) shares it without
importing the results' extraction. Each lever's table and columns are its own
(:mod:`formulations.levers`); this lists those of the shipped levers."""

from __future__ import annotations

from formulations import LEVER_MODULES
from formulations.levers import DECIMALS, clean

__all__ = ["COLUMNS", "DECIMALS", "STOCK_FLOWS", "TABLES", "clean"]

STOCK_FLOWS = ("retained", "graduates", "upskilled_out", "returners", "international")
"""The levers' flows in the workforce table, in the order its readers know them
(a lever added later has its flows appended after ``vacancies``)."""

TABLES = ("workforce", "targets", *(lever.NAME for lever in LEVER_MODULES), "budget")

COLUMNS: dict[str, list[str]] = {
    "workforce": ["unit", "region", "group", "year", "fte", "leavers", *STOCK_FLOWS,
                  "joiners", "posts", "vacancies"],
    "targets": ["target", "label", "service", "scope", "year", "required", "achieved",
                "shortfall", "priority", "fair_share"],
    **{lever.NAME: list(lever.COLUMNS) for lever in LEVER_MODULES},
    "budget": ["pot", "year", "spent", "limit"],
}
