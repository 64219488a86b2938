"""Every shipped instance's results reconcile (SPEC §2.2, §4).

Each ``instances/*/instance.yaml`` is solved once (with a time limit, so a large
instance may stop at ``feasible``: the identities hold for any plan) and its
tables are checked against each other:

- workforce.csv, year on year, for every unit and group:
  ``fte[y] = fte[y−1] − leavers + retained + joiners + graduates − upskilled_out
  + returners + international`` with ``leavers = λ·fte[y−1]``, and
  ``0 ≤ retained ≤ leavers``;
- the lever tables add up to the workforce flows (graduates, returners,
  recruits, retained), and their costs to budget.csv and to C;
- a target without a service achieves the weighted FTE of its scope.

Tables are rounded to 6 decimals, so sums of eight cells agree to 1e-5.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd
import pytest
from pytest import approx

from optimiser import Result, SolveOptions, load_instance, solve
from optimiser.instance.schema import Instance

REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted(REPO.glob("instances/*/instance.yaml"))
TIME_LIMIT = 60.0
"""Seconds per shipped instance: enough for a plan, not necessarily a proof (with
funded posts, long-term-2028 found no plan in 10 s on a loaded 2-core machine)."""
TOL = 1e-5


@cache
def solved(path: Path) -> tuple[Instance, Result]:
    inst = load_instance(path)
    return inst, solve(inst, SolveOptions(time_limit=TIME_LIMIT))


@pytest.fixture(params=SHIPPED, ids=[p.parent.name for p in SHIPPED])
def shipped(request) -> tuple[Instance, Result]:
    inst, result = solved(request.param)
    assert result.status in ("optimal", "feasible"), result.messages
    return inst, result


def test_there_are_shipped_instances():
    assert any(p.parent.name == "tiny" for p in SHIPPED)


def test_workforce_reconciles_year_on_year(shipped):
    inst, result = shipped
    wf = result.tables["workforce"].sort_values(["unit", "group", "year"])
    base = inst.horizon.base_year
    rate = {g.id: g.leaver_rate for g in inst.staff_groups}
    lam = {(u.id, g): r for u in inst.units for g, r in rate.items()}
    lam.update({(r.unit, r.group): r.leaver_rate for r in inst.workforce
                if r.leaver_rate is not None})
    # The natural path n (SPEC §2.11: staff with no lever), from the workforce
    # rows: n[b] = the base staff, n[y] = (1 − λ)·n[y−1] + joiners.
    natural = {}
    for row in inst.workforce:
        n = row.fte
        for y in inst.years + inst.run_out_years:
            n = (1 - lam[row.unit, row.group]) * n + (row.joiners or 0.0)
            natural[row.unit, row.group, y] = n
    checked = 0
    for (u, g), rows in wf.groupby(["unit", "group"], sort=True):
        rows = rows.set_index("year")
        # The plan years, then the run-out years (SPEC §2.15).
        assert list(rows.index) == [base, *inst.years, *inst.run_out_years]
        for y in inst.years + inst.run_out_years:
            r, prev = rows.loc[y], rows.loc[y - 1, "fte"]
            expected = (prev - r.leavers + r.retained + r.joiners + r.graduates
                        - r.upskilled_out + r.returners + r.international)
            assert r.fte == approx(expected, abs=TOL), (u, g, y)
            assert r.leavers == approx(lam[u, g] * prev, abs=TOL), (u, g, y)
            assert -TOL <= r.retained <= r.leavers + TOL, (u, g, y)
            assert r.fte >= -TOL, (u, g, y)
            if pd.notna(r.posts):  # never above max(posts, natural path)
                assert r.fte <= max(r.posts, natural[u, g, y]) + TOL, (u, g, y)
                assert r.vacancies == approx(max(0.0, r.posts - r.fte), abs=TOL), (u, g, y)
            else:
                assert pd.isna(r.vacancies)
            checked += 1
    assert checked == (len(inst.units) * len(inst.staff_groups)
                       * len(inst.years + inst.run_out_years))


def by(frame: pd.DataFrame, keys: list[str], column: str) -> pd.Series:
    """``column`` summed by ``keys``, without the rows that are zero."""
    s = frame.groupby(keys)[column].sum()
    return s[s.abs() > TOL].sort_index()


def assert_same(a: pd.Series, b: pd.Series) -> None:
    """Two sums by the same keys agree, a key missing from one side being 0."""
    both = pd.concat([a.rename("a"), b.rename("b")], axis=1).fillna(0.0)
    worst = (both["a"] - both["b"]).abs()
    assert (worst <= TOL).all(), both[worst > TOL]


def test_lever_tables_add_up_to_the_workforce_flows(shipped):
    inst, result = shipped
    t = result.tables
    wf = t["workforce"][t["workforce"]["year"] != inst.horizon.base_year]
    # Graduates placed in units are those who qualified less the unplaced.
    training = t["training"].assign(placed=t["training"]["graduates"] - t["training"]["unplaced"])
    assert (training["unplaced"] >= -TOL).all()
    assert (training["unplaced"] <= training["graduates"] + TOL).all()
    assert_same(by(training, ["group", "year"], "placed"),
                by(wf, ["group", "year"], "graduates"))
    assert_same(by(t["return_to_practice"], ["group", "year"], "returners"),
                by(wf, ["group", "year"], "returners"))
    assert_same(by(t["international"], ["group", "year"], "recruits"),
                by(wf, ["group", "year"], "international"))
    assert_same(by(t["retention"], ["unit", "year"], "retained"),
                by(wf, ["unit", "year"], "retained"))
    frm = {p.id: p.from_group for p in inst.training}
    up = training[training["programme"].map(frm).notna()]
    up = up.assign(group=up["programme"].map(frm))
    assert_same(by(up, ["group", "year"], "placed"),
                by(wf, ["group", "year"], "upskilled_out"))


def test_costs_add_up_to_the_budgets_and_to_C(shipped):
    _, result = shipped
    t = result.tables
    lever_cost = sum(float(t[name]["cost"].sum()) for name in
                     ("training", "return_to_practice", "retention", "international"))
    budget = t["budget"]
    totals = budget[budget["year"] == "total"]
    per_year = budget[budget["year"] != "total"]
    assert lever_cost == approx(result.total_cost, rel=1e-9, abs=1e-3)
    assert float(totals["spent"].sum()) == approx(result.total_cost, rel=1e-9, abs=1e-3)
    for pot, rows in per_year.groupby("pot"):
        total_row = totals[totals["pot"] == pot].iloc[0]
        assert float(rows["spent"].sum()) == approx(total_row["spent"], rel=1e-9, abs=1e-3)
        for r in rows.itertuples():
            if pd.notna(r.limit):
                assert r.spent <= r.limit * (1 + 1e-7) + 1e-3, (pot, r.year)
        if pd.notna(total_row["limit"]):
            assert total_row["spent"] <= total_row["limit"] * (1 + 1e-7) + 1e-3, pot


def scope_of(inst: Instance, target) -> list[str]:
    """The units a target counts, from its own fields as the instance states them
    (SPEC §2.8; not the model's scope_units, which this test checks): its unit,
    else its region's units, else every unit."""
    if target.unit is not None:
        return [target.unit]
    return [u.id for u in inst.units if target.region is None or u.region == target.region]


def weights_of(target) -> dict[str, float]:
    """Each counted group's weight: as written, or 1 for a plain list of groups."""
    groups = target.groups
    return dict(groups) if isinstance(groups, dict) else dict.fromkeys(groups, 1.0)


def test_targets_count_their_scope_and_weigh_to_W(shipped):
    inst, result = shipped
    t = result.tables["targets"]
    wf = result.tables["workforce"].set_index(["unit", "group", "year"])["fte"]
    for target in inst.targets:
        for y in target.required:
            row = t[(t["target"] == target.id) & (t["year"] == y)].iloc[0]
            assert row["shortfall"] == approx(max(0.0, row["required"] - row["achieved"]),
                                              abs=TOL)
            if target.service is None:
                fte = sum(w * wf[u, g, y] for u in scope_of(inst, target)
                          for g, w in weights_of(target).items())
                assert row["achieved"] == approx(fte, abs=TOL * max(1.0, fte))
    weighted = float((t["priority"] * t["shortfall"]).sum())
    assert weighted == approx(result.weighted_shortfall, rel=1e-7, abs=TOL)
