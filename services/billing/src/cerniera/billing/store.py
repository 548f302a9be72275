"""Billing's reads and writes (SQLAlchemy Core): rows to ``domain`` entities and back, and
the queries behind the statements and budgets. SQL only: ``cases`` decides.

Pricing reads shared state (what each funding source has spent, the SAD hours a case has
used) and then writes to it, so every transaction that prices takes one advisory lock first:
two replicas, or the consumer and an operator issuing a statement, never interleave. Billing's
volume (a few thousand lines a month per district) makes one lock cheap.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Row,
    Select,
    Text,
    and_,
    any_,
    bindparam,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import TableValuedAlias
from sqlalchemy.types import TypeEngine

from cerniera.billing import domain, reports
from cerniera.billing.tables import (
    allocations,
    authorisations,
    cases,
    deliveries,
    plans,
    statements_issued,
)
from cerniera.billing.tables import thresholds_reached as thresholds
from cerniera.shared.clock import italian_date
from cerniera.shared.contract import HoursDelivered, Reason, ServiceType
from cerniera.shared.persistence.rows import entity, row_of

PRICING_LOCK = "cerniera.billing.pricing"


async def lock_pricing(conn: AsyncConnection) -> None:
    """Held until the transaction ends."""
    await conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(PRICING_LOCK))))


# --- cases -----------------------------------------------------------------------------------


async def _case(conn: AsyncConnection, row: Row[Any]) -> domain.Case:
    return (await with_plans(conn, [_bare_case(row)]))[row.case_id]


def _bare_case(row: Row[Any]) -> domain.Case:
    """The case of ``row`` without its plans (``with_plans`` reads them)."""
    return entity(domain.Case, row, status=domain.CaseStatus(row.status))


async def with_plans(conn: AsyncConnection, found: Sequence[domain.Case]) -> dict[str, domain.Case]:
    """The cases with every version of their plans, read in one statement; by case id."""
    versions: dict[str, list[domain.Plan]] = {c.case_id: [] for c in found}
    if versions:
        for p in await conn.execute(_PLANS_OF, {"case_ids": list(versions)}):
            versions[p.case_id].append(
                domain.Plan(
                    plan_version=p.plan_version,
                    weekly_quantities={s: Decimal(q) for s, q in p.weekly_quantities.items()},
                    effective_from=p.effective_from,
                )
            )
    return {c.case_id: replace(c, plans=tuple(versions[c.case_id])) for c in found}


async def case(conn: AsyncConnection, case_id: str) -> domain.Case | None:
    row = (await conn.execute(select(cases).where(cases.c.case_id == case_id))).one_or_none()
    return await _case(conn, row) if row is not None else None


async def save_case(conn: AsyncConnection, case_id: str, **values: Any) -> domain.Case:
    """Insert (status ``unknown`` unless given) or update the case with ``values``; return it
    as it is now."""
    row = {"status": domain.CaseStatus.UNKNOWN.value, **values}
    stmt = insert(cases).values(case_id=case_id, **row)
    stmt = stmt.on_conflict_do_update(
        index_elements=[cases.c.case_id], set_={**values, "updated_at": func.now()}
    )
    return await _case(conn, (await conn.execute(stmt.returning(*cases.c))).one())


async def save_decisions(
    conn: AsyncConnection, decided: Sequence[domain.Case]
) -> dict[str, domain.Case]:
    """Each case's eligibility decision (distinct cases), in one statement: inserted or
    updated with its status and chain, and with its district and person where the decision
    gives them (``None`` leaves the one already known). The cases as they are now, by id,
    without their plans: ``with_plans`` reads them for the few that need them."""
    if not decided:
        return {}
    rows = await conn.execute(
        _DECIDE,
        {
            "case_id_values": [c.case_id for c in decided],
            "status_values": [c.status.value for c in decided],
            "ambito_id_values": [c.ambito_id for c in decided],
            "correlation_id_values": [c.correlation_id for c in decided],
            "person_ref_values": [c.person_ref for c in decided],
        },
    )
    return {row.case_id: _bare_case(row) for row in rows}


async def save_plan(conn: AsyncConnection, case_id: str, plan: domain.Plan) -> None:
    """Insert or replace the case's plan of that version."""
    await save_plans(conn, [(case_id, plan)])


