"""Shared fixtures: build a small instance document, solve it through the real
loader and HiGHS, and read single values out of the result tables.

``make_doc`` gives a one-unit, one-group document that a test extends with the
sections it needs; ``solve_doc`` writes the document to a YAML file in the
test's ``tmp_path``, loads it with :func:`optimiser.load_instance` (so every
field and cross-reference check runs, as for a user's file) and solves it.
The returned :class:`Plan` wraps the :class:`~optimiser.Result` with
``shortfall`` (W), ``cost`` (C) and ``value(table, column, **keys)``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from optimiser import Result, SolveOptions, load_instance, solve


class Plan:
    """A solved instance: the :class:`Result` plus look-ups into its tables."""

    def __init__(self, result: Result):
        self.result = result

    @property
    def status(self) -> str:
        return self.result.status

    @property
    def shortfall(self) -> float | None:
        """W, the weighted shortfall of the reported plan (FTE)."""
        return self.result.weighted_shortfall

    @property
    def cost(self) -> float | None:
        """C, the total cost of the reported plan."""
        return self.result.total_cost

    def table(self, name: str) -> pd.DataFrame:
        return self.result.tables[name]

    def rows(self, name: str, **keys: Any) -> pd.DataFrame:
        """The rows of table ``name`` whose columns equal ``keys``."""
        frame = self.table(name)
        mask = pd.Series(True, index=frame.index)
        for col, want in keys.items():
            mask &= frame[col] == want
        return frame[mask]

    def value(self, name: str, column: str, **keys: Any) -> float:
        """The one value of ``column`` in the row of ``name`` matching ``keys``."""
        found = self.rows(name, **keys)
        assert len(found) == 1, f"{len(found)} rows of {name} match {keys}"
        return float(found[column].iloc[0])

    def total(self, name: str, column: str, **keys: Any) -> float:
        """Sum of ``column`` over the rows of ``name`` matching ``keys``."""
        return float(self.rows(name, **keys)[column].sum())


def build_doc(*, base_year: int = 2020, years: int = 1,
              groups: dict[str, float] | None = None,
              units: dict[str, str] | None = None,
              workforce: list[dict[str, Any]] | None = None,
              **sections: Any) -> dict[str, Any]:
    """An instance document: ``groups`` {id: leaver_rate}, ``units`` {id: region},
    ``workforce`` rows; any other section is passed through as given.

    ``objective`` defaults to lexicographic with tolerances of 1e-9 (not the
    SPEC's 1e-6) so that hand-worked optima can be asserted tightly.
    """
    groups = {"nurse": 0.0} if groups is None else groups
    units = {"u1": "r1"} if units is None else units
    if workforce is None:
        workforce = [{"unit": "u1", "group": "nurse", "fte": 100}]
    doc: dict[str, Any] = {
        "name": "hand-worked",
        "horizon": {"base_year": base_year, "years": years},
        "staff_groups": [{"id": g, "leaver_rate": rate} for g, rate in groups.items()],
        "units": [{"id": u, "region": r} for u, r in units.items()],
        "workforce": workforce,
    }
    # Hand-worked optima are compared exactly: the default lexicographic
    # tolerance (1e-6·W₁) would let stage 2 trade a sliver of shortfall for cost.
    doc["objective"] = {"rel_tol": 1e-9, "abs_tol": 1e-9}
    doc.update(sections)
    return doc


@pytest.fixture
def make_doc() -> Callable[..., dict[str, Any]]:
    """:func:`build_doc`, as a fixture."""
    return build_doc


def write_doc(doc: dict[str, Any], folder: Path, name: str = "instance.yaml") -> Path:
    """Write ``doc`` as YAML into ``folder``; return the file's path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def write_instance(tmp_path: Path) -> Callable[..., Path]:
    """Write a document as ``instance.yaml`` in a fresh folder under ``tmp_path``."""
    counter = iter(range(1_000_000))

    def write(doc: dict[str, Any]) -> Path:
        return write_doc(doc, tmp_path / f"instance-{next(counter)}")

    return write


@pytest.fixture
def solve_doc(write_instance: Callable[..., Path]) -> Callable[..., Plan]:
    """Write, load (with every check) and solve a document; options as
    :class:`~optimiser.SolveOptions` keywords."""

    def run(doc: dict[str, Any], **options: Any) -> Plan:
        inst = load_instance(write_instance(doc))
        return Plan(solve(inst, SolveOptions(**options)))

    return run


@pytest.fixture(scope="session")
def shipped_solve(tmp_path_factory) -> Callable[[str, list[str]], tuple[Path, dict[str, Any]]]:
    """Solve a shipped instance through ``wfopt solve`` once per session and
    argument list: its results folder and summary. The realistic instances take
    minutes; the tests of tests/test_realistic.py share them (one file, so one
    worker under pytest-xdist's --dist loadfile: scripts/test.sh)."""
    import json

    from typer.testing import CliRunner

    from cli import app

    done: dict[tuple[str, tuple[str, ...]], tuple[Path, dict[str, Any]]] = {}
    repo = Path(__file__).resolve().parent.parent

    def run(name: str, args: list[str]) -> tuple[Path, dict[str, Any]]:
        key = (name, tuple(args))
        if key not in done:
            out = tmp_path_factory.mktemp(name) / "out"
            res = CliRunner().invoke(app, ["solve", str(repo / "instances" / name /
                                                         "instance.yaml"),
                                           "--out", str(out), *args])
            assert res.exit_code == 0, res.output
            done[key] = (out, json.loads((out / "summary.json").read_text()))
            printed[key] = res.stdout
        return done[key]

    printed: dict[tuple[str, tuple[str, ...]], str] = {}
    run.printed = printed  # type: ignore[attr-defined]  # what each solve printed
    return run
