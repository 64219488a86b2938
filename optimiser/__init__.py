"""Workforce-planning optimiser: the library API.

``load_instance(path, overrides)`` reads and validates an instance file,
``solve(instance, options)`` returns a :class:`Result`, and ``sweep`` solves a
grid of overrides.
"""

from optimiser.errors import InputError, Problem
from optimiser.loader import load_instance
from optimiser.overrides import Override
from optimiser.schema import Instance

__all__ = ["Instance", "InputError", "Override", "Problem", "load_instance"]
__version__ = "0.1.0"
