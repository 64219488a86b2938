"""Atomic output folders (``optimiser.results.atomic``): replaced whole when that is safe,
refused when the folder holds other files or the current folder; results folders
marked by their writer, links, places no folder can be made, a full disk, stale
temporaries of killed writers, a SIGKILL mid-write and two writers at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from optimiser.results.atomic import (
    MARKER,
    Marked,
    OutputFolderError,
    _hold,
    atomic_directory,
    check_output_folder,
    clean_stale,
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
    assert res.stderr.strip() == (
        f"--out {out} | was not written by wfopt solve (it has no .wfopt-output.json listing "
        "its files) or holds files it did not write, and would be replaced whole; name a new "
        "or empty folder")
    assert res.stdout == ""  # refused before any solve
    assert sorted(p.name for p in out.iterdir()) == ["precious.txt"]


# ---------------------------------------------------------------- issue 18: marked folders

RESULTS = Marked("wfopt solve", later=frozenset({"report.html"}))
FOREIGN = ("was not written by wfopt solve (it has no .wfopt-output.json listing its files) "
           "or holds files it did not write, and would be replaced whole; name a new or "
           "empty folder")


def solve_out(*args) -> object:
    return CliRunner().invoke(app, ["solve", str(TINY), *[str(a) for a in args]])


def beside(folder: Path, name: str) -> list[str]:
    """Temporary siblings a write of ``folder/name`` might leave behind."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".{name}."))


def test_a_folder_of_the_users_own_results_like_files_is_refused(tmp_path):
    """Suffixes prove nothing: .csv, .json and .html of a planner's own."""
    out = tmp_path / "plans"
    out.mkdir()
    for name in ("budget.csv", "summary.json", "report.html"):
        (out / name).write_text("mine", encoding="utf-8")
    res = solve_out("--out", out)
    assert res.exit_code == 2 and res.stdout == ""
    assert res.stderr.strip() == f"--out {out} | {FOREIGN}"
    assert {p.name: p.read_text() for p in out.iterdir()} == {
        "budget.csv": "mine", "summary.json": "mine", "report.html": "mine"}


def test_a_folder_written_by_solve_is_replaced_with_a_report_added(tmp_path):
    out = tmp_path / "out"
    assert solve_out("--out", out).exit_code == 0
    marker = json.loads((out / MARKER).read_text(encoding="utf-8"))
    assert marker["written_by"] == "wfopt solve"
    assert "summary.json" in marker["files"] and "workforce.csv" in marker["files"]
    (out / "report.html").write_text("<html>", encoding="utf-8")  # wfopt report adds it
    (out / "workforce.csv").write_text("edited", encoding="utf-8")  # a listed file, edited
    assert solve_out("--out", out).exit_code == 0
    assert not (out / "report.html").exists()
    assert (out / "workforce.csv").read_text() != "edited"
    assert beside(tmp_path, "out") == []


@pytest.mark.parametrize("extra", ["notes.txt", "mine.csv", "sub/"])
def test_a_file_the_user_added_to_a_results_folder_keeps_it(tmp_path, extra):
    out = tmp_path / "out"
    assert solve_out("--out", out).exit_code == 0
    if extra.endswith("/"):
        (out / extra).mkdir()
    else:
        (out / extra).write_text("mine", encoding="utf-8")
    res = solve_out("--out", out)
    assert res.exit_code == 2 and res.stderr.strip() == f"--out {out} | {FOREIGN}"
    assert (out / extra.rstrip("/")).exists()


