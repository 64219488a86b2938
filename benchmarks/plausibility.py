"""Read a plan's workforce.csv as a trust's workforce lead would: prints a table.

    python benchmarks/plausibility.py RESULTS_FOLDER [RESULTS_FOLDER ...]

Per results folder: the unit-group-years (trust, staff group, plan year), how
many grow by more than half in a year (of those with at least 5 FTE the year
before), the 1st/50th/99th percentile of the year-on-year change, the largest
intake (graduates + returners + recruits) as a share of last year's staff, rows
above their posts (allowed only on the natural path, SPEC §2.11), and for the
last plan year the largest ratio of a trust's share of a region's graduates in
a group, or of a group's returners or international recruits, to its share of
the posts (1.00: shared exactly by posts). Then, for placement (SPEC §2.14),
over the trusts with at least 10 posts in a group: the spread of vacancy rates
between the least and the most vacant trust of a region (points, median and
worst over region-group-years), the trust-group-years whose rate is more than
15 points above their region's, and the trust-groups starved: 3 or more plan
years in a row with no intake while more than 10% of their posts are vacant and
other trusts of their region take staff of that group. Then the five largest
one-year growths. Used for benchmarks/README.md, "The tie-breaks" and
"Placement".
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd


def summary(folder: Path) -> tuple[dict[str, object], pd.DataFrame]:
    wf = pd.read_csv(folder / "workforce.csv").sort_values(["unit", "group", "year"])
    wf["before"] = wf.groupby(["unit", "group"])["fte"].shift()
    plan = wf[wf["before"].notna()].copy()
    flows = plan[["graduates", "returners", "international"]].fillna(0.0)
    plan["intake"] = flows.sum(axis=1)
    plan["change"] = (plan["fte"] - plan["before"]) / plan["before"].clip(lower=1.0)
    sized = plan[plan["before"] >= 5]
    q = plan["change"].quantile([0.01, 0.5, 0.99])
    last = plan[plan["year"] == plan["year"].max()]
    worst_share = 0.0
    # Graduates of the generated and shipped plans come from regional programmes,
    # returners and recruits from national campaigns and routes.
    for col, scope in (("graduates", ["region", "group"]), ("returners", ["group"]),
                       ("international", ["group"])):
        for _g, rows in last.groupby(scope):
            total = rows[col].fillna(0.0).sum()
            if total > 1 and rows["posts"].sum() > 0:
                ratio = (rows[col].fillna(0.0) / total) / (rows["posts"] / rows["posts"].sum())
                worst_share = max(worst_share, float(ratio.max()))
    row = {
        "plan": str(folder),
        "unit-group-years": len(plan),
        "grow > 50% (≥ 5 FTE)": int((sized["change"] > 0.5).sum()),
        "change p1 / p50 / p99": f"{q.iloc[0]:+.1%} / {q.iloc[1]:+.1%} / {q.iloc[2]:+.1%}",
        "largest intake / last year's staff (≥ 5 FTE)":
            f"{(sized['intake'] / sized['before']).max():.2f}",
        "above posts (on the natural path)": int((plan["fte"] > plan["posts"] + 1e-6).sum())
        if plan["posts"].notna().any() else "-",
        "last year: worst share / posts share": f"{worst_share:.2f}",
    }
    row.update(vacancy_spread(plan))
    top = sized.sort_values("change", ascending=False).head(5)[
        ["unit", "group", "year", "before", "fte", "graduates", "returners", "international",
         "posts"]]
    return row, top


MIN_POSTS = 10.0
"""Trust-groups with fewer posts are left out of the vacancy figures: one
vacancy in a 3-post team is a 33% rate and says nothing about placement."""

OUTLIER_POINTS = 15.0
STARVED_YEARS = 3
STARVED_RATE = 0.10


def vacancy_spread(plan: pd.DataFrame) -> dict[str, object]:
    """The placement figures of the module's docstring, from the plan years' rows
    of workforce.csv (with ``intake``): vacancy rate = vacancies / posts."""
    rows = plan[plan["posts"].fillna(0.0) >= MIN_POSTS].copy()
    if not len(rows):
        return {"vacancy spread in region, median / worst (points)": "-",
                "> 15 points above region": "-", "starved 3+ years": "-"}
    if "vacancies" not in rows:  # SPEC §4: max(0, posts − staff)
        rows["vacancies"] = (rows["posts"] - rows["fte"]).clip(lower=0.0)
    rows["rate"] = rows["vacancies"].fillna(0.0) / rows["posts"]
    keys = ["region", "group", "year"]
    by = rows.groupby(keys)
    spread = (by["rate"].max() - by["rate"].min())[by["rate"].count() >= 2] * 100
    region_rate = by["vacancies"].sum() / by["posts"].sum()
    rows = rows.join(region_rate.rename("region_rate"), on=keys)
    # A hair above 15 points, not a float's rounding of exactly 15, counts.
    above = int(((rows["rate"] - rows["region_rate"]) * 100 > OUTLIER_POINTS + 1e-9).sum())
    region_intake = by["intake"].sum().rename("region_intake")
    rows = rows.join(region_intake, on=keys)
    rows["hungry"] = ((rows["intake"] <= 1e-6) & (rows["rate"] > STARVED_RATE)
                      & (rows["region_intake"] - rows["intake"] > 1e-6))
    starved = 0
    for _key, trust in rows.sort_values("year").groupby(["unit", "group"]):
        run = best = 0
        for hungry in trust["hungry"]:
            run = run + 1 if hungry else 0
            best = max(best, run)
        starved += best >= STARVED_YEARS
    return {
        "vacancy spread in region, median / worst (points)":
            f"{spread.median():.1f} / {spread.max():.1f}" if len(spread) else "-",
        "> 15 points above region": f"{above} of {len(rows)} ({above / len(rows):.1%})",
        "starved 3+ years": starved,
    }


def main(folders: list[str]) -> None:
    rows, tops = [], []
    for f in folders:
        row, top = summary(Path(f))
        rows.append(row)
        tops.append((f, top))
    frame = pd.DataFrame(rows)
    print("| " + " | ".join(frame.columns) + " |")
    print("|" + "---|" * len(frame.columns))
    for r in frame.itertuples(index=False):
        print("| " + " | ".join(str(v) for v in r) + " |")
    for f, top in tops:
        print(f"\n{f}: the largest one-year growths")
        print(top.round(1).to_string(index=False))


if __name__ == "__main__":
    main(sys.argv[1:])
