"""Instances with no plan: the conflict named in the instance's own words.

Each file in ``tests/data/infeasible`` conflicts on purpose (its header works the
numbers out). In this model only what the data forces can conflict: entrants
already in training (their graduates leave a group; they need supervisors)
against staff in post, which cannot be negative. Budgets, minimum cohorts and
minimum retention funding cannot: every lever may be left at zero.

Each case checks that ``wfopt solve`` exits 1 with the conflict in words naming
the programmes, units, groups and years involved, that ``summary.json`` carries
the same sentences, and that HiGHS's set is irreducible: with any one member
dropped, the rest can hold.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import highspy
import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from cli import app
from formulations import build_model, model_data
from optimiser import load_instance, solve
from optimiser.engine.solve import HighsModel
from optimiser.explain.diagnose import irreducible_set

DATA = Path(__file__).resolve().parent / "data" / "infeasible"

CASES = {
    "supervisors_leave": [
        "Trainees of 'nursing_degree' in training in 2018 (the 300 committed entrants who "
        "started in 2016, plus any new places) may not exceed 0.5 per FTE of Mental health "
        "nurse (nurse) in all units at the end of 2017.",
        "Campaign 'nurse_rtp' can bring back at most 30 returners over the whole plan (its "
        "pool).",
        "International route 'nurse_intl' recruits at most 50 in 2017.",
        "Mental health nurse (nurse) in post at City Mental Health Trust (city_trust) at the "
        "end of 2017 are the previous year's staff less the 40% who leave, plus 20 joiners, "
        "plus returners of campaign 'nurse_rtp', recruits of international route "
        "'nurse_intl'.",
        "These cannot be negative: new places of training 'nursing_degree' (2018); returners "
        "of campaign 'nurse_rtp' (2018, 2019).",
    ],
    "regional_supervision": [
        "Trainees of 'north_degree' in training in 2019 (the 120 committed entrants who "
        "started in 2017, plus any new places) may not exceed 0.25 per FTE of Mental health "
        "nurse (nurse) in the units of region north at the end of 2018.",
        "Mental health nurse (nurse) in post at Northern Care Trust (north_trust) at the end "
        "of 2018 are the previous year's staff less the 30% who leave, plus recruits of "
        "international route 'north_intl'.",
        "Mental health nurse (nurse) in post at Coastal Partnership Trust (coast_trust) at "
        "the end of 2018 are the previous year's staff less the 30% who leave, plus recruits "
        "of international route 'north_intl'.",
        "These cannot be negative: new places of training 'north_degree' (2018, 2019); "
        "recruits of international route 'north_intl' (2019, 2020).",
        "International route 'north_intl' recruits at most 40 over the whole plan.",
    ],
}
"""Case -> sentences its conflict must contain (the full list is longer: the
linking rows, 'join any unit', also appear)."""

RAW_NAME = re.compile(r"\b[A-Za-z_]+\[[^\]]*\]")


@pytest.mark.parametrize("case", sorted(CASES))
def test_conflict_is_named_in_the_instances_words(case, tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["solve", str(DATA / f"{case}.yaml"), "--out", str(out)])
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output
    assert "status              infeasible" in res.output
    assert "why no plan exists (these cannot all hold together)" in res.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "infeasible"
    conflicts = summary["conflicts"]
    for sentence in CASES[case]:
        assert sentence in conflicts, f"missing: {sentence}\ngot: {conflicts}"
        assert f"  - {sentence}" in res.output
    # In words, never the model's own names such as stock_balance[u,g,y].
    assert not [c for c in conflicts if RAW_NAME.search(c)]


@pytest.mark.parametrize("case", sorted(CASES))
def test_conflict_is_irreducible(case):
    """The set alone (every other row and bound lifted) is infeasible, and
    without any one of its members it is feasible."""
    m = build_model(model_data(load_instance(DATA / f"{case}.yaml")))
    hm = HighsModel(m)
    conflict = irreducible_set(hm)
    assert conflict is not None and conflict.rows
    kept_bounds = dict(conflict.bounds)
    inf = highspy.kHighsInf

    def feasible(drop_row: int | None = None, drop_col: int | None = None) -> bool:
        h = hm.lp_copy()
        for i in range(hm.num_rows):
            if i not in conflict.rows or i == drop_row:
                h.changeRowBounds(i, -inf, inf)
        for j, v in enumerate(hm.columns):
            which = kept_bounds.get(j) if j != drop_col else None
            lo, hi = v.bounds
            lo = lo if which in ("lower", "both") and lo is not None else -inf
            hi = hi if which in ("upper", "both") and hi is not None else inf
            h.changeColBounds(j, lo, hi)
        h.changeColsCost(hm.n, np.arange(hm.n, dtype=np.int32), np.zeros(hm.n))
        h.run()
        return h.getModelStatus() == highspy.HighsModelStatus.kOptimal

    assert not feasible()
    for i in conflict.rows:
        assert feasible(drop_row=i), hm.rows[i][0].name
    for j in kept_bounds:
        assert feasible(drop_col=j), hm.columns[j].name


def test_many_units_in_a_conflict_are_named_once(tmp_path):
    """regional_supervision with the north's nurses spread over five trusts
    (north_trust keeps 340, three more hold 20 each; the same 600 in all): the
    five trusts' stock rows are said once for all of them."""
    doc = yaml.safe_load((DATA / "regional_supervision.yaml").read_text())
    doc["workforce"][0]["fte"] = 340
    for k in range(3):
        doc["units"].append({"id": f"extra_{k}", "name": f"Extra Trust {k}",
                             "region": "north"})
        doc["workforce"].append({"unit": f"extra_{k}", "group": "nurse", "fte": 20})
    path = tmp_path / "instance.yaml"
    path.write_text(yaml.safe_dump(doc))
    r = solve(load_instance(path))
    assert r.status == "infeasible"
    assert ("Mental health nurse (nurse) in post at the end of 2018, in each of 5 units "
            "(Northern Care Trust (north_trust), Coastal Partnership Trust (coast_trust), Extra "
            "Trust 0 (extra_0) and 2 more), are the previous year's staff less those who leave, "
            "plus recruits of international route 'north_intl'.") in r.conflicts
    assert len(r.conflicts) == 5


