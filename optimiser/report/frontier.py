"""The frontier plot of a sweep (``frontier.png``), for planners.

A sweep over one key shows what its value buys: weighted shortfall W (FTE)
against the swept value, with total cost C under it on the same horizontal
axis. A sweep over several keys shows the trade-off itself: W against C, one
line per combination of all but the last key, each point labelled with its
values. Points without a plan (invalid, infeasible, no solution, error) have no
W or C: they are left out of the curves and their ticks, counted in the title
and named under the plot, so that none can pass for a plan with no shortfall.
Axes carry units (FTE, the instance's currency in millions, percentages for
rates), derived from the swept key's field.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from optimiser.sweep.grid import GridAxis, format_value

MONEY_FIELDS = {"per_year", "total", "cost_per_place_year", "cohort_fixed_cost",
                "cost_per_returner", "fixed_cost", "cost_per_recruit", "min_funding",
                "value_per_fte"}
RATE_FIELDS = {"leaver_rate", "completion_rate", "employment_rate", "max_retained_share"}
FTE_FIELDS = {"fte", "pool", "max_per_year", "max_total", "required", "joiners"}
PLACE_FIELDS = {"max_places_per_year", "min_cohort"}
SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}
MAX_LABELS = 40
"""More points than this on a W–C plot are not labelled one by one (unreadable)."""


def field_of(key: str) -> str:
    """The field a key ends in, skipping year and item segments
    (``budgets.main.per_year.2018`` → ``per_year``)."""
    parts = [p for p in key.split(".") if not p.isdigit() and p != "*"]
    return parts[-1] if parts else key


def value_unit(axis: GridAxis) -> str:
    """``money``, ``rate``, ``fte``, ``places``, ``factor`` or ``""``."""
    if axis.kind == "scale":
        return "factor"
    f = field_of(axis.key)
    for unit, fields in (("money", MONEY_FIELDS), ("rate", RATE_FIELDS), ("fte", FTE_FIELDS),
                         ("places", PLACE_FIELDS)):
        if f in fields:
            return unit
    return ""


def money(x: float, symbol: str) -> str:
    """``£250m``, ``£40k``, ``£900``: short enough for a point label."""
    if abs(x) >= 1e6:
        return f"{symbol}{x / 1e6:,.4g}m"
    if abs(x) >= 1e3:
        return f"{symbol}{x / 1e3:,.4g}k"
    return f"{symbol}{x:,.4g}"


def value_label(axis: GridAxis, value: Any, symbol: str) -> str:
    """A swept value in the axis's unit, for point labels and ticks."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return format_value(value)
    unit = value_unit(axis)
    if unit == "money":
        return money(float(value), symbol)
    if unit == "rate":
        return f"{value * 100:.4g}%"
    if unit == "factor":
        return f"×{value:g}"
    return f"{value:,.6g}"


def axis_title(axis: GridAxis, symbol: str) -> str:
    """The key with its unit, for the horizontal axis of a one-key sweep."""
    unit = value_unit(axis)
    suffix = {"money": f"{symbol}", "rate": "%", "fte": "FTE", "places": "places",
              "factor": "× the instance's values"}.get(unit, "")
    return f"{axis.key} ({suffix})" if suffix else axis.key


