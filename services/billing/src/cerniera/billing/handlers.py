"""Billing's event handlers: thin. They load and store; the rules are in ``domain``.

Events come from three topics with no order between them, so each handler stores what it
learns and prices whatever has become priceable: a delivery waits (``pending``) for its case's
EligibilityConfirmed, and a closure that arrives after lines delivered later than it were
priced takes those lines back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from sqlalchemy import Row

from cerniera.billing import domain, store
from cerniera.billing.config import BillingConfig
from cerniera.shared.clock import Clock
from cerniera.shared.contract import (
    BudgetThresholdReached,
    CaseClosed,
    EligibilityConfirmed,
    EligibilityRejected,
    EventData,
    HoursDelivered,
)
from cerniera.shared.envelope import Envelope
from cerniera.shared.messaging.consumer import Handler, Rejected, per_event
from cerniera.shared.persistence.outbox import UnitOfWork

log = structlog.get_logger(__name__)

_PRICED = (domain.LineStatus.BILLED, domain.LineStatus.REFUSED)


def make_handlers(config: BillingConfig, clock: Clock) -> Mapping[type[EventData], Handler]:
    async def price(uow: UnitOfWork, row: Row[Any], case: Row[Any]) -> None:
        """Price one stored delivery of a confirmed case and announce the thresholds it
        crosses, as caused by that delivery."""
        ambito = config.ambiti[case.ambito_id]
        state = domain.CaseState(
            ambito_id=ambito.id,
            closed_on=store.closed_on(case),
            sad_hours_used=await store.sad_hours_used(uow.conn, row.case_id),
        )
        spent = await store.spent(uow.conn, ambito.id)
        billing = domain.bill(ambito, state, store.as_delivery(row), spent)
        now = clock.now()
        await store.save_billing(uow.conn, row, ambito.id, billing, now)
        log.info(
            "delivery.priced",
            delivery_ref=row.delivery_ref,
            provider_id=row.provider_id,
            status=billing.status,
            billed=str(billing.billed_amount),
            reasons=[r.code for r in billing.reasons],
        )
        for crossed in billing.thresholds:
            if await store.reach_threshold(uow.conn, ambito.id, crossed, row.id, now):
                uow.emit(
                    BudgetThresholdReached(
                        ambito_id=ambito.id,
                        funding_source=crossed.funding_source,
                        threshold_percent=crossed.threshold_percent,
                        spent=crossed.spent,
                        budget=crossed.budget,
                        reached_at=now,
                    ),
                    # Not a case event: the district's ledger, kept in order by district.
                    subject=ambito.id,
                    cause=store.as_event(row),
                )

    async def refuse_not_eligible(uow: UnitOfWork, row: Row[Any]) -> None:
        billing = domain.refused(
            row.quantity,
            domain.CASE_NOT_ELIGIBLE,
            f"case {row.case_id} was found not eligible: no service is paid for it",
        )
        await store.save_billing(uow.conn, row, None, billing, clock.now())

    async def on_confirmed(uow: UnitOfWork, event: Envelope) -> None:
        data = event.data
        assert isinstance(data, EligibilityConfirmed)
        if data.ambito_id not in config.ambiti:
            raise Rejected(
                "ambito.unknown",
                f"district {data.ambito_id} is not in billing's configuration (CERNIERA_AMBITI)",
            )
        await store.lock_pricing(uow.conn)
        case = await store.save_case(
            uow.conn,
            data.case_id,
            ambito_id=data.ambito_id,
            status=store.CONFIRMED,
            correlation_id=event.correlation_id or event.id,
        )
        await store.assign_ambito(uow.conn, data.case_id, data.ambito_id)
        for row in await store.deliveries_of(uow.conn, data.case_id, [domain.LineStatus.PENDING]):
            await price(uow, row, case)

    async def on_rejected(uow: UnitOfWork, event: Envelope) -> None:
        data = event.data
        assert isinstance(data, EligibilityRejected)
        await store.lock_pricing(uow.conn)
        await store.save_case(
            uow.conn,
            data.case_id,
            status=store.REJECTED,
            correlation_id=event.correlation_id or event.id,
        )
        for row in await store.deliveries_of(uow.conn, data.case_id, [domain.LineStatus.PENDING]):
            await refuse_not_eligible(uow, row)

    async def on_delivered(uow: UnitOfWork, event: Envelope) -> None:
        data = event.data
        assert isinstance(data, HoursDelivered)
        await store.lock_pricing(uow.conn)
        case = await store.case(uow.conn, data.case_id)
        ambito_id = case.ambito_id if case is not None else None
        row, first = await store.receive(uow.conn, event, data, ambito_id)
        if not first:
            log.info(
                "delivery.duplicate", delivery_ref=data.delivery_ref, provider_id=data.provider_id
            )
            return
        if case is None or case.status == store.UNKNOWN:
            log.info("delivery.pending", delivery_ref=data.delivery_ref)
        elif case.status == store.REJECTED:
            await refuse_not_eligible(uow, row)
        else:
            await price(uow, row, case)

    async def on_closed(uow: UnitOfWork, event: Envelope) -> None:
        data = event.data
        assert isinstance(data, CaseClosed)
        await store.lock_pricing(uow.conn)
        case = await store.save_case(uow.conn, data.case_id, closed_at=data.closed_at)
        if case.status != store.CONFIRMED:
            return  # pending lines meet the closure when they are priced
        last_day = store.closed_on(case)
        for row in await store.deliveries_of(uow.conn, data.case_id, _PRICED):
            if last_day is not None and row.delivered_on > last_day and row.priced_quantity > 0:
                # Priced before the closure reached billing: taken back and priced again.
                log.warning("delivery.after_closure", delivery_ref=row.delivery_ref)
                await store.unprice(uow.conn, row.id)
                await price(uow, row, case)

    return {
        EligibilityConfirmed: per_event(on_confirmed),
        EligibilityRejected: per_event(on_rejected),
        HoursDelivered: per_event(on_delivered),
        CaseClosed: per_event(on_closed),
    }
