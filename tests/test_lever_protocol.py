"""The lever protocol (formulations/levers.py): every lever's story in its own module.

1. No module outside a lever's own names one of its components, in a string or
   as an attribute (``m.UP``): the generic stages reach them through the
   registry's hooks only.
2. A fifth lever, an agency staff bank defined here, joins through the registry
   alone (what adding a lever touches: the schema, one module, one registry
   line; here its data are constants, so not even the schema): it builds, solves
   to a hand-worked optimum, and shows in the results, the marginal values and
   the words of a conflict without any generic module being edited.
"""

from __future__ import annotations

import ast
import types
from pathlib import Path
from typing import Any

import pandas as pd
import pyomo.environ as pyo
import pytest

import formulations
from formulations import LEVER_MODULES, model_data
from formulations.levers import PROTOCOL, ColumnCap, clean, hook, protocol_problems
from formulations.stock import define_stock_variables
from formulations.words import Names, reached
from optimiser import load_instance
from optimiser.explain.wording import Words

REPO = Path(__file__).resolve().parent.parent
TINY = REPO / "instances" / "tiny" / "instance.yaml"

UNRELATED = {
    ("optimiser/instance/workbook.py", "A"): "a spreadsheet's column A",
    ("cli.py", "N"): "a command-line option's metavar",
    ("optimiser/engine/highs_model.py", "A"): "the standard form's matrix, repn.A",
    ("optimiser/instance/reading.py", "X"): "re.X, a regular-expression flag",
    ("optimiser/generate.py", "returners_pool"): "the generator's own profile field",
}
"""(file, name) pairs that equal a component's name by coincidence."""


def lever_components(lever: Any, d: formulations.ModelData) -> set[str]:
    """The names of the components ``lever.define`` adds to a block."""
    b = pyo.ConcreteModel()
    define_stock_variables(b, d)
    before = {c.local_name for c in b.component_objects()}
    lever.define(b, d, formulations.Ledger())
    return {c.local_name for c in b.component_objects()} - before


