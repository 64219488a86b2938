"""Budgets (SPEC §2.7).

For every declared pot k and plan year y with a limit::

    Σ_{levers charged to k} cost[·,y] ≤ per_year[k,y]     budget_per_year[k,y]
    Σ_y Σ_{levers charged to k} cost[·,y] ≤ total[k]      budget_total[k]

``per_year`` limits bind in the plan years only; ``total`` counts the run-out
years too (SPEC §2.15: a run-out year's spend is the plan's consequence, and a
total is a finite resource).

A pot that is not declared (including ``main`` when no pots are declared) has no
limit; its spend is still reported and still minimised in stage 2.
"""

from __future__ import annotations

import pyomo.environ as pyo

from formulations.data import ModelData
from formulations.ledger import Ledger


def per_year_limit(d: ModelData) -> dict[tuple[str, int], float]:
    """(pot, year) -> limit, for the plan years that have one (never a run-out year)."""
    out = {}
    for b in d.inst.budgets:
        if isinstance(b.per_year, dict):
            out.update({(b.id, y): v for y, v in b.per_year.items()})
        elif b.per_year is not None:
            out.update({(b.id, y): b.per_year for y in d.plan_years})
    return out


def define_budgets(m: pyo.ConcreteModel, d: ModelData, ledger: Ledger) -> None:
    m.pot_spend = pyo.Expression(
        [(k, y) for k in d.pots for y in d.years],
        rule=lambda m, k, y: sum(ledger.spend.get((k, y), ())))
    limits = per_year_limit(d)
    m.budget_per_year = pyo.Constraint(
        [key for key in limits if ledger.spend.get(key)],
        rule=lambda m, k, y: m.pot_spend[k, y] <= limits[k, y])
    totals = {b.id: b.total for b in d.inst.budgets if b.total is not None}
    m.budget_total = pyo.Constraint(
        [k for k in totals if any(ledger.spend.get((k, y)) for y in d.years)],
        rule=lambda m, k: sum(m.pot_spend[k, y] for y in d.years) <= totals[k])
