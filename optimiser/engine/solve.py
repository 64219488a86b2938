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
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from formulations import build_model, lever_placements, lever_unplaced, model_data
from formulations.data import ModelData
from formulations.fairness import fairness_summary, member_rates
from optimiser.engine.addresses import Addresses, addresses, resolve
from optimiser.engine.highs import LATER, new_highs, option_value, use_threads
from optimiser.engine.settle import settle_deployment, settle_shortfalls
from optimiser.engine.tie_break import least_unplaced, share_out, unplaced_weights
from optimiser.errors import ModelError, TooLarge
from optimiser.explain.diagnose import explain_shortfall, infeasibility, ledger_conflicts
from optimiser.explain.marginals import OutOfTime, marginal_values
from optimiser.instance.schema import LEVER_SECTIONS, Instance
from optimiser.results.tables import (
    Result,
    clean,
    extract_tables,
    instance_names,
    run_out_info,
)

STAGE1_TIME_SHARE = 0.8
"""Share of a lexicographic solve's time limit that stage 1 (W) may use, at most:
see :data:`ROOT_RESERVE`."""

ROOT_RESERVE = 2.0
"""Each later stage keeps at least this many times stage 1's root time (from the
start of its run to its first dual bound: presolve and the root LP): stage 1 is
stopped when it would eat into that. Why: a cost stage stopped before its own
root LP has no bound (gap 100%, the plan's cost unproven). On the generated
500-trust plan stage 1's root takes about 150 s and the cost stage's about 205 s
(1.4 times); with 80% of the limit for stage 1 the cost stage had 97 s and
ended without a bound (benchmarks/README.md, "Scale"). Where stage 1's root is
quick (every shipped instance; 55 and 150 trusts) the 80% share decides."""

STATUSES = ("optimal", "feasible", "infeasible", "no_solution", "error")


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


SUBMIP_HEURISTICS = ("mip_heuristic_run_rens", "mip_heuristic_run_rins",
                     "mip_heuristic_run_root_reduced_cost")
"""HiGHS options switched off for models without general integers (see
:meth:`HighsModel.set_options`)."""


