"""The plan as one self-contained HTML page a planner can open offline and show a board.

:class:`ResultsView` is what the report reads: ``summary.json`` and the result
tables (plus ``marginal_values.csv`` when present), either from a results
directory (:meth:`ResultsView.from_dir`, so ``wfopt report`` works on any
results directory) or from a :class:`~optimiser.results.tables.Result` in memory.
:func:`render_report` turns it into HTML: the headline, why the shortfall
remains, workforce against target, shortfall by target and year, spend by lever
and by pot against budget, training, retention, return to practice and
international recruitment, and marginal values. Charts are matplotlib SVG
embedded as ``data:`` URIs (no CDN, no script, no network); the same results
give the same bytes.

Charts name things as the instance does: a target by its label, staff groups,
units and levers by the ``names`` the summary carries
(:func:`optimiser.results.tables.instance_names`),
and an id with no name as words (``nursing_degree_east_of_england`` →
"Nursing degree east of england", :func:`optimiser.explain.wording.readable`). Tables
keep the ids, which are the keys ``--set`` takes.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from formulations import lever_labels
from optimiser.errors import InputError, Problem
from optimiser.explain.marginals import CAVEAT, kind_words
from optimiser.explain.marginals import COLUMNS as MV_COLUMNS
from optimiser.explain.wording import money, readable
from optimiser.report import charts
from optimiser.results.atomic import write_file_atomically
from optimiser.results.format import COLUMNS, DECIMALS, TABLES
from optimiser.results.overview import REASONS_SHOWN, ranked_reasons

MARGINAL_FILE = "marginal_values.csv"


MAX_PANELS = 24
"""Most small panels in one chart; beyond, the largest are drawn and the rest named."""

MAX_TRUSTS = 20
"""Rows of the table of trusts with the highest vacancy rate (all are in the
table's full version below it)."""

LATER = {"workforce": ("posts", "vacancies"), "training": ("unplaced",),
         "targets": ("fair_share",)}
"""Columns results of an earlier engine lack (read as blank: no posts, none
unplaced, no fair shares)."""

MAX_SERIES = 20
"""Most series stacked in one chart (the colours that stay apart); beyond, the
largest are drawn and the rest summed as one."""



# ---------------------------------------------------------------- reading


def read_summary(folder: str | Path) -> dict[str, Any]:
    """``summary.json`` of a results directory; :class:`~optimiser.errors.InputError`
    when the folder, the file or its ``status`` is missing, or it is not JSON."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError([Problem(str(folder), "no such results directory")])
    path = folder / "summary.json"
    if not path.is_file():
        raise InputError([Problem(str(folder), "not a results directory: summary.json "
                                               "is missing")])
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError([Problem(str(path), f"not valid JSON: {exc}")]) from None
    if not isinstance(summary, dict) or "status" not in summary:
        raise InputError([Problem(str(path), "not a summary: it has no 'status'")])
    return summary


@dataclass
class ResultsView:
    """The results a report is made of."""

    summary: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    marginal_values: pd.DataFrame | None

    @classmethod
    def from_dir(cls, folder: str | Path) -> ResultsView:
        """Read a results directory written by ``wfopt solve --out``; raises
        :class:`~optimiser.errors.InputError` naming what is missing or unreadable."""
        folder = Path(folder)
        summary = read_summary(folder)
        problems: list[Problem] = []
        tables: dict[str, pd.DataFrame] = {}
        for name in TABLES:
            tables[name] = _read_csv(folder / f"{name}.csv", COLUMNS[name], problems,
                                     optional=LATER.get(name, ()))
        mv = None
        if (folder / MARGINAL_FILE).is_file():
            mv = _read_csv(folder / MARGINAL_FILE, MV_COLUMNS, problems,
                           optional=("holds_up_to", "value_places_free"))
        if problems:
            raise InputError(problems)
        return cls(summary=summary, tables=_normalise(tables), marginal_values=_normalise_mv(mv))

    def name(self, section: str, ident: str) -> str:
        """What the page calls item ``ident`` of instance section ``section``
        (``staff_groups``, ``units``, ``training``, ``budgets``, …): its name from
        the summary's ``names``, else its id in words."""
        names = self.summary.get("names")
        known = names.get(section) if isinstance(names, dict) else None
        found = known.get(ident) if isinstance(known, dict) else None
        return str(found) if found else readable(ident)

    @property
    def has_posts(self) -> bool:
        """Whether the plan has funded posts (or graduates left unplaced)."""
        wf, tr = self.tables["workforce"], self.tables["training"]
        return bool(("posts" in wf and wf["posts"].notna().any())
                    or ("unplaced" in tr and (tr["unplaced"].fillna(0.0) > 0).any()))

    @property
    def has_fairness(self) -> bool:
        """Whether the summary has fair-share groups."""
        f = self.summary.get("fairness")
        return isinstance(f, dict) and bool(f.get("groups"))

    def target_name(self, rows: pd.DataFrame) -> str:
        """A target's label (from its rows of the targets table), else its name."""
        label = rows["label"].iloc[0] if len(rows) else ""
        return label or self.name("targets", rows["target"].iloc[0])

    @classmethod
    def from_result(cls, result) -> ResultsView:
        """The view of a :class:`~optimiser.results.tables.Result` in memory."""
        return cls(summary=result.summary(),
                   tables=_normalise({k: v.copy() for k, v in result.tables.items()}),
                   marginal_values=_normalise_mv(result.marginal_values))


def _read_csv(path: Path, columns: list[str], problems: list[Problem],
              optional: tuple[str, ...] = ()) -> pd.DataFrame:
    """A results table; a missing, empty or unreadable file, or missing columns, is
    a problem. ``optional`` columns (added in later versions) may be absent:
    they read as blank."""
    if not path.is_file():
        problems.append(Problem(str(path), "missing"))
        return pd.DataFrame(columns=columns)
    try:
        frame = pd.read_csv(path, dtype={"year": str})
    except pd.errors.EmptyDataError:
        problems.append(Problem(str(path), "empty: not even a header"))
        return pd.DataFrame(columns=columns)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        problems.append(Problem(str(path), f"not readable as CSV: {str(exc).splitlines()[0]}"))
        return pd.DataFrame(columns=columns)
    for c in optional:
        if c not in frame.columns:
            frame[c] = float("nan")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        problems.append(Problem(str(path), f"missing columns: {', '.join(missing)}"))
        return pd.DataFrame(columns=columns)
    return frame


TEXT = {"unit", "region", "group", "target", "label", "service", "scope", "fair_share",
        "programme", "campaign", "scheme", "route", "pot", "year", "kind", "item", "per",
        "note", "binding"}
"""Columns that hold names or words (``year`` too: ``budget.csv`` has a ``total``
row); every other column is a number."""


RUN_OUT_LABEL = " (run-out)"
"""Added to a run-out year (SPEC §2.15) wherever the page shows it: ``2023
(run-out)``; such years sort after the plan years."""


def _label_run_out(frame: pd.DataFrame) -> pd.DataFrame:
    """A table with a ``run_out`` column: its run-out years labelled, so that no
    chart or table of the page shows them as plan years."""
    if "run_out" not in frame or "year" not in frame or not len(frame):
        return frame
    flag = frame["run_out"].map(lambda v: str(v).lower() in ("true", "1", "1.0"))
    year = frame["year"].astype(str)
    return frame.assign(year=year.where(~flag, year + RUN_OUT_LABEL))


def _normalise(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Same dtypes whether read from CSV or taken from memory: names as text
    (empty, not NaN, when blank), numbers as floats; run-out years labelled."""
    out = {}
    for name, frame in tables.items():
        frame = _label_run_out(frame.copy())
        for col in frame.columns:
            if col in TEXT:
                frame[col] = frame[col].astype(object).where(frame[col].notna(), "")
                frame[col] = frame[col].astype(str)
            else:
                # Rounded as the CSV files are (results.DECIMALS): a Result in memory
                # and its results directory give the same report, byte for byte.
                frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float).round(
                    DECIMALS) + 0.0  # + 0.0 turns -0.0 into 0.0
        out[name] = frame
    return out


def _normalise_mv(mv: pd.DataFrame | None) -> pd.DataFrame | None:
    if mv is None:
        return None
    frame = _normalise({"mv": mv})["mv"]
    frame["binding"] = frame["binding"].map(lambda v: str(v).lower() == "true")
    return frame


# ---------------------------------------------------------------- formatting


def esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def fte(x: float, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    return f"{x:,.{digits}f}"


def number(x: float) -> str:
    """A count or a rate: whole numbers without decimals, others with up to 3."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:,.3f}".rstrip("0").rstrip(".")


def table(frame: pd.DataFrame, formats: dict[str, Any] | None = None,
          caption: str | None = None, numeric: Iterable[str] = (), tall: bool = False,
          prose: Iterable[str] = ()) -> str:
    """An HTML table; ``formats`` maps column -> function to text; numeric columns
    (formatted or listed) are right-aligned; ``prose`` columns (sentences) get
    room to wrap. Long tables scroll in a box of a laptop screen's height unless
    ``tall``."""
    formats = formats or {}
    right = set(formats) | set(numeric)
    kind = {c: "n" if c in right else "p" if c in set(prose) else "" for c in frame.columns}
    head = "".join(f'<th class="{kind[c]}">{esc(c)}</th>' for c in frame.columns)
    body = []
    for _, row in frame.iterrows():
        cells = []
        for c in frame.columns:
            v = row[c]
            text = formats[c](v) if c in formats else ("" if v is None else str(v))
            # Ids such as pwp_course_north_east_and_yorkshire may break after "_"
            # (and only there), so long ids wrap instead of widening the table.
            cells.append(f'<td class="{kind[c]}">{esc(text).replace("_", "_<wbr>")}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    box = "scroll tall" if tall else "scroll"
    return (f'<div class="{box}"><table>{cap}<thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


# ---------------------------------------------------------------- sections


def headline(view: ResultsView) -> str:
    s = view.summary
    cur = s.get("currency", "GBP")
    status = s.get("status", "?")
    w = s.get("weighted_shortfall")
    c = s.get("total_cost")
    gap = s.get("mip_gap")
    cards = [
        ("Status", status),
        ("Weighted shortfall", "–" if w is None else f"{w:,.1f} FTE"),
        ("Total cost", "–" if c is None else money(c, cur)),
        ("MIP gap", "–" if gap is None else f"{gap:.4%}"),
        ("Instance", s.get("instance", "")),
    ]
    years = s.get("run_out_years")
    if years and s.get("total_cost_plan") is not None:
        # W and C above count the run-out too (SPEC §2.15): the two parts apart.
        span = f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])
        cards[3:3] = [
            ("Plan years", f"{s['weighted_shortfall_plan']:,.1f} FTE · "
                           f"{money(s['total_cost_plan'], cur)}"),
            (f"Run-out {span}", f"{s['weighted_shortfall_run_out']:,.1f} FTE · "
                                f"{money(s['total_cost_run_out'], cur)}")]
    html_cards = "".join(f'<div class="card"><div class="k">{esc(k)}</div>'
                         f'<div class="v {"status-" + esc(v) if k == "Status" else ""}">'
                         f'{esc(v)}</div></div>' for k, v in cards)
    return f'<section id="headline"><div class="cards">{html_cards}</div></section>'


def why_section(view: ResultsView) -> str:
    s = view.summary
    parts = []
    conflicts = s.get("conflicts") or []
    if conflicts:
        parts.append("<p>No plan exists: these conditions cannot all hold together. Change "
                     "any one of them and the rest can.</p>")
        parts.append("<ul>" + "".join(f"<li>{esc(c)}</li>" for c in conflicts) + "</ul>")
    # The reasons of the largest marginal value first, as the printed summary
    # has them; the rest folded, so that the charts are on the first screen.
    overview, reasons = ranked_reasons(s.get("explanations") or ())
    if overview is not None:
        parts.append(f"<p>{esc(overview)}</p>")
    if reasons:
        shown, rest = reasons[:REASONS_SHOWN], reasons[REASONS_SHOWN:]
        parts.append("<ul>" + "".join(f"<li>{esc(r.text)}</li>" for r in shown) + "</ul>")
        if rest:
            parts.append(f"<details><summary>{len(rest)} more reason{'s' * (len(rest) != 1)}"
                         "</summary><ul>" + "".join(f"<li>{esc(r.text)}</li>" for r in rest)
                         + "</ul></details>")
    messages = s.get("messages") or []
    if messages:
        parts.append('<p class="note">' + "<br>".join(esc(m) for m in messages) + "</p>")
    if not parts:
        parts.append("<p>No explanation was recorded with these results.</p>")
    title = "Why no plan exists" if conflicts else "Why the shortfall remains"
    return f'<section id="why"><h2>{title}</h2>{"".join(parts)}</section>'


def _years_of(frame: pd.DataFrame) -> list[str]:
    return sorted(set(frame["year"]), key=lambda y: (not y.isdigit(), y))


def targets_section(view: ResultsView) -> str:
    t = view.tables["targets"]
    wf = view.tables["workforce"]
    out = ['<section id="targets"><h2>Workforce against target</h2>']
    if not len(t):
        out.append("<p>No targets in these results.</p>")
    else:
        names = list(dict.fromkeys(t["target"]))
        # The targets furthest from met come first (what the plan minimises:
        # shortfall × priority), then the instance's order.
        worst = t.assign(w=t["shortfall"] * t["priority"]).groupby("target", sort=False)["w"] \
            .sum().reindex(names).sort_values(ascending=False, kind="mergesort")
        shown = list(worst.index[:MAX_PANELS])
        panels = []
        for name in shown:
            rows = t[t["target"] == name]
            panels.append((view.target_name(rows), list(rows["year"]),
                           list(rows["achieved"]), list(rows["required"])))
        out.append(charts.target_gaps(
            panels, cols=4, alt="Achieved FTE against required FTE, per target",
            caption="Line: staff achieved in the target's scope; black marks: required; "
                    "red: the shortfall, in FTE. Each panel has its own scale, not from zero, "
                    "so that a gap of a few per cent shows. Largest weighted shortfall first."))
        if len(shown) < len(names):
            out.append(f'<p class="note">The {MAX_PANELS} targets with the largest weighted '
                       f"shortfall are drawn; all {len(names)} are in the table below.</p>")
    if len(wf):
        by_group = wf.groupby(["group", "year"], sort=True)["fte"].sum().unstack("year")
        by_group = by_group.reindex(list(dict.fromkeys(wf["group"])))  # the instance's order
        extra = ""
        if len(by_group) > MAX_PANELS:
            largest = by_group.iloc[:, -1].sort_values(ascending=False, kind="mergesort")
            keep = set(largest.index[:MAX_PANELS])
            extra = (f" The {MAX_PANELS} largest of {len(by_group)} groups are drawn.")
            by_group = by_group[by_group.index.isin(keep)]
        out.append(charts.staff_by_group(
            by_group, {g: view.name("staff_groups", g) for g in by_group.index}, extra))
    if len(t):
        show = t[["target", "label", "scope", "service", "year", "required", "achieved",
                  "shortfall", "priority"]]
        out.append(table(show, {"required": fte, "achieved": fte, "shortfall": fte,
                                "priority": number}))
    out.append("</section>")
    return "".join(out)


def shortfall_section(view: ResultsView) -> str:
    t = view.tables["targets"]
    out = ['<section id="shortfall"><h2>Shortfall by target and year</h2>']
    if not len(t):
        out.append("<p>No targets in these results.</p></section>")
        return "".join(out)
    years = _years_of(t)
    order = list(dict.fromkeys(t["target"]))
    pivot = t.pivot_table(index="target", columns="year", values="shortfall", aggfunc="sum",
                          sort=True).reindex(index=order, columns=years)
    label = {n: view.target_name(t[t["target"] == n]) for n in order}
    short = [n for n in order if (pivot.loc[n].fillna(0.0) > 0).any()]
    short.sort(key=lambda n: -pivot.loc[n].fillna(0.0).sum())  # largest at the bottom
    series = {label[n]: list(pivot.loc[n].fillna(0.0)) for n in short[:MAX_SERIES - 1]}
    rest = short[MAX_SERIES - 1:]
    if len(rest) > 1:
        series[f"{len(rest)} other targets"] = list(pivot.loc[rest].fillna(0.0).sum())
    elif rest:
        series[label[rest[0]]] = list(pivot.loc[rest[0]].fillna(0.0))
    out.append(charts.stacked_years(
        series, years, "shortfall (FTE)", "Shortfall by target and year",
        "Shortfall against each target (FTE), stacked by target, the largest at the bottom.",
        empty="no shortfall"))
    weighted = t.assign(w=t["shortfall"] * t["priority"]).groupby("target")["w"].sum()
    frame = pivot.reset_index()
    frame.columns = ["target", *years]
    frame["weighted total"] = [weighted.get(n, 0.0) for n in frame["target"]]
    frame["target"] = [label[n] for n in frame["target"]]  # ids: the targets table above
    formats = {y: (lambda v: "" if pd.isna(v) else fte(v)) for y in years}
    formats["weighted total"] = fte
    out.append(table(frame, formats, caption="Shortfall (FTE); blank: no requirement that "
                                             "year. Weighted total: shortfall × priority."))
    out.append("</section>")
    return "".join(out)


def _totals(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Posts, staff in post and vacancies summed by ``by``, with the vacancy rate
    (vacancies / posts; NaN without posts)."""
    out = frame.groupby(by, sort=True).agg(posts=("posts", "sum"), staff=("fte", "sum"),
                                           vacancies=("vacancies", "sum"))
    rate = out["vacancies"] / out["posts"].where(out["posts"] > 0)
    return out.assign(rate=rate)


def percent(x: float, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    return f"{x:.{digits}%}"


def _rate_table(frame: pd.DataFrame, first: dict[str, str]) -> str:
    """A table of posts, staff, vacancies and rate, with ``first`` naming the
    leading columns (column -> header)."""
    show = frame.reset_index()
    show = show.rename(columns=first)[[*first.values(), "posts", "staff", "vacancies",
                                       "rate"]]
    return table(show, {"posts": fte, "staff": fte, "vacancies": fte, "rate": percent})


SPREAD_MIN_POSTS = 10.0
"""Trust-groups with fewer posts are left out of the spread between trusts: one
vacancy in a team of three is a 33% rate and says nothing of where staff went."""


def _spread(view: ResultsView, posts: pd.DataFrame) -> list[str]:
    """Per region and staff group, the vacancy rates of its least and most vacant
    trusts in every year (trusts with at least :data:`SPREAD_MIN_POSTS` posts in
    the group): how evenly a plan fills the trusts of a region (SPEC §2.14)."""
    rows = posts[posts["posts"] >= SPREAD_MIN_POSTS]
    rows = rows.assign(rate=rows["vacancies"] / rows["posts"])
    by = rows.groupby(["region", "group", "year"])
    spread = pd.DataFrame({"least": by["rate"].min(), "most": by["rate"].max(),
                           "trusts": by["rate"].count()})
    spread = spread[spread["trusts"] >= 2]
    if not len(spread):
        return []
    spread = spread.assign(points=(spread["most"] - spread["least"]) * 100)
    worst = spread["points"].idxmax()
    years = sorted(dict.fromkeys(rows["year"]))
    cells = spread.apply(lambda r: f"{r['least']:.0%}–{r['most']:.0%}", axis=1).unstack("year")
    frame = pd.DataFrame({
        "region": [view.name("regions", r) for r, _g in cells.index],
        "group": [view.name("staff_groups", g) for _r, g in cells.index],
        **{str(y): [cells.loc[i, y] if y in cells.columns and isinstance(cells.loc[i, y], str)
                    else "" for i in cells.index] for y in years}})
    return [
        "<h3>How evenly the trusts of a region are staffed</h3>",
        f"<p>Between the least and the most vacant trust of a region, the vacancy rates of "
        f"a staff group differ by <strong>{spread['points'].median():.1f} points</strong> at "
        f"the median over regions, groups and years, and by {spread['points'].max():.1f} "
        f"at most ({esc(view.name('staff_groups', worst[1]))} in "
        f"{esc(view.name('regions', worst[0]))}, {esc(str(worst[2]))}). New staff are "
        "shared among the trusts of a lever's scope by its placement rule "
        "(<code>summary.json</code> <code>placement</code>).</p>",
        "<details><summary>Least and most vacant trust per region, staff group and year"
        "</summary>" + table(frame, {}) + "</details>"]


def vacancies_section(view: ResultsView) -> str:
    """Funded posts, staff in post and vacancies by region and group over the years,
    the trusts with the highest vacancy rate at the end of the plan, and graduates
    left unplaced."""
    wf = view.tables["workforce"]
    tr = view.tables["training"]
    out = ['<section id="vacancies"><h2>Funded posts and vacancies</h2>']
    with_posts = wf[wf["posts"].notna()] if "posts" in wf else wf.iloc[0:0]
    if not len(with_posts):
        out.append("<p>No unit has funded posts in these results.</p>")
    else:
        out += _vacancies(view, with_posts)
    if "unplaced" in tr and (tr["unplaced"].fillna(0.0) > 0).any():
        out += _unplaced(view, tr)
    out.append("</section>")
    return "".join(out)


def _vacancies(view: ResultsView, posts: pd.DataFrame) -> list[str]:
    out = []
    years = _years_of(posts)
    # The end of the plan is its last plan year, not the run-out's.
    first, last = years[0], [y for y in years if y.isdigit()][-1]
    nat = _totals(posts, ["year"]).reindex(years)
    end = nat.loc[last]
    start = nat.loc[first]
    out.append(
        f"<p>At the end of {esc(last)}, <strong>{fte(end['vacancies'], 0)} of "
        f"{fte(end['posts'], 0)} funded posts are vacant ({percent(end['rate'])})</strong>, "
        f"against {percent(start['rate'])} at the end of {esc(first)}. A vacancy is a funded "
        "post no one is in: posts less staff in post, in each unit and staff group with "
        "posts (a unit above its posts has none). Only units and groups with funded posts "
        "count here.</p>")

    # By region: the rate over the years, worst at the end first, one scale.
    reg = _totals(posts, ["region", "year"])
    regions = list(dict.fromkeys(posts["region"]))
    end_rate = {r: reg.loc[(r, last), "rate"] if (r, last) in reg.index else math.nan
                for r in regions}
    regions.sort(key=lambda r: (-(0.0 if math.isnan(end_rate[r]) else end_rate[r]),
                                view.name("regions", r)))
    panels = []
    for r in regions:
        rows = reg.loc[r].reindex(years)
        title = view.name("regions", r)
        if (r, last) in reg.index:
            e = reg.loc[(r, last)]
            title += (f": {percent(e['rate'])} vacant in {last} ({e['vacancies']:,.0f} of "
                      f"{e['posts']:,.0f})")
        panels.append((title, years, [float(v) for v in rows["rate"]]))
    out.append(charts.vacancy_rates(
        panels[:MAX_PANELS], reference=("all regions", [float(v) for v in nat["rate"]]),
        alt="Vacancy rate per region and year",
        caption="Vacancy rate (vacant posts ÷ funded posts, all staff groups with posts) at "
                "the end of each year, per region; the dashed line is all regions. One "
                f"scale for every region. Highest rate in {last} first."))

    # By staff group: staff in post against posts, most vacancies at the end first.
    grp = _totals(posts, ["group", "year"])
    groups = list(dict.fromkeys(posts["group"]))
    end_vac = {g: grp.loc[(g, last), "vacancies"] if (g, last) in grp.index else 0.0
               for g in groups}
    groups.sort(key=lambda g: -end_vac[g])
    panels = []
    for g in groups[:MAX_PANELS]:
        rows = grp.loc[g].reindex(years)
        title = view.name("staff_groups", g)
        if (g, last) in grp.index:
            e = grp.loc[(g, last)]
            title += (f": {e['vacancies']:,.0f} of {e['posts']:,.0f} vacant in {last} "
                      f"({percent(e['rate'], 0)})")
        panels.append((title, years, [float(v) for v in rows["staff"]],
                       [float(v) for v in rows["posts"]]))
    out.append(charts.staff_against_posts(
        panels, alt="Staff in post against funded posts per staff group and year",
        caption="Staff in post (line) against funded posts (dashed), all units with posts for "
                "the group; shaded: vacant posts. Each panel has its own scale, not from zero. "
                f"Most vacancies in {last} first."))

    # Group by region at the end of the plan.
    at_end = posts[posts["year"] == last]
    cell = _totals(at_end, ["group", "region"])
    col_regions = sorted(dict.fromkeys(at_end["region"]), key=lambda r: view.name("regions", r))
    row_groups = [g for g in groups if g in set(at_end["group"])]
    by_group = _totals(at_end, ["group"])
    rates, counts = [], []
    for g in row_groups:
        rates.append([float(by_group.loc[g, "rate"])] + [
            float(cell.loc[(g, r), "rate"]) if (g, r) in cell.index else math.nan
            for r in col_regions])
        counts.append([float(by_group.loc[g, "vacancies"])] + [
            float(cell.loc[(g, r), "vacancies"]) if (g, r) in cell.index else 0.0
            for r in col_regions])
    if len(col_regions) > 1:
        out.append(charts.rate_grid(
            [view.name("staff_groups", g) for g in row_groups],
            ["All regions", *[view.name("regions", r) for r in col_regions]], rates, counts,
            alt=f"Vacancy rate per staff group and region in {last}",
            caption=f"Vacancy rate and vacant posts (FTE) at the end of {last}, per staff "
                    "group and region; the darker, the larger the share of posts vacant."))

    # The trusts with the highest vacancy rate at the end (all their groups with
    # posts, as trust vacancy rates are published), and the groups that carry it.
    out.append(f"<h3>Trusts with the highest vacancy rate at the end of {esc(last)}</h3>")
    order = {u: k for k, u in enumerate(dict.fromkeys(posts["unit"]))}
    pairs = at_end[at_end["posts"] > 0]
    pairs = pairs.assign(rate=pairs["vacancies"] / pairs["posts"],
                         order=[order[u] for u in pairs["unit"]])
    trusts = pairs.groupby("unit", sort=False).agg(
        region=("region", "first"), posts=("posts", "sum"), staff=("fte", "sum"),
        vacancies=("vacancies", "sum"), order=("order", "first"))
    trusts = trusts.assign(rate=trusts["vacancies"] / trusts["posts"]).sort_values(
        ["rate", "vacancies", "order"], ascending=[False, False, True], kind="mergesort")
    ranked = trusts[trusts["vacancies"] > 1e-6]

    def most_vacant(u: str) -> str:
        here = pairs[(pairs["unit"] == u) & (pairs["vacancies"] > 0.05)]
        here = here.sort_values(["vacancies", "order"], ascending=[False, True],
                                kind="mergesort")
        top = list(zip(here["group"], here["vacancies"], here["rate"], strict=True))[:2]
        return "; ".join(f"{view.name('staff_groups', g)} {v:,.0f} ({r:.0%})"
                         for g, v, r in top)

    formats = {"posts": fte, "staff": fte, "vacancies": fte, "rate": percent}
    if len(ranked):
        shown = ranked.head(MAX_TRUSTS)
        frame = pd.DataFrame({
            "trust": [view.name("units", u) for u in shown.index],
            "region": [view.name("regions", r) for r in shown["region"]],
            "posts": list(shown["posts"]), "staff": list(shown["staff"]),
            "vacancies": list(shown["vacancies"]), "rate": list(shown["rate"]),
            "groups with most vacancies": [most_vacant(u) for u in shown.index]})
        more = (f" The {MAX_TRUSTS} highest of {len(ranked)} trusts with a vacancy."
                if len(ranked) > MAX_TRUSTS else "")
        out.append(table(frame, formats, tall=True, prose=("groups with most vacancies",),
                         caption=f"Per trust, at the end of {last}: funded posts, staff in "
                                 "post, vacant posts and the vacancy rate (vacant ÷ posts) of "
                                 "all its staff groups with posts; the two groups with the "
                                 "most vacant posts there (vacant FTE, rate)." + more))
    else:
        out.append(f"<p>No funded post is vacant at the end of {esc(last)}.</p>")
    # Every pair, by trust name (a trust's lead looks for theirs), groups as charted.
    rank = {g: k for k, g in enumerate(row_groups)}
    every = pairs.assign(name=[view.name("units", u) for u in pairs["unit"]],
                         rank=[rank.get(g, len(rank)) for g in pairs["group"]])
    every = every.sort_values(["name", "unit", "rank"], kind="mergesort")
    out.append(f"<details><summary>Every trust and staff group with posts in {esc(last)}"
               "</summary>" + table(pd.DataFrame({
                   "trust": list(every["name"]),
                   "region": [view.name("regions", r) for r in every["region"]],
                   "group": [view.name("staff_groups", g) for g in every["group"]],
                   "posts": list(every["posts"]), "staff": list(every["fte"]),
                   "vacancies": list(every["vacancies"]), "rate": list(every["rate"])}),
                   formats) + "</details>")
    out += _spread(view, posts)
    reg_table = reg.rename(index=lambda r: view.name("regions", r), level="region")
    out.append("<details><summary>By region and year</summary>"
               + _rate_table(reg_table, {"region": "region", "year": "year"}) + "</details>")
    grp_table = grp.rename(index=lambda g: view.name("staff_groups", g), level="group")
    out.append("<details><summary>By staff group and year</summary>"
               + _rate_table(grp_table, {"group": "group", "year": "year"}) + "</details>")
    return out


def _unplaced(view: ResultsView, tr: pd.DataFrame) -> list[str]:
    """Graduates who qualified but found no free post, by programme and year."""
    years = _years_of(tr)
    some = tr[tr["unplaced"].fillna(0.0) > 0]
    programmes = list(dict.fromkeys(some["programme"]))
    pivot = tr[tr["programme"].isin(programmes)].pivot_table(
        index="programme", columns="year", values="unplaced", aggfunc="sum",
        sort=True).reindex(index=programmes, columns=years).fillna(0.0)
    group = dict(zip(tr["programme"], tr["group"], strict=True))
    frame = pd.DataFrame({
        "programme": [view.name("training", p) for p in programmes],
        "group": [view.name("staff_groups", group[p]) for p in programmes]})
    for y in years:
        frame[y] = list(pivot[y])
    frame["total"] = list(pivot.sum(axis=1))
    total = float(pivot.values.sum())
    return [
        "<h3>Graduates left unplaced</h3>",
        f"<p>{fte(total)} FTE of graduates qualified over the plan but found no free post in "
        "their programme's scope (an upskilling programme's stay in the group they came "
        "from). They are not in post and count for no target.</p>",
        table(frame, {**{y: fte for y in years}, "total": fte},
              caption="Graduates left unplaced (FTE), per programme and year.")]


def fair_shares_section(view: ResultsView) -> str:
    """Per fair-share group, each member's shortfall rate against the group's
    worst, after the fairness stage and before it."""
    f = view.summary.get("fairness") or {}
    groups = f.get("groups") or {}
    t = view.tables["targets"]
    out = ['<section id="fair-shares"><h2>Fair shares: each target\'s shortfall rate '
           "against its group's worst</h2>"]
    measure = f.get("measure")
    out.append(
        "<p>Targets that share a fair-share label form a group. Once the weighted shortfall "
        "is as small as it can be, a fairness stage makes the group's worst shortfall rate "
        "(shortfall ÷ required) as small as it can without raising the weighted shortfall. "
        "Before: the shortfall stage's split, one of many equally good plans. "
        + ("" if measure is None else
           f"Measure M (the worst rates summed over groups and years): {measure:.4f}.")
        + "</p>")

    def label(k: str) -> str:
        rows = t[t["target"] == k]
        return view.target_name(rows) if len(rows) else view.name("targets", k)

    def rate(v: Any) -> float:
        return math.nan if v is None else float(v)

    panels = []
    for g, years in list(groups.items())[:MAX_PANELS]:
        if not years:
            continue
        year, worst = sorted(years.items(), key=lambda kv: (-rate(kv[1].get("worst")),
                                                            kv[0]))[0]
        members = sorted(worst.get("members", {}).items(),
                         key=lambda kv: (-rate(kv[1].get("rate")), kv[0]))
        before = worst.get("worst_before")
        title = (f"{view.name('fair_shares', g)}, {year}: worst {percent(rate(worst['worst']))}"
                 + ("" if before is None else f" (before the fairness stage {percent(before)})"))
        panels.append((title, [label(k) for k, _ in members],
                       [rate(m.get("rate")) for _, m in members],
                       [rate(m.get("before")) for _, m in members]))
    if panels:
        out.append(charts.fair_shares(
            panels, alt="Shortfall rate per member of each fair-share group, its worst year",
            caption="Each group in its worst year: each target's shortfall rate in the plan "
                    "(blue) and before the fairness stage (grey); dashed: the group's worst."))
    rows = []
    for g, years in groups.items():
        for year, entry in sorted(years.items()):
            for k, m in sorted(entry.get("members", {}).items(),
                               key=lambda kv: (-rate(kv[1].get("rate")), kv[0])):
                rows.append({"group": view.name("fair_shares", g), "year": year,
                             "target": label(k),
                             "rate": rate(m.get("rate")), "before": rate(m.get("before")),
                             "group's worst": rate(entry.get("worst")),
                             "worst before": rate(entry.get("worst_before"))})
    if rows:
        out.append(table(pd.DataFrame(rows), {c: percent for c in
                                              ("rate", "before", "group's worst",
                                               "worst before")},
                         caption="Shortfall rate (shortfall ÷ required) per member, group and "
                                 "year: in the plan, and before the fairness stage."))
    out.append("</section>")
    return "".join(out)


def spend_section(view: ResultsView) -> str:
    cur = view.summary.get("currency", "GBP")
    m = money(1e6, cur)
    out = ['<section id="spend"><h2>Spend by lever and year, against each pot\'s budget</h2>']
    frames = [view.tables[name].groupby("year")["cost"].sum().rename(label)
              for name, label in lever_labels().items() if len(view.tables[name])]
    if frames:
        spend = pd.concat(frames, axis=1).fillna(0.0).sort_index()
        years = list(spend.index)
        out.append(charts.stacked_years(
            {lever: list(spend[lever] / 1e6) for lever in spend.columns}, years,
            f"spend ({m})", "Spend by lever and year", "Spend by lever and year."))
        frame = spend.T.reset_index()
        frame.columns = ["lever", *years]
        later = [y for y in years if y.endswith(RUN_OUT_LABEL)]
        if later:
            # Plan-year and run-out totals apart: a run-out year is not part of the plan.
            plan = [y for y in years if y not in later]
            frame = frame[["lever", *plan]].assign(**{"plan total": frame[plan].sum(axis=1)}) \
                .join(frame[later]).assign(**{"run-out total": frame[later].sum(axis=1)})
            totals = ["plan total", "run-out total"]
        else:
            frame["total"] = frame[years].sum(axis=1)
            totals = ["total"]
        out.append(table(frame, {c: (lambda v: money(v, cur)) for c in [*years, *totals]}))
    b = view.tables["budget"]
    pots = list(dict.fromkeys(b["pot"])) if len(b) else []
    if pots:
        panels = []
        for pot in pots:
            rows = b[(b["pot"] == pot) & (b["year"] != "total")]
            tot = b[(b["pot"] == pot) & (b["year"] == "total")]
            title = view.name("budgets", pot)
            if len(tot) and not pd.isna(tot["limit"].iloc[0]):
                title += (f" (total {money(tot['spent'].iloc[0], cur)} of "
                          f"{money(tot['limit'].iloc[0], cur)})")
            panels.append((title, list(rows["year"]), list(rows["spent"] / 1e6),
                           list(rows["limit"] / 1e6)))
        out.append(charts.small_multiples(
            panels, bar_label="spent", overlay_label="limit", overlay="marks", bar_colour=1,
            row_height=2.6, ylabel=m, alt="Spend against budget per pot and year",
            caption="Bars: spent; black marks: the pot's limit for the year (none: "
                    "unlimited)."))
        share = [(s / lim) if lim and not pd.isna(lim) else math.nan
                 for s, lim in zip(b["spent"], b["limit"], strict=True)]
        out.append(table(b.assign(share=share), {
            "spent": lambda v: money(v, cur),
            "limit": lambda v: "no limit" if pd.isna(v) else money(v, cur),
            "share": lambda v: "" if pd.isna(v) else f"{v:.1%}"}))
    if not frames and not pots:
        out.append("<p>Nothing was spent.</p>")
    out.append("</section>")
    return "".join(out)


def training_section(view: ResultsView) -> str:
    cur = view.summary.get("currency", "GBP")
    t = view.tables["training"]
    out = ['<section id="training"><h2>Training places and the graduates they produce</h2>']
    if not len(t):
        out.append("<p>No training programmes.</p></section>")
        return "".join(out)
    panels = []
    for p in dict.fromkeys(t["programme"]):
        rows = t[t["programme"] == p]
        group = view.name("staff_groups", rows["group"].iloc[0])
        panels.append((f"{view.name('training', p)} → {group}", list(rows["year"]),
                       list(rows["places"]), list(rows["graduates"])))
    out.append(charts.small_multiples(
        panels, bar_label="places started", overlay_label="graduates joining", overlay="line",
        alt="Training places and graduates per programme and year",
        caption="Each panel: a programme → the staff group it trains. Bars: new places "
                "started; line: graduates joining (from earlier and committed intakes), FTE."))
    out.append(table(t, {"places": number, "cohort_runs": number, "graduates": fte,
                         "cost": lambda v: money(v, cur)}))
    out.append("</section>")
    return "".join(out)


def retention_section(view: ResultsView) -> str:
    cur = view.summary.get("currency", "GBP")
    r = view.tables["retention"]
    out = ['<section id="retention"><h2>Retention funding by unit</h2>']
    if not len(r):
        out.append("<p>No retention schemes.</p></section>")
        return "".join(out)
    by_unit = r.groupby(["scheme", "unit"], sort=False).agg(
        funding=("funding", "sum"), retained=("retained", "sum"),
        years_funded=("funded", "sum"), cost=("cost", "sum")).reset_index()
    years = _years_of(r)
    keys = list(zip(by_unit["scheme"], by_unit["unit"], strict=True))
    funding = r.set_index(["scheme", "unit", "year"])["funding"]
    schemes = list(dict.fromkeys(by_unit["scheme"]))
    out.append(charts.horizontal_stacked(
        [view.name("units", u) if len(schemes) == 1
         else f"{view.name('retention', s)} · {view.name('units', u)}" for s, u in keys],
        {y: [funding.get((s, u, y), 0.0) / 1e3 for s, u in keys] for y in years},
        f"funding ({money(1000, cur)}s)", "Retention funding by unit, stacked by year",
        "Retention funding by unit, stacked by year"
        + (f" ({view.name('retention', schemes[0])})." if len(schemes) == 1 else "."),
        legend_title="year"))
    out.append(table(by_unit, {"funding": lambda v: money(v, cur), "retained": fte,
                               "years_funded": number, "cost": lambda v: money(v, cur)},
                     caption="Over the whole plan; retained = leavers kept (FTE)."))
    out.append("<details><summary>By year</summary>"
               + table(r, {"funding": lambda v: money(v, cur), "funded": number,
                           "retained": fte, "cost": lambda v: money(v, cur)})
               + "</details>")
    out.append("</section>")
    return "".join(out)


def recruitment_section(view: ResultsView) -> str:
    cur = view.summary.get("currency", "GBP")
    rtp = view.tables["return_to_practice"]
    intl = view.tables["international"]
    out = ['<section id="recruitment"><h2>Return to practice and international '
           "recruitment</h2>"]
    series = []
    for frame, key, value, what, section in (
            (rtp, "campaign", "returners", "returners", "return_to_practice"),
            (intl, "route", "recruits", "recruits", "international")):
        for name in dict.fromkeys(frame[key]):
            rows = frame[frame[key] == name]
            series.append((f"{view.name(section, name)} ({what})", list(rows["year"]),
                           list(rows[value])))
    if series:
        out.append(charts.grouped_years(series, "FTE", "Returners and international recruits "
                                        "per year", "Returners per campaign and recruits per "
                                        "route (FTE)."))
    else:
        out.append("<p>No return-to-practice campaigns or international routes.</p>")
    if len(rtp):
        out.append("<h3>Return to practice</h3>")
        out.append(table(rtp, {"spend": lambda v: money(v, cur), "returners": fte,
                               "cost": lambda v: money(v, cur)}))
    if len(intl):
        out.append("<h3>International recruitment</h3>")
        out.append(table(intl, {"recruits": fte, "cost": lambda v: money(v, cur)}))
    out.append("</section>")
    return "".join(out)


def marginal_section(view: ResultsView) -> str:
    cur = view.summary.get("currency", "GBP")
    m = money(1e6, cur)
    mv = view.marginal_values
    out = ['<section id="marginal-values"><h2>Marginal values: what one more unit of a '
           "limit would remove</h2>"]
    if mv is None:
        out.append("<p>These results carry no marginal values (solved without them).</p>"
                   "</section>")
        return "".join(out)
    mode = view.summary.get("objective_mode", "lexicographic")
    what = "weighted objective" if mode == "weighted" else "weighted shortfall"
    out.append(f'<p class="caveat">{esc(CAVEAT)} Value: the {esc(what)} (FTE) removed per '
               f"extra {esc(m)} of a budget, or per extra place, returner, recruit or funded "
               "unit of a cap. Up to: how far the limit can rise before the rate changes. "
               "Places free: for budgets, the value with training places free to grow (cohorts, "
               "campaigns and funded units still held), since money in a pot that only "
               "pays for places buys nothing while they are held.</p>")
    budgets = mv[mv["kind"].isin(["budget_per_year", "budget_total"])
                 & ((mv["value"] > 0) | (mv["value_places_free"].fillna(0.0) > 0))]
    if len(budgets):
        labels = [f"{view.name('budgets', i)} · {y}"
                  for i, y in zip(budgets["item"], budgets["year"], strict=True)]
        out.append(charts.grouped_bars(
            labels, {"places held": list(budgets["value"]),
                     "places free to grow": list(budgets["value_places_free"].fillna(0.0))},
            f"{what} removed per extra {m} (FTE)",
            f"{what.capitalize()} removed per extra {m} by budget pot and year",
            f"{what.capitalize()} removed per extra {m}, budgets that bind: with the plan's "
            "places held, and with them free to grow."))
    if not len(mv):
        out.append("<p>No budget limits or binding caps.</p></section>")
        return "".join(out)

    def limit_text(kind: str, v: float) -> str:
        if pd.isna(v):
            return ""
        return money(v, cur) if kind.startswith("budget") else number(v)

    def shown(mv: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({
            "limit on": [kind_words().get(k, k) for k in mv["kind"]],
            "item": mv["item"], "year": mv["year"],
            "limit": [limit_text(k, v) for k, v in zip(mv["kind"], mv["limit"], strict=True)],
            "used": [limit_text(k, v) for k, v in zip(mv["kind"], mv["used"], strict=True)],
            "binding": ["yes" if b else "no" for b in mv["binding"]],
            "value": [f"{v:,.4g}" for v in mv["value"]], "per": mv["per"],
            "up to": [limit_text(k, v) for k, v in zip(mv["kind"], mv["holds_up_to"],
                                                        strict=True)],
            "places free": ["" if pd.isna(v) else f"{v:,.4g}"
                            for v in mv["value_places_free"]],
            "note": mv["note"]})

    numeric = ("limit", "used", "value", "up to", "places free")
    posts = mv[mv["kind"] == "posts"]
    rest = mv[mv["kind"] != "posts"]
    if len(rest):
        out.append(table(shown(rest), numeric=numeric, tall=True, prose=("note",)))
    if len(posts):
        # One row per unit, group and year where a post is worth something: hundreds
        # in a national instance. The most valuable first; all of them below.
        best = posts.sort_values(["value", "year", "item"], ascending=[False, True, True],
                                 kind="mergesort")
        top = best.head(MAX_TRUSTS)
        out.append("<h3>One more funded post</h3>")
        out.append(table(
            shown(top), numeric=numeric, tall=True, prose=("note",),
            caption=(f"The {len(top)} most valuable of {len(posts)} rows: " if len(posts)
                     > len(top) else "") + "weighted shortfall removed per extra post where "
                    "staff are at their posts (item: unit/group; */group: the units at their "
                    "limit where one more post is worth nothing)."))
        if len(posts) > len(top):
            out.append(f"<details><summary>All {len(posts)} rows for funded posts</summary>"
                       + table(shown(best), numeric=numeric, prose=("note",)) + "</details>")
    out.append("</section>")
    return "".join(out)


def footer(view: ResultsView) -> str:
    s = view.summary
    versions = ", ".join(f"{k} {v}" for k, v in (s.get("versions") or {}).items())
    size = s.get("model_size") or {}
    size_text = ", ".join(f"{v:,} {k}" for k, v in size.items())
    return (f"<footer><p>Model: {esc(size_text or 'not built')}. {esc(versions)}.</p>"
            "</footer>")


CSS = """
:root { --ink:#1b1b1b; --muted:#5a5a5a; --line:#d9d9d9; --bg:#fafafa; --accent:#0072B2; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
       color: var(--ink); background: #fff; margin: 0; }
main { max-width: 1180px; margin: 0 auto; padding: 16px 24px 40px; }
h1 { font-size: 24px; margin: 8px 0 2px; }
h2 { font-size: 18px; margin: 28px 0 8px; padding-top: 8px; border-top: 1px solid var(--line); }
h3 { font-size: 15px; margin: 16px 0 6px; }
.sub { color: var(--muted); margin: 0 0 10px; }
nav { font-size: 13px; margin: 8px 0 4px; }
nav a { color: var(--accent); margin-right: 12px; text-decoration: none; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { background: var(--bg); border: 1px solid var(--line); border-radius: 6px;
        padding: 8px 14px; min-width: 150px; }
.card .k { font-size: 12px; color: var(--muted); }
.card .v { font-size: 20px; font-weight: 600; }
.status-optimal { color: #00734d; } .status-feasible { color: #9a6a00; }
.status-infeasible, .status-no_solution, .status-error { color: #b00020; }
figure { margin: 10px 0; }
img.chart { width: 100%; height: auto; display: block; }
figcaption, .note, caption { color: var(--muted); font-size: 12.5px; }
caption { text-align: left; padding: 4px 0; caption-side: bottom; }
.caveat { background: #fff8e1; border-left: 4px solid #E69F00; padding: 8px 12px; }
.scroll { overflow-x: auto; max-height: 520px; overflow-y: auto; margin: 8px 0;
          border: 1px solid var(--line); border-radius: 4px; }
.scroll.tall { max-height: none; }
table { border-collapse: collapse; font-size: 12.5px; width: 100%; }
th, td { padding: 4px 8px; border-bottom: 1px solid #eee; text-align: left;
         vertical-align: top; }
th, td.n { white-space: nowrap; }
td.p { min-width: 220px; }
th { background: var(--bg); position: sticky; top: 0; font-weight: 600; }
.n { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #fcfcfc; }
details { margin: 6px 0; } summary { cursor: pointer; color: var(--accent); }
footer { color: var(--muted); font-size: 12px; margin-top: 32px; }
"""

SECTIONS = [("why", "Why"), ("targets", "Targets"), ("shortfall", "Shortfall"),
            ("fair-shares", "Fair shares"), ("vacancies", "Vacancies"), ("spend", "Spend"),
            ("training", "Training"), ("retention", "Retention"),
            ("recruitment", "Return to practice & international"),
            ("marginal-values", "Marginal values")]
"""Section ids (anchors) and their names in the navigation bar, in order."""

OPTIONAL = {"fair-shares": lambda view: view.has_fairness,
            "vacancies": lambda view: view.has_posts}
"""Sections shown only when the results have what they show."""

RENDER = {"targets": targets_section, "shortfall": shortfall_section,
          "fair-shares": fair_shares_section, "vacancies": vacancies_section,
          "spend": spend_section, "training": training_section,
          "retention": retention_section, "recruitment": recruitment_section,
          "marginal-values": marginal_section}


def sections(view: ResultsView) -> list[tuple[str, str]]:
    """The sections of this report (id, name in the navigation bar), in order:
    only "why" without a plan; fair shares and vacancies when the results have
    them."""
    if view.summary.get("status") not in ("optimal", "feasible"):
        return SECTIONS[:1]
    return [(i, n) for i, n in SECTIONS if i not in OPTIONAL or OPTIONAL[i](view)]


def render_report(view: ResultsView) -> str:
    """The report as one HTML document (UTF-8 text, no external resources)."""
    s = view.summary
    name = s.get("instance", "")
    shown = sections(view)
    body = [headline(view), why_section(view)]
    body += [RENDER[i](view) for i, _ in shown[1:]]
    nav = "".join(f'<a href="#{i}">{esc(t)}</a>' for i, t in shown)
    sub = (f"Workforce plan, {esc(s.get('objective_mode', ''))} objective: minimise the "
           "weighted shortfall against the targets, then the cost.")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>Workforce plan: {esc(name)}</title><style>{CSS}</style></head>"
            f"<body><main><h1>Workforce plan: {esc(name)}</h1><p class=\"sub\">{sub}</p>"
            f"<nav>{nav}</nav>{''.join(body)}{footer(view)}</main></body></html>\n")


def write_report(view: ResultsView, path: str | Path) -> Path:
    """Render and write the report atomically (a temporary file renamed into
    place), so a failed run never leaves half a page. Returns the path."""
    return write_file_atomically(render_report(view), path)
