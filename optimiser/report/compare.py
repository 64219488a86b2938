"""Comparing plans side by side (SPEC §6, ``wfopt compare``).

:func:`compare` takes results (directories written by ``wfopt solve --out``,
:class:`~optimiser.results.tables.Result` objects or report views), the first as the
base, and returns a :class:`Comparison` of pandas DataFrames: status, W and C
per plan; shortfall by target and year; spend by lever and by pot; staff in
post and vacancies by region and group in the last plan year. Each table has
one column per plan, named by the plan, and a ``Δ <plan>`` column with its
difference from the base for every other plan.

:func:`format_comparison` is the terminal's compact table and
:func:`render_comparison` the self-contained HTML page (matplotlib SVG charts
inline, the report's style; no script, no network).

Plans over different horizons, or with different staff groups, are not
comparable: :func:`compare` raises :class:`~optimiser.errors.InputError`
naming the plan (exit 2 on the command line), as it does for a directory that
holds no results.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from formulations import lever_labels
from optimiser.errors import InputError, Problem
from optimiser.explain.wording import money
from optimiser.results.atomic import write_file_atomically

TINY = 0.05
"""FTE differences smaller than this are shown as none (0): the tables are
rounded to 6 decimals, and solver noise is far below it."""

TINY_MONEY = 0.5
"""Money differences that round to nothing are shown as none (0)."""

MAX_TARGETS = 20
"""Most targets in the chart of shortfall changes (the largest changes)."""


def delta(name: str) -> str:
    """The column of ``name``'s difference from the base."""
    return f"Δ {name}"


@dataclass
class Comparison:
    """Plans side by side; every table has a column per plan (its name) and a
    ``Δ <plan>`` column per plan after the base (its value minus the base's)."""

    names: list[str]
    """The plans' names, the base first."""
    plans: pd.DataFrame
    """One row per plan: ``plan, source, instance, status, weighted_shortfall,
    total_cost, mip_gap, Δ weighted_shortfall, Δ total_cost``."""
    shortfall: pd.DataFrame
    """``target, label, year`` and the shortfall (FTE) of each plan."""
    spend_by_lever: pd.DataFrame
    """``lever`` (and ``total``) and the spend of each plan over the horizon."""
    spend_by_pot: pd.DataFrame
    """``pot`` and the spend of each plan over the horizon, then ``limit <plan>``:
    each plan's total limit of the pot (blank: none)."""
    staff: pd.DataFrame
    """``region, group`` and the staff in post (FTE) of each plan at the end of
    the last plan year."""
    vacancies: pd.DataFrame
    """``region, group`` and the vacancies (FTE) of each plan in the last plan
    year, for the pairs where some plan has funded posts (empty without posts)."""
    year: str
    """The last plan year."""
    currency: str = "GBP"
    run_out: bool = False
    """Whether some plan has run-out years (SPEC §2.15): their rows are labelled
    ``(run-out)``, W and C are split, and the spend totals say they count them."""
    views: list[Any] = field(default_factory=list, repr=False)

    @property
    def base(self) -> str:
        return self.names[0]

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"plans": self.plans, "shortfall": self.shortfall,
                "spend_by_lever": self.spend_by_lever, "spend_by_pot": self.spend_by_pot,
                "staff": self.staff, "vacancies": self.vacancies}


# ---------------------------------------------------------------- reading


def _view(item: Any, problems: list[Problem]):
    from optimiser.report.page import ResultsView
    from optimiser.results.tables import Result

    if isinstance(item, ResultsView):
        return item
    if isinstance(item, Result):
        return ResultsView.from_result(item)
    try:
        return ResultsView.from_dir(item)
    except InputError as exc:
        problems.extend(exc.problems)
        return None


