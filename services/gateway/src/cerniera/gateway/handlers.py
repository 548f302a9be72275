"""The gateway's effects, thin: lock and load the visit, let ``domain`` decide, store the new
state and emit the event, all in one transaction per message.

Both doors call ``receive``; the MLLP listener goes through ``answer_hl7``, which also turns
the outcome into the ACK. The consumer handlers learn from other services when a case is no
longer open.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import Row, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from cerniera.gateway import domain, hl7
from cerniera.gateway.domain import (
    AdmissionNotice,
    CancelNotice,
    DischargeNotice,
    IgnoredNotice,
    Notice,
    Visit,
    VisitStatus,
)
from cerniera.gateway.tables import visits
from cerniera.shared.contract import CaseClosed, EligibilityRejected, EventData
from cerniera.shared.envelope import Envelope
from cerniera.shared.messaging.consumer import Handler
from cerniera.shared.persistence.outbox import UnitOfWork
from cerniera.shared.runtime import ServiceRuntime

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Receipt:
    """What a message led to, for the sender: one line, and the events committed."""

    summary: str
    events: Sequence[Envelope]


async def receive(runtime: ServiceRuntime, notice: Notice) -> Receipt:
    """Apply one notice in one transaction: the visit's new state and the events it causes
    commit together, or nothing does. Returns once committed (so an ACK AA means stored)."""
    async with _speaking_for(runtime, notice.hospital_id) as uow:
        outcome = await _decide(uow.conn, notice)
        for change in outcome.changes:
            await _apply(uow, change)
    log.info("gateway.received", outcome=outcome.summary, events=[e.id for e in uow.emitted])
    return Receipt(outcome.summary, list(uow.emitted))


async def answer_hl7(runtime: ServiceRuntime, hospitals: Mapping[str, str], raw: bytes) -> bytes:
    """One MLLP payload in, its ACK out (in the same character set)."""
    try:
        text, charset = raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:  # HL7's 8859/1, the other charset Italian systems send
        text, charset = raw.decode("latin-1"), "latin-1"
    try:
        read = hl7.read(text, hospitals)
    except Exception:  # a message hl7apy chokes on in a way not foreseen: ours to fix
        log.exception("hl7.unreadable")
        error = hl7.Hl7Error(hl7.AckCode.REJECT, 207, "application internal error reading it")
        read = hl7.Refused(error)
    if isinstance(read, hl7.Refused):
        error = read.error
        # Location and code only: the text may quote a patient's data.
        log.info("hl7.refused", ack=error.ack_code, code=error.error_code, at=str(error.location))
        reply = hl7.ack(read.header, error.ack_code, error.text, runtime.clock.now(), error)
        return reply.encode(charset, errors="replace")
    try:
        receipt = await receive(runtime, read.notice)
    except Exception:  # database down, ...: nothing was applied, the sender may retry
        log.exception("hl7.failed", control_id=read.header.control_id)
        error = hl7.Hl7Error(
            hl7.AckCode.ERROR, 207, "application internal error: nothing was applied; send again"
        )
        reply = hl7.ack(read.header, error.ack_code, error.text, runtime.clock.now(), error)
    else:
        reply = hl7.ack(read.header, hl7.AckCode.ACCEPT, receipt.summary, runtime.clock.now())
    return reply.encode(charset, errors="replace")


def make_handlers() -> Mapping[type[EventData], Handler]:
    async def case_ended(uow: UnitOfWork, events: Sequence[Envelope]) -> None:
        """Closed by monitoring or rejected by intake: an admission is no longer a readmission.
        Cases the gateway never announced (sent straight to Kafka) match no row."""
        case_ids = [
            e.data.case_id for e in events if isinstance(e.data, CaseClosed | EligibilityRejected)
        ]
        await uow.conn.execute(
            update(visits)
            .where(visits.c.case_id.in_(case_ids), visits.c.status == VisitStatus.OPEN)
            .values(status=VisitStatus.CLOSED, updated_at=func.now())
        )

    return {CaseClosed: case_ended, EligibilityRejected: case_ended}


# --- the transaction ----------------------------------------------------------------------


def _speaking_for(
    runtime: ServiceRuntime, hospital_id: str
) -> AbstractAsyncContextManager[UnitOfWork]:
    """A unit of work whose events carry the hospital's source: the gateway speaks for the
    hospital, not as a service of its own."""
    return runtime.db.unit_of_work(source=domain.source_for(hospital_id))


async def _decide(conn: AsyncConnection, notice: Notice) -> domain.Outcome:
    if isinstance(notice, DischargeNotice):
        case_id = notice.announcement.case_id
        return domain.on_discharge(await _visit(conn, case_id), notice)
    if isinstance(notice, CancelNotice):
        case_id = notice.cancellation.case_id
        return domain.on_cancel(await _visit(conn, case_id), notice)
    if isinstance(notice, AdmissionNotice):
        return domain.on_admission(await _open_visits(conn, notice.fiscal_code), notice)
    assert isinstance(notice, IgnoredNotice)
    return domain.Outcome([], f"{notice.what}: not used by the gateway, nothing to do")


async def _visit(conn: AsyncConnection, case_id: str) -> Visit | None:
    """The visit, locked for this transaction; two messages about one visit (two connections)
    take turns, so the second sees what the first stored. The advisory lock also covers a
    visit not stored yet."""
    await conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"gateway:{case_id}"))))
    row = (await conn.execute(select(visits).where(visits.c.case_id == case_id))).one_or_none()
    return _as_visit(row) if row is not None else None


async def _open_visits(conn: AsyncConnection, fiscal_code: str) -> list[Visit]:
    rows = await conn.execute(
        select(visits)
        .where(visits.c.fiscal_code == fiscal_code, visits.c.status == VisitStatus.OPEN)
        .order_by(visits.c.case_id)
        .with_for_update()
    )
    return [_as_visit(row) for row in rows]


async def _apply(uow: UnitOfWork, change: domain.Change) -> None:
    visit = change.visit
    correlation_id = visit.correlation_id
    if change.event is not None:
        # A new case starts a correlation; later events carry the case's stored one.
        emitted = uow.emit(change.event, subject=visit.case_id, correlation_id=correlation_id)
        correlation_id = correlation_id or emitted.correlation_id
    assert correlation_id is not None
    row = {
        "case_id": visit.case_id,
        "fiscal_code": visit.fiscal_code,
        "expected_discharge_at": visit.expected_discharge_at,
        "status": visit.status.value,
        "correlation_id": correlation_id,
    }
    statement = insert(visits).values(row)
    await uow.conn.execute(
        statement.on_conflict_do_update(
            index_elements=[visits.c.case_id],
            set_={
                "fiscal_code": statement.excluded.fiscal_code,
                "expected_discharge_at": statement.excluded.expected_discharge_at,
                "status": statement.excluded.status,
                "updated_at": func.now(),
            },
        )
    )


def _as_visit(row: Row[Any]) -> Visit:
    return Visit(
        case_id=row.case_id,
        fiscal_code=row.fiscal_code,
        expected_discharge_at=row.expected_discharge_at,
        status=VisitStatus(row.status),
        correlation_id=row.correlation_id,
    )
