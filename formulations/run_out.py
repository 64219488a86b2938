"""Run-out years (SPEC §2.15): the plan's last decisions continue after it.

For every lever decision ``v`` (each lever's ``held(b)``, by default its
``decisions(b)``: ``N``, ``RUN``, ``X``, ``ACT``, ``RTP``, ``F``, ``Z``, ``I``),
indexed with the year last, and every run-out year ``y ∈ Y_R``::

    v[…, y] = v[…, b+T]            held_<v>[…, y]
    v[…, y] = 0                    where v has no column in b+T (a programme
                                   whose intake years leave b+T out)

Everything else (stocks, allocations, retention per unit, deployment,
shortfalls) is a variable of each run-out year as of any other year: the
other modules run over ``ModelData.years``, the plan and run-out years
together. Without run-out years nothing is built.
"""

from __future__ import annotations

from collections.abc import Callable

import pyomo.environ as pyo

from formulations.data import ModelData

HELD_PREFIX = "held_"
"""The rows of a held decision are named ``held_`` and the decision's name."""


def define_run_out(b: pyo.Block, d: ModelData,
                   held: Callable[[pyo.Block], list[pyo.Var]]) -> None:
    """One row per decision column of a run-out year, tying it to the last plan
    year's (``held``: the levers' held decisions on ``b``)."""
    if not d.run_out_years:
        return
    run_out = set(d.run_out_years)
    last = d.plan_years[-1]
    for var in held(b):
        rows = [idx for idx in var if idx[-1] in run_out]
        if not rows:
            continue

        def rule(m, *idx, var=var):
            same = (*idx[:-1], last)
            # (Pyomo's IndexedVar.get does not take a default.)
            return var[idx] == (var[same] if same in var else 0.0)  # noqa: SIM401

        b.add_component(HELD_PREFIX + var.local_name, pyo.Constraint(rows, rule=rule))


def held_decision(name: str) -> str | None:
    """The decision a ``held_`` row holds (``"N"`` for ``held_N``), else None."""
    return name[len(HELD_PREFIX):] if name.startswith(HELD_PREFIX) else None
