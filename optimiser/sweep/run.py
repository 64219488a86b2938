"""Sensitivity sweeps (SPEC §5): solve every point of a grid, in parallel.

:func:`sweep` reads the instance once, checks the grid (:mod:`optimiser.sweep.grid`)
and solves each point (:mod:`optimiser.sweep.point`), then returns one row per
point and, given ``out``, writes the sweep folder atomically:

- ``sweep.csv``: ``point``, one column per swept key, ``status``,
  ``weighted_shortfall``, ``total_cost``, ``mip_gap``, ``message``; grid order,
  byte-identical for the same instance, grid, options and worker count. Timings
  are kept out of it (they differ on every run): they are in
- ``sweep_timings.csv``: ``point``, ``solve_seconds`` (HiGHS), ``seconds`` (the
  point on its worker), ``cpu_seconds`` (its CPU time), ``warm_start`` (the
  solver stages started from the previous point's plans: ``1``, ``2``, ``1+2``
  or empty) and the seconds of each phase (validate, build, handover, each
  solver stage, ...);
- ``frontier.png``: the frontier plot (:mod:`optimiser.report.frontier`);
- ``points/NNN/``: each point's result folder as ``wfopt solve --out`` writes it
  (left out with ``write_points=False``).

Reuse. The points are split into chains, contiguous runs of the grid order
(one chain per worker). A chain's points are solved one after another, each
started from the last plan found before it in the chain
(:mod:`optimiser.engine.warm_start`), which is where neighbouring points of a data
sweep save time. The start is explicit data passed with the job, so a point's
result depends only on its chain, never on which worker ran it or when: the
same sweep with the same number of chains gives the same bytes. With
``reuse=False`` every point is solved as from scratch.

Parallel. Chains run on separate processes of this machine (one HiGHS thread
each, ``workers`` defaulting to the number of cores) or, given a Dask
``client``, on its cluster; ``workers=1`` solves in this process.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import math
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from optimiser.engine.solve import SolveOptions, effective_options
from optimiser.errors import InputError, Problem
from optimiser.instance.overrides import OverrideSyntaxError, as_overrides
from optimiser.instance.schema import Instance
from optimiser.results.atomic import atomic_directory
from optimiser.results.tables import write_csv, write_summary, write_tables
from optimiser.sweep.grid import (
    GridAxis,
    GridSpec,
    as_axes,
    format_value,
    grid_points,
    point_overrides,
)
from optimiser.sweep.point import PointJob, PointOutcome, SweepSource, solve_point

RESULT_COLUMNS = ["status", "weighted_shortfall", "total_cost", "mip_gap", "message"]
"""Columns of ``sweep.csv`` after ``point`` and the swept keys."""
TIMING_COLUMNS = ["solve_seconds", "seconds", "cpu_seconds", "warm_start"]
"""Timing columns of the returned frame (and of ``sweep_timings.csv``)."""
PHASES = ["validate", "build", "handover", "solve_shortfall", "solve_cost", "solve_weighted",
          "solve_unplaced", "solve_share_out", "rebuild", "extract", "explain"]
"""Phases of a point (``Result.timings``) in ``sweep_timings.csv``, in seconds."""

SWEEP_FILES = {"sweep.csv", "sweep_timings.csv", "frontier.png"}
POINTS_FOLDER = "points"


def sweep(instance: str | Path | Instance, grid: GridSpec, options: SolveOptions | None = None,
          workers: int | None = None, client: Any = None, out: str | Path | None = None,
          write_points: bool = True, *, overrides: Sequence[Any] | None = None,
          reuse: bool = True,
          progress: bool | Callable[[SweepProgress], None] | None = None) -> pd.DataFrame:
    """Solve every point of ``grid`` and return one row per point, in grid order.

    ``instance`` is an instance file or a validated :class:`Instance`; ``grid``
    is ``{key: [values]}`` (``--set-grid`` axes) or a list of
    :class:`~optimiser.sweep.grid.GridAxis` / ``(kind, key, values)``. ``overrides``
    (``--set``/``--scale``) apply to every point before the grid's. ``options``
    apply to each point (``time_limit`` is per point); ``threads`` defaults to 1
    per worker. ``workers`` is the number of chains (and local processes;
    default: the cores, or the Dask cluster's threads); ``client`` a
    ``dask.distributed.Client`` to run on instead. ``out`` receives the sweep
    folder (see the module docs); ``progress`` shows a progress bar on stderr
    (default: when stderr is a terminal): points done of all, those without a
    plan, the time left; a callable is given a :class:`SweepProgress` after
    each point instead.

    The frame has ``point`` (1-based), a column per swept key (the value, or
    the factor for a scale axis), ``status`` (SPEC §2.10, or ``invalid`` when
    the point's instance does not validate), ``weighted_shortfall``,
    ``total_cost``, ``mip_gap``, ``message``, ``solve_seconds``, ``seconds``,
    ``cpu_seconds`` and ``warm_start``. A point that fails is a row, never an exception. Raises
    :class:`~optimiser.errors.InputError` for a bad grid, an invalid base
    instance or options, and :class:`~optimiser.results.atomic.OutputFolderError` for
    an ``out`` that may not be replaced, both before anything is solved.
    """
    axes = as_axes(grid)
    fixed = as_overrides(overrides)
    source = (SweepSource.from_instance(instance, fixed) if isinstance(instance, Instance)
              else SweepSource.from_path(instance, fixed))
    options = point_options(options, keep_tables=out is not None and write_points)
    try:
        effective_options(source.instance([]), options)
    except ValueError as exc:
        raise InputError([Problem("options", str(exc))]) from None
    problems = [Problem(f"{a.option} {a.key}", p.message)
                for a in axes for p in source.key_problems([a.override(a.values[0])])]
    if problems:
        raise InputError(problems)
    points = grid_points(axes)

    n_chains = chain_count(len(points), workers, client)
    chains = split_chains(len(points), n_chains if reuse else len(points))
    jobs = [PointJob(i, source, point_overrides(axes, values), options,
                     keep_result=out is not None and write_points)
            for i, values in enumerate(points)]
    make_executor = executor_factory(workers or os.cpu_count() or 1, client, len(chains))
    with contextlib.ExitStack() as stack:
        # The folder is written as points arrive (a point's tables leave memory
        # once written) into a temporary folder renamed into place at the end;
        # entering it checks that ``out`` may be replaced, before any solve.
        tmp = None if out is None else stack.enter_context(
            atomic_directory(out, is_sweep_folder))
        bar = stack.enter_context(Progress(len(points), source.name, show=progress))

        def on_outcome(outcome: PointOutcome) -> None:
            if tmp is not None and outcome.result is not None:
                write_point(tmp, outcome, len(points))
                outcome.result = None
            bar.advance(outcome)

        outcomes = run_chains(jobs, chains, reuse, make_executor, on_outcome)
        frame = sweep_frame(axes, points, outcomes)
        if tmp is not None:
            write_sweep_files(tmp, frame, axes, outcomes, source.name,
                              currency=str(source.doc.get("currency", "GBP")))
    return frame


def point_options(options: SolveOptions | None, keep_tables: bool) -> SolveOptions:
    """The options each point is solved with: one HiGHS thread unless asked
    (workers run side by side), and no explanations unless the point's tables
    are kept (they cost time and only the folder shows them)."""
    o = options or SolveOptions()
    return replace(o, threads=o.threads if o.threads is not None else 1,
                   explain=o.explain and keep_tables, verbose=False)


def chain_count(n_points: int, workers: int | None, client: Any) -> int:
    """How many chains: ``workers``, else the Dask cluster's threads, else the
    cores; never more than the points."""
    if workers is None:
        if client is not None:
            workers = sum(client.nthreads().values()) or 1
        else:
            workers = os.cpu_count() or 1
    return max(1, min(int(workers), n_points))


def split_chains(n_points: int, n_chains: int) -> list[list[int]]:
    """Points 0..n-1 in ``n_chains`` contiguous runs of (nearly) equal length,
    the longer runs first: neighbours in grid order share a chain."""
    n_chains = max(1, min(n_chains, n_points))
    size, extra = divmod(n_points, n_chains)
    chains, start = [], 0
    for c in range(n_chains):
        end = start + size + (1 if c < extra else 0)
        chains.append(list(range(start, end)))
        start = end
    return chains


class InlineExecutor(cf.Executor):
    """Runs each job in this process when it is submitted (``workers=1``): no
    process start-up, the same scheduling code as the pools."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future:
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller through the future
            future.set_exception(exc)
        return future


def executor_factory(workers: int, client: Any, n_chains: int) -> Callable[[], cf.Executor]:
    """A function that makes the executor the chains run on (called again if a
    local worker process dies and breaks its pool)."""
    if client is not None:
        return lambda: client.get_executor(pure=False)
    processes = min(workers, n_chains)
    if processes <= 1:
        return InlineExecutor

    def pool() -> cf.Executor:
        # forkserver: workers fork from a clean server that has imported the
        # solver once, never from this process with its threads (progress bar,
        # Dask) running.
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["optimiser.sweep.point"])
        return cf.ProcessPoolExecutor(max_workers=processes, mp_context=ctx,
                                      initializer=ignore_interrupts)

    return pool


def ignore_interrupts() -> None:
    """Worker processes leave Ctrl-C to the sweep, which ends them: a worker
    dying of its own KeyboardInterrupt would break the pool mid-shutdown."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_chains(jobs: list[PointJob], chains: list[list[int]], reuse: bool,
               make_executor: Callable[[], cf.Executor],
               on_outcome: Callable[[PointOutcome], None]) -> list[PointOutcome]:
    """Solve every chain, its points in order, the chains side by side; each
    point starts from the last plan found before it in its chain."""
    outcomes: dict[int, PointOutcome] = {}
    executor = make_executor()
    pending: dict[cf.Future, tuple[int, int]] = {}
    last_plan: dict[int, Any] = {}
    retried: set[int] = set()

    def submit(c: int, pos: int) -> None:
        nonlocal executor
        job = jobs[chains[c][pos]]
        if reuse:
            job = replace(job, start=last_plan.get(c))
        try:
            future = executor.submit(solve_point, job)
        except RuntimeError:  # a dead worker broke the pool (BrokenProcessPool): renew it
            stop(executor, wait=False)
            executor = make_executor()
            future = executor.submit(solve_point, job)
        pending[future] = (c, pos)

    finished = False
    try:
        for c in range(len(chains)):
            submit(c, 0)
        while pending:
            done, _ = cf.wait(list(pending), return_when=cf.FIRST_COMPLETED)
            for future in done:
                c, pos = pending.pop(future)
                index = chains[c][pos]
                try:
                    outcome = future.result()
                except BrokenProcessPool as exc:
                    # A worker process died (killed, out of memory) and took every
                    # point in flight with it: each gets one more try on a new pool.
                    if index not in retried:
                        retried.add(index)
                        submit(c, pos)
                        continue
                    outcome = worker_failed(index, exc)
                except Exception as exc:
                    outcome = worker_failed(index, exc)
                outcomes[index] = outcome
                if outcome.plan is not None:
                    last_plan[c] = outcome.plan
                on_outcome(outcome)
                if pos + 1 < len(chains[c]):
                    submit(c, pos + 1)
        finished = True
    finally:
        # Interrupted (Ctrl-C) or failed: do not wait for running points.
        stop(executor, wait=finished)
    return [outcomes[i] for i in range(len(jobs))]


def worker_failed(index: int, exc: BaseException) -> PointOutcome:
    return PointOutcome(index, "error", message=f"the worker solving this point failed: "
                        f"{type(exc).__name__}: {exc}")


def stop(executor: cf.Executor, wait: bool) -> None:
    """Shut an executor down. Without waiting, what has not started is
    cancelled and local worker processes are ended (a point can take minutes);
    Dask's executor cancels its own futures and takes no ``cancel_futures``."""
    if isinstance(executor, cf.ProcessPoolExecutor):
        if not wait:
            # No public way before Python 3.14 (terminate_workers) to end them.
            for process in list(getattr(executor, "_processes", {}).values()):
                process.terminate()
        executor.shutdown(wait=wait, cancel_futures=True)
    else:
        executor.shutdown(wait=wait)


def sweep_frame(axes: Sequence[GridAxis], points: Sequence[tuple[Any, ...]],
                outcomes: Sequence[PointOutcome]) -> pd.DataFrame:
    """One row per point, in grid order."""
    rows = []
    for i, (values, o) in enumerate(zip(points, outcomes, strict=True)):
        row: dict[str, Any] = {"point": i + 1}
        row.update({a.column: v for a, v in zip(axes, values, strict=True)})
        row.update(status=o.status, weighted_shortfall=o.weighted_shortfall,
                   total_cost=o.total_cost, mip_gap=o.mip_gap, message=o.message,
                   solve_seconds=o.solve_seconds, seconds=o.seconds,
                   cpu_seconds=o.cpu_seconds, warm_start=o.warm_start)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=["point", *(a.column for a in axes), *RESULT_COLUMNS,
                                        *TIMING_COLUMNS])
    for col in ("weighted_shortfall", "total_cost", "mip_gap"):
        frame[col] = frame[col].astype(float)
    return frame