class HighsModel:
    """The compiled model in a ``highspy.Highs`` object, with the column map.

    Where the hand-over's time goes (profiled on the generated plans, see
    ``benchmarks/README.md``): Pyomo's standard-form compile is about 85–90 % of
    it, a per-row cost of its expression walker; reading bounds and integrality
    off the columns and ``passModel`` are the rest. Those two are done in bulk
    here (no per-column or per-row work in Python beyond reading the attributes).
    """

    def __init__(self, m: pyo.ConcreteModel):
        repn = LinearStandardFormCompiler().write(m, mixed_form=True, set_sense=None)
        self.columns = repn.columns
        n = len(repn.columns)
        self.n = n
        c = repn.c.toarray() if hasattr(repn.c, "toarray") else np.asarray(repn.c)
        names = [o.local_name for o in repn.objectives]
        self.c_W = c[names.index("weighted_shortfall")]
        self.c_C = c[names.index("total_cost")]
        self.objectives = {name: c[i] for i, name in enumerate(names)}
        """Every declared objective's cost vector, by name."""
        self.c_M = self.objectives.get("fairness")
        """The fairness measure M's costs, when some fair-share group exists."""
        A = repn.A.tocsc()
        inf = highspy.kHighsInf
        # Mixed form: sense −1 is ≥ rhs, 0 is = rhs, 1 is ≤ rhs.
        sense = np.fromiter((s for _con, s in repn.rows), dtype=np.int8, count=len(repn.rows))
        rhs = np.asarray(repn.rhs, dtype=np.float64)
        lower = np.where(sense <= 0, rhs, -inf)
        upper = np.where(sense >= 0, rhs, inf)
        self.rows = repn.rows
        bounds = np.array([v.bounds for v in repn.columns], dtype=np.float64).reshape(n, 2)
        col_lower = np.where(np.isnan(bounds[:, 0]), -inf, bounds[:, 0])  # None: unbounded
        col_upper = np.where(np.isnan(bounds[:, 1]), inf, bounds[:, 1])
        # is_integer() is true for binaries too.
        integrality = np.fromiter((v.is_integer() for v in repn.columns), dtype=np.int32,
                                  count=n)
        self.integrality = integrality
        self.general_integers = bool(((integrality == 1) & ((col_lower < 0) | (col_upper > 1)))
                                     .any())
        """Whether some integer column is more than on/off (whole training places)."""
        self._start_seconds = 0.0
        self.threads: int | None = None
        """HiGHS threads of the stages (set by :meth:`set_options`)."""
        self.as_lp = False
        """True while the integers are held and their integrality dropped (the
        tie-breaks): HiGHS then runs an LP."""
        self.h = new_highs(threads=LATER)
        self.deadline: float | None = None
        """When set, the time by which the analyses after the stages must end:
        :meth:`lp_copy` gives its copies what is left as their time limit."""
        too_large(self.h, A, self.c_W, self.c_C, repn.rows, repn.columns)
        status = self.h.passModel(
            n, len(repn.rows), A.nnz, 1, 1, 0.0, self.c_W, col_lower, col_upper, lower,
            upper, A.indptr.astype(np.int32), A.indices.astype(np.int32),
            A.data.astype(np.float64), integrality)
        if status == highspy.HighsStatus.kError:
            raise ModelError("model | HiGHS refused the model: some number in the instance is "
                             "beyond what it accepts")
        self.nnz = int(A.nnz)
        self.num_rows = len(repn.rows)
        self._released: tuple[Addresses, Addresses, list[int]] | None = None

    def release(self) -> None:
        """Let go of the Pyomo model while HiGHS works: its columns and rows are
        kept as :mod:`addresses <optimiser.engine.addresses>` only, so the caller
        may free the model; :meth:`attach` points them at the model built again."""
        self._released = (addresses(self.columns), addresses([con for con, _s in self.rows]),
                          [sense for _con, sense in self.rows])
        self.columns, self.rows = [], []

    def attach(self, m: pyo.ConcreteModel) -> None:
        """Point the columns and rows at ``m``, the released model built again
        from the same data (:meth:`release`)."""
        columns, rows, senses = self._released
        self.columns = resolve(m, columns)
        self.rows = list(zip(resolve(m, rows), senses, strict=True))
        self._released = None

    def size(self) -> dict[str, int]:
        return {"variables": self.n, "integers": int(self.integrality.sum()),
                "constraints": self.num_rows, "nonzeros": self.nnz}

    def set_options(self, opts: dict[str, Any]) -> None:
        h = self.h
        h.setOptionValue("output_flag", bool(opts["verbose"]))
        h.setOptionValue("mip_rel_gap", float(opts["mip_gap"]))
        h.setOptionValue("random_seed", int(opts["seed"]))
        self.threads = opts["threads"]
        use_threads(h, self.threads)
        # HiGHS's root sub-MIP heuristics (RENS, RINS, root reduced-cost fixing)
        # took 70-85% of HiGHS's time on the models whose only integers are on/off
        # decisions (cohorts, campaigns, funded units), which the starting plan and
        # branching already solve well: off, both stages ran 3-5x faster with the
        # same W and C (stepping-forward-2017 30.1 -> 5.5 s, long-term-2028 66 ->
        # 17 s, a generated 55-trust plan 23 -> 5.6 s). With whole places (general
        # integers, knapsack-like budget rows) they are what finds good plans
        # (stepping-forward with whole places: 0.05% -> 7% gap at 120 s without
        # them), so they stay on there. benchmarks/README.md, "Sub-MIP heuristics".
        on = self.general_integers
        for name in SUBMIP_HEURISTICS:
            h.setOptionValue(name, on)

    def run(self, cost: np.ndarray, time_limit: float | None,
            start: np.ndarray | None = None,
            keep: tuple[float, float] | None = None) -> dict[str, Any]:
        """Solve with objective ``cost``; return the stage record and the solution.

        ``seconds`` is HiGHS's time for the stage: this run, plus the starting-plan
        LP of :meth:`first_plan` when one was solved for it. ``keep = (deadline,
        factor)``: once the run has its first dual bound, after r seconds, it is
        stopped (HiGHS status "Interrupted by user") when ``deadline − factor·r``
        passes, so that the later stages keep that time (:data:`ROOT_RESERVE`);
        ``root_seconds`` is r, ``stopped_for_reserve`` whether it was stopped so.
        """
        h = self.h
        h.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), cost)
        if time_limit and (self.as_lp or not self.integrality.any()):
            # An LP's time limit is on the Highs object's run time summed over
            # its runs (a MIP's on its own run): the tie-breaks, after 560 s of
            # stages on the 150-trust plan, stopped at once ("Time limit
            # reached" after 0.0 s) with 32 s left.
            time_limit += h.getRunTime()
        h.setOptionValue("time_limit", float(time_limit) if time_limit else highspy.kHighsInf)
        if start is not None:
            h.setSolution(self.n, np.arange(self.n, dtype=np.int32), start)
        watch = RootWatch(*keep) if keep is not None and self.integrality.any() else None
        if watch is not None:
            h.setCallback(watch, None)
            h.startCallback(MIP_INTERRUPT)
        t0 = time.perf_counter()
        try:
            h.run()
        finally:
            if watch is not None:
                h.stopCallback(MIP_INTERRUPT)
        wall = time.perf_counter() - t0 + self._start_seconds
        self._start_seconds = 0.0
        ms = h.getModelStatus()
        info = h.getInfo()
        has_x = info.primal_solution_status == 2
        # The compiled model's columns only (a tie-break adds its own for a while).
        x = np.asarray(h.getSolution().col_value)[:self.n] if has_x else None
        status = map_status(ms, has_x)
        gap = None
        if has_x and self.integrality.any():
            gap = float(info.mip_gap) if math.isfinite(info.mip_gap) else None
            if status == "optimal" and gap is not None:
                gap = max(gap, 0.0)
        elif has_x:
            gap = 0.0
        return {"status": status, "highs_status": h.modelStatusToString(ms),
                "seconds": wall, "gap": gap, "x": x,
                "bound": float(info.mip_dual_bound) if self.integrality.any() else None,
                "root_seconds": None if watch is None else watch.root,
                "stopped_for_reserve": watch is not None and watch.stopped}

    def lp_copy(self) -> highspy.Highs:
        """A new, silent ``Highs`` holding the compiled model as an LP: integrality
        dropped, rows added after the compile (the stage-2 bound on W) left out.
        For the analyses after a solve (marginal values, infeasibility)."""
        lp = self.h.getLp()
        lp.integrality_ = []
        h = new_highs(threads=self.threads)
        h.passModel(lp)
        if self.deadline is not None:
            h.setOptionValue("time_limit", max(self.deadline - time.perf_counter(), 1e-3))
        if lp.num_row_ > self.num_rows:
            h.deleteRows(lp.num_row_ - self.num_rows,
                         np.arange(self.num_rows, lp.num_row_, dtype=np.int32))
        return h

    def first_plan(self, cost: np.ndarray, time_limit: float | None) -> np.ndarray | None:
        """A plan with every integer decision at its lower bound (no cohort, no
        campaign, no funded unit that needs a flag; whole places at 0) and the
        continuous levers at their best for ``cost``; None if there is none.

        Why: on a large plan HiGHS can spend a whole time limit in root cuts
        without an incumbent and report ``no_solution`` although such a plan
        exists; given it as a start, a stage stopped by the limit reports at
        least this plan (``feasible``, with its gap).
        """
        ints = np.flatnonzero(self.integrality).astype(np.int32)
        if len(ints) == 0:
            return None  # an LP: nothing to start from that the solve would not find
        lower = np.asarray(self.h.getLp().col_lower_)[ints]
        status, x = self._solve_held(ints, lower, cost, time_limit)
        return x if status == highspy.HighsModelStatus.kOptimal else None

    def held_on_off(self, cost: np.ndarray, x: np.ndarray,
                    time_limit: float | None) -> np.ndarray | None:
        """A plan at least as good as ``x`` for ``cost`` with ``x``'s on/off decisions
        held (cohorts run, campaigns active, units funded) and whole places free;
        None when the model has not both kinds of integer or no better plan was found.

        Why: in the cost stage of a plan with whole places, the W row allows almost
        no change of places unless continuous levers make up the difference exactly,
        and HiGHS's search from the previous stage's plan found nothing cheaper in
        600 s on the generated 55-trust plan (gap 0.51%); with the on/off decisions
        held it found a plan 0.2% cheaper in 30 s, from which the full cost stage
        goes on (benchmarks/README.md, "Scale"). The full stage still decides: this
        only gives it a better start, so the optimum and its proof are unchanged.
        """
        ints = np.flatnonzero(self.integrality)
        if len(ints) == 0 or not self.general_integers:
            return None
        lp = self.h.getLp()
        lower = np.asarray(lp.col_lower_)[ints]
        upper = np.asarray(lp.col_upper_)[ints]
        on_off = ints[(lower >= 0) & (upper <= 1)].astype(np.int32)
        if len(on_off) == 0:
            return None
        _status, y = self._solve_held(on_off, np.round(x[on_off]), cost, time_limit, start=x)
        if y is None or float(cost @ y) >= float(cost @ x) - 1e-9 * max(1.0, abs(cost @ x)):
            return None
        return y

    def _solve_held(self, cols: np.ndarray, values: np.ndarray, cost: np.ndarray,
                    time_limit: float | None, start: np.ndarray | None = None
                    ) -> tuple[highspy.HighsModelStatus, np.ndarray | None]:
        """Solve for ``cost`` with the columns ``cols`` held at ``values`` (from
        ``start`` when given), then give them their bounds back: HiGHS's status and
        the solution, if it has one. Its seconds count in the next stage's (a start
        for that stage, as :meth:`first_plan` and :meth:`held_on_off` are)."""
        h = self.h
        lp = h.getLp()
        lower = np.asarray(lp.col_lower_)[cols].copy()
        upper = np.asarray(lp.col_upper_)[cols].copy()
        h.changeColsBounds(len(cols), cols, values, values)
        h.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), cost)
        h.setOptionValue("time_limit", float(time_limit) if time_limit else highspy.kHighsInf)
        if start is not None:
            h.setSolution(self.n, np.arange(self.n, dtype=np.int32), start)
        t0 = time.perf_counter()
        h.run()
        self._start_seconds += time.perf_counter() - t0
        status = h.getModelStatus()
        found = h.getInfo().primal_solution_status == 2
        x = np.asarray(h.getSolution().col_value).copy() if found else None
        h.changeColsBounds(len(cols), cols, lower, upper)
        h.clearSolver()
        return status, x

    def add_row(self, coef: np.ndarray, upper: float) -> None:
        idx = np.flatnonzero(coef).astype(np.int32)
        self.h.addRow(-highspy.kHighsInf, upper, len(idx), idx, coef[idx])


