"""The least deployment after a solve (engine/settle.py) is solved by the
engine's own HiGHS, and a year whose LP fails is told in the plan's notes
(it was skipped silently) with the solver's own deployment kept there.

The instance (hand-worked): unit u1, 100 nurses, no leavers, one plan year
(2021); crisis needs 30 nurses and therapy 20. Any deployment meeting both is
optimal (W = 0, C = 0); the least one deploys exactly 30 and 20.
"""

from __future__ import annotations

import time

import pyomo.environ as pyo
from pytest import approx

from formulations import model_data
from optimiser import load_instance, solve
from optimiser.engine import settle
from optimiser.engine.settle import settle_deployment


def two_services(make_doc):
    return make_doc(
        workforce=[{"unit": "u1", "group": "nurse", "fte": 100}],
        targets=[{"id": "crisis", "service": "crisis", "groups": ["nurse"],
                  "required": {2021: 30}},
                 {"id": "therapy", "service": "therapy", "groups": ["nurse"],
                  "required": {2021: 20}}])


def deployed(m) -> dict[str, float]:
    return {v: sum(pyo.value(m.D[k]) for k in m.D if k[2] == v) for v in ("crisis", "therapy")}


def test_the_least_deployment_is_settled(make_doc, write_instance):
    inst = load_instance(write_instance(two_services(make_doc)))
    result = solve(inst)
    assert result.weighted_shortfall == approx(0, abs=1e-9)
    assert result.total_cost == 0
    assert deployed(result.model) == approx({"crisis": 30, "therapy": 20}, abs=1e-6)
    assert not any(m.startswith("deployment") for m in result.messages)


def test_a_failed_deployment_lp_keeps_the_solvers_split_and_says_so(make_doc, write_instance):
    """Settled again with its deadline passed, the LP stops at HiGHS's time limit
    (0 s): the deployment stays as it was and the note names the year."""
    inst = load_instance(write_instance(two_services(make_doc)))
    result = solve(inst)
    m = result.model
    for k in m.D:  # as good a deployment, which the LP would change: 80 to crisis
        m.D[k].set_value(80.0 if k[2] == "crisis" else 20.0)
    notes = settle_deployment(m, model_data(inst), deadline=time.perf_counter() - 1)
    assert notes == ["deployment 2021 | the least deployment that meets the service targets "
                     "was not found (Time limit reached): the solver's own split of staff "
                     "between services is reported for that year"]
    assert deployed(m) == {"crisis": 80.0, "therapy": 20.0}
    # Given time, the same call settles it.
    assert settle_deployment(m, model_data(inst)) == []
    assert deployed(m) == approx({"crisis": 30, "therapy": 20}, abs=1e-6)


def test_a_failed_deployment_lp_is_in_the_solves_notes(make_doc, write_instance, monkeypatch):
    """Inside a solve: the deployment LP's HiGHS allowed no simplex iteration
    (a real run that ends at HiGHS's iteration limit), so the plan's notes say
    the year's least deployment was not found, and W and C are still the plan's."""
    real = settle.new_highs

    def no_iterations(*args, **kwargs):
        h = real(*args, **kwargs)
        h.setOptionValue("simplex_iteration_limit", 0)
        h.setOptionValue("presolve", "off")  # else presolve alone solves it
        return h

    monkeypatch.setattr(settle, "new_highs", no_iterations)
    result = solve(load_instance(write_instance(two_services(make_doc))))
    assert result.status == "optimal"
    assert result.weighted_shortfall == approx(0, abs=1e-9)
    notes = [m for m in result.messages if m.startswith("deployment 2021 |")]
    assert notes and "(Iteration limit reached)" in notes[0], result.messages
