"""The shape of the code: stages that import only downwards, no import cycles.

Every import counts, at module level or inside a function (a function-level
import is allowed only to load a heavy library late, never to dodge a cycle),
and those under ``if TYPE_CHECKING:`` too: they never run, but a cycle through
them is still two modules that cannot be read one without the other (engine/
solve.py and engine/tie_break.py were one). A type-only import depends on its
module alone, not on the packages above it: their ``__init__`` runs only when
the import does. The graph is read from the source with :mod:`ast`, so a cycle
is found without importing anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("optimiser", "formulations")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    out = {module_name(p): p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py")}
    out["cli"] = REPO / "cli.py"
    return out


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports(path: Path, known: set[str], type_only: bool = False) -> set[str]:
    """The project modules ``path`` imports (``from pkg import sub`` counts as
    ``pkg.sub`` when that is a module, else as ``pkg``): those that run, or
    (``type_only``) those under ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    checking: set[int] = set()
    for node in ast.walk(tree):
        if _type_checking(node):
            checking.update(id(n) for n in ast.walk(node))
    found: set[str] = set()
    for node in ast.walk(tree):
        if (id(node) in checking) != type_only:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                found.add(sub if sub in known else node.module)
    return {m for m in found if m in known}


def graph(type_only: bool = True) -> dict[str, set[str]]:
    """Each module's project imports; ``type_only``: those under
    ``TYPE_CHECKING`` count too (each on its own module)."""
    mods = modules()
    known = set(mods)
    g = {}
    for name, path in mods.items():
        deps = imports(path, known)
        # A package's __init__ is run by importing any of its modules: importing
        # pkg.sub depends on pkg too.
        for dep in list(deps):
            parts = dep.split(".")
            deps.update(".".join(parts[:i]) for i in range(1, len(parts)))
        if type_only:
            deps |= imports(path, known, type_only=True)
        deps.discard(name)
        g[name] = {d for d in deps if d != name and not name.startswith(d + ".")}
    return g


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles() -> None:
    assert cycles(graph(type_only=False)) == []


def test_no_import_cycles_through_type_only_imports() -> None:
    assert cycles(graph()) == []


STAGES = ["optimiser.instance", "optimiser.engine", "optimiser.explain", "optimiser.results",
          "optimiser.report", "optimiser.sweep"]


def stage(module: str) -> str | None:
    return next((s for s in STAGES if module == s or module.startswith(s + ".")), None)


def test_formulations_know_nothing_of_files_or_the_engine() -> None:
    """The model reads validated data only: no loader, engine, results or report."""
    for name, deps in graph().items():
        if name.startswith("formulations"):
            bad = {d for d in deps if d.startswith("optimiser") and d != "optimiser.instance"
                   and not d.startswith("optimiser.instance.schema")}
            assert not bad, (name, bad)


def test_the_instance_stage_needs_no_later_stage() -> None:
    for name, deps in graph().items():
        if stage(name) == "optimiser.instance":
            # Writing files atomically is shared (results/atomic.py, a leaf).
            later = {d for d in deps if stage(d) not in (None, "optimiser.instance")
                     and d not in ("optimiser.results", "optimiser.results.atomic")}
            assert not later, (name, later)