async def save_plans(conn: AsyncConnection, new: Sequence[tuple[str, domain.Plan]]) -> None:
    """``save_plan`` for many (case, version) pairs, each once, in one statement."""
    if new:
        await conn.execute(
            _SAVE_PLANS,
            {
                "case_id_values": [case_id for case_id, _ in new],
                "plan_version_values": [p.plan_version for _, p in new],
                "effective_from_values": [p.effective_from for _, p in new],
                "weekly_quantities_values": [
                    {s: str(q) for s, q in p.weekly_quantities.items()} for _, p in new
                ],
            },
        )


# The statements run for a whole run of decisions take their rows as arrays (``unnest``):
# built once, their SQL is compiled once, and a run costs no per-row work in SQLAlchemy.


def _unnest(name: str, **columns: type[TypeEngine[Any]]) -> TableValuedAlias:
    """``unnest(:case_id_values, :status_values, ...) AS name(case_id, status, ...)``: one
    row per position of the arrays (``_values`` tells them from the columns' own parameters)."""
    arrays = (bindparam(f"{column}_values", type_=ARRAY(t)) for column, t in columns.items())
    return func.unnest(*arrays).table_valued(*columns).render_derived(name=name)


_ids = bindparam("case_ids", type_=ARRAY(Text))
_PLANS_OF = select(plans).where(plans.c.case_id == any_(_ids)).order_by(plans.c.plan_version)

_plan_rows = _unnest(
    "new_plans",
    case_id=Text,
    plan_version=Integer,
    effective_from=Date,
    weekly_quantities=JSONB,
)
_insert_plans = insert(plans).from_select(
    ["case_id", "plan_version", "effective_from", "weekly_quantities"],
    select(*_plan_rows.c),
)
_SAVE_PLANS = _insert_plans.on_conflict_do_update(
    index_elements=[plans.c.case_id, plans.c.plan_version],
    set_={
        "effective_from": _insert_plans.excluded.effective_from,
        "weekly_quantities": _insert_plans.excluded.weekly_quantities,
        "updated_at": func.now(),
    },
)

_decisions = _unnest(
    "decisions", case_id=Text, status=Text, ambito_id=Text, correlation_id=Text, person_ref=Text
)
_insert_decisions = insert(cases).from_select(
    ["case_id", "status", "ambito_id", "correlation_id", "person_ref"], select(*_decisions.c)
)
_DECIDE = _insert_decisions.on_conflict_do_update(
    index_elements=[cases.c.case_id],
    set_={
        "status": _insert_decisions.excluded.status,
        "correlation_id": _insert_decisions.excluded.correlation_id,
        "ambito_id": func.coalesce(_insert_decisions.excluded.ambito_id, cases.c.ambito_id),
        "person_ref": func.coalesce(_insert_decisions.excluded.person_ref, cases.c.person_ref),
        "updated_at": func.now(),
    },
).returning(*cases.c)


# --- authorisations --------------------------------------------------------------------------


async def save_authorisation(
    conn: AsyncConnection,
    request_id: str,
    *,
    case_id: str,
    provider_id: str,
    service_type: ServiceType,
    **values: Any,
) -> None:
    """Insert or update the request's authorisation with ``values`` (active_from, until)."""
    key = {"case_id": case_id, "provider_id": provider_id, "service_type": service_type.value}
    stmt = insert(authorisations).values(request_id=request_id, **key, **values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[authorisations.c.request_id], set_={**values, "updated_at": func.now()}
    )
    await conn.execute(stmt)


async def grant_of(conn: AsyncConnection, case: domain.Case, line: domain.Line) -> domain.Grant:
    """What authorises the line's provider and service for the case: the package's weekly
    quantity, the activations, and the quantities already counted (of other lines)."""
    provider, service = line.delivery.provider_id, line.delivery.service_type
    found = await conn.execute(
        select(authorisations)
        .where(
            authorisations.c.case_id == line.case_id,
            authorisations.c.provider_id == provider,
            authorisations.c.service_type == service.value,
        )
        .order_by(authorisations.c.request_id)
    )
    counted = await conn.execute(
        select(deliveries.c.delivered_on, deliveries.c.counted_quantity).where(
            deliveries.c.case_id == line.case_id,
            deliveries.c.provider_id == provider,
            deliveries.c.service_type == service.value,
            deliveries.c.counted_quantity > 0,
            deliveries.c.id != line.id,
        )
    )
    return domain.Grant(
        weekly_quantity=case.weekly_quantity(service, line.delivery.delivered_on),
        authorisations=tuple(entity(domain.Authorisation, row) for row in found),
        counted=tuple((day, Decimal(q)) for day, q in counted.all()),
    )


