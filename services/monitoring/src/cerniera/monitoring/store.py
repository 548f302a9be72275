"""Monitoring's SQL, and nothing else: rows to domain entities and back, and the queries the
service layer and the views need. What to change, and what to publish, is decided in ``cases``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Text, any_, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from cerniera.monitoring.domain import (
    Activation,
    Check,
    Contact,
    FollowUp,
    FollowUpStatus,
    HandOver,
    PendingDischarge,
    Schedule,
)
from cerniera.monitoring.summary import Person
from cerniera.monitoring.tables import (
    activations,
    announcements,
    checks,
    discharge_dates,
    followups,
    handovers,
    pending_discharge_dates,
    postponements,
    resolutions,
)
from cerniera.shared.contract import (
    CaseOutcome,
    CheckOutcome,
    Recommendation,
    Resolution,
    ServiceLine,
    ServiceType,
)
from cerniera.shared.persistence.rows import entity, row_of

# --- follow-ups ------------------------------------------------------------------------------


def _follow_up(row: Row[Any]) -> FollowUp:
    return entity(
        FollowUp,
        row,
        status=FollowUpStatus(row.status),
        schedule=entity(Schedule, row),  # the calendar's columns
        outcome=CaseOutcome(row.outcome) if row.outcome else None,
        plan=_plan(row.plan),
        initial_plan=_plan(row.initial_plan),
    )


def _plan(lines: list[dict[str, Any]]) -> tuple[ServiceLine, ...]:
    return tuple(ServiceLine.model_validate(line) for line in lines)


def _lines(plan: tuple[ServiceLine, ...]) -> list[dict[str, Any]]:
    return [line.model_dump(mode="json") for line in plan]


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
        "person_ref": followup.person_ref,
        "plan": _lines(followup.plan),
        "initial_plan": _lines(followup.initial_plan),
        "readmitted_at": followup.readmitted_at,
        "decision_reversed": followup.decision_reversed,
    }


async def load(conn: AsyncConnection, case_id: str, *, lock: bool = False) -> FollowUp | None:
    """The follow-up; ``lock`` holds it until the transaction ends, so that a check, a closure
    and the periodic closure of the same case happen one after the other."""
    query = select(followups).where(followups.c.case_id == case_id)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).one_or_none()
    return _follow_up(row) if row is not None else None


async def lock_each(conn: AsyncConnection, case_ids: Collection[str]) -> dict[str, FollowUp]:
    """``load`` with ``lock`` for many cases, in one statement: the follow-ups found, by case
    (most cases a run of rejections names were never followed)."""
    if not case_ids:
        return {}
    rows = await conn.execute(_LOCK_EACH, {"case_ids": list(case_ids)})
    return {row.case_id: _follow_up(row) for row in rows}


async def add(conn: AsyncConnection, followup: FollowUp, opened_at: datetime) -> bool:
    """Store a new follow-up; False when the case already has one (kept as it is)."""
    return followup.case_id in await add_each(conn, [followup], opened_at)


async def add_each(
    conn: AsyncConnection, new: Collection[FollowUp], opened_at: datetime
) -> set[str]:
    """``add`` for follow-ups of distinct cases, in one statement: the cases that had none
    (those that had one keep it as it is)."""
    if not new:
        return set()
    rows = [
        {
            "case_id": f.case_id,
            "ambito_id": f.ambito_id,
            "correlation_id": f.correlation_id,
            "opened_at": opened_at,
            **_columns(f),
        }
        for f in new
    ]
    return set((await conn.execute(_ADD, rows)).scalars())


def _case_ids() -> ColumnElement[Any]:
    """``ANY(:case_ids)``: a run's cases in one parameter (an array), so that the statement
    is compiled once whatever the run's length."""
    return any_(bindparam("case_ids", type_=ARRAY(Text)))


