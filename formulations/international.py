"""International recruitment routes (SPEC §2.6).

For route i::

    0 ≤ I[i,y] ≤ max_per_year                 (a bound)
    Σ_y I[i,y] ≤ max_total                    recruits_total[i]
    Σ_{u ∈ U(i)} AI[i,u,y] = I[i,y]           recruits_join[i,y]
    cost[i,y] = cost_per_recruit·I[i,y]

Recruits count in staff in post at the end of the year they are recruited in.
"""

from __future__ import annotations

import pyomo.environ as pyo

from formulations.data import ModelData
from formulations.ledger import Ledger


def decisions(b: pyo.Block) -> list[pyo.Var]:
    """The lever's decisions, indexed with the year last: recruits."""
    return [b.I]


def define_international(m: pyo.ConcreteModel, d: ModelData, ledger: Ledger) -> None:
    routes = d.inst.international
    by_id = {r.id: r for r in routes}
    iy = [(r.id, y) for r in routes for y in d.years]
    m.I = pyo.Var(iy, domain=pyo.NonNegativeReals, doc="international recruits, FTE",
                  bounds=lambda m, i, y: (0.0, by_id[i].max_per_year))
    m.recruits_total = pyo.Constraint(
        [r.id for r in routes if r.max_total is not None],
        rule=lambda m, i: sum(m.I[i, y] for y in d.years) <= by_id[i].max_total)
    alloc = [(r.id, u, y) for r in routes for y in d.years for u in d.units_of(r.region)]
    m.AI = pyo.Var(alloc, domain=pyo.NonNegativeReals, doc="recruits joining unit u, FTE")
    m.recruits_join = pyo.Constraint(
        iy, rule=lambda m, i, y: sum(m.AI[i, u, y] for u in d.units_of(by_id[i].region))
        == m.I[i, y])
    for i, u, y in alloc:
        ledger.add_inflow(u, by_id[i].group, y, 1.0, m.AI[i, u, y])
    m.international_cost = pyo.Expression(
        iy, rule=lambda m, i, y: by_id[i].cost_per_recruit * m.I[i, y])
    for r in routes:
        for y in d.years:
            ledger.charge(d.pot_of(r), y, m.international_cost[r.id, y])
