"""Model data: the validated instance resolved into the indexed numbers the
formulation reads (SPEC §2.1).

Defaults are resolved here once (a unit's leaver rate falls back to its group's,
a lever without a pot is charged to ``main``, ``top_leaver_rate`` becomes a list
of units), so the formulation modules never look at raw instance fields that
have defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: importing optimiser here would be circular
    from optimiser.instance.schema import Instance, RetentionScheme

DEFAULT_POT = "main"


@dataclass
class ModelData:
    inst: Instance
    base: int
    years: list[int]
    groups: list[str]
    units: list[str]
    regions: list[str]
    region_of: dict[str, str]
    S0: dict[tuple[str, str], float]
    """Baseline FTE S[u,g,b] for every unit and group (0 where no row)."""
    lam: dict[tuple[str, str], float]
    """Leaver rate λ[u,g]."""
    J: dict[tuple[str, str], float]
    """Exogenous joiners J[u,g] per year."""
    eligible: dict[str, list[str]] = field(default_factory=dict)
    """Retention scheme -> eligible units with staff in its groups."""
    scheme_groups: dict[str, list[str]] = field(default_factory=dict)
    sigma: dict[tuple[str, str], float] = field(default_factory=dict)
    """σ_u: baseline FTE of unit u in scheme s's groups / 1000."""
    pots: list[str] = field(default_factory=list)
    """Declared pots, then undeclared pots that levers are charged to (unlimited)."""
    posts: dict[tuple[str, str, int], float] = field(default_factory=dict)
    """posts[u,g,y] for the base year and plan years where the pair has a value at
    or before y (the latest row with year ≤ y; the workforce row's ``posts`` is
    year b). A missing key: no limit on the group in the unit that year."""
    natural: dict[tuple[str, str, int], float] = field(default_factory=dict)
    """The natural path n[u,g,y] (staff with no lever): n[b] = S[b],
    n[y] = (1 − λ)·n[y−1] + J, for the pairs that have posts."""
    placements: dict[tuple[str, str], Any] = field(default_factory=dict)
    """(lever section, id) -> its placement (SPEC §2.14), a
    :class:`formulations.placement.Placed` (not named in the annotation:
    placement imports this module, and a type-only import back is a cycle),
    filled by :func:`formulations.placement.place` when the lever is built."""

    def posts_cap(self, u: str, g: str, y: int) -> float | None:
        """max(posts[u,g,y], n[u,g,y]): the most staff the unit may hold in y, or
        None where the pair has no posts that year. The natural path keeps the plan
        with every lever at zero feasible (a unit above its posts keeps its staff)."""
        posts = self.posts.get((u, g, y))
        return None if posts is None else max(posts, self.natural[u, g, y])

    def units_of(self, region: str | None) -> list[str]:
        """U(r): the units of a region, or every unit when no region is given."""
        if region is None:
            return self.units
        return [u for u in self.units if self.region_of[u] == region]

    def pot_of(self, lever) -> str:
        return lever.pot or DEFAULT_POT


def leaver_rank(inst_groups: list[str], units: list[str], S0, lam) -> list[tuple[float, str]]:
    """(FTE-weighted baseline leaver rate, unit) over the given groups, highest
    first, ties broken by unit id; units with no staff in the groups are left out."""
    ranked = []
    for u in units:
        fte = sum(S0[u, g] for g in inst_groups)
        if fte > 0:
            ranked.append((sum(S0[u, g] * lam[u, g] for g in inst_groups) / fte, u))
    ranked.sort(key=lambda t: (-t[0], t[1]))
    return ranked


def eligible_units(s: RetentionScheme, groups: list[str], units: list[str], S0, lam) -> list[str]:
    if isinstance(s.eligible, list):
        return sorted(dict.fromkeys(s.eligible), key=units.index)
    ranked = leaver_rank(groups, units, S0, lam)
    chosen = {u for _, u in ranked[: s.eligible.top_leaver_rate]}
    return [u for u in units if u in chosen]


def with_held_targets(inst: Instance) -> Instance:
    """The instance with every ``hold`` target's last required value repeated in
    the later plan years (SPEC §2.8), so that everything downstream (rows, W,
    results, explanations) sees the years it requires."""
    if not any(t.hold for t in inst.targets):
        return inst
    targets = []
    for t in inst.targets:
        if t.hold:
            last = max(t.required)
            later = {y: t.required[last] for y in inst.years if y > last}
            t = t.model_copy(update={"required": {**t.required, **later}})
        targets.append(t)
    return inst.model_copy(update={"targets": targets})


def model_data(inst: Instance) -> ModelData:
    inst = with_held_targets(inst)
    groups = [g.id for g in inst.staff_groups]
    units = [u.id for u in inst.units]
    region_of = {u.id: u.region for u in inst.units}
    default_rate = {g.id: g.leaver_rate for g in inst.staff_groups}
    S0 = {(u, g): 0.0 for u in units for g in groups}
    lam = {(u, g): default_rate[g] for u in units for g in groups}
    J = {(u, g): 0.0 for u in units for g in groups}
    for row in inst.workforce:
        S0[row.unit, row.group] = row.fte
        if row.leaver_rate is not None:
            lam[row.unit, row.group] = row.leaver_rate
        J[row.unit, row.group] = row.joiners
    d = ModelData(
        inst=inst,
        base=inst.horizon.base_year,
        years=inst.years,
        groups=groups,
        units=units,
        regions=sorted(set(region_of.values())),
        region_of=region_of,
        S0=S0,
        lam=lam,
        J=J,
    )
    for s in inst.retention:
        sg = list(s.groups) if s.groups else groups
        d.scheme_groups[s.id] = sg
        elig = eligible_units(s, sg, units, S0, lam)
        d.eligible[s.id] = [u for u in elig if sum(S0[u, g] for g in sg) > 0]
        for u in d.eligible[s.id]:
            d.sigma[s.id, u] = sum(S0[u, g] for g in sg) / 1000.0
    declared = [b.id for b in inst.budgets]
    used = []
    for lever in inst.lever_items:
        p = d.pot_of(lever)
        if p not in declared and p not in used:
            used.append(p)
    d.pots = declared + sorted(used)
    resolve_posts(d)
    return d


def resolve_posts(d: ModelData) -> None:
    """Fill ``d.posts`` and ``d.natural`` from the workforce rows' ``posts`` and
    the ``posts`` section (docs/model.md, "Posts and vacancies")."""
    given: dict[tuple[str, str], dict[int, float]] = {}
    for row in d.inst.workforce:
        if row.posts is not None:
            given.setdefault((row.unit, row.group), {})[d.base] = row.posts
    for row in d.inst.posts:
        given.setdefault((row.unit, row.group), {})[row.year] = row.posts
    for (u, g), by_year in given.items():
        current = None
        n = d.S0[u, g]
        for y in [d.base, *d.years]:
            current = by_year.get(y, current)
            if y > d.base:
                n = (1.0 - d.lam[u, g]) * n + d.J[u, g]
            d.natural[u, g, y] = n
            if current is not None:
                d.posts[u, g, y] = current
