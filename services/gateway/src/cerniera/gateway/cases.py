"""The gateway's service layer: what a hospital's notice does to a visit, in the caller's unit
of work. Load and lock the visit (``store``), let ``domain`` decide, save the new state and
emit the event that tells the world.

Both doors call ``receive``, in a unit of work from ``speaking_for``: the MLLP listener
(``mllp.answer_hl7``) and the FHIR routes (``api``). The Kafka handlers call ``case_ended``
and ``postponement_requested``; the hospitals read what the latter stores with ``tasks_for``.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from cerniera.gateway import domain, fhir, store
from cerniera.gateway.domain import (
    AdmissionNotice,
    CancelNotice,
    DetailsNotice,
    DischargeNotice,
    IgnoredNotice,
    Notice,
    VisitStatus,
)
from cerniera.shared.contract import DischargePostponementRequested
from cerniera.shared.envelope import Envelope
from cerniera.shared.persistence.outbox import Database, UnitOfWork

log = structlog.get_logger(__name__)


def speaking_for(db: Database, hospital_id: str) -> AbstractAsyncContextManager[UnitOfWork]:
    """A unit of work whose events carry the hospital's source: the gateway speaks for the
    hospital, not as a service of its own."""
    return db.unit_of_work(source=domain.source_for(hospital_id))


async def receive(uow: UnitOfWork, notice: Notice) -> str:
    """Apply one notice: the visit's new state and the events it causes commit together with
    ``uow``, or nothing does. Returns the one-line summary for the sender (ACK, HTTP body).

    A visit's first event starts the case's correlation; later ones carry the stored one (a
    hospital's message is caused by no event)."""
    outcome = await _decide(uow.conn, notice)
    for change in outcome.changes:
        visit = change.visit
        if change.event is not None:
            event = uow.emit(
                change.event, subject=visit.case_id, correlation_id=visit.correlation_id
            )
            visit = replace(visit, correlation_id=event.chain_id)
        await store.save_visit(uow.conn, visit)
    log.info("gateway.received", outcome=outcome.summary, events=[e.id for e in uow.emitted])
    return outcome.summary


async def case_ended(uow: UnitOfWork, case_ids: Sequence[str]) -> None:
    """Closed by monitoring or rejected by intake: the visit is no longer open, so an admission
    of the patient is no readmission. Cases the gateway never announced (sent straight to
    Kafka) match no visit."""
    await store.change_status(uow.conn, case_ids, VisitStatus.OPEN, VisitStatus.CLOSED)


async def postponement_requested(uow: UnitOfWork, events: Sequence[Envelope]) -> None:
    """The team asks the ward to postpone a discharge: a FHIR Task for the hospital, kept
    until its system fetches it (``GET /fhir/Task``). One Task per event, named after it, so
    that a redelivered event stores nothing new."""
    for event in events:
        data = event.data
        assert isinstance(data, DischargePostponementRequested)
        task = fhir.postponement_task(event.id, data)
        await store.save_task(uow.conn, event.id, data.hospital_id, data.case_id, task)


async def tasks_for(conn: AsyncConnection, hospital_id: str, limit: int) -> list[dict[str, Any]]:
    """The hospital's Tasks, newest first."""
    return await store.tasks_of(conn, hospital_id, limit)


async def _decide(conn: AsyncConnection, notice: Notice) -> domain.Outcome:
    match notice:
        case DischargeNotice():
            # The patient first, then the visit (always in this order): an admission of the
            # same patient on another connection waits, and sees this visit once stored.
            await store.lock_patient(conn, notice.announcement.patient.fiscal_code)
            visit = await store.locked_visit(conn, notice.announcement.case_id)
            return domain.on_discharge(visit, notice)
        case CancelNotice():
            visit = await store.locked_visit(conn, notice.cancellation.case_id)
            return domain.on_cancel(visit, notice)
        case AdmissionNotice():
            await store.lock_patient(conn, notice.fiscal_code)
            open_visits = await store.locked_open_visits(conn, notice.fiscal_code)
            return domain.on_admission(open_visits, notice)
        case DetailsNotice():
            visit = await store.locked_visit(conn, notice.update.case_id)
            return domain.on_details(visit, notice)
        case IgnoredNotice():
            return domain.on_ignored(notice)