# --- deliveries ------------------------------------------------------------------------------


def _billing_values(billing: domain.Billing) -> dict[str, Any]:
    return {
        "status": billing.status.value,
        "reasons": [r.model_dump(mode="json") for r in billing.reasons],
        "unit_tariff": billing.unit_tariff,
        "surcharge_percent": billing.surcharge_percent,
        "priced_quantity": billing.priced_quantity,
        "amount": billing.amount,
        "billed_amount": billing.billed_amount,
        "unfunded_amount": billing.unfunded_amount,
        "unfunded_quantity": billing.unfunded_quantity,
        "over_cap_quantity": billing.over_cap_quantity,
        "over_cap_amount": billing.over_cap_amount,
        "counted_quantity": billing.counted_quantity,
    }


async def receive(
    conn: AsyncConnection,
    data: HoursDelivered,
    *,
    event_source: str,
    event_id: str,
    correlation_id: str,
    first: domain.Billing,
    repeat: domain.Billing,
    ambito_id: str | None,
) -> tuple[domain.Line, bool]:
    """Store a delivery with the outcome ``first``; ``(line, False)`` when its
    ``delivery_ref`` was already received from this provider: the line is then stored with
    the outcome ``repeat``, on the statement of the case's district, ``ambito_id``, if known."""
    values = {
        "provider_id": data.provider_id,
        "delivery_ref": data.delivery_ref,
        "case_id": data.case_id,
        "service_type": data.service_type.value,
        "delivered_on": data.delivered_on,
        "quantity": data.quantity,
        "evening": data.evening,
        "cap_hours": domain.ZERO,
        "event_source": event_source,
        "event_id": event_id,
        "correlation_id": correlation_id,
        **_billing_values(first),
    }
    stored = (
        await conn.execute(
            insert(deliveries)
            .values(values)
            .on_conflict_do_nothing(
                index_elements=[deliveries.c.provider_id, deliveries.c.delivery_ref],
                # A literal, not a parameter: PostgreSQL must match the partial index.
                index_where=text("status <> 'duplicate'"),
            )
            .returning(*deliveries.c)
        )
    ).one_or_none()
    if stored is not None:
        return _line(stored, []), True
    again = {**values, **_billing_values(repeat), "ambito_id": ambito_id}
    row = (await conn.execute(insert(deliveries).values(again).returning(*deliveries.c))).one()
    return _line(row, []), False


async def deliveries_of(
    conn: AsyncConnection, case_id: str, statuses: Sequence[domain.LineStatus]
) -> list[domain.Line]:
    """The case's deliveries in these statuses, in the order they were received."""
    return await _lines(
        conn,
        select(deliveries)
        .where(deliveries.c.case_id == case_id)
        .where(deliveries.c.status.in_([s.value for s in statuses])),
    )


async def pending_of_each(
    conn: AsyncConnection, case_ids: Sequence[str]
) -> dict[str, list[domain.Line]]:
    """``deliveries_of`` pending for many cases, in one statement: by case id (only the cases
    that have some), each case's in the order they were received."""
    found: dict[str, list[domain.Line]] = {}
    if case_ids:
        rows = list((await conn.execute(_PENDING_OF_EACH, {"case_ids": list(case_ids)})).all())
        for line in await _with_shares(conn, rows):
            found.setdefault(line.case_id, []).append(line)
    return found


async def assign_ambiti(conn: AsyncConnection, ambiti: Mapping[str, str]) -> None:
    """Duplicates received before their case's district was known are now its: the district of
    each case of ``ambiti`` (case id to district), in one statement."""
    if ambiti:
        await conn.execute(
            _ASSIGN, {"case_id_values": list(ambiti), "ambito_id_values": list(ambiti.values())}
        )


_PENDING_OF_EACH = (
    select(deliveries)
    .where(deliveries.c.case_id == any_(_ids))
    .where(deliveries.c.status == domain.LineStatus.PENDING.value)
    .order_by(deliveries.c.id)
)
_assigned = _unnest("assigned", case_id=Text, ambito_id=Text)
_ASSIGN = (
    update(deliveries)
    .where(deliveries.c.case_id == _assigned.c.case_id, deliveries.c.ambito_id.is_(None))
    .where(deliveries.c.status == domain.LineStatus.DUPLICATE.value)
    .values(ambito_id=_assigned.c.ambito_id)
)


