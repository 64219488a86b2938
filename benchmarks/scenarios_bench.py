"""Benchmark the extensive form of a stochastic plan against its number of scenarios,
and the WS/EEV solves serial against parallel.

    python benchmarks/scenarios_bench.py [--instance PATH] [--counts 1,2,5,10,20]
                                         [--time-limit S] [--mip-gap G] [--workers 2]
                                         [--figures-at 5] [--build-only]

For each count n, the scenarios are n futures of the instance with every leaver
rate scaled by factors spread evenly over [0.937, 1.084] (the published range of
mental-health clinical turnover, 13.4%–15.5% against 14.3%), equally likely,
here-and-now 1 year; each count runs in a fresh Python process. The table gives
the build seconds of the extensive form (which must grow linearly with n), the
hand-over, HiGHS per stage, the model size, W (ρ) and C (expected), and the
status. Then, at ``--figures-at`` scenarios, the WS/EEV solves (``2n + 1``
independent solves) in this process against ``--workers`` local processes.

``--build-only`` times only the building of the extensive form and its hand-over
to HiGHS, best of three in a fresh process per count, in CPU and wall seconds
(CPU seconds are what a loaded machine does not inflate): the check that the
build grows linearly with the number of scenarios.

The instance defaults to ``instances/stepping-forward-2017/instance.yaml``. A
shared machine is noisy: compare ratios, re-run, and read the load printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
REALISTIC = REPO / "instances" / "stepping-forward-2017" / "instance.yaml"
MARK = "SCENARIOS-BENCH "


def scenarios(n: int) -> dict:
    lo, hi = 0.937, 1.084
    factors = [1.0] if n == 1 else [lo + (hi - lo) * k / (n - 1) for k in range(n)]
    return {"here_and_now_years": 1, "risk": "expected",
            "list": [{"id": f"s{k + 1}", "probability": 1.0 / n,
                      "scale": {"staff_groups.*.leaver_rate": f,
                                "workforce.*.leaver_rate": f}}
                     for k, f in enumerate(factors)]}


def child(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(REPO))
    from optimiser import SolveOptions, load_instance
    from optimiser.engine.scenarios import scenario_set, solve_scenarios, stochastic_figures
    from optimiser.instance.schema import Scenarios

    inst = load_instance(args.instance)
    sc = scenarios(args.count)
    sc["list"][-1]["probability"] = 1.0 - sum(s["probability"] for s in sc["list"][:-1])
    inst = inst.model_copy(update={"scenarios": Scenarios.model_validate(sc)})
    opts = SolveOptions(time_limit=args.time_limit, mip_gap=args.mip_gap, explain=False)
    out: dict = {"count": args.count}
    if args.build_only:
        from optimiser.engine.scenarios import build_extensive
        from optimiser.engine.solve import HighsModel

        best: dict[str, float] = {}
        for _ in range(3):
            c0, w0 = time.process_time(), time.perf_counter()
            ef = build_extensive(scenario_set(inst))
            c1, w1 = time.process_time(), time.perf_counter()
            hm = HighsModel(ef.m)
            c2, w2 = time.process_time(), time.perf_counter()
            for k, v in (("build_cpu", c1 - c0), ("build_wall", w1 - w0),
                         ("handover_cpu", c2 - c1), ("handover_wall", w2 - w1)):
                best[k] = min(best.get(k, v), v)
            out["columns"] = hm.h.getNumCol()
            out["rows"] = hm.h.getNumRow()
            del ef, hm
        out.update(best)
    elif args.figures:
        from optimiser.engine.solve import effective_options

        ss = scenario_set(inst)
        o = effective_options(inst, opts)
        for workers in (1, args.workers):
            t0 = time.perf_counter()
            st = stochastic_figures(ss, 0.0, o, workers=workers)
            out[f"figures_{workers}"] = time.perf_counter() - t0
            out[f"EEV_{workers}"] = st.EEV
    else:
        t0 = time.perf_counter()
        r = solve_scenarios(inst, opts, figures=False)
        out.update(wall=time.perf_counter() - t0, status=r.status, W=r.weighted_shortfall,
                   C=r.total_cost, timings=r.timings, size=r.model_size,
                   stages={s["stage"]: s["seconds"] for s in r.stages})
    print(MARK + json.dumps(out))


def run(extra: list[str]) -> dict:
    p = subprocess.run([sys.executable, __file__, "--child", *extra], capture_output=True,
                       text=True, cwd=REPO)
    for line in p.stdout.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    raise SystemExit(f"child failed: {p.stderr[-2000:]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instance", default=str(REALISTIC))
    ap.add_argument("--counts", default="1,2,5,10,20")
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--mip-gap", type=float, default=None)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--figures-at", type=int, default=5)
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--figures", action="store_true")
    ap.add_argument("--build-only", action="store_true")
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    common = ["--instance", args.instance, "--time-limit", str(args.time_limit),
              "--workers", str(args.workers)]
    if args.mip_gap is not None:
        common += ["--mip-gap", str(args.mip_gap)]
    print(f"load before: {os.getloadavg()[0]:.2f}; cores {os.cpu_count()}")
    if args.build_only:
        print("| scenarios | build CPU s | build wall s | hand-over CPU s | hand-over wall s "
              "| columns | rows | build CPU s per scenario |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        for n in [int(c) for c in args.counts.split(",")]:
            r = run([*common, "--count", str(n), "--build-only"])
            print(f"| {n} | {r['build_cpu']:.2f} | {r['build_wall']:.2f} | "
                  f"{r['handover_cpu']:.2f} | {r['handover_wall']:.2f} | {r['columns']:,} | "
                  f"{r['rows']:,} | {r['build_cpu'] / n:.3f} |")
        print(f"load after: {os.getloadavg()[0]:.2f}")
        return
    print("| scenarios | build s | hand-over s | HiGHS s by stage | variables | rows | "
          "W (ρ) | C (expected) | status | wall s |")
    print("|---:|---:|---:|---|---:|---:|---:|---:|---|---:|")
    for n in [int(c) for c in args.counts.split(",")]:
        r = run([*common, "--count", str(n)])
        t = r["timings"]
        stages = ", ".join(f"{k} {v:.1f}" for k, v in r["stages"].items())
        print(f"| {n} | {t.get('build', 0):.2f} | {t.get('handover', 0):.2f} | {stages} | "
              f"{r['size'].get('variables', 0):,} | {r['size'].get('constraints', 0):,} | "
              f"{r['W']:,.2f} | {r['C']:,.0f} | {r['status']} | {r['wall']:.1f} |")
    f = run([*common, "--count", str(args.figures_at), "--figures"])
    print(f"\nWS/EEV solves at {args.figures_at} scenarios: serial {f['figures_1']:.1f} s, "
          f"{args.workers} workers {f[f'figures_{args.workers}']:.1f} s "
          f"(×{f['figures_1'] / f[f'figures_{args.workers}']:.2f}); EEV "
          f"{f['EEV_1']} / {f[f'EEV_{args.workers}']}")
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
