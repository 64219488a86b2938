"""Sampled scenario sets (SPEC §2.13, "Sampled scenarios"): the draw is
normative, so the values are computed here independently with numpy and
compared exactly; bad samples are located and all told at once."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from cli import app
from optimiser import InputError, load_instance
from optimiser.engine.scenarios import load_scenarios_file, scenario_set


def small(make_doc, sample: dict | None = None) -> dict:
    """Two nurse groups' worth of a plan: one course, one international route."""
    doc = make_doc(years=2, groups={"nurse": 0.1},
                   training=[{"id": "course", "group": "nurse", "duration": 1,
                              "completion_rate": 0.9, "cost_per_place_year": 10,
                              "max_places_per_year": 40, "integer_places": False}],
                   international=[{"id": "abroad", "group": "nurse", "cost_per_recruit": 1000,
                                   "max_per_year": 20}],
                   targets=[{"id": "keep", "groups": ["nurse"], "required": {2022: 100}}])
    doc["scenarios"] = {"sample": sample or {
        "count": 5, "seed": 42,
        "set": {"international.abroad.max_per_year": [10, 30]},
        "scale": {"staff_groups.*.leaver_rate": [0.8, 1.5]}}}
    return doc


def test_the_draw_is_numpys_default_rng_in_the_written_order(make_doc, write_instance):
    """Scenario j draws set keys, then scale keys, one uniform each, from one
    generator: the values are exactly numpy's, whatever the machine."""
    ss = scenario_set(load_instance(write_instance(small(make_doc))))
    rng = np.random.default_rng(42)
    expected = []
    for _ in range(5):
        cap = rng.uniform(10, 30)
        factor = rng.uniform(0.8, 1.5)
        expected.append((cap, factor))
    assert ss.ids == ["s1", "s2", "s3", "s4", "s5"]
    assert ss.probabilities == [0.2] * 5
    got = [(s.set["international.abroad.max_per_year"], s.scale["staff_groups.*.leaver_rate"])
           for s in ss.items]
    assert got == expected  # exact: the same floats
    assert [i.international[0].max_per_year for i in ss.instances] == [c for c, _ in expected]
    assert [i.staff_groups[0].leaver_rate for i in ss.instances] == [0.1 * f for _, f in expected]
    # The first values of seed 42, written out: a change of generator shows here.
    assert expected[0][0] == 25.479120971119265
    again = scenario_set(load_instance(write_instance(small(make_doc))))
    assert [s.set for s in again.items] == [s.set for s in ss.items]


def test_bad_samples_are_located_all_at_once(make_doc, write_instance):
    doc = small(make_doc, {"count": 3, "seed": 1,
                           "set": {"international.abroad.max_per_year": [30, 10]},
                           "scale": {"staff_groups.nruse.leaver_rate": [0.9, 1.1]}})
    with pytest.raises(InputError) as info:
        scenario_set(load_instance(write_instance(doc)))
    got = [str(p) for p in info.value.problems]
    assert "scenarios.sample.set.international.abroad.max_per_year | lo 30 is above hi 10" in got
    assert any(g.startswith("scenarios.sample.scale.staff_groups.nruse.leaver_rate | no item "
                            "'nruse'") for g in got), got
    # A value a draw makes invalid: told once, with how many draws have it.
    doc = small(make_doc, {"count": 4, "seed": 1,
                           "set": {"international.abroad.max_per_year": [-10, -5]}})
    with pytest.raises(InputError) as info:
        scenario_set(load_instance(write_instance(doc)))
    (only,) = [str(p) for p in info.value.problems]
    assert only.startswith("scenario 's1': international[abroad].max_per_year (from "
                           "scenarios.sample.set.international.abroad.max_per_year) | must be")
    assert only.endswith("(and 3 more of the 4 sampled scenarios)")


def test_cli_validate_shows_the_ranges_and_refuses_bad_samples(make_doc, write_instance,
                                                              tmp_path):
    doc = small(make_doc)
    sample = doc.pop("scenarios")
    path = write_instance(doc)
    (tmp_path / "futures.yaml").write_text(yaml.safe_dump(sample))
    runner = CliRunner()
    res = runner.invoke(app, ["validate", str(path), "--scenarios",
                              str(tmp_path / "futures.yaml")])
    assert res.exit_code == 0, res.output
    assert "scenarios  5 sampled, seed 42, ids s1 … s5" in res.output
    assert "set international.abroad.max_per_year: [10, 30], drawn" in res.output
    bad = {"sample": {"count": 0, "seed": 1, "scale": {"staff_groups.*.leaver_rate": [2, 1]}}}
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad))
    res = runner.invoke(app, ["validate", str(path), "--scenarios", str(tmp_path / "bad.yaml")])
    assert res.exit_code == 2
    assert "bad.yaml: scenarios.sample.count | Input should be greater than or equal to 1" \
        in res.output
    assert "Traceback" not in res.output
    both = {"list": [{"id": "a", "probability": 1}], "sample": sample["sample"]}
    (tmp_path / "both.yaml").write_text(yaml.safe_dump(both))
    res = runner.invoke(app, ["validate", str(path), "--scenarios", str(tmp_path / "both.yaml")])
    assert res.exit_code == 2 and "give either list or sample" in res.output


