"""The ``ph`` engine: a stochastic plan by progressive hedging on mpi-sppy, for
scenario sets whose extensive form outgrows one machine (issue 20).

What it does, exactly (docs/sampled-studies.md says it for planners):

1. **The shortfall stage by progressive hedging.** Each scenario's model is the
   deterministic one, built by the same formulation code (``formulations.build_model``
   on the scenario's data), with its shortfall W_s as the only objective (in
   weighted mode W_s + C_s/value_per_fte). Its non-anticipative variables are the
   lever decisions of the here-and-now years (``formulations.lever_decisions``),
   as in the extensive form. mpi-sppy's PH hub minimises Σ π_s·W_s on every MPI
   rank (the futures split between them); at the end it computes one
   Lagrangian bound from its last weights. (``spoke=True`` gives half the
   ranks to mpi-sppy's Lagrangian spoke instead: measured, it bought nothing.)
2. **The here-and-now plan: the best candidate.** The hub forms candidate
   plans — futures' own decisions, nearest to PH's consensus x̄ first, each
   value put within the bounds every future allows (:func:`_candidates` says
   why not x̄ itself) — and evaluates each: held in every future, each future
   solved alone on its own objective (PH's weights and proximal term off).
   After iteration 0 it evaluates up to :data:`CANDIDATES_AT_ITERATION_0` of
   them while PH's time allows (mpi-sppy's xhat looper's idea, in the hub);
   after each later iteration, the nearest. The candidate with the least
   expected objective is the plan: neither the nearest nor PH's last iterate
   is always the best (issue 33). ``stochastic.candidates`` lists each with
   its ρ.
3. **The remaining stages per scenario.** Each scenario is then solved alone with
   those decisions fixed, through all its deterministic stages (shortfall,
   fairness, cost, the unplaced tie-break): with the here-and-now decisions
   fixed the scenarios no longer interact, so these solves are the extensive
   form's stages split by scenario. They run on the rank that held the
   scenario in PH, each started from its solution in the plan's evaluation
   (:class:`StartedFromEvaluation`), so ρ is never above the candidate's.
   Σ π_s·W_s of those solves is the best plan's ρ: an upper bound on the
   optimum; the largest lower bound found gives the gap.

Only the expected shortfall is supported (``risk: expected``): mpi-sppy's PH
minimises an expectation, and worst-case or CVaR would need the risk measure's
variables made first-stage, which this engine does not do; they are refused, not
approximated.

Why the nonants are scaled: spend is in pounds (up to millions) and places in
FTE; PH's proximal term, linearised for HiGHS (which solves no mixed-integer
quadratic programmes), then gets cuts with coefficients of 1e12 and HiGHS
reports "solve error" on the resulting numerics (measured on
stepping-forward-2017). Each continuous decision v is therefore given to PH as
y = v / s with s its upper bound in the reference scenario (so y ∈ [0, 1]),
linked by one equation; on/off decisions are given as they are.

mpi-sppy and mpi4py are imported only here, inside functions: ``import
optimiser`` and the ``ef`` engine work without the ``mpi`` extra.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import io
import math
import os
import pickle
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.common.errors import InfeasibleConstraintException

from formulations import build_model, model_data
from optimiser.engine import progress
from optimiser.engine.highs import match_scheduler
from optimiser.engine.scenarios import (
    ScenarioSet,
    decision_items,
    hold_decisions,
    no_plan_messages,
    scenario_set,
)
from optimiser.engine.solve import (
    HighsModel,
    SolveOptions,
    effective_options,
    progress_args,
    result_base,
    solve,
)
from optimiser.engine.warm_start import plan_fits
from optimiser.errors import Problem
from optimiser.instance.schema import Instance
from optimiser.results.tables import Result, clean

ENGINES = ("ef", "ph")
PH_RISKS = ("expected",)
INSTALL_HINT = ("the ph engine needs the mpi extra (mpi-sppy, mpi4py and an MPI runtime): "
                "pip install -c constraints.txt '.[mpi]'")

RHO_PER_W = 0.2
"""PH's ρ on the scaled decisions, per FTE of the reference scenario's W
(:func:`default_rho`)."""
DEFAULT_ITERATIONS = 50
CONVERGENCE = 1e-3
"""PH stops when the scenarios' decisions differ from x̄ by less than this, on
average, in units of each decision's range."""
PROX_TOLERANCE = 1e-4
"""Largest error of the linearised proximal term, in units of a scaled decision."""
MIN_SUBPROBLEM_SECONDS = 5.0
"""Least HiGHS time per PH subproblem under a time limit: enough for a national
plan's shortfall stage to find a plan."""
PH_TIME_SHARE = 0.6
"""Share of the time left that PH may use; the stages per scenario get the rest."""
CANDIDATES_AT_ITERATION_0 = 8
"""Most candidate plans evaluated from iteration 0's decisions (the futures'
own, nearest to x̄ first), time allowing. Measured on 200 stepping-forward
futures (benchmarks/README.md, issue 33): the six nearest gave ρ 42,056.7,
42,013.2, 42,004.7, 42,004.4, 42,034.9 and 42,003.1 against a bound of
41,853.5, so the nearest alone is not the best (gap 0.48% against 0.36%); each
evaluation took about a quarter of iteration 0's time, and PH's later
iterations never gave a better candidate than iteration 0's (at 10, 50 and 200
futures)."""


def ph_missing() -> str | None:
    """Why the ph engine cannot run here (the extra is not installed), or None."""
    import importlib.util

    for mod in ("mpisppy", "mpi4py"):
        if importlib.util.find_spec(mod) is None:
            return f"{INSTALL_HINT} ({mod} is not installed)"
    return None


def ph_problems(inst: Instance, ranks: int, mode: str) -> list[Problem]:
    """What the ph engine refuses for this instance and these options."""
    out = []
    sc = inst.scenarios
    if sc is not None and sc.risk not in PH_RISKS:
        out.append(Problem("--engine ph", f"risk {sc.risk} is not supported by progressive "
                           "hedging here (it minimises the expected shortfall only); use "
                           "--engine ef for worst_case and cvar"))
    return out


# ------------------------------------------------------------------ the MPI job