def timings_table(frame: pd.DataFrame, outcomes: Sequence[PointOutcome]) -> pd.DataFrame:
    """``sweep_timings.csv``: the timing columns and the seconds of each phase
    (empty where a point never reached it)."""
    table = frame[["point", *TIMING_COLUMNS]].copy()
    for phase in PHASES:
        table[phase] = [float(o.timings.get(phase, math.nan)) for o in outcomes]
    return table


def point_folder(point: int, n_points: int) -> str:
    """``points/007``: zero-padded so that folders sort in grid order."""
    return f"{POINTS_FOLDER}/{point:0{max(3, len(str(n_points)))}d}"


def is_sweep_folder(folder: Path) -> bool:
    """Whether an existing folder holds only what a sweep writes (so that
    writing the sweep again may replace it)."""
    return all((p.is_file() and p.name in SWEEP_FILES) or (p.is_dir() and p.name ==
                                                            POINTS_FOLDER)
               for p in folder.iterdir())


def write_point(folder: Path, outcome: PointOutcome, n_points: int) -> None:
    """A point's results folder (``points/NNN``), as ``wfopt solve --out`` writes it."""
    assert outcome.result is not None
    target = folder / point_folder(outcome.index + 1, n_points)
    target.mkdir(parents=True)
    write_tables(outcome.result, target)
    write_summary(outcome.result, target)


