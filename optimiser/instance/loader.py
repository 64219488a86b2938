"""Read an instance file (YAML or JSON, list sections inline or as CSV) into a
validated :class:`~optimiser.instance.schema.Instance`.

The order is fixed by SPEC §3 and §5: read the document, expand CSV sections,
apply overrides, validate field by field (pydantic), then check cross-references
(``optimiser.instance.checks``). Every problem is collected with its place (the CSV file,
row and column it came from, or its key path) and raised together as an
:class:`~optimiser.errors.InputError`.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import reprlib
import stat
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from optimiser.errors import MAX_VALUE, Problem, clip, one_line, shorten
from optimiser.instance.checks import Declared, run_checks
from optimiser.instance.overrides import overrides_at
from optimiser.instance.reading import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_INT_TEXT,
    MAX_PATH,
    MAX_TEXT,
    _TooLong,
)
from optimiser.instance.schema import LIST_SECTIONS, MAX_AMOUNT, PLACED_SECTIONS, Instance

if TYPE_CHECKING:
    from optimiser.instance.overrides import Written

# Fields whose CSV cell holds a list (``a;b``), a mapping (``a:1;b:0.8``) or
# breakpoints (``0:0;2e6:600``).
_LIST_CELLS = {"groups", "intake_years", "eligible"}
_PAIR_CELLS = {"response"}
# Fields whose cell may hold a mapping ``k:v;k:v`` (``groups`` with weights,
# ``eligible`` as ``top_leaver_rate:20``, a ``{year: value}`` field on one row, a
# lever's ``placement`` as its own weights ``u1:2;u2:1``).
# Any other cell is text as written, so a name may contain a colon.
_MAP_CELLS = {"groups", "eligible", "committed", "per_year", "required", "placement"}
# Fields that are ``{year: value}``; in a CSV with a ``year`` column they become
# one row per year (SPEC §3).
YEAR_FIELDS: dict[str, tuple[str, ...]] = {
    "targets": ("required",),
    "training": ("committed",),
    "budgets": ("per_year",),
}


SCALAR_YEAR_FIELDS = {"per_year"}
"""Year fields that may also be one number for every year (a row without a year)."""


@dataclass
class CsvSource:
    """Where the items of a section read from CSV came from."""

    file: str
    item_rows: list[int] = field(default_factory=list)
    """First row (1 = header) of each item."""
    year_rows: list[dict[str, dict[int | str, int]]] = field(default_factory=list)
    """Per item: field -> {year: row}."""
    columns: set[str] = field(default_factory=set)


@dataclass
class Provenance:
    """Maps a key path in the expanded document back to the file it came from."""

    file: str
    csv: dict[str, CsvSource] = field(default_factory=dict)
    unread: set[str] = field(default_factory=set)
    """Sections whose CSV file could not be read (already reported)."""

    def locate(self, loc: Iterable[Any], doc: dict[str, Any] | None = None) -> str:
        """A place for ``loc`` (a key path as a tuple): ``file row N, column X``
        for CSV items, else ``section[id].field.sub`` (see :func:`key_path`;
        ``doc`` is the document ``loc`` points into, for the ids)."""
        loc = list(loc)
        if len(loc) >= 2 and loc[0] in self.csv and isinstance(loc[1], int):
            src = self.csv[loc[0]]
            i = loc[1]
            if i < len(src.item_rows):
                row = src.item_rows[i]
                if len(loc) == 2:
                    return f"{src.file} row {row}"
                fld = str(loc[2])
                rest = loc[3:]
                yr = src.year_rows[i].get(fld, {})
                if rest and rest[0] in yr:
                    row = yr[rest[0]]
                    rest = rest[1:]
                column = fld
                if rest and f"{fld}.{rest[0]}" in src.columns:
                    column = f"{fld}.{rest[0]}"
                    rest = rest[1:]
                where = f"{src.file} row {row}, column {column}"
                if rest:
                    where += " (" + ".".join(str(p) for p in rest if p != "[key]") + ")"
                return where
        return key_path(loc, doc) or self.file


_ID = re.compile(r"^[^\s;:,.]+$")
"""What a valid id looks like (``schema.Identifier``): only such an id is safe
to print between brackets in a location."""

_YEAR_KEYED = {f for fields in YEAR_FIELDS.values() for f in fields}


def _name_of(item: Any) -> str | None:
    """The name an item goes by in locations and override keys: its ``id``,
    ``unit/group`` for a workforce row, ``unit/group/year`` for a posts row."""
    if not isinstance(item, dict):
        return None
    if "id" in item:
        ident = item["id"]
        return ident if isinstance(ident, str) and _ID.match(ident) and len(ident) <= 80 \
            else None
    unit, group = item.get("unit"), item.get("group")
    if not all(isinstance(v, str) and _ID.match(v) for v in (unit, group)):
        return None
    if "year" not in item:
        return f"{unit}/{group}"
    year = item["year"]  # a posts row; from a CSV the year is still text
    return f"{unit}/{group}/{year}" if _ID.match(str(year)) else None


_NAMES: dict[int, tuple[list[Any], Counter[str | None]]] = {}
"""How often each name occurs in a section's list (by ``id`` of the list, kept
alive with it), so that locating every item of a large file with problems
costs one count, not one per item. Cleared where the document may change."""


def _item_name(items: list[Any], i: int) -> str | None:
    """The name of ``items[i]``, or ``None`` when it has none or shares it with
    another item (a duplicate id), where only its position tells them apart."""
    if not 0 <= i < len(items):
        return None
    name = _name_of(items[i])
    if name is None:
        return None
    cached = _NAMES.get(id(items))
    if cached is None or cached[0] is not items or sum(cached[1].values()) != len(items):
        if len(_NAMES) > 64:
            _NAMES.clear()
        cached = _NAMES[id(items)] = (items, Counter(_name_of(it) for it in items))
    return name if cached[1][name] == 1 else None


def key_path(loc: Iterable[Any], doc: dict[str, Any] | None = None) -> str:
    """``budgets[hee].per_year.2021`` for the key path ``("budgets", 0,
    "per_year", 2021)``.

    An item of a section is named by its id in brackets (``workforce[north_trust/
    nurse]``), as override keys name it, because a position means nothing to
    someone reading the file; an item without a usable id (missing, invalid or
    shared with another item) is named by its position from 0 as ``[#3]``, and
    so is an element of a list field (``response[#1]``). Mapping keys, years of
    ``{year: value}`` fields included, follow a dot (``per_year.2021``,
    ``groups.nurse``), as in override keys. ``doc`` tells lists from mappings;
    without it an int is a position unless it follows a year-keyed field.
    """
    loc = [p for p in loc if p != "[key]"]
    if not loc:
        return ""
    out = str(loc[0])
    node = doc.get(loc[0]) if isinstance(doc, dict) else None
    prev = loc[0]
    for depth, part in enumerate(loc[1:], start=1):
        if isinstance(node, list) and isinstance(part, int):
            name = _item_name(node, part) if depth == 1 else None
            out += f"[{name}]" if name is not None else f"[#{part}]"
            node = node[part] if 0 <= part < len(node) else None
        elif isinstance(node, dict):
            out += f".{part}"
            node = node.get(part)
        elif isinstance(part, int) and prev not in _YEAR_KEYED:
            out += f"[#{part}]"
            node = None
        else:
            out += f".{part}"
            node = None
        prev = part
    return out


@dataclass
class Locator:
    """Key paths of one (overridden) document to the locations shown to the user.

    Adds ``(from --set KEY=VALUE)`` to a location whose value an override
    wrote: the file may be right and the command line wrong, and the user must
    know which to mend.
    """

    provenance: Provenance
    doc: dict[str, Any] | None = None
    written: Written = field(default_factory=list)

    def __call__(self, loc: Iterable[Any]) -> str:
        loc = list(loc)
        where = self.provenance.locate(loc, self.doc)
        by = overrides_at(loc, self.written) if self.written else []
        if by:
            where += " (from " + ", ".join(o.spelled for o in by) + ")"
        return where


# ---------------------------------------------------------------- limits

def _check_document(doc: Any, locate: Callable[[Iterable[Any]], str]) -> list[Problem]:
    """What the parsers could not check where it sits (JSON's depth, long texts and
    whole numbers; texts from CSV files and workbooks): one problem per place.
    Iterative, so no depth can exhaust the stack."""
    problems: list[Problem] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(doc, ())]
    while stack:
        value, loc = stack.pop()
        if isinstance(value, _TooLong):
            problems.append(Problem(locate(loc), f"a whole number of {value.length:,} "
                                                 f"digits; at most {MAX_INT_TEXT} are read"))
        elif isinstance(value, str):
            if len(value) > MAX_TEXT:
                problems.append(Problem(locate(loc), f"a text of {len(value):,} characters; "
                                                     f"at most {MAX_TEXT:,} are read"))
        elif isinstance(value, (dict, list)):
            if len(loc) >= MAX_DEPTH:
                problems.append(Problem(locate(loc[:MAX_DEPTH]),
                                        f"nested more than {MAX_DEPTH} levels deep"))
                continue
            if isinstance(value, dict):
                for k, v in value.items():
                    if isinstance(k, (str, _TooLong)):
                        stack.append((k, (*loc, k if isinstance(k, str) else "[key]")))
                    stack.append((v, (*loc, k)))
            else:
                stack.extend((v, (*loc, i)) for i, v in enumerate(value))
    return sorted(problems)


# ---------------------------------------------------------------- files


class _Refused(Exception):
    """A file that is not read; the text says why, without anything from it."""


def _read_bytes(path: Path | str, limit: int | None = None, follow: bool = True) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes.

    Opened without blocking (a FIFO would wait for a writer forever) and checked
    before anything is read: a device (``/dev/zero`` never ends), a pipe or a
    folder is refused, and so is a file over the limit. ``follow=False`` refuses
    a symbolic link as the last part of the path (the caller resolved it)."""
    limit = MAX_FILE_BYTES if limit is None else limit
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise _Refused("file not found") from None
    except OSError as exc:
        raise _Refused(f"cannot be opened: {exc.strerror or type(exc).__name__}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise _Refused("is a folder, not a file")
        if not stat.S_ISREG(st.st_mode):
            raise _Refused("is not a regular file (a device, a pipe or a socket); not read")
        if st.st_size > limit:
            raise _Refused(f"is {st.st_size / 2**20:,.1f} MiB; files over "
                           f"{limit / 2**20:,.0f} MiB are not read")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # it grew while being read
                raise _Refused(f"is over {limit / 2**20:,.0f} MiB; not read")
        return b"".join(chunks)
    except OSError as exc:
        raise _Refused(f"cannot be read: {exc.strerror or type(exc).__name__}") from None
    finally:
        os.close(fd)


def _decode(data: bytes, encoding: str = "utf-8") -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        # The position only: nothing of a file that is not text is echoed.
        raise _Refused(f"is not UTF-8 text (byte {exc.start + 1:,} is not)") from None


def _path_text(value: str) -> str:
    """A path for a message: one line, its start and its end (the file name)."""
    return clip(one_line(value), 160)


def _path_problem(value: str) -> str | None:
    """Why a CSV path as written cannot be a path, or None."""
    if not value.strip():
        return "the CSV path is empty"
    if len(value) > MAX_PATH:
        return f"the CSV path has {len(value):,} characters; at most {MAX_PATH:,}"
    if one_line(value) != value:
        return "the CSV path holds a control character"
    return None


def csv_location(base: Path, value: str, roots: Iterable[Path] = ()) -> Path | str:
    """The real path of the CSV file ``value`` (relative to the instance's folder
    ``base``), or why it is not read: it must resolve (symbolic links followed)
    to a place inside ``base`` or one of ``roots`` (``--allow-files-outside``).
    Checked before anything is opened, so that an instance cannot make wfopt
    read, and echo in its messages, a file elsewhere (``../../etc/passwd``)."""
    why = _path_problem(value)
    if why is not None:
        return why
    real = Path(os.path.realpath(base / value))
    allowed = [Path(os.path.realpath(base)), *(Path(os.path.realpath(r)) for r in roots)]
    if not any(real == r or real.is_relative_to(r) for r in allowed):
        return (f"CSV file '{_path_text(value)}' is outside the instance's folder and was not "
                "read; move it into the folder, or allow its folder with "
                "--allow-files-outside DIR")
    return real


# ---------------------------------------------------------------- reading


def _checked(doc: dict[str, Any], prov: Provenance, problems: list[Problem]
             ) -> tuple[dict[str, Any], Provenance, list[Problem]]:
    """The document, or nothing when a value is over a limit (no later step sees
    a text of a million characters or a number too long to read)."""
    limits = _check_document(doc, lambda loc: prov.locate(loc, doc)) if doc else []
    _NAMES.clear()  # the document changes from here on (overrides)
    if limits:
        return {}, prov, [*problems, *limits]
    return doc, prov, problems


def read_csv_section(
    csv_path: Path, section: str, model: type[BaseModel], resolved: bool = False
) -> tuple[list[dict[str, Any]], CsvSource | None, list[Problem]]:
    """Read one section from a CSV file into a list of item dicts.

    The file is read as :func:`_read_bytes` allows; ``resolved`` (a path
    :func:`csv_location` resolved) refuses a symbolic link in its place, which
    would be one put there since."""
    name = shorten(csv_path.name, 100)
    try:
        text = _decode(_read_bytes(csv_path, follow=not resolved), "utf-8-sig")
    except _Refused as why:
        what = _path_text(str(csv_path))
        if str(why) == "file not found":
            return [], None, [Problem(section, f"CSV file not found: {what}")]
        return [], None, [Problem(name, f"cannot read CSV: {why}")]
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        return [], None, [Problem(name, f"cannot read CSV: {exc}")]
    if not rows:
        return [], None, [Problem(name, "empty CSV file: a header row is needed")]
    return section_from_rows(rows, name, section, model)


def section_from_rows(
    rows: list[list[str]], name: str, section: str, model: type[BaseModel]
) -> tuple[list[dict[str, Any]], CsvSource, list[Problem]]:
    """Items of one section from its rows of text cells, the header first (row 1).

    Shared by CSV files and workbook sheets, so that both follow SPEC §3's cell
    conventions and name places as ``{name} row N, column X``."""
    header = [h.strip() for h in rows[0]]
    year_fields = YEAR_FIELDS.get(section, ())
    allowed = set(model.model_fields)
    if year_fields:
        allowed.add("year")
    problems: list[Problem] = []
    keep: list[int] = []
    for j, col in enumerate(header):
        top = col.split(".", 1)[0]
        if top not in allowed:
            expected = ", ".join(sorted(allowed))
            problems.append(Problem(f"{name} column {shorten(col) or j + 1}",
                                    f"unknown column; expected some of: {expected}"))
        elif col in header[:j]:
            problems.append(Problem(f"{name} column {shorten(col)}", "duplicate column"))
        else:
            keep.append(j)
    src = CsvSource(file=name, columns={header[j] for j in keep})
    # Only a section with {year: value} fields folds rows by year; elsewhere a
    # ``year`` column is a field of its own (a posts row's year).
    by_year = bool(year_fields) and "year" in src.columns
    items: list[dict[str, Any]] = []
    index_of: dict[str, int] = {}
    plain: list[dict[str, str]] = []  # the non-year cells of each item, to compare rows
    for r, raw in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in raw):
            continue  # blank line
        if len(raw) > len(header):
            problems.append(Problem(f"{name} row {r}",
                                    f"{len(raw)} cells but the header has {len(header)}"))
        cells = {header[j]: raw[j].strip() for j in keep if j < len(raw) and raw[j].strip()}
        year_cell = cells.pop("year", None) if by_year else None
        year_vals = {f: cells.pop(f) for f in year_fields if by_year and f in cells}
        item_id = cells.get("id")
        if by_year and item_id is not None and item_id in index_of:
            i = index_of[item_id]
            first = plain[i]
            for col in sorted(set(first) | set(cells)):
                if first.get(col) != cells.get(col):
                    problems.append(Problem(
                        f"{name} row {r}, column {col}",
                        f"differs from row {src.item_rows[i]} for the same id "
                        f"'{shorten(item_id)}' ('{shorten(cells.get(col, ''))}' vs "
                        f"'{shorten(first.get(col, ''))}')"))
        else:
            i = len(items)
            if item_id is not None:
                index_of[item_id] = i
            plain.append(dict(cells))
            item: dict[str, Any] = {}
            for col, text in cells.items():
                if not _put(item, col, _parse_cell(col.rsplit(".", 1)[-1], text)):
                    problems.append(Problem(
                        f"{name} row {r}, column {shorten(col)}",
                        f"'{shorten(col.split('.', 1)[0])}' is given both as one column and "
                        "by its parts; give one or the other"))
            items.append(item)
            src.item_rows.append(r)
            src.year_rows.append({})
        if year_vals and year_cell is None:
            # ``per_year`` may be one number for every year: a row without a year.
            for fld, text in year_vals.items():
                if fld not in SCALAR_YEAR_FIELDS:
                    problems.append(Problem(f"{name} row {r}, column year",
                                            f"a year is needed for {fld}"))
                elif fld in items[i]:
                    problems.append(Problem(
                        f"{name} row {r}, column {fld}",
                        f"{fld} of '{shorten(item_id)}' is already given (row "
                        f"{src.year_rows[i].get(fld, {}).get('*', src.item_rows[i])}); "
                        f"give one number without a year or one row per year"))
                else:
                    items[i][fld] = text
                    src.year_rows[i].setdefault(fld, {})["*"] = r
        elif year_vals:
            try:
                year: int | str = int(year_cell)
            except ValueError:
                problems.append(Problem(f"{name} row {r}, column year",
                                        f"must be a whole year, got '{shorten(year_cell)}'"))
                continue
            for fld, text in year_vals.items():
                target = items[i].setdefault(fld, {})
                if not isinstance(target, dict):
                    problems.append(Problem(
                        f"{name} row {r}, column {fld}",
                        f"{fld} of '{shorten(item_id)}' is already given for every year (row "
                        f"{src.year_rows[i][fld]['*']}); give one number without a year "
                        f"or one row per year"))
                    continue
                if year in target:
                    problems.append(Problem(
                        f"{name} row {r}, column year",
                        f"year {year} given twice for '{shorten(item_id)}' "
                        f"(row {src.year_rows[i][fld][year]})"))
                    continue
                target[year] = text
                src.year_rows[i].setdefault(fld, {})[year] = r
        elif year_cell is not None:
            problems.append(Problem(f"{name} row {r}, column year",
                                    f"year {shorten(year_cell)} is given but no "
                                    f"{' or '.join(year_fields)}"))
    return items, src, problems


def _put(item: dict[str, Any], column: str, value: Any) -> bool:
    """Store a cell; dotted columns (``supervision.group``) make nested mappings.
    False (nothing stored) when another column already gave the value whole
    (``supervision`` beside ``supervision.group``)."""
    parts = column.split(".")
    node = item
    for p in parts[:-1]:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            return False
    if isinstance(node.get(parts[-1]), dict):
        return False
    node[parts[-1]] = value
    return True


def _parse_cell(fld: str, text: str) -> Any:
    if fld in _PAIR_CELLS:
        pairs = []
        for part in text.split(";"):
            k, _, v = part.partition(":")
            pairs.append([k.strip(), v.strip()])
        return pairs
    if ":" in text and fld in _MAP_CELLS:
        out: dict[str, str] = {}
        for part in text.split(";"):
            k, _, v = part.partition(":")
            out[k.strip()] = v.strip()
        return out
    if fld in _LIST_CELLS:
        return [p.strip() for p in text.split(";") if p.strip()]
    return text


# ---------------------------------------------------------------- validation

_BRANCH_TAG = re.compile(r"^(list|dict|tuple|float|int|str|bool|none|literal|function-\w+|"
                         r"constrained-\w+|[A-Z]\w*)(\[.*\])?$")


def validation_problems(exc: ValidationError, prov: Provenance,
                        locate: Callable[[Iterable[Any]], str] | None = None) -> list[Problem]:
    """Turn pydantic's errors into located one-line problems.

    A union field (``groups``: list or mapping) yields one error per branch; the
    most specific (deepest) one is kept, since it is the branch the value meant.
    ``locate`` names places (default: ``prov.locate``, items by position).
    """
    locate = locate or prov.locate
    by_field: dict[tuple, list[tuple[tuple, dict]]] = {}
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and _BRANCH_TAG.match(p)
                                                  and p not in _KNOWN_KEYS))
        key = loc[:3] if loc and loc[0] in LIST_SECTIONS else loc[:2]
        by_field.setdefault(key, []).append((loc, err))
    problems = []
    for _key, errs in by_field.items():
        depth = max(len(loc) for loc, _ in errs)
        kept = [(loc, err) for loc, err in errs
                if not (len(loc) < depth and len(errs) > 1 and _is_union_branch(err))]
        # A union's branches all report at the same place: when one branch took
        # the value's type and refused its content (``per_year: -5`` is a number
        # below 0), the other branches' "wrong type" errors are noise.
        typed = {loc for loc, err in kept if err["type"] not in _TYPE_WORDS}
        kept = [(loc, err) for loc, err in kept
                if not (loc in typed and err["type"] in _TYPE_WORDS)]
        # Every branch of a union refused the value's type: say so once.
        kinds = [_TYPE_WORDS.get(err["type"]) for _, err in kept]
        if len(kept) > 1 and all(kinds) and len({loc for loc, _ in kept}) == 1:
            loc, err = kept[0]
            words = list(dict.fromkeys(kinds))
            problems.append(Problem(locate(loc), f"must be {' or '.join(words)}, "
                                                 f"got {_fmt(err.get('input'))}"))
            continue
        seen = set()
        for loc, err in kept:
            p = Problem(locate(loc), _message(err, loc))
            if p not in seen:
                seen.add(p)
                problems.append(p)
    return problems


_TYPE_WORDS = {"list_type": "a list", "tuple_type": "a list", "dict_type": "a mapping",
               "model_type": "a mapping", "float_parsing": "a number", "float_type": "a number",
               "int_parsing": "a whole number", "int_type": "a whole number",
               "none_required": "empty"}

_KNOWN_KEYS = {"id", "name", "group", "groups", "region", "unit", "pot"}


def _is_union_branch(err: dict) -> bool:
    return any(isinstance(p, str) and _BRANCH_TAG.match(p) and p not in _KNOWN_KEYS
               for p in err["loc"])


_BRIEF = reprlib.Repr()
_BRIEF.maxlevel, _BRIEF.maxlist, _BRIEF.maxdict = 2, 4, 4
_BRIEF.maxstring, _BRIEF.maxlong, _BRIEF.maxother = MAX_VALUE, 30, MAX_VALUE


def _fmt(v: Any) -> str:
    """A value as a message quotes it: one line, short (a list or mapping shows
    its first items, a long text its start, then "…")."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    if isinstance(v, str):
        return f"'{shorten(v)}'"
    if isinstance(v, (list, tuple, dict, set, int)) and not isinstance(v, bool):
        return shorten(_BRIEF.repr(v), 2 * MAX_VALUE)
    return shorten(v)


def _as_number(v: Any) -> Any:
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return v
    return v


def _message(err: dict, loc: tuple) -> str:
    if loc and loc[-1] == "[key]":
        # The key of a mapping, not its value, is wrong (``per_year: {x: 5}``).
        what = "year" if any(p in _YEAR_KEYED for p in loc) else "key"
        return f"{what} {_message(err, loc[:-1])}"
    kind = err["type"]
    ctx = err.get("ctx") or {}
    got = err.get("input")
    rng = _range_of(loc)
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        # A CSV cell reaches the bound check as text that parsed as a number.
        got = _as_number(got)
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than") and rng:
        return f"must be in {rng}, got {_fmt(got)}"
    if kind == "greater_than_equal":
        return f"must be ≥ {_fmt(ctx.get('ge'))}, got {_fmt(got)}"
    if kind == "greater_than":
        return f"must be > {_fmt(ctx.get('gt'))}, got {_fmt(got)}"
    if kind == "less_than_equal":
        return f"must be ≤ {_fmt(ctx.get('le'))}, got {_fmt(got)}"
    if kind == "missing":
        return "required, but missing"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind in ("float_parsing", "float_type"):
        return f"must be a number, got {_fmt(got)}"
    if kind == "finite_number":
        return f"must be a finite number, got {_fmt(got)}"
    if kind == "int_parsing_size":
        return f"must be a whole number of at most {MAX_INT_TEXT} digits, got {_fmt(got)}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"must be a whole number, got {_fmt(got)}"
    if kind in ("bool_parsing", "bool_type"):
        return f"must be true or false, got {_fmt(got)}"
    if kind == "literal_error" and loc and loc[0] in PLACED_SECTIONS and loc[-1] == "placement":
        # A lever's placement is a rule or the planner's own weights.
        return (f"must be one of {ctx.get('expected')}, or weights {{unit: weight}}, "
                f"got {_fmt(got)}")
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}, got {_fmt(got)}"
    if kind in ("too_short", "too_long") and "response" in loc and isinstance(loc[-1], int):
        return f"a breakpoint must be a [spend, effect] pair, got {_fmt(got)}"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length')} item(s)"
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} item(s)"
    if kind == "string_pattern_mismatch":
        return f"{_fmt(got)} is not a valid id (no spaces or ; : , .)"
    if kind == "string_too_short":
        return "must not be empty"
    if kind in ("string_type", "string_parsing"):
        return f"must be text, got {_fmt(got)}"
    if kind in ("list_type", "tuple_type"):
        return f"must be a list, got {_fmt(got)}"
    if kind in ("dict_type", "model_type"):
        return f"must be a mapping, got {_fmt(got)}"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    return err["msg"][0].lower() + err["msg"][1:]


def _range_of(loc: tuple) -> str | None:
    """``[0, 1]`` or ``(0, 1]`` for a field bounded on both sides."""
    from annotated_types import Ge, Gt, Le, Lt

    lo = hi = None
    for m in _bounds_of(loc):
        if isinstance(m, Ge):
            lo = f"[{_fmt(m.ge)}"
        elif isinstance(m, Gt):
            lo = f"({_fmt(m.gt)}"
        elif isinstance(m, Le):
            hi = f"{_fmt(m.le)}]"
        elif isinstance(m, Lt):
            hi = f"{_fmt(m.lt)})"
    if lo and hi:
        return f"{lo}, {hi}"
    return None


def _bounds_of(loc: tuple) -> list[Any]:
    """The bound metadata (``Ge``, ``Le``, …) of the field at ``loc``, following
    nested models (``supervision.max_trainees_per_fte``) and optional fields
    (``Rate01 | None``). Empty when the place is not a single numeric field."""
    import typing

    model: Any = Instance
    finfo = None
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(model, "model_fields", None)
        if fields is None or part not in fields:
            return []
        finfo = fields[part]
        model = _model_in(finfo.annotation)
    if finfo is None:
        return []
    if finfo.metadata:
        return list(finfo.metadata)
    # ``Annotated[float, Field(...)] | None``: the bounds sit on the one
    # numeric branch of the union.
    found: list[list[Any]] = []
    for arg in typing.get_args(finfo.annotation):
        if typing.get_origin(arg) is typing.Annotated:
            base, *meta = typing.get_args(arg)
            if base in (int, float):
                found.append([m for fi in meta for m in getattr(fi, "metadata", [fi])])
    return found[0] if len(found) == 1 else []


def _model_in(tp: Any) -> Any:
    """The pydantic model a field holds (directly, in a list or in a union), if any."""
    import typing

    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp
    for arg in typing.get_args(tp):
        m = _model_in(arg)
        if m is not None:
            return m
    return None


def validate_document(doc: dict[str, Any], prov: Provenance,
                      locate: Callable[[Iterable[Any]], str] | None = None
                      ) -> tuple[Instance | None, list[Problem]]:
    """Validate the expanded document field by field, then every number of the
    result (:func:`number_problems`)."""
    try:
        inst = Instance.model_validate(doc)
    except ValidationError as exc:
        problems = validation_problems(exc, prov, locate or Locator(prov, doc))
        # A section whose CSV could not be read is already reported; that it is
        # now empty is not a second problem.
        return None, [p for p in problems if p.location not in prov.unread]
    problems = number_problems(inst, locate or Locator(prov, doc))
    return (None, problems) if problems else (inst, [])


MAX_INT = 2**31 - 1
"""The largest whole number a field may hold (a seed, a count of units): what
the solver's integer options take."""

INT_LIMITS = {"threads": 1024}
"""Tighter limits on whole numbers by field: HiGHS would try to start a billion
threads."""


def number_problems(inst: BaseModel, locate: Callable[[Iterable[Any]], str]) -> list[Problem]:
    """Numbers of a validated instance the model cannot use: not finite (``.inf``,
    ``.nan`` in a field without the schema's finite types, such as
    ``max_trainees_per_fte``), above :data:`~optimiser.instance.schema.MAX_AMOUNT`, or a
    whole number above :data:`MAX_INT`. The schema's number types check their
    own fields; this covers every other one, wherever it is."""
    problems: list[Problem] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(inst, ())]
    while stack:
        value, loc = stack.pop()
        if isinstance(value, BaseModel):
            stack.extend((getattr(value, f), (*loc, f)) for f in type(value).model_fields)
        elif isinstance(value, (list, tuple)):
            stack.extend((v, (*loc, i)) for i, v in enumerate(value))
        elif isinstance(value, dict):
            for k, v in value.items():
                stack.append((k, (*loc, k, "[key]")))
                stack.append((v, (*loc, k)))
        elif isinstance(value, bool):
            continue
        elif isinstance(value, float):
            if not math.isfinite(value):
                problems.append(Problem(locate(loc), f"must be a finite number, got {value}"))
            elif abs(value) > MAX_AMOUNT:
                problems.append(Problem(locate(loc), f"must be at most 1e12, the most the "
                                                     f"model solves reliably; got {value:.4g}"))
        elif isinstance(value, int):
            field_name = next((p for p in reversed(loc) if isinstance(p, str)), "")
            limit = INT_LIMITS.get(field_name, MAX_INT)
            if abs(value) > limit:
                problems.append(Problem(locate(loc), f"must be at most {limit:,}, got "
                                                     f"{_fmt(value)}"))
    return sorted(problems)


