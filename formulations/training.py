"""Training programmes (SPEC §2.3).

For programme p with duration ℓ, completion c, employment κ, intake years I_p::

    N[p,y] ≥ 0 places starting in y ∈ I_p          (integer when integer_places)
    min_cohort·RUN[p,y] ≤ N[p,y] ≤ max_places·RUN[p,y]   cohort_min, cohort_max
        (RUN ∈ {0,1} only when min_cohort > 0 or cohort_fixed_cost > 0;
         otherwise N[p,y] ≤ max_places is a bound)
    E[p,t] = N[p,t] for t ∈ I_p,  committed[t] for t ≤ b,  0 otherwise
    Σ_{u ∈ U(p)} A[p,u,y] + UP[p,y] = c·κ·E[p,y−ℓ]   graduates_join[p,y], y ∈ Y
        (UP ≥ 0: graduates no unit in scope has a post for, SPEC §2.11)
    A[p,u,y] ≤ share[p,u,y]·c·κ·E[p,y−ℓ]             graduates_share[p,u,y], u ∈ U(p)
        (placement, SPEC §2.14: the shares of formulations.placement by the
         programme's rule for ``group``; no rows when free or U(p) is one unit)
    Σ_{k=0}^{ℓ−1} E[p,y−k] ≤ r·Σ_{u ∈ U(p)} S[u,g_s,y−1]   supervision_capacity[p,y]
    cost[p,y] = cost_per_place_year·Σ_{k=0}^{ℓ−1} N[p,y−k] + cohort_fixed_cost·RUN[p,y]
    E[p,y] − E[p,y−1] ≤ max_increase                 intake_increase[p,y], y ∈ Y
    E[p,y−1] − E[p,y] ≤ max_decrease                 intake_decrease[p,y], y ∈ Y
        (E[p,b] = committed[b], 0 when not given; E = 0 outside the intake years,
         so a gap in the intake years is itself a decrease)

Graduates A[p,u,y] join ``group`` in unit u in year y (stock balance); with
``from_group`` they also leave ``from_group`` in the same unit and year, and the
unplaced ones (UP) stay in ``from_group``. The engine's tie-break reports the
least Σ UP among equally good plans (no graduate left unplaced while a post for
them exists that does not worsen W or C).
Committed entrants cost nothing more: their places were paid for before the plan.
The big-M of ``cohort_max`` is ``max_places_per_year`` itself, from the data.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyomo.environ as pyo

from formulations.data import ModelData
from formulations.ledger import Ledger
from formulations.levers import ColumnCap, Finding, Limit, RampLimit, clean, item_with_id
from formulations.placement import Placed, place
from formulations.stock import stock
from formulations.targets import weights
from formulations.words import GROUP_FROM, Names, amount, listed, reached, spans, value_words

NAME = "training"
LABEL = "Training"
COLUMNS = ("programme", "group", "year", "places", "cohort_runs", "graduates", "unplaced",
           "cost")
FLOWS = ("graduates", "upskilled_out")
"""Graduates joining their group, and (upskilling) leaving ``from_group``."""
DECIDED = "places"
"""Its table's column of the decision a stochastic plan takes now."""
EXPLAIN_ORDER = 2


def intake_years(d: ModelData, p) -> list[int]:
    return [y for y in d.years if p.intake_years is None or y in p.intake_years]


def entrants(m: pyo.ConcreteModel, d: ModelData, p, t: int):
    """E[p,t]: a variable for intake years, committed entrants up to the base year."""
    if (p.id, t) in m.N:
        return m.N[p.id, t]
    if t <= d.base:
        return p.committed.get(t, 0.0)
    return 0.0


def graduates(m: pyo.ConcreteModel, d: ModelData, p, y: int):
    """Q[p,y] = c·κ·E[p,y−ℓ]: those who qualify in y and take up employment."""
    return p.completion_rate * p.employment_rate * entrants(m, d, p, y - p.duration)


def graduate_years(d: ModelData, p) -> list[int]:
    """The plan years in which ``p`` can have graduates: entrants ``duration``
    years before, new places or committed."""
    intakes = set(intake_years(d, p))
    return [y for y in d.years if y - p.duration in intakes
            or p.committed.get(y - p.duration, 0.0) > 0]


def placements(d: ModelData) -> dict[str, Placed]:
    """Each programme's placement (SPEC §2.14) for ``group``, the group its
    graduates join (an upskilling programme's too), in its graduates' years."""
    return {p.id: place(d, NAME, p, p.group, graduate_years(d, p)) for p in d.inst.training}


