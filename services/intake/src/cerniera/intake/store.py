"""Intake's queries for the team's API: load a case and its records, number new versions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, Table, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from cerniera.intake.tables import assessments, cases, overrides, taking_charge


async def case(conn: AsyncConnection, case_id: str, *, lock: bool = False) -> Row[Any] | None:
    """The case row; ``lock`` holds it until the transaction ends, so two requests (or a
    request and the consumer) never decide the same case at once."""
    query = select(cases).where(cases.c.case_id == case_id)
    if lock:
        query = query.with_for_update()
    return (await conn.execute(query)).one_or_none()


async def assessment_versions(conn: AsyncConnection, case_id: str) -> list[Row[Any]]:
    return await _versions(conn, assessments, assessments.c.version, case_id)


async def taking_charge_versions(conn: AsyncConnection, case_id: str) -> list[Row[Any]]:
    return await _versions(conn, taking_charge, taking_charge.c.version, case_id)


async def overrides_of(conn: AsyncConnection, case_id: str) -> list[Row[Any]]:
    return await _versions(conn, overrides, overrides.c.seq, case_id)


async def cases_page(
    conn: AsyncConnection, status: str | None, limit: int, offset: int
) -> tuple[int, list[Row[Any]]]:
    """One page of cases (most urgent discharge first) and how many there are in all."""
    where = [cases.c.status == status] if status is not None else []
    total = await conn.scalar(select(func.count()).select_from(cases).where(*where))
    rows = (
        await conn.execute(
            select(*_SUMMARY)
            .where(*where)
            .order_by(cases.c.expected_discharge_at, cases.c.case_id)
            .limit(limit)
            .offset(offset)
        )
    ).all()
    return int(total or 0), list(rows)


_SUMMARY = [
    cases.c[name]
    for name in (
        "case_id",
        "hospital_id",
        "ward",
        "ambito_id",
        "status",
        "expected_discharge_at",
        "created_at",
    )
]


async def _versions(
    conn: AsyncConnection, table: Table, order: Any, case_id: str
) -> list[Row[Any]]:
    query = select(table).where(table.c.case_id == case_id).order_by(order)
    return list((await conn.execute(query)).all())