class Scenarios:
    """mpi-sppy's scenario creator over a :class:`ScenarioSet`: each scenario's
    model with one objective and the (scaled) here-and-now decisions as its root
    node's non-anticipative variables."""

    def __init__(self, ss: ScenarioSet, mode: str, value_per_fte: float | None,
                 keys: list[tuple[str, Any]], scales: list[float], binary: list[bool],
                 cache: dict[str, pyo.ConcreteModel]):
        self.ss, self.mode, self.value_per_fte = ss, mode, value_per_fte
        self.keys, self.scales, self.binary, self.cache = keys, scales, binary, cache
        self.index = {sid: k for k, sid in enumerate(ss.ids)}
        self.last = ss.base.horizon.base_year + ss.here_and_now_years
        self.ph_window: tuple[float, float | None] = (time.perf_counter(), None)
        """PH's start and end (``time.perf_counter()``), set when PH starts."""
        self.iteration_0_seconds: float | None = None
        """From PH's start to the end of iteration 0's solves (set then)."""
        self.no_plan: dict[str, list[tuple[str, str]]] = {}
        """Each future built here whose rows fail on data alone (``ledger.infeasible``):
        its model is still returned, so that every future is looked at, and the
        hub stops before any solve (``IterateWatch.pre_iter0``)."""

    def __call__(self, name: str) -> pyo.ConcreteModel:
        from mpisppy.utils import sputils

        k = self.index[name]
        m = self.cache.pop(name, None) or build_model(model_data(self.ss.instances[k]))
        if m.ledger.infeasible:
            self.no_plan[name] = list(m.ledger.infeasible)
        m.name = name
        for obj in m.component_objects(pyo.Objective):
            obj.deactivate()
        if self.mode == "weighted":
            m.ph_objective = pyo.Objective(expr=m.weighted_shortfall.expr
                                           + m.total_cost.expr / self.value_per_fte)
        else:
            m.weighted_shortfall.activate()
        found = dict(decision_items(m, self.last))
        missing = [key for key in self.keys if key not in found]
        if missing:
            raise RuntimeError(f"scenario '{name}' lacks here-and-now decisions the reference "
                               f"scenario has ({missing[0]} and {len(missing) - 1} more); "
                               "the ph engine needs the same decisions in every scenario "
                               "(use --engine ef)")
        m.ph_scaled = pyo.Var(range(len(self.keys)))
        m.ph_link = pyo.ConstraintList()
        nonants = []
        for j, (key, s) in enumerate(zip(self.keys, self.scales, strict=True)):
            v = found[key]
            y = m.ph_scaled[j]
            if v.is_binary():
                y.fix(0.0)  # unused: the on/off decision is its own nonant
                nonants.append(v)
                continue
            y.setlb(None if v.lb is None else v.lb / s)
            y.setub(None if v.ub is None else v.ub / s)
            m.ph_link.add(y * s == v)
            nonants.append(y)
        sputils.attach_root_node(m, 0.0, nonants)
        m._mpisppy_probability = self.ss.probabilities[k]
        return m


def default_rho(m: pyo.ConcreteModel, opts: dict[str, Any]) -> float:
    """PH's ρ: RHO_PER_W times the reference scenario's own shortfall W (its
    stage 1 alone; at least 1 FTE). A decision's whole range moves W by a share
    of W, so ρ on the scaled decisions follows W's size: measured on a generated
    4-trust plan (W 500) ρ = 100 converged in 2 iterations where 1,000 and
    10,000 had not in 50."""
    hm = HighsModel(m)
    hm.set_options({**opts, "verbose": False, "threads": 1})
    start = hm.first_plan(hm.c_W, None)
    rec = hm.run(hm.c_W, None, start=start)
    w = 0.0 if rec["x"] is None else float(hm.c_W @ rec["x"])
    return RHO_PER_W * max(w, 1.0)


def _scales(m: pyo.Block, last: int
            ) -> tuple[list[tuple[str, Any]], list[float], list[bool]]:
    """The here-and-now decisions' keys, their scales (upper bound, at least 1)
    and which are on/off (given to PH unscaled)."""
    keys, scales, binary = [], [], []
    for key, v in decision_items(m, last):
        keys.append(key)
        binary.append(v.is_binary())
        scales.append(1.0 if v.is_binary() or v.ub is None else max(1.0, float(v.ub)))
    return keys, scales, binary


def _quiet(verbose: bool):
    """mpi-sppy prints its progress: to stderr with --verbose (stdout stays the
    command's), else nowhere; its warnings (no inner-bound spoke: by design here,
    the plan's ρ is computed after PH) likewise."""
    import logging

    logging.getLogger("mpisppy").setLevel(logging.INFO if verbose else logging.ERROR)
    return contextlib.redirect_stdout(sys.stderr if verbose else io.StringIO())


def _mpisppy(verbose: bool) -> tuple[Any, Any, Any]:
    """mpi-sppy's wheel, cylinder recipes and config, imported quietly: it says
    hello on stdout, and its hub module opens ``hub.log`` in the current folder
    on import, which must not litter the user's folder (it is opened in a
    temporary one; at its level, CRITICAL, nothing is written to it)."""
    here = os.getcwd()
    with _quiet(verbose), tempfile.TemporaryDirectory(prefix="wfopt-mpisppy-") as tmp:
        os.chdir(tmp)
        try:
            # The cylinders whose modules open log files on import: here, in tmp.
            for name in ("mpisppy.cylinders.hub", "mpisppy.cylinders.lagrangian_bounder"):
                importlib.import_module(name)
            from mpisppy.spin_the_wheel import WheelSpinner
            from mpisppy.utils import cfg_vanilla as vanilla
            from mpisppy.utils import config
        finally:
            os.chdir(here)
    return WheelSpinner, vanilla, config


def time_converger(start: float, end: float | None) -> type:
    """A PH converger (mpi-sppy's interface) that stops PH before an iteration
    that would not finish by ``end`` (``time.perf_counter()``), judged by the
    longest so far. mpi-sppy's own time limit is checked only between
    iterations, and on a large set one iteration takes many minutes: without this
    the command's time limit would not hold.

    mpi-sppy creates it after iteration 0 and asks it before each later
    iteration's solves; the first estimate is the time from ``start`` (the
    wheel's start) to the end of iteration 0's solves (building the models and
    iteration 0, a generous bound on one iteration; iteration 0's candidates'
    evaluations, which come after, are not part of an iteration)."""
    from mpi4py import MPI

    class TimeConverger:
        def __init__(self, opt: Any):
            self.opt = opt
            self.last = time.perf_counter()
            own = getattr(opt.scenario_creator, "iteration_0_seconds", None)
            self.longest = self.last - start if own is None else own
            self.conv = None
            self.stopped_for_time = False
            self.seconds: list[float] = [round(self.longest, 3)]
            """Where PH's time went: building the scenarios' models with
            iteration 0, then each later iteration."""
            self.asked = 0

        def is_converged(self) -> bool:
            now = time.perf_counter()
            if self.asked:  # the first question comes before any solve of iteration 1
                self.seconds.append(round(now - self.last, 3))
                self.longest = max(self.longest, now - self.last)
            self.asked += 1
            self.last = now
            late = end is not None and now + self.longest > end
            # Every hub rank must take the same decision, or some would wait forever.
            self.stopped_for_time = bool(self.opt.mpicomm.allreduce(late, op=MPI.LOR))
            # A subproblem of the last iteration stopped without a plan (the same
            # on every hub rank): that iteration is no iterate, and PH ends.
            timed_out = self.opt.extobject.time_out is not None
            return self.stopped_for_time or timed_out

        def post_loops(self) -> None:
            pass

    return TimeConverger


class _NoIterate(Exception):
    """On the hub's ranks: a subproblem of iteration 0 stopped on its time limit
    without a plan, so PH has no iterate at all (:func:`ph_classes`)."""


