"""The JSON Schema (``wfopt schema``) and the instance-format documentation.

The schema must be a valid Draft 2020-12 schema that accepts every shipped
instance file as written (CSV-path sections are strings) and refuses unknown
keys. ``docs/instance-format.md`` must document every field of every model in
``optimiser.instance.schema``, in that model's section, with its default, so the docs
cannot drift from the code.
"""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel
from typer.testing import CliRunner

from cli import app
from optimiser.instance import schema as schema_module
from optimiser.instance.reading import parse_yaml

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs" / "instance-format.md"
INSTANCES = sorted(REPO.glob("instances/*/instance.yaml"))


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema)


def as_json(doc: Any) -> Any:
    """What an editor's YAML language server checks: mapping keys are strings."""
    return json.loads(json.dumps(doc))


def errors(validator: Draft202012Validator, doc: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(as_json(doc))]


def test_schema_is_valid_draft_2020_12(schema: dict[str, Any]) -> None:
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False


def test_there_are_shipped_instances() -> None:
    assert INSTANCES, "no instances/*/instance.yaml"


@pytest.mark.parametrize("path", INSTANCES, ids=[p.parent.name for p in INSTANCES])
def test_shipped_instances_match_the_schema(validator: Draft202012Validator,
                                            path: Path) -> None:
    doc = parse_yaml(path.read_text(encoding="utf-8"))
    assert errors(validator, doc) == []


def test_csv_sections_are_strings_in_the_schema(validator: Draft202012Validator) -> None:
    doc = parse_yaml((REPO / "instances/tiny/instance.yaml").read_text(encoding="utf-8"))
    assert isinstance(doc["units"], str) and isinstance(doc["targets"], str)
    doc["training"] = "training.csv"
    assert errors(validator, doc) == []
    doc["training"] = 5
    assert errors(validator, doc)


@pytest.mark.parametrize(("where", "change"), [
    ("top level", lambda d: d.update(colour="red")),
    ("inline item", lambda d: d["training"][0].update(colour="red")),
    ("nested model", lambda d: d["training"][0]["supervision"].update(ratio=2)),
    ("horizon", lambda d: d["horizon"].update(start=2016)),
])
def test_unknown_key_fails_the_schema(validator: Draft202012Validator, where: str,
                                      change: Any) -> None:
    doc = parse_yaml((REPO / "instances/tiny/instance.yaml").read_text(encoding="utf-8"))
    change(doc)
    found = errors(validator, doc)
    assert found and any("colour" in e or "ratio" in e or "start" in e for e in found), found


def test_schema_refuses_out_of_range_values(validator: Draft202012Validator) -> None:
    doc = parse_yaml((REPO / "instances/tiny/instance.yaml").read_text(encoding="utf-8"))
    doc["training"][0]["completion_rate"] = 1.3
    assert errors(validator, doc)


def test_fields_carry_their_docstrings(schema: dict[str, Any]) -> None:
    """Each field's description is the docstring under it in optimiser/schema.py."""
    for model in models():
        props = (schema if model is schema_module.Instance
                 else schema["$defs"][model.__name__])["properties"]
        for name, finfo in model.model_fields.items():
            assert finfo.description, f"{model.__name__}.{name} has no docstring"
            assert props[name].get("description") == finfo.description, (model, name)


# ---------------------------------------------------------------- docs/instance-format.md


def models() -> list[type[BaseModel]]:
    """Every schema model (subclasses of the shared base ``Strict``)."""
    return [cls for _, cls in inspect.getmembers(schema_module, inspect.isclass)
            if issubclass(cls, schema_module.Strict) and cls is not schema_module.Strict]


def doc_sections() -> dict[str, str]:
    """Model name -> its section of the docs: from the ``<!-- model: Name -->``
    marker under a heading to the next heading (``#`` lines inside fenced code
    blocks are YAML comments, not headings)."""
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    fenced = False
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"^#{1,6} ", line):
            current = None
        m = None if fenced else re.fullmatch(r"<!-- model: (\w+) -->", line.strip())
        if m:
            assert m.group(1) not in out, f"two sections for {m.group(1)}"
            current = out[m.group(1)] = []
        elif current is not None:
            current.append(line)
    return {name: "\n".join(lines) for name, lines in out.items()}


def field_rows(section: str) -> dict[str, list[str]]:
    """Table rows ``| `field` | … |`` of a section, by field name, as cells."""
    rows = {}
    for line in section.splitlines():
        m = re.match(r"^\|\s*`(\w+)`\s*\|(.*)\|\s*$", line)
        if m:
            rows[m.group(1)] = [c.strip() for c in m.group(2).split("|")]
    return rows


def default_spellings(value: Any) -> set[str]:
    if isinstance(value, bool):
        return {str(value).lower()}
    if isinstance(value, int | float):
        return {s.replace("e-0", "e-").replace("e+0", "e") for s in (f"{value:g}",
                                                                      f"{value:.0e}")}
    return {str(value)}


def test_docs_have_a_section_per_model() -> None:
    sections = doc_sections()
    names = {m.__name__ for m in models()}
    assert names <= set(sections), f"no docs section for {sorted(names - set(sections))}"
    assert set(sections) <= names, f"docs sections for unknown models {set(sections) - names}"


@pytest.mark.parametrize("model", models(), ids=lambda m: m.__name__)
def test_docs_document_every_field(model: type[BaseModel]) -> None:
    """Every field has a table row in its model's section, and nothing else does;
    the default column says ``required`` exactly for required fields and shows
    the default value where it is a plain value."""
    section = doc_sections()[model.__name__]
    rows = field_rows(section)
    fields = model.model_fields
    assert set(fields) <= set(rows), (f"{model.__name__}: fields missing from the docs: "
                                      f"{sorted(set(fields) - set(rows))}")
    assert set(rows) <= set(fields), (f"{model.__name__}: docs rows for no field: "
                                      f"{sorted(set(rows) - set(fields))}")
    for name, finfo in fields.items():
        default_cell = rows[name][-2]  # | field | type | range | default | meaning |
        if finfo.is_required():
            assert default_cell.lower() == "required", (model.__name__, name, default_cell)
            continue
        assert "required" not in default_cell.lower(), (model.__name__, name, default_cell)
        if finfo.default_factory is None and finfo.default is not None:
            spellings = default_spellings(finfo.default)
            assert any(s in default_cell for s in spellings), (
                model.__name__, name, default_cell, spellings)


def test_docs_tables_have_five_columns() -> None:
    for name, section in doc_sections().items():
        for field, cells in field_rows(section).items():
            assert len(cells) == 4, (name, field, cells)
