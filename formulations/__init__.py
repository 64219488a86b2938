"""The planning model (SPEC §2) in Pyomo, one module per concern.

:func:`build_model` assembles the modules in order: stock variables first
(levers read S[u,g,y−1]), then each lever of the registry :data:`LEVER_MODULES`
(training, return to practice, retention, international), which record their
flows and spend in a :class:`~formulations.ledger.Ledger`; then the stock
balance, targets, budgets and the objective read the ledger.

Every lever module speaks one protocol (:mod:`formulations.levers`): its
components, decisions, results table, limits worth a marginal value, sentences
and validation. The functions below loop over the registry for the generic
stages, which never name a lever's component; they read the registry when
called, so a lever added to it (a test's toy lever) is seen everywhere.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pandas as pd
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC

from formulations import international, retention, return_to_practice, training
from formulations.budgets import define_budgets
from formulations.data import ModelData, model_data
from formulations.fairness import define_fairness
from formulations.ledger import Ledger
from formulations.levers import (
    ChoiceCap,
    ColumnCap,
    Finding,
    Limit,
    RampLimit,
    RowLimit,
    hook,
)
from formulations.objective import define_objective
from formulations.posts import define_posts
from formulations.run_out import define_run_out
from formulations.stock import define_stock_balance, define_stock_variables
from formulations.targets import define_targets
from formulations.words import Names

__all__ = [
    "LEVER_MODULES",
    "Ledger",
    "ModelData",
    "build_into",
    "build_model",
    "describe_bound",
    "describe_flow",
    "describe_row",
    "explain_levers",
    "free_allocations",
    "lever_decided",
    "lever_decisions",
    "lever_flows",
    "lever_held",
    "lever_kinds",
    "lever_labels",
    "lever_limits",
    "lever_names",
    "lever_placements",
    "lever_tables",
    "lever_unplaced",
    "model_data",
    "share_out_held",
    "validate_levers",
    "variable_phrases",
]

LEVER_MODULES: tuple[ModuleType, ...] = (training, return_to_practice, retention, international)
"""The registry: the levers, in the order their components are built. A new
lever is one module speaking :mod:`formulations.levers` and one entry here."""


def lever_decisions(b: pyo.Block) -> list[pyo.Var]:
    """Every lever's decision variables on a built model or block, each indexed with
    the year last (non-anticipativity links those of the here-and-now years)."""
    return [v for lever in LEVER_MODULES for v in hook(lever, "decisions")(b)]


def lever_held(b: pyo.Block) -> list[pyo.Var]:
    """Every lever's decisions held at their last plan-year value in the run-out
    years (SPEC §2.15): its ``held(b)``, or its ``decisions(b)`` when it has none."""
    return [v for lever in LEVER_MODULES
            for v in (hook(lever, "held") or hook(lever, "decisions"))(b)]


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
    lever_variables = {}
    for lever in LEVER_MODULES:
        before = set(b.component_map(pyo.Var))
        hook(lever, "define")(b, d, ledger)
        # Which variables are the lever's: the share-out holds them (but those
        # it may move), whether or not the lever names them anywhere else.
        lever_variables[lever.NAME] = [v for name, v in b.component_map(pyo.Var).items()
                                       if name not in before]
    define_run_out(b, d, lever_held)
    define_stock_balance(b, d, ledger)
    define_posts(b, d)
    define_targets(b, d)
    define_fairness(b, d)
    define_budgets(b, d, ledger)
    define_objective(b, d, ledger)
    b.ledger = ledger
    b.model_data = d
    b.lever_variables = lever_variables


# ------------------------------------------------------------------ the levers' hooks

def lever_unplaced(b: pyo.Block) -> list[pyo.Var]:
    """Supply a lever produces that no unit has a post for (graduates): among
    equally good plans, the engine's tie-break reports the least of it."""
    return [hook(lever, "unplaced")(b) for lever in LEVER_MODULES
            if hook(lever, "unplaced") is not None]


def free_allocations(b: pyo.Block) -> list[tuple[pyo.Var, list[Any]]]:
    """Each lever's allocation variable with its indices (lever, unit, year) whose
    lever is not placed (``free``, SPEC §2.14): the only ones the share-out
    tie-break may move, since a placed lever's units take fixed shares."""
    d = b.model_data
    out = []
    for lever in LEVER_MODULES:
        if hook(lever, "allocations") is None:
            continue
        alloc = hook(lever, "allocations")(b)
        # Placed levers (every rule but free, SPEC §2.14) take fixed shares.
        placed = {i for i, p in hook(lever, "placements")(d).items() if p.rule != "free"}
        out.append((alloc, [i for i in alloc if i[0] not in placed]))
    return out


def share_out_held(b: pyo.Block) -> list[pyo.Var]:
    """The variables the share-out tie-break holds at the plan's values: every
    variable each lever's ``define`` made on ``b``, but those its
    ``share_out_moves`` hook lets move (without the hook: its ``allocations``, if
    any). Whatever a lever does not name stays held, so the share-out cannot
    change its totals or its cost."""
    out = []
    for lever in LEVER_MODULES:
        moves_hook, alloc_hook = hook(lever, "share_out_moves"), hook(lever, "allocations")
        moving = (moves_hook(b) if moves_hook is not None
                  else [alloc_hook(b)] if alloc_hook is not None else [])
        moves = {id(v) for v in moving}
        out += [v for v in b.lever_variables[lever.NAME] if id(v) not in moves]
    return out


