"""Planning under uncertainty (SPEC §2.13): scenarios, the extensive form, and
what knowing the future is worth.

Each scenario s is the instance with its overrides applied (the key syntax of
``--set``/``--scale``, ``set`` before ``scale``; numbers only). The extensive
form holds one copy of the model per scenario — a Pyomo block built by the same
formulation code on that scenario's data (:func:`formulations.build_into`) —
linked by non-anticipativity: every lever decision of a year
``y ≤ b + here_and_now_years`` takes the same value in every scenario::

    v[s, i, y] = v[ref, i, y]        every decision v of every lever, every s   non_anticipativity

(``formulations.lever_decisions`` lists them: N, RUN, X, ACT, F, Z, I). Where a
unit goes (A, AR, AI, UP), deployment, retention per unit, stocks and later
decisions are per scenario. The risk measure ρ of the scenarios' W_s::

    expected:    ρ = Σ_s π_s·W_s
    worst_case:  ρ = t,  t ≥ W_s                                  worst_case_bound
    cvar:        ρ = t + 1/(1 − α)·Σ_s π_s·z_s,  z_s ≥ W_s − t,  z ≥ 0   cvar_excess

The stages are the deterministic ones (:func:`optimiser.engine.stages.run_stages`, through
:func:`optimiser.engine.solve.solve_model`) on
ρ, then (worst_case, cvar) the expected shortfall Σ π_s·W_s, fairness Σ π_s·M_s
and the expected cost Σ π_s·C_s, then the unplaced tie-break on Σ π_s·UP_s.

Beside the plan: ``RP`` (ρ of the plan), ``WS`` (ρ of each scenario solved
alone, shortfall only), ``EEV`` (ρ when the here-and-now decisions are those
of the reference scenario solved alone, all stages, and each scenario then
minimises its shortfall), ``EVPI = RP − WS`` and ``VSS = EEV − RP``.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyomo.environ as pyo
from pyomo.common.errors import InfeasibleConstraintException
from pyomo.common.gc_manager import PauseGC

from formulations import (
    build_into,
    build_model,
    lever_decided,
    lever_decisions,
    model_data,
)
from formulations.data import ModelData
from formulations.fairness import fairness_summary, member_rates
from optimiser.engine import progress
from optimiser.engine.budget import TimeBudget
from optimiser.engine.highs_model import HighsModel, load_solution
from optimiser.engine.options import SolveOptions, effective_options
from optimiser.engine.settle import settle_deployment, settle_shortfalls
from optimiser.engine.solve import (
    Built,
    Models,
    no_plan_reason,
    progress_args,
    result_base,
    solve,
    solve_model,
)
from optimiser.errors import InputError, Problem
from optimiser.instance.loader import Provenance
from optimiser.instance.overrides import Override
from optimiser.instance.reading import parse_yaml
from optimiser.instance.sampling import draw, range_problems, sample_keys
from optimiser.instance.scenario_rows import scenarios_from_rows
from optimiser.instance.schema import LIST_SECTIONS, Instance, Scenario, Scenarios
from optimiser.results.tables import Result, clean, extract_tables
from optimiser.sweep.point import SweepSource
from optimiser.sweep.run import executor_factory

PROBABILITY_TOL = 1e-9


FAIRNESS_PRESOLVE = False
"""Whether HiGHS presolves the extensive form's fairness stage: no. Why: on ten
sampled stepping-forward-2017 futures HiGHS's presolve of that stage takes a
path that turns on the model's numbers at their 15th digit, and from most of
those paths the root LP does not finish in the stage's time (the engine's own
model and three of four copies perturbed by ±2e-15: no root bound in 110-212 s,
the stage ended at a 79% gap); without presolve the root LP gave its bound at
80-95 s and the stage was optimal (M 1.02085, better than the 1.02216 it
started from) within 150 s on every copy tried, and the whole study under a
600 s limit was optimal in 421 s alone and 425 s beside another solve (1.8%
with two test suites beside it). The five-future example's fairness stage pays
for it: 48 s presolved, 116 s not (its whole solve 218 -> 302 s).
benchmarks/README.md, "The ten-future fairness root"."""


@dataclass
class ScenarioSet:
    """The validated scenarios of an instance: each one's own instance."""

    base: Instance
    """The instance without its ``scenarios`` section."""
    items: list[Scenario]
    instances: list[Instance]
    here_and_now_years: int
    risk: str
    alpha: float | None

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.items]

    @property
    def probabilities(self) -> list[float]:
        return [s.probability for s in self.items]

    def rho(self, values: list[float]) -> float:
        """The risk measure of the scenarios' shortfalls ``values``."""
        return risk_measure(values, self.probabilities, self.risk, self.alpha)


