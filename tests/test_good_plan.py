"""A good plan early, measured (issue 30): when each MIP stage's plans first
came within 1% and within the MIP gap of the stage's final bound, from HiGHS's
improving-solution callback (``HighsModel.run``'s ``good_plan``), and
``summary.json``'s ``good_plan`` for W and C."""

from __future__ import annotations

from optimiser import load_instance, solve
from optimiser.engine.highs_model import Plans, good_plan


def test_good_plan_is_the_first_plan_within_1pct_and_within_the_gap():
    """Plans found at 1, 2 and 3 s after the clock, objectives 110, 100.5 and
    100.005, final bound 100, gap 1e-4: within 1% first at 2 s (0.5/100.5 =
    0.50%; 10/110 = 9.1% is not), within the gap at 3 s (0.005/100.005 = 5.0e-5)."""
    plans = Plans()
    plans.found = [(1.0, 110.0), (2.0, 100.5), (3.0, 100.005)]
    assert good_plan(plans, True, 100.0, 4.0, 0.0, 1e-4) == {
        "within_1pct_seconds": 2.0, "within_gap_seconds": 3.0}
    # Never within the gap (stopped by a limit at 0.5%): None for it.
    assert good_plan(plans, True, 99.9, 4.0, 0.0, 1e-5)["within_gap_seconds"] is None
    # An LP (no MIP plans recorded) is exact when it ends.
    assert good_plan(None, True, None, 4.0, 1.0, 1e-4) == {
        "within_1pct_seconds": 3.0, "within_gap_seconds": 3.0}


def test_a_solve_reports_when_w_and_c_were_first_within_the_gap():
    """tiny: W's and C's stages both ended within the gap, so each has a first
    plan within it, W's before C's (the seconds count from the solve's start,
    and C's stage runs after W's), and summary.json's good_plan repeats them."""
    result = solve(load_instance("instances/tiny/instance.yaml"))
    stages = {s["stage"]: s for s in result.stages}
    w, c = stages["shortfall"], stages["cost"]
    assert w["within_gap_seconds"] is not None and c["within_gap_seconds"] is not None
    assert w["within_1pct_seconds"] <= w["within_gap_seconds"]
    assert w["within_gap_seconds"] < c["within_gap_seconds"]
    summary = result.summary()["good_plan"]
    assert summary["weighted_shortfall"]["within_gap_seconds"] == w["within_gap_seconds"]
    assert summary["total_cost"]["within_gap_seconds"] == c["within_gap_seconds"]
