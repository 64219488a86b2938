"""Why the plan is what it is: what holds the shortfall up, and why no plan exists.

:func:`explain_shortfall` reads a plan's tables and lists, in plain language,
what binds: budgets spent to their limit (which pot, which years), return-to-
practice pools used up, caps reached (training places, international recruits,
funded retention units, the end of a response curve), supervision capacity
filled, and training pipelines too long to deliver before the last target year.
Where marginal values are known it says what one more unit would remove.

:func:`infeasibility` asks HiGHS for an irreducible infeasible set (IIS) of the
LP relaxation when no plan exists and words each member in the instance's terms
(:mod:`optimiser.wording`). In this model every target has a shortfall variable
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

from formulations.data import ModelData
from formulations.response import max_spend
from formulations.targets import weights
from formulations.training import intake_years
from optimiser.wording import Words, money

EXHAUSTED = 0.995
"""A budget counts as used up from this share of its limit: whole training places
leave slack smaller than one more place."""
_TOL = 1e-6


def _years(ys: Iterable[Any]) -> str:
    ys = [str(y) for y in ys]
    if len(ys) <= 2:
        return " and ".join(ys)
    return ", ".join(ys[:-1]) + " and " + ys[-1]


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
        return f"of {limit[0]}{' a year' * (len(years) > 1)} in {_years(years)}"
    return "in " + _years(f"{y} ({lim})" if s == lim else f"{y} ({s} of {lim})"
                          for y, s, lim in zip(years, spent, limit, strict=True))


def _at(used: float, limit: float, share: float = 1.0) -> bool:
    return limit == limit and used >= share * limit - _TOL * max(1.0, abs(limit))


def _value_words(mv: pd.DataFrame | None, kind: str, item: str, years: list[str],
                 per: str, what: str = "weighted shortfall") -> str:
    """'(one more place would remove 1.49 FTE of weighted shortfall, in 2017, …)'.

    Uses the marginal value with the plan's whole-number decisions held; for a
    budget worth nothing that way, the value with training places free to grow;
    for a place whose whole unit does not fit, says so."""
    if mv is None or not len(mv):
        return ""
    rows = mv[(mv["kind"] == kind) & (mv["item"] == item) & (mv["year"].isin(years))]
    held = rows[rows["value"] > 1e-9]
    free = rows[rows["value_places_free"].fillna(0.0) > 1e-9]
    if len(held):
        best = held.sort_values(["value", "year"], ascending=[False, True]).iloc[0]
        value, how = best["value"], "with the plan's whole-number decisions held"
        if "does not fit" in best["note"]:
            how += ", though a whole one does not fit within the budgets"
    elif len(free):
        best = free.sort_values(["value_places_free", "year"],
                                ascending=[False, True]).iloc[0]
        value, how = best["value_places_free"], "spent on more training places"
    else:
        return ""
    when = f", in {best['year']}" if best["year"] not in ("all", "total") else ""
    return f" ({per} would remove {value:,.3g} FTE of {what}{when}, {how})"


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
    out.append(f"A weighted shortfall of {weighted_shortfall:,.1f} FTE remains in "
               f"{len(short)} of {len(t)} target-years; the largest is '{worst['target']}' in "
               f"{worst['year']}: {worst['achieved']:,.1f} of {worst['required']:,.1f} FTE.")

    mv = marginal_values
    per_m = f"an extra {money(1e6, inst.currency)}"
    budget = tables["budget"]
    for pot in d.pots:
        rows = budget[(budget["pot"] == pot) & (budget["year"] != "total")]
        used = [str(r["year"]) for _, r in rows.iterrows() if _at(r["spent"], r["limit"],
                                                                   EXHAUSTED)]
        if used:
            spent = rows[rows["year"].astype(str).isin(used)]
            out.append(f"Budget '{pot}' is spent to its limit "
                       + _limit_years(spent, inst.currency)
                       + _value_words(mv, "budget_per_year", pot, used, per_m + " there", what)
                       + ".")
        tot = budget[(budget["pot"] == pot) & (budget["year"] == "total")]
        if len(tot) and _at(tot.iloc[0]["spent"], tot.iloc[0]["limit"], EXHAUSTED):
            out.append(f"Budget '{pot}' is spent to its total limit of "
                       f"{money(tot.iloc[0]['limit'], inst.currency)} over the plan"
                       + _value_words(mv, "budget_total", pot, ["total"], per_m, what) + ".")

    rtp = tables["return_to_practice"]
    for c in inst.return_to_practice:
        rows = rtp[rtp["campaign"] == c.id]
        if c.pool > 0 and _at(rows["returners"].sum(), c.pool):
            out.append(f"Return-to-practice pool '{c.id}' is used up: all {c.pool:g} "
                       "returners are brought back"
                       + _value_words(mv, "return_to_practice_pool", c.id, ["all"],
                                      "one more returner in the pool", what) + ".")
        top = [str(r["year"]) for _, r in rows.iterrows()
               if max_spend(c.response) > 0 and _at(r["spend"], max_spend(c.response))]
        if top:
            out.append(f"Campaign '{c.id}' spends the most its response curve allows "
                       f"({money(max_spend(c.response), inst.currency)}) in {_years(top)}.")

    out += training_capped(d, tables, mv, what)
    out += supervision_filled(d, tables)

    intl = tables["international"]
    for r in inst.international:
        rows = intl[intl["route"] == r.id]
        capped = [str(x["year"]) for _, x in rows.iterrows()
                  if r.max_per_year > 0 and _at(x["recruits"], r.max_per_year)]
        if capped:
            out.append(f"International route '{r.id}' recruits its maximum of "
                       f"{r.max_per_year:g} a year in {_years(capped)}"
                       + _value_words(mv, "international_per_year", r.id, capped,
                                      "one more recruit", what) + ".")
        if r.max_total and _at(rows["recruits"].sum(), r.max_total):
            out.append(f"International route '{r.id}' recruits its maximum of "
                       f"{r.max_total:g} over the plan"
                       + _value_words(mv, "international_total", r.id, ["all"],
                                      "one more recruit", what) + ".")

    ret = tables["retention"]
    for s in inst.retention:
        if s.max_units_per_year is None:
            continue
        rows = ret[ret["scheme"] == s.id]
        full = [str(y) for y, g in rows.groupby("year", sort=True)
                if s.max_units_per_year < len(d.eligible[s.id])
                and _at(g["funded"].sum(), s.max_units_per_year)]
        if full:
            n = s.max_units_per_year
            out.append(f"Retention scheme '{s.id}' funds its maximum of {n} "
                       f"unit{'s' * (n != 1)} a year in {_years(full)}"
                       + _value_words(mv, "retention_units", s.id, full,
                                      "funding one more unit", what) + ".")
    out += pipelines_too_long(d, words)
    return out


GROUP_FROM = 4
"""From this many programmes at their cap, one sentence names them all."""


def training_capped(d: ModelData, tables: dict[str, pd.DataFrame],
                    mv: pd.DataFrame | None, what: str = "weighted shortfall") -> list[str]:
    """Programmes that take their maximum places: one sentence each, or one for
    all of them when there are many (a national plan has dozens)."""
    tr = tables["training"]
    capped: list[tuple[str, float, list[str]]] = []
    for p in d.inst.training:
        if not p.max_places_per_year:
            continue
        rows = tr[tr["programme"] == p.id]
        years = [str(r["year"]) for _, r in rows.iterrows()
                 if int(r["year"]) in intake_years(d, p)
                 and _at(r["places"], p.max_places_per_year)]
        if years:
            capped.append((p.id, p.max_places_per_year, years))
    if len(capped) < GROUP_FROM:
        return [f"Training '{p}' takes its maximum of {cap:g} places in {_years(years)}"
                + _value_words(mv, "training_places", p, years, "one more place", what) + "."
                for p, cap, years in capped]
    best = ""
    if mv is not None and len(mv):
        rows = mv[(mv["kind"] == "training_places") & (mv["value"] > 1e-9)]
        if len(rows):
            top = rows.sort_values(["value", "item", "year"],
                                   ascending=[False, True, True]).iloc[0]
            best = (f"; one more place would remove up to {top['value']:,.3g} FTE of {what} "
                    f"('{top['item']}', {top['year']}) with the plan's whole-number "
                    "decisions held")
            if "does not fit" in top["note"]:
                best += ", though a whole one does not fit within the budgets"
    names = "; ".join(f"'{p}' ({cap:g} in {_years(years)})" for p, cap, years in capped)
    return [f"Training takes its maximum places in {len(capped)} programmes: {names}"
            + best + "."]


def supervision_filled(d: ModelData, tables: dict[str, pd.DataFrame]) -> list[str]:
    """Programmes whose trainees fill their supervision capacity in some year."""
    out = []
    wf = tables["workforce"]
    tr = tables["training"]
    for p in d.inst.training:
        sup = p.supervision
        if sup is None:
            continue
        places = {int(r["year"]): float(r["places"]) for _, r in
                  tr[tr["programme"] == p.id].iterrows()}
        units = set(d.units_of(p.region))
        full = []
        for y in d.years:
            trainees = sum(places.get(y - k, 0.0) if y - k > d.base
                           else p.committed.get(y - k, 0.0) for k in range(p.duration))
            staff = wf[(wf["group"] == sup.group) & (wf["year"] == y - 1)
                       & wf["unit"].isin(units)]["fte"].sum()
            cap = sup.max_trainees_per_fte * staff
            if trainees > _TOL and _at(trainees, cap):
                full.append(str(y))
        if full:
            out.append(f"Training '{p.id}' fills its supervision capacity "
                       f"({sup.max_trainees_per_fte:g} trainees per FTE of {sup.group}) in "
                       f"{_years(full)}.")
    return out


def pipelines_too_long(d: ModelData, words: Words) -> list[str]:
    """Programmes none of whose new intakes graduate by the last year with a
    target that counts their staff group."""
    out = []
    for p in d.inst.training:
        last = [y for t in d.inst.targets if weights(t).get(p.group, 0) > 0
                for y in t.required]
        if not last:
            continue
        intakes = intake_years(d, p)
        first = min(intakes) if intakes else None
        if first is None or first + p.duration > max(last):
            when = (f"places started in {first} or later graduate in {first + p.duration} "
                    "at the earliest" if first is not None else "it takes no new intake")
            out.append(f"Training '{p.id}' (a {p.duration}-year course) cannot help the "
                       "targets: "
                       f"{when}, after the last target year for "
                       f"{words.group(p.group)} ({max(last)}).")
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
    :class:`optimiser.solve.HighsModel`): drop any member and the rest can hold
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
    the instance's words (:func:`irreducible_set`, :class:`optimiser.wording.Words`)."""
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
