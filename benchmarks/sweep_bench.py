"""Benchmark a budget sweep: independent solves, reuse, and two workers.

    python benchmarks/sweep_bench.py [--instance PATH] [--points 20] [--low 0.5]
                                     [--step 0.05] [--key budgets] [--time-limit S]
                                     [--mip-gap G] [--variants independent,reuse,workers2]
                                     [--detail]

Sweeps ``--scale-grid KEY=low, low+step, ...`` (default: every budget pot from
50% to 145% of the instance's, 20 points) four ways, each in a fresh Python
process timed around the ``optimiser.sweep()`` call (``cli``: around the loop):

- ``cli``: a ``wfopt solve --scale KEY=f`` process per point, as a planner
  without ``wfopt sweep`` would run them (start-up, explanations and tables
  included); the first variant listed is the base of the speed-ups;
- ``independent``: one process, every point solved from scratch (``reuse=False``),
  as solving the points one by one would;
- ``reuse``: one process, each point started from the previous point's plan;
- ``workers2``: two worker processes, two chains, each point started from the
  previous plan of its chain (pool start-up included).

It prints a markdown table (wall seconds, speed-up against the first variant, the
CPU seconds of the points and the speed-up they give (robust to a busy machine's
waiting for a core), HiGHS seconds per stage, build + hand-over seconds, the rest, warm-started
stages, statuses, and the largest relative difference in W and C against the
first variant, which must stay within the MIP gap), with ``--detail`` the
per-point HiGHS seconds of each stage, and the machine's load before and after
(timings on a shared machine are noisy: compare ratios, re-run).

The instance defaults to ``instances/stepping-forward-2017/instance.yaml``; if it
is missing, a generated national-size plan (55 trusts, 12 groups, 4 years).
Target (issue 5): ``reuse`` at least 3x faster than ``independent``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
REALISTIC = REPO / "instances" / "stepping-forward-2017" / "instance.yaml"
GENERATED = HERE / "_work" / "sweep-national"
MARK = "SWEEP-BENCH "
VARIANTS = {
    "cli": {},
    "independent": {"workers": 1, "reuse": False},
    "reuse": {"workers": 1, "reuse": True},
    "workers2": {"workers": 2, "reuse": True},
}


# ------------------------------------------------------------ child: one variant


def run_variant(args: argparse.Namespace) -> dict:
    """Run one sweep in this (fresh) process and report its numbers."""
    if args.worker == "cli":
        return run_cli(args)
    import pandas as pd

    from optimiser.engine.solve import SolveOptions
    from optimiser.sweep.run import sweep

    factors = factor_list(args)
    options = SolveOptions(time_limit=args.time_limit, mip_gap=args.mip_gap)
    spec = VARIANTS[args.worker]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sweep"
        t0 = time.perf_counter()
        frame = sweep(args.instance, [("scale", args.key, factors)], options,
                      workers=spec["workers"], reuse=spec["reuse"], progress=False, out=out,
                      write_points=False)
        wall = time.perf_counter() - t0
        phases = pd.read_csv(out / "sweep_timings.csv")
    frame = frame.merge(phases[["point", "build", "handover", "solve_shortfall", "solve_cost"]],
                        on="point")
    return {"variant": args.worker, "wall": wall,
            "rows": json.loads(frame.to_json(orient="records"))}


def run_cli(args: argparse.Namespace) -> dict:
    """The points one by one, each a ``wfopt solve --scale`` process of its own
    (what a planner does without ``wfopt sweep``): interpreter start-up, imports,
    load, build, solve, explanations and the written tables, every time."""
    import resource

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        for i, f in enumerate(factor_list(args)):
            cmd = [sys.executable, "-m", "cli", "solve", str(args.instance), "--scale",
                   f"{args.key}={f}", "--json", "--out", str(Path(tmp) / f"p{i}")]
            cmd += solver_args(args)
            cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            p0 = time.perf_counter()
            done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=False)
            seconds = time.perf_counter() - p0
            cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            if done.returncode not in (0, 1):
                raise RuntimeError(done.stderr[-3000:])
            summary = json.loads(done.stdout)
            t = summary["timings"]
            rows.append({"point": i + 1, "status": summary["status"],
                         "weighted_shortfall": summary["weighted_shortfall"],
                         "total_cost": summary["total_cost"],
                         "solve_seconds": summary["solve_seconds"], "seconds": seconds,
                         "cpu_seconds": (cpu1.ru_utime - cpu0.ru_utime)
                         + (cpu1.ru_stime - cpu0.ru_stime),
                         "build": t.get("build"), "handover": t.get("handover"),
                         "solve_shortfall": t.get("solve_shortfall"),
                         "solve_cost": t.get("solve_cost"), "warm_start": ""})
        wall = time.perf_counter() - t0
    return {"variant": "cli", "wall": wall, "rows": rows}


# ------------------------------------------------------------ parent: the table


def solver_args(args: argparse.Namespace) -> list[str]:
    """The ``--time-limit`` and ``--mip-gap`` given, as command-line arguments (the
    same for ``wfopt solve`` and this script's own children)."""
    out = []
    if args.time_limit is not None:
        out += ["--time-limit", str(args.time_limit)]
    if args.mip_gap is not None:
        out += ["--mip-gap", str(args.mip_gap)]
    return out


def factor_list(args: argparse.Namespace) -> list[float]:
    return [round(args.low + i * args.step, 6) for i in range(args.points)]


def child(args: argparse.Namespace, variant: str, instance: Path) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", variant,
           "--instance", str(instance), "--points", str(args.points), "--low", str(args.low),
           "--step", str(args.step), "--key", args.key]
    cmd += solver_args(args)
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=False)
    for line in out.stdout.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    raise RuntimeError(f"{variant} failed:\n{out.stderr[-3000:]}")


