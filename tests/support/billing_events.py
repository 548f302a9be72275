"""Factories for the events billing reads (pure: no I/O), shared by unit and integration tests:
eligibility from intake, activations from activation, deliveries from provider adapters,
closures from monitoring."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from cerniera.billing.domain import Authorisation, Grant
from cerniera.shared.contract import (
    CaseClosed,
    CaseOutcome,
    EligibilityConfirmed,
    EligibilityRejected,
    EventData,
    HoursDelivered,
    Intensity,
    PlanRevised,
    Reason,
    ServiceActivated,
    ServiceDeactivated,
    ServiceLine,
    ServiceType,
)
from cerniera.shared.envelope import Envelope

INTAKE_SOURCE = "urn:dp:service:intake"
MONITORING_SOURCE = "urn:dp:service:monitoring"
ACTIVATION_SOURCE = "urn:dp:service:activation"

DESIO = "desio"  # Ambito di Desio (ISTAT 108023 is the town of Desio)
MAGENTINO = "magentino"
MELOGRANO = "coop-il-melograno"  # Desio, SAD at its own tariff of 21.50
RISTORAZIONE = "brianza-ristorazione-sociale"  # Desio, meals at the district's 7.50
TELESOCCORSO = "telesoccorso-lombardia"  # Desio and Magentino, teleassistance at 0.50, alarm 0.40
ASC_MAGENTINO = "asc-servizi-alla-persona"  # Magentino only, SAD at the district's 22.00

SAD, MEALS, TELE = ServiceType.SAD, ServiceType.MEALS, ServiceType.TELEASSISTANCE
ALARM = ServiceType.EMERGENCY_ALARM
PACKAGE: tuple[tuple[ServiceType, int], ...] = ((SAD, 6), (MEALS, 5), (TELE, 7))
"""The medium package: weekly hours of SAD, meals, days of teleassistance."""


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
    package: tuple[tuple[ServiceType, int], ...] = PACKAGE,
    person_ref: str | None = None,
) -> Envelope:
    """The EligibilityConfirmed intake would publish for ``case`` (of ``person_ref``)."""
    data = EligibilityConfirmed(
        person_ref=person_ref,
        case_id=case,
        ambito_id=ambito_id,
        intensity=Intensity.MEDIUM,
        services=[ServiceLine(service_type=s, weekly_quantity=Decimal(q)) for s, q in package],
        expected_discharge_at=datetime(2026, 11, 30, 10, tzinfo=UTC),
        decided_by="rule",
        reasons=[Reason(code="phase2.primary_met", text="R1 yes")],
    )
    return _envelope(data, INTAKE_SOURCE, case, event_id, correlation_id or str(uuid.uuid4()))


def revised(
    case: str,
    package: tuple[tuple[ServiceType, int], ...],
    on: datetime,
    *,
    version: int = 2,
    ambito_id: str = DESIO,
) -> Envelope:
    """The PlanRevised intake would publish when the team changes the plan at ``on``."""
    data = PlanRevised(
        case_id=case,
        ambito_id=ambito_id,
        plan_version=version,
        services=[ServiceLine(service_type=s, weekly_quantity=Decimal(q)) for s, q in package],
        revised_by="op-lbianchi",
        reason=Reason(code="plan.check_adjustment", text="Piano adeguato alla verifica."),
    )
    return Envelope(
        data=data, source=INTAKE_SOURCE, subject=case, time=on, correlation_id=str(uuid.uuid4())
    )


def rejected(case: str) -> Envelope:
    data = EligibilityRejected(
        case_id=case, reasons=[Reason(code="phase2.primary_not_met", text="no yes for R1/R2")]
    )
    return _envelope(data, INTAKE_SOURCE, case, None, str(uuid.uuid4()))


def activated(
    case: str, provider_id: str, service_type: ServiceType, active_from: date
) -> Envelope:
    """The ServiceActivated activation would publish once ``provider_id`` accepted."""
    data = ServiceActivated(
        case_id=case,
        request_id=str(uuid.uuid4()),
        provider_id=provider_id,
        service_type=service_type,
        active_from=active_from,
    )
    return _envelope(data, ACTIVATION_SOURCE, case, None, None)


def deactivated(activation: Envelope, until: date) -> Envelope:
    """The ServiceDeactivated that ends ``activation`` on ``until`` (its last day)."""
    started = activation.data_as(ServiceActivated)
    data = ServiceDeactivated(
        **started.model_dump(exclude={"active_from"}),
        until=until,
    )
    return _envelope(data, ACTIVATION_SOURCE, started.case_id, None, None)


def granted(weekly: Decimal | int | str = 1000, since: date = date(2026, 1, 1)) -> Grant:
    """What authorises any line from ``since``, up to ``weekly`` a week (pure tests)."""
    return Grant(Decimal(weekly), (Authorisation("request-1", since),))


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
