"""Bad posts and ramp inputs (SPEC §2.11, §2.3): located messages, all at once,
exit 2; overrides address posts rows as ``unit/group/year``."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from cli import app
from optimiser import InputError, Override, load_instance

BASE = {
    "name": "posts", "horizon": {"base_year": 2020, "years": 2},
    "staff_groups": [{"id": "nurse", "leaver_rate": 0.1}],
    "units": [{"id": "u1", "region": "r1"}],
    "workforce": [{"unit": "u1", "group": "nurse", "fte": 100, "posts": 110}],
}


def write(tmp_path: Path, doc: dict, csv: str | None = None) -> Path:
    if csv is not None:
        (tmp_path / "posts.csv").write_text(csv)
        doc = {**doc, "posts": "posts.csv"}
    path = tmp_path / "instance.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def messages(path: Path, overrides=()) -> list[str]:
    with pytest.raises(InputError) as info:
        load_instance(path, list(overrides))
    return [str(p) for p in info.value.problems]


def test_every_bad_posts_row_is_located_inline(tmp_path):
    doc = {**BASE, "workforce": [{"unit": "u1", "group": "nurse", "fte": 100, "posts": -3}],
           "posts": [{"unit": "u1", "group": "nurse", "year": 2022, "posts": 130},
                     {"unit": "u1", "group": "nurse", "year": 2022, "posts": 140},
                     {"unit": "u9", "group": "nurze", "year": 2030, "posts": 1}]}
    assert messages(write(tmp_path, doc)) == [
        "workforce[u1/nurse].posts | must be ≥ 0, got -3",
        "posts[#1] | unit 'u1', group 'nurse', year 2022 given twice (also posts[#0])",
        "posts[u9/nurze/2030].unit | unknown unit 'u9' (known: u1)",
        "posts[u9/nurze/2030].group | unknown staff group 'nurze' (known: nurse)",
        "posts[u9/nurze/2030].year | year 2030 is not a plan year (2021–2022); base-year "
        "posts go on the workforce row",
    ]


def test_bad_posts_csv_rows_name_file_row_and_column(tmp_path):
    path = write(tmp_path, BASE, "unit,group,year,posts\nu1,nurse,2022,abc\nu2,nurse,2021,5\n"
                 "u1,nurse,2021,-1\n")
    assert messages(path) == [
        "posts.csv row 2, column posts | must be a number, got 'abc'",
        "posts.csv row 4, column posts | must be ≥ 0, got -1",
        "posts.csv row 3, column unit | unknown unit 'u2' (known: u1)",
    ]


def test_overrides_address_posts_rows_and_keep_years(tmp_path):
    path = write(tmp_path, BASE, "unit,group,year,posts\nu1,nurse,2022,130\n")
    inst = load_instance(path, [Override.parse("set", "posts.u1/nurse/2022.posts=150"),
                                Override.parse("scale", "workforce.u1/nurse.posts=2")])
    assert [(r.year, r.posts) for r in inst.posts] == [(2022, 150)]
    assert inst.workforce[0].posts == 220
    inst = load_instance(path, [Override.parse("scale", "posts=1.1")])
    assert [(r.year, r.posts) for r in inst.posts] == [(2022, pytest.approx(143))]
    assert messages(path, [Override.parse("set", "posts.u1/nurse/2022.posts=-5")]) == [
        "posts.csv row 2, column posts (from --set posts.u1/nurse/2022.posts=-5) | must be "
        "≥ 0, got -5"]


def test_negative_ramps_and_a_bad_hold_are_input_errors(tmp_path):
    doc = {**BASE,
           "training": [{"id": "course", "group": "nurse", "duration": 1, "completion_rate": 1,
                         "max_increase": -1, "max_decrease": -2}],
           "targets": [{"id": "t", "groups": ["nurse"], "required": {2021: 1}, "hold": "often"}]}
    assert messages(write(tmp_path, doc)) == [
        "training[course].max_increase | must be ≥ 0, got -1",
        "training[course].max_decrease | must be ≥ 0, got -2",
        "targets[t].hold | must be true or false, got 'often'",
    ]


def test_cli_exits_2_with_every_posts_problem(tmp_path):
    doc = {**BASE, "posts": [{"unit": "u9", "group": "nurse", "year": 2021, "posts": 1}]}
    res = CliRunner().invoke(app, ["validate", str(write(tmp_path, doc))])
    assert res.exit_code == 2
    assert "posts[u9/nurse/2021].unit | unknown unit 'u9' (known: u1)" in res.output