def partial_checks(doc: dict[str, Any], prov: Provenance,
                   located: Callable[[Iterable[Any]], str] | None = None) -> list[Problem]:
    """Cross-reference checks on the items that passed field validation.

    Used when the document as a whole failed, so that an unknown group in one
    lever is reported together with an out-of-range rate in another. Invalid
    items are left out (their own problems are reported); the ids they declare
    still count as known. Nothing is checked when the horizon, the staff groups
    or the units cannot be used at all, since every check depends on them.
    ``located`` names places of ``doc`` (default: a :class:`Locator` of it).
    """
    extra: dict[str, set[str]] = {"staff_groups": set(), "units": set(), "regions": set(),
                                  "budgets": set()}
    partial: dict[str, Any] = {"name": "partial", "horizon": doc.get("horizon")}
    index: dict[str, list[int]] = {}
    for section, model in LIST_SECTIONS.items():
        items = doc.get(section, [])
        if not isinstance(items, list):
            if section in ("staff_groups", "units"):
                return []
            continue
        kept, where = [], []
        for i, item in enumerate(items):
            try:
                kept.append(model.model_validate(item))
                where.append(i)
            except ValidationError:
                if isinstance(item, dict) and section in extra:
                    if isinstance(item.get("id"), str):
                        extra[section].add(item["id"])
                    if section == "units" and isinstance(item.get("region"), str):
                        extra["regions"].add(item["region"])
        partial[section] = kept
        index[section] = where
    try:
        inst = Instance.model_validate(partial)
    except ValidationError:
        return []

    to_doc = located or Locator(prov, doc)

    def locate(loc: Iterable[Any]) -> str:
        # The checks count the valid items only; locations count the document's.
        loc = list(loc)
        if len(loc) >= 2 and loc[0] in index and isinstance(loc[1], int):
            loc[1] = index[loc[0]][loc[1]]
        return to_doc(loc)

    declared = Declared.of(inst, Declared(frozenset(extra["staff_groups"]),
                                          frozenset(extra["units"]),
                                          frozenset(extra["regions"]),
                                          frozenset(extra["budgets"])))
    return run_checks(inst, locate, declared)