# Built once, so SQLAlchemy's compiled cache applies. Rows are locked in the order of their ids.
_LOCK_EACH = (
    select(followups)
    .where(followups.c.case_id == _case_ids())
    .order_by(followups.c.case_id)
    .with_for_update()
)
_ADD = insert(followups).on_conflict_do_nothing().returning(followups.c.case_id)


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


async def discharged_between(
    conn: AsyncConnection, ambiti: Collection[str] | None, first: date, last: date
) -> list[FollowUp]:
    """Follow-ups of the districts ``ambiti`` (``None``: all) discharged from ``first`` to
    ``last``, the hospital's cancellations left out."""
    query = select(followups).where(
        followups.c.status != FollowUpStatus.CANCELLED,
        followups.c.discharge_on.between(first, last),
    )
    if ambiti is not None:
        query = query.where(followups.c.ambito_id.in_(sorted(ambiti)))
    rows = await conn.execute(query.order_by(followups.c.discharge_on, followups.c.case_id))
    return [_follow_up(row) for row in rows]


async def running_between(
    conn: AsyncConnection, ambiti: Collection[str] | None, first: date, last: date
) -> list[FollowUp]:
    """Follow-ups whose days (discharge to closure, or still open) meet ``first``..``last``."""
    closed_on = func.date(func.timezone("Europe/Rome", followups.c.closed_at))
    query = select(followups).where(
        followups.c.status != FollowUpStatus.CANCELLED,
        followups.c.discharge_on <= last,
        (followups.c.closed_at.is_(None)) | (closed_on >= first),
    )
    if ambiti is not None:
        query = query.where(followups.c.ambito_id.in_(sorted(ambiti)))
    rows = await conn.execute(query.order_by(followups.c.discharge_on, followups.c.case_id))
    return [_follow_up(row) for row in rows]


async def beneficiaries(conn: AsyncConnection, ambiti: Collection[str] | None) -> dict[str, int]:
    """Distinct persons each district has taken in charge, ever (reversed decisions and
    cancelled discharges left out)."""
    query = (
        select(
            followups.c.ambito_id,
            func.count(func.distinct(func.coalesce(followups.c.person_ref, followups.c.case_id))),
        )
        .where(
            followups.c.status != FollowUpStatus.CANCELLED,
            followups.c.decision_reversed.is_(False),
        )
        .group_by(followups.c.ambito_id)
    )
    if ambiti is not None:
        query = query.where(followups.c.ambito_id.in_(sorted(ambiti)))
    return {row[0]: int(row[1]) for row in await conn.execute(query)}


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
    return (await take_pending_each(conn, [case_id])).get(case_id)


async def take_pending_each(
    conn: AsyncConnection, case_ids: Collection[str]
) -> dict[str, PendingDischarge]:
    """``take_pending`` for many cases, in one statement: what was kept, by case."""
    if not case_ids:
        return {}
    rows = await conn.execute(_TAKE_PENDING, {"case_ids": list(case_ids)})
    return {
        row.case_id: PendingDischarge(row.expected_discharge_at, row.cancelled, row.readmitted_at)
        for row in rows
    }


_TAKE_PENDING = (
    delete(pending_discharge_dates)
    .where(pending_discharge_dates.c.case_id == _case_ids())
    .returning(
        pending_discharge_dates.c.case_id,
        pending_discharge_dates.c.expected_discharge_at,
        pending_discharge_dates.c.cancelled,
        pending_discharge_dates.c.readmitted_at,
    )
)


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