def test_the_shipped_sampled_file_loads(tmp_path):
    sc = load_scenarios_file("instances/stepping-forward-2017/scenarios-sampled.yaml")
    assert sc.sample is not None and sc.sample.count >= 10


def test_a_sampled_plan_reads_like_a_listed_one_with_its_confidence_interval(
        make_doc, write_instance):
    """The extensive form on a sampled set: the summary lists s1 … s5 as it lists
    written scenarios, and --confidence scores the first-year decisions on fresh
    futures (seed 43 by default: the sample's seed + 1)."""
    import json

    # Futures that differ in their leaver rates only (a drawn cap below the
    # plan's recruits would leave a future without a plan), and more nurses
    # wanted than any future can give: each future's shortfall then depends on
    # its leaver rate, so the interval has a width to check.
    doc = small(make_doc, {"count": 5, "seed": 42,
                           "scale": {"staff_groups.*.leaver_rate": [0.8, 1.5]}})
    doc["targets"][0]["required"] = {2022: 200}
    path = write_instance(doc)
    res = CliRunner().invoke(app, ["solve", str(path), "--json", "--confidence", "6"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert [s["id"] for s in summary["scenarios"]] == ["s1", "s2", "s3", "s4", "s5"]
    assert summary["stochastic"]["RP"] == pytest.approx(summary["weighted_shortfall"])
    oos = summary["stochastic"]["out_of_sample"]
    assert (oos["count"], oos["seed"], oos["infeasible"]) == (6, 43, [])
    # The interval is the mean ± t·s/√n with Student's t for 5 degrees of
    # freedom at 97.5% (2.5706, from the table, not from scipy), the futures'
    # shortfalls differing (s > 0): a normal quantile (1.96), a missing √n or an
    # interval of nothing would each fail.
    assert oos["std"] > 0
    half = 2.570582 * oos["std"] / 6 ** 0.5
    assert oos["ci95"] == pytest.approx([oos["mean"] - half, oos["mean"] + half], abs=2e-5)
    listed = small(make_doc)
    listed["scenarios"] = {"list": [{"id": "only", "probability": 1}]}
    res = CliRunner().invoke(app, ["solve", str(write_instance(listed)), "--confidence", "6"])
    assert res.exit_code == 2 and "--confidence | needs a sampled scenario set" in res.output


@pytest.mark.parametrize("engine", ["ef", "ph"])
def test_fair_shares_of_a_stochastic_plan_print_for_the_reference_scenario(
        make_doc, write_instance, engine):
    """A stochastic plan keeps fair shares per scenario; the readable summary
    shows the reference scenario's (it once failed with KeyError: 'measure')."""
    if engine == "ph" and importlib.util.find_spec("mpisppy") is None:
        pytest.skip("the mpi extra is not installed")
    targets = [{"id": f"{r}_nurses", "region": r, "groups": ["nurse"], "required": {2021: need},
                "fair_share": "nurses"} for r, need in (("r1", 120), ("r2", 140))]
    doc = make_doc(units={"u1": "r1", "u2": "r2"},
                   workforce=[{"unit": "u1", "group": "nurse", "fte": 100},
                              {"unit": "u2", "group": "nurse", "fte": 100}],
                   international=[{"id": "abroad", "group": "nurse", "cost_per_recruit": 100,
                                   "max_per_year": 30}], targets=targets)
    doc["scenarios"] = {"sample": {"count": 3, "seed": 1, "scale": {
        "international.abroad.max_per_year": [0.8, 1.0]}}}
    res = CliRunner().invoke(app, ["solve", str(write_instance(doc)), "--engine", engine,
                                   "--ph-iterations", "3"])
    assert res.exit_code == 0, res.output
    assert "fair shares by scenario (measure: s1 " in res.output
    assert "below, 's1'" in res.output
