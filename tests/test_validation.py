"""A catalogue of bad inputs (SPEC §3, §5): each names its place and what is wrong.

Every case copies ``instances/tiny`` to a temporary directory, breaks one thing
(in the YAML document or in one of its CSV files) and checks the exact location
and the message of the problem ``optimiser.load_instance`` raises. Inline items
are located by key path (``training[0].completion_rate``), CSV items by file,
row (the header is row 1) and column (``targets.csv row 4, column groups``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from instance_copy import TinyCopy, find
from typer.testing import CliRunner

import optimiser
from cli import app


@pytest.fixture
def tiny(tmp_path: Path) -> TinyCopy:
    return TinyCopy(tmp_path / "tiny")


# ---------------------------------------------------------------- mutations


def yaml_edit(fn: Callable[[dict[str, Any]], Any]) -> Callable[[TinyCopy], Any]:
    return lambda t: t.edit(fn)


def item_edit(section: str, item_id: str, **changes: Any) -> Callable[[TinyCopy], Any]:
    """Change fields of one inline item; a value of ``DROP`` removes the field."""

    def fn(doc: dict[str, Any]) -> None:
        item = find(doc[section], item_id)
        for k, v in changes.items():
            if v is DROP:
                item.pop(k)
            else:
                item[k] = v

    return yaml_edit(fn)


DROP = object()


def cell(name: str, row: int, column: str, value: Any) -> Callable[[TinyCopy], Any]:
    return lambda t: t.set_cell(name, row, column, value)


def add_row(name: str, **cells: Any) -> Callable[[TinyCopy], Any]:
    return lambda t: t.append_row(name, **cells)


def add_column(name: str, column: str, value: str) -> Callable[[TinyCopy], Any]:
    def fn(t: TinyCopy) -> None:
        rows = t.rows(name)
        t.write_rows(name, [[*rows[0], column]] + [[*r, value] for r in rows[1:]])

    return fn


def both(*fns: Callable[[TinyCopy], Any]) -> Callable[[TinyCopy], Any]:
    def fn(t: TinyCopy) -> None:
        for f in fns:
            f(t)

    return fn


@dataclass
class Case:
    id: str
    mutate: Callable[[TinyCopy], Any]
    location: str
    message: str
    overrides: list[tuple[str, str, Any]] | None = None
    count: int = 1
    """How many problems the input has in all (most cases break one thing)."""


# Rows of the tiny CSV files (1 = header):
#   targets.csv   2-3 nurses_national (2019, 2020), 4 therapy_north (2020),
#                 5-6 crisis_city (2018, 2020)
#   workforce.csv 2-4 north_trust (nurse, support, therapist), 5-7 coast_trust, 8-10 city_trust
#   units.csv     2 north_trust, 3 coast_trust, 4 city_trust
CASES = [
    # --- unknown keys and missing fields (pydantic, inline)
    Case("unknown-top-level-key", yaml_edit(lambda d: d.update(colour="red")),
         "colour", "unknown key"),
    Case("unknown-key-in-item", item_edit("training", "nursing_degree", colour="red"),
         "training[nursing_degree].colour", "unknown key"),
    Case("unknown-key-nested", yaml_edit(
        lambda d: find(d["training"], "nursing_degree")["supervision"].update(ratio=2)),
         "training[nursing_degree].supervision.ratio", "unknown key"),
    Case("missing-required-field", item_edit("training", "therapy_course",
                                             completion_rate=DROP),
         "training[therapy_course].completion_rate", "required, but missing"),
    Case("missing-required-section", yaml_edit(lambda d: d.pop("horizon")),
         "horizon", "required, but missing"),
    Case("missing-required-csv-cell", cell("workforce.csv", 4, "fte", ""),
         "workforce.csv row 4, column fte", "required, but missing"),
    # --- unknown references (cross-reference checks)
    Case("workforce-unknown-group", cell("workforce.csv", 3, "group", "nruse"),
         "workforce.csv row 3, column group",
         "unknown staff group 'nruse' (known: nurse, support, therapist)"),
    Case("target-unknown-group", cell("targets.csv", 4, "groups", "therapist:1;nruse:0.5"),
         "targets.csv row 4, column groups",
         "unknown staff group 'nruse' (known: nurse, support, therapist)"),
    Case("lever-unknown-group", item_edit("international", "nurse_intl", group="nruse"),
         "international[nurse_intl].group",
         "unknown staff group 'nruse' (known: nurse, support, therapist)"),
    Case("lever-unknown-from-group", item_edit("training", "nurse_associate_upskill",
                                               from_group="suport"),
         "training[nurse_associate_upskill].from_group",
         "unknown staff group 'suport' (known: support, nurse, therapist)"),
    Case("retention-unknown-group", item_edit("retention", "high_exit",
                                              groups=["nurse", "therapst"]),
         "retention[high_exit].groups",
         "unknown staff group 'therapst' (known: therapist, nurse, support)"),
    Case("workforce-unknown-unit", cell("workforce.csv", 5, "unit", "cost_trust"),
         "workforce.csv row 5, column unit",
         "unknown unit 'cost_trust' (known: coast_trust, city_trust, north_trust)"),
    Case("target-unknown-unit", both(cell("targets.csv", 5, "unit", "cty_trust"),
                                     cell("targets.csv", 6, "unit", "cty_trust")),
         "targets.csv row 5, column unit",
         "unknown unit 'cty_trust' (known: city_trust, coast_trust, north_trust)"),
    Case("retention-unknown-unit", item_edit("retention", "high_exit",
                                             eligible=["city_trust", "cty_trust"]),
         "retention[high_exit].eligible",
         "unknown unit 'cty_trust' (known: city_trust, coast_trust, north_trust)"),
    Case("lever-unknown-region", item_edit("training", "nurse_associate_upskill",
                                           region="nroth"),
         "training[nurse_associate_upskill].region",
         "unknown region 'nroth' (known: north, south)"),
    Case("target-unknown-region", cell("targets.csv", 4, "region", "nroth"),
         "targets.csv row 4, column region",
         "unknown region 'nroth' (known: north, south)"),
    Case("unknown-pot", item_edit("training", "nursing_degree", pot="educaton"),
         "training[nursing_degree].pot",
         "unknown budget pot 'educaton' (known: education, main)"),
    Case("no-pots-declared", both(yaml_edit(lambda d: d.pop("budgets")),
                                  item_edit("training", "therapy_course", pot=DROP),
                                  item_edit("training", "nurse_associate_upskill", pot=DROP)),
         "training[nursing_degree].pot",
         "unknown budget pot 'education' (no budget pots are declared)"),
    Case("supervision-unknown-group", yaml_edit(
        lambda d: find(d["training"], "nursing_degree")["supervision"].update(group="nruse")),
         "training[nursing_degree].supervision.group",
         "unknown staff group 'nruse' (known: nurse, support, therapist)"),
    # --- duplicates
    Case("duplicate-id-inline", yaml_edit(lambda d: d["staff_groups"].append({"id": "nurse"})),
         "staff_groups[#3].id", "duplicate id 'nurse' (also staff_groups[#0].id)"),
    Case("duplicate-id-csv", add_row("units.csv", id="city_trust", region="south"),
         "units.csv row 5, column id", "duplicate id 'city_trust' (also units.csv row 4, column id)"),
    Case("duplicate-workforce-pair", add_row("workforce.csv", unit="city_trust",
                                             group="nurse", fte=5),
         "workforce.csv row 11",
         "unit 'city_trust', group 'nurse' given twice (also workforce.csv row 8)"),
    # --- years
    Case("target-year-outside-horizon", cell("targets.csv", 3, "year", 2025),
         "targets.csv row 3, column required", "year 2025 is outside the plan years 2017–2020"),
    Case("budget-year-outside-horizon", yaml_edit(
        lambda d: find(d["budgets"], "main")["per_year"].update({2021: 5})),
         "budgets[main].per_year.2021", "year 2021 is outside the plan years 2017–2020"),
    Case("committed-after-base-year", yaml_edit(
        lambda d: find(d["training"], "nursing_degree")["committed"].update({2017: 5})),
         "training[nursing_degree].committed.2017", "committed start year 2017 is after the base year 2016"),
    Case("committed-already-graduated", yaml_edit(
        lambda d: find(d["training"], "nursing_degree")["committed"].update({2012: 5})),
         "training[nursing_degree].committed.2012",
         "entrants of 2012 finished a 3-year course by the base year 2016"),
    Case("intake-year-outside-horizon", item_edit("training", "therapy_course",
                                                  intake_years=[2018, 2021]),
         "training[therapy_course].intake_years", "intake year 2021 is outside the plan years 2017–2020"),
    Case("horizon-years-zero", yaml_edit(lambda d: d["horizon"].update(years=0)),
         "horizon.years", "must be in [1, 60], got 0"),
    # --- response curves
    Case("response-not-concave", item_edit("return_to_practice", "nurse_rtp",
                                           response=[[0, 0], [100000, 5], [200000, 30]]),
         "return_to_practice[nurse_rtp].response",
         "not concave: slope rises from 5e-05 to 0.00025 at breakpoint 3"),
    Case("response-spend-not-increasing", item_edit(
        "return_to_practice", "nurse_rtp", response=[[0, 0], [200000, 20], [200000, 35]]),
         "return_to_practice[nurse_rtp].response",
         "spends must increase: breakpoint 3 spend 200000 is not above 200000"),
    Case("response-not-from-origin", item_edit("retention", "high_exit",
                                               response=[[0, 1], [50000, 8]]),
         "retention[high_exit].response", "must start at [0, 0], got [0, 1]"),
    Case("response-one-breakpoint", item_edit("retention", "high_exit", response=[[0, 0]]),
         "retention[high_exit].response", "needs at least 2 item(s)"),
    Case("response-bad-pair", item_edit("retention", "high_exit",
                                        response=[[0, 0], [1, 2, 3]]),
         "retention[high_exit].response[#1]", "a breakpoint must be a [spend, effect] pair"),
    # --- training
    Case("min-cohort-without-max", item_edit("training", "therapy_course",
                                             max_places_per_year=DROP),
         "training[therapy_course].min_cohort", "min_cohort needs max_places_per_year"),
    Case("fixed-cost-without-max", item_edit("training", "therapy_course",
                                             max_places_per_year=DROP, min_cohort=DROP),
         "training[therapy_course].cohort_fixed_cost", "cohort_fixed_cost needs max_places_per_year"),
    Case("min-cohort-above-max", item_edit("training", "therapy_course", min_cohort=80),
         "training[therapy_course].min_cohort", "min_cohort 80 exceeds max_places_per_year 60"),
    Case("completion-rate-above-one", item_edit("training", "nurse_associate_upskill",
                                                completion_rate=1.3),
         "training[nurse_associate_upskill].completion_rate", "must be in (0, 1], got 1.3"),
    Case("completion-rate-zero", item_edit("training", "nurse_associate_upskill",
                                           completion_rate=0),
         "training[nurse_associate_upskill].completion_rate", "must be in (0, 1], got 0"),
    Case("from-group-equals-group", item_edit("training", "nurse_associate_upskill",
                                              from_group="nurse"),
         "training[nurse_associate_upskill].from_group", "from_group must differ from group"),
    Case("duration-not-a-number", item_edit("training", "nursing_degree", duration="three"),
         "training[nursing_degree].duration", "must be a whole number, got 'three'"),
    Case("integer-places-not-bool", item_edit("training", "nursing_degree",
                                              integer_places="maybe"),
         "training[nursing_degree].integer_places", "must be true or false, got 'maybe'"),
    Case("supervision-ratio-zero", yaml_edit(
        lambda d: find(d["training"], "nursing_degree")["supervision"].update(
            max_trainees_per_fte=0)),
         "training[nursing_degree].supervision.max_trainees_per_fte", "must be > 0, got 0"),
    Case("bad-id", item_edit("training", "nursing_degree", id="nursing degree"),
         "training[#0].id", "'nursing degree' is not a valid id"),
    # --- rates and amounts
    Case("leaver-rate-above-one-csv", cell("workforce.csv", 2, "leaver_rate", "1.4"),
         "workforce.csv row 2, column leaver_rate", "must be in [0, 1], got 1.4"),
    Case("leaver-rate-negative-inline", item_edit("staff_groups", "support", leaver_rate=-0.1),
         "staff_groups[support].leaver_rate", "must be in [0, 1], got -0.1"),
    Case("negative-cost", item_edit("international", "nurse_intl", cost_per_recruit=-5),
         "international[nurse_intl].cost_per_recruit", "must be ≥ 0, got -5"),
    Case("negative-budget", item_edit("budgets", "education", per_year=-5),
         "budgets[education].per_year", "must be ≥ 0, got -5"),
    Case("budget-not-number-or-mapping", item_edit("budgets", "education", per_year="lots"),
         "budgets[education].per_year", "must be a number or a mapping, got 'lots'"),
    Case("retained-share-above-one", item_edit("retention", "high_exit",
                                               max_retained_share=1.5),
         "retention[high_exit].max_retained_share", "must be in [0, 1], got 1.5"),
    Case("top-leaver-rate-above-units", item_edit("retention", "high_exit",
                                                  eligible={"top_leaver_rate": 5}),
         "retention[high_exit].eligible", "top_leaver_rate 5 exceeds the 3 units"),
    Case("top-leaver-rate-zero", item_edit("retention", "high_exit",
                                           eligible={"top_leaver_rate": 0}),
         "retention[high_exit].eligible.top_leaver_rate", "must be ≥ 1, got 0"),
    # --- targets and objective
    Case("target-region-and-unit", both(cell("targets.csv", 5, "region", "south"),
                                        cell("targets.csv", 6, "region", "south")),
         "targets.csv row 5", "give at most one of region and unit"),
    Case("target-groups-empty", yaml_edit(lambda d: d.update(
        targets=[{"id": "t", "groups": [], "required": {2018: 1}}])),
         "targets[t].groups", "needs at least 1 item(s)"),
    Case("target-weight-not-number", cell("targets.csv", 4, "groups", "therapist:x;nurse:0.5"),
         "targets.csv row 4, column groups (therapist)", "must be a number, got 'x'"),
    Case("weighted-without-value", yaml_edit(lambda d: d.update(objective={"mode": "weighted"})),
         "objective", "weighted mode needs value_per_fte"),
    Case("unknown-objective-mode", yaml_edit(lambda d: d.update(objective={"mode": "fast"})),
         "objective.mode", "must be one of 'lexicographic' or 'weighted', got 'fast'"),
    Case("solver-time-limit-zero", yaml_edit(lambda d: d["solver"].update(time_limit=0)),
         "solver.time_limit", "must be > 0, got 0"),
    # --- CSV files
    Case("csv-unknown-column", add_column("units.csv", "colour", "red"),
         "units.csv column colour", "unknown column; expected some of: id, name, region"),
    Case("csv-duplicate-column", add_column("units.csv", "name", "x"),
         "units.csv column name", "duplicate column"),
    Case("csv-non-numeric-cell", cell("workforce.csv", 4, "fte", "lots"),
         "workforce.csv row 4, column fte", "must be a number, got 'lots'"),
    Case("csv-non-numeric-year-value", cell("targets.csv", 3, "required", "many"),
         "targets.csv row 3, column required", "must be a number, got 'many'"),
    Case("csv-row-too-long", lambda t: t.write_rows(
        "units.csv", [*t.rows("units.csv"), ["extra_trust", "Extra", "north", "surplus"]]),
         "units.csv row 5", "4 cells but the header has 3"),
    Case("csv-duplicate-year", cell("targets.csv", 3, "year", 2019),
         "targets.csv row 3, column year", "year 2019 given twice for 'nurses_national' (row 2)"),
    Case("csv-rows-of-one-id-differ", cell("targets.csv", 3, "label", "Nurses"),
         "targets.csv row 3, column label",
         "differs from row 2 for the same id 'nurses_national' "
         "('Nurses' vs 'Mental health nurses (national)')"),
    Case("csv-year-missing", cell("targets.csv", 3, "year", ""),
         "targets.csv row 3, column year", "a year is needed for required"),
    Case("csv-year-not-whole", cell("targets.csv", 3, "year", "2019/20"),
         "targets.csv row 3, column year", "must be a whole year, got '2019/20'"),
    Case("csv-year-without-value", cell("targets.csv", 3, "required", ""),
         "targets.csv row 3, column year", "year 2020 is given but no required"),
    Case("csv-year-value-without-year-field", add_column("units.csv", "year", "2017"),
         "units.csv column year", "unknown column; expected some of: id, name, region"),
    Case("csv-file-missing", lambda t: (t.root / "units.csv").unlink(),
         "units", "CSV file not found: "),
    Case("section-not-a-list", yaml_edit(lambda d: d.update(training=5)),
         "training", "must be a list, got 5"),
    # --- overrides (SPEC §5)
    Case("override-unknown-item", lambda t: None,
         "--set budgets.nope.per_year", "no item 'nope' in 'budgets' (known: education, main)",
         overrides=[("set", "budgets.nope.per_year", 1)]),
    Case("override-unknown-key", lambda t: None,
         "--set training.nursing_degree.foo", "unknown key 'foo' in 'training.nursing_degree'",
         overrides=[("set", "training.nursing_degree.foo", 1)]),
    Case("override-unknown-section", lambda t: None,
         "--set colour", "unknown key 'colour' in 'the instance'",
         overrides=[("set", "colour", "red")]),
    Case("override-into-a-value", lambda t: None,
         "--set budgets.education.per_year.2017",
         "'budgets.education.per_year' is a value, not a section: cannot go into '2017'",
         overrides=[("set", "budgets.education.per_year.2017", 2)]),
    Case("override-scale-unset", lambda t: None,
         "--scale budgets.education.total",
         "'budgets.education.total' is not set, so there is nothing to scale",
         overrides=[("scale", "budgets.education.total", 2)]),
    Case("override-scale-factor-not-number", lambda t: None,
         "--scale budgets", "the factor must be a number, got 'abc'",
         overrides=[("scale", "budgets", "abc")]),
    Case("override-scale-factor-infinite", lambda t: None,
         "--scale budgets", "the factor must be a finite number, got inf",
         overrides=[("scale", "budgets", float("inf"))]),
    Case("override-unknown-workforce-row", lambda t: None,
         "--set workforce.nort_trust/nurse.fte",
         "no item 'nort_trust/nurse' in 'workforce' (known: north_trust/nurse, ",
         overrides=[("set", "workforce.nort_trust/nurse.fte", 1)]),
    # --- locations: items by id, year keys, the override that wrote the value
    Case("inline-workforce-row-by-unit-and-group", yaml_edit(lambda d: d.update(
        workforce=[{"unit": "north_trust", "group": "nurse", "fte": -1}])),
         "workforce[north_trust/nurse].fte", "must be ≥ 0, got -1"),
    Case("inline-workforce-row-unknown-unit", yaml_edit(lambda d: d.update(
        workforce=[{"unit": "nort_trust", "group": "nurse", "fte": 1}])),
         "workforce[nort_trust/nurse].unit",
         "unknown unit 'nort_trust' (known: north_trust, coast_trust, city_trust)"),
    Case("inline-workforce-rows-twice", yaml_edit(lambda d: d.update(
        workforce=[{"unit": "north_trust", "group": "nurse", "fte": 1},
                   {"unit": "north_trust", "group": "nurse", "fte": 2}])),
         "workforce[#1]", "unit 'north_trust', group 'nurse' given twice (also workforce[#0])"),
    Case("item-without-id-by-position", yaml_edit(
        lambda d: find(d["training"], "therapy_course").pop("id")),
         "training[#1].id", "required, but missing"),
    Case("year-key-value", yaml_edit(
        lambda d: find(d["budgets"], "main")["per_year"].update({2018: -5})),
         "budgets[main].per_year.2018", "must be ≥ 0, got -5"),
    Case("year-key-not-a-year", yaml_edit(
        lambda d: find(d["budgets"], "main")["per_year"].update({"next": 5})),
         "budgets[main].per_year.next", "year must be a whole number, got 'next'"),
    Case("target-year-inline", yaml_edit(lambda d: d.update(
        targets=[{"id": "t", "groups": ["nurse"], "required": {2018: 1, 2030: 2}}])),
         "targets[t].required.2030", "year 2030 is outside the plan years 2017–2020"),
    Case("override-value-named", lambda t: None,
         "budgets[education].per_year (from --set budgets.education.per_year=-5)",
         "must be ≥ 0, got -5", overrides=[("set", "budgets.education.per_year", -5)]),
    Case("override-year-key-named", lambda t: None,
         "budgets[main].per_year.2030 (from --set budgets.main.per_year.2030=5)",
         "year 2030 is outside the plan years 2017–2020",
         overrides=[("set", "budgets.main.per_year.2030", 5)]),
    Case("override-unknown-reference-named", lambda t: None,
         "training[nursing_degree].pot (from --set training.nursing_degree.pot=educaton)",
         "unknown budget pot 'educaton' (known: education, main)",
         overrides=[("set", "training.nursing_degree.pot", "educaton")]),
    Case("override-in-a-csv-cell-named", lambda t: None,
         "workforce.csv row 2, column unit (from --set workforce.north_trust/nurse.unit=nowhere)",
         "unknown unit 'nowhere' (known: city_trust, coast_trust, north_trust)",
         overrides=[("set", "workforce.north_trust/nurse.unit", "nowhere")]),
    Case("override-scale-named", lambda t: None,
         "budgets[main].total (from --scale budgets=-1)", "must be ≥ 0, got -3500000",
         overrides=[("scale", "budgets", -1)], count=6),
    Case("override-set-then-scale-both-named", lambda t: None,
         "budgets[education].per_year (from --set budgets.education.per_year=1000000, "
         "--scale budgets.education.per_year=-3)", "must be ≥ 0, got -3000000",
         overrides=[("set", "budgets.education.per_year", 1e6),
                    ("scale", "budgets.education.per_year", -3)]),
    Case("override-sets-bad-value", lambda t: None,
         "training[nursing_degree].completion_rate "
         "(from --set training.nursing_degree.completion_rate=2)", "must be in (0, 1], got 2",
         overrides=[("set", "training.nursing_degree.completion_rate", 2)]),
]


def test_catalogue_is_broad() -> None:
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tiny: TinyCopy) -> None:
    case.mutate(tiny)
    problems = tiny.problems(case.overrides)
    found = [p for p in problems if p.location == case.location and case.message in p.message]
    assert found, "\n".join(str(p) for p in problems)
    assert len(problems) == case.count, "\n".join(str(p) for p in problems)
    for p in problems:
        assert "\n" not in p.message and "\n" not in p.location
        assert str(p) == f"{p.location} | {p.message}"


# ---------------------------------------------------------------- whole files


def test_the_tiny_instance_is_valid(tiny: TinyCopy) -> None:
    inst = tiny.load()
    assert inst.name == "tiny"
    assert [t.id for t in inst.targets] == ["nurses_national", "therapy_north", "crisis_city"]


def test_file_not_found(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(optimiser.InputError) as info:
        optimiser.load_instance(path)
    assert [(p.location, p.message) for p in info.value.problems] == [
        (str(path), "file not found")]


def test_invalid_yaml_names_line_and_column(tiny: TinyCopy) -> None:
    text = tiny.path.read_text(encoding="utf-8")
    lines = text.splitlines()
    n = next(i for i, line in enumerate(lines) if line.startswith("currency:"))
    lines[n] = "currency: [GBP"
    tiny.path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (p,) = tiny.problems()
    assert p.location == f"instance.yaml line {n + 2}, column 8"
    assert p.message.startswith("invalid YAML: expected ',' or ']'")


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"name": "x",\n "horizon": }\n', encoding="utf-8")
    with pytest.raises(optimiser.InputError) as info:
        optimiser.load_instance(path)
    (p,) = info.value.problems
    assert p.location == "bad.json line 2, column 13"
    assert p.message.startswith("invalid JSON: ")


def test_document_must_be_a_mapping(tiny: TinyCopy) -> None:
    tiny.path.write_text("- a\n- b\n", encoding="utf-8")
    (p,) = tiny.problems()
    assert (p.location, p.message) == ("instance.yaml", "the instance must be a mapping of sections")


def test_missing_csv_file_is_reported_once(tiny: TinyCopy) -> None:
    (tiny.root / "units.csv").unlink()
    (p,) = tiny.problems()
    assert p.location == "units"
    assert p.message == f"CSV file not found: {tiny.root / 'units.csv'}"


def test_all_problems_are_reported_together(tiny: TinyCopy) -> None:
    """Field problems, CSV problems and cross-reference problems in one report."""
    def fn(doc: dict[str, Any]) -> None:
        doc["colour"] = "red"
        find(doc["training"], "nurse_associate_upskill")["completion_rate"] = 1.3
        find(doc["international"], "nurse_intl")["group"] = "nruse"
        find(doc["budgets"], "main")["per_year"][2030] = 1.0

    tiny.edit(fn)
    tiny.set_cell("workforce.csv", 3, "group", "nruse")
    tiny.set_cell("workforce.csv", 4, "fte", "lots")
    tiny.set_cell("targets.csv", 3, "label", "Nurses")
    tiny.append_row("units.csv", id="north_trust", region="north")
    problems = tiny.problems()
    expected = {
        ("colour", "unknown key"),
        ("training[nurse_associate_upskill].completion_rate", "must be in (0, 1], got 1.3"),
        ("international[nurse_intl].group", "unknown staff group 'nruse'"),
        ("budgets[main].per_year.2030", "year 2030 is outside the plan years 2017–2020"),
        ("workforce.csv row 3, column group",
         "unknown staff group 'nruse' (known: nurse, support, therapist)"),
        ("workforce.csv row 4, column fte", "must be a number, got 'lots'"),
        ("targets.csv row 3, column label", "differs from row 2 for the same id 'nurses_national'"),
        ("units.csv row 5, column id", "duplicate id 'north_trust'"),
    }
    report = "\n".join(str(p) for p in problems)
    assert len(problems) == len(expected), report
    for location, message in expected:
        assert any(p.location == location and p.message.startswith(message)
                   for p in problems), (location, message, report)


def test_reference_to_an_invalid_item_is_not_also_unknown(tiny: TinyCopy) -> None:
    """An invalid staff group is reported once, not again wherever it is named."""
    tiny.edit(lambda d: find(d["staff_groups"], "nurse").update(leaver_rate=2))
    problems = tiny.problems()
    assert [str(p) for p in problems] == ["staff_groups[nurse].leaver_rate | must be in [0, 1], got 2"]


def test_a_consequence_of_an_override_is_not_blamed_on_it(tiny: TinyCopy) -> None:
    """Only values an override wrote name it: a shorter horizon leaves the
    budget's later years outside the plan, but those years are in the file."""
    problems = tiny.problems([("set", "horizon.years", 2)])
    assert "budgets[main].per_year.2019 | year 2019 is outside the plan years 2017–2018" in [
        str(p) for p in problems]
    assert not any("(from " in p.location for p in problems)


