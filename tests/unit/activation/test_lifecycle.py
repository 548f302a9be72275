"""A case's lifecycle, without I/O: each transition of ``CaseFile`` on the example districts,
what it changes in the case and its requests, and what it tells providers and monitoring.

The time is Monday 2 March 2026 at 9:00 in Italy; the discharge Thursday 5 at 10:00. In Desio
(108023) SAD is asked of coop-il-melograno (2 working days) then coop-solidarieta-brianza (1),
meals of brianza-ristorazione-sociale (2) then pasti-a-casa-desio (3), teleassistance of
telesoccorso-lombardia (3) then croce-azzurra-teleassistenza (2); answers are due in 24 hours.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from cerniera.activation.config import load_config
from cerniera.activation.domain import Case, CaseFile, CaseStatus, Ending
from cerniera.activation.planning import Attempt, RequestStatus, Rules
from cerniera.shared.clock import ROME
from cerniera.shared.contract import (
    Beneficiary,
    CaseOutcome,
    DeclineReason,
    DischargeAnnounced,
    EscalationReason,
    EventData,
    ServiceActivated,
    ServiceActivationEscalated,
    ServiceActivationRequested,
    ServiceDeactivated,
    ServiceLine,
    ServiceType,
)
from cerniera.shared.refusals import Forbidden, Refused
from support.activation_attempts import CASE, MONDAY, MONDAY_9AM
from support.activation_events import confirmed
from support.discharges import announced
from support.districts import EXAMPLE

REF = CASE.split(":", 1)[1]
SAD, MEALS, TELE = ServiceType.SAD, ServiceType.MEALS, ServiceType.TELEASSISTANCE
MARCH = {day: date(2026, 3, day) for day in range(1, 32)}
DISCHARGE = datetime(2026, 3, 5, 10, tzinfo=ROME)
CHAIN = "the-announcement"
MARIO = Beneficiary(
    name="Mario Rossi", address="Via Garibaldi 4, 20832 Desio (MB)", phone="+39 0362 123456"
)
FIRST_CHOICES = {
    SAD: "coop-il-melograno",
    MEALS: "brianza-ristorazione-sociale",
    TELE: "telesoccorso-lombardia",
}


@pytest.fixture(scope="module")
def rules() -> Rules:
    return Rules(load_config(EXAMPLE).ambiti, MONDAY_9AM)


def announcement(at: datetime = DISCHARGE) -> DischargeAnnounced:
    return announced(discharge_ref=REF, expected_discharge_at=at, assessment=None)


def planned(rules: Rules) -> CaseFile:
    """A case announced, then confirmed (medium package): its three requests made, in a file
    that a later transaction opens again."""
    file = CaseFile(Case.announced(announcement(), CHAIN), [], rules)
    assert file.confirmed(confirmed(CASE, DISCHARGE)) is None
    return again(file, rules)


def again(file: CaseFile, rules: Rules, *, hours: float = 0) -> CaseFile:
    """The same case in the next transaction, ``hours`` after ``rules.now``."""
    later = dataclasses.replace(rules, now=rules.now + timedelta(hours=hours))
    return CaseFile(file.case, file.attempts, later)


def kinds(events: list[EventData]) -> list[str]:
    return [e.event_type for e in events]


def request(file: CaseFile, service: ServiceType) -> Attempt:
    return max((a for a in file.attempts if a.service_type == service), key=lambda a: a.attempt)


# --- the two halves ----------------------------------------------------------------------------


def test_an_announcement_creates_a_case_waiting_for_the_decision() -> None:
    # 23:30 UTC on Wednesday 4 is 00:30 on Thursday 5 in Italy.
    case = Case.announced(announcement(datetime(2026, 3, 4, 23, 30, tzinfo=UTC)), CHAIN)

    assert case.status is CaseStatus.AWAITING_ELIGIBILITY
    assert (case.beneficiary, case.municipality_code, case.discharge_on) == (
        MARIO,
        "108023",
        MARCH[5],
    )
    assert (case.services, case.ambito_id, case.correlation_id) == ((), None, CHAIN)


def test_a_decision_creates_a_case_waiting_for_the_contact() -> None:
    case = Case.confirmed(confirmed(CASE, DISCHARGE), CHAIN)

    assert case.status is CaseStatus.AWAITING_CONTACT
    assert (case.ambito_id, case.beneficiary, case.discharge_on) == ("desio", None, MARCH[5])
    assert [(s.service_type, s.weekly_quantity) for s in case.services] == [
        (SAD, Decimal(6)),
        (MEALS, Decimal(5)),
        (TELE, Decimal(7)),
    ]


def test_the_decision_after_the_announcement_plans_every_service(rules: Rules) -> None:
    file = CaseFile(Case.announced(announcement(), CHAIN), [], rules)

    # The hospital's date stays: the decision's may be older.
    assert file.confirmed(confirmed(CASE, DISCHARGE + timedelta(days=7))) is None

    assert file.case.status is CaseStatus.PLANNED
    assert file.case.discharge_on == MARCH[5]
    assert file.case_changed
    assert file.updated == []
    assert [(a.request_id, a.provider_id, a.start_by, a.weekly_quantity) for a in file.created] == [
        (f"{CASE}/sad/1", "coop-il-melograno", MARCH[5], Decimal(6)),
        (f"{CASE}/meals/1", "brianza-ristorazione-sociale", MARCH[5], Decimal(5)),
        (f"{CASE}/teleassistance/1", "telesoccorso-lombardia", MARCH[5], Decimal(7)),
    ]
    assert all(a.deadline_at == MONDAY_9AM + timedelta(hours=24) for a in file.created)
    assert [(a.earliest_start) for a in file.created] == [MARCH[4], MARCH[4], MARCH[5]]
    sent = [e for e in file.events if isinstance(e, ServiceActivationRequested)]
    assert len(sent) == len(file.events) == 3
    assert all(e.beneficiary == MARIO for e in sent)


def test_the_announcement_after_the_decision_plans_every_service(rules: Rules) -> None:
    file = CaseFile(Case.confirmed(confirmed(CASE, DISCHARGE), CHAIN), [], rules)

    assert file.announced(announcement()) is None

    assert file.case.status is CaseStatus.PLANNED
    assert file.case.beneficiary == MARIO
    assert {a.service_type: a.provider_id for a in file.created} == FIRST_CHOICES
    assert kinds(file.events) == ["ServiceActivationRequested"] * 3


def test_an_announcement_again_before_the_decision_only_updates(rules: Rules) -> None:
    file = CaseFile(Case.announced(announcement(), CHAIN), [], rules)

    assert file.announced(announcement(DISCHARGE + timedelta(days=1))) is None

    assert (file.case.status, file.case.discharge_on) == (
        CaseStatus.AWAITING_ELIGIBILITY,
        MARCH[6],
    )
    assert (file.events, file.created) == ([], [])


def test_an_unknown_district_is_refused(rules: Rules) -> None:
    file = CaseFile(Case.announced(announcement(), CHAIN), [], rules)

    with pytest.raises(Refused) as refused:
        file.confirmed(confirmed(CASE, DISCHARGE, ambito_id="atlantide"))

    assert refused.value.code == "ambito.unknown"


# --- providers' answers --------------------------------------------------------------------------


def test_an_acceptance_activates_from_its_italian_day(rules: Rules) -> None:
    file = planned(rules)
    sad = request(file, SAD)

    # 23:30 UTC on Tuesday 3 is Wednesday 4 in Italy.
    start = datetime(2026, 3, 3, 23, 30, tzinfo=UTC)
    assert file.accepted(sad.request_id, sad.provider_id, start) is None

    assert file.events == [
        ServiceActivated(
            case_id=CASE,
            request_id=sad.request_id,
            provider_id=sad.provider_id,
            service_type=SAD,
            active_from=MARCH[4],
        )
    ]
    [accepted] = file.updated
    assert (accepted.status, accepted.active_from, accepted.answered_at) == (
        RequestStatus.ACCEPTED,
        MARCH[4],
        MONDAY_9AM,
    )
    assert not file.case_changed
    # The same acceptance again changes nothing; another day updates it.
    later = again(file, rules)
    assert later.accepted(sad.request_id, sad.provider_id, start) == "same acceptance again"
    assert later.events == []


def test_an_acceptance_after_discharge_is_escalated(rules: Rules) -> None:
    file = planned(rules)
    tele = request(file, TELE)

    file.accepted(tele.request_id, tele.provider_id, datetime(2026, 3, 6, 8, tzinfo=ROME))

    assert kinds(file.events) == ["ServiceActivated", "ServiceActivationEscalated"]
    escalated = file.events[1]
    assert isinstance(escalated, ServiceActivationEscalated)
    assert (escalated.service_type, escalated.reason) == (
        TELE,
        EscalationReason.CANNOT_START_BEFORE_DISCHARGE,
    )


def test_stale_answers_are_ignored(rules: Rules) -> None:
    file = planned(rules)
    sad = request(file, SAD)
    start = datetime(2026, 3, 4, 8, tzinfo=ROME)

    assert file.accepted(f"{CASE}/sad/9", sad.provider_id, start) == "unknown request"
    assert file.declined(sad.request_id, sad.provider_id, DeclineReason.CAPACITY) is None
    assert file.accepted(sad.request_id, sad.provider_id, start) == "request already declined"
    ended = again(file, rules)
    ended.end(Ending.cancelled(MONDAY))
    assert again(ended, rules).accepted(f"{CASE}/sad/2", "coop-solidarieta-brianza", start) == (
        "case ended"
    )


def test_a_decline_asks_the_next_candidate_then_escalates(rules: Rules) -> None:
    file = planned(rules)
    first = request(file, SAD)

    file.declined(first.request_id, first.provider_id, DeclineReason.CAPACITY)

    [second] = file.created
    assert (second.request_id, second.provider_id, second.start_by) == (
        f"{CASE}/sad/2",
        "coop-solidarieta-brianza",
        MARCH[5],
    )
    [declined] = file.updated
    assert (declined.status, declined.reason, declined.answered_at) == (
        RequestStatus.DECLINED,
        "capacity",
        MONDAY_9AM,
    )
    # A pending request declined needs no ServiceDeactivated: it never started.
    assert kinds(file.events) == ["ServiceActivationRequested"]

    last = again(file, rules)
    last.declined(second.request_id, second.provider_id, DeclineReason.CAPACITY)
    assert last.created == []
    assert last.events == [
        ServiceActivationEscalated(
            case_id=CASE, service_type=SAD, reason=EscalationReason.ALL_PROVIDERS_DECLINED
        )
    ]


def test_a_provider_backing_out_after_accepting_is_deactivated(rules: Rules) -> None:
    file = planned(rules)
    sad = request(file, SAD)
    file.accepted(sad.request_id, sad.provider_id, datetime(2026, 3, 4, 8, tzinfo=ROME))
    backing_out = again(file, rules, hours=2)

    backing_out.declined(sad.request_id, sad.provider_id, DeclineReason.CAPACITY)

    assert kinds(backing_out.events) == ["ServiceDeactivated", "ServiceActivationRequested"]
    deactivated = backing_out.events[0]
    assert isinstance(deactivated, ServiceDeactivated)
    assert (deactivated.request_id, deactivated.until) == (sad.request_id, MONDAY)


# --- time --------------------------------------------------------------------------------------


def test_silence_past_the_deadline_withdraws_and_asks_the_next(rules: Rules) -> None:
    file = planned(rules)

    assert again(file, rules, hours=23).expire() == []
    late = again(file, rules, hours=24)
    withdrawn = late.expire()

    assert [a.request_id for a in withdrawn] == [request(file, s).request_id for s in FIRST_CHOICES]
    assert [(a.status, a.reason, a.answered_at) for a in late.updated] == [
        (RequestStatus.EXPIRED, "no answer before the deadline", None)
    ] * 3
    assert [a.provider_id for a in late.created] == [
        "coop-solidarieta-brianza",
        "pasti-a-casa-desio",
        "croce-azzurra-teleassistenza",
    ]
    # The next ones have their own 24 hours, from when they are asked.
    assert all(a.requested_at == MONDAY_9AM + timedelta(hours=24) for a in late.created)
    # Withdrawn for silence: the provider is told. Pasti-a-casa-desio (3 working days from
    # Tuesday) cannot start before Friday: still asked, and escalated.
    assert kinds(late.events) == [
        "ServiceDeactivated",
        "ServiceActivationRequested",
        "ServiceDeactivated",
        "ServiceActivationRequested",
        "ServiceActivationEscalated",
        "ServiceDeactivated",
        "ServiceActivationRequested",
    ]

    last = again(late, rules, hours=48)
    assert len(last.expire()) == 3
    assert [e.reason for e in last.events if isinstance(e, ServiceActivationEscalated)] == [
        EscalationReason.NO_ANSWER_BEFORE_DEADLINE
    ] * 3


def test_only_a_planned_case_expires(rules: Rules) -> None:
    file = planned(rules)
    file.end(Ending.cancelled(MONDAY))

    assert again(file, rules, hours=48).expire() == []


# --- deadlines judged by when the provider answered ------------------------------------------


def _expired_sad(rules: Rules) -> tuple[CaseFile, Attempt, Attempt]:
    """SAD asked of coop-il-melograno at 9:00, withdrawn at the deadline (24 h) while its
    answer was still on its way; coop-solidarieta-brianza asked instead."""
    file = planned(rules)
    first = request(file, SAD)
    late = again(file, rules, hours=25)
    late.expire()
    return again(late, rules, hours=25), first, request(late, SAD)


def test_an_acceptance_sent_in_time_but_read_late_is_honoured(rules: Rules) -> None:
    file, first, replacement = _expired_sad(rules)
    sent = first.requested_at + timedelta(hours=23)  # before the deadline, read after it

    why = file.accepted(first.request_id, first.provider_id, DISCHARGE, sent)

    assert why is None
    revived = file._attempt(first.request_id)
    assert revived is not None
    assert (revived.status, revived.answered_at) == (RequestStatus.ACCEPTED, sent)
    withdrawn = file._attempt(replacement.request_id)
    assert withdrawn is not None
    assert withdrawn.status is RequestStatus.DEACTIVATED
    assert [(e.event_type, getattr(e, "provider_id", None)) for e in file.events] == [
        ("ServiceDeactivated", replacement.provider_id),
        ("ServiceActivationRequested", first.provider_id),  # it had been told it was withdrawn
        ("ServiceActivated", first.provider_id),
    ]


def test_an_acceptance_sent_after_the_deadline_stays_expired(rules: Rules) -> None:
    file, first, replacement = _expired_sad(rules)
    sent = first.deadline_at + timedelta(hours=1)

    why = file.accepted(first.request_id, first.provider_id, DISCHARGE, sent)

    assert why == "request already expired"
    assert file.events == []
    assert request(file, SAD).request_id == replacement.request_id


def test_a_sender_clock_in_the_future_is_not_believed(rules: Rules) -> None:
    file = planned(rules)
    first = request(file, SAD)
    far = rules.now + timedelta(days=3)

    assert file.accepted(first.request_id, first.provider_id, DISCHARGE, far) is None
    accepted = file._attempt(first.request_id)
    assert accepted is not None
    assert accepted.answered_at == rules.now + timedelta(minutes=5)  # now + tolerated skew


@pytest.mark.parametrize("answer", ["accepted", "declined"])
def test_an_answer_to_another_providers_request_is_refused(rules: Rules, answer: str) -> None:
    """Only the provider asked may answer: anyone else's answer changes nothing and is
    refused (dead-lettered as ``source.not_allowed``), not quietly ignored."""
    file = planned(rules)
    sad = request(file, SAD)
    before = list(file.attempts)

    def answered() -> object:
        if answer == "accepted":
            return file.accepted(sad.request_id, "coop-solidarieta-brianza", DISCHARGE)
        return file.declined(sad.request_id, "coop-solidarieta-brianza", DeclineReason.CAPACITY)

    with pytest.raises(Forbidden) as refused:
        answered()

    assert refused.value.code == "source.not_allowed"
    assert "coop-il-melograno" in refused.value.message
    assert (file.attempts, file.events, file.updated) == (before, [], [])


def test_an_in_time_answer_to_an_expired_request_is_refused_from_another_provider(
    rules: Rules,
) -> None:
    file, first, _ = _expired_sad(rules)
    with pytest.raises(Forbidden, match=r"source\.not_allowed"):
        file.accepted(
            first.request_id, "croce-azzurra-teleassistenza", DISCHARGE, first.requested_at
        )
    assert file.events == []


def test_in_time_is_too_late_once_the_next_provider_accepted(rules: Rules) -> None:
    file, first, replacement = _expired_sad(rules)
    assert file.accepted(replacement.request_id, replacement.provider_id, DISCHARGE) is None
    file = again(file, rules, hours=25)

    why = file.accepted(first.request_id, first.provider_id, DISCHARGE, first.requested_at)

    assert why == "answered in time, but the next provider has accepted already"
    assert file.events == []


# --- the hospital moves or ends the case -------------------------------------------------------


def test_a_reschedule_sends_open_requests_again(rules: Rules) -> None:
    file = planned(rules)

    assert file.rescheduled(datetime(2026, 3, 9, 10, tzinfo=ROME)) is None

    assert file.case.discharge_on == MARCH[9]
    assert [(a.request_id, a.start_by) for a in file.updated] == [
        (request(file, s).request_id, MARCH[9]) for s in FIRST_CHOICES
    ]
    assert kinds(file.events) == ["ServiceActivationRequested"] * 3
    # The same day again: nothing to tell.
    same = again(file, rules)
    assert same.rescheduled(datetime(2026, 3, 9, 18, tzinfo=ROME)) is None
    assert (same.events, same.updated) == ([], [])


def test_an_earlier_discharge_escalates_who_cannot_make_it(rules: Rules) -> None:
    file = planned(rules)

    file.rescheduled(datetime(2026, 3, 4, 10, tzinfo=ROME))

    # Teleassistance (earliest Thursday) cannot start by Wednesday: it stays asked for
    # Thursday, and is escalated.
    assert [(a.service_type, a.start_by) for a in file.updated] == [
        (SAD, MARCH[4]),
        (MEALS, MARCH[4]),
    ]
    assert kinds(file.events) == ["ServiceActivationRequested"] * 2 + ["ServiceActivationEscalated"]
    assert file.events[-1] == ServiceActivationEscalated(
        case_id=CASE, service_type=TELE, reason=EscalationReason.CANNOT_START_BEFORE_DISCHARGE
    )


def test_a_reschedule_before_planning_only_moves_the_date(rules: Rules) -> None:
    file = CaseFile(Case.announced(announcement(), CHAIN), [], rules)

    file.rescheduled(datetime(2026, 3, 9, 10, tzinfo=ROME))

    assert (file.case.discharge_on, file.events) == (MARCH[9], [])


def test_an_announcement_again_corrects_the_contact_and_moves_the_plan(rules: Rules) -> None:
    file = planned(rules)
    corrected = announced(
        discharge_ref=REF, expected_discharge_at=DISCHARGE + timedelta(days=4), assessment=None
    )
    corrected = corrected.model_copy(
        update={"patient": corrected.patient.model_copy(update={"phone": "+39 0362 999999"})}
    )

    assert file.announced(corrected) is None

    sent = [e for e in file.events if isinstance(e, ServiceActivationRequested)]
    assert [(e.start_by, e.beneficiary.phone) for e in sent] == [(MARCH[9], "+39 0362 999999")] * 3


@pytest.mark.parametrize(
    ("ending", "until", "reason"),
    [
        (Ending.cancelled(MONDAY), MONDAY, "discharge cancelled"),
        (
            Ending.readmitted(datetime(2026, 3, 9, 23, 30, tzinfo=UTC)),
            MARCH[10],
            "readmitted on 2026-03-10",
        ),
        (
            Ending.closed(datetime(2026, 4, 4, 12, tzinfo=ROME), CaseOutcome.COMPLETED),
            date(2026, 4, 4),
            "case closed (completed)",
        ),
    ],
)
def test_an_ending_deactivates_every_open_request(
    rules: Rules, ending: Ending, until: date, reason: str
) -> None:
    file = planned(rules)
    sad = request(file, SAD)
    file.accepted(sad.request_id, sad.provider_id, datetime(2026, 3, 4, 8, tzinfo=ROME))
    ending_file = again(file, rules)

    assert ending_file.end(ending) is None

    assert (ending_file.case.status, ending_file.case.end_reason) == (CaseStatus.ENDED, reason)
    assert {
        (e.request_id, e.until) for e in ending_file.events if isinstance(e, ServiceDeactivated)
    } == {(request(file, s).request_id, until) for s in FIRST_CHOICES}
    assert {(a.status, a.reason) for a in ending_file.updated} == {
        (RequestStatus.DEACTIVATED, reason)
    }
    assert again(ending_file, rules).end(ending) == "case already ended"


def test_an_ended_case_ignores_whatever_comes_later(rules: Rules) -> None:
    ended = Case.ended_unseen(CASE, Ending.cancelled(MONDAY), CHAIN)
    file = CaseFile(ended, [], rules)

    assert ended.end_reason == "discharge cancelled"
    assert file.announced(announcement()) == "case ended"
    assert file.confirmed(confirmed(CASE, DISCHARGE)) == "case ended"
    assert file.rescheduled(DISCHARGE) == "case ended"
    assert file.rejected() == "case ended"
    assert (file.case_changed, file.events) == (False, [])


# --- a later decision ---------------------------------------------------------------------------


def test_a_new_package_drops_requantifies_and_adds(rules: Rules) -> None:
    file = CaseFile(Case.announced(announcement(), CHAIN), [], rules)
    file.confirmed(confirmed(CASE, DISCHARGE, services=[(SAD, 6), (MEALS, 5)]))
    file = again(file, rules)

    file.confirmed(confirmed(CASE, DISCHARGE, services=[(SAD, 3), (TELE, 7)]))

    assert file.case.services == (
        ServiceLine(service_type=SAD, weekly_quantity=Decimal(3)),
        ServiceLine(service_type=TELE, weekly_quantity=Decimal(7)),
    )
    assert [(e.event_type, getattr(e, "request_id", None)) for e in file.events] == [
        ("ServiceDeactivated", f"{CASE}/meals/1"),
        ("ServiceActivationRequested", f"{CASE}/sad/1"),
        ("ServiceActivationRequested", f"{CASE}/teleassistance/1"),
    ]
    assert [(a.request_id, a.status, a.weekly_quantity) for a in file.updated] == [
        (f"{CASE}/meals/1", RequestStatus.DEACTIVATED, Decimal(5)),
        (f"{CASE}/sad/1", RequestStatus.REQUESTED, Decimal(3)),
    ]
    assert [a.request_id for a in file.created] == [f"{CASE}/teleassistance/1"]


def test_a_rejection_stops_the_plan_until_a_new_confirmation(rules: Rules) -> None:
    file = planned(rules)

    assert file.rejected() is None

    assert (file.case.status, file.case.services) == (CaseStatus.AWAITING_ELIGIBILITY, ())
    assert kinds(file.events) == ["ServiceDeactivated"] * 3
    assert {a.reason for a in file.updated} == {"eligibility rejected by a later decision"}
    assert again(file, rules).rejected() == "case awaiting_eligibility"

    # Confirmed again: planned afresh, with new request ids; the contact was kept.
    renewed = again(file, rules)
    renewed.confirmed(confirmed(CASE, DISCHARGE))
    assert renewed.case.status is CaseStatus.PLANNED
    assert [a.request_id for a in renewed.created] == [
        f"{CASE}/sad/2",
        f"{CASE}/meals/2",
        f"{CASE}/teleassistance/2",
    ]


def test_a_request_made_and_changed_in_one_transaction_is_saved_once(rules: Rules) -> None:
    file = CaseFile(Case.announced(announcement(), CHAIN), [], rules)
    file.confirmed(confirmed(CASE, DISCHARGE))

    file.rescheduled(datetime(2026, 3, 9, 10, tzinfo=ROME))

    assert file.updated == []
    assert [a.start_by for a in file.created] == [MARCH[9]] * 3
