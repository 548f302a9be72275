"""Monitoring's use cases: the one place that decides. The Kafka handlers, the équipe's HTTP API
and the periodic closure all call these, so a case is opened, checked and closed (and its event
published) the same way whoever asks.

Each use case loads through ``store``, decides through ``domain``, saves through ``store`` and
emits through the unit of work. Everything monitoring publishes about a case carries the case's
own correlation id (the eligibility decision's), even when a hospital event with a correlation
of its own is the cause; the time is passed in.

Intake's decisions and the hospital's events travel on different topics, so a reschedule or a
cancellation may arrive before the decision it concerns: it is kept as pending and applied when
the follow-up opens. Other hospital events for a case monitoring does not follow are ignored:
most discharges are not programme cases.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from cerniera.monitoring import store
from cerniera.monitoring.config import MonitoringConfig
from cerniera.monitoring.domain import (
    Check,
    CheckReport,
    DueCheck,
    EarlyOutcome,
    FollowUp,
    by_urgency,
)
from cerniera.shared.access import Principal
from cerniera.shared.clock import italian_date
from cerniera.shared.contract import CaseClosed, EligibilityConfirmed, WeeklyCheckDone
from cerniera.shared.persistence.outbox import UnitOfWork
from cerniera.shared.refusals import NotFound

log = structlog.get_logger(__name__)

BATCH = 500
"""Follow-ups closed per transaction by the periodic closure; the rest wait for the next run."""

PENDING_RETENTION = timedelta(days=60)
"""How long a reschedule or cancellation for a case monitoring does not follow is kept: the
eligibility decision it waits for comes within hours, never months."""


# --- from intake and the hospital ------------------------------------------------------------


async def open_follow_up(
    uow: UnitOfWork,
    config: MonitoringConfig,
    decision: EligibilityConfirmed,
    correlation_id: str,
    now: datetime,
) -> None:
    """The case is confirmed: follow it from its discharge, by its district's rule. The same
    decision again (under another event id) opens nothing more."""
    rule = config.rule_for(decision.ambito_id)
    if rule is None:
        raise NotFound("ambito.unknown", f"no district {decision.ambito_id!r} in the configuration")
    pending = await store.take_pending(uow.conn, decision.case_id)
    followup = FollowUp.open(
        decision.case_id,
        decision.ambito_id,
        decision.expected_discharge_at,
        rule,
        correlation_id,
        pending,
    )
    opened = await store.add(uow.conn, followup, now)
    log.info(
        "followup.opened" if opened else "followup.known",
        status=followup.status,
        discharge_on=followup.schedule.discharge_on.isoformat(),
        applied_pending=pending is not None,
    )


async def reschedule(
    uow: UnitOfWork, case_id: str, expected_discharge_at: datetime, now: datetime
) -> None:
    """The hospital moved the discharge: the calendar moves with it until the discharge."""
    followup = await store.load(uow.conn, case_id, lock=True)
    if followup is None:
        # Kept (the latest wins: one case's hospital events are in order) in case the
        # decision is still on its way; dropped by the periodic purge otherwise.
        await store.keep_pending_date(uow.conn, case_id, expected_discharge_at, now)
        return
    moved = followup.rescheduled(expected_discharge_at, now)
    if moved is None:
        log.info(
            "reschedule.ignored",
            status=followup.status,
            discharge_at=str(followup.discharge_at),
        )
        return
    await store.save(uow.conn, moved)


async def cancel(uow: UnitOfWork, case_id: str, now: datetime) -> None:
    """The hospital cancelled the discharge: no follow-up, and nothing to publish."""
    followup = await store.load(uow.conn, case_id, lock=True)
    if followup is None:
        await store.keep_pending_cancellation(uow.conn, case_id, now)
        return
    cancelled = followup.cancelled()
    if cancelled is None:
        log.info("cancellation.ignored", status=followup.status)
        return
    await store.save(uow.conn, cancelled)


async def readmit(uow: UnitOfWork, case_id: str, readmitted_at: datetime) -> None:
    """Back in hospital: an open follow-up closes as readmitted."""
    followup = await store.load(uow.conn, case_id, lock=True)
    closed = followup.readmitted(readmitted_at) if followup is not None else None
    if closed is None:
        log.info("readmission.ignored", status=followup.status if followup else None)
        return
    await _close(uow, closed)


# --- the équipe ------------------------------------------------------------------------------
# ``who`` is the bearer of the request's token: a follow-up of another district is refused
# (403) before anything about it is told or changed.


async def record_check(
    uow: UnitOfWork, who: Principal, case_id: str, report: CheckReport, now: datetime
) -> Check:
    """Record the weekly check ``who`` reported (``report.checked_by`` is ``who.actor``) and
    publish ``WeeklyCheckDone``: its codes only, the team's notes (clinical free text) stay in
    monitoring's database."""
    followup = await _existing(uow.conn, case_id, lock=True, who=who)
    recorded = (await store.checks_of(uow.conn, [case_id]))[case_id]
    check = followup.check(recorded, report, now)
    stored = await store.add_check(uow.conn, check)
    uow.emit(
        WeeklyCheckDone.model_validate(check, from_attributes=True),
        subject=case_id,
        correlation_id=followup.correlation_id,
    )
    return stored