def ph_classes() -> tuple[type, type, type]:
    """mpi-sppy classes for PH subproblems that end without a plan; HiGHS's
    termination condition, read from each solve's Pyomo results, says why:

    - its time limit (the subproblem's share of PH's time): PH ends on its last
      complete iterate, the decisions of every future from one iteration, and the
      plan is built from it; at iteration 0 there is none, and no plan;
    - anything else (infeasible, a HiGHS error): :class:`PHFailed`, naming the
      future and the condition. No time limit is involved, and the futures
      without a plan would otherwise count with decisions of an earlier
      iteration.

    Left to itself, mpi-sppy 0.14 stops at iteration 0 with "Infeasibility
    detected" for either, and at a later iteration goes on silently with the
    stopped futures' earlier decisions and the bounds of their earlier solves.

    Returns the Lagrangian spoke's extension (bounds only), the hub's extension,
    and the hub's PH class."""
    from mpi4py import MPI
    from mpisppy.extensions.extension import Extension
    from mpisppy.opt.ph import PH
    from pyomo.opt import TerminationCondition

    class BoundWatch(Extension):
        """A subproblem without a plan bounds its objective by −∞ (no bound),
        not by the bound of its previous solve, which mpi-sppy would keep: that
        solve had other weights, or the proximal term. HiGHS's own dual bound
        of a stopped solve is not read: a run stopped in presolve reports one
        it never proved."""

        def __init__(self, opt: Any):
            super().__init__(opt)
            self.stopped: dict[str, tuple[Any, Any]] = {}
            """Each local subproblem of the last solve loop that ended without a
            plan: its termination condition and HiGHS time limit."""

        def pre_solve_loop(self) -> None:
            self.stopped = {}

        def post_solve(self, s: Any, results: Any) -> Any:
            if not s._mpisppy_data.solution_available:
                s._mpisppy_data.outer_bound = -math.inf
                self.stopped[s.name] = (
                    None if results is None else results.solver.termination_condition,
                    s._solver_plugin.options.get("time_limit"))
            return results

    class IterateWatch(BoundWatch):
        """On the hub: the last complete iterate, kept after each iteration that
        every future solved, and what stopped a later one."""

        def __init__(self, opt: Any):
            super().__init__(opt)
            self.watching = True
            """Off for the solves after PH (the final Lagrangian bound)."""
            self.time_out: dict[str, Any] | None = None
            """The iteration whose subproblems stopped on their time limit, which
            futures, and the limit (seconds)."""
            self.complete: int | None = None
            """The last iteration every future solved."""
            self.values: dict[str, list[Any]] = {}
            self.convergence: dict[int, float | None] = {}
            """mpi-sppy's convergence metric at the start of each iteration
            (that of the iterate before it)."""
            self.candidates: list[dict[str, Any]] = []
            """Each candidate plan formed and what it is worth on every future
            (:meth:`_evaluate`), in the order formed."""
            self.best_solutions: dict[str, np.ndarray] = {}
            """Each local future's solution (:func:`model_values`) under the best
            candidate evaluated so far."""

        def post_solve_loop(self) -> None:
            if not self.watching:
                return
            opt = self.opt
            order = {name: k for k, name in enumerate(opt.all_scenario_names)}
            mine = [(order[name], name, tc == TerminationCondition.maxTimeLimit, str(tc),
                     limit) for name, (tc, limit) in self.stopped.items()]
            stopped = sorted(x for part in opt.mpicomm.allgather(mine) for x in part)
            if not stopped:
                return
            it = int(opt._PHIter)
            failed = [x for x in stopped if not x[2]]
            if failed:
                _, name, _, tc, _ = failed[0]
                others = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
                raise PHFailed(
                    f"the PH subproblem of scenario '{name}'{others} ended without a plan at "
                    f"iteration {it}, HiGHS's termination condition {tc}"
                    + (": that future has no plan" if tc == "infeasible" else ""))
            limit = stopped[0][4]
            self.time_out = {"iteration": it, "scenarios": [x[1] for x in stopped],
                             "seconds": None if limit is None else float(limit)}
            if it == 0:
                raise _NoIterate

        def pre_iter0(self) -> None:
            # The hub's ranks hold every future between them: the futures with
            # no plan on data alone are all named at once, as the extensive
            # form names them, before any is solved.
            opt = self.opt
            order = {name: k for k, name in enumerate(opt.all_scenario_names)}
            mine = [(order[name], name, why) for name, why
                    in opt.scenario_creator.no_plan.items() if name in opt.local_scenarios]
            found = sorted(x for part in opt.mpicomm.allgather(mine) for x in part)
            if found:
                raise FuturesWithoutPlan(no_plan_messages((name, why) for _, name, why in found))

        def post_iter0(self) -> None:
            self._keep()
            ctx = self.opt.scenario_creator
            start, end = ctx.ph_window
            now = time.perf_counter()
            ctx.iteration_0_seconds = now - start
            ranked, xbar = self._ranked()
            # When no later iteration fits in PH's time (the converger's test,
            # time_converger, with iteration 0 as the longest so far), only the
            # nearest candidate is formed: the stages after PH evaluate it
            # anyway, and evaluating it here too would take their time.
            alone = end is not None and now + (now - start) > end
            if self.opt.mpicomm.allreduce(alone, op=MPI.LOR):
                self._evaluate(*ranked[0], xbar, skip=True)
                return
            # Then the next nearest futures' decisions while the next evaluation,
            # judged by the longest so far, ends within PH's time.
            for k, (x, source) in enumerate(ranked[:CANDIDATES_AT_ITERATION_0]):
                longest = max((c["seconds"] for c in self.candidates), default=0.0)
                late = end is not None and k > 0 and time.perf_counter() + longest > end
                if self.opt.mpicomm.allreduce(late, op=MPI.LOR):
                    break
                self._evaluate(x, source, xbar, nearness=k)

        def miditer(self) -> None:
            self.convergence[int(self.opt._PHIter)] = self.opt.conv

        def enditer(self) -> None:
            if self.time_out is None:
                self._keep()
                ranked, xbar = self._ranked()
                self._evaluate(*ranked[0], xbar)
            progress.ph_iteration(int(self.opt._PHIter), self.opt.trivial_bound,
                                  self.convergence.get(int(self.opt._PHIter)))

        def _ranked(self) -> tuple[list[tuple[list[float], str]], list[float]]:
            """This iterate's candidate plans, nearest to x̄ first, and x̄
            (:func:`_candidates`)."""
            ctx = self.opt.scenario_creator
            return _candidates(self.opt, ctx.keys, ctx.scales, ctx.last, MPI)

        def _evaluate(self, x: list[float], source: str, xbar: list[float],
                      nearness: int = 0, skip: bool = False) -> None:
            """A candidate plan of this iterate (:func:`_candidates`: future
            ``source``'s decisions ``x``, the ``nearness``-th nearest to x̄,
            counted from 0), held in every future, each solved alone on its
            own objective (PH's weights and proximal term off): the
            candidate's ρ, Σ π_s·W_s, when every future found a plan with it,
            else None (never comparable). The nonants and their fixedness go
            back as they were, so PH goes on from its own iterate. When the
            candidate is the best so far, each local future's solution is kept
            (:attr:`best_solutions`) to start the stages after PH from.
            ``skip``: the candidate is formed, not evaluated (``evaluated``
            False; :meth:`post_iter0` says when)."""
            opt = self.opt
            t0 = time.perf_counter()
            ctx = opt.scenario_creator
            formed = (f"future {source}'s decisions, "
                      + ("nearest" if nearness == 0 else f"{_ordinal(nearness + 1)} nearest")
                      + " to the iterate's average x̄")
            if skip:
                self.candidates.append({
                    "iteration": int(opt._PHIter), "source": source, "formed": formed,
                    "evaluated": False, "rho": None, "objective": None,
                    "futures_without_plan": [], "seconds": 0.0, "x": x, "xbar": xbar,
                    "by_future": {}})
                return
            progress.ph_candidate(len(self.candidates) + 1, source)
            fixed = [v if ctx.binary[j] else v / ctx.scales[j] for j, v in enumerate(x)]
            self.watching = False  # an evaluation solve stopped on time is no PH time-out
            # What the evaluation's solves overwrite and PH reads afterwards: the
            # nonants, each subproblem's bounds (iteration 0's are the trivial
            # bound, computed after this hook) and whether W and the proximal
            # term are on (off in iteration 0: mpi-sppy's solve_loop(dis_W=…)
            # would switch them on when done).
            w_off, prox_off = opt.W_disabled, opt.prox_disabled
            bounds = {name: (getattr(s._mpisppy_data, "outer_bound", None),
                             getattr(s._mpisppy_data, "inner_bound", None))
                      for name, s in opt.local_scenarios.items()}
            opt._save_nonants()
            opt._fix_nonants({"ROOT": fixed})
            opt.disable_W_and_prox()
            solutions: dict[str, np.ndarray] = {}
            try:
                opt.solve_loop(solver_options=opt._effective_solver_options(opt._PHIter),
                               gripe=False, need_solution=False)
                objective = 0.0
                by_future: dict[str, float] = {}
                lacking = []
                for name, s in opt.local_scenarios.items():
                    if not s._mpisppy_data.solution_available:
                        lacking.append(name)
                        continue
                    by_future[name] = float(pyo.value(s.weighted_shortfall.expr))
                    objective += s._mpisppy_probability * float(
                        pyo.value(opt.saved_objectives[name]))
                    solutions[name] = model_values(s)
            finally:
                opt._restore_nonants()
                if not w_off:
                    opt._reenable_W()
                if not prox_off:
                    opt._reenable_prox()
                for name, s in opt.local_scenarios.items():
                    s._mpisppy_data.outer_bound, s._mpisppy_data.inner_bound = bounds[name]
                self.watching = True
            parts = opt.mpicomm.allgather((by_future, objective, lacking))
            lacking = sorted(n for part in parts for n in part[2])
            by_future = {n: w for part in parts for n, w in part[0].items()}
            probability = dict(zip(opt.all_scenario_names, ctx.ss.probabilities, strict=True))
            total = None if lacking else math.fsum(part[1] for part in parts)
            # The same test on every rank (the totals are gathered): the best is
            # the least objective, ties to the earlier, as _hub_plan keeps it.
            if total is not None and all(c["objective"] is None or total < c["objective"]
                                         for c in self.candidates):
                self.best_solutions = solutions
            self.candidates.append({
                "iteration": int(opt._PHIter), "source": source,
                "formed": formed, "evaluated": True,
                "rho": None if lacking else math.fsum(probability[n] * w
                                                       for n, w in by_future.items()),
                "objective": total,
                "futures_without_plan": lacking,
                "seconds": round(time.perf_counter() - t0, 3), "x": x, "xbar": xbar,
                "by_future": by_future})

        def _keep(self) -> None:
            self.complete = int(self.opt._PHIter)
            self.values = {name: [v.value for v in s._mpisppy_data.nonant_indices.values()]
                           for name, s in self.opt.local_scenarios.items()}

        def restore(self) -> None:
            """The non-anticipative decisions of the last complete iterate back
            in every local future."""
            for name, s in self.opt.local_scenarios.items():
                for v, value in zip(s._mpisppy_data.nonant_indices.values(),
                                    self.values[name], strict=True):
                    v.set_value(value, skip_validation=True)

    class StoppablePH(PH):
        """mpi-sppy's PH that, when iteration 0 leaves a future without a plan
        for lack of time, ends at once and cleanly (the Lagrangian spoke gets
        its stop signal as after any last iteration) instead of raising."""

        no_iterate = False

        def Iter0(self) -> float:
            try:
                return super().Iter0()
            except _NoIterate:
                self.no_iterate = True
                self.conv = None
                # Every future's bound: its solve's, or −∞ where it stopped.
                self.trivial_bound = self.Ebound(False)
                return self.trivial_bound

        def iterk_loop(self) -> None:
            if not self.no_iterate:
                super().iterk_loop()

        def Eobjective(self, verbose: bool = False) -> float:
            # Some futures have no values to evaluate: nothing is reported.
            return math.nan if self.no_iterate else super().Eobjective(verbose)

    return BoundWatch, IterateWatch, StoppablePH


