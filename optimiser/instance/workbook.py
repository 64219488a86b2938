"""Instances and results as Excel workbooks (SPEC §3 "Workbooks", §4 ``--xlsx``).

Reading: :func:`read_workbook` turns an ``.xlsx`` instance into the same
expanded document and :class:`~optimiser.instance.loader.Provenance` as a YAML file with
CSV sections, so overrides, validation and every later step are shared. The
``instance`` sheet holds the scalar fields as ``key, value`` rows with dotted
keys; every list section is a sheet of the same name whose rows go through the
loader's CSV code (:func:`optimiser.instance.loader.section_from_rows`), so cells follow
the CSV conventions and problems are located as ``workforce sheet row 14,
column fte``. What a sheet can hold and a CSV cannot is checked here: merged
cells, formulas (their cached value is used; a formula never calculated has
none and is an error), error values such as ``#DIV/0!``.

Writing: :func:`instance_workbook` lays out a validated
:class:`~optimiser.instance.schema.Instance` generically over the schema (every list
section of :data:`~optimiser.instance.schema.LIST_SECTIONS`, every field of its model),
for a planner to read and edit: a ``README`` sheet saying what each sheet and
column is, headers bold and frozen, widths set, money and FTE formatted.
:func:`instance_tables` gives the same rows for CSV files (``wfopt convert``
back to YAML). :func:`write_results_workbook` writes a results directory's
tables and summary as one workbook.

Workbooks are written deterministically: openpyxl stamps the document's
creation and modification times and every zip member's date, so the writer
leaves the document dates out and repacks the archive with one fixed member
date (:func:`save_workbook`): the same input gives the same bytes.

Reading uses openpyxl too (twice: once for formulas and merged cells, once for
the values a spreadsheet program last calculated), since a faster reader
(python-calamine) does not report merged cells or formulas, and instance
workbooks are small.
"""

from __future__ import annotations

import csv
import datetime
import io
import math
import os
import re
import tempfile
import typing
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from optimiser.errors import Problem, known
from optimiser.instance.loader import YEAR_FIELDS, Provenance, section_from_rows
from optimiser.instance.schema import LIST_SECTIONS, Instance
from optimiser.results.atomic import write_file_atomically

INSTANCE_SHEET = "instance"
README_SHEET = "README"

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
"""The date of every member of a written workbook: the earliest a zip file can
hold, so that nothing of the moment of writing reaches the bytes."""

CORE_PROPERTIES = "docProps/core.xml"
_DATES = re.compile(rb"<dcterms:(created|modified)\b[^>]*>[^<]*</dcterms:\1>")

MONEY_FORMAT = "#,##0"
FTE_FORMAT = "#,##0.0"
YEAR_FORMAT = "0"

MONEY_FIELDS = {"cost_per_place_year", "cohort_fixed_cost", "cost_per_returner", "fixed_cost",
                "min_funding", "cost_per_recruit", "per_year", "total"}
"""Instance columns in currency (any new field whose documentation says
"currency" is formatted as money too)."""

FTE_FIELDS = {"fte", "joiners", "posts", "pool", "max_per_year", "max_total", "required"}
"""Instance columns in FTE."""

RESULT_MONEY = {"cost", "spend", "funding", "spent", "limit", "total_cost"}
RESULT_FTE = {"fte", "leavers", "retained", "graduates", "upskilled_out", "returners",
              "international", "joiners", "posts", "vacancies", "required", "achieved",
              "shortfall", "recruits", "unplaced", "weighted_shortfall"}

CONVENTIONS = [
    "Empty cell: not given (the field's default).",
    "true or false: yes/no fields (Excel's TRUE and FALSE work too).",
    "A list in one cell: a;b (groups, eligible units, intake years).",
    "Weights or a mapping in one cell: a:1;b:0.8 (groups with weights, "
    "eligible as top_leaver_rate:20).",
    "A response curve in one cell: spend:effect pairs, 0:0;200000:20;500000:35.",
    "A {year: value} field (targets' required, training's committed, budgets' "
    "per_year): one row per year with the year in the year column, the other "
    "columns repeated; a budget's per_year may be one number on a row without a year.",
    "Dotted columns (supervision.group) are the fields of a nested setting.",
    "Formulas are allowed: the value a spreadsheet program last calculated is read "
    "(save the workbook from Excel or LibreOffice so that it has one). Do not merge cells.",
]


