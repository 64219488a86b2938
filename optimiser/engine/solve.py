"""Solving (SPEC §2.9, §2.10): the pipeline from an instance to a plan.

:func:`solve` builds the model, and :func:`solve_model` (which the extensive
form of a stochastic plan goes through too) hands it to HiGHS
(:mod:`~optimiser.engine.highs_model`), sizes the command's time budget
(:mod:`~optimiser.engine.budget`), lets go of a large model while HiGHS solves,
runs the stages (:mod:`~optimiser.engine.stages`), builds the model again and
runs the tie-breaks (:mod:`~optimiser.engine.tie_break`). Then the plan is read
back, settled (:mod:`~optimiser.engine.settle`) and explained, or the reason
there is none is told. The options are in :mod:`~optimiser.engine.options`, the
size check before building in :mod:`optimiser.instance.size`.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.environ as pyo

from formulations import build_model, lever_placements, model_data
from formulations.data import ModelData
from formulations.fairness import fairness_summary, member_rates
from optimiser.engine import progress
from optimiser.engine.budget import TimeBudget, time_left
from optimiser.engine.highs_model import (
    SUBMIP_HEURISTICS,
    HighsModel,
    load_solution,
    map_status,
)
from optimiser.engine.options import MODES, SolveOptions, check_mode, effective_options
from optimiser.engine.settle import settle_deployment, settle_shortfalls
from optimiser.engine.stages import STATUSES, StageRun, run_stages, tolerance
from optimiser.engine.tie_break import tie_breaks
from optimiser.explain.diagnose import explain_shortfall, infeasibility, ledger_conflicts
from optimiser.explain.marginals import OutOfTime, marginal_values
from optimiser.instance.schema import Instance
from optimiser.instance.size import check_document_size, check_size, estimated_columns
from optimiser.results.tables import (
    Result,
    clean,
    extract_tables,
    instance_names,
    run_out_info,
)


def solve(instance: Instance, options: SolveOptions | None = None,
          timings: dict[str, float] | None = None, *,
          handover: Callable[[pyo.ConcreteModel], HighsModel] | None = None) -> Result:
    """Solve an instance: stage 1 (W) and stage 2 (C at W₁), or one weighted stage.

    ``timings`` may carry ``load`` and ``validate`` seconds measured by the caller;
    build, hand-over, solve and extract are added here. ``handover`` (default
    :class:`HighsModel`) turns the built model into the HighsModel to solve:
    sweeps pass one whose ``first_plan`` is the previous point's plan.
    ``options.progress`` is told where the solve is (:mod:`optimiser.engine.progress`).
    """
    opts = effective_options(instance, options)
    with progress.reporting(*progress_args(options, opts)):
        return _solve(instance, options, opts, timings, handover)


def progress_args(options: SolveOptions | None, opts: dict[str, Any]
                  ) -> tuple[progress.ProgressCallback | None, float, float | None]:
    """:func:`progress.reporting`'s arguments for a solve: the callback, the
    clock of the time limit and the limit."""
    started = options.started if options and options.started is not None else None
    return (options.progress if options else None,
            time.perf_counter() if started is None else started, opts["time_limit"])


def _solve(instance: Instance, options: SolveOptions | None, opts: dict[str, Any],
           timings: dict[str, float] | None,
           handover: Callable[[pyo.ConcreteModel], HighsModel] | None) -> Result:
    timings = dict(timings or {})
    t0 = time.perf_counter()
    budget = TimeBudget.of_command(options, opts, t0)
    progress.stage("building")
    check_size(instance)
    d = model_data(instance)
    models = Models(lambda: _one_plan(d))
    timings["build"] = time.perf_counter() - t0
    base = result_base(instance, opts)
    if models.built.model.ledger.infeasible:
        return _infeasible_on_data(models.built.model, timings, base)

    def hand_over(m: pyo.ConcreteModel) -> HighsModel:
        hm = (handover or HighsModel)(m)
        hm.set_options(opts)
        return hm

    notes = []
    if instance.scenarios is not None:
        notes.append("the instance's scenarios were not used: this is one deterministic "
                     "plan (optimiser.solve_scenarios plans under them)")
    solved = solve_model(models, hand_over, budget, instance.objective, opts["mode"], timings,
                         base, notes)
    if isinstance(solved, Result):
        return solved
    hm, run, m = solved.hm, solved.run, solved.built.model
    for s in run.stages:
        timings[f"solve_{s['stage']}"] = s["seconds"]
    if run.final["x"] is None:
        return _no_plan(hm, d, m, run.final, run.stages, run.messages, opts, timings, base,
                        solved.budget)
    result = _plan(hm, d, m, run.final, run.before_fair, run.stages, run.messages, timings,
                   base, solved.budget)
    if opts["explain"]:
        _explain(result, hm, d, run.final["x"], instance, opts, solved.budget, timings)
    return result


# ------------------------------------------------------------------ the pipeline


@dataclass
class Built:
    """A built model: the Pyomo model and what the tie-breaks read of it, each
    (block, its data, its probability): the model itself for one plan, each
    scenario's block for a stochastic one."""

    model: pyo.ConcreteModel
    blocks: list[tuple[pyo.Block, ModelData, float]]


