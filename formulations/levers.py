"""The lever protocol: what a lever module of :mod:`formulations` provides.

A lever (training, return to practice, retention, international recruitment)
keeps its whole story in one module, as GridPath's feature modules do: the
generic stages (the build, results, marginal values, explanations, conflicts,
the report) loop over the registry :data:`formulations.LEVER_MODULES` and call
these hooks; they never name a lever's component. A module provides, at module
level:

``NAME``, ``LABEL``
    Its instance section and results table (``"training"``), and the words for
    it on a page (``"Training"``).
``COLUMNS``
    Its results table's columns.
``define(b, d, ledger)``
    Its components on the block ``b`` for the model data ``d``, with their
    equations in SPEC notation in the module docstring; its flows into units
    (``ledger.add_inflow``, naming the workforce column the flow shows in) and
    its spend (``ledger.charge``).
``decisions(b) -> list[Var]``
    Its decisions, indexed with the year last, which a scenario block reuses
    unchanged (a stochastic plan links those of the here-and-now years).
``results(b, d) -> DataFrame``
    Its results table from the solved block.
``limits(d) -> list[Limit]``
    The limits its marginal values are computed for (:data:`Limit`), with
    ``KINDS`` their kinds in a planner's words.
``explain(d, tables, mv, what) -> list[str]``
    Sentences for where it binds in the plan (``mv``: the marginal values or
    ``None``; ``what``: what they measure), and ``explain_later`` the same for
    what it leaves unused, said after the staff-in-post findings.
``describe_row(name, index, names)``, ``describe_bound(name, index, which, names)``
    One of its own rows (or a column bound) as a sentence for a conflict;
    ``None`` for a name that is not its own. ``names`` is a
    :class:`formulations.words.Names`.
``VARIABLES``
    Its variables' names -> a phrase with ``{0}`` for the item, for "cannot be
    negative" in a conflict.
``describe_flow(flow, item, names) -> str``
    One of its ledger flows into a unit's stock, in words.
``validate(inst) -> list[Finding]``
    Its own consistency checks on a field-valid instance (:class:`Finding`:
    where, as a path into the instance, and what is wrong).

``FLOWS`` names the workforce columns its ledger flows show in.
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


def by_id(items: list[Any], item_id: str) -> Any:
    """The item of a lever section with the id (for its sentences)."""
    return next(x for x in items if x.id == item_id)


@dataclass(frozen=True)
class Finding:
    """A lever's validation problem: ``where`` is a path into the instance
    (``("training", 0, "min_cohort")``), located by the loader."""

    where: tuple[Any, ...]
    message: str