async def keep_pending_readmission(
    conn: AsyncConnection, case_id: str, readmitted_at: datetime, received_at: datetime
) -> None:
    """A readmission for a case not yet followed (the decision may still be on its way)."""
    await _keep_pending(conn, case_id, {"readmitted_at": readmitted_at}, received_at)


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
    """Forget what was kept for cases never followed: pending dates, and the announcements
    (personal data) and dates of discharges that never became cases."""
    await conn.execute(
        delete(pending_discharge_dates).where(
            pending_discharge_dates.c.received_at < received_before
        )
    )
    followed = select(followups.c.case_id)
    await conn.execute(
        delete(announcements).where(
            announcements.c.received_at < received_before,
            announcements.c.case_id.not_in(followed),
        )
    )
    await conn.execute(
        delete(discharge_dates).where(
            discharge_dates.c.received_at < received_before,
            discharge_dates.c.case_id.not_in(followed),
        )
    )


# --- the announcement: the person, the municipality, the hospital's dates --------------------


async def keep_announcements(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Each announcement's row (``announcements``' columns); one announced again is updated
    (the person, the municipality), its first time kept."""
    if not rows:
        return
    stmt = insert(announcements)
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[announcements.c.case_id],
            set_={
                "municipality_code": stmt.excluded.municipality_code,
                "patient": stmt.excluded.patient,
                "caregiver": func.coalesce(stmt.excluded.caregiver, announcements.c.caregiver),
            },
        ),
        rows,
    )


async def keep_discharge_dates(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Expected discharges the hospital gave: ``case_id``, ``said_at``,
    ``expected_discharge_at``."""
    if rows:
        await conn.execute(insert(discharge_dates).on_conflict_do_nothing(), rows)


async def update_details(
    conn: AsyncConnection,
    case_id: str,
    details: Mapping[str, Any],
    caregiver: Mapping[str, Any] | None,
) -> bool:
    """The hospital corrected the person's contact details (``details`` over the patient's);
    False when its announcement was not seen."""
    row = (
        await conn.execute(
            select(announcements.c.patient)
            .where(announcements.c.case_id == case_id)
            .with_for_update()
        )
    ).one_or_none()
    if row is None:
        return False
    values: dict[str, Any] = {"patient": {**row.patient, **details}}
    if caregiver is not None:
        values["caregiver"] = dict(caregiver)
    await conn.execute(
        update(announcements).where(announcements.c.case_id == case_id).values(**values)
    )
    return True


async def person(conn: AsyncConnection, case_id: str) -> Person | None:
    row = (
        await conn.execute(select(announcements).where(announcements.c.case_id == case_id))
    ).one_or_none()
    if row is None:
        return None
    patient, caregiver = row.patient, row.caregiver or {}
    return Person(
        given_name=patient["given_name"],
        family_name=patient["family_name"],
        birth_date=date.fromisoformat(patient["birth_date"]),
        fiscal_code=patient["fiscal_code"],
        municipality_code=row.municipality_code,
        address=patient["address"],
        phone=patient.get("phone"),
        caregiver_present=caregiver.get("present"),
        caregiver_name=caregiver.get("name"),
        caregiver_phone=caregiver.get("phone"),
    )


async def residences(conn: AsyncConnection, case_ids: Collection[str]) -> dict[str, str]:
    """The municipality of residence of each case whose announcement was seen."""
    rows = await conn.execute(
        select(announcements.c.case_id, announcements.c.municipality_code).where(
            announcements.c.case_id.in_(list(case_ids))
        )
    )
    return {row.case_id: row.municipality_code for row in rows}


async def announced_at(conn: AsyncConnection, case_ids: Collection[str]) -> dict[str, datetime]:
    rows = await conn.execute(
        select(announcements.c.case_id, announcements.c.announced_at).where(
            announcements.c.case_id.in_(list(case_ids))
        )
    )
    return {row.case_id: row.announced_at for row in rows}


async def dates_said(
    conn: AsyncConnection, case_ids: Collection[str]
) -> dict[str, list[tuple[datetime, datetime]]]:
    found: dict[str, list[tuple[datetime, datetime]]] = {c: [] for c in case_ids}
    rows = await conn.execute(
        select(discharge_dates).where(discharge_dates.c.case_id.in_(list(case_ids)))
    )
    for row in rows:
        found[row.case_id].append((row.said_at, row.expected_discharge_at))
    return found


