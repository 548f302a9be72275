"""The BRASS index: each item's points, the bands at their edges, the drivers; pure."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import pytest
from pydantic import ValidationError

from cerniera.intake.brass import (
    MAX_SCORE,
    Behaviour,
    BrassBand,
    BrassItems,
    Cognition,
    Dependency,
    LivingSituation,
    Mobility,
    SensoryDeficit,
    band_of,
    score,
)
from cerniera.intake.config import load_config
from cerniera.intake.eligibility import intensity_for
from cerniera.shared.contract import Intensity
from support.districts import DEFAULT_BRASS_BANDS, EXAMPLE

LOWEST: dict[str, Any] = {
    "age": 40,
    "living_situation": "with_spouse",
    "dependencies": [],
    "cognition": "oriented",
    "behaviours": [],
    "mobility": "walks",
    "sensory_deficits": "none",
    "previous_admissions": 0,
    "active_problems": 0,
    "drugs": 0,
}
HIGHEST: dict[str, Any] = {
    "age": 91,
    "living_situation": "home_or_residential_care",
    "dependencies": [d.value for d in Dependency],
    "cognition": "comatose",
    "behaviours": [b.value for b in Behaviour],
    "mobility": "does_not_walk",
    "sensory_deficits": "vision_and_hearing",
    "previous_admissions": 4,
    "active_problems": 9,
    "drugs": 12,
}


def items(**changes: Any) -> BrassItems:
    return BrassItems.model_validate({**LOWEST, **changes})


def points(result_items: BrassItems, item: str) -> int:
    [found] = [s for s in score(result_items).items if s.item == item]
    return found.points


# --- the whole range -------------------------------------------------------------------------


def test_the_lowest_answers_score_zero_low_with_no_drivers() -> None:
    result = score(items())

    assert result.score == 0
    assert result.band is BrassBand.LOW
    assert result.drivers == []
    assert [s.item for s in result.items] == list(LOWEST)  # the form's order, all ten


def test_the_highest_answers_score_forty_high_each_item_at_its_max() -> None:
    result = score(BrassItems.model_validate(HIGHEST))

    assert result.score == MAX_SCORE == 40
    assert result.band is BrassBand.HIGH
    assert all(s.points == s.max_points for s in result.items)
    assert sum(s.max_points for s in result.items) == 40


# --- each item -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "expected"), [(0, 0), (55, 0), (56, 1), (64, 1), (65, 2), (79, 2), (80, 3), (104, 3)]
)
def test_age_points_at_the_edges(age: int, expected: int) -> None:
    assert points(items(age=age), "age") == expected


@pytest.mark.parametrize(
    ("item", "answer", "expected"),
    [
        ("living_situation", LivingSituation.WITH_SPOUSE, 0),
        ("living_situation", LivingSituation.WITH_FAMILY, 1),
        ("living_situation", LivingSituation.ALONE_WITH_FAMILY_SUPPORT, 2),
        ("living_situation", LivingSituation.ALONE_WITH_FRIENDS_SUPPORT, 3),
        ("living_situation", LivingSituation.ALONE_WITHOUT_SUPPORT, 4),
        ("living_situation", LivingSituation.HOME_OR_RESIDENTIAL_CARE, 5),
        ("cognition", Cognition.ORIENTED, 0),
        ("cognition", Cognition.DISORIENTED_SOME_SPHERES_SOMETIMES, 1),
        ("cognition", Cognition.DISORIENTED_SOME_SPHERES_ALWAYS, 2),
        ("cognition", Cognition.DISORIENTED_ALL_SPHERES_SOMETIMES, 3),
        ("cognition", Cognition.DISORIENTED_ALL_SPHERES_ALWAYS, 4),
        ("cognition", Cognition.COMATOSE, 5),
        ("mobility", Mobility.WALKS, 0),
        ("mobility", Mobility.WALKS_WITH_AIDS, 1),
        ("mobility", Mobility.WALKS_WITH_ASSISTANCE, 2),
        ("mobility", Mobility.DOES_NOT_WALK, 3),
        ("sensory_deficits", SensoryDeficit.NONE, 0),
        ("sensory_deficits", SensoryDeficit.VISION_OR_HEARING, 1),
        ("sensory_deficits", SensoryDeficit.VISION_AND_HEARING, 2),
    ],
)
def test_points_of_each_answer_on_a_scale(item: str, answer: StrEnum, expected: int) -> None:
    assert points(items(**{item: answer}), item) == expected


def test_one_point_per_dependency_and_per_behaviour() -> None:
    given = items(
        dependencies=["toileting", "shopping", "transport"], behaviours=["wandering", "confused"]
    )

    result = score(given)

    assert points(given, "dependencies") == 3
    assert points(given, "behaviours") == 2
    [dependencies] = [s for s in result.items if s.item == "dependencies"]
    assert dependencies.answer == "toileting, shopping, transport"
    assert dependencies.max_points == 11


@pytest.mark.parametrize(("count", "expected"), [(0, 0), (1, 1), (2, 2), (3, 3), (8, 3)])
def test_previous_admissions_points(count: int, expected: int) -> None:
    assert points(items(previous_admissions=count), "previous_admissions") == expected


@pytest.mark.parametrize(("count", "expected"), [(0, 0), (2, 0), (3, 1), (5, 1), (6, 2), (15, 2)])
@pytest.mark.parametrize("item", ["active_problems", "drugs"])
def test_active_problems_and_drugs_points(item: str, count: int, expected: int) -> None:
    assert points(items(**{item: count}), item) == expected


# --- bands -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("total", "band"), DEFAULT_BRASS_BANDS)
def test_band_edges(total: int, band: str) -> None:
    assert band_of(total) is BrassBand(band)


@pytest.mark.parametrize(
    ("living", "dependencies", "drugs", "total", "band"),
    [
        # age 80 (3) + living + one point per dependency + drugs
        (LivingSituation.ALONE_WITHOUT_SUPPORT, 3, 0, 10, BrassBand.LOW),
        (LivingSituation.ALONE_WITHOUT_SUPPORT, 4, 0, 11, BrassBand.MEDIUM),
        (LivingSituation.HOME_OR_RESIDENTIAL_CARE, 11, 0, 19, BrassBand.MEDIUM),
        (LivingSituation.HOME_OR_RESIDENTIAL_CARE, 11, 4, 20, BrassBand.HIGH),
    ],
)
def test_scores_from_items_at_the_band_edges(
    living: LivingSituation, dependencies: int, drugs: int, total: int, band: BrassBand
) -> None:
    given = items(
        age=80,
        living_situation=living,
        dependencies=list(Dependency)[:dependencies],
        drugs=drugs,
    )

    result = score(given)

    assert (result.score, result.band) == (total, band)


def test_a_districts_own_bands() -> None:
    given = items(age=80, living_situation="alone_without_support", dependencies=["money"])  # 8

    assert score(given).band is BrassBand.LOW
    assert score(given, low_max=7, medium_max=15).band is BrassBand.MEDIUM
    assert score(given, low_max=3, medium_max=7).band is BrassBand.HIGH


@pytest.mark.parametrize("total", [-1, 41])
def test_a_score_out_of_range_has_no_band(total: int) -> None:
    with pytest.raises(ValueError, match="between 0 and 40"):
        band_of(total)


# --- drivers ---------------------------------------------------------------------------------


def test_drivers_are_the_three_items_with_most_points() -> None:
    given = items(
        age=70,  # 2
        living_situation="alone_without_support",  # 4
        dependencies=["eating", "toileting", "transferring", "money", "shopping"],  # 5
        cognition="disoriented_some_spheres_sometimes",  # 1
        mobility="walks_with_assistance",  # 2
    )

    result = score(given)

    assert result.score == 14
    assert [(d.item, d.points) for d in result.drivers] == [
        ("dependencies", 5),
        ("living_situation", 4),
        ("age", 2),  # ties with mobility (2): the form's order decides
    ]


def test_fewer_drivers_when_fewer_items_score() -> None:
    result = score(items(drugs=7))

    assert [(d.item, d.points, d.max_points) for d in result.drivers] == [("drugs", 2, 2)]
    assert result.drivers[0].answer == "7"


def test_intensity_reason_names_the_drivers() -> None:
    desio = load_config(EXAMPLE).ambiti["desio"]
    result = score(BrassItems.model_validate(HIGHEST))

    intensity, reason = intensity_for(desio.intensity, result.score, result)

    assert intensity is Intensity.HIGH
    assert reason.code == "intensity.brass"
    assert reason.text.startswith("BRASS 40: fascia di rischio alta (determinata da ")
    assert "stato funzionale (ADL/IADL) 11" in reason.text


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"living_situation": "with_cat"},
        {"cognition": "sleepy"},
        {"mobility": "flies"},
        {"sensory_deficits": "smell"},
        {"dependencies": ["juggling"]},
        {"behaviours": ["appropriate"]},  # appropriate = an empty list
        {"dependencies": ["toileting", "toileting"]},
        {"age": -1},
        {"drugs": -2},
        {"brass_score": 12},  # not an item
    ],
)
def test_values_outside_the_form_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        items(**changes)


def test_every_item_is_required_but_the_lists() -> None:
    without_lists = {k: v for k, v in LOWEST.items() if k not in ("dependencies", "behaviours")}
    assert score(BrassItems.model_validate(without_lists)).score == 0
    for name in without_lists:
        with pytest.raises(ValidationError, match=name):
            BrassItems.model_validate({k: v for k, v in without_lists.items() if k != name})