def risk_measure(values: list[float], probs: list[float], risk: str,
                 alpha: float | None) -> float:
    """ρ of a distribution: expected value, worst case, or CVaR at ``alpha``
    (min over t of t + Σ π·max(0, W − t)/(1 − α); the minimum is at one of the W)."""
    if risk == "expected":
        return float(sum(p * v for p, v in zip(probs, values, strict=True)))
    if risk == "worst_case":
        return float(max(values))
    return float(min(t + sum(p * max(0.0, v - t) for p, v in zip(probs, values, strict=True))
                     / (1.0 - alpha) for t in values))


def _overrides(item: Scenario, sampled: bool = False) -> list[tuple[str, Override]]:
    """(location, override) of a scenario, ``set`` before ``scale``; a sampled
    scenario's overrides are located at the sample's key, which the user wrote."""
    out = []
    for op in ("set", "scale"):
        for key, value in getattr(item, op).items():
            where = (f"scenarios.sample.{op}.{key}" if sampled
                     else f"scenarios.list[{item.id}].{op}.{key}")
            out.append((where, Override(op, key, value)))
    return out


def _number_only(value: Any) -> bool:
    """A number, or a mapping (``{year: amount}``) or list (response breakpoints)
    whose leaves are all numbers."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, dict):
        return bool(value) and all(_number_only(v) for v in value.values())
    if isinstance(value, list):
        return bool(value) and all(_number_only(v) for v in value)
    return False


def _same_items(a: Instance, b: Instance) -> bool:
    def ids(inst: Instance) -> list[tuple[str, list[str]]]:
        return [(sec, [getattr(it, "id", None) or f"{it.unit}/{it.group}"
                       for it in getattr(inst, sec)]) for sec in LIST_SECTIONS]
    return ids(a) == ids(b)


def scenario_set(inst: Instance, only: str | None = None) -> ScenarioSet:
    """Validate ``inst.scenarios`` and build each scenario's instance.

    ``only``: keep that scenario alone (probability 1). Raises
    :class:`~optimiser.errors.InputError` with every problem, located as
    ``scenarios.list[ID].scale.KEY``."""
    sc = inst.scenarios
    if sc is None:
        raise InputError([Problem("scenarios", "the instance has no scenarios")])
    base = inst.model_copy(update={"scenarios": None})
    doc = base.model_dump(mode="json", exclude_unset=True)
    doc.pop("scenarios", None)
    source = SweepSource(inst.name, doc, Provenance(file=f"instance {inst.name}"))
    problems: list[Problem] = []
    sampled = sc.sample is not None
    if sampled:
        # Every key is checked once, here, with every range: all problems at once.
        problems += range_problems(sc.sample)
        for op, key, lo, _ in sample_keys(sc.sample):
            problems += [Problem(f"scenarios.sample.{op}.{key}", p.message)
                         for p in source.key_problems([Override(op, key, lo)])]
        if problems:  # nothing can be drawn from a bad range or for a bad key
            raise InputError(problems)
        items = draw(sc.sample)
    else:
        items = list(sc.list)
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            problems.append(Problem(f"scenarios.list[{item.id}].id",
                                    f"duplicate scenario id '{item.id}'"))
        seen.add(item.id)
    total = sum(s.probability for s in items)
    if only is None and abs(total - 1.0) > PROBABILITY_TOL:
        problems.append(Problem("scenarios.list", f"probabilities sum to {total:.12g}, not 1"))
    if sc.here_and_now_years > inst.horizon.years:
        problems.append(Problem("scenarios.here_and_now_years",
                                f"{sc.here_and_now_years} is more than the "
                                f"{inst.horizon.years} plan years"))
    if only is not None:
        chosen = [s for s in items if s.id == only]
        if not chosen:
            known = (f"s1 … s{len(items)}" if sampled and len(items) > 2
                     else ", ".join(s.id for s in items))
            raise InputError([Problem("--scenario", f"no scenario '{only}' (known: {known})")])
        items = [chosen[0].model_copy(update={"probability": 1.0})]
    instances = []
    # A sampled set's value problems are told once per place with how many draws
    # have it, not once per scenario.
    value_problems: dict[tuple[str, str], list[str]] = {}
    for item in items:
        pairs = _overrides(item, sampled)
        bad = False
        for where, o in pairs if not sampled else ():
            if o.kind == "set" and not _number_only(o.value):
                problems.append(Problem(where, "a scenario changes numbers only, got "
                                               f"{o.value!r}"))
                bad = True
            for p in source.key_problems([o]):
                problems.append(Problem(where, p.message))
                bad = True
        if bad:
            continue
        try:
            s_inst = source.instance([o for _, o in pairs])
        except InputError as exc:
            for p in exc.problems:
                loc = p.location
                for where, o in pairs:
                    loc = loc.replace(f"(from {o.spelled})", f"(from {where})")
                if sampled:
                    value_problems.setdefault((loc, p.message.split(", got ")[0]),
                                              []).append(f"{item.id}: {p.message}")
                else:
                    problems.append(Problem(f"scenario '{item.id}': {loc}", p.message))
            continue
        if not _same_items(base, s_inst):
            problems.append(Problem(f"scenarios.list[{item.id}]",
                                    "a scenario changes numbers only, never which items exist"))
            continue
        instances.append(s_inst)
    for (loc, _), hits in value_problems.items():
        more = f" (and {len(hits) - 1} more of the {len(items)} sampled scenarios)" \
            if len(hits) > 1 else ""
        problems.append(Problem(f"scenario '{hits[0].split(':')[0]}': {loc}",
                                hits[0].split(": ", 1)[1] + more))
    if problems:
        raise InputError(problems)
    return ScenarioSet(base, items, instances, sc.here_and_now_years, sc.risk, sc.cvar_alpha)


# ------------------------------------------------------------------ the model


@dataclass
class Extensive:
    """The extensive form: the model, each scenario's block and data."""

    m: pyo.ConcreteModel
    blocks: list[pyo.Block]
    data: list[ModelData]


