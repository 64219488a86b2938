"""The compiled model in HiGHS (SPEC §2.9, §2.10): :class:`HighsModel`.

The hand-over compiles the Pyomo model once with Pyomo's
``LinearStandardFormCompiler`` and passes the arrays straight to ``highspy``
(no LP file, no per-constraint calls). Both objective rows (W and C) come out of
the same compile, so the lexicographic second stage reuses the HiGHS model: it
swaps the cost vector, adds one row ``W ≤ W₁ + tol`` and starts from the
stage-1 plan. The solver layer knows nothing of files.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from optimiser.engine import progress
from optimiser.engine.addresses import Addresses, addresses, resolve
from optimiser.engine.highs import LATER, new_highs, option_value, options_set, use_threads
from optimiser.errors import ModelError

SUBMIP_HEURISTICS = ("mip_heuristic_run_rens", "mip_heuristic_run_rins",
                     "mip_heuristic_run_root_reduced_cost")
"""HiGHS options switched off for models without general integers (see
:meth:`HighsModel.set_options`)."""


MIP_ROOT_LP = "ipm"
"""HiGHS's ``mip_lp_solver``: each stage's root LP by interior point and
crossover, the node LPs by dual simplex from its basis as before. Why: the root
LP by dual simplex was most of a large stage's time (the generated NHS plan,
stage 1: 131 s of 144,029 iterations before any plan; by interior point its
first plan, within 0.10%, came at 25 s). benchmarks/README.md, "Speed after
placement and run-out"."""


