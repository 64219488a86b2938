"""The instance schema (SPEC §3) as pydantic models.

Every model forbids unknown keys and is frozen once validated. Each field's
docstring (the string literal under it) is its documentation: units, range and
default. It becomes the field's ``description`` in the JSON Schema exported by
``wfopt schema`` and is checked against ``docs/instance-format.md`` by the tests.

Only checks that concern a single field or a single item live here; checks that
cross sections (unknown ids, years outside the horizon) live in
``optimiser.instance.checks`` so that all problems are collected and reported together.
"""

from __future__ import annotations

import builtins
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

MAX_AMOUNT = 1e12
"""The largest amount of money (and any other number without a tighter limit) an
instance may hold. Money enters the model as coefficients and bounds; HiGHS
refuses a model with a coefficient of 1e15 or more. (docs/instance-format.md,
"Safety limits".)"""

MAX_FTE = 1e9
"""The largest number of staff, places, recruits or returners a field may hold:
far above any health service, and small enough that one FTE still shows against
the solver's tolerances."""

FTE_FIELDS = frozenset({
    "fte", "joiners", "posts", "min_cohort", "max_places_per_year", "committed",
    "max_increase", "max_decrease", "pool", "max_per_year", "max_total", "required",
})
""":data:`NonNeg` fields counted in FTE or places, held to :data:`MAX_FTE`; every
other one (money, weights, tolerances) to :data:`MAX_AMOUNT`."""


def _within_limit(value: float, info: ValidationInfo) -> float:
    """An upper limit by field (not ``Field(le=…)``, which would turn a negative
    value's message into a range, ``must be in [0, 1e12]``, rather than ``≥ 0``)."""
    fte = info.field_name in FTE_FIELDS
    limit = MAX_FTE if fte else MAX_AMOUNT
    if value > limit:
        what = "1e9 for FTE and places" if fte else "1e12 for amounts"
        got = f"{value:.4g}".replace("e+", "e").replace("e0", "e")
        raise ValueError(f"must be at most {what}, the most the model solves reliably; "
                         f"got {got}")
    return value


Rate01 = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
"""A rate or share in [0, 1]."""

RateOpen01 = Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)]
"""A rate in (0, 1]."""

NonNeg = Annotated[float, Field(ge=0.0, allow_inf_nan=False), AfterValidator(_within_limit)]
"""A non-negative, finite number: at most :data:`MAX_FTE` in the fields of
:data:`FTE_FIELDS`, at most :data:`MAX_AMOUNT` in the others."""

Identifier = Annotated[str, Field(min_length=1, pattern=r"^[^\s;:,.]+$")]
"""An id: non-empty, no spaces, and none of ``; : , .`` (they are separators in
CSV cells and override keys)."""

PlacementRule = Literal["need", "posts", "staff", "free"]
"""A named placement rule (SPEC §2.14)."""

Placement = PlacementRule | dict[Annotated[str, Field(min_length=1)], NonNeg]
"""A lever's placement: a named rule, or the planner's own weights ``{unit: weight}``."""

Breakpoints = Annotated[list[tuple[NonNeg, NonNeg]], Field(min_length=2)]
"""A piecewise-linear response ``[[spend, effect], ...]`` starting at ``[0, 0]``."""


