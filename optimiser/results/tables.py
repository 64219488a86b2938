"""Results (SPEC §4): the plan as pandas DataFrames, and writing them atomically.

:func:`extract_tables` reads the solved model's variable values into one tidy
DataFrame per table; :class:`Result` carries them with the summary values and
writes the results directory so that a failed run never leaves a half-written
one. Numbers are rounded to 6 decimals (and ``-0`` to ``0``) so that solver
noise never reaches a planner's table and the same plan gives the same bytes.
"""

from __future__ import annotations

import json
import math
import platform
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyomo.environ as pyo

from formulations import lever_flows, lever_names, lever_tables
from formulations.budgets import per_year_limit
from formulations.data import ModelData
from formulations.posts import vacancies
from formulations.targets import scope_label
from optimiser.engine.highs import highs_version
from optimiser.engine.highs_model import GOOD_PLAN_GAPS
from optimiser.instance.schema import LEVER_SECTIONS
from optimiser.results.atomic import Marked, atomic_directory
from optimiser.results.format import COLUMNS, DECIMALS, STOCK_FLOWS, TABLES, clean
from optimiser.results.overview import spend_by_lever

RESULTS_FOLDER = Marked("wfopt solve", later=frozenset({"report.html"}))
"""What a results directory holds: what :meth:`Result.write` wrote there (tables,
summary, ``results.xlsx``), listed in its marker (:data:`optimiser.results.atomic.MARKER`),
and the ``report.html`` that ``wfopt report`` adds. An existing folder holding
anything else, or without the marker, is not replaced: a planner's own ``.csv``
files look like results but are not."""

RESULTS_WORKBOOK = "results.xlsx"
"""The workbook ``wfopt solve --xlsx`` adds to a results directory."""


def _val(v) -> float:
    return clean(v.value)


def stock_flows(m: pyo.Block) -> dict[str, dict[tuple[str, str, int], float]]:
    """flow -> (unit, group, year) -> FTE of the plan, read from the ledger the
    stock balance was built from (a flow out of a group counts as positive)."""
    flows: dict[str, dict[tuple[str, str, int], float]] = defaultdict(
        lambda: defaultdict(float))
    for key, records in m.ledger.inflow.items():
        for coef, var, flow in records:
            flows[flow][key] += abs(coef) * (var.value or 0.0)
    return flows


def extract_tables(m: pyo.ConcreteModel, d: ModelData) -> dict[str, pd.DataFrame]:
    """One DataFrame per result table of SPEC §4 from the solved model."""
    inst = d.inst
    tables: dict[str, pd.DataFrame] = {}
    flows = stock_flows(m)
    # A lever added after the shipped ones shows its flows after the known columns.
    extra = [f for f in lever_flows() if f not in STOCK_FLOWS]

    def posts_and_vacancies(u: str, g: str, y: int, fte: float) -> list[float]:
        posts = d.posts.get((u, g, y))
        if posts is None:
            return [math.nan, math.nan]
        return [clean(posts), clean(vacancies(d, u, g, y, clean(fte)))]

    rows = []
    for u in d.units:
        for g in d.groups:
            rows.append([u, d.region_of[u], g, d.base, clean(d.S0[u, g])] + [math.nan] * 7
                        + posts_and_vacancies(u, g, d.base, d.S0[u, g])
                        + [math.nan] * len(extra))
            prev = d.S0[u, g]
            for y in d.years:
                fte = m.S[u, g, y].value or 0.0
                rows.append([u, d.region_of[u], g, y, clean(fte), clean(d.lam[u, g] * prev)]
                            + [clean(flows[k].get((u, g, y), 0.0)) for k in STOCK_FLOWS]
                            + [clean(d.J[u, g])] + posts_and_vacancies(u, g, y, fte)
                            + [clean(flows[k].get((u, g, y), 0.0)) for k in extra])
                prev = fte
    tables["workforce"] = pd.DataFrame(rows, columns=COLUMNS["workforce"] + extra)

    rows = []
    for t in inst.targets:
        for y in sorted(t.required):
            achieved = pyo.value(m.achieved[t.id, y])
            rows.append([t.id, t.label or "", t.service or "", scope_label(t), y,
                         clean(t.required[y]), clean(achieved), _val(m.SF[t.id, y]),
                         clean(t.priority), t.fair_share or ""])
    tables["targets"] = pd.DataFrame(rows, columns=COLUMNS["targets"])

    tables.update(lever_tables(m, d))

    limits = per_year_limit(d)
    totals = {b.id: b.total for b in inst.budgets}
    rows = []
    for k in d.pots:
        spent_total = 0.0
        for y in d.years:
            spent = pyo.value(m.pot_spend[k, y])
            spent_total += spent
            rows.append([k, str(y), clean(spent), limits.get((k, y), math.nan)])
        total = totals.get(k)
        rows.append([k, "total", clean(spent_total), math.nan if total is None else total])
    tables["budget"] = pd.DataFrame(rows, columns=COLUMNS["budget"])
    mark_run_out(tables, d)
    return tables