def write_sweep_files(folder: Path, frame: pd.DataFrame, axes: Sequence[GridAxis],
                      outcomes: Sequence[PointOutcome], instance_name: str,
                      currency: str = "GBP") -> None:
    """``sweep.csv``, ``sweep_timings.csv`` and ``frontier.png`` in ``folder``."""
    from optimiser.report.frontier import plot_frontier

    table = frame[["point", *(a.column for a in axes), *RESULT_COLUMNS]].copy()
    for a in axes:
        table[a.column] = table[a.column].map(format_value)
    write_csv(table, folder / "sweep.csv")
    write_csv(timings_table(frame, outcomes), folder / "sweep_timings.csv")
    plot_frontier(frame, axes, instance_name, folder / "frontier.png", currency)


@dataclass(frozen=True)
class SweepProgress:
    """Where a sweep is, after each point (``sweep(progress=callback)``)."""

    done: int
    """Points done, each once, with a plan or without."""
    total: int
    failed: int
    """Points done without a plan (invalid, infeasible, no plan found, failed)."""
    elapsed: float
    """Seconds since the sweep started its points."""
    left: float
    """Estimated seconds left: the mean time a point so far, times the points
    left (shared by the workers as the points done were)."""
    last: str
    """The last point's outcome: ``point 3: optimal, W 12.5``."""


