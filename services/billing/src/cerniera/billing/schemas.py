"""Billing's HTTP schemas: the path and query parameters, and the response models (money is
a decimal string in euros, "22.00", as in the event contract)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Final

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from cerniera.billing import domain
from cerniera.shared.contract import Identifier, Money, Reason, ServiceType
from cerniera.shared.contract.types import IDENTIFIER_PATTERN
from cerniera.shared.http import Day, RequestBody

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
    beneficiaries: int = Field(
        description="Distinct persons (person_ref; a case confirmed before contract 2.1 counts "
        "on its own) with at least one line paid by it."
    )


class DistrictBudget(_Out):
    """A district's budget: its funding sources, spent in order."""

    ambito_id: str = Field(description="The district.")
    name: str = Field(description="Its name.")
    amount: Money = Field(description="All sources together, in euros.")
    spent: Money = Field(description="Billed so far, in euros.")
    remaining: Money = Field(description="Still available, in euros.")
    percent_spent: Decimal = Field(description="Spent as a percentage of the total.")
    beneficiaries: int = Field(
        description="Distinct persons (person_ref; a case confirmed before contract 2.1 counts "
        "on its own) with at least one billed line (what PNRR reporting, ReGiS, counts)."
    )
    unfunded_amount: Money = Field(
        description="Delivered within the rules but beyond every source (budget.exhausted): "
        "owed by nobody yet, for the district to decide."
    )
    unfunded_lines: int = Field(description="Deliveries with an unfunded part.")
    funding: list[FundingBudget] = Field(description="Per source, in spending order.")


# --- reports -------------------------------------------------------------------------------

DateFrom = Annotated[
    Day,
    Query(alias="from", description="First day of delivery counted (included), YYYY-MM-DD."),
]
DateTo = Annotated[
    Day,
    Query(alias="to", description="Last day of delivery counted (included), YYYY-MM-DD."),
]

MAX_DAYS: Final = 3 * 366
"""A plan is forecast for at most the three years of a district's project."""


class PlannedService(RequestBody):
    """One service of the plan being considered."""

    service_type: ServiceType = Field(description="The service.", examples=["sad"])
    weekly_quantity: Decimal = Field(
        gt=0,
        le=168,
        decimal_places=2,
        allow_inf_nan=False,
        description="Per week: hours for SAD, meals, days for teleassistance and telesoccorso.",
        examples=[9],
    )


class ForecastRequest(RequestBody):
    """A plan the team is about to confirm: its services and how long it runs (weeks or
    days, one of them)."""

    ambito_id: Identifier = Field(description="The district that would pay.", examples=["desio"])
    services: list[PlannedService] = Field(min_length=1, max_length=len(ServiceType))
    weeks: int | None = Field(default=None, ge=1, le=MAX_DAYS // 7, examples=[4])
    days: int | None = Field(default=None, ge=1, le=MAX_DAYS, examples=[30])

    @model_validator(mode="after")
    def _one_duration(self) -> ForecastRequest:
        if (self.weeks is None) == (self.days is None):
            raise ValueError("give either weeks or days")
        kinds = [s.service_type for s in self.services]
        if len(set(kinds)) != len(kinds):
            raise ValueError("each service once")
        return self

    @property
    def total_days(self) -> int:
        return self.days if self.days is not None else 7 * (self.weeks or 0)


class ServiceEstimate(_Out):
    service_type: ServiceType = Field(description="The service.")
    quantity: Decimal = Field(
        description="Units over the plan's days; SAD hours no more than the cap per person."
    )
    unit_tariff: Money = Field(description="The district's tariff, euros per unit.")
    amount: Money = Field(description="Estimated cost, euros (no evening/holiday surcharge).")
    capped: bool = Field(description="SAD hours planned beyond the cap: only the cap counted.")


class SourceForecast(_Out):
    funding_source: str = Field(description="The funding source, in spending order.")
    name: str = Field(description="Its name.")
    remaining: Money = Field(description="Not yet spent, before this plan, in euros.")
    estimated_cost: Money = Field(description="The part of the plan this source would pay.")
    remaining_after: Money = Field(description="What it would have left.")
    exceeds: bool = Field(
        description="The plan's cost reaching this source is more than it has left."
    )
    message: str = Field(description="For the team, in Italian.")


class BudgetForecast(_Out):
    """What a plan would cost, and whether the district's funding sources can pay it."""

    ambito_id: str = Field(description="The district.")
    days: int = Field(description="Days of the plan.")
    services: list[ServiceEstimate] = Field(description="Per service.")
    total: Money = Field(description="Estimated cost of the plan, in euros.")
    funding: list[SourceForecast] = Field(description="Per funding source, in spending order.")
    unfunded: Money = Field(description="What no source could pay, in euros.")
    fits: bool = Field(description="The district's remaining budget covers the plan.")
    message: str = Field(description="For the team, in Italian.")


class FundingSpent(_Out):
    funding_source: str = Field(description="The funding source.")
    name: str = Field(description="Its name.")
    spent: Money = Field(description="Paid in the quarter, in euros.")
    beneficiaries: int = Field(description="Distinct persons it paid for in the quarter.")


class QuarterSpent(_Out):
    quarter: str = Field(description="The quarter, YYYY-Qn.", examples=["2026-Q4"])
    label: str = Field(description="In Italian.", examples=["IV trimestre 2026"])
    start: date = Field(description="Its first day.")
    end: date = Field(description="Its last day.")
    funding: list[FundingSpent] = Field(description="Every funding source, in spending order.")
    total: Money = Field(description="All sources, in euros.")


class DistrictSpending(_Out):
    """A district's spending per quarter (of the day of delivery) and funding source."""

    ambito_id: str = Field(description="The district.")
    name: str = Field(description="Its name.")
    quarters: list[QuarterSpent] = Field(description="The quarters with spending, in order.")
    total: Money = Field(description="All quarters, in euros.")


class BeneficiaryProgress(_Out):
    """The persons a district served against its target (Desio: 125 over three years)."""

    ambito_id: str = Field(description="The district.")
    beneficiaries: int = Field(
        description="Distinct persons (person_ref, else the case) with a billed line since "
        "the target's start."
    )
    target: int | None = Field(description="Persons promised; null when not configured.")
    years: int | None = Field(description="Over how many years.")
    since: date | None = Field(description="The target's start, when configured.")
    until: date | None = Field(description="The end of its years, when its start is known.")
    percent: Decimal | None = Field(description="Beneficiaries as a percentage of the target.")
    message: str = Field(description="In Italian.")


class FunderRow(_Out):
    """One beneficiary in one quarter: the fields PNRR monitoring asks."""

    beneficiary: str = Field(
        description="The person's pseudonym (person_ref); the case id for a case confirmed "
        "before contract 2.1. Never the fiscal code."
    )
    ambito_id: str = Field(description="The district.")
    quarter: str = Field(description="The quarter, YYYY-Qn.", examples=["2026-Q4"])
    start: date = Field(description="First day of service (first activation, else first line).")
    end: date | None = Field(description="Closure day, once every case in the quarter closed.")
    services: list[ServiceType] = Field(description="Services paid in the quarter.")
    spending: Money = Field(description="Paid for the person in the quarter, in euros.")
