"""Intake's Kafka entrypoint: the hospital's events and monitoring's closures, unpacked and
handed to ``cases``."""

from __future__ import annotations

from collections.abc import Sequence

from cerniera.intake.cases import IntakeCases
from cerniera.intake.config import IntakeConfig
from cerniera.shared.clock import Clock
from cerniera.shared.contract import (
    CaseClosed,
    DischargeAnnounced,
    DischargeCancelled,
    DischargeRescheduled,
    PatientReadmitted,
)
from cerniera.shared.envelope import Envelope
from cerniera.shared.messaging.consumer import Handlers, per_event
from cerniera.shared.persistence.outbox import UnitOfWork


def make_handlers(config: IntakeConfig, clock: Clock, pseudonym_key: bytes) -> Handlers:
    cases = IntakeCases(config, clock, pseudonym_key)

    async def on_announced(uow: UnitOfWork, events: Sequence[Envelope]) -> None:
        await cases.announce(uow, events)

    async def on_rescheduled(uow: UnitOfWork, event: Envelope) -> None:
        data = event.data_as(DischargeRescheduled)
        await cases.reschedule(uow, data.case_id, data.expected_discharge_at)

    async def on_cancelled(uow: UnitOfWork, event: Envelope) -> None:
        data = event.data_as(DischargeCancelled)
        await cases.cancel(uow, data.case_id)

    async def on_readmitted(uow: UnitOfWork, event: Envelope) -> None:
        data = event.data_as(PatientReadmitted)
        await cases.readmitted(uow, data.case_id, data.readmitted_at)

    async def on_closed(uow: UnitOfWork, event: Envelope) -> None:
        data = event.data_as(CaseClosed)
        await cases.closed(uow, data.case_id, data.closed_at, data.outcome.value)

    return {
        DischargeAnnounced: on_announced,
        DischargeRescheduled: per_event(on_rescheduled),
        DischargeCancelled: per_event(on_cancelled),
        PatientReadmitted: per_event(on_readmitted),
        CaseClosed: per_event(on_closed),
    }
