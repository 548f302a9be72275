"""Monitoring's SQL, and nothing else: rows to domain entities and back, and the queries the
service layer and the views need. What to change, and what to publish, is decided in ``cases``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from cerniera.monitoring.domain import (
    Check,
    FollowUp,
    FollowUpStatus,
    PendingDischarge,
    Schedule,
)
from cerniera.monitoring.tables import checks, followups, pending_discharge_dates
from cerniera.shared.contract import CaseOutcome, CheckOutcome, Recommendation
from cerniera.shared.persistence.rows import entity

# --- follow-ups ------------------------------------------------------------------------------


def _follow_up(row: Row[Any]) -> FollowUp:
    return entity(
        FollowUp,
        row,
        status=FollowUpStatus(row.status),
        schedule=entity(Schedule, row),  # the calendar's columns
        outcome=CaseOutcome(row.outcome) if row.outcome else None,
    )


def _columns(followup: FollowUp) -> dict[str, Any]:
    """Every column a follow-up's life may change."""
    schedule = followup.schedule
    return {
        "status": followup.status,
        "discharge_at": followup.discharge_at,
        "discharge_on": schedule.discharge_on,
        "closes_on": schedule.closes_on,
        "check_interval_days": schedule.check_interval_days,
        "duration_days": schedule.duration_days,
        "overdue_after_days": schedule.overdue_after_days,
        "outcome": followup.outcome,
        "closed_at": followup.closed_at,
        "closed_by": followup.closed_by,
        "close_note": followup.close_note,
    }


async def load(conn: AsyncConnection, case_id: str, *, lock: bool = False) -> FollowUp | None:
    """The follow-up; ``lock`` holds it until the transaction ends, so that a check, a closure
    and the periodic closure of the same case happen one after the other."""
    query = select(followups).where(followups.c.case_id == case_id)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).one_or_none()
    return _follow_up(row) if row is not None else None


async def add(conn: AsyncConnection, followup: FollowUp, opened_at: datetime) -> bool:
    """Store a new follow-up; False when the case already has one (kept as it is)."""
    opened = await conn.scalar(
        insert(followups)
        .values(
            case_id=followup.case_id,
            ambito_id=followup.ambito_id,
            correlation_id=followup.correlation_id,
            opened_at=opened_at,
            **_columns(followup),
        )
        .on_conflict_do_nothing()
        .returning(followups.c.case_id)
    )
    return opened is not None


async def save(conn: AsyncConnection, followup: FollowUp) -> None:
    await conn.execute(
        update(followups)
        .where(followups.c.case_id == followup.case_id)
        .values(**_columns(followup), updated_at=func.now())
    )


async def open_past_period(conn: AsyncConnection, today: date, limit: int) -> list[FollowUp]:
    """Open follow-ups whose period has ended, locked; rows another replica is closing right
    now are skipped rather than waited for."""
    rows = await conn.execute(
        select(followups)
        .where(followups.c.status == FollowUpStatus.OPEN, followups.c.closes_on <= today)
        .order_by(followups.c.closes_on, followups.c.case_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [_follow_up(row) for row in rows]


async def open_discharged_before(
    conn: AsyncConnection, day: date, ambiti: Collection[str] | None = None
) -> list[FollowUp]:
    """Open follow-ups whose discharge day is before ``day``, of the districts ``ambiti``
    (``None``: all)."""
    query = select(followups).where(
        followups.c.status == FollowUpStatus.OPEN, followups.c.discharge_on < day
    )
    if ambiti is not None:
        query = query.where(followups.c.ambito_id.in_(sorted(ambiti)))
    return [_follow_up(row) for row in await conn.execute(query)]


# --- checks ----------------------------------------------------------------------------------


def _check(row: Row[Any]) -> Check:
    return entity(
        Check,
        row,
        outcome=CheckOutcome(row.outcome),
        recommendation=Recommendation(row.recommendation) if row.recommendation else None,
    )


async def checks_of(conn: AsyncConnection, case_ids: Collection[str]) -> dict[str, list[Check]]:
    """Recorded checks per case, by week."""
    found: dict[str, list[Check]] = {case_id: [] for case_id in case_ids}
    if not case_ids:
        return found
    rows = await conn.execute(
        select(checks).where(checks.c.case_id.in_(list(case_ids))).order_by(checks.c.week)
    )
    for row in rows:
        found[row.case_id].append(_check(row))
    return found


async def add_check(conn: AsyncConnection, check: Check) -> Check:
    """Store a check; returned as stored."""
    row = (
        await conn.execute(
            # A check's fields are the table's columns.
            insert(checks).values(**asdict(check)).returning(*checks.c)
        )
    ).one()
    return _check(row)


# --- what the hospital said before the decision ------------------------------------------------


async def take_pending(conn: AsyncConnection, case_id: str) -> PendingDischarge | None:
    """What was kept for the case, removed as it is read."""
    row = (
        await conn.execute(
            delete(pending_discharge_dates)
            .where(pending_discharge_dates.c.case_id == case_id)
            .returning(
                pending_discharge_dates.c.expected_discharge_at,
                pending_discharge_dates.c.cancelled,
            )
        )
    ).one_or_none()
    if row is None:
        return None
    return PendingDischarge(row.expected_discharge_at, row.cancelled)


async def keep_pending_date(
    conn: AsyncConnection, case_id: str, expected_discharge_at: datetime, received_at: datetime
) -> None:
    """The latest expected discharge for a case not yet followed (a cancellation is kept)."""
    await _keep_pending(
        conn, case_id, {"expected_discharge_at": expected_discharge_at}, received_at
    )


async def keep_pending_cancellation(
    conn: AsyncConnection, case_id: str, received_at: datetime
) -> None:
    """A cancellation for a case not yet followed (the latest date is kept)."""
    await _keep_pending(conn, case_id, {"cancelled": True}, received_at)


async def _keep_pending(
    conn: AsyncConnection, case_id: str, change: Mapping[str, Any], received_at: datetime
) -> None:
    stmt = insert(pending_discharge_dates).values(
        case_id=case_id, received_at=received_at, **change
    )
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[pending_discharge_dates.c.case_id],
            set_={**change, "received_at": received_at},
        )
    )


async def forget_pending(conn: AsyncConnection, received_before: datetime) -> None:
    await conn.execute(
        delete(pending_discharge_dates).where(
            pending_discharge_dates.c.received_at < received_before
        )
    )
