"""HiGHS objects as the engine needs them: silent unless asked, and on the thread
count the solve asks for. Every ``Highs`` of the engine (the stages, the
marginal values' LP, the infeasibility analysis) comes from :func:`new_highs`.

Silence. HiGHS's rule is that ``output_flag`` must be false *before* the first
call of any other method (ERGO-Code/HiGHS#1702): the first call writes the log
header ("Running HiGHS …") to stdout. From highspy 1.16 the Python class
``highspy.Highs`` makes such a call in its own constructor (it installs its
callback handler), so the banner reaches stdout before any option can be set —
in front of ``wfopt solve --json`` output, among others. The engine uses only
the solver's own methods (``passModel``, ``run``, ``getSolution``, …), none of
the Python class's modelling layer or callbacks, so it creates the solver
object itself (``highspy._Highs``, the class ``highspy.Highs`` extends) and
sets ``output_flag`` as its first call. No file descriptor is redirected.

Threads. HiGHS runs its parallel parts on one thread scheduler per process,
created by the first ``run`` with the ``threads`` it had. A later ``run`` in the
same process that asks for another number fails at once with model status
"Not Set" ("the scheduler has already been initialized to use 2 threads").
That is what a sweep (threads 1 per point) met after an in-process
``wfopt solve`` (HiGHS's default threads) in the same test process.
:func:`use_threads` resets the scheduler when a solve asks for a different
count than the last one this process ran with, and before the engine's first
run in the process (another library may have made it); :func:`match_scheduler` does
it for HiGHS objects the engine does not create (the ph engine's subproblems,
which mpi-sppy solves through Pyomo's HiGHS interface).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import highspy

_CORE = getattr(highspy, "_Highs", None)
"""The solver class without highspy's Python layer (present in every highspy the
project allows; ``highspy.Highs`` is the fallback should a release drop it)."""


LATER = "later"
"""``new_highs(threads=LATER)``: the caller sets the threads with
:func:`use_threads` once it knows them (before the first run)."""


def new_highs(verbose: bool = False, threads: int | str | None = None) -> highspy.Highs:
    """A new HiGHS object whose first call sets ``output_flag`` (so nothing is
    printed unless ``verbose``), running on ``threads`` (None: :func:`default_threads`).
    Every HiGHS object of one solve gets the same ``threads``, so the analyses
    after the stages run on the scheduler the stages made."""
    h = _CORE() if _CORE is not None else highspy.Highs()
    h.setOptionValue("output_flag", bool(verbose))
    if threads != LATER:
        use_threads(h, threads)  # type: ignore[arg-type]
    return h


def highs_version() -> str:
    """HiGHS's version, read without creating a solver (which could log)."""
    parts = [getattr(highspy, f"HIGHS_VERSION_{p}", None) for p in ("MAJOR", "MINOR", "PATCH")]
    if None in parts:
        h = new_highs()
        parts = [h.versionMajor(), h.versionMinor(), h.versionPatch()]
    return ".".join(str(p) for p in parts)


_scheduler_lock = threading.Lock()
_scheduler_threads: int | None = None
"""The ``threads`` of the last run in this process."""


LEAST_DEFAULT_THREADS = 2
"""A solve that asks for no thread count runs HiGHS on at least this many
threads where the process may use as many cores (:func:`default_threads`)."""


def default_threads() -> int:
    """HiGHS threads for a solve that asks for none: HiGHS's own default (half
    the machine's hardware threads), but :data:`LEAST_DEFAULT_THREADS` where the
    process may run on that many cores, and never more than it may use.

    Why: HiGHS's branch-and-bound searches on one thread either way (its
    ``parallel`` option stays at "choose", so one search worker and the same
    plan), but at each MIP's root it computes an analytic centre (an interior
    point run on the whole presolved model) as a task that its cut loop waits
    for after five rounds. On one thread, HiGHS's default on a 2-core machine,
    that task runs only when waited for: the five-future example's fairness
    stage, which runs without presolve, waited 40 s for it (102.6 s alone); on
    two threads it runs beside the root LP and the wait was 9 s (66.8 s), node
    for node the same search. The whole example 282-302 s -> 245 s, the same
    tables (benchmarks/README.md, "Two HiGHS threads by default").
    """
    hardware = os.cpu_count() or 1
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else hardware
    return max(1, min(usable, max(LEAST_DEFAULT_THREADS, (hardware + 1) // 2)))


def use_threads(h: highspy.Highs, threads: int | None) -> None:
    """Set ``threads`` on ``h`` (None: :func:`default_threads`) and make the
    process's scheduler match it before the next run (see the module docstring)."""
    count = default_threads() if threads is None else int(threads)
    h.setOptionValue("threads", count)
    match_scheduler(count)


def match_scheduler(threads: int | None) -> None:
    """Make the process's scheduler fit the next runs on ``threads`` (None:
    :func:`default_threads`), whichever object makes them: reset when the last
    run of this process asked for another count, or when the engine has not run
    in this process yet. Why the first time too: another HiGHS user in the
    process (Pyomo's ``appsi_highs``, a script's ``highspy.Highs``) may have made
    the scheduler with HiGHS's own default, one thread on a 2-core machine, and
    the engine's default of two then failed every run ("Not Set")."""
    global _scheduler_threads
    wanted = default_threads() if threads is None else int(threads)
    with _scheduler_lock:
        if _scheduler_threads != wanted:
            reset = (getattr(highspy.Highs, "resetThreadScheduler", None)
                     or getattr(highspy.Highs, "resetGlobalScheduler", None))
            if reset is not None:
                reset(True)
        _scheduler_threads = wanted


def option(h: highspy.Highs, name: str) -> Any:
    """A HiGHS option's value, of any type (``_Highs`` returns ``(status, value)``)."""
    value = h.getOptionValue(name)
    return value[-1] if isinstance(value, tuple) else value


def option_value(h: highspy.Highs, name: str, default: float) -> float:
    """A numeric HiGHS option, ``default`` when it has none."""
    value = option(h, name)
    return float(value) if isinstance(value, (int, float)) else default


@contextmanager
def options_set(h: highspy.Highs, values: dict[str, Any]) -> Iterator[None]:
    """HiGHS options at ``values`` for a while, then back to what they were."""
    before = {name: option(h, name) for name in values}
    for name, value in values.items():
        h.setOptionValue(name, value)
    try:
        yield
    finally:
        for name, value in before.items():
            h.setOptionValue(name, value)
