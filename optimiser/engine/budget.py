"""The solve's time budget (:class:`TimeBudget`): one object a command makes
from its deadline, its time limit and the model's size, which every part of a
solve asks how long it may run.

A time limit holds for the whole command, from its start (loading and building
count). The stages come first, but must end early enough to leave what follows
them its time: the tie-breaks, building a released model again, the extraction
and the write. What each of those keeps is one row of :data:`RESERVES`: seconds
per model column (measured), at least a floor, at most a share of the limit.
The explanation (marginal values; a stochastic plan's WS and EEV solves) then
gets what is left before the write's reserve, and skips what does not fit::

    build ── stages ──┬── tie-breaks, rebuild ──┬── extract, explain ──┬── write ──┤
                      stages_until              end                   explanation_until  deadline
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from optimiser.engine.options import SolveOptions


@dataclass(frozen=True)
class Reserve:
    """Seconds kept for one piece of work at the end of a solve: ``per_column``
    times the model's columns, at least ``floor``; ``cap`` (a share of the time
    limit) is the most it keeps (extraction, write) or, for work that may be
    left out, the most it may need to be run at all (the tie-breaks)."""

    per_column: float
    floor: float = 0.0
    cap: float | None = None

    def seconds(self, columns: int) -> float:
        """The estimate for a model of ``columns`` columns."""
        return max(self.floor, self.per_column * columns)

    def kept(self, columns: int, time_limit: float) -> float:
        """What is kept for it under ``time_limit``: the estimate, at most the cap."""
        est = self.seconds(columns)
        return est if self.cap is None else min(est, self.cap * time_limit)

    def fits(self, columns: int, time_limit: float | None) -> bool:
        """Whether the estimate is within the cap (always without a limit or a cap)."""
        return time_limit is None or self.cap is None or \
            self.seconds(columns) <= self.cap * time_limit


RESERVES: dict[str, Reserve] = {
    "extract": Reserve(per_column=2.5e-5, floor=0.5, cap=0.3),
    "write": Reserve(per_column=1e-5, floor=0.25, cap=0.1),
    "tie_breaks": Reserve(per_column=3.5e-4, cap=0.15),
    "rebuild": Reserve(per_column=2e-5),
}
"""What the end of a solve keeps, by the work it is for:

``extract``
    The extraction and the write together: what the stages leave. The generated
    150-trust plan (127,585 columns) took 1.6 s on two cores at load 2.5, 5 s
    at load 7; 2.5e-5 s a column leaves 3.2 s, and an overrun on a busier
    machine is smaller than a stage 1 starved of the time to find a plan. At
    least 0.5 s, at most 30% of the limit.
``write``
    Writing the tables: what the explanation leaves. At least 0.25 s, at most
    10% of the limit.
