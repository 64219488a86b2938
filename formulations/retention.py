"""Retention schemes (SPEC §2.5).

For scheme s, eligible unit u (with σ_u = baseline FTE of u in the scheme's
groups / 1000), response breakpoints (s_k, r_k) per 1,000 FTE with last spend
f_max, share cap ρ::

    F[s,u,y] ≥ 0 funding;  Z[s,u,y] ∈ {0,1} funded (when fixed_cost, min_funding
        or max_units_per_year is set)
    min_funding·Z[s,u,y] ≤ F[s,u,y] ≤ σ_u·f_max·Z[s,u,y]     funding_min, funding_max
        (without Z, F ≤ σ_u·f_max is a bound)
    Σ_g RET[s,u,g,y] ≤ σ_u·(r_k − slope_k·s_k)·Z[s,u,y] + slope_k·F[s,u,y]
                                                              retained_response[s,u,y,k]
        (Z = 1 without a funded flag; with Z = 1 this is the segment
         σ_u·r_k + slope_k·(F − σ_u·s_k), with Z = 0 it holds with F = 0)
    RET[s,u,g,y] ≤ ρ·λ[u,g]·S[u,g,y−1]                       retention_cap[s,u,g,y]
    Σ_s RET[s,u,g,y] ≤ λ[u,g]·S[u,g,y−1]                      leavers_cap[u,g,y]
        (written only where the shares ρ of the schemes covering (u,g) add up
         to more than 1; otherwise retention_cap already implies it)
    Σ_u Z[s,u,y] ≤ max_units_per_year                         units_funded_cap[s,y]
    cost[s,y] = Σ_u (F[s,u,y] + fixed_cost·Z[s,u,y])

Retained staff are leavers who stay: they are added back to the stock in the
year they would have left. The big-M of ``funding_max`` is σ_u·f_max, the most
the response can use, from the data. Units with no baseline staff in the
scheme's groups cannot be funded (σ_u = 0) and get no variables.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyomo.environ as pyo

from formulations.data import ModelData
from formulations.ledger import Ledger
from formulations.levers import ChoiceCap, Finding, Limit, clean, item_with_id
from formulations.response import max_spend, response_problem, segments
from formulations.stock import stock
from formulations.words import Names, listed, reached, value_words

NAME = "retention"
LABEL = "Retention"
COLUMNS = ("scheme", "unit", "year", "funding", "funded", "retained", "cost")
FLOWS = ("retained",)
DECIDED = "funding"
"""Its table's column of the decision a stochastic plan takes now."""
EXPLAIN_ORDER = 4


def has_funded_flag(s) -> bool:
    return s.fixed_cost > 0 or s.min_funding > 0 or s.max_units_per_year is not None


def decisions(b: pyo.Block) -> list[pyo.Var]:
    """The lever's decisions, indexed with the year last: funding and unit funded
    (per unit: the data decides which units are eligible)."""
    return [b.F, b.Z]


def share_out_moves(b: pyo.Block) -> list[pyo.Var]:
    """The share-out may move the staff retained ``RET`` within the funding's
    response (held too, rows whose every column is held failed HiGHS's presolve
    by the earlier solve's tolerance on stepping-forward-2017)."""
    return [b.RET]


def unit_cost(scheme, funding, funded):
    """cost at one unit in a year: its funding, plus the fixed cost when funded
    (variables in the model, the plan's values in its table)."""
    return funding + scheme.fixed_cost * funded


