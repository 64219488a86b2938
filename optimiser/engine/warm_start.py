"""Starting a solve from another plan: the reuse between the points of a sweep.

Neighbouring points of a sweep differ only in data (a budget, a cost, a rate),
so the previous point's plan is often feasible for the next one and a good
first incumbent: HiGHS then prunes with it from the first node instead of
searching for a plan. :class:`StartedHighsModel` is the ordinary hand-over
(:class:`~optimiser.engine.highs_model.HighsModel`, compiled afresh for the point, so the
model HiGHS solves is exactly the one a solve from scratch would solve) whose
stages start from the previous point's plans when they fit. Nothing else
carries over, so the result is a correct solve of the point whatever the start:
only the time to reach it (and, among plans equally good within the MIP gap,
which one is reported) can change.

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

from optimiser.engine.highs_model import HighsModel

FEASIBILITY_TOL = 1e-6
"""Absolute violation allowed, plus the same relative to the bound's size: HiGHS's
own MIP feasibility tolerance (it rechecks the start and drops it if it fails)."""


@dataclass(frozen=True)
class PlanStart:
    """A solved point's plans, kept to start the next point of its chain."""

    shape: str
    """Fingerprint of the model they solve (:func:`model_shape`)."""
    first: np.ndarray
    """The first stage's plan (least W; in lexicographic mode W₁ exactly, before
    stage 2 gives back its tolerance), columns in the compiled order."""
    final: np.ndarray
    """The reported plan (stage 2's, least C at W₁)."""


class StartedHighsModel(HighsModel):
    """The hand-over of a sweep point: a :class:`HighsModel` whose stages start
    from the previous point's plans when they fit this point's model.

    - First stage: the previous first-stage plan (its W is the previous optimum
      exactly, so an unchanged optimum is recognised at once without drifting
      by stage 2's tolerance from point to point), else the previous reported
      plan, else the plain first plan.
    - Second stage: the cheaper of this point's first-stage plan (what a solve
      from scratch starts from) and the previous reported plan, if that one
      also meets this point's bound on W.

    ``started`` lists the stages (1, 2) that started from a previous plan;
    :meth:`plan` returns this point's plans for the next point.
    """

    def __init__(self, m: pyo.ConcreteModel, previous: PlanStart | None = None):
        super().__init__(m)
        self.shape = model_shape(self)
        self.previous = previous if previous is not None and previous.shape == self.shape \
            else None
        self.plans: list[np.ndarray] = []
        """Each stage's plan, in order (integers rounded)."""
        self.started: list[int] = []

    def first_plan(self, cost: np.ndarray, time_limit: float | None) -> np.ndarray | None:
        if self.previous is not None:
            for x in (self.previous.first, self.previous.final):
                if plan_fits(self, x):
                    self.started.append(1)
                    return x
        return super().first_plan(cost, time_limit)

    def run(self, cost: np.ndarray, time_limit: float | None,
            start: np.ndarray | None = None, keep: tuple[float, float] | None = None) -> dict:
        if self.plans and self.previous is not None and start is not None:
            # A later stage, started by the solve from the earlier stage's plan.
            final = self.previous.final
            if float(cost @ final) < float(cost @ start) and plan_fits(self, final,
                                                                       added_rows=True):
                self.started.append(len(self.plans) + 1)
                start = final
        rec = super().run(cost, time_limit, start, keep=keep)
        if rec["x"] is not None:
            self.plans.append(self.rounded(rec["x"]))
        return rec

    def rounded(self, x: np.ndarray) -> np.ndarray:
        """``x`` with its integer columns rounded (HiGHS leaves ~1e-13 off)."""
        x = np.array(x, dtype=float)
        ints = self.integrality.astype(bool)
        x[ints] = np.round(x[ints])
        return x

    def plan(self) -> PlanStart | None:
        """This point's plans, to start the next point from (None without one)."""
        if not self.plans:
            return None
        return PlanStart(self.shape, self.plans[0], self.plans[-1])


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


def plan_fits(hm: HighsModel, x: np.ndarray, added_rows: bool = False,
              tol: float = FEASIBILITY_TOL) -> bool:
    """Whether ``x`` satisfies every column bound, row and integrality of the
    compiled model, and with ``added_rows`` the rows a solve added since (the
    second stage's bound on W)."""
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
    rows = lp.num_row_ if added_rows else hm.num_rows
    activity = (matrix @ x)[:rows]
    return within(activity, np.asarray(lp.row_lower_)[:rows], np.asarray(lp.row_upper_)[:rows])
