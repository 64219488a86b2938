"""The numbers the documentation quotes are the numbers a solve gives (issue 11).

Each shipped instance's README quotes its measured plan on one line of a fixed
form, readable as prose and parseable here::

    Measured: status optimal, W = 8,341.70 FTE, C = £368.00m.

The check that each README's quote is what a solve gives lives in
``tests/test_realistic.py`` (``test_readme_numbers_are_a_solves``), beside the
other tests that read the shipped instances' solves: solving is the expensive
part (minutes for long-term-2028), each instance is solved once per test run
and under pytest-xdist a file's tests share one worker (``--dist loadfile``).
W and C must match within the instance's relative MIP gap (two runs that each
stop within the gap of the optimum can differ by that much) plus half a unit of
the last digit quoted. Here: every README quotes its plan in that form, and the
top-level README quotes the stepping-forward plan as its README does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
INSTANCES = sorted(p.parent for p in (REPO / "instances").glob("*/instance.yaml"))

NUMBER = r"\d{1,3}(?:,\d{3})*(?:\.\d+)?"
MEASURED = re.compile(
    rf"^Measured: status (?P<status>[a-z_]+), W = (?P<w>{NUMBER}) FTE, "
    rf"C = £(?P<c>{NUMBER})m\.?$", re.MULTILINE)
"""The fixed form of the quote (C in £ millions)."""

QUOTED_W_C = re.compile(rf"W = (?P<w>{NUMBER}) FTE, C = £(?P<c>{NUMBER})m")
"""W and C as prose quotes them elsewhere (the top-level README)."""


@dataclass(frozen=True)
class Quote:
    status: str
    w: float
    c: float
    """In currency units (the text gives £m)."""
    w_half_unit: float
    c_half_unit: float
    """Half a unit of the last digit quoted: the rounding the text allows."""


def _number(text: str) -> tuple[float, float]:
    """The value of ``8,341.70`` and half a unit of its last digit (0.005)."""
    decimals = len(text.partition(".")[2])
    return float(text.replace(",", "")), 0.5 * 10.0 ** -decimals


def quote_of(match: re.Match[str]) -> Quote:
    w, w_half = _number(match["w"])
    c, c_half = _number(match["c"])
    status = match.groupdict().get("status") or ""
    return Quote(status, w, c * 1e6, w_half, c_half * 1e6)


def measured(readme: Path) -> Quote:
    found = MEASURED.findall(readme.read_text(encoding="utf-8"))
    assert len(found) == 1, (f"{readme.relative_to(REPO)} must quote its plan once as "
                             f"'Measured: status …, W = … FTE, C = £…m' (found {len(found)})")
    return quote_of(next(MEASURED.finditer(readme.read_text(encoding="utf-8"))))


def test_every_instance_has_a_readme_that_quotes_its_plan() -> None:
    assert INSTANCES
    for folder in INSTANCES:
        readme = folder / "README.md"
        assert readme.exists(), f"{folder.relative_to(REPO)} has no README.md"
        measured(readme)


def test_top_readme_quotes_the_stepping_forward_plan() -> None:
    """README.md quotes W and C of stepping-forward-2017 (possibly rounded further)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    quotes = [quote_of(m) for m in QUOTED_W_C.finditer(text)]
    assert quotes, "README.md quotes no 'W = … FTE, C = £…m'"
    truth = measured(REPO / "instances" / "stepping-forward-2017" / "README.md")
    for q in quotes:
        assert q.w == pytest.approx(truth.w, abs=q.w_half_unit + truth.w_half_unit)
        assert q.c == pytest.approx(truth.c, abs=q.c_half_unit + truth.c_half_unit)


@pytest.mark.parametrize(("text", "status", "w", "c"), [
    ("Measured: status optimal, W = 8,341.70 FTE, C = £368.00m.", "optimal", 8341.70, 368e6),
    ("Measured: status feasible, W = 0.5 FTE, C = £1,302.5m", "feasible", 0.5, 1302.5e6),
])
def test_the_quote_is_parsed(text: str, status: str, w: float, c: float) -> None:
    q = quote_of(MEASURED.search(text))
    assert (q.status, q.w, q.c) == (status, pytest.approx(w), pytest.approx(c))
