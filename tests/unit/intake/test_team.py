"""The team's corrections and overrides of the rule, on the example districts: pure, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cerniera.intake.config import Ambito, load_config
from cerniera.intake.domain import (
    OVERRIDE_TEXT,
    Override,
    OverrideError,
    Reassessment,
    ReassessmentOutcome,
    override,
    reassess,
    rule_says,
)
from cerniera.intake.eligibility import (
    RULE,
    Decision,
    Eligible,
    NotEligible,
    decide,
    same_decision,
    unknown_requirements,
)
from cerniera.intake.store import decision_from_record, decision_record
from cerniera.shared.contract import Assessment, Intensity, Reason, ServiceType
from support.discharges import Y, assessment, met_answers, not_met_answers
from support.districts import EXAMPLE

OPERATOR = "op-lbianchi"


@pytest.fixture(scope="module")
def desio() -> Ambito:
    return load_config(EXAMPLE).ambiti["desio"]


def by_team(
    ambito: Ambito | None,
    *,
    eligible: bool,
    intensity: Intensity | None,
    over: Decision | None = None,
) -> Override:
    """The team's override of ``over``, both the decision in force and the rule's (the
    operator's reason is no input: it is kept with the override record, never decided on)."""
    return override(
        ambito,
        eligible=eligible,
        intensity=intensity,
        decided_by=OPERATOR,
        in_force=over,
        rule=over,
    )


def reassessed(
    desio: Ambito,
    given: Assessment,
    in_force: Decision | None,
    *,
    version: int,
    overridden: bool = False,
    by: str = OPERATOR,
) -> Reassessment:
    """The team's assessment, version ``version``, of a case with ``in_force``."""
    return reassess(desio, given, in_force, overridden=overridden, version=version, assessed_by=by)


def codes(decision: Decision) -> list[str]:
    return [r.code for r in decision.reasons]


def eligible(desio: Ambito, brass_score: int) -> Decision:
    return decide(desio, assessment(met_answers(), brass_score=brass_score))


def rejected(desio: Ambito) -> Decision:
    return decide(desio, assessment(not_met_answers()))


# --- corrections ---------------------------------------------------------------------------


def test_a_waiting_case_is_decided_by_the_rule(desio: Ambito) -> None:
    result = reassessed(desio, assessment(met_answers(), brass_score=25), None, version=1)

    assert result.outcome is ReassessmentOutcome.DECIDED
    assert result.decision == result.rule
    assert isinstance(result.decision, Eligible)
    assert result.decision.intensity is Intensity.HIGH
    assert result.decision.decided_by == RULE
    assert codes(result.decision) == ["phase2.primary_met", "phase2.others_met", "intensity.brass"]


def test_answers_that_keep_the_decision_publish_nothing(desio: Ambito) -> None:
    # Different answers and score, same eligibility and band.
    changed = {**met_answers(), "R9": Y}
    result = reassessed(desio, assessment(changed, brass_score=24), eligible(desio, 25), version=2)

    assert result.outcome is ReassessmentOutcome.UNCHANGED
    assert result.decision is None
    assert isinstance(result.rule, Eligible)


def test_a_correction_that_flips_eligibility_supersedes_the_decision(desio: Ambito) -> None:
    result = reassessed(desio, assessment(not_met_answers()), eligible(desio, 25), version=3)

    assert result.outcome is ReassessmentOutcome.CORRECTED
    assert isinstance(result.decision, NotEligible)
    assert result.decision.decided_by == RULE
    assert codes(result.decision) == [
        "assessment.corrected",
        "phase2.primary_not_met",
        "phase2.others_met",
    ]
    why = result.decision.reasons[0].text
    assert "versione 3 di op-lbianchi" in why
    assert "da «idoneo, intensità alta» a «non idoneo»" in why
    assert "sostituisce la precedente" in why
    assert result.decision.reasons[1:] == result.rule.reasons


def test_a_correction_that_changes_only_the_intensity_supersedes_too(desio: Ambito) -> None:
    result = reassessed(
        desio, assessment(met_answers(), brass_score=5), eligible(desio, 25), version=2
    )

    assert result.outcome is ReassessmentOutcome.CORRECTED
    assert isinstance(result.decision, Eligible)
    assert result.decision.intensity is Intensity.LOW
    assert {s.service_type for s in result.decision.services} == {
        ServiceType.SAD,
        ServiceType.TELEASSISTANCE,
    }
    assert codes(result.decision)[0] == "assessment.corrected"


def test_an_override_holds_whatever_the_new_answers(desio: Ambito) -> None:
    in_force = by_team(
        desio,
        eligible=True,
        intensity=Intensity.MEDIUM,
        over=rejected(desio),
    ).decision

    result = reassessed(
        desio, assessment(not_met_answers()), in_force, version=2, overridden=True, by="op-other"
    )

    assert result.outcome is ReassessmentOutcome.HELD_BY_OVERRIDE
    assert result.decision is None
    assert isinstance(result.rule, NotEligible)  # still computed, shown to the team


def test_unknown_requirements_are_named_in_order(desio: Ambito) -> None:
    assert unknown_requirements(desio.phase2, {"R1": "yes", "R12": "no", "R10": "yes"}) == [
        "R12",
        "R10",
    ]
    assert unknown_requirements(desio.phase2, met_answers()) == []


# --- overrides -----------------------------------------------------------------------------


def test_override_to_eligible_names_the_operator_and_keeps_the_rule_for_the_record(
    desio: Ambito,
) -> None:
    rule = rejected(desio)

    result = by_team(desio, eligible=True, intensity=Intensity.HIGH, over=rule)

    assert result.publish is True
    decision = result.decision
    assert isinstance(decision, Eligible)
    assert decision.decided_by == OPERATOR
    assert decision.intensity is Intensity.HIGH
    assert decision.ambito_id == "desio"
    assert {s.service_type: s.weekly_quantity for s in decision.services}[ServiceType.SAD] == 12
    assert codes(decision) == [
        "override.team",
        "intensity.team",
        "override.rule_decision",
        "rule.phase2.primary_not_met",
        "rule.phase2.others_met",
    ]
    # A fixed text: the operator's words (clinical, maybe) stay in intake.
    assert decision.reasons[0].text == OVERRIDE_TEXT
    assert decision.reasons[0].text == "Decisione dell'équipe in deroga alla regola del distretto."
    assert decision.reasons[2].text == "la regola dell'ambito: non idoneo"
    assert [r.text for r in decision.reasons[3:]] == [r.text for r in rule.reasons]


def test_override_to_not_eligible(desio: Ambito) -> None:
    rule = eligible(desio, 12)

    result = by_team(desio, eligible=False, intensity=None, over=rule)

    assert result.publish is True
    assert isinstance(result.decision, NotEligible)
    assert result.decision.decided_by == OPERATOR
    assert result.decision.ambito_id == "desio"
    assert codes(result.decision)[:2] == ["override.team", "override.rule_decision"]
    assert "idoneo, intensità media" in result.decision.reasons[1].text
    assert codes(result.decision)[-1] == "rule.intensity.brass"


def test_override_to_what_is_in_force_is_recorded_but_not_published(desio: Ambito) -> None:
    rule = eligible(desio, 12)  # medium

    same = by_team(desio, eligible=True, intensity=Intensity.MEDIUM, over=rule)
    other_intensity = by_team(desio, eligible=True, intensity=Intensity.LOW, over=rule)

    assert same.publish is False
    assert same.decision.decided_by == OPERATOR  # recorded as the team's decision
    assert other_intensity.publish is True


def test_override_before_any_assessment_is_the_first_decision(desio: Ambito) -> None:
    result = by_team(desio, eligible=True, intensity=Intensity.LOW)

    assert result.publish is True
    assert codes(result.decision) == ["override.team", "intensity.team", "override.rule_decision"]
    assert result.decision.reasons[2].text == (
        "la regola dell'ambito: nessuna decisione (manca la valutazione)"
    )


def test_overrides_the_case_cannot_take(desio: Ambito) -> None:
    with pytest.raises(OverrideError, match="alcun ambito"):
        by_team(None, eligible=True, intensity=Intensity.LOW)
    with pytest.raises(OverrideError, match="richiede l'intensità"):
        by_team(desio, eligible=True, intensity=None)
    with pytest.raises(OverrideError, match="non ha intensità"):
        by_team(desio, eligible=False, intensity=Intensity.LOW)


def test_a_case_outside_every_district_can_only_stay_rejected() -> None:
    outside = NotEligible(reasons=[Reason(code="residence.outside_ambiti", text="Roma")])

    assert rule_says(None, assessment(met_answers()), stored=outside) == outside
    result = by_team(None, eligible=False, intensity=None, over=outside)
    assert result.publish is False
    assert "rule.residence.outside_ambiti" in codes(result.decision)


def test_what_the_rule_says(desio: Ambito) -> None:
    by_team = NotEligible(reasons=[Reason(code="override.team", text="x")], decided_by=OPERATOR)

    assert rule_says(desio, None) is None
    assert rule_says(None, None, stored=by_team) is None
    assert rule_says(desio, assessment(met_answers(), brass_score=25)) == eligible(desio, 25)


# --- stored decisions ---------------------------------------------------------------------------


def test_same_decision_compares_eligibility_and_intensity(desio: Ambito) -> None:
    assert same_decision(eligible(desio, 11), eligible(desio, 19))
    assert not same_decision(eligible(desio, 10), eligible(desio, 11))
    assert not same_decision(eligible(desio, 10), rejected(desio))
    assert same_decision(rejected(desio), NotEligible(reasons=[]))


def test_decisions_survive_their_stored_record(desio: Ambito) -> None:
    at = datetime(2024, 10, 1, 9, 30, tzinfo=UTC)
    confirmed = by_team(desio, eligible=True, intensity=Intensity.HIGH).decision

    record = decision_record(confirmed, at)

    assert record["decided_at"] == "2024-10-01T09:30:00+00:00"
    assert record["decided_by"] == OPERATOR
    assert decision_from_record(record, "desio") == confirmed
    assert decision_from_record(decision_record(rejected(desio)), "desio") == rejected(desio)
    assert decision_from_record(None, "desio") is None
    with pytest.raises(ValueError, match="district"):
        decision_from_record(record, None)
