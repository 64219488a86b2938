"""A large model is freed while HiGHS solves and built again to read the plan.

``solve`` lets go of the Pyomo model from :data:`RELEASE_COLUMNS` columns on
(:meth:`HighsModel.release`) and builds it again after the stages; these tests
lower the threshold to 0 so that the shipped and hand-worked instances take
that path, and check that the result is the one the model kept in memory gives:
every table, W, C, the marginal values and, without a plan, the conflict.
"""

from __future__ import annotations

import weakref
from pathlib import Path

import pyomo.environ as pyo
import pytest

import optimiser.engine.solve as engine
from formulations import build_model, model_data
from optimiser import SolveOptions, load_instance, solve
from optimiser.engine.addresses import addresses, resolve
from optimiser.engine.solve import HighsModel

REPO = Path(__file__).resolve().parents[1]


class Watched(HighsModel):
    """The engine's hand-over, noting at each HiGHS run whether the model it was
    built from is still alive."""

    def __init__(self, m: pyo.ConcreteModel):
        super().__init__(m)
        self.model = weakref.ref(m)
        self.alive_at_runs: list[bool] = []

    def run(self, *args, **kwargs):
        self.alive_at_runs.append(self.model() is not None)
        return super().run(*args, **kwargs)


def solve_watched(inst, release: bool, monkeypatch, **options):
    monkeypatch.setattr(engine, "RELEASE_COLUMNS", 0 if release else 10**12)
    made: list[Watched] = []

    def handover(m):
        made.append(Watched(m))
        return made[0]

    result = solve(inst, SolveOptions(**options), handover=handover)
    return result, made[0]


def test_the_model_is_freed_during_the_stages_and_the_plan_is_the_same(monkeypatch):
    inst = load_instance(REPO / "instances" / "stepping-forward-2017" / "instance.yaml")
    kept, hm_kept = solve_watched(inst, False, monkeypatch)
    freed, hm_freed = solve_watched(inst, True, monkeypatch)
    assert all(hm_kept.alive_at_runs)
    # Every HiGHS run (stages and tie-breaks) happened without the model built
    # first: the stages on the released model, the tie-breaks on the rebuilt one.
    assert hm_freed.alive_at_runs and not any(hm_freed.alive_at_runs)
    assert hm_freed.model() is None and freed.model is not None
    assert "rebuild" in freed.timings and "rebuild" not in kept.timings
    # The shipped plan with its 3 run-out years (instances/stepping-forward-2017/README.md).
    assert freed.weighted_shortfall == kept.weighted_shortfall == pytest.approx(36_264.54,
                                                                                 abs=0.01)
    assert freed.total_cost == kept.total_cost
    assert [s["stage"] for s in freed.stages] == [s["stage"] for s in kept.stages]
    assert freed.tables.keys() == kept.tables.keys()
    for name, table in kept.tables.items():
        assert freed.tables[name].equals(table), name
    assert freed.marginal_values.equals(kept.marginal_values)


def test_without_a_plan_the_conflict_is_read_from_the_rebuilt_model(monkeypatch):
    inst = load_instance(REPO / "tests" / "data" / "infeasible" / "supervisors_leave.yaml")
    kept, _ = solve_watched(inst, False, monkeypatch)
    freed, hm = solve_watched(inst, True, monkeypatch)
    assert kept.status == freed.status == "infeasible"
    assert hm.model() is None
    assert freed.conflicts and freed.conflicts == kept.conflicts


def test_addresses_find_the_same_columns_in_a_model_built_again():
    inst = load_instance(REPO / "instances" / "stepping-forward-2017" / "instance.yaml")
    d = model_data(inst)
    m = build_model(d)
    hm = HighsModel(m)
    names = [v.name for v in hm.columns]
    rows = [(con.name, sense) for con, sense in hm.rows]
    hm.release()
    assert hm.columns == [] and hm.rows == []
    again = build_model(d)  # held here: attach keeps only its rows and columns
    hm.attach(again)
    assert [v.name for v in hm.columns] == names
    assert [(con.name, sense) for con, sense in hm.rows] == rows
    # A model of other data is refused, not silently misread.
    a = addresses(list(m.component_data_objects(pyo.Var)))
    other = build_model(model_data(load_instance(
        REPO / "instances" / "long-term-2028" / "instance.yaml")))
    with pytest.raises(RuntimeError, match="rebuilt model differs"):
        resolve(other, a)


def test_a_stochastic_plan_is_read_from_the_extensive_form_built_again(monkeypatch, make_doc,
                                                                        write_instance):
    """The extensive form of tests/test_share_out.py's two futures (40 graduates
    shared 10/30 by posts, then 20 shared 5/15), solved with and without the
    release: the same tables, and the stochastic figures."""
    from test_share_out import two_futures

    from optimiser import solve_scenarios

    inst = load_instance(write_instance(two_futures(make_doc)))
    monkeypatch.setattr(engine, "RELEASE_COLUMNS", 10**12)
    kept = solve_scenarios(inst)
    monkeypatch.setattr(engine, "RELEASE_COLUMNS", 0)
    freed = solve_scenarios(inst)
    assert "rebuild" in freed.timings and "rebuild" not in kept.timings
    assert freed.status == kept.status == "optimal"
    for name, table in kept.tables.items():
        assert freed.tables[name].equals(table), name
    wf = freed.tables["workforce"]
    last = wf[wf["year"] == 2021].set_index(["scenario", "unit"])["graduates"]
    assert last.to_dict() == pytest.approx({("full", "u1"): 10, ("full", "u2"): 30,
                                            ("half", "u1"): 5, ("half", "u2"): 15}, abs=1e-6)
    timeless = {k: v for k, v in kept.stochastic.items() if k != "seconds"}
    assert {k: freed.stochastic[k] for k in timeless} == timeless