def lever_placements(d: ModelData) -> dict[str, dict[str, dict[str, Any]]]:
    """``summary.json``'s ``placement`` (SPEC §2.14): by lever section and id, its
    rule and the fallbacks taken (their years and why), for the levers that place
    staff (``placements(d)`` hook)."""
    out = {}
    for lever in LEVER_MODULES:
        found = hook(lever, "placements")(d)
        if found:
            out[lever.NAME] = {i: p.summary() for i, p in found.items()}
    return out


def lever_names() -> list[str]:
    """Each lever's instance section and results table, in registry order."""
    return [hook(lever, "NAME") for lever in LEVER_MODULES]


def lever_labels() -> dict[str, str]:
    """Results table -> the lever's name on a page."""
    return {hook(lever, "NAME"): hook(lever, "LABEL") for lever in LEVER_MODULES}


def lever_flows() -> list[str]:
    """The workforce columns of the levers' flows into the stock, in registry order."""
    return [flow for lever in LEVER_MODULES for flow in hook(lever, "FLOWS")]


def lever_decided() -> list[tuple[str, str]]:
    """(results table, column) of each lever's main decision, for the decisions a
    stochastic plan takes now."""
    return [(lever.NAME, hook(lever, "DECIDED")) for lever in LEVER_MODULES
            if hook(lever, "DECIDED") is not None]


def lever_tables(b: pyo.Block, d: ModelData) -> dict[str, pd.DataFrame]:
    """Every lever's results table from the solved model or block ``b``."""
    return {lever.NAME: hook(lever, "results")(b, d) for lever in LEVER_MODULES}


LIMIT_ORDER = (RowLimit, ColumnCap), (ChoiceCap,), (RampLimit,)
"""How the limits' rows follow each other in ``marginal_values.csv``: those valued
by a dual, then those re-solved, then ramps (valued with places free); the
generic limits (budgets first, posts before the ramps) are placed around them."""


def lever_limits(d: ModelData) -> list[list[Limit]]:
    """Every lever's limits worth a marginal value, grouped as :data:`LIMIT_ORDER`."""
    # A run-out year's decisions are held at the last plan year's: its caps and
    # ramps are that year's, not limits of their own.
    run_out = set(d.run_out_years)
    found = [lim for lever in LEVER_MODULES for lim in hook(lever, "limits")(d)
             if lim.year not in run_out]
    return [[lim for lim in found if isinstance(lim, kinds)] for kinds in LIMIT_ORDER]


def lever_kinds() -> dict[str, str]:
    """Marginal-value kind -> its words, of every lever."""
    return {k: v for lever in LEVER_MODULES for k, v in hook(lever, "KINDS").items()}


def explain_levers(d: ModelData, tables: dict[str, pd.DataFrame], mv: pd.DataFrame | None,
                   what: str, later: bool = False) -> list[str]:
    """The levers' sentences where they bind (``later``: what they leave unused),
    in each lever's ``EXPLAIN_ORDER`` (the order planners have read them in);
    a lever without one comes last."""
    which = "explain_later" if later else "explain"
    ordered = sorted(LEVER_MODULES, key=lambda lever: hook(lever, "EXPLAIN_ORDER"))
    # The levers speak of the plan years: a run-out year repeats the last one's
    # decisions (SPEC §2.15), and would only repeat its sentences. The targets
    # keep their run-out rows: what the last plan year leaves short there.
    tables = {k: v[~v["run_out"].astype(bool)] if "run_out" in v and k != "targets" else v
              for k, v in tables.items()}
    return [text for lever in ordered
            for text in hook(lever, which)(d, tables, mv, what)]


def describe_row(name: str, index: tuple[Any, ...], names: Names) -> str | None:
    """A lever's row as a sentence; ``None`` when no lever owns ``name``."""
    for lever in LEVER_MODULES:
        text = hook(lever, "describe_row")(name, index, names)
        if text is not None:
            return text
    return None


def describe_bound(name: str, index: tuple[Any, ...], which: str,
                   names: Names) -> str | None:
    """A lever's column bound as a sentence; ``None`` when no lever owns ``name``."""
    for lever in LEVER_MODULES:
        text = hook(lever, "describe_bound")(name, index, which, names)
        if text is not None:
            return text
    return None


def variable_phrases() -> dict[str, str]:
    """Every lever's variable -> its phrase (``{0}``: the item)."""
    return {k: v for lever in LEVER_MODULES for k, v in hook(lever, "VARIABLES").items()}


def describe_flow(flow: str, item: str, names: Names) -> str:
    """A ledger flow into a unit's stock in words, by the lever it belongs to."""
    for lever in LEVER_MODULES:
        if flow in lever.FLOWS and hook(lever, "describe_flow") is not None:
            return hook(lever, "describe_flow")(flow, item, names)
    return f"{flow} '{item}'"


def validate_levers(inst: Any) -> list[Finding]:
    """Every lever's own consistency checks on a field-valid instance."""
    return [f for lever in LEVER_MODULES for f in hook(lever, "validate")(inst)]
