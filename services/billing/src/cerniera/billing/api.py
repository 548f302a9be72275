"""Billing's HTTP API: monthly statements per provider, issuing them, and the districts' budgets.

Routes only: ``cases`` reads and decides (nothing is priced here), ``views`` maps what it
returns to the response models of ``schemas``. Refusals are the shared error body
``{"detail": {"code", "message"}}``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Response

from cerniera.billing import domain, views
from cerniera.billing.cases import BillingCases
from cerniera.billing.config import BillingConfig
from cerniera.billing.schemas import (
    AmbitoQuery,
    DistrictBudget,
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
        "and the beneficiaries counted (distinct cases with a billed line), for PNRR "
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

    return app