def has_runs(p) -> bool:
    return p.min_cohort > 0 or p.cohort_fixed_cost > 0


def decisions(b: pyo.Block) -> list[pyo.Var]:
    """The lever's decisions, indexed with the year last: places and cohorts run
    (what a stochastic plan decides now for the here-and-now years)."""
    return [b.N, b.RUN]


def allocations(b: pyo.Block) -> pyo.Var:
    """Where the graduates go: ``A[p,u,y]``, one programme's supply shared among
    the units in its scope (the engine's share-out, SPEC §2.9's tie-break, reads
    it; upskilled graduates leave ``from_group`` in the same unit)."""
    return b.A


def supervision_cap(p, supervisors):
    """The most trainees of ``p`` its supervisors (FTE, or their expression) allow."""
    return p.supervision.max_trainees_per_fte * supervisors


def define_training(m: pyo.ConcreteModel, d: ModelData, ledger: Ledger) -> None:
    progs = d.inst.training
    by_id = {p.id: p for p in progs}
    place_index = [(p.id, y) for p in progs for y in intake_years(d, p)]
    m.N = pyo.Var(place_index, domain=pyo.NonNegativeReals, doc="places starting, FTE")
    for p in progs:
        for y in intake_years(d, p):
            v = m.N[p.id, y]
            if p.integer_places:
                v.domain = pyo.NonNegativeIntegers
            if p.max_places_per_year is not None:
                v.setub(p.max_places_per_year)

    run_index = [(p.id, y) for p in progs if has_runs(p) for y in intake_years(d, p)]
    m.RUN = pyo.Var(run_index, domain=pyo.Binary, doc="cohort runs in the year")
    m.cohort_min = pyo.Constraint(
        [i for i in run_index if by_id[i[0]].min_cohort > 0],
        rule=lambda m, p, y: m.N[p, y] >= by_id[p].min_cohort * m.RUN[p, y])
    m.cohort_max = pyo.Constraint(
        run_index, rule=lambda m, p, y: m.N[p, y] <= by_id[p].max_places_per_year * m.RUN[p, y])

    # Graduates: only years whose entrants can be non-zero get allocation variables.
    grad_years = {p.id: graduate_years(d, p) for p in progs}
    alloc_index = [(p.id, u, y) for p in progs for y in grad_years[p.id]
                   for u in d.units_of(p.region)]
    m.A = pyo.Var(alloc_index, domain=pyo.NonNegativeReals,
                  doc="graduates joining unit u in year y, FTE")
    grad_index = [(p.id, y) for p in progs for y in grad_years[p.id]]
    m.UP = pyo.Var(grad_index, domain=pyo.NonNegativeReals,
                   doc="graduates no unit in scope has a post for, FTE")

    def graduates_join(m, pid, y):
        p = by_id[pid]
        return (sum(m.A[pid, u, y] for u in d.units_of(p.region)) + m.UP[pid, y]
                == graduates(m, d, p, y))

    m.graduates_join = pyo.Constraint(grad_index, rule=graduates_join)

    # Placement (SPEC §2.14): each unit takes at most its share of the year's
    # graduates; those its share sends to a unit with no room are unplaced (UP).
    placed = placements(d)

    def graduates_share(m, pid, u, y):
        return m.A[pid, u, y] <= placed[pid].share(u, y) * graduates(m, d, by_id[pid], y)

    m.graduates_share = pyo.Constraint(
        [(pid, u, y) for pid, u, y in alloc_index if placed[pid].placed],
        rule=graduates_share)

    for pid, u, y in alloc_index:
        p = by_id[pid]
        ledger.add_inflow(u, p.group, y, 1.0, m.A[pid, u, y], "graduates")
        if p.from_group is not None:
            ledger.add_inflow(u, p.from_group, y, -1.0, m.A[pid, u, y], "upskilled_out")

    sup_rows = []
    for p in progs:
        if p.supervision is None:
            continue
        for y in d.years:
            in_training = [entrants(m, d, p, y - k) for k in range(p.duration)]
            if y - 1 == d.base:
                # The supervisors are the baseline (data) and new places are ≥ 0, so
                # the committed trainees alone must fit: if they do not, no choice of
                # places helps, and the planner is told why before any solve.
                trainees = sum(e for e in in_training if isinstance(e, float))
                cap = supervision_cap(p, sum(d.S0[u, p.supervision.group]
                                             for u in d.units_of(p.region)))
                if trainees > cap * (1 + 1e-9) + 1e-9:
                    ledger.infeasible.append((
                        f"supervision_capacity[{p.id},{y}]",
                        f"training '{p.id}' has {trainees:g} committed trainees in {y} but "
                        f"supervision allows {cap:g} ({p.supervision.max_trainees_per_fte:g} "
                        f"per FTE of '{p.supervision.group}' in "
                        f"{p.region or 'all units'} at the end of {y - 1})"))
                    continue
                if all(isinstance(e, float) for e in in_training):
                    continue  # data only, and it holds
            if all(isinstance(e, float) and e == 0 for e in in_training):
                continue
            sup_rows.append((p.id, y))

    def supervision_capacity(m, pid, y):
        p = by_id[pid]
        trainees = sum(entrants(m, d, p, y - k) for k in range(p.duration))
        supervisors = sum(stock(m, d, u, p.supervision.group, y - 1)
                          for u in d.units_of(p.region))
        return trainees <= supervision_cap(p, supervisors)

    m.supervision_capacity = pyo.Constraint(sup_rows, rule=supervision_capacity)

    define_ramps(m, d, ledger)

    def training_cost(m, pid, y):
        p = by_id[pid]
        places = sum(m.N[pid, y - k] for k in range(p.duration) if (pid, y - k) in m.N)
        fixed = p.cohort_fixed_cost * m.RUN[pid, y] if (pid, y) in m.RUN else 0.0
        return p.cost_per_place_year * places + fixed

    m.training_cost = pyo.Expression([(p.id, y) for p in progs for y in d.years],
                                     rule=training_cost)
    for p in progs:
        for y in d.years:
            ledger.charge(d.pot_of(p), y, m.training_cost[p.id, y])


