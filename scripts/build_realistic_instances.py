"""Build the two realistic demonstration instances from public NHS figures.

Writes ``instances/stepping-forward-2017/`` (base 2016, 4 plan years, to 2020/21)
and ``instances/long-term-2028/`` (the same system over 12 years, with the Long
Term Plan additions by 2023/24): ``instance.yaml`` plus ``units.csv``,
``workforce.csv`` (with each trust's funded posts in March 2017), ``posts.csv`` (the
plan's new posts, per trust and year), ``training.csv`` and ``targets.csv``.

Every number is either **published** (its source named as in
``/work/shared/data/nhs-mh-figures.md``, marked ``# published:``) or a
**calibrated assumption** derived from published figures (marked
``# calibrated:`` with how). The synthetic part (trust names, sizes, group mix
and leaver rates per trust) comes from one seeded generator, so the output is
byte-identical on every run::

    python scripts/build_realistic_instances.py            # writes into instances/
    python scripts/build_realistic_instances.py --out DIR  # writes DIR/<name>/

Only ``random.Random.random()`` is used (its sequence is guaranteed across
Python versions); normal draws are made from it with Box–Muller here.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

SEED = 20170731
"""The day the Stepping Forward figures were announced (DHSC, 31 July 2017)."""

BASE_YEAR = 2016
"""Staff in post at the end of 2016/17 (March 2017) is the baseline."""

# ----------------------------------------------------------------- regions

REGIONS: list[tuple[str, str, int]] = [
    # id, name, 2022 nursing (UCAS) acceptances — published (figures file, Regions).
    ("east_of_england", "East of England", 565),
    ("london", "London", 990),
    ("midlands", "Midlands", 1080),
    ("north_east_and_yorkshire", "North East and Yorkshire", 905),
    ("north_west", "North West", 970),
    ("south_east", "South East", 505),
    ("south_west", "South West", 325),
]
"""The seven NHS England regions. calibrated: the UCAS acceptance split is used
for training capacity (as the figures file suggests) and also for each region's
share of the workforce and of regional targets."""

N_TRUSTS = 50
"""calibrated: about 50 mental-health trusts in England."""

PLACES: dict[str, list[str]] = {
    # Synthetic place names: no real trust is meant.
    "east_of_england": ["Fenholt", "Wyvernhoe", "Marshby", "Brackenford", "Saxwold"],
    "london": ["Thamesreach", "Fleetmoor", "Hollowgate", "Kingsmere", "Lea Marsh",
               "Westhaven", "Cranbourne Vale", "Riverwick", "Parkholm", "Bowfield"],
    "midlands": ["Ardenholt", "Trentmoor", "Merciavale", "Severnholm", "Charnbrook",
                 "Peakridge", "Wrekinford", "Soarwick", "Blackbrook", "Leafield Vale"],
    "north_east_and_yorkshire": ["Humberholt", "Woldcross", "Teesmere", "Airedene",
                                 "Calderwick", "Dalesford", "Tynemoor", "Wearholm",
                                 "Ridgefell", "Swaledene"],
    "north_west": ["Merseyholt", "Irwelldene", "Fyldmere", "Ribblewick", "Lunebrook",
                   "Pendleford", "Wirholm", "Ashcombe", "Mossbridge", "Eddisbury"],
    "south_east": ["Downsholt", "Solentmere", "Wealdbrook", "Medwick", "Chilternford",
                   "Arunvale"],
    "south_west": ["Tamarholt", "Mendipford", "Exmoorvale", "Quantock Rise"],
}
TRUST_KINDS = ["NHS Foundation Trust", "Mental Health NHS Trust",
               "Partnership NHS Foundation Trust", "Health and Care NHS Trust"]

COST_FACTOR = {"london": 1.12, "south_east": 1.04, "east_of_england": 1.02}
"""calibrated: regional cost of a training place relative to elsewhere (London
weighting and higher placement costs); 1.0 where not listed."""

# ----------------------------------------------------------------- staff groups


@dataclass(frozen=True)
class Group:
    id: str
    name: str
    baseline: float
    """National staff in post, FTE, March 2017."""
    leaver_rate: float
    """National FTE-weighted leaver rate (all exits from the trust)."""
    bau_in: float = 0.0
    """Business-as-usual graduates per year from this plan's programmes (committed
    cohorts at published commissioning levels): the part of the leavers that the
    exogenous joiners do not replace."""
    bau_out: float = 0.0
    """Business-as-usual upskilling out of the group per year."""


NURSE_COMMITTED = {2014: 3400, 2015: 3360, 2016: 3343}
"""Mental-health nursing commissions per intake year. published: 3,343 in 2016/17
(HEE, figures file "Training pipeline"); calibrated: 2014 and 2015 on the line from
3,755 (2009/10) to 3,343."""
NURSE_COMPLETION = 0.65   # published: non-completion about 35% (HEE RePAIR)
NURSE_EMPLOYMENT = 0.85   # calibrated: share of completers taking an NHS MH post
PSYCH_COMMITTED = {2014: 583, 2015: 588, 2016: 591}
"""Clinical psychology doctorate places. published: 583 (2014), 594 (2017);
calibrated: 2015 and 2016 interpolated."""
PSYCH_COMPLETION = 0.991  # published: non-completion 0.9%
PSYCH_EMPLOYMENT = 0.942  # published: 94.2% working as clinical psychologists in 12 months
PSYCHIATRY_COMMITTED = {2011: 400, 2012: 390, 2013: 380, 2014: 365, 2015: 355, 2016: 349}
"""Core psychiatry entrants (CT1) by start year. published: 349 of 417 posts filled
in 2016 (Stepping Forward); calibrated: earlier years on a gently falling trend."""
PSYCHIATRY_COMPLETION = 0.57  # published 60 of 100 go on to higher training; calibrated ×0.95
PSYCHIATRY_EMPLOYMENT = 0.75  # published: a quarter not substantively employed by the NHS
OT_COMMITTED = {2014: 480, 2015: 490, 2016: 500}  # calibrated: MH share of OT degree places
OT_COMPLETION = 0.85      # calibrated
OT_EMPLOYMENT = 0.80      # calibrated


@dataclass(frozen=True)
class Course:
    """A one-year course: its 2016 intake (graduating in 2017/18) and its rates."""

    committed_2016: int
    completion: float
    employment: float

    @property
    def committed(self) -> dict[int, int]:
        return {BASE_YEAR: self.committed_2016}


# calibrated: 2016 intakes at the level that replaces business-as-usual leavers
# (about 600 PWPs, 400 HITs, 100 CYP therapists, 60 peer support workers a year).
PWP = Course(740, 0.90, 0.90)
HIT = Course(483, 0.92, 0.90)
CYP = Course(124, 0.90, 0.90)
PEER = Course(78, 0.85, 0.90)

CYP_RAMP = 130
"""The most the CYP course's intake may grow in a year. calibrated from the published
CYP IAPT ambition, 1,700–1,800 new therapists by 2020/21: four intakes (2017–2020)
rising by at most 130 a year from the 2016 intake of 124 give 254 + 384 + 514 + 644
= 1,796."""
EMHP_RAMP = 220
"""published: 220 EMHP places in the first round (2018): the most the EMHP course's
intake may grow in a year (from 0 in 2016)."""


def bau(committed: dict[int, float], completion: float, employment: float) -> float:
    """Graduates per year at the latest committed intake."""
    return committed[max(committed)] * completion * employment


GROUPS: list[Group] = [
    # published: 35,688 MH nurses in NHS trusts, March 2017 (NHS Digital);
    # clinical-staff turnover 14.3% before the NHSI retention programme.
    Group("mh_nurse", "Mental health nurse", 35688, 0.143,
          bau_in=bau(NURSE_COMMITTED, NURSE_COMPLETION, NURSE_EMPLOYMENT)),
    # calibrated: 5,730 posts less 568 vacant in 2019 (RCPsych census) = 5,162, less
    # two years' growth; leaver rate 7% (retirement-dominated).
    Group("consultant_psychiatrist", "Consultant psychiatrist", 4950, 0.07,
          bau_in=bau(PSYCHIATRY_COMMITTED, PSYCHIATRY_COMPLETION, PSYCHIATRY_EMPLOYMENT)),
    # calibrated: ~350-400 core entrants a year for 3 years, 60% for 3 more.
    # The leaver rate is attrition from training; joiners are core recruits.
    Group("psychiatry_trainee", "Psychiatry trainee (core and higher)", 2050, 0.10,
          bau_out=bau(PSYCHIATRY_COMMITTED, PSYCHIATRY_COMPLETION, PSYCHIATRY_EMPLOYMENT)),
    Group("clinical_psychologist", "Clinical psychologist", 8600, 0.10,  # calibrated
          bau_in=bau(PSYCH_COMMITTED, PSYCH_COMPLETION, PSYCH_EMPLOYMENT)),
    # calibrated baselines; published turnover: PWPs 25%, HITs 12% (IAPT census 2015).
    Group("pwp", "Psychological wellbeing practitioner", 3300, 0.25,
          bau_in=bau(PWP.committed, PWP.completion, PWP.employment)),
    Group("hit", "High-intensity therapist", 4700, 0.12,
          bau_in=bau(HIT.committed, HIT.completion, HIT.employment)),
    Group("cyp_therapist", "Children and young people's psychological therapist", 1300,
          0.12, bau_in=bau(CYP.committed, CYP.completion, CYP.employment)),
    # New roles: none in post in March 2017.
    Group("emhp", "Education mental health practitioner", 0, 0.15),
    Group("nursing_associate", "Nursing associate", 0, 0.10),
    Group("support_worker", "Mental health support worker", 31000, 0.16),  # calibrated
    Group("peer_support_worker", "Peer support worker", 650, 0.18,  # calibrated
          bau_in=bau(PEER.committed, PEER.completion, PEER.employment)),
    Group("occupational_therapist", "Occupational therapist", 4300, 0.143,  # calibrated
          bau_in=bau(OT_COMMITTED, OT_COMPLETION, OT_EMPLOYMENT)),
]
"""Twelve staff groups. Joiners J[u,g] = λ·S − (BAU graduates) + (BAU upskilled out),
shared by baseline FTE: the national stock of every group is flat under
business-as-usual, as observed (35,688 MH nurses in March 2017, 35,674 in June
2018). Levers are what the plan adds or loses against that."""

CLINICAL = ["mh_nurse", "consultant_psychiatrist", "clinical_psychologist", "pwp", "hit",
            "cyp_therapist", "occupational_therapist"]
"""Groups the retention scheme covers (clinical staff, whose turnover is published)."""

SERVICE_SHARE: dict[str, dict[str, float]] = {
    # calibrated: share of each group's baseline FTE working in the service.
    "crisis": {"mh_nurse": 0.15, "consultant_psychiatrist": 0.08, "support_worker": 0.10,
               "peer_support_worker": 0.15, "occupational_therapist": 0.07},
    "cyp": {"mh_nurse": 0.10, "consultant_psychiatrist": 0.13, "clinical_psychologist": 0.20,
            "cyp_therapist": 1.0, "emhp": 1.0},
    "talking_therapies": {"pwp": 1.0, "hit": 1.0},
    # The rest of each group works in core inpatient and community services.
    "core": {"mh_nurse": 0.75, "nursing_associate": 1.0, "consultant_psychiatrist": 0.79,
             "support_worker": 0.90},
}

PLANNED_MOVES = 5000
"""published: Stepping Forward moves 5,000 staff from low- to high-demand services.
calibrated: the moves come out of core services pro rata to each group's core FTE,
phased over 2018/19–2020/21; core targets are the baseline less these moves."""

CORE_TARGETS = [
    # id, label, groups with weights, priority
    ("core_nursing", "Core services: nursing", {"mh_nurse": 1, "nursing_associate": 0.6}, 1.0),
    ("core_medical", "Core services: consultant psychiatrists",
     {"consultant_psychiatrist": 1}, 3.0),
    ("core_support", "Core services: support workers", {"support_worker": 1}, 1.0),
]
"""calibrated: a nursing associate counts for 0.6 of a nurse in core nursing (skill
mix); priorities weigh a consultant FTE short as 3 nurse FTEs, about their relative
cost and scarcity."""

# ----------------------------------------------------------------- random draws


class Draws:
    """Seeded draws built on ``random.Random.random()`` only (stable across Pythons)."""

    def __init__(self, seed: int):
        self.r = random.Random(seed)

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.r.random()

    def normal(self) -> float:
        u1 = 1.0 - self.r.random()  # (0, 1]
        u2 = self.r.random()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    def lognormal(self, sigma: float) -> float:
        return math.exp(sigma * self.normal())

    def pick(self, items: list[str]) -> str:
        return items[int(self.r.random() * len(items))]

    def sample(self, n_items: int, k: int) -> list[int]:
        """k distinct indices of range(n_items) (partial Fisher–Yates)."""
        idx = list(range(n_items))
        for i in range(k):
            j = i + int(self.r.random() * (n_items - i))
            idx[i], idx[j] = idx[j], idx[i]
        return sorted(idx[:k])


# ----------------------------------------------------------------- the system


@dataclass
class System:
    """The synthetic national system shared by both instances."""

    units: list[dict]
    """id, name, region."""
    fte: dict[tuple[str, str], float]
    lam: dict[tuple[str, str], float]
    joiners: dict[tuple[str, str], float]

    def region_fte(self, region: str, groups: Iterable[str]) -> float:
        gs = list(groups)
        return sum(self.fte[u["id"], g] for u in self.units if u["region"] == region
                   for g in gs)

    def national_fte(self, groups: Iterable[str]) -> float:
        gs = list(groups)
        return sum(self.fte[u["id"], g] for u in self.units for g in gs)


def region_share() -> dict[str, float]:
    total = sum(n for _, _, n in REGIONS)
    return {r: n / total for r, _, n in REGIONS}


def split_integer(total: int, shares: dict[str, float]) -> dict[str, int]:
    """Largest-remainder split of ``total`` by ``shares`` (ties by key order)."""
    raw = {k: total * s for k, s in shares.items()}
    out = {k: math.floor(v) for k, v in raw.items()}
    rest = total - sum(out.values())
    order = sorted(raw, key=lambda k: (-(raw[k] - out[k]), list(shares).index(k)))
    for k in order[:rest]:
        out[k] += 1
    return out


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def round_to_total(values: dict, total: float, decimals: int = 1) -> dict:
    """Round to ``decimals`` and put the rounding residue on the largest value, so
    the rounded values add up to ``total`` exactly."""
    out = {k: round(v, decimals) for k, v in values.items()}
    if total > 0:
        biggest = max(out, key=lambda k: (out[k], str(k)))
        out[biggest] = round(out[biggest] + total - sum(out.values()), decimals)
    return out


def build_system(draws: Draws) -> System:
    share = region_share()
    per_region = split_integer(N_TRUSTS, share)
    units: list[dict] = []
    size: dict[str, float] = {}
    for region, _, _ in REGIONS:
        n = per_region[region]
        places = PLACES[region][:n]
        sizes = [draws.lognormal(0.45) for _ in places]
        for place, s in zip(places, sizes, strict=True):
            uid = slug(place)
            units.append({"id": uid, "name": f"{place} {draws.pick(TRUST_KINDS)}",
                          "region": region})
            size[uid] = share[region] * s / sum(sizes)

    # Group mix varies by trust (some run no CAMHS, some large IAPT services):
    # size × national mix × noise, then each group scaled to its national total.
    fte: dict[tuple[str, str], float] = {}
    for g in GROUPS:
        raw = {u["id"]: size[u["id"]] * draws.lognormal(0.2) for u in units}
        scale = g.baseline / sum(raw.values())
        col = round_to_total({u: v * scale for u, v in raw.items()}, g.baseline)
        for u in units:
            fte[u["id"], g.id] = col[u["id"]]

    # Leaver rates: a trust factor with a high-exit tail (about 12 trusts 10–30%
    # above average, as NHSI cohort-1 trusts at 15.5% against 13.4–14.3%), then
    # each group's rates scaled so the FTE-weighted national rate is the group's.
    tail = set(draws.sample(len(units), 12))
    factor = {}
    for i, u in enumerate(units):
        if i in tail:
            factor[u["id"]] = draws.uniform(1.10, 1.30)
        else:
            factor[u["id"]] = min(1.08, max(0.85, 1.0 + 0.045 * draws.normal()))
    lam: dict[tuple[str, str], float] = {}
    for g in GROUPS:
        raw = {u["id"]: factor[u["id"]] * math.exp(0.03 * draws.normal()) for u in units}
        weight = {u["id"]: fte[u["id"], g.id] for u in units}
        if sum(weight.values()) == 0:
            weight = {u["id"]: size[u["id"]] for u in units}
        mean = sum(raw[u] * weight[u] for u in raw) / sum(weight.values())
        for u in raw:
            lam[u, g.id] = round(min(0.6, g.leaver_rate * raw[u] / mean), 4)

    # Joiners keep each group's national stock flat under business as usual.
    joiners: dict[tuple[str, str], float] = {}
    for g in GROUPS:
        total = sum(fte[u["id"], g.id] for u in units)
        for u in units:
            key = (u["id"], g.id)
            if total == 0:
                joiners[key] = 0.0
                continue
            s = fte[key] / total
            joiners[key] = round(max(0.0, lam[key] * fte[key] - s * g.bau_in + s * g.bau_out),
                                 1)
    return System(units=units, fte=fte, lam=lam, joiners=joiners)


# ----------------------------------------------------------------- levers

RAMP_SHARE = 0.10
"""Stable commissioning: a programme's intake may change by at most this share of
its 2016 intake from one year to the next (``max_increase`` = ``max_decrease``).
published: mental-health nursing commissions moved from 3,755 (2009/10) to 3,343
(2016/17), 1.6% a year on average; clinical psychology places 583 (2014), 594
(2017), 593 (2018), 614 (2019), at most +3.5% a year until the funded expansion
of 2020 (770, +25%). calibrated: 10% a year, six times the nursing average, room
for a deliberate expansion or contraction but not for opening and closing
cohorts from one year to the next."""

RAMP_FLOOR = 10
"""calibrated: the yearly change is at least 10 places, or the course's minimum
cohort where larger: a small regional course (29 HIT entrants in the South West)
may grow or shrink by one seminar group a year, and a course at its minimum
cohort may close, or a closed one reopen, in one step."""


def ramp(intake: float, min_cohort: float = 0) -> dict[str, int]:
    """``max_increase`` and ``max_decrease`` of a programme whose 2016 intake is
    ``intake``: RAMP_SHARE of it, at least RAMP_FLOOR and the minimum cohort."""
    step = max(round(RAMP_SHARE * intake), round(min_cohort), RAMP_FLOOR)
    return {"max_increase": step, "max_decrease": step}


def training_rows(sysm: System, years: list[int]) -> list[dict]:
    """Training programmes, one CSV row per committed intake year (or one row)."""
    share = region_share()
    rows: list[dict] = []

    def add(prog: dict, committed: dict[int, float] | None = None,
            intake: float | None = None) -> None:
        # calibrated: places as a continuous number. Every programme here takes 60
        # to 2,000 entrants a year, so a fraction of a place is below the plan's
        # precision (whole places moved W by 2.1 FTE, 0.025%, on Stepping Forward),
        # but whole places turn each year's IAPT pot, which pays only for places
        # and cohorts, into an integer knapsack that HiGHS could not prove to the
        # 0.01% gap in 300 s. Minimum cohorts and cohort fixed costs stay binary.
        # See the instance README, "Whole places".
        prog = {**prog, "integer_places": False}
        # Stable commissioning: the rule of ``ramp`` on the 2016 intake (or on
        # ``intake`` for a programme without one); a limit given in ``prog`` wins.
        if not prog.pop("no_ramp", False):
            base = committed[BASE_YEAR] if intake is None else intake
            prog = {**prog, **ramp(base, prog.get("min_cohort", 0)),
                    **{k: prog[k] for k in ("max_increase", "max_decrease") if k in prog}}
        if not committed:
            rows.append(prog)
            return
        for y, n in sorted(committed.items()):
            rows.append({**prog, "year": y, "committed": n})

    # Nursing degree by region: capacity split as UCAS acceptances (published split);
    # calibrated: at most 1.5× the 2016 commissions nationally.
    nurse_cap = split_integer(5000, share)
    for region, rname, _ in REGIONS:
        committed = split_integer_map(NURSE_COMMITTED, share, region)
        add({"id": f"nursing_degree_{region}", "name": f"MH nursing degree ({rname})",
             "group": "mh_nurse", "region": region, "duration": 3,
             "completion_rate": NURSE_COMPLETION, "employment_rate": NURSE_EMPLOYMENT,
             # published: government spend per undergraduate nurse ≥ £26,000 (Nuffield
             # Trust) over 3 years = £8,700 a year; calibrated: regional factor.
             "cost_per_place_year": round(8700 * COST_FACTOR.get(region, 1.0)),
             "max_places_per_year": nurse_cap[region],
             # calibrated: mentors; at most one student in training per 2 nurses.
             "supervision.group": "mh_nurse", "supervision.max_trainees_per_fte": 0.5,
             "pot": "hee_education"}, committed)

    add({"id": "clinical_psychology_doctorate", "name": "Clinical psychology doctorate",
         "group": "clinical_psychologist", "duration": 3,
         "completion_rate": PSYCH_COMPLETION, "employment_rate": PSYCH_EMPLOYMENT,
         # calibrated: trainee salary (band 6 with on-costs) and university fees.
         "cost_per_place_year": 48000,
         # published: 770 NHS places in 2020, the highest; calibrated cap 800.
         "max_places_per_year": 800,
         "supervision.group": "clinical_psychologist",
         "supervision.max_trainees_per_fte": 0.3, "pot": "hee_education"}, PSYCH_COMMITTED)

    add({"id": "psychiatry_training", "name": "Psychiatry core and higher training",
         "group": "consultant_psychiatrist", "from_group": "psychiatry_trainee",
         # published: core 3 years + higher 3 years.
         "duration": 6, "completion_rate": PSYCHIATRY_COMPLETION,
         "employment_rate": PSYCHIATRY_EMPLOYMENT,
         # calibrated: HEE's share of a training post and its education.
         "cost_per_place_year": 30000,
         # published: 417 core posts in 2016; calibrated: expansion to 520 at most.
         "max_places_per_year": 520,
         "supervision.group": "consultant_psychiatrist",
         "supervision.max_trainees_per_fte": 0.5, "pot": "hee_medical"},
        PSYCHIATRY_COMMITTED)

    add({"id": "ot_degree", "name": "Occupational therapy degree (MH placements)",
         "group": "occupational_therapist", "duration": 3, "completion_rate": OT_COMPLETION,
         "employment_rate": OT_EMPLOYMENT, "cost_per_place_year": 8700,
         "max_places_per_year": 750, "pot": "hee_education"}, OT_COMMITTED)

    add({"id": "nursing_associate_upskill", "name": "Nursing associate apprenticeship",
         "group": "nursing_associate", "from_group": "support_worker", "duration": 2,
         "completion_rate": 0.8, "employment_rate": 1.0,
         # calibrated: apprenticeship and backfill, ~£9,000 a year.
         "cost_per_place_year": 9000, "max_places_per_year": 2000,
         "pot": "hee_education"},
        # calibrated: a new programme (0 in 2016): the rule on its cap, 200 places
        # a year.
        intake=2000)

    # One-year talking-therapy courses (published: about 1 year). PWP and HIT run
    # per region with a minimum cohort and a cohort fixed cost (calibrated).
    pwp_cap = split_integer(1400, share)
    hit_cap = split_integer(1000, share)
    for region, rname, _ in REGIONS:
        f = COST_FACTOR.get(region, 1.0)
        add({"id": f"pwp_course_{region}", "name": f"PWP course ({rname})", "group": "pwp",
             "region": region, "duration": 1, "completion_rate": PWP.completion,
             "employment_rate": PWP.employment,
             "cost_per_place_year": round(14000 * f), "cohort_fixed_cost": round(80000 * f),
             "min_cohort": 12, "max_places_per_year": pwp_cap[region],
             "pot": "iapt_expansion"}, split_integer_map(PWP.committed, share, region))
    for region, rname, _ in REGIONS:
        f = COST_FACTOR.get(region, 1.0)
        add({"id": f"hit_course_{region}", "name": f"High-intensity therapy course ({rname})",
             "group": "hit", "region": region, "duration": 1,
             "completion_rate": HIT.completion, "employment_rate": HIT.employment,
             "cost_per_place_year": round(22000 * f),
             "cohort_fixed_cost": round(100000 * f), "min_cohort": 10,
             "max_places_per_year": hit_cap[region], "pot": "iapt_expansion"},
            split_integer_map(HIT.committed, share, region))
    # published: CYP IAPT to train 1,700–1,800 new therapists by 2020/21.
    add({"id": "cyp_therapy_course", "name": "CYP IAPT therapist course",
         "group": "cyp_therapist", "duration": 1, "completion_rate": CYP.completion,
         "employment_rate": CYP.employment, "cost_per_place_year": 18000,
         "cohort_fixed_cost": 150000, "min_cohort": 20, "max_places_per_year": 700,
         # A funded national expansion, published faster than RAMP_SHARE allows:
         # it may grow by CYP_RAMP a year; it falls as the rule says.
         "max_increase": CYP_RAMP,
         "pot": "iapt_expansion"}, CYP.committed)
    # published: 220 EMHP places in the first round (2018), over 3,000 applicants.
    add({"id": "emhp_course", "name": "Education mental health practitioner course",
         "group": "emhp", "duration": 1, "completion_rate": 0.9, "employment_rate": 0.95,
         "cost_per_place_year": 16000, "cohort_fixed_cost": 150000, "min_cohort": 20,
         "max_places_per_year": 1000, "intake_years": [y for y in years if y >= 2018],
         # A new course (0 in 2016): it may grow by its published first round a
         # year, and falls as the rule says of an intake of that size.
         "max_increase": EMHP_RAMP, "pot": "iapt_expansion"}, intake=EMHP_RAMP)
    # calibrated: peer support courses are short and local, run at any size; trusts
    # and voluntary-sector providers run them, not university contracts, so they
    # have no ramp (no max_increase or max_decrease).
    add({"id": "peer_support_course", "name": "Peer support worker course",
         "group": "peer_support_worker", "duration": 1, "completion_rate": PEER.completion,
         "employment_rate": PEER.employment, "cost_per_place_year": 3500,
         "max_places_per_year": 1200, "pot": "national_programmes", "no_ramp": True},
        PEER.committed)
    return rows


def split_integer_map(by_year: dict[int, int], share: dict[str, float], region: str
                      ) -> dict[int, int]:
    return {y: split_integer(n, share)[region] for y, n in by_year.items()}


def return_to_practice() -> list[dict]:
    return [
        # published: pool ~30,000 MH nurses; course ~£2,000 per returner; ambition
        # ≥ 1,000 returners a year; national campaign £4.7m over three years.
        # calibrated: concave response reaching 1,000 a year at £4m, 1,100 at £6m.
        {"id": "nurse_return", "name": "Nurse return to practice", "group": "mh_nurse",
         "pool": 30000, "response": [[0, 0], [1.0e6, 400], [2.5e6, 800], [4.0e6, 1000],
                                     [6.0e6, 1100]],
         "cost_per_returner": 2000, "fixed_cost": 250000, "pot": "national_programmes"},
        # published: pool ~4,000 psychiatrists. calibrated: response and costs
        # (supervised return, induction).
        {"id": "psychiatrist_return", "name": "Psychiatrist return to practice",
         "group": "consultant_psychiatrist", "pool": 4000,
         "response": [[0, 0], [0.4e6, 30], [1.0e6, 60], [2.0e6, 90]],
         "cost_per_returner": 8000, "fixed_cost": 100000, "pot": "national_programmes"},
    ]


def retention() -> list[dict]:
    # published: NHSI programme, about 20 high-leaver trusts in cohort 1; effect
    # 0.5–1.6 percentage points of turnover, up to 3 points planned.
    # calibrated: 5 retained per 1,000 FTE (0.5 pp) for £40k, 16 (1.6 pp) for £250k;
    # at most 20% of a group's leavers (about 3 pp of a 14% rate).
    # calibrated: no fee per funded trust and no minimum grant: NHSI's support was
    # delivered by its own team, whose cost is the spend on the response curve;
    # all 20 eligible trusts may be funded in a year.
    return [{"id": "high_exit_retention", "name": "Retention support, highest-exit trusts",
             "eligible": {"top_leaver_rate": 20}, "groups": CLINICAL,
             "max_retained_share": 0.2,
             "response": [[0, 0], [40000, 5], [120000, 11], [250000, 16]],
             "pot": "national_programmes"}]


def international(years: list[int]) -> list[dict]:
    # published: £10,000–12,000 per nurse up front (Nuffield Trust).
    # calibrated: ethical caps (no active recruitment from red-list countries).
    n = len(years)
    return [
        {"id": "nurse_intl_partnership", "name": "Nurses, government-to-government partnership",
         "group": "mh_nurse", "cost_per_recruit": 10000, "max_per_year": 500,
         "pot": "national_programmes"},
        {"id": "nurse_intl_agency", "name": "Nurses, ethical agencies", "group": "mh_nurse",
         "cost_per_recruit": 12000, "max_per_year": 700, "max_total": 500 * n,
         "pot": "national_programmes"},
        {"id": "psychiatrist_intl", "name": "Psychiatrists, international recruitment",
         "group": "consultant_psychiatrist", "cost_per_recruit": 15000, "max_per_year": 80,
         "max_total": 60 * n, "pot": "national_programmes"},
    ]


# ----------------------------------------------------------------- targets


@dataclass(frozen=True)
class Growth:
    """A target as growth on the baseline: ``steps`` maps year to the FTE added."""

    id: str
    label: str
    groups: dict[str, float]
    steps: dict[int, float]
    service: str | None = None
    region: str | None = None
    priority: float = 1.0
    fair_share: str | None = None
    """Fair-share group: its members' largest shortfall rate is minimised after W."""
    hold: bool = True
    """Reach and keep: the last value is required in every later plan year. Every
    target here is a level a plan grows the workforce to and keeps (Stepping
    Forward's "by 2020/21", the Long Term Plan's "by 2023/24"), not a count in
    one year."""


