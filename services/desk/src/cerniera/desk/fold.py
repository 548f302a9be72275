"""The desk's fold: each event of every topic into its case's view (``casefile.CaseView``), and
the provider's view of each request (``casefile.RequestView``) drawn from it.

Pure: no I/O, tested on its own. Each topic keeps its own order per case, but the topics reach
the desk in any order relative to each other: intake's decision may be read before the ward's
announcement, a provider's answer before the request it answers (and a rebuild reads them in
another order again). So the view keeps *facts*, each told by the one topic that owns it, and
what the screens read (the stage, each service's status and provider) is drawn from the facts
after the events are folded (``_settle``): the same events give the same view, whatever the
order the topics were read in. Within one producer's topic, later wins; across producers a
fact never undoes another's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from cerniera.desk.casefile import (
    AssessmentView,
    CaregiverView,
    CaseView,
    CheckView,
    Closure,
    Delivery,
    Escalation,
    NetworkTask,
    Person,
    PlanLine,
    PlanVersion,
    Postponement,
    RequestFacts,
    RequestStatus,
    RequestView,
    ServiceStatus,
    ServiceView,
    Stage,
)
from cerniera.shared.ambiti import district_tables
from cerniera.shared.contract import (
    BudgetThresholdReached,
    CaseClosed,
    CaseHandedOver,
    CaseOutcome,
    DischargeAnnounced,
    DischargeCancelled,
    DischargePostponementRequested,
    DischargeRescheduled,
    EligibilityConfirmed,
    EligibilityRejected,
    EscalationResolved,
    EventData,
    HoursDelivered,
    NetworkTaskCompleted,
    NetworkTaskOpened,
    PatientDetailsUpdated,
    PatientReadmitted,
    PlanRevised,
    ProviderStatementIssued,
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
    split_case_id,
)
from cerniera.shared.envelope import Envelope

Districts = Mapping[str, str]
"""Municipality (ISTAT code) → its district: where an announced case belongs until intake
says (``residence_districts``)."""

NO_DISTRICTS: Final[Districts] = {}

LEDGER_EVENTS: Final[tuple[type[EventData], ...]] = (
    BudgetThresholdReached,
    ProviderStatementIssued,
)
"""Billing's events: about a district or a provider, never one case (the ``ledger`` table)."""

ACCEPTED: Final = "accepted"
DECLINED: Final = "declined"
UNKNOWN_REASON: Final = "unknown"
"""An escalation known only from its resolution (its own event never applied)."""

_LIVE: Final = (RequestStatus.ACTIVE, RequestStatus.ACCEPTED, RequestStatus.PENDING)
_RANK: Final = {
    RequestStatus.ACTIVE: 5,
    RequestStatus.ACCEPTED: 4,
    RequestStatus.PENDING: 3,
    RequestStatus.ENDED: 2,
    RequestStatus.DECLINED: 1,
}
_AS_SERVICE: Final = {
    RequestStatus.PENDING: ServiceStatus.REQUESTED,
    RequestStatus.ACCEPTED: ServiceStatus.ACCEPTED,
    RequestStatus.ACTIVE: ServiceStatus.ACTIVE,
    RequestStatus.DECLINED: ServiceStatus.DECLINED,
    RequestStatus.ENDED: ServiceStatus.ENDED,
}
_COVERED: Final = (Resolution.FAMILY, Resolution.TERRITORIAL_NETWORK)
_AWAITING: Final = (Resolution.MANUAL_PROVIDER, Resolution.POSTPONEMENT_REQUESTED)
_NEVER: Final = datetime.min.replace(tzinfo=UTC)


def residence_districts(document: Mapping[str, Any]) -> dict[str, str]:
    """Each municipality of the districts' document (``ambiti.load_document``) → its district."""
    return {
        str(code): ambito_id
        for ambito_id, district in district_tables(dict(document)).items()
        for code in district.get("municipalities", [])
    }


def case_of(event: Envelope) -> str | None:
    """The case an event is about: its ``case_id``, else its subject (a provider's answer names
    only the request); None for billing's events."""
    if isinstance(event.data, LEDGER_EVENTS):
        return None
    case_id = getattr(event.data, "case_id", None)
    return case_id if isinstance(case_id, str) else event.subject


