"""Keep Pyomo's deferred imports from loading what the engine never uses.

Pyomo registers a callback that runs the first time SciPy is imported by anyone
once Pyomo is loaded (``pyomo.common.dependencies._finalize_scipy``). It imports
``scipy.stats``, ``scipy.spatial`` and ``scipy.integrate`` "so they can be
assumed present"; ``scipy.stats`` alone parses the docstrings of every
distribution and costs 1.2–2 s per process on the benchmark machine (the
"slow first hand-over" of ``wfopt solve``: the standard-form compiler asks for
``scipy.sparse`` and pays for ``scipy.stats``). The engine needs only
``scipy.sparse``. :func:`trim_pyomo_scipy_callback` swaps the callback for one
that imports just that; SciPy's own lazy loading still provides ``scipy.stats``
to any code that asks for it.

It overwrites a private attribute (``DeferredImportIndicator._callback``), so
pyproject.toml keeps Pyomo to the 6.10 series it was tested on (``<6.11``);
should the attribute change, nothing is replaced and only the speed-up is lost.
"""

from __future__ import annotations

from types import ModuleType


def _finalize_scipy_sparse(module: ModuleType, available: bool) -> None:
    if available:
        import scipy.sparse  # noqa: F401  # the only part the standard-form compiler uses


def trim_pyomo_scipy_callback() -> bool:
    """Replace Pyomo's SciPy import callback if SciPy has not been resolved yet.

    Returns whether the callback was replaced (False when SciPy was already
    imported through Pyomo, or Pyomo's internals changed: then nothing is done).
    """
    from pyomo.common import dependencies

    flag = getattr(dependencies, "scipy_available", None)
    indicator = getattr(dependencies, "DeferredImportIndicator", None)
    if indicator is None or not isinstance(flag, indicator):
        return False
    if getattr(flag, "_module", True) is not None or not hasattr(flag, "_callback"):
        return False
    flag._callback = _finalize_scipy_sparse
    return True


# Importing this module applies the fix; ``optimiser/__init__`` imports it first,
# before any module of the engine imports SciPy.
trim_pyomo_scipy_callback()
