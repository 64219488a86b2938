"""Why the plan is what it is: what holds the shortfall up, and why no plan exists.

:func:`explain_shortfall` reads a plan's tables and lists, in plain language,
what binds: budgets spent to their limit (which pot, which years), return-to-
practice pools used up, caps reached (training places, international recruits,
funded retention units, the end of a response curve), supervision capacity
filled, intakes that grow (or fall) as fast as their ramp allows, posts full
where targets are short, posts left vacant while targets are short, graduates
left unplaced, and training pipelines too long to deliver before the last
target year. Where marginal values are known it says what one more unit would
remove. The budgets' and the posts' sentences are here; each lever's are in its
own module (``explain``, ``explain_later`` of :mod:`formulations.levers`).

:func:`infeasibility` asks HiGHS for an irreducible infeasible set (IIS) of the
LP relaxation when no plan exists and words each member in the instance's terms
(:mod:`optimiser.explain.wording`). In this model every target has a shortfall variable
and every lever may be left at zero, so budgets, minimum cohorts and minimum
retention funding can never conflict (nothing forces a cohort to run or a unit
to be funded); only what the data forces can: entrants already in training
(their graduates, their need for supervisors) against staff in post, which
cannot be negative.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import highspy
import pandas as pd

from formulations import explain_levers
from formulations.data import ModelData
from formulations.targets import scope_units, weights
from formulations.words import amount, listed, money, reached, spans, value_words
from optimiser.explain.wording import Words

EXHAUSTED = 0.995
"""A budget counts as used up from this share of its limit: whole training places
leave slack smaller than one more place."""
_TOL = 1e-6


def _limit_years(rows: pd.DataFrame, currency: str) -> str:
    """'of £30m a year in 2017, 2018 and 2019', or each year's figures when they
    differ: 'in 2017 (£60m) and 2018 (£99.6m of £100m)'.

    Never the sum over the years: "£90m of £90m" after three years reads as one
    year's limit of £90m when it is £30m a year."""
    years = [str(y) for y in rows["year"]]
    limit = [money(x, currency) for x in rows["limit"]]
    # Within 0.05% of the limit (£299,999 of £300,000) a year's spend reads as the limit.
    spent = [lim if abs(x - v) <= 5e-4 * abs(v) else money(x, currency)
             for x, v, lim in zip(rows["spent"], rows["limit"], limit, strict=True)]
    if spent == limit and len(set(limit)) == 1:
        return f"of {limit[0]}{' a year' * (len(years) > 1)} in {listed(years)}"
    return "in " + listed(f"{y} ({lim})" if s == lim else f"{y} ({s} of {lim})"
                          for y, s, lim in zip(years, spent, limit, strict=True))


