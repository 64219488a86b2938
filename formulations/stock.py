"""Stock and flow (SPEC §2.2).

For every unit u, group g and plan year y::

    S[u,g,y] = (1 − λ[u,g])·S[u,g,y−1] + Σ_s RET[s,u,g,y] + J[u,g]
             + Σ_{p: group(p)=g} A[p,u,y] − Σ_{p: from_group(p)=g} A[p,u,y]
             + Σ_{c: group(c)=g} AR[c,u,y] + Σ_{i: group(i)=g} AI[i,u,y]
    S[u,g,y] ≥ 0

``S[u,g,b]`` is the baseline, a constant. Lever modules record their terms in
the ledger; :func:`define_stock_balance` writes one row ``stock_balance[u,g,y]``
per unit, group and year once every lever is in.
"""

from __future__ import annotations

import pyomo.environ as pyo

from formulations.data import ModelData
from formulations.ledger import Ledger


def define_stock_variables(m: pyo.ConcreteModel, d: ModelData) -> None:
    m.stock_index = pyo.Set(initialize=[(u, g, y) for u in d.units for g in d.groups
                                        for y in d.years], dimen=3, ordered=True)
    m.S = pyo.Var(m.stock_index, domain=pyo.NonNegativeReals,
                  doc="staff in post at the end of the year, FTE")


def stock(m: pyo.ConcreteModel, d: ModelData, u: str, g: str, y: int):
    """S[u,g,y]: the baseline constant in the base year, else the variable."""
    return d.S0[u, g] if y == d.base else m.S[u, g, y]


def define_stock_balance(m: pyo.ConcreteModel, d: ModelData, ledger: Ledger) -> None:
    def balance(m, u, g, y):
        inflow = sum(c * v for c, v, _flow in ledger.inflow.get((u, g, y), ()))
        survivors = (1.0 - d.lam[u, g]) * stock(m, d, u, g, y - 1)
        return m.S[u, g, y] == survivors + d.J[u, g] + inflow

    m.stock_balance = pyo.Constraint(m.stock_index, rule=balance)