def apply(view: CaseView | None, event: Envelope, districts: Districts = NO_DISTRICTS) -> CaseView:
    """``view`` with ``event`` folded in (a new view; ``view`` is left as it was). ``None``:
    the case's first event, whichever it is."""
    return fold(view, [event], districts)


def fold(
    view: CaseView | None,
    events: Iterable[Envelope],
    districts: Districts = NO_DISTRICTS,
    *,
    in_place: bool = False,
) -> CaseView:
    """``view`` with ``events`` (all of one case, in the order read) folded in, as a new view;
    ``in_place``: into ``view`` itself (the caller's own copy, as the projection's just read),
    returned. Raises ``ValueError`` for an event of another case, or of none (billing's)."""
    events = list(events)
    if view is None:
        if not events:
            raise ValueError("no view and no event: nothing to fold")
        case_id = case_of(events[0])
        if case_id is None:
            raise ValueError(f"{events[0].type} is about no case")
        folded = _new_view(case_id)
    else:
        # Through plain data: several times faster than a deep copy of the models.
        folded = view if in_place else CaseView.model_validate(view.model_dump())
    for event in events:
        if case_of(event) != folded.case_id:
            raise ValueError(f"{event.type} {event.id} is not about case {folded.case_id}")
        _FOLDS[type(event.data)](folded, event, districts)
        if folded.updated_at is None or event.time > folded.updated_at:
            folded.updated_at = event.time
    _settle(folded)
    return folded


def _new_view(case_id: str) -> CaseView:
    try:
        hospital_id, discharge_ref = split_case_id(case_id)
    except ValueError:  # a provider's subject that is no case id: kept, never guessed
        return CaseView(case_id=case_id)
    return CaseView(case_id=case_id, hospital_id=hospital_id, discharge_ref=discharge_ref)


# --- the hospital ------------------------------------------------------------------------------


def _hospital_latest(view: CaseView, event: Envelope) -> bool:
    """Whether ``event`` is the latest the hospital said of the discharge date (time-wise)."""
    return view.discharge_told_at is None or event.time >= view.discharge_told_at


def _announced(view: CaseView, event: Envelope, districts: Districts) -> None:
    data = event.data_as(DischargeAnnounced)
    latest = _hospital_latest(view, event)
    if latest:
        view.expected_discharge_at = data.expected_discharge_at
        view.discharge_told_at = event.time
    if latest or view.person is None:
        view.ward = data.ward
        view.person = Person.model_validate(data.patient.model_dump())
        view.caregiver = (
            CaregiverView.model_validate(data.caregiver.model_dump()) if data.caregiver else None
        )
        view.assessment = (
            AssessmentView(
                answers={k: v.value for k, v in data.assessment.answers.items()},
                brass_score=data.assessment.brass_score,
                consent=data.assessment.consent,
                notes=data.assessment.notes,
            )
            if data.assessment
            else None
        )
    view.hospital_id, view.discharge_ref = data.hospital_id, data.discharge_ref
    if view.announced_at is None or event.time < view.announced_at:
        view.announced_at = event.time
    if view.cancelled_at is not None and event.time >= view.cancelled_at:
        view.cancelled_at = view.cancellation_reason = None  # announced again after it
    if view.ambito_id is None:  # intake's district, once known, wins over the residence's
        view.ambito_id = districts.get(data.patient.municipality_code)


def _rescheduled(view: CaseView, event: Envelope, districts: Districts) -> None:
    data = event.data_as(DischargeRescheduled)
    if _hospital_latest(view, event):
        view.expected_discharge_at = data.expected_discharge_at
        view.discharge_told_at = event.time


def _cancelled(view: CaseView, event: Envelope, districts: Districts) -> None:
    data = event.data_as(DischargeCancelled)
    view.cancelled_at = event.time
    view.cancellation_reason = data.reason


def _readmitted(view: CaseView, event: Envelope, districts: Districts) -> None:
    view.readmitted_at = event.data_as(PatientReadmitted).readmitted_at