def explain_shortfall(d: ModelData, tables: dict[str, pd.DataFrame],
                      weighted_shortfall: float | None,
                      marginal_values: pd.DataFrame | None = None,
                      mode: str = "lexicographic") -> list[str]:
    """Plain-language reasons for the shortfall that remains, most binding first.

    ``mode`` names what the marginal values measure: the weighted shortfall
    (lexicographic) or the weighted objective W + C/value_per_fte (weighted)."""
    what = "weighted objective" if mode == "weighted" else "weighted shortfall"
    inst = d.inst
    words = Words(d)
    out: list[str] = []
    t = tables["targets"]
    if weighted_shortfall is None:
        return out
    if weighted_shortfall <= _TOL or not (t["shortfall"] > _TOL).any():
        return ["Every target is met in every year it names: no shortfall remains."]
    short = t[t["shortfall"] > _TOL]
    worst = short.assign(w=short["shortfall"] * short["priority"]).sort_values(
        ["w", "target", "year"], ascending=[False, True, True]).iloc[0]
    run_out = set(d.run_out_years)
    later = "" if int(worst["year"]) not in run_out else ", a run-out year"
    out.append(f"A weighted shortfall of {weighted_shortfall:,.1f} FTE remains in "
               f"{len(short)} of {len(t)} target-years; the largest is '{worst['target']}' in "
               f"{worst['year']}{later}: {worst['achieved']:,.1f} of "
               f"{worst['required']:,.1f} FTE.")
    if run_out:
        # The run-out's shortfall is the plan's last decisions continued (SPEC §2.15).
        in_run_out = short[short["year"].astype(int).isin(run_out)]
        w = float((in_run_out["shortfall"] * in_run_out["priority"]).sum())
        out.append(f"Of it, {w:,.1f} FTE is in the run-out years "
                   f"{spans(d.run_out_years)}, where every lever keeps its "
                   f"{d.plan_years[-1]} value and held targets still count.")

    mv = marginal_values
    per_m = f"an extra {money(1e6, inst.currency)}"
    budget = tables["budget"]
    for pot in d.pots:
        rows = budget[(budget["pot"] == pot) & (budget["year"] != "total")]
        used = [str(r["year"]) for _, r in rows.iterrows() if reached(r["spent"], r["limit"],
                                                                   EXHAUSTED)]
        if used:
            spent = rows[rows["year"].astype(str).isin(used)]
            out.append(f"Budget '{pot}' is spent to its limit "
                       + _limit_years(spent, inst.currency)
                       + value_words(mv, "budget_per_year", pot, used, per_m + " there", what)
                       + ".")
        tot = budget[(budget["pot"] == pot) & (budget["year"] == "total")]
        if len(tot) and reached(tot.iloc[0]["spent"], tot.iloc[0]["limit"], EXHAUSTED):
            out.append(f"Budget '{pot}' is spent to its total limit of "
                       f"{money(tot.iloc[0]['limit'], inst.currency)} over the plan"
                       + value_words(mv, "budget_total", pot, ["total"], per_m, what) + ".")

    out += explain_levers(d, tables, mv, what)
    cells = short_cells(d, t)
    out += posts_full(d, tables, cells, words, mv, what)
    out += vacancies_left(d, tables, cells, words)
    out += explain_levers(d, tables, mv, what, later=True)
    return out


def short_cells(d: ModelData, targets: pd.DataFrame) -> dict[tuple[str, int], set[str]]:
    """(group, year) -> units whose staff of the group count for a target that is
    short that year."""
    by_id = {t.id: t for t in d.inst.targets}
    cells: dict[tuple[str, int], set[str]] = {}
    for _, r in targets[targets["shortfall"] > _TOL].iterrows():
        t = by_id.get(r["target"])
        if t is None:
            continue
        for g, w in weights(t).items():
            if w > 0:
                cells.setdefault((g, int(r["year"])), set()).update(scope_units(d, t))
    return cells


def _posts_rows(d: ModelData, tables: dict[str, pd.DataFrame],
                cells: dict[tuple[str, int], set[str]]) -> pd.DataFrame:
    """Workforce rows with posts, of the units and groups counting for a short
    target in a year it is short."""
    wf = tables["workforce"]
    if not len(wf) or not cells or "posts" not in wf:
        return wf.iloc[0:0]
    wf = wf[wf["posts"].notna()]
    keep = pd.Series([u in cells.get((g, int(y)), ()) for u, g, y in
                      zip(wf["unit"], wf["group"], wf["year"], strict=True)],
                     index=wf.index, dtype=bool)
    return wf[keep]


