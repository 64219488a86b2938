"""The lever protocol: what a lever module of :mod:`formulations` provides.

A lever (training, return to practice, retention, international recruitment)
keeps its whole story in one module, as GridPath's feature modules do: the
generic stages (the build, results, marginal values, explanations, conflicts,
the report) loop over the registry :data:`formulations.LEVER_MODULES` through
the functions of :mod:`formulations` (``lever_tables``, ``lever_limits``,
``explain_levers``, ``describe_row`` …) and never name a lever's component.

The hooks a lever module provides, at module level, are one table in code:
:data:`PROTOCOL` (name, required or optional, what it is, who calls it, and
what a lever without an optional hook gives). The generic code reads a hook
only through :func:`hook`, so a hook name it does not know is an error rather
than a silent default, and ``tests/test_lever_protocol.py`` checks every
module of the registry against the table (required hooks present, no public
name that looks like a hook but is not one). A new hook is one more row.
"""

from __future__ import annotations

import ast
import difflib
import inspect
from dataclasses import dataclass
from types import ModuleType
from typing import Any

DECIMALS = 6


def clean(x: float | None) -> float:
    """Round solver noise away; ``None`` (a variable the solver never saw) is 0."""
    if x is None:
        return 0.0
    r = round(float(x), DECIMALS)
    return 0.0 if r == 0 else r


Key = tuple[str, Any]
"""(component name, index): a row or a column of the compiled model."""


@dataclass(frozen=True)
class _Limit:
    kind: str
    """Its kind in ``marginal_values.csv`` (with words in the lever's ``KINDS``)."""
    key: Key
    """The row that holds the limit (the column, for a :class:`ColumnCap`)."""
    item: str
    year: Any
    limit: float
    per: str
    """What one more unit of the limit is (``"returner"``)."""


@dataclass(frozen=True)
class RowLimit(_Limit):
    """A limit that is a row ``… ≤ limit``: its value is the row's dual, and a row
    is reported only when it binds."""


@dataclass(frozen=True)
class ColumnCap(_Limit):
    """A cap that is a column's upper bound: its value is the reduced cost, when
    reached. ``also_row`` is a row that repeats the cap (``column ≤ cap·binary``),
    whose dual is added back."""

    also_row: Key | None = None


@dataclass(frozen=True)
class ChoiceCap(_Limit):
    """A cap on how many binaries may be 1 (a row over them): its value is found
    by re-solving with the best further choice switched on."""

    choices: tuple[tuple[str, Key], ...] = ()
    """(label, column) of every binary the row counts."""
    one_more: str = ""
    """Words for taking one more choice (``"funding one more unit"``)."""
    none_left: str = ""
    """Words for when no further choice is possible."""


@dataclass(frozen=True)
class RampLimit(_Limit):
    """A limit on the change of a lever from year to year: valued with the
    integer places free to grow (held, it could only be worth nothing)."""

    change: str = "growth"
    """``"growth"`` or ``"fall"``."""


Limit = RowLimit | ColumnCap | ChoiceCap | RampLimit
"""A limit worth a marginal value. The rows of ``marginal_values.csv`` come in the
order of these types (duals, then re-solved caps, then ramps), each in registry
order."""


def item_with_id(items: list[Any], item_id: str) -> Any:
    """The item of a lever section with the id (for its sentences)."""
    return next(x for x in items if x.id == item_id)


@dataclass(frozen=True)
class Finding:
    """A lever's validation problem: ``where`` is a path into the instance
    (``("training", 0, "min_cohort")``), located by the loader."""

    where: tuple[Any, ...]
    message: str


# ------------------------------------------------------------------ the protocol


def _nothing(*_args: Any) -> list[Any]:
    return []


def _no_mapping(*_args: Any) -> dict[Any, Any]:
    return {}


def _no_words(*_args: Any) -> None:
    return None


@dataclass(frozen=True)
class Hook:
    """One hook of the lever protocol."""

    name: str
    required: bool
    what: str
    """What it is (its signature, for a function)."""
    caller: str
    """Who calls it."""
    default: Any = None
    """What a lever without it gives (an optional hook's)."""