def define_ramps(m: pyo.ConcreteModel, d: ModelData, ledger: Ledger) -> None:
    """``intake_increase`` and ``intake_decrease``: commissions change gradually.

    A row whose both sides are data (no intake in y−1 nor in y) holds or not
    whatever the plan; one that cannot hold is named before any solve, as is a
    first plan year that cannot come down from the committed base-year intake
    within ``max_decrease`` (it may take at most ``max_places_per_year``, 0 when
    it is not an intake year)."""
    inc_rows, dec_rows = [], []
    for p in d.inst.training:
        for limit, rows in ((p.max_increase, inc_rows), (p.max_decrease, dec_rows)):
            if limit is None:
                continue
            for y in d.years:
                now, before = entrants(m, d, p, y), entrants(m, d, p, y - 1)
                if isinstance(now, float) and isinstance(before, float):
                    change = now - before if rows is inc_rows else before - now
                    if change > limit + 1e-9:
                        ledger.infeasible.append((
                            f"intake_{'increase' if rows is inc_rows else 'decrease'}"
                            f"[{p.id},{y}]", ramp_conflict(d, p, y, before, now)))
                    continue
                rows.append((p.id, y))
        first = d.years[0]
        committed = p.committed.get(d.base, 0.0)
        if p.max_decrease is not None and (p.id, first) in m.N:
            cap = p.max_places_per_year
            if cap is not None and committed - cap > p.max_decrease + 1e-9:
                ledger.infeasible.append((
                    f"intake_decrease[{p.id},{first}]",
                    f"training '{p.id}' had {committed:g} entrants in {d.base} and may fall "
                    f"by at most {p.max_decrease:g} a year, but may take at most {cap:g} "
                    f"places in {first} (max_places_per_year)"))

    by_id = {p.id: p for p in d.inst.training}
    m.intake_increase = pyo.Constraint(
        inc_rows, rule=lambda m, pid, y: entrants(m, d, by_id[pid], y)
        - entrants(m, d, by_id[pid], y - 1) <= by_id[pid].max_increase)
    m.intake_decrease = pyo.Constraint(
        dec_rows, rule=lambda m, pid, y: entrants(m, d, by_id[pid], y - 1)
        - entrants(m, d, by_id[pid], y) <= by_id[pid].max_decrease)


def ramp_conflict(d: ModelData, p, y: int, before: float, now: float) -> str:
    """Why a ramp row on data alone cannot hold, in words."""
    if now < before:
        return (f"training '{p.id}' had {before:g} entrants in {y - 1} and may fall by at "
                f"most {p.max_decrease:g} a year, but {y} is not one of its intake years "
                f"(0 places)")
    return (f"training '{p.id}' goes from {before:g} entrants in {y - 1} to {now:g} in {y}, "
            f"more than its max_increase of {p.max_increase:g}")


