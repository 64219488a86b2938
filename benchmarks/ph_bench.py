"""Sampled scenario sets: the extensive form (``--engine ef``) against progressive
hedging (``--engine ph``) at 1 and 2 MPI ranks, as the set grows (issue 20).

    python benchmarks/ph_bench.py [--instance PATH] [--scenarios FILE]
                                  [--runs 10:ef,10:ph1,10:ph2,50:ef,50:ph2,200:ph2]
                                  [--time-limit S] [--limits 200=1800]

Each run is one ``wfopt solve INSTANCE --scenarios FILE --engine … --time-limit S
--json`` in a fresh process, on the sampled set of ``--scenarios`` (default the
stepping-forward-2017 example, ``scenarios-sampled.yaml``) with its count
replaced by the run's. The markdown table gives, per run: status, the best plan's
ρ (expected W), the lower bound (ef: ρ·(1 − stage 1's gap); ph: the best
Lagrangian or trivial bound), the gap, PH's iterations, the wall time of the
command and the peak memory of the command and everything it started (MPI ranks
included). A run that fails or is killed prints its last line instead. Each
run's ``summary.json`` is kept in ``--keep`` (default ``benchmarks/_work/ph``) as
``COUNT-ENGINE.json``, and where its time went (PH, the per-future stages, a
subproblem time-out, each candidate plan's ρ and which was kept) follows its
row as a comment.

Print the load beside the numbers: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
FOLDER = REPO / "instances" / "stepping-forward-2017"
MARK = "PH-BENCH "


def measure(cmd: list[str]) -> None:
    """Child mode: run ``cmd``; print its wall time, peak memory (the largest
    resident set of it and its descendants) and output."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=False)
    wall = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(MARK + json.dumps({"rc": p.returncode, "wall": wall, "peak_mb": peak_mb,
                             "stdout": p.stdout, "stderr": p.stderr[-3000:]}))


def run(instance: str, scenarios: Path, count: int, engine: str, ranks: int,
        limit: float, tmp: Path) -> dict:
    doc = yaml.safe_load(scenarios.read_text())
    doc = doc.get("scenarios", doc)
    doc["sample"]["count"] = count
    sfile = tmp / f"sampled-{count}.yaml"
    sfile.write_text(yaml.safe_dump(doc, sort_keys=False))
    cmd = [sys.executable, "-m", "cli", "solve", instance, "--scenarios", str(sfile),
           "--engine", engine, "--time-limit", str(limit), "--json"]
    if engine == "ph":
        cmd += ["--ranks", str(ranks)]
    p = subprocess.run([sys.executable, __file__, "--measure", *cmd], capture_output=True,
                       text=True, cwd=REPO, check=False)
    line = next((ln for ln in p.stdout.splitlines() if ln.startswith(MARK)), None)
    if line is None:
        return {"error": (p.stderr.strip().splitlines() or ["killed"])[-1]}
    out = json.loads(line[len(MARK):])
    try:
        out["summary"] = json.loads(out["stdout"])
    except json.JSONDecodeError:
        err = out["stderr"].strip().splitlines()
        out["error"] = f"exit {out['rc']}: " + (err[-1] if err else "no output")
    return out


def row(count: int, engine: str, ranks: int, limit: float, r: dict) -> str:
    name = "ef" if engine == "ef" else f"ph, {ranks} rank{'s' * (ranks != 1)}"
    if "summary" not in r:
        wall = f"{r['wall']:.0f}" if "wall" in r else "-"
        peak = f"{r['peak_mb']:,.0f}" if "peak_mb" in r else "-"
        return (f"| {count} | {name} | {limit:g} | {r.get('error', '?')} | - | - | - | - | "
                f"{wall} | {peak} |")
    s = r["summary"]
    st = s.get("stochastic") or {}
    rho = s["weighted_shortfall"]
    if engine == "ef":
        gap = s["stages"][0]["mip_gap"] if s.get("stages") else None
        lower = None if rho is None or gap is None else rho * (1 - gap)
        its = "-"
    else:
        gap, lower, its = st.get("gap"), st.get("lower_bound"), st.get("iterations", "-")

    def f(v: float | None) -> str:
        return "-" if v is None else f"{v:,.1f}"

    g = "-" if gap is None else f"{gap:.3%}"
    return (f"| {count} | {name} | {limit:g} | {s['status']} | {f(rho)} | {f(lower)} | {g} | "
            f"{its} | {r['wall']:.0f} | {r['peak_mb']:,.0f} |")


