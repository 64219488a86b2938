"""Input problems: where they are and what is wrong, collected and shown together."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

MAX_LOCATION = 200
"""Characters of a location shown; a longer one keeps its start and end."""

MAX_MESSAGE = 600
"""Characters of a message shown: room for a value and the known ids, while a
value built to be huge (an alias bomb's list, a 5,000-digit number) cannot turn
one problem into megabytes of terminal output."""

MAX_VALUE = 60
"""Characters of a value quoted in a message (:func:`shorten`)."""

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UNSAFE = {"Cc", "Cs", "Zl", "Zp", "Co", "Cn"}
"""Control characters, line and paragraph separators, lone surrogates, private
and unassigned code points."""
_BIDI = set("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _escaped(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def one_line(text: object) -> str:
    """``text`` as one printable line: line breaks, other control characters,
    lone surrogates and bidirectional overrides escaped (``\\n``, ``\\x00``,
    ``\\u202e``), so that what a file holds can never break the one-line
    ``location | message`` promise, reorder what the terminal shows, or fail to
    encode on output."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(_escaped(ch) if (unicodedata.category(ch) in _UNSAFE or ch in _BIDI)
                   else ch for ch in text)


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, keeping its start and end around "…"
    (the end of a location names the field; the end of a message its hint)."""
    if len(text) <= limit:
        return text
    head = (limit - 1) * 2 // 3
    return text[:head] + "…" + text[len(text) - (limit - 1 - head):]


def bounded(text: object, limit: int) -> str:
    """:func:`one_line` and :func:`clip`: cut first, so that a huge text is not
    escaped whole, and again, since escaping lengthens it."""
    return clip(one_line(clip(str(text), limit)), limit)


def shorten(value: object, limit: int = MAX_VALUE) -> str:
    """A value for a message: one line, at most ``limit`` characters (cut with
    "…" at the end)."""
    text = one_line(str(value)[:limit + 1])
    return text if len(text) <= limit else text[:limit - 1] + "…"


@dataclass(frozen=True, order=True)
class Problem:
    """One problem with the input, at a place a planner can find."""

    location: str
    """``file row N, column X``, a key path such as
    ``training[nursing_degree].completion_rate`` (items named by id, ``[#2]`` by
    position when an item has no usable id, year keys as ``.2021``), possibly
    followed by ``(from --set KEY=VALUE)`` when an override put the value there,
    or an override such as ``--set budgets.hee.per_year``."""

    message: str
    """What is wrong, in one line."""

    def __post_init__(self) -> None:
        # Whoever built it, a problem prints as one bounded line.
        object.__setattr__(self, "location", bounded(self.location, MAX_LOCATION))
        object.__setattr__(self, "message", bounded(self.message, MAX_MESSAGE))

    def __str__(self) -> str:
        return f"{self.location} | {self.message}"


KNOWN_LIMIT = 8
"""How many known ids an "unknown id" message lists: enough to spot a typo in a
small instance, short enough to stay one readable line with 50 trusts."""


def known(name: str, ids: Iterable[str], limit: int = KNOWN_LIMIT) -> str:
    """``known: a, b, c`` for a message about the unknown id ``name``.

    The ids that look most like ``name`` come first, so the one a typo meant is
    shown even when the list is cut after ``limit`` (50 trusts); the rest follow
    in alphabetical order. Empty when there are no ids at all.
    """
    ids = sorted({str(i) for i in ids})
    if not ids:
        return ""
    close = difflib.get_close_matches(str(name), ids, n=3, cutoff=0.6)
    ordered = close + [i for i in ids if i not in close]
    if len(ordered) <= limit + 1:  # "… 1 more" would take the room of the one id
        return "known: " + ", ".join(ordered)
    return f"known: {', '.join(ordered[:limit])}, … {len(ordered) - limit} more"


class InputError(Exception):
    """The instance (or an override) is invalid; ``problems`` lists every problem."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ModelError(Exception):
    """The model cannot be solved as stated, for a reason found before the solver."""


class TooLarge(Exception):
    """The model would not fit in this machine's memory; the text is one line that
    says how large it is (refused before it is built)."""


class OutputError(Exception):
    """The results could not be written (full disk, permissions); one line."""
