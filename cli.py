"""The ``wfopt`` command: a thin shell over the library API.

Exit codes (docs/model.md, "Statuses and exit codes"): 0 a plan, 1 no plan (or
the results could not be written, or a fault in wfopt), 2 invalid input or
usage. Input problems are printed one per line as ``location | message``, never
as a traceback; a fault in wfopt itself is one ``internal error`` line that says
how to report it (the traceback with ``--debug``), and an interrupt (Ctrl-C),
even during the imports, is one ``interrupted`` line (exit 130).
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

try:
    import typer
    from typer.core import TyperCommand

    from formulations import words
    from optimiser import InputError, Override, Result, SolveOptions, load_instance
    from optimiser import solve as solve_instance
    from optimiser.engine.progress import Progress
    from optimiser.engine.solve import check_document_size, check_mode, effective_options
    from optimiser.errors import ModelError, TooLarge, bounded
    from optimiser.instance.checks import fair_share_warnings
    from optimiser.instance.schema import Instance, json_schema
    from optimiser.results.atomic import OutputFolderError, check_output_folder
    from optimiser.results.overview import explain_lines, money, summary_lines
    from optimiser.results.tables import RESULTS_FOLDER
except KeyboardInterrupt:  # Ctrl-C during the imports (seconds): no traceback
    sys.stderr.write("interrupted\n")
    raise SystemExit(130) from None


class Command(TyperCommand):
    """A command whose help names values (``INSTANCE``, ``--out DIR``), never
    Python types.

    typer writes a required argument as ``{instance}`` in the usage line and
    lists it with its type (``instance <path>``); the usage line here reads as
    click writes it, and an argument is listed by its name and help only.
    Options give their own ``metavar``; flags show none in the plain help."""

    def collect_usage_pieces(self, ctx) -> list[str]:
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p
                for p in super().collect_usage_pieces(ctx)]

    def format_options(self, ctx, formatter) -> None:
        params = self.get_params(ctx)
        args = [(p.metavar or (p.name or "").upper(), getattr(p, "help", None) or "")
                for p in params if p.param_type_name == "argument"]
        opts = [rec for p in params if p.param_type_name == "option"
                and (rec := p.get_help_record(ctx)) is not None]
        for title, rows in (("Arguments", args), ("Options", opts)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


app = typer.Typer(
    name="wfopt",
    help="Workforce-planning optimiser: choose training places, return-to-practice "
    "spend, retention funding and international recruitment to meet workforce "
    "targets within budget.\n\n"
    "Instance files: docs/instance-format.md. The model, statuses and exit codes: "
    "docs/model.md. Run 'wfopt COMMAND --help' for a command's options.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: paragraphs re-wrapped to the terminal, and no type column
    # (<bool>, <list[str]>) beside the options.
    rich_markup_mode=None,
)

InstanceArg = Annotated[Path, typer.Argument(
    metavar="INSTANCE", help="Instance file: YAML, JSON or an Excel workbook (.xlsx); "
    "format: docs/instance-format.md.",
    show_default=False)]
SetOpt = Annotated[list[str] | None, typer.Option(
    "--set", metavar="KEY=VALUE", help="Change one value of the instance before it is "
    "checked, e.g. budgets.hee.per_year=3e8. KEY is a dotted path into the instance, list "
    "items by id (docs/instance-format.md, section Overrides). Repeatable.")]
AllowOpt = Annotated[list[Path] | None, typer.Option(
    "--allow-files-outside", metavar="DIR", help="Also read CSV sections from DIR. By "
    "default only files inside the instance's folder are read (docs/instance-format.md, "
    "Safety limits). Repeatable.", show_default=False)]
MODE_HELP = ("lexicographic (the least weighted shortfall, then the least cost) or "
             "weighted (one objective); default: the instance's objective.mode.")
ScaleOpt = Annotated[list[str] | None, typer.Option(
    "--scale", metavar="KEY=FACTOR", help="Multiply every number under KEY, e.g. "
    "budgets=1.2. Repeatable.")]


def fail_input(problems: list) -> None:
    """Print input problems, one per line, and exit 2."""
    for p in problems:
        typer.echo(bounded(p, 1000), err=True)
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
            typer.echo(bounded(e, 1000), err=True)
        raise typer.Exit(2)
    return out


def mode_or_exit(mode: str | None) -> None:
    """A ``--mode`` that is not a mode: its problem, exit 2 (before any work)."""
    try:
        check_mode(mode)
    except ValueError as exc:
        typer.echo(f"--mode | {exc}", err=True)
        raise typer.Exit(2) from None


def load_or_exit(path: Path, sets: list[str] | None, scales: list[str] | None,
                 allow: list[Path] | None = None, timings: dict[str, float] | None = None,
                 for_solve: bool = False) -> Instance:
    """Load an instance, or print its problems and exit 2. ``for_solve``: an
    instance whose model would not fit in memory is refused before its (slow, for
    a huge file) validation; ``timings`` collects the load and validate phases."""
    overrides = parse_overrides(sets, scales)
    try:
        return load_instance(path, overrides, timings=timings,
                             allow_files_outside=allow or (),
                             before_validation=check_document_size if for_solve else None)
    except TooLarge as exc:
        typer.echo(bounded(f"{path} | {exc}", 1000), err=True)
        raise typer.Exit(2) from None
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
    posts = [r for r in inst.workforce if r.posts is not None]
    if posts or inst.posts:
        lines.insert(5, f"posts      {sum(r.posts for r in posts):,.0f} funded in the base year "
                        f"({len(posts)} rows), {len(inst.posts)} rows for plan years")
    fair = sorted({t.fair_share for t in inst.targets if t.fair_share})
    if fair:
        lines.append(f"fair share {len(fair)} groups: {', '.join(fair)}")
    lines += [f"warning: {w}" for w in fair_share_warnings(inst)]
    return "\n".join(lines)


def describe_scenarios(inst: Instance) -> list[str]:
    """The scenarios of an instance in a few lines; for a sampled set, each key's
    asked range and the spread of the values drawn."""
    sc = inst.scenarios
    if sc is None:
        return []
    years = sc.here_and_now_years
    how = (f"{sc.risk}; the first {years} plan year{'s' * (years != 1)} decided now")
    if sc.sample is None:
        return [f"scenarios  {len(sc.list)} listed ({how}): "
                + ", ".join(s.id for s in sc.list)]
    from optimiser.instance.sampling import draw, drawn_ranges

    smp = sc.sample
    lines = [f"scenarios  {smp.count} sampled, seed {smp.seed}, ids s1 … s{smp.count}, "
             f"probability 1/{smp.count} each ({how})"]
    for r in drawn_ranges(smp, draw(smp)):
        lines.append(f"  {r.op} {r.key}: [{r.lo:g}, {r.hi:g}], drawn {r.low:.4g} to "
                     f"{r.high:.4g}, mean {r.mean:.4g}")
    return lines


@app.command(cls=Command)
def validate(instance: InstanceArg, set_: SetOpt = None, scale: ScaleOpt = None,
             scenarios: Annotated[Path | None, typer.Option(
                 "--scenarios", metavar="FILE", help="Check these scenarios (YAML or CSV) "
                 "with the instance, in place of its own.")] = None,
             allow_files_outside: AllowOpt = None) -> None:
    """Check an instance file and print a short summary.

    Exit 0 when it is valid; exit 2 listing every problem, one per line as
    "location | message". Scenarios (the instance's or --scenarios FILE) are
    checked too; a sampled set shows each key's range and what was drawn.
    """
    inst = load_or_exit(instance, set_, scale, allow_files_outside)
    inst = choose_scenarios(inst, scenarios, None, False)
    typer.echo(describe(inst))
    for line in describe_scenarios(inst):
        typer.echo(line)
    typer.echo("valid")


@app.command(cls=Command)
def schema() -> None:
    """Print the JSON Schema of instance files.

    It is generated from the pydantic models that check every file; the format
    is described in docs/instance-format.md.
    """
    typer.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))


@app.command(cls=Command)
def generate(
    out: Annotated[Path, typer.Option("--out", "-o", metavar="DIR", help="Folder to write "
                                      "(atomically): instance.yaml, units.csv, "
                                      "workforce.csv, targets.csv.", show_default=False)],
    units: Annotated[int, typer.Option(metavar="N", help="Trusts (units), 1 to 100000.")] = 5,
    groups: Annotated[int, typer.Option(metavar="N", help="Staff groups, 1 to 1000.")] = 5,
    years: Annotated[int, typer.Option(metavar="N", help="Plan years, 1 to 60.")] = 4,
    seed: Annotated[int, typer.Option(metavar="N", help="Random seed (same seed, same "
                                      "files).")] = 0,
) -> None:
    """Write a synthetic instance of any size, for benchmarks.

    The instance has every lever and a national plan's shape (regions, services,
    high-exit trusts, pots, targets by service and profession). It always
    validates and has a plan.
    """
    from optimiser.generate import GENERATED_FOLDER, generate_instance, write_instance

    try:
        check_output_folder(out, GENERATED_FOLDER)
        path = write_instance(generate_instance(units, groups, years, seed), out)
    except (ValueError, OutputFolderError) as exc:  # GeneratorError is a ValueError
        message = str(exc)
        typer.echo(f"--out {message}" if isinstance(exc, OutputFolderError) else message,
                   err=True)
        raise typer.Exit(2) from None
    typer.echo(describe(load_or_exit(path, None, None)))
    typer.echo(f"instance written to {path}")


def show_progress(quiet: bool, verbose: bool) -> bool:
    """Whether a command draws its progress: on a terminal's stderr only (never
    into a file or a pipe), not with ``--quiet``, and not with ``--verbose``,
    whose HiGHS log is the progress then."""
    return not quiet and not verbose and sys.stderr.isatty()


class LiveLine:
    """The live line of ``wfopt solve`` on stderr (rich): the stage, the
    seconds against the limit, and in a MIP stage the best plan's objective,
    the bound and the gap. It is the solve's progress callback
    (:mod:`optimiser.engine.progress`); drawn four times a second from its own
    thread, so the seconds go on between reports. Erased when the solve ends:
    what stays on the terminal is the summary. Draws nothing when not
    ``show``."""

    def __init__(self, show: bool, clock: float, currency: str = "GBP"):
        self.show, self.clock, self.currency = show, clock, currency
        self.state: Progress | None = None
        self._live: Any = None

    def __call__(self, progress: Progress) -> None:
        before, self.state = self.state, progress
        if self._live is not None and (before is None or before.stage != progress.stage
                                       or before.phase != progress.phase):
            # A new stage is drawn at once, not at the next tick: a stage of a
            # small plan can be over before it.
            self._live.refresh()

    def stage(self, name: str) -> None:
        """A stage of the command's own (writing the results)."""
        if self.state is not None:
            self.state = dataclasses.replace(self.state, stage=name, objective=None,
                                             bound=None, gap=None)

    def figure(self, stage: str, x: float) -> str:
        """An objective in its stage's unit: FTE of shortfall, money, the
        fairness measure (a rate)."""
        if stage == "cost":
            return words.money(x, self.currency, fixed=True)
        if stage == "fairness":
            return f"{x:.4f}"
        return f"{x:,.2f}" + (" FTE" if stage in ("shortfall", "expected shortfall") else "")

    def __rich__(self) -> str:
        return self.text()

    def text(self, now: float | None = None) -> str:
        """The line: ``shortfall · 12 s of 600 s · best 12,843.25 · bound 12,801.10 ·
        gap 0.33%`` (a stochastic plan's step first)."""
        now = time.perf_counter() if now is None else now
        p = self.state
        parts = ["wfopt solve"]
        if p is None:
            parts.append("starting")
        else:
            if p.phase:
                parts.append(p.phase)
            parts.append(p.stage)
        elapsed = now - self.clock
        limit = None if p is None else p.limit
        parts.append(f"{elapsed:,.0f} s" + ("" if limit is None else f" of {limit:,.0f} s"))
        if p is not None and p.objective is not None:
            parts.append(f"best {self.figure(p.stage, p.objective)}")
        if p is not None and p.bound is not None:
            parts.append(f"bound {self.figure(p.stage, p.bound)}")
        if p is not None and p.gap is not None:
            parts.append(f"gap {p.gap:.2%}")
        return " · ".join(parts)

    def __enter__(self) -> LiveLine:
        if self.show:
            from rich.console import Console
            from rich.live import Live

            # stdout is the summary's alone; what is written to stderr meanwhile
            # (a warning) is printed above the line.
            self._live = Live(self, console=Console(stderr=True, highlight=False),
                              refresh_per_second=4, transient=True,
                              redirect_stdout=False, redirect_stderr=True)
            self._live.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