define = define_training


# ------------------------------------------------------------------ results

def results(m: pyo.Block, d: ModelData) -> pd.DataFrame:
    """The ``training`` table: places, cohorts run, graduates (placed or not) and
    cost per programme and plan year."""
    rows = []
    for p in d.inst.training:
        intakes = set(intake_years(d, p))
        for y in d.years:
            places = clean(m.N[p.id, y].value) if y in intakes else 0.0
            if has_runs(p) and (p.id, y) in m.RUN:
                runs = clean(round(m.RUN[p.id, y].value or 0.0))
            else:
                runs = 1.0 if places > 0 else 0.0
            placed = sum(m.A[p.id, u, y].value or 0.0 for u in d.units_of(p.region)
                         if (p.id, u, y) in m.A)
            unplaced = (m.UP[p.id, y].value or 0.0) if (p.id, y) in m.UP else 0.0
            rows.append([p.id, p.group, y, places, runs, clean(placed + unplaced),
                         clean(unplaced), clean(pyo.value(m.training_cost[p.id, y]))])
    return pd.DataFrame(rows, columns=list(COLUMNS))


def unplaced(b: pyo.Block) -> pyo.Var:
    """Graduates no unit has a post for: the engine's tie-break reports the plan
    with the least of them among equally good ones."""
    return b.UP


# ------------------------------------------------------------------ marginal values

KINDS = {
    "training_places": "training places cap",
    "intake_increase": "intake growth per year",
    "intake_decrease": "intake fall per year",
}


def limits(d: ModelData) -> list[Limit]:
    """Places caps (a column bound, repeated by ``cohort_max`` when cohorts run)
    and the ramps of stable commissioning."""
    out: list[Limit] = []
    for p in d.inst.training:
        if p.max_places_per_year is not None:
            for y in intake_years(d, p):
                out.append(ColumnCap("training_places", ("N", (p.id, y)), p.id, y,
                                     p.max_places_per_year, "place",
                                     also_row=("cohort_max", (p.id, y))))
    for p in d.inst.training:
        for kind, limit, change in (("intake_increase", p.max_increase, "growth"),
                                    ("intake_decrease", p.max_decrease, "fall")):
            if limit is not None:
                for y in d.years:
                    out.append(RampLimit(kind, (kind, (p.id, y)), p.id, y, limit,
                                         "place a year", change))
    return out


# ------------------------------------------------------------------ explanations

def explain(d: ModelData, tables: dict[str, pd.DataFrame], mv: pd.DataFrame | None,
            what: str = "weighted shortfall") -> list[str]:
    """Places caps reached, ramps binding, supervision filled."""
    return (training_capped(d, tables, mv, what) + ramps_binding(d, tables, mv, what)
            + supervision_filled(d, tables))


def explain_later(d: ModelData, tables: dict[str, pd.DataFrame],
                  mv: pd.DataFrame | None, what: str = "weighted shortfall") -> list[str]:
    """Graduates left unplaced, pipelines too long for the targets."""
    names = Names(d)
    return (graduates_unplaced(d, tables, names) + pipelines_too_long(d, names)
            + falls_before_the_run_out(d, tables))


def training_capped(d: ModelData, tables: dict[str, pd.DataFrame],
                    mv: pd.DataFrame | None, what: str = "weighted shortfall") -> list[str]:
    """Programmes that take their maximum places: one sentence each, or one for
    all of them when there are many (a national plan has dozens)."""
    tr = tables["training"]
    capped: list[tuple[str, float, list[str]]] = []
    for p in d.inst.training:
        if not p.max_places_per_year:
            continue
        rows = tr[tr["programme"] == p.id]
        years = [str(r["year"]) for _, r in rows.iterrows()
                 if int(r["year"]) in intake_years(d, p)
                 and reached(r["places"], p.max_places_per_year)]
        if years:
            capped.append((p.id, p.max_places_per_year, years))
    if len(capped) < GROUP_FROM:
        return [f"Training '{p}' takes its maximum of {cap:g} places in {listed(years)}"
                + value_words(mv, "training_places", p, years, "one more place", what) + "."
                for p, cap, years in capped]
    best = ""
    if mv is not None and len(mv):
        rows = mv[(mv["kind"] == "training_places") & (mv["value"] > 1e-9)]
        if len(rows):
            top = rows.sort_values(["value", "item", "year"],
                                   ascending=[False, True, True]).iloc[0]
            best = (f"; one more place would remove up to {top['value']:,.3g} FTE of {what} "
                    f"('{top['item']}', {top['year']}) with the plan's whole-number "
                    "decisions held")
            if "does not fit" in top["note"]:
                best += ", though a whole one does not fit within the budgets"
    names = "; ".join(f"'{p}' ({cap:g} in {listed(years)})" for p, cap, years in capped)
    return [f"Training takes its maximum places in {len(capped)} programmes: {names}"
            + best + "."]


