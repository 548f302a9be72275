"""Factories for the events billing reads (pure: no I/O), shared by unit and integration tests:
eligibility from intake, deliveries from provider adapters, closures from monitoring."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from cerniera.shared.contract import (
    CaseClosed,
    CaseOutcome,
    EligibilityConfirmed,
    EligibilityRejected,
    EventData,
    HoursDelivered,
    Intensity,
    Reason,
    ServiceLine,
    ServiceType,
)
from cerniera.shared.envelope import Envelope

INTAKE_SOURCE = "urn:dp:service:intake"
MONITORING_SOURCE = "urn:dp:service:monitoring"

DESIO = "desio"  # Ambito di Desio (ISTAT 108023 is the town of Desio)
MAGENTINO = "magentino"
MELOGRANO = "coop-il-melograno"  # Desio, SAD at its own tariff of 21.50
RISTORAZIONE = "brianza-ristorazione-sociale"  # Desio, meals at the district's 7.50
TELESOCCORSO = "telesoccorso-lombardia"  # Desio and Magentino, teleassistance at 0.50
ASC_MAGENTINO = "asc-servizi-alla-persona"  # Magentino only, SAD at the district's 22.00

SAD, MEALS, TELE = ServiceType.SAD, ServiceType.MEALS, ServiceType.TELEASSISTANCE


def case_id(ref: str) -> str:
    return f"asst-vimercate:{ref}"


def _envelope(
    data: EventData,
    source: str,
    subject: str,
    event_id: str | None,
    correlation_id: str | None,
) -> Envelope:
    return Envelope(
        data=data,
        source=source,
        subject=subject,
        id=event_id or str(uuid.uuid4()),
        correlation_id=correlation_id,
    )


def confirmed(
    case: str,
    ambito_id: str = DESIO,
    *,
    event_id: str | None = None,
    correlation_id: str | None = None,
) -> Envelope:
    """The EligibilityConfirmed intake would publish for ``case``."""
    data = EligibilityConfirmed(
        case_id=case,
        ambito_id=ambito_id,
        intensity=Intensity.MEDIUM,
        services=[
            ServiceLine(service_type=SAD, weekly_quantity=Decimal(6)),
            ServiceLine(service_type=MEALS, weekly_quantity=Decimal(5)),
            ServiceLine(service_type=TELE, weekly_quantity=Decimal(7)),
        ],
        expected_discharge_at=datetime(2026, 11, 30, 10, tzinfo=UTC),
        decided_by="rule",
        reasons=[Reason(code="phase2.primary_met", text="R1 yes")],
    )
    return _envelope(data, INTAKE_SOURCE, case, event_id, correlation_id or str(uuid.uuid4()))


def rejected(case: str) -> Envelope:
    data = EligibilityRejected(
        case_id=case, reasons=[Reason(code="phase2.primary_not_met", text="no yes for R1/R2")]
    )
    return _envelope(data, INTAKE_SOURCE, case, None, str(uuid.uuid4()))


def delivery(
    case: str,
    provider_id: str,
    service_type: ServiceType,
    delivered_on: date,
    quantity: Decimal | int | str,
    *,
    delivery_ref: str | None = None,
    evening: bool = False,
) -> HoursDelivered:
    return HoursDelivered(
        case_id=case,
        provider_id=provider_id,
        service_type=service_type,
        delivered_on=delivered_on,
        quantity=Decimal(quantity),
        delivery_ref=delivery_ref or f"{provider_id[:3].upper()}-{uuid.uuid4().hex[:10]}",
        evening=evening,
    )


def reported(
    data: HoursDelivered, *, event_id: str | None = None, correlation_id: str | None = None
) -> Envelope:
    """The CloudEvent a provider adapter would publish for ``data``."""
    return _envelope(
        data, f"urn:dp:provider:{data.provider_id}", data.case_id, event_id, correlation_id
    )


def closed(case: str, closed_at: datetime) -> Envelope:
    data = CaseClosed(case_id=case, closed_at=closed_at, outcome=CaseOutcome.COMPLETED)
    return _envelope(data, MONITORING_SOURCE, case, None, str(uuid.uuid4()))