MIP_RESTART = False
"""HiGHS's ``mip_allow_restart``: off. HiGHS restarts a MIP whose root has fixed
enough of its integer columns ("10.5% inactive integer columns, restarting"),
presolves it again and runs the root's cut loop again, and after a restart that
loop has no round limit (``maxSepaRounds`` is capped only before the first
restart). On long-term-2028 with run-out years and the talking-therapies group
every stage but fairness restarted, and the cut loops after the restart moved the
bound little (cost stage: 3.25% to 2.19% in 63 s) before two branching nodes
closed the gap; without the restart stage 1 took 49 s instead of 59 s and the
cost stage 55 s instead of 105 s, with the same W and C; the five-future
extensive form's fairness stage 48 s instead of 172-201 s. (The ten-sampled-
futures study's fairness stage, which once had a restart and a 0.86% gap, ended
at 79% with restarts allowed as without: its presolved root LP turns on the
model's numbers at their 15th digit, and that stage now runs without presolve,
:data:`optimiser.engine.scenarios.FAIRNESS_PRESOLVE`.) benchmarks/README.md,
"No restart after the root" and "The ten-future fairness root"."""


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
        whole = integrality == 1
        on_off = whole & (col_lower >= 0) & (col_upper <= 1)
        self.on_off = np.flatnonzero(on_off).astype(np.int32)
        """The on/off columns (cohorts run, campaigns active, units funded): integers
        within [0, 1]."""
        self.places = np.flatnonzero(whole & ~on_off).astype(np.int32)
        """The integer columns that are more than on/off (whole training places)."""
        self.general_integers = len(self.places) > 0
        """Whether some integer column is more than on/off."""
        self._start_seconds = 0.0
        self._start_plans: tuple[np.ndarray, list[tuple[float, float]]] | None = None
        """The cost vector and the plans (when found, objective) of the last
        search for a start (:meth:`held_on_off`): the next run for that cost
        counts them in its "good plan" times, as found when they were."""
        self.threads: int | None = None
        """HiGHS threads of the stages (set by :meth:`set_options`)."""
        self.as_lp = False
        """True while the integers are held and their integrality dropped (the
        tie-breaks): HiGHS then runs an LP."""
        self.h = new_highs(threads=LATER)
        self.deadline: float | None = None
        """When set, the time by which the analyses after the stages must end:
        :meth:`lp_copy` gives its copies what is left as their time limit."""
        self.fairness_presolve = True
        """Whether HiGHS presolves the fairness stage's MIP (off for the extensive
        form of scenarios: :data:`optimiser.engine.scenarios.FAIRNESS_PRESOLVE`)."""
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
        self.clock: float | None = None
        """``time.perf_counter()`` of the command's start (the time limit's clock):
        the stage records' ``within_*_seconds`` count from it (from each run's
        start when None)."""

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
        h.setOptionValue("mip_lp_solver", MIP_ROOT_LP)
        h.setOptionValue("mip_allow_restart", MIP_RESTART)

    def run(self, cost: np.ndarray, time_limit: float | None,
            start: np.ndarray | None = None,
            keep: tuple[float, float] | None = None,
            presolve: bool = True) -> dict[str, Any]:
        """Solve with objective ``cost``; return the stage record and the solution.

        ``seconds`` is HiGHS's time for the stage: this run, plus the starting-plan
        LP of :meth:`first_plan` when one was solved for it. ``keep = (deadline,
        factor)``: once the run has its first dual bound, after r seconds, it is
        stopped (HiGHS status "Interrupted by user") when ``deadline − factor·r``
        passes, so that the later stages keep that time (:data:`ROOT_RESERVE`);
        ``root_seconds`` is r, ``stopped_for_reserve`` whether it was stopped so.
        ``presolve=False``: this run without HiGHS's presolve (its option
        ``presolve`` back to what it was after).
        """
        h = self.h
        factor = set_cost(h, cost)
        if time_limit and (self.as_lp or not self.integrality.any()):
            # An LP's time limit is on the Highs object's run time summed over
            # its runs (a MIP's on its own run): the tie-breaks, after 560 s of
            # stages on the 150-trust plan, stopped at once ("Time limit
            # reached" after 0.0 s) with 32 s left.
            time_limit += h.getRunTime()
        h.setOptionValue("time_limit", float(time_limit) if time_limit else highspy.kHighsInf)
        if start is not None:
            h.setSolution(self.n, np.arange(self.n, dtype=np.int32), start)
        mip = bool(self.integrality.any()) and not self.as_lp
        watch = RootWatch(*keep, h=h) if keep is not None and mip else None
        plans = Plans(factor) if mip else None
        earlier, self._start_plans = self._start_plans, None
        if plans is not None and earlier is not None and earlier[0] is cost:
            plans.found.extend(earlier[1])
        callback = mip_callback(watch, progress.current() if mip else None, plans, factor)
        t0 = time.perf_counter()
        with (called_back(h, callback, (MIP_INTERRUPT, IMPROVING)),
              options_set(h, {} if presolve else {"presolve": "off"})):
            h.run()
        t_end = time.perf_counter()
        wall = t_end - t0 + self._start_seconds
        self._start_seconds = 0.0
        ms = h.getModelStatus()
        if watch is not None and watch.limited and ms == highspy.HighsModelStatus.kTimeLimit:
            watch.stopped = True  # at the limit the watch set: the reserve's stop
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
        bound = float(info.mip_dual_bound) / factor if self.integrality.any() else None
        return {"status": status, "highs_status": h.modelStatusToString(ms),
                "seconds": wall, "gap": gap, "x": x, "bound": bound,
                "root_seconds": None if watch is None else watch.root,
                "stopped_for_reserve": watch is not None and watch.stopped,
                "good_plan": good_plan(plans, x is not None, bound, t_end,
                                       t0 if self.clock is None else self.clock,
                                       option_value(h, "mip_rel_gap", 1e-4))}

    def lp_copy(self, keep_rows: bool = False) -> highspy.Highs:
        """A new, silent ``Highs`` holding the compiled model as an LP: integrality
        dropped, rows added after the compile (the stage-2 bound on W) left out
        unless ``keep_rows``. For the analyses after a solve (marginal values,
        infeasibility) and the relaxations of the starting plans."""
        lp = self.h.getLp()
        lp.integrality_ = []
        h = new_highs(threads=self.threads)
        h.passModel(lp)
        if self.deadline is not None:
            h.setOptionValue("time_limit", max(self.deadline - time.perf_counter(), 1e-3))
        if lp.num_row_ > self.num_rows and not keep_rows:
            h.deleteRows(lp.num_row_ - self.num_rows,
                         np.arange(self.num_rows, lp.num_row_, dtype=np.int32))
        return h

    def first_plan(self, cost: np.ndarray, time_limit: float | None) -> np.ndarray | None:
        """The better for ``cost`` of two starting plans (None if neither exists):

        - every integer decision at its lower bound (no cohort, no campaign, no
          funded unit that needs a flag; whole places at 0) and the continuous
          levers at their best;
        - the LP relaxation rounded (:meth:`rounded_relaxation`).

        Why: on a large plan HiGHS can spend a whole time limit in root cuts
        without an incumbent and report ``no_solution`` although such a plan
        exists; given it as a start, a stage stopped by the limit reports at
        least this plan (``feasible``, with its gap). The first is infeasible
        wherever a course must go on (long-term-2028); the second was within
        0.01% of long-term-2028's optimal W 12 s into the solve, where HiGHS's
        own first plan within 1% came at 89 s (benchmarks/README.md, "Speed
        after placement and run-out").
        """
        ints = np.flatnonzero(self.integrality).astype(np.int32)
        if len(ints) == 0:
            return None  # an LP: nothing to start from that the solve would not find
        end = None if time_limit is None else time.perf_counter() + time_limit
        best = self.lower_bound_plan(cost, ints, time_limit)
        y = self.rounded_relaxation(cost, ints, end)
        if y is not None and (best is None or float(cost @ y) < float(cost @ best)):
            best = y
        return best

    def lower_bound_plan(self, cost: np.ndarray, ints: np.ndarray,
                         time_limit: float | None) -> np.ndarray | None:
        """The integer columns ``ints`` held at their lower bounds, the rest at
        their best for ``cost``; None if that has no plan."""
        lower = np.asarray(self.h.getLp().col_lower_)[ints]
        status, x = self._solve_held(ints, lower, cost, time_limit)
        return x if status == highspy.HighsModelStatus.kOptimal else None

    def rounded_relaxation(self, cost: np.ndarray, ints: np.ndarray,
                           end: float | None) -> np.ndarray | None:
        """The LP relaxation for ``cost`` (interior point), its integers rounded
        up, to nearest, or down (the first of these with a plan) and held, the
        continuous levers at their best for them; None if none has a plan or
        ``end`` passes first.

        Up first: an on/off decision rounded up only allows a lever (a cohort
        that may run, a campaign that may spend) where the relaxation used some
        of it; the budgets and ramps then decide how much. Where the minimum
        cohort or a fixed cost does not fit, nearest and down follow.
        """
        solution = self.relaxation(cost, end)
        if solution is None:
            return None
        relaxed = solution[ints]
        lp = self.h.getLp()
        low = np.asarray(lp.col_lower_)[ints]
        up = np.asarray(lp.col_upper_)[ints]
        for rounded in (np.ceil(relaxed - ROUNDING_TOL), np.round(relaxed),
                        np.floor(relaxed + ROUNDING_TOL)):
            if end is not None and time.perf_counter() >= end:
                return None
            left = None if end is None else end - time.perf_counter()
            status, y = self._solve_held(ints, np.clip(rounded, low, up), cost, left)
            if status == highspy.HighsModelStatus.kOptimal:
                return y
        return None

    def held_on_off(self, cost: np.ndarray, x: np.ndarray,
                    time_limit: float | None) -> np.ndarray | None:
        """A plan at least as good as ``x`` for ``cost`` with ``x``'s on/off decisions
        held (cohorts run, campaigns active, units funded) and the whole places
        that the relaxation would change free; None when the model has not both
        kinds of integer or no better plan was found.

        Why: in the cost stage of a plan with whole places, the W row allows almost
        no change of places unless continuous levers make up the difference exactly,
        and HiGHS's search from the previous stage's plan found nothing cheaper in
        600 s on the generated 55-trust plan (gap 0.51%); with the on/off decisions
        held it found a plan 0.2% cheaper in 30 s, from which the full cost stage
        goes on (benchmarks/README.md, "Scale"). The full stage still decides: this
        only gives it a better start, so the optimum and its proof are unchanged.

        Which places are free (relaxation-induced neighbourhood search, RINS): the
        LP relaxation for ``cost`` with the on/off decisions held (interior point,
        the W row and every later keep row in) is solved first, and a place whose
        value there is the plan's stays held. On the generated NHS plan (220
        trusts) 249 of its 288 places agree; the search over the other 39 found
        a plan 1.5% cheaper 31 s after the LP's 17 s, where the search over all
        288 found a dearer one (1.4% cheaper) after 62 s (benchmarks/README.md,
        "The cost stage's search near the relaxation"). Without that LP (its
        time ran out) every place is free, as before.
        """
        on_off, places = self.on_off, self.places
        if len(on_off) == 0 or len(places) == 0:
            return None
        end = None if time_limit is None else time.perf_counter() + time_limit
        held = on_off
        relaxed = self.relaxation(cost, end, keep_rows=True, held=(on_off, np.round(x[on_off])))
        if relaxed is not None:
            agree = places[np.abs(relaxed[places] - x[places]) <= ROUNDING_TOL]
            held = np.concatenate([on_off, agree]).astype(np.int32)
        left = None if end is None else max(end - time.perf_counter(), 1e-3)
        plans = Plans()
        _status, y = self._solve_held(held, np.round(x[held]), cost, left, start=x, plans=plans)
        if y is None or float(cost @ y) >= float(cost @ x) - 1e-9 * max(1.0, abs(cost @ x)):
            return None
        # The stage's "good plan" times count this search's plans when it found
        # them, not when the full stage accepts the best as its start: counted
        # so, the generated 55-trust plan's C read within 1% at 100 s of 300,
        # where the search has such a plan from its start (17.8 s in at 60 s).
        self._start_plans = (cost, plans.found)
        return y

    def relaxation(self, cost: np.ndarray, end: float | None, keep_rows: bool = False,
                   held: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray | None:
        """The LP relaxation's solution for ``cost`` by interior point, the rows
        added after the compile (the keep rows on W, M) in when ``keep_rows``, the
        columns ``held[0]`` at the values ``held[1]``; None if it has no optimum
        before ``end``. Its seconds count in the next stage's (a start for it).

        The interior point: 2.6 s on long-term-2028's relaxation where the default
        (dual simplex) took 21 s. A stage's MIP then solves its relaxation again as
        its root (:data:`MIP_ROOT_LP`): the engine has no way to hand this solution
        to the MIP's root, nor to read the root's before the run.
        """
        t0 = time.perf_counter()
        g = self.lp_copy(keep_rows=keep_rows)
        if held is not None:
            g.changeColsBounds(len(held[0]), held[0], held[1], held[1])
        set_cost(g, cost)
        g.setOptionValue("solver", "ipm")
        if end is not None:
            g.setOptionValue("time_limit", max(end - time.perf_counter(), 1e-3))
        g.run()
        ok = g.getModelStatus() == highspy.HighsModelStatus.kOptimal
        x = np.asarray(g.getSolution().col_value)[:self.n].copy() if ok else None
        del g
        self._start_seconds += time.perf_counter() - t0
        return x

    def _solve_held(self, cols: np.ndarray, values: np.ndarray, cost: np.ndarray,
                    time_limit: float | None, start: np.ndarray | None = None,
                    plans: Plans | None = None
                    ) -> tuple[highspy.HighsModelStatus, np.ndarray | None]:
        """Solve for ``cost`` with the columns ``cols`` held at ``values`` (from
        ``start`` when given), then give them their bounds back: HiGHS's status and
        the solution, if it has one. Its seconds count in the next stage's (a start
        for that stage, as :meth:`first_plan` and :meth:`held_on_off` are).
        ``plans``: told each improving plan of the run, as a stage's run is."""
        h = self.h
        lp = h.getLp()
        lower = np.asarray(lp.col_lower_)[cols].copy()
        upper = np.asarray(lp.col_upper_)[cols].copy()
        h.changeColsBounds(len(cols), cols, values, values)
        factor = set_cost(h, cost)
        h.setOptionValue("time_limit", float(time_limit) if time_limit else highspy.kHighsInf)
        if start is not None:
            h.setSolution(self.n, np.arange(self.n, dtype=np.int32), start)
        if plans is not None:
            plans.factor = factor
        t0 = time.perf_counter()
        with called_back(h, mip_callback(None, None, plans), (IMPROVING,)):
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


LARGEST_SCALED_COST = 6
""":func:`objective_scale` brings a stage's largest cost to at most 2**6 = 64."""


def objective_scale(cost: np.ndarray) -> int:
    """The power of two by which a stage gives HiGHS its ``cost``: the one that
    brings its largest coefficient to at most 2**:data:`LARGEST_SCALED_COST` (0
    where it is already there: costs are never scaled up). The plan and the
    relative gap are the same; the objective and the bound are divided back
    (:meth:`HighsModel.run`). A power of two, so that scaling loses no digit.
    HiGHS's own ``user_objective_scale`` does the same, but then judged a
    correct plan of a small case "not optimal" once unscaled (a residual of
    1.2e-7) and the stage had no plan.

    Why: the cost stage's costs run to £2e5 a place-year (objective about £4e9),
    and HiGHS's dual simplex works to absolute tolerances: on long-term-2028 its
    node LPs took 148,000 iterations and the stage 420 s; at 2**-12 the same
    stage from the same start took 108 s, the same C (benchmarks/README.md,
    "Speed after placement and run-out"). W's costs (priorities, 0.5-3) are not
    scaled.
    """
    top = float(np.abs(cost).max()) if len(cost) else 0.0
    if not math.isfinite(top) or top <= 2.0 ** LARGEST_SCALED_COST:
        return 0
    return LARGEST_SCALED_COST - math.ceil(math.log2(top))


def set_cost(h: highspy.Highs, cost: np.ndarray) -> float:
    """Give ``h`` the objective ``cost`` scaled by :func:`objective_scale`; the
    factor it was multiplied by (the run divides HiGHS's objective and bound by it)."""
    factor = 2.0 ** objective_scale(cost)
    h.changeColsCost(len(cost), np.arange(len(cost), dtype=np.int32), cost * factor)
    return factor


ROUNDING_TOL = 1e-6
"""A relaxed integer within this of a whole number counts as that number when
:meth:`HighsModel.rounded_relaxation` rounds it up or down (HiGHS's integrality
tolerance): 1 + 1e-9 places is 1, not 2."""


RESERVE_GAP = 0.01
"""The root reserve stops stage 1 only once its plan is within this relative gap
of its bound (and it has a plan): a W 1% from its bound is worth keeping the
later stages' time for; one 70% away is not."""


class RootWatch:
    """HiGHS's MIP interrupt callback for :meth:`HighsModel.run`'s ``keep``: notes
    when the run first has a finite dual bound (its root LP solved) and stops it
    once ``deadline − factor·root`` has passed. HiGHS calls it between LPs and
    nodes (63 times in stage 1's 30 s on the 55-trust plan), so it costs nothing
    measurable.

    Between two calls a node LP can run for minutes: on the generated NHS plan
    stage 1 was due to stop about 110 s after the command's start and stopped
    at 226 s, and the cost stage had 56 s left, too few for its root LP. So once
    the plan is worth keeping, the watch also moves the run's ``time_limit`` on
    ``h`` (HiGHS's options object, which its MIP solver reads while it runs) to
    the stop: HiGHS gives each node LP only the MIP's time left, read at the
    LP's start, and stops the MIP itself at that limit."""

    def __init__(self, deadline: float, factor: float, gap: float = RESERVE_GAP,
                 h: highspy.Highs | None = None):
        self.deadline, self.factor, self.gap, self.h = deadline, factor, gap, h
        self.t0 = time.perf_counter()
        self.root: float | None = None
        """Seconds from the run's start to its first finite dual bound."""
        self.stopped = False
        """Whether it stopped the run."""
        self.limited = False
        """Whether it moved the run's time limit to the stop."""

    def __call__(self, _kind, _message, out, data_in, _user) -> None:
        now = time.perf_counter()
        if self.root is None:
            if not math.isfinite(out.mip_dual_bound):
                return
            self.root = now - self.t0
        # The reserve is kept only for a plan worth keeping: stopping W's stage
        # with its plan far from its bound trades the objective that comes first
        # for the later stages' proof (the generated 150-trust plan with
        # placement: stopped at 194 s with a 70.75% gap, W 851,081 against the
        # 225,323 of the same plan's stage 1 run on).
        if not (math.isfinite(out.mip_primal_bound) and abs(out.mip_primal_bound) < 1e30
                and out.mip_gap <= self.gap):
            return
        stop = self.deadline - self.factor * self.root
        if now > stop:
            data_in.user_interrupt = self.stopped = True
        elif self.h is not None and not self.limited:
            # HiGHS's own clock for this run (``running_time``) is what it
            # compares its time limit with.
            limit = float(out.running_time) + (stop - now)
            if limit < option_value(self.h, "time_limit", math.inf):
                self.h.setOptionValue("time_limit", limit)
                self.limited = True


IMPROVING = highspy.cb.HighsCallbackType.kCallbackMipImprovingSolution


class Plans:
    """HiGHS's improving-solution callback: when each better plan of a MIP run was
    found (``perf_counter``) and its objective, the given start included (HiGHS
    reports a feasible start as its first improving plan)."""

    def __init__(self, factor: float = 1.0) -> None:
        self.found: list[tuple[float, float]] = []
        self.factor = factor
        """The run's cost scale (:func:`objective_scale`): objectives are kept unscaled."""

    def add(self, out: Any) -> None:
        self.found.append((time.perf_counter(),
                           float(out.objective_function_value) / self.factor))


GOOD_PLAN_GAPS = {"within_1pct_seconds": 0.01, "within_gap_seconds": None}
"""The stage records' "good plan early" figures: seconds from the command's start
to the first plan of the stage within 1% of the stage's final bound, and within
the MIP gap (None: the option ``mip_rel_gap``)."""


def good_plan(plans: Plans | None, has_plan: bool, bound: float | None, t_end: float,
              origin: float, mip_gap: float) -> dict[str, float | None]:
    """When the run's plans were first within 1% and within the MIP gap of the
    run's final bound, in seconds from ``origin`` (a ``perf_counter``: the
    command's start, or the run's; HiGHS's gap: (plan − bound) / |plan|,
    minimising). An LP's plan is exact when it ends (``t_end``); a plan never
    that close (or no bound) gives None."""
    out: dict[str, float | None] = dict.fromkeys(GOOD_PLAN_GAPS)
    if plans is None:  # an LP (or integers held): exact at its end
        if has_plan:
            out = dict.fromkeys(GOOD_PLAN_GAPS, round(t_end - origin, 3))
        return out
    if bound is None or not math.isfinite(bound):
        return out
    for key, gap in GOOD_PLAN_GAPS.items():
        gap = mip_gap if gap is None else gap
        for t, v in plans.found:
            if v - bound <= gap * max(abs(v), 1e-9) + 1e-9:
                out[key] = round(t - origin, 3)
                break
    return out


class Unscaled:
    """HiGHS's callback output with the objective and its bounds in the stage's
    own units (the run gave HiGHS its costs times ``factor``)."""

    def __init__(self, out: Any, factor: float):
        self.mip_primal_bound = out.mip_primal_bound / factor
        self.mip_dual_bound = out.mip_dual_bound / factor
        self.mip_gap = out.mip_gap


def mip_callback(watch: RootWatch | None, meter: progress.Meter | None,
                 plans: Plans | None = None, factor: float = 1.0) -> Any:
    """HiGHS's one MIP callback of a run: the root reserve's watch, the progress
    meter's reading of the best plan and the bound (on the interrupt callback)
    and the record of improving plans, any of them (None for none); ``factor``:
    the run's cost scale, taken out of what the meter shows."""
    if watch is None and meter is None and plans is None:
        return None

    def each(kind: Any, message: Any, out: Any, data_in: Any, user: Any) -> None:
        if kind == IMPROVING:
            if plans is not None:
                plans.add(out)
            return
        if watch is not None:
            watch(kind, message, out, data_in, user)
        if meter is not None:
            meter.mip(out if factor == 1.0 else Unscaled(out, factor))
    return each


@contextmanager
def called_back(h: highspy.Highs, callback: Any, kinds: tuple[Any, ...]) -> Iterator[None]:
    """HiGHS calls ``callback`` (from :func:`mip_callback`; None: no callback) on
    the callback ``kinds`` for a while: a run's, stopped even when the run
    raises."""
    if callback is None:
        yield
        return
    h.setCallback(callback, None)
    for kind in kinds:
        h.startCallback(kind)
    try:
        yield
    finally:
        for kind in kinds:
            h.stopCallback(kind)


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


def load_solution(hm: HighsModel, x: np.ndarray) -> None:
    """Copy HiGHS's column values into the Pyomo variables, integers rounded."""
    for j, v in enumerate(hm.columns):
        val = float(x[j])
        if hm.integrality[j]:
            val = float(round(val))
        v.set_value(val, skip_validation=True)
