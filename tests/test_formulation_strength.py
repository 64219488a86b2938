"""The LP relaxation of fixed-cost levers, worked out by hand (perspective form).

A return-to-practice campaign or a retention scheme with a fixed cost has an
on/off binary (ACT, Z). Its concave response is written in perspective form:
each segment's intercept is multiplied by the binary, so a fractional binary
cannot buy the steep first segment for a sliver of the fixed cost. Whole plans
are unchanged; the LP bound (what HiGHS starts branching from) is higher.

The case, for both levers: one unit with 1,000 nurses (σ = 1 for retention),
response ``[[0, 0], [1000, 20], [3000, 30]]`` (slopes 0.02 then 0.005; the second
segment's intercept is 20 − 0.005·1000 = 15), fixed cost 1,000, one plan year
with a budget of 1,500, and a target 100 above the baseline, so W = 100 − effect.

- Whole plan: on (1,000 fixed) leaves 500 to spend: effect 0.02·500 = 10, W = 90.
- Old LP (intercept not switched): a = X/3000 is enough, so 1,500 = X + 1000·X/3000
  gives X = 1,125, effect min(22.5, 15 + 5.625) = 20.625, W = 79.375.
- Perspective LP: with on-share a and X = 1,500 − 1,000a (a ≥ X/3000, so
  a ≥ 0.375), effect ≤ min(0.02·X, 15a + 0.005·X) = min(30 − 20a, 7.5 + 10a),
  largest at a = 0.75: 15, so W = 85 — the best any mix of whole plans can do.
"""

from __future__ import annotations

from pathlib import Path

from conftest import build_doc, write_doc
from pytest import approx

from formulations import build_model, model_data
from optimiser import SolveOptions, load_instance, solve
from optimiser.engine.solve import SUBMIP_HEURISTICS, HighsModel

RESPONSE = [[0, 0], [1000, 20], [3000, 30]]


def doc(**lever) -> dict:
    return build_doc(
        groups={"nurse": 0.1}, workforce=[{"unit": "u1", "group": "nurse", "fte": 1000}],
        budgets=[{"id": "main", "per_year": 1500}],
        targets=[{"id": "t", "groups": ["nurse"], "required": {2021: 1000 * 0.9 + 100}}],
        **lever)


def lp_bound(path: Path) -> float:
    """W of the LP relaxation (integrality dropped) of the instance at ``path``."""
    hm = HighsModel(build_model(model_data(load_instance(path))))
    lp = hm.lp_copy()
    lp.changeColsCost(hm.n, list(range(hm.n)), hm.c_W)
    lp.run()
    return lp.getInfo().objective_function_value


def check(tmp_path: Path, **lever) -> None:
    path = write_doc(doc(**lever), tmp_path)
    assert lp_bound(path) == approx(85.0, abs=1e-6)
    result = solve(load_instance(path), SolveOptions())
    assert result.status == "optimal"
    assert result.weighted_shortfall == approx(90.0, abs=1e-6)


def test_return_to_practice_relaxation_is_the_perspective(tmp_path: Path) -> None:
    check(tmp_path, return_to_practice=[{
        "id": "rtp", "group": "nurse", "pool": 1000, "response": RESPONSE,
        "fixed_cost": 1000}])


def test_retention_relaxation_is_the_perspective(tmp_path: Path) -> None:
    """σ = 1 (1,000 nurses), so the per-1,000 curve is the curve itself; the
    leavers (100) and ρ = 1 do not bind."""
    check(tmp_path, retention=[{
        "id": "keep", "eligible": ["u1"], "response": RESPONSE, "fixed_cost": 1000}])


# ------------------------------------------------------ HiGHS's sub-MIP heuristics


CAMPAIGN = {"id": "rtp", "group": "nurse", "pool": 1000, "response": RESPONSE,
            "fixed_cost": 1000}
"""A return-to-practice campaign whose on/off flag is the model's only integer."""


def options_after_set_options(path: Path, names) -> dict[str, object]:
    """The HiGHS options ``names`` once the instance at ``path`` is handed over
    and :meth:`HighsModel.set_options` has run."""
    hm = HighsModel(build_model(model_data(load_instance(path))))
    hm.set_options({"verbose": False, "mip_gap": 1e-4, "seed": 0, "threads": None})
    return {name: hm.h.getOptionValue(name)[1] for name in names}


def heuristics_after_set_options(path: Path) -> dict[str, object]:
    return options_after_set_options(path, SUBMIP_HEURISTICS)


def test_submip_heuristics_off_when_every_integer_is_on_off(tmp_path: Path) -> None:
    """A campaign's on/off flag is the only integer: RENS, RINS and root
    reduced-cost fixing are switched off (3–5× faster on the realistic plans,
    benchmarks/README.md); with whole training places (general integers) they
    stay on, where they find the plans. The plan is the same either way."""
    rtp = [CAMPAIGN]
    path = write_doc(doc(return_to_practice=rtp), tmp_path / "binary")
    assert heuristics_after_set_options(path) == dict.fromkeys(SUBMIP_HEURISTICS, False)
    course = {"id": "course", "group": "nurse", "duration": 1, "completion_rate": 1.0,
              "cost_per_place_year": 7, "max_places_per_year": 1000}
    path = write_doc(doc(return_to_practice=rtp, training=[course]), tmp_path / "general")
    assert heuristics_after_set_options(path) == dict.fromkeys(SUBMIP_HEURISTICS, True)
    # Continuous places: on/off decisions only again.
    path = write_doc(doc(return_to_practice=rtp,
                         training=[{**course, "integer_places": False}]), tmp_path / "cont")
    assert heuristics_after_set_options(path) == dict.fromkeys(SUBMIP_HEURISTICS, False)
    result = solve(load_instance(path), SolveOptions())
    assert result.status == "optimal"


def test_each_stage_s_root_is_by_interior_point_and_never_restarts(tmp_path: Path) -> None:
    """Two root choices of :meth:`HighsModel.set_options`, on every handed-over
    model. HiGHS's ``mip_lp_solver`` is the interior point: the root LP by dual
    simplex was most of a large stage's time (the generated NHS plan's stage 1:
    131 s before any plan; 25 s by interior point). ``mip_allow_restart`` is off:
    after a restart HiGHS ran its root cut loop again without a round limit, and
    on long-term-2028 with run-out years the cost stage took 105 s that way
    against 55 s without (benchmarks/README.md, "No restart after the root").
    The hand-worked case's plan is the same: on, X = 500 (W = 90, module
    docstring)."""
    path = write_doc(doc(return_to_practice=[CAMPAIGN]), tmp_path)
    assert options_after_set_options(path, ["mip_lp_solver", "mip_allow_restart"]) == {
        "mip_lp_solver": "ipm", "mip_allow_restart": False}
    result = solve(load_instance(path), SolveOptions())
    assert result.status == "optimal"
    assert result.weighted_shortfall == approx(90.0, abs=1e-6)
