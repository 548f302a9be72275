"""Intake's rules on the example configuration (Desio, Magentino): pure, no I/O."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cerniera.intake.config import Ambito, IntakeConfig, load_config
from cerniera.intake.domain import AwaitingAssessment, CaseStatus, assess_announcement, status_of
from cerniera.intake.eligibility import (
    RULE,
    Eligible,
    NotEligible,
    decide,
    evaluate_phase2,
    intensity_for,
    package,
)
from cerniera.shared.contract import AnswerValue, Intensity, Reason, ServiceLine, ServiceType
from support.discharges import (
    DESIO,
    MAGENTA,
    ROME,
    N,
    P,
    Y,
    announced,
    answers,
    assessment,
    met_answers,
)
from support.districts import DEFAULT_BRASS_BANDS, EXAMPLE

LOW = {ServiceType.SAD: Decimal(3), ServiceType.TELEASSISTANCE: Decimal(7)}
MEDIUM = {
    ServiceType.SAD: Decimal(6),
    ServiceType.MEALS: Decimal(5),
    ServiceType.TELEASSISTANCE: Decimal(7),
}
HIGH = {
    ServiceType.SAD: Decimal(12),
    ServiceType.MEALS: Decimal(7),
    ServiceType.TELEASSISTANCE: Decimal(7),
}


@pytest.fixture(scope="module")
def config() -> IntakeConfig:
    return load_config(EXAMPLE)


@pytest.fixture(scope="module")
def desio(config: IntakeConfig) -> Ambito:
    return config.ambiti["desio"]


@pytest.fixture(scope="module")
def magentino(config: IntakeConfig) -> Ambito:
    return config.ambiti["magentino"]


def codes(reasons: list[Reason]) -> list[str]:
    return [r.code for r in reasons]


def quantities(services: list[ServiceLine]) -> dict[ServiceType, Decimal]:
    quantities = {s.service_type: s.weekly_quantity for s in services}
    assert len(quantities) == len(services), f"a service appears twice: {services}"
    return quantities


# --- the Phase-2 rule ----------------------------------------------------------------------


def test_phase2_met_with_exactly_one_primary_yes_and_four_others(desio: Ambito) -> None:
    result = evaluate_phase2(desio.phase2, met_answers())

    assert result.met is True
    assert codes(result.reasons) == ["phase2.primary_met", "phase2.others_met"]


def test_phase2_met_when_the_yes_is_r2(desio: Ambito) -> None:
    given = {**met_answers(), "R1": N, "R2": Y}

    assert evaluate_phase2(desio.phase2, given).met is True


def test_phase2_not_met_with_three_others(desio: Ambito) -> None:
    given = {**met_answers(), "R6": N}  # R3 yes, R4 partial, R5 yes: three

    result = evaluate_phase2(desio.phase2, given)

    assert result.met is False
    assert codes(result.reasons) == ["phase2.primary_met", "phase2.others_not_met"]
    assert "3 su 7" in result.reasons[1].text


def test_phase2_partial_primaries_are_not_a_yes(desio: Ambito) -> None:
    given = answers(R1=P, R2=P, R3=Y, R4=Y, R5=Y, R6=Y, R7=Y, R8=Y, R9=Y)

    result = evaluate_phase2(desio.phase2, given)

    assert result.met is False
    assert codes(result.reasons) == ["phase2.primary_not_met", "phase2.others_met"]
    assert "R1=Parzialmente" in result.reasons[0].text
    assert "R2=Parzialmente" in result.reasons[0].text


def test_phase2_no_primary_yes_is_not_met_however_many_others(desio: Ambito) -> None:
    given = answers(R1=N, R2=N, R3=Y, R4=Y, R5=Y, R6=Y, R7=Y, R8=Y, R9=Y)

    assert evaluate_phase2(desio.phase2, given).met is False


def test_phase2_unanswered_counts_as_no_and_is_reported(desio: Ambito) -> None:
    # Four answered "yes" would be enough; R6 left out leaves three.
    given = answers(R1=Y, R3=Y, R4=Y, R5=Y)

    result = evaluate_phase2(desio.phase2, given)

    assert result.met is False
    assert codes(result.reasons) == [
        "phase2.primary_met",
        "phase2.others_not_met",
        "phase2.unanswered",
    ]
    unanswered = result.reasons[2].text
    for requirement in ("R2", "R6", "R7", "R8", "R9"):
        assert requirement in unanswered
    for requirement in ("R1", "R3", "R4", "R5"):
        assert requirement not in unanswered


def test_phase2_unanswered_primary_is_not_a_yes(desio: Ambito) -> None:
    given = answers(R3=Y, R4=Y, R5=Y, R6=Y, R7=Y)

    result = evaluate_phase2(desio.phase2, given)

    assert result.met is False
    assert "R1=senza risposta" in result.reasons[0].text
    assert "phase2.unanswered" in codes(result.reasons)


def test_phase2_met_with_unanswered_still_reports_them(desio: Ambito) -> None:
    given = answers(R1=Y, R3=Y, R4=P, R5=Y, R6=Y)

    result = evaluate_phase2(desio.phase2, given)

    assert result.met is True
    assert codes(result.reasons)[-1] == "phase2.unanswered"


def test_phase2_ignores_requirements_outside_the_checklist(desio: Ambito) -> None:
    given = answers(R1=Y, R3=Y, R4=Y, R5=Y, R10=Y, R11=P)

    assert evaluate_phase2(desio.phase2, given).met is False


# --- BRASS bands and intensity ---------------------------------------------------------------


@pytest.mark.parametrize(("score", "band"), DEFAULT_BRASS_BANDS)
def test_brass_bands_at_their_edges(desio: Ambito, score: int, band: str) -> None:
    intensity, reason = intensity_for(desio.intensity, score)

    assert intensity is Intensity(band)
    assert reason.code == "intensity.brass"
    assert f"BRASS {score}" in reason.text


@pytest.mark.parametrize(
    ("ambito_id", "default"), [("desio", Intensity.MEDIUM), ("magentino", Intensity.LOW)]
)
def test_default_intensity_without_a_score(
    config: IntakeConfig, ambito_id: str, default: Intensity
) -> None:
    intensity, reason = intensity_for(config.ambiti[ambito_id].intensity, None)

    assert intensity is default
    assert reason.code == "intensity.default"


def test_magentino_keeps_the_default_brass_bands(magentino: Ambito) -> None:
    # Its own [intensity] table overrides only the default, key by key.
    assert intensity_for(magentino.intensity, 10)[0] is Intensity.LOW
    assert intensity_for(magentino.intensity, 11)[0] is Intensity.MEDIUM
    assert intensity_for(magentino.intensity, 20)[0] is Intensity.HIGH


# --- packages and decisions ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("intensity", "expected"),
    [(Intensity.LOW, LOW), (Intensity.MEDIUM, MEDIUM), (Intensity.HIGH, HIGH)],
)
def test_package_contents_per_intensity(
    desio: Ambito, intensity: Intensity, expected: dict[ServiceType, Decimal]
) -> None:
    assert quantities(package(desio, intensity)) == expected


@pytest.mark.parametrize(
    ("score", "intensity", "expected"),
    [(10, Intensity.LOW, LOW), (11, Intensity.MEDIUM, MEDIUM), (20, Intensity.HIGH, HIGH)],
)
def test_decide_eligible_picks_the_package_of_the_brass_band(
    desio: Ambito, score: int, intensity: Intensity, expected: dict[ServiceType, Decimal]
) -> None:
    decision = decide(desio, assessment(met_answers(), brass_score=score))

    assert isinstance(decision, Eligible)
    assert decision.ambito_id == "desio"
    assert decision.intensity is intensity
    assert quantities(decision.services) == expected
    assert decision.decided_by == RULE == "rule"
    assert codes(decision.reasons) == [
        "phase2.primary_met",
        "phase2.others_met",
        "intensity.brass",
    ]


@pytest.mark.parametrize(("ambito_id", "expected"), [("desio", MEDIUM), ("magentino", LOW)])
def test_decide_without_score_uses_the_districts_default_package(
    config: IntakeConfig, ambito_id: str, expected: dict[ServiceType, Decimal]
) -> None:
    decision = decide(config.ambiti[ambito_id], assessment(met_answers()))

    assert isinstance(decision, Eligible)
    assert quantities(decision.services) == expected
    assert codes(decision.reasons)[-1] == "intensity.default"


def test_decide_not_met_is_not_eligible_with_the_rules_reasons(desio: Ambito) -> None:
    given = {**met_answers(), "R1": AnswerValue.PARTIAL}

    decision = decide(desio, assessment(given, brass_score=30))

    assert isinstance(decision, NotEligible)
    assert decision.ambito_id == "desio"
    assert decision.decided_by == "rule"
    assert codes(decision.reasons) == ["phase2.primary_not_met", "phase2.others_met"]


# --- announcements ---------------------------------------------------------------------------


def test_announcement_outside_every_district_is_not_eligible(config: IntakeConfig) -> None:
    outcome = assess_announcement(
        config, announced(municipality_code=ROME, assessment=assessment(brass_score=25))
    )

    assert isinstance(outcome, NotEligible)
    assert codes(outcome.reasons) == ["residence.outside_ambiti"]
    assert ROME in outcome.reasons[0].text
    assert outcome.ambito_id is None
    assert status_of(outcome) is CaseStatus.NOT_ELIGIBLE


def test_announcement_without_assessment_awaits_it(config: IntakeConfig) -> None:
    outcome = assess_announcement(config, announced(municipality_code=MAGENTA))

    assert outcome == AwaitingAssessment(ambito_id="magentino")
    assert status_of(outcome) is CaseStatus.AWAITING_ASSESSMENT


def test_announcement_with_assessment_is_decided_in_its_district(config: IntakeConfig) -> None:
    outcome = assess_announcement(
        config, announced(municipality_code=DESIO, assessment=assessment(brass_score=19))
    )

    assert isinstance(outcome, Eligible)
    assert outcome.ambito_id == "desio"
    assert outcome.intensity is Intensity.MEDIUM
    assert status_of(outcome) is CaseStatus.ELIGIBLE


def test_announcement_rejected_by_the_rule_keeps_its_district(config: IntakeConfig) -> None:
    rejected = assessment(answers(R1=N, R2=N, R3=Y, R4=Y, R5=Y, R6=Y))

    outcome = assess_announcement(config, announced(municipality_code=MAGENTA, assessment=rejected))

    assert isinstance(outcome, NotEligible)
    assert outcome.ambito_id == "magentino"
    assert "phase2.primary_not_met" in codes(outcome.reasons)
    assert status_of(outcome) is CaseStatus.NOT_ELIGIBLE