def build_extensive(ss: ScenarioSet) -> Extensive:
    """One block per scenario, non-anticipativity, the risk measure, and the
    objectives the hand-over reads: ``weighted_shortfall`` (ρ), ``total_cost``
    (expected C), ``expected_shortfall`` (Σ π·W, with worst_case and cvar) and
    ``fairness`` (Σ π·M, when fair-share groups exist)."""
    with PauseGC():
        m = pyo.ConcreteModel(name=ss.base.name)
        m.scenario = pyo.Block(ss.ids)
        data = []
        blocks = []
        for sid, inst in zip(ss.ids, ss.instances, strict=True):
            d = model_data(inst)
            b = m.scenario[sid]
            build_into(b, d)
            for obj in b.component_objects(pyo.Objective, descend_into=False):
                obj.deactivate()
            data.append(d)
            blocks.append(b)
        probs = ss.probabilities
        ref = blocks[0]
        last = ss.base.horizon.base_year + ss.here_and_now_years
        links = []
        ref_now = list(decision_items(ref, last))
        for b in blocks[1:]:
            now = dict(decision_items(b, last))
            links += [(now[key], v) for key, v in ref_now if key in now]
        m.non_anticipativity = pyo.Constraint(range(len(links)),
                                              rule=lambda m, k: links[k][0] == links[k][1])
        W = [b.weighted_shortfall.expr for b in blocks]
        C = [b.total_cost.expr for b in blocks]
        expected_w = sum(p * w for p, w in zip(probs, W, strict=True))
        n = range(len(blocks))
        if ss.risk == "expected":
            rho = expected_w
        elif ss.risk == "worst_case":
            m.t = pyo.Var(domain=pyo.NonNegativeReals, doc="the worst scenario's W")
            m.worst_case_bound = pyo.Constraint(n, rule=lambda m, k: m.t >= W[k])
            rho = m.t
        else:
            m.t = pyo.Var(doc="value at risk of W")
            m.z = pyo.Var(n, domain=pyo.NonNegativeReals, doc="W above the value at risk")
            m.cvar_excess = pyo.Constraint(n, rule=lambda m, k: m.z[k] >= W[k] - m.t)
            rho = m.t + sum(p * m.z[k] for k, p in zip(n, probs, strict=True)) / (1 - ss.alpha)
        m.weighted_shortfall = pyo.Objective(expr=rho + 0.0, sense=pyo.minimize)
        m.total_cost = pyo.Objective(expr=sum(p * c for p, c in zip(probs, C, strict=True))
                                     + 0.0, sense=pyo.minimize)
        if ss.risk != "expected":
            m.expected_shortfall = pyo.Objective(expr=expected_w + 0.0, sense=pyo.minimize)
        fair = [(p, b.fairness.expr) for p, b in zip(probs, blocks, strict=True)
                if hasattr(b, "fairness")]
        if fair:
            m.fairness = pyo.Objective(expr=sum(p * e for p, e in fair), sense=pyo.minimize)
    return Extensive(m, blocks, data)


