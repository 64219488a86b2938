"""The model's rows and bounds in the instance's own words.

A planner who is told ``stock_balance[coast_trust,support,2017]`` conflicts
with ``graduates_join[nurse_associate_upskill,2017]`` has to read the model to
understand it; told "Support worker in post at Coastal Partnership Trust at the
end of 2017 …" and "Graduates of training 'nurse_associate_upskill' joining in
2017 are 0.8 × the 300 committed entrants who started in 2015 = 240 FTE …, and
they leave Support worker", they can see the clash. Every constraint family of
:mod:`formulations` has a sentence here, with the instance's numbers; bounds on
columns (caps, "cannot be negative") have theirs.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from formulations.data import ModelData
from formulations.response import max_spend
from formulations.targets import scope_label
from formulations.training import intake_years

LEVER_WORDS = {"A": "graduates of training '{}'", "AR": "returners of campaign '{}'",
               "AI": "recruits of international route '{}'",
               "RET": "staff kept by retention scheme '{}'"}


def money(x: float, currency: str = "GBP") -> str:
    """``£1m``, ``£2.35m``, ``£418,000``: money as a planner writes it."""
    sym = {"GBP": "£", "EUR": "€", "USD": "$"}.get(currency, currency + " ")
    if abs(x) >= 1e6:
        return f"{sym}{x / 1e6:,.2f}".rstrip("0").rstrip(".") + "m"
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


NONNEG_WORDS = {
    "N": "new places of training '{0}'", "A": "graduates of training '{0}' placed in a unit",
    "AR": "returners of campaign '{0}' placed in a unit", "RTP": "returners of campaign '{0}'",
    "X": "spend of campaign '{0}'", "I": "recruits of international route '{0}'",
    "AI": "recruits of international route '{0}' placed in a unit",
    "RET": "staff kept by retention scheme '{0}'", "F": "funding of retention scheme '{0}'",
    "D": "staff deployed to a service", "SF": "shortfall against target '{0}'",
    "RUN": "cohorts of training '{0}'", "ACT": "campaign '{0}' running",
    "Z": "units funded by retention scheme '{0}'",
    "UP": "unplaced graduates of training '{0}'",
}
"""A column's words when its lower bound of zero is part of a conflict."""