class Strict(BaseModel):
    """Base of every schema model: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


MAX_RUN_OUT = 60
"""The most run-out years ``horizon.run_out`` may give (as many as plan years)."""


class Horizon(Strict):
    """The planning horizon: a base year and the plan years after it."""

    base_year: int = Field(ge=1900, le=2200)
    """Base year ``b`` (the financial year starting in ``b``). The workforce baseline
    is the staff in post at the end of this year. Required."""

    years: int = Field(ge=1, le=60)
    """Number of plan years ``T`` (1 to 60); plan years are ``b+1 … b+T``. Required."""

    run_out: Annotated[int, Field(ge=0, le=MAX_RUN_OUT)] | Literal["auto"] = "auto"
    """Run-out years ``R`` after the plan (SPEC §2.15), 0 to 60, or ``auto``: the
    longest training ``duration`` when some target has ``hold: true``, else 0. In
    run-out years every lever decision keeps its last plan year's value and held
    targets still count, so that a course whose graduates qualify after the plan
    is not cut for that reason alone. ``0`` is the plain horizon. Default auto."""

    @field_validator("run_out", mode="before")
    @classmethod
    def _whole_years(cls, v: Any) -> Any:
        # One message for every wrong value (pydantic's own would list the union's
        # two branches); a whole float (2.0, from a workbook cell) is accepted.
        if v == "auto" and isinstance(v, str):
            return v
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_RUN_OUT:
            raise ValueError(f"must be a whole number of years from 0 to {MAX_RUN_OUT} or "
                             f"'auto', got {v!r}")
        return v


class StaffGroup(Strict):
    """A staff group (profession or role)."""

    id: Identifier
    """Unique id of the group, referenced by workforce rows, levers and targets. Required."""

    name: str | None = None
    """Readable name. Optional; defaults to the id."""

    leaver_rate: Rate01 = 0.0
    """Annual leaver rate λ (share of staff in post who leave in a year, all exits,
    retirement included), in [0, 1]. Used for units whose workforce row gives none.
    Default 0."""


class Unit(Strict):
    """An organisation (for example an NHS trust) in one region."""

    id: Identifier
    """Unique id of the unit. Required."""

    name: str | None = None
    """Readable name. Optional; defaults to the id."""

    region: Identifier
    """Region the unit belongs to. Regions exist through their units. Required."""


class WorkforceRow(Strict):
    """Baseline staff in post of one group in one unit."""

    unit: str
    """Unit id. Required."""

    group: str
    """Staff group id. Required."""

    fte: NonNeg
    """Staff in post at the end of the base year, FTE, ≥ 0. Required."""

    leaver_rate: Rate01 | None = None
    """Annual leaver rate λ[u,g] in [0, 1]. Optional; defaults to the group's rate."""

    joiners: NonNeg = 0.0
    """Exogenous joiners J[u,g] not created by any lever, FTE per year, ≥ 0. Default 0."""

    posts: NonNeg | None = None
    """Funded posts (establishment) of the group in the unit at the end of the base
    year, FTE, ≥ 0. Optional: without it (and without ``posts`` rows for the pair)
    the unit has no limit on the group. Staff in post may not exceed
    ``max(posts, natural path)`` (docs/model.md, "Posts and vacancies")."""


class PostsRow(Strict):
    """Funded posts of one group in one unit from a plan year on."""

    unit: str
    """Unit id. Required."""

    group: str
    """Staff group id. Required."""

    year: int
    """Plan year from which the value holds (until a later row for the same unit
    and group). Required."""

    posts: NonNeg
    """Funded posts (establishment), FTE, ≥ 0. Required."""


class Supervision(Strict):
    """Supervision capacity limiting trainees in training."""

    group: str
    """Supervising staff group g_s. Required."""

    max_trainees_per_fte: float = Field(gt=0.0)
    """Most trainees in training per FTE of the supervising group in the programme's
    units at the end of the previous year, > 0. Required."""