def _plan_entrants(d: ModelData, tables: dict[str, pd.DataFrame], p) -> dict[int, float]:
    """E[p,y] of the plan for the base year and the plan years (committed
    entrants of the base year; 0 outside the intake years)."""
    tr = tables["training"]
    places = {int(r["year"]): float(r["places"]) for _, r in
              tr[tr["programme"] == p.id].iterrows()}
    intakes = set(intake_years(d, p))
    e = {d.base: float(p.committed.get(d.base, 0.0))}
    for y in d.plan_years:
        e[y] = places.get(y, 0.0) if y in intakes else 0.0
    return e


def _ramp_value(mv: pd.DataFrame | None, kind: str, item: str, years: list[int],
                change: str, what: str) -> str:
    """'(one more place of growth a year would remove 2 FTE of weighted shortfall,
    in 2021, with training places free to grow)'."""
    if mv is None or not len(mv):
        return ""
    rows = mv[(mv["kind"] == kind) & (mv["item"] == item)
              & (mv["year"].isin([str(y) for y in years])) & (mv["value"] > 1e-9)]
    if not len(rows):
        return ""
    best = rows.sort_values(["value", "year"], ascending=[False, True]).iloc[0]
    return (f" (one more place of {change} a year would remove {best['value']:,.3g} FTE of "
            f"{what}, in {best['year']}, with training places free to grow)")


def ramps_binding(d: ModelData, tables: dict[str, pd.DataFrame], mv: pd.DataFrame | None,
                  what: str = "weighted shortfall") -> list[str]:
    """Programmes whose intake grows (or falls) by as much as ``max_increase``
    (``max_decrease``) allows: the years where the ramp binds, one sentence each
    (one for all of them from :data:`GROUP_FROM` programmes)."""
    out = []
    for kind, field, change, verb in (("intake_increase", "max_increase", "growth", "grow"),
                                      ("intake_decrease", "max_decrease", "fall", "fall")):
        found: list[tuple[str, float, list[int]]] = []
        for p in d.inst.training:
            limit = getattr(p, field)
            if limit is None:
                continue
            e = _plan_entrants(d, tables, p)
            years = [y for y in d.plan_years
                     if reached((e[y] - e[y - 1]) if change == "growth" else (e[y - 1] - e[y]),
                                limit)]
            if years:
                found.append((p.id, limit, years))
        if len(found) < GROUP_FROM:
            out += [f"Training '{pid}' can {verb} by at most {amount(limit)} places a year: "
                    f"{spans(years)}" + _ramp_value(mv, kind, pid, years, change, what) + "."
                    for pid, limit, years in found]
        else:
            names = "; ".join(f"'{pid}' ({amount(limit)} a year, {spans(years)})"
                              for pid, limit, years in found)
            out.append(f"Intakes {verb} as fast as allowed in {len(found)} programmes: "
                       f"{names}.")
    return out


def supervision_filled(d: ModelData, tables: dict[str, pd.DataFrame]) -> list[str]:
    """Programmes whose trainees fill their supervision capacity in some year."""
    out = []
    wf = tables["workforce"]
    tr = tables["training"]
    for p in d.inst.training:
        sup = p.supervision
        if sup is None:
            continue
        places = {int(r["year"]): float(r["places"]) for _, r in
                  tr[tr["programme"] == p.id].iterrows()}
        units = set(d.units_of(p.region))
        full = []
        for y in d.plan_years:
            trainees = sum(places.get(y - k, 0.0) if y - k > d.base
                           else p.committed.get(y - k, 0.0) for k in range(p.duration))
            staff = wf[(wf["group"] == sup.group) & (wf["year"] == y - 1)
                       & wf["unit"].isin(units)]["fte"].sum()
            if trainees > 1e-6 and reached(trainees, supervision_cap(p, staff)):
                full.append(str(y))
        if full:
            out.append(f"Training '{p.id}' fills its supervision capacity "
                       f"({sup.max_trainees_per_fte:g} trainees per FTE of {sup.group}) in "
                       f"{listed(full)}.")
    return out


