"""An instance's ``scenarios.list`` may name a CSV file (SPEC §2.13,
docs/instance-format.md): read relative to the instance file, one row per
override, its problems located at the file's row and column (exit code 2).
It was refused: "scenarios | must be a list, got 'scenarios.csv'"."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from cli import app
from optimiser import InputError, load_instance

TINY = Path(__file__).resolve().parent.parent / "instances" / "tiny"

ROWS = ("id,probability,op,key,value\n"
        "central,0.5,,,\n"
        "high,0.3,scale,staff_groups.*.leaver_rate,1.2\n"
        "high,0.3,set,international.nurse_intl.max_per_year,20\n"
        "low,0.2,scale,staff_groups.*.leaver_rate,0.8\n")
"""Three futures: central alone, high with two overrides (two rows), low."""

INLINE = [{"id": "central", "probability": 0.5},
          {"id": "high", "probability": 0.3,
           "scale": {"staff_groups.*.leaver_rate": 1.2},
           "set": {"international.nurse_intl.max_per_year": 20}},
          {"id": "low", "probability": 0.2, "scale": {"staff_groups.*.leaver_rate": 0.8}}]


def tiny_with(folder: Path, scenarios_list, rows: str | None = None,
              csv_name: str = "futures/scenarios.csv") -> Path:
    """The tiny instance copied into ``folder``, with ``scenarios.list`` as given
    and (``rows``) the CSV file written at ``csv_name`` beside it."""
    shutil.copytree(TINY, folder)
    path = folder / "instance.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["scenarios"] = {"here_and_now_years": 1, "list": scenarios_list}
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    if rows is not None:
        (folder / csv_name).parent.mkdir(parents=True, exist_ok=True)
        (folder / csv_name).write_text(rows, encoding="utf-8")
    return path


def test_the_list_is_read_from_the_csv_file_beside_the_instance(tmp_path, monkeypatch):
    """Read relative to the instance file, not the working directory: the same
    scenarios as the list written inline."""
    intl = yaml.safe_load((TINY / "instance.yaml").read_text())["international"]
    assert [r["id"] for r in intl] == ["nurse_intl"]  # the key the rows set
    path = tiny_with(tmp_path / "csv", "futures/scenarios.csv", ROWS)
    monkeypatch.chdir(tmp_path)  # elsewhere: a path read from here would not be found
    from_csv = load_instance(path).scenarios
    inline = load_instance(tiny_with(tmp_path / "inline", INLINE)).scenarios
    assert [s.id for s in from_csv.list] == ["central", "high", "low"]
    assert [s.probability for s in from_csv.list] == [0.5, 0.3, 0.2]
    assert from_csv.list[1].scale == {"staff_groups.*.leaver_rate": 1.2}
    assert from_csv.list[1].set == {"international.nurse_intl.max_per_year": 20}
    assert from_csv == inline


def test_a_bad_row_is_located_and_exits_2(tmp_path):
    rows = ("id,probability,op,key,value\n"
            "central,0.5,,,\n"
            "high,half,scale,staff_groups.*.leaver_rate,1.2\n"
            "low,0.5,times,staff_groups.*.leaver_rate,0.8\n")
    path = tiny_with(tmp_path / "i", "scenarios.csv", rows, csv_name="scenarios.csv")
    with pytest.raises(InputError) as info:
        load_instance(path)
    assert [str(p) for p in info.value.problems] == [
        "scenarios.csv row 3, column probability | must be a number, got 'half'",
        "scenarios.csv row 4, column op | must be set or scale, got 'times'"]
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert res.exit_code == 2
    assert "scenarios.csv row 3, column probability" in res.stderr
    assert "Traceback" not in res.output


def test_a_missing_or_outside_file_is_located(tmp_path):
    path = tiny_with(tmp_path / "i", "nothere.csv")
    with pytest.raises(InputError) as info:
        load_instance(path)
    assert [str(p) for p in info.value.problems] == [
        "scenarios.list | CSV file not found: nothere.csv"]
    (tmp_path / "outside.csv").write_text(ROWS, encoding="utf-8")
    path = tiny_with(tmp_path / "j", "../outside.csv")
    with pytest.raises(InputError) as info:
        load_instance(path)
    assert [str(p) for p in info.value.problems] == [
        "scenarios.list | CSV file '../outside.csv' is outside the instance's folder and was "
        "not read; move it into the folder, or allow its folder with --allow-files-outside DIR"]
    assert load_instance(path, allow_files_outside=[tmp_path]).scenarios.list[0].id == "central"
