"""Where a solve's time and memory went: the table of ``wfopt solve --profile``.

The phases are those of :attr:`optimiser.results.tables.Result.timings` (seconds):

- ``load``: read the instance file and its CSV sections, apply overrides;
- ``validate``: field checks (pydantic) and cross-references;
- ``build``: model data and the Pyomo model;
- ``handover``: compile the model to standard form and pass it to HiGHS;
- ``solve``: HiGHS's own time, all stages (``solve_<stage>`` per stage);
- ``rebuild``: on a large model, freed while HiGHS solved, the Pyomo model
  built again for the plan to be read back;
- ``extract``: read the plan back into the result tables;
- ``explain`` / ``diagnose``: marginal values and explanations, or the
  conflicting constraints when there is no plan;
- ``write``: the result tables on disk.

``other`` is the wall time of the run not inside any phase; ``startup`` the
interpreter and imports before the command began. The overhead ratio is the
engine's own time against HiGHS's: ``(total − solve) / solve``.
"""

from __future__ import annotations

import resource
import sys
from typing import Any

PHASES = ("load", "validate", "build", "handover", "solve", "rebuild", "extract", "explain",
          "diagnose", "write")


def peak_memory_bytes() -> int:
    """Peak resident memory of this process so far (``ru_maxrss``)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)  # bytes on macOS, KiB else


def ordered_phases(timings: dict[str, float]) -> list[tuple[str, float]]:
    """Top-level phases in pipeline order, then any phase this module does not know;
    per-stage solve times (``solve_<stage>``) are left to :func:`profile_table`."""
    known = [(p, timings[p]) for p in PHASES if p in timings]
    extra = [(k, v) for k, v in timings.items()
             if k not in PHASES and not k.startswith("solve_")]
    return known + extra


def overhead_ratio(total: float, solve: float) -> float | None:
    """``(total − solve) / solve``; None when HiGHS took no measurable time."""
    return (total - solve) / solve if solve > 0 else None


def profile_table(timings: dict[str, float], model_size: dict[str, int], total: float,
                  peak_bytes: int, startup: float | None = None) -> str:
    """The ``--profile`` table: seconds and share of ``total`` per phase (HiGHS's
    stages indented under ``solve``), model size, peak memory and overhead ratio.

    ``total`` is the wall time from the start of ``load`` to the end of ``write``.
    """
    lines = [f"{'phase':<18}{'seconds':>10}{'share':>8}"]

    def row(name: str, seconds: float, note: str = "") -> None:
        share = f"{seconds / total:.1%}" if total > 0 else "-"
        lines.append(f"{name:<18}{seconds:>10.3f}{share:>8}{'  ' + note if note else ''}")

    if startup is not None:
        lines.append(f"{'startup':<18}{startup:>10.3f}{'':>8}  interpreter and imports, "
                     "before the run (not in total)")
    inside = 0.0
    for name, seconds in ordered_phases(timings):
        row(name, seconds, "HiGHS" if name == "solve" else "")
        inside += seconds
        if name == "solve":
            for key, value in timings.items():
                if key.startswith("solve_"):
                    row(f"  {key[len('solve_'):]}", value)
    row("other", max(total - inside, 0.0), "outside the phases")
    lines.append(f"{'total':<18}{total:>10.3f}{'':>8}  load to write, wall")
    size: dict[str, Any] = model_size or {}
    if size:
        lines.append(f"model     {size.get('variables', 0):,} variables "
                     f"({size.get('integers', 0):,} integer), "
                     f"{size.get('constraints', 0):,} constraints, "
                     f"{size.get('nonzeros', 0):,} nonzeros")
    lines.append(f"memory    peak {peak_bytes / 2**20:,.1f} MiB (resident, ru_maxrss)")
    ratio = overhead_ratio(total, timings.get("solve", 0.0))
    lines.append("overhead  (total − HiGHS) / HiGHS = "
                 + ("-" if ratio is None else f"{ratio:.3f}"))
    return "\n".join(lines)
