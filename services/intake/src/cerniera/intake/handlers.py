"""Intake's event handlers: thin. They load and store the case; the rules are in ``domain``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from cerniera.intake import domain
from cerniera.intake.config import IntakeConfig
from cerniera.intake.tables import cases
from cerniera.shared.causation import handling
from cerniera.shared.clock import Clock
from cerniera.shared.contract import (
    DischargeAnnounced,
    DischargeCancelled,
    DischargeRescheduled,
    EligibilityConfirmed,
    EligibilityRejected,
    EventData,
)
from cerniera.shared.envelope import Envelope
from cerniera.shared.messaging.consumer import Handler, Rejected, per_event
from cerniera.shared.persistence.outbox import UnitOfWork

log = structlog.get_logger(__name__)


def make_handlers(config: IntakeConfig, clock: Clock) -> Mapping[type[EventData], Handler]:
    async def on_announced(uow: UnitOfWork, events: Sequence[Envelope]) -> None:
        """New cases in one statement; a case announced again is looked at on its own."""
        first: dict[str, tuple[Envelope, domain.Outcome]] = {}
        repeated: list[Envelope] = []
        for event in events:
            data = _announced(event)
            if data.case_id in first:
                repeated.append(event)
            else:
                first[data.case_id] = (event, domain.assess_announcement(config, data))
        now = clock.now()  # the service's time (accelerated in the demo): days waiting count it
        rows = [_case_row(event, outcome, now) for event, outcome in first.values()]
        result = await uow.conn.execute(
            insert(cases).on_conflict_do_nothing().returning(cases.c.case_id), rows
        )
        created = set(result.scalars())
        known_before = []
        for case_id, (event, outcome) in first.items():
            if case_id in created:
                _publish(uow, event, outcome)
            else:
                known_before.append(event)
        for event in known_before + repeated:
            with handling(event):
                await _announced_again(uow, config, clock, event)

    async def on_rescheduled(uow: UnitOfWork, event: Envelope) -> None:
        data = event.data
        assert isinstance(data, DischargeRescheduled)
        changed = await uow.conn.scalar(
            update(cases)
            .where(cases.c.case_id == data.case_id)
            .values(expected_discharge_at=data.expected_discharge_at, updated_at=clock.now())
            .returning(cases.c.case_id)
        )
        if changed is None:
            raise Rejected("case.unknown", f"no announced discharge {data.case_id}")

    async def on_cancelled(uow: UnitOfWork, event: Envelope) -> None:
        data = event.data
        assert isinstance(data, DischargeCancelled)
        changed = await uow.conn.scalar(
            update(cases)
            .where(cases.c.case_id == data.case_id)
            .values(status=domain.CaseStatus.CANCELLED, updated_at=clock.now())
            .returning(cases.c.case_id)
        )
        if changed is None:
            raise Rejected("case.unknown", f"no announced discharge {data.case_id}")

    return {
        DischargeAnnounced: on_announced,
        DischargeRescheduled: per_event(on_rescheduled),
        DischargeCancelled: per_event(on_cancelled),
    }


def _announced(event: Envelope) -> DischargeAnnounced:
    assert isinstance(event.data, DischargeAnnounced)
    return event.data


def _case_row(event: Envelope, outcome: domain.Outcome, now: datetime) -> dict[str, Any]:
    data = _announced(event)
    return {
        "case_id": data.case_id,
        "hospital_id": data.hospital_id,
        "discharge_ref": data.discharge_ref,
        "ward": data.ward,
        "ambito_id": outcome.ambito_id,
        "status": domain.status_of(outcome),
        "expected_discharge_at": data.expected_discharge_at,
        "patient": data.patient.model_dump(mode="json"),
        "caregiver": _json(data.caregiver),
        "assessment": _json(data.assessment),
        "decision": _decision_json(outcome, now),
        "correlation_id": event.correlation_id or event.id,
        "created_at": now,
        "updated_at": now,
    }


async def _announced_again(
    uow: UnitOfWork, config: IntakeConfig, clock: Clock, event: Envelope
) -> None:
    """The same discharge announced again (a new event id): no second decision. The one thing
    it can bring is the assessment a waiting case lacked."""
    data = _announced(event)
    row = (
        await uow.conn.execute(
            select(cases.c.status).where(cases.c.case_id == data.case_id).with_for_update()
        )
    ).one()
    if row.status != domain.CaseStatus.AWAITING_ASSESSMENT or data.assessment is None:
        log.info("announcement.repeated", case_id=data.case_id, status=row.status)
        return
    outcome = domain.assess_announcement(config, data)
    now = clock.now()
    await uow.conn.execute(
        update(cases)
        .where(cases.c.case_id == data.case_id)
        .values(
            status=domain.status_of(outcome),
            expected_discharge_at=data.expected_discharge_at,
            assessment=_json(data.assessment),
            decision=_decision_json(outcome, now),
            updated_at=now,
        )
    )
    _publish(uow, event, outcome)


def _publish(uow: UnitOfWork, event: Envelope, outcome: domain.Outcome) -> None:
    data = _announced(event)
    if not isinstance(outcome, domain.AwaitingAssessment):
        emit_decision(uow, data.case_id, data.expected_discharge_at, outcome, cause=event)


def emit_decision(
    uow: UnitOfWork,
    case_id: str,
    expected_discharge_at: datetime,
    decision: domain.Decision,
    *,
    cause: Envelope | None = None,
    correlation_id: str | None = None,
) -> Envelope:
    """Queue the decision event for ``case_id``; a later one for the same case supersedes it.
    Work with no event as its cause (the team's HTTP requests) passes the case's stored
    ``correlation_id``, so the decision stays in the case's chain."""
    data: EventData
    if isinstance(decision, domain.Eligible):
        data = EligibilityConfirmed(
            case_id=case_id,
            ambito_id=decision.ambito_id,
            intensity=decision.intensity,
            services=decision.services,
            expected_discharge_at=expected_discharge_at,
            decided_by=decision.decided_by,
            reasons=decision.reasons,
        )
    else:
        data = EligibilityRejected(
            case_id=case_id, reasons=decision.reasons, decided_by=decision.decided_by
        )
    return uow.emit(data, subject=case_id, cause=cause, correlation_id=correlation_id)


def _decision_json(outcome: domain.Outcome, now: datetime) -> dict[str, Any] | None:
    if isinstance(outcome, domain.AwaitingAssessment):
        return None
    return domain.decision_record(outcome, now)


def _json(model: Any) -> Any:
    return model.model_dump(mode="json") if model is not None else None
