"""Marginal values of the plan's limits: what one more unit of a budget or a cap is worth.

After the MIP, the integer decisions (places, cohorts run, campaigns active,
units funded) are fixed at the plan's values and the remaining LP is solved
again with the stage's objective: W in lexicographic mode (the stage-1 LP),
``W + C/value_per_fte`` in weighted mode. Its duals say how fast the objective
falls as a limit is raised, **around the plan and with its integer decisions
held**; they are not what a new MIP would find with a larger limit when that
would change whole places, cohorts or funded units.

HiGHS's signs (minimisation): the dual of a ``≤`` row at its limit, and the
reduced cost of a column at its upper bound, are ≤ 0 and equal d(objective) /
d(limit). ``value`` below is its negation, the shortfall removed, scaled per
£1m for budgets (dW/d£ × 1e6) and per FTE for caps. ``holds_up_to`` is where the
basis changes (HiGHS ranging): beyond it the rate is no longer exact.

Which limits get a value is each lever's to say (``limits`` of
:mod:`formulations.levers`): a :class:`~formulations.levers.RowLimit` is valued
by its dual, a :class:`~formulations.levers.ColumnCap` by its reduced cost, a
:class:`~formulations.levers.ChoiceCap` by re-solving, a
:class:`~formulations.levers.RampLimit` with places free; budgets and posts are
this module's own.

A cap on funded retention units (``max_units_per_year``) bounds binaries, so
its value is not a dual: it is measured by funding the best unfunded eligible
unit on the fixed LP (one re-solve per unfunded unit; only for binding caps).
A place is a whole number: at a binding places cap the LP is also re-solved
with one more whole place, which may not fit within the budgets.

With places held, money in a pot that pays only for places buys nothing, so
budgets also get ``value_places_free``: the same dual with the training places
free to grow (cohorts, campaigns and funded units still held).

Funded posts (``posts``, SPEC §2.11): the dual of ``posts_cap[u,g,y]`` is what one
more post is worth where staff are at their posts (one row per unit, group and
year where it is worth something; item ``unit/group``, as overrides address
posts). One more post lifts the limit only where the posts are the limit: a unit
above its posts keeps the staff of its natural path, and one more post there is
worth nothing. Units at their limit where one more post is worth nothing are one
row per group and year (item ``*/group``), however many units there are.

Stable commissioning (``intake_increase``, ``intake_decrease``): a ramp limits
training places, so with the places held it could only be worth nothing. Its
value is the dual on the LP with training places free to grow (cohorts,
campaigns and funded units held), in both ``value`` and ``value_places_free``,
per place a year of allowed growth (or fall); where places are continuous that
is the plan's own LP.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp

from formulations import lever_kinds, lever_limits
from formulations.budgets import per_year_limit
from formulations.data import ModelData
from formulations.levers import ChoiceCap, ColumnCap, Limit, RampLimit, RowLimit
from formulations.words import money
from optimiser.results.format import clean as _clean

COLUMNS = ["kind", "item", "year", "limit", "used", "binding", "value", "per",
           "holds_up_to", "value_places_free", "note"]
"""Columns of ``marginal_values.csv``. ``value_places_free`` (budgets only) is the
same rate with the training places free to grow (cohorts, campaigns and funded
units still held): money in a pot that pays only for whole places buys nothing
while places are fixed, and this says what it would buy."""

CAVEAT = ("Marginal values hold around the reported plan with its integer decisions "
          "(training places, cohorts run, campaigns active, units funded) fixed; a larger "
          "change can change those decisions and the value.")

GENERIC_KINDS = {
    "budget_per_year": "budget in a year",
    "budget_total": "budget over the plan",
    "posts": "funded posts",
}
"""Kind id -> words for a planner, of the limits that are no lever's."""


def kind_words() -> dict[str, str]:
    """Kind id -> words for a planner: the generic limits' and every lever's."""
    return {**GENERIC_KINDS, **lever_kinds()}

MILLION = 1e6
_TOL = 1e-6


def binding(used: float, limit: float) -> bool:
    """Whether ``used`` has reached ``limit`` (relative and absolute tolerance)."""
    return used >= limit - _TOL * max(1.0, abs(limit))


@dataclass
class FixedLP:
    """The plan's LP: the compiled model with integer columns fixed at the plan."""

    h: highspy.Highs
    x: np.ndarray
    """The plan (integers rounded)."""
    row_of: dict[tuple[str, Any], int]
    """(constraint component, index) -> row."""
    col_of: dict[tuple[str, Any], int]
    """(variable component, index) -> column."""
    activity: np.ndarray
    """Row activities of the plan."""
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    """Bounds as passed to HiGHS (integer columns fixed)."""
    integer: np.ndarray
    """Which columns are integer (fixed here)."""
    objective: float = float("nan")
    status: str = ""
    deadline: float | None = None
    """``time.perf_counter()`` after which no re-solve starts (:class:`OutOfTime`)."""


