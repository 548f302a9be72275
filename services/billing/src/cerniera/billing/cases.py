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

A run of eligibility decisions (``confirm_run``, ``reject_run``) is saved in a few statements
for the whole run, with the rows and events the decisions would give one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from contextlib import AbstractContextManager, nullcontext
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
    EligibilityConfirmed,
    HoursDelivered,
    ProviderStatementIssued,
    ServiceLine,
    ServiceType,
)
from cerniera.shared.messaging.consumer import distinct_stretches
from cerniera.shared.persistence.outbox import UnitOfWork

log = structlog.get_logger(__name__)

Cause = Callable[[int], AbstractContextManager[object]]
"""``cause(i)``: the run's ``i``-th event marked as the cause of what follows from it."""


def _no_cause(_: int) -> AbstractContextManager[object]:
    """One decision alone: its caller already marks its cause."""
    return nullcontext()


def _plan(
    version: int, services: Sequence[ServiceLine], effective_from: date | None = None
) -> domain.Plan:
    return domain.Plan(
        plan_version=version,
        weekly_quantities={s.service_type.value: s.weekly_quantity for s in services},
        effective_from=effective_from,
    )


def _keys(data: EligibilityConfirmed) -> list[Hashable]:
    """What a confirmation changes that a later one in its run reads: its case, and which
    cases are its person's (a confirmation may link a case to its person: saved with an
    earlier one of the same person, that case's hours would count toward the SAD cap of the
    earlier one's waiting lines, where one by one they do not yet)."""
    keys: list[Hashable] = [("case", data.case_id)]
    if data.person_ref is not None:
        keys.append(("person", data.person_ref))
    return keys


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

    async def confirm(self, uow: UnitOfWork, data: EligibilityConfirmed, chain_id: str) -> None:
        """The case of ``data.person_ref`` is eligible in ``data.ambito_id`` with its plan (in
        force from the start): its waiting lines are priced now."""
        await self.confirm_run(uow, [(data, chain_id)], _no_cause)

    async def confirm_run(
        self,
        uow: UnitOfWork,
        decisions: Sequence[tuple[EligibilityConfirmed, str]],
        cause: Cause,
    ) -> None:
        """``confirm`` for a run of decisions (each with its chain id), in a few statements for
        the whole run: the plans saved in one, the cases in one, their duplicates given the
        district in one, their waiting lines read in one; then those (rare) lines priced one
        by one, in the run's order. ``cause(i)`` marks the run's ``i``-th event as the cause
        of what follows from it."""
        for data, _ in decisions:
            domain.district(self.config, data.ambito_id)  # refused when unknown, not stored
        await store.lock_pricing(uow.conn)
        for stretch in distinct_stretches([_keys(data) for data, _ in decisions]):
            await self._confirm_distinct(uow, [(i, *decisions[i]) for i in stretch], cause)

    async def _confirm_distinct(
        self,
        uow: UnitOfWork,
        decisions: Sequence[tuple[int, EligibilityConfirmed, str]],
        cause: Cause,
    ) -> None:
        """Confirm distinct cases (each with its place in the run, and its chain id)."""
        await store.save_plans(
            uow.conn, [(d.case_id, _plan(d.plan_version, d.services)) for _, d, _ in decisions]
        )
        confirmed = domain.CaseStatus.CONFIRMED
        decided = await store.save_decisions(
            uow.conn,
            [
                domain.Case(
                    d.case_id,
                    confirmed,
                    ambito_id=d.ambito_id,
                    correlation_id=chain_id,
                    # An older event without the person leaves the one already known in place.
                    person_ref=d.person_ref,
                )
                for _, d, chain_id in decisions
            ],
        )
        await store.assign_ambiti(uow.conn, {d.case_id: d.ambito_id for _, d, _ in decisions})
        waiting = await store.pending_of_each(uow.conn, [d.case_id for _, d, _ in decisions])
        priced = await store.with_plans(uow.conn, [decided[case_id] for case_id in waiting])
        for i, data, _ in decisions:
            with cause(i):
                for line in waiting.get(data.case_id, []):
                    await self._price(uow, line, priced[data.case_id])

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

    async def reject(self, uow: UnitOfWork, case_id: str, chain_id: str) -> None:
        """The case is not eligible: its waiting lines are refused."""
        await self.reject_run(uow, [(case_id, chain_id)], _no_cause)

    async def reject_run(
        self, uow: UnitOfWork, decisions: Sequence[tuple[str, str]], cause: Cause
    ) -> None:
        """``reject`` for a run of decisions (case id and chain id): the cases saved in one
        statement, their waiting lines read in one, then refused one by one. A case rejected
        twice needs no second pass: its row ends with the last decision's chain, its lines
        were refused by the first (nothing else follows from a rejection)."""
        first: dict[str, int] = {}
        last: dict[str, str] = {}
        for i, (case_id, chain_id) in enumerate(decisions):
            first.setdefault(case_id, i)
            last[case_id] = chain_id
        await store.lock_pricing(uow.conn)
        rejected = domain.CaseStatus.REJECTED
        await store.save_decisions(
            uow.conn, [domain.Case(c, rejected, correlation_id=last[c]) for c in first]
        )
        waiting = await store.pending_of_each(uow.conn, list(first))
        for case_id, i in first.items():
            with cause(i):
                for line in waiting.get(case_id, []):
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
