"""Training programmes (SPEC §2.3).

For programme p with duration ℓ, completion c, employment κ, intake years I_p::

    N[p,y] ≥ 0 places starting in y ∈ I_p          (integer when integer_places)
    min_cohort·RUN[p,y] ≤ N[p,y] ≤ max_places·RUN[p,y]   cohort_min, cohort_max
        (RUN ∈ {0,1} only when min_cohort > 0 or cohort_fixed_cost > 0;
         otherwise N[p,y] ≤ max_places is a bound)
    E[p,t] = N[p,t] for t ∈ I_p,  committed[t] for t ≤ b,  0 otherwise
    Σ_{u ∈ U(p)} A[p,u,y] + UP[p,y] = c·κ·E[p,y−ℓ]   graduates_join[p,y], y ∈ Y
        (UP ≥ 0: graduates no unit in scope has a post for, SPEC §2.11)
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

import pyomo.environ as pyo

from formulations.data import ModelData
from formulations.ledger import Ledger
from formulations.stock import stock


def intake_years(d: ModelData, p) -> list[int]:
    return [y for y in d.years if p.intake_years is None or y in p.intake_years]


def entrants(m: pyo.ConcreteModel, d: ModelData, p, t: int):
    """E[p,t]: a variable for intake years, committed entrants up to the base year."""
    if (p.id, t) in m.N:
        return m.N[p.id, t]
    if t <= d.base:
        return p.committed.get(t, 0.0)
    return 0.0


def has_runs(p) -> bool:
    return p.min_cohort > 0 or p.cohort_fixed_cost > 0


def decisions(b: pyo.Block) -> list[pyo.Var]:
    """The lever's decisions, indexed with the year last: places and cohorts run
    (what a stochastic plan decides now for the here-and-now years)."""
    return [b.N, b.RUN]


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
    grad_years = {
        p.id: [y for y in d.years if (p.id, y - p.duration) in m.N
               or p.committed.get(y - p.duration, 0.0) > 0]
        for p in progs
    }
    alloc_index = [(p.id, u, y) for p in progs for y in grad_years[p.id]
                   for u in d.units_of(p.region)]
    m.A = pyo.Var(alloc_index, domain=pyo.NonNegativeReals,
                  doc="graduates joining unit u in year y, FTE")
    grad_index = [(p.id, y) for p in progs for y in grad_years[p.id]]
    m.UP = pyo.Var(grad_index, domain=pyo.NonNegativeReals,
                   doc="graduates no unit in scope has a post for, FTE")

    def graduates_join(m, pid, y):
        p = by_id[pid]
        produced = p.completion_rate * p.employment_rate * entrants(m, d, p, y - p.duration)
        return sum(m.A[pid, u, y] for u in d.units_of(p.region)) + m.UP[pid, y] == produced

    m.graduates_join = pyo.Constraint(grad_index, rule=graduates_join)

    for pid, u, y in alloc_index:
        p = by_id[pid]
        ledger.add_inflow(u, p.group, y, 1.0, m.A[pid, u, y])
        if p.from_group is not None:
            ledger.add_inflow(u, p.from_group, y, -1.0, m.A[pid, u, y])

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
                cap = p.supervision.max_trainees_per_fte * sum(
                    d.S0[u, p.supervision.group] for u in d.units_of(p.region))
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
        return trainees <= p.supervision.max_trainees_per_fte * supervisors

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
