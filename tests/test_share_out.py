"""The share-out tie-break (optimiser/engine/tie_break.py), worked out by hand.

Among plans equally good for W, C and Σ UP, with every lever's decisions held,
each lever's supply a[ℓ,u,y] is shared among the units in its scope so that its
highest allocation per post, L[ℓ,y] = max_u a[ℓ,u,y] / w[u,g,y], is least, where
w is the unit's funded posts (its baseline staff where it has none). Base year
2020, no leavers unless given; staff count in post at the end of the year they
join.
"""

from __future__ import annotations

from pytest import approx


def course(entrants: float = 40, **fields):
    """A one-year course whose committed entrants of 2020 all qualify in 2021 (no
    new places: the supply is fixed, so only where it goes is decided)."""
    return {"id": "course", "group": "nurse", "duration": 1, "completion_rate": 1.0,
            "cost_per_place_year": 1000, "max_places_per_year": 0,
            "committed": {2020: entrants}, **fields}


def two_units(fte1: float = 80, posts1: float = 100, fte2: float = 240, posts2: float = 300):
    return [{"unit": "u1", "group": "nurse", "fte": fte1, "posts": posts1},
            {"unit": "u2", "group": "nurse", "fte": fte2, "posts": posts2}]


def graduates(plan, unit: str) -> float:
    return plan.value("workforce", "graduates", unit=unit, group="nurse", year=2021)


def test_graduates_are_shared_in_proportion_to_posts(make_doc, solve_doc):
    """u1: 80 nurses, 100 posts; u2: 240 nurses, 300 posts; 40 graduates in 2021
    and no target: W = 0 and C = 0 wherever they go (20 + 60 vacancies hold them
    all). Shared by posts: L = 40 / 400 = 0.1, so u1 takes 10 and u2 30 (90 and
    270 in post, both at 10% vacancies); nothing unplaced."""
    doc = make_doc(units={"u1": "r1", "u2": "r1"}, workforce=two_units(),
                   training=[course()])
    plan = solve_doc(doc)
    assert plan.status == "optimal"
    assert plan.shortfall == approx(0, abs=1e-9)
    assert plan.cost == approx(0, abs=1e-6)
    assert graduates(plan, "u1") == approx(10, abs=1e-6)
    assert graduates(plan, "u2") == approx(30, abs=1e-6)
    assert plan.value("training", "unplaced", programme="course", year=2021) == \
        approx(0, abs=1e-6)
    for u, vacancies in (("u1", 10), ("u2", 30)):
        assert plan.value("workforce", "vacancies", unit=u, group="nurse", year=2021) == \
            approx(vacancies, abs=1e-6)
    share = next(s for s in plan.result.stages if s["stage"] == "share_out")
    assert share["status"] == "optimal"
    assert share["weighted_shortfall"] == approx(0, abs=1e-9)


def test_a_unit_with_little_room_takes_what_it_has(make_doc, solve_doc):
    """As above with u1 at 95 nurses: room for 5. u1 takes its 5 and u2 the other
    35 (its share 35/300 ≈ 0.117 per post, above u1's 0.05: a cap, not the level,
    holds u1)."""
    doc = make_doc(units={"u1": "r1", "u2": "r1"}, workforce=two_units(fte1=95),
                   training=[course()])
    plan = solve_doc(doc)
    assert plan.status == "optimal"
    assert graduates(plan, "u1") == approx(5, abs=1e-6)
    assert graduates(plan, "u2") == approx(35, abs=1e-6)
    assert plan.value("workforce", "fte", unit="u1", group="nurse", year=2021) == approx(100)


def test_targets_come_before_shares(make_doc, solve_doc):
    """u1 must have 100 nurses in 2021 (a unit target): W = 0 needs 20 of the 40
    graduates there, more than its share of 10. The share-out keeps W: u1 20,
    u2 the other 20."""
    doc = make_doc(units={"u1": "r1", "u2": "r1"}, workforce=two_units(),
                   training=[course()],
                   targets=[{"id": "t", "unit": "u1", "groups": ["nurse"],
                             "required": {2021: 100}}])
    plan = solve_doc(doc)
    assert plan.status == "optimal"
    assert plan.shortfall == approx(0, abs=1e-9)
    assert graduates(plan, "u1") == approx(20, abs=1e-6)
    assert graduates(plan, "u2") == approx(20, abs=1e-6)


def test_a_national_route_is_shared_across_regions_and_its_totals_kept(make_doc, solve_doc):
    """u1 (region r1, 100 posts) and u2 (r2, 300 posts), 80 and 240 nurses; a
    national route of at most 40 a year at £100; the nation needs 360 nurses in
    2021. W = 0 needs all 40 recruits: C = £4,000 wherever they go. Shared by
    posts: 10 to u1, 30 to u2; the route's total stays 40."""
    doc = make_doc(units={"u1": "r1", "u2": "r2"}, workforce=two_units(),
                   international=[{"id": "abroad", "group": "nurse", "cost_per_recruit": 100,
                                   "max_per_year": 40}],
                   targets=[{"id": "t", "groups": ["nurse"], "required": {2021: 360}}])
    plan = solve_doc(doc)
    assert plan.status == "optimal"
    assert plan.shortfall == approx(0, abs=1e-9)
    assert plan.cost == approx(4000, abs=1e-6)
    assert plan.value("international", "recruits", route="abroad", year=2021) == approx(40)
    for u, want in (("u1", 10), ("u2", 30)):
        assert plan.value("workforce", "international", unit=u, group="nurse", year=2021) == \
            approx(want, abs=1e-6)