@pytest.mark.parametrize(("case", "programme", "unplaced"), [
    ("upskill_drains_group", "nurse_associate_upskill", 112.5),
    ("upskill_starves_supervisors", "advanced_practice", 150.0)])
def test_upskilling_that_would_drain_a_group_leaves_graduates_unplaced(case, programme,
                                                                       unplaced):
    """Until posts and unplaced graduates (SPEC §2.3, §2.11), these two were
    infeasible: every upskilling graduate had to leave ``from_group``, emptying it
    (or leaving too few supervisors). Unplaced upskilling graduates now stay in
    ``from_group``, so the plan exists and says how many could not move: the
    support workers of the north stay at 0 rather than below it; 150 of the 500
    nurses stay nurses so that 0.5 per nurse can supervise the 200 students."""
    r = solve(load_instance(DATA.parent / "unplaced" / f"{case}.yaml"))
    assert r.status == "optimal"
    training = r.tables["training"]
    row = training[(training["programme"] == programme) & (training["year"] == 2017)]
    assert float(row["unplaced"].iloc[0]) == pytest.approx(unplaced, abs=1e-3)
    assert (r.tables["workforce"]["fte"] >= -1e-9).all()


def test_conflict_found_before_the_solver_is_worded_too(tmp_path):
    """Committed trainees above the baseline supervision capacity need no solver:
    formulations/training.py finds them while building; they are shown the same way."""
    res = CliRunner().invoke(app, ["solve", str(DATA / "supervision_committed.yaml"),
                                   "--out", str(tmp_path / "out")])
    assert res.exit_code == 1
    sentence = ("Training 'nursing_degree' has 820 committed trainees in 2017 but supervision "
                "allows 700 (0.5 per FTE of 'nurse' in all units at the end of 2016).")
    assert f"  - {sentence}" in res.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["conflicts"] == [sentence]


def test_library_result_carries_the_conflicts():
    r = solve(load_instance(DATA / "regional_supervision.yaml"))
    assert r.status == "infeasible" and not r.has_plan
    assert r.conflicts[0].startswith("Trainees of 'north_degree' in training in 2019")
    assert r.tables["targets"].empty


def test_budgets_cannot_conflict(tmp_path):
    """A budget of zero is no conflict: every lever may be left at zero and
    committed entrants cost nothing more, so the plan exists with nothing spent."""
    from optimiser import Override

    inst = load_instance(DATA.parent / "unplaced" / "upskill_starves_supervisors.yaml",
                         [Override.parse("set", "training.advanced_practice.committed="
                                                "{2016: 100}"),
                          Override.parse("set", "budgets=[{id: main, per_year: 0}]")])
    r = solve(inst)
    assert r.status == "optimal"
    assert r.total_cost == 0
    assert np.isclose(r.tables["budget"]["spent"].sum(), 0)
