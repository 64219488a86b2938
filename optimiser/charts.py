"""The report's charts: matplotlib figures embedded as inline SVG.

Each function takes tidy data (pandas, plain lists) and returns HTML for one
``<figure>``: an ``<img>`` whose source is a ``data:image/svg+xml`` URI, so the
page needs no network and no script. Figures use the object API (no pyplot, no
global backend), Okabe–Ito colours, text drawn as paths (no fonts needed) and
a fixed hash salt with no date, so the same data give the same bytes.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence

import matplotlib
import pandas as pd
from matplotlib.figure import Figure

PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000"]
"""Okabe–Ito colours: distinguishable with the common colour-vision deficiencies."""

STYLE = {
    "svg.hashsalt": "wfopt-report",  # stable element ids: same data, same bytes
    "svg.fonttype": "path",          # text drawn as paths: no font needed offline
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#dddddd",
    "legend.frameon": False,
}

WIDTH = 10.0
"""Figure width in inches; the page scales it to the column."""


def colour(k: int) -> str:
    return PALETTE[k % len(PALETTE)]


def embed(fig: Figure, alt: str, caption: str | None = None) -> str:
    """A figure as an inline SVG ``<img>`` in a ``<figure>``."""
    buf = io.BytesIO()
    with matplotlib.rc_context(STYLE):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return (f'<figure><img class="chart" alt="{html.escape(alt, quote=True)}" '
            f'src="data:image/svg+xml;base64,{data}">{cap}</figure>')


def _panels(n: int, cols: int, row_height: float) -> tuple[Figure, list]:
    cols = max(1, min(cols, n))
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(WIDTH, row_height * rows + 0.5))
    return fig, [fig.add_subplot(rows, cols, k + 1) for k in range(n)]


def _years(ax, years: Sequence[str]) -> None:
    ax.set_xticks(range(len(years)))
    ax.set_xticklabels(years)


def _top_legend(fig: Figure, ax, ncol: int = 4) -> None:
    """One legend for all panels, above them, never over a bar."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="upper left", ncol=ncol, fontsize=8,
                   bbox_to_anchor=(0.0, 1.0))
        fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))
    else:
        fig.tight_layout()


def _side_legend(ax, title: str | None = None) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), title=title)


def _label_rows(ax, labels: list[str], xlabel: str) -> None:
    """A horizontal bar chart's axes: one row per label, top to bottom, grid on x."""
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", color="#dddddd")
    ax.grid(axis="y", visible=False)


def _zero_floor(ax) -> None:
    """Counts never go below zero; an all-zero panel still shows a sensible axis."""
    top = ax.get_ylim()[1]
    ax.set_ylim(0, max(top, 1.0))


def small_multiples(panels: list[tuple[str, list[str], list[float], list[float]]], *,
                    bar_label: str, overlay_label: str, overlay: str, alt: str, caption: str,
                    cols: int = 3, row_height: float = 2.4, bar_colour: int = 0,
                    ylabel: str | None = None) -> str:
    """One small panel per item: bars per year, with a second series drawn over
    them as black marks (``overlay="marks"``: a requirement, a limit; NaN draws
    nothing) or a line (``overlay="line"``). ``panels`` is
    [(title, years, bar values, overlay values)]."""
    with matplotlib.rc_context(STYLE):
        fig, axes = _panels(len(panels), cols=cols, row_height=row_height)
        for ax, (title, years, bars, over) in zip(axes, panels, strict=True):
            x = range(len(years))
            ax.bar(x, bars, width=0.6, color=colour(bar_colour), label=bar_label)
            if overlay == "line":
                ax.plot(x, over, marker="o", color=colour(5), label=overlay_label)
            elif any(not math.isnan(v) for v in over):
                ax.plot(x, over, "_", color="#000000", markersize=22, markeredgewidth=2,
                        label=overlay_label)
            _years(ax, years)
            longest = 130 // len(axes[: cols]) if len(axes) > 1 else 120  # fits a panel
            ax.set_title(title if len(title) <= longest else title[:longest - 1] + "…",
                         fontsize=8.5)
            if ylabel:
                ax.set_ylabel(ylabel, fontsize=8)
            _zero_floor(ax)
            finite = [v for v in over if not math.isnan(v)]
            if finite:  # keep every mark inside the panel
                ax.set_ylim(0, max(ax.get_ylim()[1], max(finite) * 1.1))
        _top_legend(fig, axes[0])
    return embed(fig, alt, caption)


