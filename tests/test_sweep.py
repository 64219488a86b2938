"""Sensitivity sweeps (SPEC §5): ``optimiser.sweep()`` and ``wfopt sweep``.

The numbers come from a one-trust instance worked by hand: 100 nurses, leaver
rate λ, one plan year, a target of 150 and international recruits at £10,000
within a budget b. The stock at the end of 2017 is (1 − λ)·100 + I with
I ≤ b / 10,000, so W = max(0, 150 − (1 − λ)·100 − b / 10,000) and
C = 10,000 · (150 − (1 − λ)·100 − W). A committed training cohort of 100
under supervision makes the plan infeasible when fewer than 1 trainee per
nurse may be supervised (100 trainees, 100 nurses).

Every solve is real (HiGHS); the parallel runs start real processes and a real
Dask ``LocalCluster``.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import optimiser
from cli import app
from optimiser.engine.solve import SolveOptions
from optimiser.errors import InputError
from optimiser.instance.overrides import Override, OverrideSyntaxError
from optimiser.sweep.grid import GridAxis, as_axes, format_value, grid_points
from optimiser.sweep.point import PointJob, SweepSource, solve_point
from optimiser.sweep.run import split_chains, sweep

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "instances" / "tiny" / "instance.yaml"

ONE_TRUST = {
    "name": "one-trust",
    "horizon": {"base_year": 2016, "years": 1},
    "staff_groups": [{"id": "nurse", "leaver_rate": 0.1}],
    "units": [{"id": "trust", "region": "north"}],
    "workforce": [{"unit": "trust", "group": "nurse", "fte": 100}],
    "training": [{"id": "degree", "group": "nurse", "duration": 2, "completion_rate": 1,
                  "cost_per_place_year": 1, "committed": {2016: 100},
                  "supervision": {"group": "nurse", "max_trainees_per_fte": 2}}],
    "international": [{"id": "intl", "group": "nurse", "cost_per_recruit": 10000,
                       "max_per_year": 1000}],
    "budgets": [{"id": "main", "per_year": 200000}],
    "targets": [{"id": "nurses", "groups": ["nurse"], "required": {2017: 150}}],
}

BUDGET = "budgets.main.per_year"
LEAVERS = "staff_groups.nurse.leaver_rate"
SUPERVISION = "training.degree.supervision.max_trainees_per_fte"
STABLE = ["point", "status", "weighted_shortfall", "total_cost"]
# Stage 2 may give back SPEC §2.9's tolerance on W (rel_tol 1e-6 of W₁, at least
# abs_tol 1e-6 FTE) to save cost: at £10,000 per FTE that is at most £1 here.
W_TOL = {"rel": 2e-6, "abs": 2e-6}  # twice the tolerance: float rounding at its edge
C_TOL = {"abs": 1.0}


@pytest.fixture
def one_trust(tmp_path: Path) -> Path:
    path = tmp_path / "one-trust.yaml"
    path.write_text(yaml.safe_dump(ONE_TRUST, sort_keys=False), encoding="utf-8")
    return path


def hand_w(budget: float, leaver_rate: float) -> float:
    return max(0.0, 150 - (1 - leaver_rate) * 100 - budget / 10000)


def run_cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


# ---------------------------------------------------------------- the grid


def test_set_grid_values_are_read_as_yaml() -> None:
    axis = GridAxis.parse("set", "budgets.main.per_year=2e5, 5e5,{2017: 1e6}")
    assert axis == GridAxis("set", "budgets.main.per_year", (2e5, 5e5, {2017: 1e6}))
    assert GridAxis.parse("scale", "budgets=0.8,1,1.2").values == (0.8, 1, 1.2)


@pytest.mark.parametrize(("kind", "text", "message"), [
    ("set", "budgets.main.per_year", "--set-grid budgets.main.per_year | expected KEY=v1,v2,..."),
    ("set", "=1,2", "--set-grid =1,2 | expected KEY=v1,v2,..."),
    ("set", "budgets.main.per_year=", "--set-grid budgets.main.per_year | no values after '='"),
    ("set", "budgets.main.per_year=1,,2",
     "--set-grid budgets.main.per_year | an empty value in '1,,2' (values are separated by commas)"),
    ("scale", "budgets=1,x", "--scale-grid budgets | the factor must be a number, got 'x'"),
])
def test_bad_grid_syntax_names_the_option(kind: str, text: str, message: str) -> None:
    with pytest.raises(OverrideSyntaxError) as info:
        GridAxis.parse(kind, text)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_points_are_the_product_in_grid_order() -> None:
    axes = as_axes({BUDGET: [0, 1], LEAVERS: [0.1, 0.2, 0.3]})
    assert grid_points(axes) == [(0, 0.1), (0, 0.2), (0, 0.3), (1, 0.1), (1, 0.2), (1, 0.3)]


def test_a_key_twice_or_no_values_is_an_input_error() -> None:
    with pytest.raises(InputError) as info:
        as_axes([("set", BUDGET, [1]), ("scale", BUDGET, [2]), ("set", LEAVERS, [])])
    assert [str(p) for p in info.value.problems] == [
        "--scale-grid budgets.main.per_year | the key appears twice in the grid; give all "
        "its values in one option",
        "--set-grid staff_groups.nurse.leaver_rate | no values",
    ]


def test_chains_are_contiguous_runs_of_the_grid() -> None:
    assert split_chains(20, 2) == [list(range(10)), list(range(10, 20))]
    assert split_chains(5, 3) == [[0, 1], [2, 3], [4]]
    assert split_chains(2, 8) == [[0], [1]]


def test_values_in_cells() -> None:
    assert [format_value(v) for v in (3e8, 0.12, 7, {2018: 1e6, 2017: 2.5})] == [
        "300000000", "0.12", "7", '{"2017": 2.5, "2018": 1000000.0}']


# ---------------------------------------------------------------- the rows


def test_rows_are_the_hand_worked_plans_in_grid_order(one_trust: Path) -> None:
    frame = sweep(one_trust, {BUDGET: [0, 2e5, 5e5, 1e6], LEAVERS: [0.1, 0.2]}, workers=1)
    assert list(frame.columns) == ["point", BUDGET, LEAVERS, "status", "weighted_shortfall",
                                   "total_cost", "mip_gap", "message", "solve_seconds",
                                   "seconds", "cpu_seconds", "warm_start"]
    assert frame["point"].tolist() == list(range(1, 9))
    assert frame[BUDGET].tolist() == [0, 0, 2e5, 2e5, 5e5, 5e5, 1e6, 1e6]
    assert frame[LEAVERS].tolist() == [0.1, 0.2] * 4
    assert (frame["status"] == "optimal").all()
    # W = max(0, 150 − (1 − λ)·100 − b/10,000); C buys the rest at £10,000 per FTE.
    assert frame["weighted_shortfall"].tolist() == pytest.approx(
        [60, 70, 40, 50, 10, 20, 0, 0], **W_TOL)
    assert frame["weighted_shortfall"].tolist() == pytest.approx(
        [hand_w(b, lam) for b, lam in zip(frame[BUDGET], frame[LEAVERS], strict=True)], **W_TOL)
    assert frame["total_cost"].tolist() == pytest.approx(
        [0, 0, 2e5, 2e5, 5e5, 5e5, 6e5, 7e5], **C_TOL)


def test_progress_counts_every_point_once_failed_ones_too(one_trust: Path) -> None:
    """Issue 31: the four points of the grid below (two invalid, one infeasible,
    one optimal) are each counted once, as they finish; three have no plan."""
    heard = []
    frame = sweep(one_trust, [("set", SUPERVISION, [0.5, 2]), ("set", BUDGET, [-1, 3e5])],
                  workers=1, progress=heard.append)
    assert frame["status"].tolist() == ["invalid", "infeasible", "invalid", "optimal"]
    assert [p.done for p in heard] == [1, 2, 3, 4]
    assert {p.total for p in heard} == {4}
    assert [p.failed for p in heard] == [1, 2, 3, 3]
    assert [p.last.split(":")[0] for p in heard] == ["point 1", "point 2", "point 3",
                                                     "point 4"]
    assert heard[-1].left == 0
    assert all(p.left >= 0 and p.elapsed >= 0 for p in heard)


def test_failing_points_are_rows_not_a_crash(one_trust: Path) -> None:
    frame = sweep(one_trust, [("set", SUPERVISION, [0.5, 2]), ("set", BUDGET, [-1, 3e5])],
                  workers=1)
    assert frame["status"].tolist() == ["invalid", "infeasible", "invalid", "optimal"]
    assert frame["message"][0] == "budgets[main].per_year (from --set budgets.main.per_year=-1) | must be ≥ 0, got -1"
    assert "supervision allows 50" in frame["message"][1]
    assert frame.loc[1, ["weighted_shortfall", "total_cost"]].isna().all()
    assert frame["weighted_shortfall"][3] == pytest.approx(30, **W_TOL)  # 150 − 90 − 30


def test_a_point_that_raises_is_an_error_row(one_trust: Path) -> None:
    job = PointJob(4, SweepSource.from_path(one_trust), [], SolveOptions(mode="bogus"))
    outcome = solve_point(job)
    assert (outcome.index, outcome.status) == (4, "error")
    assert outcome.message == ("internal error: ValueError: mode must be lexicographic or "
                               "weighted, got 'bogus'")


def test_an_instance_object_sweeps_like_its_file(one_trust: Path) -> None:
    inst = optimiser.load_instance(one_trust)
    grid = {BUDGET: [1e5, 4e5]}
    by_object = sweep(inst, grid, workers=1)
    by_path = sweep(one_trust, grid, workers=1)
    assert by_object[STABLE].equals(by_path[STABLE])
    assert by_object["weighted_shortfall"].tolist() == pytest.approx([50, 20], **W_TOL)


def test_fixed_overrides_apply_to_every_point(one_trust: Path) -> None:
    frame = sweep(one_trust, {BUDGET: [1e5, 4e5]}, workers=1,
                  overrides=[Override("set", "targets.nurses.required.2017", 120)])
    assert frame["weighted_shortfall"].tolist() == pytest.approx([20, 0], **W_TOL)


def test_grid_keys_are_checked_before_solving(one_trust: Path) -> None:
    with pytest.raises(InputError) as info:
        sweep(one_trust, [("set", "budgets.mian.per_year", [1]),
                          ("scale", "budgets.main.total", [2])], workers=1)
    assert [str(p) for p in info.value.problems] == [
        "--set-grid budgets.mian.per_year | no item 'mian' in 'budgets' (known: main)",
        "--scale-grid budgets.main.total | 'budgets.main.total' is not set, so there is "
        "nothing to scale",
    ]


# ---------------------------------------------------------------- reuse


def test_reuse_gives_the_plans_of_solves_from_scratch() -> None:
    grid = [("scale", "budgets", [0.5, 0.75, 1.0, 1.25, 1.5])]
    reused = sweep(TINY, grid, workers=1)
    scratch = sweep(TINY, grid, workers=1, reuse=False)
    assert reused["warm_start"].tolist() == ["", "1", "1", "1", "1"]  # rising budgets
    assert scratch["warm_start"].tolist() == [""] * 5
    assert reused["status"].tolist() == scratch["status"].tolist() == ["optimal"] * 5
    gap = 1e-4  # the instance's mip_gap
    for col in ("weighted_shortfall", "total_cost"):
        assert reused[col].tolist() == pytest.approx(scratch[col].tolist(), rel=gap, abs=1e-6)
    # Each point's W is that of the scaled instance solved alone, loaded and
    # solved without the sweep's code (no source, chains or warm starts), rather
    # than a list recorded from an earlier run; and more money can only help
    # while the budgets bind, as they do here: W falls point by point.
    alone = [optimiser.solve(optimiser.load_instance(TINY, [("scale", "budgets", k)]))
             .weighted_shortfall for k in grid[0][2]]
    assert scratch["weighted_shortfall"].tolist() == pytest.approx(alone, rel=gap, abs=1e-6)
    w = scratch["weighted_shortfall"].tolist()
    assert all(a > b + 1 for a, b in itertools.pairwise(w)), w


def test_a_plan_that_no_longer_fits_is_not_used_as_a_start(one_trust: Path) -> None:
    # Falling budgets: each plan overspends the next point's budget.
    frame = sweep(one_trust, {BUDGET: [5e5, 3e5, 1e5]}, workers=1)
    assert frame["warm_start"].tolist() == ["", "", ""]
    assert frame["weighted_shortfall"].tolist() == pytest.approx([10, 30, 50], **W_TOL)
    rising = sweep(one_trust, {BUDGET: [1e5, 3e5, 5e5]}, workers=1)
    assert rising["warm_start"].tolist() == ["", "1", "1"]


def test_an_unchanged_optimum_starts_both_stages(one_trust: Path) -> None:
    """With at most 30 recruits a year, budgets above £300,000 no longer bind:
    W₁ = 150 − 90 − 30 = 30 at every point, and stage 2 keeps its tolerance
    (30 + 3e-5 FTE, £0.30 saved). Each point's stages start from the previous
    point's plans, and the result is exactly the solve from scratch."""
    cap = [Override("set", "international.intl.max_per_year", 30)]
    grid = {BUDGET: [4e5, 5e5, 6e5, 7e5]}
    reused = sweep(one_trust, grid, workers=1, overrides=cap)
    scratch = sweep(one_trust, grid, workers=1, overrides=cap, reuse=False)
    assert reused["warm_start"].tolist() == ["", "1+2", "1+2", "1+2"]
    assert reused["weighted_shortfall"].tolist() == scratch["weighted_shortfall"].tolist() \
        == [30.00003] * 4
    assert reused["total_cost"].tolist() == scratch["total_cost"].tolist() == [299999.7] * 4


