"""The lever protocol: what a lever module of :mod:`formulations` provides.

A lever (training, return to practice, retention, international recruitment)
keeps its whole story in one module, as GridPath's feature modules do: the
generic stages (the build, results, marginal values, explanations, conflicts,
the report) loop over the registry :data:`formulations.LEVER_MODULES` through
the functions of :mod:`formulations` (``lever_tables``, ``lever_limits``,
``explain_levers``, ``describe_row`` …) and never name a lever's component.

Every lever module provides, at module level:

``NAME``, ``LABEL``
    Its instance section and results table (``"training"``), and its name on a
    page (``"Training"``).
``COLUMNS``
    Its results table's columns.
``FLOWS``
    The workforce columns its ledger flows show in (``("graduates",
    "upskilled_out")``).
``define(b, d, ledger)``
    Its components on the block ``b`` for the model data ``d``, with their
    equations in SPEC notation in the module docstring; it records its flows
    into units (``ledger.add_inflow(u, g, y, coef, var, flow)``) and its spend
    (``ledger.charge(pot, y, expr)``), from which the stock balance, budgets and
    C are built.
``decisions(b) -> list[Var]``
    Its decisions, indexed with the year last, so that a scenario's block reuses
    it unchanged (a stochastic plan links those of the here-and-now years).
``results(b, d) -> DataFrame``
    Its results table (``COLUMNS``) from the solved model or block.

and, where it has them (each defaults to nothing):

``limits(d) -> list[Limit]``, ``KINDS``
    The limits its marginal values are computed for (:data:`Limit`), and their
    kinds in a planner's words.
``explain(d, tables, mv, what) -> list[str]``, ``explain_later(…)``, ``EXPLAIN_ORDER``
    Sentences for where it binds in the plan (``mv``: the marginal values or
    ``None``; ``what``: what they measure), and for what it leaves unused (said
    after the staff-in-post findings); ``EXPLAIN_ORDER`` places its sentences
    among the other levers'.
``describe_row(name, index, names)``, ``describe_bound(name, index, which, names)``
    One of its own rows (or column bounds) as a sentence, for a conflict; ``None``
    for a name that is not its own. ``names`` is a :class:`formulations.words.Names`.
``VARIABLES``, ``describe_flow(flow, item, names)``
    Its variables' phrases (``{0}``: the item) for "cannot be negative" in a
    conflict, and its flows into a unit's stock in words.
``validate(inst) -> list[Finding]``
    Its own consistency checks on a field-valid instance (references to groups,
    units, regions and pots are checked with every section's).
``held(b) -> list[Var]``
    Its variables held at their last plan year's value in every run-out year
    (SPEC §2.15), indexed with the year last like ``decisions(b)``, which is the
    default; a lever lists more here when a variable beyond its decisions must
    continue too (return to practice: its returners ``RTP``).
``placements(d) -> dict[str, Placed]``
    Where its staff go (SPEC §2.14): each item's :class:`formulations.placement.Placed`
    (rule and shares by unit and year), from :func:`formulations.placement.place`;
    its ``define`` writes the share rows from the same. Read for ``summary.json``
    ``placement`` and by the share-out, which moves only levers placed ``free``.
``allocations(b) -> Var``
    Its flows into units indexed (item, unit, year), for the share-out tie-break.
``unplaced(b) -> Var``
    Supply no unit has a post for: the engine's tie-break reports the least of it.
``DECIDED``
    Its table's column of its main decision (``"places"``), listed among the
    decisions a stochastic plan takes now.
"""

from __future__ import annotations

from dataclasses import dataclass
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