def run_job(job: dict[str, Any], comm: Any) -> dict[str, Any] | None:
    """Run on every rank of ``comm``: PH, the here-and-now plan, the stages per
    scenario. Rank 0 returns what the parent needs; the others None."""
    from mpi4py import MPI

    WheelSpinner, vanilla, config = _mpisppy(job["verbose"])

    t0 = time.perf_counter()
    # The parent still gathers, assembles and writes the tables after the job:
    # a share of the time is kept for that.
    deadline = None if job["seconds"] is None else t0 + job["seconds"] - min(
        30.0, 0.05 * job["seconds"])
    inst: Instance = job["instance"]
    opts = job["opts"]
    rank, size = comm.Get_rank(), comm.Get_size()
    # Every rank in PH's hub unless asked for the Lagrangian spoke (half the
    # ranks): measured on stepping-forward-2017 (benchmarks/README.md), the
    # spoke's bound never beat the hub's own (iteration 0's wait-and-see bound
    # and one Lagrangian bound from the last weights), while a second hub rank
    # halves iteration 0 and each candidate's evaluation.
    spoke = bool(job.get("spoke")) and size > 1
    ss = scenario_set(inst)
    last = ss.base.horizon.base_year + ss.here_and_now_years
    cache: dict[str, pyo.ConcreteModel] = {}
    if rank == 0:
        # The reference scenario's model gives the keys and scales; PH's hub then
        # uses it as its first scenario instead of building it again.
        m0 = build_model(model_data(ss.instances[0]))
        cache[ss.ids[0]] = m0
        rho = job["rho"] if job["rho"] is not None else default_rho(m0, opts)
        shared = (*_scales(m0, last), rho)
    keys, scales, binary, rho = comm.bcast(shared if rank == 0 else None, root=0)
    creator = Scenarios(ss, opts["mode"], inst.objective.value_per_fte, keys, scales, binary,
                        cache)

    cfg = config.Config()
    cfg.popular_args()
    cfg.two_sided_args()
    cfg.ph_args()
    cfg.lagrangian_args()
    # Pyomo's persistent HiGHS interface: PH changes only the objective between
    # iterations, and a persistent solver does not compile the model again.
    cfg.solver_name = "appsi_highs"
    cfg.default_rho = rho
    cfg.max_iterations = job["iterations"]
    cfg.linearize_proximal_terms = True
    # On decisions scaled to [0, 1] mpi-sppy's default tolerance of the
    # linearised proximal term (0.1) is a tenth of a whole range: PH oscillated.
    cfg.proximal_linearization_tolerance = PROX_TOLERANCE
    cfg.intra_hub_conv_thresh = CONVERGENCE
    cfg.rel_gap = float(opts["mip_gap"])
    ph_end = None if deadline is None else t0 + PH_TIME_SHARE * job["seconds"]
    if ph_end is not None:
        cfg.time_limit = max(1.0, ph_end - time.perf_counter())
    solver_options = {"mip_rel_gap": float(opts["mip_gap"]), "threads": 1,
                      "random_seed": int(opts["seed"])}
    if ph_end is not None:
        # Iteration 0 solves every future before any time check (measured: 200
        # stepping-forward futures took more than a 30-minute limit on it alone),
        # so each subproblem gets its share of PH's time. One stopped by it keeps
        # its plan and its dual bound: the bounds stay valid, only weaker.
        hub_ranks = size // 2 if spoke else size
        share = (ph_end - time.perf_counter()) * hub_ranks / len(ss.ids)
        solver_options["time_limit"] = round(max(MIN_SUBPROBLEM_SECONDS, share), 3)
    # mpi-sppy's config holds solver options as one "key=value key=value" string.
    cfg.solver_options = " ".join(f"{k}={v}" for k, v in solver_options.items())
    # The subproblems' HiGHS objects are Pyomo's, not the engine's: the process's
    # thread scheduler is made to fit their one thread here (after an in-process
    # solve on HiGHS's default threads, highspy 1.16 refused every one of them).
    match_scheduler(solver_options["threads"])
    beans = (cfg, creator, lambda *a, **k: None, ss.ids)
    ph_t0 = time.perf_counter()
    creator.ph_window = (ph_t0, ph_end)
    bound_watch, iterate_watch, stoppable_ph = ph_classes()
    hub = vanilla.ph_hub(*beans, ph_extensions=iterate_watch,
                         ph_converger=time_converger(ph_t0, ph_end))
    hub["opt_class"] = stoppable_ph
    spokes = [vanilla.lagrangian_spoke(*beans, ph_extensions=bound_watch)] if spoke else []
    with _quiet(job["verbose"]), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # mpi-sppy's logger.warn
        wheel = WheelSpinner(hub, spokes)
        wheel.spin(comm_world=comm)
        plan = None
        starts: dict[str, np.ndarray] = {}
        local: list[str] = []
        if wheel.strata_rank == 0:  # the hub's ranks
            plan = _hub_plan(wheel, keys, scales, last, not spoke, ph_end, MPI)
            # The kept candidate's solution in each of this rank's futures,
            # when it was evaluated here (IterateWatch.best_solutions).
            kept = None if plan["kept"] is None else plan["candidates"][plan["kept"]]
            if kept is not None and kept["objective"] is not None:
                starts = wheel.spcomm.opt.extobject.best_solutions
            local = list(wheel.spcomm.opt.local_scenarios)
    ph_seconds = time.perf_counter() - ph_t0
    plans = comm.allgather(plan if plan is not None and plan["lead"] else None)
    plan = next(p for p in plans if p is not None)
    del wheel, hub, spokes
    gc.collect()  # the PH models go before the stage solves build theirs

    # Without a plan (no iterate: see ph_classes) no future is solved again.
    # Each hub rank solves the futures it held in PH, started from their
    # solutions there; with a spoke, the ranks take the futures in turn.
    fixed = None if plan["xhat"] is None else dict(zip(keys, plan["xhat"], strict=True))
    index = {sid: k for k, sid in enumerate(ss.ids)}
    mine = ([] if fixed is None else [index[name] for name in local] if not spoke
            else [k for k in range(len(ss.ids)) if k % size == rank])
    rounds = comm.allreduce(len(mine), op=MPI.MAX)
    per: dict[int, dict[str, Any]] = {}
    for n, k in enumerate(mine):
        left = None if deadline is None else max(deadline - time.perf_counter(), 1.0)
        limit = None if left is None else left / (rounds - n)
        # One HiGHS thread per rank when the ranks share the machine's cores.
        per[k] = _stages(ss.instances[k], fixed, last,
                         {**opts, "threads": 1} if size > 1 else opts, limit,
                         starts.get(ss.ids[k]))
    gathered = comm.gather(per, root=0)
    if rank != 0:
        return None
    results: dict[int, dict[str, Any]] = {}
    for part in gathered:
        results.update(part)
    return {**plan, "ph_seconds": ph_seconds, "ranks": size, "rho": rho, "keys": keys,
            "ids": ss.ids, "probabilities": ss.probabilities,
            "here_and_now_years": ss.here_and_now_years,
            "per_scenario": [results.get(k) for k in range(len(ss.ids))],
            "seconds": time.perf_counter() - t0}


