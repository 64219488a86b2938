"""The plan on one screen: the lines ``wfopt solve`` prints, and the reasons ranked.

:func:`summary_lines` turns a plan's summary (the content of ``summary.json``,
:meth:`Result.summary <optimiser.results.tables.Result.summary>`) and its tables
into the printed summary; the command line only prints them. It is a list of
sections (:data:`SECTIONS`), each a function of :class:`Facts` that returns its
few lines, so a section is added by adding a function. The summary of a
national plan fits one screen (stepping-forward-2017: 33 lines): a long table
shows its largest rows, a long list its first items and a count.

:func:`ranked_reasons` orders the sentences of "why the shortfall remains"
(:func:`optimiser.explain.diagnose.explain_shortfall`) by the marginal value
each states: what one more unit of the limit it names would remove
(:func:`formulations.words.removed_value`). The summary prints the first
:data:`REASONS_SHOWN`, each cut to :data:`REASON_WIDTH` characters
(:func:`shorten`); ``--explain`` and ``wfopt explain`` print all of them in
full, and the HTML report opens with the same five.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from formulations import lever_names, words
from formulations.placement import placed_words
from optimiser.results.format import clean

REASONS_SHOWN = 5
"""Reasons in the summary; the rest are counted and printed by ``--explain``."""

REASON_WIDTH = 200
"""Most characters of a reason (and of any line) in the summary."""

ITEMS_SHOWN = 3
"""Items of a long list kept in a shortened reason, the rest counted."""

WORST_SHORTFALLS = 5
WORST_REGIONS = 3
FAIR_YEARS = 3
"""Years shown per fair-share group (its worst)."""

LABEL = 20
"""Width of a line's label (``weighted shortfall  ``)."""


@dataclass
class Reason:
    """One sentence of why the shortfall remains, with the marginal value it
    states (FTE of the objective removed by one more unit of its limit: £1m, a
    place, a post, a recruit), None when it states none."""

    text: str
    value: float | None

    @property
    def short(self) -> str:
        """The sentence cut to :data:`REASON_WIDTH` characters (:func:`shorten`)."""
        return shorten(self.text)


def ranked_reasons(explanations: Iterable[str]) -> tuple[str | None, list[Reason]]:
    """The overview sentence (the first of ``explain_shortfall``: how much
    shortfall remains, or that every target is met) and the reasons after it,
    those with the largest marginal value first; reasons without one follow in
    the engine's order (most binding first), as do equal values."""
    sentences = list(explanations)
    if not sentences:
        return None, []
    reasons = [Reason(s, words.removed_value(s)) for s in sentences[1:]]
    order = sorted(range(len(reasons)), key=lambda i: (reasons[i].value is None,
                                                       -(reasons[i].value or 0.0), i))
    return sentences[0], [reasons[i] for i in order]


# ---------------------------------------------------------------- shortening

_ID = re.compile(r" \((?=[a-z0-9_]*[a-z])[a-z0-9_]+\)")
"""An id in brackets after its name: "Merciavale Mental Health NHS Trust (merciavale)"."""

_COUNTED = re.compile(r"(?P<items>[^:;]*?, [^:;]*?) and (?P<more>\d+) more")
"""Items named then counted: "A, B, C and 47 more" (the items hold no ':' or ';')."""

_HELD = re.compile(r",? with the plan's whole-number decisions held")