class Progress:
    """A rich progress bar on stderr: points done of all, those without a plan,
    elapsed and remaining time, the last point's outcome. Silent when not
    shown; ``show`` may instead be a callback given a :class:`SweepProgress`
    after each point."""

    def __init__(self, total: int, name: str,
                 show: bool | Callable[[SweepProgress], None] | None = None):
        self.total, self.name = total, name
        self.callback = show if callable(show) else None
        self.show = (sys.stderr.isatty() if show is None else show is True)
        self.done = self.failed = 0
        self.started = time.perf_counter()
        self._bar: Any = None

    def __enter__(self) -> Progress:
        if self.show:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("sweep [bold]{task.fields[name]}[/]"), BarColumn(),
                MofNCompleteColumn(), TextColumn("{task.fields[failed]} without a plan"),
                TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
                TextColumn("{task.fields[last]}"),
                console=Console(stderr=True), transient=False)
            self._bar.__enter__()
            self._task = self._bar.add_task("sweep", total=self.total, name=self.name,
                                            last="", failed=0)
        return self

    def advance(self, outcome: PointOutcome) -> None:
        self.done += 1
        self.failed += not outcome.has_plan
        last = f"point {outcome.index + 1}: {outcome.status}"
        if outcome.has_plan and outcome.weighted_shortfall is not None:
            last += f", W {outcome.weighted_shortfall:,.1f}"
        if self._bar is not None:
            self._bar.update(self._task, advance=1, last=last, failed=self.failed)
        if self.callback is not None:
            elapsed = time.perf_counter() - self.started
            self.callback(SweepProgress(self.done, self.total, self.failed, elapsed,
                                        elapsed / self.done * (self.total - self.done), last))

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)


def axes_from_options(set_grid: Sequence[str], scale_grid: Sequence[str]) -> list[GridAxis]:
    """``--set-grid``/``--scale-grid`` texts as axes, sets first, in the order
    given. Raises :class:`~optimiser.errors.InputError` with every problem."""
    axes, problems = [], []
    for kind, texts in (("set", set_grid), ("scale", scale_grid)):
        for text in texts:
            try:
                axes.append(GridAxis.parse(kind, text))  # type: ignore[arg-type]
            except OverrideSyntaxError as exc:
                problems.append(exc.problem)
    if problems:
        raise InputError(problems)
    return as_axes(axes)


__all__ = ["GridAxis", "axes_from_options", "sweep"]
