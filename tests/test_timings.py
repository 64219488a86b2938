"""Phase timings (``Result.timings``, ``summary.json``) and ``wfopt solve --profile``.

No thresholds on seconds (speed targets live in ``benchmarks/``): the tests check
that every phase is there, non-negative, that the phases add up to no more than
the wall time around them, that HiGHS's stage times add up to ``solve``, that
``write`` reaches ``summary.json``, and that ``--profile`` prints the table with
the model's size. The profile table's arithmetic is checked on made-up numbers.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import ClassVar

import pytest
from pytest import approx
from typer.testing import CliRunner

from cli import app
from optimiser import load_instance, solve
from optimiser.engine.profile import ordered_phases, overhead_ratio, profile_table

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "instances" / "tiny" / "instance.yaml"
PIPELINE = ("load", "validate", "build", "handover", "solve", "extract", "write")


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """tiny loaded, solved and written, with the wall time around the three calls."""
    out = tmp_path_factory.mktemp("timings") / "out"
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    result = solve(load_instance(TINY, timings=timings), timings=timings)
    result.write(out)
    wall = time.perf_counter() - t0
    return result, wall, out


def test_every_phase_is_timed_and_non_negative(written):
    result, _, _ = written
    for phase in PIPELINE:
        assert phase in result.timings, phase
    assert all(v >= 0 for v in result.timings.values())


def test_phases_add_up_to_at_most_the_wall_time_around_them(written):
    result, wall, _ = written
    phases = sum(v for _, v in ordered_phases(result.timings))
    assert 0 < phases <= wall


def test_solve_is_highs_time_summed_over_the_stages(written):
    result, _, _ = written
    t = result.timings
    # Every lever is placed (SPEC §2.14): no share-out stage.
    assert [s["stage"] for s in result.stages] == ["shortfall", "cost"]
    assert t["solve"] == approx(t["solve_shortfall"] + t["solve_cost"])
    assert t["solve"] == approx(result.solve_seconds)
    for s in result.stages:
        assert s["seconds"] == approx(t[f"solve_{s['stage']}"], abs=1e-6)


def test_a_stage_counts_its_starting_plan_lp():
    """first_plan's LP is HiGHS time spent for the stage: run() adds it once."""
    from formulations import build_model, model_data
    from optimiser.engine.solve import HighsModel

    hm = HighsModel(build_model(model_data(load_instance(TINY))))
    assert hm.first_plan(hm.c_W, None) is not None
    start = hm._start_seconds
    rec = hm.run(hm.c_W, None)
    assert rec["seconds"] >= start > 0
    assert hm._start_seconds == 0.0
    assert hm.run(hm.c_W, None)["seconds"] > 0


class SlowStart:
    """A HighsModel whose starting-plan LP takes 0.4 s longer, recording the time
    limits the stages get (the real HiGHS solves; only the start is delayed)."""

    def __new__(cls, m):
        import time as _time

        from optimiser.engine.solve import HighsModel

        class Probe(HighsModel):
            limits: ClassVar[list[float | None]] = []

            def first_plan(self, cost, time_limit):
                _time.sleep(0.4)
                return super().first_plan(cost, time_limit)

            def run(self, cost, time_limit, **kw):
                Probe.limits.append(time_limit)
                return super().run(cost, time_limit, **kw)

        cls.probe = Probe
        return Probe(m)


@pytest.mark.parametrize("mode, first_share", [("lexicographic", 0.8), ("weighted", 1.0)])
def test_time_limit_covers_the_starting_plan(mode, first_share):
    """The first stage's run gets its share of the limit minus what the starting
    plan took, not the whole share again."""
    from optimiser import SolveOptions

    inst = load_instance(TINY)
    if mode == "weighted":
        inst = inst.model_copy(update={"objective": inst.objective.model_copy(
            update={"mode": "weighted", "value_per_fte": 100000.0})})
    result = solve(inst, SolveOptions(time_limit=10.0, explain=False), handover=SlowStart)
    first = SlowStart.probe.limits[0]
    assert result.status == "optimal"
    assert first <= 10.0 * first_share - 0.4