def print_summary(result: Result, explain: bool = False) -> None:
    """The plan on one screen (:func:`optimiser.results.overview.summary_lines`:
    status, W, C, gap, spend, the largest shortfalls, vacancies, the reasons of
    the largest marginal value, fair shares); ``explain``: every reason in full."""
    for line in summary_lines(result.summary(), result.tables, explain=explain):
        typer.echo(line)


def choose_scenarios(inst: Instance, scenarios: Path | None, scenario: str | None,
                     no_scenarios: bool) -> Instance:
    """The instance to solve: with the scenarios of ``--scenarios``, one scenario
    alone (``--scenario``), or without scenarios (``--no-scenarios``)."""
    if no_scenarios and (scenarios is not None or scenario is not None):
        typer.echo("--no-scenarios | cannot go with --scenarios or --scenario", err=True)
        raise typer.Exit(2)
    if no_scenarios:
        return inst.model_copy(update={"scenarios": None})
    if scenarios is None and scenario is None:
        return inst
    from optimiser.engine.scenarios import load_scenarios_file, scenario_set

    try:
        if scenarios is not None:
            inst = inst.model_copy(update={"scenarios": load_scenarios_file(scenarios)})
        if scenario is not None:
            if inst.scenarios is None:
                typer.echo("--scenario | the instance has no scenarios (give --scenarios FILE)",
                           err=True)
                raise typer.Exit(2)
            return scenario_set(inst, only=scenario).instances[0]
        scenario_set(inst)  # every problem now, before any solve
    except InputError as exc:
        fail_input(exc.problems)
    return inst


