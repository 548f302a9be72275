"""The district's decisions in a case's lifecycle, without I/O: a revised plan (versioned), the
team's resolution of an escalation, a hand-over to the municipality, new contact details.

As in ``test_lifecycle``: Monday 2 March 2026 at 9:00 in Italy, Desio (108023). SAD is asked
of coop-il-melograno (2 working days) then coop-solidarieta-brianza (1), meals of
brianza-ristorazione-sociale (2) then pasti-a-casa-desio (3), teleassistance of
telesoccorso-lombardia (3) then croce-azzurra-teleassistenza (2), the emergency alarm of
telesoccorso-lombardia (3).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from cerniera.activation.config import load_config
from cerniera.activation.domain import Case, CaseFile, CaseStatus, Ending
from cerniera.activation.escalations import EscalationStatus, Resolve
from cerniera.activation.planning import Attempt, RequestStatus, Rules
from cerniera.activation.readiness import readiness
from cerniera.shared.clock import ROME
from cerniera.shared.contract import (
    CaseHandedOver,
    CaseOutcome,
    DeclineReason,
    DischargeAnnounced,
    DischargePostponementRequested,
    EscalationReason,
    EscalationResolved,
    EventData,
    NetworkResource,
    PatientDetailsUpdated,
    PlanRevised,
    Reason,
    Resolution,
    ServiceActivationRequested,
    ServiceDeactivated,
    ServiceLine,
    ServiceType,
)
from cerniera.shared.refusals import Invalid, Refused
from support.activation_attempts import CASE, MONDAY, MONDAY_9AM
from support.activation_events import MEDIUM, confirmed
from support.discharges import HOSPITAL, announced
from support.districts import EXAMPLE

REF = CASE.split(":", 1)[1]
SAD, MEALS, TELE = ServiceType.SAD, ServiceType.MEALS, ServiceType.TELEASSISTANCE
ALARM = ServiceType.EMERGENCY_ALARM
MARCH = {day: date(2026, 3, day) for day in range(1, 32)}
THURSDAY = datetime(2026, 3, 5, 10, tzinfo=ROME)
TUESDAY = datetime(2026, 3, 3, 10, tzinfo=ROME)
CHAIN = "the-announcement"
NEW_ADDRESS = "Via Manzoni 3, 20832 Desio (MB)"


@pytest.fixture(scope="module")
def rules() -> Rules:
    return Rules(load_config(EXAMPLE).ambiti, MONDAY_9AM)


def planned(
    rules: Rules,
    discharge: datetime = THURSDAY,
    services: Sequence[tuple[ServiceType, int]] = MEDIUM,
) -> CaseFile:
    """Announced, then confirmed, in a new transaction."""
    file = CaseFile(Case.announced(announced_at(discharge), CHAIN), [], rules)
    assert file.confirmed(confirmed(CASE, discharge, services=services)) is None
    return again(file, rules)


def announced_at(discharge: datetime) -> DischargeAnnounced:
    return announced(discharge_ref=REF, expected_discharge_at=discharge, assessment=None)


def again(file: CaseFile, rules: Rules) -> CaseFile:
    return CaseFile(file.case, file.attempts, rules)


def revision(version: int, services: Sequence[tuple[ServiceType, int]]) -> PlanRevised:
    return PlanRevised(
        case_id=CASE,
        ambito_id="desio",
        plan_version=version,
        services=[ServiceLine(service_type=s, weekly_quantity=Decimal(q)) for s, q in services],
        revised_by="op-lbianchi",
        reason=Reason(code="plan.check_adjustment", text="Piano adeguato alla verifica."),
    )


def request(file: CaseFile, service: ServiceType) -> Attempt:
    return max((a for a in file.attempts if a.service_type == service), key=lambda a: a.attempt)


def seen(events: Sequence[EventData]) -> list[tuple[str, str | None]]:
    return [(e.event_type, getattr(e, "request_id", None)) for e in events]


def all_declined(file: CaseFile, rules: Rules, service: ServiceType = SAD) -> CaseFile:
    """Every SAD provider declines: the service is escalated."""
    for _ in range(2):
        current = request(file, service)
        assert (
            file.declined(current.request_id, current.provider_id, DeclineReason.CAPACITY) is None
        )
    assert file.events[-1].event_type == "ServiceActivationEscalated"
    return again(file, rules)


# --- a revised plan ------------------------------------------------------------------------------


def test_a_revised_plan_adds_requantifies_and_stops(rules: Rules) -> None:
    file = planned(rules)

    assert file.revised(revision(2, [(SAD, 9), (ALARM, 7)])) is None

    assert file.case.plan_version == 2
    assert seen(file.events) == [
        ("ServiceDeactivated", f"{CASE}/meals/1"),
        ("ServiceDeactivated", f"{CASE}/teleassistance/1"),
        ("ServiceActivationRequested", f"{CASE}/sad/1"),
        ("ServiceActivationRequested", f"{CASE}/emergency_alarm/1"),
    ]
    stopped = [e for e in file.events if isinstance(e, ServiceDeactivated)]
    assert {e.until for e in stopped} == {MONDAY}
    sad, alarm = [e for e in file.events if isinstance(e, ServiceActivationRequested)]
    assert (sad.provider_id, sad.weekly_quantity) == ("coop-il-melograno", Decimal(9))
    # The emergency alarm is planned like any service: telesoccorso, 3 working days.
    assert (alarm.provider_id, alarm.start_by, alarm.weekly_quantity) == (
        "telesoccorso-lombardia",
        MARCH[5],
        Decimal(7),
    )


def test_an_older_or_repeated_plan_changes_nothing(rules: Rules) -> None:
    file = planned(rules)
    file.revised(revision(3, [(SAD, 9)]))
    later = again(file, rules)

    assert later.revised(revision(2, [(SAD, 3), (MEALS, 5)])) == "plan version 2, in force 3"
    assert later.revised(revision(3, [(SAD, 9)])) == "plan version 3, in force 3"
    late_decision = confirmed(CASE, THURSDAY).model_copy(update={"plan_version": 1})
    assert later.confirmed(late_decision) == "plan version 1 older than 3"
    assert (later.events, later.case_changed) == ([], False)


def test_a_plan_revised_before_the_contact_is_what_gets_planned(rules: Rules) -> None:
    file = CaseFile(Case.confirmed(confirmed(CASE, THURSDAY), CHAIN), [], rules)

    assert file.revised(revision(2, [(SAD, 9), (ALARM, 7)])) is None
    assert file.events == []
    file.announced(announced_at(THURSDAY))

    assert file.case.status is CaseStatus.PLANNED
    assert [(a.service_type, a.weekly_quantity) for a in file.created] == [
        (SAD, Decimal(9)),
        (ALARM, Decimal(7)),
    ]


def test_no_plan_to_revise_before_a_decision_or_after_the_end(rules: Rules) -> None:
    waiting = CaseFile(Case.announced(announced_at(THURSDAY), CHAIN), [], rules)
    ended = CaseFile(Case.ended_unseen(CASE, Ending.cancelled(MONDAY), CHAIN), [], rules)

    assert waiting.revised(revision(2, [(SAD, 9)])) == (
        "no plan in force: the case awaits its decision"
    )
    assert ended.revised(revision(2, [(SAD, 9)])) == "case ended"


def test_a_rejection_resets_the_plan_so_a_new_confirmation_starts_afresh(rules: Rules) -> None:
    file = planned(rules)
    file.revised(revision(2, [(SAD, 9)]))
    file = again(file, rules)

    file.rejected()
    assert file.case.plan_version == 0
    renewed = again(file, rules)

    assert renewed.confirmed(confirmed(CASE, THURSDAY, services=[(SAD, 6)])) is None
    assert [a.request_id for a in renewed.created] == [f"{CASE}/sad/2"]


# --- escalations -------------------------------------------------------------------------------


def test_an_escalation_is_recorded_once_while_open(rules: Rules) -> None:
    file = all_declined(planned(rules, services=[(SAD, 6)]), rules)

    [escalation] = file.case.escalations
    assert (escalation.service_type, escalation.reason, escalation.status) == (
        SAD,
        EscalationReason.ALL_PROVIDERS_DECLINED,
        EscalationStatus.OPEN,
    )
    assert escalation.escalated_at == MONDAY_9AM


def test_a_provider_assigned_by_hand_is_asked_with_its_own_lead_time(rules: Rules) -> None:
    file = all_declined(planned(rules, services=[(SAD, 6)]), rules)

    # Outside the rotation: coop-il-melograno had declined.
    event = file.resolve(
        Resolve(SAD, Resolution.MANUAL_PROVIDER, provider_id="coop-il-melograno"), "op-rossi"
    )

    assert event == EscalationResolved(
        case_id=CASE,
        service_type=SAD,
        resolution=Resolution.MANUAL_PROVIDER,
        provider_id="coop-il-melograno",
        resolved_by="op-rossi",
        resolved_at=MONDAY_9AM,
    )
    assert seen(file.events) == [
        ("EscalationResolved", None),
        ("ServiceActivationRequested", f"{CASE}/sad/3"),
    ]
    [asked] = file.created
    assert (asked.provider_id, asked.earliest_start, asked.start_by) == (
        "coop-il-melograno",
        MARCH[4],
        MARCH[5],
    )
    [escalation] = file.case.escalations
    assert (escalation.status, escalation.resolved_by) == (EscalationStatus.RESOLVED, "op-rossi")


def test_a_provider_by_hand_that_cannot_make_it_starts_on_its_earliest_day(rules: Rules) -> None:
    # Discharge on Tuesday: meals cannot start in time (brianza-ristorazione-sociale asked for
    # Wednesday); pasti-a-casa-desio by hand can start on Thursday, 3 working days.
    file = planned(rules, TUESDAY, services=[(MEALS, 5)])
    first = request(file, MEALS)

    file.resolve(
        Resolve(MEALS, Resolution.MANUAL_PROVIDER, provider_id="pasti-a-casa-desio"), "op-rossi"
    )

    assert seen(file.events) == [
        ("EscalationResolved", None),
        ("ServiceDeactivated", first.request_id),
        ("ServiceActivationRequested", f"{CASE}/meals/2"),
    ]
    assert (request(file, MEALS).start_by, request(file, MEALS).earliest_start) == (
        MARCH[5],
        MARCH[5],
    )


@pytest.mark.parametrize(
    ("provider_id", "code"),
    [
        ("coop-nessuno", "provider.unknown"),
        ("asc-servizi-alla-persona", "provider.unknown"),  # Magentino's
        ("brianza-ristorazione-sociale", "provider.service_not_offered"),
    ],
)
def test_a_provider_by_hand_must_be_the_districts_for_the_service(
    rules: Rules, provider_id: str, code: str
) -> None:
    file = all_declined(planned(rules, services=[(SAD, 6)]), rules)

    with pytest.raises(Refused) as refused:
        file.resolve(Resolve(SAD, Resolution.MANUAL_PROVIDER, provider_id=provider_id), "op")
    assert refused.value.code == code


def test_covered_by_the_family_counts_as_ready(rules: Rules) -> None:
    file = all_declined(planned(rules, services=[(SAD, 6)]), rules)

    file.resolve(Resolve(SAD, Resolution.FAMILY, covered_by=NetworkResource.FAMILY), "op-rossi")

    assert seen(file.events) == [("EscalationResolved", None)]
    view = readiness(file.case, file.attempts, MONDAY)
    assert view.ready is True
    assert [(s.status, s.late) for s in view.services] == [("covered", None)]
    [escalation] = view.escalations
    assert (escalation.days_left, escalation.summary) == (
        None,
        "sad: tutti i fornitori hanno rifiutato; risolta da op-rossi: "
        "coperto dalla famiglia (famiglia)",
    )


def test_dropped_leaves_the_plan_and_stops_its_requests(rules: Rules) -> None:
    # Discharge on Tuesday: meals escalated while brianza-ristorazione-sociale is still asked.
    file = planned(rules, TUESDAY, services=[(SAD, 6), (MEALS, 5)])
    meals = request(file, MEALS)

    file.resolve(Resolve(MEALS, Resolution.DROPPED, reason_code="plan.not_needed"), "op-rossi")

    assert seen(file.events) == [
        ("EscalationResolved", None),
        ("ServiceDeactivated", meals.request_id),
    ]
    assert [s.service_type for s in file.case.services] == [SAD]
    assert request(file, MEALS).reason == "dropped by the team (plan.not_needed)"


def test_a_postponement_asks_the_ward_for_the_day_every_waiting_service_can_start(
    rules: Rules,
) -> None:
    # Discharge on Tuesday 3: SAD can (coop-solidarieta-brianza, 1 day); meals and
    # teleassistance cannot before Wednesday 4 (each escalated, its soonest provider asked).
    file = planned(rules, TUESDAY)
    assert [(e.service_type, e.is_open) for e in file.case.escalations] == [
        (MEALS, True),
        (TELE, True),
    ]

    file.resolve(Resolve(MEALS, Resolution.POSTPONEMENT_REQUESTED), "op-rossi")

    assert seen(file.events) == [
        ("EscalationResolved", None),
        ("DischargePostponementRequested", None),
    ]
    asked = file.events[1]
    assert asked == DischargePostponementRequested(
        case_id=CASE,
        hospital_id=HOSPITAL,
        discharge_ref=REF,
        postpone_until=MARCH[4],
        waiting_for=[MEALS, TELE],
        requested_by="op-rossi",
        requested_at=MONDAY_9AM,
    )
    meals, tele = file.case.escalations
    assert (meals.status, meals.postpone_until) == (EscalationStatus.RESOLVED, MARCH[4])
    assert tele.is_open  # each service's escalation is resolved on its own


def test_a_postponement_needs_a_day_and_a_reason(rules: Rules) -> None:
    no_provider = all_declined(planned(rules, services=[(SAD, 6)]), rules)
    with pytest.raises(Refused) as refused:
        no_provider.resolve(Resolve(SAD, Resolution.POSTPONEMENT_REQUESTED), "op")
    assert refused.value.code == "postponement.no_date"

    # Escalated for a Tuesday discharge, then the ward moved it to Friday: all can make it.
    moved = planned(rules, TUESDAY, services=[(MEALS, 5)])
    moved.rescheduled(datetime(2026, 3, 6, 10, tzinfo=ROME))
    with pytest.raises(Refused) as refused:
        moved.resolve(Resolve(MEALS, Resolution.POSTPONEMENT_REQUESTED), "op")
    assert refused.value.code == "postponement.not_needed"


def test_only_an_open_escalation_of_a_planned_case_is_resolved(rules: Rules) -> None:
    file = planned(rules)
    with pytest.raises(Refused) as refused:
        file.resolve(Resolve(SAD, Resolution.FAMILY, covered_by=NetworkResource.FAMILY), "op")
    assert refused.value.code == "escalation.not_open"

    waiting = CaseFile(Case.announced(announced_at(THURSDAY), CHAIN), [], rules)
    with pytest.raises(Refused) as refused:
        waiting.resolve(Resolve(SAD, Resolution.DROPPED, reason_code="plan.not_needed"), "op")
    assert refused.value.code == "case.not_planned"


@pytest.mark.parametrize(
    ("resolution", "details", "code"),
    [
        (Resolution.MANUAL_PROVIDER, {}, "resolution.incomplete"),
        (Resolution.TERRITORIAL_NETWORK, {}, "resolution.incomplete"),
        (Resolution.DROPPED, {}, "resolution.incomplete"),
        (
            Resolution.FAMILY,
            {"covered_by": NetworkResource.FAMILY, "reason_code": "x"},
            "resolution.unexpected",
        ),
        (Resolution.POSTPONEMENT_REQUESTED, {"provider_id": "x"}, "resolution.unexpected"),
    ],
)
def test_each_resolution_takes_its_own_detail(
    resolution: Resolution, details: dict[str, object], code: str
) -> None:
    with pytest.raises(Invalid) as invalid:
        Resolve(SAD, resolution, **details)  # type: ignore[arg-type]
    assert invalid.value.code == code


def test_escalated_again_after_a_resolution_opens_a_new_escalation(rules: Rules) -> None:
    file = all_declined(planned(rules, services=[(SAD, 6)]), rules)
    file.resolve(
        Resolve(SAD, Resolution.MANUAL_PROVIDER, provider_id="coop-solidarieta-brianza"), "op"
    )
    file = again(file, rules)

    by_hand = request(file, SAD)
    file.declined(by_hand.request_id, by_hand.provider_id, DeclineReason.CAPACITY)

    first, second = file.case.escalations
    assert (first.status, second.status) == (EscalationStatus.RESOLVED, EscalationStatus.OPEN)


def test_a_service_leaving_the_plan_withdraws_its_escalation(rules: Rules) -> None:
    file = all_declined(planned(rules, services=[(SAD, 6), (MEALS, 5)]), rules)

    file.revised(revision(2, [(MEALS, 5)]))

    [escalation] = file.case.escalations
    assert escalation.status is EscalationStatus.WITHDRAWN
    [view] = readiness(file.case, file.attempts, MONDAY).escalations
    assert view.summary == (
        "sad: tutti i fornitori hanno rifiutato; ritirata: il servizio non è più nel piano"
    )


def test_an_open_escalation_shows_the_days_left(rules: Rules) -> None:
    file = all_declined(planned(rules, services=[(SAD, 6)]), rules)

    views = {
        today: readiness(file.case, file.attempts, today).escalations[0].summary
        for today in (MONDAY, MARCH[4], MARCH[5], MARCH[7])
    }
    days = {
        today: readiness(file.case, file.attempts, today).escalations[0].days_left
        for today in views
    }

    assert days == {MONDAY: 3, MARCH[4]: 1, MARCH[5]: 0, MARCH[7]: -2}
    assert views[MONDAY] == (
        "sad: tutti i fornitori hanno rifiutato; aperta: mancano 3 giorni alla dimissione"
    )
    assert views[MARCH[4]].endswith("manca 1 giorno alla dimissione")
    assert views[MARCH[5]].endswith("la dimissione è oggi")
    assert views[MARCH[7]].endswith("dimissione già passata da 2 giorni")


# --- the municipality takes over ----------------------------------------------------------------


def hand_over(continuing: Sequence[ServiceType]) -> CaseHandedOver:
    return CaseHandedOver(
        case_id=CASE,
        ambito_id="desio",
        municipality_code="108023",
        continuing=list(continuing),
        handed_over_at=datetime(2026, 4, 4, 11, tzinfo=ROME),
    )


def with_sad_and_tele_running(rules: Rules) -> CaseFile:
    file = planned(rules)
    for service in (SAD, TELE):
        a = request(file, service)
        file.accepted(a.request_id, a.provider_id, THURSDAY)
    return again(file, rules)


def test_a_hand_over_keeps_the_running_services_the_municipality_continues(
    rules: Rules,
) -> None:
    file = with_sad_and_tele_running(rules)
    assert file.handed_over(hand_over([SAD, MEALS])) is None
    file = again(file, rules)

    closed_at = datetime(2026, 4, 4, 12, tzinfo=ROME)
    file.end(Ending.closed(closed_at, CaseOutcome.HANDED_OVER_TO_MUNICIPALITY))

    # Teleassistance is not continued; meals never started (still unanswered): both stop.
    assert {(e.request_id, e.until) for e in file.events if isinstance(e, ServiceDeactivated)} == {
        (f"{CASE}/teleassistance/1", date(2026, 4, 4)),
        (f"{CASE}/meals/1", date(2026, 4, 4)),
    }
    assert request(file, SAD).status is RequestStatus.ACCEPTED
    assert file.case.status is CaseStatus.ENDED


def test_another_closure_after_a_hand_over_stops_everything(rules: Rules) -> None:
    file = with_sad_and_tele_running(rules)
    file.handed_over(hand_over([SAD]))
    file = again(file, rules)

    file.end(Ending.closed(datetime(2026, 4, 1, 12, tzinfo=ROME), CaseOutcome.DECEASED))

    assert len([e for e in file.events if isinstance(e, ServiceDeactivated)]) == 3


# --- new contact details -----------------------------------------------------------------------


def details(address: str = NEW_ADDRESS, phone: str | None = None) -> PatientDetailsUpdated:
    return PatientDetailsUpdated(
        hospital_id=HOSPITAL, discharge_ref=REF, address=address, phone=phone
    )


def test_new_details_are_sent_again_to_every_open_request(rules: Rules) -> None:
    file = planned(rules)
    sad = request(file, SAD)
    file.declined(sad.request_id, sad.provider_id, DeclineReason.CAPACITY)
    file = again(file, rules)

    assert file.details_updated(details()) is None

    sent = [e for e in file.events if isinstance(e, ServiceActivationRequested)]
    assert [e.request_id for e in sent] == [
        f"{CASE}/meals/1",
        f"{CASE}/teleassistance/1",
        f"{CASE}/sad/2",
    ]
    # The phone the update left out is kept.
    assert {(e.beneficiary.address, e.beneficiary.phone) for e in sent} == {
        (NEW_ADDRESS, "+39 0362 123456")
    }
    assert (file.created, file.updated) == ([], [])
    assert again(file, rules).details_updated(details()) == "same details"


def test_new_details_before_planning_or_after_the_end(rules: Rules) -> None:
    waiting = CaseFile(Case.announced(announced_at(THURSDAY), CHAIN), [], rules)
    assert waiting.details_updated(details(phone="+39 333 0000000")) is None
    assert waiting.events == []
    assert waiting.case.beneficiary is not None
    assert waiting.case.beneficiary.phone == "+39 333 0000000"

    ended = planned(rules)
    ended.end(Ending.cancelled(MONDAY))
    assert again(ended, rules).details_updated(details()) == "case ended"
    decided = CaseFile(Case.confirmed(confirmed(CASE, THURSDAY), CHAIN), [], rules)
    assert decided.details_updated(details()) == "no contact yet: the announcement has not arrived"


def test_an_announcement_again_with_a_new_contact_only_sends_the_requests_again(
    rules: Rules,
) -> None:
    file = planned(rules)
    moved_house = announced(discharge_ref=REF, expected_discharge_at=THURSDAY, assessment=None)
    moved_house = moved_house.model_copy(
        update={"patient": moved_house.patient.model_copy(update={"address": NEW_ADDRESS})}
    )

    file.announced(moved_house)

    sent = [e for e in file.events if isinstance(e, ServiceActivationRequested)]
    assert [(e.start_by, e.beneficiary.address) for e in sent] == [(MARCH[5], NEW_ADDRESS)] * 3
    assert again(file, rules).announced(moved_house) is None
    unchanged = again(file, rules)
    unchanged.announced(moved_house)
    assert unchanged.events == []


def test_the_time_of_a_later_transaction_is_used(rules: Rules) -> None:
    """Resolutions are timed by the transaction's clock."""
    later = dataclasses.replace(rules, now=MONDAY_9AM + timedelta(hours=5))
    file = all_declined(planned(rules, services=[(SAD, 6)]), rules)
    file = CaseFile(file.case, file.attempts, later)

    event = file.resolve(
        Resolve(SAD, Resolution.TERRITORIAL_NETWORK, covered_by=NetworkResource.VOLUNTEERS), "op"
    )

    assert event.resolved_at == MONDAY_9AM + timedelta(hours=5)
    assert event.covered_by is NetworkResource.VOLUNTEERS


def test_an_acceptance_in_time_settles_the_open_escalation(rules: Rules) -> None:
    file = planned(rules, services=[(TELE, 7)])
    tele = request(file, TELE)
    file.accepted(tele.request_id, tele.provider_id, datetime(2026, 3, 6, 8, tzinfo=ROME))
    assert file.case.escalations[0].is_open
    file = again(file, rules)

    file.accepted(tele.request_id, tele.provider_id, THURSDAY)

    [escalation] = file.case.escalations
    assert escalation.status is EscalationStatus.SETTLED
    assert readiness(file.case, file.attempts, MONDAY).escalations[0].summary == (
        "teleassistance: nessun fornitore può iniziare entro la dimissione; "
        "superata: un fornitore inizia entro la dimissione"
    )
