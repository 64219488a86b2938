"""Workforce-planning optimiser: the library API.

``load_instance(path, overrides)`` reads and validates an instance file,
``solve(instance, options)`` returns a :class:`Result` whose tables are pandas
DataFrames, ``solve_scenarios(instance)`` plans under the instance's scenarios,
``sweep(instance, grid, options)`` solves a grid of overrides into one DataFrame
row per point, and ``compare(results…)`` sets plans side by side.

The package is laid out by stage (docs/architecture.md): ``instance`` (schema,
files, overrides, checks) → ``engine`` (the model in HiGHS, the stages) →
``explain`` (marginal values, why, conflicts in words) → ``results`` (tables,
writing) → ``report`` (HTML, charts, comparison) → ``sweep``.
"""


from optimiser import lean_imports  # noqa: F401  # isort: skip  # first: see its docstring
from optimiser.engine.scenarios import solve_scenarios
from optimiser.engine.solve import SolveOptions, solve
from optimiser.errors import InputError, Problem
from optimiser.instance.load import load_instance
from optimiser.instance.overrides import Override
from optimiser.instance.schema import Instance
from optimiser.report.compare import compare as compare  # plans side by side, for scripts
from optimiser.results.tables import Result

# The function, not the subpackage of the same name (Dask and matplotlib load
# only inside it, when a sweep runs).
from optimiser.sweep.run import sweep  # isort: skip

__version__ = "0.1.0"

__all__ = ["InputError", "Instance", "Override", "Problem", "Result", "SolveOptions",
           "compare", "load_instance", "solve", "solve_scenarios", "sweep"]
