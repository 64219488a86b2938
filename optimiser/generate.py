"""Synthetic instances of any size with the shape of a national mental-health plan.

:func:`generate_instance` returns an instance document (every section inline)
for ``units`` trusts, ``groups`` staff groups and ``years`` plan years, drawn
from one seeded random stream: the same arguments give the same document, and
:func:`write_instance` the same bytes. The benchmarks and the tests use it to
solve plans from a 5-trust toy up to several national plans side by side.

The shape follows the NHS England mental-health workforce (figures in
``/work/shared/data/nhs-mh-figures.md``, per trust = national / 55 trusts):

- trusts spread over NHS England's seven regions, every region with a trust;
- professions with their own leaver rates, baseline FTE and training routes
  (a 3-year nursing degree commissioned per region from the UCAS split, the
  psychiatry pipeline under consultant supervision, 1-year talking-therapy
  courses with a minimum cohort, nursing associates upskilled from support
  workers); groups beyond the fifteen named ones are generic clinical roles;
- return to practice and international recruitment for the registered
  professions, a retention scheme for the high-exit trusts
  (``top_leaver_rate``) and one for talking-therapy staff in one region's
  trusts (the two overlap, so ``leavers_cap`` rows exist);
- budget pots for education and for the other levers (one limit per year, the
  other per-year limits and a horizon total);
- targets by profession (national), by service and region (crisis care,
  talking therapies), by service nationally (children's services) and for
  single trusts, with trajectories rising to the Stepping Forward growth;
- funded posts: every workforce row has posts with a vacancy rate drawn
  between 5% and 15% (about 10% at the start of Stepping Forward), and the
  groups that targets grow gain posts in every plan year at the pace of their
  targets (``posts`` rows), so that no target asks for more staff than posts.

Trust-level splits, costs the figures do not give and response curves are
calibrated assumptions, not data. Every generated instance has a plan: all
levers at zero is feasible (committed trainees stay well inside supervision
capacity, upskilling has no committed entrants, budgets are non-negative), so
a solve returns ``optimal`` or, at a limit, ``feasible``.
"""

from __future__ import annotations

import csv
import io
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from optimiser.results.atomic import atomic_directory, only_files_with_suffixes

BASE_YEAR = 2017
NATIONAL_TRUSTS = 55
"""Mental-health trusts in a national plan: per-trust figures are national / 55."""

REGIONS = [  # (id, 2022 nursing acceptances: the split of nursing degree places)
    ("london", 990), ("midlands", 1080), ("north_east_yorkshire", 905),
    ("north_west", 970), ("east_of_england", 565), ("south_east", 505),
    ("south_west", 325),
]


@dataclass(frozen=True)
class Profession:
    """A staff group of the catalogue and how it is trained."""

    id: str
    name: str
    national_fte: float
    leaver_rate: float
    duration: int = 0
    """Course years; 0 = no training programme."""
    completion: float = 1.0
    employment: float = 1.0
    cost_per_place_year: float = 0.0
    national_places: float = 0.0
    """Typical national intake per year (committed cohorts, cap = 1.6 × this)."""
    min_cohort: float = 0.0
    cohort_fixed_cost: float = 0.0
    from_group: str | None = None
    supervised_by: str | None = None
    returners_pool: float = 0.0
    """National return-to-practice pool; 0 = no campaign."""
    recruit_cost: float = 0.0
    """Cost per international recruit; 0 = no route."""