def test_the_first_stage_starts_from_the_previous_first_stage_plan(one_trust: Path) -> None:
    """Not from the reported plan, whose W carries stage 2's tolerance: starting
    there would let W creep up by that tolerance from point to point."""
    from formulations import build_model, model_data
    from optimiser.engine.warm_start import PlanStart, StartedHighsModel

    inst = SweepSource.from_path(one_trust).instance([Override("set", BUDGET, 4e5)])
    models: list[StartedHighsModel] = []
    optimiser.solve(inst, SolveOptions(threads=1),
                    handover=lambda m: models.append(StartedHighsModel(m)) or models[-1])
    hm = models[0]
    first, *_, final = hm.plans  # shortfall, cost, share-out (the reported plan)
    assert float(hm.c_W @ first) == pytest.approx(20, abs=1e-9)  # W₁ = 60 − 40 exactly
    assert float(hm.c_W @ final) == pytest.approx(20.00002, abs=1e-9)
    nxt = StartedHighsModel(build_model(model_data(inst)), PlanStart(hm.shape, first, final))
    assert nxt.first_plan(nxt.c_W, None) is first
    assert nxt.started == [1]
    other_shape = StartedHighsModel(build_model(model_data(inst)),
                                    PlanStart("another model", first, final))
    assert other_shape.first_plan(other_shape.c_W, None) is not first
    assert other_shape.started == []


