"""The solve's time budget: when the stages must end so that what comes after
them (tie-breaks, rebuild, extraction, write) fits in the time limit."""

from __future__ import annotations

from typing import Any

from optimiser.engine.options import SolveOptions

SECONDS_PER_COLUMN_REBUILD = 2e-5
"""Seconds per column building the released model again and finding its columns
and rows (:func:`_rebuild`): what the stages leave for it."""


def rebuild_seconds(columns: int) -> float:
    return SECONDS_PER_COLUMN_REBUILD * columns


SECONDS_PER_COLUMN_AFTER = 2.5e-5
"""Seconds per model column the extraction and the write take: what the stages
leave. The generated 150-trust plan (127,585 columns) took 1.6 s on two cores at
load 2.5, 5 s at load 7; this leaves 3.2 s, and an overrun on a busier machine
is smaller than a stage 1 starved of the time to find a plan."""


SECONDS_PER_COLUMN_WRITE = 1e-5
"""Seconds per column writing the tables took: what the explanation leaves."""


def after_stages_seconds(columns: int) -> float:
    """Seconds to keep after the stages: extraction and write, at least 0.5."""
    return max(0.5, SECONDS_PER_COLUMN_AFTER * columns)


def write_seconds(columns: int) -> float:
    return max(0.25, SECONDS_PER_COLUMN_WRITE * columns)


def command_deadline(options: SolveOptions | None, opts: dict[str, Any],
                     now: float) -> float | None:
    """When the time limit runs out (``time.perf_counter()``): ``time_limit``
    seconds from ``options.started`` (the command's start, so that loading and
    building count), else from ``now``; None without a limit."""
    if opts["time_limit"] is None:
        return None
    start = options.started if options is not None and options.started is not None else now
    return start + opts["time_limit"]


def stages_end(deadline: float | None, columns: int, time_limit: float) -> float | None:
    """When the stages of a model of ``columns`` columns must end: early enough
    to leave the extraction and the write their time (at most 30% of the limit)."""
    if deadline is None:
        return None
    return deadline - min(after_stages_seconds(columns), 0.3 * time_limit)


def before_write(deadline: float | None, columns: int, time_limit: float) -> float | None:
    """When the work after the extraction (the explanation; a stochastic plan's
    WS and EEV solves) must end: early enough to leave the write its time (at
    most 10% of the limit)."""
    if deadline is None:
        return None
    return deadline - min(write_seconds(columns), 0.1 * time_limit)