async def sad_hours_used(conn: AsyncConnection, case: domain.Case) -> Decimal:
    """The SAD hours counted toward the cap of the case's person: of all their cases, whatever
    the visit, hospital or district; of the case alone when its person is not known."""
    whose = (
        deliveries.c.case_id.in_(
            select(cases.c.case_id).where(cases.c.person_ref == case.person_ref)
        )
        if case.person_ref is not None
        else deliveries.c.case_id == case.case_id
    )
    used = await conn.scalar(
        select(func.coalesce(func.sum(deliveries.c.cap_hours), 0)).where(whose)
    )
    return Decimal(used or 0)


async def spent(conn: AsyncConnection, ambito_id: str) -> dict[str, Decimal]:
    rows = await conn.execute(
        select(allocations.c.funding_source, func.sum(allocations.c.amount))
        .where(allocations.c.ambito_id == ambito_id)
        .group_by(allocations.c.funding_source)
    )
    return {source: Decimal(total) for source, total in rows.all()}


async def unprice(conn: AsyncConnection, delivery_id: int) -> None:
    """Undo a delivery's pricing: its budget shares, its hours under the cap and its quantity
    counted against the week's authorisation are freed."""
    await conn.execute(delete(allocations).where(allocations.c.delivery_id == delivery_id))
    await conn.execute(
        update(deliveries)
        .where(deliveries.c.id == delivery_id)
        .values(cap_hours=domain.ZERO, counted_quantity=domain.ZERO)
    )


async def save_billing(
    conn: AsyncConnection,
    line: domain.Line,
    ambito_id: str | None,
    billing: domain.Billing,
    now: datetime,
) -> None:
    """The line's new outcome, and its shares of the district's funding sources."""
    await conn.execute(
        update(deliveries)
        .where(deliveries.c.id == line.id)
        .values(
            ambito_id=ambito_id,
            cap_hours=billing.cap_hours(line.delivery.service_type),
            priced_at=now,
            **_billing_values(billing),
        )
    )
    if billing.allocations and ambito_id is not None:
        await conn.execute(
            insert(allocations),
            [
                {
                    "delivery_id": line.id,
                    "ambito_id": ambito_id,
                    "funding_source": a.funding_source,
                    "amount": a.amount,
                    "quantity": a.quantity,
                }
                for a in billing.allocations
            ],
        )


async def reach_threshold(
    conn: AsyncConnection,
    ambito_id: str,
    crossed: domain.ThresholdCrossed,
    delivery_id: int,
    now: datetime,
) -> bool:
    """Record the threshold as reached; False if it already was (never announced twice)."""
    inserted = await conn.scalar(
        insert(thresholds)
        .values(
            row_of(
                thresholds, crossed, ambito_id=ambito_id, reached_at=now, delivery_id=delivery_id
            )
        )
        .on_conflict_do_nothing()
        .returning(thresholds.c.threshold_percent)
    )
    return inserted is not None


def _line(row: Row[Any], shares: Sequence[Row[Any]]) -> domain.Line:
    """A stored delivery, with its budget ``shares``, back as the domain's line."""
    return domain.Line(
        id=row.id,
        case_id=row.case_id,
        delivery_ref=row.delivery_ref,
        ambito_id=row.ambito_id,
        correlation_id=row.correlation_id,
        delivery=domain.Delivery(
            provider_id=row.provider_id,
            service_type=ServiceType(row.service_type),
            delivered_on=row.delivered_on,
            quantity=row.quantity,
            evening=row.evening,
        ),
        billing=domain.Billing(
            status=domain.LineStatus(row.status),
            quantity=row.quantity,
            reasons=tuple(Reason.model_validate(r) for r in row.reasons),
            unit_tariff=row.unit_tariff,
            surcharge_percent=row.surcharge_percent,
            priced_quantity=row.priced_quantity,
            amount=row.amount,
            allocations=tuple(
                domain.Allocation(s.funding_source, s.amount, s.quantity) for s in shares
            ),
            unfunded_amount=row.unfunded_amount,
            unfunded_quantity=row.unfunded_quantity,
            over_cap_quantity=row.over_cap_quantity,
            over_cap_amount=row.over_cap_amount,
            counted_quantity=row.counted_quantity,
        ),
    )


async def _lines(conn: AsyncConnection, query: Select[Any]) -> list[domain.Line]:
    """The deliveries ``query`` selects, in the order received, with their budget shares."""
    return await _with_shares(
        conn, list((await conn.execute(query.order_by(deliveries.c.id))).all())
    )


