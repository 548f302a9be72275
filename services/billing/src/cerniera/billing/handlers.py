"""Billing's event handlers: thin. Each unpacks its event and calls ``cases``; a run of
eligibility decisions goes to ``cases`` whole, to be applied in bulk.

Eligibility and plan revisions from intake, activations from activation, deliveries from
provider adapters, closures from monitoring: four topics with no order between them (``cases``
explains how billing copes).
"""

from __future__ import annotations

from collections.abc import Sequence

from cerniera.billing.cases import BillingCases
from cerniera.billing.config import BillingConfig
from cerniera.shared.causation import handling
from cerniera.shared.clock import Clock, italian_date
from cerniera.shared.contract import (
    CaseClosed,
    EligibilityConfirmed,
    EligibilityRejected,
    HoursDelivered,
    PlanRevised,
    ServiceActivated,
    ServiceDeactivated,
)
from cerniera.shared.envelope import Envelope
from cerniera.shared.messaging.consumer import Handlers, per_event
from cerniera.shared.persistence.outbox import UnitOfWork


def make_handlers(config: BillingConfig, clock: Clock) -> Handlers:
    cases = BillingCases(config, clock)

    async def on_confirmed(uow: UnitOfWork, events: Sequence[Envelope]) -> None:
        """A run in bulk, each decision the cause of what follows from it."""
        decisions = [(e.data_as(EligibilityConfirmed), e.chain_id) for e in events]
        await cases.confirm_run(uow, decisions, lambda i: handling(events[i]))

    async def on_revised(uow: UnitOfWork, event: Envelope) -> None:
        data = event.data_as(PlanRevised)
        # The plan is in force from the Italian day the team revised it (the event's time).
        await cases.revise(
            uow, data.case_id, data.plan_version, data.services, italian_date(event.time)
        )

    async def on_rejected(uow: UnitOfWork, events: Sequence[Envelope]) -> None:
        decisions = [(e.data_as(EligibilityRejected).case_id, e.chain_id) for e in events]
        await cases.reject_run(uow, decisions, lambda i: handling(events[i]))

    async def on_delivered(uow: UnitOfWork, event: Envelope) -> None:
        data = event.data_as(HoursDelivered)
        await cases.deliver(
            uow, data, event_source=event.source, event_id=event.id, correlation_id=event.chain_id
        )

    async def on_activated(uow: UnitOfWork, event: Envelope) -> None:
        data = event.data_as(ServiceActivated)
        await cases.authorise(
            uow,
            data.case_id,
            data.request_id,
            data.provider_id,
            data.service_type,
            active_from=data.active_from,
        )

    async def on_deactivated(uow: UnitOfWork, event: Envelope) -> None:
        data = event.data_as(ServiceDeactivated)
        await cases.authorise(
            uow,
            data.case_id,
            data.request_id,
            data.provider_id,
            data.service_type,
            until=data.until,
        )

    async def on_closed(uow: UnitOfWork, event: Envelope) -> None:
        data = event.data_as(CaseClosed)
        await cases.close(uow, data.case_id, data.closed_at)

    return {
        EligibilityConfirmed: on_confirmed,
        EligibilityRejected: on_rejected,
        PlanRevised: per_event(on_revised),
        ServiceActivated: per_event(on_activated),
        ServiceDeactivated: per_event(on_deactivated),
        HoursDelivered: per_event(on_delivered),
        CaseClosed: per_event(on_closed),
    }