def test_a_marker_of_another_writer_or_unreadable_is_not_enough(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.csv").write_text("x", encoding="utf-8")
    (out / MARKER).write_text(json.dumps({"written_by": "someone", "files": ["a.csv"]}))
    assert not RESULTS(out)
    (out / MARKER).write_text("{not json")
    assert not RESULTS(out)
    (out / MARKER).write_text(json.dumps({"written_by": "wfopt solve", "files": ["a.csv"]}))
    assert RESULTS(out)


def test_a_link_to_a_foreign_folder_is_refused(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "table.csv").write_text("mine", encoding="utf-8")
    (tmp_path / "link").symlink_to(mine)
    res = solve_out("--out", tmp_path / "link")
    assert res.exit_code == 2 and FOREIGN in res.stderr
    assert [p.name for p in mine.iterdir()] == ["table.csv"]


def test_a_dangling_link_is_refused_and_its_target_not_created(tmp_path):
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    res = solve_out("--out", tmp_path / "link")
    assert res.exit_code == 2 and res.stdout == ""
    assert res.stderr.strip() == (f"--out {tmp_path / 'link'} | is a symbolic link to nothing; "
                                  "following it would create its target: remove the link or "
                                  "name a folder")
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("where", ["file", "proc"])
def test_a_place_where_no_folder_can_be_made_is_refused_before_solving(tmp_path, where):
    if where == "file":
        (tmp_path / "afile").write_text("x", encoding="utf-8")
        out, why = tmp_path / "afile" / "sub", f"{tmp_path / 'afile'} is a file, not a folder"
    else:
        if not Path("/proc/self").exists():
            pytest.skip("no /proc")
        out, why = Path("/proc/x"), "no folder can be created in /proc: "
    res = solve_out("--out", out)
    assert res.exit_code == 2 and res.stdout == ""  # no solve
    assert res.stderr.startswith(f"--out {out} | {why}")
    assert len(res.stderr.splitlines()) == 1


def test_a_full_disk_keeps_the_summary_on_the_terminal(tmp_path, monkeypatch):
    import errno

    import optimiser.results.tables as results

    real = results.write_csv
    calls = []

    def full(frame, path):
        calls.append(path)
        if len(calls) > 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(frame, path)

    monkeypatch.setattr(results, "write_csv", full)
    out = tmp_path / "out"
    res = solve_out("--out", out)
    assert res.exit_code == 1
    assert "status              optimal" in res.stdout
    assert "weighted shortfall" in res.stdout and "results written" not in res.stdout
    assert res.stderr.splitlines() == [
        f"{out} | the results could not be written: No space left on device; nothing was "
        "written there (the summary above is the plan)"]
    assert not out.exists() and beside(tmp_path, "out") == []


def test_stale_temporaries_are_removed_and_live_ones_kept(tmp_path):
    out = tmp_path / "out"
    stale = tmp_path / ".out.99999-deadbeef.tmp"
    stale.mkdir()
    (stale / "workforce.csv").write_text("half", encoding="utf-8")
    old_style = tmp_path / ".out.old-424242"
    old_style.mkdir()
    live = tmp_path / ".out.12345-cafef00d.tmp"
    live.mkdir()
    fd = _hold(live)  # another writer, alive: its folder is locked
    try:
        with atomic_directory(out, RESULTS) as tmp:
            (tmp / "a.csv").write_text("1", encoding="utf-8")
        assert beside(tmp_path, "out") == [live.name]
    finally:
        if fd is not None:
            os.close(fd)
    with atomic_directory(out, RESULTS) as tmp:
        (tmp / "a.csv").write_text("2", encoding="utf-8")
    assert beside(tmp_path, "out") == []


def test_a_folder_moved_aside_by_a_killed_swap_is_put_back(tmp_path):
    """Killed between moving the old folder aside and the swap: out is missing."""
    aside = tmp_path / ".out.4242-0badcafe.old"
    aside.mkdir()
    (aside / "summary.json").write_text("{}", encoding="utf-8")
    assert clean_stale(tmp_path / "out") == [aside]
    assert (tmp_path / "out" / "summary.json").read_text() == "{}"


CHILD = """
import sys, time
import optimiser.results.tables as results
from optimiser import load_instance, solve
result = solve(load_instance(sys.argv[1]))
real = results.write_csv
def slow(frame, path):
    real(frame, path)
    print("wrote", path.name, flush=True)
    time.sleep(float(sys.argv[3]))
results.write_csv = slow
result.write(sys.argv[2])
print("done", flush=True)
"""


def writer(out: Path, pause: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CHILD, str(TINY), str(out), str(pause)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[1])


def test_a_writer_killed_mid_write_leaves_nothing_the_next_run_trips_on(tmp_path):
    """SIGKILL in the middle of writing the tables (a real child process): the
    next run works and leaves no temporary folder behind."""
    out = tmp_path / "out"
    assert solve_out("--out", out).exit_code == 0  # an earlier plan
    before = (out / "summary.json").read_bytes()
    child = writer(out, 30)
    try:
        line = child.stdout.readline()
        assert line.startswith("wrote"), (line, child.stderr.read() if child.poll() else "")
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    left = beside(tmp_path, "out")
    assert len(left) == 1 and left[0].endswith(".tmp")  # what the kill left
    assert (out / "summary.json").read_bytes() == before  # the earlier plan intact
    res = solve_out("--out", out)
    assert res.exit_code == 0, res.output
    assert beside(tmp_path, "out") == []
    assert json.loads((out / "summary.json").read_text())["status"] == "optimal"


def test_two_writers_to_one_folder_are_serialised(tmp_path):
    out = tmp_path / "out"
    children = [writer(out, 0.2) for _ in range(2)]
    outputs = []
    for child in children:
        stdout, stderr = child.communicate(timeout=300)
        outputs.append((child.returncode, stdout, stderr))
    for code, stdout, stderr in outputs:
        assert code == 0, stderr
        assert stdout.splitlines()[-1] == "done"
    assert RESULTS(out)  # one complete, marked folder
    assert {"summary.json", "workforce.csv", MARKER} <= {p.name for p in out.iterdir()}
    assert beside(tmp_path, "out") == []
