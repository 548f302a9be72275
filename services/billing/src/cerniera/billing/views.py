"""Billing's views, pure: stored lines, issued statements, budget figures and the district's
reports as the API shows them, and a statement and the funder's export as CSV."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any, Final

from cerniera.billing import domain, reports, store
from cerniera.billing.cases import StatementView
from cerniera.billing.config import Ambito
from cerniera.billing.schemas import (
    BeneficiaryProgress,
    BudgetForecast,
    DistrictBudget,
    DistrictSpending,
    FunderRow,
    FundingBudget,
    FundingSpent,
    IssuedStatement,
    QuarterSpent,
    ServiceEstimate,
    ServiceTotal,
    SourceForecast,
    Statement,
    StatementLine,
    ThresholdReached,
)
from cerniera.shared import spreadsheet
from cerniera.shared.http import view

CSV_DELIMITER: Final = spreadsheet.DELIMITER
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


def lines_of(lines: Iterable[domain.Line]) -> list[StatementLine]:
    """One statement line per portion of a delivery (see ``domain.Billing.portions``)."""
    return [
        StatementLine(
            ambito_id=line.ambito_id,
            case_id=line.case_id,
            delivery_ref=line.delivery_ref,
            service_type=line.delivery.service_type,
            delivered_on=line.delivery.delivered_on,
            evening=line.delivery.evening,
            holiday=domain.is_holiday(line.delivery.delivered_on),
            quantity=portion.quantity,
            unit_tariff=line.billing.unit_tariff,
            surcharge_percent=line.billing.surcharge_percent,
            amount=portion.amount,
            funding_source=portion.funding_source,
            status=portion.status,
            reason=portion.reason,
        )
        for line in lines
        for portion in line.billing.portions()
    ]


def statement_of(
    provider_id: str, period: str, ambito_id: str | None, found: StatementView
) -> Statement:
    sums = domain.totals(
        (line.delivery.service_type, portion)
        for line in found.lines
        for portion in line.billing.portions()
    )
    return Statement(
        provider_id=provider_id,
        period=period,
        ambito_id=ambito_id,
        lines=lines_of(found.lines),
        totals=[view(ServiceTotal, t, service_type=service) for service, t in sums.items()],
        total=sum((t.billed_amount for t in sums.values()), domain.ZERO),
        refused_amount=sum((t.refused_amount for t in sums.values()), domain.ZERO),
        issued=[issued_of(issued, already=False) for issued in found.issued],
    )


def issued_of(issued: domain.Issued, *, already: bool) -> IssuedStatement:
    return IssuedStatement(**asdict(issued), already_issued=already)


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
                    ThresholdReached.model_validate(t, from_attributes=True)
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


def forecast_of(found: reports.Forecast) -> BudgetForecast:
    return BudgetForecast(
        ambito_id=found.ambito_id,
        days=found.days,
        services=[view(ServiceEstimate, e) for e in found.services],
        total=found.total,
        funding=[view(SourceForecast, s) for s in found.sources],
        unfunded=found.unfunded,
        fits=found.fits,
        message=found.message,
    )


def spending_of(ambito: Ambito, quarters: Iterable[reports.QuarterSpending]) -> DistrictSpending:
    shown = [
        QuarterSpent(
            quarter=q.quarter.code,
            label=q.quarter.label,
            start=q.quarter.start,
            end=q.quarter.end,
            funding=[view(FundingSpent, f) for f in q.funding],
            total=q.total,
        )
        for q in quarters
    ]
    return DistrictSpending(
        ambito_id=ambito.id,
        name=ambito.name,
        quarters=shown,
        total=sum((q.total for q in shown), domain.ZERO),
    )


def progress_of(found: reports.Progress) -> BeneficiaryProgress:
    target = found.target
    return BeneficiaryProgress(
        ambito_id=found.ambito_id,
        beneficiaries=found.beneficiaries,
        target=target.count if target else None,
        years=target.years if target else None,
        since=target.since if target else None,
        until=found.until,
        percent=found.percent,
        message=found.message,
    )


def funder_rows_of(rows: Iterable[reports.FunderRow]) -> list[FunderRow]:
    return [
        view(FunderRow, row, quarter=row.quarter.code, services=list(row.services)) for row in rows
    ]


def _csv(columns: Iterable[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """The districts' CSV (``cerniera.shared.spreadsheet``): a header row, then each row's
    columns in order."""
    names = tuple(columns)
    return spreadsheet.document(names, ([values[column] for column in names] for values in rows))


def to_csv(lines: Iterable[StatementLine]) -> str:
    """A statement's lines as CSV (see ``_csv``)."""
    return _csv(
        CSV_COLUMNS,
        (
            {
                **line.model_dump(exclude={"reason"}),
                "reason_code": line.reason.code if line.reason else None,
                "reason": line.reason.text if line.reason else None,
            }
            for line in lines
        ),
    )


FUNDER_COLUMNS: Final = tuple(FunderRow.model_fields)
"""The funder's export: the same fields as its JSON, in that order."""


def funder_csv(rows: Iterable[FunderRow]) -> str:
    """The funder's export as CSV (see ``_csv``); a row's services as "sad,meals"."""
    return _csv(
        FUNDER_COLUMNS,
        ({**row.model_dump(), "services": ",".join(row.services)} for row in rows),
    )


_FILENAME_ASCII: Final = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.+()"
)


def attachment(filename: str) -> str:
    """A ``Content-Disposition`` for downloading ``filename``, whatever it holds (a provider's
    id may not be ASCII): RFC 6266, a plain ASCII ``filename`` for old clients (any other
    character as "_"), and the name itself, UTF-8 and percent-encoded, as ``filename*``
    (RFC 5987/8187). Nothing of the name can end the header or start another."""
    fallback = "".join(c if c in _FILENAME_ASCII else "_" for c in filename)
    encoded = urllib.parse.quote(filename, safe="", encoding="utf-8", errors="replace")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
