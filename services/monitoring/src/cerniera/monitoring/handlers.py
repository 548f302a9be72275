"""Monitoring's Kafka entrypoint: each handler unpacks its event and calls the use case in
``cases``. A follow-up opens when intake confirms the case; the hospital's events move, cancel
or end it."""

from __future__ import annotations

from cerniera.monitoring import cases
from cerniera.monitoring.config import MonitoringConfig
from cerniera.shared.clock import Clock
from cerniera.shared.contract import (
    DischargeCancelled,
    DischargeRescheduled,
    EligibilityConfirmed,
    PatientReadmitted,
)
from cerniera.shared.envelope import Envelope
from cerniera.shared.messaging.consumer import Handlers, per_event
from cerniera.shared.persistence.outbox import UnitOfWork


def make_handlers(config: MonitoringConfig, clock: Clock) -> Handlers:
    async def on_confirmed(uow: UnitOfWork, event: Envelope) -> None:
        data = event.data_as(EligibilityConfirmed)
        await cases.open_follow_up(uow, config, data, event.chain_id, clock.now())

    async def on_rescheduled(uow: UnitOfWork, event: Envelope) -> None:
        data = event.data_as(DischargeRescheduled)
        await cases.reschedule(uow, data.case_id, data.expected_discharge_at, clock.now())

    async def on_cancelled(uow: UnitOfWork, event: Envelope) -> None:
        data = event.data_as(DischargeCancelled)
        await cases.cancel(uow, data.case_id, clock.now())

    async def on_readmitted(uow: UnitOfWork, event: Envelope) -> None:
        data = event.data_as(PatientReadmitted)
        await cases.readmit(uow, data.case_id, data.readmitted_at)

    return {
        EligibilityConfirmed: per_event(on_confirmed),
        DischargeRescheduled: per_event(on_rescheduled),
        DischargeCancelled: per_event(on_cancelled),
        PatientReadmitted: per_event(on_readmitted),
    }
