"""Activation's rows: cases and their requests loaded as domain entities and saved back. SQL only.

Lock order is always the case row first, then its requests: the consumer, the deadline check
and other replicas then never deadlock, and each sees the case as the last one left it. A
transaction locks a case once (``lock_case`` or ``lock_or_create``; for a run of distinct cases
``lock_each`` or ``lock_or_create_each``, in the run's order as one by one) and saves what the
domain changed; nothing is read again. The statements run per case are built once, so SQLAlchemy's
compiled cache applies (building a statement per call cost as much as running it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import Row, Table, Text, any_, bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import Insert as Upsert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert

from cerniera.activation.domain import Case, CaseStatus
from cerniera.activation.escalations import Escalation
from cerniera.activation.planning import Attempt, RequestStatus
from cerniera.activation.tables import cases, requests
from cerniera.shared.contract import Beneficiary, ServiceLine, ServiceType
from cerniera.shared.persistence import bulk

# --- cases -----------------------------------------------------------------------------------


async def lock_case(
    conn: AsyncConnection, case_id: str, *, skip_locked: bool = False
) -> Case | None:
    """The case locked for this transaction; with ``skip_locked``, ``None`` while another
    transaction holds it too."""
    query = _LOCK_SKIP if skip_locked else _LOCK
    row = (await conn.execute(query, {"case_id": case_id})).one_or_none()
    return _case(row) if row is not None else None


async def lock_each(conn: AsyncConnection, case_ids: Sequence[str]) -> dict[str, Case]:
    """``lock_case`` for a run of distinct cases, in one statement, locked in the run's order
    (as one by one); the cases known, by id."""
    if not case_ids:
        return {}
    rows = await conn.execute(_LOCK_EACH, {"case_ids": list(case_ids)})
    return {row.case_id: _case(row) for row in rows}


async def lock_or_create(conn: AsyncConnection, new: Case) -> tuple[Case, bool]:
    """The case locked, created as ``new`` if unknown; ``True`` when it was created.

    One statement: an upsert that changes nothing on conflict still locks the row and returns
    it, and ``xmax = 0`` tells a fresh row from an existing one. Two replicas seeing a case's
    first events on two topics at once queue on the row instead of one failing on the key.
    """
    return (await lock_or_create_each(conn, [new]))[new.case_id]


async def lock_or_create_each(
    conn: AsyncConnection, new: Sequence[Case]
) -> dict[str, tuple[Case, bool]]:
    """``lock_or_create`` for a run of distinct cases, in one statement: each case locked (in
    the run's order, as one by one), created as given if unknown; by case id, with ``True``
    for those created."""
    if not new:
        return {}
    rows = await bulk.insert_rows(conn, cases, [_case_row(c) for c in new], _locked_or_created)
    given = {case.case_id: case for case in new}
    # A case created is the one given: its row is not read back.
    return {
        row.case_id: (given[row.case_id], True) if row.created else (_case(row), False)
        for row in rows
    }


def _locked_or_created(statement: Upsert) -> Insert:
    """An upsert that changes nothing on conflict: an existing case locked and returned as it
    is, ``created`` telling (``xmax = 0`` only for a fresh row)."""
    return statement.on_conflict_do_update(
        index_elements=[cases.c.case_id], set_={"case_id": statement.excluded.case_id}
    ).returning(*cases.c, literal_column("xmax = 0").label("created"))


def _new_only(statement: Upsert) -> Insert:
    return statement.on_conflict_do_nothing().returning(cases.c.case_id)


async def create_new(conn: AsyncConnection, new: Sequence[Case]) -> set[str]:
    """Insert the cases not known yet, in one statement; the ids of those inserted."""
    if not new:
        return set()
    result = await bulk.insert_rows(conn, cases, [_case_row(c) for c in new], _new_only)
    return set(result.scalars())


async def save_case(conn: AsyncConnection, case: Case) -> None:
    """Save a case this transaction locked (its chain, set at creation, never changes)."""
    await save_cases(conn, [case])


async def save_cases(conn: AsyncConnection, changed: Sequence[Case]) -> None:
    """``save_case`` for many locked cases, in one statement."""
    if changed:
        rows = [_case_row(c) for c in changed]
        for row in rows:
            del row["correlation_id"]  # set at creation, never changed
        await bulk.update_rows(conn, cases, "case_id", rows, stamp="updated_at")


async def load_case(conn: AsyncConnection, case_id: str) -> Case | None:
    """A case as it is, unlocked: for views."""
    row = (await conn.execute(select(cases).where(cases.c.case_id == case_id))).one_or_none()
    return _case(row) if row is not None else None


async def open_cases(conn: AsyncConnection) -> list[Case]:
    """Cases with a package that have not ended, soonest discharge first."""
    rows = await conn.execute(
        select(cases)
        .where(cases.c.status.in_([CaseStatus.AWAITING_CONTACT, CaseStatus.PLANNED]))
        .order_by(cases.c.discharge_on, cases.c.case_id)
    )
    return [_case(r) for r in rows]


_ESCALATIONS = TypeAdapter(tuple[Escalation, ...])
_SERVICES = TypeAdapter(tuple[ServiceLine, ...])
"""A package validated or dumped in one call, not one per service."""


def _same_named(table: Table, kind: type[Any], *given: str) -> tuple[str, ...]:
    """The columns of ``table`` that store the field of ``kind`` of the same name, in the
    table's order, less those ``given`` (stored otherwise): what ``rows.row_of`` and
    ``rows.entity`` find anew for each row, found once here (rows are made by the thousand)."""
    fields = {f.name for f in dataclasses.fields(kind)}
    return tuple(c.key for c in table.c if c.key in fields and c.key not in given)


_CASE_COLUMNS = _same_named(cases, Case, "beneficiary", "services", "escalations", "continuing")
"""Stored as they are; the others as JSON."""
_CASE_READ = tuple(name for name in _CASE_COLUMNS if name != "status")


def _case(row: Row[Any]) -> Case:
    columns = row._mapping
    return Case(
        **{name: columns[name] for name in _CASE_READ},
        status=CaseStatus(row.status),
        beneficiary=Beneficiary.model_validate(row.beneficiary) if row.beneficiary else None,
        services=_SERVICES.validate_python(row.services) if row.services else (),
        escalations=_ESCALATIONS.validate_python(row.escalations) if row.escalations else (),
        continuing=tuple(ServiceType(s) for s in row.continuing or ()),
    )


def _case_row(case: Case) -> dict[str, Any]:
    row = {name: getattr(case, name) for name in _CASE_COLUMNS}
    row["beneficiary"] = case.beneficiary.model_dump(mode="json") if case.beneficiary else None
    row["services"] = _SERVICES.dump_python(case.services, mode="json") or None
    row["escalations"] = (
        _ESCALATIONS.dump_python(case.escalations, mode="json") if case.escalations else None
    )
    row["continuing"] = [s.value for s in case.continuing] or None
    return row


_LOCK = select(cases).where(cases.c.case_id == bindparam("case_id")).with_for_update()
_LOCK_SKIP = (
    select(cases).where(cases.c.case_id == bindparam("case_id")).with_for_update(skip_locked=True)
)
_wanted = (
    func.unnest(bindparam("case_ids", type_=ARRAY(Text)))
    .table_valued("case_id", with_ordinality="position")
    .render_derived(name="wanted")
)
# Rows are locked as the sort emits them: in the run's order.
_LOCK_EACH = (
    select(cases)
    .join(_wanted, cases.c.case_id == _wanted.c.case_id)
    .order_by(_wanted.c.position)
    .with_for_update(of=cases)
)


# --- requests --------------------------------------------------------------------------------


async def attempts_of(conn: AsyncConnection, case_id: str) -> list[Attempt]:
    rows = await conn.execute(_ATTEMPTS, {"case_id": case_id})
    return [_attempt(r) for r in rows]


async def attempts_by_case(
    conn: AsyncConnection, case_ids: Sequence[str]
) -> dict[str, list[Attempt]]:
    found: dict[str, list[Attempt]] = {c: [] for c in case_ids}
    if case_ids:
        rows = await conn.execute(
            select(requests)
            .where(requests.c.case_id.in_(case_ids))
            .order_by(requests.c.case_id, requests.c.requested_at, requests.c.request_id)
        )
        for r in rows:
            found[r.case_id].append(_attempt(r))
    return found


async def attempts_of_each(
    conn: AsyncConnection, case_ids: Sequence[str]
) -> dict[str, list[Attempt]]:
    """``attempts_of`` for many cases, in one statement (one array parameter: one SQL text
    whatever their number, so the prepared statement is reused)."""
    found: dict[str, list[Attempt]] = {c: [] for c in case_ids}
    if case_ids:
        for r in await conn.execute(_ATTEMPTS_OF_EACH, {"case_ids": list(case_ids)}):
            found[r.case_id].append(_attempt(r))
    return found


async def case_of_request(conn: AsyncConnection, request_id: str) -> str | None:
    case_id: str | None = await conn.scalar(_CASE_OF_REQUEST, {"request_id": request_id})
    return case_id


async def save_requests(
    conn: AsyncConnection, case_id: str, created: Sequence[Attempt], updated: Sequence[Attempt]
) -> None:
    """The requests a transaction made and changed (one statement each)."""
    await save_requests_of_each(conn, [(case_id, a) for a in created], updated)


async def save_requests_of_each(
    conn: AsyncConnection, created: Sequence[tuple[str, Attempt]], updated: Sequence[Attempt]
) -> None:
    """``save_requests`` for many cases: the requests made (case id, request) in one
    statement, those changed in one."""
    if created:
        await bulk.insert_rows(conn, requests, [_request_row(c, a) for c, a in created])
    if updated:
        changes = [{"request_id": a.request_id, **_request_changes(a)} for a in updated]
        await bulk.update_rows(conn, requests, "request_id", changes, stamp="updated_at")


async def overdue_cases(conn: AsyncConnection, now: datetime, limit: int) -> list[str]:
    """Cases with a request unanswered past its deadline, the longest overdue first."""
    due = await conn.execute(
        select(requests.c.case_id)
        .where(requests.c.status == RequestStatus.REQUESTED, requests.c.deadline_at <= now)
        .group_by(requests.c.case_id)
        .order_by(func.min(requests.c.deadline_at))
        .limit(limit)
    )
    return list(due.scalars())


_ATTEMPT_COLUMNS = _same_named(requests, Attempt)
_ATTEMPT_READ = tuple(name for name in _ATTEMPT_COLUMNS if name not in ("service_type", "status"))


def _attempt(row: Row[Any]) -> Attempt:
    columns = row._mapping
    return Attempt(
        **{name: columns[name] for name in _ATTEMPT_READ},
        service_type=ServiceType(row.service_type),
        status=RequestStatus(row.status),
    )


def _request_row(case_id: str, attempt: Attempt) -> dict[str, Any]:
    row = {name: getattr(attempt, name) for name in _ATTEMPT_COLUMNS}
    row["case_id"] = case_id
    return row


def _request_changes(attempt: Attempt) -> dict[str, Any]:
    """What may change in a request once made."""
    return {
        "status": attempt.status,
        "weekly_quantity": attempt.weekly_quantity,
        "start_by": attempt.start_by,
        "answered_at": attempt.answered_at,
        "active_from": attempt.active_from,
        "reason": attempt.reason,
    }


_ATTEMPTS = (
    select(requests)
    .where(requests.c.case_id == bindparam("case_id"))
    .order_by(requests.c.requested_at, requests.c.request_id)
)
_ATTEMPTS_OF_EACH = (
    select(requests)
    .where(requests.c.case_id == any_(bindparam("case_ids", type_=ARRAY(Text))))
    .order_by(requests.c.case_id, requests.c.requested_at, requests.c.request_id)
)
_CASE_OF_REQUEST = select(requests.c.case_id).where(
    requests.c.request_id == bindparam("request_id")
)