# ------------------------------------------------------------------ solving


@dataclass
class Stochastic:
    """RP, WS, EEV, EVPI, VSS (W units, for ρ), and the scenarios infeasible
    under the reference plan's here-and-now decisions."""

    RP: float | None
    WS: float | None
    EEV: float | None
    EVPI: float | None
    VSS: float | None
    EEV_infeasible: list[str] = field(default_factory=list)
    WS_by_scenario: dict[str, float | None] = field(default_factory=dict)
    EEV_by_scenario: dict[str, float | None] = field(default_factory=dict)
    seconds: float = 0.0
    note: str | None = None
    """Why a figure is missing, for the solve's notes (not in ``summary.json``'s
    ``stochastic``, whose fields SPEC §4 lists)."""

    def as_dict(self) -> dict[str, Any]:
        def r(v: float | None) -> float | None:
            return None if v is None else clean(v)
        return {"RP": r(self.RP), "WS": r(self.WS), "EEV": r(self.EEV), "EVPI": r(self.EVPI),
                "VSS": r(self.VSS), "EEV_infeasible": self.EEV_infeasible,
                "WS_by_scenario": {k: r(v) for k, v in self.WS_by_scenario.items()},
                "EEV_by_scenario": {k: r(v) for k, v in self.EEV_by_scenario.items()},
                "seconds": round(self.seconds, 6)}


def decision_items(b: pyo.Block, last: int | None = None
                   ) -> Iterator[tuple[tuple[str, Any], Any]]:
    """((component, index), variable) of every lever decision of a model or block,
    in the model's order; with ``last``, only those of the years up to it (the
    year is each index's last element)."""
    for comp in lever_decisions(b):
        for idx, v in comp.items():
            if last is None or (idx[-1] if isinstance(idx, tuple) else idx) <= last:
                yield (comp.local_name, idx), v


def decision_values(blocks_or_model, x_of) -> dict[tuple[str, Any], float]:
    """(component, index) -> value of every lever decision of a model or block."""
    return {key: x_of(v) for key, v in decision_items(blocks_or_model)}


def hold_decisions(m: pyo.Block, fixed: dict[tuple[str, Any], float],
                   last_year: int) -> bool:
    """Fix the lever decisions of the years up to ``last_year`` at ``fixed``'s
    values; False (nothing fixed for sure) when one lies outside its variable's
    bounds in this model (a cap this scenario has lower), beyond a 1e-6 tolerance."""
    for key, v in decision_items(m, last_year):
        if key in fixed:
            value = fixed[key]
            lo, hi = v.bounds
            tol = 1e-6 * max(1.0, abs(value))
            if (lo is not None and value < lo - tol) or (hi is not None
                                                         and value > hi + tol):
                return False
            v.fix(min(max(value, lo if lo is not None else value),
                      hi if hi is not None else value), skip_validation=True)
    return True


def shortfall_only(inst: Instance, opts: dict[str, Any],
                   fixed: dict[tuple[str, Any], float] | None = None,
                   last_year: int | None = None) -> float | None:
    """W of ``inst`` solved alone, shortfall stage only; with ``fixed``, its lever
    decisions of the years up to ``last_year`` held at those values. None when
    no plan exists (or none was found)."""
    progress.stage("shortfall")  # in this process (workers 1): after the reference solve's
    d = model_data(inst)
    m = build_model(d)
    if m.ledger.infeasible:
        return None
    if fixed and not hold_decisions(m, fixed, last_year):
        return None  # a held decision is outside this scenario's cap
    try:
        hm = HighsModel(m)
    except InfeasibleConstraintException:
        return None  # the held decisions already break a row (a budget): no plan
    hm.set_options({**opts, "verbose": False})
    start = hm.first_plan(hm.c_W, opts["time_limit"])
    rec = hm.run(hm.c_W, opts["time_limit"], start=start)
    return None if rec["x"] is None else float(hm.c_W @ rec["x"])


