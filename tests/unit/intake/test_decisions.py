"""The district's decisions on a case, pure: who confirms, consent, the plan's versions, the SAD
hours cap per person, the pseudonym, the territorial network, readmission and closure."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from cerniera.intake import domain, plans
from cerniera.intake.config import IntakeConfig, load_config
from cerniera.intake.domain import Case, CaseStatus
from cerniera.intake.eligibility import RULE, Eligible
from cerniera.intake.plans import CapCheck, CapExceeded, Consent, NetworkTask, PlanReason
from cerniera.shared.contract import ServiceLine, ServiceType
from cerniera.shared.refusals import Conflict, Invalid
from support.discharges import MAGENTA, announced, assessment, not_met_answers
from support.districts import EXAMPLE

NOW = datetime(2024, 10, 1, 9, 0, tzinfo=UTC)
OPERATOR = "op-lbianchi"


@pytest.fixture(scope="module")
def config() -> IntakeConfig:
    return load_config(EXAMPLE)


def opened(config: IntakeConfig, *, consent: bool | None = True, town: str = "108023") -> Case:
    """A case announced with a met checklist, decided as its district says."""
    data = announced(municipality_code=town, assessment=assessment(brass_score=15, consent=consent))
    outcome = domain.assess_announcement(config, data)
    ambito = config.ambiti[outcome.ambito_id or ""]
    return domain.new_case(
        data, outcome, correlation_id="c", now=NOW, confirmed_by=domain.confirmer(ambito)
    )


def lines(**weekly: int) -> list[ServiceLine]:
    return [ServiceLine(service_type=ServiceType(k), weekly_quantity=v) for k, v in weekly.items()]


# --- who decides, and consent ---------------------------------------------------------------


def test_the_example_districts_say_who_decides(config: IntakeConfig) -> None:
    assert config.ambiti["desio"].intake.decision == "rule"
    assert config.ambiti["magentino"].intake.decision == "team"
    # The cap and the follow-up period are read from the sections that set them.
    assert config.ambiti["desio"].billing.sad_cap_hours == 80
    assert config.ambiti["desio"].monitoring.duration_days == 30


def test_where_the_rule_decides_a_consented_eligible_case_is_published(
    config: IntakeConfig,
) -> None:
    case = opened(config)
    assert (case.status, case.confirmed_by) == (CaseStatus.ELIGIBLE, RULE)


def test_where_the_team_decides_the_rule_only_proposes(config: IntakeConfig) -> None:
    case = opened(config, town=MAGENTA)
    assert (case.status, case.confirmed_by) == (CaseStatus.AWAITING_CONFIRMATION, None)
    assert isinstance(case.decision, Eligible)  # the proposal, kept


def test_without_consent_nothing_is_published(config: IntakeConfig) -> None:
    assert opened(config, consent=None).status is CaseStatus.AWAITING_CONSENT
    assert opened(config, consent=False).status is CaseStatus.AWAITING_CONSENT


def test_a_rejection_needs_neither_confirmation_nor_consent(config: IntakeConfig) -> None:
    data = announced(
        municipality_code=MAGENTA, assessment=assessment(not_met_answers(), consent=None)
    )
    outcome = domain.assess_announcement(config, data)
    case = domain.new_case(data, outcome, correlation_id="c", now=NOW, confirmed_by=None)
    assert case.status is CaseStatus.NOT_ELIGIBLE


def test_the_teams_consent_record_wins_over_the_wards(config: IntakeConfig) -> None:
    case = opened(config, consent=None)
    guardian = plans.new_consent(True, "guardian", "Carla Neri", OPERATOR, NOW)
    consented = domain.with_consent(case, guardian)
    assert consented.status is CaseStatus.ELIGIBLE
    assert consented.consent_in_force == guardian
    refused = domain.with_consent(consented, replace(guardian, given=False))
    assert refused.status is CaseStatus.ELIGIBLE  # published already: a record, not a recall
    ward = opened(config).consent_in_force
    assert ward == Consent(True, None, None, plans.WARD, NOW)


def test_a_guardians_name_only_with_a_guardians_consent() -> None:
    with pytest.raises(Invalid):
        plans.new_consent(True, "guardian", None, OPERATOR, NOW)
    with pytest.raises(Invalid):
        plans.new_consent(True, "person", "Carla Neri", OPERATOR, NOW)


def test_the_teams_confirmation_makes_it_the_teams_decision(config: IntakeConfig) -> None:
    proposal = opened(config, town=MAGENTA, consent=None)
    confirmed = domain.confirmed(proposal, OPERATOR, None)
    assert confirmed is not None
    assert (confirmed.status, confirmed.confirmed_by) == (CaseStatus.AWAITING_CONSENT, OPERATOR)
    assert isinstance(confirmed.decision, Eligible)
    assert confirmed.decision.decided_by == OPERATOR
    assert [r.code for r in confirmed.decision.reasons][:1] == ["confirmed.team"]
    assert confirmed.decision.services == proposal.decision.services  # type: ignore[union-attr]


def test_a_confirmation_may_tailor_the_services(config: IntakeConfig) -> None:
    proposal = opened(config, town=MAGENTA)
    tailored = lines(sad=9, emergency_alarm=7, teleassistance=7)
    confirmed = domain.confirmed(proposal, OPERATOR, tailored)
    assert confirmed is not None
    assert isinstance(confirmed.decision, Eligible)
    assert confirmed.status is CaseStatus.ELIGIBLE
    assert confirmed.decision.services == tailored
    assert [r.code for r in confirmed.decision.reasons][:2] == ["confirmed.team", "plan.tailored"]


def test_confirming_a_published_plan_again_changes_nothing_and_other_services_are_refused(
    config: IntakeConfig,
) -> None:
    published = opened(config)
    assert domain.confirmed(published, OPERATOR, None) is None
    with pytest.raises(Conflict) as refused:
        domain.confirmed(published, OPERATOR, lines(sad=2))
    assert refused.value.code == "case.already_confirmed"


def test_a_rejected_case_has_nothing_to_confirm(config: IntakeConfig) -> None:
    data = announced(assessment=assessment(not_met_answers()))
    case = domain.new_case(
        data, domain.assess_announcement(config, data), correlation_id="c", now=NOW
    )
    with pytest.raises(Conflict) as refused:
        domain.confirmed(case, OPERATOR, None)
    assert refused.value.code == "case.not_eligible"


def test_a_plan_names_each_service_once() -> None:
    with pytest.raises(Invalid):
        plans.checked_services(lines(sad=3) + lines(sad=4))
    assert plans.same_services(lines(sad=3, meals=5), lines(meals=5, sad=3))
    assert not plans.same_services(lines(sad=3), lines(sad=3, meals=5))


def test_each_plan_code_has_its_fixed_italian_text() -> None:
    for code in plans.TEAM_REVISIONS:
        reason = plans.plan_reason(code)
        assert reason.code == code.value
        assert reason.text.startswith("Piano ")
    assert set(plans.PLAN_TEXTS) == set(PlanReason)


# --- the SAD hours cap per person -------------------------------------------------------------


def test_the_hours_a_plan_authorises_are_weekly_hours_over_the_follow_up() -> None:
    assert plans.sad_hours(lines(sad=12, meals=7), 30) == Decimal("51.4")
    assert plans.sad_hours(lines(sad=7), 28) == Decimal("28.0")
    assert plans.sad_hours(lines(meals=7), 30) == 0


def test_the_cap_counts_the_persons_other_plans_and_yields_to_an_exception() -> None:
    within = CapCheck(cap=Decimal(80), plan_hours=Decimal("38.6"), other_hours=Decimal("38.6"),
                      excepted=False)  # fmt: skip
    assert (within.exceeded, within.refused) == (False, False)
    beyond = replace(within, plan_hours=Decimal("51.4"))
    assert (beyond.total, beyond.exceeded, beyond.refused) == (Decimal("90.0"), True, True)
    refusal = beyond.refusal()
    assert isinstance(refusal, CapExceeded)
    assert refusal.code == "plan.cap_exceeded"
    assert "51.4" in refusal.message
    assert "38.6" in refusal.message
    assert "80" in refusal.message
    assert replace(beyond, excepted=True).refused is False


def test_a_rule_plan_beyond_the_cap_is_held_for_the_team(config: IntakeConfig) -> None:
    held = domain.held_by_cap(opened(config))
    assert (held.status, held.confirmed_by) == (CaseStatus.AWAITING_CONFIRMATION, None)


# --- the pseudonym --------------------------------------------------------------------------


def test_the_pseudonym_is_keyed_stable_and_short() -> None:
    ref = plans.person_ref("RSSMRA85T10A562S", b"k1")
    assert ref.startswith("p-")
    assert len(ref) == 18
    assert ref == plans.person_ref(" rssmra85t10a562s", b"k1")  # the same person
    assert ref != plans.person_ref("RSSMRA85T10A562S", b"k2")  # another key, another ref
    assert "RSSMRA" not in ref


# --- the territorial network, readmission, closure -----------------------------------------


def test_one_network_task_for_a_person_without_a_caregiver() -> None:
    assert plans.needs_network(False, [])
    assert not plans.needs_network(True, [])
    assert not plans.needs_network(None, [])  # the ward did not say
    task = NetworkTask("net-1", NOW)
    assert not plans.needs_network(False, [task])
    assert plans.open_task([task]) is task
    with pytest.raises(Conflict) as refused:
        plans.open_task([replace(task, completed_at=NOW)])
    assert refused.value.code == "network_task.none"


def test_a_readmission_before_the_decision_ends_the_case(config: IntakeConfig) -> None:
    waiting = opened(config, town=MAGENTA)
    back = domain.readmitted(waiting, NOW)
    assert (back.status, back.readmitted_at) == (CaseStatus.READMITTED, NOW)
    with pytest.raises(Conflict) as refused:
        domain.ensure_open(back)
    assert refused.value.code == "case.readmitted"


def test_a_closed_case_refuses_changes_and_stays_closed(config: IntakeConfig) -> None:
    published = replace(opened(config), plan_version=1)
    closed = domain.closed(published, NOW, "completed")
    assert closed.status is CaseStatus.CLOSED
    with pytest.raises(Conflict) as refused:
        domain.ensure_open(closed)
    assert refused.value.code == "case.closed"
    assert domain.readmitted(closed, NOW).status is CaseStatus.CLOSED
    assert closed.published_eligible  # its hours still count for the person's cap
    assert not domain.closed(opened(config, town=MAGENTA), NOW, "deceased").published_eligible
