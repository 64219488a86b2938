"""Solving (SPEC §2.9, §2.10): build the model, hand it to HiGHS, run the stages.

The hand-over compiles the Pyomo model once with Pyomo's
``LinearStandardFormCompiler`` and passes the arrays straight to ``highspy``
(no LP file, no per-constraint calls). Both objective rows (W and C) come out of
the same compile, so the lexicographic second stage reuses the HiGHS model: it
swaps the cost vector, adds one row ``W ≤ W₁ + tol`` and starts from the
stage-1 plan. The solver layer knows nothing of files.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pyomo.environ as pyo

from formulations import build_model, model_data
from formulations.data import ModelData
from formulations.fairness import fairness_summary, member_rates
from optimiser.engine import progress
from optimiser.engine.budget import (
    before_write,
    command_deadline,
    rebuild_seconds,
    stages_end,
)
from optimiser.engine.highs_model import (
    SUBMIP_HEURISTICS,
    HighsModel,
    load_solution,
    map_status,
)
from optimiser.engine.options import MODES, SolveOptions, check_mode, effective_options
from optimiser.engine.settle import settle_deployment, settle_shortfalls
from optimiser.engine.stages import STATUSES, run_stages, time_left, tolerance
from optimiser.engine.tie_break import tie_breaks, tie_breaks_start
from optimiser.explain.diagnose import explain_shortfall, infeasibility, ledger_conflicts
from optimiser.explain.marginals import OutOfTime, marginal_values
from optimiser.instance.schema import Instance
from optimiser.instance.size import check_document_size, check_size, estimated_columns
from optimiser.results.tables import Result, clean, extract_tables, instance_names


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
    deadline = command_deadline(options, opts, t0)
    progress.stage("building")
    d, m = _build(instance, timings, t0)
    base = result_base(instance, opts)
    if m.ledger.infeasible:
        return _infeasible_on_data(m, timings, base)
    hm = _hand_over(m, opts, handover, timings)
    # The stages end early enough to leave the extraction and the write their
    # time; the explanation gets what is left and skips what does not fit.
    end = stages_end(deadline, hm.n, opts["time_limit"])
    if end is not None and time.perf_counter() >= end:
        return out_of_time_building(hm, opts, timings, base)
    stages_until = tie_breaks_start(end, hm.n, opts["time_limit"])
    rebuild = worth_releasing(hm.n)
    if rebuild:
        hm.release()
        del m
        gc.collect()  # the model's reference cycles: freed now, not at some later pass
        if stages_until is not None:
            stages_until -= rebuild_seconds(hm.n)
    run = run_stages(hm, instance.objective, opts["mode"], stages_until)
    if rebuild:
        m = _rebuild(hm, d, timings)
    stages, messages, final = run.stages, run.messages, run.final
    if instance.scenarios is not None:
        messages.append("the instance's scenarios were not used: this is one deterministic "
                        "plan (optimiser.solve_scenarios plans under them)")
    if final["x"] is not None:
        final = tie_breaks(hm, [(m, d, 1.0)], opts["mode"], instance.objective, final, stages,
                           messages, end, opts["time_limit"])
    timings["solve"] = sum(s["seconds"] for s in stages)
    for s in stages:
        timings[f"solve_{s['stage']}"] = s["seconds"]
    if final["x"] is None:
        return _no_plan(hm, d, m, final, stages, messages, opts, timings, base, end)
    result = _plan(hm, d, m, final, run.before_fair, stages, messages, timings, base)
    if opts["explain"]:
        _explain(result, hm, d, final["x"], instance, opts, deadline, timings)
    return result


def result_base(instance: Instance, opts: dict[str, Any]) -> dict[str, Any]:
    """The fields every engine's :class:`Result` carries about the instance and
    the options it was solved with (``opts``: :func:`effective_options`)."""
    return dict(instance=instance.name, objective_mode=opts["mode"],
                currency=instance.currency, names=instance_names(instance),
                options={k: v for k, v in opts.items() if k != "verbose"})


def _build(instance: Instance, timings: dict[str, float],
           t0: float) -> tuple[ModelData, pyo.ConcreteModel]:
    """The model data and the Pyomo model (refused first when too large)."""
    check_size(instance)
    d = model_data(instance)
    m = build_model(d)
    timings["build"] = time.perf_counter() - t0
    return d, m


RELEASE_COLUMNS = 100_000
"""Columns from which :func:`solve` frees the Pyomo model while HiGHS solves and
builds it again afterwards (:meth:`HighsModel.release`). The model and its
compile take about 1.1 KiB a column: on the generated 500-trust plan (528,143
columns) the process peaked at 2,269 MiB with it held and 1,623 MiB without
(``benchmarks/memory.py``); on the 150-trust plan it is 150 MiB of the 360 held
before HiGHS starts. Releasing takes 3 s and the rebuild 10 s at 500 trusts:
worth it from the 150-trust size up, not on the small plans, whose memory is
no concern."""


def worth_releasing(columns: int) -> bool:
    """Whether a model of ``columns`` is freed while HiGHS solves it."""
    return columns >= RELEASE_COLUMNS


def _rebuild(hm: HighsModel, d: ModelData, timings: dict[str, float]) -> pyo.ConcreteModel:
    """The model released during the stages, built again and attached to ``hm``."""
    t0 = time.perf_counter()
    m = build_model(d)
    hm.attach(m)
    timings["rebuild"] = time.perf_counter() - t0
    return m


def _infeasible_on_data(m: pyo.ConcreteModel, timings: dict[str, float],
                        base: dict[str, Any]) -> Result:
    """Rows that fail on data alone: no plan, without asking the solver."""
    return Result(status="infeasible", weighted_shortfall=None, total_cost=None,
                  mip_gap=None, solve_seconds=0.0, timings=timings,
                  messages=[f"{name}: {why}" for name, why in m.ledger.infeasible],
                  conflicts=ledger_conflicts(m), **base)


def _hand_over(m: pyo.ConcreteModel, opts: dict[str, Any],
               handover: Callable[[pyo.ConcreteModel], HighsModel] | None,
               timings: dict[str, float]) -> HighsModel:
    t0 = time.perf_counter()
    hm = (handover or HighsModel)(m)
    hm.set_options(opts)
    timings["handover"] = time.perf_counter() - t0
    return hm


def out_of_time_building(hm: HighsModel, opts: dict[str, Any], timings: dict[str, float],
                         base: dict[str, Any]) -> Result:
    """No plan: the time limit ran out before the stages could start."""
    return Result(status="no_solution", weighted_shortfall=None, total_cost=None,
                  mip_gap=None, solve_seconds=0.0, timings=timings,
                  model_size=hm.size(), messages=[
                      "a limit was reached before any plan was found: the time "
                      f"limit ({opts['time_limit']:g} s) ran out while the model was "
                      "built"],
                  **base)


def _no_plan(hm: HighsModel, d: ModelData, m: pyo.ConcreteModel, final: dict[str, Any],
             stages: list[dict[str, Any]], messages: list[str], opts: dict[str, Any],
             timings: dict[str, float], base: dict[str, Any], end: float | None) -> Result:
    """No plan: why, and the conflicting constraints of an infeasible model."""
    why = {"infeasible": "the constraints cannot all hold: no plan exists",
           "no_solution": "a limit was reached before any plan was found",
           "error": f"HiGHS stopped with status {final['highs_status']}"}[final["status"]]
    conflicts = []
    if final["status"] == "infeasible" and opts["explain"]:
        t0 = time.perf_counter()
        conflicts = infeasibility(hm, d, m, time_limit=time_left(end))
        timings["diagnose"] = time.perf_counter() - t0
    return Result(status=final["status"], weighted_shortfall=None, total_cost=None,
                  mip_gap=None, solve_seconds=timings["solve"], stages=stages,
                  timings=timings, model_size=hm.size(), messages=[why, *messages],
                  conflicts=conflicts, **base)


def _plan(hm: HighsModel, d: ModelData, m: pyo.ConcreteModel, final: dict[str, Any],
          before_fair: np.ndarray | None, stages: list[dict[str, Any]], messages: list[str],
          timings: dict[str, float], base: dict[str, Any]) -> Result:
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
    settle_deployment(m, d)
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
             opts: dict[str, Any], deadline: float | None, timings: dict[str, float]) -> None:
    """Marginal values (if they fit in the time limit) and what binds, in words."""
    progress.stage("explanation")
    t0 = time.perf_counter()
    # Marginal values re-solve the plan's LP: within the limit, less the write.
    hm.deadline = before_write(deadline, hm.n, opts["time_limit"])
    if hm.deadline is not None and time.perf_counter() + 0.05 >= hm.deadline:
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