MIP_INTERRUPT = highspy.cb.HighsCallbackType.kCallbackMipInterrupt


class RootWatch:
    """HiGHS's MIP interrupt callback for :meth:`HighsModel.run`'s ``keep``: notes
    when the run first has a finite dual bound (its root LP solved) and stops it
    once ``deadline − factor·root`` has passed. HiGHS calls it between LPs and
    nodes (63 times in stage 1's 30 s on the 55-trust plan), so it costs nothing
    measurable."""

    def __init__(self, deadline: float, factor: float):
        self.deadline, self.factor = deadline, factor
        self.t0 = time.perf_counter()
        self.root: float | None = None
        """Seconds from the run's start to its first finite dual bound."""
        self.stopped = False
        """Whether it stopped the run."""

    def __call__(self, _kind, _message, out, data_in, _user) -> None:
        now = time.perf_counter()
        if self.root is None:
            if not math.isfinite(out.mip_dual_bound):
                return
            self.root = now - self.t0
        if now > self.deadline - self.factor * self.root:
            data_in.user_interrupt = self.stopped = True


def map_status(ms, has_solution: bool) -> str:
    """HiGHS's model status to SPEC §2.10's five statuses."""
    S = highspy.HighsModelStatus
    if ms in (S.kOptimal, S.kModelEmpty):
        return "optimal"
    if ms in (S.kInfeasible, S.kUnboundedOrInfeasible):
        return "infeasible"
    limits = {S.kTimeLimit, S.kIterationLimit, S.kSolutionLimit, S.kInterrupt,
              S.kObjectiveBound, S.kObjectiveTarget}
    if hasattr(S, "kMemoryLimit"):
        limits.add(S.kMemoryLimit)
    if ms in limits:
        return "feasible" if has_solution else "no_solution"
    return "error"