def posts_full(d: ModelData, tables: dict[str, pd.DataFrame],
               cells: dict[tuple[str, int], set[str]], words: Words,
               mv: pd.DataFrame | None, what: str = "weighted shortfall") -> list[str]:
    """Units whose staff are at their limit (``posts_cap``: their posts, or the
    natural path of a unit above them) in the years a target counting them is
    short: one sentence per staff group."""
    rows = _posts_rows(d, tables, cells)
    full: dict[str, dict[str, list[int]]] = {}
    for _, r in rows.iterrows():
        u, g, y = r["unit"], r["group"], int(r["year"])
        cap = d.posts_cap(u, g, y)
        if cap is not None and reached(float(r["fte"]), cap):
            full.setdefault(g, {}).setdefault(u, []).append(y)
    out = []
    for g in d.groups:
        units = full.get(g)
        if not units:
            continue
        value: dict[str, tuple[float, str]] = {}
        if mv is not None and len(mv):
            pv = mv[(mv["kind"] == "posts") & (mv["value"] > 1e-9)]
            for _, r in pv.iterrows():
                u, _, pg = str(r["item"]).partition("/")
                if pg == g and u in units and int(r["year"]) in units[u]:
                    best = value.get(u)
                    if best is None or r["value"] > best[0] + 1e-12:
                        value[u] = (float(r["value"]), str(r["year"]))
        order = sorted(units, key=lambda u: (-value.get(u, (0.0, ""))[0], d.units.index(u)))
        years = sorted({y for ys in units.values() for y in ys})
        same = all(sorted(units[u]) == years for u in order)
        if len(order) > GROUP_UNITS_SHOWN:
            where = f"in {len(order)} units in {spans(years)}: {words.units_list(order)}"
        elif same:
            where = f"at {listed([words.unit(u) for u in order])} in {spans(years)}"
        else:
            where = "at " + listed([f"{words.unit(u)} in {spans(units[u])}" for u in order])
        text = f"Posts for {words.group(g)} are full {where}"
        if value:
            top = order[0]
            v, y = value[top]
            at = f"at {words.unit(top)} in {y}, " if len(order) > 1 else (
                f"in {y}, " if len(years) > 1 else "")
            text += (f" (one more post would remove {'up to ' * (len(value) > 1)}{v:,.3g} FTE "
                     f"of {what}, {at}with the plan's whole-number decisions held)")
        out.append(text + ".")
    return out


GROUP_UNITS_SHOWN = 3
"""Above this many units, a sentence gives the count and names the first three."""

WORST_REGIONS = 3


def vacancies_left(d: ModelData, tables: dict[str, pd.DataFrame],
                   cells: dict[tuple[str, int], set[str]], words: Words) -> list[str]:
    """Posts left vacant while a target counting them is short (no lever fills
    them within the other limits): per staff group, in the last year it is short,
    with the regions of the highest vacancy rate."""
    rows = _posts_rows(d, tables, cells)
    out = []
    for g in d.groups:
        years = [y for (cg, y) in cells if cg == g]
        if not years:
            continue
        y = max(years)
        here = rows[(rows["group"] == g) & (rows["year"].astype(int) == y)]
        vacant = float(here["vacancies"].sum())
        if vacant <= _TOL:
            continue
        posts = float(here["posts"].sum())
        regions = here.groupby("region", sort=True)[["posts", "vacancies"]].sum()
        regions = regions[regions["vacancies"] > _TOL]
        regions = regions.assign(rate=regions["vacancies"] / regions["posts"])
        regions = regions.reset_index().sort_values(["rate", "region"],
                                                    ascending=[False, True])
        worst = [f"{r['region']} {amount(r['vacancies'])} of {amount(r['posts'])} "
                 f"({r['rate']:.1%})" for _, r in regions.head(WORST_REGIONS).iterrows()]
        text = (f"{words.group(g)} posts left vacant in {y} while targets are short: "
                f"{amount(vacant)} of {amount(posts)} ({vacant / posts:.1%})")
        if len(regions) > 1 or len(d.regions) > 1:
            more = len(regions) - len(worst)
            text += ("; worst " if len(regions) > 1 else "; all in ") + ", ".join(worst)
            if more > 0:
                text += f" and {more} more region{'s' * (more != 1)}"
        out.append(text + ".")
    return out


# ---------------------------------------------------------------- infeasibility

BOUND = {2: "lower", 3: "upper", 4: "both"}


@dataclass
class Conflict:
    """An irreducible infeasible set: rows and column bounds of a HighsModel."""

    rows: list[int]
    bounds: list[tuple[int, str]]
    """(column, ``lower`` / ``upper`` / ``both``) for the bounds that take part."""