def reference_decisions(inst: Instance, opts: dict[str, Any]
                        ) -> dict[tuple[str, Any], float] | None:
    """The lever decisions of the reference scenario solved alone with all its
    stages (None without a plan): what EEV holds the other scenarios to."""
    ref = solve(inst, SolveOptions(time_limit=opts["time_limit"], mip_gap=opts["mip_gap"],
                                   threads=opts["threads"], seed=opts["seed"],
                                   mode=opts["mode"], explain=False))
    if not ref.has_plan:
        return None
    return decision_values(ref.model, lambda v: float(v.value or 0.0))


def stochastic_figures(ss: ScenarioSet, rp: float, opts: dict[str, Any], workers: int = 1,
                       client: Any = None) -> Stochastic:
    """WS and EEV by independent solves — each scenario alone, the reference
    scenario's full plan, then each scenario held to its here-and-now decisions —
    and EVPI, VSS. The solves run on the sweep's executors: in this process
    (``workers`` 1), on local worker processes, or on a Dask cluster (``client``)."""
    t0 = time.perf_counter()
    n = len(ss.ids)
    parallel = client is not None or workers > 1
    job = {**opts, "threads": 1 if parallel and opts["threads"] is None else opts["threads"]}
    executor = executor_factory(workers, client, n + 1)()
    done = progress.counter("wait-and-see and EEV solves", 2 * n + 1)
    progress.stage("shortfall")

    def submit(*args: Any) -> Any:
        # Counted as each finishes (in this process: before the next starts).
        future = executor.submit(*args)
        future.add_done_callback(done)
        return future

    try:
        ws_f = [submit(shortfall_only, i, job) for i in ss.instances]
        fixed = submit(reference_decisions, ss.instances[0], job).result()
        last = ss.base.horizon.base_year + ss.here_and_now_years
        eev_f = ([submit(shortfall_only, i, job, fixed, last) for i in ss.instances]
                 if fixed is not None else [])
        ws = {sid: f.result() for sid, f in zip(ss.ids, ws_f, strict=True)}
        # Without the reference plan (its solve found none in its share of the
        # time) there is nothing to hold the scenarios to: no EEV, and no
        # scenario is "infeasible under the reference plan".
        eev: dict[str, float | None] = ({sid: f.result()
                                         for sid, f in zip(ss.ids, eev_f, strict=True)}
                                        if fixed is not None else {})
        note = (None if fixed is not None else
                f"EEV and VSS were not computed: the reference scenario '{ss.ids[0]}' solved "
                "alone found no plan within its share of the time limit (a longer "
                "--time-limit gives them)")
    finally:
        if client is None:
            executor.shutdown(wait=True)
    ws_ok = all(v is not None for v in ws.values())
    WS = ss.rho([ws[s] for s in ss.ids]) if ws_ok else None
    infeasible = [s for s in ss.ids if eev.get(s) is None] if fixed is not None else []
    EEV = None if infeasible or fixed is None else ss.rho([eev[s] for s in ss.ids])
    return Stochastic(RP=rp, WS=WS, EEV=EEV, EVPI=None if WS is None else rp - WS,
                      VSS=None if EEV is None else EEV - rp, EEV_infeasible=infeasible,
                      WS_by_scenario=ws, EEV_by_scenario=eev,
                      seconds=time.perf_counter() - t0, note=note)


def _extensive_plan(ss: ScenarioSet) -> Built:
    ef = build_extensive(ss)
    return Built(ef.m, list(zip(ef.blocks, ef.data, ss.probabilities, strict=True)))


def no_plan_messages(futures) -> list[str]:
    """One message a row for futures whose rows fail on data alone: ``futures``
    gives (scenario id, its ``ledger.infeasible`` pairs of row and reason). The
    extensive form and the ph engine report them in these words."""
    return [f"scenario '{sid}': {row}: {why}" for sid, rows in futures for row, why in rows]


