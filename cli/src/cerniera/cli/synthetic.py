"""Invented but realistic discharges, for the benchmark and the demo.

People are made up; their codici fiscali are well-formed (check character included) so they
pass the same validation as real ones. The mix follows the domain notes: BRASS classes seen in
an Italian hospital (54% low, 30% medium, 17% high) and most assessments meeting the rule.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from stdnum.it import codicefiscale

from cerniera.shared.contract import DischargeAnnounced

GIVEN = {
    "M": ["Mario", "Giuseppe", "Luigi", "Franco", "Angelo", "Carlo", "Pietro", "Enrico"],
    "F": ["Maria", "Anna", "Giuseppina", "Rosa", "Lucia", "Carla", "Teresa", "Franca"],
}
FAMILY = [
    "Rossi",
    "Colombo",
    "Ferrari",
    "Bianchi",
    "Brambilla",
    "Villa",
    "Fumagalli",
    "Galli",
    "Sala",
    "Cattaneo",
    "Riva",
    "Mauri",
    "Bassi",
    "Pozzi",
    "Redaelli",
    "Longoni",
]
STREETS = [
    "Via Garibaldi",
    "Via Roma",
    "Via Mazzini",
    "Via Manzoni",
    "Corso Italia",
    "Via Dante",
    "Via Verdi",
    "Via Cavour",
]
HOSPITALS = {
    # hospital -> (wards, municipalities it discharges to: ISTAT code -> name)
    "asst-vimercate": ["medicina-generale", "geriatria", "ortopedia"],
    "irccs-san-gerardo": ["medicina-interna", "cardiologia", "neurologia"],
    "asst-ovest-milanese": ["medicina-generale", "geriatria", "pneumologia"],
}
MUNICIPALITIES = {
    "asst-vimercate": {"108023": "Desio", "108034": "Muggiò", "108035": "Nova Milanese"},
    "irccs-san-gerardo": {
        "108019": "Cesano Maderno",
        "108027": "Limbiate",
        "108045": "Varedo",
        "108010": "Bovisio-Masciago",
    },
    "asst-ovest-milanese": {
        "015130": "Magenta",
        "015085": "Corbetta",
        "015012": "Bareggio",
        "015204": "Sedriano",
        "015243": "Vittuone",
        "015010": "Arluno",
    },
}
# Cadastral codes (codice catastale) for the birthplace part of the codice fiscale.
BIRTHPLACES = ["F205", "D286", "E801", "F704", "C952", "A940"]
_MONTHS = "ABCDEHLMPRST"


def fiscal_code(rng: random.Random, family: str, given: str, born: date, sex: str) -> str:
    """A well-formed codice fiscale (surname, name, birth date/sex, place, check character)."""

    def letters(name: str, take_given: bool) -> str:
        consonants = [c for c in name.upper() if c.isalpha() and c not in "AEIOU"]
        vowels = [c for c in name.upper() if c in "AEIOU"]
        if take_given and len(consonants) >= 4:
            consonants = [consonants[0], consonants[2], consonants[3]]
        return "".join(consonants + vowels + ["X", "X", "X"])[:3]

    day = born.day + (40 if sex == "F" else 0)
    body = (
        letters(family, False)
        + letters(given, True)
        + f"{born.year % 100:02d}{_MONTHS[born.month - 1]}{day:02d}"
        + rng.choice(BIRTHPLACES)
    )
    return body + codicefiscale.calc_check_digit(body)


def brass_score(rng: random.Random) -> int:
    band = rng.choices(["low", "medium", "high"], weights=[54, 30, 17])[0]
    return {"low": rng.randint(4, 10), "medium": rng.randint(11, 19), "high": rng.randint(20, 32)}[
        band
    ]


def assessment_answers(rng: random.Random, eligible: bool) -> dict[str, str]:
    answers = {f"R{i}": rng.choice(["yes", "partial"]) for i in range(3, 10)}
    if eligible:
        answers["R1"], answers["R2"] = rng.choice([("yes", "no"), ("no", "yes"), ("yes", "yes")])
    else:
        answers["R1"], answers["R2"] = "no", rng.choice(["no", "partial"])
    return answers


def announcement(
    rng: random.Random,
    seq: int,
    *,
    now: datetime,
    eligible_share: float = 0.8,
    with_assessment: bool = True,
    hospital: str | None = None,
    run: str = "",
) -> DischargeAnnounced:
    """Case ``seq`` of a run; ``run`` keeps visit numbers unique across runs on one database."""
    hospital = hospital or rng.choice(list(HOSPITALS))
    sex = rng.choice("MF")
    given = rng.choice(GIVEN[sex])
    family = rng.choice(FAMILY)
    born = date(rng.randint(1928, 1958), rng.randint(1, 12), rng.randint(1, 28))
    code, town = rng.choice(list(MUNICIPALITIES[hospital].items()))
    data: dict[str, object] = {
        "hospital_id": hospital,
        "ward": rng.choice(HOSPITALS[hospital]),
        "discharge_ref": f"{hospital.split('-')[-1][:3].upper()}{run}-{now:%Y}-{seq:07d}",
        "expected_discharge_at": (now + timedelta(days=rng.randint(2, 6))).isoformat(),
        "patient": {
            "fiscal_code": fiscal_code(rng, family, given, born, sex),
            "given_name": given,
            "family_name": family,
            "birth_date": born.isoformat(),
            "municipality_code": code,
            "address": f"{rng.choice(STREETS)} {rng.randint(1, 120)}, {town}",
            "phone": f"+39 3{rng.randint(10, 99)} {rng.randint(1000000, 9999999)}",
        },
        "caregiver": {"present": rng.random() < 0.4},
    }
    if with_assessment:
        data["assessment"] = {
            "answers": assessment_answers(rng, rng.random() < eligible_share),
            "brass_score": brass_score(rng),
            "consent": True,  # the ward collected the person's consent with the checklist
        }
    return DischargeAnnounced.model_validate(data)
