"""The solve's options: what the command line and the API may override of the
instance's ``solver`` and ``objective`` sections, and the effective values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from optimiser.engine.progress import ProgressCallback
from optimiser.instance.schema import Instance


@dataclass
class SolveOptions:
    """Options that override the instance's ``solver`` and ``objective`` sections."""

    time_limit: float | None = None
    """Seconds for the whole solve (both stages)."""
    mip_gap: float | None = None
    threads: int | None = None
    seed: int | None = None
    mode: str | None = None
    """``lexicographic`` or ``weighted``."""
    verbose: bool = False
    """Show HiGHS's log."""
    explain: bool = True
    """Explain the outcome: marginal values and what binds for a plan
    (:mod:`optimiser.explain.marginals`, :mod:`optimiser.explain.diagnose`), the conflicting
    constraints without one. Sweeps that only need W and C may switch it off."""
    started: float | None = None
    """``time.perf_counter()`` at which ``time_limit`` started to run (the
    command's start, so that loading counts); default: when :func:`solve` is
    called."""
    progress: ProgressCallback | None = None
    """Told where the solve is (stage, time, a MIP's best plan and bound), a
    few times a second at most: :mod:`optimiser.engine.progress`. Not part of
    the results."""


MODES = ("lexicographic", "weighted")


def check_mode(mode: str | None) -> None:
    """``ValueError`` for a mode that is not one of :data:`MODES` (``None``: the
    instance's own, which its schema has checked). The one check of a mode, for
    the API and the command line alike."""
    if mode is not None and mode not in MODES:
        raise ValueError(f"must be {' or '.join(MODES)}, got {mode!r}")


def effective_options(inst: Instance, options: SolveOptions | None) -> dict[str, Any]:
    o = options or SolveOptions()
    s = inst.solver
    mode = o.mode or inst.objective.mode
    try:
        check_mode(mode)
    except ValueError as exc:
        raise ValueError(f"mode {exc}") from None
    if mode == "weighted" and inst.objective.value_per_fte is None:
        raise ValueError("weighted mode needs objective.value_per_fte in the instance")
    if mode == "weighted" and any(t.fair_share for t in inst.targets):
        raise ValueError("fair shares need the lexicographic mode (the fairness stage comes "
                         "between the shortfall and the cost)")
    return {
        "time_limit": o.time_limit if o.time_limit is not None else s.time_limit,
        "mip_gap": o.mip_gap if o.mip_gap is not None else s.mip_gap,
        "threads": o.threads if o.threads is not None else s.threads,
        "seed": o.seed if o.seed is not None else s.seed,
        "mode": mode,
        "verbose": o.verbose,
        "explain": o.explain,
    }