def _one_plan(d: ModelData) -> Built:
    m = build_model(d)
    return Built(m, [(m, d, 1.0)])


class Models:
    """The built model while the pipeline works: ``built`` is None while the
    model is released (:data:`RELEASE_COLUMNS`); ``build`` builds it (again)
    from the same data. Only this object holds the model, so releasing it
    frees it."""

    def __init__(self, build: Callable[[], Built]):
        self.build = build
        self.built: Built | None = build()


@dataclass
class Solved:
    """What :func:`solve_model` found: the HighsModel, the model (built again if
    it was released), the stages and tie-breaks (``run.final``: the plan, or
    none), and the budget sized for the model."""

    hm: HighsModel
    built: Built
    run: StageRun
    budget: TimeBudget


def solve_model(models: Models, hand_over: Callable[[pyo.ConcreteModel], HighsModel],
                budget: TimeBudget, objective, mode: str, timings: dict[str, float],
                base: dict[str, Any], notes: Sequence[str] = ()) -> Solved | Result:
    """The pipeline every plan goes through, one model or the extensive form:
    hand the model over to HiGHS; size the time budget; release the model while
    HiGHS solves it if it is large; run the stages; build it again; run the
    tie-breaks. A :class:`Result` without a plan when the build used the time
    limit. ``notes`` are added to the stages' messages before the tie-breaks'.
    The stages end early enough to leave the tie-breaks, the rebuild, the
    extraction and the write their time (:class:`TimeBudget`)."""
    t0 = time.perf_counter()
    hm = hand_over(models.built.model)
    timings["handover"] = time.perf_counter() - t0
    budget = budget.sized(hm.n, released=worth_releasing(hm.n))
    hm.clock = budget.started
    if budget.out_of_time():
        return out_of_time_building(hm, budget.time_limit, timings, base)
    if budget.released:
        hm.release()
        models.built = None
        gc.collect()  # the model's reference cycles: freed now, not at some later pass
    run = run_stages(hm, objective, mode, budget.stages_until,
                     expected=hm.objectives.get("expected_shortfall"))
    if budget.released:
        t0 = time.perf_counter()
        models.built = models.build()
        hm.attach(models.built.model)
        timings["rebuild"] = time.perf_counter() - t0
    run.messages.extend(notes)
    if run.final["x"] is not None:
        run.final = tie_breaks(hm, models.built.blocks, mode, objective, run.final, run.stages,
                               run.messages, budget)
    timings["solve"] = sum(s["seconds"] for s in run.stages)
    return Solved(hm, models.built, run, budget)


def result_base(instance: Instance, opts: dict[str, Any]) -> dict[str, Any]:
    """The fields every engine's :class:`Result` carries about the instance and
    the options it was solved with (``opts``: :func:`effective_options`)."""
    return dict(instance=instance.name, objective_mode=opts["mode"],
                currency=instance.currency, names=instance_names(instance),
                options={k: v for k, v in opts.items() if k != "verbose"},
                run_out=run_out_info(instance),
                placement=lever_placements(model_data(instance)))


RELEASE_COLUMNS = 100_000
"""Columns from which :func:`solve_model` frees the Pyomo model while HiGHS
solves and builds it again afterwards (:meth:`HighsModel.release`). The model
and its compile take about 1.1 KiB a column: on the generated 500-trust plan
(528,143 columns) the process peaked at 2,269 MiB with it held and 1,623 MiB
without (``benchmarks/memory.py``); on the 150-trust plan it is 150 MiB of the
360 held before HiGHS starts. Releasing takes 3 s and the rebuild 10 s at 500
trusts: worth it from the 150-trust size up, not on the small plans, whose
memory is no concern."""


def worth_releasing(columns: int) -> bool:
    """Whether a model of ``columns`` is freed while HiGHS solves it."""
    return columns >= RELEASE_COLUMNS


def _infeasible_on_data(m: pyo.ConcreteModel, timings: dict[str, float],
                        base: dict[str, Any]) -> Result:
    """Rows that fail on data alone: no plan, without asking the solver."""
    return Result(status="infeasible", weighted_shortfall=None, total_cost=None,
                  mip_gap=None, solve_seconds=0.0, timings=timings,
                  messages=[f"{name}: {why}" for name, why in m.ledger.infeasible],
                  conflicts=ledger_conflicts(m), **base)


def out_of_time_building(hm: HighsModel, time_limit: float, timings: dict[str, float],
                         base: dict[str, Any]) -> Result:
    """No plan: the time limit ran out before the stages could start."""
    return Result(status="no_solution", weighted_shortfall=None, total_cost=None,
                  mip_gap=None, solve_seconds=0.0, timings=timings,
                  model_size=hm.size(), messages=[
                      "a limit was reached before any plan was found: the time "
                      f"limit ({time_limit:g} s) ran out while the model was "
                      "built"],
                  **base)