def define_retention(m: pyo.ConcreteModel, d: ModelData, ledger: Ledger) -> None:
    schemes = d.inst.retention
    by_id = {s.id: s for s in schemes}
    suy = [(s.id, u, y) for s in schemes for u in d.eligible[s.id] for y in d.years]
    fmax = {s.id: max_spend(s.response) for s in schemes}
    m.F = pyo.Var(suy, domain=pyo.NonNegativeReals, doc="retention funding, currency",
                  bounds=lambda m, s, u, y: (0.0, d.sigma[s, u] * fmax[s]))
    z_index = [i for i in suy if has_funded_flag(by_id[i[0]])]
    m.Z = pyo.Var(z_index, domain=pyo.Binary, doc="unit funded in the year")
    m.funding_min = pyo.Constraint(
        [i for i in z_index if by_id[i[0]].min_funding > 0],
        rule=lambda m, s, u, y: m.F[s, u, y] >= by_id[s].min_funding * m.Z[s, u, y])
    m.funding_max = pyo.Constraint(
        z_index, rule=lambda m, s, u, y: m.F[s, u, y] <= d.sigma[s, u] * fmax[s] * m.Z[s, u, y])

    # Groups with no leavers cannot be retained from.
    ret_index = [(s, u, g, y) for s, u, y in suy for g in d.scheme_groups[s]
                 if d.lam[u, g] > 0]
    m.RET = pyo.Var(ret_index, domain=pyo.NonNegativeReals, doc="retained staff, FTE")
    groups_of = {}
    for s, u, g, y in ret_index:
        groups_of.setdefault((s, u, y), []).append(g)

    seg = {s.id: segments(s.response) for s in schemes}
    funded = {i: m.Z[i] for i in z_index}

    def retained_response(m, s, u, y, k):
        sk, rk, slope = seg[s][k]
        sigma = d.sigma[s, u]
        retained = sum(m.RET[s, u, g, y] for g in groups_of.get((s, u, y), ()))
        # Perspective form: the segment's intercept σ·(r_k − slope_k·s_k) ≥ 0 is
        # switched on by Z. Same integer plans (Z = 1: the segment as written;
        # Z = 0: F = 0 and nothing is retained either way), but a fractional Z can
        # no longer buy the steep first segment while paying a sliver of the
        # fixed cost — the LP bound is the convex hull of each unit-year.
        on = funded.get((s, u, y), 1.0)
        return retained <= sigma * (rk - slope * sk) * on + slope * m.F[s, u, y]

    m.retained_response = pyo.Constraint(
        [(s, u, y, k) for s, u, y in suy if (s, u, y) in groups_of for k in range(len(seg[s]))],
        rule=retained_response)
    m.retention_cap = pyo.Constraint(
        ret_index, rule=lambda m, s, u, g, y: m.RET[s, u, g, y]
        <= by_id[s].max_retained_share * d.lam[u, g] * stock(m, d, u, g, y - 1))

    covering: dict[tuple[str, str, int], list[str]] = {}
    for s, u, g, y in ret_index:
        covering.setdefault((u, g, y), []).append(s)
    shared = [k for k, ss in covering.items()
              if sum(by_id[s].max_retained_share for s in ss) > 1.0]
    m.leavers_cap = pyo.Constraint(
        shared, rule=lambda m, u, g, y: sum(m.RET[s, u, g, y] for s in covering[u, g, y])
        <= d.lam[u, g] * stock(m, d, u, g, y - 1))

    m.units_funded_cap = pyo.Constraint(
        [(s.id, y) for s in schemes if s.max_units_per_year is not None for y in d.years
         if len(d.eligible[s.id]) > s.max_units_per_year],
        rule=lambda m, s, y: sum(m.Z[s, u, y] for u in d.eligible[s])
        <= by_id[s].max_units_per_year)

    for s, u, g, y in ret_index:
        ledger.add_inflow(u, g, y, 1.0, m.RET[s, u, g, y], "retained")

    def cost(m, s, y):
        scheme = by_id[s]
        total = 0.0
        for u in d.eligible[s]:
            if (s, u, y) in m.Z:
                total += unit_cost(scheme, m.F[s, u, y], m.Z[s, u, y])
            else:
                total += m.F[s, u, y]
        return total

    m.retention_cost = pyo.Expression([(s.id, y) for s in schemes for y in d.years], rule=cost)
    for s in schemes:
        for y in d.years:
            ledger.charge(d.pot_of(s), y, m.retention_cost[s.id, y])


define = define_retention


def results(m: pyo.Block, d: ModelData) -> pd.DataFrame:
    """The ``retention`` table: funding, funded, staff kept and cost per scheme,
    eligible unit and year."""
    rows = []
    for s in d.inst.retention:
        for u in d.eligible[s.id]:
            for y in d.years:
                funding = clean(m.F[s.id, u, y].value)
                if (s.id, u, y) in m.Z:
                    funded = clean(round(m.Z[s.id, u, y].value or 0.0))
                else:
                    funded = 1.0 if funding > 0 else 0.0
                retained = sum(m.RET[s.id, u, g, y].value or 0.0
                               for g in d.scheme_groups[s.id] if (s.id, u, g, y) in m.RET)
                rows.append([s.id, u, y, funding, funded, clean(retained),
                             clean(unit_cost(s, funding, funded))])
    return pd.DataFrame(rows, columns=list(COLUMNS))


