"""The synthetic instance generator (``optimiser.generate``, ``wfopt generate``).

Generated instances must validate through the real loader, be byte-identical for
a seed and differ for another, have the shape of a national plan (every lever,
regions, services, high-exit trusts, pots, targets by service and profession),
and always have a plan: HiGHS returns ``optimal`` at size S and at edge sizes.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from pytest import approx
from typer.testing import CliRunner

from cli import app
from formulations.data import model_data
from optimiser import SolveOptions, load_instance, solve
from optimiser.generate import (
    CATALOGUE,
    VACANCY_RATE,
    GeneratorError,
    generate_instance,
    post_growth,
    write_instance,
)

S = (5, 5, 4)  # the benchmark's size S: units, groups, years


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def size_s(tmp_path_factory) -> Path:
    return write_instance(generate_instance(*S, seed=7), tmp_path_factory.mktemp("gen") / "s")


def test_size_s_validates_with_the_requested_size(size_s):
    inst = load_instance(size_s)
    assert len(inst.units) == 5
    assert [g.id for g in inst.staff_groups] == [p.id for p in CATALOGUE[:5]]
    assert inst.years == [2018, 2019, 2020, 2021]
    assert {u.region for u in inst.units} == {"london", "midlands", "north_east_yorkshire",
                                              "north_west", "east_of_england"}
    # Small sections inline, the ones that grow with size as CSV files.
    assert sorted(p.name for p in size_s.parent.iterdir()) == [
        "instance.yaml", "posts.csv", "targets.csv", "units.csv", "workforce.csv"]


def test_size_s_has_every_lever_and_the_national_shape(size_s):
    inst = load_instance(size_s)
    assert inst.training and inst.return_to_practice and inst.retention and inst.international
    nursing = [p for p in inst.training if p.group == "mh_nurse"]
    assert sorted(p.region for p in nursing) == sorted(u.region for u in inst.units)
    assert any(p.from_group == "support_worker" for p in inst.training)  # upskilling
    assert any(p.supervision is not None for p in inst.training)
    assert any(p.min_cohort > 0 and p.cohort_fixed_cost > 0 for p in inst.training)
    by_id = {s.id: s for s in inst.retention}
    assert by_id["high_exit_trusts"].eligible.top_leaver_rate == 2  # round(5 * 20 / 55)
    assert by_id["talking_therapy_retention_london"].eligible == ["trust_0001"]
    assert [b.id for b in inst.budgets] == ["education", "main"]
    assert isinstance(inst.budgets[1].per_year, dict) and inst.budgets[1].total > 0
    services = {t.service for t in inst.targets}
    assert {"crisis", "talking_therapies", "cyp"} <= services
    assert any(t.service is None and t.region is None and t.unit is None for t in inst.targets)
    assert any(t.region is not None for t in inst.targets)
    assert any(t.unit is not None for t in inst.targets)
    assert any(isinstance(t.groups, dict) and len(set(t.groups.values())) > 1
               for t in inst.targets)  # skill-mix weights


def test_national_nurse_target_rises_to_the_stepping_forward_growth(size_s):
    """required[y_k] = baseline nurses · (1 + 8,100/35,700 · k/4), to 0.1 FTE."""
    base = sum(float(r["fte"]) for r in rows(size_s.parent / "workforce.csv")
               if r["group"] == "mh_nurse")
    # The published figure, written here rather than read from the generator's
    # own constant (a wrong constant would pass a test that reads it back).
    growth = 8100 / 35700
    required = {int(r["year"]): float(r["required"])
                for r in rows(size_s.parent / "targets.csv") if r["id"] == "mh_nurse_national"}
    assert required == {2018 + k: approx(round(base * (1 + growth * (k + 1) / 4), 1))
                        for k in range(4)}


def test_every_workforce_row_has_posts_with_a_vacancy_rate_of_5_to_15_percent(size_s):
    """posts = fte / (1 − rate), rate drawn in [5%, 15%] (about 10% of posts were
    vacant at the start of Stepping Forward); posts rounded to 0.1 FTE."""
    inst = load_instance(size_s)
    lo, hi = VACANCY_RATE
    for row in inst.workforce:
        assert row.posts is not None
        assert row.fte / (1 - lo) - 0.05 - 1e-9 <= row.posts <= row.fte / (1 - hi) + 0.05 + 1e-9
    rates = [1 - r.fte / r.posts for r in inst.workforce if r.posts > 0]
    assert min(rates) < 0.08 and max(rates) > 0.12  # drawn, not one number


def test_posts_grow_at_the_pace_of_the_targets(size_s):
    """posts[u,g,y_k] = base posts · (1 + growth_g · k/4) for the groups the targets
    grow (nurses +8,100/35,700 over four years), none for the others; every target
    then asks for at most the posts of its groups in its scope."""
    inst = load_instance(size_s)
    growth = post_growth([g.id for g in inst.staff_groups])
    # Stepping Forward's published growth over four years (RCPsych Mental Health
    # Watch; +4,200 on about 20,500 psychological staff), written here.
    published = {"mh_nurse": 8100 / 35700, "consultant_psychiatrist": 570 / 5160,
                 **dict.fromkeys(("clinical_psychologist", "hit", "psychotherapist", "pwp"),
                                 4200 / 20500)}
    assert "mh_nurse" in growth
    for gid, pace in published.items():
        if gid in growth:
            assert growth[gid] == approx(pace), gid
    assert growth["nursing_associate"] == 0.0  # no target grows it
    base = {(r.unit, r.group): r.posts for r in inst.workforce}
    rows = {(r.unit, r.group, r.year): r.posts for r in inst.posts}
    assert {g for _, g, _ in rows} == {g for g, v in growth.items() if v > 0}
    for (u, g, y), posts in rows.items():
        k = inst.years.index(y) + 1
        assert posts == approx(round(base[u, g] * (1 + growth[g] * k / 4), 1))
    d = model_data(inst)
    for t in inst.targets:
        weights = t.groups if isinstance(t.groups, dict) else dict.fromkeys(t.groups, 1.0)
        units = [u.id for u in inst.units if (t.unit is None or u.id == t.unit)
                 and (t.region is None or u.region == t.region)]
        for y, required in t.required.items():
            room = sum(w * d.posts.get((u, g, y), 0.0) for u in units for g, w in weights.items())
            assert required <= room + 1e-6, (t.id, y)


def test_posts_keep_every_other_draw(size_s):
    """Posts are drawn from a stream of their own: without them the document is
    what the generator wrote before posts existed (same workforce, levers, targets)."""
    doc = generate_instance(*S, seed=7)
    again = generate_instance(*S, seed=7)
    assert doc == again
    other = generate_instance(*S, seed=8)
    assert [r["posts"] for r in doc["workforce"]] != [r["posts"] for r in other["workforce"]]
    # The first nurse row of seed 7, as the generator wrote it before posts.
    first = {k: v for k, v in doc["workforce"][0].items() if k != "posts"}
    assert first == {"unit": "trust_0001", "group": "mh_nurse", "fte": 525.1,
                     "leaver_rate": 0.1338, "joiners": 39.4}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a = write_instance(generate_instance(*S, seed=11), tmp_path / "a").parent
    b = write_instance(generate_instance(*S, seed=11), tmp_path / "b").parent
    c = write_instance(generate_instance(*S, seed=12), tmp_path / "c").parent
    assert files(a) == files(b)
    assert files(a)["workforce.csv"] != files(c)["workforce.csv"]


def test_size_s_solves_to_optimality(size_s):
    result = solve(load_instance(size_s), SolveOptions(explain=False))
    assert result.status == "optimal"
    assert [(s["stage"], s["status"]) for s in result.stages] == [
        ("shortfall", "optimal"), ("cost", "optimal"), ("share_out", "optimal")]
    assert result.weighted_shortfall >= 0 and result.total_cost > 0


@pytest.mark.parametrize("units, groups, years", [(1, 1, 1), (2, 3, 2), (8, 17, 2)])
def test_edge_sizes_validate_and_solve(tmp_path, units, groups, years):
    """One trust and one group; upskilling without its source group; groups beyond
    the catalogue (generic clinical roles) and more trusts than regions."""
    path = write_instance(generate_instance(units, groups, years, seed=1), tmp_path / "i")
    inst = load_instance(path)
    assert (len(inst.units), len(inst.staff_groups), len(inst.years)) == (units, groups, years)
    assert len({u.region for u in inst.units}) == min(units, 7)
    result = solve(inst, SolveOptions(explain=False))
    assert result.status == "optimal"


def test_groups_beyond_the_catalogue_are_generic_roles():
    doc = generate_instance(2, len(CATALOGUE) + 2, 2, seed=0)
    assert [g["id"] for g in doc["staff_groups"][-2:]] == ["clinical_role_016",
                                                           "clinical_role_017"]


@pytest.mark.parametrize("args, message", [
    ((0, 5, 4, 1), "--units | must be a whole number in [1, 100000], got 0"),
    ((5, 0, 4, 1), "--groups | must be a whole number in [1, 1000], got 0"),
    ((5, 5, 61, 1), "--years | must be a whole number in [1, 60], got 61"),
    ((5, 5, 4, -1), "--seed | must be a whole number in [0, 9223372036854775807], got -1"),
])
def test_out_of_range_arguments(args, message):
    with pytest.raises(GeneratorError) as exc:
        generate_instance(*args)
    assert str(exc.value) == message


def test_cli_generate_writes_a_valid_instance(tmp_path):
    res = CliRunner().invoke(app, ["generate", "--units", "3", "--groups", "4", "--years",
                                   "2", "--seed", "5", "--out", str(tmp_path / "g")])
    assert res.exit_code == 0, res.output
    assert "units      3 in 3 regions" in res.stdout
    assert f"instance written to {tmp_path / 'g' / 'instance.yaml'}" in res.stdout
    again = CliRunner().invoke(app, ["generate", "--units", "3", "--groups", "4", "--years",
                                     "2", "--seed", "5", "--out", str(tmp_path / "h")])
    assert again.exit_code == 0
    assert files(tmp_path / "g") == files(tmp_path / "h")


def test_cli_generate_bad_arguments_exit_2_with_one_line(tmp_path):
    res = CliRunner().invoke(app, ["generate", "--years", "0", "--out", str(tmp_path / "g")])
    assert res.exit_code == 2
    assert res.stderr.strip() == "--years | must be a whole number in [1, 60], got 0"
    assert not (tmp_path / "g").exists()


def test_cli_generate_replaces_an_instance_but_not_other_files(tmp_path):
    out = tmp_path / "g"
    assert CliRunner().invoke(app, ["generate", "--out", str(out)]).exit_code == 0
    res = CliRunner().invoke(app, ["generate", "--seed", "1", "--out", str(out)])
    assert res.exit_code == 0  # an earlier generated instance is replaced
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    res = CliRunner().invoke(app, ["generate", "--out", str(out)])
    assert res.exit_code == 2
    assert res.stderr.strip() == (f"--out {out} | holds files this command does not write, "
                                  "and would be replaced whole; name a new or empty folder")
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