def _top_level(text: str, sep: str) -> list[str]:
    """``text`` split at ``sep`` outside brackets: "'a' (35 a year, 2017), 'b'"
    is two items."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        c = text[i]
        depth += (c == "(") - (c == ")")
        if depth == 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            start = i = i + len(sep)
            continue
        i += 1
    return [*parts, text[start:]]


def _fewer_items(text: str, width: int) -> str:
    """A long ``; ``-separated list after a colon (one programme per item, each
    with its figures) keeps its first :data:`ITEMS_SHOWN` (fewer where they do
    not fit in ``width``) and a count; a clause stating a marginal value stays."""
    head, sep, rest = text.partition(": ")
    if not sep or "; " not in rest:
        return text
    end = "." if rest.endswith(".") else ""
    parts = _top_level(rest[:len(rest) - len(end)], "; ")
    valued = [p for p in parts[1:] if words.REMOVES.search(p)]
    items = [p for p in parts if p not in valued]
    if len(items) <= ITEMS_SHOWN:
        return text
    for keep in range(ITEMS_SHOWN, 0, -1):
        kept = "; ".join(items[:keep]) + f" and {len(items) - keep} more"
        out = head + sep + "; ".join([kept, *valued]) + end
        if len(out) <= width:
            break
    return out


def _first_item(text: str, width: int) -> str:
    """"A, B, C and 47 more" becomes "A and 49 more"."""
    def one(m: re.Match[str]) -> str:
        items = _top_level(m["items"], ", ")
        return f"{items[0]} and {int(m['more']) + len(items) - 1} more"
    return _COUNTED.sub(one, text)


SHORTER: tuple[Callable[[str, int], str], ...] = (
    lambda t, _: _HELD.sub("", t),
    _fewer_items,
    lambda t, _: _ID.sub("", t),
    _first_item,
)
"""The ways to shorten a sentence, tried in turn until it fits."""


def shorten(text: str, width: int = REASON_WIDTH) -> str:
    """``text`` in at most ``width`` characters: the qualifier "with the plan's
    whole-number decisions held" goes (the full sentence has it), long lists
    become their first items and a count, ids after names go, then
    named-and-counted lists keep one name; what still does not fit is cut at a
    word and ends in "…"."""
    for way in SHORTER:
        if len(text) <= width:
            return text
        text = way(text, width)
    if len(text) <= width:
        return text
    cut = text[:width - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > width // 2 else cut).rstrip(" ,;:(") + "…"


# ---------------------------------------------------------------- the sections


@dataclass
class Facts:
    """What a section reads: the summary (``summary.json``'s content), the
    tables (a stochastic plan's: its reference scenario's rows,
    :func:`reference_tables`) and whether every reason is wanted in full."""

    summary: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    explain: bool = False

    @property
    def currency(self) -> str:
        return str(self.summary.get("currency") or "GBP")

    @property
    def has_plan(self) -> bool:
        return self.summary.get("status") in ("optimal", "feasible")

    def money(self, x: float | None) -> str:
        return money(x, self.currency)


def money(x: float | None, currency: str = "GBP") -> str:
    """Money in the terminal's columns (two decimals of millions); ``-`` for none."""
    return "-" if x is None else words.money(x, currency, fixed=True)


def labelled(label: str, text: str) -> str:
    return f"{label:<{LABEL}}{text}"


def joined(label: str, items: list[str], width: int = REASON_WIDTH) -> list[str]:
    """``label`` then the items, comma-separated, on as few lines of at most
    ``width`` characters as they take (later lines indented under the first)."""
    lines: list[str] = []
    line = f"{label:<{LABEL}}"
    for i, item in enumerate(items):
        piece = item + ("," if i < len(items) - 1 else "")
        if len(line) + len(piece) + 1 > width and line.strip():
            lines.append(line.rstrip())
            line = " " * LABEL
        line += piece + " "
    lines.append(line.rstrip())
    return lines


def status_lines(f: Facts) -> list[str]:
    """Instance, status, W and C, the gap and HiGHS's time; the notes; without
    a plan, the conflicts."""
    s = f.summary
    gap = "-" if s.get("mip_gap") is None else f"{s['mip_gap']:.4%}"
    out = [labelled("instance", str(s.get("instance"))),
           labelled("status", str(s.get("status")))]
    if f.has_plan:
        out.append(labelled("weighted shortfall", f"{s['weighted_shortfall']:,.2f} FTE"))
        out.append(labelled("total cost", f.money(s["total_cost"])))
        out += run_out_lines(f)
    out.append(labelled("mip gap", f"{gap}, solve time {float(s.get('solve_seconds') or 0):.2f}"
                                   f" s (HiGHS), mode {s.get('objective_mode')}"))
    out += good_plan_lines(f)
    out += [labelled("note", str(m)) for m in s.get("messages") or ()]
    if s.get("conflicts"):
        out.append("why no plan exists (these cannot all hold together)")
        out += [f"  - {c}" for c in s["conflicts"]]
    if f.has_plan and s.get("scenarios"):
        out.append(f"below, the reference scenario '{s['scenarios'][0]['id']}' (every "
                   "scenario is in the tables)")
    return out


def good_plan_lines(f: Facts) -> list[str]:
    """When W's and C's stages first had a plan within 1% and within the gap of
    their final bounds (``summary.json`` ``good_plan``), in one line."""
    parts = []
    for key, name in (("weighted_shortfall", "W"), ("total_cost", "C")):
        g = (f.summary.get("good_plan") or {}).get(key)
        if not g:
            continue
        one, gap = g.get("within_1pct_seconds"), g.get("within_gap_seconds")
        words = [f"within 1% at {one:.1f} s" if one is not None else "never within 1%"]
        if gap is not None:
            words.append(f"within the gap at {gap:.1f} s")
        parts.append(f"{name} " + ", ".join(words))
    if not parts or not f.has_plan:
        return []
    return [labelled("good plan", "; ".join(parts) + " (of its final bound, from the start)")]


def run_out_lines(f: Facts) -> list[str]:
    """W and C of the plan years and of the run-out years apart (SPEC §2.15),
    under the totals, which count both; nothing without run-out years."""
    s = f.summary
    years = s.get("run_out_years")
    if not years or "total_cost_plan" not in s:
        return []
    expected = " (expected)" if s.get("scenarios") else ""
    span = f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])
    return [f"  of which plan     W {s['weighted_shortfall_plan']:,.2f} FTE, "
            f"C {f.money(s['total_cost_plan'])}{expected}",
            shorten(f"  of which run-out  W {s['weighted_shortfall_run_out']:,.2f} FTE, "
                    f"C {f.money(s['total_cost_run_out'])}{expected} in {span}, every lever "
                    f"held at its last plan year's value ({s['run_out']['why']})")]


