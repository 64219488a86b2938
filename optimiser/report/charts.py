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


def title_width(cols: float, fontsize: float = 8.5) -> int:
    """Characters of a title that fit over one of ``cols`` panels side by side."""
    points = WIDTH * 72 / max(cols, 1) * 0.92
    return max(12, int(points / (fontsize * 0.56)))


def embed(fig: Figure, alt: str, caption: str | None = None, share: float = 1.0) -> str:
    """A figure as an inline SVG ``<img>`` in a ``<figure>``; ``share`` below 1
    draws it on that share of the page's width (a row of fewer small panels than
    a full row holds, at the size of the panels of a full row)."""
    buf = io.BytesIO()
    with matplotlib.rc_context(STYLE):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    size = f' style="max-width: {share:.0%}"' if share < 1.0 else ""
    return (f'<figure><img class="chart"{size} alt="{html.escape(alt, quote=True)}" '
            f'src="data:image/svg+xml;base64,{data}">{cap}</figure>')


def _panels(n: int, cols: int, row_height: float, share: float = 1.0) -> tuple[Figure, list]:
    cols = max(1, min(cols, n))
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(WIDTH * share, row_height * rows + 0.5))
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


def _percent(ax) -> None:
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))


def vacancy_rates(panels: list[tuple[str, list[str], list[float]]], *, alt: str, caption: str,
                  reference: tuple[str, list[float]] | None = None, cols: int = 4,
                  row_height: float = 2.1, label: str = "the region's vacancy rate") -> str:
    """One small panel per place (a region): its vacancy rate per year (a line,
    with each year's rate on its point, the last one labelled), all panels on
    one scale from 0 so that places compare at a glance; ``reference``
    (label, rates) is drawn in every panel as a grey dashed line (the national
    rate). ``panels`` is [(title, years, rates)]; NaN rates draw nothing."""
    share = _row_share(len(panels), cols)  # fewer panels than a row: as large as in one
    width = title_width(min(cols, len(panels)) / share)
    titles = [wrap(p[0], width) for p in panels]
    row_height += 0.16 * (max(t.count("\n") for t in titles) if titles else 0)
    values = [v for _, _, rates in panels for v in rates if not math.isnan(v)]
    if reference is not None:
        values += [v for v in reference[1] if not math.isnan(v)]
    top = max([*values, 0.05]) * 1.18
    with matplotlib.rc_context(STYLE):
        fig, axes = _panels(len(panels), cols=cols, row_height=row_height, share=share)
        for ax, title, (_, years, rates) in zip(axes, titles, panels, strict=True):
            x = list(range(len(years)))
            if reference is not None:
                ax.plot(x, reference[1], "--", color="#8a8a8a", linewidth=1.2,
                        label=reference[0])
            ax.plot(x, rates, marker="o", color=colour(5), label=label)
            last = next((k for k in range(len(rates) - 1, -1, -1)
                         if not math.isnan(rates[k])), None)
            if last is not None:
                ax.annotate(f"{rates[last]:.0%}", (last, rates[last]), xytext=(0, 6),
                            textcoords="offset points", ha="center", va="bottom",
                            fontsize=7.5, color=colour(5))
            _years(ax, years)
            ax.set_ylim(0, top)
            _percent(ax)
            ax.set_title(title, fontsize=8.5)
        handles: dict[str, object] = {}
        for ax in axes[:1]:
            for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
                handles.setdefault(label, h)
        if handles:
            fig.legend(list(handles.values())[::-1], list(handles)[::-1], loc="upper left",
                       ncol=len(handles), fontsize=8, bbox_to_anchor=(0.0, 1.0))
            fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))
        else:
            fig.tight_layout()
    return embed(fig, alt, caption, share=share)


def _row_share(n: int, cols: int) -> float:
    """The share of the page's width of ``n`` panels of a row of ``cols``; never
    below half, so that a caption's width still matches the chart's."""
    return 1.0 if n >= cols else max(n / cols, 0.5)


def staff_against_posts(panels: list[tuple[str, list[str], list[float], list[float]]], *,
                        alt: str, caption: str, cols: int = 4, row_height: float = 2.2) -> str:
    """One small panel per staff group: staff in post (line) against funded posts
    (black dashed line), the vacant posts between them shaded, on an axis around
    the data (not from zero) so that a gap of a few per cent shows.
    ``panels`` is [(title, years, staff, posts)]."""
    gap_colour = "#D55E00"
    share = _row_share(len(panels), cols)  # fewer panels than a row: as large as in one
    width = title_width(min(cols, len(panels)) / share)
    titles = [wrap(p[0], width) for p in panels]
    row_height += 0.16 * (max(t.count("\n") for t in titles) if titles else 0)
    with matplotlib.rc_context(STYLE):
        fig, axes = _panels(len(panels), cols=cols, row_height=row_height, share=share)
        for ax, title, (_, years, staff, posts) in zip(axes, titles, panels, strict=True):
            x = list(range(len(years)))
            ax.fill_between(x, staff, posts, where=[p > s for s, p in zip(staff, posts,
                                                                          strict=True)],
                            interpolate=True, color=gap_colour, alpha=0.25, linewidth=0,
                            label="vacant posts")
            ax.plot(x, posts, "--", color="#000000", linewidth=1.4, label="funded posts")
            ax.plot(x, staff, marker="o", color=colour(0), label="staff in post")
            _years(ax, years)
            ax.set_title(title, fontsize=8.5)
            lo = min(v for v in [*staff, *posts] if not math.isnan(v))
            _data_range(ax, [*staff, *posts], share=0.2)
            if lo <= 0:
                ax.set_ylim(0, ax.get_ylim()[1])
            _thousands(ax)
        _top_legend(fig, axes[0], ncol=3)
    return embed(fig, alt, caption, share=share)


