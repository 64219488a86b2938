"""Where a solve is while it runs: the stage, the time, and a MIP's best plan and bound.

An application gives a callback as :attr:`SolveOptions.progress
<optimiser.engine.options.SolveOptions.progress>`; :func:`optimiser.solve`,
:func:`~optimiser.engine.scenarios.solve_scenarios` and
:func:`~optimiser.engine.ph.solve_ph` call it with a :class:`Progress` record
whenever the solve enters a stage (building, shortfall, fairness, cost,
tie-breaks, explanation, …), at most :data:`EVERY` seconds apart while a MIP
stage improves its plan or its bound (HiGHS's MIP callback), and as the
independent solves of a stochastic plan or PH's iterations go by. ``wfopt``
draws it as one live line on stderr. The callback runs in the solving thread:
it should return quickly (store the record, or draw it). An exception it raises
stops the solve.

The engine reports through the module's functions (:func:`stage`,
:func:`phase`, :func:`current`), which do nothing outside :func:`reporting`,
so a solve without a callback costs nothing. The meter of the outermost
solve with a callback is the one reported to: the solves a stochastic plan
runs inside its own (the reference scenario's, each future's) report their
stages to it.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

EVERY = 0.25
"""Least seconds between two reports from HiGHS's MIP callback (four a second)."""


@dataclass(frozen=True)
class Progress:
    """One report of where a solve is."""

    stage: str
    """What runs now: ``building``, ``shortfall``, ``expected shortfall``,
    ``fairness``, ``cost``, ``weighted``, ``tie-breaks``, ``explanation``."""
    elapsed: float
    """Seconds since the solve started (``SolveOptions.started`` when given: the
    time limit's clock)."""
    limit: float | None
    """The time limit in seconds (None: none)."""
    phase: str | None = None
    """The larger step of a stochastic plan: ``extensive form``, ``wait-and-see
    and EEV solves 3 of 11``, ``progressive hedging iteration 4``."""
    objective: float | None = None
    """In a MIP stage: the objective of the best plan found so far."""
    bound: float | None = None
    """In a MIP stage: the bound no plan can beat (HiGHS's dual bound)."""
    gap: float | None = None
    """Relative gap between them (0.01 is 1%)."""


ProgressCallback = Callable[[Progress], None]


class Meter:
    """Reports a solve's progress to its callback (see the module's docs)."""

    def __init__(self, callback: ProgressCallback, started: float, limit: float | None):
        self.callback = callback
        self.started = started
        self.limit = limit
        self.state = Progress(stage="starting", elapsed=0.0, limit=limit)
        self.last = -math.inf
        """``perf_counter`` of the last report from the MIP callback."""

    def emit(self, **change: Any) -> None:
        self.state = replace(self.state, elapsed=time.perf_counter() - self.started, **change)
        self.callback(self.state)

    def stage(self, name: str) -> None:
        self.emit(stage=name, objective=None, bound=None, gap=None)

    def phase(self, text: str | None) -> None:
        self.emit(phase=text)

    def mip(self, out: Any) -> None:
        """From HiGHS's MIP callback (``out``: its ``HighsCallbackOutput``):
        the best plan's objective, the bound and the gap, at most every
        :data:`EVERY` seconds."""
        now = time.perf_counter()
        if now - self.last < EVERY:
            return
        self.last = now
        obj, bound, gap = out.mip_primal_bound, out.mip_dual_bound, out.mip_gap
        self.emit(objective=obj if math.isfinite(obj) and abs(obj) < 1e30 else None,
                  bound=bound if math.isfinite(bound) and abs(bound) < 1e30 else None,
                  gap=gap if math.isfinite(gap) and abs(gap) < 1e30 else None)


_current: ContextVar[Meter | None] = ContextVar("wfopt_progress", default=None)


@contextlib.contextmanager
def reporting(callback: ProgressCallback | None, started: float,
              limit: float | None) -> Iterator[Meter | None]:
    """Report to ``callback`` within the block, unless a solve around it already
    reports (its meter stays) or there is none."""
    outer = _current.get()
    if outer is not None or callback is None:
        yield outer
        return
    token = _current.set(Meter(callback, started, limit))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def current() -> Meter | None:
    """The meter reported to here, if any (HiGHS's callback needs it)."""
    return _current.get()


def stage(name: str) -> None:
    """The solve enters stage ``name``."""
    meter = _current.get()
    if meter is not None:
        meter.stage(name)


def phase(text: str | None) -> None:
    """The solve enters a larger step (a stochastic plan's)."""
    meter = _current.get()
    if meter is not None:
        meter.phase(text)


def counter(text: str, total: int) -> Callable[[Any], None]:
    """A done-callback for ``total`` futures: each call reports "``text`` k of
    ``total``" to the meter of the caller (futures complete on other threads,
    where no meter is current); "0 of ``total``" is reported at once."""
    meter = _current.get()
    done = 0
    lock = threading.Lock()
    if meter is not None:
        meter.phase(f"{text} 0 of {total}")

    def count(_future: Any = None) -> None:
        nonlocal done
        with lock:
            done += 1
            if meter is not None:
                meter.phase(f"{text} {done} of {total}")
    return count


def ph_candidate(number: int, source: str) -> None:
    """Progressive hedging starts evaluating its ``number``-th candidate plan
    (counted from 1), future ``source``'s decisions (on the hub, in this process)."""
    meter = _current.get()
    if meter is not None:
        meter.phase(f"progressive hedging: evaluating candidate plan {number} "
                    f"(future {source}'s decisions)")


def ph_iteration(iteration: int, bound: float | None, convergence: float | None) -> None:
    """Progressive hedging finished ``iteration`` (on the hub, in this process):
    its lower bound so far and mpi-sppy's convergence metric."""
    meter = _current.get()
    if meter is not None:
        conv = "" if convergence is None else f", convergence {convergence:.2g}"
        meter.emit(phase=f"progressive hedging iteration {iteration}{conv}",
                   bound=bound if bound is not None and math.isfinite(bound) else None)
