"""Results as a workbook (``wfopt solve --xlsx``, ``wfopt export``): one sheet per
table and the summary, laid out and written as instance workbooks are
(:mod:`optimiser.instance.workbook`), deterministic to the byte."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

from optimiser.instance.workbook import (
    FTE_FORMAT,
    MONEY_FORMAT,
    RESULT_FTE,
    RESULT_MONEY,
    YEAR_FORMAT,
    _table,
    save_workbook,
)
from optimiser.results.format import TABLES


def results_workbook(folder: str | Path):
    """A results directory (``summary.json`` and its CSV tables) as a workbook:
    ``summary`` first, then one sheet per table in the order of SPEC §4, then
    ``marginal_values`` when present. Cells hold the numbers of the CSV files
    (6 decimals), formatted as money or FTE by column."""
    from openpyxl import Workbook


    folder = Path(folder)
    wb = Workbook()
    ws = wb.active
    ws.title = "summary"
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    rows: list[list[Any]] = []
    _flatten_summary("", summary, rows)
    _table(ws, ["key", "value"], rows, formats={}, freeze="B2")
    for row in ws.iter_rows(min_row=2, max_col=2):
        key = str(row[0].value).rsplit(".", 1)[-1]
        if isinstance(row[1].value, int | float) and not isinstance(row[1].value, bool):
            fmt = (MONEY_FORMAT if key in RESULT_MONEY else
                   FTE_FORMAT if key in RESULT_FTE else None)
            if fmt:
                row[1].number_format = fmt
    ws.column_dimensions["B"].width = 80
    names = [*TABLES, "marginal_values"]
    for name in names:
        path = folder / f"{name}.csv"
        if not path.is_file():
            continue
        with path.open(newline="", encoding="utf-8") as fh:
            grid = list(csv.reader(fh))
        if not grid:
            continue
        header, body = grid[0], [[_typed(v) for v in r] for r in grid[1:]]
        sheet = wb.create_sheet(name)
        formats = {c: (YEAR_FORMAT if c == "year" else MONEY_FORMAT if c in RESULT_MONEY
                       else FTE_FORMAT if c in RESULT_FTE else None) for c in header}
        _table(sheet, header, body, formats=formats, freeze="B2")
    return wb


def _flatten_summary(prefix: str, node: Any, rows: list[list[Any]]) -> None:
    """``summary.json`` as ``key, value`` rows: dotted keys, list items as
    ``key[1]``, empty lists and objects left out."""
    if isinstance(node, dict):
        for k, v in node.items():
            _flatten_summary(f"{prefix}.{k}" if prefix else str(k), v, rows)
    elif isinstance(node, list):
        for i, v in enumerate(node, start=1):
            _flatten_summary(f"{prefix}[{i}]", v, rows)
    else:
        rows.append([prefix, node])


def _typed(text: str) -> Any:
    """A CSV cell of a results table as a cell value: a number when it is one
    (whole numbers as int), text otherwise, empty as empty."""
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        v = float(text)
    except ValueError:
        return text
    return v if math.isfinite(v) else text


def write_results_workbook(folder: str | Path, path: str | Path) -> Path:
    """``wfopt export``: the results directory ``folder`` as the workbook ``path``."""
    return save_workbook(results_workbook(folder), path)