def rate_grid(rows: list[str], cols: list[str], rates: list[list[float]],
              counts: list[list[float]], *, alt: str, caption: str) -> str:
    """A table of coloured cells: the vacancy rate of each row (a staff group) in
    each column (a region), the rate and the vacant FTE written in the cell;
    NaN (no posts there) a blank grey cell."""
    import numpy as np

    data = np.array(rates, dtype=float)
    row_labels = [wrap(r, 30, 2) for r in rows]
    col_labels = [wrap(c, 13, 3) for c in cols]
    with matplotlib.rc_context({**STYLE, "axes.grid": False}):
        fig = Figure(figsize=(WIDTH, 0.36 * len(rows) + 1.5))
        ax = fig.add_subplot(1, 1, 1)
        cmap = matplotlib.colormaps["Oranges"].with_extremes(bad="#f0f0f0")
        ax.imshow(np.ma.masked_invalid(data), cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto")
        for i in range(len(rows)):
            for j in range(len(cols)):
                v = data[i, j]
                if math.isnan(v):
                    ax.text(j, i, "no posts", ha="center", va="center", fontsize=6.5,
                            color="#8a8a8a")
                    continue
                n = counts[i][j]
                ax.text(j, i, f"{v:.0%}\n{n:,.0f} FTE", ha="center", va="center",
                        fontsize=7, linespacing=1.1,
                        color="#ffffff" if v > 0.55 else "#1b1b1b")
        ax.set_xticks(range(len(cols)))
        ax.set_xticklabels(col_labels, fontsize=8)
        ax.xaxis.tick_top()
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels(row_labels, fontsize=8)
        ax.tick_params(length=0)
        for side in ("top", "right", "bottom", "left"):
            ax.spines[side].set_visible(False)
        ax.set_xticks([k - 0.5 for k in range(1, len(cols))], minor=True)
        ax.set_yticks([k - 0.5 for k in range(1, len(rows))], minor=True)
        ax.grid(which="minor", color="#ffffff", linewidth=1.5)
        ax.tick_params(which="minor", length=0)
        if len(cols) > 1:  # the first column (all regions) apart from the rest
            ax.axvline(0.5, color="#ffffff", linewidth=5)
        fig.tight_layout()
    return embed(fig, alt, caption)


def fair_shares(panels: list[tuple[str, list[str], list[float], list[float]]], *, alt: str,
                caption: str) -> str:
    """One panel per fair-share group (its worst year): each member's shortfall
    rate after the fairness stage (strong bars) and before it (light bars), the
    group's worst after as a dashed line. ``panels`` is [(title, members,
    after, before)]; a NaN before draws nothing."""
    after_colour, before_colour = colour(0), "#bcbcbc"
    heights = [0.32 * len(p[1]) + 0.9 for p in panels]
    labels = [[wrap(m, 36, 2) for m in p[1]] for p in panels]
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(WIDTH, sum(heights) + 0.4))
        grid = fig.add_gridspec(len(panels), 1, height_ratios=heights)
        axes = []
        for k, (title, members, after, before) in enumerate(panels):
            ax = fig.add_subplot(grid[k, 0])
            axes.append(ax)
            ys = range(len(members))
            ax.barh([y + 0.2 for y in ys], [0.0 if math.isnan(b) else b for b in before],
                    height=0.38, color=before_colour, label="before the fairness stage")
            ax.barh([y - 0.2 for y in ys], after, height=0.38, color=after_colour,
                    label="after (the plan)")
            worst = max(after) if after else 0.0
            ax.axvline(worst, color="#000000", linestyle="--", linewidth=1,
                       label="the group's worst")
            for y, a in zip(ys, after, strict=True):
                ax.annotate(f"{a:.1%}", (a, y - 0.2), xytext=(3, 0), textcoords="offset points",
                            va="center", fontsize=7, color=after_colour)
            _label_rows(ax, labels[k], "shortfall rate (share of the required FTE)")
            ax.set_axisbelow(True)
            ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
            top = max([*after, *[b for b in before if not math.isnan(b)], 0.01])
            ax.set_xlim(0, top * 1.15)
            ax.set_title(wrap(title, 110, 2), fontsize=8.5, loc="left")
        handles = dict(zip(*reversed(axes[0].get_legend_handles_labels()), strict=True))
        order = ["after (the plan)", "before the fairness stage", "the group's worst"]
        fig.legend([handles[k] for k in order], order, loc="upper left", ncol=3, fontsize=8,
                   bbox_to_anchor=(0.0, 1.0))
        fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))
    return embed(fig, alt, caption)
