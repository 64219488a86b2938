"""Input problems: where they are and what is wrong, collected and shown together."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


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
