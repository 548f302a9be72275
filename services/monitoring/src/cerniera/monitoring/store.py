"""Reading and writing follow-ups, shared by the event handlers, the HTTP API and the periodic
closure, so that a case is closed (and its event published) the same way from all three."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from cerniera.monitoring import domain
from cerniera.monitoring.tables import checks, followups
from cerniera.shared.contract import CaseClosed, CaseOutcome, EventData, Recommendation
from cerniera.shared.envelope import Envelope
from cerniera.shared.persistence.outbox import UnitOfWork

FollowUp = Row[Any]


async def load(conn: AsyncConnection, case_id: str, *, lock: bool = False) -> FollowUp | None:
    """The follow-up; ``lock`` holds it until the transaction ends, so that a check, a closure
    and the periodic closure of the same case happen one after the other."""
    query = select(followups).where(followups.c.case_id == case_id)
    if lock:
        query = query.with_for_update()
    return (await conn.execute(query)).one_or_none()


def schedule_of(row: FollowUp) -> domain.Schedule:
    return domain.Schedule(
        discharge_on=row.discharge_on,
        check_interval_days=row.check_interval_days,
        duration_days=row.duration_days,
        overdue_after_days=row.overdue_after_days,
    )


def status_of(row: FollowUp) -> domain.FollowUpStatus:
    return domain.FollowUpStatus(row.status)


def schedule_columns(schedule: domain.Schedule) -> dict[str, Any]:
    return {
        "discharge_on": schedule.discharge_on,
        "closes_on": schedule.closes_on,
        "check_interval_days": schedule.check_interval_days,
        "duration_days": schedule.duration_days,
        "overdue_after_days": schedule.overdue_after_days,
    }


async def checks_of(conn: AsyncConnection, case_ids: Collection[str]) -> dict[str, list[Row[Any]]]:
    """Recorded checks per case, by week."""
    found: dict[str, list[Row[Any]]] = {case_id: [] for case_id in case_ids}
    if not case_ids:
        return found
    rows = await conn.execute(
        select(checks).where(checks.c.case_id.in_(list(case_ids))).order_by(checks.c.week)
    )
    for row in rows:
        found[row.case_id].append(row)
    return found


def recorded(rows: Sequence[Row[Any]]) -> list[domain.RecordedCheck]:
    return [
        domain.RecordedCheck(
            week=row.week,
            checked_at=row.checked_at,
            recommendation=Recommendation(row.recommendation) if row.recommendation else None,
        )
        for row in rows
    ]


def emit(uow: UnitOfWork, row: FollowUp, data: EventData, cause: Envelope | None = None) -> None:
    """Publish about the case under its own correlation id (the eligibility decision's), even
    when a hospital event with a correlation of its own is the cause."""
    uow.emit(data, subject=row.case_id, cause=cause, correlation_id=row.correlation_id)


async def close(
    uow: UnitOfWork,
    row: FollowUp,
    outcome: CaseOutcome,
    closed_at: datetime,
    *,
    cause: Envelope | None = None,
    closed_by: str | None = None,
    note: str | None = None,
) -> None:
    """Close an open follow-up and publish ``CaseClosed``."""
    await uow.conn.execute(
        update(followups)
        .where(followups.c.case_id == row.case_id)
        .values(
            status=domain.FollowUpStatus.CLOSED,
            outcome=outcome,
            closed_at=closed_at,
            closed_by=closed_by,
            close_note=note,
            updated_at=func.now(),
        )
    )
    emit(uow, row, CaseClosed(case_id=row.case_id, closed_at=closed_at, outcome=outcome), cause)


async def open_past_period(conn: AsyncConnection, today: date, limit: int) -> list[FollowUp]:
    """Open follow-ups whose period has ended, locked; rows another replica is closing right
    now are skipped rather than waited for."""
    rows = await conn.execute(
        select(followups)
        .where(
            followups.c.status == domain.FollowUpStatus.OPEN,
            followups.c.closes_on <= today,
        )
        .order_by(followups.c.closes_on, followups.c.case_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(rows)