def placement_lines(f: Facts) -> list[str]:
    """How new staff were placed (SPEC §2.14), in one line."""
    text = placed_words(f.summary.get("placement") or {})
    return [text] if text else []


def spend_lines(f: Facts) -> list[str]:
    """Spend by lever, then by pot over the plan ("of" its total limit where it
    has one), each on as few lines as it takes."""
    spend = spend_by_lever(f.tables)
    out = joined("spend by lever", [f"{k} {f.money(v)}" for k, v in spend.items()])
    budget = f.tables["budget"]
    totals = budget[budget["year"].astype(str) == "total"]
    if len(totals):
        out += joined("spend by pot", [
            f"{row['pot']} {f.money(row['spent'])}"
            + ("" if row["limit"] != row["limit"] else f" of {f.money(row['limit'])}")
            for _, row in totals.iterrows()])
    return out


def spend_by_lever(tables: dict[str, pd.DataFrame]) -> dict[str, float]:
    """Each lever's spend over the plan, in registry order (0 for none)."""
    out = {}
    for name in lever_names():
        frame = tables.get(name)
        out[name] = clean(frame["cost"].sum()) if frame is not None and len(frame) else 0.0
    return out


def shortfall_lines(f: Facts) -> list[str]:
    """The largest weighted shortfalls (shortfall × priority, what the plan
    minimises; the priority and the product are printed so the order reads)."""
    t = f.tables["targets"]
    if not len(t):
        return []
    weighted = t.assign(weighted=t["shortfall"] * t["priority"])
    short = weighted[weighted["shortfall"] > 1e-6].sort_values(
        ["weighted", "target", "year"], ascending=[False, True, True]).head(WORST_SHORTFALLS)
    if not len(short):
        return [f"every target met ({len(t)} target-years)"]
    width = max(len(str(x)) for x in short["target"]) + 2
    out = [f"largest shortfalls (of {len(t)} target-years), by weighted shortfall = short × "
           "priority",
           f"  {'target':<{width}}{'year':>4}{'required':>12}{'achieved':>12}{'short':>10}"
           f"{'priority':>10}{'weighted':>11}"]
    for _, r in short.iterrows():
        out.append(f"  {r['target']:<{width}}{r['year']:>4}{r['required']:>12,.1f}"
                   f"{r['achieved']:>12,.1f}{r['shortfall']:>10,.1f}{r['priority']:>10,.4g}"
                   f"{r['weighted']:>11,.1f}")
    return out


