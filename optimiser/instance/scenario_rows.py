"""A scenarios list read from CSV rows (SPEC §2.13): ``id, probability, op, key,
value``, one row per override. Read by the loader for an instance whose
``scenarios.list`` names a CSV file and by ``--scenarios FILE``."""

from __future__ import annotations

import yaml

from optimiser.errors import Problem


def scenarios_from_rows(rows: list[dict[str, str]], where: str) -> tuple[list[dict], list[Problem]]:
    """Scenario items from CSV rows ``id, probability, op, key, value`` (one row per
    override, the probability repeated; a scenario without overrides is one row
    with op, key and value empty; a scenario's rows are contiguous)."""
    items: list[dict] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for n, row in enumerate(rows, start=2):
        sid = (row.get("id") or "").strip()
        loc = f"{where} row {n}"
        if not sid:
            problems.append(Problem(f"{loc}, column id", "missing"))
            continue
        if not items or items[-1]["id"] != sid:
            if sid in seen:
                problems.append(Problem(f"{loc}, column id", f"the rows of scenario '{sid}' "
                                                             "are not contiguous"))
                continue
            seen.add(sid)
            try:
                prob = float(row.get("probability") or "nan")
            except ValueError:
                problems.append(Problem(f"{loc}, column probability", "must be a number, got "
                                        f"{row.get('probability')!r}"))
                prob = float("nan")
            items.append({"id": sid, "probability": prob})
        op, key, value = ((row.get(c) or "").strip() for c in ("op", "key", "value"))
        if not op and not key and not value:
            continue
        if op not in ("set", "scale"):
            problems.append(Problem(f"{loc}, column op", f"must be set or scale, got {op!r}"))
            continue
        if not key:
            problems.append(Problem(f"{loc}, column key", "missing"))
            continue
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError:
            parsed = value
        items[-1].setdefault(op, {})[key] = parsed
    return items, problems