CATALOGUE = [
    Profession("mh_nurse", "Mental health nurse", 35700, 0.13, 3, 0.65, 0.9, 26000, 3340,
               returners_pool=30000, recruit_cost=12000),
    Profession("support_worker", "Healthcare support worker", 25000, 0.15),
    Profession("consultant_psychiatrist", "Consultant psychiatrist", 5160, 0.07, 3, 0.6, 0.75,
               60000, 300, supervised_by="consultant_psychiatrist", returners_pool=4000,
               recruit_cost=25000),
    Profession("pwp", "Psychological wellbeing practitioner", 4000, 0.22, 1, 0.9, 0.95, 9000,
               900, min_cohort=60, cohort_fixed_cost=150000),
    Profession("nursing_associate", "Nursing associate", 1500, 0.10, 2, 0.8, 1.0, 15000, 400,
               from_group="support_worker"),
    Profession("hit", "High-intensity therapist", 6000, 0.09, 1, 0.92, 0.95, 12000, 700,
               min_cohort=40, cohort_fixed_cost=100000),
    Profession("clinical_psychologist", "Clinical psychologist", 8000, 0.08, 3, 0.99, 0.94,
               45000, 594, supervised_by="clinical_psychologist", recruit_cost=15000),
    Profession("cyp_therapist", "Children's wellbeing therapist", 2000, 0.12, 1, 0.9, 0.95,
               11000, 450, min_cohort=30, cohort_fixed_cost=80000),
    Profession("occupational_therapist", "Occupational therapist", 4000, 0.10, 3, 0.85, 0.9,
               24000, 350, returners_pool=1500, recruit_cost=11000),
    Profession("emhp", "Education mental health practitioner", 500, 0.15, 1, 0.9, 0.95, 10000,
               220, min_cohort=20, cohort_fixed_cost=50000),
    Profession("social_worker", "Mental health social worker", 3000, 0.12, 2, 0.85, 0.9, 18000,
               300, returners_pool=1000),
    Profession("psychotherapist", "Psychotherapist", 2500, 0.09, 4, 0.9, 0.9, 20000, 200),
    Profession("peer_support_worker", "Peer support worker", 1500, 0.20, 1, 0.85, 0.9, 3000,
               400),
    Profession("mh_pharmacist", "Mental health pharmacist", 800, 0.08, 1, 0.95, 0.95, 15000, 60,
               recruit_cost=10000),
    Profession("specialty_doctor", "Specialty doctor", 2000, 0.09, recruit_cost=20000),
]
"""Staff groups in the order a smaller instance takes them: the first five already
give every lever, upskilling, supervision and the service targets."""

SERVICES = [  # (id, label, {group: weight}, share of baseline deployed, growth, scope)
    ("crisis", "Crisis care", {"mh_nurse": 1.0, "consultant_psychiatrist": 1.0,
                               "support_worker": 0.5}, 0.18, 0.25, "region"),
    ("talking_therapies", "Adult talking therapies",
     {"pwp": 1.0, "hit": 1.0, "clinical_psychologist": 1.0, "mh_nurse": 0.8}, 0.45, 0.35,
     "region"),
    ("cyp", "Children and young people's services",
     {"cyp_therapist": 1.0, "emhp": 1.0, "clinical_psychologist": 1.0, "mh_nurse": 0.8},
     0.20, 0.30, "national"),
]
"""Services named by targets (DHSC, July 2017: +4,800 crisis posts, +2,900 talking-therapy
staff, +2,000 in children's services). The weights are skill-mix substitution; the
share is the part of the groups' baseline FTE deployed to the service at the start."""

PROFESSION_GROWTH = {"mh_nurse": 8100 / 35700, "consultant_psychiatrist": 570 / 5160}
"""Stepping Forward growth by profession over four years (RCPsych Mental Health Watch)."""
PSYCHOLOGICAL = ("clinical_psychologist", "hit", "psychotherapist", "pwp")
PSYCHOLOGICAL_GROWTH = 4200 / 20500
"""+4,200 allied health and psychological staff on a base of about 20,500."""


VACANCY_RATE = (0.05, 0.15)
"""Range of a workforce row's vacancy rate (posts = fte / (1 − rate)): about 10% of
posts were vacant at the start of Stepping Forward (HEE, July 2017)."""


class GeneratorError(ValueError):
    """Arguments the generator cannot honour (one ``location | message`` line)."""


def _check(units: int, groups: int, years: int, seed: int) -> None:
    for name, value, lo, hi in (("--units", units, 1, 100000), ("--groups", groups, 1, 1000),
                                ("--years", years, 1, 60), ("--seed", seed, 0, 2**63 - 1)):
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            raise GeneratorError(f"{name} | must be a whole number in [{lo}, {hi}], "
                                 f"got {value!r}")