class Words:
    """Names and sentences for one instance's model."""

    def __init__(self, d: ModelData, model: Any = None):
        self.d = d
        self.m = model
        inst = d.inst
        self.group_name = {g.id: g.name or g.id for g in inst.staff_groups}
        self.unit_name = {u.id: u.name or u.id for u in inst.units}
        self.prog = {p.id: p for p in inst.training}
        self.camp = {c.id: c for c in inst.return_to_practice}
        self.scheme = {s.id: s for s in inst.retention}
        self.route = {r.id: r for r in inst.international}
        self.target = {t.id: t for t in inst.targets}
        self.budget = {b.id: b for b in inst.budgets}

    # ------------------------------------------------------------------ names
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

    # ------------------------------------------------------------------ rows
    def row(self, name: str, index: Any) -> str:
        """One constraint (component name and index) as a sentence."""
        idx = index if isinstance(index, tuple) else (index,)
        fn = getattr(self, f"_row_{name}", None)
        if fn is None:
            return f"{name}[{','.join(map(str, idx))}]"
        return fn(*idx)

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

    def units_list(self, units: list[str], shown: int = 3) -> str:
        """'A (a), B (b), C (c) and 47 more'."""
        names = [self.unit(u) for u in units[:shown]]
        rest = len(units) - len(names)
        return ", ".join(names) + (f" and {rest} more" if rest else "")

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
        for coef, var in (ledger.inflow.get((u, g, y), ()) if ledger else ()):
            comp = var.parent_component().local_name
            lever = var.index()[0]
            words = LEVER_WORDS.get(comp, comp + " '{}'").format(lever)
            if coef < 0:
                minus[f"staff leaving for {self.group(self.prog[lever].group)} through "
                      f"training '{lever}'" if comp == "A" else words] = None
            else:
                plus[words] = None
        return list(plus), list(minus)

    def _entrants(self, p, t: int) -> tuple[str, float | None]:
        """Words for E[p,t] and its value when it is data."""
        if t in intake_years(self.d, p):
            return f"the new places started in {t}", None
        if t <= self.d.base and p.committed.get(t, 0.0) > 0:
            n = p.committed[t]
            return f"the {n:g} committed entrants who started in {t}", n
        return f"no entrants in {t}", 0.0

    def _row_graduates_join(self, pid: str, y: int) -> str:
        p = self.prog[pid]
        t = y - p.duration
        who, n = self._entrants(p, t)
        rate = p.completion_rate * p.employment_rate
        if rate == 1:
            share = "all"
        elif p.employment_rate != 1:
            share = f"{p.completion_rate:g} × {p.employment_rate:g}"
        else:
            share = f"{p.completion_rate:g}"
        text = f"Graduates of training '{pid}' joining in {y} are {share} of {who}"
        if n is not None:
            text += f" = {rate * n:g} FTE"
        text += f", placed in {self.where(p.region)} or, without a free post, unplaced"
        if p.from_group:
            text += (f"; they leave {self.group(p.from_group)} and join {self.group(p.group)} "
                     "in the same unit (unplaced ones stay)")
        return text + "."

    def _row_posts_cap(self, u: str, g: str, y: int) -> str:
        posts, natural = self.d.posts[u, g, y], self.d.natural[u, g, y]
        text = f"{self.group(g)} in post at {self.unit(u)} at the end of {y} may not exceed "
        if natural > posts + 1e-9:
            return text + (f"{amount(natural)}, the staff it keeps with no lever (above its "
                           f"{amount(posts)} funded posts).")
        return text + f"its {amount(posts)} funded posts."

    def _before(self, p, y: int) -> str:
        """What the intake of ``y`` is measured against: the year before's."""
        t = y - 1
        if t in intake_years(self.d, p):
            return f"in {t}"
        n = p.committed.get(t, 0.0) if t <= self.d.base else 0.0
        if n > 0:
            return f"the {amount(n)} committed entrants of {t}"
        return f"in {t} (0 places)"

    def _ramp(self, pid: str, y: int, limit: float, more: str, field: str) -> str:
        p = self.prog[pid]
        text = (f"Training '{pid}' may start at most {amount(limit)} {more} places in {y} "
                f"than {self._before(p, y)} ({field})")
        if y not in intake_years(self.d, p):
            text += f"; {y} is not one of its intake years (0 places)"
        return text + "."

    def _row_intake_increase(self, pid: str, y: int) -> str:
        return self._ramp(pid, y, self.prog[pid].max_increase, "more", "max_increase")

    def _row_intake_decrease(self, pid: str, y: int) -> str:
        return self._ramp(pid, y, self.prog[pid].max_decrease, "fewer", "max_decrease")

    def _row_supervision_capacity(self, pid: str, y: int) -> str:
        p = self.prog[pid]
        parts = [self._entrants(p, y - k) for k in range(p.duration)]
        committed = sum(n for _, n in parts if n)
        fixed = [w for w, n in parts if n]
        text = f"Trainees of '{pid}' in training in {y}"
        if len(fixed) == 1:
            text += f" ({fixed[0]}, plus any new places)"
        elif fixed:
            text += f" ({', '.join(fixed)}: {committed:g} in all, plus any new places)"
        sup = p.supervision
        return (text + f" may not exceed {sup.max_trainees_per_fte:g} per FTE of "
                f"{self.group(sup.group)} in {self.scope(p.region)} at the end of {y - 1}.")

    def _row_cohort_min(self, pid: str, y: int) -> str:
        p = self.prog[pid]
        return (f"Training '{pid}' runs a cohort in {y} only with at least "
                f"{p.min_cohort:g} places.")

    def _row_cohort_max(self, pid: str, y: int) -> str:
        p = self.prog[pid]
        return (f"Training '{pid}' takes places in {y} only if its cohort runs, and at most "
                f"{p.max_places_per_year:g}.")

    def _row_returners_response(self, c: str, y: int, _k: int = 0) -> str:
        camp = self.camp[c]
        return (f"Returners of campaign '{c}' in {y} follow its response curve: at most "
                f"{camp.response[-1][1]:g} for the most it can spend, "
                f"{self.money(max_spend(camp.response))}.")

    def _row_returners_pool(self, c: str) -> str:
        return (f"Campaign '{c}' can bring back at most {self.camp[c].pool:g} returners "
                "over the whole plan (its pool).")

    def _row_returners_join(self, c: str, y: int) -> str:
        return (f"Returners of campaign '{c}' in {y} join "
                f"{self.where(self.camp[c].region)}.")

    def _row_campaign_active(self, c: str, y: int) -> str:
        return f"Campaign '{c}' spends in {y} only if it runs that year."

    def _row_recruits_total(self, i: str) -> str:
        return (f"International route '{i}' recruits at most {self.route[i].max_total:g} "
                "over the whole plan.")

    def _row_recruits_join(self, i: str, y: int) -> str:
        return (f"Recruits of international route '{i}' in {y} join "
                f"{self.where(self.route[i].region)}.")

    def _row_funding_min(self, s: str, u: str, y: int) -> str:
        return (f"Retention scheme '{s}' funds {self.unit(u)} in {y} with at least "
                f"{self.money(self.scheme[s].min_funding)} if it funds it at all.")

    def _row_funding_max(self, s: str, u: str, y: int) -> str:
        return f"Retention scheme '{s}' spends at {self.unit(u)} in {y} only if it funds it."

    def _row_retained_response(self, s: str, u: str, y: int, _k: int = 0) -> str:
        return (f"Staff kept at {self.unit(u)} in {y} by retention scheme '{s}' follow its "
                "response curve for the funding given.")

    def _row_retention_cap(self, s: str, u: str, g: str, y: int) -> str:
        return (f"Retention scheme '{s}' keeps at most {self.scheme[s].max_retained_share:.0%} "
                f"of the {self.group(g)} leaving {self.unit(u)} in {y}.")

    def _row_leavers_cap(self, u: str, g: str, y: int) -> str:
        return (f"Retention schemes together keep at most the {self.group(g)} who would "
                f"leave {self.unit(u)} in {y}.")

    def _row_units_funded_cap(self, s: str, y: int) -> str:
        n = self.scheme[s].max_units_per_year
        return f"Retention scheme '{s}' funds at most {n} unit{'s' * (n != 1)} in {y}."

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
        text = fn(which, *idx) if fn else None
        return text or f"{name}[{','.join(map(str, idx))}] is at its {which} bound."

    def _bound_S(self, which: str, u: str, g: str, y: int) -> str:
        return f"{self.group(g)} in post at {self.unit(u)} at the end of {y} cannot be negative."

    def _bound_N(self, which: str, pid: str, y: int) -> str:
        cap = self.prog[pid].max_places_per_year
        return f"Training '{pid}' takes at most {cap:g} new places in {y}."

    def _bound_I(self, which: str, i: str, y: int) -> str:
        return (f"International route '{i}' recruits at most {self.route[i].max_per_year:g} "
                f"in {y}.")

    def _bound_X(self, which: str, c: str, y: int) -> str:
        return (f"Campaign '{c}' spends at most {self.money(max_spend(self.camp[c].response))} "
                f"in {y} (the end of its response curve).")

    def _bound_F(self, which: str, s: str, u: str, y: int) -> str:
        return (f"Retention scheme '{s}' spends at most what its response curve can use at "
                f"{self.unit(u)} in {y}.")


    def nonnegative(self, columns: list[tuple[str, Any]]) -> str | None:
        """One sentence for the flows whose lower bound of zero is in the conflict."""
        years: dict[str, list[int]] = defaultdict(list)
        for name, index in columns:
            idx = index if isinstance(index, tuple) else (index,)
            what = NONNEG_WORDS.get(name, name + " '{0}'").format(idx[0])
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