def test_summary_json_carries_every_phase_including_write(written):
    result, _, out = written
    summary = json.loads((out / "summary.json").read_text())
    assert set(PIPELINE) <= set(summary["timings"])
    assert summary["timings"]["write"] == approx(result.timings["write"], abs=1e-6)
    assert summary["timings"]["write"] > 0
    # 143 rows before placement, and 37 share rows (SPEC §2.14): 25 of graduates
    # (graduates_share) and 12 of returners (returners_share) over tiny's 3 trusts.
    assert summary["model_size"] == {"variables": 161, "integers": 28, "constraints": 180,
                                     "nonzeros": result.model_size["nonzeros"]}


def test_profile_table_arithmetic():
    timings = {"load": 1.0, "validate": 0.5, "build": 2.0, "handover": 1.0, "solve": 4.0,
               "solve_shortfall": 3.0, "solve_cost": 1.0, "extract": 0.5, "write": 0.5,
               "newphase": 0.25}
    text = profile_table(timings, {"variables": 1200, "integers": 30, "constraints": 900,
                                   "nonzeros": 4500}, total=10.0, peak_bytes=3 * 2**20,
                         startup=1.5)
    rows = {line.split()[0]: line.split()[1:] for line in text.splitlines()}
    # Phases in pipeline order, stages under solve, unknown phases last.
    names = [line.split()[0] for line in text.splitlines()[1:]]
    assert names[:13] == ["startup", "load", "validate", "build", "handover", "solve",
                          "shortfall", "cost", "extract", "write", "newphase", "other", "total"]
    assert rows["solve"][:2] == ["4.000", "40.0%"]
    assert rows["shortfall"][:2] == ["3.000", "30.0%"]
    # other = 10 − (1 + 0.5 + 2 + 1 + 4 + 0.5 + 0.5 + 0.25) = 0.25
    assert rows["other"][:2] == ["0.250", "2.5%"]
    assert rows["total"][0] == "10.000"
    assert "1,200 variables (30 integer), 900 constraints, 4,500 nonzeros" in text
    assert "peak 3.0 MiB" in text
    assert text.endswith("= 1.500")  # (10 − 4) / 4
    assert overhead_ratio(10.0, 0.0) is None


def test_solve_profile_prints_the_table(tmp_path):
    res = CliRunner().invoke(app, ["solve", str(TINY), "--profile", "--out",
                                   str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    table = res.stdout[res.stdout.index("phase "):]
    for phase in ("startup", *PIPELINE, "shortfall", "cost", "other", "total"):
        assert any(line.split()[0] == phase for line in table.splitlines()), phase
    size = summary["model_size"]
    assert (f"{size['variables']:,} variables ({size['integers']:,} integer), "
            f"{size['constraints']:,} constraints, {size['nonzeros']:,} nonzeros") in table
    peak = next(line for line in table.splitlines() if line.startswith("memory"))
    assert float(peak.split()[2].replace(",", "")) > 10  # MiB: a Python with Pyomo loaded


def test_profile_with_json_keeps_stdout_json(tmp_path):
    res = CliRunner().invoke(app, ["solve", str(TINY), "--profile", "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert set(PIPELINE) - {"write"} <= set(summary["timings"])
    assert "phase " in res.stderr and "overhead" in res.stderr


def test_first_handover_does_not_import_scipy_stats():
    """Pyomo's SciPy callback would import scipy.stats (1-2 s) on the first hand-over."""
    code = ("import sys, cli\n"
            "from optimiser import load_instance, solve\n"
            f"r = solve(load_instance({str(TINY)!r}))\n"
            "print(r.status, 'scipy.sparse' in sys.modules, 'scipy.stats' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=REPO).stdout.split()
    assert out == ["optimal", "True", "False"]