# ---------------------------------------------------------------- reading


@dataclass
class WorkbookProvenance(Provenance):
    """Provenance of a workbook: list sections as sheets (``prov.csv``, the CSV
    code's record), scalar fields by their row of the ``instance`` sheet."""

    key_rows: dict[str, int] = field(default_factory=dict)
    """Dotted key of the ``instance`` sheet -> its row."""

    def locate(self, loc: Iterable[Any], doc: dict[str, Any] | None = None) -> str:
        loc = list(loc)
        if loc and loc[0] not in LIST_SECTIONS:
            parts = [str(p) for p in loc if p != "[key]"]
            for n in range(len(parts), 0, -1):
                row = self.key_rows.get(".".join(parts[:n]))
                if row is not None:
                    return f"{INSTANCE_SHEET} sheet row {row} ({'.'.join(parts)})"
            return f"{INSTANCE_SHEET} sheet, key {'.'.join(parts)}"
        return super().locate(loc, doc)


def read_workbook(path: Path) -> tuple[dict[str, Any], Provenance, list[Problem]]:
    """Read an instance workbook into the expanded document (as
    :func:`optimiser.instance.loader.read_document` does for YAML and CSV)."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    prov = WorkbookProvenance(file=path.name)
    if not path.is_file():
        return {}, prov, [Problem(str(path), "file not found")]
    try:
        formulas = openpyxl.load_workbook(path, data_only=False)
        values = openpyxl.load_workbook(path, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        return {}, prov, [Problem(path.name, f"cannot read the workbook: {exc or type(exc)}")]
    problems: list[Problem] = []
    doc: dict[str, Any] = {}
    expected = [README_SHEET, INSTANCE_SHEET, *LIST_SECTIONS]
    for name in formulas.sheetnames:
        if name == README_SHEET:
            continue  # what the sheets are, for people; written by instance_workbook
        if name not in expected:
            problems.append(Problem(
                f"{name} sheet", "not a section of an instance: rename it to a section or "
                                 "delete it; " + known(name, expected)))
            continue
        reported: list[str] = []
        grid, grid_problems = _sheet_text(formulas[name], values[name], name, reported)
        problems += grid_problems
        # A cell left empty by a problem above would also be reported as a
        # missing value; the loader drops field problems at places in
        # ``unread`` (already reported).
        prov.unread.update(reported)
        if name == INSTANCE_SHEET:
            problems += _read_scalars(grid, doc, prov)
        else:
            problems += _read_section(grid, name, doc, prov)
    if INSTANCE_SHEET not in formulas.sheetnames:
        problems.append(Problem(path.name, f"no '{INSTANCE_SHEET}' sheet: it holds name, "
                                           "horizon.base_year, horizon.years and the other "
                                           "single values as key, value rows"))
    return doc, prov, problems


def _sheet_text(ws_f, ws_v, sheet: str, reported: list[str]
                ) -> tuple[list[list[Any]], list[Problem]]:
    """The sheet's cells as values (formulas replaced by their cached values),
    row 1 first, trailing empty cells of each row and trailing empty rows cut.
    Merged ranges, formulas without a cached value and error values are
    problems; ``reported`` gains the places of the cells they leave empty."""
    problems: list[Problem] = []
    header = [c.value for c in next(ws_f.iter_rows(min_row=1, max_row=1), ())]

    def column_name(col: int) -> str:
        name = header[col - 1] if col - 1 < len(header) else None
        if isinstance(name, str) and name.strip() and sheet != INSTANCE_SHEET:
            return name.strip()
        from openpyxl.utils import get_column_letter

        return get_column_letter(col)

    for rng in sorted(ws_f.merged_cells.ranges, key=lambda r: (r.min_row, r.min_col)):
        problems.append(Problem(
            f"{sheet} sheet row {rng.min_row}, column {column_name(rng.min_col)}",
            f"merged cells {rng.coord}: a merged range keeps its value in its first cell "
            "only; unmerge it and give every cell its value"))
        reported += [f"{sheet} sheet row {r}, column {column_name(c)}"
                     for r in range(rng.min_row, rng.max_row + 1)
                     for c in range(rng.min_col, rng.max_col + 1)
                     if (r, c) != (rng.min_row, rng.min_col)]
    rows: list[list[Any]] = []
    for row_f, row_v in zip(ws_f.iter_rows(min_row=1), ws_v.iter_rows(min_row=1), strict=False):
        out: list[Any] = []
        for cf, cv in zip(row_f, row_v, strict=False):
            value = cv.value
            if cf.data_type == "f":
                text = cf.value if isinstance(cf.value, str) else getattr(cf.value, "text", "")
                if value is None:
                    where = f"{sheet} sheet row {cf.row}, column {column_name(cf.column)}"
                    problems.append(Problem(
                        where, f"formula {text} has no saved value (the workbook was never "
                               "calculated by a spreadsheet program): open and save it in "
                               "Excel or LibreOffice, or type the value"))
                    reported.append(where)
            if cv.data_type == "e" or (isinstance(value, str) and value in _ERRORS):
                where = f"{sheet} sheet row {cf.row}, column {column_name(cf.column)}"
                problems.append(Problem(where, f"holds the error value {value}; give a value"))
                reported.append(where)
                value = None
            out.append(value)
        while out and _blank(out[-1]):
            out.pop()
        rows.append(out)
    while rows and not rows[-1]:
        rows.pop()
    return rows, problems


_ERRORS = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"}


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def cell_text(v: Any) -> str:
    """A cell as the CSV code reads it: numbers in full precision (a whole
    number without ``.0``, so that it can be a year or a count), booleans as
    ``true``/``false``, dates as ISO text."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return _num(v)
    if isinstance(v, datetime.datetime | datetime.date | datetime.time):
        return v.isoformat()
    return str(v).strip()


