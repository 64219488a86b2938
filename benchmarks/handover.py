"""Compare ways of handing the built Pyomo model to HiGHS, on a generated plan.

    python benchmarks/handover.py [--size M] [--seed 1] [--repeat 3]

Each route runs in a fresh process on the same instance, after the same build,
and stops once HiGHS holds the model (no solve): the time is the best of
``--repeat`` hand-overs of a freshly built model, the memory the process's peak.

- ``standard-form`` (the engine's): Pyomo's ``LinearStandardFormCompiler`` and
  ``highspy.passModel`` of the arrays (both objectives in one compile);
- ``contrib-persistent``: ``pyomo.contrib.solver`` HiGHS, ``set_instance``;
- ``appsi-persistent``: ``pyomo.contrib.appsi`` HiGHS, ``set_instance``;
- ``lp-file`` / ``mps-file``: Pyomo writes the file, HiGHS reads it.

The persistent interfaces take one active objective: W only (total cost
deactivated), which is less work than the engine's route does. It also times
the lexicographic second stage on the engine's route: re-using the HiGHS model
(swap the costs, add the row on W) against compiling the model again.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SIZES = {"S": (5, 5, 4), "M": (55, 15, 10), "L": (150, 20, 12), "XL": (500, 20, 15)}
ROUTES = ("standard-form", "contrib-persistent", "appsi-persistent", "lp-file", "mps-file")
MARK = "HANDOVER-RESULT "


def build(path: Path):
    from formulations import build_model, model_data
    from optimiser import load_instance

    return build_model(model_data(load_instance(path)))


def hand_over(route: str, m) -> float:
    """Seconds for one hand-over of the built model ``m`` by ``route``."""
    import pyomo.environ as pyo

    from optimiser.engine.highs import new_highs

    t0 = time.perf_counter()
    if route == "standard-form":
        from optimiser.engine.solve import HighsModel

        HighsModel(m)
    elif route in ("contrib-persistent", "appsi-persistent"):
        m.total_cost.deactivate()
        t0 = time.perf_counter()
        if route == "contrib-persistent":
            from pyomo.contrib.solver.solvers.highs import Highs
        else:
            from pyomo.contrib.appsi.solvers.highs import Highs
        Highs().set_instance(m)
    else:
        suffix = ".lp" if route == "lp-file" else ".mps"
        with tempfile.TemporaryDirectory() as tmp:
            f = str(Path(tmp) / f"model{suffix}")
            m.total_cost.deactivate()  # the writers take one objective
            t0 = time.perf_counter()
            m.write(f, io_options={"symbolic_solver_labels": False})
            h = new_highs()
            h.readModel(f)
    del pyo
    return time.perf_counter() - t0


def run_route(route: str, path: Path, repeat: int) -> dict:
    import optimiser  # noqa: F401  # the engine's imports, as in a solve

    times, builds = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        m = build(path)
        builds.append(time.perf_counter() - t0)
        times.append(hand_over(route, m))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"route": route, "handover": min(times), "all": times, "build": min(builds),
            "peak_rss": peak}


def stage_two(path: Path) -> dict:
    """The second lexicographic stage: reuse the HiGHS model, or compile again."""
    import numpy as np

    from optimiser.engine.solve import HighsModel

    m = build(path)
    hm = HighsModel(m)
    t0 = time.perf_counter()
    hm.h.changeColsCost(hm.n, np.arange(hm.n, dtype=np.int32), hm.c_C)
    hm.add_row(hm.c_W, 1e9)
    reuse = time.perf_counter() - t0
    t0 = time.perf_counter()
    HighsModel(m)
    again = time.perf_counter() - t0
    return {"reuse": reuse, "compile_again": again}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", default="M", choices=sorted(SIZES))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--routes", default=",".join(ROUTES))
    p.add_argument("--work", type=Path, default=HERE / "_work")
    p.add_argument("--route", help=argparse.SUPPRESS)
    p.add_argument("--stage-two", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--instance", type=Path, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.route:
        print(MARK + json.dumps(run_route(a.route, a.instance, a.repeat)))
        return 0
    if a.stage_two:
        print(MARK + json.dumps(stage_two(a.instance)))
        return 0

    units, groups, years = SIZES[a.size]
    folder = a.work / f"handover-{a.size}"
    subprocess.run([sys.executable, "-m", "cli", "generate", "--units", str(units), "--groups",
                    str(groups), "--years", str(years), "--seed", str(a.seed), "--out",
                    str(folder)], check=True, capture_output=True, cwd=REPO)
    instance = folder / "instance.yaml"

    def child(*args: str) -> dict:
        proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args,
                               "--instance", str(instance), "--repeat", str(a.repeat)],
                              capture_output=True, text=True, cwd=REPO)
        for line in reversed(proc.stdout.splitlines()):
            if line.startswith(MARK):
                return json.loads(line[len(MARK):])
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}

    print(f"size {a.size} ({units}×{groups}×{years}), best of {a.repeat}\n")
    print("| route | hand-over s | build s | peak MiB |")
    print("|---|---|---|---|")
    for route in a.routes.split(","):
        r = child("--route", route)
        if "error" in r:
            print(f"| {route} | error: {r['error']} | | |")
        else:
            print(f"| {route} | {r['handover']:.2f} | {r['build']:.2f} "
                  f"| {r['peak_rss'] / 2**20:,.0f} |", flush=True)
    s2 = child("--stage-two")
    if "error" not in s2:
        print(f"\nstage 2: reuse the HiGHS model {s2['reuse'] * 1000:.1f} ms, "
              f"compile again {s2['compile_again']:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