def catalogue(groups: int) -> list[Profession]:
    """The first ``groups`` professions; beyond the catalogue, generic clinical roles
    (each a 2-year course, alternate ones with international recruitment)."""
    out = list(CATALOGUE[:groups])
    for k in range(len(CATALOGUE), groups):
        out.append(Profession(f"clinical_role_{k + 1:03d}", f"Clinical role {k + 1}", 1500,
                              0.10 + 0.01 * (k % 6), 2, 0.85, 0.9, 14000, 150,
                              recruit_cost=14000 if k % 2 else 0.0))
    return out


def _money(x: float) -> float:
    """Whole currency units, as a float (YAML and CSV show ``1500.0`` the same way)."""
    return float(round(x))


def generate_instance(units: int, groups: int, years: int, seed: int) -> dict[str, Any]:
    """An instance document (every section inline) for ``units`` trusts, ``groups`` staff
    groups and ``years`` plan years, deterministic for ``seed``.

    Raises :class:`GeneratorError` for arguments out of range.
    """
    _check(units, groups, years, seed)
    rng = random.Random(seed)
    scale = units / NATIONAL_TRUSTS
    profs = catalogue(groups)
    gids = [p.id for p in profs]
    plan_years = list(range(BASE_YEAR + 1, BASE_YEAR + years + 1))

    # Trusts: round-robin over the regions so every region used has one.
    regions = REGIONS[:min(len(REGIONS), units)]
    unit_rows = []
    for i in range(units):
        region = regions[i % len(regions)][0]
        label = region.replace("_", " ").title()
        unit_rows.append({"id": f"trust_{i + 1:04d}",
                          "name": f"{label} trust {i // len(regions) + 1}", "region": region})
    uids = [u["id"] for u in unit_rows]
    region_of = {u["id"]: u["region"] for u in unit_rows}

    # Baseline: trust size varies (lognormal), leaver rates around the group's.
    size = {u: math.exp(rng.gauss(0.0, 0.35)) for u in uids}
    mean_size = sum(size.values()) / units
    workforce = []
    s0: dict[tuple[str, str], float] = {}
    lam: dict[tuple[str, str], float] = {}
    for u in uids:
        for p in profs:
            if p.national_fte < 1000 and rng.random() < 0.25:
                continue  # small professions are missing from some trusts
            fte = round(p.national_fte / NATIONAL_TRUSTS * size[u] / mean_size
                        * rng.uniform(0.8, 1.2), 1)
            rate = round(min(0.45, max(0.02, p.leaver_rate * rng.uniform(0.75, 1.3))), 4)
            joiners = round(rate * fte * rng.uniform(0.55, 0.85), 1)
            s0[u, p.id], lam[u, p.id] = fte, rate
            workforce.append({"unit": u, "group": p.id, "fte": fte, "leaver_rate": rate,
                              "joiners": joiners})

    # Funded posts: a vacancy rate per row from a stream of its own, so that every
    # other draw (and so the rest of the instance) is what it was before posts.
    posts_rng = random.Random(f"{seed}/posts")
    p0: dict[tuple[str, str], float] = {}
    for row in workforce:
        rate = posts_rng.uniform(*VACANCY_RATE)
        p0[row["unit"], row["group"]] = row["posts"] = round(row["fte"] / (1 - rate), 1)

    def national(gid: str) -> float:
        return sum(s0.get((u, gid), 0.0) for u in uids)

    training = []
    for p in profs:
        if p.duration == 0 or (p.from_group is not None and p.from_group not in gids):
            continue
        places = p.national_places * scale
        owners = [(None, 1.0)]
        if p.id == "mh_nurse":  # commissioned per region, split as the UCAS acceptances
            total = sum(n for _, n in regions)
            owners = [(r, n / total) for r, n in regions]
        for region, share in owners:
            typical = max(1.0, round(places * share))
            prog: dict[str, Any] = {
                "id": f"{p.id}_training" + (f"_{region}" if region else ""),
                "group": p.id, "duration": p.duration, "completion_rate": p.completion,
                "employment_rate": p.employment, "cost_per_place_year": p.cost_per_place_year,
                "max_places_per_year": float(math.ceil(1.6 * typical)),
                "pot": "education"}
            if region:
                prog["region"] = region
            if p.from_group:
                prog["from_group"] = p.from_group
            if p.min_cohort:
                prog["min_cohort"] = float(min(math.ceil(p.min_cohort * max(scale, 0.1)),
                                               typical))
                prog["cohort_fixed_cost"] = _money(p.cohort_fixed_cost * max(scale, 0.1))
            if p.from_group is None:  # upskilling has no committed cohorts: see module doc
                prog["committed"] = {BASE_YEAR - k: float(round(typical * rng.uniform(0.9, 1.1)))
                                     for k in range(p.duration - 1, -1, -1)}
            if p.supervised_by in gids:
                # Committed trainees take at most a third of the capacity left after a
                # plan-length of leavers with no lever: a plan with no action is feasible.
                supervisors = national(p.supervised_by) * (1 - p.leaver_rate * 1.3) ** years
                in_training = sum(prog.get("committed", {}).values()) + typical * p.duration
                ratio = max(0.5, 3 * in_training / max(supervisors, 1.0))
                prog["supervision"] = {"group": p.supervised_by,
                                       "max_trainees_per_fte": round(ratio + 0.005, 2)}
            training.append(prog)

    return_to_practice = []
    for p in profs:
        if p.returners_pool:
            pool = round(p.returners_pool * scale)
            per_year = max(1.0, pool / 30)  # at most about 1/30 of the pool a year
            spend = _money(per_year * 3000)
            return_to_practice.append({
                "id": f"{p.id}_return", "group": p.id, "pool": float(pool),
                "response": [[0.0, 0.0], [spend, round(per_year * 0.6, 1)],
                             [_money(spend * 2.5), round(per_year, 1)]],
                "cost_per_returner": 2000.0, "fixed_cost": _money(250000 * scale),
                "pot": "main"})

    international = []
    for p in profs:
        if p.recruit_cost:
            cap = round(max(1.0, national(p.id) * 0.03), 1)
            international.append({"id": f"{p.id}_international", "group": p.id,
                                  "cost_per_recruit": p.recruit_cost, "max_per_year": cap,
                                  "max_total": round(cap * years * 0.6, 1), "pot": "main"})

    retention: list[dict[str, Any]] = []
    top = max(1, round(units * 20 / NATIONAL_TRUSTS))
    clinical = [g for g in gids if g != "support_worker"] or gids
    retention.append({"id": "high_exit_trusts", "eligible": {"top_leaver_rate": top},
                      "groups": clinical, "max_retained_share": 0.25,
                      "response": [[0.0, 0.0], [100000.0, 8.0], [400000.0, 20.0]],
                      "fixed_cost": 50000.0, "max_units_per_year": max(1, math.ceil(0.75 * top)),
                      "pot": "main"})
    therapy = [g for g in ("pwp", "hit", "cyp_therapist") if g in gids]
    first_region = [u for u in uids if region_of[u] == regions[0][0]]
    retention.append({"id": f"talking_therapy_retention_{regions[0][0]}",
                      "eligible": first_region, "groups": therapy or gids[:1],
                      "max_retained_share": 0.8,
                      "response": [[0.0, 0.0], [50000.0, 15.0], [200000.0, 40.0]],
                      "min_funding": 20000.0, "pot": "main"})

    # Budgets, calibrated so that money binds: about a third of what the caps allow.
    full_training = sum(pr["max_places_per_year"] * pr["cost_per_place_year"] * pr["duration"]
                        for pr in training)
    education_year = _money(0.35 * full_training + 1.0)
    other_year = _money(0.3 * (sum(r["max_per_year"] * r["cost_per_recruit"]
                                   for r in international)
                               + sum(c["response"][-1][0] for c in return_to_practice)
                               + 400000 * units / 3) + 1.0)
    main_per_year = {y: _money(other_year * (0.8 + 0.1 * k)) for k, y in enumerate(plan_years)}
    budgets = [
        {"id": "education", "per_year": education_year},
        {"id": "main", "per_year": main_per_year,
         "total": _money(0.85 * sum(main_per_year.values()))},
    ]

    targets = _targets(rng, profs, uids, region_of, regions, s0, plan_years)
    posts = _posts(gids, uids, p0, plan_years)

    return {
        "name": f"synthetic-u{units}-g{groups}-t{years}-s{seed}",
        "description": (f"Synthetic national-shape plan: {units} trusts, {groups} staff "
                        f"groups, {years} plan years, seed {seed} (wfopt generate)."),
        "currency": "GBP",
        "horizon": {"base_year": BASE_YEAR, "years": years},
        "staff_groups": [{"id": p.id, "name": p.name, "leaver_rate": p.leaver_rate}
                         for p in profs],
        "units": unit_rows,
        "workforce": workforce,
        "posts": posts,
        "training": training,
        "return_to_practice": return_to_practice,
        "retention": retention,
        "international": international,
        "budgets": budgets,
        "targets": targets,
        "objective": {"mode": "lexicographic"},
        "solver": {"mip_gap": 1.0e-4},
    }


