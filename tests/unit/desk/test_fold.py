"""The desk's fold, without I/O: every event type into the case's view and the provider's view
of its requests; the topics read in any order (each keeping its own) give the same view; the
same event twice gives the view it gave once."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from cerniera.desk import fold
from cerniera.desk.casefile import CaseView, RequestStatus, ServiceStatus, Stage
from cerniera.shared.clock import ROME
from cerniera.shared.contract import (
    EVENT_TYPES,
    BudgetThresholdReached,
    CaseClosed,
    CaseHandedOver,
    CaseOutcome,
    CheckOutcome,
    DeclineReason,
    DischargeCancelled,
    DischargePostponementRequested,
    EligibilityConfirmed,
    EligibilityRejected,
    EscalationReason,
    EscalationResolved,
    EventData,
    HoursDelivered,
    Intensity,
    NetworkOutcome,
    NetworkResource,
    NetworkTaskCompleted,
    NetworkTaskOpened,
    PatientDetailsUpdated,
    PatientReadmitted,
    PlanRevised,
    Reason,
    Recommendation,
    Resolution,
    ServiceActivated,
    ServiceActivationAccepted,
    ServiceActivationDeclined,
    ServiceActivationEscalated,
    ServiceActivationRequested,
    ServiceDeactivated,
    ServiceLine,
    ServiceType,
    WeeklyCheckDone,
)
from cerniera.shared.contract.events import Beneficiary, Caregiver
from cerniera.shared.contract.provenance import allowed_source
from cerniera.shared.envelope import Envelope
from support.discharges import DESIO, HOSPITAL, announced, assessment, rescheduled

SAD, MEALS, TELE = ServiceType.SAD, ServiceType.MEALS, ServiceType.TELEASSISTANCE
REF = "V2024-000123"
CASE = f"{HOSPITAL}:{REF}"
DISTRICTS = {DESIO: "desio"}
T0 = datetime(2024, 10, 1, 8, 0, tzinfo=UTC)
DISCHARGE = datetime(2024, 10, 3, 8, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def event(data: EventData, minute: int, *, n: int = 0) -> Envelope:
    """``data`` as its one allowed source publishes it, at ``minute`` after T0."""
    return Envelope(
        data=data,
        source=allowed_source(data),
        subject=CASE,
        id=f"{data.event_type}-{minute}-{n}",
        time=at(minute),
    )


def folded(*events: Envelope, view: CaseView | None = None) -> CaseView:
    return fold.fold(view, events, DISTRICTS)


# --- the events -----------------------------------------------------------------------------------


def announcement(minute: int = 0, **fields: object) -> Envelope:
    return event(
        announced(discharge_ref=REF, assessment=assessment(brass_score=22), **fields), minute
    )


def reschedule(minute: int, to: datetime) -> Envelope:
    return event(rescheduled(REF, to), minute)


def confirmation(
    minute: int,
    *services: tuple[ServiceType, int],
    ambito_id: str = "desio",
    expected: datetime = DISCHARGE,
) -> Envelope:
    return event(
        EligibilityConfirmed(
            case_id=CASE,
            ambito_id=ambito_id,
            intensity=Intensity.MEDIUM,
            services=[
                ServiceLine(service_type=s, weekly_quantity=Decimal(q))
                for s, q in (services or ((SAD, 6), (MEALS, 5)))
            ],
            expected_discharge_at=expected,
            decided_by="rule",
            reasons=[Reason(code="phase2.requirements_met", text="Requisiti soddisfatti.")],
        ),
        minute,
    )


def rejection(minute: int) -> Envelope:
    return event(
        EligibilityRejected(
            case_id=CASE,
            reasons=[Reason(code="override.team", text="Caregiver di nuovo presente.")],
            decided_by="op-lbianchi",
        ),
        minute,
    )


def revision(minute: int, version: int, *services: tuple[ServiceType, int]) -> Envelope:
    return event(
        PlanRevised(
            case_id=CASE,
            ambito_id="desio",
            plan_version=version,
            services=[ServiceLine(service_type=s, weekly_quantity=Decimal(q)) for s, q in services],
            revised_by="op-lbianchi",
            reason=Reason(code="plan.tailored", text="Piano personalizzato dall'équipe."),
        ),
        minute,
    )


def request_id(provider: str, service: ServiceType) -> str:
    return f"{CASE}/{service}/{provider}"


def requested(minute: int, provider: str, service: ServiceType, start_by: date) -> Envelope:
    return event(
        ServiceActivationRequested(
            case_id=CASE,
            request_id=request_id(provider, service),
            provider_id=provider,
            service_type=service,
            weekly_quantity=Decimal(6),
            start_by=start_by,
            beneficiary=Beneficiary(name="Mario Rossi", address="Via Garibaldi 4, Desio"),
        ),
        minute,
    )


def accepted(minute: int, provider: str, service: ServiceType, start: datetime) -> Envelope:
    return event(
        ServiceActivationAccepted(
            request_id=request_id(provider, service), provider_id=provider, scheduled_start=start
        ),
        minute,
    )


def declined(minute: int, provider: str, service: ServiceType) -> Envelope:
    return event(
        ServiceActivationDeclined(
            request_id=request_id(provider, service),
            provider_id=provider,
            reason_code=DeclineReason.CAPACITY,
        ),
        minute,
    )


def activated(minute: int, provider: str, service: ServiceType, day: date) -> Envelope:
    return event(
        ServiceActivated(
            case_id=CASE,
            request_id=request_id(provider, service),
            provider_id=provider,
            service_type=service,
            active_from=day,
        ),
        minute,
    )


def deactivated(
    minute: int, provider: str, service: ServiceType, day: date, n: int = 0
) -> Envelope:
    return event(
        ServiceDeactivated(
            case_id=CASE,
            request_id=request_id(provider, service),
            provider_id=provider,
            service_type=service,
            until=day,
        ),
        minute,
        n=n,
    )


def escalated(minute: int, service: ServiceType) -> Envelope:
    return event(
        ServiceActivationEscalated(
            case_id=CASE, service_type=service, reason=EscalationReason.ALL_PROVIDERS_DECLINED
        ),
        minute,
    )


def resolved(
    minute: int, service: ServiceType, resolution: Resolution, **fields: object
) -> Envelope:
    return event(
        EscalationResolved.model_validate(
            {
                "case_id": CASE,
                "service_type": service,
                "resolution": resolution,
                "resolved_by": "op-lbianchi",
                "resolved_at": at(minute),
                **fields,
            }
        ),
        minute,
    )


def delivered(minute: int, provider: str, ref: str, day: date, quantity: str) -> Envelope:
    return event(
        HoursDelivered(
            case_id=CASE,
            provider_id=provider,
            service_type=SAD,
            delivered_on=day,
            quantity=Decimal(quantity),
            delivery_ref=ref,
        ),
        minute,
    )


def checked(minute: int, week: int) -> Envelope:
    return event(
        WeeklyCheckDone(
            case_id=CASE,
            week=week,
            checked_at=at(minute),
            outcome=CheckOutcome.STABLE,
            recommendation=Recommendation.CONTINUE,
        ),
        minute,
    )


def handed_over(minute: int) -> Envelope:
    return event(
        CaseHandedOver(
            case_id=CASE,
            ambito_id="desio",
            municipality_code=DESIO,
            continuing=[SAD],
            handed_over_at=at(minute),
        ),
        minute,
    )


def closed(minute: int, outcome: CaseOutcome) -> Envelope:
    return event(CaseClosed(case_id=CASE, closed_at=at(minute), outcome=outcome), minute)


# --- a whole case, as each topic tells it ---------------------------------------------------------

D3, D4, D5 = date(2024, 10, 3), date(2024, 10, 4), date(2024, 10, 5)


def streams() -> dict[str, list[Envelope]]:
    """One case from announcement to hand-over, each topic's events in that topic's order:
    SAD declined by one provider and taken by another, meals escalated and given by hand,
    teleassistance added by a revised plan, its first provider passed over."""
    return {
        "hospital": [
            announcement(0),
            reschedule(5, DISCHARGE + timedelta(days=1)),
            event(
                PatientDetailsUpdated(
                    hospital_id=HOSPITAL,
                    discharge_ref=REF,
                    address="Via Manzoni 3, Desio",
                    phone="+39 0362 999999",
                    caregiver=Caregiver(present=True, name="Lucia Rossi"),
                ),
                6,
            ),
        ],
        "intake": [
            confirmation(2),
            event(
                NetworkTaskOpened(
                    case_id=CASE, ambito_id="desio", task_id="net-1", opened_at=at(2)
                ),
                2,
            ),
            event(
                NetworkTaskCompleted(
                    case_id=CASE,
                    task_id="net-1",
                    outcome=NetworkOutcome.ENGAGED,
                    resources=[NetworkResource.VOLUNTEERS],
                    completed_at=at(4),
                ),
                4,
            ),
            revision(20, 2, (SAD, 6), (MEALS, 5), (TELE, 7)),
        ],
        "activation": [
            activated(7, "coop-b", SAD, D4),
            escalated(8, MEALS),
            resolved(9, MEALS, Resolution.MANUAL_PROVIDER, provider_id="pasti-c"),
            activated(12, "pasti-c", MEALS, D4),
            deactivated(23, "tele-d", TELE, D3),
            activated(26, "tele-e", TELE, D5),
        ],
        "requests.coop-a": [requested(3, "coop-a", SAD, D4)],
        "requests.coop-b": [requested(5, "coop-b", SAD, D4)],
        "requests.pasti-c": [requested(10, "pasti-c", MEALS, D4)],
        "requests.tele-d": [
            requested(21, "tele-d", TELE, D5),
            deactivated(23, "tele-d", TELE, D3, 1),
        ],
        "requests.tele-e": [requested(24, "tele-e", TELE, D5)],
        "reports.coop-a": [declined(4, "coop-a", SAD)],
        "reports.coop-b": [
            accepted(6, "coop-b", SAD, datetime(2024, 10, 4, 9, tzinfo=ROME)),
            delivered(30, "coop-b", "B-1", D4, "1.5"),
            delivered(31, "coop-b", "B-2", D5, "2"),
            delivered(32, "coop-b", "B-1", D4, "1.5"),  # the same line again
        ],
        "reports.pasti-c": [accepted(11, "pasti-c", MEALS, datetime(2024, 10, 4, 12, tzinfo=ROME))],
        "reports.tele-e": [accepted(25, "tele-e", TELE, datetime(2024, 10, 5, 9, tzinfo=ROME))],
        "monitoring": [
            checked(40, 1),
            handed_over(50),
            closed(50, CaseOutcome.HANDED_OVER_TO_MUNICIPALITY),
        ],
    }


def in_time_order() -> list[Envelope]:
    return sorted((e for s in streams().values() for e in s), key=lambda e: e.time)


def interleaved(seed: int) -> list[Envelope]:
    """Every topic's events in its own order, the topics mixed at random."""
    rng = random.Random(seed)
    queues = [list(s) for s in streams().values()]
    merged = []
    while queues:
        queue = rng.choice(queues)
        merged.append(queue.pop(0))
        queues = [q for q in queues if q]
    return merged


