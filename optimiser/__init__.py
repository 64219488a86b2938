"""Workforce-planning optimiser: the library API.

``load_instance(path, overrides)`` reads and validates an instance file,
``solve(instance, options)`` returns a :class:`Result` whose tables are pandas
DataFrames, and ``sweep(instance, grid, options)`` solves a grid of overrides
into one DataFrame row per point.
"""


from optimiser import lean_imports  # noqa: F401  # first: see its docstring
from optimiser.compare import compare as compare  # plans side by side, for scripts
from optimiser.errors import InputError, Problem
from optimiser.loader import load_instance
from optimiser.overrides import Override
from optimiser.results import Result
from optimiser.scenarios import solve_scenarios
from optimiser.schema import Instance
from optimiser.solve import SolveOptions, solve

# The function, not the submodule of the same name (Dask and matplotlib load
# only inside it, when a sweep runs).
from optimiser.sweep import sweep  # isort: skip

__version__ = "0.1.0"

__all__ = ["InputError", "Instance", "Override", "Problem", "Result", "SolveOptions",
           "load_instance", "solve", "solve_scenarios", "sweep"]