def _details_updated(view: CaseView, event: Envelope, districts: Districts) -> None:
    data = event.data_as(PatientDetailsUpdated)
    if view.person is not None:  # before its announcement: only the timeline keeps it
        view.person = view.person.model_copy(update={"address": data.address, "phone": data.phone})
    if data.caregiver is not None:
        view.caregiver = CaregiverView.model_validate(data.caregiver.model_dump())


# --- intake ------------------------------------------------------------------------------------


def _plan(services: list[ServiceLine]) -> list[PlanLine]:
    return [
        PlanLine(service_type=s.service_type, weekly_quantity=float(s.weekly_quantity))
        for s in services
    ]


def _add_version(view: CaseView, version: PlanVersion) -> None:
    versions = {v.version: v for v in view.versions}
    versions[version.version] = version  # the same version told again replaces it
    view.versions = [versions[n] for n in sorted(versions)]


def _confirmed(view: CaseView, event: Envelope, districts: Districts) -> None:
    data = event.data_as(EligibilityConfirmed)
    view.ambito_id = data.ambito_id
    view.eligible = True
    view.intensity = data.intensity.value
    view.reasons = [r.text for r in data.reasons]
    view.decided_by, view.decided_at = data.decided_by, event.time
    view.plan, view.plan_version = _plan(data.services), data.plan_version
    _add_version(
        view,
        PlanVersion(
            version=data.plan_version,
            services=view.plan,
            at=event.time,
            by=data.decided_by,
            reason="; ".join(view.reasons) or None,
        ),
    )
    if view.discharge_told_at is None:  # the hospital's own word, whenever read, wins
        view.expected_discharge_at = data.expected_discharge_at


def _rejected(view: CaseView, event: Envelope, districts: Districts) -> None:
    data = event.data_as(EligibilityRejected)
    view.eligible = False
    view.reasons = [r.text for r in data.reasons]
    view.decided_by, view.decided_at = data.decided_by, event.time


def _revised(view: CaseView, event: Envelope, districts: Districts) -> None:
    data = event.data_as(PlanRevised)
    view.ambito_id = data.ambito_id
    view.plan, view.plan_version = _plan(data.services), data.plan_version
    _add_version(
        view,
        PlanVersion(
            version=data.plan_version,
            services=view.plan,
            at=event.time,
            by=data.revised_by,
            reason=data.reason.text,
        ),
    )


def _task_opened(view: CaseView, event: Envelope, districts: Districts) -> None:
    data = event.data_as(NetworkTaskOpened)
    view.ambito_id = data.ambito_id
    if view.network_task is None or view.network_task.task_id != data.task_id:
        view.network_task = NetworkTask(task_id=data.task_id, opened_at=data.opened_at)


def _task_completed(view: CaseView, event: Envelope, districts: Districts) -> None:
    data = event.data_as(NetworkTaskCompleted)
    task = view.network_task
    if task is None or task.task_id != data.task_id:
        task = NetworkTask(task_id=data.task_id, opened_at=data.completed_at)
    view.network_task = task.model_copy(
        update={
            "completed_at": data.completed_at,
            "outcome": data.outcome.value,
            "resources": [r.value for r in data.resources],
        }
    )


# --- activation and the providers -------------------------------------------------------------


def _facts(view: CaseView, request_id: str, provider_id: str) -> RequestFacts:
    facts = view.requests.get(request_id)
    if facts is None:
        facts = view.requests[request_id] = RequestFacts(
            request_id=request_id, provider_id=provider_id
        )
    return facts


def _requested(view: CaseView, event: Envelope, districts: Districts) -> None:
    data = event.data_as(ServiceActivationRequested)
    facts = _facts(view, data.request_id, data.provider_id)
    facts.service_type = data.service_type
    # Sent again with the same id: an update (a new start_by, quantity or contact).
    facts.weekly_quantity = float(data.weekly_quantity)
    facts.start_by = data.start_by
    facts.beneficiary_name = data.beneficiary.name
    facts.beneficiary_address = data.beneficiary.address
    facts.beneficiary_phone = data.beneficiary.phone
    if facts.requested_at is None or event.time < facts.requested_at:
        facts.requested_at = event.time


