"""Fair shares (SPEC §2.12).

Targets that share a ``fair_share`` label form a group G. For every group and
year in which at least two of its targets require more than 0::

    M[G,y] ≥ SF[k,y] / required[k,y]     every k ∈ G with required[k,y] > 0   fair_share_rate
    M = Σ_G Σ_y M[G,y]                                                         fairness

``M[G,y]`` is the largest shortfall rate in the group that year. The solve
layer minimises M in a stage after W (``W ≤ W₁ + tol``), so a shortfall that
cannot be avoided is spread so that the worst-off member of each group is as
well off as it can be, without raising W; the cost stage then keeps both W and
M. The objective ``fairness`` is declared (deactivated when there is no group)
so that the standard-form hand-over carries its cost vector.
"""

from __future__ import annotations

import pyomo.environ as pyo

from formulations.data import ModelData


def fair_share_years(d: ModelData) -> dict[tuple[str, int], list[str]]:
    """(group, year) -> the member targets with required > 0, for the pairs with at
    least two such members (a lone member has no one to be fair to)."""
    members: dict[tuple[str, int], list[str]] = {}
    for t in d.inst.targets:
        if t.fair_share is None:
            continue
        for y, req in t.required.items():
            if req > 0:
                members.setdefault((t.fair_share, y), []).append(t.id)
    return {k: v for k, v in sorted(members.items()) if len(v) >= 2}


def define_fairness(m: pyo.ConcreteModel, d: ModelData) -> None:
    groups = fair_share_years(d)
    required = {t.id: t.required for t in d.inst.targets}
    m.M = pyo.Var(list(groups), domain=pyo.NonNegativeReals,
                  doc="largest shortfall rate in a fair-share group and year")
    m.fair_share_rate = pyo.Constraint(
        [(g, y, k) for (g, y), ks in groups.items() for k in ks],
        rule=lambda m, g, y, k: m.M[g, y] >= m.SF[k, y] / required[k][y])
    if groups:
        m.fairness = pyo.Objective(expr=sum(m.M[i] for i in groups), sense=pyo.minimize)


def member_rates(m: pyo.ConcreteModel, d: ModelData) -> dict[str, dict[int, dict[str, float]]]:
    """group -> year -> {target: shortfall rate} of the plan loaded in ``m``, the
    shortfall being max(0, required − achieved) as reported."""
    required = {t.id: t.required for t in d.inst.targets}
    out: dict[str, dict[int, dict[str, float]]] = {}
    for (g, y), ks in fair_share_years(d).items():
        out.setdefault(g, {})[y] = {
            k: max(0.0, required[k][y] - pyo.value(m.achieved[k, y])) / required[k][y]
            for k in ks}
    return out


def fairness_summary(before: dict, after: dict) -> dict:
    """What ``summary.json`` says of fair shares: the measure M (sum over groups and
    years of the largest shortfall rate) of the reported plan, and per group and
    year the worst rate and each member's rate, after and before the fairness
    stage (the shortfall stage's arbitrary split)."""
    groups = {}
    measure = 0.0
    for g, years in after.items():
        groups[g] = {}
        for y, rates in years.items():
            was = before.get(g, {}).get(y, {})
            worst = max(rates.values())
            measure += worst
            groups[g][str(y)] = {
                "worst": round(worst, 6),
                "worst_before": round(max(was.values()), 6) if was else None,
                "members": {k: {"rate": round(r, 6),
                                "before": round(was[k], 6) if k in was else None}
                            for k, r in rates.items()}}
    return {"measure": round(measure, 6), "groups": groups}
