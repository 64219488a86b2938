"""``--set`` and ``--scale`` (docs/instance-format.md, "Overrides"): what each
override changes, with values, and how problems name the override behind them."""

from __future__ import annotations

from pathlib import Path

import pytest
from instance_copy import TinyCopy
from typer.testing import CliRunner

from cli import app
from optimiser import InputError, Override
from optimiser.instance.overrides import OverrideSyntaxError


@pytest.fixture
def tiny(tmp_path: Path) -> TinyCopy:
    return TinyCopy(tmp_path / "tiny")


def sets(*texts: str) -> list[Override]:
    return [Override.parse("set", t) for t in texts]


def scales(*texts: str) -> list[Override]:
    return [Override.parse("scale", t) for t in texts]


def by_id(items, item_id):
    return next(it for it in items if it.id == item_id)


def workforce(inst, unit, group):
    return next(r for r in inst.workforce if (r.unit, r.group) == (unit, group))


# ---------------------------------------------------------------- --set


def test_set_by_id(tiny: TinyCopy) -> None:
    inst = tiny.load(sets("training.nursing_degree.max_places_per_year=250",
                          "staff_groups.nurse.leaver_rate=0.1"))
    assert by_id(inst.training, "nursing_degree").max_places_per_year == 250
    assert by_id(inst.staff_groups, "nurse").leaver_rate == 0.1
    # Nothing else moved.
    assert by_id(inst.training, "therapy_course").max_places_per_year == 60
    assert by_id(inst.staff_groups, "support").leaver_rate == 0.15


def test_set_a_whole_number_budget(tiny: TinyCopy) -> None:
    inst = tiny.load(sets("budgets.education.per_year=3e8"))
    assert by_id(inst.budgets, "education").per_year == 3e8


def test_set_nested_year_key(tiny: TinyCopy) -> None:
    inst = tiny.load(sets("budgets.main.per_year.2017=5e5"))
    assert by_id(inst.budgets, "main").per_year == {2017: 5e5, 2018: 1.0e6, 2019: 1.2e6,
                                                     2020: 1.2e6}


def test_set_adds_a_year_to_a_csv_target(tiny: TinyCopy) -> None:
    """``targets`` comes from a CSV file; overrides see the expanded items."""
    inst = tiny.load(sets("targets.therapy_north.required.2019=120",
                          "targets.nurses_national.priority=3"))
    t = by_id(inst.targets, "therapy_north")
    assert t.required == {2019: 120, 2020: 130}
    assert by_id(inst.targets, "nurses_national").priority == 3


def test_set_creates_absent_optional_fields(tiny: TinyCopy) -> None:
    inst = tiny.load(sets("training.therapy_course.region=north",
                          "training.therapy_course.committed.2016=10",
                          "training.therapy_course.supervision.group=therapist",
                          "training.therapy_course.supervision.max_trainees_per_fte=2",
                          "international.nurse_intl.pot=main"))
    p = by_id(inst.training, "therapy_course")
    assert p.region == "north"
    assert p.committed == {2016: 10}
    assert p.supervision is not None
    assert (p.supervision.group, p.supervision.max_trainees_per_fte) == ("therapist", 2)
    assert by_id(inst.international, "nurse_intl").pot == "main"


def test_set_a_mapping_value(tiny: TinyCopy) -> None:
    inst = tiny.load(sets("objective={mode: weighted, value_per_fte: 5.0e4}"))
    assert inst.objective.mode == "weighted"
    assert inst.objective.value_per_fte == 5e4


def test_set_wildcard(tiny: TinyCopy) -> None:
    inst = tiny.load(sets("workforce.*.leaver_rate=0.2"))
    assert len(inst.workforce) == 9
    assert {r.leaver_rate for r in inst.workforce} == {0.2}


def test_set_wildcard_over_levers(tiny: TinyCopy) -> None:
    inst = tiny.load(sets("training.*.integer_places=false"))
    assert [p.integer_places for p in inst.training] == [False, False, False]


def test_set_workforce_row_by_unit_and_group(tiny: TinyCopy) -> None:
    inst = tiny.load(sets("workforce.north_trust/nurse.fte=500",
                          "workforce.coast_trust/therapist.leaver_rate=0.3"))
    assert workforce(inst, "north_trust", "nurse").fte == 500
    assert workforce(inst, "coast_trust", "therapist").leaver_rate == 0.3
    # The same group in another unit and another group in the same unit are untouched.
    assert workforce(inst, "city_trust", "nurse").fte == 600
    assert workforce(inst, "north_trust", "support").fte == 300


def test_set_by_position(tiny: TinyCopy) -> None:
    inst = tiny.load(sets("training.1.min_cohort=20"))
    assert inst.training[1].id == "therapy_course"
    assert inst.training[1].min_cohort == 20