def _candidates(opt: Any, keys: list, scales: list[float], last: int, MPI: Any
                ) -> tuple[list[tuple[list[float], str]], list[float]]:
    """On the hub's ranks: the candidate plans of PH's current iterate, the same
    on each rank: the futures' own decisions, nearest to x̄ first (L1 distance
    in units of each decision's range; ties: the earlier future), each put
    within every future's bounds, each with the future it came from (a plan
    equal to a nearer one is left out); and x̄ (in the decisions' own units).

    Why not x̄ itself: x̄ rounded is no plan at all before PH has converged —
    a cohort's on/off flag rounded to off under places averaged above zero
    broke every future (measured: 10 stepping-forward futures, one iteration,
    no plan in any of them). A future's own decisions hold together (places
    with their cohort, spend with its campaign), and PH pulls every future's
    towards x̄."""
    opt.Compute_Xbar(False)
    n = len(keys)
    lo = np.full(n, -np.inf)
    hi = np.full(n, np.inf)
    xbar = np.zeros(n)
    integer = np.zeros(n, dtype=bool)
    for s in opt.local_scenarios.values():
        found = dict(decision_items(s, last))
        for j, key in enumerate(keys):
            v = found[key]
            if v.lb is not None:
                lo[j] = max(lo[j], float(v.lb))
            if v.ub is not None:
                hi[j] = min(hi[j], float(v.ub))
            integer[j] = v.is_integer()
            xbar[j] = float(pyo.value(s._mpisppy_model.xbars["ROOT", j])) * scales[j]
    scale = np.asarray(scales)
    order = {name: k for k, name in enumerate(opt.all_scenario_names)}
    local = []
    for name, s in opt.local_scenarios.items():
        own = np.array([float(pyo.value(s._mpisppy_data.nonant_indices["ROOT", j]))
                        for j in range(n)]) * scale
        dist = float(np.abs(own / scale - xbar / scale).sum())
        local.append((dist, order[name], own.tolist()))
    # Over the hub's ranks, the same on each.
    ranked = sorted(c for part in opt.mpicomm.allgather(local) for c in part)
    glo = np.empty(n)
    ghi = np.empty(n)
    opt.mpicomm.Allreduce(lo, glo, op=MPI.MAX)
    opt.mpicomm.Allreduce(hi, ghi, op=MPI.MIN)
    out: list[tuple[list[float], str]] = []
    seen: set[tuple[float, ...]] = set()
    for _dist, k, own in ranked:
        x = np.asarray(own)
        x = np.where(integer, np.round(x), x)  # a solver's 0.9999999 of a binary
        x = np.minimum(np.maximum(x, glo), ghi)
        plan = tuple(float(v) for v in x)
        if plan not in seen:
            seen.add(plan)
            out.append((list(plan), opt.all_scenario_names[k]))
    return out, [float(v) for v in xbar]


def _ordinal(n: int) -> str:
    """2 → "2nd", 3 → "3rd", 11 → "11th"."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def formulation_variables(m: pyo.Block) -> list[Any]:
    """The formulation's variables of ``m``, in the model's own order: those
    built on the model itself (mpi-sppy's, on its own blocks, and PH's scaled
    copies of the decisions left out), the same list in order as a model built
    from the same data has."""
    skip = getattr(m, "ph_scaled", None)
    return [v for v in m.component_data_objects(pyo.Var, sort=False)
            if v.parent_block() is m and (skip is None or v.parent_component() is not skip)]


def model_values(m: pyo.Block) -> np.ndarray:
    """The values of :func:`formulation_variables` (NaN where unset), which
    :class:`StartedFromEvaluation` maps to its columns."""
    return np.array([math.nan if v.value is None else float(v.value)
                     for v in formulation_variables(m)])


class StartedFromEvaluation(HighsModel):
    """The hand-over of a future's stages after PH: a :class:`HighsModel` whose
    first stage starts from the future's solution under the kept candidate in
    PH's evaluation (:func:`model_values`), when it fits this model (same
    variables, every bound, row and integrality met), so that the stages'
    shortfall is never above what the evaluation found (a solve to the MIP gap
    could otherwise land anywhere within it)."""

    def __init__(self, m: pyo.ConcreteModel, values: np.ndarray | None):
        super().__init__(m)
        self.start: np.ndarray | None = None
        """The evaluation's solution in this model's columns, until first tried."""
        self.used = False
        """Whether the first stage started from the evaluation's solution."""
        variables = formulation_variables(m)
        if values is not None and len(values) == len(variables):
            where = {id(v): k for k, v in enumerate(variables)}
            k = [where.get(id(v)) for v in self.columns]
            x = None if None in k else values[k]
            if x is not None and np.isfinite(x).all():
                self.start = x

    def first_plan(self, cost: np.ndarray, time_limit: float | None) -> np.ndarray | None:
        start, self.start = self.start, None
        if start is not None and plan_fits(self, start):
            self.used = True
            return start
        return super().first_plan(cost, time_limit)