def test_a_whole_case_folds_into_what_the_team_and_the_providers_see() -> None:
    view = folded(*in_time_order())

    assert (view.stage, view.ambito_id, view.hospital_id, view.discharge_ref) == (
        Stage.HANDED_OVER,
        "desio",
        HOSPITAL,
        REF,
    )
    assert view.expected_discharge_at == DISCHARGE + timedelta(days=1)  # the reschedule
    assert view.person is not None
    assert (view.person.address, view.person.phone) == ("Via Manzoni 3, Desio", "+39 0362 999999")
    assert view.caregiver is not None
    assert view.caregiver.name == "Lucia Rossi"
    assert view.assessment is not None
    assert view.assessment.brass_score == 22
    assert (view.plan_version, [v.version for v in view.versions]) == (2, [1, 2])
    assert view.versions[0].reason == "Requisiti soddisfatti."
    assert view.network_task is not None
    assert view.network_task.outcome == "engaged"
    services = {k: (s.status, s.provider_id, s.active_from) for k, s in view.services.items()}
    assert services == {
        "sad": (ServiceStatus.ACTIVE, "coop-b", D4),
        "meals": (ServiceStatus.ACTIVE, "pasti-c", D4),
        "teleassistance": (ServiceStatus.ACTIVE, "tele-e", D5),
    }
    meals = view.services["meals"].escalation
    assert meals is not None
    assert (meals.reason, meals.resolution, meals.provider_id) == (
        "all_providers_declined",
        "manual_provider",
        "pasti-c",
    )
    assert [c.week for c in view.checks] == [1]
    assert view.closure is not None
    assert (view.closure.outcome, view.closure.continuing) == ("handed_over_to_municipality", [SAD])
    assert view.updated_at == at(50)

    requests = fold.request_views(view)
    assert {rid.split("/")[-1]: r.status for rid, r in requests.items()} == {
        "coop-a": RequestStatus.DECLINED,
        "coop-b": RequestStatus.ACTIVE,
        "pasti-c": RequestStatus.ACTIVE,
        "tele-d": RequestStatus.ENDED,
        "tele-e": RequestStatus.ACTIVE,
    }
    sad = requests[request_id("coop-b", SAD)]
    assert (sad.delivered, sad.last_delivered_on) == (3.5, D5)  # the repeated line once
    assert requests[request_id("coop-a", SAD)].decline_reason == "capacity"


