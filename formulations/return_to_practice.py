"""Return-to-practice campaigns (SPEC §2.4).

For campaign c with response breakpoints (s_k, r_k) and pool P::

    0 ≤ X[c,y] ≤ x_max                        spend (x_max: last breakpoint)
    X[c,y] ≤ x_max·ACT[c,y]                   campaign_active, ACT ∈ {0,1} when fixed_cost > 0
    RTP[c,y] ≤ (r_k − slope_k·s_k)·ACT[c,y] + slope_k·X[c,y]
                                              returners_response[c,y,k], every segment k
        (ACT = 1 without a fixed cost; with ACT = 1 this is the segment
         r_k + slope_k·(X − s_k), with ACT = 0 it holds with X = 0)
    Σ_y RTP[c,y] ≤ P                          returners_pool[c]
    Σ_{u ∈ U(c)} AR[c,u,y] = RTP[c,y]         returners_join[c,y]
    AR[c,u,y] = share[c,u,y]·RTP[c,y]         returners_share[c,u,y], u ∈ U(c)
        (placement, SPEC §2.14: formulations.placement's shares by the
         campaign's rule; no rows when free or U(c) is one unit)
    cost[c,y] = X[c,y] + cost_per_returner·RTP[c,y] + fixed_cost·ACT[c,y]

Returners count in staff in post at the end of the year they return in. The
big-M of ``campaign_active`` is x_max, from the data.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyomo.environ as pyo

from formulations.data import ModelData
from formulations.ledger import Ledger
from formulations.levers import Finding, Limit, RowLimit, clean, item_with_id
from formulations.placement import Placed, place
from formulations.response import max_spend, response_problem, segments
from formulations.words import Names, listed, money, reached, value_words

NAME = "return_to_practice"
LABEL = "Return to practice"
COLUMNS = ("campaign", "group", "year", "spend", "returners", "cost")
FLOWS = ("returners",)
DECIDED = "spend"
"""Its table's column of the decision a stochastic plan takes now."""
EXPLAIN_ORDER = 1


def placements(d: ModelData) -> dict[str, Placed]:
    """Each campaign's placement (SPEC §2.14) for its group, every year of the model
    (plan and run-out years)."""
    return {x.id: place(d, NAME, x, x.group, d.years) for x in d.inst.return_to_practice}


def decisions(b: pyo.Block) -> list[pyo.Var]:
    """The lever's decisions, indexed with the year last: spend and campaign active."""
    return [b.X, b.ACT]


def held(b: pyo.Block) -> list[pyo.Var]:
    """Its decisions and its returners, held at the last plan year's in the
    run-out years (SPEC §2.15)."""
    return [*decisions(b), b.RTP]


def allocations(b: pyo.Block) -> pyo.Var:
    """Where the returners go: ``AR[c,u,y]``, one campaign's supply shared among
    the units in its scope (read by the engine's share-out)."""
    return b.AR


def define_return_to_practice(m: pyo.ConcreteModel, d: ModelData, ledger: Ledger) -> None:
    camps = d.inst.return_to_practice
    by_id = {c.id: c for c in camps}
    cy = [(c.id, y) for c in camps for y in d.years]
    m.X = pyo.Var(cy, domain=pyo.NonNegativeReals, doc="campaign spend, currency",
                  bounds=lambda m, c, y: (0.0, max_spend(by_id[c].response)))
    m.RTP = pyo.Var(cy, domain=pyo.NonNegativeReals, doc="returners, FTE")
    act = [(c.id, y) for c in camps if c.fixed_cost > 0 for y in d.years]
    m.ACT = pyo.Var(act, domain=pyo.Binary, doc="campaign active in the year")
    m.campaign_active = pyo.Constraint(
        act, rule=lambda m, c, y: m.X[c, y] <= max_spend(by_id[c].response) * m.ACT[c, y])

    seg = {c.id: segments(c.response) for c in camps}
    active = {i: m.ACT[i] for i in act}

    def returners_response(m, c, y, k):
        sk, rk, slope = seg[c][k]
        # Perspective form: the intercept r_k − slope_k·s_k ≥ 0 is switched on by
        # ACT, so a fractional ACT cannot buy the steep first segment for a sliver
        # of the fixed cost; integer plans are unchanged (ACT = 0 forces X = 0).
        on = active.get((c, y), 1.0)
        return m.RTP[c, y] <= (rk - slope * sk) * on + slope * m.X[c, y]

    m.returners_response = pyo.Constraint(
        [(c.id, y, k) for c in camps for y in d.years for k in range(len(seg[c.id]))],
        rule=returners_response)
    m.returners_pool = pyo.Constraint(
        [c.id for c in camps],
        rule=lambda m, c: sum(m.RTP[c, y] for y in d.years) <= by_id[c].pool)

    alloc = [(c.id, u, y) for c in camps for y in d.years for u in d.units_of(c.region)]
    m.AR = pyo.Var(alloc, domain=pyo.NonNegativeReals, doc="returners joining unit u, FTE")
    m.returners_join = pyo.Constraint(
        cy, rule=lambda m, c, y: sum(m.AR[c, u, y] for u in d.units_of(by_id[c].region))
        == m.RTP[c, y])
    for c, u, y in alloc:
        ledger.add_inflow(u, by_id[c].group, y, 1.0, m.AR[c, u, y], "returners")
    # Placement (SPEC §2.14): each unit takes exactly its share of the returners.
    placed = placements(d)
    m.returners_share = pyo.Constraint(
        [(c, u, y) for c, u, y in alloc if placed[c].placed],
        rule=lambda m, c, u, y: m.AR[c, u, y] == placed[c].share(u, y) * m.RTP[c, y])

    def cost(m, c, y):
        camp = by_id[c]
        fixed = camp.fixed_cost * m.ACT[c, y] if (c, y) in m.ACT else 0.0
        return m.X[c, y] + camp.cost_per_returner * m.RTP[c, y] + fixed

    m.return_to_practice_cost = pyo.Expression(cy, rule=cost)
    for c in camps:
        for y in d.years:
            ledger.charge(d.pot_of(c), y, m.return_to_practice_cost[c.id, y])