def _hub_plan(wheel: Any, keys: list, scales: list[float], last: int, own_bound: bool,
              end: float | None, MPI: Any) -> dict[str, Any]:
    """On the hub's ranks: the here-and-now plan, the bounds, the iterations.

    The plan is the best of the candidates (:func:`_candidates`) formed and
    evaluated after each complete iterate (``IterateWatch._evaluate``): the
    least expected objective on every future. PH's last iterate is not always
    its best: on 200 stepping-forward futures the plan of iteration 1 was
    0.8% worse than iteration 0's.

    When a subproblem stopped on its time limit without a plan (``ph_classes``),
    the plan is built from the last iterate every future completed; after
    iteration 0 there is none, and no plan (``xhat`` None)."""
    opt = wheel.spcomm.opt
    watch = opt.extobject
    watch.watching = False  # the solves from here on are no PH iteration
    if opt.no_iterate:
        return {"lead": opt.cylinder_rank == 0, "xhat": None, "xbar": None, "iterations": 0,
                "convergence": None, "trivial_bound": float(opt.trivial_bound),
                "lower_bound": float(wheel.BestOuterBound), "final_lagrangian": None,
                "stopped_for_time": False, "iteration_seconds": [],
                "time_out": watch.time_out, "candidates": [], "kept": None,
                "kept_by_future": {}}
    if watch.time_out is not None:
        watch.restore()
    # The best candidate evaluated on every future (ties: the earlier); with
    # none (an evaluation left a future without a plan), the last iterate's.
    scored = [c for c in watch.candidates if c["objective"] is not None]
    kept = (min(scored, key=lambda c: (c["objective"], c["iteration"])) if scored
            else watch.candidates[-1])
    bound = wheel.BestOuterBound
    lagrangian = None
    conv = opt.convobject
    stopped = bool(conv is not None and conv.stopped_for_time)
    fits = end is None or conv is None or time.perf_counter() + conv.longest <= end
    if own_bound and not opt.mpicomm.allreduce(not fits, op=MPI.LOR):
        # No spoke: one Lagrangian bound from the last weights (the subproblems
        # without the proximal term), as the spoke would compute it.
        opt.solve_loop(solver_options=opt._effective_solver_options(opt._PHIter),
                       dis_prox=True, gripe=False, need_solution=False)
        lagrangian = float(opt.Ebound(False))
        bound = max(bound, lagrangian)
        if not math.isfinite(lagrangian):  # a subproblem stopped without a plan: no bound
            lagrangian = None
    # mpi-sppy's counter names the iteration it was in when it stopped; one that
    # stopped on convergence or for time did not solve its subproblems.
    converged = opt.conv is not None and opt.conv < CONVERGENCE
    completed = int(opt._PHIter) - (1 if stopped or converged else 0)
    metric = opt.conv
    if watch.time_out is not None:  # the plan's iterate, and its metric
        completed = watch.complete
        metric = watch.convergence.get(watch.complete + 1)
    candidates = [{k: v for k, v in c.items() if k not in ("xbar", "by_future")}
                  for c in watch.candidates]
    return {"lead": opt.cylinder_rank == 0, "xhat": list(kept["x"]), "xbar": kept["xbar"],
            "candidates": candidates, "kept": watch.candidates.index(kept),
            "kept_by_future": kept["by_future"],
            "iterations": completed,
            "convergence": None if metric is None else float(metric),
            "trivial_bound": float(opt.trivial_bound), "lower_bound": float(bound),
            "final_lagrangian": lagrangian, "stopped_for_time": stopped,
            "iteration_seconds": [] if conv is None else conv.seconds,
            "time_out": watch.time_out}


def _stages(inst: Instance, fixed: dict, last: int, opts: dict[str, Any],
            limit: float | None, start: np.ndarray | None = None) -> dict[str, Any]:
    """One scenario solved alone through all its stages, its here-and-now
    decisions held at ``fixed``: status, W, C, stages and tables. ``start``: its
    solution in the evaluation of the plan (:class:`StartedFromEvaluation`)."""
    held: dict[str, Any] = {"ok": True, "hm": None}

    def handover(m: pyo.ConcreteModel) -> HighsModel:
        held["ok"] = hold_decisions(m, fixed, last)
        held["hm"] = StartedFromEvaluation(m, start)
        return held["hm"]

    options = SolveOptions(time_limit=limit, mip_gap=opts["mip_gap"], threads=opts["threads"],
                           seed=opts["seed"], mode=opts["mode"], explain=False)
    try:
        r = solve(inst, options, handover=handover)
    except InfeasibleConstraintException:
        held["ok"] = False
    if not held["ok"]:
        return {"status": "infeasible", "weighted_shortfall": None, "total_cost": None,
                "stages": [], "tables": {}, "fairness": None, "started": False,
                "messages": ["the here-and-now plan does not fit this scenario"]}
    cost = r.total_cost
    if r.has_plan:
        # The compiled model treats the held decisions as constants, so the
        # solve's C (c·x) leaves their cost out: C is read off the model instead.
        cost = clean(float(pyo.value(r.model.total_cost.expr)))
    return {"status": r.status, "weighted_shortfall": r.weighted_shortfall,
            "total_cost": cost, "stages": r.stages, "tables": r.tables,
            "fairness": r.fairness, "messages": r.messages,
            "started": bool(held["hm"] is not None and held["hm"].used)}


def main(argv: list[str]) -> int:
    """``python -m optimiser.engine.ph JOB OUT`` under mpiexec: rank 0 reads the
    job and shares it (only rank 0 needs the files), and writes the outcome."""
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    try:
        job = None
        if comm.Get_rank() == 0:
            job = pickle.loads(Path(argv[0]).read_bytes())
        job = comm.bcast(job, root=0)
        out = run_job(job, comm)
        if out is not None:
            tmp = Path(argv[1] + ".part")
            tmp.write_bytes(pickle.dumps(out))
            tmp.replace(argv[1])
    except FuturesWithoutPlan as exc:  # the parent reports them as a result (solve_ph)
        with contextlib.suppress(OSError):
            Path(argv[1] + ".no_plan").write_bytes(pickle.dumps(exc.messages))
        sys.stderr.flush()
        comm.Abort(1)
    except PHFailed as exc:  # its one line is what the parent shows (launch)
        with contextlib.suppress(OSError):  # another machine's rank has no such folder
            Path(argv[1] + ".error").write_text(str(exc), encoding="utf-8")
        print(exc, file=sys.stderr)
        sys.stderr.flush()
        comm.Abort(1)
    except BaseException:  # one rank's failure must stop all: no rank waits forever
        traceback.print_exc(file=sys.stderr)
        sys.stderr.flush()
        comm.Abort(1)
    return 0


# ------------------------------------------------------------------ the parent


class PHFailed(RuntimeError):
    """The MPI job stopped without an outcome; the message says how."""


