"""Input problems: where they are and what is wrong, collected and shown together."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One problem with the input, at a place a planner can find."""

    location: str
    """``file row N, column X``, a key path such as ``training[2].completion_rate``,
    or an override such as ``--set budgets.hee.per_year``."""

    message: str
    """What is wrong, in one line."""

    def __str__(self) -> str:
        return f"{self.location} | {self.message}"


class InputError(Exception):
    """The instance (or an override) is invalid; ``problems`` lists every problem."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ModelError(Exception):
    """The model cannot be solved as stated, for a reason found before the solver."""
