"""The gateway's SQL: visits loaded as ``domain.Visit`` and saved back; the hospitals' Tasks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from cerniera.gateway.domain import Visit, VisitStatus
from cerniera.gateway.tables import tasks, visits


async def locked_visit(conn: AsyncConnection, case_id: str) -> Visit | None:
    """The visit, locked for this transaction; two messages about one visit (two connections)
    take turns, so the second sees what the first stored. The advisory lock also covers a
    visit not stored yet."""
    await conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"gateway:{case_id}"))))
    row = (await conn.execute(select(visits).where(visits.c.case_id == case_id))).one_or_none()
    return _as_visit(row) if row is not None else None


async def lock_patient(conn: AsyncConnection, fiscal_code: str) -> None:
    """Serialise every message about one patient until this transaction ends: a discharge
    announcement and an admission (readmission check) never interleave."""
    key = f"gateway:patient:{fiscal_code}"
    await conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))


async def locked_open_visits(conn: AsyncConnection, fiscal_code: str) -> list[Visit]:
    """The patient's open visits, locked for this transaction, in case id order."""
    rows = await conn.execute(
        select(visits)
        .where(visits.c.fiscal_code == fiscal_code, visits.c.status == VisitStatus.OPEN)
        .order_by(visits.c.case_id)
        .with_for_update()
    )
    return [_as_visit(row) for row in rows]


async def save_visit(conn: AsyncConnection, visit: Visit) -> None:
    """Insert or update; the correlation id is the one stored first and never changes."""
    assert visit.correlation_id is not None, "a visit is saved once its chain has started"
    statement = insert(visits).values(
        case_id=visit.case_id,
        fiscal_code=visit.fiscal_code,
        expected_discharge_at=visit.expected_discharge_at,
        status=visit.status.value,
        correlation_id=visit.correlation_id,
    )
    await conn.execute(
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


async def change_status(
    conn: AsyncConnection, case_ids: Sequence[str], old: VisitStatus, new: VisitStatus
) -> None:
    """Set ``new`` on those of the visits that are in status ``old``; unknown ids match none."""
    await conn.execute(
        update(visits)
        .where(visits.c.case_id.in_(case_ids), visits.c.status == old)
        .values(status=new, updated_at=func.now())
    )


async def save_task(
    conn: AsyncConnection, task_id: str, hospital_id: str, case_id: str, resource: dict[str, Any]
) -> None:
    """Store a Task once: the same id again changes nothing."""
    statement = insert(tasks).values(
        task_id=task_id, hospital_id=hospital_id, case_id=case_id, resource=resource
    )
    await conn.execute(statement.on_conflict_do_nothing(index_elements=[tasks.c.task_id]))


async def tasks_of(conn: AsyncConnection, hospital_id: str, limit: int) -> list[dict[str, Any]]:
    """A hospital's Tasks, newest first, at most ``limit``."""
    rows = await conn.execute(
        select(tasks.c.resource)
        .where(tasks.c.hospital_id == hospital_id)
        .order_by(tasks.c.created_at.desc(), tasks.c.task_id)
        .limit(limit)
    )
    return [dict(row.resource) for row in rows]


def _as_visit(row: Row[Any]) -> Visit:
    return Visit(
        case_id=row.case_id,
        fiscal_code=row.fiscal_code,
        expected_discharge_at=row.expected_discharge_at,
        status=VisitStatus(row.status),
        correlation_id=row.correlation_id,
    )
