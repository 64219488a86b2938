"""A copy of ``instances/tiny`` in a temporary directory that tests can mutate.

``TinyCopy`` edits the YAML document (``edit``), a CSV file (``rows`` /
``write_rows`` / ``set_cell`` / ``append_row``) or the raw text, then loads it
through the library (``load``) or collects the problems it raises
(``problems``). Kept out of ``conftest.py`` so the fixture is imported
explicitly where it is used.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml

import optimiser
from optimiser.instance.reading import parse_yaml

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "instances" / "tiny"


class TinyCopy:
    """``instances/tiny`` copied to ``root``."""

    def __init__(self, root: Path):
        self.root = root
        shutil.copytree(TINY, root, dirs_exist_ok=True)
        self.path = root / "instance.yaml"

    # ------------------------------------------------------------ YAML
    def doc(self) -> dict[str, Any]:
        return parse_yaml(self.path.read_text(encoding="utf-8"))

    def write_doc(self, doc: dict[str, Any]) -> None:
        self.path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True),
                             encoding="utf-8")

    def edit(self, fn: Callable[[dict[str, Any]], Any]) -> TinyCopy:
        """Apply ``fn`` to the parsed document and write it back."""
        doc = self.doc()
        fn(doc)
        self.write_doc(doc)
        return self

    # ------------------------------------------------------------ CSV
    def rows(self, name: str) -> list[list[str]]:
        with (self.root / name).open(newline="", encoding="utf-8") as fh:
            return list(csv.reader(fh))

    def write_rows(self, name: str, rows: Iterable[Iterable[Any]]) -> TinyCopy:
        with (self.root / name).open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh, lineterminator="\n").writerows(rows)
        return self

    def set_cell(self, name: str, row: int, column: str, value: Any) -> TinyCopy:
        """Set the cell at ``row`` (1 = header, as in error locations) and ``column``."""
        rows = self.rows(name)
        j = rows[0].index(column)
        rows[row - 1][j] = str(value)
        return self.write_rows(name, rows)

    def append_row(self, name: str, **cells: Any) -> int:
        """Append a row given by column name; return its row number (1 = header)."""
        rows = self.rows(name)
        header = rows[0]
        unknown = set(cells) - set(header)
        assert not unknown, f"not columns of {name}: {unknown}"
        rows.append([str(cells.get(c, "")) for c in header])
        self.write_rows(name, rows)
        return len(rows)

    # ------------------------------------------------------------ loading
    def load(self, overrides: Iterable[Any] | None = None) -> optimiser.Instance:
        return optimiser.load_instance(self.path, overrides)

    def problems(self, overrides: Iterable[Any] | None = None) -> list[optimiser.Problem]:
        """The problems ``load_instance`` raises; fails the test if it loads."""
        with pytest.raises(optimiser.InputError) as info:
            optimiser.load_instance(self.path, overrides)
        problems = info.value.problems
        assert problems, "InputError without problems"
        return problems


def find(items: list[dict[str, Any]], item_id: str) -> dict[str, Any]:
    """The item of a list section with ``id`` ``item_id``."""
    for it in items:
        if it.get("id") == item_id:
            return it
    raise KeyError(item_id)