class TrainingProgramme(Strict):
    """An education programme producing staff of one group (docs/model.md, Training)."""

    id: Identifier
    """Unique id of the programme. Required."""

    name: str | None = None
    """Readable name. Optional."""

    group: str
    """Staff group its graduates join. Required."""

    from_group: str | None = None
    """For upskilling: the group trainees come from; graduates leave it and join
    ``group`` in the same unit. Optional."""

    region: str | None = None
    """Region whose units graduates may join. Optional; default any unit."""

    duration: int = Field(ge=1, le=15)
    """Course length ℓ in years, 1 to 15. Entrants starting in year y join in y+ℓ.
    Required."""

    completion_rate: RateOpen01
    """Share of entrants who complete, c ∈ (0, 1]. Required."""

    employment_rate: RateOpen01 = 1.0
    """Share of completers who take a post, κ ∈ (0, 1]. Default 1."""

    cost_per_place_year: NonNeg = 0.0
    """Cost of one commissioned place for one year of the course, currency, ≥ 0.
    Charged in every year the place is in training. Default 0."""

    cohort_fixed_cost: NonNeg = 0.0
    """Fixed cost of running a cohort in an intake year, currency, ≥ 0. Default 0.
    Needs ``max_places_per_year``."""

    min_cohort: NonNeg = 0.0
    """Smallest cohort that may run: a course runs with 0 or at least this many
    places, ≥ 0. Default 0. Needs ``max_places_per_year``."""

    max_places_per_year: NonNeg | None = None
    """Most places starting in one year, ≥ 0. Optional (no cap); required when
    ``min_cohort`` or ``cohort_fixed_cost`` is positive."""

    integer_places: bool = True
    """Whether places are whole numbers. Default true."""

    intake_years: list[int] | None = None
    """Plan years in which new cohorts may start. Optional; default every plan year."""

    committed: dict[int, NonNeg] = Field(default_factory=dict)
    """Entrants already in training, ``{start_year: entrants}`` with start years ≤ the
    base year; they graduate on the same terms and cost nothing more. Default none."""

    max_increase: NonNeg | None = None
    """Most the intake may grow from one year to the next, places per year, ≥ 0.
    The first plan year is measured against the committed entrants of the base
    year (0 when not given); a year outside the intake years counts as 0 places.
    Optional; default no limit."""

    max_decrease: NonNeg | None = None
    """Most the intake may fall from one year to the next, places per year, ≥ 0
    (measured as ``max_increase``; a gap in the intake years is itself a
    decrease). Optional; default no limit."""

    supervision: Supervision | None = None
    """Supervision capacity. Optional; default unlimited."""

    pot: str | None = None
    """Budget pot charged. Optional; default ``main``."""

    placement: Placement | None = None
    """Where its graduates go among the units of its scope (SPEC §2.14): ``need``
    (shares by the posts each unit cannot fill on its natural path), ``posts``,
    ``staff`` (baseline staff), ``free`` (the solver chooses), or a mapping
    ``{unit: weight}`` (CSV cell ``u1:2;u2:1``; units of the scope, weights ≥ 0,
    not all 0). Default: the instance's ``placement``."""


class ReturnToPractice(Strict):
    """A return-to-practice campaign (docs/model.md, Return to practice)."""

    id: Identifier
    """Unique id of the campaign. Required."""

    name: str | None = None
    """Readable name. Optional."""

    group: str
    """Staff group returners join. Required."""

    pool: NonNeg
    """Most returners over the whole horizon, FTE, ≥ 0. Required."""

    response: Breakpoints
    """Returners per year against campaign spend per year,
    ``[[spend, returners], ...]``: starts at ``[0, 0]``, spends strictly increasing,
    concave (slopes non-increasing). Spend is capped at the last breakpoint. Required."""

    cost_per_returner: NonNeg = 0.0
    """Cost per returner (course, placement), currency, ≥ 0. Default 0."""

    fixed_cost: NonNeg = 0.0
    """Fixed cost in each year the campaign is active, currency, ≥ 0. Default 0."""

    region: str | None = None
    """Region whose units returners may join. Optional; default any unit."""

    pot: str | None = None
    """Budget pot charged. Optional; default ``main``."""

    placement: Placement | None = None
    """Where its returners go among the units of its scope (SPEC §2.14): ``need``
    (shares by the posts each unit cannot fill on its natural path), ``posts``,
    ``staff`` (baseline staff), ``free`` (the solver chooses), or a mapping
    ``{unit: weight}`` (CSV cell ``u1:2;u2:1``; units of the scope, weights ≥ 0,
    not all 0). Default: the instance's ``placement``."""


class TopLeaverRate(Strict):
    """Eligibility by leaver rate."""

    top_leaver_rate: int = Field(ge=1)
    """The n units with the highest FTE-weighted baseline leaver rate over the
    scheme's groups (ties broken by unit id), n ≥ 1."""


