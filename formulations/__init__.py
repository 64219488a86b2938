"""The planning model (SPEC §2) in Pyomo, one module per concern.

:func:`build_model` assembles the modules in order: stock variables first
(levers read S[u,g,y−1]), then each lever (training, return to practice,
retention, international), which record their flows and spend in a
:class:`~formulations.ledger.Ledger`; then the stock balance, targets, budgets
and the objective read the ledger.
"""

from __future__ import annotations

import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC

from formulations import international, retention, return_to_practice, training
from formulations.budgets import define_budgets
from formulations.data import ModelData, model_data
from formulations.fairness import define_fairness
from formulations.international import define_international
from formulations.ledger import Ledger
from formulations.objective import define_objective
from formulations.posts import define_posts
from formulations.retention import define_retention
from formulations.return_to_practice import define_return_to_practice
from formulations.stock import define_stock_balance, define_stock_variables
from formulations.targets import define_targets
from formulations.training import define_training

__all__ = ["ModelData", "build_into", "build_model", "lever_decisions", "model_data"]

LEVER_MODULES = (training, return_to_practice, retention, international)
"""The levers, in the order their components are built."""


def lever_decisions(b: pyo.Block) -> list[pyo.Var]:
    """Every lever's decision variables on a built model or block, each indexed with
    the year last (non-anticipativity links those of the here-and-now years)."""
    return [v for lever in LEVER_MODULES for v in lever.decisions(b)]


def build_model(d: ModelData) -> pyo.ConcreteModel:
    """The Pyomo model of SPEC §2 for the model data ``d``.

    ``m.ledger.infeasible`` lists rows that fail on data alone (for example
    committed trainees above the baseline supervision capacity, which no number
    of new places can mend): the model is then infeasible without asking the
    solver.
    """
    # The build allocates millions of small objects that all stay alive: Python's
    # cyclic collector would scan them again and again for nothing (about half of
    # the build time on a national plan), as Pyomo's own writers also avoid.
    with PauseGC():
        m = pyo.ConcreteModel(name=d.inst.name)
        build_into(m, d)
    return m


def build_into(b: pyo.Block, d: ModelData) -> None:
    """Every component of the model for ``d`` on the block ``b`` (the model
    itself, or one scenario's block of a stochastic plan, built by the same code)."""
    ledger = Ledger()
    define_stock_variables(b, d)
    define_training(b, d, ledger)
    define_return_to_practice(b, d, ledger)
    define_retention(b, d, ledger)
    define_international(b, d, ledger)
    define_stock_balance(b, d, ledger)
    define_posts(b, d)
    define_targets(b, d)
    define_fairness(b, d)
    define_budgets(b, d, ledger)
    define_objective(b, d, ledger)
    b.ledger = ledger
    b.model_data = d
