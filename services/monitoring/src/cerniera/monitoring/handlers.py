"""Monitoring's Kafka entrypoint: each handler unpacks its event and calls the use case in
``cases``. A follow-up opens when intake confirms the case and ends if intake reverses it; the
hospital's events move, cancel or end it; the announcement and activation's events are kept
for the hand-over summary and the outcome indicators."""

from __future__ import annotations

from collections.abc import Sequence

from cerniera.monitoring import cases
from cerniera.monitoring.config import MonitoringConfig
from cerniera.shared.causation import handling
from cerniera.shared.clock import Clock
from cerniera.shared.contract import (
    DischargeAnnounced,
    DischargeCancelled,
    DischargePostponementRequested,
    DischargeRescheduled,
    EligibilityConfirmed,
    EligibilityRejected,
    EscalationResolved,
    PatientDetailsUpdated,
    PatientReadmitted,
    PlanRevised,
    ServiceActivated,
    ServiceDeactivated,
)
from cerniera.shared.envelope import Envelope
from cerniera.shared.messaging.consumer import Handlers, per_event
from cerniera.shared.persistence.outbox import UnitOfWork


def make_handlers(config: MonitoringConfig, clock: Clock) -> Handlers:
    async def on_confirmed(uow: UnitOfWork, events: Sequence[Envelope]) -> None:
        """A run opened in bulk, each decision the cause of what follows from it."""
        decisions = [(e.data_as(EligibilityConfirmed), e.chain_id) for e in events]
        await cases.open_follow_ups(
            uow, config, decisions, clock.now(), lambda i: handling(events[i])
        )

    async def on_rejected(uow: UnitOfWork, events: Sequence[Envelope]) -> None:
        """A run: the follow-ups looked for in one statement (most rejections have none)."""
        rejections = [
            (data.case_id, data.decided_by)
            for data in (e.data_as(EligibilityRejected) for e in events)
        ]
        await cases.reverse_run(uow, rejections, clock.now(), lambda i: handling(events[i]))

    async def on_plan_revised(uow: UnitOfWork, event: Envelope) -> None:
        data = event.data_as(PlanRevised)
        await cases.revise_plan(uow, data.case_id, data.services, clock.now())

    async def on_announced(uow: UnitOfWork, events: Sequence[Envelope]) -> None:
        # Every discharge of every ward comes here: kept in bulk, one statement per run.
        await cases.note_announcements(uow, events, clock.now())

    async def on_details(uow: UnitOfWork, event: Envelope) -> None:
        await cases.update_details(uow, event.data_as(PatientDetailsUpdated))

    async def on_rescheduled(uow: UnitOfWork, event: Envelope) -> None:
        data = event.data_as(DischargeRescheduled)
        await cases.reschedule(
            uow, data.case_id, data.expected_discharge_at, clock.now(), said_at=event.time
        )

    async def on_cancelled(uow: UnitOfWork, event: Envelope) -> None:
        data = event.data_as(DischargeCancelled)
        await cases.cancel(uow, data.case_id, clock.now())

    async def on_readmitted(uow: UnitOfWork, event: Envelope) -> None:
        data = event.data_as(PatientReadmitted)
        await cases.readmit(uow, data.case_id, data.readmitted_at, clock.now())

    async def on_activated(uow: UnitOfWork, event: Envelope) -> None:
        await cases.service_activated(uow, event.data_as(ServiceActivated))

    async def on_deactivated(uow: UnitOfWork, event: Envelope) -> None:
        await cases.service_deactivated(uow, event.data_as(ServiceDeactivated))

    async def on_resolved(uow: UnitOfWork, event: Envelope) -> None:
        await cases.escalation_resolved(uow, event.data_as(EscalationResolved))

    async def on_postponement(uow: UnitOfWork, event: Envelope) -> None:
        await cases.postponement_requested(uow, event.data_as(DischargePostponementRequested))

    return {
        EligibilityConfirmed: on_confirmed,
        EligibilityRejected: on_rejected,
        PlanRevised: per_event(on_plan_revised),
        DischargeAnnounced: on_announced,
        PatientDetailsUpdated: per_event(on_details),
        DischargeRescheduled: per_event(on_rescheduled),
        DischargeCancelled: per_event(on_cancelled),
        PatientReadmitted: per_event(on_readmitted),
        ServiceActivated: per_event(on_activated),
        ServiceDeactivated: per_event(on_deactivated),
        EscalationResolved: per_event(on_resolved),
        DischargePostponementRequested: per_event(on_postponement),
    }