def named(path: Path) -> set[str]:
    """The strings and attribute names in a module's source."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.add(node.value)
        elif isinstance(node, ast.Attribute):
            out.add(node.attr)
    return out


def test_no_lever_component_is_named_outside_its_module() -> None:
    d = model_data(load_instance(TINY))
    sources = [p for pkg in ("optimiser", "formulations") for p in (REPO / pkg).rglob("*.py")]
    sources.append(REPO / "cli.py")
    found = []
    for lever in LEVER_MODULES:
        names = lever_components(lever, d)
        assert names, lever.NAME
        own = Path(lever.__file__).resolve()
        for path in sources:
            if path.resolve() == own:
                continue
            rel = path.relative_to(REPO).as_posix()
            found += [(rel, s, lever.NAME) for s in named(path) & names
                      if (rel, s) not in UNRELATED]
    assert found == []


# ------------------------------------------------------------------ a fifth lever

CAP = 6.0
"""Agency FTE the bank can supply per group and year."""
COST = 50_000.0
"""Cost of one agency FTE for a year."""


def agency_bank() -> types.ModuleType:
    """An agency staff bank, as a lever module would be written (formulations/…).

    For every staff group g and plan year y::

        0 ≤ B[g,y] ≤ CAP                      agency staff, FTE (a bound)
        Σ_u BU[g,u,y] = B[g,y]                 agency_join[g,y]
        cost[g,y] = COST·B[g,y]                charged to the pot ``main``
    """
    lever = types.ModuleType("agency_bank")
    lever.NAME, lever.LABEL = "agency", "Agency staff bank"
    lever.COLUMNS = ("group", "year", "agency_fte", "cost")
    lever.FLOWS = ("agency",)
    lever.KINDS = {"agency_per_year": "agency staff per year"}

    def define(b: pyo.Block, d: formulations.ModelData, ledger: formulations.Ledger) -> None:
        gy = [(g, y) for g in d.groups for y in d.years]
        b.B = pyo.Var(gy, domain=pyo.NonNegativeReals, bounds=(0.0, CAP),
                      doc="agency staff, FTE")
        guy = [(g, u, y) for g, y in gy for u in d.units]
        b.BU = pyo.Var(guy, domain=pyo.NonNegativeReals, doc="agency staff at unit u, FTE")
        b.agency_join = pyo.Constraint(
            gy, rule=lambda b, g, y: sum(b.BU[g, u, y] for u in d.units) == b.B[g, y])
        for g, u, y in guy:
            ledger.add_inflow(u, g, y, 1.0, b.BU[g, u, y], "agency")
        for g, y in gy:
            ledger.charge("main", y, COST * b.B[g, y])

    def decisions(b: pyo.Block) -> list[pyo.Var]:
        return [b.B]

    def results(b: pyo.Block, d: formulations.ModelData) -> pd.DataFrame:
        fte = {(g, y): clean(b.B[g, y].value) for g in d.groups for y in d.years}
        return pd.DataFrame([[g, y, v, clean(COST * v)] for (g, y), v in fte.items()],
                            columns=list(lever.COLUMNS))

    def limits(d: formulations.ModelData) -> list[ColumnCap]:
        return [ColumnCap("agency_per_year", ("B", (g, y)), g, y, CAP, "agency FTE")
                for g in d.groups for y in d.years]

    def explain(d, tables, mv, what) -> list[str]:
        t = tables["agency"]
        return [f"The agency bank supplies its maximum of {CAP:g} {r['group']} in {r['year']}."
                for _, r in t.iterrows() if reached(r["agency_fte"], CAP)]

    def describe_bound(name: str, index: tuple, which: str, names: Names) -> str | None:
        return (f"The agency bank supplies at most {CAP:g} {names.group(index[0])} in "
                f"{index[1]}.") if name == "B" else None

    def describe_flow(flow: str, item: str, names: Names) -> str:
        return f"agency {names.group(item)}"

    lever.define, lever.decisions, lever.results = define, decisions, results
    lever.limits, lever.explain = limits, explain
    lever.describe_bound, lever.describe_flow = describe_bound, describe_flow
    lever.VARIABLES = {"B": "agency staff of group '{0}'"}
    return lever


@pytest.fixture
def with_agency(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """The registry with the agency bank as its fifth lever: the one line a new
    lever adds to ``formulations.LEVER_MODULES``."""
    lever = agency_bank()
    monkeypatch.setattr(formulations, "LEVER_MODULES", (*LEVER_MODULES, lever))
    return lever


def test_a_fifth_lever_joins_through_the_registry_alone(with_agency, make_doc, solve_doc,
                                                        tmp_path: Path) -> None:
    # 100 nurses, none leave, 110 wanted in 2021: only the agency helps, 6 at most.
    doc = make_doc(years=1, targets=[{"id": "nurses", "groups": ["nurse"],
                                      "required": {2021: 110}}],
                   budgets=[{"id": "main"}])
    plan = solve_doc(doc)
    assert plan.status == "optimal"
    assert plan.shortfall == pytest.approx(4.0)  # 110 − (100 + 6)
    assert plan.cost == pytest.approx(6 * COST)
    r = plan.result

    agency = r.tables["agency"]
    assert agency.to_dict("records") == [{"group": "nurse", "year": 2021, "agency_fte": 6.0,
                                          "cost": 300_000.0}]
    assert plan.value("workforce", "agency", unit="u1", year=2021) == 6.0
    assert plan.value("workforce", "fte", unit="u1", year=2021) == 106.0
    assert plan.value("budget", "spent", pot="main", year="2021") == pytest.approx(300_000.0)
    assert r.spend_by_lever()["agency"] == 300_000.0

    # One more agency nurse removes one FTE of shortfall.
    mv = r.marginal_values
    row = mv[mv["kind"] == "agency_per_year"].iloc[0]
    assert (row["item"], row["year"], row["value"], bool(row["binding"])) == (
        "nurse", "2021", 1.0, True)
    assert "The agency bank supplies its maximum of 6 nurse in 2021." in r.explanations

    # In the words of a conflict: its flow in the stock balance, its bound, its phrase.
    words = Words(r.model.model_data, r.model)
    assert "plus agency nurse" in words.row("stock_balance", ("u1", "nurse", 2021))
    assert words.bound("B", ("nurse", 2021), "upper") == (
        "The agency bank supplies at most 6 nurse in 2021.")
    assert "agency staff of group 'nurse' (2021)" in words.nonnegative([("B", ("nurse", 2021))])

    out = r.write(tmp_path / "out")
    assert (out / "agency.csv").read_text().splitlines() == [
        "group,year,agency_fte,cost", "nurse,2021,6,300000"]


# ------------------------------------------------------------------ the protocol's table


def test_every_lever_of_the_registry_speaks_the_protocol() -> None:
    """Each module of LEVER_MODULES has every required hook of PROTOCOL and no
    public name that looks like a hook but is not one."""
    for lever in LEVER_MODULES:
        assert protocol_problems(lever) == [], lever.__name__
    assert {"allocations", "share_out_moves", "unplaced"} <= set(PROTOCOL)


def test_the_protocol_check_finds_a_missing_and_a_misspelt_hook() -> None:
    """The agency bank without ``results`` (required) and with its row words
    under ``describe_rows``: without the check, the misspelt hook would be read
    as absent and its rows described by nobody."""
    lever = agency_bank()
    del lever.results
    lever.describe_rows = lambda name, index, names: None
    lever.EXPLAIN_ORDR = 3
    assert protocol_problems(lever) == [
        "agency: no results (required)",
        "agency: describe_rows is not a hook of the protocol (did you mean describe_row?)",
        "agency: EXPLAIN_ORDR is not a hook of the protocol (did you mean EXPLAIN_ORDER?)"]
    assert protocol_problems(agency_bank()) == []


def test_the_generic_code_cannot_read_a_hook_the_protocol_has_not() -> None:
    with pytest.raises(KeyError):
        hook(LEVER_MODULES[0], "describe_rows")
    assert hook(agency_bank(), "EXPLAIN_ORDER") == PROTOCOL["EXPLAIN_ORDER"].default


def test_a_lever_without_the_share_out_hook_cannot_raise_the_cost(with_agency, make_doc,
                                                                  solve_doc) -> None:
    """u1: 80 nurses, 100 posts; u2: 240 nurses, 300 posts; 40 graduates in 2021
    (committed, free to go anywhere); u1 must have 100 nurses (a unit target).
    The stages: W = 0 with 20 graduates at u1 (the agency's 50,000 a nurse is
    not needed), C = 0. The share-out would rather have u1 at 0.14 graduates a
    post than 0.2, which 6 agency nurses at u1 would allow (C 0 -> 300,000).
    The agency bank names neither its variables (``VARIABLES``) nor what the
    share-out may move (``share_out_moves``): everything it defined is held, so
    the share-out keeps its 0 agency staff and C stays 0."""
    del with_agency.VARIABLES
    doc = make_doc(units={"u1": "r1", "u2": "r1"}, years=1, placement="free",
                   workforce=[{"unit": "u1", "group": "nurse", "fte": 80, "posts": 100},
                              {"unit": "u2", "group": "nurse", "fte": 240, "posts": 300}],
                   training=[{"id": "course", "group": "nurse", "duration": 1,
                              "completion_rate": 1.0, "cost_per_place_year": 0,
                              "max_places_per_year": 0, "committed": {2020: 40}}],
                   targets=[{"id": "t", "unit": "u1", "groups": ["nurse"],
                             "required": {2021: 100}}],
                   budgets=[{"id": "main"}])
    plan = solve_doc(doc)
    assert plan.status == "optimal"
    assert [s["stage"] for s in plan.result.stages][-1] == "share_out"
    assert plan.shortfall == pytest.approx(0, abs=1e-9)
    assert plan.cost == pytest.approx(0, abs=1e-6)
    assert plan.result.tables["agency"]["agency_fte"].tolist() == [0.0]
    assert plan.value("workforce", "graduates", unit="u1", group="nurse", year=2021) == \
        pytest.approx(20, abs=1e-6)