class OutOfTime(Exception):
    """The deadline passed before the marginal values were all computed: the
    caller reports none rather than a partial table, or overrunning."""


def _in_time(deadline: float | None) -> None:
    if deadline is not None and time.perf_counter() >= deadline:
        raise OutOfTime


def _key(component_data) -> tuple[str, Any]:
    return component_data.parent_component().local_name, component_data.index()


def fixed_integer_lp(hm, x: np.ndarray, cost: np.ndarray,
                     hold: np.ndarray | None = None) -> FixedLP:
    """The LP of ``hm`` (a :class:`optimiser.engine.highs_model.HighsModel`) with its integer
    columns fixed at the plan ``x`` and objective ``cost``, solved.

    ``hold`` (a mask of columns) fixes only those integer columns; the others
    become continuous within their bounds. Rows added after the compile (the
    lexicographic stage-2 bound on W) are left out: the LP is the stage-1
    problem around the plan.
    """
    h = hm.lp_copy()
    x = np.asarray(x, dtype=float).copy()
    held = hm.integrality.astype(bool) if hold is None else hm.integrality.astype(bool) & hold
    ints = np.flatnonzero(held).astype(np.int32)
    x[ints] = np.round(x[ints])
    if len(ints):
        h.changeColsBounds(len(ints), ints, x[ints], x[ints])
    h.changeColsCost(hm.n, np.arange(hm.n, dtype=np.int32), np.asarray(cost, dtype=float))
    lp = h.getLp()
    a = lp.a_matrix_
    parts = (np.asarray(a.value_), np.asarray(a.index_), np.asarray(a.start_))
    shape = (lp.num_row_, lp.num_col_)
    colwise = a.format_ == highspy.MatrixFormat.kColwise
    A = sp.csc_matrix(parts, shape=shape) if colwise else sp.csr_matrix(parts, shape=shape)
    f = FixedLP(h=h, x=x,
                row_of={_key(con): i for i, (con, _sense) in enumerate(hm.rows)},
                col_of={_key(v): j for j, v in enumerate(hm.columns)},
                activity=np.asarray(A @ x),
                row_lower=np.asarray(lp.row_lower_, dtype=float),
                row_upper=np.asarray(lp.row_upper_, dtype=float),
                col_lower=np.asarray(lp.col_lower_, dtype=float),
                col_upper=np.asarray(lp.col_upper_, dtype=float),
                integer=held)
    # The interior point, then crossover to a basis for the re-solves of gain():
    # long-term-2028's fixed LP took 28.4 s of dual simplex and 2.3 s so, the
    # same objective; the re-solves stay on the simplex, warm from that basis.
    h.setOptionValue("solver", "ipm")
    h.run()
    h.setOptionValue("solver", "simplex")
    f.status = h.modelStatusToString(h.getModelStatus())
    if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
        f.objective = float(h.getInfo().objective_function_value)
    return f


def _finite(v: float) -> float:
    return float(v) if np.isfinite(v) and abs(v) < 1e29 else float("nan")


def gain(lp: FixedLP, cols: dict[int, tuple[float, float]] | None = None,
         rows: dict[int, tuple[float, float]] | None = None) -> float | None:
    """How much the objective falls when columns / rows get the given bounds
    (re-solved from the current basis); ``None`` if that LP is infeasible. The
    bounds are restored afterwards."""
    _in_time(lp.deadline)  # the loop guard: every re-solve goes through here
    h = lp.h
    cols, rows = cols or {}, rows or {}
    old_cols = {j: (lp.col_lower[j], lp.col_upper[j]) for j in cols}
    old_rows = {i: (lp.row_lower[i], lp.row_upper[i]) for i in rows}
    try:
        for j, (lo, hi) in cols.items():
            h.changeColBounds(j, lo, hi)
        for i, (lo, hi) in rows.items():
            h.changeRowBounds(i, lo, hi)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        return lp.objective - float(h.getInfo().objective_function_value)
    finally:
        for j, (lo, hi) in old_cols.items():
            h.changeColBounds(j, lo, hi)
        for i, (lo, hi) in old_rows.items():
            h.changeRowBounds(i, lo, hi)


