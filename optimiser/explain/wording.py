"""The model's rows and bounds in the instance's own words.

A planner who is told ``stock_balance[coast_trust,support,2017]`` conflicts
with ``graduates_join[nurse_associate_upskill,2017]`` has to read the model to
understand it; told "Support worker in post at Coastal Partnership Trust at the
end of 2017 …" and "Graduates of training 'nurse_associate_upskill' joining in
2017 are 0.8 × the 300 committed entrants who started in 2015 = 240 FTE …, and
they leave Support worker", they can see the clash. Every constraint family of
:mod:`formulations` has a sentence with the instance's numbers, and so do bounds
on columns (caps, "cannot be negative"): the generic rows' here, each lever's in
its own module (``describe_row``, ``describe_bound``, ``VARIABLES``,
``describe_flow`` of :mod:`formulations.levers`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from formulations import describe_bound, describe_flow, describe_row, variable_phrases
from formulations.data import ModelData
from formulations.run_out import held_decision
from formulations.targets import scope_label
from formulations.words import Names, amount, money, spans

__all__ = ["Words", "amount", "money", "readable", "spans"]


def readable(identifier: str) -> str:
    """An id as words, for a page where no name was given:
    ``nursing_degree_east_of_england`` → "Nursing degree east of england",
    ``mh_nurse`` → "MH nurse" (a part without a vowel reads as an acronym)."""
    parts = [p for p in str(identifier).replace("-", "_").split("_") if p]
    if not parts:
        return str(identifier)
    words = [p.upper() if p.isalpha() and not set(p.lower()) & set("aeiou") else p
             for p in parts]
    first = words[0]
    words[0] = first if first.isupper() else first[:1].upper() + first[1:]
    return " ".join(words)


NONNEG_WORDS = {"D": "staff deployed to a service", "SF": "shortfall against target '{0}'"}
"""A column's words when its lower bound of zero is part of a conflict (the
levers' own are theirs: ``VARIABLES``)."""