def trajectory(start: int, end: int, amount: float, before: float = 0.0) -> dict[int, float]:
    """Linear growth from ``before`` (reached in ``start``) to ``before + amount`` in
    ``end``, one step per year after ``start``."""
    return {y: before + amount * (y - start) / (end - start) for y in range(start + 1, end + 1)}


def baseline_of(sysm: System, t: Growth) -> float:
    """The target's quantity at the baseline: deployed share × FTE for a service."""
    total = 0.0
    for g, w in t.groups.items():
        fte = sysm.region_fte(t.region, [g]) if t.region else sysm.national_fte([g])
        share = SERVICE_SHARE[t.service].get(g, 0.0) if t.service else 1.0
        total += w * share * fte
    return total


def stepping_forward_targets(sysm: System) -> list[Growth]:
    """Stepping Forward to 2020/21: growth on March 2017 by 2018/19, 2019/20, 2020/21."""
    share = region_share()
    sf = lambda amount: trajectory(2017, 2020, amount)  # noqa: E731
    out = [
        # published by profession (RCPsych Mental Health Watch).
        Growth("nurses", "Mental health nurses (+8,100)", {"mh_nurse": 1}, sf(8100)),
        Growth("consultants", "Consultant psychiatrists (+570)",
               {"consultant_psychiatrist": 1}, sf(570), priority=3.0),
        # Not a target: the published +4,200 AHP and psychological staff. It is the
        # same growth as IAPT's +2,900 and CYP's therapists seen by profession, so
        # it would count each therapist twice more. (It also made the plan much
        # harder to prove optimal: stage 1 did not reach the 0.01% gap in 180 s,
        # 12,530 nodes; without it 21.5 s, 37 nodes. See the README.)
        # calibrated: the IAPT growth split 60% high-intensity, 40% PWP (the IAPT
        # workforce plan's mix), nationally; the regional IAPT targets below count
        # both, so every IAPT therapist counts twice, PWP and HIT alike.
        Growth("iapt_high_intensity", "IAPT high-intensity therapists (+1,740)",
               {"hit": 1}, sf(1740), service="talking_therapies"),
        Growth("iapt_low_intensity", "IAPT psychological wellbeing practitioners (+1,160)",
               {"pwp": 1}, sf(1160), service="talking_therapies"),
        # calibrated: the professions with no growth target keep their March 2017
        # numbers (Stepping Forward grows them through IAPT and CYP, not by cuts).
        Growth("psychologists", "Clinical psychologists (maintained)",
               {"clinical_psychologist": 1}, sf(0), priority=1.5),
        Growth("occupational_therapists", "Occupational therapists (maintained)",
               {"occupational_therapist": 1}, sf(0)),
        # published by service (DHSC, 31 July 2017).
        Growth("cyp_service", "Children and young people's services (+2,000)",
               {g: 1 for g in SERVICE_SHARE["cyp"]}, sf(2000), service="cyp"),
        Growth("crisis_service", "Crisis care posts (+4,800)",
               {g: 1 for g in SERVICE_SHARE["crisis"]}, sf(4800), service="crisis"),
        # published: 5,000 new roles (Stepping Forward).
        Growth("new_roles", "New roles: nursing associates, EMHPs, peer support (+5,000)",
               {"nursing_associate": 1, "emhp": 1, "peer_support_worker": 1}, sf(5000),
               priority=0.5),
    ]
    core_fte = {g: SERVICE_SHARE["core"][g] * sysm.national_fte([g])
                for g in SERVICE_SHARE["core"]}
    moves = {g: PLANNED_MOVES * v / sum(core_fte.values()) for g, v in core_fte.items()}
    for tid, label, groups, prio in CORE_TARGETS:
        out.append(Growth(tid, f"{label} (less planned moves)", groups,
                          sf(-sum(moves[g] for g in groups)), service="core", priority=prio))
    crisis_nurses = split_integer(4600, share)  # published: 4,600 of the crisis posts
    iapt = split_integer(2900, share)           # published: +2,900 IAPT therapists
    # calibrated: the regional targets share their region's shortfall fairly: where
    # money and pipelines cannot meet them all, the plan first keeps W least, then
    # makes the largest shortfall rate (shortfall / required) of each group as small
    # as it can, so no region's crisis or talking-therapy service is left far
    # shorter than the others (docs/model.md, "Fair shares").
    for region, rname, _ in REGIONS:
        out.append(Growth(f"crisis_nurses_{region}", f"Crisis nurses, {rname}",
                          {"mh_nurse": 1}, sf(crisis_nurses[region]), service="crisis",
                          region=region, fair_share="crisis_by_region"))
    for region, rname, _ in REGIONS:
        out.append(Growth(f"iapt_{region}", f"Talking therapies (IAPT), {rname}",
                          {"pwp": 1, "hit": 1}, sf(iapt[region]),
                          service="talking_therapies", region=region,
                          fair_share="talking_therapies_by_region"))
    return out