def _num(v: float | int) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v) if isinstance(v, float) else str(v)


def _read_section(grid: list[list[Any]], section: str, doc: dict[str, Any],
                  prov: Provenance) -> list[Problem]:
    where = f"{section} sheet"
    if not grid or not any(not _blank(v) for v in grid[0]):
        prov.unread.add(section)
        doc[section] = []
        return [Problem(where, "empty sheet: row 1 must name the section's columns "
                               "(or delete the sheet when the section has no rows)")]
    model = LIST_SECTIONS[section]
    header = {cell_text(v).split(".", 1)[0] for v in grid[0]}
    missing = [f for f, info in model.model_fields.items()
               if info.is_required() and f not in header]
    if missing:
        # Every row would lack it: one problem for the column, not one per row.
        prov.unread.add(section)
        doc[section] = []
        return [Problem(f"{where} column {f}", "required column missing from row 1")
                for f in missing]
    rows = [[cell_text(v) for v in row] for row in grid]
    items, src, problems = section_from_rows(rows, where, section, model)
    doc[section] = items
    prov.csv[section] = src
    # A cell emptied by a problem already reported (a merged or uncalculated
    # cell) is no second problem, e.g. "differs from row 2 for the same id".
    return [p for p in problems if p.location not in prov.unread]


def _read_scalars(grid: list[list[Any]], doc: dict[str, Any],
                  prov: WorkbookProvenance) -> list[Problem]:
    """``key, value`` rows (an optional header row ``key, value``) into nested
    mappings of ``doc``; values keep their cell types (pydantic reads them)."""
    problems: list[Problem] = []
    where = f"{INSTANCE_SHEET} sheet"
    for r, row in enumerate(grid, start=1):
        cells = [*row, None, None]
        key, value = cells[0], cells[1]
        if r == 1 and cell_text(key).lower() == "key" and cell_text(value).lower() == "value":
            continue
        if _blank(key) and _blank(value):
            continue
        if any(not _blank(v) for v in cells[2:]):
            problems.append(Problem(f"{where} row {r}", "only two columns: key and value"))
        key = cell_text(key)
        if not key:
            problems.append(Problem(f"{where} row {r}, column A", "a value without a key"))
            continue
        if key in prov.key_rows:
            problems.append(Problem(f"{where} row {r}", f"key {key} given twice "
                                                        f"(row {prov.key_rows[key]})"))
            continue
        prov.key_rows[key] = r
        parts = key.split(".")
        if parts[0] in LIST_SECTIONS:
            problems.append(Problem(f"{where} row {r} ({key})", f"{parts[0]} is a list "
                                    f"section: give it as a sheet named {parts[0]}"))
            continue
        if _blank(value):
            continue  # not given
        if isinstance(value, str):
            # Spaces typed around a value are not part of it; a line break is
            # (a folded YAML description ends with one).
            value = value.strip(" \t")
        node = doc
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                problems.append(Problem(f"{where} row {r} ({key})",
                                        f"{p} is a single value, not a group of keys"))
                break
        else:
            if isinstance(node.get(parts[-1]), dict):
                problems.append(Problem(f"{where} row {r} ({key})",
                                        "is a group of keys, not a single value"))
            else:
                node[parts[-1]] = value
    return problems