def plot_frontier(frame: pd.DataFrame, axes: Sequence[GridAxis], instance: str, path: Path,
                  currency: str = "GBP") -> None:
    """Draw the sweep's frontier into ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt

    fig = frontier_figure(plt, frame, axes, instance, currency)
    fig.savefig(path, dpi=120, metadata={"Software": None})
    plt.close(fig)


def frontier_figure(plt: Any, frame: pd.DataFrame, axes: Sequence[GridAxis], instance: str,
                    currency: str = "GBP") -> Any:
    """The frontier as a matplotlib figure (``plt`` is ``matplotlib.pyplot``)."""
    symbol = SYMBOLS.get(currency, currency + " ")
    # Only a plan has W and C: a failed point's are missing, and drawn anywhere
    # (W = 0 with its swept value as a tick) it would look like a perfect plan.
    has_plan = frame["status"].isin(["optimal", "feasible"]) \
        & frame["weighted_shortfall"].notna() & frame["total_cost"].notna()
    solved, failed = frame[has_plan], frame[~has_plan]
    note = failed_note(failed, axes)
    if len(axes) == 1:
        fig = _one_key(plt, frame, solved, axes[0], instance, symbol, note)
    else:
        fig = _trade_off(plt, frame, solved, axes, instance, symbol, note)
    return fig


MAX_NAMED = 8
"""Failed points named one by one under the plot; the rest are counted."""


def failed_note(failed: pd.DataFrame, axes: Sequence[GridAxis]) -> list[str]:
    """'2 points without a plan, not drawn (see sweep.csv): 3 (per_year=-1,
    invalid); 5 (…, infeasible)', wrapped to the figure's width; [] when none."""
    if not len(failed):
        return []
    named = []
    for r in failed.head(MAX_NAMED).itertuples(index=False):
        row = dict(zip(failed.columns, r, strict=True))
        values = ", ".join(f"{field_of(a.key)}={format_value(row[a.column])}" for a in axes)
        named.append(f"{int(row['point'])} ({values}: {row['status']})")
    more = len(failed) - len(named)
    n = len(failed)
    text = (f"{n} point{'s' * (n != 1)} without a plan, not drawn (see sweep.csv): "
            + "; ".join(named) + (f"; and {more} more" if more else "") + ".")
    return textwrap.wrap(text, 150, break_on_hyphens=False)


def _note(fig: Any, note: list[str]) -> float:
    """Write the note under the plot; returns the figure's share it takes."""
    if not note:
        return 0.03
    fig.text(0.01, 0.01, "\n".join(note), fontsize=8, color="firebrick", va="bottom")
    return 0.03 + 0.022 * len(note)


def plan_count(frame: pd.DataFrame, solved: pd.DataFrame) -> str:
    """``20 points, 18 with a plan (2 not proven optimal)``."""
    unproven = int((solved["status"] == "feasible").sum())
    text = f"{len(frame)} points, {len(solved)} with a plan"
    return text + (f" ({unproven} not proven optimal)" if unproven else "")