@dataclass
class StageRun:
    """What :func:`run_stages` found: each stage's record, the reported stage's
    solution (``final``: status, x, …), notes, and the shortfall stage's plan
    when a fairness stage ran (for the rates before it)."""

    stages: list[dict[str, Any]]
    messages: list[str]
    final: dict[str, Any]
    before_fair: np.ndarray | None = None


def time_left(deadline: float | None) -> float | None:
    """Seconds to ``deadline`` (at least 1 ms), or None without one."""
    return None if deadline is None else max(deadline - time.perf_counter(), 1e-3)


def run_stages(hm: HighsModel, objective, mode: str, deadline: float | None,
               expected: np.ndarray | None = None) -> StageRun:
    """The stages of SPEC §2.9 on a handed-over model: one weighted stage, or
    shortfall (``hm.c_W``), then with ``expected`` (a stochastic plan's expected
    shortfall under a worst-case or CVaR ρ) a stage on it, then fairness
    (``hm.c_M``) when fair-share groups exist, then cost (``hm.c_C``); each later
    stage keeps the earlier values within ``tol`` (``objective``: the instance's
    ``objective`` section)."""
    stages: list[dict[str, Any]] = []
    messages: list[str] = []
    before_fair: np.ndarray | None = None

    def remaining() -> float | None:
        return time_left(deadline)

    if mode == "weighted":
        cost = hm.c_W + hm.c_C / objective.value_per_fte
        # The starting plan first, then the run gets what is left of the limit
        # (as one call's arguments, run's limit was read before the LP ran).
        start = hm.first_plan(cost, remaining())
        rec = hm.run(cost, remaining(), start=start)
        stages.append(stage_record("weighted", rec, hm))
        return StageRun(stages, messages, rec)
    # Later stages keep a share of a time limit: a stage 1 that used it all would
    # leave the plan's cost unminimised. The starting-plan LP counts against stage
    # 1's share: on the 500-trust generated plan it takes minutes, and stage 1
    # overran its limit by that much.
    stage1_end = (None if deadline is None
                  else time.perf_counter() + remaining() * STAGE1_TIME_SHARE)
    later = [("expected_shortfall", expected)] if expected is not None else []
    if hm.c_M is not None:
        later.append(("fairness", hm.c_M))
    start = hm.first_plan(hm.c_W, time_left(stage1_end))
    keep = None if deadline is None else (deadline, ROOT_RESERVE * (len(later) + 1))
    rec1 = hm.run(hm.c_W, time_left(stage1_end), start=start, keep=keep)
    stages.append(stage_record("shortfall", rec1, hm))
    if rec1["stopped_for_reserve"]:
        messages.append(
            f"the shortfall stage stopped early so that each later stage keeps "
            f"{ROOT_RESERVE:g} times its root time ({rec1['root_seconds']:.0f} s) to reach a "
            "bound; a longer time limit lets it go further")
    if rec1["x"] is None:
        return StageRun(stages, messages, rec1)
    w1 = float(hm.c_W @ rec1["x"])
    bound = w1 + tolerance(objective, w1)
    hm.add_row(hm.c_W, bound)
    before = rec1
    for name, c in later:
        if name == "fairness":
            before_fair = before["x"]
        rec = hm.run(c, share_of(remaining(), FAIRNESS_TIME_SHARE), start=before["x"])
        stages.append(stage_record(name, rec, hm, w_bound=bound))
        if rec["x"] is not None:
            v = float(c @ rec["x"])
            hm.add_row(c, v + tolerance(objective, v))
            before = {**rec, "status": worst(before["status"], rec["status"])}
        else:
            before = {**before, "status": "feasible"}
            messages.append(f"the {name.replace('_', ' ')} stage found no plan within the "
                            "limits; the previous stage's plan stands for it")
    start = hm.held_on_off(hm.c_C, before["x"], share_of(remaining(), HELD_ON_OFF_TIME_SHARE))
    rec2 = hm.run(hm.c_C, remaining(), start=before["x"] if start is None else start)
    stages.append(stage_record("cost", rec2, hm, w_bound=bound))
    if rec2["x"] is not None:
        final = {**rec2, "status": worst(before["status"], rec2["status"])}
    else:
        final = {**before, "status": "feasible"}
        messages.append("the cost stage found no plan within the limits; the previous "
                        "stage's plan is reported and its cost was not minimised")
    return StageRun(stages, messages, final, before_fair)