class RetentionScheme(Strict):
    """A retention programme for high-leaver units (docs/model.md, Retention)."""

    id: Identifier
    """Unique id of the scheme. Required."""

    name: str | None = None
    """Readable name. Optional."""

    eligible: list[str] | TopLeaverRate
    """Units that may be funded: a list of unit ids, or ``{top_leaver_rate: n}``.
    Required."""

    groups: list[str] | None = None
    """Staff groups whose leavers the scheme retains. Optional; default all groups."""

    max_retained_share: Rate01 = 1.0
    """Most of a unit's leavers (per group and year) the scheme can retain, ρ ∈ [0, 1].
    Default 1."""

    response: Breakpoints
    """Retained FTE per year against funding per year, both **per 1,000 baseline FTE**
    of the unit in the scheme's groups: ``[[spend, retained_fte], ...]``, starting
    ``[0, 0]``, spends strictly increasing, concave. Funding is capped at the last
    breakpoint (scaled by unit size). Required."""

    fixed_cost: NonNeg = 0.0
    """Fixed cost per funded unit-year, currency, ≥ 0. Default 0."""

    min_funding: NonNeg = 0.0
    """Least funding of a funded unit-year, currency, ≥ 0. Default 0."""

    max_units_per_year: int | None = Field(default=None, ge=0)
    """Most units funded in one year, ≥ 0. Optional; default no limit."""

    pot: str | None = None
    """Budget pot charged. Optional; default ``main``."""


class InternationalRoute(Strict):
    """An international recruitment route (docs/model.md, International recruitment)."""

    id: Identifier
    """Unique id of the route. Required."""

    name: str | None = None
    """Readable name. Optional."""

    group: str
    """Staff group recruits join. Required."""

    cost_per_recruit: NonNeg
    """Cost per recruit (FTE), currency, ≥ 0. Required."""

    max_per_year: NonNeg
    """Most recruits per year, FTE, ≥ 0. Required."""

    max_total: NonNeg | None = None
    """Most recruits over the horizon, FTE, ≥ 0. Optional; default no limit."""

    region: str | None = None
    """Region whose units recruits may join. Optional; default any unit."""

    pot: str | None = None
    """Budget pot charged. Optional; default ``main``."""

    placement: Placement | None = None
    """Where its recruits go among the units of its scope (SPEC §2.14): ``need``
    (shares by the posts each unit cannot fill on its natural path), ``posts``,
    ``staff`` (baseline staff), ``free`` (the solver chooses), or a mapping
    ``{unit: weight}`` (CSV cell ``u1:2;u2:1``; units of the scope, weights ≥ 0,
    not all 0). Default: the instance's ``placement``."""


class Budget(Strict):
    """A funding pot (docs/model.md, Budgets)."""

    id: Identifier
    """Unique id of the pot; levers name it in ``pot``. Required."""

    per_year: NonNeg | dict[int, NonNeg] | None = None
    """Limit on spend in each plan year, currency: one number for every year, or
    ``{year: amount}`` (a missing year is unlimited). Optional; default unlimited."""

    total: NonNeg | None = None
    """Limit on spend over the whole horizon, currency. Optional; default unlimited."""


class Target(Strict):
    """A workforce target (docs/model.md, Targets and deployment to services)."""

    id: Identifier
    """Unique id of the target. Required."""

    label: str | None = None
    """Readable label. Optional."""

    region: str | None = None
    """Scope: a region id. Optional; give at most one of ``region`` and ``unit``;
    neither means national."""

    unit: str | None = None
    """Scope: a unit id. Optional."""

    service: Identifier | None = None
    """Service the staff must be deployed to. Optional; without it every FTE of the
    groups in scope counts."""

    groups: Annotated[list[str], Field(min_length=1)] | Annotated[
        dict[str, NonNeg], Field(min_length=1)
    ]
    """Staff groups that count: a list (each FTE counts 1), or ``{group: weight}``
    where the weight is the FTE each counts for (skill-mix substitution). Required."""

    required: Annotated[dict[int, NonNeg], Field(min_length=1)]
    """Required FTE ``{year: FTE}`` for one or more plan years. Required."""

    priority: NonNeg = 1.0
    """Weight w_k of a shortfall FTE in the objective, ≥ 0. Default 1."""

    hold: bool = False
    """When true, the target also requires its last given value in every later
    plan year: the plan must keep what it reached, not let it lapse after the last
    target year. Default false."""

    fair_share: Identifier | None = None
    """Fair-share group (any label, e.g. ``nurses_by_region``): targets sharing it
    have their largest shortfall rate per year minimised after W, so an
    unavoidable shortfall is spread rather than left on one member. Needs the
    lexicographic mode. Optional."""

    @model_validator(mode="after")
    def _one_scope(self) -> Target:
        if self.region is not None and self.unit is not None:
            raise ValueError("give at most one of region and unit")
        return self


