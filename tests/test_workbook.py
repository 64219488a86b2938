"""Workbooks (SPEC §3 "Workbooks", §4 ``--xlsx``; optimiser/workbook.py).

A workbook made by ``wfopt convert`` from each shipped instance loads to the
same instance, and converting it back to YAML and CSV does too; tiny solves to
the same W and C from either (identical instances solve identically, so the
realistic instances are compared as loaded instances, and stepping-forward is
solved once from its workbook against its README's measured plan). The same
catalogue of bad inputs as the CSV files, through a workbook, gives located
problems and exit 2; merged cells and formulas are a workbook's own. Workbooks
are written deterministically (the same bytes twice), for a planner to read
(README sheet, bold frozen headers, widths and number formats), and results
become one sheet per table with ``solve --xlsx`` and ``export`` alike.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from cli import app
from optimiser import load_instance, solve
from optimiser.instance.loader import YEAR_FIELDS
from optimiser.instance.schema import LIST_SECTIONS, Instance
from optimiser.instance.workbook import (
    FTE_FORMAT,
    MONEY_FORMAT,
    _digits,
    instance_workbook,
    section_columns,
)
from optimiser.results.format import COLUMNS, TABLES

REPO = Path(__file__).resolve().parents[1]
INSTANCES = sorted(p.parent.name for p in (REPO / "instances").glob("*/instance.yaml"))
TINY = REPO / "instances" / "tiny" / "instance.yaml"


def run(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def tiny_xlsx(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tiny") / "tiny.xlsx"
    res = run("convert", TINY, path)
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[-1] == f"instance written to {path}"
    return path


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("name", INSTANCES)
def test_convert_round_trip_gives_the_same_instance(name, tmp_path):
    source = REPO / "instances" / name / "instance.yaml"
    original = load_instance(source)
    book = tmp_path / f"{name}.xlsx"
    assert run("convert", source, book).exit_code == 0
    assert load_instance(book) == original
    back = tmp_path / "back" / "instance.yaml"
    res = run("convert", book, back)
    assert res.exit_code == 0, res.output
    assert load_instance(back) == original
    # Every non-empty list section is a CSV file beside the YAML, by name.
    for section in LIST_SECTIONS:
        csv = back.parent / f"{section}.csv"
        assert csv.exists() == bool(getattr(original, section)), section


def test_tiny_solves_to_the_same_plan_from_its_workbook(tiny_xlsx, tmp_path):
    a = solve(load_instance(TINY))
    b = solve(load_instance(tiny_xlsx))
    assert a.status == b.status == "optimal"
    assert (a.weighted_shortfall, a.total_cost) == (b.weighted_shortfall, b.total_cost)
    for name in TABLES:
        assert a.tables[name].equals(b.tables[name]), name
    # and through the command line, which takes a workbook like any instance
    res = run("solve", tiny_xlsx, "--out", tmp_path / "out")
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["weighted_shortfall"] == a.weighted_shortfall
    assert summary["total_cost"] == a.total_cost
    assert run("validate", tiny_xlsx).output.splitlines()[-1] == "valid"


def test_stepping_forward_solves_from_its_workbook_as_measured(tmp_path):
    """One realistic solve (~25 s): the workbook's plan is the README's."""
    from test_docs_numbers import measured
    from test_realistic import solve_options

    folder = REPO / "instances" / "stepping-forward-2017"
    book = tmp_path / "plan.xlsx"
    assert run("convert", folder / "instance.yaml", book).exit_code == 0
    options = solve_options()
    result = solve(load_instance(book), options)
    quote = measured(folder / "README.md")
    gap = options.mip_gap if options.mip_gap is not None else load_instance(book).solver.mip_gap
    assert result.status == quote.status
    assert result.weighted_shortfall == pytest.approx(
        quote.w, abs=gap * max(abs(quote.w), 1.0) + quote.w_half_unit)
    assert result.total_cost == pytest.approx(
        quote.c, abs=gap * max(abs(quote.c), 1.0) + quote.c_half_unit)


def test_convert_applies_overrides_and_keeps_them(tmp_path):
    """A scaled budget is a computed number (1e6 × 1.1 = 1100000.0000000002):
    a workbook cell holds it to 16 significant digits."""
    book = tmp_path / "what-if.xlsx"
    res = run("convert", TINY, book, "--scale", "budgets=1.1")
    assert res.exit_code == 0, res.output
    scaled = load_instance(TINY, [("scale", "budgets", 1.1)])
    assert _digits(load_instance(book)) == _digits(scaled)
    assert load_instance(book).budgets[1].total == pytest.approx(3.85e6, rel=1e-15)
    back = tmp_path / "back.yaml"
    assert run("convert", TINY, back, "--scale", "budgets=1.1").exit_code == 0
    assert load_instance(back) == scaled  # YAML and CSV hold every digit


def test_the_converter_follows_the_schema():
    """Every field of every list section is a column (nested settings dotted,
    ``year`` before a {year: value} field): nothing is listed by hand."""
    for section, model in LIST_SECTIONS.items():
        cols = section_columns(section)
        for name in model.model_fields:
            assert name in cols or any(c.startswith(f"{name}.") for c in cols), (section, name)
        if YEAR_FIELDS.get(section):
            assert cols.index("year") < min(cols.index(f) for f in YEAR_FIELDS[section])


# ---------------------------------------------------------------- the planner's workbook


def test_the_workbook_is_readable(tiny_xlsx):
    wb = openpyxl.load_workbook(tiny_xlsx)
    assert wb.sheetnames == ["README", "instance", *LIST_SECTIONS]
    readme = [r[0] for r in wb["README"].iter_rows(values_only=True) if r[0]]
    for section in ["instance", *LIST_SECTIONS]:
        assert section in readme, section
    assert any("a:1;b:0.8" in line for line in readme)
    for name in ["instance", *LIST_SECTIONS]:
        ws = wb[name]
        assert all(c.font.bold for c in ws[1]), name
        assert ws.freeze_panes in ("A2", "B2"), name
        for col in range(1, ws.max_column + 1):
            letter = openpyxl.utils.get_column_letter(col)
            assert ws.column_dimensions[letter].width >= 8, (name, letter)
    ws = wb["workforce"]
    fte = [c.value for c in ws[1]].index("fte") + 1
    assert ws.cell(2, fte).number_format == FTE_FORMAT
    ws = wb["training"]
    cost = [c.value for c in ws[1]].index("cost_per_place_year") + 1
    assert ws.cell(2, cost).number_format == MONEY_FORMAT
    ws = wb["instance"]
    rows = {r[0]: r[1] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows["horizon.base_year"] == 2016 and rows["objective.mode"] == "lexicographic"
    assert "solver.threads" in rows  # not given, but listed: a planner sees it can be


def test_workbooks_are_deterministic(tmp_path):
    """Same instance, same bytes: no document dates, fixed member dates."""
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    assert run("convert", TINY, a).exit_code == 0
    assert run("convert", TINY, b).exit_code == 0
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode()
    assert "dcterms:created" not in core and "dcterms:modified" not in core


@pytest.mark.parametrize("target", ["out.csv", "instance.yaml"])
def test_convert_refuses_what_it_cannot_write(target, tmp_path, monkeypatch):
    """A CSV target, and the instance's own file as the target: refused, and the
    instance (a copy, so that a fault cannot overwrite the repository's own
    instances/tiny) left as it was."""
    shutil.copytree(TINY.parent, tmp_path / "tiny")
    source = tmp_path / "tiny" / "instance.yaml"
    before = source.read_bytes()
    monkeypatch.chdir(tmp_path / "tiny")
    res = run("convert", source, target)
    assert res.exit_code == 2
    assert " | " in res.output and "Traceback" not in res.output
    assert source.read_bytes() == before


def test_convert_of_an_invalid_instance_lists_its_problems(tmp_path):
    res = run("convert", TINY, tmp_path / "x.xlsx", "--set", "horizon.years=0")
    assert res.exit_code == 2
    assert ("horizon.years (from --set horizon.years=0) | must be in [1, 60], got 0"
            in res.output)
    assert not (tmp_path / "x.xlsx").exists()


# ---------------------------------------------------------------- bad inputs


def column(ws, name: str) -> int:
    return [c.value for c in ws[1]].index(name) + 1


def set_cell(sheet: str, row: int, col: str, value) -> Callable:
    def edit(wb):
        ws = wb[sheet]
        ws.cell(row, column(ws, col), value)
    return edit


def drop_column(sheet: str, col: str) -> Callable:
    def edit(wb):
        ws = wb[sheet]
        ws.delete_cols(column(ws, col))
    return edit


def empty_sheet(sheet: str) -> Callable:
    def edit(wb):
        ws = wb[sheet]
        ws.delete_rows(1, ws.max_row)
    return edit


def rename_sheet(old: str, new: str) -> Callable:
    def edit(wb):
        wb[old].title = new
    return edit


def merge(sheet: str, cells: str) -> Callable:
    def edit(wb):
        wb[sheet].merge_cells(cells)
    return edit


def set_key(key: str, value) -> Callable:
    def edit(wb):
        ws = wb["instance"]
        for row in ws.iter_rows(min_row=2):
            if row[0].value == key:
                row[1].value = value
    return edit


BAD = [
    ("unknown group", set_cell("workforce", 4, "group", "nruse"),
     "workforce sheet row 4, column group | unknown staff group 'nruse' (known: nurse, "
     "support, therapist)"),
    ("text in a number cell", set_cell("workforce", 5, "fte", "lots"),
     "workforce sheet row 5, column fte | must be a number, got 'lots'"),
    ("negative number", set_cell("workforce", 9, "fte", -3),
     "workforce sheet row 9, column fte | must be ≥ 0, got -3"),
    ("text in a list cell", set_cell("targets", 4, "groups", "therapist:x;nurse:0.5"),
     "targets sheet row 4, column groups (therapist) | must be a number, got 'x'"),
    ("missing required column", drop_column("workforce", "fte"),
     "workforce sheet column fte | required column missing from row 1"),
    ("unknown column", set_cell("units", 1, "name", "colour"),
     "units sheet column colour | unknown column; expected some of: id, name, region"),
    ("empty sheet", empty_sheet("retention"),
     "retention sheet | empty sheet: row 1 must name the section's columns (or delete the "
     "sheet when the section has no rows)"),
    ("sheet that is no section", rename_sheet("workforce", "workfroce"),
     "workfroce sheet | not a section of an instance: rename it to a section or delete it; "
     "known: workforce, README, budgets, instance, international, posts, retention, "
     "return_to_practice, … 4 more"),
    ("merged cells", merge("units", "C2:C3"),
     "units sheet row 2, column region | merged cells C2:C3: a merged range keeps its value "
     "in its first cell only; unmerge it and give every cell its value"),
    ("formula without a value", set_cell("workforce", 3, "fte", "=2*100"),
     "workforce sheet row 3, column fte | formula =2*100 has no saved value (the workbook was "
     "never calculated by a spreadsheet program): open and save it in Excel or LibreOffice, "
     "or type the value"),
    ("scalar out of range", set_key("horizon.base_year", 1800),
     "instance sheet row 5 (horizon.base_year) | must be in [1900, 2200], got 1800"),
    ("unknown key", lambda wb: wb["instance"].append(["horizon.bse_year", 2016]),
     "instance sheet row {next_row} (horizon.bse_year) | unknown key"),
    ("list section as a key", lambda wb: wb["instance"].append(["units", "units.csv"]),
     "instance sheet row {next_row} (units) | units is a list section: give it as a sheet "
     "named units"),
]


@pytest.mark.parametrize(("edit", "expected"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_bad_workbook_names_the_sheet_row_and_column(tiny_xlsx, tmp_path, edit, expected):
    wb = openpyxl.load_workbook(tiny_xlsx)
    next_row = wb["instance"].max_row + 1  # a key appended (the schema sets the rows above)
    edit(wb)
    bad = tmp_path / "bad.xlsx"
    wb.save(bad)
    res = run("validate", bad)
    assert res.exit_code == 2, res.output
    lines = res.output.splitlines()
    assert lines[0] == expected.format(next_row=next_row)
    # One problem, one line: a cell a workbook problem left empty is not also "missing".
    assert len(lines) == 2 and lines[1] == "1 problem in the input; nothing was solved."
    assert "Traceback" not in res.output


def test_a_formula_with_a_saved_value_is_read(tiny_xlsx, tmp_path):
    """As Excel saves it: the formula and the value it last calculated."""
    wb = openpyxl.load_workbook(tiny_xlsx)
    ws = wb["workforce"]
    ws.cell(2, column(ws, "fte"), "=400+20")
    plain = tmp_path / "plain.xlsx"
    wb.save(plain)
    calculated = tmp_path / "calculated.xlsx"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(calculated, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                data = re.sub(rb"<f>400\+20</f><v\s*/>", b"<f>400+20</f><v>420</v>", data)
            dst.writestr(info, data)
    assert load_instance(calculated) == load_instance(TINY)


def test_an_error_value_is_a_problem(tiny_xlsx, tmp_path):
    wb = openpyxl.load_workbook(tiny_xlsx)
    ws = wb["workforce"]
    ws.cell(2, column(ws, "fte"), "#DIV/0!")
    bad = tmp_path / "bad.xlsx"
    wb.save(bad)
    res = run("validate", bad)
    assert res.exit_code == 2
    assert res.output.splitlines()[0] == ("workforce sheet row 2, column fte | holds the error "
                                          "value #DIV/0!; give a value")


def test_a_file_that_is_no_workbook(tmp_path):
    fake = tmp_path / "fake.xlsx"
    fake.write_text("name: tiny\n")
    res = run("validate", fake)
    assert res.exit_code == 2
    assert res.output.startswith("fake.xlsx | cannot read the workbook: ")


def test_a_workbook_without_an_instance_sheet(tiny_xlsx, tmp_path):
    wb = openpyxl.load_workbook(tiny_xlsx)
    del wb["instance"]
    bad = tmp_path / "bad.xlsx"
    wb.save(bad)
    res = run("validate", bad)
    assert res.exit_code == 2
    assert res.output.splitlines()[0] == (
        "bad.xlsx | no 'instance' sheet: it holds name, horizon.base_year, horizon.years and "
        "the other single values as key, value rows")


def test_a_workbook_from_scratch_without_readme_or_optional_sheets(tmp_path):
    """What a planner might type: only the sheets needed, values as Excel keeps them."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "instance"
    for row in [["name", "scratch"], ["horizon.base_year", 2020], ["horizon.years", 2]]:
        ws.append(row)
    wb.create_sheet("staff_groups").append(["id", "leaver_rate"])
    wb["staff_groups"].append(["nurse", 0.1])
    units = wb.create_sheet("units")
    units.append(["id", "region"])
    units.append(["a", "north"])
    work = wb.create_sheet("workforce")
    work.append(["unit", "group", "fte"])
    work.append(["a", "nurse", 100.0])
    targets = wb.create_sheet("targets")
    targets.append(["id", "groups", "year", "required"])
    targets.append(["t", "nurse", 2022, 95])
    path = tmp_path / "scratch.xlsx"
    wb.save(path)
    inst = load_instance(path)
    assert isinstance(inst, Instance)
    assert inst.targets[0].required == {2022: 95.0}
    assert inst.workforce[0].fte == 100.0