def vacancy_lines(f: Facts) -> list[str]:
    """Posts and vacancies in the last plan year, national and the regions of
    the highest vacancy rate (only where the instance has posts); unplaced
    graduates, where there are any."""
    out: list[str] = []
    wf = f.tables["workforce"]
    if len(wf) and "posts" in wf and wf["posts"].notna().any():
        rows = wf[wf["posts"].notna()]
        if "run_out" in rows:  # the last plan year, not the run-out's (SPEC §2.15)
            rows = rows[~rows["run_out"].astype(bool)]
        year = int(rows["year"].astype(int).max())
        rows = rows[rows["year"].astype(int) == year]
        out.append(f"posts and vacancies in {year} (units and groups with funded posts)")
        out.append(f"  {'':<16}{'posts':>12}{'staff':>12}{'vacancies':>12}{'rate':>8}")

        def line(name: str, posts: float, staff: float, vacant: float) -> str:
            rate = f"{vacant / posts:.1%}" if posts > 0 else "-"
            return f"  {name:<16}{posts:>12,.1f}{staff:>12,.1f}{vacant:>12,.1f}{rate:>8}"

        out.append(line("national", rows["posts"].sum(), rows["fte"].sum(),
                        rows["vacancies"].sum()))
        regions = rows.groupby("region", sort=True)[["posts", "fte", "vacancies"]].sum()
        regions = regions[(regions["vacancies"] > 1e-6) & (regions["posts"] > 0)]
        regions = regions.assign(rate=regions["vacancies"] / regions["posts"]).reset_index()
        regions = regions.sort_values(["rate", "region"], ascending=[False, True])
        for _, r in regions.head(WORST_REGIONS).iterrows():
            out.append(line(str(r["region"]), r["posts"], r["fte"], r["vacancies"]))
    tr = f.tables["training"]
    if len(tr) and "unplaced" in tr:
        unplaced = tr[tr["unplaced"] > 1e-6].groupby("programme")["unplaced"].sum()
        if len(unplaced):
            top = unplaced.reset_index().sort_values(["unplaced", "programme"],
                                                     ascending=[False, True])
            names = ", ".join(f"{r['programme']} {r['unplaced']:,.1f}"
                              for _, r in top.head(WORST_REGIONS).iterrows())
            more = (f" and {len(top) - WORST_REGIONS} more" if len(top) > WORST_REGIONS
                    else "")
            out.append(f"unplaced graduates  {unplaced.sum():,.1f} FTE over the plan "
                       f"({names}{more})")
    return out


def reason_lines(f: Facts) -> list[str]:
    """Why the shortfall remains: the reasons of the largest marginal value,
    shortened, and how many more ``--explain`` prints; with ``explain``, every
    reason in full."""
    overview, reasons = ranked_reasons(f.summary.get("explanations") or ())
    if overview is None:
        return []
    if not reasons:
        return [f"why the shortfall remains: {overview}"]
    if f.explain:
        return (["why the shortfall remains (every reason, the largest marginal value first)",
                 f"  {overview}"] + [f"  - {r.text}" for r in reasons])
    shown = reasons[:REASONS_SHOWN]
    out = ["why the shortfall remains (the largest marginal values first)"]
    out += [f"  - {shorten(r.text, REASON_WIDTH - 4)}" for r in shown]
    if len(reasons) > len(shown):
        more = len(reasons) - len(shown)
        out.append(f"  … and {more} more reason{'s' * (more != 1)} (--explain, or 'wfopt "
                   "explain RESULTS_DIR', prints every one in full)")
    return out