LTP_YEARS = (2021, 2022, 2023)
"""Target years after 2020/21 in the long-term instance: a trajectory to 2023/24;
every target holds its last value to 2028/29 (``Growth.hold``)."""


def long_term_targets(sysm: System) -> list[Growth]:
    """Stepping Forward to 2020/21, then the Long Term Plan additions by 2023/24 on
    top; every target holds its last value to 2028/29 (the services and the IAPT
    targets their 2020/21 level)."""
    # published (RCPsych, on the Long Term Plan): +4,220 nurses, +470 consultants,
    # +2,520 psychologists by 2023/24.
    ltp = {"nurses": 4220, "consultants": 470, "psychologists": 2520}
    out = []
    for t in stepping_forward_targets(sysm):
        # Both fair-share groups stay: the crisis nurses (met everywhere, the
        # fairness stage proves M = 0 at once) and the talking therapies (README,
        # "Fair shares": proved optimal in about 50 s of a 113 s solve; it was
        # left out while the engine of that time ran the stage out of its time
        # at a 21.9% gap).
        extra = ltp.get(t.id, 0.0)
        if not extra:
            # Held at the 2020/21 level. The IAPT targets too: their growth after
            # 2020/21 is part of the LTP psychological professions below (counting
            # it here as well would count it twice), but the level they reached is
            # kept, not left to lapse.
            out.append(t)
            continue
        end = t.steps[2020]
        steps = dict(t.steps)
        steps.update({y: end + extra * (y - 2020) / 3 for y in LTP_YEARS})
        label = t.label.replace(")", f", then +{extra:,} by 2023/24)")
        out.append(Growth(t.id, label, t.groups, steps, t.service, t.region, t.priority,
                          t.fair_share, t.hold))

    def ltp_steps(amount: float) -> dict[int, float]:
        return {y: amount * (y - 2020) / 3 for y in LTP_YEARS}

    out += [
        # published: +5,610 psychotherapists and psychological professions by
        # 2023/24 (Long Term Plan, via RCPsych), on top of the 2020/21 Stepping
        # Forward level, which includes IAPT's +2,900.
        Growth("ltp_psychological_professions",
               "LTP psychological professions (+5,610 on 2020/21 by 2023/24)",
               {"pwp": 1, "hit": 1, "cyp_therapist": 1, "emhp": 1},
               {y: 2900 + v for y, v in ltp_steps(5610).items()}),
    ]
    return out


