"""The realistic demonstration instances (issue 4): valid, reproducible, calibrated
to the published figures, and solved into plans that pass sanity checks read
from the result tables written by ``wfopt solve``.

The sanity checks recompute every rule from the instance and the tables alone
(not from the model): pots within their limits, returners within pools and
response curves, retention only in the top-20 trusts recomputed from
``workforce.csv``, international recruits within caps, training places
within caps, and the stock identity on every row of ``workforce.csv``.

Each instance is solved with its own options (0.01% gap) and must come back
optimal; the instances' READMEs record the measured solve times.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import math
import sys
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest
from pytest import approx
from typer.testing import CliRunner

from cli import app
from optimiser import Instance, load_instance

REPO = Path(__file__).resolve().parents[1]
INSTANCES = REPO / "instances"
NAMES = ("stepping-forward-2017", "long-term-2028")
REGIONS = {"east_of_england", "london", "midlands", "north_east_and_yorkshire", "north_west",
           "south_east", "south_west"}
TOL = 1e-6


def instance_path(name: str) -> Path:
    return INSTANCES / name / "instance.yaml"


def load_script():
    """``scripts/build_realistic_instances.py`` as a module (scripts/ is no package)."""
    path = REPO / "scripts" / "build_realistic_instances.py"
    spec = importlib.util.spec_from_file_location("build_realistic_instances", path)
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the class is built.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- the instances


@pytest.mark.parametrize("name, years", [(NAMES[0], 4), (NAMES[1], 12)])
def test_instance_is_valid_and_national(name: str, years: int) -> None:
    inst = load_instance(instance_path(name))
    assert inst.horizon.base_year == 2016 and inst.horizon.years == years
    assert len(inst.units) == 50
    assert {u.region for u in inst.units} == REGIONS
    assert len(inst.staff_groups) >= 12
    assert inst.solver.mip_gap == 1e-4
    fte = defaultdict(float)
    for row in inst.workforce:
        fte[row.group] += row.fte
    # published: 35,688 MH nurses in March 2017 (NHS Digital)
    assert fte["mh_nurse"] == approx(35688, abs=0.05)
    assert all(len(getattr(inst, s)) > 0 for s in
               ("training", "return_to_practice", "retention", "international", "budgets"))


def test_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    """The script is deterministic (seeded) and the committed files are its output."""
    written = load_script().build(tmp_path)
    assert len(written) == 10
    for path in written:
        committed = INSTANCES / path.relative_to(tmp_path)
        assert path.read_bytes() == committed.read_bytes(), f"{committed} is stale"


def national_rate(inst: Instance, group: str) -> float:
    rows = [r for r in inst.workforce if r.group == group]
    return sum(r.fte * r.leaver_rate for r in rows) / sum(r.fte for r in rows)


def test_leaver_rates_match_published_averages_with_a_tail() -> None:
    """Published: clinical turnover 14.3% before the NHSI programme, PWPs 25%,
    HITs 12%; cohort-1 (high-exit) trusts peaked at 15.5%."""
    inst = load_instance(instance_path(NAMES[0]))
    assert national_rate(inst, "mh_nurse") == approx(0.143, abs=5e-4)
    assert national_rate(inst, "pwp") == approx(0.25, abs=5e-4)
    assert national_rate(inst, "hit") == approx(0.12, abs=5e-4)
    rows = sorted((r for r in inst.workforce if r.group == "mh_nurse"),
                  key=lambda r: -r.leaver_rate)
    # The high-exit tail: the 12 trusts drawn 10–30% above average average at
    # least cohort-1's 15.5% peak, and each is above the national 14.3%.
    tail = rows[:12]
    assert sum(r.fte * r.leaver_rate for r in tail) / sum(r.fte for r in tail) >= 0.155
    assert tail[-1].leaver_rate > 0.143
    assert rows[-1].leaver_rate >= 0.11


def test_business_as_usual_keeps_the_nurse_stock_flat() -> None:
    """Joiners are calibrated so that leavers = joiners + graduates of the committed
    2016 cohort: 35,688 × 14.3% = 5,103 leave; 3,343 × 0.65 × 0.85 = 1,847 graduate."""
    inst = load_instance(instance_path(NAMES[0]))
    rows = [r for r in inst.workforce if r.group == "mh_nurse"]
    leavers = sum(r.fte * r.leaver_rate for r in rows)
    joiners = sum(r.joiners for r in rows)
    graduates = 3343 * 0.65 * 0.85
    assert leavers == approx(35688 * 0.143, rel=1e-3)
    assert joiners + graduates == approx(leavers, abs=5.0)  # rounding to 0.1 FTE per trust


# ---------------------------------------------------------------- solving


SOLVE_ARGS = ["--time-limit", "120"]
"""The instances' own options (0.01% gap); the limit is a guard for a slow CI
machine, 8-25× the measured solve times in the instances' READMEs."""


