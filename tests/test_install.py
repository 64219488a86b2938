"""The install a new machine gets is the one CI tested: constraints.txt pins every
dependency of pyproject.toml (test extra included) at a version its lower bound
allows, and the README's and CI's commands install through it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent


def pins() -> dict[str, str]:
    out = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            out[canonicalize_name(name)] = version
    return out


def test_every_dependency_is_pinned_within_its_bounds() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = [*project["dependencies"], *extras["test"], *extras["mpi"]]
    pinned = pins()
    for spec in wanted:
        req = Requirement(spec)
        name = canonicalize_name(req.name)
        assert name in pinned, f"{req.name} is not pinned in constraints.txt"
        assert req.specifier.contains(pinned[name], prereleases=True), (
            f"{req.name}=={pinned[name]} is outside pyproject's {req.specifier}")
        for extra in req.extras:  # dask[distributed]
            assert extra in pinned, f"{req.name}[{extra}]: {extra} is not pinned"


def test_highs_is_pinned_to_the_measured_release() -> None:
    """highspy 1.16.0 solved the generated 55-trust plan 9x slower than 1.15.1
    (benchmarks/README.md): the pin moves only with a benchmark table."""
    assert pins()["highspy"] == "1.15.1"


def test_set_up_commands_install_from_the_lock() -> None:
    test_sh = (REPO / "scripts" / "test.sh").read_text()
    assert re.search(r"pip install .*-c constraints\.txt", test_sh)
    assert "bash scripts/test.sh" in (REPO / ".ci" / "run").read_text()
    readme = (REPO / "README.md").read_text()
    assert re.search(r"pip install -c constraints\.txt \. && wfopt solve", readme)
    assert "bash scripts/test.sh" in readme
