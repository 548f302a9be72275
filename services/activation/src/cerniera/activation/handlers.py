"""Activation's Kafka entrypoint: each handler unpacks its event and calls the use case in
``cases``; what providers and others are told is described in ``notices``."""

from __future__ import annotations

from collections.abc import Sequence

from cerniera.activation.cases import Activation
from cerniera.shared.causation import handling
from cerniera.shared.contract import (
    CaseClosed,
    CaseHandedOver,
    DischargeAnnounced,
    DischargeCancelled,
    DischargeRescheduled,
    EligibilityConfirmed,
    EligibilityRejected,
    PatientDetailsUpdated,
    PatientReadmitted,
    PlanRevised,
    ServiceActivationAccepted,
    ServiceActivationDeclined,
)
from cerniera.shared.envelope import Envelope
from cerniera.shared.messaging.consumer import Handlers, per_event
from cerniera.shared.persistence.outbox import UnitOfWork


def make_handlers(activation: Activation) -> Handlers:
    async def on_announcements(uow: UnitOfWork, events: Sequence[Envelope]) -> None:
        """A run: new cases in one statement, then the others (known, or announced twice) as
        a run of their own, each event the cause of what follows from it."""
        announcements = [(e.data_as(DischargeAnnounced), e.chain_id) for e in events]
        await activation.announced_run(uow, announcements, lambda i: handling(events[i]))

    async def on_rescheduled(uow: UnitOfWork, event: Envelope) -> None:
        data = event.data_as(DischargeRescheduled)
        await activation.rescheduled(uow, data.case_id, data.expected_discharge_at)

    async def on_cancelled(uow: UnitOfWork, event: Envelope) -> None:
        await activation.cancelled(uow, event.data_as(DischargeCancelled).case_id, event.chain_id)

    async def on_readmitted(uow: UnitOfWork, event: Envelope) -> None:
        await activation.readmitted(uow, event.data_as(PatientReadmitted), event.chain_id)

    async def on_confirmed(uow: UnitOfWork, events: Sequence[Envelope]) -> None:
        """A run planned in bulk, each decision the cause of what follows from it."""
        decisions = [(e.data_as(EligibilityConfirmed), e.chain_id) for e in events]
        await activation.confirmed_run(uow, decisions, lambda i: handling(events[i]))

    async def on_details(uow: UnitOfWork, event: Envelope) -> None:
        await activation.details_updated(uow, event.data_as(PatientDetailsUpdated))

    async def on_revised(uow: UnitOfWork, event: Envelope) -> None:
        await activation.revised(uow, event.data_as(PlanRevised))

    async def on_handed_over(uow: UnitOfWork, event: Envelope) -> None:
        await activation.handed_over(uow, event.data_as(CaseHandedOver))

    async def on_rejected(uow: UnitOfWork, events: Sequence[Envelope]) -> None:
        case_ids = [e.data_as(EligibilityRejected).case_id for e in events]
        await activation.rejected_run(uow, case_ids, lambda i: handling(events[i]))

    async def on_closed(uow: UnitOfWork, event: Envelope) -> None:
        await activation.closed(uow, event.data_as(CaseClosed), event.chain_id)

    async def on_accepted(uow: UnitOfWork, event: Envelope) -> None:
        data = event.data_as(ServiceActivationAccepted)
        await activation.accepted(uow, data, event.subject, sent_at=event.time)

    async def on_declined(uow: UnitOfWork, event: Envelope) -> None:
        await activation.declined(uow, event.data_as(ServiceActivationDeclined), event.subject)

    return {
        DischargeAnnounced: on_announcements,
        DischargeRescheduled: per_event(on_rescheduled),
        DischargeCancelled: per_event(on_cancelled),
        PatientReadmitted: per_event(on_readmitted),
        PatientDetailsUpdated: per_event(on_details),
        EligibilityConfirmed: on_confirmed,
        PlanRevised: per_event(on_revised),
        EligibilityRejected: on_rejected,
        ServiceActivationAccepted: per_event(on_accepted),
        ServiceActivationDeclined: per_event(on_declined),
        CaseHandedOver: per_event(on_handed_over),
        CaseClosed: per_event(on_closed),
    }