def graduates_unplaced(d: ModelData, tables: dict[str, pd.DataFrame],
                       names: Names) -> list[str]:
    """Programmes whose graduates no unit in scope had a post for (or, for an
    upskilling programme, who stay in their group because moving them would
    leave more shortfall than it closes)."""
    tr = tables["training"]
    if not len(tr) or "unplaced" not in tr:
        return []
    left = tr[tr["unplaced"] > 1e-6]
    if not len(left):
        return []
    wf = tables["workforce"]
    staff = {(u, g, int(y)): float(f) for u, g, y, f in
             zip(wf["unit"], wf["group"], wf["year"], wf["fte"], strict=True)}

    def room(u: str, g: str, y: int) -> bool:
        """Whether u could take one more of g in y (no posts, or below its limit)."""
        cap = d.posts_cap(u, g, y)
        return cap is None or staff.get((u, g, y), 0.0) < cap - 1e-6 * max(1.0, cap)

    found = []
    for p in d.inst.training:
        rows = left[left["programme"] == p.id]
        if not len(rows):
            continue
        years = [int(y) for y in rows["year"]]
        total = float(rows["unplaced"].sum())
        free = any(room(u, p.group, y) for y in years for u in d.units_of(p.region))
        found.append((p, total, years, free))
    if len(found) >= GROUP_FROM:
        found.sort(key=lambda f: (-f[1], f[0].id))
        total = sum(f[1] for f in found)
        shown = "; ".join(f"'{p.id}' {amount(n)} ({spans(ys)})" for p, n, ys, _ in found[:3])
        more = len(found) - 3
        return [f"Graduates of {len(found)} programmes are left unplaced, {amount(total)} in "
                f"all: {shown}" + (f" and {more} more" if more > 0 else "")
                + "; no unit in their scope had a free post for them."]
    out = []
    for p, total, years, free in found:
        text = (f"Training '{p.id}' leaves {amount(total)} graduate{'s' * (total != 1)} "
                f"unplaced in {spans(years)}: ")
        placed = placements(d)[p.id]
        if free and placed.placed:
            roomy = sorted({u for y in years for u in d.units_of(p.region)
                            if room(u, p.group, y)}, key=d.units.index)
            text += (f"their shares by placement ({placed.rule}) sent them to units with no "
                     f"room, while {names.units_list(roomy)} of its scope had room that year "
                     "(a share is fixed: staff follow the jobs, not the solver)")
        elif free and p.from_group:
            text += (f"they stay {names.group(p.from_group)}, where moving them would leave "
                     "more shortfall than it closes")
        elif free:
            text += "the units with a free post would gain nothing from them"
        else:
            scope = f"of region {p.region} " if p.region else ""
            text += f"no unit {scope}had a free {names.group(p.group)} post for them"
        out.append(text + ".")
    return out


def end_falls(d: ModelData, tables: dict[str, pd.DataFrame]
              ) -> list[tuple[str, float, float, list[str], list[str]]]:
    """Programmes that take fewer places in the last plan year than the year before
    while a held target counting their staff is short in a run-out year that the
    last year's entrants reach (SPEC §2.15): (programme, places before, places in
    the last year, the short targets, the limits that bind in the last year, in
    words; none found: empty)."""
    if not d.run_out_years or len(d.plan_years) < 2:
        return []
    last, before = d.plan_years[-1], d.plan_years[-2]
    t = tables["targets"]
    short = t[t["year"].astype(int).isin(d.run_out_years) & (t["shortfall"] > 1e-6)]
    held = {k.id: k for k in d.inst.targets if k.hold}
    budget = tables["budget"]
    out = []
    for p in d.inst.training:
        e = _plan_entrants(d, tables, p)
        if not e[last] < e[before] - 1e-6:
            continue
        # Only where more of the last year's entrants would have qualified in time.
        reach = short[short["year"].astype(int) >= last + p.duration]
        targets = [k for k in dict.fromkeys(reach["target"])
                   if k in held and weights(held[k]).get(p.group, 0) > 0]
        if not targets:
            continue
        pot = d.pot_of(p)
        limits = []
        rows = budget[(budget["pot"] == pot) & (budget["year"].astype(str) == str(last))]
        if len(rows) and reached(rows.iloc[0]["spent"], rows.iloc[0]["limit"], 0.995):
            limits.append(f"its pot '{pot}' is spent to its limit in {last}")
        rows = budget[(budget["pot"] == pot) & (budget["year"].astype(str) == "total")]
        if len(rows) and reached(rows.iloc[0]["spent"], rows.iloc[0]["limit"], 0.995):
            limits.append(f"its pot '{pot}' is spent to its total")
        if p.max_places_per_year is not None and reached(e[last], p.max_places_per_year):
            limits.append(f"it takes its maximum of {p.max_places_per_year:g} places")
        if p.max_decrease is not None and reached(e[before] - e[last], p.max_decrease):
            limits.append(f"it falls as fast as its ramp allows ({amount(p.max_decrease)} "
                          "a year)")
        out.append((p.id, e[before], e[last], targets, limits))
    return out