# ---------------------------------------------------------------- layout


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model of a field that is a model or optional model (a setting with
    its own fields, written as dotted columns); ``None`` for anything else
    (a list, a mapping or a union with them is one cell)."""
    if typing.get_origin(annotation) in (list, tuple, dict):
        return None  # a list of models is no setting of its own
    args = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
    if len(args) == 1 and isinstance(args[0], type) and issubclass(args[0], BaseModel):
        return args[0]
    return None


def section_columns(section: str) -> list[str]:
    """A section's columns in the order of its model's fields: a nested setting
    as dotted columns, ``year`` just before the first ``{year: value}`` field."""
    model = LIST_SECTIONS[section]
    years = YEAR_FIELDS.get(section, ())
    cols: list[str] = []
    for name, info in model.model_fields.items():
        if name in years and "year" not in cols:
            cols.append("year")
        sub = _nested_model(info.annotation)
        if sub is not None:
            cols += [f"{name}.{s}" for s in sub.model_fields]
        else:
            cols.append(name)
    return cols


def _compound(v: Any) -> Any:
    """A value as one cell: lists as ``a;b``, mappings as ``a:1;b:0.8``,
    breakpoints as ``0:0;2e5:20``; numbers, text and booleans as they are."""
    if v is None:
        return None
    if isinstance(v, dict):
        return ";".join(f"{k}:{_scalar_text(x)}" for k, x in v.items())
    if isinstance(v, list | tuple):
        if v and all(isinstance(x, list | tuple) for x in v):
            return ";".join(":".join(_scalar_text(y) for y in x) for x in v)
        return ";".join(_scalar_text(x) for x in v)
    return v


def _scalar_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return _num(v)
    return str(v)


def section_rows(section: str, items: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """The header and rows of a section in the CSV conventions (SPEC §3), from
    its items as dumped (``model_dump(exclude_unset=True)``): one row per year
    of a ``{year: value}`` field, the other cells repeated."""
    cols = section_columns(section)
    years = [f for f in YEAR_FIELDS.get(section, ()) if f in cols]
    rows: list[list[Any]] = []
    for item in items:
        flat: dict[str, Any] = {}
        for name, value in item.items():
            sub = _nested_model(LIST_SECTIONS[section].model_fields[name].annotation)
            if sub is not None and isinstance(value, dict):
                for k, v in value.items():
                    flat[f"{name}.{k}"] = _compound(v)
            elif name not in years:
                flat[name] = _compound(value)
        by_year: dict[Any, dict[str, Any]] = {}
        for f in years:
            value = item.get(f)
            if isinstance(value, dict):
                for y, v in value.items():
                    by_year.setdefault(y, {})[f] = v
            elif value is not None:  # one number for every year (per_year)
                flat[f] = value
        for y in sorted(by_year) or [None]:
            cells = dict(flat)
            if y is not None:
                cells["year"] = y
                cells.update(by_year[y])
            rows.append([cells.get(c) for c in cols])
    return cols, rows


def _scalar_rows(inst: Instance) -> list[tuple[str, Any]]:
    """The ``instance`` sheet: every field that is not a list section, by dotted
    key in the model's order, given or not (an empty value is "not given"), so
    that the planner sees what can be set."""
    data = inst.model_dump(mode="python", exclude_unset=True, exclude=set(LIST_SECTIONS))
    rows = []
    for key in _dotted_fields(Instance):
        node: Any = data
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, list) and any(isinstance(x, dict) for x in node):
            # A list of items outside the list sections (the scenarios' list)
            # has no sheet of its own yet: refuse rather than write a cell that
            # would not read back.
            raise ConversionError(f"{key} | a workbook cannot hold this list; convert to "
                                  "YAML instead")
        if isinstance(node, dict) and any(isinstance(v, list | tuple) for v in node.values()):
            # A sample's {KEY: [lo, hi]} ranges: no cell form reads them back.
            raise ConversionError(f"{key} | a workbook cannot hold these ranges; convert to "
                                  "YAML instead")
        rows.append((key, _compound(node)))
    return rows


def _dotted_fields(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, info in model.model_fields.items():
        if not prefix and name in LIST_SECTIONS:
            continue
        sub = _nested_model(info.annotation)
        key = f"{prefix}{name}"
        out += _dotted_fields(sub, key + ".") if sub is not None else [key]
    return out


def _describe(model: type[BaseModel], name: str) -> str:
    info = model.model_fields.get(name)
    if info is None or not info.description:
        return ""
    return " ".join(info.description.split())


def _column_doc(section: str, column: str) -> str:
    model = LIST_SECTIONS[section]
    if column == "year":
        fields = ", ".join(YEAR_FIELDS.get(section, ()))
        return f"Year of the {fields} value on this row (one row per year)."
    top, _, sub = column.partition(".")
    if sub:
        nested = _nested_model(model.model_fields[top].annotation)
        return _describe(nested, sub) if nested else ""
    return _describe(model, top)


def _number_format(section: str | None, column: str) -> str | None:
    base = column.rsplit(".", 1)[-1]
    if base == "year" or column in ("horizon.base_year",):
        return YEAR_FORMAT
    if base in MONEY_FIELDS:
        return MONEY_FORMAT
    if base in FTE_FIELDS:
        return FTE_FORMAT
    if section is not None:
        model = LIST_SECTIONS[section]
        if "currency" in _describe(model, base).lower().split(", "):
            return MONEY_FORMAT
    return None


def instance_tables(inst: Instance) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Header and rows of every non-empty list section, in the CSV conventions."""
    out = {}
    for section in LIST_SECTIONS:
        items = getattr(inst, section)
        if items:
            out[section] = section_rows(
                section, [it.model_dump(mode="python", exclude_unset=True) for it in items])
    return out