def target_rows(sysm: System, targets: list[Growth]) -> list[dict]:
    rows = []
    for t in targets:
        base = baseline_of(sysm, t)
        weighted = any(w != 1 for w in t.groups.values())  # a cell is all list or all map
        groups = ";".join(f"{g}:{fmt(w)}" if weighted else g for g, w in t.groups.items())
        for y, add in sorted(t.steps.items()):
            rows.append({"id": t.id, "label": t.label, "region": t.region or "",
                         "service": t.service or "", "groups": groups, "year": y,
                         "required": round(base + add, 1), "priority": t.priority,
                         "hold": t.hold, "fair_share": t.fair_share or ""})
    return rows


# ----------------------------------------------------------------- posts

VACANCY_RATE: dict[str, float] = {
    # published: 8,448 registered mental-health nurse vacancies against 35,674 in
    # post, Q1 2018/19 (NHS Improvement): posts ≈ in post + vacancies, 19.1% vacant;
    # calibrated: the same rate on the March 2017 baseline (35,688 → 44,139 posts).
    "mh_nurse": 8448 / (35674 + 8448),
    # published: 5,730 consultant psychiatrist posts, 568 vacant, 2019 (RCPsych census).
    "consultant_psychiatrist": 568 / 5730,
    # published: 349 of 417 core psychiatry training posts filled in 2016 (Stepping
    # Forward); calibrated: the same rate for higher trainees.
    "psychiatry_trainee": (417 - 349) / 417,
    # New roles: none in post and no posts in March 2017; their posts are the plan's.
    "emhp": 0.0,
    "nursing_associate": 0.0,
}
OTHER_VACANCY_RATE = 0.10
"""published: about 20,000 vacancies (10%) at the start of Stepping Forward (HEE,
July 2017), for every group without a figure of its own. With the nurses' 19.1%
the instance starts at 13.7% vacant over its twelve groups: the 10% counts the
whole mental-health workforce (about 200,000, non-clinical staff included)."""