class FuturesWithoutPlan(PHFailed):
    """Futures whose rows fail on data alone: no plan exists, as the extensive
    form reports it (status infeasible); ``messages`` names each row."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


def launch(job: dict[str, Any], ranks: int, mpiexec: str, verbose: bool) -> dict[str, Any]:
    """Run the job: in this process on one rank, else under ``mpiexec -n ranks``."""
    if ranks == 1:
        from mpi4py import MPI

        return run_job(job, MPI.COMM_WORLD)  # type: ignore[return-value]
    cmd = shlex.split(mpiexec)
    exe = shutil.which(cmd[0], path=f"{Path(sys.executable).parent}{os.pathsep}"
                                    f"{os.environ.get('PATH', '')}")
    if exe is None:
        raise PHFailed(f"--mpiexec | cannot find {cmd[0]!r}; {INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="wfopt-ph-") as tmp:
        job_file, out_file = Path(tmp) / "job.pickle", Path(tmp) / "out.pickle"
        job_file.write_bytes(pickle.dumps(job))
        log = Path(tmp) / "log.txt"
        with open(log, "wb") as fh:
            p = subprocess.run([exe, *cmd[1:], "-n", str(ranks), sys.executable, "-m",
                                "optimiser.engine.ph", str(job_file), str(out_file)],
                               stdout=sys.stderr if verbose else fh,
                               stderr=sys.stderr if verbose else subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, check=False)
        no_plan = Path(f"{out_file}.no_plan")
        if no_plan.exists():
            raise FuturesWithoutPlan(pickle.loads(no_plan.read_bytes()))
        error = Path(f"{out_file}.error")
        if error.exists():  # a failure the job could name (see main)
            raise PHFailed(f"the ph engine's MPI job failed: {error.read_text(encoding='utf-8')}")
        if p.returncode != 0 or not out_file.exists():
            tail = "" if verbose else log.read_text(errors="replace").strip().splitlines()
            last = next((ln for ln in reversed(tail) if ln.strip() and not
                         ln.startswith(("  ", "Traceback"))), "") if tail else ""
            raise PHFailed(f"the ph engine's MPI job failed (exit {p.returncode})"
                           + (f": {last}" if last else "; --verbose shows its log"))
        return pickle.loads(out_file.read_bytes())


def solve_ph(inst: Instance, options: SolveOptions | None = None,
             timings: dict[str, float] | None = None, ranks: int = 1,
             mpiexec: str = "mpiexec", iterations: int = DEFAULT_ITERATIONS,
             rho: float | None = None, spoke: bool = False) -> Result:
    """The stochastic plan of ``inst`` (risk ``expected``) by progressive hedging
    on ``ranks`` MPI ranks; a :class:`~optimiser.results.tables.Result` as the
    extensive form's, with the bounds in ``stochastic``.

    Every rank is in PH's hub; ``spoke`` (an even number of ranks) gives half
    of them to mpi-sppy's Lagrangian bound spoke instead, the arrangement
    before issue 33, kept to measure one against the other."""
    if spoke and ranks % 2:
        raise ValueError(f"a Lagrangian spoke needs an even number of ranks, got {ranks}")
    opts = effective_options(inst, options)
    timings = dict(timings or {})
    started = options.started if options is not None and options.started else None
    now = time.perf_counter()
    left = None
    if opts["time_limit"] is not None:
        left = max(1.0, opts["time_limit"] - (now - (started or now)))
    job = {"instance": inst, "opts": opts, "seconds": left, "iterations": iterations,
           "rho": rho, "verbose": bool(opts["verbose"]), "spoke": spoke}
    t0 = time.perf_counter()
    try:
        with progress.reporting(*progress_args(options, opts)):
            progress.stage("shortfall")  # PH's: the shortfall stage, every future at once
            progress.phase(f"progressive hedging on {ranks} rank{'s' * (ranks != 1)}")
            out = launch(job, ranks, mpiexec, bool(opts["verbose"]))
    except FuturesWithoutPlan as exc:
        timings["solve"] = time.perf_counter() - t0
        return Result(status="infeasible", weighted_shortfall=None, total_cost=None,
                      mip_gap=None, solve_seconds=timings["solve"], timings=timings,
                      messages=exc.messages, **result_base(inst, opts))
    timings["solve"] = time.perf_counter() - t0
    return assemble(inst, opts, out, timings)


def assemble(inst: Instance, opts: dict[str, Any], out: dict[str, Any],
             timings: dict[str, float]) -> Result:
    """The job's outcome as a Result: the tables of every scenario with a
    ``scenario`` column, each scenario's W and C, ρ and the expected cost, and in
    ``stochastic`` the PH figures (bounds, gap, iterations)."""
    base = result_base(inst, opts)
    ids, probs, per = out["ids"], out["probabilities"], out["per_scenario"]
    planned = out["xhat"] is not None  # else PH had no iterate: no future was solved again
    lacking = [sid for sid, r in zip(ids, per, strict=True)
               if r is None or r["weighted_shortfall"] is None]
    upper = None if lacking else sum(p * r["weighted_shortfall"]
                                     for p, r in zip(probs, per, strict=True))
    lower = out["lower_bound"]
    gap = None
    if upper is not None and math.isfinite(lower):
        # Relative to ρ, but never to less than 1 FTE: a plan short by 0.1 FTE
        # against a bound of 0 is not 100% away from optimal.
        gap = max(0.0, (upper - lower) / max(abs(upper), 1.0))
    ph_status = ("no_solution" if not planned else "optimal" if gap is not None
                 and gap <= opts["mip_gap"] + 1e-12 else "feasible")
    stages = [{"stage": "progressive_hedging", "status": ph_status,
               "highs_status": None, "weighted_shortfall": clean(upper) if upper is not None
               else None, "total_cost": None, "mip_gap": gap,
               "seconds": round(out["ph_seconds"], 6)}]
    # Each later stage once, over the scenarios: its seconds summed, its worst
    # status and largest gap (the per-scenario records would be N times as many).
    order: list[str] = []
    merged: dict[str, dict[str, Any]] = {}
    rank = {"optimal": 0, "feasible": 1, "no_solution": 2, "infeasible": 3, "error": 4}
    for r in per:
        for st in r["stages"] if r is not None else []:
            name = f"per_scenario_{st['stage']}"
            if name not in merged:
                order.append(name)
                merged[name] = {"stage": name, "status": st["status"], "highs_status": None,
                                "weighted_shortfall": None, "total_cost": None,
                                "mip_gap": st["mip_gap"], "seconds": 0.0}
            m = merged[name]
            m["seconds"] = round(m["seconds"] + st["seconds"], 6)
            if rank.get(st["status"], 4) > rank.get(m["status"], 4):
                m["status"] = st["status"]
            if st["mip_gap"] is not None:
                m["mip_gap"] = max(m["mip_gap"] or 0.0, st["mip_gap"])
    stages += [merged[n] for n in order]
    stochastic = {
        "engine": "ph", "RP": None if upper is None else clean(upper),
        "lower_bound": clean(lower) if math.isfinite(lower) else None, "gap": gap,
        "trivial_bound": clean(out["trivial_bound"]) if math.isfinite(out["trivial_bound"])
        else None,
        "final_lagrangian_bound": out["final_lagrangian"],
        "iterations": out["iterations"], "convergence": out["convergence"],
        "stopped_for_time": out["stopped_for_time"], "rho": out["rho"],
        "iteration_seconds": out["iteration_seconds"],
        "ranks": out["ranks"], "ph_seconds": round(out["ph_seconds"], 6),
        "subproblem_time_out": out["time_out"],
        "candidates": [{**{k: v for k, v in c.items() if k != "x"},
                        "rho": None if c["rho"] is None else clean(c["rho"]),
                        "objective": None if c["objective"] is None else clean(c["objective"]),
                        "here_and_now": _decisions_list(out["keys"], c["x"])}
                       for c in out["candidates"]],
        "kept": out["kept"],
        "WS": None, "EEV": None, "EVPI": None, "VSS": None, "EEV_infeasible": [],
        "here_and_now": _decisions_list(out["keys"], out["xhat"] or [])}
    what = ("progressive hedging (mpi-sppy) on the shortfall stage, then the here-and-now "
            "decisions held and each scenario solved alone through all its stages")
    solve_seconds = out["seconds"]
    time_out = out["time_out"]
    if not planned:
        return Result(status="no_solution", weighted_shortfall=None, total_cost=None,
                      mip_gap=None, solve_seconds=solve_seconds, stages=stages,
                      timings=timings, stochastic=stochastic, messages=[
                          f"no plan: at PH iteration 0 {_time_out_text(time_out, len(ids))}, "
                          "so progressive hedging has no complete iterate (the decisions of "
                          "every future from one iteration) to build a plan from: more time "
                          "(--time-limit) or fewer futures", what], **base)
    evaluated = out["kept_by_future"]
    if lacking:
        shown = _names_text(lacking)
        # The plan's evaluation in PH found a plan in each of them: the stages
        # after PH, not the plan, ran short (of time).
        why = ("the stages after progressive hedging ran out of time (the plan's own "
               "evaluation found a plan in each): more time (--time-limit)"
               if all(sid in evaluated for sid in lacking)
               else "more iterations (--ph-iterations), more time, or --engine ef")
        return Result(status="no_solution", weighted_shortfall=None, total_cost=None,
                      mip_gap=None, solve_seconds=solve_seconds, stages=stages,
                      timings=timings, stochastic=stochastic, messages=[
                          f"no plan was found in {len(lacking)} of {len(ids)} scenarios with "
                          f"the here-and-now decisions progressive hedging found ({shown}): "
                          + why, what], **base)
    frames: dict[str, list[pd.DataFrame]] = {}
    listing = []
    fair = {}
    for sid, p, r in zip(ids, probs, per, strict=True):
        for name, frame in r["tables"].items():
            frames.setdefault(name, []).append(frame.assign(scenario=sid)[
                ["scenario", *frame.columns]])
        listing.append({"id": sid, "probability": p,
                        "weighted_shortfall": clean(r["weighted_shortfall"]),
                        "total_cost": clean(r["total_cost"]), "status": r["status"]})
        if r["fairness"] is not None:
            fair[sid] = r["fairness"]
    tables = {name: pd.concat(fs, ignore_index=True) for name, fs in frames.items()}
    status = "optimal" if all(s["status"] == "optimal" for s in stages) else "feasible"
    messages = [what + f": {out['iterations']} PH iterations on {out['ranks']} rank"
                f"{'s' * (out['ranks'] != 1)}"]
    kept = out["candidates"][out["kept"]]
    if kept["objective"] is not None:
        messages.append(f"the plan is iteration {kept['iteration']}'s candidate "
                        f"({kept['formed']}), the best of {len(out['candidates'])} evaluated "
                        "on every future")
    elif not kept["evaluated"]:
        messages.append(f"the plan is iteration {kept['iteration']}'s candidate "
                        f"({kept['formed']}), the only one: no later iteration fitted in the "
                        "time limit, so its evaluation is the stages after progressive "
                        "hedging")
    else:
        messages.append("no candidate plan found a plan in every future when evaluated; the "
                        f"plan is the last one, iteration {kept['iteration']}'s")
    if time_out is not None:
        messages.append(f"progressive hedging stopped at iteration {time_out['iteration']}: "
                        f"{_time_out_text(time_out, len(ids))}; the plan is built from "
                        f"iteration {out['iterations']}'s iterate, the last one every future "
                        "completed")
    elif out["stopped_for_time"]:
        messages.append("progressive hedging stopped before converging: the next iteration "
                        "would not have finished within the time limit")
    # The stages after PH solve each future's shortfall stage again, under what
    # is left of the time limit: where one stopped short of the shortfall the
    # plan's evaluation had found, ρ and the tables are the stages' (what the
    # tables show), and it is said.
    short = [sid for sid, r in zip(ids, per, strict=True) if kept["rho"] is not None
             and r["weighted_shortfall"] > evaluated[sid] + max(
                 1e-6, float(opts["mip_gap"]) * abs(evaluated[sid]))]
    stochastic["futures_short_of_evaluation"] = short
    stochastic["started_from_evaluation"] = sum(bool(r.get("started")) for r in per)
    # ρ after each future's shortfall stage: never above the kept candidate's
    # when every future started from its evaluation. The plan's ρ is the
    # stages' last plan's, which the later stages may take up to tol(W_s)
    # above it (SPEC §2.9).
    first = [next((st["weighted_shortfall"] for st in r["stages"] if st["stage"] == "shortfall"),
                  None) for r in per]
    stochastic["shortfall_stage_rho"] = None if None in first else clean(
        math.fsum(p * w for p, w in zip(probs, first, strict=True)))
    if short:
        messages.append(f"in {len(short)} of {len(ids)} futures ({_names_text(short)}) the "
                        "stages after progressive hedging, cut short by the time limit, ended "
                        "with more shortfall than the plan's evaluation found: ρ "
                        f"{upper:,.2f} against its candidate's {kept['rho']:,.2f}; ρ and the "
                        "tables are the stages'")
    if status == "feasible":
        messages.append("the plan is feasible; the gap is between its ρ and the best lower "
                        "bound progressive hedging found")
    result = Result(status=status, weighted_shortfall=clean(upper),
                    total_cost=clean(sum(p * r["total_cost"]
                                         for p, r in zip(probs, per, strict=True))),
                    mip_gap=gap, solve_seconds=solve_seconds, stages=stages, tables=tables,
                    timings=timings, messages=messages, stochastic=stochastic, **base)
    result.scenarios = {"risk": "expected", "here_and_now_years": out["here_and_now_years"],
                        "cvar_alpha": None, "list": listing}
    if fair:
        result.fairness = {"by_scenario": fair}
    result.decisions = dict(zip(out["keys"], out["xhat"], strict=True))
    return result


def _decisions_list(keys: list[tuple[str, Any]], values: list[float]) -> list[dict[str, Any]]:
    """Here-and-now decisions as summary.json gives them: name[index] and value."""
    return [{"decision": f"{k[0]}[{_index_text(k[1])}]", "value": clean(v)}
            for k, v in zip(keys, values, strict=bool(values))]


def _names_text(names: list[str]) -> str:
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _time_out_text(time_out: dict[str, Any], count: int) -> str:
    """Which PH subproblems stopped on their time limit without a plan, and when."""
    names = time_out["scenarios"]
    limit = "" if time_out["seconds"] is None else f" ({time_out['seconds']:g} s each)"
    return (f"HiGHS's time limit per subproblem{limit} ended the PH subproblem"
            f"{'s' * (len(names) != 1)} of {len(names)} of {count} futures ({_names_text(names)}) "
            "before any plan was found")


def _index_text(idx: Any) -> str:
    return ",".join(str(i) for i in idx) if isinstance(idx, tuple) else str(idx)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))


__all__ = ["ENGINES", "INSTALL_HINT", "PHFailed", "ph_missing", "ph_problems", "solve_ph"]
