"""The report's charts: matplotlib figures embedded as inline SVG.

Each function takes tidy data (pandas, plain lists) and returns HTML for one
``<figure>``: an ``<img>`` whose source is a ``data:image/svg+xml`` URI, so the
page needs no network and no script. Figures use the object API (no pyplot, no
global backend), Okabe–Ito colours up to 8 series and a 20-colour palette
beyond (:func:`palette`), titles wrapped to their panel rather than cut, text
drawn as paths (no fonts needed) and a fixed hash salt with no date, so the same
data give the same bytes.
"""

from __future__ import annotations

import base64
import html
import io
import math
import textwrap
from collections.abc import Sequence

import matplotlib
import matplotlib.ticker
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


WIDE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
        "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896",
        "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5"]
"""matplotlib's tab20, the ten strong colours first and their light pairs after,
so that up to ten series never share a hue and up to twenty stay apart."""


def palette(n: int) -> list[str]:
    """Colours for ``n`` series: Okabe–Ito up to 8 (safe for colour-blind
    readers), else the 20 of :data:`WIDE`; beyond 20 they repeat, so callers
    keep the largest series and group the rest."""
    base = PALETTE if n <= len(PALETTE) else WIDE
    return [base[k % len(base)] for k in range(n)]


def colour(k: int) -> str:
    return PALETTE[k % len(PALETTE)]


def wrap(text: str, width: int, lines: int = 4) -> str:
    """``text`` on at most ``lines`` lines of ``width`` characters; only what
    does not fit even then is cut (with "…")."""
    out = textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][: width - 1].rstrip() + "…"
    return "\n".join(out)


def title_width(cols: int, fontsize: float = 8.5) -> int:
    """Characters of a title that fit over one of ``cols`` panels side by side."""
    points = WIDTH * 72 / max(cols, 1) * 0.92
    return max(12, int(points / (fontsize * 0.56)))


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