PROFESSION_POSTS = {"nurses": "mh_nurse", "consultants": "consultant_psychiatrist",
                    "psychologists": "clinical_psychologist",
                    "occupational_therapists": "occupational_therapist",
                    "iapt_high_intensity": "hit", "iapt_low_intensity": "pwp"}
"""Targets that count the staff of exactly one group (a profession nationally, or a
service the whole group works in): the group's new posts are the target's growth."""

REGIONAL_POSTS = {"crisis_nurses_": "mh_nurse", "iapt_": None}
"""Regional targets (id prefix) that place their group's new posts in their region:
crisis nurses (published 4,600 of the crisis posts, split by region); IAPT, whose
regional growth is split between HIT and PWP posts as the national targets split it
(60/40). The rest of a group's new posts are national."""

CYP_THERAPIST_POSTS = 4200 - 2900
"""published: +4,200 AHP and psychological staff (RCPsych Mental Health Watch) less
+2,900 IAPT therapists (DHSC): calibrated as CYP therapists (the CYP IAPT plan trains
1,700–1,800 new therapists by 2020/21, replacements included). No target counts them
alone; the CYP service target (+2,000) counts them with EMHPs and deployed staff."""

JOINT_POSTS = {
    "new_roles": (["nursing_associate", "emhp", "peer_support_worker"], 2017, 0.0),
    # published: +5,610 on the 2020/21 level (Long Term Plan), the target's growth
    # from its 2020/21 value (IAPT's +2,900 on the baseline).
    "ltp_psychological_professions": (["pwp", "hit", "cyp_therapist", "emhp"], 2020, 2900.0),
}
"""Targets that count several groups together with no published split: their new
posts are the target's growth from its value in the year given (above the
baseline), added to whatever posts the groups have then. calibrated: split in
proportion to the most graduates each group's courses can produce a year (max
places × completion × employment, summed over its programmes): posts where the
system can grow staff. They rise linearly from that year (2017 for Stepping
Forward, 2020 for the Long Term Plan additions) to the target's first year at its
highest value (2020/21 and 2023/24), and hold. The Long Term Plan's posts so
exceed its target by the CYP-therapist and EMHP posts of Stepping Forward (1,300 +
1,267 = 2,567 by 2020/21): the target counts the four groups from IAPT's +2,900 in
2020/21, as Stepping Forward's targets grew only IAPT by profession, while the
published +5,610 are additions to the posts of 2020/21."""

