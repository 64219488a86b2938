"""Where a solve's memory goes: resident memory over the phases of one solve.

    python benchmarks/memory.py FOLDER [--time-limit SECONDS] [--interval 0.2]

``FOLDER`` holds ``instance/instance.yaml`` (as ``benchmarks/run.py`` writes
them, e.g. ``benchmarks/_work/XL``). The solve runs in a fresh interpreter,
exactly as ``benchmarks/run.py`` runs it (load, solve, write); this driver
imports nothing of the engine and reads the child's resident memory from
``/proc/PID/status`` every ``--interval`` seconds, because a Python thread in
the child would not run while HiGHS holds the interpreter. The child marks when
each phase begins (by wrapping the engine's functions from outside; the engine
is not changed). Printed: a table with, per phase, the resident memory at its
start and end and the most seen inside it, in MiB, and the process's peak
(``VmHWM``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def child(folder: Path, time_limit: float, marks: Path) -> None:
    out = marks.open("w", buffering=1)

    def mark(label: str) -> None:
        out.write(json.dumps([time.time(), label]) + "\n")

    mark("imports")
    import optimiser.engine.solve as solve_mod
    from optimiser import SolveOptions, load_instance, solve

    def wrap(owner, name: str, label: str | None = None) -> None:
        inner = getattr(owner, name)

        def wrapped(*args, **kwargs):
            mark(label or name)
            try:
                return inner(*args, **kwargs)
            finally:
                mark(f"after {label or name}")

        setattr(owner, name, wrapped)

    wrap(solve_mod, "model_data")
    wrap(solve_mod, "build_model")
    wrap(solve_mod.HighsModel, "__init__", "handover")
    wrap(solve_mod.HighsModel, "first_plan")
    wrap(solve_mod.HighsModel, "held_on_off")
    wrap(solve_mod.HighsModel, "run", "HiGHS run")
    wrap(solve_mod, "_rebuild", "rebuild")
    wrap(solve_mod, "least_unplaced")
    wrap(solve_mod, "share_out")
    wrap(solve_mod, "_plan", "extract")
    mark("load")
    inst = load_instance(folder / "instance" / "instance.yaml")
    mark("solve")
    result = solve(inst, SolveOptions(time_limit=time_limit))
    mark("write")
    result.write(folder / "results")
    mark("end")
    out.close()


def rss_mib(pid: int, key: str = "VmRSS") -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--interval", type=float, default=0.2)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--marks", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(a.folder.resolve(), a.time_limit, a.marks)
        return
    marks = a.folder.resolve() / "memory_marks.jsonl"
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), str(a.folder),
                             "--time-limit", str(a.time_limit), "--child", "--marks",
                             str(marks)], cwd=REPO)
    samples: list[tuple[float, float]] = []
    peak = 0.0
    while proc.poll() is None:
        value = rss_mib(proc.pid)
        hwm = rss_mib(proc.pid, "VmHWM")
        if value is not None:
            samples.append((time.time(), value))
        if hwm is not None:
            peak = max(peak, hwm)
        time.sleep(a.interval)
    if proc.returncode:
        sys.exit(f"the solve failed (exit {proc.returncode})")
    events = [json.loads(line) for line in marks.read_text().splitlines()]
    print(f"peak resident memory (VmHWM): {peak:,.0f} MiB; samples every {a.interval:g} s")
    print("| from | seconds | MiB at start | MiB at end | most MiB inside |")
    print("|---|---:|---:|---:|---:|")
    t_first = events[0][0]
    for (t0, label), (t1, _next) in itertools.pairwise(events):
        inside = [v for t, v in samples if t0 <= t <= t1]
        before = [v for t, v in samples if t <= t0]
        after = [v for t, v in samples if t <= t1]
        start = before[-1] if before else (inside[0] if inside else None)
        end = after[-1] if after else None
        most = max(inside) if inside else None

        def fmt(v: float | None) -> str:
            return "-" if v is None else f"{v:,.0f}"

        print(f"| {label} (+{t0 - t_first:.1f} s) | {t1 - t0:.1f} | {fmt(start)} | "
              f"{fmt(end)} | {fmt(most)} |")


if __name__ == "__main__":
    main()