define = define_return_to_practice


def results(m: pyo.Block, d: ModelData) -> pd.DataFrame:
    """The ``return_to_practice`` table: spend, returners and cost per campaign and year."""
    rows = []
    for c in d.inst.return_to_practice:
        for y in d.years:
            rows.append([c.id, c.group, y, clean(m.X[c.id, y].value),
                         clean(m.RTP[c.id, y].value),
                         clean(pyo.value(m.return_to_practice_cost[c.id, y]))])
    return pd.DataFrame(rows, columns=list(COLUMNS))


KINDS = {"return_to_practice_pool": "return-to-practice pool"}


def limits(d: ModelData) -> list[Limit]:
    """Each campaign's pool of returners over the plan."""
    return [RowLimit("return_to_practice_pool", ("returners_pool", c.id), c.id, "all", c.pool,
                     "returner") for c in d.inst.return_to_practice]


def explain(d: ModelData, tables: dict[str, pd.DataFrame], mv: pd.DataFrame | None,
            what: str = "weighted shortfall") -> list[str]:
    """Pools used up, campaigns at the end of their response curve."""
    out = []
    rtp = tables["return_to_practice"]
    for c in d.inst.return_to_practice:
        rows = rtp[rtp["campaign"] == c.id]
        if c.pool > 0 and reached(rows["returners"].sum(), c.pool):
            out.append(f"Return-to-practice pool '{c.id}' is used up: all {c.pool:g} "
                       "returners are brought back"
                       + value_words(mv, "return_to_practice_pool", c.id, ["all"],
                                     "one more returner in the pool", what) + ".")
        top = [str(r["year"]) for _, r in rows.iterrows()
               if max_spend(c.response) > 0 and reached(r["spend"], max_spend(c.response))]
        if top:
            out.append(f"Campaign '{c.id}' spends the most its response curve allows "
                       f"({money(max_spend(c.response), d.inst.currency)}) in {listed(top)}.")
    return out


VARIABLES = {
    "AR": "returners of campaign '{0}' placed in a unit", "RTP": "returners of campaign '{0}'",
    "X": "spend of campaign '{0}'", "ACT": "campaign '{0}' running",
}
"""A column's words when its lower bound of zero is part of a conflict."""


def describe_flow(flow: str, item: str, names: Names) -> str:
    return f"returners of campaign '{item}'"


def describe_row(name: str, index: tuple[Any, ...], names: Names) -> str | None:
    c, *rest = index
    if name == "returners_response":
        camp = item_with_id(names.d.inst.return_to_practice, c)
        return (f"Returners of campaign '{c}' in {rest[0]} follow its response curve: at most "
                f"{camp.response[-1][1]:g} for the most it can spend, "
                f"{names.money(max_spend(camp.response))}.")
    if name == "returners_pool":
        pool = item_with_id(names.d.inst.return_to_practice, c).pool
        return (f"Campaign '{c}' can bring back at most {pool:g} "
                "returners over the whole plan (its pool).")
    if name == "returners_share":
        u, y = rest
        return (f"{names.unit(u)} takes its share of campaign '{c}''s returners in {y} "
                f"({placements(names.d)[c].share(u, y):.1%}, by its placement).")
    if name == "returners_join":
        return (f"Returners of campaign '{c}' in {rest[0]} join "
                f"{names.where(item_with_id(names.d.inst.return_to_practice, c).region)}.")
    if name == "campaign_active":
        return f"Campaign '{c}' spends in {rest[0]} only if it runs that year."
    return None


def describe_bound(name: str, index: tuple[Any, ...], which: str, names: Names) -> str | None:
    if name != "X":
        return None
    c, y = index
    return (f"Campaign '{c}' spends at most "
            f"{names.money(max_spend(item_with_id(names.d.inst.return_to_practice, c).response))} "
            f"in {y} (the end of its response curve).")


def validate(inst) -> list[Finding]:
    """Each campaign's response curve is concave and starts at (0, 0)."""
    return [Finding((NAME, i, "response"), why)
            for i, c in enumerate(inst.return_to_practice)
            if (why := response_problem(c.response))]
