"""Where new staff go: placement (SPEC §2.14).

A planner decides how many staff a programme, campaign or route brings in, not
which unit each of them joins: the jobs decide that. Every lever whose scope
U(ℓ) holds two or more units therefore places its staff in fixed shares of its
year's total, and the solver cannot steer them to the units where fewest leave::

    A[p,u,y]  ≤ share[p,u,y]·Q[p,y]        graduates_share[p,u,y]  (the rest are UP)
    AR[c,u,y] = share[c,u,y]·RTP[c,y]      returners_share[c,u,y]
    AI[i,u,y] = share[i,u,y]·I[i,y]        recruits_share[i,u,y]
    share[ℓ,u,y] = w[ℓ,u,y] / Σ_{v ∈ U(ℓ)} w[ℓ,v,y]

Each lever module writes its own rows from :func:`place`; this module computes
the weights w from the model data, by the lever's rule (its own ``placement``,
else the instance's, default ``need``) for its group g (for an upskilling
programme, ``group``: the group its graduates join):

- ``need``:  ``w[u,y] = max(0, posts[u,g,y] − n[u,g,y])``, the posts the unit could
  not fill on its natural path n (2.11): where staff are needed most, they go first;
- ``posts``: ``w[u,y] = posts[u,g,y]``;
- ``staff``: ``w[u,y] = S[u,g,b]``, the unit's baseline staff in g;
- a mapping ``{unit: weight}``: the planner's own weights, every year (units not
  named weigh 0);
- ``free``: no shares; the share-out tie-break (optimiser/engine/tie_break.py)
  spreads what W and C leave open.

Fallback, per lever and year: ``need`` and ``posts`` apply only where every unit
of the scope has posts for g in y; a rule that cannot apply, or whose weights are
all 0, gives way to the next of need → posts → staff, and where the staff weights
are all 0 too the shares are equal. A scope of one unit adds no rows (its one
unit takes everything placed). Retention is funded per unit and is not placed.
With scenarios each scenario's block has its own model data, so the shares follow
that scenario's posts, leaver rates and staff.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: formulations.data imports this module
    from formulations.data import ModelData

FALLBACK = ("need", "posts", "staff")
"""The order in which a rule that cannot apply gives way; after ``staff``, equal shares."""


@dataclass(frozen=True)
class Placed:
    """One lever's placement: its rule and, per year, each unit's share."""

    rule: str
    """The rule as set: ``need``, ``posts``, ``staff``, ``free`` or ``mapping``."""
    shares: dict[int, dict[str, float]] = field(default_factory=dict)
    """year -> unit -> share (summing to 1); empty for ``free`` and for a scope of
    one unit, which need no rows."""
    used: dict[int, str] = field(default_factory=dict)
    """year -> the rule the shares came from, where it is not ``rule`` (a
    fallback: ``posts``, ``staff`` or ``equal``)."""
    why: dict[int, str] = field(default_factory=dict)
    """year -> why ``rule`` gave way that year, in words."""
    weights: dict[str, float] | None = None
    """A mapping's weights, as given."""

    @property
    def placed(self) -> bool:
        """Whether the lever has share rows (not free, and two or more units)."""
        return bool(self.shares)

    def share(self, u: str, y: int) -> float | None:
        """share[ℓ,u,y], or None where the lever is not placed that year."""
        by_unit = self.shares.get(y)
        return None if by_unit is None else by_unit.get(u, 0.0)

    def summary(self) -> dict[str, Any]:
        """What ``summary.json`` says of it: the rule, and each fallback with its
        years and reason."""
        out: dict[str, Any] = {"rule": self.rule}
        if self.weights is not None:
            out["weights"] = dict(self.weights)
        falls: dict[tuple[str, str], list[int]] = {}
        for y in sorted(self.used):
            falls.setdefault((self.used[y], self.why[y]), []).append(y)
        if falls:
            out["fallback"] = [{"to": to, "years": years, "why": why}
                               for (to, why), years in falls.items()]
        return out


def rule_of(d: ModelData, item: Any) -> str | dict[str, float]:
    """The lever's own ``placement``, else the instance's."""
    own = getattr(item, "placement", None)
    return own if own is not None else d.inst.placement


def weights(d: ModelData, rule: str, units: list[str], g: str, y: int
            ) -> tuple[dict[str, float] | None, str]:
    """w[u,y] of a named rule over ``units``, or None with the reason it cannot
    apply (no posts in some unit, or every weight 0)."""
    if rule in ("need", "posts"):
        missing = [u for u in units if (u, g, y) not in d.posts]
        if missing:
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            return None, f"unit '{missing[0]}'{more} has no '{g}' posts in {y}"
        if rule == "need":
            w = {u: max(0.0, d.posts[u, g, y] - d.natural[u, g, y]) for u in units}
            why = f"no unit has '{g}' posts left unfilled on its natural path in {y}"
        else:
            w = {u: d.posts[u, g, y] for u in units}
            why = f"every unit has 0 '{g}' posts in {y}"
    else:
        w = {u: d.S0[u, g] for u in units}
        why = f"no unit has '{g}' staff in the base year"
    if sum(w.values()) <= 0:
        return None, why
    return w, ""


def place(d: ModelData, section: str, item: Any, group: str, years: list[int]) -> Placed:
    """The placement of lever ``item`` of ``section`` over its scope (the units of
    its region), for the years it brings staff in. Memoised on ``d``: the lever's
    rows, its results and the summary read the same shares."""
    key = (section, item.id)
    cache = d.placements
    if key in cache:
        return cache[key]
    rule = rule_of(d, item)
    units = d.units_of(item.region)
    if isinstance(rule, dict):
        given = {u: float(rule.get(u, 0.0)) for u in units}
        total = sum(given.values())
        shares = ({y: {u: w / total for u, w in given.items()} for y in years}
                  if len(units) > 1 and total > 0 else {})
        placed = Placed("mapping", shares, weights=dict(rule))
    elif rule == "free" or len(units) < 2:
        placed = Placed(rule)
    else:
        shares, used, why = {}, {}, {}
        for y in years:
            w, reasons = None, []
            for r in FALLBACK[FALLBACK.index(rule):]:
                w, reason = weights(d, r, units, group, y)
                if w is not None:
                    if r != rule:
                        used[y], why[y] = r, "; ".join(reasons)
                    break
                reasons.append(f"{r}: {reason}")
            if w is None:
                w = {u: 1.0 for u in units}
                used[y], why[y] = "equal", "; ".join(reasons)
            total = sum(w.values())
            shares[y] = {u: v / total for u, v in w.items()}
        placed = Placed(rule, shares, used, why)
    cache[key] = placed
    return placed


def placed_words(placements: dict[str, dict[str, dict[str, Any]]]) -> str:
    """One line for the solve's summary: how staff were placed, by rule."""
    rules: dict[str, int] = {}
    falls = 0
    for by_id in placements.values():
        for p in by_id.values():
            rules[p["rule"]] = rules.get(p["rule"], 0) + 1
            falls += bool(p.get("fallback"))
    if not rules:
        return ""
    parts = [f"{n} lever{'s' * (n != 1)} by {RULE_WORDS.get(r, r)}"
             for r, n in sorted(rules.items(), key=lambda t: (-t[1], t[0]))]
    text = "new staff placed: " + ", ".join(parts)
    if falls:
        text += (f" ({falls} fell back where the rule could not apply: summary.json "
                 "'placement')")
    return text


RULE_WORDS = {
    "need": "need (unfilled posts)",
    "posts": "posts",
    "staff": "baseline staff",
    "mapping": "the planner's own shares",
    "free": "the solver's choice (free)",
}