def default_instance() -> Path:
    if REALISTIC.exists():
        return REALISTIC
    path = GENERATED / "instance.yaml"
    if not path.exists():
        from optimiser.generate import generate_instance, write_instance

        write_instance(generate_instance(55, 12, 4, 1), GENERATED)
    return path


def rel_diff(a: float | None, b: float | None) -> float:
    if a is None or b is None:
        return float("nan") if (a is None) != (b is None) else 0.0
    return abs(a - b) / max(1.0, abs(b))


def summarise(run: dict, base: dict | None) -> dict:
    rows = run["rows"]
    statuses: dict[str, int] = {}
    for r in rows:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    highs = sum(r["solve_seconds"] for r in rows)
    out = {"variant": run["variant"], "wall": run["wall"], "highs": highs,
           "cpu": sum(r["cpu_seconds"] for r in rows),
           "stage1": sum(r["solve_shortfall"] or 0.0 for r in rows),
           "stage2": sum(r["solve_cost"] or 0.0 for r in rows),
           "build": sum((r["build"] or 0.0) + (r["handover"] or 0.0) for r in rows),
           "rest": sum(r["seconds"] for r in rows) - highs,
           "warm": "/".join(str(sum(str(k) in r["warm_start"].split("+") for r in rows))
                            for k in (1, 2)),
           "statuses": ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())),
           "dW": 0.0, "dC": 0.0}
    if base is not None:
        pairs = list(zip(rows, base["rows"], strict=True))
        out["dW"] = max(rel_diff(r["weighted_shortfall"], b["weighted_shortfall"])
                        for r, b in pairs)
        out["dC"] = max(rel_diff(r["total_cost"], b["total_cost"]) for r, b in pairs)
        out["speedup"] = base["wall"] / run["wall"]
        out["cpu_speedup"] = sum(r["cpu_seconds"] for r in base["rows"]) / out["cpu"]
    return out


def table(summaries: list[dict]) -> str:
    lines = ["| variant | wall s | speed-up | CPU s (points) | CPU speed-up "
             "| HiGHS s: stage 1 + stage 2 | build + hand-over s "
             "| other s | warm starts stage 1/2 | statuses | max rel ΔW | max rel ΔC |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
    for s in summaries:
        lines.append(f"| {s['variant']} | {s['wall']:.1f} | {s.get('speedup', 1.0):.2f}× "
                     f"| {s['cpu']:.1f} | {s.get('cpu_speedup', 1.0):.2f}× "
                     f"| {s['stage1']:.1f} + {s['stage2']:.1f} | {s['build']:.1f} "
                     f"| {s['rest'] - s['build']:.1f} | {s['warm']} | {s['statuses']} "
                     f"| {s['dW']:.1e} | {s['dC']:.1e} |")
    return "\n".join(lines)


def detail(runs: list[dict], factors: list[float], key: str) -> str:
    """Per point: W, and each variant's HiGHS seconds (and warm-started stages)."""
    head = f"| point | {key} × | W | " + " | ".join(
        f"{r['variant']} HiGHS s, stage 1 + 2 (warm stages)" for r in runs) + " |"
    lines = [head, "|" + "---:|" * (3 + len(runs))]
    for i, f in enumerate(factors):
        w = runs[0]["rows"][i]["weighted_shortfall"]
        cells = []
        for r in runs:
            row = r["rows"][i]
            warm = f" ({row['warm_start']})" if row["warm_start"] else ""
            cells.append(f"{row['solve_shortfall'] or 0:.1f} + {row['solve_cost'] or 0:.1f}"
                         f"{warm}")
        lines.append(f"| {i + 1} | {f:g} | {'-' if w is None else f'{w:,.1f}'} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instance", type=Path, default=None)
    ap.add_argument("--points", type=int, default=20)
    ap.add_argument("--low", type=float, default=0.5)
    ap.add_argument("--step", type=float, default=0.05)
    ap.add_argument("--key", default="budgets", help="Key to scale (default: every pot).")
    ap.add_argument("--time-limit", type=float, default=None, help="Seconds per point.")
    ap.add_argument("--mip-gap", type=float, default=None)
    ap.add_argument("--variants", default="cli,independent,reuse,workers2")
    ap.add_argument("--detail", action="store_true", help="Per-point seconds too.")
    ap.add_argument("--worker", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(MARK + json.dumps(run_variant(args)), flush=True)
        return

    instance = (args.instance or default_instance()).resolve()
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    factors = factor_list(args)
    shown = instance.relative_to(REPO) if instance.is_relative_to(REPO) else instance
    print(f"# Sweep benchmark: {args.points}-point sweep of --scale-grid {args.key}="
          f"{factors[0]:g}..{factors[-1]:g} on {shown}")
    print(f"machine: {os.cpu_count()} cores; load average (1, 5, 15 min) before: {load()}; "
          f"time limit {args.time_limit or 'the instance’s'} s per point, mip gap "
          f"{args.mip_gap or 'the instance’s'}")
    runs, summaries = [], []
    for v in variants:
        run = child(args, v, instance)
        runs.append(run)
        summaries.append(summarise(run, runs[0] if len(runs) > 1 else None))
        print(f"  {v}: {run['wall']:.1f} s", file=sys.stderr, flush=True)
    print()
    print(table(summaries))
    if args.detail:
        print()
        print(detail(runs, factors, args.key))
    print()
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