def test_an_untouched_value_is_not_blamed_on_an_override(tiny: TinyCopy) -> None:
    tiny.edit(lambda d: find(d["training"], "nurse_associate_upskill").update(
        completion_rate=1.3))
    problems = tiny.problems([("set", "training.nursing_degree.completion_rate", 0.5)])
    assert [str(p) for p in problems] == [
        "training[nurse_associate_upskill].completion_rate | must be in (0, 1], got 1.3"]


REALISTIC = Path(__file__).resolve().parents[1] / "instances" / "stepping-forward-2017"


def test_long_known_lists_are_cut_with_the_likely_one_first() -> None:
    """50 trusts: the message lists 8 ids, the one the typo meant first."""
    with pytest.raises(optimiser.InputError) as info:
        optimiser.load_instance(REALISTIC / "instance.yaml", [
            ("set", "retention.high_exit_retention.eligible", ["marshbee"])])
    (p,) = info.value.problems
    assert p.location == ("retention[high_exit_retention].eligible (from --set "
                          "retention.high_exit_retention.eligible=[marshbee])")
    assert p.message.startswith("unknown unit 'marshbee' (known: marshby, ")
    assert p.message.endswith(", … 42 more)")
    assert p.message.count(", ") == 8


@pytest.mark.parametrize(("name", "ids", "hint"), [
    ("nruse", ["therapist", "nurse", "support"], "known: nurse, support, therapist"),
    ("therapst", ["therapist", "nurse", "support"], "known: therapist, nurse, support"),
    ("x", [f"u{i}" for i in range(9)], "known: " + ", ".join(f"u{i}" for i in range(9))),
    ("x", [f"u{i:02}" for i in range(20)],
     "known: " + ", ".join(f"u{i:02}" for i in range(8)) + ", … 12 more"),
    ("x", [], ""),
])
def test_known_hint(name: str, ids: list[str], hint: str) -> None:
    from optimiser.errors import known

    assert known(name, ids) == hint


