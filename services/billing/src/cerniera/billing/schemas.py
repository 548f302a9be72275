"""Billing's HTTP schemas: the path and query parameters, and the response models (money is
a decimal string in euros, "22.00", as in the event contract)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Final

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from cerniera.billing import domain
from cerniera.shared.contract import Money, Reason, ServiceType
from cerniera.shared.contract.types import IDENTIFIER_PATTERN

# A real month, of a year a statement can be about: "0000-01" is no month, and the end of
# "9999-12" is no date either (a month's lines run to the first day of the next).
PERIOD_PATTERN: Final = r"^(?:19|2[0-9])[0-9]{2}-(?:0[1-9]|1[0-2])$"
PeriodPath = Annotated[
    str,
    Path(
        pattern=PERIOD_PATTERN,
        description="The month, YYYY-MM (a year from 1900 to 2999).",
        examples=["2026-12"],
    ),
]
ProviderPath = Annotated[
    str,
    Path(
        pattern=IDENTIFIER_PATTERN,
        max_length=128,
        description="The provider (ente gestore).",
        examples=["coop-il-melograno"],
    ),
]
AmbitoQuery = Annotated[
    str | None,
    Query(
        pattern=IDENTIFIER_PATTERN,
        max_length=128,
        description="Only this district (Ambito territoriale sociale).",
        examples=["desio"],
    ),
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