@pytest.mark.parametrize("seed", range(40))
def test_the_topics_read_in_any_order_give_the_same_view(seed: int) -> None:
    expected = folded(*in_time_order())
    view = folded(*interleaved(seed))
    assert view.model_dump(mode="json") == expected.model_dump(mode="json")
    assert fold.request_views(view) == fold.request_views(expected)


def test_folding_event_by_event_is_folding_them_at_once() -> None:
    view: CaseView | None = None
    for e in interleaved(7):
        view = fold.apply(view, e, DISTRICTS)
    assert view == folded(*interleaved(7))


def every_event() -> Iterator[Envelope]:
    yield from in_time_order()
    yield from (
        rejection(60),
        event(DischargeCancelled(hospital_id=HOSPITAL, discharge_ref=REF), 61),
        event(PatientReadmitted(hospital_id=HOSPITAL, discharge_ref=REF, readmitted_at=at(62)), 62),
        resolved(63, MEALS, Resolution.FAMILY, covered_by="family"),
        event(
            DischargePostponementRequested(
                case_id=CASE,
                hospital_id=HOSPITAL,
                discharge_ref=REF,
                postpone_until=D5,
                waiting_for=[MEALS],
                requested_by="op-lbianchi",
                requested_at=at(64),
            ),
            64,
        ),
        closed(65, CaseOutcome.COMPLETED),
    )