def test_several_overrides_all_reported(tiny: TinyCopy) -> None:
    problems = tiny.problems([("set", "budgets.nope.per_year", 1),
                              ("set", "training.nursing_degree.foo", 1),
                              ("scale", "budgets", "abc")])
    assert [p.location for p in problems] == [
        "--set budgets.nope.per_year", "--set training.nursing_degree.foo", "--scale budgets"]


# ---------------------------------------------------------------- CSV conventions

DATA = Path(__file__).resolve().parent / "data"


def test_csv_sections_read_like_inline_ones(tiny: TinyCopy) -> None:
    """tests/data/all_csv is tiny with every section in a CSV file: response
    cells, ``a;b`` lists, ``top_leaver_rate:2``, dotted ``supervision.*``
    columns, ``committed`` and ``per_year`` as one row per year, and a
    ``per_year`` row without a year (one number for every year)."""
    inline = tiny.load()
    from_csv = optimiser.load_instance(DATA / "all_csv" / "instance.yaml")
    assert from_csv.model_dump() == inline.model_dump()


def test_csv_text_cells_may_contain_colons_and_semicolons(tiny: TinyCopy) -> None:
    tiny.set_cell("units.csv", 2, "name", "Northern: Care; Trust")
    tiny.set_cell("targets.csv", 4, "label", "Talking therapies: north")
    inst = tiny.load()
    assert inst.units[0].name == "Northern: Care; Trust"
    assert inst.targets[1].label == "Talking therapies: north"