POSTS_SPREAD_LIKE = {"emhp": "cyp_therapist", "nursing_associate": "mh_nurse"}
"""calibrated: new posts of a group with no base posts are spread over trusts as the
base posts of the group they work beside (EMHPs in CYP services, nursing associates
in nursing teams)."""


def base_posts(sysm: System) -> dict[tuple[str, str], float]:
    """Funded posts in March 2017 per trust and group. A group's national vacancies
    are baseline × v / (1 − v) (v its vacancy rate); each trust carries a share of
    them equal to its share of the group's leavers (FTE × leaver rate), so trusts
    with higher leaver rates carry more vacancies (calibrated: a post a leaver
    vacates stays vacant for a while; the rule is deterministic, no draw). Rounded
    to 0.1 FTE, the residue on the largest trust."""
    out: dict[tuple[str, str], float] = {}
    for g in GROUPS:
        v = VACANCY_RATE.get(g.id, OTHER_VACANCY_RATE)
        vacant = g.baseline * v / (1 - v)
        leavers = {u["id"]: sysm.fte[u["id"], g.id] * sysm.lam[u["id"], g.id]
                   for u in sysm.units}
        total_leavers = sum(leavers.values())
        raw = {u: sysm.fte[u, g.id] + (vacant * lv / total_leavers if total_leavers else 0.0)
               for u, lv in leavers.items()}
        col = round_to_total(raw, round(g.baseline + vacant, 1))
        for u, value in col.items():
            out[u, g.id] = value
    return out


@dataclass(frozen=True)
class NewPosts:
    """New posts of one group over the base year, by year (cumulative), in one region
    or nationally; spread over the trusts in scope by their base posts."""

    group: str
    steps: dict[int, float]
    region: str | None = None


def carried(steps: dict[int, float], years: list[int]) -> dict[int, float]:
    """``steps`` in every year, the latest earlier value carried (0 before the first)."""
    out, current = {}, 0.0
    for y in years:
        current = steps.get(y, current)
        out[y] = current
    return out