def _accepted(view: CaseView, event: Envelope, districts: Districts) -> None:
    data = event.data_as(ServiceActivationAccepted)
    facts = _facts(view, data.request_id, data.provider_id)
    facts.answer, facts.scheduled_start, facts.decline_reason = ACCEPTED, data.scheduled_start, None


def _declined(view: CaseView, event: Envelope, districts: Districts) -> None:
    data = event.data_as(ServiceActivationDeclined)
    facts = _facts(view, data.request_id, data.provider_id)
    facts.answer, facts.scheduled_start = DECLINED, None
    facts.decline_reason = data.reason_code.value


def _activated(view: CaseView, event: Envelope, districts: Districts) -> None:
    data = event.data_as(ServiceActivated)
    facts = _facts(view, data.request_id, data.provider_id)
    facts.service_type = data.service_type
    facts.active_from = data.active_from  # a later acceptance with another day moves it


def _deactivated(view: CaseView, event: Envelope, districts: Districts) -> None:
    # Read twice (activation's topic and its copy on the provider's): the same fact twice.
    data = event.data_as(ServiceDeactivated)
    facts = _facts(view, data.request_id, data.provider_id)
    facts.service_type = data.service_type
    facts.until = data.until


def _service(view: CaseView, service_type: ServiceType) -> ServiceView:
    service = view.services.get(service_type.value)
    if service is None:
        service = view.services[service_type.value] = ServiceView(service_type=service_type)
    return service


def _escalated(view: CaseView, event: Envelope, districts: Districts) -> None:
    data = event.data_as(ServiceActivationEscalated)
    _service(view, data.service_type).escalation = Escalation(
        reason=data.reason.value, escalated_at=event.time
    )


def _resolved(view: CaseView, event: Envelope, districts: Districts) -> None:
    data = event.data_as(EscalationResolved)
    service = _service(view, data.service_type)
    escalation = service.escalation or Escalation(
        reason=UNKNOWN_REASON, escalated_at=data.resolved_at
    )
    service.escalation = escalation.model_copy(
        update={
            "resolution": data.resolution.value,
            "resolved_at": data.resolved_at,
            "resolved_by": data.resolved_by,
            "provider_id": data.provider_id,
            "covered_by": data.covered_by.value if data.covered_by else None,
            "reason_code": data.reason_code,
        }
    )


def _postponement(view: CaseView, event: Envelope, districts: Districts) -> None:
    data = event.data_as(DischargePostponementRequested)
    view.postponement = Postponement(
        postpone_until=data.postpone_until,
        waiting_for=list(data.waiting_for),
        requested_at=data.requested_at,
    )


def _delivered(view: CaseView, event: Envelope, districts: Districts) -> None:
    data = event.data_as(HoursDelivered)
    # The provider's own id for the line: a repeat is the same delivery (paid once by
    # billing), so the first one read stays.
    view.deliveries.setdefault(
        f"{data.provider_id}:{data.delivery_ref}",
        Delivery(
            provider_id=data.provider_id,
            service_type=data.service_type,
            delivered_on=data.delivered_on,
            quantity=float(data.quantity),
            evening=data.evening,
        ),
    )


# --- monitoring --------------------------------------------------------------------------------


def _checked(view: CaseView, event: Envelope, districts: Districts) -> None:
    data = event.data_as(WeeklyCheckDone)
    check = CheckView(
        week=data.week,
        checked_at=data.checked_at,
        outcome=data.outcome.value,
        recommendation=data.recommendation.value if data.recommendation else None,
    )
    checks = {(c.week, c.checked_at): c for c in view.checks}
    checks[(check.week, check.checked_at)] = check
    view.checks = sorted(checks.values(), key=lambda c: (c.checked_at, c.week))


def _handed_over(view: CaseView, event: Envelope, districts: Districts) -> None:
    data = event.data_as(CaseHandedOver)
    closure = view.closure or Closure(
        closed_at=data.handed_over_at, outcome=CaseOutcome.HANDED_OVER_TO_MUNICIPALITY.value
    )
    view.closure = closure.model_copy(
        update={
            "handed_over_at": data.handed_over_at,
            "municipality_code": data.municipality_code,
            "continuing": list(data.continuing),
        }
    )
    if view.ambito_id is None:
        view.ambito_id = data.ambito_id