class Scenario(Strict):
    """One future: the instance with its overrides applied (``set`` before ``scale``)."""

    id: Identifier
    """Unique id of the scenario. Required. The first scenario listed is the
    reference scenario."""

    probability: float = Field(gt=0.0, le=1.0)
    """Probability π_s in (0, 1]; the scenarios' probabilities sum to 1. Required."""

    set: dict[str, Any] = Field(default_factory=dict)
    """``{KEY: value}`` overrides with the key syntax of ``--set`` (numbers only:
    a scenario may change numbers, never which items exist). Default none."""

    scale: dict[str, float] = Field(default_factory=dict)
    """``{KEY: factor}`` overrides with the key syntax of ``--scale``. Default none."""


MAX_SAMPLED_SCENARIOS = 100_000
"""Most scenarios a ``sample`` may draw: each one is a copy of the instance."""


class ScenarioSample(Strict):
    """Sampled scenarios: ``count`` futures of probability 1/count, ids ``s1 …
    sN``. Scenario j draws, for each key in the order written (``set`` keys
    first, then ``scale`` keys), one value uniform in ``[lo, hi]`` from
    ``numpy.random.default_rng(seed)``, scenarios in order; every item a ``*``
    key addresses gets the same draw (SPEC §2.13)."""

    count: int = Field(ge=1, le=MAX_SAMPLED_SCENARIOS)
    """Number of scenarios, 1 to 100,000. Required."""

    seed: int = Field(ge=0)
    """Seed of the draw, ≥ 0: the same seed gives the same scenarios on every
    machine. Required."""

    set: dict[str, tuple[float, float]] = Field(default_factory=dict)
    """``{KEY: [lo, hi]}``: each scenario sets KEY (the key syntax of ``--set``) to
    a value drawn in ``[lo, hi]``, lo ≤ hi. Default none."""

    scale: dict[str, tuple[float, float]] = Field(default_factory=dict)
    """``{KEY: [lo, hi]}``: each scenario multiplies every number under KEY by a
    factor drawn in ``[lo, hi]``, lo ≤ hi. Default none."""


class Scenarios(Strict):
    """Planning under uncertainty: a two-stage stochastic plan (docs/model.md,
    Scenarios)."""

    here_and_now_years: int = Field(default=1, ge=1)
    """Plan years whose lever decisions (places, cohorts, campaign spend, retention
    funding, recruits) are decided now and shared by every scenario, ≥ 1 and at
    most the plan years. Default 1."""

    risk: Literal["expected", "worst_case", "cvar"] = "expected"
    """How the scenarios' shortfalls W_s are combined into ρ: ``expected``
    (Σ π_s·W_s), ``worst_case`` (max W_s) or ``cvar`` (the mean of the worst
    1 − cvar_alpha of the distribution). Default expected."""

    cvar_alpha: float | None = Field(default=None, gt=0.0, lt=1.0)
    """Level α in (0, 1) of ``cvar``. Required with ``cvar``, refused otherwise."""

    # builtins.list: inside this class ``list`` is the field (None by default).
    list: Annotated[builtins.list[Scenario], Field(min_length=1)] | None = None
    """The scenarios, in order (inline, or a CSV path with columns ``id,
    probability, op, key, value``). At least one. Either ``list`` or ``sample``."""

    sample: ScenarioSample | None = None
    """Scenarios drawn at random (SPEC §2.13, "Sampled scenarios") in place of
    ``list``."""

    @model_validator(mode="after")
    def _alpha_with_cvar(self) -> Scenarios:
        if self.risk == "cvar" and self.cvar_alpha is None:
            raise ValueError("risk cvar needs cvar_alpha")
        if self.risk != "cvar" and self.cvar_alpha is not None:
            raise ValueError("cvar_alpha is only for risk cvar")
        if (self.list is None) == (self.sample is None):
            raise ValueError("give either list or sample")
        return self