def test_overrides_name_the_sheet(tiny_xlsx):
    res = run("validate", tiny_xlsx, "--set", "workforce.north_trust/nurse.fte=-1")
    assert res.exit_code == 2
    assert res.output.splitlines()[0] == ("workforce sheet row 2, column fte (from --set "
                                          "workforce.north_trust/nurse.fte=-1) | must be ≥ 0, "
                                          "got -1")


# ---------------------------------------------------------------- results


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("results") / "plan"
    res = run("solve", TINY, "--out", out, "--xlsx")
    assert res.exit_code == 0, res.output
    return out


def test_solve_xlsx_writes_one_sheet_per_table_and_the_summary(results):
    wb = openpyxl.load_workbook(results / "results.xlsx")
    tables = [*TABLES, "marginal_values"]
    assert wb.sheetnames == ["summary", *tables]
    for name in TABLES:
        ws = wb[name]
        assert [c.value for c in ws[1]] == COLUMNS[name], name
        assert all(c.font.bold for c in ws[1]) and ws.freeze_panes == "B2"
    summary = json.loads((results / "summary.json").read_text())
    keys = {r[0]: r[1] for r in wb["summary"].iter_rows(min_row=2, values_only=True)}
    assert keys["status"] == summary["status"]
    assert keys["weighted_shortfall"] == summary["weighted_shortfall"]
    assert keys["total_cost"] == summary["total_cost"]
    assert keys["stages[1].stage"] == summary["stages"][0]["stage"]


