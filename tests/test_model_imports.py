"""The model packages import on their own, in either order (a script or a
notebook may start with ``import formulations``)."""

from __future__ import annotations

import subprocess
import sys


def test_formulations_imports_first_in_a_fresh_interpreter():
    """``formulations`` → ``optimiser.instance.schema`` → ``optimiser/__init__`` →
    ``optimiser.results.tables`` → ``formulations.budgets`` was a cycle that only
    showed when ``formulations`` was imported first."""
    proc = subprocess.run([sys.executable, "-c", "import formulations"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