def where_time_went(r: dict) -> str:
    """PH's seconds, the per-future stages' seconds (summed over futures) and a
    subproblem time-out, from a ph run's summary; "" for ef or a failed run."""
    st = (r.get("summary") or {}).get("stochastic") or {}
    if st.get("engine") != "ph":
        return ""
    stages = [s for s in r["summary"].get("stages", [])
              if s["stage"].startswith("per_scenario_")]
    per = "; ".join(f"{s['stage'][len('per_scenario_'):]} {s['seconds']:.0f} s"
                    for s in stages)
    out = f"; PH {st.get('ph_seconds', 0):.0f} s; per future, summed: {per or '-'}"
    cands = st.get("candidates") or []
    if cands:
        rhos = ", ".join("-" if c["rho"] is None else f"{c['rho']:,.1f}" for c in cands)
        evals = sum(c["seconds"] for c in cands)
        out += (f"; candidates' ρ by iteration: {rhos} (kept candidate {st['kept']}, "
                f"iteration {cands[st['kept']]['iteration']}; evaluations {evals:.0f} s)")
    if "started_from_evaluation" in st:
        out += (f"; stages started from the plan's evaluation in "
                f"{st['started_from_evaluation']} futures")
    if st.get("shortfall_stage_rho") is not None:
        out += f"; ρ after the shortfall stages {st['shortfall_stage_rho']:,.3f}"
    if st.get("iteration_seconds"):
        out += "; PH iterations' seconds: " + ", ".join(f"{x:.0f}"
                                                        for x in st["iteration_seconds"])
    if st.get("subproblem_time_out"):
        t = st["subproblem_time_out"]
        out += (f"; time-out at iteration {t['iteration']} in {len(t['scenarios'])} "
                f"futures ({t['seconds']} s each)")
    elif st.get("stopped_for_time"):
        out += "; PH stopped before an iteration that would overrun its share"
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instance", default=str(FOLDER / "instance.yaml"))
    ap.add_argument("--scenarios", default=str(FOLDER / "scenarios-sampled.yaml"))
    ap.add_argument("--runs", default="10:ef,10:ph1,10:ph2,50:ef,50:ph2,200:ph2")
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--limits", default="200=1800", help="per-count time limits, n=S,…")
    ap.add_argument("--keep", default=str(HERE / "_work" / "ph"),
                    help="folder for each run's summary.json")
    ap.add_argument("--measure", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    if args.measure:
        measure(args.measure)
        return
    limits = {int(k): float(v) for k, v in
              (kv.split("=") for kv in args.limits.split(",") if kv)}
    print(f"load before: {os.getloadavg()[0]:.2f}; cores {os.cpu_count()}", flush=True)
    print("| scenarios | engine | limit s | status | ρ (best plan) | lower bound | gap | "
          "PH iterations | wall s | peak MB |")
    print("|---:|---|---:|---|---:|---:|---:|---:|---:|---:|", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for spec in args.runs.split(","):
            count_s, how = spec.split(":")
            count = int(count_s)
            engine = "ef" if how == "ef" else "ph"
            ranks = 1 if how == "ef" else int(how[2:] or 1)
            limit = limits.get(count, args.time_limit)
            load = os.getloadavg()[0]
            r = run(args.instance, Path(args.scenarios), count, engine, ranks, limit, Path(tmp))
            if "summary" in r:
                keep = Path(args.keep)
                keep.mkdir(parents=True, exist_ok=True)
                (keep / f"{count}-{how}.json").write_text(json.dumps(r["summary"], indent=1))
            print(row(count, engine, ranks, limit, r)
                  + f" <!-- load {load:.1f}{where_time_went(r)} -->", flush=True)
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
