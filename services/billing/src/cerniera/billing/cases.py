"""Billing's service layer: one method per use case, called by the Kafka handlers and the HTTP
routes alike. Each loads through ``store``, decides through ``domain``, saves and emits.

Events come from four topics with no order between them, so each use case stores what it
learns and prices whatever has become priceable: a delivery waits (``pending``) for its case's
EligibilityConfirmed, and a closure that arrives after lines delivered later than it were
priced takes those lines back. Activations work the same way: a line priced before billing
learnt of its activation is refused (``delivery.not_authorised``, shown to the district), and
priced again when the ServiceActivated arrives; a ServiceDeactivated that arrives after lines
delivered later than its last day were paid takes those lines back. A PlanRevised prices again
the case's lines delivered from its day: the new weekly quantities apply to them. No parking
or retrying is needed: the line is never lost, and its final outcome does not depend on the
order.

Everything that prices, or reads a total to announce it, holds the pricing lock
(``store.lock_pricing``) for its transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from cerniera.billing import domain, reports, store
from cerniera.billing.config import Ambito, BillingConfig
from cerniera.shared.clock import Clock
from cerniera.shared.contract import (
    BudgetThresholdReached,
    HoursDelivered,
    ProviderStatementIssued,
    ServiceLine,
    ServiceType,
)
from cerniera.shared.persistence.outbox import UnitOfWork

log = structlog.get_logger(__name__)


def _plan(
    version: int, services: Sequence[ServiceLine], effective_from: date | None = None
) -> domain.Plan:
    return domain.Plan(
        plan_version=version,
        weekly_quantities={s.service_type.value: s.weekly_quantity for s in services},
        effective_from=effective_from,
    )


@dataclass(frozen=True)
class StatementView:
    """What a provider's monthly statement shows: its lines and what was issued of it."""

    lines: list[domain.Line]
    issued: list[domain.Issued]


@dataclass(frozen=True)
class IssueOutcome:
    issued: domain.Issued
    already: bool
    """It had been issued before: nothing was published now."""