def no_plan_reason(final: dict[str, Any], where: str = "") -> str:
    """Why a solve has no plan, from the reported stage's status (``where``:
    " in some scenario" for a stochastic plan)."""
    return {"infeasible": f"the constraints cannot all hold{where}: no plan exists",
            "no_solution": "a limit was reached before any plan was found",
            "error": f"HiGHS stopped with status {final['highs_status']}"}[final["status"]]


def _no_plan(hm: HighsModel, d: ModelData, m: pyo.ConcreteModel, final: dict[str, Any],
             stages: list[dict[str, Any]], messages: list[str], opts: dict[str, Any],
             timings: dict[str, float], base: dict[str, Any], budget: TimeBudget) -> Result:
    """No plan: why, and the conflicting constraints of an infeasible model."""
    conflicts = []
    if final["status"] == "infeasible" and opts["explain"]:
        t0 = time.perf_counter()
        conflicts = infeasibility(hm, d, m, time_limit=time_left(budget.end))
        timings["diagnose"] = time.perf_counter() - t0
    return Result(status=final["status"], weighted_shortfall=None, total_cost=None,
                  mip_gap=None, solve_seconds=timings["solve"], stages=stages,
                  timings=timings, model_size=hm.size(),
                  messages=[no_plan_reason(final), *messages], conflicts=conflicts, **base)


# ------------------------------------------------------------------ the plan


def _plan(hm: HighsModel, d: ModelData, m: pyo.ConcreteModel, final: dict[str, Any],
          before_fair: np.ndarray | None, stages: list[dict[str, Any]], messages: list[str],
          timings: dict[str, float], base: dict[str, Any], budget: TimeBudget) -> Result:
    """The plan into the model, settled (shortfalls, deployment), and its tables."""
    t0 = time.perf_counter()
    x = final["x"]
    fair_before = None
    if hm.c_M is not None and before_fair is not None:
        load_solution(hm, before_fair)
        fair_before = member_rates(m, d)
    load_solution(hm, x)
    zero_unused(m)
    settle_shortfalls(m, d)
    messages += settle_deployment(m, d, hm.threads, budget.deadline)
    tables = extract_tables(m, d)
    timings["extract"] = time.perf_counter() - t0
    gaps = [s["mip_gap"] for s in stages if s["mip_gap"] is not None]
    if final["status"] == "feasible":
        gap_text = f"gap {max(gaps):.3%}" if gaps else "gap not known: no bound yet"
        messages.append("a limit was reached: the plan is feasible but not proven optimal "
                        f"({gap_text})")
    result = Result(status=final["status"],
                    weighted_shortfall=clean(pyo.value(m.weighted_shortfall)),
                    total_cost=clean(float(hm.c_C @ x)),
                    mip_gap=max(gaps) if gaps else None,
                    solve_seconds=timings["solve"], stages=stages, tables=tables,
                    timings=timings, model_size=hm.size(), messages=messages, model=m, **base)
    if fair_before is not None:
        result.fairness = fairness_summary(fair_before, member_rates(m, d))
    return result


def _explain(result: Result, hm: HighsModel, d: ModelData, x: np.ndarray, instance: Instance,
             opts: dict[str, Any], budget: TimeBudget, timings: dict[str, float]) -> None:
    """Marginal values (if they fit in the time limit) and what binds, in words."""
    progress.stage("explanation")
    t0 = time.perf_counter()
    # Marginal values re-solve the plan's LP: within the limit, less the write.
    hm.deadline = budget.explanation_until
    if not budget.explanation_fits():
        result.marginal_values, notes = None, [MARGINALS_SKIPPED]
    else:
        try:
            result.marginal_values, notes = marginal_values(
                hm, x, d, opts["mode"], instance.objective.value_per_fte,
                deadline=hm.deadline)
        except OutOfTime:
            result.marginal_values, notes = None, [MARGINALS_SKIPPED]
    result.messages += notes
    result.explanations = explain_shortfall(d, result.tables, result.weighted_shortfall,
                                            result.marginal_values, opts["mode"])
    timings["explain"] = time.perf_counter() - t0


MARGINALS_SKIPPED = ("marginal values not computed: the time limit was reached before "
                     "they were (a longer --time-limit gives them)")
"""The note of a plan whose marginal values did not fit in the time limit."""


def zero_unused(m: pyo.ConcreteModel) -> None:
    """Give 0 (or its lower bound) to every variable the solver never saw.

    A lever that costs nothing and leads nowhere in the horizon (places whose
    graduates finish after the last year, at a price of 0) is in no constraint
    and no objective, so the compiled model leaves it out; its cost expression
    still names it, and reading it failed ("No value for uninitialized VarData").
    Unbought is what such a variable means."""
    for v in m.component_data_objects(pyo.Var, active=None, descend_into=True):
        if v.value is None:
            lb = v.lb
            v.set_value(lb if lb is not None and lb > 0 else 0.0, skip_validation=True)


# The names below moved to their own modules (options, highs_model, stages,
# instance.size) and are still importable from here, as they always were.
__all__ = ["MODES", "STATUSES", "SUBMIP_HEURISTICS", "HighsModel", "ModelData", "SolveOptions",
           "check_document_size", "check_mode", "check_size", "effective_options",
           "estimated_columns", "map_status", "run_stages", "solve", "tolerance"]