def falls_before_the_run_out(d: ModelData, tables: dict[str, pd.DataFrame]) -> list[str]:
    """One sentence for the programmes :func:`end_falls` finds: why each takes
    fewer places in the last plan year though its held target is short after it."""
    found = end_falls(d, tables)
    if not found:
        return []
    last = d.plan_years[-1]
    parts = [f"'{pid}' ({amount(a)} → {amount(b)}: "
             + ("; ".join(limits) if limits else "no limit binds") + ")"
             for pid, a, b, _targets, limits in found]
    targets = sorted({k for *_, ts, _ in found for k in ts})
    return [f"{len(found)} programme{'s' * (len(found) != 1)} take fewer places in {last}, "
            f"the last plan year, while a held target of their staff "
            f"({listed([repr(k) for k in targets])}) is short in the run-out years "
            f"{spans(d.run_out_years)}: " + "; ".join(parts) + "."]


def pipelines_too_long(d: ModelData, names: Names) -> list[str]:
    """Programmes none of whose new intakes graduate by the last year with a
    target that counts their staff group."""
    out = []
    for p in d.inst.training:
        last = [y for t in d.inst.targets if weights(t).get(p.group, 0) > 0
                for y in t.required]
        if not last:
            continue
        intakes = intake_years(d, p)
        first = min(intakes) if intakes else None
        if first is None or first + p.duration > max(last):
            when = (f"places started in {first} or later graduate in {first + p.duration} "
                    "at the earliest" if first is not None else "it takes no new intake")
            out.append(f"Training '{p.id}' (a {p.duration}-year course) cannot help the "
                       "targets: "
                       f"{when}, after the last target year for "
                       f"{names.group(p.group)} ({max(last)}).")
    return out


# ------------------------------------------------------------------ conflicts in words

VARIABLES = {
    "N": "new places of training '{0}'", "A": "graduates of training '{0}' placed in a unit",
    "RUN": "cohorts of training '{0}'", "UP": "unplaced graduates of training '{0}'",
}
"""A column's words when its lower bound of zero is part of a conflict."""


def describe_flow(flow: str, item: str, names: Names) -> str:
    if flow == "upskilled_out":
        p = item_with_id(names.d.inst.training, item)
        return f"staff leaving for {names.group(p.group)} through training '{item}'"
    return f"graduates of training '{item}'"


def describe_row(name: str, index: tuple[Any, ...], names: Names) -> str | None:
    fn = _ROWS.get(name)
    return fn(names, *index) if fn else None


def describe_bound(name: str, index: tuple[Any, ...], which: str, names: Names) -> str | None:
    if name != "N":
        return None
    pid, y = index
    cap = item_with_id(names.d.inst.training, pid).max_places_per_year
    return f"Training '{pid}' takes at most {cap:g} new places in {y}."


def _entrant_words(d: ModelData, p, t: int) -> tuple[str, float | None]:
    """Words for E[p,t] and its value when it is data."""
    if t in intake_years(d, p):
        return f"the new places started in {t}", None
    if t <= d.base and p.committed.get(t, 0.0) > 0:
        n = p.committed[t]
        return f"the {n:g} committed entrants who started in {t}", n
    return f"no entrants in {t}", 0.0


def _row_graduates_join(names: Names, pid: str, y: int) -> str:
    p = item_with_id(names.d.inst.training, pid)
    t = y - p.duration
    who, n = _entrant_words(names.d, p, t)
    rate = p.completion_rate * p.employment_rate
    if rate == 1:
        share = "all"
    elif p.employment_rate != 1:
        share = f"{p.completion_rate:g} × {p.employment_rate:g}"
    else:
        share = f"{p.completion_rate:g}"
    text = f"Graduates of training '{pid}' joining in {y} are {share} of {who}"
    if n is not None:
        text += f" = {rate * n:g} FTE"
    text += f", placed in {names.where(p.region)} or, without a free post, unplaced"
    if p.from_group:
        text += (f"; they leave {names.group(p.from_group)} and join {names.group(p.group)} "
                 "in the same unit (unplaced ones stay)")
    return text + "."


