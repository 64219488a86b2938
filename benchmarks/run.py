"""Benchmark the engine on generated plans of sizes S, M, L and XL.

    python benchmarks/run.py [--sizes S,M,L,XL] [--seed 1] [--time-limit SECONDS]
                             [--explain] [--no-reference] [--placement RULE]
                             [--work benchmarks/_work]

For each size it generates an instance (``optimiser.generate``), then solves it
in a fresh Python process exactly as the library does (load, validate, build,
hand-over, HiGHS, extract, write; peak memory by ``ru_maxrss`` of that process),
and, as the floor no modelling layer can beat, writes the same model to MPS and
times HiGHS alone on it in another fresh process (``highspy`` ``readModel`` and
the same two lexicographic stages with the same options). It prints a markdown
table (phase times, model size, peak memory, overhead ratio
``(total − HiGHS) / HiGHS``, the reference), the fitted exponent of
build + hand-over time against nonzeros, and the machine and its load.

Sizes (units × groups × years): S 5×5×4, M 55×15×10 (a national plan),
L 150×20×12, XL 500×20×15. The solver's time limit is 600 s, 540 s for XL so
that XL's whole run, build included, fits a 10-minute budget. Speed targets
live here, never in the unit tests. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SIZES: dict[str, tuple[int, int, int, float]] = {
    "S": (5, 5, 4, 600.0),
    "M": (55, 15, 10, 600.0),
    "L": (150, 20, 12, 600.0),
    "XL": (500, 20, 15, 540.0),
    "NHS": (220, 20, 12, 600.0),
}
"""Size -> (units, groups, years, solver time limit in seconds)."""
MARK = "BENCHMARK-RESULT "


def peak_rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def seconds_since_process_start() -> float:
    import psutil

    return max(time.time() - psutil.Process().create_time(), 0.0)


# ------------------------------------------------------------ worker: the engine


def run_engine(folder: Path, time_limit: float, explain: bool, reference: bool) -> dict:
    """Solve ``folder/instance/instance.yaml`` as ``wfopt solve --out`` does; then
    (untimed) export the model as MPS for the reference run."""
    startup = seconds_since_process_start()  # the interpreter, before the imports below
    from optimiser import SolveOptions, load_instance, solve
    from optimiser.engine.solve import HighsModel
    from optimiser.results.tables import good_plan_summary, versions

    imports = seconds_since_process_start() - startup
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    inst = load_instance(folder / "instance" / "instance.yaml", timings=timings)
    result = solve(inst, SolveOptions(time_limit=time_limit, explain=explain, started=t0),
                   timings=timings)
    result.write(folder / "results")
    total = time.perf_counter() - t0
    peak = peak_rss_bytes()  # before what follows, which builds the model again
    out = {"status": result.status, "weighted_shortfall": result.weighted_shortfall,
           "total_cost": result.total_cost, "mip_gap": result.mip_gap,
           "stages": result.stages, "good_plan": good_plan_summary(result.stages),
           "timings": result.timings,
           "model_size": result.model_size, "total": total, "peak_rss": peak,
           "startup": startup, "imports": imports, "versions": versions()}
    # Build and hand over once more, timing CPU seconds: on a shared machine the
    # wall times above include waiting for a core; these do not.
    from formulations import build_model, model_data

    del result
    c0 = time.process_time()
    m = build_model(model_data(inst))
    c1 = time.process_time()
    hm = HighsModel(m)
    out["cpu"] = {"build": c1 - c0, "handover": time.process_time() - c1}
    if reference:
        import numpy as np

        hm.h.writeModel(str(folder / "model.mps"))
        np.savez(folder / "objectives.npz", c_W=hm.c_W, c_C=hm.c_C)
        opts = inst.solver
        out["reference_options"] = {
            "mip_rel_gap": opts.mip_gap, "random_seed": opts.seed, "threads": opts.threads,
            "time_limit": time_limit, "rel_tol": inst.objective.rel_tol,
            "abs_tol": inst.objective.abs_tol}
    return out


# ------------------------------------------------------------ reference: HiGHS alone


def run_reference(folder: Path, options: dict) -> dict:
    """HiGHS alone on the MPS file: read it, stage 1 (W), stage 2 (C with
    W ≤ W₁ + tol, starting from the stage-1 plan), the same options."""
    import highspy
    import numpy as np

    from optimiser.engine.highs import new_highs

    t0 = time.perf_counter()
    h = new_highs(threads=options.get("threads"))
    h.readModel(str(folder / "model.mps"))
    read = time.perf_counter() - t0
    obj = np.load(folder / "objectives.npz")
    n = h.getNumCol()
    cols = np.arange(n, dtype=np.int32)
    h.setOptionValue("mip_rel_gap", float(options["mip_rel_gap"]))
    h.setOptionValue("random_seed", int(options["random_seed"]))
    if options["threads"] is not None:
        h.setOptionValue("threads", int(options["threads"]))
    deadline = time.perf_counter() + options["time_limit"]
    stages = []

    def stage(cost, start=None) -> np.ndarray | None:
        h.changeColsCost(n, cols, cost)
        h.setOptionValue("time_limit", max(deadline - time.perf_counter(), 1e-3))
        if start is not None:
            h.setSolution(n, cols, start)
        t = time.perf_counter()
        h.run()
        info = h.getInfo()
        has_x = info.primal_solution_status == 2
        stages.append({"seconds": time.perf_counter() - t,
                       "status": h.modelStatusToString(h.getModelStatus()),
                       "gap": float(info.mip_gap) if has_x else None})
        return np.asarray(h.getSolution().col_value) if has_x else None

    x1 = stage(obj["c_W"])
    if x1 is not None:
        w1 = float(obj["c_W"] @ x1)
        tol = max(options["abs_tol"], options["rel_tol"] * abs(w1))
        idx = np.flatnonzero(obj["c_W"]).astype(np.int32)
        h.addRow(-highspy.kHighsInf, w1 + tol, len(idx), idx, obj["c_W"][idx])
        stage(obj["c_C"], start=x1)
    return {"read": read, "stages": stages, "solve": sum(s["seconds"] for s in stages),
            "total": time.perf_counter() - t0, "peak_rss": peak_rss_bytes()}


# ------------------------------------------------------------ driver


def child(args: list[str], timeout: float) -> dict:
    """Run this script in a fresh interpreter and return the result it prints.

    The driver imports nothing of the engine: on Linux a child's ``ru_maxrss``
    starts from its parent's peak (it survives fork and exec), so a large driver
    would inflate every size's peak memory.
    """
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args],
                          capture_output=True, text=True, cwd=REPO, timeout=timeout)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"error": f"exit {proc.returncode}: {tail}"}


def fit_exponent(xs: list[float], ys: list[float]) -> float | None:
    """Least-squares slope of log y against log x (None with fewer than 2 points)."""
    if len(xs) < 2:
        return None
    lx = [math.log(x) for x in xs]
    ly = [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    sxx = sum((a - mx) ** 2 for a in lx)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / sxx if sxx else None


def machine() -> dict:
    """CPU count and model, memory (read from /proc, no imports: the driver stays small,
    see :func:`child`)."""
    cpu, mem_kb = "unknown", 0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text()
                      .splitlines() if line.startswith("MemTotal"))
    except (OSError, StopIteration):
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory_gib": round(mem_kb / 2**20, 1)}


def fmt(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:,.{digits}f}"


def within(engine: dict, objective: str) -> str:
    """"a / b": seconds from the load's start to the first plan of the
    objective's stage within 1% and within the gap of its final bound."""
    g = (engine.get("good_plan") or {}).get(objective)
    if not g:
        return "-"
    return f"{fmt(g['within_1pct_seconds'], 1)} / {fmt(g['within_gap_seconds'], 1)}"