def fairness_lines(f: Facts) -> list[str]:
    """Per fair-share group, its worst years whose worst rate is above zero:
    the worst rate, before the fairness stage, and the members of the highest
    rates. A stochastic plan's are its reference scenario's."""
    fairness = f.summary.get("fairness")
    if not fairness:
        return []
    if "by_scenario" in fairness:
        by = fairness["by_scenario"]
        ref = f.summary["scenarios"][0]["id"] if f.summary.get("scenarios") else next(iter(by))
        measures = ", ".join(f"{sid} {x['measure']:.4f}" for sid, x in by.items())
        out = [f"fair shares by scenario (measure: {measures}); below, '{ref}'"]
        fairness = by[ref]
    else:
        out = [f"fair shares (shortfall rates; measure {fairness['measure']:.4f})"]
    shown = 0
    for group, years in fairness["groups"].items():
        short = [(y, g) for y, g in years.items() if round(g["worst"], 3) > 0]
        for year, g in sorted(short, key=lambda kv: (-kv[1]["worst"], str(kv[0])))[:FAIR_YEARS]:
            before = "-" if g["worst_before"] is None else f"{g['worst_before']:.1%}"
            members = sorted(g["members"].items(), key=lambda kv: (-kv[1]["rate"], kv[0]))
            named = ", ".join(f"{t} {r['rate']:.1%}" for t, r in members[:ITEMS_SHOWN])
            rest = len(members) - ITEMS_SHOWN
            out.append(shorten(f"  {group} {year}: worst {g['worst']:.1%} (before fairness "
                               f"{before}); {named}" + (f" and {rest} more" if rest > 0 else "")))
            shown += 1
    if not shown:
        out.append("  every member's shortfall rate is 0.0% in every year")
    return out


SECTIONS: list[Callable[[Facts], list[str]]] = [
    status_lines, spend_lines, shortfall_lines, vacancy_lines, placement_lines, reason_lines,
    fairness_lines]
"""The summary's sections, in order; those after ``status_lines`` only with a plan."""


def reference_tables(summary: dict[str, Any],
                     tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """A stochastic plan's tables hold every scenario: the summary reads its
    reference scenario's rows (W and C above them are ρ and the expected
    cost). Other plans' tables as they are."""
    if not summary.get("scenarios"):
        return tables
    ref = summary["scenarios"][0]["id"]
    return {k: v[v["scenario"] == ref].drop(columns="scenario") if "scenario" in v else v
            for k, v in tables.items()}


def summary_lines(summary: dict[str, Any], tables: dict[str, pd.DataFrame],
                  explain: bool = False) -> list[str]:
    """The printed summary of a plan: :data:`SECTIONS` in order (only the first
    without a plan). ``explain``: every reason in full."""
    facts = Facts(summary, reference_tables(summary, tables), explain)
    sections = SECTIONS if facts.has_plan else SECTIONS[:1]
    return [line for section in sections for line in section(facts)]


def explain_lines(summary: dict[str, Any]) -> list[str]:
    """Every reason in full, the largest marginal value first (``wfopt explain``);
    without a plan, the conflicts; the solver's notes after them."""
    overview, _ = ranked_reasons(summary.get("explanations") or ())
    out = [labelled("instance", str(summary.get("instance"))),
           labelled("status", str(summary.get("status")))]
    if summary.get("conflicts"):
        out.append("why no plan exists (these cannot all hold together)")
        out += [f"  - {c}" for c in summary["conflicts"]]
    if overview is not None:
        out += reason_lines(Facts(summary, {}, explain=True))
    elif summary.get("status") in ("optimal", "feasible"):
        out.append("no explanation was recorded with these results")
    out += [labelled("note", str(m)) for m in summary.get("messages") or ()]
    return out