KINDS = {"retention_units": "units funded per year"}


def limits(d: ModelData) -> list[Limit]:
    """Caps on the units funded a year (valued by funding the best unfunded unit)."""
    return [ChoiceCap("retention_units", ("units_funded_cap", (s.id, y)), s.id, y,
                      s.max_units_per_year, "funded unit",
                      tuple((u, ("Z", (s.id, u, y))) for u in d.eligible[s.id]),
                      one_more="funding one more unit",
                      none_left="no further unit could be funded")
            for s in d.inst.retention if s.max_units_per_year is not None for y in d.years]


def explain(d: ModelData, tables: dict[str, pd.DataFrame], mv: pd.DataFrame | None,
            what: str = "weighted shortfall") -> list[str]:
    """Schemes that fund as many units a year as they may."""
    out = []
    ret = tables["retention"]
    for s in d.inst.retention:
        if s.max_units_per_year is None:
            continue
        rows = ret[ret["scheme"] == s.id]
        full = [str(y) for y, g in rows.groupby("year", sort=True)
                if s.max_units_per_year < len(d.eligible[s.id])
                and reached(g["funded"].sum(), s.max_units_per_year)]
        if full:
            n = s.max_units_per_year
            out.append(f"Retention scheme '{s.id}' funds its maximum of {n} "
                       f"unit{'s' * (n != 1)} a year in {listed(full)}"
                       + value_words(mv, "retention_units", s.id, full,
                                     "funding one more unit", what) + ".")
    return out


VARIABLES = {
    "RET": "staff kept by retention scheme '{0}'", "F": "funding of retention scheme '{0}'",
    "Z": "units funded by retention scheme '{0}'",
}
"""A column's words when its lower bound of zero is part of a conflict."""


def describe_flow(flow: str, item: str, names: Names) -> str:
    return f"staff kept by retention scheme '{item}'"


def describe_row(name: str, index: tuple[Any, ...], names: Names) -> str | None:
    if name == "funding_min":
        s, u, y = index
        least = names.money(item_with_id(names.d.inst.retention, s).min_funding)
        return (f"Retention scheme '{s}' funds {names.unit(u)} in {y} with at least "
                f"{least} if it funds it at all.")
    if name == "funding_max":
        s, u, y = index
        return f"Retention scheme '{s}' spends at {names.unit(u)} in {y} only if it funds it."
    if name == "retained_response":
        s, u, y, *_k = index
        return (f"Staff kept at {names.unit(u)} in {y} by retention scheme '{s}' follow its "
                "response curve for the funding given.")
    if name == "retention_cap":
        s, u, g, y = index
        return (f"Retention scheme '{s}' keeps at most "
                f"{item_with_id(names.d.inst.retention, s).max_retained_share:.0%} "
                f"of the {names.group(g)} leaving {names.unit(u)} in {y}.")
    if name == "leavers_cap":
        u, g, y = index
        return (f"Retention schemes together keep at most the {names.group(g)} who would "
                f"leave {names.unit(u)} in {y}.")
    if name == "units_funded_cap":
        s, y = index
        n = item_with_id(names.d.inst.retention, s).max_units_per_year
        return f"Retention scheme '{s}' funds at most {n} unit{'s' * (n != 1)} in {y}."
    return None


def describe_bound(name: str, index: tuple[Any, ...], which: str, names: Names) -> str | None:
    if name != "F":
        return None
    s, u, y = index
    return (f"Retention scheme '{s}' spends at most what its response curve can use at "
            f"{names.unit(u)} in {y}.")


def validate(inst) -> list[Finding]:
    """Each scheme's response curve is concave and starts at (0, 0) (the units and
    groups it names are references, checked with the others')."""
    return [Finding((NAME, i, "response"), why) for i, s in enumerate(inst.retention)
            if (why := response_problem(s.response))]