class Objective(Strict):
    """How plans are ranked (docs/model.md, The objective: W and C)."""

    mode: Literal["lexicographic", "weighted"] = "lexicographic"
    """``lexicographic``: minimise weighted shortfall W, then cost C at that W.
    ``weighted``: minimise W + C / value_per_fte. Default lexicographic."""

    value_per_fte: float | None = Field(default=None, gt=0.0)
    """Worth of closing one FTE-year of weighted shortfall, currency, > 0. Required
    in weighted mode."""

    rel_tol: NonNeg = 1.0e-6
    """Lexicographic stage 2 keeps W ≤ W₁ + max(abs_tol, rel_tol·W₁). Default 1e-6."""

    abs_tol: NonNeg = 1.0e-6
    """See ``rel_tol``; FTE. Default 1e-6."""

    @model_validator(mode="after")
    def _weighted_needs_value(self) -> Objective:
        if self.mode == "weighted" and self.value_per_fte is None:
            raise ValueError("weighted mode needs value_per_fte")
        return self


class SolverOptions(Strict):
    """HiGHS options (docs/model.md); the command line overrides them."""

    time_limit: float | None = Field(default=None, gt=0.0)
    """Wall-clock limit for the whole solve (both stages), seconds, > 0. In
    lexicographic mode stage 1 may use 80% of it, and stage 2 the rest. Optional;
    default none."""

    mip_gap: NonNeg = 1.0e-4
    """Relative MIP gap at which a stage stops. Default 1e-4."""

    threads: int | None = Field(default=None, ge=1)
    """HiGHS threads, ≥ 1. Optional; default HiGHS's choice (half the machine's
    hardware threads) but at least two where the solve may use two cores. HiGHS
    searches on one thread either way; a second runs its root's analytic centre
    beside the root LP (the same plans on one or two threads, measured)."""

    seed: int = Field(default=0, ge=0)
    """HiGHS random seed, ≥ 0. Default 0."""