def instance_workbook(inst: Instance, source: str | None = None):
    """The instance as an openpyxl ``Workbook`` a planner can read and edit."""
    from openpyxl import Workbook

    wb = Workbook()
    readme = wb.active
    readme.title = README_SHEET
    scalars = wb.create_sheet(INSTANCE_SHEET)
    _table(scalars, ["key", "value"], [[k, v] for k, v in _scalar_rows(inst)],
           formats={"value": None}, freeze="B2")
    for key_row in scalars.iter_rows(min_row=2, max_col=2):
        fmt = _number_format(None, str(key_row[0].value))
        if fmt and isinstance(key_row[1].value, int | float) and not isinstance(
                key_row[1].value, bool):
            key_row[1].number_format = fmt
        if isinstance(key_row[1].value, str) and "\n" in key_row[1].value:
            from openpyxl.styles import Alignment

            key_row[1].alignment = Alignment(wrap_text=True, vertical="top")
    scalars.column_dimensions["B"].width = 60
    summary: list[list[Any]] = [
        [INSTANCE_SHEET, "The single values: name, horizon, objective, solver. Two "
                         "columns, a dotted key and its value.", None]]
    docs: list[list[Any]] = []
    for section, model in LIST_SECTIONS.items():
        items = getattr(inst, section)
        cols, rows = section_rows(
            section, [it.model_dump(mode="python", exclude_unset=True) for it in items])
        ws = wb.create_sheet(section)
        freeze = "B2" if cols and cols[0] == "id" else "A2"
        _table(ws, cols, rows, formats={c: _number_format(section, c) for c in cols},
               freeze=freeze)
        what = " ".join((model.__doc__ or "").split())
        summary.append([section, what, len(items)])
        docs += [[section, c, _column_doc(section, c)] for c in cols]
    lines: list[list[Any]] = [
        [f"Workforce-planning instance: {inst.name}"],
        [f"Written by wfopt convert{f' from {source}' if source else ''}. Edit the "
         "sheets, then solve this file: wfopt solve THIS.xlsx --out DIR. "
         "Field reference: docs/instance-format.md."],
        [],
        ["sheet", "what it holds", "items"],
        *summary,
        [],
        ["Cells"],
        *[[c] for c in CONVENTIONS],
        [],
        ["sheet", "column", "meaning"],
        *docs,
    ]
    for line in lines:
        readme.append(line)
    _readme_style(readme, heads=[1, 4, 6 + len(summary), 8 + len(summary) + len(CONVENTIONS)])
    return wb


