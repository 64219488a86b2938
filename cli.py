"""The ``wfopt`` command: a thin shell over the library API.

Exit codes (SPEC §4): 0 solved, 1 no plan, 2 invalid input or usage. Input
problems are printed one per line as ``location | message``, never as a
traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from optimiser import InputError, Override, load_instance
from optimiser.schema import Instance, json_schema

app = typer.Typer(
    name="wfopt",
    help="Workforce-planning optimiser: choose training places, return-to-practice "
    "spend, retention funding and international recruitment to meet workforce "
    "targets within budget.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

InstanceArg = Annotated[Path, typer.Argument(help="Instance file (YAML or JSON).",
                                             show_default=False)]
SetOpt = Annotated[list[str] | None, typer.Option(
    "--set", help="Change one value before solving: KEY=VALUE (SPEC §5 dotted key, list "
    "items by id), e.g. budgets.hee.per_year=3e8. Repeatable.")]
ScaleOpt = Annotated[list[str] | None, typer.Option(
    "--scale", help="Multiply every number under KEY: KEY=FACTOR, e.g. budgets=1.2. "
    "Repeatable.")]


def fail_input(problems: list) -> None:
    """Print input problems, one per line, and exit 2."""
    for p in problems:
        typer.echo(str(p), err=True)
    n = len(problems)
    typer.echo(f"{n} problem{'s' if n != 1 else ''} in the input; nothing was solved.",
               err=True)
    raise typer.Exit(2)


def parse_overrides(sets: list[str] | None, scales: list[str] | None) -> list[Override]:
    out: list[Override] = []
    errors: list[str] = []
    for kind, items in (("set", sets), ("scale", scales)):
        for text in items or ():
            try:
                out.append(Override.parse(kind, text))  # type: ignore[arg-type]
            except ValueError as exc:
                errors.append(str(exc))
    if errors:
        for e in errors:
            typer.echo(e, err=True)
        raise typer.Exit(2)
    return out


def load_or_exit(path: Path, sets: list[str] | None, scales: list[str] | None) -> Instance:
    overrides = parse_overrides(sets, scales)
    try:
        return load_instance(path, overrides)
    except InputError as exc:
        fail_input(exc.problems)
        raise  # unreachable: fail_input exits


def describe(inst: Instance) -> str:
    """A short summary of an instance: sizes, years, levers, targets."""
    regions = sorted({u.region for u in inst.units})
    years = inst.years
    lines = [
        f"instance   {inst.name}",
        f"groups     {len(inst.staff_groups)}: {', '.join(g.id for g in inst.staff_groups)}",
        f"units      {len(inst.units)} in {len(regions)} regions: {', '.join(regions)}",
        f"years      base {inst.horizon.base_year}, plan {years[0]}–{years[-1]} "
        f"({len(years)} years)",
        f"workforce  {sum(r.fte for r in inst.workforce):,.0f} FTE in {len(inst.workforce)} rows",
        f"levers     {len(inst.training)} training, {len(inst.return_to_practice)} return to "
        f"practice, {len(inst.retention)} retention, {len(inst.international)} international",
        f"budgets    {len(inst.budgets)} pots"
        + (f": {', '.join(b.id for b in inst.budgets)}" if inst.budgets else " (unlimited)"),
        f"targets    {len(inst.targets)} ({sum(len(t.required) for t in inst.targets)} "
        f"target-years)",
        f"objective  {inst.objective.mode}",
    ]
    return "\n".join(lines)


@app.command()
def validate(instance: InstanceArg, set_: SetOpt = None, scale: ScaleOpt = None) -> None:
    """Check an instance file and print a short summary; exit 2 listing every problem."""
    inst = load_or_exit(instance, set_, scale)
    typer.echo(describe(inst))
    typer.echo("valid")


@app.command()
def schema() -> None:
    """Print the JSON Schema of instance files (generated from the pydantic models)."""
    typer.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))


def main() -> None:  # pragma: no cover - console entry for `python cli.py`
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