def test_a_unit_without_posts_shares_by_its_staff(make_doc, solve_doc):
    """u2 has no posts (no limit): its weight is its 240 staff. u1: 100 posts. 34
    graduates: L = 34 / 340 = 0.1, so u1 takes 10 and u2 24."""
    workforce = two_units()
    del workforce[1]["posts"]
    doc = make_doc(units={"u1": "r1", "u2": "r1"}, workforce=workforce,
                   training=[course(entrants=34)])
    plan = solve_doc(doc)
    assert graduates(plan, "u1") == approx(10, abs=1e-6)
    assert graduates(plan, "u2") == approx(24, abs=1e-6)


def test_the_weighted_mode_shares_too(make_doc, solve_doc):
    """The first case in the weighted mode: W + C / value_per_fte = 0 either way;
    the same 10 and 30."""
    doc = make_doc(units={"u1": "r1", "u2": "r1"}, workforce=two_units(),
                   training=[course()],
                   objective={"mode": "weighted", "value_per_fte": 1000})
    plan = solve_doc(doc)
    assert plan.status == "optimal"
    assert graduates(plan, "u1") == approx(10, abs=1e-6)
    assert graduates(plan, "u2") == approx(30, abs=1e-6)


def two_futures(make_doc) -> dict:
    """The two units and the course, in two futures: ``full`` (p 0.5) and ``half``
    (completion 50%, p 0.5)."""
    doc = make_doc(units={"u1": "r1", "u2": "r1"}, workforce=two_units(),
                   training=[course()])
    doc["scenarios"] = {"here_and_now_years": 1,
                        "list": [{"id": "full", "probability": 0.5},
                                 {"id": "half", "probability": 0.5,
                                  "scale": {"training.course.completion_rate": 0.5}}]}
    return doc


def test_each_scenario_is_shared_out(make_doc, write_instance):
    """A stochastic plan (:func:`two_futures`): the 40 graduates of ``full`` and the
    20 of ``half`` are each shared by posts: 10 and 30, then 5 and 15. Nothing
    else is decided (no places, no target): W = C = 0."""
    from optimiser import load_instance, solve_scenarios

    result = solve_scenarios(load_instance(write_instance(two_futures(make_doc))))
    assert result.status == "optimal"
    wf = result.tables["workforce"]
    got = {(s, u): float(wf[(wf["scenario"] == s) & (wf["unit"] == u)
                            & (wf["year"] == 2021)]["graduates"].iloc[0])
           for s in ("full", "half") for u in ("u1", "u2")}
    assert got == approx({("full", "u1"): 10, ("full", "u2"): 30,
                          ("half", "u1"): 5, ("half", "u2"): 15}, abs=1e-6)
    assert "share_out" in [s["stage"] for s in result.stages]


def test_tie_breaks_that_would_not_fit_in_the_time_limit_are_not_run(make_doc, solve_doc,
                                                                      monkeypatch):
    """When the tie-breaks would need more than 15% of the time limit (here:
    made so by pretending each column takes 10 s), the stages keep the whole limit
    and the solve says why the split between units is the stages' own."""
    from optimiser.engine.budget import RESERVES, Reserve

    monkeypatch.setitem(RESERVES, "tie_breaks", Reserve(per_column=10.0, cap=0.15))
    doc = make_doc(units={"u1": "r1", "u2": "r1"}, workforce=two_units(),
                   training=[course()])
    plan = solve_doc(doc, time_limit=60)
    assert plan.status == "optimal"
    assert [s["stage"] for s in plan.result.stages] == ["shortfall", "cost"]
    assert any("tie-breaks were not run" in m for m in plan.result.messages)
    # Without a time limit they always run.
    assert "share_out" in [s["stage"] for s in solve_doc(doc).result.stages]


def test_an_lps_time_limit_counts_from_its_own_run(make_doc, write_instance):
    """HiGHS holds an LP to its time limit on the run time summed over the
    object's runs (a MIP to its own run's): the tie-breaks, run after 560 s of
    stages on the 150-trust plan with 32 s left, stopped at once. An LP run
    with 0.5 s to go, after more than that of earlier runs, must still solve."""
    from formulations import build_model, model_data
    from optimiser import load_instance
    from optimiser.engine.solve import HighsModel, SolveOptions, effective_options

    doc = make_doc(units={"u1": "r1", "u2": "r1"}, workforce=two_units(),
                   international=[{"id": "abroad", "group": "nurse", "cost_per_recruit": 100,
                                   "max_per_year": 40}],
                   targets=[{"id": "t", "groups": ["nurse"], "required": {2021: 360}}])
    inst = load_instance(write_instance(doc))
    hm = HighsModel(build_model(model_data(inst)))
    hm.set_options(effective_options(inst, SolveOptions()))
    assert not hm.integrality.any()  # an LP
    while hm.h.getRunTime() < 1.0:
        hm.h.clearSolver()
        hm.run(hm.c_W, None)
    hm.h.clearSolver()
    rec = hm.run(hm.c_W, 0.5)
    assert rec["status"] == "optimal", rec["highs_status"]