def solve(instance: Instance, options: SolveOptions | None = None,
          timings: dict[str, float] | None = None, *,
          handover: Callable[[pyo.ConcreteModel], HighsModel] | None = None) -> Result:
    """Solve an instance: stage 1 (W) and stage 2 (C at W₁), or one weighted stage.

    ``timings`` may carry ``load`` and ``validate`` seconds measured by the caller;
    build, hand-over, solve and extract are added here. ``handover`` (default
    :class:`HighsModel`) turns the built model into the HighsModel to solve:
    sweeps pass one whose ``first_plan`` is the previous point's plan.
    """
    opts = effective_options(instance, options)
    timings = dict(timings or {})
    t0 = time.perf_counter()
    deadline = command_deadline(options, opts, t0)
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
                options={k: v for k, v in opts.items() if k != "verbose"},
                run_out=run_out_info(instance),
                placement=lever_placements(model_data(instance)))


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

SECONDS_PER_COLUMN_REBUILD = 2e-5
"""Seconds per column building the released model again and finding its columns
and rows (:func:`_rebuild`): what the stages leave for it."""


def worth_releasing(columns: int) -> bool:
    """Whether a model of ``columns`` is freed while HiGHS solves it."""
    return columns >= RELEASE_COLUMNS


def rebuild_seconds(columns: int) -> float:
    return SECONDS_PER_COLUMN_REBUILD * columns


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