class _Table:
    """Collects the rows of ``marginal_values.csv`` from one solved fixed LP."""

    def __init__(self, lp: FixedLP, d: ModelData, mode: str,
                 places_free: FixedLP | None = None):
        self.lp, self.d = lp, d
        self.places_free = places_free
        self._free_up: np.ndarray | None = None
        self.free_dual = (np.asarray(places_free.h.getSolution().row_dual)
                          if places_free is not None and places_free.status == "Optimal"
                          else None)
        sol = lp.h.getSolution()
        self.row_dual = np.asarray(sol.row_dual)
        self.col_dual = np.asarray(sol.col_dual)
        status, ranging = lp.h.getRanging()
        ok = status == highspy.HighsStatus.kOk and ranging.valid
        self.row_up = np.asarray(ranging.row_bound_up.value_) if ok else None
        self.col_up = np.asarray(ranging.col_bound_up.value_) if ok else None
        self.what = "weighted shortfall" if mode != "weighted" else "weighted objective"
        self.rows: list[list[Any]] = []

    def money(self, x: float) -> str:
        return money(x, self.d.inst.currency)

    def add(self, kind, item, year, limit, used, value, per, holds, note,
            free: float = float("nan")) -> None:
        # A non-zero value (held or with places free) marks a binding limit even
        # when the plan's own activity sits a hair below it (stage 2 may save a
        # little within W's tolerance).
        worth = abs(value) > 1e-9 or (not np.isnan(free) and abs(free) > 1e-9)
        self.rows.append([kind, item, str(year), _clean(limit), _clean(used),
                          bool(binding(used, limit) or worth), _clean(value),
                          per, _clean(holds), _clean(free), note])

    def limit_row(self, kind: str, key: tuple[str, Any], item: str, year: Any,
                  limit: float, per: str, scale: float, only_binding: bool) -> None:
        """A limit that is a row: value = −dual × scale."""
        i = self.lp.row_of.get(key)
        if i is None:
            return
        used = float(self.lp.activity[i])
        value = -self.row_dual[i] * scale
        if only_binding and not (binding(used, limit) or abs(value) > 1e-9):
            return
        free = float("nan")
        if kind.startswith("budget") and self.free_dual is not None:
            free = max(-self.free_dual[i] * scale, 0.0)
        if abs(value) <= 1e-9:
            note = f"not binding around the plan: more would not reduce the {self.what}"
            if free > 1e-9:
                note = (f"with the plan's places held, more money buys nothing here; with "
                        f"training places free to grow, {_clean(free):g} FTE less "
                        f"{self.what} per extra {per}")
            self.add(kind, item, year, limit, used, 0.0, per, float("nan"), note, free)
            return
        holds = _finite(self.row_up[i]) if self.row_up is not None else float("nan")
        shown = self.money(holds) if per.endswith("m") else f"{holds:,.1f}"
        upto = f" while the limit stays below {shown}" if np.isfinite(holds) else ""
        self.add(kind, item, year, limit, used, value, per, holds,
                 f"{_clean(value):g} FTE less {self.what} per extra {per}{upto}; "
                 "integers fixed at the plan", free)

    def cap_column(self, kind: str, key: tuple[str, Any], item: str, year: Any,
                   limit: float, per: str, cap_row: tuple[str, Any] | None = None) -> None:
        """A cap that is a column's upper bound, when reached: value = −reduced cost.

        ``cap_row`` is a row ``column − limit·binary ≤ 0`` that repeats the cap
        (a cohort's ``cohort_max``); raising the cap relaxes it too, so its dual
        is added back. A fixed integer column (places) is also re-solved with one
        whole unit more, since the next whole place may not fit where the rate
        holds."""
        j = self.lp.col_of.get(key)
        if j is None:
            return
        used = float(self.lp.x[j])
        if not binding(used, limit):
            return
        i = self.lp.row_of.get(cap_row) if cap_row else None
        value = -self.col_dual[j] - (self.row_dual[i] if i is not None else 0.0)
        if abs(value) <= 1e-9:
            self.add(kind, item, year, limit, used, 0.0, per, float("nan"),
                     f"cap reached, but one more {per} would not reduce the {self.what}")
            return
        note = f"cap reached: {_clean(value):g} FTE less {self.what} per extra {per}"
        holds = float("nan")
        if self.lp.integer[j]:
            relax = {} if i is None else {
                i: (self.lp.row_lower[i], self.lp.row_upper[i] + 1.0)}
            whole = gain(self.lp, cols={j: (used + 1.0, used + 1.0)}, rows=relax)
            if whole is None:
                note += f"; one whole {per} more does not fit within the other limits"
            elif abs(whole - value) <= 1e-6 * max(1.0, abs(value)):
                holds = used + 1.0
            else:
                note += f"; one whole {per} more removes {_clean(whole):g} (re-solved)"
        elif self.col_up is not None:
            holds = _finite(self.col_up[j])
            if np.isfinite(holds):
                note += f" up to {holds:,.2f}"
        self.add(kind, item, year, limit, used, value, per, holds,
                 note + "; integers fixed at the plan")

    def free_row_up(self) -> np.ndarray | None:
        """Ranging of the LP with places free (row upper bounds), computed once."""
        if self.places_free is None or self.places_free is self.lp:
            return self.row_up
        if self._free_up is None:
            status, ranging = self.places_free.h.getRanging()
            ok = status == highspy.HighsStatus.kOk and ranging.valid
            self._free_up = (np.asarray(ranging.row_bound_up.value_) if ok
                             else np.full(len(self.row_dual), np.nan))
        return self._free_up

    def posts(self) -> None:
        """Funded posts where staff are at their limit (``posts_cap``): one row per
        unit, group and year where one more post is worth something, and one row
        per group and year for the units at their limit where it is worth nothing."""
        d, lp = self.d, self.lp
        full: dict[tuple[str, int], list[tuple[str, float, float, bool]]] = {}
        for u in d.units:
            for g in d.groups:
                for y in d.years:
                    posts = d.posts.get((u, g, y))
                    i = lp.row_of.get(("posts_cap", (u, g, y)))
                    if posts is None or i is None:
                        continue
                    used = float(lp.activity[i])
                    value = -self.row_dual[i]
                    # One more post lifts the limit only where the posts are the limit.
                    lifts = posts >= d.natural[u, g, y] - _TOL * max(1.0, abs(posts))
                    if lifts and value > 1e-9:
                        # Ranging at the limit itself (a degenerate basis) says nothing.
                        holds = (_finite(self.row_up[i]) if self.row_up is not None
                                 else float("nan"))
                        if not holds > float(lp.row_upper[i]) + _TOL:
                            holds = float("nan")
                        upto = (f" while the posts stay below {holds:,.1f}"
                                if np.isfinite(holds) else "")
                        self.add("posts", f"{u}/{g}", y, posts, used, value, "post", holds,
                                 f"{_clean(value):g} FTE less {self.what} per extra post"
                                 f"{upto}; integers fixed at the plan")
                    elif binding(used, float(lp.row_upper[i])) or value > 1e-9:
                        full.setdefault((g, y), []).append((u, posts, used, lifts))
        for (g, y), rows in sorted(full.items(), key=lambda kv: (d.groups.index(kv[0][0]),
                                                                  kv[0][1])):
            n = len(rows)
            above = sum(1 for r in rows if not r[3])
            shown = ", ".join(u for u, *_ in rows[:3]) + (f" and {n - 3} more" if n > 3 else "")
            note = (f"{n} unit{'s' * (n != 1)} at {'their' if n != 1 else 'its'} limit "
                    f"({shown}); one more post in any of them would not reduce the "
                    f"{self.what}")
            if above:
                note += (f"; {above} of them {'are' if above != 1 else 'is'} above "
                         f"{'their' if above != 1 else 'its'} funded posts and keep"
                         f"{'s' * (above == 1)} the staff of {'their' if above != 1 else 'its'}"
                         " natural path, so one more post does not lift the limit there")
            self.add("posts", f"*/{g}", y, sum(r[1] for r in rows), sum(r[2] for r in rows),
                     0.0, "post", float("nan"), note)

    def ramp(self, r: RampLimit) -> None:
        """A binding ramp row (a lever's change from year to year), valued with the
        training places free to grow (the places are what it limits)."""
        lp = self.lp
        kind, y, limit, change = r.kind, r.year, r.limit, r.change
        i = lp.row_of.get(r.key)
        if i is None:
            return
        # The row is the change of intake with the data moved to its bound: the
        # plan's change is the limit less the row's slack.
        used = limit - (float(lp.row_upper[i]) - float(lp.activity[i]))
        value = max(-self.free_dual[i], 0.0) if self.free_dual is not None else 0.0
        if not (binding(used, limit) or value > 1e-9):
            return
        per = r.per
        if value <= 1e-9:
            self.add(kind, r.item, y, limit, used, 0.0, per, float("nan"),
                     f"limit reached, but one more place of {change} a year would not reduce "
                     f"the {self.what}", 0.0)
            return
        up = self.free_row_up()
        holds = float("nan")
        if up is not None:
            # Ranging is on the row's own bound (the data moved in): back to the limit.
            holds = _finite(up[i] - (float(lp.row_upper[i]) - limit))
            if not holds > limit + _TOL:  # ranging at the limit itself says nothing
                holds = float("nan")
        upto = f" while the limit stays below {holds:,.1f}" if np.isfinite(holds) else ""
        self.add(kind, r.item, y, limit, used, value, per, holds,
                 f"{_clean(value):g} FTE less {self.what} per extra place of {change} a year"
                 f"{upto}; training places free to grow (cohorts, campaigns and funded units "
                 "held at the plan)", value)

    def choice_cap(self, c: ChoiceCap) -> None:
        """A binding cap on how many binaries may be 1: switch on the best further
        choice (one re-solve per choice still off)."""
        lp = self.lp
        i = lp.row_of.get(c.key)
        if i is None or not binding(float(lp.activity[i]), c.limit):
            return
        best, best_choice = None, None
        for label, column in c.choices:
            j = lp.col_of.get(column)
            if j is None or lp.x[j] > 0.5:
                continue
            g = gain(lp, cols={j: (1.0, 1.0)},
                     rows={i: (lp.row_lower[i], lp.row_upper[i] + 1.0)})
            if g is not None and (best is None or g > best + 1e-9):
                best, best_choice = g, label
        if best is None:
            value, note = 0.0, f"cap reached; {c.none_left}"
        elif best <= 1e-9:
            value, note = 0.0, f"cap reached, but {c.one_more} would not reduce " \
                               f"the {self.what}"
        else:
            value = best
            note = (f"cap reached: {c.one_more} ({best_choice}) removes "
                    f"{_clean(best):g} FTE of {self.what}; re-solved with integers fixed")
        self.add(c.kind, c.item, c.year, c.limit, float(lp.activity[i]),
                 value, c.per, float("nan"), note)

    def lever_limit(self, lim: Limit) -> None:
        """One lever's limit, valued as its type says."""
        if isinstance(lim, RowLimit):
            self.limit_row(lim.kind, lim.key, lim.item, lim.year, lim.limit, lim.per, 1.0,
                           only_binding=True)
        elif isinstance(lim, ColumnCap):
            self.cap_column(lim.kind, lim.key, lim.item, lim.year, lim.limit, lim.per,
                            cap_row=lim.also_row)
        elif isinstance(lim, ChoiceCap):
            self.choice_cap(lim)
        else:
            self.ramp(lim)