def test_sweep_rows_equal_wfopt_solve_point_by_point() -> None:
    """Each row equals ``wfopt solve --set/--scale`` of that point (status, W, C)."""
    frame = sweep(TINY, [("set", "budgets.main.total", [2e6, 3.5e6]),
                         ("scale", "training.*.cost_per_place_year", [0.8, 1.2])], workers=1)
    for row in frame.itertuples(index=False):
        row = dict(zip(frame.columns, row, strict=True))
        code, out, _ = run_cli(
            "solve", str(TINY), "--json", "--threads", "1",
            "--set", f"budgets.main.total={row['budgets.main.total']}",
            "--scale", f"training.*.cost_per_place_year={row['training.*.cost_per_place_year (factor)']}")
        assert code == 0
        alone = json.loads(out)
        assert row["status"] == alone["status"] == "optimal"
        assert row["weighted_shortfall"] == pytest.approx(alone["weighted_shortfall"], rel=1e-4,
                                                          abs=1e-6)
        assert row["total_cost"] == pytest.approx(alone["total_cost"], rel=1e-4)


# ---------------------------------------------------------------- parallel


@pytest.fixture(scope="module")
def local_two_workers(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Path]:
    """The tiny budget sweep on two local worker processes, written to a folder."""
    out = tmp_path_factory.mktemp("local") / "sweep"
    frame = sweep(TINY, [("scale", "budgets", [0.6, 0.8, 1.0, 1.2])], workers=2, out=out,
                  write_points=False)
    return frame, out


