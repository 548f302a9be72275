"""Billing's HTTP API: monthly statements per provider, issuing them, and the districts' budgets.

Thin: every figure comes from ``store`` (what was priced) and ``domain`` (how lines and totals
are read); nothing is priced here. Money is a decimal string in euros ("22.00"), as in the
event contract.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Final

from fastapi import FastAPI, HTTPException, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Row, select

from cerniera.billing import domain, store
from cerniera.billing.config import Ambito, BillingConfig
from cerniera.shared.contract import Money, ProviderStatementIssued, Reason, ServiceType
from cerniera.shared.runtime import ServiceRuntime

PERIOD_PATTERN: Final = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
CSV_DELIMITER: Final = ";"
CSV_COLUMNS: Final = (
    "ambito_id",
    "case_id",
    "delivery_ref",
    "service_type",
    "delivered_on",
    "evening",
    "holiday",
    "quantity",
    "unit_tariff",
    "surcharge_percent",
    "amount",
    "funding_source",
    "status",
    "reason_code",
    "reason",
)

PeriodPath = Annotated[
    str, Path(pattern=PERIOD_PATTERN, description="The month, YYYY-MM.", examples=["2026-12"])
]
ProviderPath = Annotated[
    str, Path(description="The provider (ente gestore).", examples=["coop-il-melograno"])
]
AmbitoQuery = Annotated[
    str | None,
    Query(description="Only this district (Ambito territoriale sociale).", examples=["desio"]),
]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class StatementLine(_Out):
    """One line of a statement: a delivery, or the part of one with a single status (a line
    crossing the SAD cap or a budget's end is split; so is one paid from two sources)."""

    ambito_id: str | None = Field(description="The paying district; null while pending.")
    case_id: str = Field(description="The case (beneficiary) served.")
    delivery_ref: str = Field(description="The provider's id for the delivery.")
    service_type: ServiceType = Field(description="The service delivered.")
    delivered_on: date = Field(description="Day of delivery.")
    evening: bool = Field(description="Reported as delivered in the evening.")
    holiday: bool = Field(description="A Sunday or an Italian public holiday.")
    quantity: Decimal = Field(
        description="Hours (SAD), meals, or days (teleassistance) of this line; a split of a "
        "line across funding sources shares the quantity in proportion to the amounts."
    )
    unit_tariff: Money | None = Field(
        description="Euros per unit (the provider's tariff, else the district's); null when "
        "the provider has no tariff in the district."
    )
    surcharge_percent: Decimal = Field(
        description="Surcharge applied: evening or holiday SAD hours; 0 otherwise."
    )
    amount: Money = Field(
        description="What the line is worth at tariff, surcharge included, rounded to the cent "
        "(half-up). Only billed lines are paid."
    )
    funding_source: str | None = Field(description="The budget paying a billed line.")
    status: domain.LineStatus = Field(
        description="billed (paid), refused (not paid, see reason), duplicate (a delivery_ref "
        "already received), pending (the case's eligibility has not reached billing yet)."
    )
    reason: Reason | None = Field(
        description="Why a line is refused, duplicate or pending: a machine code "
        "(provider.not_in_district, sad.cap_exceeded, case.closed, budget.exhausted, ...) "
        "and text."
    )


class ServiceTotal(_Out):
    """A statement's totals for one service."""

    service_type: ServiceType = Field(description="The service.")
    billed_quantity: Decimal = Field(description="Units billed.")
    billed_amount: Money = Field(description="Euros billed.")
    refused_quantity: Decimal = Field(description="Units refused.")
    refused_amount: Money = Field(description="Worth of the units refused, not paid.")
    lines: int = Field(description="Lines of this service, whatever their status.")


class IssuedStatement(_Out):
    """A statement as issued: what ProviderStatementIssued announced."""

    provider_id: str = Field(description="The provider.")
    ambito_id: str = Field(description="The paying district.")
    period: str = Field(description="The month, YYYY-MM.")
    total: Money = Field(description="Total due when issued, in euros.")
    lines: int = Field(description="Deliveries billed when issued.")
    issued_at: datetime = Field(description="When it was issued.")
    event_id: str = Field(description="The ce_id of the ProviderStatementIssued event.")
    already_issued: bool = Field(
        default=False,
        description="True when this request found the statement already issued: nothing "
        "was published again.",
    )


class Statement(_Out):
    """A provider's monthly statement, as priced so far."""

    provider_id: str = Field(description="The provider.")
    period: str = Field(description="The month, YYYY-MM (by day of delivery).")
    ambito_id: str | None = Field(description="The district, or null for all of them.")
    lines: list[StatementLine] = Field(description="Every line, in the order received.")
    totals: list[ServiceTotal] = Field(description="Totals per service.")
    total: Money = Field(description="Total billed, in euros.")
    refused_amount: Money = Field(description="Worth of the lines refused, in euros.")
    issued: list[IssuedStatement] = Field(
        description="The statements already issued for this month (one per district). Lines "
        "priced after issuing appear above but not in the issued total."
    )


class ThresholdReached(_Out):
    threshold_percent: int = Field(description="Share of the budget crossed.")
    spent: Money = Field(description="Spent when it was crossed, in euros.")
    reached_at: datetime = Field(description="When it was crossed.")


class FundingBudget(_Out):
    """One funding source of a district (a project, in PNRR reporting)."""

    funding_source: str = Field(description="Its id, e.g. pnrr-m5c2-1.1.3.")
    name: str = Field(description="Its name.")
    amount: Money = Field(description="The budget, in euros.")
    spent: Money = Field(description="Billed to it so far, in euros.")
    remaining: Money = Field(description="Still available, in euros.")
    percent_spent: Decimal = Field(description="Spent as a percentage of the budget.")
    thresholds_reached: list[ThresholdReached] = Field(
        description="Thresholds crossed (BudgetThresholdReached published once each)."
    )
    beneficiaries: int = Field(description="Distinct cases with at least one line paid by it.")


class DistrictBudget(_Out):
    """A district's budget: its funding sources, spent in order."""

    ambito_id: str = Field(description="The district.")
    name: str = Field(description="Its name.")
    amount: Money = Field(description="All sources together, in euros.")
    spent: Money = Field(description="Billed so far, in euros.")
    remaining: Money = Field(description="Still available, in euros.")
    percent_spent: Decimal = Field(description="Spent as a percentage of the total.")
    beneficiaries: int = Field(
        description="Distinct cases with at least one billed line (what PNRR reporting, "
        "ReGiS, counts)."
    )
    unfunded_amount: Money = Field(
        description="Delivered within the rules but beyond every source (budget.exhausted): "
        "owed by nobody yet, for the district to decide."
    )
    unfunded_lines: int = Field(description="Deliveries with an unfunded part.")
    funding: list[FundingBudget] = Field(description="Per source, in spending order.")


class Health(_Out):
    status: str = Field(description='"ok" when the database answers.')
    service: str = Field(description="The service name.")


def make_app(runtime: ServiceRuntime, config: BillingConfig) -> FastAPI:
    app = FastAPI(
        title="Cerniera billing",
        version="1.0",
        description=(
            "Providers (enti gestori) paid by tariff, within the 80-hour SAD cap per "
            "beneficiary and each district's budget per funding source; monthly statements "
            "and the spending report. Amounts are decimal strings in euros."
        ),
    )
    db, clock = runtime.db, runtime.clock

    def district(ambito_id: str) -> Ambito:
        ambito = config.ambiti.get(ambito_id)
        if ambito is None:
            raise HTTPException(404, f"unknown district {ambito_id}")
        return ambito

    async def read_statement(provider_id: str, period: str, ambito_id: str | None) -> Statement:
        if ambito_id is not None:
            district(ambito_id)
        async with db.engine.connect() as conn:
            delivered = await store.statement(conn, provider_id, period, ambito_id)
            issued = await store.issued_in(conn, provider_id, period, ambito_id)
        return statement_of(provider_id, period, ambito_id, delivered, issued)

    @app.get(
        "/statements/{provider_id}/{period}.csv",
        response_class=Response,
        summary="A provider's monthly statement as CSV",
        description=(
            "The same lines as the JSON statement, one per row, after a header row. "
            "Semicolon-separated (what Italian spreadsheets and administrations expect), "
            'UTF-8, decimal point in amounts ("22.00").'
        ),
        responses={200: {"content": {"text/csv": {}}, "description": "The statement lines."}},
    )
    async def statement_csv(
        provider_id: ProviderPath, period: PeriodPath, ambito_id: AmbitoQuery = None
    ) -> Response:
        found = await read_statement(provider_id, period, ambito_id)
        return Response(
            content=to_csv(found.lines),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{provider_id}-{period}.csv"'},
        )

    @app.get(
        "/statements/{provider_id}/{period}",
        response_model=Statement,
        summary="A provider's monthly statement",
        description="Every line delivered in the month (by day of delivery), with its "
        "status, and the totals per service. Without ambito_id: every district's lines and "
        "those still pending.",
    )
    async def get_statement(
        provider_id: ProviderPath, period: PeriodPath, ambito_id: AmbitoQuery = None
    ) -> Statement:
        return await read_statement(provider_id, period, ambito_id)

    @app.post(
        "/statements/{provider_id}/{period}/issue",
        response_model=IssuedStatement,
        status_code=201,
        summary="Issue a provider's monthly statement",
        description=(
            "Publishes ProviderStatementIssued once per provider, district and month, for a "
            "month that is over. 201 when issued now; 200 with already_issued=true and the "
            "statement as first issued when it already was (no second event). ambito_id may "
            "be omitted for a provider registered in one district only."
        ),
        responses={
            200: {"model": IssuedStatement, "description": "Already issued: nothing published."},
            404: {"description": "Unknown district, or provider not registered in it."},
            409: {"description": "The month is not over yet."},
            422: {"description": "The provider serves several districts: give ambito_id."},
        },
    )
    async def issue_statement(
        provider_id: ProviderPath,
        period: PeriodPath,
        response: Response,
        ambito_id: AmbitoQuery = None,
    ) -> IssuedStatement:
        ambito = paying_district(config, provider_id, ambito_id)
        if period >= domain.period_of(clock.today()):
            raise HTTPException(409, f"{period} is not over yet (today is {clock.today()})")
        async with db.unit_of_work() as uow:
            # Under the pricing lock: the total is a consistent snapshot, issued once.
            await store.lock_pricing(uow.conn)
            existing = await store.issued(uow.conn, provider_id, ambito.id, period)
            if existing is not None:
                response.status_code = 200
                return issued_of(existing, already=True)
            delivered = await store.statement(uow.conn, provider_id, period, ambito.id)
            total = sum((d.billing.billed_amount for d in delivered), domain.ZERO)
            lines = sum(1 for d in delivered if d.billing.status is domain.LineStatus.BILLED)
            now = clock.now()
            event = uow.emit(
                ProviderStatementIssued(
                    provider_id=provider_id,
                    ambito_id=ambito.id,
                    period=period,
                    total=total,
                    lines=lines,
                    issued_at=now,
                ),
                subject=ambito.id,
            )
            await store.issue(uow.conn, provider_id, ambito.id, period, total, lines, now, event.id)
            row = await store.issued(uow.conn, provider_id, ambito.id, period)
        assert row is not None
        return issued_of(row, already=False)

    @app.get(
        "/budget",
        response_model=list[DistrictBudget],
        summary="Budgets and spending per district and funding source",
        description="Amount, spent, remaining and thresholds reached per funding source, "
        "and the beneficiaries counted (distinct cases with a billed line), for PNRR "
        "reporting (ReGiS).",
    )
    async def get_budget(ambito_id: AmbitoQuery = None) -> list[DistrictBudget]:
        chosen = [district(ambito_id)] if ambito_id else list(config.ambiti.values())
        async with db.engine.connect() as conn:
            return [budget_of(a, await store.budget(conn, a.id)) for a in chosen]

    @app.get("/health", response_model=Health, summary="Liveness and database reachability")
    async def health() -> Health:
        try:
            async with db.engine.connect() as conn:
                await conn.execute(select(1))
        except Exception as error:
            raise HTTPException(503, f"database unreachable: {error!r}") from error
        return Health(status="ok", service=runtime.spec.name)

    return app


# --- presentation, pure ------------------------------------------------------------------------


def paying_district(config: BillingConfig, provider_id: str, ambito_id: str | None) -> Ambito:
    if ambito_id is not None:
        ambito = config.ambiti.get(ambito_id)
        if ambito is None or ambito.provider(provider_id) is None:
            raise HTTPException(404, f"provider {provider_id} is not registered in {ambito_id}")
        return ambito
    serving = config.districts_of(provider_id)
    if not serving:
        raise HTTPException(404, f"provider {provider_id} is in no district's registry")
    if len(serving) > 1:
        raise HTTPException(
            422,
            f"provider {provider_id} serves {', '.join(a.id for a in serving)}: give ambito_id",
        )
    return serving[0]


def lines_of(delivered: Iterable[store.StoredDelivery]) -> list[StatementLine]:
    out = []
    for d in delivered:
        row = d.row
        for portion in d.billing.portions():
            out.append(
                StatementLine(
                    ambito_id=row.ambito_id,
                    case_id=row.case_id,
                    delivery_ref=row.delivery_ref,
                    service_type=ServiceType(row.service_type),
                    delivered_on=row.delivered_on,
                    evening=row.evening,
                    holiday=domain.is_holiday(row.delivered_on),
                    quantity=portion.quantity,
                    unit_tariff=d.billing.unit_tariff,
                    surcharge_percent=d.billing.surcharge_percent,
                    amount=portion.amount,
                    funding_source=portion.funding_source,
                    status=portion.status,
                    reason=portion.reason,
                )
            )
    return out


def statement_of(
    provider_id: str,
    period: str,
    ambito_id: str | None,
    delivered: Sequence[store.StoredDelivery],
    issued: Sequence[Row[Any]],
) -> Statement:
    lines = lines_of(delivered)
    sums = domain.totals(
        (ServiceType(d.row.service_type), portion)
        for d in delivered
        for portion in d.billing.portions()
    )
    return Statement(
        provider_id=provider_id,
        period=period,
        ambito_id=ambito_id,
        lines=lines,
        totals=[
            ServiceTotal(
                service_type=service,
                billed_quantity=t.billed_quantity,
                billed_amount=t.billed_amount,
                refused_quantity=t.refused_quantity,
                refused_amount=t.refused_amount,
                lines=t.lines,
            )
            for service, t in sums.items()
        ],
        total=sum((t.billed_amount for t in sums.values()), domain.ZERO),
        refused_amount=sum((t.refused_amount for t in sums.values()), domain.ZERO),
        issued=[issued_of(row, already=False) for row in issued],
    )


def issued_of(row: Row[Any], *, already: bool) -> IssuedStatement:
    return IssuedStatement(
        provider_id=row.provider_id,
        ambito_id=row.ambito_id,
        period=row.period,
        total=row.total,
        lines=row.lines,
        issued_at=row.issued_at,
        event_id=row.event_id,
        already_issued=already,
    )


def budget_of(ambito: Ambito, figures: store.BudgetFigures) -> DistrictBudget:
    funding = []
    for source in ambito.funding:
        spent = figures.spent.get(source.id, domain.ZERO)
        funding.append(
            FundingBudget(
                funding_source=source.id,
                name=source.name,
                amount=source.amount,
                spent=spent,
                remaining=source.amount - spent,
                percent_spent=domain.percent_spent(spent, source.amount),
                thresholds_reached=[
                    ThresholdReached(
                        threshold_percent=t.threshold_percent,
                        spent=t.spent,
                        reached_at=t.reached_at,
                    )
                    for t in figures.thresholds.get(source.id, [])
                ],
                beneficiaries=figures.beneficiaries_by_source.get(source.id, 0),
            )
        )
    amount = sum((s.amount for s in ambito.funding), domain.ZERO)
    spent = sum((f.spent for f in funding), domain.ZERO)
    return DistrictBudget(
        ambito_id=ambito.id,
        name=ambito.name,
        amount=amount,
        spent=spent,
        remaining=amount - spent,
        percent_spent=domain.percent_spent(spent, amount),
        beneficiaries=figures.beneficiaries,
        unfunded_amount=figures.unfunded_amount,
        unfunded_lines=figures.unfunded_lines,
        funding=funding,
    )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def to_csv(lines: Iterable[StatementLine]) -> str:
    """Semicolon-separated, a header row, amounts and quantities with two decimals and a
    decimal point ("22.00"); CRLF line ends (RFC 4180)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in lines:
        values: dict[str, Any] = {
            **line.model_dump(exclude={"reason"}),
            "reason_code": line.reason.code if line.reason else None,
            "reason": line.reason.text if line.reason else None,
        }
        writer.writerow([_text(values[column]) for column in CSV_COLUMNS])
    return buffer.getvalue()
