"""Atomic output folders (``optimiser.atomic``): replaced whole when that is safe,
refused when the folder holds other files or the current folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from optimiser.atomic import (
    OutputFolderError,
    atomic_directory,
    check_output_folder,
    only_files_with_suffixes,
)

TINY = Path(__file__).resolve().parents[1] / "instances" / "tiny" / "instance.yaml"
TABLES = only_files_with_suffixes(".csv", ".json")


def test_a_folder_of_earlier_output_is_replaced_whole(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.csv").write_text("old", encoding="utf-8")
    with atomic_directory(out, TABLES) as tmp:
        (tmp / "new.csv").write_text("new", encoding="utf-8")
    assert sorted(p.name for p in out.iterdir()) == ["new.csv"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # nothing left beside


def test_a_folder_holding_other_files_is_left_alone(tmp_path):
    out = tmp_path / "plans"
    out.mkdir()
    (out / "precious.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(OutputFolderError) as exc, atomic_directory(out, TABLES):
        pass
    assert str(exc.value) == (f"{out} | holds files this command does not write, and would "
                              "be replaced whole; name a new or empty folder")
    assert (out / "precious.txt").read_text(encoding="utf-8") == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["plans"]


def test_the_current_folder_and_its_parents_are_never_replaced(tmp_path, monkeypatch):
    here = tmp_path / "a" / "b"
    here.mkdir(parents=True)
    monkeypatch.chdir(here)
    for target in (Path("."), tmp_path / "a"):
        with pytest.raises(OutputFolderError, match="is the current folder or holds it"):
            check_output_folder(target)
    assert here.is_dir()


def test_a_file_in_the_way_is_an_error(tmp_path):
    (tmp_path / "out").write_text("x", encoding="utf-8")
    with pytest.raises(OutputFolderError, match="exists and is not a folder"):
        check_output_folder(tmp_path / "out")


def test_the_new_folder_has_ordinary_permissions(tmp_path):
    """mkdtemp would make it private to the owner (0700); a plain mkdir does not."""
    (tmp_path / "plain").mkdir()
    with atomic_directory(tmp_path / "out") as tmp:
        (tmp / "x.csv").write_text("1", encoding="utf-8")
    assert os.stat(tmp_path / "out").st_mode == os.stat(tmp_path / "plain").st_mode


def test_solve_refuses_a_foreign_out_folder_before_solving(tmp_path):
    out = tmp_path / "plans"
    out.mkdir()
    (out / "precious.txt").write_text("mine", encoding="utf-8")
    res = CliRunner().invoke(app, ["solve", str(TINY), "--out", str(out)])
    assert res.exit_code == 2
    assert res.stderr.strip() == (f"--out {out} | holds files this command does not write, "
                                  "and would be replaced whole; name a new or empty folder")
    assert res.stdout == ""  # refused before any solve
    assert sorted(p.name for p in out.iterdir()) == ["precious.txt"]
