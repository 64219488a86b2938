"""How good is the here-and-now plan out of sample? (issue 20)

A stochastic plan is optimal for the scenarios it was solved on; a sampled set
is itself random. The plan's first-year decisions are therefore held fixed and
scored on M fresh futures drawn like the study's own (same keys and ranges,
another seed): each future alone minimises its shortfall W_j with its later
decisions, and the mean of the W_j estimates the plan's expected shortfall,
with a t-based 95% confidence interval

    mean ± t(0.975, M − 1) · s / √M        s: the sample standard deviation.

mpi-sppy's confidence-interval tools (``mpisppy.confidence_intervals``: MMW,
sequential sampling) want a scenario module with its own sampler; this study's
sampler is SPEC §2.13's, so the evaluation is done here directly, with the same
independent solves as WS and EEV (:func:`optimiser.engine.scenarios.shortfall_only`),
in this process, on local workers or on a Dask cluster.
"""

from __future__ import annotations

import math
import time
from typing import Any

from optimiser.engine.scenarios import decision_values, scenario_set, shortfall_only
from optimiser.errors import InputError, Problem
from optimiser.instance.schema import Instance
from optimiser.sweep.run import executor_factory


def fresh_sample(inst: Instance, count: int, seed: int) -> Instance:
    """``inst`` with its sampled scenarios drawn again: ``count`` futures from ``seed``."""
    sc = inst.scenarios
    if sc is None or sc.sample is None:
        raise InputError([Problem("--confidence", "needs a sampled scenario set "
                                  "(scenarios.sample): fresh futures are drawn like it")])
    sample = sc.sample.model_copy(update={"count": count, "seed": seed})
    return inst.model_copy(update={"scenarios": sc.model_copy(update={"sample": sample})})


def plan_decisions(result: Any) -> dict[tuple[str, Any], float]:
    """The here-and-now decisions of a stochastic plan: the reference scenario's
    block of the extensive form, or the ph engine's consensus."""
    if result.decisions is not None:
        return result.decisions
    ref = result.model.scenario[result.reference_scenario]
    return decision_values(ref, lambda v: float(v.value or 0.0))


def out_of_sample(inst: Instance, fixed: dict[tuple[str, Any], float], count: int, seed: int,
                  opts: dict[str, Any], workers: int = 1, client: Any = None,
                  deadline: float | None = None) -> dict[str, Any]:
    """Hold ``fixed`` in ``count`` fresh futures (``seed``); their shortfalls' mean
    and 95% confidence interval. A future where the plan's decisions leave no plan
    is named in ``infeasible``, and the mean and interval are then None."""
    from scipy import stats

    t0 = time.perf_counter()
    ss = scenario_set(fresh_sample(inst, count, seed))
    last = ss.base.horizon.base_year + ss.here_and_now_years
    parallel = client is not None or workers > 1
    rounds = -(-count // max(1, workers))
    left = None if deadline is None else max(deadline - time.perf_counter(), 1e-3)
    job = {**opts, "threads": 1 if parallel and opts["threads"] is None else opts["threads"],
           "time_limit": None if left is None else left / rounds}
    executor = executor_factory(workers, client, count)()
    try:
        futures = [executor.submit(shortfall_only, i, job, fixed, last) for i in ss.instances]
        values = [f.result() for f in futures]
    finally:
        if client is None:
            executor.shutdown(wait=True)
    infeasible = [sid for sid, v in zip(ss.ids, values, strict=True) if v is None]
    out: dict[str, Any] = {"seed": seed, "count": count, "mean": None, "std": None,
                           "ci95": None, "infeasible": infeasible,
                           "seconds": round(time.perf_counter() - t0, 6)}
    if infeasible:
        return out
    mean = math.fsum(values) / count
    std = (math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (count - 1))
           if count > 1 else 0.0)
    half = float(stats.t.ppf(0.975, count - 1)) * std / math.sqrt(count) if count > 1 \
        else math.inf
    out.update(mean=round(mean, 6), std=round(std, 6),
               ci95=[round(mean - half, 6), round(mean + half, 6)] if count > 1 else None)
    return out


__all__ = ["fresh_sample", "out_of_sample", "plan_decisions"]