def _closed(view: CaseView, event: Envelope, districts: Districts) -> None:
    data = event.data_as(CaseClosed)
    update = {"closed_at": data.closed_at, "outcome": data.outcome.value}
    view.closure = (
        view.closure.model_copy(update=update)
        if view.closure
        else Closure(closed_at=data.closed_at, outcome=data.outcome.value)
    )


_Fold = Callable[[CaseView, Envelope, Districts], None]
_FOLDS: Final[dict[type[EventData], _Fold]] = {
    DischargeAnnounced: _announced,
    DischargeRescheduled: _rescheduled,
    DischargeCancelled: _cancelled,
    PatientReadmitted: _readmitted,
    PatientDetailsUpdated: _details_updated,
    EligibilityConfirmed: _confirmed,
    EligibilityRejected: _rejected,
    PlanRevised: _revised,
    NetworkTaskOpened: _task_opened,
    NetworkTaskCompleted: _task_completed,
    ServiceActivationRequested: _requested,
    ServiceActivationAccepted: _accepted,
    ServiceActivationDeclined: _declined,
    ServiceActivated: _activated,
    ServiceDeactivated: _deactivated,
    ServiceActivationEscalated: _escalated,
    EscalationResolved: _resolved,
    DischargePostponementRequested: _postponement,
    HoursDelivered: _delivered,
    WeeklyCheckDone: _checked,
    CaseHandedOver: _handed_over,
    CaseClosed: _closed,
}
CASE_EVENTS: Final = frozenset(_FOLDS)
"""The event types folded into a case (every one of the contract but billing's)."""


# --- what the screens read, drawn from the facts ----------------------------------------------


def _settle(view: CaseView) -> None:
    view.stage = _stage(view)
    view.services = _services(view)


def _stage(view: CaseView) -> Stage:
    # Each from its own topic, in this precedence: whatever order they were read in, the
    # same facts give the same stage (a decision read after the closure leaves it closed).
    if view.closure is not None:
        if view.closure.outcome == CaseOutcome.HANDED_OVER_TO_MUNICIPALITY:
            return Stage.HANDED_OVER
        return Stage.CLOSED
    if view.cancelled_at is not None:
        return Stage.CANCELLED
    if view.eligible is None:
        return Stage.ANNOUNCED
    return Stage.CONFIRMED if view.eligible else Stage.REJECTED


def request_status(facts: RequestFacts) -> RequestStatus:
    """Where a request stands, from its facts (each sticky: an ended request never restarts)."""
    if facts.until is not None:
        return RequestStatus.ENDED
    if facts.active_from is not None:
        return RequestStatus.ACTIVE
    if facts.answer == ACCEPTED:
        return RequestStatus.ACCEPTED
    if facts.answer == DECLINED:
        return RequestStatus.DECLINED
    return RequestStatus.PENDING


def _current(requests: list[RequestFacts]) -> RequestFacts | None:
    """The request that says where the service stands: a running one before a pending one,
    before one that ended or was declined; among equals the latest sent."""
    return max(
        requests,
        key=lambda f: (_RANK[request_status(f)], f.requested_at or _NEVER, f.request_id),
        default=None,
    )


def _services(view: CaseView) -> dict[str, ServiceView]:
    planned = {line.service_type: line.weekly_quantity for line in view.plan}
    requests: dict[ServiceType, list[RequestFacts]] = {}
    for facts in view.requests.values():
        if facts.service_type is not None:
            requests.setdefault(facts.service_type, []).append(facts)
    escalations = {
        ServiceType(key): s.escalation for key, s in view.services.items() if s.escalation
    }
    wanted = planned.keys() | requests.keys() | escalations.keys()
    return {
        service_type.value: _service_view(
            service_type,
            planned.get(service_type),
            requests.get(service_type, []),
            escalations.get(service_type),
        )
        for service_type in ServiceType
        if service_type in wanted
    }


