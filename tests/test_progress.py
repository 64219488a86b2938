"""Progress while a solve works (issue 31): the live line of ``wfopt solve`` on a
terminal's stderr, nothing anywhere else, and the callback an embedding
application gives (``SolveOptions.progress``, ``sweep(progress=...)``).

The command runs in a child process with its stderr on a pseudo-terminal
(:mod:`pty`), as a planner's terminal is, and its stdout on a pipe."""

from __future__ import annotations

import fcntl
import itertools
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

import pytest

from optimiser import SolveOptions, load_instance, solve

REPO = Path(__file__).resolve().parent.parent
TINY = REPO / "instances" / "tiny" / "instance.yaml"
WFOPT = [sys.executable, "-c", "import sys, cli; sys.argv[0] = 'wfopt'; cli.main()"]
STAGES = ["building", "shortfall", "cost", "tie-breaks", "explanation"]
"""tiny's stages in order (a lexicographic plan without fair shares)."""


def run_on_pty(*args: str) -> tuple[bytes, bytes, int]:
    """Run wfopt with stderr on a pseudo-terminal 160 columns wide: its stdout,
    what the terminal received, its exit code."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 160, 0, 0))
    p = subprocess.Popen([*WFOPT, *args], stdout=subprocess.PIPE, stderr=slave,
                         stdin=subprocess.DEVNULL, cwd=REPO, env={**os.environ, "TERM": "xterm"})
    os.close(slave)
    received = bytearray()

    def read() -> None:
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed its end (EIO on Linux)
                break
            if not chunk:
                break
            received.extend(chunk)

    reader = threading.Thread(target=read)
    reader.start()
    out, _ = p.communicate(timeout=300)
    reader.join(timeout=10)
    os.close(master)
    return out, bytes(received), p.returncode


def run_to_files(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*WFOPT, *args], capture_output=True, cwd=REPO, timeout=300)


def steady(stdout: bytes) -> bytes:
    """stdout with its seconds (the figures that differ from run to run: HiGHS's
    time, when the plans came within 1% and the gap) masked."""
    return re.sub(rb"(solve time|at) [0-9.]+ s", rb"\1 - s", stdout)


def test_the_line_shows_each_stage_on_a_terminal_and_stdout_is_unchanged(tmp_path):
    out, term, code = run_on_pty("solve", str(TINY))
    assert code == 0
    text = term.decode()
    shown = re.findall(r"wfopt solve · ([a-z -]+) · \d+ s of 60 s", text)
    assert [s for i, s in enumerate(shown) if i == 0 or s != shown[i - 1]] == STAGES
    assert text.endswith("\x1b[2K")  # erased at the end: the summary stays alone
    plain = run_to_files("solve", str(TINY))
    assert plain.returncode == 0 and plain.stderr == b""
    assert steady(out) == steady(plain.stdout)
    assert out.startswith(b"instance            tiny\n")


def test_nothing_is_drawn_with_quiet_or_verbose():
    out, term, code = run_on_pty("solve", str(TINY), "--quiet")
    assert code == 0 and out
    assert term == b""
    _out, term, code = run_on_pty("solve", str(TINY), "--verbose")
    assert code == 0
    assert b"wfopt solve \xc2\xb7" not in term  # HiGHS's log is there instead


def test_nothing_is_drawn_into_a_file_and_json_stays_json():
    p = run_to_files("solve", str(TINY), "--json")
    assert p.returncode == 0 and p.stderr == b""
    assert p.stdout.startswith(b"{")
    out, term, code = run_on_pty("solve", str(TINY), "--json")
    assert code == 0 and out.startswith(b"{") and b"\x1b" not in out
    assert b"wfopt solve \xc2\xb7 shortfall" in term


def test_the_callback_hears_every_stage_and_the_result_is_the_same():
    """An embedding application's callback: the stages in order, elapsed never
    going back, the instance's limit (60 s); W and C as without one."""
    inst = load_instance(TINY)
    heard = []
    with_cb = solve(inst, SolveOptions(progress=heard.append))
    plain = solve(inst)
    stages = [p.stage for p in heard]
    assert [s for i, s in enumerate(stages) if i == 0 or s != stages[i - 1]] == STAGES
    assert all(b.elapsed >= a.elapsed for a, b in itertools.pairwise(heard))
    assert {p.limit for p in heard} == {60}
    assert with_cb.weighted_shortfall == pytest.approx(plain.weighted_shortfall, abs=1e-6)
    assert with_cb.total_cost == pytest.approx(plain.total_cost, abs=1e-3)
    assert with_cb.options == plain.options  # the callback is no option of the results