def table(rows: list[dict]) -> str:
    head = ("| size | units×groups×years | variables | integers | constraints | nonzeros "
            "| load | validate | build | handover | solve (HiGHS) | extract | explain | write "
            "| total | W within 1% / gap | C within 1% / gap "
            "| overhead ratio | build+handover CPU | peak MiB | status (gap) "
            "| HiGHS alone: read | "
            "HiGHS alone: solve | HiGHS alone: peak MiB | start-up |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        e, ref = r.get("engine", {}), r.get("reference", {})
        if "error" in e:
            lines.append(f"| {r['size']} | {r['shape']} | error: {e['error']} |")
            continue
        t, ms = e["timings"], e["model_size"]
        ratio = (e["total"] - t["solve"]) / t["solve"] if t.get("solve") else None
        gap = "" if e["mip_gap"] is None else f" ({e['mip_gap']:.2%})"
        lines.append(
            f"| {r['size']} | {r['shape']} | {ms['variables']:,} | {ms['integers']:,} "
            f"| {ms['constraints']:,} | {ms['nonzeros']:,} | {fmt(t.get('load'))} "
            f"| {fmt(t.get('validate'))} | {fmt(t.get('build'))} | {fmt(t.get('handover'))} "
            f"| {fmt(t.get('solve'))} | {fmt(t.get('extract'))} | {fmt(t.get('explain'))} "
            f"| {fmt(t.get('write'))} | {fmt(e['total'])} "
            f"| {within(e, 'weighted_shortfall')} | {within(e, 'total_cost')} | {fmt(ratio, 3)} "
            f"| {fmt(e['cpu']['build'] + e['cpu']['handover']) if 'cpu' in e else '-'} "
            f"| {e['peak_rss'] / 2**20:,.0f} | {e['status']}{gap} "
            f"| {fmt(ref.get('read'))} | {fmt(ref.get('solve'))} "
            f"| {fmt(ref['peak_rss'] / 2**20, 0) if 'peak_rss' in ref else '-'} "
            f"| {fmt(e['startup'] + e['imports'])} |")
    return "\n".join(lines)


def set_placement(path: Path, rule: str) -> None:
    """Give the generated instance a top-level ``placement`` (before/after tables)."""
    import yaml

    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["placement"] = rule
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="S,M,L,NHS,XL",
                   help="comma-separated, of S, M, L, NHS (220 trusts: every NHS trust), XL")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--time-limit", type=float, default=None,
                   help="solver limit per size, seconds (default 600; XL 540)")
    p.add_argument("--explain", action="store_true",
                   help="also compute marginal values and explanations (wfopt solve's "
                   "default; off here, as in sweeps)")
    p.add_argument("--no-reference", action="store_true", help="skip HiGHS alone on MPS")
    p.add_argument("--placement", default=None,
                   help="set the generated instances' placement (SPEC §2.14): need (the "
                   "default), posts, staff or free (before placement)")
    p.add_argument("--work", type=Path, default=HERE / "_work")
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    p.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--reference", type=Path, help=argparse.SUPPRESS)
    a = p.parse_args(argv)

    if a.worker:  # inside the fresh process for one size
        print(MARK + json.dumps(run_engine(a.worker, a.time_limit, a.explain,
                                           not a.no_reference)))
        return 0
    if a.reference:
        options = json.loads((a.reference / "reference_options.json").read_text())
        print(MARK + json.dumps(run_reference(a.reference, options)))
        return 0

    sizes = [s.strip().upper() for s in a.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        print(f"--sizes | unknown size {', '.join(unknown)}; choose from S, M, L, XL",
              file=sys.stderr)
        return 2
    info = machine()
    load_before = os.getloadavg()
    rows = []
    for size in sizes:
        units, groups, years, limit = SIZES[size]
        limit = a.time_limit if a.time_limit is not None else limit
        folder = a.work / size
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "cli", "generate", "--units", str(units),
                        "--groups", str(groups), "--years", str(years), "--seed",
                        str(a.seed), "--out", str(folder / "instance")],
                       check=True, capture_output=True, cwd=REPO)
        if a.placement is not None:
            set_placement(folder / "instance" / "instance.yaml", a.placement)
        row = {"size": size, "shape": f"{units}×{groups}×{years}", "time_limit": limit,
               "generate": time.perf_counter() - t0}
        print(f"{size}: solving ({units}×{groups}×{years}, limit {limit:g} s)...",
              file=sys.stderr, flush=True)
        args = ["--worker", str(folder), "--time-limit", str(limit)]
        args += ["--explain"] if a.explain else []
        args += ["--no-reference"] if a.no_reference else []
        row["engine"] = child(args, timeout=4 * limit + 1800)
        if not a.no_reference and "reference_options" in row["engine"]:
            (folder / "reference_options.json").write_text(
                json.dumps(row["engine"]["reference_options"]))
            print(f"{size}: HiGHS alone on the MPS file...", file=sys.stderr, flush=True)
            row["reference"] = child(["--reference", str(folder)], timeout=2 * limit + 600)
        rows.append(row)
        print(table([row]).splitlines()[-1], file=sys.stderr, flush=True)

    ok = [r for r in rows if "error" not in r["engine"]]
    nnz = [r["engine"]["model_size"]["nonzeros"] for r in ok]
    bh = [r["engine"]["timings"]["build"] + r["engine"]["timings"]["handover"] for r in ok]
    bh_cpu = [r["engine"]["cpu"]["build"] + r["engine"]["cpu"]["handover"] for r in ok]
    exponent = fit_exponent(nnz, bh)
    exponent_cpu = fit_exponent(nnz, bh_cpu)
    load_after = os.getloadavg()
    print(table(rows))
    print()
    if exponent is not None:
        print(f"build + handover ∝ nonzeros^k, log-log least squares over "
              f"{', '.join(r['size'] for r in ok)}: k = {exponent:.3f} on wall seconds, "
              f"{exponent_cpu:.3f} on CPU seconds")
        for i, j in itertools.pairwise(range(len(ok))):
            k = fit_exponent([nnz[i], nnz[j]], [bh_cpu[i], bh_cpu[j]])
            print(f"  {ok[i]['size']}→{ok[j]['size']}: k = {k:.3f} on CPU seconds "
                  f"({bh_cpu[i]:.2f} s → {bh_cpu[j]:.2f} s)")
    v = ok[0]["engine"]["versions"] if ok else {}
    print(f"machine: {info['nproc']} CPUs, {info['cpu']}, {info['memory_gib']} GiB; "
          f"Python {v.get('python')}, Pyomo {v.get('pyomo')}, HiGHS {v.get('highs')}")
    print(f"load average (1, 5, 15 min): before {', '.join(f'{x:.2f}' for x in load_before)}; "
          f"after {', '.join(f'{x:.2f}' for x in load_after)}")
    if a.json:
        a.json.write_text(json.dumps({"machine": info, "rows": rows, "exponent": exponent,
                                      "exponent_cpu": exponent_cpu,
                                      "load_before": load_before, "load_after": load_after},
                                     indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