def test_two_local_workers_give_the_serial_plans(local_two_workers) -> None:
    frame, _ = local_two_workers
    serial = sweep(TINY, [("scale", "budgets", [0.6, 0.8, 1.0, 1.2])], workers=1)
    # Two chains of two points: each chain's second point starts from its first.
    assert frame["warm_start"].tolist() == ["", "1", "", "1"]
    assert frame["status"].tolist() == serial["status"].tolist() == ["optimal"] * 4
    for col in ("weighted_shortfall", "total_cost"):
        assert frame[col].tolist() == pytest.approx(serial[col].tolist(), rel=1e-4, abs=1e-6)


def test_dask_local_cluster_equals_the_local_run(local_two_workers, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    frame, local_out = local_two_workers
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        on_dask = sweep(TINY, [("scale", "budgets", [0.6, 0.8, 1.0, 1.2])], client=client,
                        out=tmp_path / "dask", write_points=False)
    assert on_dask[[*STABLE, "mip_gap", "warm_start"]].equals(
        frame[[*STABLE, "mip_gap", "warm_start"]])
    assert (tmp_path / "dask" / "sweep.csv").read_bytes() == \
        (local_out / "sweep.csv").read_bytes()


def test_a_sweep_on_dask_worker_processes(one_trust: Path) -> None:
    """Workers in processes of their own (the clusters above share this process,
    so nothing is pickled): each point's instance and options travel to a worker
    and its plan back. W by hand (hand_w): 150 − 0.9·100 − budget / 10,000."""
    import os

    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        pids = set(client.run(os.getpid).values())
        frame = sweep(one_trust, [("set", BUDGET, [1e5, 4e5])], client=client,
                      write_points=False)
    assert len(pids) == 2 and os.getpid() not in pids  # really elsewhere
    assert frame["status"].tolist() == ["optimal", "optimal"]
    assert frame["weighted_shortfall"].tolist() == pytest.approx(
        [hand_w(1e5, 0.1), hand_w(4e5, 0.1)], **W_TOL)
    assert [hand_w(1e5, 0.1), hand_w(4e5, 0.1)] == pytest.approx([50, 20])


def test_wfopt_sweep_on_a_dask_scheduler(one_trust: Path, tmp_path: Path) -> None:
    """``--dask ADDRESS`` connects to a running scheduler (here a LocalCluster's)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        code, _, stderr = run_cli("sweep", str(one_trust), "--set-grid", f"{BUDGET}=1e5,4e5",
                                  "--dask", cluster.scheduler_address, "--no-point-tables",
                                  "--out", str(tmp_path / "sweep"))
    assert code == 0, stderr
    rows = pd.read_csv(tmp_path / "sweep" / "sweep.csv")
    assert rows["weighted_shortfall"].tolist() == pytest.approx([50, 20], **W_TOL)


def test_wfopt_sweep_unreachable_dask_scheduler_is_exit_2(one_trust: Path,
                                                          tmp_path: Path) -> None:
    code, _, stderr = run_cli("sweep", str(one_trust), "--set-grid", f"{BUDGET}=1",
                              "--dask", "not-a-scheme://nowhere", "--out", str(tmp_path / "s"))
    assert code == 2
    assert stderr.startswith("--dask not-a-scheme://nowhere | cannot connect: ")
    assert len(stderr.strip().splitlines()) == 1


# ---------------------------------------------------------------- wfopt sweep


def test_wfopt_sweep_writes_the_folder(one_trust: Path, tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    args = ["sweep", str(one_trust), "--set-grid", f"{BUDGET}=0,2e5,1e6",
            "--scale-grid", "staff_groups.nurse.leaver_rate=1,2", "--workers", "1",
            "--out", str(out)]
    code, stdout, _ = run_cli(*args)
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["frontier.png", "points", "sweep.csv",
                                                     "sweep_timings.csv"]
    assert (out / "sweep.csv").read_text(encoding="utf-8").splitlines()[0] == (
        "point,budgets.main.per_year,staff_groups.nurse.leaver_rate (factor),status,"
        "weighted_shortfall,total_cost,mip_gap,message")
    rows = pd.read_csv(out / "sweep.csv", keep_default_na=False)
    assert rows["budgets.main.per_year"].tolist() == [0, 0, 200000, 200000, 1000000, 1000000]
    assert rows["staff_groups.nurse.leaver_rate (factor)"].tolist() == [1, 2] * 3
    assert rows["status"].tolist() == ["optimal"] * 6
    # factor 2 doubles the leaver rate: λ = 0.2
    assert rows["weighted_shortfall"].tolist() == pytest.approx([60, 70, 40, 50, 0, 0], **W_TOL)
    assert rows["total_cost"].tolist() == pytest.approx([0, 0, 2e5, 2e5, 6e5, 7e5], **C_TOL)
    assert rows["message"].tolist() == [""] * 6
    timings = pd.read_csv(out / "sweep_timings.csv")
    assert list(timings.columns) == ["point", "solve_seconds", "seconds", "cpu_seconds",
                                     "warm_start",
                                     "validate", "build", "handover", "solve_shortfall",
                                     "solve_cost", "solve_weighted", "solve_unplaced",
                                     "solve_share_out", "rebuild", "extract", "explain"]
    assert timings["solve_weighted"].isna().all()  # a lexicographic instance
    # Every lever is placed (SPEC §2.14): no share-out to time.
    assert timings["solve_share_out"].isna().all()
    assert timings["solve_seconds"].tolist() == pytest.approx(
        (timings["solve_shortfall"] + timings["solve_cost"]).tolist(), abs=1e-5)
    assert timings["point"].tolist() == list(range(1, 7))
    points = sorted(p.name for p in (out / "points").iterdir())
    assert points == ["001", "002", "003", "004", "005", "006"]
    summary = json.loads((out / "points" / "004" / "summary.json").read_text())
    assert summary["weighted_shortfall"] == pytest.approx(50, **W_TOL)
    international = pd.read_csv(out / "points" / "004" / "international.csv")
    assert international["recruits"].tolist() == pytest.approx([20], rel=1e-5)
    assert (out / "frontier.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "   3  budgets.main.per_year=200000" in stdout
    assert not list(tmp_path.glob(".sweep*")), "no temporary folder is left behind"

    first = (out / "sweep.csv").read_bytes()
    code, _, _ = run_cli(*args)  # the same sweep again replaces the folder: same bytes
    assert code == 0
    assert (out / "sweep.csv").read_bytes() == first


@pytest.mark.parametrize("keys", [1, 2])
def test_the_frontier_plot_draws_every_kind_of_point(tmp_path: Path, keys: int) -> None:
    """Optimal, feasible (a limit was reached) and failed points, one key or two."""
    from optimiser.report.frontier import plot_frontier, value_label

    axes = [GridAxis("set", BUDGET, (1e5, 2e5, 3e5))]
    frame = pd.DataFrame({"point": [1, 2, 3], BUDGET: [1e5, 2e5, 3e5],
                          "status": ["optimal", "feasible", "infeasible"],
                          "weighted_shortfall": [50.0, 40.0, None],
                          "total_cost": [1e5, 2e5, None]})
    if keys == 2:
        axes.append(GridAxis("scale", "budgets", (1,)))
        frame["budgets (factor)"] = 1
    path = tmp_path / "frontier.png"
    plot_frontier(frame, axes, "one-trust", path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 20_000
    assert value_label(axes[0], 2.5e8, "£") == "£250m"
    assert value_label(GridAxis("set", LEAVERS, (0.12,)), 0.12, "£") == "12%"


@pytest.mark.parametrize("keys", [1, 2])
def test_a_point_without_a_plan_is_not_drawn_as_a_plan(keys: int) -> None:
    """Issue 11: an invalid point (W and C missing) was drawn at W = 0 with its
    value '£-1' as a tick, like a plan with no shortfall. It is left out of the
    curves and ticks, and named under the plot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    from optimiser.report.frontier import frontier_figure

    axes = [GridAxis("set", BUDGET, (1e5, 2e5, -1.0))]
    frame = pd.DataFrame({"point": [1, 2, 3], BUDGET: [1e5, 2e5, -1.0],
                          "status": ["optimal", "feasible", "invalid"],
                          "weighted_shortfall": [50.0, 40.0, None],
                          "total_cost": [1e5, 2e5, None]})
    if keys == 2:
        axes.append(GridAxis("scale", "budgets", (1,)))
        frame["budgets (factor)"] = 1
    fig = frontier_figure(plt, frame, axes, "one-trust")
    try:
        points = {(float(x), float(y)) for ax in fig.axes for line in ax.get_lines()
                  for x, y in zip(line.get_xdata(), line.get_ydata(), strict=True)}
        if keys == 1:  # W against the budget, and C (£m) under it
            assert points == {(1e5, 50.0), (2e5, 40.0), (1e5, 0.1), (2e5, 0.2)}
            assert [t.get_text() for t in fig.axes[1].get_xticklabels()] == ["£100k", "£200k"]
        else:  # W against C (£m)
            assert points == {(0.1, 50.0), (0.2, 40.0)}
        texts = [t.get_text() for t in fig.findobj(Text)]
        assert not any("£-1" in t for t in texts)
        assert not any(t == "invalid" for t in texts)
        assert any(t.startswith("3 points, 2 with a plan") or "\n3 points, 2 with a plan" in t
                   for t in texts)
        note = [t for t in texts if "without a plan" in t]
        assert note == ["1 point without a plan, not drawn (see sweep.csv): 3 "
                        + ("(per_year=-1: invalid)." if keys == 1
                           else "(per_year=-1, budgets=1: invalid).")]
    finally:
        plt.close(fig)


def test_wfopt_sweep_without_point_tables(one_trust: Path, tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    code, _, _ = run_cli("sweep", str(one_trust), "--set-grid", f"{BUDGET}=1e5,4e5",
                         "--workers", "1", "--no-point-tables", "--out", str(out))
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["frontier.png", "sweep.csv",
                                                     "sweep_timings.csv"]


def test_wfopt_sweep_exits_1_when_a_point_has_no_plan(one_trust: Path, tmp_path: Path) -> None:
    code, stdout, _ = run_cli("sweep", str(one_trust), "--set-grid", f"{SUPERVISION}=0.5,2",
                              "--workers", "1", "--out", str(tmp_path / "sweep"))
    assert code == 1
    assert "infeasible" in stdout
    rows = pd.read_csv(tmp_path / "sweep" / "sweep.csv")
    assert rows["status"].tolist() == ["infeasible", "optimal"]


@pytest.mark.parametrize(("args", "message"), [
    (["--set-grid", "budgets.main.per_year"],
     "--set-grid budgets.main.per_year | expected KEY=v1,v2,..."),
    (["--set-grid", "budgets.main.per_year={2017: 1"],
     "--set-grid budgets.main.per_year | cannot read values '{2017: 1': expected ',' or '}', "
     "but got ']'"),
    (["--set-grid", "budgets.main.per_year=1,"],
     "--set-grid budgets.main.per_year | an empty value in '1,' (values are separated by "
     "commas)"),
    (["--scale-grid", "budgets=a"], "--scale-grid budgets | the factor must be a number, got 'a'"),
    (["--set-grid", "budgets.mian.per_year=1"],
     "--set-grid budgets.mian.per_year | no item 'mian' in 'budgets' (known: main)"),
    ([], "grid | no keys to sweep: give at least one --set-grid or --scale-grid"),
])
def test_wfopt_sweep_bad_grid_is_exit_2(one_trust: Path, tmp_path: Path, args: list[str],
                                        message: str) -> None:
    out = tmp_path / "sweep"
    code, _, stderr = run_cli("sweep", str(one_trust), *args, "--out", str(out))
    assert code == 2
    assert stderr.splitlines()[0] == message
    assert "Traceback" not in stderr
    assert not out.exists()


def test_wfopt_sweep_never_replaces_a_folder_of_other_files(one_trust: Path,
                                                            tmp_path: Path) -> None:
    out = tmp_path / "plans"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    code, _, stderr = run_cli("sweep", str(one_trust), "--set-grid", f"{BUDGET}=1", "--out",
                              str(out))
    assert code == 2
    assert stderr.startswith(f"--out {out} | holds files this command does not write")
    assert (out / "notes.txt").read_text() == "keep me"