MOST_SCENARIOS_SHOWN = 12
"""Scenarios listed one per line in the summary; a larger (sampled) set shows
its first five and the spread of W."""


def print_scenarios(result: Result) -> None:
    """What is decided now, how each scenario turns out, and what hedging buys
    (VSS) and perfect foresight would be worth (EVPI)."""
    if not result.scenarios:
        return
    sc = result.scenarios
    years = sc["here_and_now_years"]
    typer.echo(f"scenarios ({sc['risk']}; the first {years} plan year"
               f"{'s' * (years != 1)} decided now, the same in every scenario)")
    shown = sc["list"] if len(sc["list"]) <= MOST_SCENARIOS_SHOWN else sc["list"][:5]
    for s in shown:
        typer.echo(f"  {s['id']:<24} p {s['probability']:<6g} W {s['weighted_shortfall']:>12,.2f}"
                   f" FTE   C {money(s['total_cost'], result.currency):>12}")
    if len(shown) < len(sc["list"]):
        ws = [s["weighted_shortfall"] for s in sc["list"]]
        typer.echo(f"  … and {len(sc['list']) - len(shown)} more (summary.json lists each): "
                   f"W from {min(ws):,.2f} to {max(ws):,.2f} FTE")
    st = result.stochastic
    if st:
        def f(v):
            return "-" if v is None else f"{v:,.2f}"

        if st.get("engine") == "ph":
            gap = "-" if st["gap"] is None else f"{st['gap']:.4%}"
            conv = "-" if st["convergence"] is None else f"{st['convergence']:.2g}"
            typer.echo(f"  progressive hedging: best plan ρ {f(st['RP'])}, lower bound "
                       f"{f(st['lower_bound'])}, gap {gap}; {st['iterations']} iterations on "
                       f"{st['ranks']} rank{'s' * (st['ranks'] != 1)}, convergence {conv}")
            typer.echo(f"  decided now: {len(st['here_and_now'])} decisions (summary.json "
                       "stochastic.here_and_now; the tables' rows of those years)")
            print_out_of_sample(st)
            return
        typer.echo(f"  RP {f(st['RP'])}  WS {f(st['WS'])}  EEV {f(st['EEV'])}  "
                   f"EVPI {f(st['EVPI'])}  VSS {f(st['VSS'])} (FTE of the risk measure)")
        if st["EEV_infeasible"]:
            typer.echo("  with the reference scenario's first-year decisions no plan exists in: "
                       + ", ".join(st["EEV_infeasible"]) + " (EEV and VSS not defined)")
        else:
            typer.echo(f"  hedging buys {f(st['VSS'])} FTE of shortfall against planning for the "
                       f"reference scenario alone; knowing the future would be worth "
                       f"{f(st['EVPI'])} FTE")
        print_out_of_sample(st)


