"""Where lever modules record what they add to the shared balances.

Lever modules do not write the stock balance or the budget rows themselves:
they record their flows into units (``inflow``) and their spend per pot and
year (``spend``); ``stock`` and ``budgets`` then build one row each from the
records. This keeps one module per concern and lets a new lever join the
balances without touching the others.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Ledger:
    inflow: dict[tuple[str, str, int], list[tuple[float, Any, str]]] = field(
        default_factory=lambda: defaultdict(list))
    """(unit, group, year) -> [(coefficient, variable, flow)] added to S[u,g,y];
    ``flow`` is the workforce column the flow shows in (``graduates``), one of
    its lever's ``FLOWS``, so that the results read the flows from here."""
    spend: dict[tuple[str, int], list[Any]] = field(default_factory=lambda: defaultdict(list))
    """(pot, year) -> cost expressions charged to the pot in the year."""
    costs: list[Any] = field(default_factory=list)
    """Every lever's cost expression, for C."""
    infeasible: list[tuple[str, str]] = field(default_factory=list)
    """(constraint name, explanation) of rows that fail on data alone, whatever
    the decisions (their data part already breaks the bound and every decision
    term can only add to it); the solver is not asked about them."""

    def add_inflow(self, u: str, g: str, y: int, coef: float, var: Any, flow: str) -> None:
        self.inflow[u, g, y].append((coef, var, flow))

    def charge(self, pot: str, y: int, expr: Any) -> None:
        self.spend[pot, y].append(expr)
        self.costs.append(expr)
