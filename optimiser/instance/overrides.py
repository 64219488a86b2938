"""Overrides (SPEC §5): change the instance document before validation.

A key is a dotted path into the document. List items are addressed by their
``id`` (workforce rows, which have none, by ``unit/group``; posts rows by
``unit/group/year``, or ``unit/group`` for every year of the pair), by
position, or all at once with ``*``. ``set`` replaces one value; ``scale`` multiplies every number
under the key. Keys are checked against the schema, so a misspelt key is an
error that names the key, never a silently ignored change.

:func:`apply_overrides` can also record which places of the document each
override wrote, so that a problem later found in such a value names the
override that put it there (``… (from --set budgets.hee.per_year=-5)``): the
file is fine, and the user must look at their command line instead.
"""

from __future__ import annotations

import copy
import math
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from optimiser.errors import Problem, known
from optimiser.instance.reading import parse_yaml
from optimiser.instance.schema import Instance

# Keys whose values are names, never scaled.
_NAME_KEYS = {"id", "name", "label", "unit", "group", "from_group", "region", "pot",
              "service", "description", "currency", "mode", "eligible", "intake_years",
              "base_year", "groups", "year"}


SPELLED_VALUE_LIMIT = 40
"""Most characters of an override's value quoted in a problem's location."""


@dataclass(frozen=True)
class Override:
    """One ``--set KEY=VALUE`` or ``--scale KEY=FACTOR``."""

    kind: Literal["set", "scale"]
    key: str
    value: Any
    text: str | None = field(default=None, compare=False)
    """The value as the user typed it (``3e8``), to quote it back in messages;
    ``None`` when the override was built in Python."""

    @property
    def label(self) -> str:
        return f"--{self.kind} {self.key}"

    @property
    def spelled(self) -> str:
        """``--set KEY=VALUE`` as given, so the user recognises their own option;
        a long value (a whole list) is cut, since the key already says which."""
        value = self.text if self.text is not None else _value_text(self.value)
        if len(value) > SPELLED_VALUE_LIMIT:
            value = value[:SPELLED_VALUE_LIMIT - 1] + "…"
        return f"{self.label}={value}"

    @classmethod
    def parse(cls, kind: Literal["set", "scale"], text: str) -> Override:
        """Parse ``KEY=VALUE``; the value is read as YAML (``3e8`` is a number).

        Raises :class:`OverrideSyntaxError` (a ``ValueError``) whose text is one
        ``location | message`` line.
        """
        key, sep, raw = text.partition("=")
        key = key.strip()
        if not sep or not key:
            raise OverrideSyntaxError(Problem(f"--{kind} {text}", "expected KEY=VALUE"))
        try:
            value = parse_yaml(raw) if raw.strip() else None
        except Exception as exc:  # any YAML error is a usage error
            what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise OverrideSyntaxError(Problem(f"--{kind} {key}",
                                              f"cannot read value {raw!r}: {what}")) from None
        if kind == "scale":
            why = factor_problem(value)
            if why:
                raise OverrideSyntaxError(Problem(f"--scale {key}", why))
        return cls(kind, key, value, raw.strip())


def _value_text(value: Any) -> str:
    """A value built in Python, written as it would be typed (YAML flow style)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, int | float | str):
        return str(value)
    import yaml

    return yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()


class OverrideSyntaxError(ValueError):
    """A ``--set``/``--scale`` argument that cannot be read; ``problem`` says where."""

    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))


def factor_problem(value: Any) -> str | None:
    """Why ``value`` is not a usable ``--scale`` factor (a finite number)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"the factor must be a number, got {value!r}"
    if not math.isfinite(value):
        return f"the factor must be a finite number, got {value!r}"
    return None


def as_overrides(overrides: Iterable[Override | tuple[str, str, Any]] | None) -> list[Override]:
    """Accept ``Override`` objects or ``(kind, key, value)`` tuples."""
    out = []
    for o in overrides or ():
        out.append(o if isinstance(o, Override) else Override(*o))
    return out


Written = list[tuple[tuple[Any, ...], Override]]
"""Key paths of the document (``("budgets", 0, "per_year")``) and the override
that wrote each, in the order applied."""


def apply_overrides(doc: dict[str, Any], overrides: Sequence[Override],
                    written: Written | None = None) -> list[Problem]:
    """Apply overrides to the document in place; return the problems found.

    ``written``, when given, receives the key path of every value an override
    set or scaled (list items by position), for :func:`overrides_at`.
    """
    problems: list[Problem] = []
    for o in overrides:
        if o.kind not in ("set", "scale"):
            problems.append(Problem(o.label, "kind must be 'set' or 'scale'"))
            continue
        if o.kind == "scale":
            why = factor_problem(o.value)
            if why:
                problems.append(Problem(o.label, why))
                continue
        parts = o.key.split(".")
        try:
            targets = _resolve(doc, Instance, parts, create=o.kind == "set")
        except KeyError as exc:
            problems.append(Problem(o.label, str(exc.args[0])))
            continue
        for parent, key, path in targets:
            if o.kind == "set":
                # A copy: a later override into this value must not change the
                # override itself (a sweep applies it again to every point).
                parent[key] = copy.deepcopy(o.value)
            else:
                parent[key] = _scaled(parent[key], float(o.value), key)
            if written is not None:
                written.append((path, o))
    return problems