def tie_breaks(hm: HighsModel, blocks: list[tuple[pyo.Block, ModelData, float]], mode: str,
               objective, final: dict[str, Any], stages: list[dict[str, Any]],
               messages: list[str], end: float | None,
               time_limit: float | None) -> dict[str, Any]:
    """The tie-breaks (:mod:`optimiser.engine.tie_break`) after the stages: as good
    a plan with the fewest graduates left unplaced, then each lever's supply
    shared out in proportion to the units' posts. ``blocks``: (the model or a
    scenario's block, its data, its probability). Under a time limit they run
    when :func:`tie_breaks_start` left them their time, and say so when not."""
    if end is not None and not tie_breaks_fit(hm.n, time_limit):
        messages.append(TIE_BREAKS_SKIPPED.format(
            seconds=tie_break_seconds(hm.n), share=TIE_BREAK_TIME_SHARE, limit=time_limit))
        return final
    if end is None:  # no time limit: still bounded, a tie-break never decides W or C
        end = time.perf_counter() + max(MIN_TIE_BREAK_SECONDS,
                                        UNLIMITED_TIE_BREAK_FACTOR * tie_break_seconds(hm.n))
    unplaced = unplaced_weights(hm, {id(v): p for b, _d, p in blocks for v in lever_unplaced(b)})
    rec = least_unplaced(hm, unplaced, final["x"], mode, objective, time_left(end))
    final = _tie_break_stage("unplaced", rec, hm, final, stages, messages)
    rec = share_out(hm, blocks, final["x"], time_left(end))
    return _tie_break_stage("share_out", rec, hm, final, stages, messages)


TIE_BREAKS_SKIPPED = (
    "the tie-breaks were not run (fewest unplaced graduates, staff shared out by posts): "
    "they would need about {seconds:.0f} s, more than {share:.0%} of the time limit "
    "({limit:g} s); within a lever's scope, where staff go is the stages' choice")

SECONDS_PER_COLUMN_TIE_BREAKS = 3.5e-4
"""Seconds per model column the two tie-break LPs take (interior point, one
thread): 3.4 s at 31,223 columns (55 trusts), 10 s at 27,991 (long-term-2028),
41 s at 186,432 (220 trusts: fewest unplaced 17 s, share-out 24 s), 34 s at
127,585 (150 trusts, 10-minute plan, beside another run: fewest unplaced 9.3 s,
share-out 24.9 s, since the interior point hands over to crossover at a gap of
1e-3; at 1e-8 that share-out took 159–165 s alone, and ran out of 57 s of
margin at 4.5e-4). On the 500-trust plan (528,143), at the 1e-8 tolerance
(not measured since), the fewest-unplaced LP took 90 s and the share-out did
not finish in minutes, so a 10-minute limit there skips both
(benchmarks/README.md, "The tie-breaks")."""