def _names(items: Sequence[Any], names: Sequence[str] | None) -> list[str]:
    """Each plan's name: given, else its folder's name (the instance's name
    for a result in memory); names given twice are told apart by their parents."""
    if names is not None:
        out = [str(n) for n in names]
    else:
        out = []
        for k, item in enumerate(items):
            if isinstance(item, str | os.PathLike):
                out.append(Path(item).resolve().name)
            else:
                summary = getattr(item, "summary", None)
                inst = summary.get("instance") if isinstance(summary, dict) else getattr(
                    item, "instance", None)
                out.append(str(inst or f"plan {k + 1}"))
    twice = {n for n in out if out.count(n) > 1}
    for k, n in enumerate(out):
        if n in twice and isinstance(items[k], str | os.PathLike):
            p = Path(items[k]).resolve()
            out[k] = f"{p.parent.name}/{p.name}"
    twice = {n for n in out if out.count(n) > 1}
    seen: dict[str, int] = {}
    for k, n in enumerate(out):
        if n in twice:
            seen[n] = seen.get(n, 0) + 1
            out[k] = f"{n} #{seen[n]}"
    return out


def _has_plan(view) -> bool:
    return view.summary.get("status") in ("optimal", "feasible")


def _years(frame: pd.DataFrame) -> list[str]:
    return sorted({str(y) for y in frame["year"]}, key=lambda y: (not y.isdigit(), y))


def _plan_years(frame: pd.DataFrame) -> list[str]:
    """The base and plan years of a table: not its run-out years, which the
    report's view labels ``2023 (run-out)``."""
    return [y for y in _years(frame) if y.isdigit()]


def _check_comparable(views, names, sources) -> None:
    """Same horizon and staff groups as the base (among plans with tables)."""
    problems = []
    ref = None
    for view, name, source in zip(views, names, sources, strict=True):
        wf = view.tables["workforce"]
        if not len(wf):
            continue  # no plan: nothing to compare but the status
        # Plans with and without run-out years compare over their plan years.
        years = _plan_years(wf)
        groups = list(dict.fromkeys(wf["group"]))
        if ref is None:
            ref = (name, years, groups)
            continue
        ref_name, ref_years, ref_groups = ref
        if years != ref_years:
            problems.append(Problem(str(source), (
                f"plan '{name}' covers {_span(years)}, the base '{ref_name}' "
                f"{_span(ref_years)}: plans over different horizons cannot be compared")))
        if set(groups) != set(ref_groups):
            extra = [g for g in groups if g not in ref_groups]
            missing = [g for g in ref_groups if g not in groups]
            what = "; ".join(p for p in (
                f"groups not in the base: {', '.join(extra)}" if extra else "",
                f"base groups it lacks: {', '.join(missing)}" if missing else "") if p)
            problems.append(Problem(str(source), (
                f"plan '{name}' has other staff groups than the base '{ref_name}' ({what}): "
                "plans of different groups cannot be compared")))
    if problems:
        raise InputError(problems)


def _span(years: list[str]) -> str:
    return f"base year {years[0]} and plan years {years[1]}–{years[-1]}" if len(years) > 1 \
        else f"base year {years[0]} only"


def compare(*results: Any, names: Sequence[str] | None = None) -> Comparison:
    """Compare plans, the first as the base.

    Each of ``results`` is a results directory (path), a
    :class:`~optimiser.results.tables.Result` or a :class:`~optimiser.report.page.ResultsView`;
    ``names`` names the plans (default: the folders' names). Raises
    :class:`~optimiser.errors.InputError` for a directory without results, and
    for plans over different horizons or with different staff groups.
    """
    if len(results) < 2:
        raise InputError([Problem("compare", "needs a base and at least one other plan")])
    if names is not None and len(names) != len(results):
        raise InputError([Problem("compare", f"{len(names)} names for {len(results)} plans")])
    problems: list[Problem] = []
    views = [_view(r, problems) for r in results]
    if problems:
        raise InputError(problems)
    labels = _names(results, names)
    sources = [str(r) if isinstance(r, str | os.PathLike) else n
               for r, n in zip(results, labels, strict=True)]
    _check_comparable(views, labels, sources)
    year = ""
    for v in views:
        if len(v.tables["workforce"]):
            year = _plan_years(v.tables["workforce"])[-1]
            break
    base = views[0]
    cmp = Comparison(
        names=labels,
        plans=_plans(views, labels, sources),
        shortfall=_shortfall(views, labels),
        spend_by_lever=_by_lever(views, labels),
        spend_by_pot=_by_pot(views, labels),
        staff=_last_year(views, labels, year, "fte"),
        vacancies=_last_year(views, labels, year, "vacancies"),
        year=year,
        currency=str(base.summary.get("currency", "GBP")),
        run_out=any(v.summary.get("run_out_years") for v in views),
        views=views,
    )
    return cmp