class Instance(Strict):
    """A workforce-planning instance (docs/instance-format.md)."""

    name: str
    """Name of the instance. Required."""

    description: str | None = None
    """Free text. Optional."""

    currency: str = "GBP"
    """Currency of every amount (in units, not thousands). Default GBP."""

    horizon: Horizon
    """Base year and plan years. Required."""

    staff_groups: Annotated[list[StaffGroup], Field(min_length=1)]
    """Staff groups (inline list or CSV). Required, at least one."""

    units: Annotated[list[Unit], Field(min_length=1)]
    """Units (inline list or CSV). Required, at least one."""

    workforce: list[WorkforceRow] = Field(default_factory=list)
    """Baseline staff in post, one row per (unit, group) (inline list or CSV). A
    (unit, group) with no row starts at 0 FTE with the group's leaver rate."""

    posts: list[PostsRow] = Field(default_factory=list)
    """Funded posts in plan years, one row per (unit, group, year) (inline list or
    CSV). A row holds from its year until the next row of the same pair; the
    workforce row's ``posts`` is the base-year value. Default none."""

    training: list[TrainingProgramme] = Field(default_factory=list)
    """Training programmes (inline list or CSV). Default none."""

    return_to_practice: list[ReturnToPractice] = Field(default_factory=list)
    """Return-to-practice campaigns (inline list or CSV). Default none."""

    retention: list[RetentionScheme] = Field(default_factory=list)
    """Retention schemes (inline list or CSV). Default none."""

    international: list[InternationalRoute] = Field(default_factory=list)
    """International recruitment routes (inline list or CSV). Default none."""

    budgets: list[Budget] = Field(default_factory=list)
    """Funding pots (inline list or CSV). Default none: spending unlimited."""

    targets: list[Target] = Field(default_factory=list)
    """Targets (inline list or CSV, one row per target-year). Default none."""

    placement: PlacementRule = "need"
    """Where new staff go among the units of a lever's scope (SPEC §2.14), for
    every programme, campaign and route without its own ``placement``: ``need``
    (default: shares by the posts each unit cannot fill on its natural path, with
    the fallback need → posts → staff → equal shares), ``posts`` (shares by funded
    posts), ``staff`` (by baseline staff) or ``free`` (the solver chooses, the
    behaviour before placement)."""

    objective: Objective = Field(default_factory=Objective)
    """Objective mode. Default lexicographic."""

    solver: SolverOptions = Field(default_factory=SolverOptions)
    """Solver options. Default HiGHS defaults with a 1e-4 gap."""

    scenarios: Scenarios | None = None
    """Scenarios for a stochastic plan. Optional; without them the plan is
    deterministic."""

    @field_validator("currency")
    @classmethod
    def _currency_code(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        return v

    @property
    def years(self) -> list[int]:
        """Plan years ``b+1 … b+T``."""
        b = self.horizon.base_year
        return list(range(b + 1, b + self.horizon.years + 1))

    def run_out(self) -> tuple[int, str]:
        """The run-out years ``R`` (SPEC §2.15) and why: ``horizon.run_out`` as
        given, or ``auto`` resolved (the longest training duration when some
        target holds, else 0)."""
        given = self.horizon.run_out
        if given != "auto":
            return int(given), "given in horizon.run_out"
        if not any(t.hold for t in self.targets):
            return 0, "auto: no target has hold: true"
        if not self.training:
            return 0, "auto: no training programme"
        longest = max(self.training, key=lambda p: p.duration)
        return longest.duration, (f"auto: the longest training duration ({longest.id}, "
                                  f"{longest.duration} years)")

    @property
    def run_out_years(self) -> list[int]:
        """Run-out years ``b+T+1 … b+T+R`` (SPEC §2.15), after the plan years."""
        last = self.horizon.base_year + self.horizon.years
        return list(range(last + 1, last + self.run_out()[0] + 1))

    @property
    def lever_items(self) -> list[Any]:
        """Every lever item of every section in :data:`LEVER_SECTIONS` (the model
        charges each to its ``pot``)."""
        return [item for section in LEVER_SECTIONS for item in getattr(self, section)]


LIST_SECTIONS: dict[str, type[Strict]] = {
    "staff_groups": StaffGroup,
    "units": Unit,
    "workforce": WorkforceRow,
    "posts": PostsRow,
    "training": TrainingProgramme,
    "return_to_practice": ReturnToPractice,
    "retention": RetentionScheme,
    "international": InternationalRoute,
    "budgets": Budget,
    "targets": Target,
}
"""Sections that may be given inline or as a CSV path."""

LEVER_SECTIONS = ("training", "return_to_practice", "retention", "international")

PLACED_SECTIONS = ("training", "return_to_practice", "international")
"""The lever sections whose items have a ``placement`` (SPEC §2.14; retention is
funded per unit and not placed)."""


def json_schema() -> dict:
    """The JSON Schema of an instance document, from the models.

    List sections also accept a string (a CSV path relative to the instance
    file), so the schema validates instance files as written, not only the
    expanded document.
    """
    schema = Instance.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    for section in LIST_SECTIONS:
        prop = schema["properties"][section]
        description = prop.pop("description", None)
        title = prop.pop("title", None)
        default = prop.pop("default", None)
        new = {"anyOf": [prop, {"type": "string", "description": "Path of a CSV file "
                                "relative to the instance file."}]}
        if title:
            new["title"] = title
        if description:
            new["description"] = description
        if default is not None:
            new["default"] = default
        schema["properties"][section] = new
    return schema
