"""The gateway's Kafka entrypoint: it learns from intake and monitoring when a case is no longer
open, and from activation when the team asks a ward to postpone a discharge (a hospital's
messages come in through ``mllp`` and ``api`` instead)."""

from __future__ import annotations

from collections.abc import Sequence

from cerniera.gateway import cases
from cerniera.shared.contract import (
    CaseClosed,
    DischargePostponementRequested,
    EligibilityRejected,
)
from cerniera.shared.envelope import Envelope
from cerniera.shared.messaging.consumer import Handlers
from cerniera.shared.persistence.outbox import UnitOfWork


def make_handlers() -> Handlers:
    async def case_ended(uow: UnitOfWork, events: Sequence[Envelope]) -> None:
        ended = [e.data for e in events if isinstance(e.data, CaseClosed | EligibilityRejected)]
        await cases.case_ended(uow, [data.case_id for data in ended])

    return {
        CaseClosed: case_ended,
        EligibilityRejected: case_ended,
        DischargePostponementRequested: cases.postponement_requested,
    }