def _side_legend(ax, title: str | None = None, reverse: bool = False) -> None:
    """The legend right of the plot; ``reverse`` for stacked bars, so that it
    lists the series top to bottom as they are stacked."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        if reverse:
            handles, labels = handles[::-1], labels[::-1]
        ax.legend(handles, labels, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  title=title)


def _legend_height(labels: Sequence[str]) -> float:
    """Inches of figure a side legend of these (wrapped) labels needs: its lines,
    the gaps between entries, and the axis labels under the plot."""
    lines = sum(label.count("\n") + 1 for label in labels)
    return 0.9 + 0.14 * lines + 0.06 * len(labels)


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
    width = title_width(min(cols, len(panels)))
    titles = [wrap(p[0], width) for p in panels]
    row_height += 0.16 * (max(t.count("\n") for t in titles) if titles else 0)
    with matplotlib.rc_context(STYLE):
        fig, axes = _panels(len(panels), cols=cols, row_height=row_height)
        for ax, title, (_, years, bars, over) in zip(axes, titles, panels, strict=True):
            x = range(len(years))
            ax.bar(x, bars, width=0.6, color=colour(bar_colour), label=bar_label)
            if overlay == "line":
                ax.plot(x, over, marker="o", color=colour(5), label=overlay_label)
            elif any(not math.isnan(v) for v in over):
                ax.plot(x, over, "_", color="#000000", markersize=22, markeredgewidth=2,
                        label=overlay_label)
            _years(ax, years)
            ax.set_title(title, fontsize=8.5)
            if ylabel:
                ax.set_ylabel(ylabel, fontsize=8)
            _zero_floor(ax)
            finite = [v for v in over if not math.isnan(v)]
            if finite:  # keep every mark inside the panel
                ax.set_ylim(0, max(ax.get_ylim()[1], max(finite) * 1.1))
        _top_legend(fig, axes[0])
    return embed(fig, alt, caption)


def _data_range(ax, values: Sequence[float], share: float = 0.12) -> None:
    """A vertical axis around the data, not from zero, so that a gap of a few
    per cent of the total shows; a little room above and below."""
    finite = [v for v in values if not math.isnan(v)]
    if not finite:
        return
    lo, hi = min(finite), max(finite)
    pad = max((hi - lo) * share, abs(hi) * 0.01, 0.5)
    ax.set_ylim(max(lo - pad, 0.0) if lo >= 0 else lo - pad, hi + pad)


def _thousands(ax) -> None:
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
        lambda v, _pos: f"{v:,.0f}" if abs(v) >= 10 else f"{v:,.3g}"))


def staff_by_group(by_group: pd.DataFrame, names: dict[str, str] | None = None,
                   caption_extra: str = "") -> str:
    """Staff in post per group (rows) and year (columns), all units: one small
    panel per group with its own scale, titled with its name and its change
    over the plan (groups of 40,000 and of 500 FTE cannot share one axis, nor
    a dozen lines one set of colours)."""
    names = names or {}
    years = [str(y) for y in by_group.columns]
    cols = 4
    width = title_width(min(cols, len(by_group)))
    titles = []
    for g, row in by_group.iterrows():
        first, last = float(row.iloc[0]), float(row.iloc[-1])
        share = round((last - first) / first, 2) if first > 0 else None
        change = "" if share is None else " (no change)" if share == 0 else f" ({share:+.0%})"
        titles.append(wrap(f"{names.get(g, g)}: {first:,.0f} → {last:,.0f}{change}", width))
    extra = 0.16 * (max(t.count("\n") for t in titles) if titles else 0)
    with matplotlib.rc_context(STYLE):
        fig, axes = _panels(len(by_group), cols=cols, row_height=2.0 + extra)
        for ax, title, (_, row) in zip(axes, titles, by_group.iterrows(), strict=True):
            ax.plot(range(len(years)), row.values, marker="o", color=colour(0))
            _years(ax, years)
            ax.set_title(title, fontsize=8.5)
            _data_range(ax, list(row.values), share=0.25)
            _thousands(ax)
            if not any(v > 0 for v in row.values):
                ax.text(0.5, 0.5, "none in post", ha="center", va="center",
                        transform=ax.transAxes, color="#5a5a5a")
        fig.tight_layout()
    return embed(fig, "Staff in post by group and year",
                 "Staff in post (FTE) at the end of each year, all units; the first year is "
                 "the baseline. Each panel has its own scale, not from zero: the title gives "
                 "the change over the plan." + caption_extra)


def target_gaps(panels: list[tuple[str, list[str], list[float], list[float]]], *, alt: str,
                caption: str, cols: int = 4, row_height: float = 2.3) -> str:
    """One small panel per target: achieved (line) against required (black
    marks) per year, on an axis around the data (not from zero) so that a gap
    of a few per cent shows, with each year's gap drawn and labelled in FTE.
    ``panels`` is [(title, years, achieved, required)]."""
    short_colour = "#D55E00"
    width = title_width(min(cols, len(panels)))
    titles = [wrap(p[0], width) for p in panels]
    row_height += 0.16 * (max(t.count("\n") for t in titles) if titles else 0)
    with matplotlib.rc_context(STYLE):
        fig, axes = _panels(len(panels), cols=cols, row_height=row_height)
        for ax, title, (_, years, achieved, required) in zip(axes, titles, panels,
                                                              strict=True):
            x = list(range(len(years)))
            ax.plot(x, required, "_", color="#000000", markersize=20, markeredgewidth=2,
                    label="required")
            ax.plot(x, achieved, marker="o", color=colour(0), label="achieved")
            for i, (a, r) in enumerate(zip(achieved, required, strict=True)):
                gap = r - a
                if math.isnan(gap) or gap <= 0.05:
                    continue
                ax.vlines(i, a, r, color=short_colour, linewidth=3, label="shortfall")
                # Right of the gap, clear of the line that comes in from the left.
                ax.annotate(f"−{gap:,.0f}", (i, (a + r) / 2), xytext=(11, 0),
                            textcoords="offset points", ha="left", va="center",
                            fontsize=7.5, color=short_colour)
            _years(ax, years)
            ax.set_xlim(-0.5, len(x) - 0.5 + 0.5)  # room for the last year's label
            ax.set_title(title, fontsize=8.5)
            _data_range(ax, [*achieved, *required])
            _thousands(ax)
        handles: dict[str, object] = {}
        for ax in axes:  # one legend entry per kind, shortfall only where there is one
            for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
                handles.setdefault(label, h)
        if handles:
            fig.legend(list(handles.values()), list(handles), loc="upper left",
                       ncol=len(handles), fontsize=8, bbox_to_anchor=(0.0, 1.0))
            fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))
        else:
            fig.tight_layout()
    return embed(fig, alt, caption)


def stacked_years(series: dict[str, list[float]], years: list[str], ylabel: str, alt: str,
                  caption: str, empty: str = "nothing") -> str:
    """Bars per year, stacked by series (targets' shortfall, levers' spend); the
    first series at the bottom, and first in the legend's bottom row."""
    drawn = {name: vals for name, vals in series.items() if any(v > 0 for v in vals)}
    labels = [wrap(name, 34) for name in drawn]
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(WIDTH, max(3.2, _legend_height(labels))))
        ax = fig.add_subplot(1, 1, 1)
        bottom = [0.0] * len(years)
        for label, vals, c in zip(labels, drawn.values(), palette(len(drawn)), strict=True):
            ax.bar(range(len(years)), vals, bottom=bottom, width=0.6, label=label, color=c)
            bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
        _years(ax, years)
        ax.set_ylabel(ylabel)
        _zero_floor(ax)
        _thousands(ax)
        if not any(b > 0 for b in bottom):
            ax.text(0.5, 0.5, empty, ha="center", va="center", transform=ax.transAxes)
        _side_legend(ax, reverse=True)
        fig.tight_layout()
    return embed(fig, alt, caption)


def horizontal_stacked(labels: list[str], series: dict[str, list[float]], xlabel: str,
                       alt: str, caption: str, legend_title: str | None = None) -> str:
    """Horizontal bars per label, stacked by series (retention by unit and year)."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(WIDTH, 0.32 * len(labels) + 1.3))
        ax = fig.add_subplot(1, 1, 1)
        left = [0.0] * len(labels)
        for (name, vals), c in zip(series.items(), palette(len(series)), strict=True):
            ax.barh(range(len(labels)), vals, left=left, label=name, color=c)
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
        colours = palette(len(series))
        for k, (label, ys, vals) in enumerate(series):
            xs = [years.index(y) - 0.4 + width * (k + 0.5) for y in ys]
            ax.bar(xs, vals, width=width, label=wrap(label, 40), color=colours[k])
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