SCENARIOS = """\
here_and_now_years: 1
risk: expected
list:
  - {id: central, probability: 0.5}
  - {id: high, probability: 0.3, scale: {staff_groups.*.leaver_rate: 1.1}}
  - {id: low, probability: 0.2, scale: {staff_groups.*.leaver_rate: 0.9}}
"""


def test_a_stochastic_plan_reports_its_stages_then_its_independent_solves(tmp_path):
    """tiny under three futures: the extensive form's stages, then the 2 × 3 + 1
    wait-and-see and EEV solves, each counted once as it ends."""
    from optimiser.engine.scenarios import load_scenarios_file, solve_scenarios

    path = tmp_path / "scenarios.yaml"
    path.write_text(SCENARIOS, encoding="utf-8")
    inst = load_instance(TINY).model_copy(update={"scenarios": load_scenarios_file(path)})
    heard = []
    result = solve_scenarios(inst, SolveOptions(progress=heard.append))
    assert result.status == "optimal"
    ef = [p.stage for p in heard if p.phase == "extensive form"]
    assert [s for i, s in enumerate(ef) if i == 0 or s != ef[i - 1]] == STAGES[:4]
    counts = [p.phase for p in heard if p.phase and p.phase.startswith("wait-and-see")]
    assert list(dict.fromkeys(counts)) == [f"wait-and-see and EEV solves {k} of 7"
                                           for k in range(8)]


def test_a_sweeps_bar_is_drawn_on_a_terminal_and_not_with_quiet(tmp_path):
    """Two points of tiny, one without a plan: the bar counts it; --quiet draws
    nothing; the rows on stdout are the same."""
    grid = ["sweep", str(TINY), "--set-grid", "budgets.education.per_year=-1,4e6",
            "--workers", "1"]
    out, term, code = run_on_pty(*grid, "--out", str(tmp_path / "a"))
    assert code == 1  # a point without a plan
    assert re.search(rb"2/2\S* 1 without a plan", term), term
    quiet_out, quiet_term, quiet_code = run_on_pty(*grid, "--out", str(tmp_path / "b"),
                                                   "--quiet")
    assert quiet_code == 1 and quiet_term == b""
    assert out.replace(b"/a\n", b"/b\n") == quiet_out


class MipOut:
    """What HiGHS's MIP callback hands over, the fields the meter reads."""

    def __init__(self, primal: float, dual: float, gap: float):
        self.mip_primal_bound, self.mip_dual_bound, self.mip_gap = primal, dual, gap


def test_the_mip_callback_reports_at_most_four_times_a_second(monkeypatch):
    """HiGHS calls back between nodes, often; the meter passes one call per
    0.25 s on, and no infinite figure (HiGHS's 'none yet' is ±inf or 1e30+)."""
    from optimiser.engine import progress

    clock = [100.0]
    monkeypatch.setattr(progress.time, "perf_counter", lambda: clock[0])
    heard = []
    meter = progress.Meter(heard.append, started=90.0, limit=600.0)
    meter.stage("shortfall")
    for _ in range(50):  # 50 calls in the same instant: one report
        meter.mip(MipOut(float("inf"), 80.0, float("inf")))
    clock[0] += 0.2
    meter.mip(MipOut(120.0, 80.0, 1 / 3))  # 0.2 s later: not yet
    clock[0] += 0.05
    meter.mip(MipOut(100.0, 90.0, 0.1))  # 0.25 s after the first: reported
    assert [(p.stage, p.elapsed, p.objective, p.bound, p.gap) for p in heard] == [
        ("shortfall", 10.0, None, None, None),
        ("shortfall", 10.0, None, 80.0, None),
        ("shortfall", 10.25, 100.0, 90.0, 0.1)]
    meter.stage("cost")  # a new stage forgets the last one's figures
    assert (heard[-1].objective, heard[-1].bound, heard[-1].gap) == (None, None, None)


def test_the_line_reads_in_the_stages_units():
    from cli import LiveLine
    from optimiser.engine.progress import Progress

    line = LiveLine(show=False, clock=100.0)
    assert line.text(now=101.0) == "wfopt solve · starting · 1 s"
    line(Progress("shortfall", 7.0, 600.0, objective=12843.24, bound=12840.75, gap=0.000194))
    assert line.text(now=107.4) == ("wfopt solve · shortfall · 7 s of 600 s · best 12,843.24 "
                                    "FTE · bound 12,840.75 FTE · gap 0.02%")
    line(Progress("cost", 14.0, 600.0, phase="extensive form", objective=819.04e6))
    assert line.text(now=114.0) == ("wfopt solve · extensive form · cost · 14 s of 600 s · "
                                    "best £819.04m")