``tie_breaks``
    The two tie-break LPs (interior point, one thread): 3.4 s at 31,223 columns
    (55 trusts), 10 s at 27,991 (long-term-2028), 41 s at 186,432 (220 trusts:
    fewest unplaced 17 s, share-out 24 s), 34 s at 127,585 (150 trusts,
    10-minute plan, beside another run: fewest unplaced 9.3 s, share-out 24.9 s,
    since the interior point hands over to crossover at a gap of 1e-3; at 1e-8
    that share-out took 159–165 s alone, and ran out of 57 s of margin at
    4.5e-4). On the 500-trust plan (528,143), at the 1e-8 tolerance (not
    measured since), the fewest-unplaced LP took 90 s and the share-out did not
    finish in minutes, so a 10-minute limit there skips both
    (benchmarks/README.md, "The tie-breaks"). Beyond 15% of the limit they are
    not run (a plan's W and C come first). 15%: the 220-trust plan's 65 s at
    10 minutes.
``rebuild``
    Building a released model again and finding its columns and rows
    (:meth:`HighsModel.attach <optimiser.engine.highs_model.HighsModel.attach>`):
    10 s at 500 trusts.
"""

UNLIMITED_TIE_BREAK_FACTOR, MIN_TIE_BREAK_SECONDS = 4.0, 60.0
"""Without a time limit the tie-breaks get four times their estimate, at least a
minute: on the 500-trust plan the share-out's interior point made no progress
(a thin feasible set: W kept within 1e-9) and its simplex clean-up ran on for
minutes; the stages' plan is reported instead, with a note."""

MIN_EXPLANATION_SECONDS = 0.05
"""Less than this left for the explanation: the marginal values are not tried
(their LP would stop at once)."""


def time_left(deadline: float | None) -> float | None:
    """Seconds to ``deadline`` (at least 1 ms), or None without one."""
    return None if deadline is None else max(deadline - time.perf_counter(), 1e-3)


@dataclass(frozen=True)
class TimeBudget:
    """A command's time budget: its deadline (``time.perf_counter()``; None
    without a limit), the limit, and (once handed over, :meth:`sized`) the
    model's columns and whether it is released while HiGHS solves it."""

    deadline: float | None
    time_limit: float | None
    columns: int = 0
    released: bool = False
    started: float | None = None
    """``time.perf_counter()`` of the command's start: the clock of the limit and
    of the stages' "good plan early" seconds."""

    @classmethod
    def of_command(cls, options: SolveOptions | None, opts: dict[str, Any],
                   now: float) -> TimeBudget:
        """The limit ``opts["time_limit"]`` counted from ``options.started`` (the
        command's start, so that loading and building count), else from ``now``."""
        limit = opts["time_limit"]
        start = options.started if options is not None and options.started is not None \
            else now
        if limit is None:
            return cls(None, None, started=start)
        return cls(start + limit, limit, started=start)

    def sized(self, columns: int, released: bool = False) -> TimeBudget:
        """This budget for a model of ``columns`` columns (``released``: freed
        while HiGHS solves, so built again after the stages)."""
        return replace(self, columns=columns, released=released)

    def reserved(self, work: str) -> float:
        """Seconds kept at the end for ``work`` (a key of :data:`RESERVES`)."""
        return RESERVES[work].kept(self.columns, self.time_limit)

    @property
    def end(self) -> float | None:
        """When the stages and the tie-breaks must be done: the extraction and the
        write keep the rest."""
        return None if self.deadline is None else self.deadline - self.reserved("extract")

    def out_of_time(self) -> bool:
        """Whether the stages can no longer start (the build used the time)."""
        return self.end is not None and time.perf_counter() >= self.end

    def tie_breaks_fit(self) -> bool:
        """Whether the tie-breaks' estimate fits in their share of the limit
        (always, without one); when not they are not run."""
        return RESERVES["tie_breaks"].fits(self.columns, self.time_limit)

    def tie_break_seconds(self) -> float:
        return RESERVES["tie_breaks"].seconds(self.columns)

    @property
    def stages_until(self) -> float | None:
        """When the stages must end: before :attr:`end`, less the tie-breaks'
        time (when they fit) and the rebuild's (when the model is released)."""
        until = self.end
        if until is None:
            return None
        if self.tie_breaks_fit():
            until -= self.tie_break_seconds()
        if self.released:
            until -= RESERVES["rebuild"].seconds(self.columns)
        return until

    def tie_breaks_until(self) -> float:
        """When the tie-breaks must end: :attr:`end`; without a limit still
        bounded (a tie-break never decides W or C), see
        :data:`UNLIMITED_TIE_BREAK_FACTOR`."""
        if self.end is not None:
            return self.end
        return time.perf_counter() + max(MIN_TIE_BREAK_SECONDS,
                                         UNLIMITED_TIE_BREAK_FACTOR * self.tie_break_seconds())

    @property
    def explanation_until(self) -> float | None:
        """When the work after the extraction (the explanation; a stochastic
        plan's WS and EEV solves) must end: the write keeps the rest."""
        return None if self.deadline is None else self.deadline - self.reserved("write")

    def explanation_left(self) -> float | None:
        """Seconds left for the explanation (None: no limit)."""
        return time_left(self.explanation_until)

    def explanation_fits(self) -> bool:
        """Whether enough is left to try the marginal values."""
        until = self.explanation_until
        return until is None or time.perf_counter() + MIN_EXPLANATION_SECONDS < until
