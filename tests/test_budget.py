"""The time budget (optimiser/engine/budget.py) by hand: what the end of a solve
keeps, and so until when the stages may run.

A model of 10,000 columns: the extraction and the write keep
max(0.5, 2.5e-5·10,000 = 0.25) = 0.5 s (at most 30% of the limit), the write
alone max(0.25, 1e-5·10,000 = 0.1) = 0.25 s (at most 10%), the tie-breaks
3.5e-4·10,000 = 3.5 s (run only within 15% of the limit), the rebuild of a
released model 2e-5·10,000 = 0.2 s.
"""

from __future__ import annotations

import time

from pytest import approx

from optimiser.engine.budget import TimeBudget
from optimiser.engine.options import SolveOptions


def test_a_long_limit_keeps_each_reserve() -> None:
    """Limit 100 s, deadline at 1,000: the tie-breaks (3.5 s ≤ 15 s) fit."""
    b = TimeBudget(deadline=1000.0, time_limit=100.0).sized(10_000)
    assert b.end == approx(999.5)
    assert b.tie_breaks_fit()
    assert b.stages_until == approx(999.5 - 3.5)
    assert b.tie_breaks_until() == approx(999.5)
    assert b.explanation_until == approx(999.75)
    released = TimeBudget(deadline=1000.0, time_limit=100.0).sized(10_000, released=True)
    assert released.stages_until == approx(999.5 - 3.5 - 0.2)


def test_a_short_limit_caps_the_reserves_and_skips_the_tie_breaks() -> None:
    """Limit 1 s: the extraction keeps 30% of it (0.3 s, not 0.5), the write 10%
    (0.1 s, not 0.25); the tie-breaks' 3.5 s are beyond 15% (0.15 s): not run,
    and the stages keep their time."""
    b = TimeBudget(deadline=50.0, time_limit=1.0).sized(10_000)
    assert b.end == approx(49.7)
    assert not b.tie_breaks_fit()
    assert b.stages_until == approx(49.7)
    assert b.explanation_until == approx(49.9)


def test_without_a_limit_nothing_is_reserved_and_the_tie_breaks_are_bounded() -> None:
    b = TimeBudget.of_command(None, {"time_limit": None}, now=5.0).sized(10_000)
    assert (b.deadline, b.end, b.stages_until, b.explanation_until) == (None,) * 4
    assert b.tie_breaks_fit() and b.explanation_fits()
    # Four times the estimate (14 s) but at least a minute.
    assert b.tie_breaks_until() - time.perf_counter() == approx(60.0, abs=1.0)


def test_the_limit_counts_from_the_commands_start() -> None:
    opts = {"time_limit": 30.0}
    assert TimeBudget.of_command(SolveOptions(started=100.0), opts, now=107.0).deadline == 130.0
    assert TimeBudget.of_command(None, opts, now=107.0).deadline == 137.0


def call(watch, primal, gap, running=30.0):
    """Feed the root reserve's ``watch`` one HiGHS callback record (bound 100, the
    plan ``primal``, its ``gap``, HiGHS's clock ``running``); whether it asked
    HiGHS to stop."""
    from highspy import cb

    out, data_in = cb.HighsCallbackOutput(), cb.HighsCallbackInput()
    out.mip_dual_bound, out.mip_primal_bound, out.mip_gap = 100.0, primal, gap
    out.running_time = running
    watch(None, "", out, data_in, None)
    return data_in.user_interrupt


def test_the_root_reserve_keeps_stage_one_while_its_plan_is_far_from_its_bound():
    """The root reserve stops stage 1 for the later stages' root time only once
    its plan is within 1% of its bound: on the generated 150-trust plan with
    placement it stopped at 194 s with a 70.75% gap (W 851,081 where the plan
    run on reaches about 225,000). Fed HiGHS's own callback records: past the
    reserve's deadline, a 70% gap runs on, a 0.5% gap stops, and no plan at all
    (an infinite primal bound) runs on."""
    import time

    from optimiser.engine.highs_model import RootWatch

    past = time.perf_counter() - 1.0  # the reserve's deadline has passed
    assert call(RootWatch(past, 2.0), 341.0, 0.7075) is False
    assert call(RootWatch(past, 2.0), 100.5, 0.005) is True
    assert call(RootWatch(past, 2.0), float("inf"), float("inf")) is False


def test_the_root_reserve_moves_highs_s_time_limit_to_its_stop():
    """HiGHS calls the watch only between LPs and nodes, and a node LP can run for
    minutes (the generated NHS plan's stage 1, due to stop about 110 s in,
    stopped at 226 s). So once the plan is worth keeping and before the stop has
    passed, the watch moves the run's ``time_limit`` on the HiGHS object to the
    stop, on HiGHS's own clock for the run (``running_time``): HiGHS bounds each
    node LP by the time left to that limit. Fed HiGHS's own callback records:
    root at the start, factor 2, the stage's deadline 100 s ahead, so the stop is
    100 − 2·root ≈ 100 s ahead; with HiGHS's clock at 30 s the limit becomes
    about 130 s. A plan 70% from its bound leaves the limit alone, and so does a
    stop later than the limit the run already has."""
    import time

    from optimiser.engine.highs import new_highs, option_value
    from optimiser.engine.highs_model import RootWatch

    h = new_highs(threads=1)
    h.setOptionValue("time_limit", 500.0)
    far = RootWatch(time.perf_counter() + 100.0, 2.0, h=h)
    assert call(far, 341.0, 0.7075) is False
    assert option_value(h, "time_limit", 0.0) == 500.0 and not far.limited
    assert call(far, 100.5, 0.005) is False  # not yet past the stop: no interrupt
    assert far.limited
    assert 129.0 < option_value(h, "time_limit", 0.0) < 130.5
    h.setOptionValue("time_limit", 60.0)  # a run whose own limit comes first
    late = RootWatch(time.perf_counter() + 100.0, 2.0, h=h)
    call(late, 100.5, 0.005)
    assert option_value(h, "time_limit", 0.0) == 60.0 and not late.limited