async def _with_shares(conn: AsyncConnection, rows: Sequence[Row[Any]]) -> list[domain.Line]:
    """The deliveries of ``rows`` as lines, with their budget shares (read in one statement)."""
    shares: dict[int, list[Row[Any]]] = {}
    if rows:
        found = await conn.execute(
            select(allocations)
            .where(allocations.c.delivery_id.in_([r.id for r in rows]))
            .order_by(allocations.c.delivery_id)
        )
        for share in found:
            shares.setdefault(share.delivery_id, []).append(share)
    return [_line(r, shares.get(r.id, [])) for r in rows]


# --- statements ------------------------------------------------------------------------------


async def delivered_in(
    conn: AsyncConnection, provider_id: str, start: date, end: date, ambito_id: str | None
) -> list[domain.Line]:
    """The provider's deliveries from ``start`` until before ``end`` (by day of delivery), in
    the order received. Without a district: every district's, and the lines whose district is
    not known yet."""
    query = select(deliveries).where(
        deliveries.c.provider_id == provider_id,
        deliveries.c.delivered_on >= start,
        deliveries.c.delivered_on < end,
    )
    if ambito_id is not None:
        query = query.where(deliveries.c.ambito_id == ambito_id)
    return await _lines(conn, query)


def _issued(row: Row[Any]) -> domain.Issued:
    return entity(domain.Issued, row)


async def issued_in(
    conn: AsyncConnection, provider_id: str, period: str, ambito_id: str | None
) -> list[domain.Issued]:
    """The statements issued to the provider for the month (one per district)."""
    query = select(statements_issued).where(
        statements_issued.c.provider_id == provider_id, statements_issued.c.period == period
    )
    if ambito_id is not None:
        query = query.where(statements_issued.c.ambito_id == ambito_id)
    rows = await conn.execute(query.order_by(statements_issued.c.ambito_id))
    return [_issued(row) for row in rows]


async def issue(conn: AsyncConnection, issued: domain.Issued) -> domain.Issued:
    """Record the statement as issued (once: the table's key refuses a second); return it as
    stored."""
    row = (
        await conn.execute(
            insert(statements_issued).values(asdict(issued)).returning(*statements_issued.c)
        )
    ).one()
    return _issued(row)


# --- budgets ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetFigures:
    spent: dict[str, Decimal]
    beneficiaries_by_source: dict[str, int]
    beneficiaries: int
    unfunded_amount: Decimal
    unfunded_lines: int
    thresholds: dict[str, list[Row[Any]]]


# What a district pays: each share of a line, with the line and its case (for its person).
_PAID = allocations.join(deliveries, allocations.c.delivery_id == deliveries.c.id).join(
    cases, cases.c.case_id == deliveries.c.case_id, isouter=True
)
_PERSON = func.coalesce(cases.c.person_ref, deliveries.c.case_id)
"""Who a beneficiary is: the person, else (a case confirmed before contract 2.1) the case."""


async def budget(conn: AsyncConnection, ambito_id: str) -> BudgetFigures:
    joined = _PAID
    per_source = await conn.execute(
        select(
            allocations.c.funding_source,
            func.sum(allocations.c.amount),
            func.count(func.distinct(_PERSON)),
        )
        .select_from(joined)
        .where(allocations.c.ambito_id == ambito_id)
        .group_by(allocations.c.funding_source)
    )
    spent_by: dict[str, Decimal] = {}
    people_by: dict[str, int] = {}
    for source, total, people in per_source.all():
        spent_by[source] = Decimal(total)
        people_by[source] = int(people)
    beneficiaries = await conn.scalar(
        select(func.count(func.distinct(_PERSON)))
        .select_from(joined)
        .where(allocations.c.ambito_id == ambito_id)
    )
    unfunded = (
        await conn.execute(
            select(func.coalesce(func.sum(deliveries.c.unfunded_amount), 0), func.count()).where(
                and_(deliveries.c.ambito_id == ambito_id, deliveries.c.unfunded_amount > 0)
            )
        )
    ).one()
    reached: dict[str, list[Row[Any]]] = {}
    for row in await conn.execute(
        select(thresholds)
        .where(thresholds.c.ambito_id == ambito_id)
        .order_by(thresholds.c.threshold_percent)
    ):
        reached.setdefault(row.funding_source, []).append(row)
    return BudgetFigures(
        spent=spent_by,
        beneficiaries_by_source=people_by,
        beneficiaries=int(beneficiaries or 0),
        unfunded_amount=Decimal(unfunded[0]),
        unfunded_lines=int(unfunded[1]),
        thresholds=reached,
    )