# --- activation's side: services active, escalations resolved, postponements -----------------


async def keep_activation(conn: AsyncConnection, activation: Activation) -> None:
    stmt = insert(activations).values(**row_of(activations, activation))
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[activations.c.request_id],
            set_={"active_from": stmt.excluded.active_from, "until": None},
        )
    )


async def stop_activation(conn: AsyncConnection, request_id: str, until: date) -> None:
    """A service stopped (a request never active has no row: nothing to stop)."""
    await conn.execute(
        update(activations).where(activations.c.request_id == request_id).values(until=until)
    )


async def activations_of(
    conn: AsyncConnection, case_ids: Collection[str]
) -> dict[str, list[Activation]]:
    found: dict[str, list[Activation]] = {c: [] for c in case_ids}
    rows = await conn.execute(
        select(activations)
        .where(activations.c.case_id.in_(list(case_ids)))
        .order_by(activations.c.active_from, activations.c.request_id)
    )
    for row in rows:
        found[row.case_id].append(
            entity(Activation, row, service_type=ServiceType(row.service_type))
        )
    return found


async def keep_resolution(
    conn: AsyncConnection,
    case_id: str,
    service_type: ServiceType,
    resolution: Resolution,
    resolved_at: datetime,
) -> None:
    stmt = insert(resolutions).values(
        case_id=case_id, service_type=service_type, resolution=resolution, resolved_at=resolved_at
    )
    await conn.execute(
        stmt.on_conflict_do_update(
            constraint="resolutions_case_service",
            set_={"resolution": resolution, "resolved_at": resolved_at},
        )
    )


async def resolutions_of(
    conn: AsyncConnection, case_ids: Collection[str]
) -> dict[str, dict[ServiceType, Resolution]]:
    found: dict[str, dict[ServiceType, Resolution]] = {c: {} for c in case_ids}
    rows = await conn.execute(select(resolutions).where(resolutions.c.case_id.in_(list(case_ids))))
    for row in rows:
        found[row.case_id][ServiceType(row.service_type)] = Resolution(row.resolution)
    return found


async def keep_postponement(
    conn: AsyncConnection, case_id: str, requested_at: datetime, until: date
) -> None:
    """The first request's time and the latest day asked for."""
    stmt = insert(postponements).values(
        case_id=case_id, first_requested_at=requested_at, postpone_until=until
    )
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[postponements.c.case_id],
            set_={
                "first_requested_at": func.least(
                    postponements.c.first_requested_at, stmt.excluded.first_requested_at
                ),
                "postpone_until": stmt.excluded.postpone_until,
            },
        )
    )


async def postponed_at(conn: AsyncConnection, case_ids: Collection[str]) -> dict[str, datetime]:
    rows = await conn.execute(
        select(postponements.c.case_id, postponements.c.first_requested_at).where(
            postponements.c.case_id.in_(list(case_ids))
        )
    )
    return {row.case_id: row.first_requested_at for row in rows}


# --- hand-overs --------------------------------------------------------------------------------


async def add_handover(conn: AsyncConnection, handover: HandOver) -> None:
    await conn.execute(
        insert(handovers).values(
            **row_of(
                handovers,
                handover,
                continuing=[s.value for s in handover.continuing],
                contacts=[asdict(c) for c in handover.contacts],
            )
        )
    )


def _handover(row: Row[Any]) -> HandOver:
    return entity(
        HandOver,
        row,
        continuing=tuple(ServiceType(s) for s in row.continuing),
        contacts=tuple(Contact(**c) for c in row.contacts),
    )


async def handovers_of(conn: AsyncConnection, case_ids: Collection[str]) -> dict[str, HandOver]:
    rows = await conn.execute(select(handovers).where(handovers.c.case_id.in_(list(case_ids))))
    return {row.case_id: _handover(row) for row in rows}
