"""One point of a sweep, as a worker solves it: a self-contained job in, an
outcome out.

A job carries everything the point needs: the instance document (read once by
the caller, so workers on other machines need no access to the instance's
files), the point's overrides, the solve options and the plan to start from.
:func:`solve_point` never raises: a point that cannot be solved (an invalid
override value, an infeasible plan, a limit hit without a plan, an unexpected
failure) comes back as an outcome with its status and message, so one bad
point never stops a sweep.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from optimiser.engine.solve import SolveOptions, solve
from optimiser.engine.warm_start import PlanStart, StartedHighsModel
from optimiser.errors import InputError, Problem
from optimiser.instance.load import instance_from_document, read_document
from optimiser.instance.loader import Provenance
from optimiser.instance.overrides import Override, apply_overrides
from optimiser.instance.schema import Instance
from optimiser.results.tables import Result

INVALID = "invalid"
"""Status of a point whose overridden instance does not validate (SPEC §2.10's
statuses are for points that reach the solver)."""


@dataclass(frozen=True)
class SweepSource:
    """The instance document a sweep starts from, already read and expanded."""

    name: str
    doc: dict[str, Any]
    provenance: Provenance

    @classmethod
    def from_path(cls, path: str | Path, overrides: list[Override] | None = None
                  ) -> SweepSource:
        """Read an instance file (CSV sections included) once, apply the sweep's
        fixed overrides and check that the result is a valid instance.
        Raises :class:`~optimiser.errors.InputError`."""
        doc, prov, problems = read_document(Path(path))
        if problems:
            raise InputError(problems)
        source = cls(str(doc.get("name", Path(path).stem)), doc, prov).with_overrides(
            overrides or [])
        source.instance([])  # raises if the base instance is invalid
        return source

    @classmethod
    def from_instance(cls, inst: Instance, overrides: list[Override] | None = None
                      ) -> SweepSource:
        """An already validated instance as a document. Only the keys that were
        given are kept (defaults stay defaults), so overrides address it as they
        would the file; problems are located by key path."""
        doc = inst.model_dump(mode="json", exclude_unset=True)
        source = cls(inst.name, doc, Provenance(file=f"instance {inst.name}")).with_overrides(
            overrides or [])
        source.instance([])
        return source

    def with_overrides(self, overrides: list[Override]) -> SweepSource:
        """The source with fixed overrides applied to its document (keys are
        checked now; values when each point is validated)."""
        if not overrides:
            return self
        doc = copy.deepcopy(self.doc)
        problems = apply_overrides(doc, overrides)
        if problems:
            raise InputError(problems)
        return replace(self, doc=doc)

    def instance(self, overrides: list[Override],
                 timings: dict[str, float] | None = None) -> Instance:
        """The validated instance of one point (the document is not changed).
        Raises :class:`~optimiser.errors.InputError`."""
        return instance_from_document(copy.deepcopy(self.doc), self.provenance, overrides,
                                      timings=timings)

    def key_problems(self, overrides: list[Override]) -> list[Problem]:
        """Problems with the keys of ``overrides`` (unknown key, no such item),
        which no value can mend: a sweep reports them before solving anything."""
        return apply_overrides(copy.deepcopy(self.doc), overrides)


@dataclass
class PointJob:
    """What a worker needs to solve one point."""

    index: int
    """Position in grid order, from 0."""
    source: SweepSource
    overrides: list[Override]
    options: SolveOptions
    start: PlanStart | None = None
    """The previous point's plan in this point's chain, if any."""
    keep_result: bool = False
    """Return the full :class:`Result` (tables for the point's folder)."""


@dataclass
class PointOutcome:
    """How one point went: one row of ``sweep.csv``, plus what the chain and the
    point's folder need."""

    index: int
    status: str
    weighted_shortfall: float | None = None
    total_cost: float | None = None
    mip_gap: float | None = None
    message: str = ""
    solve_seconds: float = 0.0
    """HiGHS's time over the stages."""
    seconds: float = 0.0
    """Wall time of the point on its worker: validate, build, hand over, solve,
    extract."""
    cpu_seconds: float = 0.0
    """CPU time of the worker process over the point: unlike wall time, not
    inflated by waiting for a core on a busy machine (exact when a process
    solves one point at a time, as local workers do)."""
    warm_start: str = ""
    """The solver stages that started from a plan of the previous point:
    ``""`` (none), ``"1"``, ``"2"`` or ``"1+2"`` (see
    :class:`~optimiser.engine.warm_start.StartedHighsModel`)."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per phase (``Result.timings``: validate, build, handover,
    solve_shortfall, solve_cost, extract, ...), for profiling a sweep."""
    plan: PlanStart | None = None
    """This point's plans, to start the next point of the chain."""
    result: Result | None = field(default=None, repr=False)

    @property
    def has_plan(self) -> bool:
        return self.status in ("optimal", "feasible")


def solve_point(job: PointJob) -> PointOutcome:
    """Validate and solve one point; every failure becomes the outcome's status."""
    t0, cpu0 = time.perf_counter(), time.process_time()
    try:
        outcome = _solve(job)
    except Exception as exc:  # a sweep reports a failed point, never stops
        outcome = PointOutcome(job.index, "error",
                               message=f"internal error: {type(exc).__name__}: {exc}")
    outcome.seconds = time.perf_counter() - t0
    outcome.cpu_seconds = time.process_time() - cpu0
    return outcome


def _solve(job: PointJob) -> PointOutcome:
    timings: dict[str, float] = {}
    try:
        inst = job.source.instance(job.overrides, timings)
    except InputError as exc:
        return PointOutcome(job.index, INVALID,
                            message="; ".join(str(p) for p in exc.problems), timings=timings)
    models: list[StartedHighsModel] = []

    def handover(m) -> StartedHighsModel:
        hm = StartedHighsModel(m, job.start)
        models.append(hm)
        return hm

    result = solve(inst, job.options, timings, handover=handover)
    hm = models[0] if models else None
    plan = hm.plan() if hm is not None and result.has_plan else None
    # The Pyomo model stays on the worker: it is large and the tables carry the plan.
    result.model = None
    return PointOutcome(
        job.index, result.status,
        weighted_shortfall=result.weighted_shortfall if result.has_plan else None,
        total_cost=result.total_cost if result.has_plan else None,
        mip_gap=result.mip_gap,
        message="; ".join(result.messages),
        solve_seconds=result.solve_seconds,
        warm_start="+".join(str(k) for k in hm.started) if hm is not None else "",
        timings=dict(result.timings),
        plan=plan,
        result=result if job.keep_result else None,
    )
