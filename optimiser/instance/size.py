"""Whether an instance's model would fit in memory, judged from its sizes before
anything is built (the command line asks before validating, the engine before
building)."""

from __future__ import annotations

from typing import Any

from optimiser.errors import TooLarge
from optimiser.instance.schema import LEVER_SECTIONS, Instance

BYTES_PER_COLUMN = 4096
"""Peak memory per model column (build, hand-over, solve, extraction): 630 MiB
at 127,585 columns on the generated 150-trust plan, less the interpreter."""


def estimated_columns(inst: Instance) -> int:
    """Columns the model will have, from the instance's sizes: about four per
    unit, group and year (the shipped and generated plans have 3.5 to 4.5),
    and one per lever, unit and year (graduates, retention, recruits by unit)."""
    units, groups = len(inst.units), len(inst.staff_groups)
    years = inst.horizon.years + len(inst.run_out_years)  # the model runs on Y ∪ Y_R
    levers = sum(len(getattr(inst, section)) for section in LEVER_SECTIONS)
    return 4 * units * groups * years + levers * units * years


def check_size(inst: Instance, available: int | None = None) -> None:
    """:class:`~optimiser.errors.TooLarge` when the model would not fit in memory
    (``available`` bytes; default: what the machine has free now), before
    anything is built: a million-unit instance died in the build with a
    MemoryError after minutes."""
    columns = estimated_columns(inst)
    need = columns * BYTES_PER_COLUMN
    if available is None:
        try:
            import psutil

            available = int(psutil.virtual_memory().available)
        except Exception:  # no reading of memory: nothing to compare against
            return
    if need > available:
        raise TooLarge(
            f"the model would have about {columns / 1e6:,.1f} million variables "
            f"({_many(len(inst.units), 'unit')} × {_many(len(inst.staff_groups), 'group')} × "
            f"{_many(inst.horizon.years, 'year')}) and need about {need / 2**30:,.1f} GiB of "
            "memory; "
            f"{available / 2**30:,.1f} GiB is free. Solve fewer units, groups or years")


def _many(n: int, what: str) -> str:
    return f"{n:,} {what}{'s' * (n != 1)}"


def check_document_size(doc: dict[str, Any], available: int | None = None) -> None:
    """:func:`check_size` on a document as read, before it is validated: a
    million-unit file took minutes and gigabytes to validate before the build
    ran out of memory. Sizes that are not lists or numbers yet count as 1 (the
    validation reports them)."""
    from types import SimpleNamespace

    def count(name: str) -> list[Any]:
        value = doc.get(name)
        return value if isinstance(value, list) else []

    horizon = doc.get("horizon")
    years = horizon.get("years") if isinstance(horizon, dict) else None
    years = years if isinstance(years, int) and not isinstance(years, bool) and 0 < years <= 60 \
        else 1
    check_size(SimpleNamespace(  # type: ignore[arg-type]  # only the sizes are read
        units=count("units") or [None], staff_groups=count("staff_groups") or [None],
        horizon=SimpleNamespace(years=years),
        run_out_years=[],  # unresolved before validation: the check after it counts them
        **{section: count(section) for section in LEVER_SECTIONS}), available)