def test_the_same_event_twice_gives_the_view_it_gave_once() -> None:
    view: CaseView | None = None
    for e in every_event():
        once = fold.apply(view, e, DISTRICTS)
        assert fold.apply(once, e, DISTRICTS) == once, e.type
        view = once


def test_every_event_of_the_contract_is_folded_or_goes_to_the_ledger() -> None:
    assert fold.CASE_EVENTS | set(fold.LEDGER_EVENTS) == set(EVENT_TYPES.values())
    assert {type(e.data) for e in every_event()} == fold.CASE_EVENTS


def test_folding_leaves_the_given_view_as_it_was() -> None:
    view = folded(announcement(0))
    before = view.model_copy(deep=True)
    fold.apply(view, confirmation(1), DISTRICTS)
    assert view == before


def test_billing_events_are_about_no_case() -> None:
    threshold = Envelope(
        data=BudgetThresholdReached(
            ambito_id="desio",
            funding_source="fnps-2024",
            threshold_percent=80,
            spent=Decimal("80.00"),
            budget=Decimal("100.00"),
            reached_at=T0,
        ),
        source="urn:dp:service:billing",
        subject="desio",
    )
    assert fold.case_of(threshold) is None
    with pytest.raises(ValueError, match="about no case"):
        fold.apply(None, threshold)
    with pytest.raises(ValueError, match="not about case"):
        fold.apply(folded(announcement(0)), threshold)


# --- the hospital ---------------------------------------------------------------------------------


def test_an_announcement_starts_the_case_in_the_district_of_residence() -> None:
    view = folded(announcement(0))
    assert (view.stage, view.ambito_id, view.ward, view.announced_at) == (
        Stage.ANNOUNCED,
        "desio",
        "medicina-generale",
        T0,
    )
    assert view.person is not None
    assert view.person.full_name == "Mario Rossi"
    assert view.caregiver is not None
    assert view.caregiver.present is False
    assert view.assessment is not None
    assert view.assessment.consent is True
    assert view.expected_discharge_at == datetime(2024, 10, 3, 8, tzinfo=UTC)
    assert folded(announcement(0), view=None).model_dump() == view.model_dump()
    assert fold.fold(None, [announcement(0)]).ambito_id is None  # a residence in no district