def course_capacity(sysm: System, years: list[int]) -> dict[str, float]:
    """The most graduates a group's courses can produce a year: max places ×
    completion × employment, summed over its programmes."""
    seen, out = set(), defaultdict(float)
    for r in training_rows(sysm, years):
        if r["id"] in seen:
            continue
        seen.add(r["id"])
        out[r["group"]] += r["max_places_per_year"] * r["completion_rate"] * r["employment_rate"]
    return dict(out)


def new_posts(sysm: System, targets: list[Growth], years: list[int]) -> list[NewPosts]:
    """The plan's new posts by group, from its targets (the rules above): a
    target's growth where it counts one group's staff; its region where it is
    regional; a joint target's growth split by course capacity.

    Stepping Forward's published 21,000 new posts by 2020/21 are here 17,870:
    nurses 8,100, consultants 570, IAPT 2,900, CYP therapists 1,300 and new roles
    5,000. The other 3,130 (the support staff among its "8,000 support and new
    roles") are no posts here: no target counts them and no lever recruits them."""
    by_id = {t.id: t for t in targets}
    national = {g: carried(by_id[t].steps, years) for t, g in PROFESSION_POSTS.items()
                if t in by_id}
    out: list[NewPosts] = []
    # Regional parts first; the rest of each group's growth is national.
    regional: dict[str, dict[int, float]] = defaultdict(lambda: dict.fromkeys(years, 0.0))
    for t in targets:
        if t.region is None:
            continue
        prefix = next((p for p in REGIONAL_POSTS if t.id.startswith(p)), None)
        if prefix is None:
            continue
        steps = carried(t.steps, years)
        if REGIONAL_POSTS[prefix] is not None:
            split = {REGIONAL_POSTS[prefix]: dict.fromkeys(years, 1.0)}
        else:  # IAPT: HIT and PWP as the national targets split the growth
            iapt = {y: national["hit"][y] + national["pwp"][y] for y in years}
            split = {g: {y: national[g][y] / iapt[y] if iapt[y] else 0.0 for y in years}
                     for g in ("hit", "pwp")}
        for g, share in split.items():
            part = {y: steps[y] * share[y] for y in years}
            out.append(NewPosts(g, part, t.region))
            for y in years:
                regional[g][y] += part[y]
    for g, steps in national.items():
        rest = {y: steps[y] - regional[g][y] if g in regional else steps[y] for y in years}
        if any(abs(v) > 1e-9 for v in rest.values()):
            out.append(NewPosts(g, rest))
    out.append(NewPosts("cyp_therapist", carried(trajectory(2017, 2020, CYP_THERAPIST_POSTS),
                                                 years)))
    capacity = course_capacity(sysm, years)
    for tid, (groups, start, before) in JOINT_POSTS.items():
        if tid not in by_id:
            continue
        steps = by_id[tid].steps
        top = min(y for y in steps if steps[y] == max(steps.values()))
        extra = steps[top] - before
        total_cap = sum(capacity[g] for g in groups)
        for g in groups:
            out.append(NewPosts(g, {y: extra * capacity[g] / total_cap
                                    * min(1.0, max(0.0, (y - start) / (top - start)))
                                    for y in years}))
    return out


def posts_rows(sysm: System, base: dict[tuple[str, str], float], targets: list[Growth],
               years: list[int]) -> list[dict]:
    """Funded posts in plan years: base posts plus the new posts, each group's new
    posts in a scope (its region, or the nation) spread over the scope's trusts in
    proportion to their base posts of the group (or of ``POSTS_SPREAD_LIKE``). One
    row per trust, group and year in which the value changes (a row holds from its
    year on); each group-year rounded to 0.1 FTE with the national total kept."""
    region_of = {u["id"]: u["region"] for u in sysm.units}
    value: dict[tuple[str, str, int], float] = {}
    growing: list[str] = []
    for np_ in new_posts(sysm, targets, years):
        if np_.group not in growing:
            growing.append(np_.group)
        like = POSTS_SPREAD_LIKE.get(np_.group, np_.group)
        scope = [u["id"] for u in sysm.units if np_.region in (None, region_of[u["id"]])]
        weight = sum(base[u, like] for u in scope)
        for u in scope:
            for y in years:
                value[u, np_.group, y] = (value.get((u, np_.group, y), 0.0)
                                          + np_.steps[y] * base[u, like] / weight)
    rows = []
    for g in [g.id for g in GROUPS if g.id in growing]:
        previous = {u["id"]: base[u["id"], g] for u in sysm.units}
        for y in years:
            raw = {u["id"]: base[u["id"], g] + value.get((u["id"], g, y), 0.0)
                   for u in sysm.units}
            col = round_to_total(raw, round(sum(raw.values()), 1))
            for u in sysm.units:
                uid = u["id"]
                if col[uid] != previous[uid]:
                    rows.append({"unit": uid, "group": g, "year": y, "posts": col[uid]})
                    previous[uid] = col[uid]
    unit_order = {u["id"]: i for i, u in enumerate(sysm.units)}
    group_order = {g.id: i for i, g in enumerate(GROUPS)}
    rows.sort(key=lambda r: (unit_order[r["unit"]], group_order[r["group"]], r["year"]))
    return rows


# ----------------------------------------------------------------- budgets


HEE_GROWTH_STEP = 10e6
"""calibrated: the HEE education pot's growth money rises by £10m a year, about
what one more year's step of the nursing ramp costs at full run (335 places ×
about £9,000 × 3 years = £9.0m) ..."""
HEE_GROWTH_MAX = 60e6
"""... to at most £60m a year (from 2022/23), about half of what taking every HEE
programme to its cap would cost above business as usual (nursing to 5,000,
psychology to 800, OT to 750, 2,000 nursing associates: £117m a year at full
run), so that money binds and the plan chooses which programmes grow."""


def business_as_usual_cost(sysm: System, years: list[int], pot: str) -> dict[int, float]:
    """What the programmes charged to ``pot`` cost in each plan year if each kept
    its 2016 intake (its committed entrants of the base year) in every plan year:
    the new places in training (every cohort started since 2016, at most
    ``duration``) times the cost of a place, and the cohort's fixed cost."""
    base = {r["id"]: r for r in training_rows(sysm, years)
            if r["pot"] == pot and r.get("year") == BASE_YEAR}
    return {y: sum(r["committed"] * r["cost_per_place_year"] * min(r["duration"], y - BASE_YEAR)
                   + r.get("cohort_fixed_cost", 0) for r in base.values())
            for y in years}


def budgets(sysm: System, years: list[int], kind: str) -> list[dict]:
    """Funding pots (calibrated). HEE education funds degrees, doctorates and
    apprenticeships; NHS England's IAPT expansion funds the therapy courses; the
    national programme pot funds return to practice, retention, international
    recruitment and peer support. Sized so that money binds: more would close
    more of the gap (published context: £1.3bn to transform services, an extra
    £1bn by 2020/21, most of it not for workforce supply).

    With stable commissioning (``ramp``) the plan cannot stop commissioning, so the
    HEE education pot pays for business as usual — every programme kept at its
    2016 intake (``business_as_usual_cost``: £62.6m in 2017/18, two cohorts
    £125.2m, three from 2019/20 £187.9m a year) — plus growth money
    (HEE_GROWTH_STEP a year, at most HEE_GROWTH_MAX), rounded to £0.1m. (Before
    stable commissioning it was £60–125m a year (Stepping Forward) and £40–160m
    (Long Term Plan): less than keeping the 2016 intakes, so even cutting every
    programme by 10% a year did not fit, and plans stopped the psychology
    doctorate for four years.) The IAPT and medical pots already cover business as
    usual (IAPT £25.2m a year, medical £62.8m at full run)."""
    # calibrated: medical training posts are funded apart from the education
    # contracts (HEE's medical tariff), so psychiatry places do not compete with
    # nursing degrees: enough for the 2016 intake of 417 core posts (published)
    # in each of the 6 years of training, 417 × 6 × £30,000.
    medical = {"id": "hee_medical", "per_year": 75e6}
    bau = business_as_usual_cost(sysm, years, "hee_education")
    hee = {y: round(bau[y] + min(HEE_GROWTH_STEP * (y - BASE_YEAR), HEE_GROWTH_MAX), -5)
           for y in years}
    if kind == "stepping_forward":
        return [
            {"id": "hee_education", "per_year": hee},
            medical,
            {"id": "iapt_expansion", "per_year": 30e6},
            {"id": "national_programmes", "per_year": 25e6, "total": 80e6},
        ]
    return [
        {"id": "hee_education", "per_year": hee},
        medical,
        {"id": "iapt_expansion", "per_year": 35e6},
        {"id": "national_programmes", "per_year": 25e6, "total": 250e6},
    ]