def test_later_overrides_see_earlier_ones(tiny: TinyCopy) -> None:
    inst = tiny.load([*sets("budgets.education.per_year=1e6"),
                      *scales("budgets.education.per_year=3")])
    assert by_id(inst.budgets, "education").per_year == 3e6


def test_overrides_do_not_change_the_file(tiny: TinyCopy) -> None:
    before = {p.name: p.read_bytes() for p in tiny.root.iterdir()}
    tiny.load(sets("workforce.*.leaver_rate=0.2", "budgets.main.total=1"))
    assert {p.name: p.read_bytes() for p in tiny.root.iterdir()} == before
    assert by_id(tiny.load().budgets, "main").total == 3.5e6


# ---------------------------------------------------------------- --scale


def test_scale_a_whole_section(tiny: TinyCopy) -> None:
    inst = tiny.load(scales("budgets=1.2"))
    education, main = inst.budgets
    assert (education.id, main.id) == ("education", "main")  # ids are not numbers
    assert education.per_year == pytest.approx(4.0e6 * 1.2)
    assert main.per_year == pytest.approx({2017: 1.2e6, 2018: 1.2e6, 2019: 1.44e6,
                                           2020: 1.44e6})
    assert sorted(main.per_year) == [2017, 2018, 2019, 2020]  # year keys are not scaled
    assert main.total == pytest.approx(3.5e6 * 1.2)


def test_scale_leaves_names_and_eligibility_alone(tiny: TinyCopy) -> None:
    inst = tiny.load(scales("retention.high_exit=2"))
    (s,) = inst.retention
    assert s.id == "high_exit"
    assert s.eligible.top_leaver_rate == 2  # how many units, not an amount
    assert s.groups == ["nurse", "therapist"]
    assert s.response == [(0, 0), (100000, 16), (300000, 30)]
    assert (s.fixed_cost, s.max_retained_share, s.max_units_per_year) == (20000, 0.5, 2)


def test_scale_csv_values(tiny: TinyCopy) -> None:
    """CSV cells are text until validated; scaling still multiplies them."""
    inst = tiny.load(scales("targets.nurses_national.required=1.1", "workforce.*.fte=0.5"))
    assert by_id(inst.targets, "nurses_national").required == pytest.approx(
        {2019: 1430, 2020: 1474})
    assert workforce(inst, "city_trust", "nurse").fte == 300
    assert sum(r.fte for r in inst.workforce) == pytest.approx(2320 / 2)


def test_scale_wildcard_skips_items_without_the_field(tiny: TinyCopy) -> None:
    """``workforce.*.leaver_rate``: rows that leave the rate to the group keep it so."""
    inst = tiny.load(scales("workforce.*.leaver_rate=0.5"))
    assert workforce(inst, "north_trust", "nurse").leaver_rate == pytest.approx(0.07)
    assert workforce(inst, "north_trust", "support").leaver_rate is None


def test_scale_one_value(tiny: TinyCopy) -> None:
    inst = tiny.load(scales("training.nursing_degree.cost_per_place_year=1.5"))
    assert by_id(inst.training, "nursing_degree").cost_per_place_year == 39000
    assert by_id(inst.training, "therapy_course").cost_per_place_year == 9000


# ---------------------------------------------------------------- parsing


@pytest.mark.parametrize(("text", "value", "kind"), [
    ("k=3e8", 3e8, float),
    ("k=2.0e6", 2e6, float),
    ("k=1.0E-4", 1e-4, float),
    ("k=-5e3", -5e3, float),
    ("k=8000", 8000, int),
    ("k=0.25", 0.25, float),
    ("k=true", True, bool),
    ("k=north", "north", str),
    ("k=[2017, 2018]", [2017, 2018], list),
    ("k={2017: 5e5}", {2017: 5e5}, dict),
])
def test_values_are_read_as_yaml_1_2(text: str, value: object, kind: type) -> None:
    o = Override.parse("set", text)
    assert o.key == "k"
    assert o.value == value
    assert type(o.value) is kind


def test_yaml_1_2_floats_in_instance_files(tiny: TinyCopy) -> None:
    """``4.0e6`` in tiny's YAML and ``3e8`` in a file are numbers, not strings."""
    tiny.edit(lambda d: d["budgets"][0].update(per_year="placeholder"))
    tiny.path.write_text(tiny.path.read_text().replace("placeholder", "3e8"))
    inst = tiny.load()
    assert by_id(inst.budgets, "education").per_year == 3e8


