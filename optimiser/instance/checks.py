"""Cross-reference and consistency checks on a field-valid instance (SPEC §3).

Each ``check_*`` function looks at one concern and returns its problems; the
loader runs all of them so every problem is reported together, before any model
is built.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from formulations import validate_levers
from optimiser.errors import Problem, known
from optimiser.instance.schema import LEVER_SECTIONS, PLACED_SECTIONS, Instance

Locate = Callable[[Iterable[Any]], str]


@dataclass(frozen=True)
class Declared:
    """The ids references may name: staff groups, units, regions and pots.

    Usually those of the instance itself. When some items failed field
    validation the checks run on the valid items only, and the ids the invalid
    items declare are added here, so a reference to them is not reported as
    unknown on top of the item's own problem.
    """

    groups: frozenset[str]
    units: frozenset[str]
    regions: frozenset[str]
    pots: frozenset[str]

    @classmethod
    def of(cls, inst: Instance, extra: Declared | None = None) -> Declared:
        d = cls(frozenset(g.id for g in inst.staff_groups),
                frozenset(u.id for u in inst.units),
                frozenset(u.region for u in inst.units),
                frozenset(b.id for b in inst.budgets))
        if extra is not None:
            d = cls(d.groups | extra.groups, d.units | extra.units,
                    d.regions | extra.regions, d.pots | extra.pots)
        return d


def run_checks(inst: Instance, locate: Locate,
               declared: Declared | None = None) -> list[Problem]:
    """Every check on ``inst``; ``declared`` defaults to the instance's own ids."""
    declared = declared or Declared.of(inst)
    problems: list[Problem] = []
    for check in (check_ids, check_workforce, check_posts, check_levers, check_lever_rules,
                  check_placement, check_retention, check_budgets, check_targets):
        problems += check(inst, locate, declared)
    return problems


def _also(locate: Locate, loc: tuple[Any, ...]) -> str:
    """The place of the first of two duplicates, for the second's message: without
    the ``(from --set …)`` note, which the problem's own location already gives."""
    return locate(loc).split(" (from --", 1)[0]


def unknown(kind: str, name: str, ids: Iterable[str]) -> str:
    """``unknown staff group 'nruse' (known: nurse, support)``: every unknown id
    is reported with the ids it could have been, so a typo is mended at once."""
    hint = known(name, ids)
    return f"unknown {kind} '{name}'" + (f" ({hint})" if hint else f" (no {kind}s are declared)")


def check_ids(inst: Instance, locate: Locate,
              declared: Declared | None = None) -> list[Problem]:
    """Ids are unique per section."""
    out = []
    for section in ("staff_groups", "units", *LEVER_SECTIONS, "budgets", "targets"):
        seen: dict[str, int] = {}
        for i, item in enumerate(getattr(inst, section)):
            if item.id in seen:
                first = _also(locate, (section, seen[item.id], "id"))
                out.append(Problem(locate((section, i, "id")),
                                   f"duplicate id '{item.id}' (also {first})"))
            else:
                seen[item.id] = i
    return out


def check_workforce(inst: Instance, locate: Locate,
                    declared: Declared | None = None) -> list[Problem]:
    """Workforce rows name known units and groups, once per pair."""
    d = declared or Declared.of(inst)
    groups = d.groups
    units = d.units
    out = []
    seen: dict[tuple[str, str], int] = {}
    for i, row in enumerate(inst.workforce):
        if row.unit not in units:
            out.append(Problem(locate(("workforce", i, "unit")), unknown("unit", row.unit, units)))
        if row.group not in groups:
            out.append(Problem(locate(("workforce", i, "group")),
                               unknown("staff group", row.group, groups)))
        key = (row.unit, row.group)
        if key in seen:
            out.append(Problem(locate(("workforce", i)),
                               f"unit '{row.unit}', group '{row.group}' given twice "
                               f"(also {_also(locate, ('workforce', seen[key]))})"))
        else:
            seen[key] = i
    return out


def check_posts(inst: Instance, locate: Locate,
                declared: Declared | None = None) -> list[Problem]:
    """Posts rows name known units and groups, a plan year, once per (unit, group,
    year). Negative posts are refused by the schema."""
    d = declared or Declared.of(inst)
    years = inst.years
    out = []
    seen: dict[tuple[str, str, int], int] = {}
    for i, row in enumerate(inst.posts):
        if row.unit not in d.units:
            out.append(Problem(locate(("posts", i, "unit")), unknown("unit", row.unit, d.units)))
        if row.group not in d.groups:
            out.append(Problem(locate(("posts", i, "group")),
                               unknown("staff group", row.group, d.groups)))
        if row.year not in years:
            out.append(Problem(locate(("posts", i, "year")),
                               f"year {row.year} is not a plan year ({years[0]}–{years[-1]}); "
                               f"base-year posts go on the workforce row"))
        key = (row.unit, row.group, row.year)
        if key in seen:
            out.append(Problem(locate(("posts", i)),
                               f"unit '{row.unit}', group '{row.group}', year {row.year} given "
                               f"twice (also {_also(locate, ('posts', seen[key]))})"))
        else:
            seen[key] = i
    return out