def test_the_latest_hospital_event_says_when_the_discharge_is() -> None:
    later = DISCHARGE + timedelta(days=2)
    in_order = folded(announcement(0), reschedule(10, later))
    assert in_order.expected_discharge_at == later
    # An older word read last (replayed) does not undo the newer one.
    assert folded(reschedule(10, later), announcement(0)).expected_discharge_at == later


def test_intakes_date_fills_in_only_while_the_hospitals_is_unknown() -> None:
    moved = DISCHARGE + timedelta(days=1)
    decision = confirmation(3, expected=DISCHARGE - timedelta(days=1))
    assert folded(decision).expected_discharge_at == DISCHARGE - timedelta(days=1)
    assert folded(decision, reschedule(5, moved)).expected_discharge_at == moved
    assert folded(reschedule(5, moved), decision).expected_discharge_at == moved


def test_a_cancelled_discharge_and_a_new_announcement() -> None:
    cancel = event(
        DischargeCancelled(hospital_id=HOSPITAL, discharge_ref=REF, reason="Peggioramento."), 5
    )
    view = folded(announcement(0), confirmation(2), cancel)
    assert (view.stage, view.cancellation_reason) == (Stage.CANCELLED, "Peggioramento.")
    assert folded(announcement(0), cancel, announcement(9)).stage == Stage.ANNOUNCED
    assert folded(cancel, announcement(0)).stage == Stage.CANCELLED  # the older one read last


def test_a_readmission() -> None:
    readmitted = event(
        PatientReadmitted(hospital_id=HOSPITAL, discharge_ref=REF, readmitted_at=at(90)), 91
    )
    assert folded(announcement(0), readmitted).readmitted_at == at(90)


def test_details_before_the_announcement_keep_the_caregiver_and_wait_in_the_timeline() -> None:
    details = event(
        PatientDetailsUpdated(
            hospital_id=HOSPITAL,
            discharge_ref=REF,
            address="Via Manzoni 3, Desio",
            caregiver=Caregiver(present=True, name="Lucia Rossi"),
        ),
        1,
    )
    view = folded(details)
    assert view.person is None
    assert view.caregiver is not None
    assert view.caregiver.name == "Lucia Rossi"


# --- intake ---------------------------------------------------------------------------------------


def test_a_confirmation_before_the_announcement_stays_confirmed_in_intakes_district() -> None:
    view = folded(confirmation(2, ambito_id="magentino"), announcement(5))
    assert (view.stage, view.ambito_id) == (Stage.CONFIRMED, "magentino")
    assert view.person is not None  # the announcement's details, read after
    assert folded(announcement(0), confirmation(2, ambito_id="magentino")).ambito_id == "magentino"


def test_a_confirmation_plans_each_service_as_version_one() -> None:
    view = folded(announcement(0), confirmation(2))
    assert (view.stage, view.intensity, view.decided_by, view.decided_at) == (
        Stage.CONFIRMED,
        "medium",
        "rule",
        at(2),
    )
    assert view.reasons == ["Requisiti soddisfatti."]
    assert [(v.version, v.by, v.at) for v in view.versions] == [(1, "rule", at(2))]
    assert {k: (s.status, s.weekly_quantity) for k, s in view.services.items()} == {
        "sad": (ServiceStatus.PLANNED, 6.0),
        "meals": (ServiceStatus.PLANNED, 5.0),
    }


def test_a_rejection_and_a_decision_reversed() -> None:
    assert folded(announcement(0), rejection(2)).stage == Stage.REJECTED
    reversed_ = folded(announcement(0), confirmation(2), rejection(9))
    assert (reversed_.stage, reversed_.decided_by, reversed_.reasons) == (
        Stage.REJECTED,
        "op-lbianchi",
        ["Caregiver di nuovo presente."],
    )