def marginal_values(hm, x: np.ndarray, d: ModelData, mode: str = "lexicographic",
                    value_per_fte: float | None = None, deadline: float | None = None
                    ) -> tuple[pd.DataFrame, list[str]]:
    """Marginal values of budgets and binding caps around the plan ``x``.

    ``hm`` is the :class:`optimiser.engine.highs_model.HighsModel` the plan came from. Returns
    the ``marginal_values.csv`` frame and notes (empty when all went well,
    otherwise why the values are missing). ``deadline`` (a
    ``time.perf_counter()``): :class:`OutOfTime` when it passes first.
    """
    cost = hm.c_W if mode != "weighted" else hm.c_W + hm.c_C / value_per_fte
    lp = fixed_integer_lp(hm, x, cost)
    lp.deadline = deadline
    _in_time(deadline)
    if lp.status != "Optimal":
        return (pd.DataFrame(columns=COLUMNS),
                [f"marginal values not computed: the plan's LP with integers fixed ended "
                 f"'{lp.status}'"])
    # The same LP with whole places free (binaries still held), for the budgets.
    binary = np.array([v.is_binary() for v in hm.columns], dtype=bool)
    places_free = (fixed_integer_lp(hm, x, cost, hold=binary)
                   if (hm.integrality.astype(bool) & ~binary).any() else lp)
    places_free.deadline = deadline
    _in_time(deadline)
    t = _Table(lp, d, mode, places_free)
    per_m = money(MILLION, d.inst.currency)
    limits = per_year_limit(d)
    for (pot, y), limit in sorted(limits.items(),
                                  key=lambda kv: (d.pots.index(kv[0][0]), kv[0][1])):
        t.limit_row("budget_per_year", ("budget_per_year", (pot, y)), pot, y, limit, per_m,
                    MILLION, only_binding=False)
    for b in d.inst.budgets:
        if b.total is not None:
            t.limit_row("budget_total", ("budget_total", b.id), b.id, "total", b.total,
                        per_m, MILLION, only_binding=False)
    by_dual, re_solved, ramps = lever_limits(d)
    for lim in by_dual + re_solved:
        t.lever_limit(lim)
    t.posts()
    for lim in ramps:
        t.lever_limit(lim)
    return pd.DataFrame(t.rows, columns=COLUMNS), []