# ----------------------------------------------------------------- writing


def fmt(x) -> str:
    """A number as written in the files: integers without a decimal point, money in
    e-notation, other values to 6 significant digits."""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        if x.is_integer() and abs(x) >= 1e5:
            exp = math.floor(math.log10(abs(x)))
            mant = f"{x / 10 ** exp:.6g}"
            return f"{mant if '.' in mant else mant + '.0'}e{exp}"
        if x.is_integer():
            return str(int(x))
        return f"{x:.6g}"
    return str(x)


def flow(value) -> str:
    """A YAML flow value (one line) for dicts, lists, numbers and plain strings."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    if isinstance(value, str):
        return value if re.fullmatch(r"[A-Za-z_][\w\- ()']*", value) and ": " not in value \
            else '"' + value.replace('"', '\\"') + '"'
    return fmt(value)


def yaml_list(items: list[dict], indent: str = "  ") -> str:
    return "\n".join(f"{indent}- {flow(it)}" for it in items)


def write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow([fmt(r[c]) if c in r and r[c] is not None else "" for c in columns])


TRAINING_COLUMNS = ["id", "name", "group", "from_group", "region", "duration",
                    "completion_rate", "employment_rate", "cost_per_place_year",
                    "cohort_fixed_cost", "min_cohort", "max_places_per_year", "max_increase",
                    "max_decrease", "integer_places",
                    "intake_years", "year", "committed", "supervision.group",
                    "supervision.max_trainees_per_fte", "pot"]


@dataclass(frozen=True)
class InstanceSpec:
    name: str
    years: int
    description: str
    budget_kind: str
    long_term: bool
    run_out: int | None = None
    """``horizon.run_out`` when not ``auto`` (SPEC §2.15), for a measured reason
    given in the instance's README."""


SPECS = [
    InstanceSpec(
        "stepping-forward-2017", 4,
        "Stepping Forward to 2020/21 (HEE, July 2017) for the NHS mental-health workforce "
        "in England: 50 synthetic trusts in the seven NHS England regions, 12 staff groups, "
        "base year 2016 (March 2017) and plan years 2017/18 to 2020/21. Targets by "
        "profession, by service and by region; every lever; budgets that bind.",
        # auto would be 6 (psychiatry's training): 392 s of HiGHS, and the fairness
        # stage stopped at its share of the 600 s limit (gap 32%); 3 years, the
        # nursing degree's length, solve to optimal in 118 s (README.md).
        "stepping_forward", False, run_out=3),
    InstanceSpec(
        "long-term-2028", 12,
        "The Stepping Forward system over 12 years (2017/18 to 2028/29) with the NHS Long "
        "Term Plan additions by 2023/24 on top; long pipelines (psychiatry 6 years, "
        "psychology 3 years, nursing 3 years) have time to deliver.",
        # auto would be 6: no plan within the 600 s limit (42,505 variables; README.md).
        "long_term", True, run_out=0),
]


def instance_yaml(spec: InstanceSpec, years: list[int], sysm: System) -> str:
    groups = [{"id": g.id, "name": g.name, "leaver_rate": g.leaver_rate} for g in GROUPS]
    lines = [
        "# Generated by scripts/build_realistic_instances.py — do not edit by hand;",
        "# change the script and run it again. See README.md for the sources.",
        f"name: {spec.name}",
        f"description: >\n  {wrap(spec.description, 86, '  ')}",
        "currency: GBP",
        f"horizon: {{base_year: {BASE_YEAR}, years: {spec.years}"
        + (f", run_out: {spec.run_out}" if spec.run_out is not None else "") + "}",
        "staff_groups:",
        yaml_list(groups),
        "units: units.csv",
        "workforce: workforce.csv",
        "posts: posts.csv",
        "training: training.csv",
        "return_to_practice:",
        yaml_list(return_to_practice()),
        "retention:",
        yaml_list(retention()),
        "international:",
        yaml_list(international(years)),
        "budgets:",
        yaml_list(budgets(sysm, years, spec.budget_kind)),
        "targets: targets.csv",
        "objective: {mode: lexicographic}",
        "solver: {time_limit: 600, mip_gap: 1.0e-4}",
    ]
    return "\n".join(lines) + "\n"


def wrap(text: str, width: int, indent: str) -> str:
    words = text.split()
    lines, cur = [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}" if cur else w
    lines.append(cur)
    return ("\n" + indent).join(lines)


def build(out_root: Path) -> list[Path]:
    """Write both instances under ``out_root``; return the files written."""
    written: list[Path] = []
    for spec in SPECS:
        sysm = build_system(Draws(SEED))  # the same system in both instances
        years = list(range(BASE_YEAR + 1, BASE_YEAR + spec.years + 1))
        folder = out_root / spec.name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "instance.yaml").write_text(instance_yaml(spec, years, sysm), encoding="utf-8")
        write_csv(folder / "units.csv", ["id", "name", "region"], sysm.units)
        posts = base_posts(sysm)
        wf = [{"unit": u["id"], "group": g.id, "fte": sysm.fte[u["id"], g.id],
               "leaver_rate": sysm.lam[u["id"], g.id], "joiners": sysm.joiners[u["id"], g.id],
               "posts": posts[u["id"], g.id]}
              for u in sysm.units for g in GROUPS]
        write_csv(folder / "workforce.csv",
                  ["unit", "group", "fte", "leaver_rate", "joiners", "posts"], wf)
        write_csv(folder / "training.csv", TRAINING_COLUMNS,
                  [{**r, "intake_years": ";".join(map(str, r["intake_years"]))}
                   if "intake_years" in r else r for r in training_rows(sysm, years)])
        targets = long_term_targets(sysm) if spec.long_term else stepping_forward_targets(sysm)
        write_csv(folder / "posts.csv", ["unit", "group", "year", "posts"],
                  posts_rows(sysm, posts, targets, years))
        write_csv(folder / "targets.csv",
                  ["id", "label", "region", "service", "groups", "year", "required",
                   "priority", "hold", "fair_share"], target_rows(sysm, targets))
        written += [folder / n for n in ("instance.yaml", "units.csv", "workforce.csv",
                                         "posts.csv", "training.csv", "targets.csv")]
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1]
                        / "instances", help="folder that receives one folder per instance")
    args = parser.parse_args()
    for path in build(args.out):
        print(path)


if __name__ == "__main__":
    main()
