"""International recruitment routes (SPEC §2.6).

For route i::

    0 ≤ I[i,y] ≤ max_per_year                 (a bound)
    Σ_y I[i,y] ≤ max_total                    recruits_total[i]
    Σ_{u ∈ U(i)} AI[i,u,y] = I[i,y]           recruits_join[i,y]
    AI[i,u,y] = share[i,u,y]·I[i,y]           recruits_share[i,u,y], u ∈ U(i)
        (placement, SPEC §2.14: formulations.placement's shares by the
         route's rule; no rows when free or U(i) is one unit)
    cost[i,y] = cost_per_recruit·I[i,y]

Recruits count in staff in post at the end of the year they are recruited in.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyomo.environ as pyo

from formulations.data import ModelData
from formulations.ledger import Ledger
from formulations.levers import ColumnCap, Limit, RowLimit, clean, item_with_id
from formulations.placement import Placed, place
from formulations.words import Names, listed, reached, value_words

NAME = "international"
LABEL = "International recruitment"
COLUMNS = ("route", "group", "year", "recruits", "cost")
FLOWS = ("international",)
DECIDED = "recruits"
"""Its table's column of the decision a stochastic plan takes now."""
EXPLAIN_ORDER = 3


def placements(d: ModelData) -> dict[str, Placed]:
    """Each route's placement (SPEC §2.14) for its group, every year of the model
    (plan and run-out years)."""
    return {x.id: place(d, NAME, x, x.group, d.years) for x in d.inst.international}


def decisions(b: pyo.Block) -> list[pyo.Var]:
    """The lever's decisions, indexed with the year last: recruits."""
    return [b.I]


def allocations(b: pyo.Block) -> pyo.Var:
    """Where the recruits go: ``AI[i,u,y]``, one route's supply shared among the
    units in its scope (read by the engine's share-out)."""
    return b.AI


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
        ledger.add_inflow(u, by_id[i].group, y, 1.0, m.AI[i, u, y], "international")
    # Placement (SPEC §2.14): each unit takes exactly its share of the recruits.
    placed = placements(d)
    m.recruits_share = pyo.Constraint(
        [(i, u, y) for i, u, y in alloc if placed[i].placed],
        rule=lambda m, i, u, y: m.AI[i, u, y] == placed[i].share(u, y) * m.I[i, y])
    m.international_cost = pyo.Expression(
        iy, rule=lambda m, i, y: by_id[i].cost_per_recruit * m.I[i, y])
    for r in routes:
        for y in d.years:
            ledger.charge(d.pot_of(r), y, m.international_cost[r.id, y])


define = define_international


def results(m: pyo.Block, d: ModelData) -> pd.DataFrame:
    """The ``international`` table: recruits and cost per route and year."""
    rows = []
    for r in d.inst.international:
        for y in d.years:
            rows.append([r.id, r.group, y, clean(m.I[r.id, y].value),
                         clean(pyo.value(m.international_cost[r.id, y]))])
    return pd.DataFrame(rows, columns=list(COLUMNS))


KINDS = {
    "international_per_year": "international recruits per year",
    "international_total": "international recruits in total",
}


def limits(d: ModelData) -> list[Limit]:
    """Recruits per year (a column bound) and in total (a row), per route."""
    out: list[Limit] = []
    for r in d.inst.international:
        for y in d.years:
            out.append(ColumnCap("international_per_year", ("I", (r.id, y)), r.id, y,
                                 r.max_per_year, "recruit"))
        if r.max_total is not None:
            out.append(RowLimit("international_total", ("recruits_total", r.id), r.id, "all",
                                r.max_total, "recruit"))
    return out


def explain(d: ModelData, tables: dict[str, pd.DataFrame], mv: pd.DataFrame | None,
            what: str = "weighted shortfall") -> list[str]:
    """Routes that recruit their maximum a year or in total."""
    out = []
    intl = tables["international"]
    for r in d.inst.international:
        rows = intl[intl["route"] == r.id]
        capped = [str(x["year"]) for _, x in rows.iterrows()
                  if r.max_per_year > 0 and reached(x["recruits"], r.max_per_year)]
        if capped:
            out.append(f"International route '{r.id}' recruits its maximum of "
                       f"{r.max_per_year:g} a year in {listed(capped)}"
                       + value_words(mv, "international_per_year", r.id, capped,
                                     "one more recruit", what) + ".")
        if r.max_total and reached(rows["recruits"].sum(), r.max_total):
            out.append(f"International route '{r.id}' recruits its maximum of "
                       f"{r.max_total:g} over the plan"
                       + value_words(mv, "international_total", r.id, ["all"],
                                     "one more recruit", what) + ".")
    return out


VARIABLES = {
    "I": "recruits of international route '{0}'",
    "AI": "recruits of international route '{0}' placed in a unit",
}
"""A column's words when its lower bound of zero is part of a conflict."""


def describe_flow(flow: str, item: str, names: Names) -> str:
    return f"recruits of international route '{item}'"


def describe_row(name: str, index: tuple[Any, ...], names: Names) -> str | None:
    if name == "recruits_total":
        (i,) = index
        return (f"International route '{i}' recruits at most "
                f"{item_with_id(names.d.inst.international, i).max_total:g} over the whole plan.")
    if name == "recruits_share":
        i, u, y = index
        return (f"{names.unit(u)} takes its share of international route '{i}''s recruits in "
                f"{y} ({placements(names.d)[i].share(u, y):.1%}, by its placement).")
    if name == "recruits_join":
        i, y = index
        return (f"Recruits of international route '{i}' in {y} join "
                f"{names.where(item_with_id(names.d.inst.international, i).region)}.")
    return None


def describe_bound(name: str, index: tuple[Any, ...], which: str, names: Names) -> str | None:
    if name != "I":
        return None
    i, y = index
    cap = item_with_id(names.d.inst.international, i).max_per_year
    return f"International route '{i}' recruits at most {cap:g} in {y}."
