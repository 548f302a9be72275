"""The BRASS index (Blaylock Risk Assessment Screening Score), pure: ten items → 0–40.

Italian hospitals screen the risk of a difficult discharge with it ("indice di BRASS"). The
items and points follow the original (Blaylock A, Cason CL, "Discharge planning: predicting
patients' needs", J Gerontol Nurs 1992;18(7):5-10) as published in the Italian version used by
the wards ("La dimissione del paziente anziano: uno strumento per la valutazione del rischio -
l'indice di BRASS", and the Italian validation: Int J Nurs Knowl 2014;25(1):14-21):

==============================  =====================================================  ======
item                            answers (points)                                       max
==============================  =====================================================  ======
age (età)                       ≤55: 0, 56–64: 1, 65–79: 2, ≥80: 3                        3
living situation / support      with spouse 0, with family 1, alone with family            5
  (condizioni di vita e           support 2, alone with friends' support 3, alone
  supporto sociale)               without support 4, home or residential care 5
functional status               independent 0; 1 per dependency among eating, bathing/    11
  (stato funzionale)              dressing, toileting, transferring, bowel and urinary
                                  incontinence, meal preparation, medication, money,
                                  shopping, transport (ADL and IADL)
cognition (stato cognitivo)     oriented 0; disoriented in some spheres sometimes 1,        5
                                  always 2; in all spheres sometimes 3, always 4;
                                  comatose 5 (spheres: space, time, place, self)
behaviour (modello              appropriate 0; 1 each for wandering, agitated, confused,    4
  comportamentale)                other
mobility (mobilità)             walks 0, with aids 1, with assistance 2, does not walk 3    3
sensory deficits                none 0, vision or hearing 1, vision and hearing 2           2
previous admissions / A&E       in the last 3 months: none 0, one 1, two 2, more 3          3
  visits (ricoveri/accessi PS)
active medical problems         fewer than three 0, three to five 1, more than five 2       2
drugs (farmaci)                 fewer than three 0, three to five 1, more than five 2       2
==============================  =====================================================  ======

The printed form reads "three problems: 0; three to five: 1" for active problems; three is
read as on the drugs item (three to five: 1), so every count has exactly one score.

Bands (the districts' defaults, configurable): 0–10 low risk, 11–19 medium, 20 or more high.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_SCORE: Final = 40
LOW_MAX: Final = 10  # the usual bands; a district may configure its own
MEDIUM_MAX: Final = 19
DRIVERS: Final = 3  # how many items are named as the ones that drove the score


class LivingSituation(StrEnum):
    """Condizioni di vita e supporto sociale."""

    WITH_SPOUSE = "with_spouse"
    WITH_FAMILY = "with_family"
    ALONE_WITH_FAMILY_SUPPORT = "alone_with_family_support"
    ALONE_WITH_FRIENDS_SUPPORT = "alone_with_friends_support"
    ALONE_WITHOUT_SUPPORT = "alone_without_support"
    HOME_OR_RESIDENTIAL_CARE = "home_or_residential_care"


class Dependency(StrEnum):
    """An activity of daily living (ADL) or instrumental one (IADL) the person depends on
    others for (stato funzionale: "dipendente in")."""

    EATING = "eating"
    BATHING_DRESSING = "bathing_dressing"
    TOILETING = "toileting"
    TRANSFERRING = "transferring"
    BOWEL_INCONTINENCE = "bowel_incontinence"
    URINARY_INCONTINENCE = "urinary_incontinence"
    MEAL_PREPARATION = "meal_preparation"
    MEDICATION = "medication"
    MONEY = "money"
    SHOPPING = "shopping"
    TRANSPORT = "transport"


class Cognition(StrEnum):
    """Stato cognitivo; the spheres are space, time, place and self."""

    ORIENTED = "oriented"
    DISORIENTED_SOME_SPHERES_SOMETIMES = "disoriented_some_spheres_sometimes"
    DISORIENTED_SOME_SPHERES_ALWAYS = "disoriented_some_spheres_always"
    DISORIENTED_ALL_SPHERES_SOMETIMES = "disoriented_all_spheres_sometimes"
    DISORIENTED_ALL_SPHERES_ALWAYS = "disoriented_all_spheres_always"
    COMATOSE = "comatose"


class Behaviour(StrEnum):
    """Modello comportamentale: what is not appropriate (none listed = appropriate)."""

    WANDERING = "wandering"
    AGITATED = "agitated"
    CONFUSED = "confused"
    OTHER = "other"


class Mobility(StrEnum):
    """Mobilità: aids are sticks or walkers; assistance is another person."""

    WALKS = "walks"
    WALKS_WITH_AIDS = "walks_with_aids"
    WALKS_WITH_ASSISTANCE = "walks_with_assistance"
    DOES_NOT_WALK = "does_not_walk"


class SensoryDeficit(StrEnum):
    """Deficit sensoriali: vision and hearing."""

    NONE = "none"
    VISION_OR_HEARING = "vision_or_hearing"
    VISION_AND_HEARING = "vision_and_hearing"


class BrassBand(StrEnum):
    """Risk of a difficult discharge."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class BrassItems(BaseModel):
    """The ten items of the BRASS form, as the ward or the team fills them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    age: int = Field(ge=0, le=130, description="Age in years.", examples=[82])
    living_situation: LivingSituation = Field(
        description="Living situation and social support (condizioni di vita e supporto).",
        examples=["alone_with_family_support"],
    )
    dependencies: list[Dependency] = Field(
        default_factory=list,
        max_length=len(Dependency),
        description="Functional status: the ADL/IADL the person depends on others for "
        "(empty = independent); one point each.",
        examples=[["bathing_dressing", "meal_preparation", "shopping"]],
    )
    cognition: Cognition = Field(description="Cognitive state.", examples=["oriented"])
    behaviours: list[Behaviour] = Field(
        default_factory=list,
        max_length=len(Behaviour),
        description="Behaviour pattern: what is not appropriate (empty = appropriate); one "
        "point each.",
        examples=[[]],
    )
    mobility: Mobility = Field(description="Mobility.", examples=["walks_with_aids"])
    sensory_deficits: SensoryDeficit = Field(
        description="Sensory deficits.", examples=["vision_or_hearing"]
    )
    previous_admissions: int = Field(
        ge=0,
        le=1000,
        description="Hospital admissions and emergency department visits in the last 3 months.",
        examples=[1],
    )
    active_problems: int = Field(
        ge=0, le=1000, description="Number of active medical problems.", examples=[4]
    )
    drugs: int = Field(ge=0, le=1000, description="Number of drugs taken.", examples=[6])

    @field_validator("dependencies", "behaviours")
    @classmethod
    def _no_repeats(cls, values: list[StrEnum]) -> list[StrEnum]:
        if len(set(values)) != len(values):
            raise ValueError("each value at most once")
        return values


@dataclass(frozen=True)
class ItemScore:
    item: str
    label: str
    answer: str
    points: int
    max_points: int


@dataclass(frozen=True)
class BrassResult:
    score: int
    band: BrassBand
    items: list[ItemScore]
    """All ten items in the form's order."""
    drivers: list[ItemScore]
    """The items that contributed most (most points first, at most ``DRIVERS``, none at 0)."""