def overrides_at(loc: Sequence[Any], written: Written) -> list[Override]:
    """The overrides that wrote the value at ``loc`` (a key path), inside it
    (``--set budgets.main.per_year.2017`` for a problem with ``per_year``), or
    around it (``--scale budgets`` for a problem with one pot's ``total``).

    A consequence elsewhere (``--set horizon.years=2`` leaving a budget year
    outside the plan) is not traced: only the values an override wrote are.
    """
    where = tuple(str(p) for p in loc)
    out: list[Override] = []
    for path, o in written:
        path_s = tuple(str(p) for p in path)
        n = min(len(path_s), len(where))
        if path_s[:n] == where[:n] and o not in out:
            out.append(o)
    return out


def _resolve(node: Any, tp: Any, parts: list[str], create: bool,
             path: str = "", at: tuple[Any, ...] = ()) -> list[tuple[Any, Any, tuple]]:
    """(container, key, key path) triples the path names, checked against the
    schema type. ``path`` is the dotted key so far (for messages), ``at`` the
    same place as a key path of the document (list items by position)."""
    seg, rest = parts[0], parts[1:]
    here = f"{path}.{seg}" if path else seg
    if isinstance(node, list):
        if seg == "*":
            idx = list(range(len(node)))
        else:
            idx = [i for i, it in enumerate(node) if seg in _item_keys(it)]
            if not idx and seg.isdigit() and int(seg) < len(node):
                idx = [int(seg)]
            if not idx:
                hint = known(seg, (k for k in map(_item_key, node) if k is not None))
                raise KeyError(f"no item '{seg}' in '{path}'" + (f" ({hint})" if hint else ""))
        child_tp = _item_type(tp)
        out: list[tuple[Any, Any, tuple]] = []
        missing: list[KeyError] = []
        for i in idx:
            if not rest:
                out.append((node, i, (*at, i)))
                continue
            try:
                out += _resolve(node[i], child_tp, rest, create, here, (*at, i))
            except _NotSet as exc:
                # ``--scale workforce.*.leaver_rate``: items that do not give the
                # value have nothing to scale; only if none does is it an error.
                if seg != "*":
                    raise
                missing.append(exc)
        if missing and not out:
            raise missing[0]
        return out
    if isinstance(node, dict):
        child_tp = _child_type(tp, seg)
        if child_tp is _NO_KEY:
            raise KeyError(f"unknown key '{seg}' in '{path or 'the instance'}'")
        key: Any = seg
        if seg not in node:
            matches = [k for k in node if str(k) == seg]
            if matches:
                key = matches[0]
            elif seg.lstrip("-").isdigit() and _is_int_keyed(tp):
                key = int(seg)
        if not rest:
            if key not in node and not create:
                raise _NotSet(f"'{here}' is not set, so there is nothing to scale")
            return [(node, key, (*at, key))]
        if key not in node:
            if not create:
                raise _NotSet(f"'{here}' is not set, so there is nothing to scale")
            node[key] = {}
        return _resolve(node[key], child_tp, rest, create, here, (*at, key))
    raise KeyError(f"'{path}' is a value, not a section: cannot go into '{seg}'")


def _item_key(item: Any) -> str | None:
    """The key that names one item: its ``id``; ``unit/group`` for a workforce
    row, ``unit/group/year`` for a posts row (neither has an id)."""
    if isinstance(item, dict):
        if "id" in item:
            return str(item["id"])
        if "unit" in item and "group" in item:
            pair = f"{item['unit']}/{item['group']}"
            return f"{pair}/{item['year']}" if "year" in item else pair
    return None


def _item_keys(item: Any) -> set[str]:
    """Every key that addresses ``item``: its own, and ``unit/group`` for a
    posts row, which addresses every year of the pair at once."""
    key = _item_key(item)
    if key is None:
        return set()
    keys = {key}
    if isinstance(item, dict) and "id" not in item and "year" in item:
        keys.add(f"{item['unit']}/{item['group']}")
    return keys


_NO_KEY = object()


class _NotSet(KeyError):
    """A ``scale`` path that names a value the document does not give."""


def _branches(tp: Any) -> list[Any]:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _branches(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        out = []
        for a in typing.get_args(tp):
            out += _branches(a)
        return out
    return [tp]


def _child_type(tp: Any, key: str) -> Any:
    """The schema type under ``key``, ``Any`` where the schema does not say,
    ``_NO_KEY`` where the key cannot exist."""
    if tp is Any:
        return Any
    for b in _branches(tp):
        if isinstance(b, type) and issubclass(b, BaseModel):
            if key in b.model_fields:
                return b.model_fields[key].annotation
        elif typing.get_origin(b) is dict:
            return typing.get_args(b)[1]
    return _NO_KEY


def _item_type(tp: Any) -> Any:
    for b in _branches(tp):
        if typing.get_origin(b) in (list, tuple):
            args = typing.get_args(b)
            return args[0] if args else Any
    return Any


def _is_int_keyed(tp: Any) -> bool:
    return any(typing.get_origin(b) is dict and typing.get_args(b)[0] is int
               for b in _branches(tp))


def _scaled(value: Any, factor: float, key: Any) -> Any:
    if isinstance(key, str) and key in _NAME_KEYS:
        return value
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value * factor
    if isinstance(value, str):
        try:
            return float(value) * factor
        except ValueError:
            return value
    if isinstance(value, dict):
        return {k: _scaled(v, factor, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_scaled(v, factor, None) for v in value]
    return value