def mark_run_out(tables: dict[str, pd.DataFrame], d: ModelData) -> None:
    """With run-out years (SPEC §2.15), a column ``run_out`` after ``year`` in
    every table that has one: true in the run-out years' rows (a budget's
    ``total`` row covers both and is false). Without them the tables are as
    before, so that ``horizon.run_out: 0`` gives today's files byte for byte."""
    if not d.run_out_years:
        return
    run_out = {str(y) for y in d.run_out_years}
    for frame in tables.values():
        if "year" in frame.columns and "run_out" not in frame.columns:
            frame.insert(frame.columns.get_loc("year") + 1, "run_out",
                         frame["year"].astype(str).isin(run_out))


def run_out_split(tables: dict[str, pd.DataFrame],
                  probability: dict[str, float] | None = None) -> dict[str, float]:
    """W and C of the plan years and of the run-out years apart (SPEC §2.15), from
    the tables: the targets' priority × shortfall and the levers' cost. With
    scenarios (``probability`` by scenario id) each is the expected value."""
    out = {"weighted_shortfall_plan": 0.0, "weighted_shortfall_run_out": 0.0,
           "total_cost_plan": 0.0, "total_cost_run_out": 0.0}

    def add(frame: pd.DataFrame | None, key: str, values) -> None:
        if frame is None or not len(frame):
            return
        weight = (frame["scenario"].map(probability) if probability and "scenario" in frame
                  else 1.0)
        run_out = frame["run_out"].astype(bool) if "run_out" in frame else False
        amounts = values(frame) * weight
        out[key + "_run_out"] += float(amounts[run_out].sum()) if "run_out" in frame else 0.0
        out[key + "_plan"] += float(amounts[~run_out].sum()) if "run_out" in frame \
            else float(amounts.sum())

    add(tables.get("targets"), "weighted_shortfall", lambda f: f["priority"] * f["shortfall"])
    for name in lever_names():
        add(tables.get(name), "total_cost", lambda f: f["cost"])
    return {k: clean(v) for k, v in out.items()}


GOOD_PLAN_STAGES = {"weighted_shortfall": ("shortfall", "weighted"), "total_cost": ("cost",)}
"""Which stage's "good plan early" seconds ``summary.json`` reports for W and C."""