def test_csv_per_year_for_every_year_and_by_year_do_not_mix(tmp_path: Path) -> None:
    t = TinyCopy(tmp_path / "t")
    shutil.copytree(DATA / "all_csv", t.root, dirs_exist_ok=True)
    t.append_row("budgets.csv", id="education", year=2018, per_year="5e6")
    (p,) = t.problems()
    assert p.location == "budgets.csv row 7, column per_year"
    assert p.message.startswith("per_year of 'education' is already given for every year (row 2)")


def test_csv_year_row_then_a_row_without_year(tmp_path: Path) -> None:
    t = TinyCopy(tmp_path / "t")
    shutil.copytree(DATA / "all_csv", t.root, dirs_exist_ok=True)
    t.append_row("budgets.csv", id="main", per_year="5e6", total="3.5e6")
    (p,) = t.problems()
    assert p.location == "budgets.csv row 7, column per_year"
    assert p.message.startswith("per_year of 'main' is already given (row 3)")


def test_csv_committed_needs_a_year(tmp_path: Path) -> None:
    t = TinyCopy(tmp_path / "t")
    shutil.copytree(DATA / "all_csv", t.root, dirs_exist_ok=True)
    t.set_cell("training.csv", 2, "year", "")
    (p,) = t.problems()
    assert (p.location, p.message) == ("training.csv row 2, column year",
                                       "a year is needed for committed")