def _with_deltas(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Adds ``Δ <plan>`` (plan − base) for every plan after the base."""
    for n in names[1:]:
        frame[delta(n)] = frame[n] - frame[names[0]]
    return frame


def _plans(views, names, sources) -> pd.DataFrame:
    rows = []
    for view, name, source in zip(views, names, sources, strict=True):
        s = view.summary
        rows.append({"plan": name, "source": source, "instance": s.get("instance", ""),
                     "status": s.get("status", ""),
                     "weighted_shortfall": _num(s.get("weighted_shortfall")),
                     "total_cost": _num(s.get("total_cost")),
                     "mip_gap": _num(s.get("mip_gap")),
                     # The run-out's part of W and C (0 for a plan without one).
                     "weighted_shortfall_run_out": _num(
                         s.get("weighted_shortfall_run_out", 0.0 if _has_plan(view) else None)),
                     "total_cost_run_out": _num(
                         s.get("total_cost_run_out", 0.0 if _has_plan(view) else None))})
    frame = pd.DataFrame(rows)
    for col in ("weighted_shortfall", "total_cost", "weighted_shortfall_run_out",
                "total_cost_run_out"):
        frame[delta(col)] = frame[col] - frame[col].iloc[0]
        frame.loc[0, delta(col)] = math.nan
    return frame


def _num(v: Any) -> float:
    return math.nan if v is None else float(v)


def _shortfall(views, names) -> pd.DataFrame:
    keys: dict[tuple[str, str], str] = {}
    values: dict[str, dict[tuple[str, str], float]] = {}
    for view, name in zip(views, names, strict=True):
        t = view.tables["targets"]
        values[name] = {}
        if not _has_plan(view):
            continue
        for target, label, year, short in zip(t["target"], t["label"], t["year"],
                                              t["shortfall"], strict=True):
            keys.setdefault((target, str(year)), label)
            values[name][target, str(year)] = float(short)
    order = list(keys)
    frame = pd.DataFrame({"target": [k[0] for k in order], "label": [keys[k] for k in order],
                          "year": [k[1] for k in order]})
    for view, name in zip(views, names, strict=True):
        # A year the plan does not run (another plan's run-out year) is blank, not 0.
        covered = {str(y) for y in view.tables["targets"]["year"]}
        frame[name] = [values[name].get(k, 0.0 if _has_plan(view) and k[1] in covered
                                        else math.nan) for k in order]
    return _with_deltas(frame, names)


def _by_lever(views, names) -> pd.DataFrame:
    levers = lever_labels()
    frame = pd.DataFrame({"lever": [*levers, "total"]})
    for view, name in zip(views, names, strict=True):
        if not _has_plan(view):
            frame[name] = math.nan
            continue
        spent = [float(view.tables[t]["cost"].sum()) if len(view.tables[t]) else 0.0
                 for t in levers]
        frame[name] = [*spent, sum(spent)]
    return _with_deltas(frame, names)


def _by_pot(views, names) -> pd.DataFrame:
    pots: list[str] = []
    spent: dict[str, dict[str, float]] = {}
    limit: dict[str, dict[str, float]] = {}
    for view, name in zip(views, names, strict=True):
        b = view.tables["budget"]
        total = b[b["year"] == "total"]
        spent[name] = dict(zip(total["pot"], total["spent"], strict=True))
        limit[name] = dict(zip(total["pot"], total["limit"], strict=True))
        pots += [p for p in total["pot"] if p not in pots]
    frame = pd.DataFrame({"pot": pots})
    for view, name in zip(views, names, strict=True):
        frame[name] = [spent[name].get(p, 0.0 if _has_plan(view) else math.nan) for p in pots]
    frame = _with_deltas(frame, names)
    for name in names:
        frame[f"limit {name}"] = [limit[name].get(p, math.nan) for p in pots]
    return frame


def _last_year(views, names, year: str, column: str) -> pd.DataFrame:
    keys: list[tuple[str, str]] = []
    values: dict[str, dict[tuple[str, str], float]] = {}
    for view, name in zip(views, names, strict=True):
        wf = view.tables["workforce"]
        rows = wf[wf["year"].astype(str) == year] if len(wf) else wf
        sums = rows.groupby(["region", "group"], sort=False)[column].sum(min_count=1)
        values[name] = {k: v for k, v in sums.items() if not pd.isna(v)}
        keys += [k for k in sums.index if k not in keys and (column == "fte" or k in values[name])]
    frame = pd.DataFrame({"region": [k[0] for k in keys], "group": [k[1] for k in keys]})
    for view, name in zip(views, names, strict=True):
        frame[name] = [values[name].get(k, 0.0 if column == "fte" and _has_plan(view)
                                        else math.nan) for k in keys]
    frame = _with_deltas(frame, names)
    return frame.sort_values(["region", "group"], kind="mergesort").reset_index(drop=True)


def by_region(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """A staff or vacancies table summed over groups, one row per region."""
    cols = [*names, *(delta(n) for n in names[1:])]
    if not len(frame):
        return pd.DataFrame(columns=["region", *cols])
    return frame.groupby("region", sort=True)[cols].sum(min_count=1).reset_index()


# ---------------------------------------------------------------- terminal


def _fte(x: float) -> str:
    return "-" if pd.isna(x) else f"{x:,.1f}"


def _dfte(x: float) -> str:
    if pd.isna(x):
        return ""
    return "0" if abs(x) < TINY else f"{x:+,.1f}"


def _money(currency: str):
    def fmt(x: float) -> str:
        return "-" if pd.isna(x) else money(x, currency)
    return fmt


def _dmoney(currency: str):
    def fmt(x: float) -> str:
        if pd.isna(x):
            return ""
        if abs(x) < TINY_MONEY:
            return "0"
        return ("+" if x > 0 else "-") + money(abs(x), currency)
    return fmt


def format_comparison(cmp: Comparison, width: int | None = None) -> str:
    """The terminal's table: one column per plan, a Δ column after each plan
    but the base; rows grouped as status and W and C, shortfall by target (all
    target years) and by year, spend by lever and by pot, staff in post and
    vacancies by region in the last plan year."""
    names = cmp.names
    cur = cmp.currency
    if width is None:  # the longest row label, within reason
        labels = [*cmp.shortfall["target"], *cmp.spend_by_pot["pot"], *cmp.staff["region"]]
        width = min(max([26, *(len(str(x)) + 4 for x in labels)]), 40)
    w = max([12, *(len(n) for n in names)])
    dw = max(11, min(w, 14))

    def line(label: str, values: list[str], deltas: list[str]) -> str:
        text = f"{label[:width]:<{width}}{values[0]:>{w}}"
        for v, d in zip(values[1:], deltas, strict=True):
            text += f"  {v:>{w}}{d:>{dw}}"
        return text.rstrip()

    def rows(frame: pd.DataFrame, key: str, fmt, dfmt, indent: str = "  ") -> list[str]:
        return [line(indent + str(r[key]), [fmt(r[n]) for n in names],
                     [dfmt(r[delta(n)]) for n in names[1:]]) for _, r in frame.iterrows()]

    out = [line("", names, ["Δ" for _ in names[1:]]),
           line("status", list(cmp.plans["status"]), ["" for _ in names[1:]])]
    p = cmp.plans
    out.append(line("weighted shortfall (FTE)", [_fte(v) for v in p["weighted_shortfall"]],
                    [_dfte(v) for v in p[delta("weighted_shortfall")].iloc[1:]]))
    out.append(line("total cost", [_money(cur)(v) for v in p["total_cost"]],
                    [_dmoney(cur)(v) for v in p[delta("total_cost")].iloc[1:]]))
    if cmp.run_out:
        col = "weighted_shortfall_run_out"
        out.insert(-1, line("  of which run-out years", [_fte(v) for v in p[col]],
                            [_dfte(v) for v in p[delta(col)].iloc[1:]]))
        col = "total_cost_run_out"
        out.append(line("  of which run-out years", [_money(cur)(v) for v in p[col]],
                        [_dmoney(cur)(v) for v in p[delta(col)].iloc[1:]]))

    s = cmp.shortfall
    if len(s):
        by_target = s.groupby(["target"], sort=False)[[*names, *(delta(n) for n in names[1:])]] \
            .sum(min_count=1).reset_index()
        short = by_target[(by_target[names].fillna(0.0).abs() >= TINY).any(axis=1)]
        out.append("shortfall by target, all target years (FTE)")
        if len(short):
            out += rows(short, "target", _fte, _dfte)
        else:
            out.append("  every target met in every plan")
        by_year = s.groupby("year", sort=True)[[*names, *(delta(n) for n in names[1:])]] \
            .sum(min_count=1).reset_index()
        out.append("shortfall by year, all targets (FTE)")
        out += rows(by_year, "year", _fte, _dfte)
    every = "all years, run-out included" if cmp.run_out else "all years"
    out.append(f"spend by lever, {every}")
    out += rows(cmp.spend_by_lever, "lever", _money(cur), _dmoney(cur))
    if len(cmp.spend_by_pot):
        out.append(f"spend by pot, {every}")
        out += rows(cmp.spend_by_pot, "pot", _money(cur), _dmoney(cur))
    if len(cmp.staff):
        out.append(f"staff in post by region, end of {cmp.year} (FTE)")
        out += rows(by_region(cmp.staff, names), "region", _fte, _dfte)
    if len(cmp.vacancies):
        out.append(f"vacancies by region, {cmp.year} (FTE; units with funded posts)")
        out += rows(by_region(cmp.vacancies, names), "region", _fte, _dfte)
    return "\n".join(out)


# ---------------------------------------------------------------- HTML


def _colours(n: int) -> list[str]:
    from optimiser.report.charts import PALETTE

    return [PALETTE[k % len(PALETTE)] for k in range(n)]


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def _embed(fig, alt: str, caption: str) -> str:
    from optimiser.report.charts import embed

    return embed(fig, alt, caption)


def _style():
    import matplotlib

    from optimiser.report.charts import STYLE

    return matplotlib.rc_context(STYLE)


def _grouped(ax, categories: list[str], series: dict[str, list[float]], colours: list[str],
             horizontal: bool = False) -> None:
    """Bars of every series side by side per category (NaN draws nothing)."""
    n = max(len(series), 1)
    width = 0.8 / n
    for k, (name, values) in enumerate(series.items()):
        pos = [i - 0.4 + width * (k + 0.5) for i in range(len(categories))]
        vals = [0.0 if pd.isna(v) else v for v in values]
        if horizontal:
            ax.barh(pos, vals, height=width, color=colours[k], label=name)
        else:
            ax.bar(pos, vals, width=width, color=colours[k], label=name)
    if horizontal:
        ax.set_yticks(range(len(categories)))
        ax.set_yticklabels(categories)
        ax.invert_yaxis()
        ax.grid(axis="x", color="#dddddd")
        ax.grid(axis="y", visible=False)
        ax.axvline(0, color="#555555", linewidth=0.8)
    else:
        ax.set_xticks(range(len(categories)))
        ax.set_xticklabels(categories)
        ax.axhline(0, color="#555555", linewidth=0.8)


def _legend(fig, ax, n: int, *more) -> None:
    """One legend above the panels: the series of ``ax``, then any other labelled
    marks of the axes ``more``."""
    handles, labels = ax.get_legend_handles_labels()
    for other in more:
        h, lab = other.get_legend_handles_labels()
        handles, labels = handles + [x for x, y in zip(h, lab, strict=True) if y not in labels], \
            labels + [y for y in lab if y not in labels]
        n += len(lab)
    if handles:
        fig.legend(handles, labels, loc="upper left", ncol=min(n, 4), fontsize=8,
                   bbox_to_anchor=(0.0, 1.0))
        fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))
    else:
        fig.tight_layout()


def _headline_chart(cmp: Comparison) -> str:
    names = cmp.names
    colours = _colours(len(names))
    p = cmp.plans
    m = money(1e6, cmp.currency)
    with _style():
        fig = _figure(10, 3.2)
        for k, (col, title, scale) in enumerate((
                ("weighted_shortfall", "Weighted shortfall W (FTE)", 1.0),
                ("total_cost", f"Total cost C ({m})", 1e6))):
            ax = fig.add_subplot(1, 2, k + 1)
            values = [v / scale for v in p[col]]
            ax.bar(range(len(names)), [0.0 if pd.isna(v) else v for v in values],
                   color=colours, width=0.6)
            ax.set_xticks(range(len(names)))
            ax.set_xticklabels(names, fontsize=8)
            ax.set_title(title, fontsize=9)
            top = max([v for v in values if not pd.isna(v)] or [1.0])
            ax.set_ylim(0, top * 1.18 if top > 0 else 1.0)
            for i, v in enumerate(values):
                if pd.isna(v):
                    ax.text(i, 0, "no plan", ha="center", va="bottom", fontsize=8)
                    continue
                text = f"{v:,.1f}" if col == "weighted_shortfall" else f"{v:,.2f}"
                if i > 0 and not pd.isna(values[0]):
                    shown = f"{v - values[0]:+,.1f}" if col == "weighted_shortfall" else \
                        f"{v - values[0]:+,.2f}"
                    # A difference that rounds to nothing reads as none, not "-0.00".
                    text += "\n(no change)" if float(shown.replace(",", "")) == 0 \
                        else f"\n({shown})"
                ax.text(i, v, text, ha="center", va="bottom", fontsize=8)
        fig.tight_layout()
    return _embed(fig, "Weighted shortfall and total cost per plan",
                  "Each plan's weighted shortfall W and total cost C; in brackets the "
                  "difference from the base (the first bar).")


def _shortfall_charts(cmp: Comparison) -> str:
    names = cmp.names
    s = cmp.shortfall
    colours = _colours(len(names))
    out = []
    years = sorted(set(s["year"]), key=lambda y: (not y.isdigit(), y))
    by_year = s.groupby("year")[names].sum(min_count=1).reindex(years)
    with _style():
        fig = _figure(10, 3.4)
        ax = fig.add_subplot(1, 1, 1)
        _grouped(ax, years, {n: list(by_year[n]) for n in names}, colours)
        ax.set_ylabel("shortfall (FTE)")
        _legend(fig, ax, len(names))
    out.append(_embed(fig, "Shortfall by year per plan",
                      "Shortfall against all targets by year (FTE), one bar per plan."))
    dcols = [delta(n) for n in names[1:]]
    by_target = s.groupby(["target", "label"], sort=False)[dcols].sum(min_count=1).reset_index()
    moved = by_target[(by_target[dcols].fillna(0.0).abs() >= TINY).any(axis=1)]
    if not len(moved):
        out.append('<p class="note">No target\'s shortfall differs from the base.</p>')
        return "".join(out)
    size = moved[dcols].fillna(0.0).abs().max(axis=1)
    moved = moved.loc[size.sort_values(ascending=False, kind="mergesort").index[:MAX_TARGETS]]
    labels = [lab or tgt for tgt, lab in zip(moved["target"], moved["label"], strict=True)]
    from optimiser.report.charts import wrap

    labels = [wrap(lab, 40, 2) for lab in labels]
    with _style():
        fig = _figure(10, 1.0 + 0.32 * len(moved) * max(1, len(dcols)) ** 0.5)
        ax = fig.add_subplot(1, 1, 1)
        _grouped(ax, labels, {n: list(moved[delta(n)]) for n in names[1:]}, colours[1:],
                 horizontal=True)
        ax.set_xlabel("change in shortfall against the base, all target years (FTE)")
        _legend(fig, ax, len(names) - 1)
    extra = (f" The {MAX_TARGETS} largest changes of {len(size)} are drawn."
             if len(size) > MAX_TARGETS else "")
    out.append(_embed(fig, "Change in shortfall by target against the base",
                      "Shortfall of each plan minus the base's, per target over its target "
                      "years (FTE): left of zero, the plan is short of fewer staff." + extra))
    return "".join(out)


def _spend_charts(cmp: Comparison) -> str:
    names = cmp.names
    colours = _colours(len(names))
    m = money(1e6, cmp.currency)
    lev = cmp.spend_by_lever[cmp.spend_by_lever["lever"] != "total"]
    labels = lever_labels()
    pots = cmp.spend_by_pot
    panels = 2 if len(pots) else 1
    with _style():
        fig = _figure(10, 3.6)
        ax = fig.add_subplot(1, panels, 1)
        _grouped(ax, [labels[x] for x in lev["lever"]],
                 {n: list(lev[n] / 1e6) for n in names}, colours)
        ax.set_ylabel(f"spend ({m})")
        ax.set_title("By lever, all years" + (", run-out included" if cmp.run_out else ""),
                     fontsize=9)
        ax.tick_params(axis="x", labelsize=7.5)
        ax.set_xticklabels([lab.replace(" ", "\n", 1) for lab in
                            [labels[x] for x in lev["lever"]]])
        if len(pots):
            ax2 = fig.add_subplot(1, 2, 2)
            _grouped(ax2, list(pots["pot"]), {n: list(pots[n] / 1e6) for n in names}, colours)
            width = 0.8 / len(names)
            for k, n in enumerate(names):
                pos = [i - 0.4 + width * (k + 0.5) for i in range(len(pots))]
                lim = [v / 1e6 for v in pots[f"limit {n}"]]
                if any(not pd.isna(v) for v in lim):
                    ax2.plot(pos, lim, "_", color="#000000", markersize=10, markeredgewidth=2,
                             label="total limit" if k == 0 else None)
            ax2.set_title("By pot, all years" + (", run-out included" if cmp.run_out else ""),
                          fontsize=9)
            ax2.tick_params(axis="x", labelsize=7.5)
            ax2.set_xticklabels([lab.replace("_", "\n", 1) for lab in pots["pot"]])
            _legend(fig, ax, len(names), ax2)
        else:
            _legend(fig, ax, len(names))
    return _embed(fig, "Spend by lever and by pot per plan",
                  "Spend over the whole plan by lever and by funding pot, one bar per plan; "
                  "black marks: a pot's limit over the horizon, where it has one.")


def _region_charts(cmp: Comparison) -> str:
    from matplotlib.ticker import MaxNLocator

    names = cmp.names
    colours = _colours(len(names))
    out = []
    for frame, what in ((cmp.staff, "staff in post"), (cmp.vacancies, "vacancies")):
        if not len(frame):
            continue
        reg = by_region(frame, names)
        with _style():
            fig = _figure(10, 1.2 + 0.3 * len(reg) * max(1, len(names) - 1) ** 0.5)
            ax = fig.add_subplot(1, 2, 1)
            _grouped(ax, list(reg["region"]), {n: list(reg[n]) for n in names}, colours,
                     horizontal=True)
            ax.set_xlabel(f"{what} (FTE)")
            ax.set_title(f"{what.capitalize()}, end of {cmp.year}", fontsize=9)
            ax2 = fig.add_subplot(1, 2, 2)
            _grouped(ax2, list(reg["region"]), {n: list(reg[delta(n)]) for n in names[1:]},
                     colours[1:], horizontal=True)
            ax2.set_yticklabels([])
            ax2.xaxis.set_major_locator(MaxNLocator(6))  # signed thousands stay apart
            ax2.set_xlabel("change against the base (FTE)")
            ax2.set_title("Against the base", fontsize=9)
            _legend(fig, ax, len(names))
        out.append(_embed(fig, f"{what.capitalize()} by region per plan",
                          f"{what.capitalize()} by region at the end of {cmp.year} (FTE), "
                          "and each plan's difference from the base."
                          + (" Vacancies count units with funded posts only."
                             if what == "vacancies" else "")))
    if not len(cmp.vacancies):
        out.append('<p class="note">No plan has funded posts, so there are no vacancies '
                   "to compare.</p>")
    return "".join(out)


def _table(frame: pd.DataFrame, cmp: Comparison, kind: str, keys: list[str],
           caption: str | None = None) -> str:
    from optimiser.report.page import table

    names = cmp.names
    if kind == "money":
        fmt, dfmt = _money(cmp.currency), _dmoney(cmp.currency)
    else:
        fmt, dfmt = _fte, _dfte
    cols = keys + [c for n in names for c in ([n] if n == names[0] else [n, delta(n)])]
    formats = {n: fmt for n in names}
    formats.update({delta(n): dfmt for n in names[1:]})
    return table(frame[cols], formats, caption=caption)


def _plans_table(cmp: Comparison) -> str:
    from optimiser.report.page import table

    p = cmp.plans
    frame = pd.DataFrame({
        "plan": p["plan"], "results": p["source"], "status": p["status"],
        "weighted shortfall (FTE)": p["weighted_shortfall"],
        "Δ W": p[delta("weighted_shortfall")],
        "total cost": p["total_cost"], "Δ C": p[delta("total_cost")],
        "MIP gap": p["mip_gap"]})
    cur = cmp.currency
    formats = {"weighted shortfall (FTE)": _fte, "Δ W": _dfte,
               "total cost": _money(cur), "Δ C": _dmoney(cur),
               "MIP gap": lambda v: "" if pd.isna(v) else f"{v:.4%}"}
    if cmp.run_out:
        # W and C count the run-out years (SPEC §2.15): their part shown beside.
        frame.insert(5, "W of run-out years", p["weighted_shortfall_run_out"])
        frame.insert(8, "C of run-out years", p["total_cost_run_out"])
        formats.update({"W of run-out years": _fte, "C of run-out years": _money(cur)})
    return table(frame, formats)


def render_comparison(cmp: Comparison) -> str:
    """The comparison as one self-contained HTML page."""
    from optimiser.report.page import CSS, esc

    names = cmp.names
    others = ", ".join(names[1:])
    s = cmp.shortfall
    short = s[(s[names].fillna(0.0).abs() >= TINY).any(axis=1)] if len(s) else s
    body = [
        '<section id="plans"><h2>Plans</h2>', _plans_table(cmp), _headline_chart(cmp),
        "</section>",
        '<section id="shortfall"><h2>Shortfall by target and year</h2>',
        _shortfall_charts(cmp) if len(s) else "<p>No targets.</p>",
        _table(short, cmp, "fte", ["target", "year"],
               caption="Target-years where some plan is short (FTE); all others are met "
                       "in every plan.") if len(short) else
        "<p>Every target is met in every plan.</p>",
        "</section>",
        '<section id="spend"><h2>Spend by lever and by pot</h2>', _spend_charts(cmp),
        _table(cmp.spend_by_lever, cmp, "money", ["lever"]),
        _table(cmp.spend_by_pot, cmp, "money", ["pot"],
               caption="Spend over the whole plan.") if len(cmp.spend_by_pot) else "",
        "</section>",
        f'<section id="staff"><h2>Staff and vacancies by region, {esc(cmp.year)}</h2>',
        _region_charts(cmp),
        _table(cmp.staff, cmp, "fte", ["region", "group"],
               caption=f"Staff in post at the end of {cmp.year} (FTE), by region and group."),
        _table(cmp.vacancies, cmp, "fte", ["region", "group"],
               caption=f"Vacancies in {cmp.year} (FTE), where funded posts exist.")
        if len(cmp.vacancies) else "",
        "</section>",
    ]
    nav = "".join(f'<a href="#{i}">{t}</a>' for i, t in (
        ("plans", "Plans"), ("shortfall", "Shortfall"), ("spend", "Spend"),
        ("staff", "Staff and vacancies")))
    title = f"Comparing plans: {names[0]} against {others}"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{esc(title)}</title><style>{CSS}</style></head>"
            f"<body><main><h1>{esc(title)}</h1>"
            f"<p class=\"sub\">The first plan, <b>{esc(names[0])}</b>, is the base: every Δ "
            "is a plan's value minus the base's.</p>"
            f"<nav>{nav}</nav>{''.join(body)}</main></body></html>\n")


def write_comparison(cmp: Comparison, path: str | Path) -> Path:
    """Render and write the page atomically (a temporary file renamed into place)."""
    return write_file_atomically(render_comparison(cmp), path)


__all__ = ["Comparison", "compare", "delta", "format_comparison", "render_comparison",
           "write_comparison"]