def _trajectory(base: float, growth: float, plan_years: list[int]) -> dict[int, float]:
    """Required FTE rising linearly to ``base·(1 + growth)`` over four years, then
    on at the same pace (Stepping Forward is a four-year plan)."""
    return {y: round(base * (1 + growth * (k + 1) / 4), 1) for k, y in enumerate(plan_years)}


def _targets(rng: random.Random, profs: list[Profession], uids: list[str],
             region_of: dict[str, str], regions: list[tuple[str, int]],
             s0: dict[tuple[str, str], float], plan_years: list[int]) -> list[dict[str, Any]]:
    gids = [p.id for p in profs]

    def fte(units: list[str], weights: dict[str, float]) -> float:
        return sum(w * s0.get((u, g), 0.0) for u in units for g, w in weights.items())

    names = {p.id: p.name for p in profs}
    out: list[dict[str, Any]] = []
    for gid, growth in PROFESSION_GROWTH.items():
        if gid in gids:
            out.append({"id": f"{gid}_national", "label": f"{names[gid]}s (national)",
                        "groups": [gid], "priority": 1.0,
                        "required": _trajectory(fte(uids, {gid: 1.0}), growth, plan_years)})
    psych = [g for g in PSYCHOLOGICAL if g in gids]
    if psych:
        out.append({"id": "psychological_professions_national",
                    "label": "Psychological professions (national)", "groups": psych,
                    "priority": 1.0, "required": _trajectory(fte(uids, dict.fromkeys(psych, 1.0)),
                                                             PSYCHOLOGICAL_GROWTH, plan_years)})
    for sid, label, weights, share, growth, scope in SERVICES:
        w = {g: v for g, v in weights.items() if g in gids}
        if not w:
            continue
        scopes = ([(r, [u for u in uids if region_of[u] == r]) for r, _ in regions]
                  if scope == "region" else [(None, uids)])
        for region, members in scopes:
            base = share * fte(members, w)
            if base <= 0:
                continue
            t: dict[str, Any] = {"id": f"{sid}_{region or 'national'}",
                                 "label": f"{label} ({region or 'national'})",
                                 "service": sid, "groups": w,
                                 "priority": 2.0 if sid == "crisis" else 1.5,
                                 "required": _trajectory(base, growth, plan_years)}
            if region:
                t["region"] = region
            out.append(t)
    # A few trusts with their own crisis-team target (a new crisis house, say).
    crisis_w = {g: v for g, v in SERVICES[0][2].items() if g in gids}
    if crisis_w:
        for u in sorted(rng.sample(uids, max(1, len(uids) // 10))):
            base = 0.1 * fte([u], crisis_w)
            if base > 0:
                out.append({"id": f"crisis_house_{u}", "label": f"Crisis house at {u}",
                            "unit": u, "service": "crisis", "groups": crisis_w, "priority": 1.0,
                            "required": {plan_years[-1]: round(base * 1.5, 1)}})
    return out


def post_growth(gids: list[str]) -> dict[str, float]:
    """Growth of each group's posts over four years: the growth its profession
    target asks (nurses, consultants, the psychological professions), else the
    largest growth a service target asks of the group (the service's growth × the
    share of the group deployed there); groups no target grows keep their posts."""
    growth = dict.fromkeys(gids, 0.0)
    for gid in gids:
        if gid in PROFESSION_GROWTH:
            growth[gid] = PROFESSION_GROWTH[gid]
        elif gid in PSYCHOLOGICAL:
            growth[gid] = PSYCHOLOGICAL_GROWTH
        else:
            growth[gid] = max([share * g for _, _, weights, share, g, _ in SERVICES
                               if gid in weights], default=0.0)
    return growth


def _posts(gids: list[str], uids: list[str], p0: dict[tuple[str, str], float],
           plan_years: list[int]) -> list[dict[str, Any]]:
    """Posts rows: posts[u,g,y_k] = base posts · (1 + growth_g · k/4) in the k-th plan
    year, the pace of the targets' trajectories (:func:`_trajectory`), for every
    unit and group the targets grow. Every target then asks at most its groups'
    posts: the profession targets grow their groups' staff by growth_g (posts grow
    as much, on a base with vacancies), a service target by its share × growth."""
    growth = post_growth(gids)
    rows: list[dict[str, Any]] = []
    for u in uids:
        for gid in gids:
            if (u, gid) not in p0 or growth[gid] <= 0:
                continue
            for k, y in enumerate(plan_years):
                rows.append({"unit": u, "group": gid, "year": y,
                             "posts": round(p0[u, gid] * (1 + growth[gid] * (k + 1) / 4), 1)})
    return rows


# ------------------------------------------------------------------ writing

CSV_SECTIONS = ("units", "workforce", "posts", "targets")
"""Sections written as CSV files beside ``instance.yaml`` (the ones that grow with size)."""

GENERATED_FOLDER = only_files_with_suffixes(".yaml", ".csv")
"""What a generated instance's folder holds: an existing folder holding anything else
is not replaced."""


def _cell(value: Any) -> str:
    """One CSV cell in SPEC §3's conventions: ``g1;g2``, ``g1:1;g2:0.8``, numbers plain."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return ";".join(f"{k}:{_cell(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ";".join(_cell(v) for v in value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _csv_text(section: str, items: list[dict[str, Any]]) -> str:
    """A section as CSV text; targets get one row per (target, year)."""
    columns: list[str] = []
    for item in items:
        columns += [k for k in item if k not in columns]
    rows: list[list[str]] = []
    if section == "targets":
        columns = [c for c in columns if c != "required"] + ["year", "required"]
        for item in items:
            for year, required in item["required"].items():
                rows.append([_cell(item.get(c)) for c in columns[:-2]]
                            + [str(year), _cell(required)])
    else:
        rows = [[_cell(item.get(c)) for c in columns] for item in items]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buf.getvalue()


def write_instance(doc: dict[str, Any], out_dir: str | Path) -> Path:
    """Write ``doc`` as ``instance.yaml`` with the big sections as CSV files, atomically
    (the folder appears complete or not at all). Returns the instance file's path.

    Raises :class:`~optimiser.results.atomic.OutputFolderError` when ``out_dir`` exists and
    holds other files than an instance's, or holds the current folder.
    """
    yaml_doc = dict(doc)
    files: dict[str, str] = {}
    for section in CSV_SECTIONS:
        files[f"{section}.csv"] = _csv_text(section, doc[section])
        yaml_doc[section] = f"{section}.csv"
    files["instance.yaml"] = "# Generated by `wfopt generate`: synthetic, not data.\n" + \
        yaml.safe_dump(yaml_doc, sort_keys=False, allow_unicode=True, width=100)
    with atomic_directory(out_dir, GENERATED_FOLDER) as tmp:
        for name, text in files.items():
            (tmp / name).write_text(text, encoding="utf-8")
    return Path(out_dir).resolve() / "instance.yaml"
