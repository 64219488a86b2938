"""Words a planner reads, shared by the lever modules' sentences and the
generic explanations: money, amounts, runs of years, and the instance's names.

It lives with the model so that a lever module can word its own rows and
findings (:mod:`formulations.levers`) without importing the explain stage.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pandas as pd

from formulations.data import ModelData

_TOL = 1e-6


def money(x: float, currency: str = "GBP", fixed: bool = False) -> str:
    """``£1m``, ``£2.35m``, ``£418,000``: money as a planner writes it. ``fixed``
    keeps two decimals of millions (``£1.00m``), for figures lined up in a column."""
    sym = {"GBP": "£", "EUR": "€", "USD": "$"}.get(currency, currency + " ")
    if abs(x) >= 1e6:
        text = f"{sym}{x / 1e6:,.2f}"
        return (text if fixed else text.rstrip("0").rstrip(".")) + "m"
    return f"{sym}{x:,.0f}"


def amount(x: float) -> str:
    """An FTE or a count as a planner reads it: thousands separators, whole
    numbers without decimals (``1,234``), others to one decimal (``12.5``)."""
    x = float(x)
    if abs(x - round(x)) < 0.05:
        return f"{round(x):,.0f}"
    return f"{x:,.1f}"


def spans(years) -> str:
    """Years as runs: ``2019–2022``, ``2017 and 2019–2020``, ``2017, 2019 and 2021``."""
    ys = sorted({int(y) for y in years})
    runs: list[list[int]] = []
    for y in ys:
        if runs and y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    parts = [str(r[0]) if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs]
    if len(parts) <= 2:
        return " and ".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def listed(ys: Iterable[Any]) -> str:
    """Items as a list in words: ``2017 and 2018``, ``2017, 2018 and 2019``."""
    ys = [str(y) for y in ys]
    if len(ys) <= 2:
        return " and ".join(ys)
    return ", ".join(ys[:-1]) + " and " + ys[-1]


def reached(used: float, limit: float, share: float = 1.0) -> bool:
    """Whether ``used`` is at ``share`` of ``limit`` (NaN: no limit)."""
    return limit == limit and used >= share * limit - _TOL * max(1.0, abs(limit))


GROUP_FROM = 4
"""From this many items binding alike (programmes at their cap), one sentence
names them all."""


def value_words(mv: pd.DataFrame | None, kind: str, item: str, years: list[str],
                per: str, what: str = "weighted shortfall") -> str:
    """'(one more place would remove 1.49 FTE of weighted shortfall, in 2017, …)'.

    Uses the marginal value with the plan's whole-number decisions held; for a
    budget worth nothing that way, the value with training places free to grow;
    for a place whose whole unit does not fit, says so."""
    if mv is None or not len(mv):
        return ""
    rows = mv[(mv["kind"] == kind) & (mv["item"] == item) & (mv["year"].isin(years))]
    held = rows[rows["value"] > 1e-9]
    free = rows[rows["value_places_free"].fillna(0.0) > 1e-9]
    if len(held):
        best = held.sort_values(["value", "year"], ascending=[False, True]).iloc[0]
        value, how = best["value"], "with the plan's whole-number decisions held"
        if "does not fit" in best["note"]:
            how += ", though a whole one does not fit within the budgets"
    elif len(free):
        best = free.sort_values(["value_places_free", "year"],
                                ascending=[False, True]).iloc[0]
        value, how = best["value_places_free"], "spent on more training places"
    else:
        return ""
    when = f", in {best['year']}" if best["year"] not in ("all", "total") else ""
    return f" ({per} would remove {value:,.3g} FTE of {what}{when}, {how})"


REMOVES = re.compile(r"would remove (?:up to )?"
                     r"(?P<value>[0-9][0-9,]*(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?) FTE")
"""The phrase of :func:`value_words` (and the levers' grouped sentences, which
word their best value alike) that carries a marginal value: what ranks a
sentence among the reasons (:mod:`optimiser.results.overview`)."""


def removed_value(sentence: str) -> float | None:
    """The largest marginal value a sentence states ("… would remove 119 FTE
    of weighted shortfall …", ``{:,.3g}``: ``1.23e+03`` above 999); None for a
    sentence that states none."""
    values = [float(m["value"].replace(",", "")) for m in REMOVES.finditer(sentence)]
    return max(values) if values else None


class Names:
    """The instance's names for groups and units, and money in its currency."""

    def __init__(self, d: ModelData):
        self.d = d
        inst = d.inst
        self.group_name = {g.id: g.name or g.id for g in inst.staff_groups}
        self.unit_name = {u.id: u.name or u.id for u in inst.units}

    def group(self, g: str) -> str:
        name = self.group_name.get(g, g)
        return name if name == g else f"{name} ({g})"

    def unit(self, u: str) -> str:
        name = self.unit_name.get(u, u)
        return name if name == u else f"{name} ({u})"

    def where(self, region: str | None) -> str:
        """Where a lever places staff."""
        return f"units of region {region}" if region else "any unit"

    def scope(self, region: str | None) -> str:
        """Whose staff count (supervision)."""
        return f"the units of region {region}" if region else "all units"

    def money(self, x: float) -> str:
        return money(x, self.d.inst.currency)

    def units_list(self, units: list[str], shown: int = 3) -> str:
        """'A (a), B (b), C (c) and 47 more'."""
        names = [self.unit(u) for u in units[:shown]]
        rest = len(units) - len(names)
        return ", ".join(names) + (f" and {rest} more" if rest else "")