def test_csv_locations_in_nested_and_year_columns(tmp_path: Path) -> None:
    t = TinyCopy(tmp_path / "t")
    shutil.copytree(DATA / "all_csv", t.root, dirs_exist_ok=True)
    t.set_cell("training.csv", 5, "supervision.group", "therapist")
    t.set_cell("training.csv", 5, "supervision.max_trainees_per_fte", "0")
    t.set_cell("training.csv", 4, "committed", "-3")
    t.set_cell("retention.csv", 2, "response", "0:0;50000:8;40000:15")
    t.set_cell("budgets.csv", 5, "year", "2030")
    got = sorted(str(p) for p in t.problems())
    assert got == sorted([
        "training.csv row 5, column supervision.max_trainees_per_fte | must be > 0, got 0",
        "training.csv row 4, column committed | must be ≥ 0, got -3",
        "retention.csv row 2, column response | spends must increase: breakpoint 3 "
        "spend 40000 is not above 50000",
        "budgets.csv row 5, column per_year | year 2030 is outside the plan years 2017–2020",
    ])


# ---------------------------------------------------------------- command line

runner = CliRunner()


def _broken(tiny: TinyCopy) -> None:
    tiny.edit(lambda d: find(d["training"], "nurse_associate_upskill").update(
        completion_rate=1.3))
    tiny.set_cell("targets.csv", 4, "groups", "therapist:1;nruse:0.5")


