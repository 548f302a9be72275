"""Monitoring's event handlers: thin. They open a follow-up when the case is confirmed and
follow what the hospital says about the discharge; the rules are in ``domain``.

Intake's decisions and the hospital's events travel on different topics, so a reschedule or a
cancellation may arrive before the decision it concerns: it is kept in
``pending_discharge_dates`` and applied when the follow-up opens. Other hospital events for a
case monitoring does not follow are ignored: most discharges are not programme cases.
"""

from __future__ import annotations

from collections.abc import Mapping

import structlog
from sqlalchemy import delete, func, update
from sqlalchemy.dialects.postgresql import insert

from cerniera.monitoring import domain, store
from cerniera.monitoring.config import MonitoringConfig
from cerniera.monitoring.tables import followups, pending_discharge_dates
from cerniera.shared.clock import Clock
from cerniera.shared.contract import (
    CaseOutcome,
    DischargeCancelled,
    DischargeRescheduled,
    EligibilityConfirmed,
    EventData,
    PatientReadmitted,
)
from cerniera.shared.envelope import Envelope
from cerniera.shared.messaging.consumer import Handler, Rejected, per_event
from cerniera.shared.persistence.outbox import UnitOfWork

log = structlog.get_logger(__name__)


def make_handlers(config: MonitoringConfig, clock: Clock) -> Mapping[type[EventData], Handler]:
    async def on_confirmed(uow: UnitOfWork, event: Envelope) -> None:
        data = event.data
        assert isinstance(data, EligibilityConfirmed)
        rule = config.rule_for(data.ambito_id)
        if rule is None:
            raise Rejected("ambito.unknown", f"no district {data.ambito_id!r} in the configuration")
        pending = (
            await uow.conn.execute(
                delete(pending_discharge_dates)
                .where(pending_discharge_dates.c.case_id == data.case_id)
                .returning(
                    pending_discharge_dates.c.expected_discharge_at,
                    pending_discharge_dates.c.cancelled,
                )
            )
        ).one_or_none()
        discharge_at = data.expected_discharge_at
        status = domain.FollowUpStatus.OPEN
        if pending is not None:
            discharge_at = pending.expected_discharge_at or discharge_at
            if pending.cancelled:
                status = domain.FollowUpStatus.CANCELLED
        schedule = domain.Schedule.of(domain.discharge_day(discharge_at), rule)
        opened = await uow.conn.scalar(
            insert(followups)
            .values(
                case_id=data.case_id,
                ambito_id=data.ambito_id,
                status=status,
                discharge_at=discharge_at,
                correlation_id=event.correlation_id or event.id,
                opened_at=clock.now(),
                **store.schedule_columns(schedule),
            )
            # The same decision again under another event id opens nothing more.
            .on_conflict_do_nothing()
            .returning(followups.c.case_id)
        )
        log.info(
            "followup.opened" if opened else "followup.known",
            status=status,
            discharge_on=schedule.discharge_on.isoformat(),
            applied_pending=pending is not None,
        )

    async def on_rescheduled(uow: UnitOfWork, event: Envelope) -> None:
        data = event.data
        assert isinstance(data, DischargeRescheduled)
        row = await store.load(uow.conn, data.case_id, lock=True)
        if row is None:
            # Kept (the latest wins: one case's hospital events are in order) in case the
            # decision is still on its way; dropped by the periodic purge otherwise.
            stmt = insert(pending_discharge_dates).values(
                case_id=data.case_id,
                expected_discharge_at=data.expected_discharge_at,
                received_at=clock.now(),
            )
            await uow.conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[pending_discharge_dates.c.case_id],
                    set_={
                        "expected_discharge_at": stmt.excluded.expected_discharge_at,
                        "received_at": stmt.excluded.received_at,
                    },
                )
            )
            return
        if not domain.may_reschedule(store.status_of(row), row.discharge_at, clock.now()):
            log.info("reschedule.ignored", status=row.status, discharge_at=str(row.discharge_at))
            return
        schedule = store.schedule_of(row).moved_to(domain.discharge_day(data.expected_discharge_at))
        await uow.conn.execute(
            update(followups)
            .where(followups.c.case_id == data.case_id)
            .values(
                discharge_at=data.expected_discharge_at,
                updated_at=func.now(),
                **store.schedule_columns(schedule),
            )
        )

    async def on_cancelled(uow: UnitOfWork, event: Envelope) -> None:
        data = event.data
        assert isinstance(data, DischargeCancelled)
        row = await store.load(uow.conn, data.case_id, lock=True)
        if row is None:
            stmt = insert(pending_discharge_dates).values(
                case_id=data.case_id, cancelled=True, received_at=clock.now()
            )
            await uow.conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[pending_discharge_dates.c.case_id],
                    set_={"cancelled": True, "received_at": stmt.excluded.received_at},
                )
            )
            return
        if store.status_of(row) is not domain.FollowUpStatus.OPEN:
            log.info("cancellation.ignored", status=row.status)
            return
        # No event: the person never went home under the programme.
        await uow.conn.execute(
            update(followups)
            .where(followups.c.case_id == data.case_id)
            .values(status=domain.FollowUpStatus.CANCELLED, updated_at=func.now())
        )

    async def on_readmitted(uow: UnitOfWork, event: Envelope) -> None:
        data = event.data
        assert isinstance(data, PatientReadmitted)
        row = await store.load(uow.conn, data.case_id, lock=True)
        if row is None or store.status_of(row) is not domain.FollowUpStatus.OPEN:
            log.info("readmission.ignored", status=row.status if row is not None else None)
            return
        await store.close(uow, row, CaseOutcome.READMITTED, data.readmitted_at, cause=event)

    return {
        EligibilityConfirmed: per_event(on_confirmed),
        DischargeRescheduled: per_event(on_rescheduled),
        DischargeCancelled: per_event(on_cancelled),
        PatientReadmitted: per_event(on_readmitted),
    }