class Words(Names):
    """Names and sentences for one instance's model: the generic rows here, each
    lever's rows, bounds and flows in its own module (:mod:`formulations.levers`)."""

    def __init__(self, d: ModelData, model: Any = None):
        super().__init__(d)
        self.m = model
        self.target = {t.id: t for t in d.inst.targets}
        self.budget = {b.id: b for b in d.inst.budgets}

    # ------------------------------------------------------------------ rows
    def row(self, name: str, index: Any) -> str:
        """One constraint (component name and index) as a sentence."""
        idx = index if isinstance(index, tuple) else (index,)
        decision = held_decision(name)
        fn = getattr(self, f"_row_{name}", None)
        if decision is not None:
            text = self._row_held(decision, idx)
        elif fn is not None:
            text = fn(*idx)
        else:
            found = describe_row(name, idx, self)
            text = found if found is not None else f"{name}[{','.join(map(str, idx))}]"
        if decision is None and idx and idx[-1] in self.d.run_out_years:
            # A run-out year's row is a consequence of the plan's last year (SPEC §2.15).
            text += (f" ({idx[-1]} is a run-out year: every lever keeps its "
                     f"{self.d.plan_years[-1]} value.)")
        return text

    def _row_held(self, decision: str, idx: tuple) -> str:
        what = variable_phrases().get(decision, decision + " '{0}'").format(idx[0])
        last = self.d.plan_years[-1]
        return (f"In {idx[-1]}, a run-out year, the {what} are held at their {last} "
                "value.")

    def _row_stock_balance(self, u: str, g: str, y: int) -> str:
        d = self.d
        plus, minus = self._lever_flows(u, g, y)
        text = (f"{self.group(g)} in post at {self.unit(u)} at the end of {y} are the "
                f"previous year's staff less the {d.lam[u, g]:.0%} who leave")
        if d.J[u, g]:
            text += f", plus {d.J[u, g]:g} joiners"
        if plus:
            text += ", plus " + ", ".join(plus)
        if minus:
            text += ", minus " + ", ".join(minus)
        return text + "."

    def stock_balance_units(self, units: list[str], g: str, y: int) -> str:
        """The stock balance of g in y for many units at once (a national plan's
        conflict can take in every trust of a region)."""
        plus: dict[str, None] = {}
        minus: dict[str, None] = {}
        for u in units:
            p, m = self._lever_flows(u, g, y)
            plus.update(dict.fromkeys(p))
            minus.update(dict.fromkeys(m))
        text = (f"{self.group(g)} in post at the end of {y}, in each of {len(units)} units "
                f"({self.units_list(units)}), are the previous year's staff less those who "
                "leave")
        if any(self.d.J[u, g] for u in units):
            text += ", plus joiners"
        if plus:
            text += ", plus " + ", ".join(plus)
        if minus:
            text += ", minus " + ", ".join(minus)
        return text + "."

    def nonnegative_units(self, units: list[str], g: str, y: int) -> str:
        return (f"{self.group(g)} in post at the end of {y} cannot be negative in any of these "
                f"{len(units)} units.")

    def _lever_flows(self, u: str, g: str, y: int) -> tuple[list[str], list[str]]:
        """Which levers add to (or upskill out of) the stock of g at u in y."""
        plus: dict[str, None] = {}
        minus: dict[str, None] = {}
        ledger = getattr(self.m, "ledger", None)
        for coef, var, flow in (ledger.inflow.get((u, g, y), ()) if ledger else ()):
            words = describe_flow(flow, var.index()[0], self)
            (minus if coef < 0 else plus)[words] = None
        return list(plus), list(minus)

    def _row_posts_cap(self, u: str, g: str, y: int) -> str:
        posts, natural = self.d.posts[u, g, y], self.d.natural[u, g, y]
        text = f"{self.group(g)} in post at {self.unit(u)} at the end of {y} may not exceed "
        if natural > posts + 1e-9:
            return text + (f"{amount(natural)}, the staff it keeps with no lever (above its "
                           f"{amount(posts)} funded posts).")
        return text + f"its {amount(posts)} funded posts."

    def _row_budget_per_year(self, k: str, y: int) -> str:
        b = self.budget[k]
        limit = b.per_year[y] if isinstance(b.per_year, dict) else b.per_year
        return f"Budget pot '{k}' may spend at most {self.money(limit)} in {y}."

    def _row_budget_total(self, k: str) -> str:
        return (f"Budget pot '{k}' may spend at most {self.money(self.budget[k].total)} "
                "over the whole plan.")

    def _row_deployment_cap(self, u: str, g: str, y: int) -> str:
        return (f"{self.group(g)} deployed to services at {self.unit(u)} in {y} cannot "
                "exceed those in post.")

    def _row_target_shortfall(self, k: str, y: int) -> str:
        t = self.target[k]
        return (f"The shortfall against target '{k}' ({scope_label(t)}) in {y} is what "
                f"is missing of the {t.required[y]:g} FTE required.")

    # ------------------------------------------------------------------ bounds
    def bound(self, name: str, index: Any, which: str) -> str | None:
        """A column bound (``which`` is ``lower``, ``upper`` or ``both``) as a
        sentence; ``None`` for a lower bound of zero on a flow, which
        :func:`nonnegative` collects into one sentence."""
        idx = index if isinstance(index, tuple) else (index,)
        if which == "lower" and name != "S":
            return None
        fn = getattr(self, f"_bound_{name}", None)
        text = fn(which, *idx) if fn else describe_bound(name, idx, which, self)
        return text or f"{name}[{','.join(map(str, idx))}] is at its {which} bound."

    def _bound_S(self, which: str, u: str, g: str, y: int) -> str:
        return f"{self.group(g)} in post at {self.unit(u)} at the end of {y} cannot be negative."

    def nonnegative(self, columns: list[tuple[str, Any]]) -> str | None:
        """One sentence for the flows whose lower bound of zero is in the conflict."""
        years: dict[str, list[int]] = defaultdict(list)
        phrases = {**NONNEG_WORDS, **variable_phrases()}
        for name, index in columns:
            idx = index if isinstance(index, tuple) else (index,)
            what = phrases.get(name, name + " '{0}'").format(idx[0])
            y = idx[-1] if isinstance(idx[-1], int) else None
            if y is not None and y not in years[what]:
                years[what].append(y)
            else:
                years.setdefault(what, [])
        if not years:
            return None
        parts = [f"{w} ({', '.join(map(str, sorted(ys)))})" if ys else w
                 for w, ys in years.items()]
        return "These cannot be negative: " + "; ".join(parts) + "."
