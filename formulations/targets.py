"""Targets and deployment (SPEC §2.8).

When any target names a service, staff are deployed to services: for every
service v and group g named together in some target, and every unit u in the
scope of such a target::

    D[u,g,v,y] ≥ 0;   Σ_v D[u,g,v,y] ≤ S[u,g,y]          deployment_cap[u,g,y]

For target k with weights w_g (1 for a plain list of groups)::

    ACH[k,y] = Σ_{u ∈ scope(k)} Σ_g w_g·(D[u,g,service(k),y] if service else S[u,g,y])
    SF[k,y] ≥ required[k,y] − ACH[k,y],  SF ≥ 0          target_shortfall[k,y]

only for the years the target gives. A target without a service counts every FTE
of its groups in scope, deployed or not.
"""

from __future__ import annotations

import pyomo.environ as pyo

from formulations.data import ModelData


def weights(t) -> dict[str, float]:
    return dict(t.groups) if isinstance(t.groups, dict) else {g: 1.0 for g in t.groups}


def scope_units(d: ModelData, t) -> list[str]:
    if t.unit is not None:
        return [t.unit]
    return d.units_of(t.region)


def scope_label(t) -> str:
    if t.unit is not None:
        return f"unit:{t.unit}"
    if t.region is not None:
        return f"region:{t.region}"
    return "national"


def define_targets(m: pyo.ConcreteModel, d: ModelData) -> None:
    targets = d.inst.targets
    by_id = {t.id: t for t in targets}
    deploy: dict[tuple[str, str, str, int], None] = {}
    for t in targets:
        if t.service is None:
            continue
        for g in weights(t):
            for u in scope_units(d, t):
                for y in t.required:
                    deploy[u, g, t.service, y] = None
    m.D = pyo.Var(list(deploy), domain=pyo.NonNegativeReals,
                  doc="staff deployed to a service, FTE")
    services_of: dict[tuple[str, str, int], list[str]] = {}
    for u, g, v, y in deploy:
        services_of.setdefault((u, g, y), []).append(v)
    m.deployment_cap = pyo.Constraint(
        list(services_of), rule=lambda m, u, g, y: sum(m.D[u, g, v, y]
                                                       for v in services_of[u, g, y])
        <= m.S[u, g, y])

    ky = [(t.id, y) for t in targets for y in t.required]
    m.SF = pyo.Var(ky, domain=pyo.NonNegativeReals, doc="shortfall against target, FTE")

    def achieved(m, k, y):
        t = by_id[k]
        w = weights(t)
        if t.service is None:
            return sum(w[g] * m.S[u, g, y] for u in scope_units(d, t) for g in w if w[g])
        return sum(w[g] * m.D[u, g, t.service, y] for u in scope_units(d, t) for g in w if w[g])

    m.achieved = pyo.Expression(ky, rule=achieved)
    m.target_shortfall = pyo.Constraint(
        ky, rule=lambda m, k, y: m.SF[k, y] + m.achieved[k, y] >= by_id[k].required[y])