def _readme_style(ws, heads: list[int]) -> None:
    from openpyxl.styles import Alignment, Font

    for r in heads:
        for c in ws[r]:
            c.font = Font(bold=True, size=13 if r == 1 else 11)
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 90
    ws.column_dimensions["C"].width = 90
    for row in ws.iter_rows(min_row=2):
        for c in row:
            if isinstance(c.value, str) and len(c.value) > 80:
                c.alignment = Alignment(wrap_text=True, vertical="top")


def _table(ws, header: list[str], rows: list[list[Any]], formats: dict[str, str | None],
           freeze: str) -> None:
    """Header (bold, frozen) and rows; widths from the content; number formats
    per column."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws.append(header)
    for c in ws[1]:
        c.font = Font(bold=True)
    for row in rows:
        ws.append([_cell(v) for v in row])
    ws.freeze_panes = freeze
    for j, name in enumerate(header, start=1):
        letter = get_column_letter(j)
        fmt = formats.get(name)
        width = len(str(name))
        for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
            if fmt and isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                cell.number_format = fmt
            width = max(width, len(_shown(cell.value, fmt)))
        ws.column_dimensions[letter].width = min(max(width + 2, 8), 60)


def _cell(v: Any) -> Any:
    """A value openpyxl writes as it is: NaN (not applicable) as an empty cell."""
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def _shown(v: Any, fmt: str | None) -> str:
    """About what a cell shows, for its column's width."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "FALSE"
    if isinstance(v, int | float):
        if fmt == MONEY_FORMAT:
            return f"{v:,.0f}"
        if fmt == FTE_FORMAT:
            return f"{v:,.1f}"
        return _num(v)
    return str(v).split("\n", 1)[0]


# ---------------------------------------------------------------- saving