def _before(d: ModelData, p, y: int) -> str:
    """What the intake of ``y`` is measured against: the year before's."""
    t = y - 1
    if t in intake_years(d, p):
        return f"in {t}"
    n = p.committed.get(t, 0.0) if t <= d.base else 0.0
    if n > 0:
        return f"the {amount(n)} committed entrants of {t}"
    return f"in {t} (0 places)"


def _ramp_words(names: Names, pid: str, y: int, more: str, field: str) -> str:
    p = item_with_id(names.d.inst.training, pid)
    limit = getattr(p, field)
    text = (f"Training '{pid}' may start at most {amount(limit)} {more} places in {y} "
            f"than {_before(names.d, p, y)} ({field})")
    if y not in intake_years(names.d, p):
        text += f"; {y} is not one of its intake years (0 places)"
    return text + "."


def _row_supervision_capacity(names: Names, pid: str, y: int) -> str:
    p = item_with_id(names.d.inst.training, pid)
    parts = [_entrant_words(names.d, p, y - k) for k in range(p.duration)]
    committed = sum(n for _, n in parts if n)
    fixed = [w for w, n in parts if n]
    text = f"Trainees of '{pid}' in training in {y}"
    if len(fixed) == 1:
        text += f" ({fixed[0]}, plus any new places)"
    elif fixed:
        text += f" ({', '.join(fixed)}: {committed:g} in all, plus any new places)"
    sup = p.supervision
    return (text + f" may not exceed {sup.max_trainees_per_fte:g} per FTE of "
            f"{names.group(sup.group)} in {names.scope(p.region)} at the end of {y - 1}.")


_ROWS = {
    "graduates_join": _row_graduates_join,
    "graduates_share": lambda names, pid, u, y: (
        f"{names.unit(u)} takes at most its share of training '{pid}''s graduates in {y} "
        f"({placements(names.d)[pid].share(u, y):.1%}, by its placement)."),
    "supervision_capacity": _row_supervision_capacity,
    "intake_increase": lambda names, pid, y: _ramp_words(names, pid, y, "more",
                                                         "max_increase"),
    "intake_decrease": lambda names, pid, y: _ramp_words(names, pid, y, "fewer",
                                                         "max_decrease"),
    "cohort_min": lambda names, pid, y: (
        f"Training '{pid}' runs a cohort in {y} only with at least "
        f"{item_with_id(names.d.inst.training, pid).min_cohort:g} places."),
    "cohort_max": lambda names, pid, y: (
        f"Training '{pid}' takes places in {y} only if its cohort runs, and at most "
        f"{item_with_id(names.d.inst.training, pid).max_places_per_year:g}."),
}
"""Its rows, as sentences with the instance's numbers."""


# ------------------------------------------------------------------ validation

def validate(inst) -> list[Finding]:
    """Committed years, intake years and cohort caps of each programme (the
    groups it names are references, checked with the others')."""
    b = inst.horizon.base_year
    years = set(inst.years)
    out = []
    for i, p in enumerate(inst.training):
        for start in p.committed:
            if start > b:
                out.append(Finding((NAME, i, "committed", start),
                                   f"committed start year {start} is after the base year {b}"))
            elif start + p.duration <= b:
                out.append(Finding((NAME, i, "committed", start),
                                   f"entrants of {start} finished a {p.duration}-year course "
                                   f"by the base year {b}; count them in the workforce"))
        for y in p.intake_years or ():
            if y not in years:
                out.append(Finding((NAME, i, "intake_years"),
                                   f"intake year {y} is outside the plan years "
                                   f"{min(years)}–{max(years)}"))
        if has_runs(p) and p.max_places_per_year is None:
            which = "min_cohort" if p.min_cohort > 0 else "cohort_fixed_cost"
            out.append(Finding((NAME, i, which), f"{which} needs max_places_per_year"))
        if (p.max_places_per_year is not None and p.min_cohort > p.max_places_per_year):
            out.append(Finding((NAME, i, "min_cohort"),
                               f"min_cohort {p.min_cohort:g} exceeds max_places_per_year "
                               f"{p.max_places_per_year:g}"))
        if p.from_group is not None and p.from_group == p.group:
            out.append(Finding((NAME, i, "from_group"), "from_group must differ from group"))
    return out