def print_out_of_sample(st: dict) -> None:
    """The out-of-sample estimate of the plan's expected shortfall, when asked."""
    o = st.get("out_of_sample")
    if not o:
        return
    if o["infeasible"]:
        typer.echo(f"  out of sample ({o['count']} fresh futures, seed {o['seed']}): the "
                   f"here-and-now decisions leave no plan in {len(o['infeasible'])} of them "
                   f"({', '.join(o['infeasible'][:5])}): no estimate")
    else:
        ci = o["ci95"]
        typer.echo(f"  out of sample ({o['count']} fresh futures, seed {o['seed']}): expected "
                   f"shortfall {o['mean']:,.2f} FTE, 95% CI [{ci[0]:,.2f}, {ci[1]:,.2f}]")


@app.command(cls=Command)
def solve(
    instance: InstanceArg,
    out: Annotated[Path | None, typer.Option("--out", "-o", metavar="DIR", help="Results "
                                             "directory to write (atomically).")] = None,
    time_limit: Annotated[float | None, typer.Option(metavar="SECONDS", help="Time for the "
                                                     "whole command, from its start: "
                                                     "reading, building, solving, explaining "
                                                     "and writing.", min=0.001)] = None,
    mip_gap: Annotated[float | None, typer.Option(metavar="GAP", help="Relative MIP gap, "
                                                  "e.g. 1e-4.", min=0.0)] = None,
    threads: Annotated[int | None, typer.Option(
        metavar="N", help="HiGHS threads. Default: half the hardware threads, at least 2 "
        "where 2 cores are usable (a second speeds each MIP's root; HiGHS still searches "
        "on one).",
        min=1, max=1024)] = None,
    seed: Annotated[int | None, typer.Option(metavar="N", help="HiGHS random seed.",
                                             min=0)] = None,
    mode: Annotated[str | None, typer.Option(metavar="MODE", help=MODE_HELP)] = None,
    set_: SetOpt = None,
    scale: ScaleOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print summary.json to "
                                          "stdout instead of the readable summary.")] = False,
    verbose: Annotated[bool, typer.Option(help="HiGHS's log on stderr, not the progress "
                                          "line.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress line on the "
                                        "terminal while it solves.")] = False,
    explain: Annotated[bool, typer.Option("--explain", help="Print every reason why the "
                                          "shortfall remains in full, not only the five of "
                                          "the largest marginal value.")] = False,
    profile: Annotated[bool, typer.Option("--profile", help="Also print the seconds of "
                                          "each phase, the model size and peak memory "
                                          "(to stderr with --json).")] = False,
    xlsx: Annotated[bool, typer.Option("--xlsx", help="Also write results.xlsx in the "
                                       "results directory: one sheet per table and the "
                                       "summary (needs --out).")] = False,
    scenarios: Annotated[Path | None, typer.Option(
        "--scenarios", metavar="FILE", help="Plan under these scenarios (YAML or CSV; "
        "docs/model.md, Scenarios), in place of the instance's own.")] = None,
    scenario: Annotated[str | None, typer.Option(
        "--scenario", metavar="ID", help="Solve one scenario alone as a deterministic "
        "plan.")] = None,
    no_scenarios: Annotated[bool, typer.Option(
        "--no-scenarios", help="Ignore the instance's scenarios: one deterministic "
        "plan.")] = False,
    workers: Annotated[int, typer.Option(
        metavar="N", min=1, help="With scenarios: local processes for the independent "
        "solves behind WS and EEV (default 1, in this process).")] = 1,
    dask: Annotated[str | None, typer.Option(
        "--dask", metavar="ADDRESS", help="With scenarios: run the WS and EEV solves on "
        "this Dask scheduler.")] = None,
    engine: Annotated[str, typer.Option(
        metavar="ef|ph", help="With scenarios: ef, the extensive form (one model of every "
        "scenario), or ph, progressive hedging on mpi-sppy for sets too large for it (risk "
        "expected only; needs the mpi extra). docs/sampled-studies.md.")] = "ef",
    ranks: Annotated[int, typer.Option(
        metavar="N", min=1, help="With --engine ph: MPI ranks (1, in this process; every rank "
        "runs PH, the futures split between them).")] = 1,
    mpiexec: Annotated[str, typer.Option(
        metavar="CMD", help="With --engine ph and --ranks above 1: the MPI launcher, e.g. "
        "'mpiexec -f hosts' for a cluster.")] = "mpiexec",
    ph_iterations: Annotated[int, typer.Option(
        metavar="N", min=1, help="With --engine ph: most PH iterations.")] = 50,
    ph_rho: Annotated[float | None, typer.Option(
        metavar="RHO", min=0.0, help="With --engine ph: PH's penalty on decisions scaled to "
        "0–1 (default 0.2 × the reference scenario's W).")] = None,
    confidence: Annotated[int | None, typer.Option(
        metavar="M", min=2, help="With sampled scenarios: hold the plan's here-and-now "
        "decisions in M fresh futures and report its expected shortfall with a 95% "
        "confidence interval.")] = None,
    confidence_seed: Annotated[int | None, typer.Option(
        metavar="S", min=0, help="Seed of --confidence's futures (default: the sample's "
        "seed + 1).")] = None,
    allow_files_outside: AllowOpt = None,
) -> None:
    """Solve an instance: print the summary, write the result tables.

    Exit 0 with a plan (optimal or feasible), 1 without (infeasible, no_solution,
    error) or when the results could not be written (the summary is printed all
    the same), 2 for invalid input. Statuses and the tables: docs/model.md.
    """
    # The time limit runs from the process's start (imports included: what the
    # user waits for) when run as ``wfopt``, else from here.
    started = time.perf_counter()
    clock = PROCESS_START if PROCESS_START is not None else started
    mode_or_exit(mode)
    if xlsx and out is None:
        typer.echo("--xlsx | writes results.xlsx into the results directory: give --out DIR",
                   err=True)
        raise typer.Exit(2)
    if out is not None:  # before the solve: a refusal must not cost a solve
        try:
            check_output_folder(out, RESULTS_FOLDER)
        except OutputFolderError as exc:
            typer.echo(f"--out {exc}", err=True)
            raise typer.Exit(2) from None
    timings: dict[str, float] = {}
    inst = load_or_exit(instance, set_, scale, allow_files_outside, timings, for_solve=True)
    inst = choose_scenarios(inst, scenarios, scenario, no_scenarios)
    check_engine(inst, engine, ranks, mode, confidence)
    live = LiveLine(show_progress(quiet, verbose), clock, inst.currency)
    opts = SolveOptions(time_limit=time_limit, mip_gap=mip_gap, threads=threads, seed=seed,
                        mode=mode, verbose=verbose, started=clock,
                        progress=live if live.show else None)
    try:
        effective_options(inst, opts)  # options that do not fit the instance: exit 2
    except ValueError as exc:
        typer.echo(bounded(f"options | {exc}", 1000), err=True)
        raise typer.Exit(2) from None
    unwritten = None
    client = connect_dask(dask) if dask and inst.scenarios is not None else None
    try:
        with live, stdout_to_stderr():
            result = solve_or_scenarios(inst, opts, timings, engine, ranks, mpiexec,
                                        ph_iterations, ph_rho, confidence, confidence_seed,
                                        workers, client)
            if out is not None:
                live.stage("writing the results")
                unwritten = write_results(result, out, xlsx)
    except InputError as exc:
        fail_input(exc.problems)
        raise
    except ModelError as exc:
        typer.echo(bounded(exc, 1000), err=True)
        typer.echo("the instance's numbers cannot be solved together; nothing was solved.",
                   err=True)
        raise typer.Exit(2) from None
    except TooLarge as exc:
        typer.echo(bounded(f"{instance} | {exc}", 1000), err=True)
        raise typer.Exit(2) from None
    finally:
        if client is not None:
            client.close()
    total = time.perf_counter() - started
    if as_json:
        typer.echo(json.dumps(result.summary(), indent=2))
    else:
        print_summary(result, explain=explain)
        print_scenarios(result)
        if out is not None and unwritten is None:
            typer.echo(f"results written to {out}")
    if profile:
        print_profile(result, total, started, err=as_json)
    if unwritten is not None:
        typer.echo(unwritten, err=True)
        raise typer.Exit(2 if unwritten.startswith("--out") else 1)
    raise typer.Exit(0 if result.has_plan else 1)


@contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """While a command computes, what is written to the process's stdout goes to
    stderr: stdout carries only what the command promises (the summary, or pure
    JSON with ``--json``). Why at the descriptor: HiGHS writes its log
    (``--verbose``) with C's ``printf``, past Python's ``sys.stdout``, and the
    ph engine's MPI ranks inherit the descriptor. HiGHS flushes each log line,
    and Python's buffer is flushed before the descriptor is given back."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no stdout at all: nothing to keep clean
        yield
        return
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def solve_or_scenarios(inst: Instance, opts: SolveOptions, timings: dict[str, float],
                       engine: str, ranks: int, mpiexec: str, ph_iterations: int,
                       ph_rho: float | None, confidence: int | None,
                       confidence_seed: int | None, workers: int, client: Any) -> Result:
    """The plan: one deterministic solve, or under the instance's scenarios by the
    extensive form or progressive hedging (with the out-of-sample estimate when
    asked), their independent solves on ``client`` (Dask) when given."""
    if inst.scenarios is None:
        return run_solve(inst, opts, timings)
    from optimiser.engine.scenarios import solve_scenarios

    if engine == "ph":
        result = run_ph(inst, opts, timings, ranks, mpiexec, ph_iterations, ph_rho)
    else:
        result = solve_scenarios(inst, opts, timings, workers=workers, client=client)
    if confidence is not None and result.has_plan:
        add_confidence(result, inst, opts, confidence, confidence_seed, workers, client)
    return result


def check_engine(inst: Instance, engine: str, ranks: int, mode: str | None,
                 confidence: int | None) -> None:
    """Refuse, exit 2, what the chosen engine cannot do: before any solve."""
    if engine not in ("ef", "ph"):
        typer.echo(f"--engine | must be ef or ph, got {engine!r}", err=True)
        raise typer.Exit(2)
    problems = []
    if engine == "ph" and inst.scenarios is None:
        problems.append("--engine ph | plans under scenarios: give --scenarios FILE")
    if engine == "ef" and ranks != 1:
        problems.append("--ranks | is for --engine ph (the extensive form runs in this "
                        "process; --workers spreads its WS and EEV solves)")
    if confidence is not None and (inst.scenarios is None or inst.scenarios.sample is None):
        problems.append("--confidence | needs a sampled scenario set (scenarios.sample): "
                        "fresh futures are drawn like it")
    if engine == "ph" and inst.scenarios is not None:
        from optimiser.engine.ph import ph_missing, ph_problems

        missing = ph_missing()
        if missing:
            problems.append(f"--engine ph | {missing}")
        problems += [str(p) for p in ph_problems(inst, ranks, mode or inst.objective.mode)]
    if problems:
        for p in problems:
            typer.echo(bounded(p, 1000), err=True)
        raise typer.Exit(2)


def run_ph(inst: Instance, opts: SolveOptions, timings: dict[str, float], ranks: int,
           mpiexec: str, iterations: int, rho: float | None) -> Result:
    """The ph engine; a failed MPI job is one line on stderr, exit 1."""
    from optimiser.engine.ph import PHFailed, solve_ph

    try:
        return solve_ph(inst, opts, timings, ranks=ranks, mpiexec=mpiexec,
                        iterations=iterations, rho=rho)
    except PHFailed as exc:
        typer.echo(bounded(str(exc), 1000), err=True)
        raise typer.Exit(2 if str(exc).startswith("--mpiexec") else 1) from None


def add_confidence(result: Result, inst: Instance, opts: SolveOptions, count: int,
                   seed: int | None, workers: int, client) -> None:
    """The plan's expected shortfall on ``count`` fresh futures, with its 95%
    confidence interval, into ``result.stochastic["out_of_sample"]``."""
    from optimiser.engine.confidence import out_of_sample, plan_decisions

    o = effective_options(inst, opts)
    deadline = None
    if o["time_limit"] is not None:
        deadline = (opts.started or time.perf_counter()) + o["time_limit"]
    seed = inst.scenarios.sample.seed + 1 if seed is None else seed
    est = out_of_sample(inst, plan_decisions(result), count, seed, o, workers, client,
                        deadline)
    result.stochastic = {**(result.stochastic or {}), "out_of_sample": est}


def write_results(result: Result, out: Path, xlsx: bool) -> str | None:
    """Write the results directory; None when done, else the one line that says
    why not. The summary is printed either way (after this), so that a full
    disk does not lose the plan: the caller exits 1."""
    try:
        result.write(out, xlsx=xlsx)  # records timings["write"] itself, before summary.json
    except OutputFolderError as exc:  # the folder changed while the plan was solved
        return bounded(f"--out {exc}", 1000)
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        return bounded(f"{out} | the results could not be written: {why}; nothing was "
                       "written there (the summary above is the plan)", 1000)
    return None


def process_age() -> float:
    """Seconds since this process started (interpreter start and imports
    included); 0 when the system does not say."""
    try:
        import psutil

        return max(time.time() - psutil.Process().create_time(), 0.0)
    except Exception:  # no process table (a sandbox): count from now
        return 0.0


def print_profile(result: Result, total: float, started: float, err: bool) -> None:
    """The ``--profile`` table (:mod:`optimiser.engine.profile`); ``started`` is the
    ``perf_counter`` at the start of the run, for the interpreter's start-up time."""
    import psutil

    from optimiser.engine.profile import peak_memory_bytes, profile_table

    # Seconds from process creation to the run: interpreter start and imports.
    startup = max(time.time() - (time.perf_counter() - started)
                  - psutil.Process().create_time(), 0.0)
    typer.echo("", err=err)
    typer.echo(profile_table(result.timings, result.model_size, total, peak_memory_bytes(),
                             startup), err=err)