PROTOCOL: dict[str, Hook] = {h.name: h for h in (
    Hook("NAME", True, "its instance section and results table (``\"training\"``)",
         "results, report, compare"),
    Hook("LABEL", True, "its name on a page (``\"Training\"``)", "report, compare"),
    Hook("COLUMNS", True, "its results table's columns", "results"),
    Hook("FLOWS", True, "the workforce columns its ledger flows show in "
         "(``(\"graduates\", \"upskilled_out\")``)", "results"),
    Hook("define", True, "``define(b, d, ledger)``: its components on the block ``b``, their "
         "equations in SPEC notation in the module docstring; its flows into units "
         "(``ledger.add_inflow(u, g, y, coef, var, flow)``, ``flow`` one of its ``FLOWS``) "
         "and its spend (``ledger.charge(pot, y, expr)``)", "build_into"),
    Hook("decisions", True, "``decisions(b) -> list[Var]``: its decisions, indexed with the "
         "year last (a stochastic plan links those of the here-and-now years)",
         "engine (scenarios)"),
    Hook("results", True, "``results(b, d) -> DataFrame``: its results table (``COLUMNS``) "
         "from the solved model or block", "extract_tables"),
    Hook("limits", False, "``limits(d) -> list[Limit]``: the limits worth a marginal value "
         "(:data:`Limit`)", "marginal_values", _nothing),
    Hook("KINDS", False, "the limits' kinds in a planner's words", "marginal_values, report",
         {}),
    Hook("explain", False, "``explain(d, tables, mv, what) -> list[str]``: sentences where it "
         "binds (``mv``: the marginal values or None; ``what``: what they measure)",
         "explain_shortfall", _nothing),
    Hook("explain_later", False, "as ``explain``, for what it leaves unused (said after the "
         "staff-in-post findings)", "explain_shortfall", _nothing),
    Hook("EXPLAIN_ORDER", False, "where its sentences come among the other levers' "
         "(without it: last)", "explain_shortfall", 1e9),
    Hook("describe_row", False, "``describe_row(name, index, names) -> str | None``: one of "
         "its rows as a sentence, None for a name not its own", "Words (conflicts)",
         _no_words),
    Hook("describe_bound", False, "``describe_bound(name, index, which, names)``: one of its "
         "column bounds as a sentence, None for a name not its own", "Words (conflicts)",
         _no_words),
    Hook("VARIABLES", False, "its variables' phrases (``{0}``: the item) for \"cannot be "
         "negative\" in a conflict", "Words (conflicts)", {}),
    Hook("describe_flow", False, "``describe_flow(flow, item, names) -> str``: a flow into a "
         "unit's stock in words", "Words (conflicts)", None),
    Hook("validate", False, "``validate(inst) -> list[Finding]``: its own consistency checks "
         "on a field-valid instance", "run_checks", _nothing),
    Hook("unplaced", False, "``unplaced(b) -> Var``: supply no unit has a post for; the "
         "fewest-unplaced tie-break reports the least", "engine (tie-breaks)", None),
    Hook("allocations", False, "``allocations(b) -> Var``: its supply's allocation to units, "
         "indexed (lever, unit, year); the share-out shares it by posts",
         "engine (tie-breaks)", None),
    Hook("share_out_moves", False, "``share_out_moves(b) -> list[Var]``: its variables the "
         "share-out tie-break may move (its flows into units); every other variable its "
         "``define`` made is held at the plan's values, so its totals, C and Σ UP stay. "
         "Without it, its ``allocations`` move (if it has them) and nothing else",
         "engine (tie-breaks)", None),
    Hook("placements", False, "``placements(d) -> dict[id, Placed]``: each item's placement "
         "(SPEC §2.14): its rule and the fallbacks taken", "summary.json, share-out",
         _no_mapping),
    Hook("DECIDED", False, "its table's column of its main decision (``\"places\"``), among "
         "the decisions a stochastic plan takes now", "engine (scenarios)", None),
)}
"""The lever protocol: every hook a lever module may provide, required first."""


def hook(lever: ModuleType, name: str) -> Any:
    """The lever's hook ``name``, or the protocol's default where an optional one
    is missing. ``KeyError`` for a name the protocol has not (a misspelt hook in
    the generic code), ``AttributeError`` for a missing required one."""
    h = PROTOCOL[name]
    if h.required:
        return getattr(lever, name)
    return getattr(lever, name, h.default)


def protocol_problems(lever: ModuleType) -> list[str]:
    """What a lever module gets wrong of :data:`PROTOCOL`: a required hook missing,
    or a public name of its own that is not a hook but looks like one (a
    misspelling would otherwise do nothing: its default would be used)."""
    label = getattr(lever, "NAME", lever.__name__)
    problems = [f"{label}: no {h.name} (required)" for h in PROTOCOL.values()
                if h.required and not hasattr(lever, h.name)]
    for n in _own_names(lever):
        if n in PROTOCOL:
            continue
        near = difflib.get_close_matches(n, PROTOCOL, n=1, cutoff=0.8)
        if n.isupper() or near or n.startswith(("describe_", "explain")):
            problems.append(f"{label}: {n} is not a hook of the protocol"
                            + (f" (did you mean {near[0]}?)" if near else ""))
    return problems



def _own_names(lever: ModuleType) -> list[str]:
    """The public names a module defines itself (not those it imports): read from
    its source where it has one, else (a module made in code) its attributes."""
    try:
        tree = ast.parse(inspect.getsource(lever))
    except (OSError, TypeError):
        return [n for n, v in vars(lever).items() if not n.startswith("_")
                and not isinstance(v, ModuleType)]
    names = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [x.id for t in targets for x in ast.walk(t) if isinstance(x, ast.Name)]
    return [n for n in names if not n.startswith("_")]
