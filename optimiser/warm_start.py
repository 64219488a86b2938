"""Starting a solve from another plan: the reuse between the points of a sweep.

Neighbouring points of a sweep differ only in data (a budget, a cost, a rate),
so the previous point's plan is often feasible for the next one and a good
first incumbent: HiGHS then prunes with it from the first node instead of
searching for a plan. :class:`StartedHighsModel` is the ordinary hand-over
(:class:`~optimiser.solve.HighsModel`, compiled afresh for the point, so the
model HiGHS solves is exactly the one a solve from scratch would solve) whose
first stage starts from that plan when it fits. Nothing else carries over, so
the result is a correct solve of the point whatever the start: only the time
to reach it (and, among equally good plans, which one is reported) can change.

A plan fits when the model has the same shape (columns, rows, sparsity,
integrality: the compile of the same instance structure) and the plan satisfies
every bound, row and integrality of the new data. Otherwise the point starts as
a solve from scratch does (``HighsModel.first_plan``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import highspy
import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp

from optimiser.solve import HighsModel

FEASIBILITY_TOL = 1e-6
"""Absolute violation allowed, plus the same relative to the bound's size: HiGHS's
own MIP feasibility tolerance (it rechecks the start and drops it if it fails)."""


@dataclass(frozen=True)
class PlanStart:
    """A solved point's plan, kept to start the next point of its chain."""

    shape: str
    """Fingerprint of the model it solves (:func:`model_shape`)."""
    x: np.ndarray
    """Column values in the compiled model's order, integers rounded."""


class StartedHighsModel(HighsModel):
    """The hand-over of a sweep point: a :class:`HighsModel` whose first stage
    starts from ``previous`` when that plan fits this point's model.

    ``started`` says whether it did (after the solve), ``plan()`` returns this
    point's own plan for the next point.
    """

    def __init__(self, m: pyo.ConcreteModel, previous: PlanStart | None = None):
        super().__init__(m)
        self.shape = model_shape(self)
        self.start = None
        if previous is not None and previous.shape == self.shape and plan_fits(self, previous.x):
            self.start = previous.x
        self.started = False

    def first_plan(self, cost: np.ndarray, time_limit: float | None) -> np.ndarray | None:
        """The previous point's plan when it fits, else the plain first plan."""
        if self.start is not None:
            self.started = True
            return self.start
        return super().first_plan(cost, time_limit)

    def plan(self) -> PlanStart:
        """The plan loaded into the Pyomo variables (integers already rounded by
        the solve), to start the next point from."""
        x = np.fromiter((v.value if v.value is not None else 0.0 for v in self.columns),
                        dtype=float, count=self.n)
        return PlanStart(self.shape, x)


def model_shape(hm: HighsModel) -> str:
    """A fingerprint of the compiled model's structure: sizes, sparsity pattern
    and integrality (not the numbers, which are what a sweep changes)."""
    lp = hm.h.getLp()
    digest = hashlib.sha256()
    digest.update(np.asarray([lp.num_col_, lp.num_row_, int(lp.a_matrix_.format_)],
                             dtype=np.int64).tobytes())
    digest.update(np.asarray(lp.a_matrix_.start_, dtype=np.int64).tobytes())
    digest.update(np.asarray(lp.a_matrix_.index_, dtype=np.int64).tobytes())
    digest.update(np.asarray(hm.integrality, dtype=np.int8).tobytes())
    return digest.hexdigest()


def plan_fits(hm: HighsModel, x: np.ndarray, tol: float = FEASIBILITY_TOL) -> bool:
    """Whether ``x`` satisfies every column bound, row and integrality of the
    compiled model (only the rows of the compile: a solve adds its own)."""
    lp = hm.h.getLp()
    if len(x) != lp.num_col_:
        return False

    def within(value: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> bool:
        # An infinite bound gives an infinite slack, never a violation.
        with np.errstate(invalid="ignore"):
            low = np.where(np.isfinite(lower), lower - value - tol * (1 + np.abs(lower)), -1)
            high = np.where(np.isfinite(upper), value - upper - tol * (1 + np.abs(upper)), -1)
        return bool((low <= 0).all() and (high <= 0).all())

    col_lower, col_upper = np.asarray(lp.col_lower_), np.asarray(lp.col_upper_)
    if not within(x, col_lower, col_upper):
        return False
    ints = hm.integrality.astype(bool)
    if (np.abs(x[ints] - np.round(x[ints])) > tol).any():
        return False
    a = lp.a_matrix_
    shape = (lp.num_row_, lp.num_col_)
    parts = (np.asarray(a.value_), np.asarray(a.index_), np.asarray(a.start_))
    colwise = a.format_ == highspy.MatrixFormat.kColwise
    matrix = (sp.csc_matrix if colwise else sp.csr_matrix)(parts, shape=shape)
    rows = hm.num_rows  # the compiled rows; later ones (stage 2's bound on W) are not ours
    activity = (matrix @ x)[:rows]
    return within(activity, np.asarray(lp.row_lower_)[:rows], np.asarray(lp.row_upper_)[:rows])