@pytest.mark.parametrize(("kind", "text", "message"), [
    ("set", "nokey", "--set nokey | expected KEY=VALUE"),
    ("set", "=5", "--set =5 | expected KEY=VALUE"),
    ("scale", "budgets=abc", "--scale budgets | the factor must be a number, got 'abc'"),
    ("scale", "budgets=true", "--scale budgets | the factor must be a number, got True"),
    ("scale", "budgets=.inf", "--scale budgets | the factor must be a finite number, got inf"),
])
def test_unreadable_overrides(kind: str, text: str, message: str) -> None:
    with pytest.raises(OverrideSyntaxError) as info:
        Override.parse(kind, text)  # type: ignore[arg-type]
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(("override", "spelled"), [
    (Override.parse("set", "budgets.hee.per_year=3e8"), "--set budgets.hee.per_year=3e8"),
    (Override.parse("scale", "budgets = 1.2 "), "--scale budgets=1.2"),
    (Override("set", "budgets.hee.per_year", 3e8), "--set budgets.hee.per_year=300000000"),
    (Override("set", "training.x.integer_places", False), "--set training.x.integer_places=false"),
    (Override("set", "budgets.main.per_year", {2017: 5e5}),
     "--set budgets.main.per_year={2017: 500000.0}"),
])
def test_an_override_is_quoted_as_typed(override: Override, spelled: str) -> None:
    """Messages quote the value as the user wrote it; built in Python, as YAML."""
    assert override.spelled == spelled


def test_a_long_value_is_cut_when_quoted() -> None:
    o = Override.parse("set", "targets=[{id: t, groups: [nurse], required: {2018: 1}}]")
    assert o.spelled == "--set targets=[{id: t, groups: [nurse], required: {20…"


def test_a_later_override_does_not_change_an_earlier_value(tiny: TinyCopy) -> None:
    """``--set`` puts a copy of its value in the document: a sweep applies the same
    override to every point, after which other overrides may edit inside it."""
    first = Override.parse("set", "budgets.main.per_year={2017: 1, 2018: 2}")
    inst = tiny.load([first, *sets("budgets.main.per_year.2018=5")])
    assert by_id(inst.budgets, "main").per_year == {2017: 1, 2018: 5}
    assert first.value == {2017: 1, 2018: 2}


def test_the_typed_text_does_not_change_what_an_override_is() -> None:
    assert Override.parse("set", "k=3e8") == Override("set", "k", 3e8)


def test_overrides_record_what_they_wrote(tiny: TinyCopy) -> None:
    """The key paths an override wrote (items by position), for naming it in a
    problem found there later; ``*`` writes one path per item."""
    from optimiser.instance.load import read_document
    from optimiser.instance.overrides import apply_overrides, overrides_at

    doc, _, _ = read_document(tiny.path)
    written: list = []
    overrides = [*sets("budgets.main.per_year.2017=5e5", "training.*.integer_places=false"),
                 *scales("budgets=2")]
    assert apply_overrides(doc, overrides, written) == []
    assert [(path, o.key) for path, o in written] == [
        (("budgets", 1, "per_year", 2017), "budgets.main.per_year.2017"),
        (("training", 0, "integer_places"), "training.*.integer_places"),
        (("training", 1, "integer_places"), "training.*.integer_places"),
        (("training", 2, "integer_places"), "training.*.integer_places"),
        (("budgets",), "budgets"),
    ]
    # Inside, at and around the place written; not beside it.
    assert [o.key for o in overrides_at(("budgets", 1, "per_year", 2017), written)] == [
        "budgets.main.per_year.2017", "budgets"]
    assert [o.key for o in overrides_at(("budgets", 1, "per_year"), written)] == [
        "budgets.main.per_year.2017", "budgets"]
    assert [o.key for o in overrides_at(("budgets", 1, "total"), written)] == ["budgets"]
    assert overrides_at(("training", 0, "duration"), written) == []


def test_unknown_item_lists_the_known_ids(tiny: TinyCopy) -> None:
    with pytest.raises(InputError) as info:
        tiny.load(sets("training.nursing_degre.duration=2"))
    assert [str(p) for p in info.value.problems] == [
        "--set training.nursing_degre.duration | no item 'nursing_degre' in 'training' "
        "(known: nursing_degree, nurse_associate_upskill, therapy_course)"]


def test_cli_applies_overrides(tiny: TinyCopy) -> None:
    result = CliRunner().invoke(app, ["validate", str(tiny.path),
                                      "--set", "workforce.north_trust/nurse.fte=500",
                                      "--scale", "workforce=2"])
    assert result.exit_code == 0, result.output
    # 2,320 FTE in the file, +80 at north_trust/nurse, then doubled.
    assert "workforce  4,800 FTE in 9 rows" in result.stdout