# --- reports ---------------------------------------------------------------------------------

_YEAR = func.extract("year", deliveries.c.delivered_on)
_QUARTER = func.extract("quarter", deliveries.c.delivered_on)


def _paid_in(
    ambito_ids: Collection[str] | None, start: date | None, end: date | None
) -> list[ColumnElement[bool]]:
    """Shares of these districts (None: all) for lines delivered from ``start`` to ``end``
    (both included)."""
    where: list[ColumnElement[bool]] = []
    if ambito_ids is not None:
        where.append(allocations.c.ambito_id.in_(list(ambito_ids)))
    if start is not None:
        where.append(deliveries.c.delivered_on >= start)
    if end is not None:
        where.append(deliveries.c.delivered_on <= end)
    return where


async def spending(
    conn: AsyncConnection,
    ambito_ids: Collection[str] | None,
    start: date | None = None,
    end: date | None = None,
) -> list[reports.Spent]:
    """Paid per district, quarter (of the day of delivery) and funding source, with the
    persons it paid for."""
    rows = await conn.execute(
        select(
            allocations.c.ambito_id,
            _YEAR,
            _QUARTER,
            allocations.c.funding_source,
            func.sum(allocations.c.amount),
            func.count(func.distinct(_PERSON)),
        )
        .select_from(_PAID)
        .where(*_paid_in(ambito_ids, start, end))
        .group_by(allocations.c.ambito_id, _YEAR, _QUARTER, allocations.c.funding_source)
    )
    return [
        reports.Spent(ambito, reports.Quarter(int(y), int(q)), source, Decimal(total), people)
        for ambito, y, q, source, total, people in rows.all()
    ]


async def beneficiaries(conn: AsyncConnection, ambito_id: str, since: date | None) -> int:
    """Distinct persons with a billed line in the district (delivered from ``since``)."""
    query = (
        select(func.count(func.distinct(_PERSON)))
        .select_from(deliveries.join(cases, cases.c.case_id == deliveries.c.case_id, isouter=True))
        .where(
            deliveries.c.ambito_id == ambito_id,
            deliveries.c.status == domain.LineStatus.BILLED.value,
        )
    )
    if since is not None:
        query = query.where(deliveries.c.delivered_on >= since)
    return int(await conn.scalar(query) or 0)


async def served(
    conn: AsyncConnection,
    ambito_ids: Collection[str] | None,
    start: date | None = None,
    end: date | None = None,
) -> list[reports.Served]:
    """Paid per district, case, quarter and service, with the case's person, first day of
    service (its first activation, else its first billed line) and closure day."""
    rows = (
        await conn.execute(
            select(
                allocations.c.ambito_id,
                deliveries.c.case_id,
                cases.c.person_ref,
                cases.c.closed_at,
                _YEAR,
                _QUARTER,
                deliveries.c.service_type,
                func.sum(allocations.c.amount),
            )
            .select_from(_PAID)
            .where(*_paid_in(ambito_ids, start, end))
            .group_by(
                allocations.c.ambito_id,
                deliveries.c.case_id,
                cases.c.person_ref,
                cases.c.closed_at,
                _YEAR,
                _QUARTER,
                deliveries.c.service_type,
            )
        )
    ).all()
    ids = list({row.case_id for row in rows})
    activated = await conn.execute(
        select(authorisations.c.case_id, func.min(authorisations.c.active_from))
        .where(authorisations.c.case_id.in_(ids), authorisations.c.active_from.is_not(None))
        .group_by(authorisations.c.case_id)
    )
    first_billed = await conn.execute(
        select(deliveries.c.case_id, func.min(deliveries.c.delivered_on))
        .where(
            deliveries.c.case_id.in_(ids),
            deliveries.c.status == domain.LineStatus.BILLED.value,
        )
        .group_by(deliveries.c.case_id)
    )
    starts: dict[str, date] = {case_id: day for case_id, day in first_billed}
    starts.update({case_id: day for case_id, day in activated})  # the first activation wins
    return [
        reports.Served(
            ambito_id=ambito,
            case_id=case_id,
            person_ref=person_ref,
            quarter=reports.Quarter(int(y), int(q)),
            service_type=ServiceType(service),
            amount=Decimal(amount),
            start=starts[case_id],
            closed_on=italian_date(closed_at) if closed_at is not None else None,
        )
        for ambito, case_id, person_ref, closed_at, y, q, service, amount in rows
    ]