def _service_view(
    service_type: ServiceType,
    planned: float | None,
    requests: list[RequestFacts],
    escalation: Escalation | None,
) -> ServiceView:
    current = _current(requests)
    status = _service_status(current, escalation)
    if status is ServiceStatus.REQUESTED and (
        current is None or request_status(current) not in _LIVE
    ):
        # The team named a provider (or asked for a postponement): its request is to come.
        assert escalation is not None
        return ServiceView(
            service_type=service_type,
            weekly_quantity=planned,
            status=status,
            provider_id=escalation.provider_id,
            escalation=escalation,
        )
    return ServiceView(
        service_type=service_type,
        weekly_quantity=planned
        if planned is not None or current is None
        else current.weekly_quantity,
        status=status,
        provider_id=current.provider_id if current else None,
        request_id=current.request_id if current else None,
        start_by=current.start_by if current else None,
        scheduled_start=current.scheduled_start if current else None,
        active_from=current.active_from if current else None,
        until=current.until if current else None,
        escalation=escalation,
    )


def _service_status(current: RequestFacts | None, escalation: Escalation | None) -> ServiceStatus:
    state = request_status(current) if current is not None else None
    resolution = escalation.resolution if escalation is not None else None
    if escalation is not None and resolution is None:
        return ServiceStatus.ESCALATED  # the team must act, even with a provider pending late
    if state in _LIVE:
        return _AS_SERVICE[state]
    if resolution in _COVERED:
        return ServiceStatus.COVERED
    if resolution == Resolution.DROPPED:
        return ServiceStatus.DROPPED
    if resolution in _AWAITING:
        assert escalation is not None
        # A request sent after the resolution, and already declined or ended, says more.
        sent = current.requested_at if current is not None else None
        resolved_at = escalation.resolved_at
        if state is None or sent is None or resolved_at is None or sent <= resolved_at:
            return ServiceStatus.REQUESTED
    if state is not None:
        return _AS_SERVICE[state]
    return ServiceStatus.PLANNED


# --- the provider's view of a request -----------------------------------------------------------


def request_view(view: CaseView, request_id: str) -> RequestView | None:
    """The provider's view of one of the case's requests; None until the request itself (with
    its beneficiary and deadline) has been read."""
    return request_views(view).get(request_id)


def request_views(view: CaseView) -> dict[str, RequestView]:
    """Every request of the case whose request has been read, by request id."""
    lines: dict[tuple[str, ServiceType], list[Delivery]] = {}
    for key in sorted(view.deliveries):
        line = view.deliveries[key]
        lines.setdefault((line.provider_id, line.service_type), []).append(line)
    siblings: dict[tuple[str, ServiceType | None], int] = {}
    for facts in view.requests.values():
        pair = (facts.provider_id, facts.service_type)
        siblings[pair] = siblings.get(pair, 0) + 1
    views = {}
    for request_id in sorted(view.requests):
        facts = view.requests[request_id]
        if (
            facts.service_type is None
            or facts.weekly_quantity is None
            or facts.start_by is None
            or facts.requested_at is None
            or facts.beneficiary_name is None
            or facts.beneficiary_address is None
        ):
            continue
        own = lines.get((facts.provider_id, facts.service_type), [])
        if siblings[(facts.provider_id, facts.service_type)] > 1:
            # The provider had several requests for the service: each its days of service.
            own = [
                d
                for d in own
                if (facts.active_from is None or d.delivered_on >= facts.active_from)
                and (facts.until is None or d.delivered_on <= facts.until)
            ]
        views[request_id] = RequestView(
            request_id=facts.request_id,
            provider_id=facts.provider_id,
            case_id=view.case_id,
            service_type=facts.service_type,
            weekly_quantity=facts.weekly_quantity,
            start_by=facts.start_by,
            beneficiary_name=facts.beneficiary_name,
            beneficiary_address=facts.beneficiary_address,
            beneficiary_phone=facts.beneficiary_phone,
            status=request_status(facts),
            requested_at=facts.requested_at,
            scheduled_start=facts.scheduled_start,
            decline_reason=facts.decline_reason,
            active_from=facts.active_from,
            until=facts.until,
            delivered=round(sum(d.quantity for d in own), 2),
            last_delivered_on=max((d.delivered_on for d in own), default=None),
        )
    return views
