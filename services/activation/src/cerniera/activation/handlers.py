"""Activation's event handlers and deadline check: thin. They lock and store the case and its
requests; whom to ask, when to escalate and what "late" means are in ``domain``.

What providers (and their adapters) see on ``activation.services``:

- ``ServiceActivationRequested`` asks one provider to start one service; ``request_id`` is
  ``<case_id>/<service_type>/<n>``, ``n`` counting the requests made for that service.
  **A repeated ``request_id`` is an update, not a new request**: when the discharge moves, every
  open request (pending or accepted) is sent again with the same ``request_id`` and the new
  ``start_by`` (and when a new decision changes the weekly quantity, with the new
  ``weekly_quantity``); the provider answers again if its answer changes.
- ``ServiceActivated`` once the provider accepted (``active_from`` = the Italian day of its
  ``scheduled_start``; a later acceptance of the same request with another day updates it).
- ``ServiceDeactivated`` ends a request: the case ended (cancelled, readmitted, closed), a new
  decision dropped the service or rejected the case, the provider backed out after accepting,
  or it did not answer by the deadline (the request is withdrawn and the next provider asked).
- ``ServiceActivationEscalated`` when an operator must step in.

Answers to requests that are unknown, already answered or withdrawn, or for ended cases are
ignored and logged: the inbox already drops redeliveries, so these are genuinely stale.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from cerniera.activation import domain
from cerniera.activation.config import ActivationConfig, Ambito
from cerniera.activation.domain import (
    Ask,
    Attempt,
    CaseStatus,
    Escalate,
    RequestStatus,
    Step,
    WorkingCalendar,
)
from cerniera.activation.store import (
    Case,
    attempts_of,
    lock_case,
    lock_or_create_case,
    update_case,
)
from cerniera.activation.tables import cases, requests
from cerniera.shared.causation import handling
from cerniera.shared.clock import Clock, italian_date
from cerniera.shared.contract import (
    CaseClosed,
    DischargeAnnounced,
    DischargeCancelled,
    DischargeRescheduled,
    EligibilityConfirmed,
    EligibilityRejected,
    EscalationReason,
    EventData,
    PatientReadmitted,
    ServiceActivated,
    ServiceActivationAccepted,
    ServiceActivationDeclined,
    ServiceActivationEscalated,
    ServiceActivationRequested,
    ServiceDeactivated,
    ServiceType,
)
from cerniera.shared.envelope import Envelope
from cerniera.shared.messaging.consumer import Handler, Rejected, per_event
from cerniera.shared.persistence.outbox import Database, UnitOfWork

log = structlog.get_logger(__name__)


class Activation:
    """The service's behaviour over its tables, with the runtime's clock (accelerated in the
    demo and in tests): "today" for lead times, "now" for answer deadlines."""

    def __init__(
        self, config: ActivationConfig, clock: Clock, calendar: WorkingCalendar = domain.ITALY
    ) -> None:
        self.config = config
        self.clock = clock
        self.calendar = calendar

    def handlers(self) -> Mapping[type[EventData], Handler]:
        return {
            DischargeAnnounced: self.on_announcements,
            DischargeRescheduled: per_event(self.on_rescheduled),
            DischargeCancelled: per_event(self.on_cancelled),
            PatientReadmitted: per_event(self.on_readmitted),
            EligibilityConfirmed: per_event(self.on_confirmed),
            EligibilityRejected: per_event(self.on_rejected),
            ServiceActivationAccepted: per_event(self.on_accepted),
            ServiceActivationDeclined: per_event(self.on_declined),
            CaseClosed: per_event(self.on_closed),
        }

    # --- the hospital ----------------------------------------------------------------------

    async def on_announcements(self, uow: UnitOfWork, events: Sequence[Envelope]) -> None:
        """A run of announcements: the cases seen for the first time in one statement (the
        usual case: the ward announces before intake decides); any other goes through
        ``on_announced`` one by one, in order (it may complete or move a plan)."""
        first: dict[str, Envelope] = {}
        again: list[Envelope] = []
        for event in events:
            case_id = _announcement(event).case_id
            if case_id in first:
                again.append(event)
            else:
                first[case_id] = event
        rows = [{"case_id": case_id, **_new_case(e)} for case_id, e in first.items()]
        result = await uow.conn.execute(
            insert(cases).on_conflict_do_nothing().returning(cases.c.case_id), rows
        )
        created = set(result.scalars())
        known = [e for case_id, e in first.items() if case_id not in created]
        for event in known + again:
            with handling(event):
                await self.on_announced(uow, event)

    async def on_announced(self, uow: UnitOfWork, event: Envelope) -> None:
        """Keep the beneficiary's contact and the expected discharge; plan if the package is
        already known (the decision may have arrived first)."""
        data = _announcement(event)
        patient = data.patient
        contact = _contact(data)
        case, created = await lock_or_create_case(uow.conn, data.case_id, _new_case(event))
        if created or case.status is CaseStatus.ENDED:
            return
        if case.status is CaseStatus.PLANNED:
            # Announced again: the contact may be corrected, and the date may have moved.
            await _update_case(uow, case.case_id, beneficiary=contact)
            corrected = await lock_case(uow.conn, case.case_id)
            assert corrected is not None
            await self._move_discharge(uow, corrected, data.expected_discharge_at)
            return
        arrived = {
            "beneficiary": contact,
            "municipality_code": patient.municipality_code,
            "discharge_at": data.expected_discharge_at,
            "discharge_on": italian_date(data.expected_discharge_at),
        }
        if case.status is CaseStatus.AWAITING_CONTACT:
            await self._start(uow, case.case_id, **arrived)
        else:
            await _update_case(uow, case.case_id, **arrived)

    async def on_rescheduled(self, uow: UnitOfWork, event: Envelope) -> None:
        data = event.data
        assert isinstance(data, DischargeRescheduled)
        case = await lock_case(uow.conn, data.case_id)
        if case is None:
            # Its announcement came first on this partition, so it was never announced (or
            # was dead-lettered): intake dead-letters the reschedule; nothing to move here.
            log.warning("reschedule.ignored", reason="unknown case")
            return
        if case.status is CaseStatus.ENDED:
            log.info("reschedule.ignored", reason="case ended")
            return
        await self._move_discharge(uow, case, data.expected_discharge_at)

    async def on_cancelled(self, uow: UnitOfWork, event: Envelope) -> None:
        data = event.data
        assert isinstance(data, DischargeCancelled)
        await self._end(uow, event, data.case_id, self.clock.today(), "discharge cancelled")

    async def on_readmitted(self, uow: UnitOfWork, event: Envelope) -> None:
        data = event.data
        assert isinstance(data, PatientReadmitted)
        day = italian_date(data.readmitted_at)
        await self._end(uow, event, data.case_id, day, f"readmitted on {day}")

    # --- intake and monitoring -------------------------------------------------------------

    async def on_confirmed(self, uow: UnitOfWork, event: Envelope) -> None:
        """The package: plan it once the contact is known too. A later decision for the same
        case supersedes the earlier one and changes the plan under way."""
        data = event.data
        assert isinstance(data, EligibilityConfirmed)
        if data.ambito_id not in self.config.ambiti:
            raise Rejected(
                "ambito.unknown", f"district {data.ambito_id} is not in activation's document"
            )
        services = [s.model_dump(mode="json") for s in data.services]
        from_decision = {
            "discharge_at": data.expected_discharge_at,
            "discharge_on": italian_date(data.expected_discharge_at),
        }
        case, created = await lock_or_create_case(
            uow.conn,
            data.case_id,
            {
                "status": CaseStatus.AWAITING_CONTACT,
                "ambito_id": data.ambito_id,
                "services": services,
                "correlation_id": event.correlation_id or event.id,
                **from_decision,
            },
        )
        if created:
            log.info("plan.waiting", waiting_for="DischargeAnnounced")
            return
        if case.status is CaseStatus.ENDED:
            log.info("eligibility.ignored", reason="case ended")
            return
        if case.status is CaseStatus.PLANNED:
            await self._change_package(uow, case, data)
            return
        # Once announced, the hospital's date stays: it may have moved since the decision.
        if case.beneficiary is not None:
            await self._start(uow, case.case_id, ambito_id=data.ambito_id, services=services)
        else:
            await _update_case(
                uow,
                case.case_id,
                ambito_id=data.ambito_id,
                services=services,
                status=CaseStatus.AWAITING_CONTACT,
                **from_decision,
            )

    async def on_rejected(self, uow: UnitOfWork, event: Envelope) -> None:
        """A rejection needs nothing from activation, unless it supersedes a confirmation
        (the team overrode the rule, or corrected the assessment): then every service stops,
        and the case waits for a new decision."""
        data = event.data
        assert isinstance(data, EligibilityRejected)
        case = await lock_case(uow.conn, data.case_id)
        if case is None or case.status in (CaseStatus.AWAITING_ELIGIBILITY, CaseStatus.ENDED):
            return
        reason = "eligibility rejected by a later decision"
        today = self.clock.today()
        for attempt in await attempts_of(uow.conn, case.case_id):
            if attempt.is_open:
                await _update_request(
                    uow, attempt.request_id, status=RequestStatus.DEACTIVATED, reason=reason
                )
                _emit(uow, case, _deactivated(case, attempt, today))
        await _update_case(uow, case.case_id, status=CaseStatus.AWAITING_ELIGIBILITY, services=None)
        log.info("plan.withdrawn", reason=reason)

    async def on_closed(self, uow: UnitOfWork, event: Envelope) -> None:
        data = event.data
        assert isinstance(data, CaseClosed)
        await self._end(
            uow,
            event,
            data.case_id,
            italian_date(data.closed_at),
            f"case closed ({data.outcome.value})",
        )

    # --- providers -------------------------------------------------------------------------

    async def on_accepted(self, uow: UnitOfWork, event: Envelope) -> None:
        data = event.data
        assert isinstance(data, ServiceActivationAccepted)
        found = await self._answered(uow, event, data.request_id, data.provider_id)
        if found is None:
            return
        case, attempt, _ = found
        active_from = italian_date(data.scheduled_start)
        if attempt.status is RequestStatus.ACCEPTED and attempt.active_from == active_from:
            log.info("answer.ignored", reason="same acceptance again")
            return
        await _update_request(
            uow,
            attempt.request_id,
            status=RequestStatus.ACCEPTED,
            answered_at=self.clock.now(),
            active_from=active_from,
        )
        _emit(
            uow,
            case,
            ServiceActivated(
                case_id=case.case_id,
                request_id=attempt.request_id,
                provider_id=attempt.provider_id,
                service_type=attempt.service_type,
                active_from=active_from,
            ),
        )
        if domain.starts_late(active_from, case.discharge_day):
            _escalate(
                uow, case, attempt.service_type, EscalationReason.CANNOT_START_BEFORE_DISCHARGE
            )

    async def on_declined(self, uow: UnitOfWork, event: Envelope) -> None:
        data = event.data
        assert isinstance(data, ServiceActivationDeclined)
        found = await self._answered(uow, event, data.request_id, data.provider_id)
        if found is None:
            return
        case, attempt, attempts = found
        log.info("request.declined", reason_code=data.reason_code, note=data.note)
        await self._pass_over(
            uow,
            case,
            attempts,
            attempt,
            status=RequestStatus.DECLINED,
            reason=data.reason_code.value,
            none_left=EscalationReason.ALL_PROVIDERS_DECLINED,
        )

    # --- time ------------------------------------------------------------------------------

    async def expire_overdue(self, db: Database, *, limit: int = 200) -> int:
        """Withdraw requests unanswered past their deadline and ask the next provider. One
        transaction per case; a case busy in the consumer is left for the next period."""
        now = self.clock.now()
        async with db.engine.connect() as conn:
            due = (
                await conn.execute(
                    select(requests.c.case_id)
                    .where(
                        requests.c.status == RequestStatus.REQUESTED,
                        requests.c.deadline_at <= now,
                    )
                    .group_by(requests.c.case_id)
                    .order_by(func.min(requests.c.deadline_at))
                    .limit(limit)
                )
            ).scalars()
            case_ids = list(due)
        expired = 0
        for case_id in case_ids:
            try:
                async with db.unit_of_work() as uow:
                    expired += await self._expire_case(uow, case_id, now)
            except Exception:
                log.exception("deadline.check_failed", case_id=case_id)
        return expired

    async def _expire_case(self, uow: UnitOfWork, case_id: str, now: datetime) -> int:
        case = await lock_case(uow.conn, case_id, skip_locked=True)
        if case is None or case.status is not CaseStatus.PLANNED:
            return 0
        attempts = await attempts_of(uow.conn, case_id)
        overdue = [a for a in attempts if domain.is_overdue(a, now)]
        for attempt in overdue:
            log.info(
                "request.expired",
                case_id=case_id,
                request_id=attempt.request_id,
                deadline_at=attempt.deadline_at.isoformat(),
            )
            await self._pass_over(
                uow,
                case,
                attempts,
                attempt,
                status=RequestStatus.EXPIRED,
                reason="no answer before the deadline",
                none_left=EscalationReason.NO_ANSWER_BEFORE_DEADLINE,
            )
        return len(overdue)

    # --- shared steps ----------------------------------------------------------------------

    async def _answered(
        self, uow: UnitOfWork, event: Envelope, request_id: str, provider_id: str
    ) -> tuple[Case, Attempt, list[Attempt]] | None:
        """The case (locked) and request an answer is about, or ``None`` if it does not apply."""
        case_id: str | None = await uow.conn.scalar(
            select(requests.c.case_id).where(requests.c.request_id == request_id)
        )
        case = await lock_case(uow.conn, case_id) if case_id is not None else None
        attempts = await attempts_of(uow.conn, case.case_id) if case is not None else []
        attempt = next((a for a in attempts if a.request_id == request_id), None)
        why = domain.why_ignored(attempt, provider_id, case.status if case else None)
        if why is not None or case is None or attempt is None:
            log.info("answer.ignored", request_id=request_id, provider_id=provider_id, reason=why)
            return None
        if event.subject is not None and event.subject != case.case_id:
            log.warning("answer.subject_mismatch", request_case_id=case.case_id)
        return case, attempt, attempts

    async def _pass_over(
        self,
        uow: UnitOfWork,
        case: Case,
        attempts: list[Attempt],
        attempt: Attempt,
        *,
        status: RequestStatus,
        reason: str,
        none_left: EscalationReason,
    ) -> None:
        """Close ``attempt`` (declined, or expired) and ask the next candidate. A provider that
        had accepted, or that is withdrawn for silence, is told with ``ServiceDeactivated``."""
        now = self.clock.now()
        await _update_request(
            uow,
            attempt.request_id,
            status=status,
            reason=reason,
            answered_at=now if status is RequestStatus.DECLINED else None,
        )
        if attempt.status is RequestStatus.ACCEPTED or status is RequestStatus.EXPIRED:
            _emit(uow, case, _deactivated(case, attempt, self.clock.today()))
        closed = dataclasses.replace(attempt, status=status, reason=reason)
        attempts[attempts.index(attempt)] = closed
        ambito = self._ambito(case)
        steps = domain.next_candidate(
            ambito,
            attempt.service_type,
            case.municipality,
            attempts,
            today=self.clock.today(),
            discharge_day=case.discharge_day,
            none_left=none_left,
            calendar=self.calendar,
        )
        await self._apply(uow, case, ambito, steps, attempts)

    async def _start(self, uow: UnitOfWork, case_id: str, **values: Any) -> None:
        """Both halves are in: the contact and the package (``values``: the half that just
        arrived). Plan every service."""
        case = await update_case(uow.conn, case_id, status=CaseStatus.PLANNED, **values)
        ambito = self._ambito(case)
        steps = domain.plan_package(
            ambito,
            [s.service_type for s in case.services],
            case.municipality,
            today=self.clock.today(),
            discharge_day=case.discharge_day,
            calendar=self.calendar,
        )
        log.info("plan.made", steps=[_describe(s) for s in steps])
        await self._apply(uow, case, ambito, steps, await attempts_of(uow.conn, case_id))

    async def _apply(
        self,
        uow: UnitOfWork,
        case: Case,
        ambito: Ambito,
        steps: Sequence[Step],
        attempts: list[Attempt],
    ) -> None:
        now = self.clock.now()
        rows: list[dict[str, Any]] = []
        for step in steps:
            if isinstance(step, Escalate):
                _escalate(uow, case, step.service_type, step.reason)
                continue
            number = domain.attempt_number(attempts, step.service_type)
            attempt = Attempt(
                request_id=domain.request_id_for(case.case_id, step.service_type, number),
                service_type=step.service_type,
                provider_id=step.provider_id,
                attempt=number,
                status=RequestStatus.REQUESTED,
                start_by=step.start_by,
                earliest_start=step.earliest_start,
                requested_at=now,
                deadline_at=domain.deadline_for(now, ambito.answer_deadline_hours),
            )
            rows.append(
                {
                    "request_id": attempt.request_id,
                    "case_id": case.case_id,
                    "service_type": attempt.service_type,
                    "provider_id": attempt.provider_id,
                    "attempt": attempt.attempt,
                    "status": attempt.status,
                    "weekly_quantity": case.quantity(attempt.service_type),
                    "start_by": attempt.start_by,
                    "earliest_start": attempt.earliest_start,
                    "requested_at": attempt.requested_at,
                    "deadline_at": attempt.deadline_at,
                }
            )
            attempts.append(attempt)
            _emit(uow, case, _requested(case, attempt))
        if rows:  # one statement for the whole plan
            await uow.conn.execute(insert(requests), rows)

    async def _change_package(
        self, uow: UnitOfWork, case: Case, data: EligibilityConfirmed
    ) -> None:
        attempts = await attempts_of(uow.conn, case.case_id)
        change = domain.change_package(case.services, data.services, attempts)
        await _update_case(
            uow,
            case.case_id,
            ambito_id=data.ambito_id,
            services=[s.model_dump(mode="json") for s in data.services],
        )
        changed = await lock_case(uow.conn, case.case_id)
        assert changed is not None
        log.info(
            "plan.package_changed",
            added=[s.value for s in change.added],
            dropped=[a.request_id for a in change.dropped],
            requantified=[a.request_id for a in change.requantified],
        )
        today = self.clock.today()
        for attempt in change.dropped:
            await _update_request(
                uow, attempt.request_id, status=RequestStatus.DEACTIVATED, reason="package changed"
            )
            _emit(uow, changed, _deactivated(changed, attempt, today))
        for attempt in change.requantified:
            quantity = changed.quantity(attempt.service_type)
            await _update_request(uow, attempt.request_id, weekly_quantity=quantity)
            _emit(uow, changed, _requested(changed, attempt))
        if change.added:
            ambito = self._ambito(changed)
            steps = domain.plan_package(
                ambito,
                change.added,
                changed.municipality,
                today=today,
                discharge_day=changed.discharge_day,
                calendar=self.calendar,
            )
            await self._apply(uow, changed, ambito, steps, attempts)

    async def _move_discharge(self, uow: UnitOfWork, case: Case, discharge_at: datetime) -> None:
        day = italian_date(discharge_at)
        await _update_case(uow, case.case_id, discharge_at=discharge_at, discharge_on=day)
        if case.status is not CaseStatus.PLANNED or day == case.discharge_on:
            return
        log.info("plan.moved", discharge_from=str(case.discharge_on), discharge_to=str(day))
        attempts = await attempts_of(uow.conn, case.case_id)
        by_id = {a.request_id: a for a in attempts}
        for step in domain.reschedule([a for a in attempts if a.is_open], day):
            if isinstance(step, Escalate):
                _escalate(uow, case, step.service_type, step.reason)
            else:
                await _update_request(uow, step.request_id, start_by=step.start_by)
                moved = dataclasses.replace(by_id[step.request_id], start_by=step.start_by)
                _emit(uow, case, _requested(case, moved))

    async def _end(
        self, uow: UnitOfWork, event: Envelope, case_id: str, until: date, reason: str
    ) -> None:
        """Deactivate every open request and end the case; a case never seen is recorded as
        ended, so a decision arriving later on another topic does not start it."""
        case, created = await lock_or_create_case(
            uow.conn,
            case_id,
            {
                "status": CaseStatus.ENDED,
                "end_reason": reason,
                "correlation_id": event.correlation_id or event.id,
            },
        )
        if created or case.status is CaseStatus.ENDED:
            log.info("case.end_ignored" if not created else "case.ended_unseen", reason=reason)
            return
        for attempt in await attempts_of(uow.conn, case_id):
            if attempt.is_open:
                await _update_request(
                    uow, attempt.request_id, status=RequestStatus.DEACTIVATED, reason=reason
                )
                _emit(uow, case, _deactivated(case, attempt, until))
        await _update_case(uow, case_id, status=CaseStatus.ENDED, end_reason=reason)
        log.info("case.ended", reason=reason)

    def _ambito(self, case: Case) -> Ambito:
        ambito = self.config.ambiti.get(case.ambito_id or "")
        if ambito is None:
            raise Rejected("ambito.unknown", f"district {case.ambito_id} is not configured")
        return ambito


# --- rows and events --------------------------------------------------------------------------


async def _update_case(uow: UnitOfWork, case_id: str, **values: Any) -> None:
    await uow.conn.execute(
        update(cases).where(cases.c.case_id == case_id).values(**values, updated_at=func.now())
    )


async def _update_request(uow: UnitOfWork, request_id: str, **values: Any) -> None:
    await uow.conn.execute(
        update(requests)
        .where(requests.c.request_id == request_id)
        .values(**values, updated_at=func.now())
    )


def _requested(case: Case, attempt: Attempt) -> ServiceActivationRequested:
    """Only what the provider needs: no fiscal code, no clinical data."""
    assert case.beneficiary is not None
    return ServiceActivationRequested(
        case_id=case.case_id,
        request_id=attempt.request_id,
        provider_id=attempt.provider_id,
        service_type=attempt.service_type,
        weekly_quantity=case.quantity(attempt.service_type),
        start_by=attempt.start_by,
        beneficiary=case.beneficiary,
    )


def _announcement(event: Envelope) -> DischargeAnnounced:
    assert isinstance(event.data, DischargeAnnounced)
    return event.data


def _contact(data: DischargeAnnounced) -> dict[str, Any]:
    """Only what a provider needs to reach the person: name, address, phone."""
    patient = data.patient
    return {
        "name": f"{patient.given_name} {patient.family_name}",
        "address": patient.address,
        "phone": patient.phone,
    }


def _new_case(event: Envelope) -> dict[str, Any]:
    """A case as its announcement creates it, waiting for the eligibility decision."""
    data = _announcement(event)
    return {
        "status": CaseStatus.AWAITING_ELIGIBILITY,
        "beneficiary": _contact(data),
        "municipality_code": data.patient.municipality_code,
        "discharge_at": data.expected_discharge_at,
        "discharge_on": italian_date(data.expected_discharge_at),
        "correlation_id": event.correlation_id or event.id,
    }


def _deactivated(case: Case, attempt: Attempt, until: date) -> ServiceDeactivated:
    return ServiceDeactivated(
        case_id=case.case_id,
        request_id=attempt.request_id,
        provider_id=attempt.provider_id,
        service_type=attempt.service_type,
        until=until,
    )


def _escalate(uow: UnitOfWork, case: Case, service: ServiceType, reason: EscalationReason) -> None:
    log.warning("service.escalated", case_id=case.case_id, service_type=service, reason=reason)
    _emit(
        uow,
        case,
        ServiceActivationEscalated(case_id=case.case_id, service_type=service, reason=reason),
    )


def _emit(uow: UnitOfWork, case: Case, data: EventData) -> None:
    """Emit with the case's correlation id, whatever the cause carried: a provider's answer or
    a timer belongs to the case's chain, and still names its own cause."""
    uow.emit(data, subject=case.case_id, correlation_id=case.correlation_id)


def _describe(step: Step) -> str:
    if isinstance(step, Ask):
        return f"{step.service_type.value}: ask {step.provider_id} by {step.start_by}"
    return f"{step.service_type.value}: escalate ({step.reason.value})"