async def close_early(
    uow: UnitOfWork,
    who: Principal,
    case_id: str,
    outcome: EarlyOutcome,
    note: str | None,
    now: datetime,
) -> None:
    """The équipe (``who``) ends an open case before its time."""
    followup = await _existing(uow.conn, case_id, lock=True, who=who)
    await _close(uow, followup.closed(outcome.case_outcome, now, closed_by=who.actor, note=note))


# --- the clock -------------------------------------------------------------------------------


async def close_due(uow: UnitOfWork, now: datetime) -> int:
    """Close every open follow-up whose ``closes_on`` has come (the Italian day of ``now``),
    with the outcome the last check recommended, up to ``BATCH``; forget what was kept pending
    too long. Return how many were closed."""
    due = await store.open_past_period(uow.conn, italian_date(now), BATCH)
    by_case = await store.checks_of(uow.conn, [f.case_id for f in due])
    for followup in due:
        closed = followup.closed_at_end_of_period(by_case[followup.case_id], now)
        await _close(uow, closed)
        log.info("followup.closed", case_id=closed.case_id, outcome=closed.outcome)
    await store.forget_pending(uow.conn, now - PENDING_RETENTION)
    return len(due)


# --- reads -----------------------------------------------------------------------------------


async def follow_up(
    conn: AsyncConnection, who: Principal, case_id: str
) -> tuple[FollowUp, list[Check]]:
    """A case's follow-up and its checks, by week."""
    followup = await _existing(conn, case_id, who=who)
    return followup, (await store.checks_of(conn, [case_id]))[case_id]


async def due_checks(
    conn: AsyncConnection, who: Principal, on: date, ambito_id: str | None = None
) -> list[DueCheck]:
    """The weekly checks due by ``on`` and not recorded, overdue first: of ``ambito_id`` (one
    of ``who``'s districts, else refused) or of all ``who``'s districts."""
    ambiti = who.districts()
    if ambito_id is not None:
        who.require_district(ambito_id)
        ambiti = frozenset({ambito_id})
    followups = await store.open_discharged_before(conn, on, ambiti)
    done = await store.checks_of(conn, [f.case_id for f in followups])
    return by_urgency(
        check
        for followup in followups
        for check in followup.due_checks({c.week for c in done[followup.case_id]}, on)
    )


# --- shared steps ----------------------------------------------------------------------------


async def _existing(
    conn: AsyncConnection, case_id: str, *, lock: bool = False, who: Principal
) -> FollowUp:
    followup = await store.load(conn, case_id, lock=lock)
    if followup is None:
        raise NotFound("case.unknown", f"no follow-up for case {case_id}")
    who.require_district(followup.ambito_id)
    return followup


async def _close(uow: UnitOfWork, closed: FollowUp) -> None:
    """Save a follow-up just closed and publish ``CaseClosed``."""
    assert closed.outcome is not None
    assert closed.closed_at is not None
    await store.save(uow.conn, closed)
    uow.emit(
        CaseClosed(case_id=closed.case_id, closed_at=closed.closed_at, outcome=closed.outcome),
        subject=closed.case_id,
        correlation_id=closed.correlation_id,
    )