def irreducible_set(hm, time_limit: float | None = 60.0) -> Conflict | None:
    """An irreducible infeasible set of the LP relaxation of ``hm`` (a
    :class:`optimiser.engine.highs_model.HighsModel`): drop any member and the rest can hold
    together. ``None`` when HiGHS finds none (the LP relaxation is feasible)."""
    h = hm.lp_copy()
    # Elastic LP, then the irreducibility pass (iis_strategy 2 + 4 = 6): without
    # it, every bound of a column in the set is kept (caps and "≥ 0" alike); with
    # it, a bound is kept only where dropping it resolves the conflict, and other
    # columns come back as free.
    h.setOptionValue("iis_strategy", int(highspy.IisStrategy.kIisStrategyFromLp)
                     | int(highspy.IisStrategy.kIisStrategyIrreducible))
    if time_limit is not None:
        h.setOptionValue("iis_time_limit", float(time_limit))
    status, iis = h.getIis()
    if status == highspy.HighsStatus.kError or not iis.valid_ or (
            len(iis.row_index_) == 0 and len(iis.col_index_) == 0):
        return None
    bounds = [(int(j), BOUND[int(b)]) for j, b in zip(iis.col_index_, iis.col_bound_,
                                                       strict=True)
              if int(b) in BOUND]  # a free column links rows; its bounds play no part
    return Conflict(rows=[int(i) for i in iis.row_index_], bounds=bounds)


def infeasibility(hm, d: ModelData, model: Any = None,
                  time_limit: float | None = 60.0) -> list[str]:
    """The conflicting constraints of an infeasible model, one sentence each, in
    the instance's words (:func:`irreducible_set`, :class:`optimiser.explain.wording.Words`)."""
    conflict = irreducible_set(hm, time_limit)
    if conflict is None:
        return ["HiGHS could not isolate the conflict: the constraints can hold together "
                "with fractional decisions, so it is the whole-number decisions (places, "
                "cohorts, campaigns, funded units) that make every plan impossible."]
    words = Words(d, model)
    out: list[str] = []
    seen: set[str] = set()
    # Stock rows and "cannot be negative" bounds of many units (group, year) are
    # said once for all of them.
    balance_units = _units_by_group_year(
        hm.rows[i][0] for i in conflict.rows if _is(hm.rows[i][0], "stock_balance"))
    stock_units = _units_by_group_year(
        hm.columns[j] for j, which in conflict.bounds if _is(hm.columns[j], "S"))
    for i in conflict.rows:
        con = hm.rows[i][0]
        name, index = con.parent_component().local_name, con.index()
        if name == "stock_balance" and len(balance_units[index[1:]]) > GROUP_UNITS:
            text = words.stock_balance_units(balance_units[index[1:]], *index[1:])
        else:
            text = words.row(name, index)
        if text not in seen:  # response segments of one curve read the same
            seen.add(text)
            out.append(text)
    flows = []
    for j, which in conflict.bounds:
        v = hm.columns[j]
        name, index = v.parent_component().local_name, v.index()
        if name == "S" and len(stock_units[index[1:]]) > GROUP_UNITS:
            text = words.nonnegative_units(stock_units[index[1:]], *index[1:])
        else:
            text = words.bound(name, index, which)
        if text is None:
            flows.append((name, index))
        elif text not in seen:
            seen.add(text)
            out.append(text)
    tail = words.nonnegative(flows)
    if tail:
        out.append(tail)
    return out


GROUP_UNITS = 3
"""Above this many units, a group's stock rows (or bounds) in a year read as one."""


def _is(component_data, name: str) -> bool:
    return component_data.parent_component().local_name == name


def _units_by_group_year(items: Iterable[Any]) -> dict[tuple[str, int], list[str]]:
    """(group, year) -> units, for stock rows or stock columns indexed [u, g, y]."""
    out: dict[tuple[str, int], list[str]] = {}
    for item in items:
        u, g, y = item.index()
        out.setdefault((g, y), []).append(u)
    return out


def ledger_conflicts(model: Any) -> list[str]:
    """Conflicts found from the data alone while building (``m.ledger.infeasible``)."""
    return [why[0].upper() + why[1:] + ("" if why.endswith(".") else ".")
            for _name, why in model.ledger.infeasible]