def test_a_revised_plan_is_a_new_version_and_drops_what_never_started() -> None:
    view = folded(confirmation(2), revision(9, 2, (SAD, 9), (TELE, 7)))
    assert view.plan_version == 2
    assert [(v.version, v.reason) for v in view.versions] == [
        (1, "Requisiti soddisfatti."),
        (2, "Piano personalizzato dall'équipe."),
    ]
    assert {k: (s.status, s.weekly_quantity) for k, s in view.services.items()} == {
        "sad": (ServiceStatus.PLANNED, 9.0),
        "teleassistance": (ServiceStatus.PLANNED, 7.0),
    }


def test_a_network_task_known_only_by_its_answer() -> None:
    completed = NetworkTaskCompleted(
        case_id=CASE,
        task_id="net-9",
        outcome=NetworkOutcome.NOT_AVAILABLE,
        resources=[],
        completed_at=at(4),
    )
    task = folded(event(completed, 4)).network_task
    assert task is not None
    assert (task.task_id, task.opened_at, task.outcome) == ("net-9", at(4), "not_available")


# --- activation and the providers -----------------------------------------------------------------


def sad_status(*events: Envelope) -> tuple[ServiceStatus, str | None, str | None]:
    service = folded(confirmation(0), *events).services["sad"]
    return service.status, service.provider_id, service.request_id


def test_a_service_from_its_request_to_its_end() -> None:
    a, b = "coop-a", "coop-b"
    ask_a = requested(3, a, SAD, D4)
    assert sad_status(ask_a) == (ServiceStatus.REQUESTED, a, request_id(a, SAD))
    assert sad_status(ask_a, declined(4, a, SAD))[0] == ServiceStatus.DECLINED
    ask_b = requested(5, b, SAD, D4)
    assert sad_status(ask_a, declined(4, a, SAD), ask_b) == (
        ServiceStatus.REQUESTED,
        b,
        request_id(b, SAD),
    )
    start = datetime(2024, 10, 4, 9, tzinfo=ROME)
    assert sad_status(ask_b, accepted(6, b, SAD, start))[0] == ServiceStatus.ACCEPTED
    running = folded(confirmation(0), ask_b, accepted(6, b, SAD, start), activated(7, b, SAD, D4))
    service = running.services["sad"]
    assert (service.status, service.start_by, service.scheduled_start, service.active_from) == (
        ServiceStatus.ACTIVE,
        D4,
        start,
        D4,
    )
    ended = folded(deactivated(30, b, SAD, D5), view=running).services["sad"]
    assert (ended.status, ended.until) == (ServiceStatus.ENDED, D5)


def test_an_answer_read_before_its_request_waits_for_it() -> None:
    start = datetime(2024, 10, 4, 9, tzinfo=ROME)
    early = folded(confirmation(0), accepted(6, "coop-b", SAD, start))
    assert early.services["sad"].status == ServiceStatus.PLANNED  # whose service: not known yet
    assert fold.request_views(early) == {}
    view = folded(requested(5, "coop-b", SAD, D4), view=early)
    assert view.services["sad"].status == ServiceStatus.ACCEPTED
    request = fold.request_view(view, request_id("coop-b", SAD))
    assert request is not None
    assert (request.status, request.scheduled_start, request.beneficiary_name) == (
        RequestStatus.ACCEPTED,
        start,
        "Mario Rossi",
    )


def test_a_late_copy_of_a_passed_over_request_leaves_the_next_provider_in_charge() -> None:
    view = folded(
        confirmation(0),
        requested(1, "coop-a", SAD, D4),
        deactivated(2, "coop-a", SAD, D3),
        requested(3, "coop-b", SAD, D4),
        activated(5, "coop-b", SAD, D4),
        deactivated(2, "coop-a", SAD, D3, n=1),  # the copy, on coop-a's own topic, read last
    )
    assert (view.services["sad"].status, view.services["sad"].provider_id) == (
        ServiceStatus.ACTIVE,
        "coop-b",
    )