def solve_scenarios(inst: Instance, options: SolveOptions | None = None,
                    timings: dict[str, float] | None = None, figures: bool = True,
                    workers: int = 1, client: Any = None) -> Result:
    """Solve the stochastic plan of ``inst`` (which has ``scenarios``): the
    extensive form through the deterministic stages, tables with a ``scenario``
    column, each scenario's W and C, and (``figures``) RP, WS, EEV, EVPI, VSS,
    whose independent solves run on ``workers`` local processes or the Dask
    ``client`` (:func:`stochastic_figures`). The time limit holds for all of it,
    from ``options.started`` (the command's start) as :func:`solve`'s does.
    ``options.progress`` is told where it is: the extensive form's stages, then
    the independent solves done (:mod:`optimiser.engine.progress`)."""
    opts = effective_options(inst, options)
    with progress.reporting(*progress_args(options, opts)):
        return _solve_scenarios(inst, options, opts, timings, figures, workers, client)


def _solve_scenarios(inst: Instance, options: SolveOptions | None, opts: dict[str, Any],
                     timings: dict[str, float] | None, figures: bool, workers: int,
                     client: Any) -> Result:
    timings = dict(timings or {})
    t0 = time.perf_counter()
    budget = TimeBudget.of_command(options, opts, t0)
    progress.stage("building")
    progress.phase("extensive form")
    ss = scenario_set(inst)
    models = Models(lambda: _extensive_plan(ss))
    timings["build"] = time.perf_counter() - t0
    base = result_base(inst, opts)
    infeasible = no_plan_messages((sid, b.ledger.infeasible)
                                  for sid, (b, _d, _p) in zip(ss.ids, models.built.blocks,
                                                              strict=True))
    if infeasible:
        return Result(status="infeasible", weighted_shortfall=None, total_cost=None,
                      mip_gap=None, solve_seconds=0.0, timings=timings,
                      messages=infeasible, **base)

    def hand_over(m: pyo.ConcreteModel) -> HighsModel:
        # The deterministic rule for HiGHS's root sub-MIP heuristics (off when
        # every integer is on/off) holds for the extensive form too. It was an
        # exception (on) while the stages started from no plan (five
        # stepping-forward-2017 futures, 120 s of stage 1: gap 1.48% off, 0.84%
        # on); from the rounded relaxation's start, on the model with placement
        # and run-out, the heuristics are what kept the stages from their proofs:
        # stage 1 45 s on, 15 s off; fairness 2.7% after 250 s on, optimal at
        # 143 s off; cost 1.3% after 250 s on, optimal at 80 s off
        # (benchmarks/README.md, "Speed after placement and run-out").
        hm = HighsModel(m)
        hm.set_options(opts)
        hm.fairness_presolve = FAIRNESS_PRESOLVE
        return hm

    solved = solve_model(models, hand_over, budget, inst.objective, opts["mode"], timings, base)
    if isinstance(solved, Result):
        return solved
    hm, run = solved.hm, solved.run
    stages, messages, final = run.stages, run.messages, run.final
    solve_seconds = timings["solve"]
    if final["x"] is None:
        return Result(status=final["status"], weighted_shortfall=None, total_cost=None,
                      mip_gap=None, solve_seconds=solve_seconds, stages=stages,
                      timings=timings, model_size=hm.size(),
                      messages=[no_plan_reason(final, " in some scenario"), *messages], **base)
    t0 = time.perf_counter()
    x = final["x"]
    load_solution(hm, x)
    frames: dict[str, list[pd.DataFrame]] = {}
    per_scenario = []
    fair_groups = {}
    for sid, (b, d, p) in zip(ss.ids, solved.built.blocks, strict=True):
        settle_shortfalls(b, d)
        messages += [f"scenario '{sid}': {note}"
                     for note in settle_deployment(b, d, hm.threads, solved.budget.deadline)]
        for name, frame in extract_tables(b, d).items():
            frames.setdefault(name, []).append(frame.assign(scenario=sid)[
                ["scenario", *frame.columns]])
        w, c = pyo.value(b.weighted_shortfall.expr), pyo.value(b.total_cost.expr)
        per_scenario.append({"id": sid, "probability": p, "weighted_shortfall": clean(w),
                             "total_cost": clean(c), "status": final["status"]})
        if hasattr(b, "fairness"):
            rates = member_rates(b, d)
            fair_groups[sid] = fairness_summary(rates, rates)
    tables = {name: pd.concat(fs, ignore_index=True) for name, fs in frames.items()}
    timings["extract"] = time.perf_counter() - t0
    gaps = [s["mip_gap"] for s in stages if s["mip_gap"] is not None]
    if final["status"] == "feasible":
        messages.append("a limit was reached: the plan is feasible but not proven optimal")
    rho = float(hm.c_W @ x)
    result = Result(status=final["status"], weighted_shortfall=clean(rho),
                    total_cost=clean(float(hm.c_C @ x)), mip_gap=max(gaps) if gaps else None,
                    solve_seconds=solve_seconds, stages=stages, tables=tables, timings=timings,
                    model_size=hm.size(), messages=messages, **base)
    result.scenarios = {"risk": ss.risk, "here_and_now_years": ss.here_and_now_years,
                        "cvar_alpha": ss.alpha, "list": per_scenario}
    if fair_groups:
        result.fairness = {"by_scenario": fair_groups}
    if opts["explain"]:
        result.messages.append("marginal values are not computed for a stochastic plan")
    if figures:
        # The 2n + 1 independent solves share what is left of the time limit
        # (less the write's time), in rounds of ``workers`` at a time; with
        # nothing left they are skipped.
        left = solved.budget.explanation_left()
        rounds = -(-(2 * len(ss.ids) + 1) // max(1, workers))
        if left is not None and left / rounds < 1.0:
            result.messages.append("RP, WS, EEV, EVPI and VSS were not computed: the time "
                                   "limit was used by the plan")
        else:
            t0 = time.perf_counter()
            figure_opts = opts if left is None else {**opts, "time_limit": left / rounds}
            figures_got = stochastic_figures(ss, rho, figure_opts, workers, client)
            result.stochastic = figures_got.as_dict()
            if figures_got.note:
                result.messages.append(figures_got.note)
            timings["stochastic"] = time.perf_counter() - t0
    result.model = solved.built.model
    return result


def here_and_now(result: Result, ss: ScenarioSet) -> pd.DataFrame:
    """The decisions taken now (the reference scenario's rows of the here-and-now
    years): training places, campaign spend, retention funding, recruits."""
    last = ss.base.horizon.base_year + ss.here_and_now_years
    ref = ss.ids[0]
    rows = []
    for table, column in lever_decided():
        frame = result.tables.get(table)
        if frame is None or not len(frame):
            continue
        sel = frame[(frame["scenario"] == ref) & (frame["year"].astype(int) <= last)]
        item = sel.columns[1]
        for r in sel.itertuples(index=False):
            rows.append({"lever": table, "item": getattr(r, item), "year": int(r.year),
                         column: getattr(r, column)})
    return pd.DataFrame(rows)


__all__ = ["ScenarioSet", "Stochastic", "build_extensive", "here_and_now", "risk_measure",
           "scenario_set", "solve_scenarios", "stochastic_figures"]


# ------------------------------------------------------------------ files

MAX_SCENARIO_FILE_BYTES = 10 * 2**20
"""Largest scenarios file read (YAML or CSV)."""


def load_scenarios_file(path: Path) -> Any:
    """The ``scenarios`` section in a file of its own: YAML (the section's mapping,
    or a document with a ``scenarios`` key; ``list`` may name a CSV file beside
    it) or a CSV file of rows (the ``list``, with the defaults). Raises
    :class:`~optimiser.errors.InputError`."""
    path = Path(path)

    def read(p: Path) -> str:
        if not p.is_file():
            raise InputError([Problem(str(p), "no such file")])
        if p.stat().st_size > MAX_SCENARIO_FILE_BYTES:
            raise InputError([Problem(str(p), "larger than 10 MiB")])
        return p.read_text(encoding="utf-8")

    def csv_list(p: Path) -> list[dict]:
        rows = list(csv.DictReader(io.StringIO(read(p))))
        items, problems = scenarios_from_rows(rows, p.name)
        if problems:
            raise InputError(problems)
        return items

    if path.suffix.lower() == ".csv":
        doc: Any = {"list": csv_list(path)}
    else:
        doc = parse_yaml(read(path))
        if isinstance(doc, dict) and "scenarios" in doc:
            doc = doc["scenarios"]
        if isinstance(doc, dict) and isinstance(doc.get("list"), str):
            doc = {**doc, "list": csv_list(path.parent / doc["list"])}
    try:
        return Scenarios.model_validate(doc)
    except Exception as exc:  # pydantic's ValidationError: located like the loader's
        errors = getattr(exc, "errors", None)
        if errors is None:
            raise
        raise InputError([Problem(f"{path.name}: scenarios."
                                  + ".".join(str(p) for p in e["loc"]), e["msg"])
                          for e in errors()]) from None
