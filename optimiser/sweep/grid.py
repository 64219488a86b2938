"""Sweep grids (SPEC §5): the keys a sweep varies, their values, and its points.

A grid is a list of axes. Each axis is one override key (SPEC §5 key syntax,
the same :class:`~optimiser.instance.overrides.Override` mechanism as ``--set`` and
``--scale``) with the values it takes: ``--set-grid KEY=v1,v2,...`` sets the key
to each value, ``--scale-grid KEY=f1,f2,...`` multiplies every number under the
key by each factor. The points are the cartesian product of the axes in grid
order: the first axis varies slowest, the last fastest, so a point's position
in the sweep never depends on how it was solved.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from optimiser.errors import InputError, Problem
from optimiser.instance.overrides import Override, OverrideSyntaxError, factor_problem
from optimiser.instance.reading import parse_yaml

Kind = Literal["set", "scale"]

_EMPTY_ITEM = re.compile(r"(^|,)\s*(,|$)")
"""A comma with nothing before or after it: ``1,,2``, ``,1``, ``1,``."""


@dataclass(frozen=True)
class GridAxis:
    """One swept key and the values it takes, in the order given."""

    kind: Kind
    """``set`` (the key takes each value) or ``scale`` (numbers under the key are
    multiplied by each factor)."""
    key: str
    """Dotted key path (SPEC §5), e.g. ``budgets.hee.per_year``."""
    values: tuple[Any, ...]

    @property
    def option(self) -> str:
        """The command-line option that gives this axis, for error locations."""
        return f"--{self.kind}-grid"

    @property
    def column(self) -> str:
        """The axis's column in ``sweep.csv``: the key, or ``KEY (factor)`` for a
        scale axis, whose values are factors rather than the key's values."""
        return self.key if self.kind == "set" else f"{self.key} (factor)"

    def override(self, value: Any) -> Override:
        return Override(self.kind, self.key, value)

    @classmethod
    def parse(cls, kind: Kind, text: str) -> GridAxis:
        """Parse ``KEY=v1,v2,...``. The values are read as one YAML flow sequence,
        so ``3e8`` is a number and a value may itself be a mapping
        (``{2017: 1e6, 2018: 2e6},{2017: 2e6}``). Raises
        :class:`~optimiser.instance.overrides.OverrideSyntaxError` (one ``location |
        message`` line)."""
        option = f"--{kind}-grid"
        key, sep, raw = text.partition("=")
        key = key.strip()
        if not sep or not key:
            raise OverrideSyntaxError(Problem(f"{option} {text}", "expected KEY=v1,v2,..."))
        if not raw.strip():
            raise OverrideSyntaxError(Problem(f"{option} {key}", "no values after '='"))
        if _EMPTY_ITEM.search(raw):
            raise OverrideSyntaxError(Problem(
                f"{option} {key}", f"an empty value in {raw!r} (values are separated by "
                "commas)"))
        try:
            values = parse_yaml(f"[{raw}]")
        except Exception as exc:  # any YAML error is a usage error
            what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise OverrideSyntaxError(Problem(
                f"{option} {key}", f"cannot read values {raw!r}: {what}")) from None
        if any(v is None for v in values):
            raise OverrideSyntaxError(Problem(f"{option} {key}", f"an empty value (null) in "
                                              f"{raw!r}"))
        axis = cls(kind, key, tuple(values))
        problems = axis.problems()
        if problems:
            raise OverrideSyntaxError(problems[0])
        return axis

    def problems(self) -> list[Problem]:
        """What is wrong with the axis on its own (no values, a bad factor)."""
        where = f"{self.option} {self.key}"
        if self.kind not in ("set", "scale"):
            return [Problem(f"grid {self.key}", f"kind must be 'set' or 'scale', got "
                            f"{self.kind!r}")]
        if not self.values:
            return [Problem(where, "no values")]
        if self.kind == "scale":
            for v in self.values:
                why = factor_problem(v)
                if why:
                    return [Problem(where, why)]
        return []


GridSpec = Mapping[str, Sequence[Any]] | Iterable[GridAxis | tuple[str, str, Sequence[Any]]]
"""What :func:`as_axes` accepts: ``{key: [values]}`` (set axes, in the mapping's
order), or :class:`GridAxis` objects / ``(kind, key, values)`` tuples."""


def as_axes(grid: GridSpec) -> list[GridAxis]:
    """The grid as axes, checked: every axis has values, factors are numbers, no
    key appears twice. Raises :class:`~optimiser.errors.InputError`."""
    if isinstance(grid, Mapping):
        axes = [GridAxis("set", str(k), tuple(v)) for k, v in grid.items()]
    else:
        axes = [a if isinstance(a, GridAxis) else GridAxis(a[0], a[1], tuple(a[2]))
                for a in grid]
    problems: list[Problem] = []
    if not axes:
        problems.append(Problem("grid", "no keys to sweep: give at least one --set-grid or "
                                "--scale-grid"))
    seen: set[str] = set()
    for a in axes:
        problems += a.problems()
        if a.key in seen:
            problems.append(Problem(f"{a.option} {a.key}", "the key appears twice in the "
                                    "grid; give all its values in one option"))
        seen.add(a.key)
    if problems:
        raise InputError(problems)
    return axes


def grid_points(axes: Sequence[GridAxis]) -> list[tuple[Any, ...]]:
    """Every point (one value per axis) in grid order: first axis slowest."""
    return list(itertools.product(*(a.values for a in axes)))


def point_overrides(axes: Sequence[GridAxis], values: Sequence[Any]) -> list[Override]:
    return [a.override(v) for a, v in zip(axes, values, strict=True)]


def format_value(value: Any) -> str:
    """A swept value as text for a table cell: whole numbers without exponent or
    decimals (``3e8`` reads ``300000000``), other numbers as Python writes them
    (``0.12``), mappings and lists as compact JSON with sorted keys."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)  # the shortest text that reads back as the same number
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(", ", ": "), default=str)
