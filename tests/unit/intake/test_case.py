"""A case's life in intake and the team's records, on the example districts: pure, no I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from cerniera.intake.brass import BrassItems
from cerniera.intake.config import IntakeConfig, load_config
from cerniera.intake.domain import (
    AssessmentContent,
    AssessmentVersion,
    Case,
    CaseStatus,
    TakingCharge,
    TakingChargeVersion,
    assess_announcement,
    assessment_in_force,
    brass_bands,
    checklist_of,
    days_waiting,
    ensure_open,
    new_case,
    new_version,
    reannounced,
)
from cerniera.intake.eligibility import Eligible, NotEligible, decision_event
from cerniera.shared.contract import (
    DischargeAnnounced,
    EligibilityConfirmed,
    EligibilityRejected,
    Intensity,
)
from cerniera.shared.refusals import Conflict, Invalid
from support.discharges import (
    EXPECTED_DISCHARGE,
    MAGENTA,
    ROME,
    Y,
    announced,
    assessment,
    met_answers,
    not_met_answers,
)
from support.districts import EXAMPLE

NOW = datetime(2024, 9, 30, 8, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=5)
OPERATOR = "op-lbianchi"
# 82 years (3), alone with family support (2), five dependencies (5), ...: 17, medium.
ITEMS = BrassItems.model_validate(
    {
        "age": 82,
        "living_situation": "alone_with_family_support",
        "dependencies": [
            "bathing_dressing",
            "toileting",
            "meal_preparation",
            "shopping",
            "transport",
        ],
        "cognition": "oriented",
        "mobility": "walks_with_aids",
        "sensory_deficits": "vision_or_hearing",
        "previous_admissions": 2,
        "active_problems": 4,
        "drugs": 7,
    }
)


@pytest.fixture(scope="module")
def config() -> IntakeConfig:
    return load_config(EXAMPLE)


def opened(config: IntakeConfig, announcement: DischargeAnnounced) -> Case:
    outcome = assess_announcement(config, announcement)
    return new_case(announcement, outcome, correlation_id="ward-flow-7", now=NOW)


# --- opening a case, and announcing it again ---------------------------------------------------


def test_a_case_opened_with_its_assessment_is_decided_at_once(config: IntakeConfig) -> None:
    announcement = announced(assessment=assessment(brass_score=25))

    case = opened(config, announcement)

    assert (case.case_id, case.hospital_id, case.ward) == (
        "asst-vimercate:V2024-000123",
        "asst-vimercate",
        "medicina-generale",
    )
    assert case.status is CaseStatus.ELIGIBLE
    assert case.ambito_id == "desio"
    assert isinstance(case.decision, Eligible)
    assert case.decision.intensity is Intensity.HIGH
    assert case.decided_at == NOW
    assert case.announced_at == NOW
    assert case.correlation_id == "ward-flow-7"
    assert case.patient == announcement.patient  # kept here, never published
    assert case.ward_assessment == announcement.assessment


def test_a_case_opened_without_assessment_waits_undecided(config: IntakeConfig) -> None:
    case = opened(config, announced(municipality_code=MAGENTA))

    assert case.status is CaseStatus.AWAITING_ASSESSMENT
    assert case.ambito_id == "magentino"
    assert (case.decision, case.decided_at, case.ward_assessment) == (None, None, None)


def test_a_case_outside_every_district_is_rejected_with_no_district(
    config: IntakeConfig,
) -> None:
    case = opened(config, announced(municipality_code=ROME, assessment=assessment()))

    assert case.status is CaseStatus.NOT_ELIGIBLE
    assert case.ambito_id is None
    assert isinstance(case.decision, NotEligible)


def test_announced_again_with_the_missing_assessment_decides_a_waiting_case(
    config: IntakeConfig,
) -> None:
    waiting = opened(config, announced())
    moved = EXPECTED_DISCHARGE + timedelta(days=1)
    again = announced(assessment=assessment(brass_score=5), expected_discharge_at=moved)

    decided = reannounced(config, waiting, again, LATER)

    assert decided is not None
    assert decided.status is CaseStatus.ELIGIBLE
    assert isinstance(decided.decision, Eligible)
    assert decided.decision.intensity is Intensity.LOW
    assert decided.decided_at == LATER
    assert decided.expected_discharge_at == moved
    assert decided.ward_assessment == again.assessment
    # What the first announcement set stays.
    assert (decided.announced_at, decided.correlation_id) == (NOW, "ward-flow-7")


def test_announced_again_changes_nothing_else(config: IntakeConfig) -> None:
    waiting = opened(config, announced())
    decided = opened(config, announced(assessment=assessment()))
    cancelled = replace(waiting, status=CaseStatus.CANCELLED)

    assert reannounced(config, waiting, announced(), LATER) is None  # still no assessment
    with_one = announced(assessment=assessment(not_met_answers()))
    assert reannounced(config, decided, with_one, LATER) is None  # no second decision
    assert reannounced(config, cancelled, with_one, LATER) is None


# --- what is published of a decision ------------------------------------------------------------


def test_the_decision_event_carries_the_decision_never_the_person(config: IntakeConfig) -> None:
    eligible = opened(config, announced(assessment=assessment(brass_score=12)))
    rejected = opened(config, announced(assessment=assessment(not_met_answers())))
    assert isinstance(eligible.decision, Eligible)
    assert isinstance(rejected.decision, NotEligible)

    confirmed = decision_event(eligible.case_id, EXPECTED_DISCHARGE, eligible.decision)
    refused = decision_event(rejected.case_id, EXPECTED_DISCHARGE, rejected.decision)

    assert isinstance(confirmed, EligibilityConfirmed)
    assert (confirmed.ambito_id, confirmed.intensity) == ("desio", Intensity.MEDIUM)
    assert confirmed.services == eligible.decision.services
    assert confirmed.expected_discharge_at == EXPECTED_DISCHARGE
    assert (confirmed.decided_by, confirmed.reasons) == ("rule", eligible.decision.reasons)
    assert isinstance(refused, EligibilityRejected)
    assert refused.reasons == rejected.decision.reasons
    for event in (confirmed, refused):
        published = event.model_dump_json()
        assert "RSSMRA85T10A562S" not in published
        assert "Rossi" not in published


# --- what the team may work on --------------------------------------------------------------------


def test_a_cancelled_case_is_closed_to_the_team(config: IntakeConfig) -> None:
    case = opened(config, announced())
    ensure_open(case)  # awaiting: open

    with pytest.raises(Conflict) as refused:
        ensure_open(replace(case, status=CaseStatus.CANCELLED))

    assert refused.value.code == "case.cancelled"
    assert case.case_id in refused.value.message


def test_answers_are_for_the_checklist_of_the_cases_district(config: IntakeConfig) -> None:
    desio = config.ambiti["desio"]

    assert checklist_of(desio, "c-1", met_answers()) is desio
    with pytest.raises(Conflict) as no_district:
        checklist_of(None, "c-1", met_answers())
    with pytest.raises(Invalid) as unknown:
        checklist_of(desio, "c-1", {**met_answers(), "R12": Y, "R10": Y})

    assert no_district.value.code == "case.no_district"
    assert "c-1" in no_district.value.message
    assert unknown.value.code == "assessment.unknown_requirements"
    assert unknown.value.message.startswith(
        "non nella lista di controllo di desio: R12, R10 (ha R1,"
    )


# --- versions ----------------------------------------------------------------------------------


def test_the_same_content_again_makes_no_new_version() -> None:
    first = AssessmentContent.filled(met_answers(), None, ITEMS, "Vive sola.")
    reordered = dict(reversed(met_answers().items()))
    same = AssessmentContent.filled(reordered, None, ITEMS, "Vive sola.")
    other_notes = AssessmentContent.filled(met_answers(), None, ITEMS, None)
    history = [AssessmentVersion(1, first, OPERATOR, NOW)]

    assert new_version([], first) == 1
    assert new_version(history, same) is None  # whoever sends it
    assert new_version(history, other_notes) == 2
    assert new_version([*history, AssessmentVersion(2, other_notes, OPERATOR, LATER)], first) == 3


def test_taking_charge_versions_compare_their_content() -> None:
    pai: dict[str, Any] = {"objectives": ["Rientro a domicilio"], "services_notes": None}
    content = TakingCharge(pai=pai, information={"consent": True})
    history = [TakingChargeVersion(1, content, OPERATOR, NOW)]

    assert new_version(history, TakingCharge(pai=dict(pai), information={"consent": True})) is None
    assert new_version(history, TakingCharge(pai=pai, information={"consent": False})) == 2


def test_the_items_score_wins_over_a_score_sent_alone() -> None:
    with_items = AssessmentContent.filled(met_answers(), None, ITEMS, None)
    score_only = AssessmentContent.filled(met_answers(), 30, None, None)

    assert with_items.assessment.brass_score == 17
    assert score_only.assessment.brass_score == 30
    assert score_only.brass_result(brass_bands(None)) is None
    result = with_items.brass_result(brass_bands(None))
    assert result is not None
    assert result.band == "medium"


def test_the_assessment_in_force(config: IntakeConfig) -> None:
    waiting = opened(config, announced())
    from_ward = opened(config, announced(assessment=assessment(brass_score=3)))
    team = AssessmentContent.filled(not_met_answers(), 25, None, None)
    versions = [AssessmentVersion(1, team, OPERATOR, NOW)]

    assert assessment_in_force(waiting, []) is None
    assert assessment_in_force(from_ward, []) == AssessmentContent(assessment(brass_score=3))
    assert assessment_in_force(from_ward, versions) == team


def test_brass_bands_are_the_districts_or_the_usual_ones(config: IntakeConfig) -> None:
    desio = config.ambiti["desio"]

    assert brass_bands(None) == (10, 19)
    assert brass_bands(desio) == (desio.intensity.brass_low_max, desio.intensity.brass_medium_max)


# --- the waiting list ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("announced_at", "today", "days"),
    [
        (datetime(2024, 10, 1, 9, 0, tzinfo=UTC), date(2024, 10, 1), 0),
        (datetime(2024, 10, 1, 9, 0, tzinfo=UTC), date(2024, 10, 4), 3),
        # 23:30 UTC is already the next day in Italy (CEST, UTC+2).
        (datetime(2024, 9, 30, 23, 30, tzinfo=UTC), date(2024, 10, 1), 0),
        (datetime(2024, 9, 30, 21, 30, tzinfo=UTC), date(2024, 10, 1), 1),
    ],
)
def test_days_waiting_count_italian_days(announced_at: datetime, today: date, days: int) -> None:
    assert days_waiting(CaseStatus.AWAITING_ASSESSMENT, announced_at, today) == days


def test_only_a_waiting_case_counts_days() -> None:
    announced_at = datetime(2024, 9, 1, 9, 0, tzinfo=UTC)

    for status in (CaseStatus.ELIGIBLE, CaseStatus.NOT_ELIGIBLE, CaseStatus.CANCELLED):
        assert days_waiting(status, announced_at, date(2024, 10, 1)) is None
