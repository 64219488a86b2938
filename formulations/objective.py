"""The objective (SPEC §2.9).

Two expressions, both declared as (active) objectives so that the standard-form
hand-over carries both cost vectors, and the solve layer combines them per mode::

    W = Σ_k Σ_{y ∈ required(k)} w_k·SF[k,y]        weighted_shortfall (FTE)
    C = Σ_y Σ_levers cost[·,y]                     total_cost (currency)

lexicographic: stage 1 minimises W; stage 2 minimises C subject to
``W ≤ W₁ + max(abs_tol, rel_tol·W₁)`` (added by the solve layer).
weighted: minimises ``W + C / value_per_fte``.
"""

from __future__ import annotations

import pyomo.environ as pyo

from formulations.data import ModelData
from formulations.ledger import Ledger


def define_objective(m: pyo.ConcreteModel, d: ModelData, ledger: Ledger) -> None:
    prio = {t.id: t.priority for t in d.inst.targets}
    m.weighted_shortfall = pyo.Objective(
        expr=sum(prio[k] * m.SF[k, y] for k, y in m.SF) + 0.0, sense=pyo.minimize)
    m.total_cost = pyo.Objective(expr=sum(ledger.costs) + 0.0, sense=pyo.minimize)