UNLIMITED_TIE_BREAK_FACTOR, MIN_TIE_BREAK_SECONDS = 4.0, 60.0
"""Without a time limit the tie-breaks get four times their estimate, at least a
minute: on the 500-trust plan the share-out's interior point made no progress
(a thin feasible set: W kept within 1e-9) and its simplex clean-up ran on for
minutes; the stages' plan is reported instead, with a note."""

TIE_BREAK_TIME_SHARE = 0.15
"""The most of a time limit the stages leave to the tie-breaks: beyond it they
are not run (a plan's W and C come first). 15%: the 220-trust plan's 65 s
at 10 minutes."""


def tie_break_seconds(columns: int) -> float:
    return SECONDS_PER_COLUMN_TIE_BREAKS * columns


def tie_breaks_fit(columns: int, time_limit: float | None) -> bool:
    """Whether the tie-breaks' estimate fits in :data:`TIE_BREAK_TIME_SHARE` of the
    limit (always, without one)."""
    return time_limit is None or tie_break_seconds(columns) <= TIE_BREAK_TIME_SHARE * time_limit


def tie_breaks_start(end: float | None, columns: int, time_limit: float | None) -> float | None:
    """When the stages must end to leave the tie-breaks their time before ``end``
    (the stages' own end, :func:`stages_end`): ``end`` itself when they do not fit
    (:func:`tie_breaks_fit`; they are then not run)."""
    if end is None or not tie_breaks_fit(columns, time_limit):
        return end
    return end - tie_break_seconds(columns)


def _tie_break_stage(name: str, rec: dict[str, Any] | None, hm: HighsModel,
                     final: dict[str, Any], stages: list[dict[str, Any]],
                     messages: list[str]) -> dict[str, Any]:
    """Record a tie-break's stage (when it ran) and take its plan (when it found one)."""
    if rec is None:
        return final
    stages.append(stage_record(name, rec, hm))
    if rec["x"] is None:
        messages.append(f"the {name.replace('_', '-')} tie-break ended without a plan "
                        f"({rec['highs_status']}): the plan before it is reported")
        return final
    return {**final, "x": rec["x"]}


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


BYTES_PER_COLUMN = 4096
"""Peak memory per model column (build, hand-over, solve, extraction): 630 MiB
at 127,585 columns on the generated 150-trust plan, less the interpreter."""


def estimated_columns(inst: Instance) -> int:
    """Columns the model will have, from the instance's sizes: about four per
    unit, group and year (the shipped and generated plans have 3.5 to 4.5),
    and one per lever, unit and year (graduates, retention, recruits by unit)."""
    units, groups = len(inst.units), len(inst.staff_groups)
    years = inst.horizon.years + len(inst.run_out_years)  # the model runs on Y ∪ Y_R
    levers = sum(len(getattr(inst, section)) for section in LEVER_SECTIONS)
    return 4 * units * groups * years + levers * units * years


def check_size(inst: Instance, available: int | None = None) -> None:
    """:class:`~optimiser.errors.TooLarge` when the model would not fit in memory
    (``available`` bytes; default: what the machine has free now), before
    anything is built: a million-unit instance died in the build with a
    MemoryError after minutes."""
    columns = estimated_columns(inst)
    need = columns * BYTES_PER_COLUMN
    if available is None:
        try:
            import psutil

            available = int(psutil.virtual_memory().available)
        except Exception:  # no reading of memory: nothing to compare against
            return
    if need > available:
        raise TooLarge(
            f"the model would have about {columns / 1e6:,.1f} million variables "
            f"({_many(len(inst.units), 'unit')} × {_many(len(inst.staff_groups), 'group')} × "
            f"{_many(inst.horizon.years, 'year')}) and need about {need / 2**30:,.1f} GiB of "
            "memory; "
            f"{available / 2**30:,.1f} GiB is free. Solve fewer units, groups or years")


def _many(n: int, what: str) -> str:
    return f"{n:,} {what}{'s' * (n != 1)}"