def good_plan_summary(stages: list[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """``summary.json``'s ``good_plan``: for W and for C, the seconds from the
    command's start to the first plan of its stage within 1% of the stage's
    final bound and within the MIP gap (the stage records' ``within_*_seconds``,
    from HiGHS's improving-solution callback); empty without those stages."""
    out = {}
    for objective, names in GOOD_PLAN_STAGES.items():
        for st in stages:
            if st.get("stage") in names and "within_1pct_seconds" in st:
                out[objective] = {k: st[k] for k in GOOD_PLAN_GAPS}
                break
    return out


def run_out_info(inst) -> dict[str, Any]:
    """The instance's run-out years, resolved (``auto``) with the reason, for
    :attr:`Result.run_out`."""
    years, why = inst.run_out()
    return {"years": years, "why": why, "run_out_years": inst.run_out_years}


def empty_tables() -> dict[str, pd.DataFrame]:
    return {name: pd.DataFrame(columns=cols) for name, cols in COLUMNS.items()}


def versions() -> dict[str, str]:
    import pydantic
    from pyomo.version import version as pyomo_version

    import optimiser
    return {
        "wfopt": optimiser.__version__,
        "python": platform.python_version(),
        "pyomo": pyomo_version,
        "highs": highs_version(),
        "pydantic": pydantic.VERSION,
        "pandas": pd.__version__,
    }


NAMED = {"staff_groups": "name", "units": "name", **dict.fromkeys(LEVER_SECTIONS, "name"),
         "budgets": "name", "targets": "label"}
"""Instance sections whose items carry a readable name, and the field holding it."""


def instance_names(inst) -> dict[str, dict[str, str]]:
    """{section: {id: name}} of an :class:`~optimiser.instance.schema.Instance`, for the
    summary's ``names``, so that a report made from a results folder alone can
    name groups, units and levers (items without a name are left out)."""
    out: dict[str, dict[str, str]] = {}
    for section, field_name in NAMED.items():
        found = {item.id: getattr(item, field_name, None) for item in getattr(inst, section)}
        out[section] = {k: v for k, v in found.items() if v}
    return out


@dataclass
class Result:
    """The outcome of a solve: status, W, C, the plan's tables and timings."""

    instance: str
    status: str
    """``optimal``, ``feasible``, ``infeasible``, ``no_solution`` or ``error``."""
    objective_mode: str
    weighted_shortfall: float | None
    """W of the reported plan (FTE), None without a plan."""
    total_cost: float | None
    """C of the reported plan (currency), None without a plan."""
    mip_gap: float | None
    """Largest relative MIP gap over the stages."""
    solve_seconds: float
    """HiGHS's own time over all stages."""
    stages: list[dict[str, Any]] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=empty_tables)
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per phase: load, validate, build, handover, solve, extract, write."""
    model_size: dict[str, int] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    """Plain-language notes: why there is no plan, limits hit."""
    currency: str = "GBP"
    options: dict[str, Any] = field(default_factory=dict)
    marginal_values: pd.DataFrame | None = None
    """What one more unit of each budget and binding cap is worth around the plan,
    integers fixed (:mod:`optimiser.explain.marginals`); written as ``marginal_values.csv``."""
    explanations: list[str] = field(default_factory=list)
    """Why the shortfall remains: what binds, in plain language
    (:mod:`optimiser.explain.diagnose`)."""
    conflicts: list[str] = field(default_factory=list)
    """Without a plan: the conflicting constraints in the instance's words."""
    names: dict[str, dict[str, str]] = field(default_factory=dict)
    """Readable names of the instance's items ({section: {id: name}})."""
    placement: dict[str, dict[str, dict[str, Any]]] | None = None
    """Where new staff go (SPEC §2.14): by lever section and id, its rule and the
    fallbacks taken (``formulations.lever_placements``)."""
    scenarios: dict[str, Any] | None = None
    """With scenarios: the risk measure, here-and-now years and each scenario's
    W and C (:mod:`optimiser.engine.scenarios`)."""
    stochastic: dict[str, Any] | None = None
    """With scenarios: RP, WS, EEV, EVPI, VSS and the scenarios infeasible under
    the reference plan's decisions."""
    fairness: dict[str, Any] | None = None
    """With fair-share groups: the measure M and each group's shortfall rates per
    year, after and before the fairness stage (:mod:`formulations.fairness`)."""
    run_out: dict[str, Any] | None = None
    """The run-out years of SPEC §2.15: ``{"years": R, "why": ...,
    "run_out_years": [...]}`` (:func:`run_out_info`); None for an old result."""
    decisions: dict[tuple[str, Any], float] | None = None
    """The ph engine's here-and-now decisions ({(variable, index): value}); the
    extensive form's are read from its reference block in ``model``."""
    model: Any = field(default=None, repr=False, compare=False)
    """The solved Pyomo model of a plan (its values loaded), for callers that look
    further (the marginal values' tests, a stochastic plan's reference decisions);
    ``None`` without a plan, or once dropped (a sweep point's result travels
    between processes without it)."""

    @property
    def has_plan(self) -> bool:
        return self.status in ("optimal", "feasible")

    @property
    def reference_scenario(self) -> str | None:
        """A stochastic plan's reference scenario (SPEC §2.13: the first listed or
        sampled), whose lines the summary shows; None without scenarios."""
        return self.scenarios["list"][0]["id"] if self.scenarios else None

    def summary(self) -> dict[str, Any]:
        """The content of ``summary.json``."""
        return {
            "instance": self.instance,
            "status": self.status,
            "objective_mode": self.objective_mode,
            "weighted_shortfall": self.weighted_shortfall,
            "total_cost": self.total_cost,
            "mip_gap": self.mip_gap,
            "solve_seconds": round(self.solve_seconds, 6),
            "stages": self.stages,
            **({"good_plan": good} if (good := good_plan_summary(self.stages)) else {}),
            "timings": {k: round(v, 6) for k, v in self.timings.items()},
            "model_size": self.model_size,
            "options": self.options,
            "messages": self.messages,
            "explanations": self.explanations,
            "conflicts": self.conflicts,
            **({"placement": self.placement} if self.placement is not None else {}),
            **({"fairness": self.fairness} if self.fairness is not None else {}),
            **({"risk": self.scenarios["risk"],
                "here_and_now_years": self.scenarios["here_and_now_years"],
                "scenarios": self.scenarios["list"]} if self.scenarios is not None else {}),
            **({"stochastic": self.stochastic} if self.stochastic is not None else {}),
            **self.run_out_summary(),
            "currency": self.currency,
            "names": self.names,
            "versions": versions(),
        }

    def run_out_summary(self) -> dict[str, Any]:
        """``summary.json``'s run-out entries: ``run_out`` (R and why),
        ``run_out_years`` and, with a plan, W and C of the plan years and of the
        run-out apart (with scenarios, expected over them)."""
        if self.run_out is None:
            return {}
        out: dict[str, Any] = {
            "run_out": {"years": self.run_out["years"], "why": self.run_out["why"]},
            "run_out_years": self.run_out["run_out_years"]}
        if self.has_plan:
            probability = ({s["id"]: s["probability"] for s in self.scenarios["list"]}
                           if self.scenarios else None)
            out.update(run_out_split(self.tables, probability))
        return out

    def spend_by_lever(self) -> dict[str, float]:
        """Each lever's spend over the plan, in registry order."""
        return spend_by_lever(self.tables)

    def report(self, path: str | Path) -> Path:
        """Write the plan's self-contained HTML report to ``path``
        (:func:`optimiser.report.page.write_report`)."""
        from optimiser.report.page import ResultsView, write_report

        return write_report(ResultsView.from_result(self), path)

    def write(self, out_dir: str | Path, xlsx: bool = False) -> Path:
        """Write ``summary.json`` and every table into ``out_dir`` atomically:
        everything goes to a temporary sibling folder that replaces ``out_dir``
        only once complete. An existing ``out_dir`` that an earlier
        ``Result.write`` did not write (:data:`RESULTS_FOLDER`), or holding the
        current folder, is left alone: :class:`~optimiser.results.atomic.OutputFolderError`.
        A failed write (a full disk: ``OSError``) leaves no temporary folder and
        the previous ``out_dir`` as it was.

        ``timings["write"]`` becomes the seconds spent writing the tables. It is
        taken just before ``summary.json`` is written, so that the summary carries
        it; the summary itself (a few kB) and the final rename are not counted.
        ``xlsx`` adds ``results.xlsx``, made from the files just written, so that
        it is the workbook ``wfopt export`` makes of the directory.
        """
        t0 = time.perf_counter()
        with atomic_directory(out_dir, RESULTS_FOLDER) as tmp:
            write_tables(self, tmp)
            self.timings["write"] = time.perf_counter() - t0
            write_summary(self, tmp)
            if xlsx:
                from optimiser.results.workbook import write_results_workbook

                write_results_workbook(tmp, tmp / RESULTS_WORKBOOK)
        return Path(out_dir).resolve()


def format_number(x: float) -> str:
    """Plain decimal notation, no trailing zeros; NaN (not applicable) is empty."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    text = f"{x:.{DECIMALS}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """One table as CSV: numbers in plain decimals (:func:`format_number`), ``\\n``
    line ends, no index, so the same table always gives the same bytes."""
    formatted = frame.copy()
    for col in formatted.columns:
        if pd.api.types.is_float_dtype(formatted[col]):
            formatted[col] = formatted[col].map(format_number)
        elif pd.api.types.is_bool_dtype(formatted[col]):  # SPEC §3's cells: true/false
            formatted[col] = formatted[col].map({True: "true", False: "false"})
    formatted.to_csv(path, index=False, lineterminator="\n")


def write_tables(result: Result, folder: Path) -> None:
    """Every table of SPEC §4 (and the marginal values) as CSV files in ``folder``."""
    for name in TABLES:
        frame = result.tables.get(name)
        if frame is None:
            frame = pd.DataFrame(columns=COLUMNS[name])
        write_csv(frame, folder / f"{name}.csv")
    for name, frame in result.tables.items():  # a lever added after the shipped ones
        if name not in TABLES:
            write_csv(frame, folder / f"{name}.csv")
    if result.marginal_values is not None:
        write_csv(result.marginal_values, folder / "marginal_values.csv")


def write_summary(result: Result, folder: Path) -> None:
    """``summary.json`` in ``folder``."""
    with (folder / "summary.json").open("w", encoding="utf-8") as fh:
        json.dump(result.summary(), fh, indent=2, sort_keys=False, allow_nan=False)
        fh.write("\n")