@app.command(cls=Command)
def report(
    results_dir: Annotated[Path, typer.Argument(metavar="RESULTS_DIR", help="Results "
                                                "directory written by 'wfopt solve --out'.",
                                                show_default=False)],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="FILE", help="HTML file to write. Default: report.html "
        "in the results directory.")] = None,
) -> None:
    """Write the plan's HTML report.

    One self-contained page: it opens offline, with its charts inline.
    """
    from optimiser.report.page import ResultsView, write_report

    target = output or results_dir / "report.html"
    problems = []
    try:
        view = ResultsView.from_dir(results_dir)
    except InputError as exc:
        problems = exc.problems
    if target.is_dir():
        problems.append(f"--output {target} | is a directory, not a file")
    if problems:
        for p in problems:
            typer.echo(str(p), err=True)
        raise typer.Exit(2)
    path = write_report(view, target)
    typer.echo(f"report written to {path}")


ResultsDirArg = Annotated[Path, typer.Argument(
    metavar="RESULTS_DIR", help="Results directory written by 'wfopt solve --out'.",
    show_default=False)]


@app.command(cls=Command, name="explain")
def explain_results(results_dir: ResultsDirArg) -> None:
    """Print why the shortfall remains: every reason in full.

    Reads the results directory's summary.json; the reasons come the largest
    marginal value first (what one more unit of the limit a reason names would
    remove), as in the summary of 'wfopt solve', which shows five. Without a
    plan, why no plan exists (docs/explaining-the-plan.md). Exit 2 when the
    directory holds no results.
    """
    from optimiser.report.page import read_summary

    try:
        summary = read_summary(results_dir)
    except InputError as exc:
        for p in exc.problems:
            typer.echo(str(p), err=True)
        raise typer.Exit(2) from None
    for line in explain_lines(summary):
        typer.echo(line)


@app.command(cls=Command)
def convert(
    source: Annotated[Path, typer.Argument(
        metavar="IN", help="Instance to read: YAML or JSON (with its CSV files) or a "
        "workbook (.xlsx).", show_default=False)],
    target: Annotated[Path, typer.Argument(
        metavar="OUT", help="File to write: a workbook (.xlsx), or YAML (.yaml) with one CSV "
        "file per list section beside it.", show_default=False)],
    set_: SetOpt = None,
    scale: ScaleOpt = None,
) -> None:
    """Convert an instance between YAML (with CSV files) and an Excel workbook.

    The workbook has a README sheet, an 'instance' sheet of key, value rows and
    one sheet per list section with the CSV files' columns
    (docs/planners.md). The written file is read back and must give the same
    instance. Exit 2 for an invalid instance or output name.
    """
    from optimiser.instance.convert import convert as run_convert
    from optimiser.instance.workbook import ConversionError

    overrides = parse_overrides(set_, scale)
    if target.suffix.lower() not in (".xlsx", ".yaml", ".yml"):
        typer.echo(f"{target} | write .xlsx (a workbook) or .yaml (YAML with CSV files beside "
                   "it)", err=True)
        raise typer.Exit(2)
    if target.resolve() == source.resolve():
        typer.echo(f"{target} | is the file being read; name another", err=True)
        raise typer.Exit(2)
    if target.is_dir():
        typer.echo(f"{target} | is a directory, not a file", err=True)
        raise typer.Exit(2)
    try:
        inst, written = run_convert(source, target, overrides)
    except InputError as exc:
        fail_input(exc.problems)
        raise
    except ConversionError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(describe(inst))
    typer.echo(f"instance written to {written}")