def band_of(score: int, low_max: int = LOW_MAX, medium_max: int = MEDIUM_MAX) -> BrassBand:
    """The risk band of a score, with the district's limits (0–10 / 11–19 / 20+ by default)."""
    if not 0 <= score <= MAX_SCORE:
        raise ValueError(f"a BRASS score is between 0 and {MAX_SCORE}, got {score}")
    if score <= low_max:
        return BrassBand.LOW
    return BrassBand.MEDIUM if score <= medium_max else BrassBand.HIGH


def score(items: BrassItems, low_max: int = LOW_MAX, medium_max: int = MEDIUM_MAX) -> BrassResult:
    """The BRASS score of ``items``, its band and the items that drove it."""
    scored = [
        ItemScore("age", "età", f"{items.age} anni", _age_points(items.age), 3),
        _ranked(
            "living_situation", "condizioni di vita e supporto sociale", items.living_situation
        ),
        _ticked(
            "dependencies",
            "stato funzionale (ADL/IADL)",
            items.dependencies,
            Dependency,
            none="autonomo",
        ),
        _ranked("cognition", "stato cognitivo", items.cognition),
        _ticked(
            "behaviours", "modello comportamentale", items.behaviours, Behaviour, none="adeguato"
        ),
        _ranked("mobility", "mobilità", items.mobility),
        _ranked("sensory_deficits", "deficit sensoriali", items.sensory_deficits),
        ItemScore(
            "previous_admissions",
            "ricoveri o accessi al pronto soccorso negli ultimi 3 mesi",
            str(items.previous_admissions),
            min(items.previous_admissions, 3),
            3,
        ),
        ItemScore(
            "active_problems",
            "problemi clinici attivi",
            str(items.active_problems),
            _count_points(items.active_problems),
            2,
        ),
        ItemScore("drugs", "farmaci assunti", str(items.drugs), _count_points(items.drugs), 2),
    ]
    total = sum(s.points for s in scored)
    return BrassResult(
        score=total,
        band=band_of(total, low_max, medium_max),
        items=scored,
        drivers=drivers(scored),
    )


def drivers(items: Sequence[ItemScore], limit: int = DRIVERS) -> list[ItemScore]:
    """The items with the most points (ties in the form's order); items at 0 drove nothing."""
    ranked = sorted((s for s in items if s.points > 0), key=lambda s: -s.points)
    return ranked[:limit]


def describe_drivers(result: BrassResult) -> str:
    """E.g. "stato funzionale (ADL/IADL) 6, condizioni di vita e supporto sociale 4"."""
    return ", ".join(f"{d.label} {d.points}" for d in result.drivers)


def _age_points(age: int) -> int:
    if age <= 55:
        return 0
    if age <= 64:
        return 1
    return 2 if age <= 79 else 3


def _count_points(count: int) -> int:
    if count < 3:
        return 0
    return 1 if count <= 5 else 2


def _ranked(item: str, label: str, answer: StrEnum) -> ItemScore:
    """An item answered on a scale (its enum, in order): the answer's rank, from 0."""
    scale = list(type(answer))
    return ItemScore(item, label, answer.value, scale.index(answer), len(scale) - 1)


def _ticked(
    item: str, label: str, answers: Sequence[StrEnum], of: type[StrEnum], *, none: str
) -> ItemScore:
    """An item answered by ticking what applies among ``of``: a point each (``none`` when
    nothing does)."""
    listed = ", ".join(a.value for a in answers) if answers else none
    return ItemScore(item, label, listed, len(answers), len(of))
