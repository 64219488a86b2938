"""The solver is silent unless asked, and one process can solve with any thread
count in any order.

HiGHS writes its log (and, from highspy 1.16, a banner when a ``highspy.Highs``
is created) straight to file descriptor 1, past Python's ``sys.stdout``: these
tests run the real command in a child process, or capture at the descriptor
level (``capfd``), so a banner anywhere would be seen.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from optimiser import SolveOptions, load_instance, solve
from optimiser.engine.highs import highs_version, new_highs
from optimiser.sweep.run import sweep

REPO = Path(__file__).resolve().parent.parent
TINY = REPO / "instances" / "tiny" / "instance.yaml"
INFEASIBLE = REPO / "tests" / "data" / "infeasible" / "regional_supervision.yaml"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, cwd=REPO, timeout=300)


def test_solve_json_is_pure_json_and_stderr_is_empty(tmp_path: Path) -> None:
    p = run(sys.executable, "-m", "cli", "solve", str(TINY), "--json",
            "--out", str(tmp_path / "out"))
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout)  # the banner in front would make this fail
    assert summary["status"] == "optimal"
    assert p.stderr == ""


def test_solve_json_with_verbose_keeps_stdout_pure_json_and_logs_on_stderr(
        tmp_path: Path) -> None:
    """``--verbose`` asks for HiGHS's log, not for it on stdout: HiGHS writes it
    with C's printf to descriptor 1, which the command hands to stderr while it
    solves."""
    p = run(sys.executable, "-m", "cli", "solve", str(TINY), "--json", "--verbose",
            "--out", str(tmp_path / "out"))
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout)  # one line of HiGHS's log in front would fail this
    assert summary["status"] == "optimal"
    assert "Coefficient ranges" in p.stderr  # HiGHS's log, where --verbose shows it


def test_library_solve_prints_nothing_on_any_path() -> None:
    """Stages, marginal values, the deployment LP and the infeasibility analysis."""
    code = ("from optimiser import load_instance, solve\n"
            f"a = solve(load_instance({str(TINY)!r}))\n"
            f"b = solve(load_instance({str(INFEASIBLE)!r}))\n"
            "assert a.status == 'optimal' and a.marginal_values is not None\n"
            "assert b.status == 'infeasible' and b.conflicts\n")
    p = run(sys.executable, "-c", code)
    assert p.returncode == 0, p.stderr
    assert (p.stdout, p.stderr) == ("", "")


def test_verbose_shows_the_solver_log(capfd: pytest.CaptureFixture[str]) -> None:
    solve(load_instance(TINY), SolveOptions(verbose=True, explain=False))
    assert "HiGHS" in capfd.readouterr().out


def test_new_highs_is_silent(capfd: pytest.CaptureFixture[str]) -> None:
    h = new_highs()
    h.run()  # an empty model: HiGHS would log its header and the empty-model note
    assert capfd.readouterr() == ("", "")
    assert highs_version().count(".") == 2


def test_thread_counts_in_any_order_in_one_process(tmp_path: Path) -> None:
    """The cause of sweeps' "HiGHS stopped with status Not Set": HiGHS keeps one
    thread scheduler per process, sized by the first run; a later run asking for
    another ``threads`` failed until the engine learned to reset it."""
    inst = load_instance(TINY)
    for threads in (None, 1, 2, None, 1):
        r = solve(inst, SolveOptions(threads=threads))
        assert r.status == "optimal", (threads, r.messages)
    # A sweep (threads 1 per point, in this process) after a default-threads solve.
    solve(inst, SolveOptions())
    frame = sweep(TINY, {"budgets.main.per_year": [1e6, 2e6]}, workers=1)
    assert (frame["status"] == "optimal").all(), frame["message"].tolist()