@app.command(cls=Command)
def export(
    results_dir: ResultsDirArg,
    target: Annotated[Path, typer.Argument(
        metavar="OUT.xlsx", help="Workbook to write (atomically).", show_default=False)],
) -> None:
    """Write a results directory as one Excel workbook.

    One sheet per result table and a summary sheet, as 'wfopt solve --xlsx'
    writes; the same results give the same bytes (docs/planners.md).
    """
    from optimiser.report.page import ResultsView
    from optimiser.results.workbook import write_results_workbook

    problems: list = []
    try:
        ResultsView.from_dir(results_dir)  # checks the folder holds readable results
    except InputError as exc:
        problems = exc.problems
    if target.suffix.lower() != ".xlsx":
        problems.append(f"{target} | must end in .xlsx")
    elif target.is_dir():
        problems.append(f"{target} | is a directory, not a file")
    if problems:
        for p in problems:
            typer.echo(str(p), err=True)
        raise typer.Exit(2)
    path = write_results_workbook(results_dir, target)
    typer.echo(f"workbook written to {path}")


class ManyCommand(Command):
    """A :class:`Command` whose last argument takes several values: its usage
    piece ``{OTHER}...`` reads ``OTHER...``."""

    def collect_usage_pieces(self, ctx) -> list[str]:
        return [p[1:].replace("}...", "...", 1) if p.startswith("{") and p.endswith("}...")
                else p for p in super().collect_usage_pieces(ctx)]


@app.command(cls=ManyCommand)
def compare(
    base: Annotated[Path, typer.Argument(
        metavar="BASE", help="Results directory of the plan to compare against.",
        show_default=False)],
    others: Annotated[list[Path], typer.Argument(
        metavar="OTHER", help="Results directories of the other plans (what-ifs).",
        show_default=False)],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="FILE", help="Also write the comparison as one "
        "self-contained HTML page with charts.")] = None,
) -> None:
    """Compare plans side by side, the first as the base.

    Prints status, weighted shortfall and cost, shortfall by target and year,
    spend by lever and by pot, staff and vacancies by region in the last plan
    year, each with its difference from the base (docs/planners.md). Exit 2 when
    a directory holds no results, or the plans have different horizons or staff
    groups.
    """
    from optimiser.report.compare import compare as run_compare
    from optimiser.report.compare import format_comparison, write_comparison

    if output is not None and output.is_dir():
        typer.echo(f"--output {output} | is a directory, not a file", err=True)
        raise typer.Exit(2)
    try:
        cmp = run_compare(base, *others)
    except InputError as exc:
        for p in exc.problems:
            typer.echo(str(p), err=True)
        raise typer.Exit(2) from None
    typer.echo(format_comparison(cmp))
    if output is not None:
        path = write_comparison(cmp, output)
        typer.echo(f"comparison written to {path}")


def run_solve(inst: Instance, opts: SolveOptions, timings: dict[str, float]) -> Result:
    return solve_instance(inst, opts, timings=timings)