def check_levers(inst: Instance, locate: Locate,
                 declared: Declared | None = None) -> list[Problem]:
    """Levers name known groups, regions and pots."""
    d = declared or Declared.of(inst)
    groups = d.groups
    regions = d.regions
    pots = d.pots
    out = []
    for section in LEVER_SECTIONS:
        for i, lever in enumerate(getattr(inst, section)):
            for fld in ("group", "from_group"):
                g = getattr(lever, fld, None)
                if g is not None and g not in groups:
                    out.append(Problem(locate((section, i, fld)),
                                       unknown("staff group", g, groups)))
            r = getattr(lever, "region", None)
            if r is not None and r not in regions:
                out.append(Problem(locate((section, i, "region")),
                                   unknown("region", r, regions)))
            if lever.pot is not None and lever.pot not in pots:
                out.append(Problem(locate((section, i, "pot")),
                                   unknown("budget pot", lever.pot, pots)))
    return out


def check_lever_rules(inst: Instance, locate: Locate,
                      declared: Declared | None = None) -> list[Problem]:
    """Each lever's own consistency checks (its module's ``validate``), and the
    staff groups a training programme's supervision names."""
    out = [Problem(locate(f.where), f.message) for f in validate_levers(inst)]
    groups = (declared or Declared.of(inst)).groups
    for i, p in enumerate(inst.training):
        if p.supervision is not None and p.supervision.group not in groups:
            out.append(Problem(locate(("training", i, "supervision", "group")),
                               unknown("staff group", p.supervision.group, groups)))
    return out


def check_placement(inst: Instance, locate: Locate,
                    declared: Declared | None = None) -> list[Problem]:
    """A lever's own placement weights (SPEC §2.14) name units of its scope, and
    not all of them are 0 (negative weights are refused with the field)."""
    units = (declared or Declared.of(inst)).units
    region_of = {u.id: u.region for u in inst.units}
    out = []
    for section in PLACED_SECTIONS:
        for i, item in enumerate(getattr(inst, section)):
            weights = item.placement
            if not isinstance(weights, dict):
                continue
            for u in weights:
                where = locate((section, i, "placement", u))
                if u not in units:
                    out.append(Problem(where, unknown("unit", u, units)))
                elif item.region is not None and region_of.get(u) != item.region:
                    out.append(Problem(where, f"unit '{u}' is in region '{region_of.get(u)}', "
                                       f"outside the scope of {section} '{item.id}' (region "
                                       f"'{item.region}')"))
            if not any(w > 0 for w in weights.values()):
                out.append(Problem(locate((section, i, "placement")),
                                   "every weight is 0: at least one unit must take a share"))
    return out


def check_retention(inst: Instance, locate: Locate,
                    declared: Declared | None = None) -> list[Problem]:
    d = declared or Declared.of(inst)
    groups = d.groups
    units = d.units
    out = []
    for i, s in enumerate(inst.retention):
        if isinstance(s.eligible, list):
            for u in s.eligible:
                if u not in units:
                    out.append(Problem(locate(("retention", i, "eligible")),
                                       unknown("unit", u, units)))
        elif s.eligible.top_leaver_rate > len(units):
            out.append(Problem(locate(("retention", i, "eligible")),
                               f"top_leaver_rate {s.eligible.top_leaver_rate} exceeds the "
                               f"{len(units)} units"))
        for g in s.groups or ():
            if g not in groups:
                out.append(Problem(locate(("retention", i, "groups")),
                                   unknown("staff group", g, groups)))
    return out


def check_budgets(inst: Instance, locate: Locate,
                  declared: Declared | None = None) -> list[Problem]:
    years = set(inst.years)
    out = []
    for i, b in enumerate(inst.budgets):
        if isinstance(b.per_year, dict):
            for y in b.per_year:
                if y not in years:
                    out.append(Problem(locate(("budgets", i, "per_year", y)),
                                       f"year {y} is outside the plan years "
                                       f"{min(years)}–{max(years)}"))
    return out


def check_targets(inst: Instance, locate: Locate,
                  declared: Declared | None = None) -> list[Problem]:
    d = declared or Declared.of(inst)
    groups = d.groups
    units = d.units
    regions = d.regions
    years = set(inst.years)
    out = []
    for i, t in enumerate(inst.targets):
        for g in t.groups:
            if g not in groups:
                out.append(Problem(locate(("targets", i, "groups")),
                                   unknown("staff group", g, groups)))
        if t.region is not None and t.region not in regions:
            out.append(Problem(locate(("targets", i, "region")),
                               unknown("region", t.region, regions)))
        if t.unit is not None and t.unit not in units:
            out.append(Problem(locate(("targets", i, "unit")), unknown("unit", t.unit, units)))
        for y in t.required:
            if y not in years:
                out.append(Problem(locate(("targets", i, "required", y)),
                                   f"year {y} is outside the plan years "
                                   f"{min(years)}–{max(years)}"))
        if t.fair_share is not None and inst.objective.mode == "weighted":
            out.append(Problem(locate(("targets", i, "fair_share")),
                               "fair shares need objective.mode lexicographic (the fairness "
                               "stage comes between the shortfall and the cost)"))
    return out


def fair_share_warnings(inst: Instance) -> list[str]:
    """Fair-share groups with a single target: allowed, but there is no one to be
    fair to, so the label changes nothing (``wfopt validate`` says so)."""
    sizes: dict[str, list[str]] = {}
    for t in inst.targets:
        if t.fair_share is not None:
            sizes.setdefault(t.fair_share, []).append(t.id)
    return [f"fair-share group '{g}' has one target ('{ks[0]}'): it changes nothing"
            for g, ks in sizes.items() if len(ks) == 1]
