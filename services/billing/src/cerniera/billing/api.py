"""Billing's HTTP API: monthly statements per provider, issuing them, the districts' budgets,
what a plan would cost before it is confirmed, the district's reports and the funder's export.

Routes only: ``cases`` reads and decides (nothing is priced here), ``views`` maps what it
returns to the response models of ``schemas``. Refusals are the shared error body
``{"detail": {"code", "message"}}``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import FastAPI, Response

from cerniera.billing import domain, reports, views
from cerniera.billing.cases import BillingCases
from cerniera.billing.config import BillingConfig
from cerniera.billing.schemas import (
    AmbitoQuery,
    BeneficiaryProgress,
    BudgetForecast,
    DateFrom,
    DateTo,
    DistrictBudget,
    DistrictSpending,
    ForecastRequest,
    FunderRow,
    IssuedStatement,
    PeriodPath,
    ProviderPath,
    Statement,
)
from cerniera.shared.access import Action, Principal, Role
from cerniera.shared.access.web import allow
from cerniera.shared.http import error_responses, service_app
from cerniera.shared.runtime import ServiceRuntime

UNKNOWN_DISTRICT = error_responses(e404="Unknown district (ambito.unknown).")
REPORT_ERRORS = error_responses(
    e404="Unknown district (ambito.unknown).",
    e422="'from' after 'to' (report.period_invalid).",
)


def districts_for(config: BillingConfig, who: Principal, ambito_id: str | None) -> list[str]:
    """The districts a report covers: the one asked (if the caller's), else every district of
    the caller (the auditor: all), in the configuration's order."""
    if ambito_id is not None:
        who.require_district(ambito_id)
        return [domain.district(config, ambito_id).id]
    visible = who.districts()
    return [a for a in config.ambiti if visible is None or a in visible]


def district_of(
    config: BillingConfig, who: Principal, provider_id: str, ambito_id: str | None
) -> str | None:
    """The district a district administrator reads or issues a provider's statement for: the
    one given, or the provider's only one (else ``statement.ambito_required``), and always one
    of theirs. Providers and the auditor are not scoped by district (``ambito_id`` as given:
    without one, every district's lines and those not yet attributed to one)."""
    if Role.DISTRICT_ADMIN not in who.roles or who.auditor or Role.PROVIDER in who.roles:
        return ambito_id
    paying = domain.paying_district(config, provider_id, ambito_id)
    who.require_district(paying.id)
    return paying.id


def create_app(runtime: ServiceRuntime, config: BillingConfig) -> FastAPI:
    app = service_app(
        runtime,
        title="Cerniera billing",
        version="1.0",
        description=(
            "Providers (enti gestori) paid by tariff, within the 80-hour SAD cap per "
            "beneficiary and each district's budget per funding source; monthly statements "
            "and the spending report. Amounts are decimal strings in euros."
        ),
    )
    cases = BillingCases(config, runtime.clock)

    async def read_statement(
        who: Principal, provider_id: str, period: str, ambito_id: str | None
    ) -> Statement:
        who.require_provider(provider_id)
        ambito_id = district_of(config, who, provider_id, ambito_id)
        async with runtime.engine.connect() as conn:
            found = await cases.statement(conn, provider_id, period, ambito_id)
        return views.statement_of(provider_id, period, ambito_id, found)

    @app.get(
        "/statements/{provider_id}/{period}.csv",
        response_class=Response,
        summary="A provider's monthly statement as CSV",
        description=(
            "The same lines as the JSON statement, one per row, after a header row. "
            "Semicolon-separated (what Italian spreadsheets and administrations expect), "
            'UTF-8, decimal point in amounts ("22.00").'
        ),
        responses={
            200: {"content": {"text/csv": {}}, "description": "The statement lines."},
            **UNKNOWN_DISTRICT,
        },
    )
    async def statement_csv(
        who: Annotated[Principal, allow(Action.STATEMENT_READ)],
        provider_id: ProviderPath,
        period: PeriodPath,
        ambito_id: AmbitoQuery = None,
    ) -> Response:
        found = await read_statement(who, provider_id, period, ambito_id)
        return Response(
            content=views.to_csv(found.lines),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": views.attachment(f"{provider_id}-{period}.csv")},
        )

    @app.get(
        "/statements/{provider_id}/{period}",
        response_model=Statement,
        summary="A provider's monthly statement",
        description="Every line delivered in the month (by day of delivery), with its "
        "status, and the totals per service. A provider reads its own statements only; a "
        "district administrator those of their district (ambito_id, or their only one); "
        "for a provider or the auditor, without ambito_id: every district's lines and those "
        "still pending.",
        responses=UNKNOWN_DISTRICT,
    )
    async def get_statement(
        who: Annotated[Principal, allow(Action.STATEMENT_READ)],
        provider_id: ProviderPath,
        period: PeriodPath,
        ambito_id: AmbitoQuery = None,
    ) -> Statement:
        return await read_statement(who, provider_id, period, ambito_id)

    @app.post(
        "/statements/{provider_id}/{period}/issue",
        response_model=IssuedStatement,
        status_code=201,
        summary="Issue a provider's monthly statement",
        description=(
            "Publishes ProviderStatementIssued once per provider, district and month, for a "
            "month that is over. 201 when issued now; 200 with already_issued=true and the "
            "statement as first issued when it already was (no second event). Only a "
            "district administrator, for their own district: ambito_id may be omitted when "
            "they administer one district."
        ),
        responses={
            200: {"model": IssuedStatement, "description": "Already issued: nothing published."},
            **error_responses(
                e404="Unknown district (ambito.unknown), provider in no district's registry "
                "(provider.unknown) or not in the one given (provider.not_in_district).",
                e409="The month is not over yet (period.not_over).",
                e422="The provider serves several districts: give ambito_id "
                "(statement.ambito_required).",
            ),
        },
    )
    async def issue_statement(
        who: Annotated[Principal, allow(Action.STATEMENT_ISSUE)],
        provider_id: ProviderPath,
        period: PeriodPath,
        response: Response,
        ambito_id: AmbitoQuery = None,
    ) -> IssuedStatement:
        ambito_id = district_of(config, who, provider_id, ambito_id)
        async with runtime.db.unit_of_work() as uow:
            outcome = await cases.issue_statement(uow, provider_id, period, ambito_id)
        if outcome.already:
            response.status_code = 200
        return views.issued_of(outcome.issued, already=outcome.already)

    @app.get(
        "/budget",
        response_model=list[DistrictBudget],
        summary="Budgets and spending per district and funding source",
        description="Amount, spent, remaining and thresholds reached per funding source, "
        "and the beneficiaries counted (distinct persons with a billed line), for PNRR "
        "reporting (ReGiS). A district administrator sees their own districts.",
        responses=UNKNOWN_DISTRICT,
    )
    async def get_budget(
        who: Annotated[Principal, allow(Action.BUDGET_READ)], ambito_id: AmbitoQuery = None
    ) -> list[DistrictBudget]:
        if ambito_id is not None:
            who.require_district(ambito_id)
        visible = who.districts()
        async with runtime.engine.connect() as conn:
            found = await cases.budgets(conn, ambito_id)
        return [
            views.budget_of(ambito, figures)
            for ambito, figures in found
            if visible is None or ambito.id in visible
        ]

    @app.post(
        "/budget/forecast",
        response_model=BudgetForecast,
        summary="What a plan would cost each funding source, before the team confirms it",
        description=(
            "The plan's services (weekly quantities) over its weeks or days, priced at the "
            "district's tariffs (no evening or holiday surcharge; SAD hours no more than the cap "
            "per person), and paid from the district's funding sources in their order, as "
            "billing pays: per source, what it has left, what the plan would take and whether "
            "the plan would go past it, with a message in Italian. Nothing is stored. The "
            "district's team or administration, for their own district."
        ),
        responses=UNKNOWN_DISTRICT,
    )
    async def forecast(
        who: Annotated[Principal, allow(Action.REPORTS_READ)], plan: ForecastRequest
    ) -> BudgetForecast:
        who.require_district(plan.ambito_id)
        services = [
            reports.PlannedService(s.service_type, s.weekly_quantity) for s in plan.services
        ]
        async with runtime.engine.connect() as conn:
            found = await cases.forecast(conn, plan.ambito_id, services, plan.total_days)
        return views.forecast_of(found)

    @app.get(
        "/reports/spending",
        response_model=list[DistrictSpending],
        summary="Spending per quarter and funding source",
        description="What billing paid, per district, quarter (of the day of delivery) and "
        "funding source, with the persons paid for. The caller's districts (the auditor: "
        "all), or the one asked; 'from' and 'to' (days of delivery, included) narrow it.",
        responses=REPORT_ERRORS,
    )
    async def spending(
        who: Annotated[Principal, allow(Action.REPORTS_READ)],
        ambito_id: AmbitoQuery = None,
        since: DateFrom = None,
        until: DateTo = None,
    ) -> list[DistrictSpending]:
        ambiti = districts_for(config, who, ambito_id)
        async with runtime.engine.connect() as conn:
            found = await cases.spending(conn, ambiti, since, until)
        return [views.spending_of(ambito, quarters) for ambito, quarters in found]

    @app.get(
        "/reports/beneficiaries",
        response_model=list[BeneficiaryProgress],
        summary="Beneficiaries against the district's target",
        description="Distinct persons with a billed line (since the target's start, when "
        "configured) against `beneficiary_target` (Desio: 125 over three years). The "
        "caller's districts (the auditor: all), or the one asked.",
        responses=UNKNOWN_DISTRICT,
    )
    async def beneficiaries(
        who: Annotated[Principal, allow(Action.REPORTS_READ)], ambito_id: AmbitoQuery = None
    ) -> list[BeneficiaryProgress]:
        ambiti = districts_for(config, who, ambito_id)
        async with runtime.engine.connect() as conn:
            found = await cases.progress(conn, ambiti)
        return [views.progress_of(p) for p in found]

    async def funder_rows(
        who: Principal, ambito_id: str | None, since: date | None, until: date | None
    ) -> list[FunderRow]:
        ambiti = districts_for(config, who, ambito_id)
        async with runtime.engine.connect() as conn:
            found = await cases.funder_export(conn, ambiti, since, until)
        return views.funder_rows_of(found)

    funder_description = (
        "One row per beneficiary and quarter, the fields PNRR monitoring asks: the person's "
        "pseudonym (never the fiscal code), district, first day of service, closure day, "
        "services and spending in the quarter; from billing's own records and the closures "
        "monitoring published, never typed by hand. A district's administration, for its "
        "own districts (or the one asked); the auditor may read every district's."
    )

    @app.get(
        "/reports/funder-export.json",
        response_model=list[FunderRow],
        summary="The funder's export (PNRR monitoring), JSON",
        description=funder_description,
        responses=REPORT_ERRORS,
    )
    async def funder_json(
        who: Annotated[Principal, allow(Action.FUNDER_EXPORT)],
        ambito_id: AmbitoQuery = None,
        since: DateFrom = None,
        until: DateTo = None,
    ) -> list[FunderRow]:
        return await funder_rows(who, ambito_id, since, until)

    @app.get(
        "/reports/funder-export.csv",
        response_class=Response,
        summary="The funder's export (PNRR monitoring), CSV",
        description=funder_description + " Semicolon-separated like the statements, UTF-8, "
        'a header row, services as "sad,meals", no cell a spreadsheet runs as a formula.',
        responses={
            200: {"content": {"text/csv": {}}, "description": "The export's rows."},
            **REPORT_ERRORS,
        },
    )
    async def funder_csv(
        who: Annotated[Principal, allow(Action.FUNDER_EXPORT)],
        ambito_id: AmbitoQuery = None,
        since: DateFrom = None,
        until: DateTo = None,
    ) -> Response:
        rows = await funder_rows(who, ambito_id, since, until)
        return Response(
            content=views.funder_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": views.attachment(f"export-{ambito_id or 'ambiti'}.csv")
            },
        )

    return app