def test_cli_validate_ok(tiny: TinyCopy) -> None:
    result = runner.invoke(app, ["validate", str(tiny.path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith("valid")


def test_cli_validate_bad_file_exits_2(tiny: TinyCopy) -> None:
    _broken(tiny)
    result = runner.invoke(app, ["validate", str(tiny.path)])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert "training[nurse_associate_upskill].completion_rate | must be in (0, 1], got 1.3" in lines
    assert ("targets.csv row 4, column groups | unknown staff group 'nruse' "
            "(known: nurse, support, therapist)") in lines
    assert lines[-1] == "2 problems in the input; nothing was solved."
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(("args", "line"), [
    (["--set", "budgets.nope.per_year=1"],
     "--set budgets.nope.per_year | no item 'nope' in 'budgets' (known: education, main)"),
    (["--set", "training.nursing_degree.foo=1"],
     "--set training.nursing_degree.foo | unknown key 'foo' in 'training.nursing_degree'"),
    (["--scale", "budgets=abc"], "--scale budgets | the factor must be a number, got 'abc'"),
    (["--scale", "budgets"], "--scale budgets | expected KEY=VALUE"),
    (["--set", "budgets.main.total=[1"],
     "--set budgets.main.total | cannot read value '[1': expected ',' or ']', "
     "but got '<stream end>'"),
])
def test_cli_bad_override_exits_2(tiny: TinyCopy, args: list[str], line: str) -> None:
    result = runner.invoke(app, ["validate", str(tiny.path), *args])
    assert result.exit_code == 2
    assert line in result.stderr.splitlines()
    assert "Traceback" not in result.output


def test_cli_names_the_override_as_typed(tiny: TinyCopy) -> None:
    result = runner.invoke(app, ["validate", str(tiny.path),
                                 "--set", "budgets.education.per_year=-5e6"])
    assert result.exit_code == 2
    assert ("budgets[education].per_year (from --set budgets.education.per_year=-5e6) | "
            "must be ≥ 0, got -5000000") in result.stderr.splitlines()


def test_cli_missing_file_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"{path} | file not found" in result.stderr.splitlines()


def _console_script() -> str:
    here = Path(sys.executable).parent / "wfopt"
    found = str(here) if here.exists() else shutil.which("wfopt")
    assert found, "the wfopt console script is not installed"
    return found


def test_installed_console_script_reports_problems(tiny: TinyCopy) -> None:
    _broken(tiny)
    proc = subprocess.run([_console_script(), "validate", str(tiny.path)],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.splitlines()
    assert "training[nurse_associate_upskill].completion_rate | must be in (0, 1], got 1.3" in lines
    assert any(line.startswith("targets.csv row 4, column groups | unknown staff group 'nruse'")
               for line in lines)
    assert all(" | " in line for line in lines[:-1])
    assert lines[-1] == "2 problems in the input; nothing was solved."