class BillingCases:
    """Billing's use cases, for the districts of ``config``, in the time of ``clock``."""

    def __init__(self, config: BillingConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self._spent: tuple[UnitOfWork, dict[str, dict[str, Decimal]]] | None = None
        """Each district's spending as this transaction has priced it so far (see ``_spent_in``)."""

    # --- what the events tell --------------------------------------------------------------

    async def confirm(
        self,
        uow: UnitOfWork,
        case_id: str,
        ambito_id: str,
        services: Sequence[ServiceLine],
        *,
        correlation_id: str,
        person_ref: str | None = None,
        plan_version: int = 1,
    ) -> None:
        """The case of ``person_ref`` is eligible in ``ambito_id`` with the plan ``services``
        (in force from the start): its waiting lines are priced now."""
        domain.district(self.config, ambito_id)  # an unknown district is refused, not stored
        await store.lock_pricing(uow.conn)
        await store.save_plan(uow.conn, case_id, _plan(plan_version, services))
        # An older event without the person leaves the one already known in place.
        person = {"person_ref": person_ref} if person_ref is not None else {}
        case = await store.save_case(
            uow.conn,
            case_id,
            ambito_id=ambito_id,
            status=domain.CaseStatus.CONFIRMED.value,
            correlation_id=correlation_id,
            **person,
        )
        await store.assign_ambito(uow.conn, case_id, ambito_id)
        for line in await store.deliveries_of(uow.conn, case_id, [domain.LineStatus.PENDING]):
            await self._price(uow, line, case)

    async def revise(
        self,
        uow: UnitOfWork,
        case_id: str,
        plan_version: int,
        services: Sequence[ServiceLine],
        effective_from: date,
    ) -> None:
        """The team revised the case's plan on ``effective_from``: the case's lines delivered
        from that day are priced again against it (a line paid under the old quantities may be
        refused now, one refused may be paid)."""
        await store.lock_pricing(uow.conn)
        await store.save_plan(uow.conn, case_id, _plan(plan_version, services, effective_from))
        case = await store.case(uow.conn, case_id)
        if case is None or case.status is not domain.CaseStatus.CONFIRMED:
            return  # its lines wait for the eligibility, and are priced then
        lines = [
            line
            for line in await store.deliveries_of(uow.conn, case_id, domain.PRICED)
            if line.delivery.delivered_on >= effective_from
        ]
        # Free them all first, so each is priced again against the others' new outcomes.
        for line in lines:
            await store.unprice(uow.conn, line.id)
        self._spent = None  # their budget shares were given back: read the totals again
        for line in lines:
            await self._price(uow, line, case)

    async def reject(self, uow: UnitOfWork, case_id: str, *, correlation_id: str) -> None:
        """The case is not eligible: its waiting lines are refused."""
        await store.lock_pricing(uow.conn)
        await store.save_case(
            uow.conn,
            case_id,
            status=domain.CaseStatus.REJECTED.value,
            correlation_id=correlation_id,
        )
        for line in await store.deliveries_of(uow.conn, case_id, [domain.LineStatus.PENDING]):
            await self._refuse_not_eligible(uow, line)

    async def deliver(
        self,
        uow: UnitOfWork,
        data: HoursDelivered,
        *,
        event_source: str,
        event_id: str,
        correlation_id: str,
    ) -> None:
        """A provider delivered: stored once per ``delivery_ref``, priced if the case's
        eligibility is known, else left pending."""
        await store.lock_pricing(uow.conn)
        case = await store.case(uow.conn, data.case_id)
        line, first = await store.receive(
            uow.conn,
            data,
            event_source=event_source,
            event_id=event_id,
            correlation_id=correlation_id,
            first=domain.pending(data.quantity),
            repeat=domain.duplicate(data.quantity, data.delivery_ref),
            ambito_id=case.ambito_id if case is not None else None,
        )
        if not first:
            log.info(
                "delivery.duplicate", delivery_ref=data.delivery_ref, provider_id=data.provider_id
            )
        elif case is None or case.status is domain.CaseStatus.UNKNOWN:
            log.info("delivery.pending", delivery_ref=data.delivery_ref)
        elif case.status is domain.CaseStatus.REJECTED:
            await self._refuse_not_eligible(uow, line)
        else:
            await self._price(uow, line, case)

    async def close(self, uow: UnitOfWork, case_id: str, closed_at: datetime) -> None:
        """The case closed: lines already priced for a later day are priced again (refused)."""
        await store.lock_pricing(uow.conn)
        case = await store.save_case(uow.conn, case_id, closed_at=closed_at)
        if case.status is not domain.CaseStatus.CONFIRMED:
            return  # pending lines meet the closure when they are priced
        for line in await store.deliveries_of(uow.conn, case_id, domain.PRICED):
            if line.taken_back_by(case.closed_on):
                log.warning("delivery.after_closure", delivery_ref=line.delivery_ref)
                await store.unprice(uow.conn, line.id)
                self._spent = None  # its budget shares were given back: read the totals again
                await self._price(uow, line, case)

    async def authorise(
        self,
        uow: UnitOfWork,
        case_id: str,
        request_id: str,
        provider_id: str,
        service: ServiceType,
        *,
        active_from: date | None = None,
        until: date | None = None,
    ) -> None:
        """A service was activated (``active_from``) or deactivated (``until``, its last
        day): the provider's lines of that service for the case that this changes are priced
        again (refused ones waiting for it, or paid ones now outside the period)."""
        await store.lock_pricing(uow.conn)
        values = {"active_from": active_from} if active_from is not None else {"until": until}
        await store.save_authorisation(
            uow.conn,
            request_id,
            case_id=case_id,
            provider_id=provider_id,
            service_type=service,
            **values,
        )
        case = await store.case(uow.conn, case_id)
        if case is None or case.status is not domain.CaseStatus.CONFIRMED:
            return  # its lines wait for the eligibility, and are priced then
        for line in await store.deliveries_of(uow.conn, case_id, domain.PRICED):
            if (line.delivery.provider_id, line.delivery.service_type) != (provider_id, service):
                continue
            if line.awaits_activation():
                await self._price(uow, line, case)
            elif line.billing.counted_quantity > 0:
                grant = await store.grant_of(uow.conn, case, line)
                if not any(a.covers(line.delivery.delivered_on) for a in grant.authorisations):
                    log.warning("delivery.after_deactivation", delivery_ref=line.delivery_ref)
                    await store.unprice(uow.conn, line.id)
                    self._spent = None  # its budget shares were given back: read them again
                    await self._price(uow, line, case)

    async def _price(self, uow: UnitOfWork, line: domain.Line, case: domain.Case) -> None:
        """Price one stored line of a confirmed case, and announce the thresholds it crosses
        in the line's own chain (whatever event made billing price it now)."""
        assert case.ambito_id is not None  # confirmed
        ambito = self.config.ambiti[case.ambito_id]
        state = domain.CaseState(
            ambito_id=ambito.id,
            grant=await store.grant_of(uow.conn, case, line),
            closed_on=case.closed_on,
            sad_hours_used=await store.sad_hours_used(uow.conn, case),
        )
        spent = await self._spent_in(uow, ambito.id)
        billing = domain.bill(ambito, state, line.delivery, spent)
        now = self.clock.now()
        await store.save_billing(uow.conn, line, ambito.id, billing, now)
        for share in billing.allocations:
            source = share.funding_source
            spent[source] = spent.get(source, domain.ZERO) + share.amount
        log.info(
            "delivery.priced",
            delivery_ref=line.delivery_ref,
            provider_id=line.delivery.provider_id,
            status=billing.status,
            billed=str(billing.billed_amount),
            reasons=[r.code for r in billing.reasons],
        )
        for crossed in billing.thresholds:
            if await store.reach_threshold(uow.conn, ambito.id, crossed, line.id, now):
                uow.emit(
                    BudgetThresholdReached(ambito_id=ambito.id, reached_at=now, **asdict(crossed)),
                    # Not a case event: the district's ledger, kept in order by district.
                    subject=ambito.id,
                    correlation_id=line.correlation_id,
                )

    async def _spent_in(self, uow: UnitOfWork, ambito_id: str) -> dict[str, Decimal]:
        """What the district has spent per funding source: summed from its allocations once
        per transaction, then kept up to date as this transaction prices. Summing them for
        every line made pricing slower with every line ever billed (a batch of 500 took
        seconds after ten thousand lines). Exact, because pricing holds the pricing lock
        until the transaction ends: no one else adds to the totals meanwhile."""
        if self._spent is None or self._spent[0] is not uow:
            self._spent = (uow, {})
        totals = self._spent[1]
        if ambito_id not in totals:
            totals[ambito_id] = dict(await store.spent(uow.conn, ambito_id))
        return totals[ambito_id]

    async def _refuse_not_eligible(self, uow: UnitOfWork, line: domain.Line) -> None:
        billing = domain.not_eligible(line.delivery.quantity, line.case_id)
        await store.save_billing(uow.conn, line, None, billing, self.clock.now())

    # --- what people ask -------------------------------------------------------------------

    async def issue_statement(
        self, uow: UnitOfWork, provider_id: str, period: str, ambito_id: str | None
    ) -> IssueOutcome:
        """Announce what the paying district owes the provider for a month that is over:
        ProviderStatementIssued once, however often it is asked."""
        ambito = domain.paying_district(self.config, provider_id, ambito_id)
        domain.check_period_over(period, self.clock.today())
        # Under the pricing lock: the total is a consistent snapshot, issued once.
        await store.lock_pricing(uow.conn)
        existing = await store.issued_in(uow.conn, provider_id, period, ambito.id)
        if existing:
            return IssueOutcome(existing[0], already=True)
        start, end = domain.period_bounds(period)
        lines = await store.delivered_in(uow.conn, provider_id, start, end, ambito.id)
        total, billed = domain.issued_figures(line.billing for line in lines)
        now = self.clock.now()
        event = uow.emit(
            ProviderStatementIssued(
                provider_id=provider_id,
                ambito_id=ambito.id,
                period=period,
                total=total,
                lines=billed,
                issued_at=now,
            ),
            subject=ambito.id,
        )
        issued = domain.Issued(provider_id, ambito.id, period, total, billed, now, event.id)
        return IssueOutcome(await store.issue(uow.conn, issued), already=False)

    async def statement(
        self, conn: AsyncConnection, provider_id: str, period: str, ambito_id: str | None
    ) -> StatementView:
        """The provider's lines of the month as priced so far (of one district, or of all and
        those still pending), and the statements issued for it."""
        if ambito_id is not None:
            domain.district(self.config, ambito_id)
        start, end = domain.period_bounds(period)
        return StatementView(
            lines=await store.delivered_in(conn, provider_id, start, end, ambito_id),
            issued=await store.issued_in(conn, provider_id, period, ambito_id),
        )

    async def budgets(
        self, conn: AsyncConnection, ambito_id: str | None
    ) -> list[tuple[Ambito, store.BudgetFigures]]:
        """Spending per district (the one asked, or every one), as configured."""
        chosen = (
            [domain.district(self.config, ambito_id)]
            if ambito_id
            else list(self.config.ambiti.values())
        )
        return [(ambito, await store.budget(conn, ambito.id)) for ambito in chosen]

    # --- the district's reports ------------------------------------------------------------

    async def forecast(
        self,
        conn: AsyncConnection,
        ambito_id: str,
        services: Sequence[reports.PlannedService],
        days: int,
    ) -> reports.Forecast:
        """What a plan would cost each of the district's funding sources, given what billing
        has paid from them so far."""
        ambito = domain.district(self.config, ambito_id)
        return reports.forecast(ambito, services, days, await store.spent(conn, ambito.id))

    async def spending(
        self, conn: AsyncConnection, ambiti: Sequence[str], start: date | None, end: date | None
    ) -> list[tuple[Ambito, list[reports.QuarterSpending]]]:
        """Per district, what each funding source paid in each quarter (by day of delivery)."""
        reports.check_period(start, end)
        rows = await store.spending(conn, ambiti, start, end)
        chosen = [domain.district(self.config, a) for a in ambiti]
        return [(ambito, reports.by_quarter(ambito, rows)) for ambito in chosen]

    async def progress(
        self, conn: AsyncConnection, ambiti: Sequence[str]
    ) -> list[reports.Progress]:
        """Per district, the persons served against its beneficiary target."""
        out = []
        for ambito in (domain.district(self.config, a) for a in ambiti):
            target = ambito.beneficiary_target
            since = target.since if target is not None else None
            out.append(reports.progress(ambito, await store.beneficiaries(conn, ambito.id, since)))
        return out

    async def funder_export(
        self, conn: AsyncConnection, ambiti: Sequence[str], start: date | None, end: date | None
    ) -> list[reports.FunderRow]:
        """The funder's rows (one per beneficiary and quarter), from what billing paid."""
        reports.check_period(start, end)
        return reports.funder_rows(await store.served(conn, ambiti, start, end))
