"""What explaining a plan costs: marginal values, explanations, the HTML report.

    python benchmarks/explain.py [--instances tiny,stepping-forward-2017,S,M]
                                 [--time-limit 120] [--work benchmarks/_work]

For each instance (a folder under ``instances/`` or a generated size S / M as in
``benchmarks/run.py``) it solves once with ``explain=False``, then on that plan
times the marginal values (``optimiser.explain.marginals``: the fixed-integer LP, the
places-free LP, ranging, the whole-place and funded-unit re-solves), the
explanations (``optimiser.explain.diagnose.explain_shortfall``) and the report
(``optimiser.report.page``: render and write), and prints a markdown table with the
solve time for scale. Each is the best of ``--repeat`` runs. The machine's load
is printed too: on a shared machine the numbers are noisy.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

GENERATED = {"S": (5, 5, 4), "M": (55, 15, 10)}
"""Generated sizes (units, groups, years), as in benchmarks/run.py."""


def instance_path(name: str, work: Path) -> Path:
    if name in GENERATED:
        from optimiser.generate import generate_instance, write_instance

        folder = work / f"explain-{name}"
        if not (folder / "instance.yaml").is_file():
            write_instance(generate_instance(*GENERATED[name], seed=1), folder)
        return folder / "instance.yaml"
    return REPO / "instances" / name / "instance.yaml"


def best(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def measure(name: str, work: Path, time_limit: float, repeat: int) -> dict[str, object]:
    from optimiser import SolveOptions, load_instance, solve
    from optimiser.engine.solve import HighsModel
    from optimiser.explain.diagnose import explain_shortfall
    from optimiser.explain.marginals import marginal_values
    from optimiser.report.page import ResultsView, write_report

    inst = load_instance(instance_path(name, work))
    t0 = time.perf_counter()
    result = solve(inst, SolveOptions(time_limit=time_limit, explain=False))
    solve_s = time.perf_counter() - t0
    m = result.model
    hm = HighsModel(m)
    x = np.array([v.value or 0.0 for v in hm.columns])
    d = m.model_data
    mv_s, (mv, _notes) = best(lambda: marginal_values(
        hm, x, d, result.objective_mode, inst.objective.value_per_fte), repeat)
    ex_s, _ = best(lambda: explain_shortfall(d, result.tables, result.weighted_shortfall, mv),
                   repeat)
    result.marginal_values = mv
    out = work / f"explain-report-{name}.html"
    view = ResultsView.from_result(result)
    rep_s, _ = best(lambda: write_report(view, out), repeat)
    size = hm.size()
    return {"instance": name, "status": result.status,
            "size": f"{size['variables']:,} / {size['integers']:,} / {size['constraints']:,}",
            "solve": solve_s, "marginal values": mv_s, "rows": len(mv),
            "explanations": ex_s, "report": rep_s,
            "report KiB": out.stat().st_size / 1024}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", default="tiny,stepping-forward-2017,S,M")
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--work", type=Path, default=HERE / "_work")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in args.instances.split(","):
        if name not in GENERATED and not instance_path(name, args.work).is_file():
            print(f"skipped {name}: no instances/{name}/instance.yaml", file=sys.stderr)
            continue
        rows.append(measure(name, args.work, args.time_limit, args.repeat))
    cols = ["instance", "status", "size", "solve", "marginal values", "rows",
            "explanations", "report", "report KiB"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        cells = [f"{r[c]:.3f}" if isinstance(r[c], float) and c != "report KiB"
                 else f"{r[c]:,.0f}" if c == "report KiB" else str(r[c]) for c in cols]
        print("| " + " | ".join(cells) + " |")
    print("\nsize: variables / integers / constraints; times in seconds (best of "
          f"{args.repeat}; solve once, limit {args.time_limit:g} s).")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores: on a shared "
          "machine the times are noisy.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