def test_workbook_cells_are_the_csv_values(results):
    import pandas as pd

    wb = openpyxl.load_workbook(results / "results.xlsx")
    for name in TABLES:
        frame = pd.read_csv(results / f"{name}.csv", dtype=str, keep_default_na=False)
        rows = list(wb[name].iter_rows(min_row=2, values_only=True))
        assert len(rows) == len(frame), name
        for cells, (_, expected) in zip(rows, frame.iterrows(), strict=True):
            for value, text in zip(cells, expected, strict=True):
                if text == "":
                    assert value is None
                elif isinstance(value, int | float):
                    assert value == float(text), (name, text)
                else:
                    assert value == text
    ws = wb["training"]
    assert ws.cell(2, column(ws, "cost")).number_format == MONEY_FORMAT
    ws = wb["workforce"]
    assert ws.cell(2, column(ws, "fte")).number_format == FTE_FORMAT


def test_export_gives_the_same_workbook_every_time(results, tmp_path):
    out = tmp_path / "export.xlsx"
    res = run("export", results, out)
    assert res.exit_code == 0, res.output
    assert res.output.strip() == f"workbook written to {out}"
    assert out.read_bytes() == (results / "results.xlsx").read_bytes()
    again = tmp_path / "again.xlsx"
    assert run("export", results, again).exit_code == 0
    assert again.read_bytes() == out.read_bytes()