def save_workbook(wb, path: str | Path) -> Path:
    """Write ``wb`` to ``path`` atomically (a temporary file renamed into place)
    and deterministically (no document dates, one fixed date in the archive)."""
    from openpyxl.writer.excel import ExcelWriter

    wb.properties.creator = "wfopt"
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(wb, archive).write_data()
    # Every member gets ZIP_DATE: openpyxl's members carry the time they were
    # written (and its temporary files' times), which would change the bytes.
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            data = src.read(info.filename)
            if info.filename == CORE_PROPERTIES:
                # openpyxl always writes the moment of writing as the document's
                # creation and modification dates; both are optional there.
                data = _DATES.sub(b"", data)
            dst.writestr(member, data)
    return write_bytes_atomically(out.getvalue(), path)


def write_bytes_atomically(data: bytes, path: str | Path) -> Path:
    """``data`` into ``path`` atomically
    (:func:`optimiser.results.atomic.write_file_atomically`)."""
    return write_file_atomically(data, path)


def write_instance_workbook(inst: Instance, path: str | Path, source: str | None = None
                            ) -> Path:
    return save_workbook(instance_workbook(inst, source), path)


# ---------------------------------------------------------------- results


# ---------------------------------------------------------------- convert

INSTANCE_SUFFIXES = (".yaml", ".yml", ".json", ".xlsx")
"""What ``wfopt convert`` reads; it writes ``.xlsx``, ``.yaml`` or ``.yml``."""


DIGITS = 16
"""Significant digits of a number in a workbook cell as openpyxl writes it
(``%.16g``; Excel shows 15). Numbers typed by people round-trip exactly; the
last bit of a computed one (``1e6 * 1.1`` is 1100000.0000000002) may not."""


def _digits(value: Any) -> Any:
    """``value`` (a model, or what it dumps to) with every float to
    :data:`DIGITS` significant digits, for comparing what a workbook holds."""
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, float):
        return float(f"{value:.{DIGITS}g}")
    if isinstance(value, dict):
        return {k: _digits(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_digits(v) for v in value]
    return value


class ConversionError(ValueError):
    """The converted instance would not load as the original (a value the
    target form cannot hold); the text names the section."""


def _csv_cell(v: Any) -> str:
    if v is None:
        return ""
    return _scalar_text(v)


def instance_yaml(inst: Instance, source: str | None = None) -> tuple[str, dict[str, str]]:
    """The instance as YAML text and its list sections as CSV texts
    (``{file name: text}``), every non-empty section in ``<section>.csv``."""
    import yaml

    doc: dict[str, Any] = inst.model_dump(mode="json", exclude_unset=True,
                                          exclude=set(LIST_SECTIONS))
    files: dict[str, str] = {}
    for section, (cols, rows) in instance_tables(inst).items():
        used = [j for j, c in enumerate(cols) if any(r[j] is not None for r in rows)]
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow([cols[j] for j in used])
        writer.writerows([[_csv_cell(r[j]) for j in used] for r in rows])
        files[f"{section}.csv"] = buf.getvalue()
        doc[section] = f"{section}.csv"
    ordered = {k: doc[k] for k in Instance.model_fields if k in doc}
    head = f"# Converted by `wfopt convert`{f' from {source}' if source else ''}.\n"
    text = head + yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True, width=100,
                                 default_flow_style=None)
    return text, files


def write_instance_yaml(inst: Instance, path: str | Path, source: str | None = None) -> Path:
    """``path`` (YAML) and its CSV files beside it. Every file is written to a
    temporary name first and renamed only when all are written, so that a
    failure leaves the previous files as they were."""
    path = Path(path).resolve()
    text, files = instance_yaml(inst, source)
    outputs = {path: text.encode("utf-8")}
    outputs.update({path.parent / name: t.encode("utf-8") for name, t in files.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    temps: list[tuple[str, Path]] = []
    try:
        for target, data in outputs.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                       dir=target.parent)
            temps.append((tmp, target))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        for tmp, target in temps:
            os.replace(tmp, target)
    except BaseException:
        for tmp, _ in temps:
            Path(tmp).unlink(missing_ok=True)
        raise
    return path
