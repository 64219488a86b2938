"""After the solve: the plan's own shortfalls and the least deployment that meets
the same targets (post-solve work on a solved model, one of the engine's
stages; the rows it reads are :mod:`formulations.targets`')."""

from __future__ import annotations

import time

import highspy
import numpy as np
import pyomo.environ as pyo
from scipy.sparse import coo_matrix

from formulations.data import ModelData
from formulations.targets import scope_units, weights
from optimiser.engine.highs import new_highs


def settle_shortfalls(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Set every SF[k,y] of a solved model to the plan's own shortfall,
    max(0, required − ACH[k,y]).

    ``target_shortfall`` bounds SF only from below: in lexicographic stage 2 the
    row ``W ≤ W₁ + tol`` lets SF rise to use up the tolerance, and a target of
    priority 0 leaves its SF free, so the solver's SF values can overstate what
    the plan falls short by.
    """
    required = {t.id: t.required for t in d.inst.targets}
    for (k, y), sf in m.SF.items():
        sf.set_value(max(0.0, required[k][y] - pyo.value(m.achieved[k, y])))


def settle_deployment(m: pyo.ConcreteModel, d: ModelData, threads: int | None = None,
                      deadline: float | None = None) -> list[str]:
    """Deploy only what the service targets need, in a solved model; the notes
    of the years where that failed (their LP ended without an optimum: the
    solver's own deployment is kept there).

    Deployment has no cost, so any split of staff between services that meets
    the same targets is optimal, and the solver's split may deploy far more to a
    service than any target asks (a planner would read 'crisis: 37,886 achieved
    against 10,848 required'). For each year this solves, on the plan's stock::

        min Σ D[u,g,v,y]
        s.t. Σ_v D[u,g,v,y] ≤ S[u,g,y]                                  every (u,g)
             ACH[k,y] ≥ min(required[k,y], ACH*[k,y])     every service target k

    where ACH* is the solver's achievement. The solver's D is feasible, so the LP
    is too; every shortfall, W and C are unchanged, and a service's achievement
    becomes what its targets required where they are met. The LP is solved by
    the engine's HiGHS (:func:`~optimiser.engine.highs.new_highs`), on the
    solve's ``threads`` and by its ``deadline`` (``time.perf_counter()``).
    """
    if not len(m.D):
        return []
    service_targets = [t for t in d.inst.targets if t.service is not None]
    notes = []
    for y in d.years:
        keys = [k for k in m.D if k[3] == y]
        if not keys:
            continue
        col = {k: j for j, k in enumerate(keys)}
        rows, cols, vals, rhs = [], [], [], []
        r = 0
        by_stock: dict[tuple[str, str], list[int]] = {}
        for (u, g, _v, _y), j in col.items():
            by_stock.setdefault((u, g), []).append(j)
        for (u, g), js in by_stock.items():
            rows += [r] * len(js)
            cols += js
            vals += [1.0] * len(js)
            rhs.append(max(m.S[u, g, y].value or 0.0, 0.0))
            r += 1
        for t in service_targets:
            if y not in t.required:
                continue
            need = min(t.required[y], pyo.value(m.achieved[t.id, y]))
            w = weights(t)
            js = [(col[u, g, t.service, y], w[g]) for u in scope_units(d, t) for g in w
                  if w[g] and (u, g, t.service, y) in col]
            rows += [r] * len(js)
            cols += [j for j, _ in js]
            vals += [-wg for _, wg in js]
            rhs.append(-need)
            r += 1
        A = coo_matrix((vals, (rows, cols)), shape=(r, len(keys))).tocsc()
        status, x = _least_deployment(A, np.array(rhs), threads, deadline)
        if x is None:
            # Keep the solver's deployment rather than report a wrong one.
            notes.append(f"deployment {y} | the least deployment that meets the service "
                         f"targets was not found ({status}): the solver's own split of "
                         "staff between services is reported for that year")
            continue
        for k, j in col.items():
            m.D[k].set_value(float(x[j]), skip_validation=True)
    return notes


def _least_deployment(A, rhs: np.ndarray, threads: int | None, deadline: float | None
                      ) -> tuple[str, np.ndarray | None]:
    """min Σ x, A x ≤ rhs, x ≥ 0 by HiGHS: its status and x (None unless optimal)."""
    n = A.shape[1]
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, A.shape[0]
    lp.col_cost_ = np.ones(n)
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.full(n, highspy.kHighsInf)
    lp.row_lower_ = np.full(A.shape[0], -highspy.kHighsInf)
    lp.row_upper_ = rhs.astype(np.float64)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(np.float64)
    h = new_highs(threads=threads)
    h.passModel(lp)
    if deadline is not None:
        # Past the deadline: 0, which HiGHS reports as its time limit reached.
        h.setOptionValue("time_limit", max(deadline - time.perf_counter(), 0.0))
    h.run()
    ms = h.getModelStatus()
    if ms != highspy.HighsModelStatus.kOptimal:
        return h.modelStatusToString(ms), None
    return "Optimal", np.asarray(h.getSolution().col_value)