def test_a_results_folder_with_its_workbook_can_be_solved_into_again(results, tmp_path):
    import shutil

    out = tmp_path / "plan"
    shutil.copytree(results, out)
    res = run("solve", TINY, "--out", out)
    assert res.exit_code == 0, res.output
    assert not (out / "results.xlsx").exists()  # the folder is replaced whole


@pytest.mark.parametrize(("args", "expected"), [
    (["solve", TINY, "--xlsx"], "--xlsx | writes results.xlsx into the results directory: "
                                "give --out DIR"),
    (["export", "nowhere", "x.xlsx"], "nowhere | no such results directory"),
    (["export", "{results}", "x.csv"], "x.csv | must end in .xlsx"),
])
def test_export_usage_errors(results, tmp_path, monkeypatch, args, expected):
    monkeypatch.chdir(tmp_path)
    res = run(*[str(a).format(results=results) for a in args])
    assert res.exit_code == 2
    assert res.output.strip() == expected
    assert not (tmp_path / "x.xlsx").exists()


def test_instance_workbook_covers_every_section_even_empty():
    inst = load_instance(TINY)
    wb = instance_workbook(inst)
    assert wb["posts"].max_row == 1  # the header: the columns a planner may fill
    assert [c.value for c in wb["posts"][1]] == section_columns("posts")
