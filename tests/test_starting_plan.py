"""The stages' first plan (``HighsModel.first_plan``) and their costs in
HiGHS's range (``objective_scale``).

The first plan is the better of two: every integer at its lower bound, and the
LP relaxation rounded (up, else to nearest, else down) with the integers held.
The cases are two-variable models worked by hand, with the two objective rows
the hand-over expects (``weighted_shortfall``, ``total_cost``):

    min W = 10 − x   s.t.  x ≤ 5·y (the cohort's places when it runs),
                           x ≥ c·y (its minimum cohort),
                           2·x + 3·y ≤ B (the budget),  y ∈ {0, 1}, x ≥ 0.

B = 8, c = 1: the relaxation puts x = 5y and 13y = 8, y = 8/13, x = 40/13
(W 6.92); rounded up, y = 1 and x = (8 − 3)/2 = 2.5: W = 7.5, which is also the
MIP's optimum. The plan with y at its lower bound 0 has x = 0, W = 10.

B = 4, c = 1.2: the relaxation has y = 4/13; up (y = 1) needs 2·1.2 + 3 = 5.4 > 4,
no plan; to nearest and down give y = 0: W = 10, the same as the lower bounds.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pytest import approx

from optimiser.engine.highs_model import HighsModel


def cohort_model(budget: float, min_cohort: float) -> pyo.ConcreteModel:
    m = pyo.ConcreteModel()
    m.x = pyo.Var(bounds=(0, None))
    m.y = pyo.Var(domain=pyo.Binary)
    m.places = pyo.Constraint(expr=m.x <= 5 * m.y)
    m.minimum = pyo.Constraint(expr=m.x >= min_cohort * m.y)
    m.money = pyo.Constraint(expr=2 * m.x + 3 * m.y <= budget)
    m.weighted_shortfall = pyo.Objective(expr=10 - m.x)
    m.total_cost = pyo.Objective(expr=2 * m.x + 3 * m.y)
    return m


def values(hm: HighsModel, x) -> dict[str, float]:
    return {v.local_name: float(x[j]) for j, v in enumerate(hm.columns)}


def test_the_first_plan_is_the_rounded_relaxation_where_it_is_better():
    hm = HighsModel(cohort_model(budget=8, min_cohort=1))
    x = hm.first_plan(hm.c_W, None)
    assert values(hm, x) == approx({"x": 2.5, "y": 1.0})
    assert 10 - values(hm, x)["x"] == approx(7.5)


def test_rounding_up_without_a_plan_falls_back_to_nearest_and_down():
    hm = HighsModel(cohort_model(budget=4, min_cohort=1.2))
    assert values(hm, hm.first_plan(hm.c_W, None)) == approx({"x": 0.0, "y": 0.0})


def test_large_costs_are_scaled_for_highs_and_reported_in_the_instances_units():
    """objective_scale brings the largest cost to at most 64 by a power of two:
    2e5 = 2**17.6, so 2**-12 (2e5 / 4096 = 48.8); priorities (at most 3) and 64
    itself are left alone. The cohort model's cost stage with costs of
    £200,000 a place and £300,000 a cohort, under W ≤ 7.5 (so x ≥ 2.5, y = 1):
    C = 200,000·2.5 + 300,000 = £800,000, the plan's objective and HiGHS's bound
    both in pounds, not in 4096ths of them."""
    from optimiser.engine.highs_model import objective_scale

    assert objective_scale(np.array([1.0, -2e5])) == -12
    assert objective_scale(np.array([0.5, 3.0])) == 0
    assert objective_scale(np.array([64.0])) == 0
    assert objective_scale(np.array([65.0])) == -1
    m = cohort_model(budget=8, min_cohort=1)
    m.total_cost.expr = 200_000 * m.x + 300_000 * m.y
    hm = HighsModel(m)
    hm.add_row(hm.c_W, -2.5)  # c_W is W's −x (its constant 10 is not a column's)
    rec = hm.run(hm.c_C, None)
    assert rec["status"] == "optimal"
    assert float(hm.c_C @ rec["x"]) == approx(800_000)
    assert rec["bound"] == approx(800_000, rel=1e-4)