def test_an_escalation_and_each_way_the_team_resolves_it() -> None:
    up = escalated(5, MEALS)
    open_ = folded(confirmation(0), up).services["meals"]
    assert open_.status == ServiceStatus.ESCALATED
    assert open_.escalation is not None
    assert open_.escalation.escalated_at == at(5)

    def meals(*events: Envelope) -> ServiceStatus:
        return folded(confirmation(0), up, *events).services["meals"].status

    assert meals(resolved(6, MEALS, Resolution.FAMILY, covered_by="family")) == (
        ServiceStatus.COVERED
    )
    assert meals(resolved(6, MEALS, Resolution.DROPPED, reason_code="plan.not_needed")) == (
        ServiceStatus.DROPPED
    )
    by_hand = resolved(6, MEALS, Resolution.MANUAL_PROVIDER, provider_id="pasti-c")
    waiting = folded(confirmation(0), up, by_hand).services["meals"]
    assert (waiting.status, waiting.provider_id, waiting.request_id) == (
        ServiceStatus.REQUESTED,
        "pasti-c",
        None,
    )
    assert meals(by_hand, requested(7, "pasti-c", MEALS, D5)) == ServiceStatus.REQUESTED
    assert meals(by_hand, requested(7, "pasti-c", MEALS, D5), declined(8, "pasti-c", MEALS)) == (
        ServiceStatus.DECLINED
    )
    assert meals(by_hand, escalated(9, MEALS)) == ServiceStatus.ESCALATED  # escalated again


def test_an_escalation_weighs_more_than_a_provider_pending_too_late() -> None:
    view = folded(confirmation(0), requested(1, "pasti-c", MEALS, D5), escalated(2, MEALS))
    meals = view.services["meals"]
    assert (meals.status, meals.provider_id) == (ServiceStatus.ESCALATED, "pasti-c")


def test_a_postponement_asked_of_the_ward() -> None:
    postponement = DischargePostponementRequested(
        case_id=CASE,
        hospital_id=HOSPITAL,
        discharge_ref=REF,
        postpone_until=D5,
        waiting_for=[MEALS],
        requested_by="op-lbianchi",
        requested_at=at(7),
    )
    view = folded(confirmation(0), event(postponement, 7))
    assert view.postponement is not None
    assert (view.postponement.postpone_until, view.postponement.waiting_for) == (D5, [MEALS])


def test_deliveries_count_once_each_and_only_for_their_provider() -> None:
    view = folded(
        requested(1, "coop-b", SAD, D4),
        delivered(30, "coop-b", "B-1", D4, "1.5"),
        delivered(31, "coop-b", "B-1", D4, "1.5"),
        delivered(32, "coop-x", "X-1", D4, "4"),
    )
    request = fold.request_view(view, request_id("coop-b", SAD))
    assert request is not None
    assert (request.delivered, request.last_delivered_on) == (1.5, D4)


# --- monitoring -----------------------------------------------------------------------------------


def test_checks_in_their_order_once_each() -> None:
    view = folded(checked(20, 2), checked(10, 1), checked(20, 2))
    assert [(c.week, c.checked_at) for c in view.checks] == [(1, at(10)), (2, at(20))]


def test_a_closure_closes_whatever_is_read_after_it() -> None:
    view = folded(closed(50, CaseOutcome.COMPLETED), announcement(0), confirmation(2))
    assert view.stage == Stage.CLOSED
    assert view.closure is not None
    assert view.closure.outcome == "completed"


def test_a_hand_over_is_the_case_handed_over_before_it_is_closed() -> None:
    view = folded(confirmation(2), handed_over(40))
    assert view.stage == Stage.HANDED_OVER
    assert view.closure is not None
    assert (view.closure.handed_over_at, view.closure.municipality_code) == (at(40), DESIO)
    closed_too = folded(closed(41, CaseOutcome.HANDED_OVER_TO_MUNICIPALITY), view=view)
    assert closed_too.closure is not None
    assert (closed_too.closure.closed_at, closed_too.closure.continuing) == (at(41), [SAD])


def test_a_running_service_shows_before_its_request_is_read() -> None:
    view = folded(
        confirmation(0),
        requested(1, "coop-a", SAD, D4),
        declined(2, "coop-a", SAD),
        activated(7, "coop-b", SAD, D4),  # coop-b's own request not read yet
    )
    sad = view.services["sad"]
    assert (sad.status, sad.provider_id, sad.active_from) == (ServiceStatus.ACTIVE, "coop-b", D4)
    assert list(fold.request_views(view)) == [request_id("coop-a", SAD)]