def _one_key(plt: Any, frame: pd.DataFrame, solved: pd.DataFrame, axis: GridAxis,
             instance: str, symbol: str, note: list[str]) -> Any:
    """W and C against the swept value of the points with a plan; non-numeric
    values are evenly spaced."""
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in axis.values)
    scale = 100.0 if value_unit(axis) == "rate" else 1.0
    planned = {format_value(v) for v in solved[axis.column]}
    shown = [v for v in axis.values if format_value(v) in planned]
    position = {format_value(v): (float(v) * scale if numeric else i)
                for i, v in enumerate(shown)}
    x = [position[format_value(v)] for v in solved[axis.column]]
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(9, 7),
                                      gridspec_kw={"height_ratios": [3, 2]})
    top.plot(x, solved["weighted_shortfall"], marker="o", color="tab:red",
             label="optimal (within the MIP gap)")
    unproven = (solved["status"] == "feasible").to_numpy()
    if unproven.any():
        xs = [xi for xi, u in zip(x, unproven, strict=True) if u]
        top.plot(xs, solved["weighted_shortfall"][unproven], linestyle="none", marker="o",
                 markerfacecolor="white", color="tab:red",
                 label="feasible: a limit was reached, not proven optimal")
        bottom_unproven = (xs, solved["total_cost"][unproven] / 1e6)
        top.legend(fontsize=8, loc="best")
    top.set_ylabel("weighted shortfall W (FTE)")
    top.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    top.set_ylim(0, 1.15 * max([*solved["weighted_shortfall"], 1e-9]))  # room for labels
    if not len(solved):
        top.text(0.5, 0.5, "no point has a plan", ha="center", va="center",
                 transform=top.transAxes, color="firebrick")
    for xi, w in zip(x, solved["weighted_shortfall"], strict=True):
        top.annotate(f"{w:,.0f}", (xi, w), textcoords="offset points", xytext=(0, 6),
                     ha="center", fontsize=8)
    bottom.plot(x, solved["total_cost"] / 1e6, marker="s", color="tab:blue")
    if unproven.any():
        bottom.plot(*bottom_unproven, linestyle="none", marker="s", markerfacecolor="white",
                    color="tab:blue")
    for xi, c in zip(x, solved["total_cost"], strict=True):
        bottom.annotate(money(c, symbol), (xi, c / 1e6), textcoords="offset points",
                        xytext=(0, 6), ha="center", fontsize=8)
    bottom.set_ylabel(f"total cost C ({symbol}m)")
    bottom.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _pos: f"{v:,.4g}"))
    bottom.set_ylim(0, 1.2 * max([*(solved["total_cost"] / 1e6), 1e-9]))
    if numeric and scale == 1.0 and value_unit(axis) == "money":
        bottom.xaxis.set_major_formatter(
            plt.FuncFormatter(lambda v, _pos: money(v, symbol)))
    if shown and (not numeric or len(shown) <= 12):
        bottom.set_xticks(list(position.values()))
        bottom.set_xticklabels([value_label(axis, v, symbol) for v in shown],
                               rotation=30 if len(shown) > 6 else 0, ha="right"
                               if len(shown) > 6 else "center")
    bottom.set_xlabel(axis_title(axis, symbol))
    for ax in (top, bottom):
        ax.grid(True, alpha=0.3)
    top.set_title(f"{instance}: weighted shortfall and cost against {axis.key}\n"
                  f"{plan_count(frame, solved)}", fontsize=11)
    fig.tight_layout(rect=(0, _note(fig, note), 1, 1))
    return fig


def _trade_off(plt: Any, frame: pd.DataFrame, solved: pd.DataFrame,
               axes: Sequence[GridAxis], instance: str, symbol: str,
               note: list[str]) -> Any:
    """W against C; one line per combination of the leading keys, ordered by
    the last key; points labelled with their values."""
    fig, ax = plt.subplots(figsize=(9, 7))
    lead, last = axes[:-1], axes[-1]
    groups = solved.groupby([a.column for a in lead], sort=False, dropna=False) \
        if len(solved) else []
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        name = ", ".join(f"{field_of(a.key)} {value_label(a, v, symbol)}"
                         for a, v in zip(lead, key, strict=True))
        ax.plot(part["total_cost"] / 1e6, part["weighted_shortfall"], marker="o", label=name)
        if len(solved) <= MAX_LABELS:
            for r in part.itertuples(index=False):
                row = dict(zip(part.columns, r, strict=True))
                ax.annotate(value_label(last, row[last.column], symbol),
                            (row["total_cost"] / 1e6, row["weighted_shortfall"]),
                            textcoords="offset points", xytext=(4, 4), fontsize=8)
    unproven = solved[solved["status"] == "feasible"]
    if len(unproven):
        ax.plot(unproven["total_cost"] / 1e6, unproven["weighted_shortfall"], linestyle="none",
                marker="o", markerfacecolor="white", color="grey",
                label="not proven optimal (a limit was reached)")
    ax.set_xlabel(f"total cost C ({symbol}m)")
    ax.set_ylabel("weighted shortfall W (FTE)")
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    if len(solved):
        ax.legend(title=", ".join(a.key for a in lead), fontsize=8, title_fontsize=8)
    keys = " × ".join(a.key for a in axes)
    ax.set_title(f"{instance}: shortfall against cost over {keys}\n"
                 f"{plan_count(frame, solved)}; points labelled with {last.key}", fontsize=11)
    fig.tight_layout(rect=(0, _note(fig, note), 1, 1))
    return fig