@app.command(cls=Command)
def sweep(
    instance: InstanceArg,
    out: Annotated[Path, typer.Option(
        "--out", "-o", metavar="DIR", help="Sweep folder, written atomically: sweep.csv, "
        "sweep_timings.csv, frontier.png and points/NNN/ (each point's results).",
        show_default=False)],
    set_grid: Annotated[list[str] | None, typer.Option(
        "--set-grid", metavar="KEY=V1,V2,...", help="Sweep a key over values, e.g. "
        "budgets.hee.per_year=2e8,2.5e8,3e8 (keys as for --set). Repeatable: every "
        "combination is solved.")] = None,
    scale_grid: Annotated[list[str] | None, typer.Option(
        "--scale-grid", metavar="KEY=F1,F2,...", help="Sweep a factor on every number "
        "under KEY, e.g. budgets=0.8,1,1.2. Repeatable.")] = None,
    workers: Annotated[int | None, typer.Option(
        metavar="N", help="Points solved side by side (processes here, or chains on the "
        "Dask cluster). Default: the number of cores (or the cluster's threads).",
        min=1)] = None,
    dask: Annotated[str | None, typer.Option(
        "--dask", metavar="ADDRESS", help="Solve on an existing Dask cluster: its "
        "scheduler's address, e.g. tcp://scheduler:8786.")] = None,
    no_point_tables: Annotated[bool, typer.Option(
        "--no-point-tables", help="Write sweep.csv and frontier.png only, not each "
        "point's tables (for big sweeps).")] = False,
    no_reuse: Annotated[bool, typer.Option(
        "--no-reuse", help="Solve every point from scratch, not started from the "
        "previous point's plan.")] = False,
    time_limit: Annotated[float | None, typer.Option(metavar="SECONDS", help="Time for "
                                                     "each point.", min=0.001)] = None,
    mip_gap: Annotated[float | None, typer.Option(metavar="GAP", help="Relative MIP gap, "
                                                  "e.g. 1e-4.", min=0.0)] = None,
    threads: Annotated[int | None, typer.Option(metavar="N", help="HiGHS threads per "
                                                "point (default 1).", min=1)] = None,
    seed: Annotated[int | None, typer.Option(metavar="N", help="HiGHS random seed.",
                                             min=0)] = None,
    mode: Annotated[str | None, typer.Option(metavar="MODE", help=MODE_HELP)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar on the "
                                        "terminal while it solves.")] = False,
    set_: SetOpt = None,
    scale: ScaleOpt = None,
) -> None:
    """Solve a grid of changes to an instance, one plan per point.

    Writes one row per point (sweep.csv), the frontier plot (frontier.png) and
    each point's tables; docs/sweeps.md describes them. --set and --scale apply
    to every point before the grid's values. Exit 0 when every point has a plan,
    1 when some have none (their rows say why), 2 for invalid input.
    """
    from optimiser.sweep.run import axes_from_options
    from optimiser.sweep.run import sweep as run_sweep

    mode_or_exit(mode)
    overrides = parse_overrides(set_, scale)
    try:
        axes = axes_from_options(set_grid or [], scale_grid or [])
    except InputError as exc:
        fail_input(exc.problems)
    opts = SolveOptions(time_limit=time_limit, mip_gap=mip_gap, threads=threads, seed=seed,
                        mode=mode)
    client = connect_dask(dask) if dask else None
    try:
        frame = run_sweep(instance, axes, opts, workers=workers, client=client, out=out,
                          write_points=not no_point_tables, overrides=overrides,
                          reuse=not no_reuse, progress=False if quiet else None)
    except InputError as exc:
        fail_input(exc.problems)
    except OutputFolderError as exc:
        typer.echo(f"--out {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        if client is not None:
            client.close()
    print_sweep(frame, [a.column for a in axes])
    typer.echo(f"sweep written to {out}")
    raise typer.Exit(0 if frame["status"].isin(["optimal", "feasible"]).all() else 1)


def connect_dask(address: str):
    """A client of the Dask scheduler at ``address``; exit 2 if it cannot be reached."""
    from distributed import Client

    try:
        return Client(address, timeout="10s")
    except Exception as exc:  # any failure to connect is a usage error, one line
        typer.echo(f"--dask {address} | cannot connect: {type(exc).__name__}: {exc}",
                   err=True)
        raise typer.Exit(2) from None


def print_sweep(frame, columns: list[str], most: int = 40) -> None:
    """The sweep's rows: point, swept values, status, W and C."""
    from optimiser.sweep.grid import format_value

    for _, r in frame.head(most).iterrows():
        values = "  ".join(f"{c}={format_value(r[c])}" for c in columns)
        w = "-" if r["status"] not in ("optimal", "feasible") else \
            f"W {r['weighted_shortfall']:,.2f} FTE  C {money(r['total_cost'])}"
        typer.echo(f"{r['point']:>4}  {values}  {r['status']:<11} {w}")
    if len(frame) > most:
        typer.echo(f"… {len(frame) - most} more points in sweep.csv")


DEBUG = False
"""Whether ``--debug`` was given: internal errors show their traceback."""

ARGV_DEBUG = False
"""``--debug`` found by the console script anywhere on its command line."""

PROCESS_START: float | None = None
"""``time.perf_counter()`` at the process's start, set by :func:`main` (the
console script), where the time limit starts to run."""


@app.callback()
def main_options(debug: Annotated[bool, typer.Option(
        "--debug", help="Show the traceback of an internal error (a fault in wfopt, to "
        "report), not only its one line. May also follow the command.")] = False) -> None:
    global DEBUG
    # Per invocation: --debug of an earlier command in this process (a test, a
    # notebook) does not carry over; the console script's own --debug does.
    DEBUG = debug or ARGV_DEBUG or bool(os.environ.get("WFOPT_DEBUG"))


INTERNAL_ERROR = ("internal error: {what}. This is a fault in wfopt, not in the input: "
                  "please report it to the wfopt maintainers with the command, the instance "
                  "and the output of the same command with --debug (which shows the "
                  "traceback).")


def main() -> None:
    """Console entry point: an unexpected failure is reported in one line that
    says how to report it, exit 1 (``--debug`` or ``WFOPT_DEBUG=1`` shows the
    traceback); input problems never reach here."""
    global DEBUG, PROCESS_START, ARGV_DEBUG
    PROCESS_START = time.perf_counter() - process_age()
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    if "--debug" in argv[:cut]:  # anywhere before "--": after the command as well
        DEBUG = ARGV_DEBUG = True
        sys.argv[1:] = [a for a in argv[:cut] if a != "--debug"] + argv[cut:]
    DEBUG = DEBUG or bool(os.environ.get("WFOPT_DEBUG"))
    if not DEBUG:
        import logging

        # Pyomo logs the error it is about to raise (several lines); the raise
        # is reported below, in one.
        logging.getLogger("pyomo").setLevel(logging.CRITICAL)
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except SystemExit as exc:
        if exc.code == 130:  # typer turns Ctrl-C in a command into a silent exit 130
            typer.echo("interrupted", err=True)
        raise
    except BrokenPipeError:  # ``wfopt solve … | head``: the reader left
        with_devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(with_devnull, sys.stdout.fileno())
        sys.exit(1)
    except Exception as exc:  # the last line of defence for the CLI
        if DEBUG:
            raise
        what = bounded(f"{type(exc).__name__}: {exc}", 300)
        typer.echo(INTERNAL_ERROR.format(what=what), err=True)
        sys.exit(1)
    finally:
        # A later command run in the same process (a test, a notebook calling
        # main() again) must not inherit this run's clock or --debug.
        PROCESS_START = None
        DEBUG = ARGV_DEBUG = False


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
