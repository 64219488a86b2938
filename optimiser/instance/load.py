"""Loading an instance: read the file (YAML or JSON with its CSV sections, or a
workbook), apply overrides, validate every field, then check across sections;
every problem located and raised together as an
:class:`~optimiser.errors.InputError`. The pieces live below:
:mod:`optimiser.instance.reading` (text with limits),
:mod:`optimiser.instance.loader` (CSV sections, locations, field validation),
:mod:`optimiser.instance.workbook` (workbooks),
:mod:`optimiser.instance.overrides` and :mod:`optimiser.instance.checks`."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

from optimiser.errors import InputError, Problem
from optimiser.instance.checks import run_checks
from optimiser.instance.loader import (
    _NAMES,
    Locator,
    Provenance,
    _check_document,
    _checked,
    _decode,
    _path_problem,
    _path_text,
    _read_bytes,
    _Refused,
    csv_location,
    partial_checks,
    read_csv_section,
    validate_document,
)
from optimiser.instance.overrides import apply_overrides, as_overrides
from optimiser.instance.reading import _yaml_problem, parse_json, parse_yaml
from optimiser.instance.scenario_rows import scenarios_from_rows
from optimiser.instance.schema import LIST_SECTIONS, Instance
from optimiser.instance.workbook import read_workbook


def read_document(path: Path, roots: Iterable[Path] = ()
                  ) -> tuple[dict[str, Any], Provenance, list[Problem]]:
    """Read the instance document and expand its CSV sections.

    CSV sections are read only from inside the instance's folder or one of
    ``roots`` (see :func:`csv_location`); every file only when it is a regular
    file of at most :data:`MAX_FILE_BYTES`."""
    path = Path(path)
    prov = Provenance(file=path.name)
    shown = _path_text(str(path))
    if _path_problem(str(path)) is not None:
        return {}, prov, [Problem(shown, "the path holds a control character or is empty")]
    try:
        data = _read_bytes(path)
    except _Refused as why:
        return {}, prov, [Problem(shown, str(why))]
    if path.suffix.lower() == ".xlsx":
        # A workbook holds the whole instance, its list sections as sheets
        # (SPEC §3, "Workbooks"); optimiser.instance.workbook reads it into the same
        # document and provenance, so everything after this is shared.
        doc, prov, problems = read_workbook(path)
        return _checked(doc, prov, problems)
    problems: list[Problem] = []
    try:
        text = _decode(data)
    except _Refused as why:
        return {}, prov, [Problem(shown, str(why))]
    if path.suffix.lower() == ".json":
        doc, problem = parse_json(text, path.name)
        if problem is not None:
            return {}, prov, [problem]
    else:
        try:
            doc = parse_yaml(text)
        except yaml.YAMLError as exc:
            return {}, prov, [_yaml_problem(exc, path.name, text)]
    if not isinstance(doc, dict):
        return {}, prov, [Problem(path.name, "the instance must be a mapping of sections")]
    limits = _check_document(doc, lambda loc: prov.locate(loc, doc))
    if limits:
        return {}, prov, limits
    for section, model in LIST_SECTIONS.items():
        value = doc.get(section)
        if isinstance(value, str):
            where = csv_location(path.parent, value, roots)
            if isinstance(where, str):
                items, src, csv_problems = [], None, [Problem(section, where)]
            else:
                items, src, csv_problems = read_csv_section(where, section, model,
                                                            resolved=True)
            problems += csv_problems
            doc[section] = items
            if src is not None:
                prov.csv[section] = src
            else:
                prov.unread.add(section)
    problems += read_scenarios_list(doc, path.parent, roots)
    return _checked(doc, prov, problems)


def read_scenarios_list(doc: dict[str, Any], base: Path, roots: Iterable[Path] = ()
                        ) -> list[Problem]:
    """Expand ``scenarios.list`` in ``doc`` when it names a CSV file (SPEC §2.13:
    ``id, probability, op, key, value``, one row per override), read relative
    to the instance's folder ``base`` as the list sections' CSV files are (inside
    it or one of ``roots``); the problems, located at the file's row and column.
    A file that cannot be used takes the section out of ``doc``, so that only
    its own problems are reported (not "must be a list")."""
    sc = doc.get("scenarios")
    if not isinstance(sc, dict) or not isinstance(sc.get("list"), str):
        return []
    found = _scenario_rows(base, sc["list"], roots)
    if isinstance(found, list):
        del doc["scenarios"]
        return found
    doc["scenarios"] = {**sc, "list": found[0]}
    return []


def _scenario_rows(base: Path, value: str, roots: Iterable[Path]
                   ) -> list[Problem] | tuple[list[dict[str, Any]]]:
    """The scenario items of the CSV file ``value`` (a 1-tuple), or its problems."""
    shown = _path_text(value)
    where = csv_location(base, value, roots)
    if isinstance(where, str):
        return [Problem("scenarios.list", where)]
    try:
        text = _decode(_read_bytes(where, follow=False), "utf-8-sig")
    except _Refused as why:
        if str(why) == "file not found":
            return [Problem("scenarios.list", f"CSV file not found: {shown}")]
        return [Problem(f"scenarios.list ({shown})", f"cannot read CSV: {why}")]
    try:
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        return [Problem(shown, f"cannot read CSV: {exc}")]
    if not rows or any(c not in rows[0] for c in ("id", "probability")):
        return [Problem(shown, "a scenarios CSV needs a header row with id, probability, op, "
                               "key, value and one row per scenario or override")]
    items, problems = scenarios_from_rows(rows, shown)
    return problems if problems else (items,)


def load_instance(path: str | Path, overrides: Iterable[Any] | None = None,
                  timings: dict[str, float] | None = None,
                  allow_files_outside: Iterable[str | Path] = (),
                  before_validation: Callable[[dict[str, Any]], None] | None = None
                  ) -> Instance:
    """Read, override and validate an instance file.

    CSV sections are read only from inside the instance's folder, or from one
    of the folders ``allow_files_outside`` names (``--allow-files-outside``).
    ``before_validation`` sees the document as read, before the (slow, for a
    huge file) validation: ``wfopt solve`` refuses there an instance whose model
    would not fit in memory (:func:`optimiser.instance.size.check_document_size`).

    ``overrides`` are :class:`~optimiser.instance.overrides.Override` objects or
    ``(kind, key, value)`` tuples with kind ``set`` or ``scale`` (SPEC §5).
    Raises :class:`~optimiser.errors.InputError` listing every problem.
    ``timings``, when given, receives the seconds spent in ``load`` (reading,
    CSV, overrides) and ``validate`` (fields and cross-references).
    """
    t0 = time.perf_counter()
    doc, prov, problems = read_document(Path(path), [Path(r) for r in allow_files_outside])
    if problems and not doc:
        raise InputError(problems)
    if before_validation is not None:
        before_validation(doc)
    if timings is not None:
        timings["load"] = time.perf_counter() - t0
    return instance_from_document(doc, prov, overrides, problems, timings)


def instance_from_document(doc: dict[str, Any], prov: Provenance,
                           overrides: Iterable[Any] | None = None,
                           problems: Iterable[Problem] = (),
                           timings: dict[str, float] | None = None) -> Instance:
    """Apply overrides to an expanded document (in place) and validate it.

    The second half of :func:`load_instance`, for callers that read a document
    once and validate many variants of it (sweeps copy the document per point).
    ``problems`` are those already found while reading; ``timings`` gains the
    override seconds in ``load`` and sets ``validate``.
    """
    t0 = time.perf_counter()
    locate = Locator(prov, doc)
    problems = [*problems, *apply_overrides(doc, as_overrides(overrides), locate.written)]
    _NAMES.clear()  # overrides may have renamed items
    t1 = time.perf_counter()
    inst, field_problems = validate_document(doc, prov, locate)
    problems += field_problems
    if inst is not None:
        problems += run_checks(inst, locate)
    else:
        problems += partial_checks(doc, prov, locate)
    if timings is not None:
        timings["load"] = timings.get("load", 0.0) + t1 - t0
        timings["validate"] = time.perf_counter() - t1
    if problems:
        raise InputError(problems)
    assert inst is not None
    return inst
