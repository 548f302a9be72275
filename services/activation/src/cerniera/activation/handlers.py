"""Activation's Kafka entrypoint: each handler unpacks its event and calls the use case in
``cases``; what providers see on ``activation.services`` is described in ``notices``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from cerniera.activation.cases import Activation
from cerniera.shared.causation import handling
from cerniera.shared.contract import (
    CaseClosed,
    DischargeAnnounced,
    DischargeCancelled,
    DischargeRescheduled,
    EligibilityConfirmed,
    EligibilityRejected,
    EventData,
    PatientReadmitted,
    ServiceActivationAccepted,
    ServiceActivationDeclined,
)
from cerniera.shared.envelope import Envelope
from cerniera.shared.messaging.consumer import Handler, per_event
from cerniera.shared.persistence.outbox import UnitOfWork

D = TypeVar("D", bound=EventData)


def make_handlers(activation: Activation) -> Mapping[type[EventData], Handler]:
    async def on_announcements(uow: UnitOfWork, events: Sequence[Envelope]) -> None:
        """A run: new cases in one statement, the others one by one, each as its own cause."""
        announcements = [(_data(e, DischargeAnnounced), e.chain_id) for e in events]
        for i in await activation.create_announced(uow, announcements):
            with handling(events[i]):
                await activation.announced(uow, *announcements[i])

    async def on_rescheduled(uow: UnitOfWork, event: Envelope) -> None:
        data = _data(event, DischargeRescheduled)
        await activation.rescheduled(uow, data.case_id, data.expected_discharge_at)

    async def on_cancelled(uow: UnitOfWork, event: Envelope) -> None:
        await activation.cancelled(uow, _data(event, DischargeCancelled).case_id, event.chain_id)

    async def on_readmitted(uow: UnitOfWork, event: Envelope) -> None:
        await activation.readmitted(uow, _data(event, PatientReadmitted), event.chain_id)

    async def on_confirmed(uow: UnitOfWork, event: Envelope) -> None:
        await activation.confirmed(uow, _data(event, EligibilityConfirmed), event.chain_id)

    async def on_rejected(uow: UnitOfWork, event: Envelope) -> None:
        await activation.rejected(uow, _data(event, EligibilityRejected).case_id)

    async def on_closed(uow: UnitOfWork, event: Envelope) -> None:
        await activation.closed(uow, _data(event, CaseClosed), event.chain_id)

    async def on_accepted(uow: UnitOfWork, event: Envelope) -> None:
        await activation.accepted(uow, _data(event, ServiceActivationAccepted), event.subject)

    async def on_declined(uow: UnitOfWork, event: Envelope) -> None:
        await activation.declined(uow, _data(event, ServiceActivationDeclined), event.subject)

    return {
        DischargeAnnounced: on_announcements,
        DischargeRescheduled: per_event(on_rescheduled),
        DischargeCancelled: per_event(on_cancelled),
        PatientReadmitted: per_event(on_readmitted),
        EligibilityConfirmed: per_event(on_confirmed),
        EligibilityRejected: per_event(on_rejected),
        ServiceActivationAccepted: per_event(on_accepted),
        ServiceActivationDeclined: per_event(on_declined),
        CaseClosed: per_event(on_closed),
    }


def _data(event: Envelope, kind: type[D]) -> D:
    assert isinstance(event.data, kind)
    return event.data