@pytest.fixture(scope="module", params=NAMES)
def solved(request, tmp_path_factory) -> tuple[Instance, Path, dict]:
    """Solve through the command line; return the instance, results folder, summary."""
    name = request.param
    out = tmp_path_factory.mktemp(name) / "out"
    result = CliRunner().invoke(app, ["solve", str(instance_path(name)), "--out", str(out),
                                      *SOLVE_ARGS])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    return load_instance(instance_path(name)), out, summary


def table(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(out / f"{name}.csv", keep_default_na=False, na_values=[""])


def response_at(points, spend: float) -> float:
    """The piecewise-linear response at ``spend`` (spend within the last breakpoint)."""
    for (s0, r0), (s1, r1) in itertools.pairwise(points):
        if spend <= s1 + TOL:
            return r0 + (r1 - r0) * (min(spend, s1) - s0) / (s1 - s0)
    return points[-1][1]


def test_plan_is_optimal_and_of_plausible_size(solved) -> None:
    _inst, out, summary = solved
    assert summary["status"] == "optimal"
    assert summary["mip_gap"] <= 1e-4
    # Hundreds of millions, not trillions: a national workforce plan.
    assert 1e8 < summary["total_cost"] < 3e9
    # The shortfall is positive (money binds) and below the targets' sum.
    t = table(out, "targets")
    assert 0 < summary["weighted_shortfall"] < (t["required"] * t["priority"]).sum()


def test_pots_within_limits_and_spend_reconciles(solved) -> None:
    inst, out, _ = solved
    budget = table(out, "budget")
    limited = budget[budget["limit"].notna()]
    assert len(limited) > 0
    assert (limited["spent"] <= limited["limit"] * (1 + 1e-9) + 1e-3).all()
    # Money binds somewhere: a plan where it is never short is not interesting.
    assert (limited["spent"] >= 0.99 * limited["limit"]).any()
    # Each pot's spend per year is the sum of the costs of the levers charged to it.
    pot_of = {}
    for section in ("training", "return_to_practice", "retention", "international"):
        for lever in getattr(inst, section):
            pot_of[lever.id] = lever.pot or "main"
    spent = defaultdict(float)
    for name, key in (("training", "programme"), ("return_to_practice", "campaign"),
                      ("retention", "scheme"), ("international", "route")):
        frame = table(out, name)
        for lever, year, cost in zip(frame[key], frame["year"], frame["cost"], strict=True):
            spent[pot_of[lever], str(year)] += cost
    for pot, year, value in zip(budget["pot"], budget["year"].astype(str), budget["spent"],
                                strict=True):
        if year != "total":
            assert value == approx(spent[pot, year], rel=1e-9, abs=1e-3)


def test_returners_within_pools_and_responses(solved) -> None:
    inst, out, _ = solved
    rtp = table(out, "return_to_practice")
    for c in inst.return_to_practice:
        rows = rtp[rtp["campaign"] == c.id]
        assert rows["returners"].sum() <= c.pool + TOL
        for spend, returners, cost in zip(rows["spend"], rows["returners"], rows["cost"],
                                          strict=True):
            assert 0 <= spend <= c.response[-1][0] + TOL
            assert returners <= response_at(c.response, spend) + 1e-4
            fixed = c.fixed_cost if spend > TOL else 0.0
            assert cost == approx(spend + c.cost_per_returner * returners + fixed, abs=1e-2)


def top_leaver_units(inst: Instance, groups: list[str], n: int) -> set[str]:
    """The n units with the highest FTE-weighted baseline leaver rate over ``groups``
    (ties by unit id), from workforce.csv — recomputed here, not by the engine."""
    wf = pd.read_csv(INSTANCES / inst.name / "workforce.csv")
    wf = wf[wf["group"].isin(groups)]
    fte = wf.groupby("unit")["fte"].sum()
    rate = (wf["fte"] * wf["leaver_rate"]).groupby(wf["unit"]).sum() / fte
    ranked = sorted(((-r, u) for u, r in rate.items() if fte[u] > 0))
    return {u for _, u in ranked[:n]}


def test_retention_only_in_the_highest_exit_trusts(solved) -> None:
    inst, out, _ = solved
    ret = table(out, "retention")
    wf = table(out, "workforce")
    base = {(r.unit, r.group): r.fte for r in inst.workforce}
    for s in inst.retention:
        eligible = top_leaver_units(inst, s.groups, s.eligible.top_leaver_rate)
        assert len(eligible) == 20
        rows = ret[ret["scheme"] == s.id]
        assert set(rows["unit"]) <= eligible
        funded = rows[rows["funding"] > TOL]
        assert len(funded) > 0  # the lever is used
        assert set(funded["unit"]) <= eligible
        if s.max_units_per_year is not None:
            assert (rows.groupby("year")["funded"].sum() <= s.max_units_per_year).all()
        for unit, funding, retained in zip(funded["unit"], funded["funding"],
                                           funded["retained"], strict=True):
            sigma = sum(base[unit, g] for g in s.groups) / 1000
            assert funding >= s.min_funding - TOL
            per_1000 = response_at(s.response, funding / sigma)
            assert retained <= sigma * per_1000 + 1e-4
        # No retention outside the eligible trusts, in any group.
        others = wf[~wf["unit"].isin(eligible) & (wf["year"] != inst.horizon.base_year)]
        assert (others["retained"] == 0).all()
        # Never more than ρ of a group's leavers.
        mine = wf[wf["unit"].isin(eligible) & wf["group"].isin(s.groups)
                  & (wf["year"] != inst.horizon.base_year)]
        for leavers, retained in zip(mine["leavers"], mine["retained"], strict=True):
            assert retained <= s.max_retained_share * leavers + 1e-4


def test_international_within_caps(solved) -> None:
    inst, out, _ = solved
    intl = table(out, "international")
    for r in inst.international:
        rows = intl[intl["route"] == r.id]
        assert (rows["recruits"] <= r.max_per_year + TOL).all()
        if r.max_total is not None:
            assert rows["recruits"].sum() <= r.max_total + TOL
        assert (rows["cost"] - r.cost_per_recruit * rows["recruits"]).abs().max() < 1e-2


def test_training_places_within_caps_and_pipeline_holds(solved) -> None:
    inst, out, _ = solved
    tr = table(out, "training")
    years = inst.years
    for p in inst.training:
        rows = tr[tr["programme"] == p.id].set_index("year")
        places = rows["places"]
        if p.integer_places:
            assert (places == places.round()).all()
        assert (places <= p.max_places_per_year + TOL).all()
        runs = places[places > 0]
        assert (runs >= p.min_cohort - TOL).all()

        for y in years:
            start = y - p.duration
            entrants = float(places[start]) if start in years else p.committed.get(start, 0.0)
            expected = p.completion_rate * p.employment_rate * entrants
            assert rows.loc[y, "graduates"] == approx(expected, abs=1e-4)
            in_training = sum(float(places[y - k]) for k in range(p.duration)
                              if y - k in years)
            fixed = p.cohort_fixed_cost * rows.loc[y, "cohort_runs"]
            # Places are written to 6 decimals: a cost of millions recomputed from
            # them may be off by cents.
            assert rows.loc[y, "cost"] == approx(p.cost_per_place_year * in_training + fixed,
                                                 rel=1e-8, abs=1e-2)


def test_stock_identity_on_every_row(solved) -> None:
    inst, out, _ = solved
    wf = table(out, "workforce").sort_values(["unit", "group", "year"])
    lam = {(r.unit, r.group): r.leaver_rate for r in inst.workforce}
    prev: dict[tuple[str, str], float] = {}
    checked = 0
    for row in wf.itertuples():
        key = (row.unit, row.group)
        if row.year == inst.horizon.base_year:
            prev[key] = row.fte
            continue
        assert row.fte >= -TOL
        assert row.leavers == approx(lam[key] * prev[key], abs=1e-5)
        flow = (prev[key] - row.leavers + row.retained + row.graduates - row.upskilled_out
                + row.returners + row.international + row.joiners)
        assert row.fte == approx(flow, abs=1e-4)
        prev[key] = row.fte
        checked += 1
    assert checked == 50 * len(inst.staff_groups) * len(inst.years)


def test_flows_reconcile_and_shortfall_is_the_plans(solved) -> None:
    inst, out, summary = solved
    wf = table(out, "workforce")
    wf = wf[wf["year"] != inst.horizon.base_year]
    by = wf.groupby(["group", "year"])[["graduates", "returners", "international"]].sum()
    tr = table(out, "training").groupby(["group", "year"])["graduates"].sum()
    rtp = table(out, "return_to_practice").groupby(["group", "year"])["returners"].sum()
    intl = table(out, "international").groupby(["group", "year"])["recruits"].sum()
    for (g, y), v in tr.items():
        assert by.loc[(g, y), "graduates"] == approx(v, abs=1e-3)
    for (g, y), v in rtp.items():
        assert by.loc[(g, y), "returners"] == approx(v, abs=1e-3)
    for (g, y), v in intl.items():
        assert by.loc[(g, y), "international"] == approx(v, abs=1e-3)
    t = table(out, "targets")
    assert ((t["shortfall"] - (t["required"] - t["achieved"]).clip(lower=0)).abs()
            < 1e-5).all()
    w = float((t["shortfall"] * t["priority"]).sum())
    assert summary["weighted_shortfall"] == approx(w, rel=1e-6, abs=1e-3)
    assert math.isfinite(summary["total_cost"])