def check_document_size(doc: dict[str, Any], available: int | None = None) -> None:
    """:func:`check_size` on a document as read, before it is validated: a
    million-unit file took minutes and gigabytes to validate before the build
    ran out of memory. Sizes that are not lists or numbers yet count as 1 (the
    validation reports them)."""
    from types import SimpleNamespace

    def count(name: str) -> list[Any]:
        value = doc.get(name)
        return value if isinstance(value, list) else []

    horizon = doc.get("horizon")
    years = horizon.get("years") if isinstance(horizon, dict) else None
    years = years if isinstance(years, int) and not isinstance(years, bool) and 0 < years <= 60 \
        else 1
    check_size(SimpleNamespace(  # type: ignore[arg-type]  # only the sizes are read
        units=count("units") or [None], staff_groups=count("staff_groups") or [None],
        horizon=SimpleNamespace(years=years),
        run_out_years=[],  # unresolved before validation: the check after it counts them
        **{section: count(section) for section in LEVER_SECTIONS}), available)


def too_large(h: highspy.Highs, A: Any, c_W: np.ndarray, c_C: np.ndarray, rows: Any,
              columns: Any) -> None:
    """:class:`~optimiser.errors.ModelError` naming the constraint and variable of
    a coefficient HiGHS would refuse (``large_matrix_value``, 1e15) or a cost it
    would take as infinite. Each number is within its limit (schema.MAX_AMOUNT,
    MAX_FTE); a product of them may not be (a retention scheme's spend per 1,000
    FTE times a unit's FTE)."""
    limit = option_value(h, "large_matrix_value", 1e15)
    data = np.abs(A.data) if A.nnz else np.zeros(0)
    if len(data) and float(data.max()) >= limit:
        k = int(np.argmax(data))
        col = int(np.searchsorted(A.indptr, k, side="right") - 1)
        row = int(A.indices[k])
        raise ModelError(
            f"model {rows[row][0].name} | a coefficient of {float(A.data[k]):.3g} on "
            f"{columns[col].name} is beyond what HiGHS accepts ({limit:.0e}): the "
            "instance's numbers are too large together; use smaller units of money or FTE")
    cost_limit = option_value(h, "infinite_cost", 1e20)
    for c in (c_W, c_C):
        if len(c) and float(np.abs(c).max()) >= cost_limit:
            j = int(np.argmax(np.abs(c)))
            raise ModelError(f"model {columns[j].name} | a cost of {float(c[j]):.3g} is "
                             f"beyond what HiGHS accepts ({cost_limit:.0e})")


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


HELD_ON_OFF_TIME_SHARE = 0.1
"""Share of what is left for the cost stage that its search with the on/off
decisions held may use (:meth:`HighsModel.held_on_off`). A tenth: it found its
plan within 30 s where it helps (55 and 150 trusts), and the full stage must
keep the time for its root bound (500 trusts: about 205 s of ~280; with a
quarter for the search it had 190 s and ended without a bound, gap 100%)."""

FAIRNESS_TIME_SHARE = 0.5
"""Share of what is left of a time limit after stage 1 that the fairness stage
may use (the cost stage keeps the rest)."""


def tolerance(objective, value: float) -> float:
    """tol(v) = max(abs_tol, rel_tol·v): how much a later stage may give back
    (``objective``: the instance's ``objective`` section)."""
    return max(objective.abs_tol, objective.rel_tol * abs(value))


def share_of(left: float | None, share: float) -> float | None:
    return None if left is None else max(left * share, 1e-3)


def worst(a: str, b: str) -> str:
    return a if STATUSES.index(a) > STATUSES.index(b) else b


def stage_record(name: str, rec: dict[str, Any], hm: HighsModel,
                 w_bound: float | None = None) -> dict[str, Any]:
    x = rec["x"]
    out = {
        "stage": name,
        "status": rec["status"],
        "highs_status": rec["highs_status"],
        "weighted_shortfall": None if x is None else clean(float(hm.c_W @ x)),
        "total_cost": None if x is None else clean(float(hm.c_C @ x)),
        "mip_gap": rec["gap"],
        "seconds": round(rec["seconds"], 6),
    }
    if w_bound is not None:
        out["weighted_shortfall_bound"] = clean(w_bound)
    return out


def load_solution(hm: HighsModel, x: np.ndarray) -> None:
    """Copy HiGHS's column values into the Pyomo variables, integers rounded."""
    for j, v in enumerate(hm.columns):
        val = float(x[j])
        if hm.integrality[j]:
            val = float(round(val))
        v.set_value(val, skip_validation=True)


__all__ = ["STATUSES", "HighsModel", "ModelData", "SolveOptions", "map_status", "solve"]
