"""``wfopt convert``: an instance from one form to the other (YAML with its CSV
files, or a workbook), read back and checked to be the same instance."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from optimiser.instance.load import load_instance
from optimiser.instance.schema import Instance
from optimiser.instance.workbook import (
    ConversionError,
    _digits,
    write_instance_workbook,
    write_instance_yaml,
)


def convert(source: str | Path, target: str | Path, overrides: Iterable[Any] | None = None
            ) -> tuple[Instance, Path]:
    """``wfopt convert``: read the instance ``source`` (YAML, JSON or workbook,
    with ``overrides`` applied) and write it as ``target`` (``.xlsx``, or
    ``.yaml``/``.yml`` with CSV files beside it).

    The written instance is read back and must equal the one read, numbers to
    the :data:`DIGITS` significant digits a workbook cell holds; otherwise
    :class:`ConversionError` names the sections that differ (and the written
    files stay, to be looked at). Raises
    :class:`~optimiser.errors.InputError` for an invalid source.
    """
    source, target = Path(source), Path(target)
    inst = load_instance(source, overrides)
    suffix = target.suffix.lower()
    if suffix == ".xlsx":
        written = write_instance_workbook(inst, target, source.name)
    elif suffix in (".yaml", ".yml"):
        written = write_instance_yaml(inst, target, source.name)
    else:
        raise ConversionError(f"{target} | write .xlsx (a workbook) or .yaml (YAML with CSV "
                              "files beside it)")
    again = load_instance(written)
    differ = [] if again == inst else [
        f for f in Instance.model_fields if _digits(getattr(again, f)) != _digits(getattr(inst, f))]
    if differ:
        raise ConversionError(f"{written} | does not read back as {source.name}: "
                              f"{', '.join(differ)} differ (a value this form cannot hold)")
    return inst, written
