"""Reading YAML and JSON text with limits: nesting depth, alias expansion, text
and number lengths (a few hundred bytes of aliases could otherwise expand to
billions of values), YAML 1.2 floats (``2e6`` is a number), and the file and
path sizes the loader reads. Problems are :class:`yaml.YAMLError` or
:class:`~optimiser.errors.Problem` located by line and column."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from optimiser.errors import Problem, shorten

MAX_FILE_BYTES = 64 * 2**20
"""Largest instance or CSV file read (64 MiB): a 100,000-unit instance's
workforce file is about 20 MiB. A larger file is refused before it is read."""

MAX_DEPTH = 32
"""Deepest nesting of lists and mappings read (an instance needs six levels)."""

MAX_ALIAS_VALUES = 100_000
"""Most values YAML aliases (``*name``) may add when expanded: an alias reuses a
value, and aliases of aliases multiply, so a few hundred bytes could otherwise
expand to billions of values."""

MAX_TEXT = 10_000
"""Longest text value (an id, a name, a description, a CSV cell) read."""

MAX_INT_TEXT = 24
"""Longest whole number, in characters, read from YAML or JSON: Python refuses to
turn 4,300 digits into a number, and nothing in an instance needs more than 19."""

MAX_PATH = 1_000
"""Longest CSV path read."""


class _TooLong:
    """A whole number too long to read (JSON's ``parse_int`` gets the text; the
    problem is reported where the number sits, by :func:`_check_document`)."""

    def __init__(self, text: str):
        self.length = len(text)


class _LimitError(yaml.MarkedYAMLError):
    """A YAML document over one of the limits above, at a place in the text."""

    def __init__(self, problem: str, mark: Any):
        super().__init__(problem=problem, problem_mark=mark)


# ---------------------------------------------------------------- YAML

# YAML 1.1 (PyYAML's default) reads ``2e6`` and ``2.0e6`` as strings; planners
# write money that way, so floats follow YAML 1.2's rule.
_FLOAT_12 = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 floats and the limits above.

    The limits are checked while the document is composed, before any Python
    value exists: nesting depth (the composer recurses once per level, so 1,000
    levels would end in a RecursionError), the values aliases add (an alias
    bomb), an alias inside the value it names (a loop), long texts and long
    whole numbers. Each is a YAML error at its line and column."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0
        self._size: dict[int, tuple[yaml.Node, int]] = {}
        """id(node) -> (node, its value count with aliases expanded); the node is
        kept so that its id is not reused."""
        self._aliased = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            node = super().compose_node(parent, index)
            known = self._size.get(id(node))
            if known is None:
                raise _LimitError(f"alias *{event.anchor} is inside the value it names "
                                  "(a loop)", event.start_mark)
            self._aliased += known[1]
            if self._aliased > MAX_ALIAS_VALUES:
                raise _LimitError(f"aliases expand to more than {MAX_ALIAS_VALUES:,} values",
                                  event.start_mark)
            return node
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _LimitError(f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if isinstance(node, yaml.ScalarNode):
            if len(node.value) > MAX_TEXT:
                raise _LimitError(f"a value of {len(node.value):,} characters; at most "
                                  f"{MAX_TEXT:,} are read", node.start_mark)
            size = 1
        elif isinstance(node, yaml.SequenceNode):
            size = 1 + sum(self._size[id(c)][1] for c in node.value)
        else:
            size = 1 + sum(self._size[id(k)][1] + self._size[id(v)][1] for k, v in node.value)
        self._size[id(node)] = (node, size)
        return node

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        # A scalar that matches a tag but cannot be built (``2021-02-30`` as a
        # date, ``!!float abc``, ``!!timestamp x``) raises ValueError,
        # AttributeError and the like in PyYAML: a YAML error at the value.
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except Exception as exc:
            why = shorten(exc) if isinstance(exc, (ValueError, OverflowError)) else \
                f"not a valid {node.tag.rsplit(':', 1)[-1]}"
            raise _LimitError(f"cannot read this value: {why}", node.start_mark) from None

    def construct_yaml_int(self, node: Any) -> Any:
        if len(node.value) > MAX_INT_TEXT:
            raise _LimitError(f"a whole number of {len(node.value):,} characters; at most "
                              f"{MAX_INT_TEXT} are read", node.start_mark)
        return super().construct_yaml_int(node)


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:float"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_12, list("-+0123456789."))
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)


def parse_yaml(text: str) -> Any:
    """Parse YAML text with YAML 1.2 floats (``2e6`` is a number) and the limits
    on depth, aliases, texts and whole numbers (a :class:`yaml.YAMLError`)."""
    loader = _Loader(text)  # a SafeLoader subclass
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _yaml_problem(exc: yaml.YAMLError, name: str, text: str) -> Problem:
    """One located line for a YAML error (PyYAML's own text spans lines)."""
    if isinstance(exc, yaml.reader.ReaderError):
        # Raised before parsing, with a position but no line or column.
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        char = exc.character
        code = f"#x{ord(char) if isinstance(char, str) else int(char):04x}"
        return Problem(f"{name} line {line}, column {column}",
                       f"invalid YAML: character {code} is not allowed in YAML text")
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = name if mark is None else f"{name} line {mark.line + 1}, column {mark.column + 1}"
    what = getattr(exc, "problem", None) or getattr(exc, "context", None) or type(exc).__name__
    return Problem(where, f"invalid YAML: {what}")


# ---------------------------------------------------------------- JSON


def _json_int(text: str) -> Any:
    return _TooLong(text) if len(text) > MAX_INT_TEXT else int(text)


_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _json_too_deep(text: str) -> tuple[int, int] | None:
    """Line and column where the JSON text first nests deeper than
    :data:`MAX_DEPTH` (strings skipped), or None."""
    depth = 0
    for m in _JSON_TOKENS.finditer(text):
        tok = m.group()
        if tok in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                pos = m.start()
                return text.count("\n", 0, pos) + 1, pos - (text.rfind("\n", 0, pos) + 1) + 1
        elif tok in "]}":
            depth -= 1
    return None


def parse_json(text: str, name: str) -> tuple[Any, Problem | None]:
    """The JSON document, or the one problem that stops it being read. Depth
    beyond :data:`MAX_DEPTH` that the parser survives is reported by
    :func:`_check_document` where it sits; beyond the interpreter's recursion
    limit (about 1,000 levels) it is located here."""
    try:
        return json.loads(text, parse_int=_json_int), None
    except json.JSONDecodeError as exc:
        return None, Problem(f"{name} line {exc.lineno}, column {exc.colno}",
                             f"invalid JSON: {exc.msg}")
    except RecursionError:
        deep = _json_too_deep(text)
        where = name if deep is None else f"{name} line {deep[0]}, column {deep[1]}"
        return None, Problem(where, f"invalid JSON: nested more than {MAX_DEPTH} levels deep")
