"""Fair shares (SPEC §2.12, the fairness stage of §2.9), worked out by hand.

Units u1 (region r1) and u2 (region r2), 100 nurses each, no leavers, base
year 2020, one plan year. A route recruits at most 30 at £100 each. Region r1
needs 120 nurses and r2 140 in 2021; both targets are in the fair-share group
``nurses``. Whatever the split, 30 recruits leave W = 20 + 40 − 30 = 30.
"""

from __future__ import annotations

import pytest
from pytest import approx
from typer.testing import CliRunner

from cli import app


def doc(make_doc, *, region=None, priorities=(1, 1), fair=True):
    route = {"id": "abroad", "group": "nurse", "cost_per_recruit": 100, "max_per_year": 30}
    if region:
        route["region"] = region
    targets = [{"id": f"{r}_nurses", "region": r, "groups": ["nurse"], "required": {2021: need},
                "priority": p, **({"fair_share": "nurses"} if fair else {})}
               for r, need, p in (("r1", 120, priorities[0]), ("r2", 140, priorities[1]))]
    return make_doc(placement="free", units={"u1": "r1", "u2": "r2"},
                    workforce=[{"unit": "u1", "group": "nurse", "fte": 100},
                               {"unit": "u2", "group": "nurse", "fte": 100}],
                    international=[route], targets=targets)


def shortfall(plan, target):
    return plan.value("targets", "shortfall", target=target, year=2021)


def test_the_fair_plan_equalises_the_shortfall_rates(make_doc, solve_doc):
    """Shortfalls s1 + s2 = 30; equal rates s1/120 = s2/140 give s1 = 30·120/260
    = 13.846, s2 = 16.154: recruits 6.154 to u1 and 23.846 to u2, M = 30/260.
    W = 30 and C = £3,000 as without fair shares."""
    plan = solve_doc(doc(make_doc))
    assert plan.status == "optimal"
    assert plan.shortfall == approx(30, abs=1e-6)
    assert plan.cost == approx(3000, abs=1e-3)
    assert shortfall(plan, "r1_nurses") == approx(30 * 120 / 260, abs=1e-5)
    assert shortfall(plan, "r2_nurses") == approx(30 * 140 / 260, abs=1e-5)
    assert plan.value("workforce", "international", unit="u2", year=2021) == approx(
        40 - 30 * 140 / 260, abs=1e-5)
    fairness = plan.result.fairness
    assert fairness["measure"] == approx(30 / 260, abs=1e-6)
    year = fairness["groups"]["nurses"]["2021"]
    assert year["worst"] == approx(30 / 260, abs=1e-6)
    assert year["worst_before"] >= year["worst"] - 1e-9
    assert year["members"]["r1_nurses"]["rate"] == approx(30 / 260, abs=1e-6)
    assert [s["stage"] for s in plan.result.stages] == ["shortfall", "fairness", "cost",
                                                        "share_out"]
    assert set(plan.table("targets")["fair_share"]) == {"nurses"}


def test_without_fair_shares_the_split_is_the_solvers(make_doc, solve_doc):
    """The same without the label: W and C are the same, no fairness stage."""
    plan = solve_doc(doc(make_doc, fair=False))
    assert plan.shortfall == approx(30, abs=1e-6)
    assert plan.cost == approx(3000, abs=1e-3)
    assert plan.result.fairness is None
    assert [s["stage"] for s in plan.result.stages] == ["shortfall", "cost", "share_out"]
    assert set(plan.table("targets")["fair_share"]) == {""}


def test_when_equal_rates_are_impossible_the_worst_is_minimised(make_doc, solve_doc):
    """The route serves only r1: 20 recruits fill it, r2 stays 40 short whatever
    happens. M = 40/140 = 2/7; W = 40, C = £2,000."""
    plan = solve_doc(doc(make_doc, region="r1"))
    assert plan.shortfall == approx(40, abs=1e-6)
    assert plan.cost == approx(2000, abs=1e-3)
    assert plan.result.fairness["measure"] == approx(2 / 7, abs=1e-6)
    assert shortfall(plan, "r1_nurses") == approx(0, abs=1e-6)


def test_priorities_come_before_fairness(make_doc, solve_doc):
    """r1 at priority 2: W is least with r1 full (20 recruits) and r2 30 short,
    W = 30; the fairness stage may not raise W, so rates stay 0 and 30/140."""
    plan = solve_doc(doc(make_doc, priorities=(2, 1)))
    assert plan.shortfall == approx(30, abs=1e-6)
    assert shortfall(plan, "r1_nurses") == approx(0, abs=1e-6)
    assert shortfall(plan, "r2_nurses") == approx(30, abs=1e-6)
    assert plan.result.fairness["measure"] == approx(30 / 140, abs=1e-6)


def test_fair_shares_need_the_lexicographic_mode(make_doc, write_instance):
    d = doc(make_doc)
    d["objective"] = {"mode": "weighted", "value_per_fte": 1000}
    res = CliRunner().invoke(app, ["validate", str(write_instance(d))])
    assert res.exit_code == 2
    assert ("targets[r1_nurses].fair_share | fair shares need objective.mode lexicographic "
            "(the fairness stage comes between the shortfall and the cost)") in res.output
    res = CliRunner().invoke(app, ["solve", str(write_instance(doc(make_doc))),
                                   "--mode", "weighted"])
    assert res.exit_code == 2


def test_a_group_of_one_is_a_warning(make_doc, write_instance):
    d = doc(make_doc)
    d["targets"][1]["fair_share"] = "alone"
    d["targets"][0]["fair_share"] = "nurses"
    res = CliRunner().invoke(app, ["validate", str(write_instance(d))])
    assert res.exit_code == 0
    assert "warning: fair-share group 'alone' has one target ('r2_nurses'): it changes nothing" \
        in res.output


@pytest.mark.parametrize("fair", [True, False])
def test_summary_json_carries_the_fairness_only_with_groups(make_doc, write_instance,
                                                            tmp_path, fair):
    import json

    res = CliRunner().invoke(app, ["solve", str(write_instance(doc(make_doc, fair=fair))),
                                   "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert ("fairness" in summary) is fair


def test_solve_prints_each_members_rate_against_the_worst(make_doc, write_instance):
    res = CliRunner().invoke(app, ["solve", str(write_instance(doc(make_doc)))])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    at = lines.index("fair shares (shortfall rates; measure 0.1154)")
    # One line per group and year: the worst, and the members of the highest
    # rates (issue 31: the summary fits one screen).
    assert lines[at + 1].startswith("  nurses 2021: worst 11.5% (before fairness ")
    assert lines[at + 1].endswith("); r1_nurses 11.5%, r2_nurses 11.5%")