def staff_by_group(by_group: pd.DataFrame) -> str:
    """Lines: staff in post per group (rows) and year (columns), all units."""
    years = [str(y) for y in by_group.columns]
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(WIDTH, 3.2))
        ax = fig.add_subplot(1, 1, 1)
        for k, (g, row) in enumerate(by_group.iterrows()):
            ax.plot(range(len(years)), row.values, marker="o", label=g, color=colour(k))
        _years(ax, years)
        ax.set_ylabel("FTE in post (all units)")
        _zero_floor(ax)
        _side_legend(ax)
        fig.tight_layout()
    return embed(fig, "Staff in post by group and year",
                 "Staff in post at the end of each year, all units (the first year is the "
                 "baseline).")


def stacked_years(series: dict[str, list[float]], years: list[str], ylabel: str, alt: str,
                  caption: str, empty: str = "nothing") -> str:
    """Bars per year, stacked by series (targets' shortfall, levers' spend)."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(WIDTH, 3.2))
        ax = fig.add_subplot(1, 1, 1)
        bottom = [0.0] * len(years)
        for k, (name, vals) in enumerate(series.items()):
            if not any(v > 0 for v in vals):
                continue
            ax.bar(range(len(years)), vals, bottom=bottom, width=0.6, label=name,
                   color=colour(k))
            bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
        _years(ax, years)
        ax.set_ylabel(ylabel)
        _zero_floor(ax)
        if not any(b > 0 for b in bottom):
            ax.text(0.5, 0.5, empty, ha="center", va="center", transform=ax.transAxes)
        _side_legend(ax)
        fig.tight_layout()
    return embed(fig, alt, caption)


def horizontal_stacked(labels: list[str], series: dict[str, list[float]], xlabel: str,
                       alt: str, caption: str, legend_title: str | None = None) -> str:
    """Horizontal bars per label, stacked by series (retention by unit and year)."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(WIDTH, 0.32 * len(labels) + 1.3))
        ax = fig.add_subplot(1, 1, 1)
        left = [0.0] * len(labels)
        for k, (name, vals) in enumerate(series.items()):
            ax.barh(range(len(labels)), vals, left=left, label=name, color=colour(k))
            left = [a + b for a, b in zip(left, vals, strict=True)]
        _label_rows(ax, labels, xlabel)
        _side_legend(ax, legend_title)
        fig.tight_layout()
    return embed(fig, alt, caption)


def grouped_years(series: list[tuple[str, list[str], list[float]]], ylabel: str, alt: str,
                  caption: str) -> str:
    """Bars side by side per year, one per series (returners, recruits)."""
    years = sorted({y for _, ys, _ in series for y in ys})
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(WIDTH, 3.0))
        ax = fig.add_subplot(1, 1, 1)
        width = 0.8 / len(series)
        for k, (label, ys, vals) in enumerate(series):
            xs = [years.index(y) - 0.4 + width * (k + 0.5) for y in ys]
            ax.bar(xs, vals, width=width, label=label, color=colour(k))
        _years(ax, years)
        ax.set_ylabel(ylabel)
        _zero_floor(ax)
        _side_legend(ax)
        fig.tight_layout()
    return embed(fig, alt, caption)


def grouped_bars(labels: list[str], series: dict[str, list[float]], xlabel: str, alt: str,
                 caption: str) -> str:
    """Horizontal bars per label, one per series side by side (marginal values)."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(WIDTH, 0.45 * len(labels) + 1.3))
        ax = fig.add_subplot(1, 1, 1)
        height = 0.8 / len(series)
        for k, (name, vals) in enumerate(series.items()):
            ys = [i - 0.4 + height * (k + 0.5) for i in range(len(labels))]
            ax.barh(ys, vals, height=height, label=name, color=colour(k + 2))
        _label_rows(ax, labels, xlabel)
        _side_legend(ax)
        fig.tight_layout()
    return embed(fig, alt, caption)
