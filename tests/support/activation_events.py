"""Factories for the events activation consumes besides the hospital's (pure: no I/O): intake's
decision, providers' answers, a readmission and monitoring's closure, as CloudEvents."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from cerniera.shared.contract import (
    CaseClosed,
    CaseOutcome,
    DeclineReason,
    EligibilityConfirmed,
    EligibilityRejected,
    EventData,
    Intensity,
    PatientReadmitted,
    Reason,
    ServiceActivationAccepted,
    ServiceActivationDeclined,
    ServiceLine,
    ServiceType,
)
from cerniera.shared.contract.provenance import allowed_source
from cerniera.shared.envelope import Envelope
from support.discharges import HOSPITAL, HOSPITAL_SOURCE

INTAKE_SOURCE = "urn:dp:service:intake"
MONITORING_SOURCE = "urn:dp:service:monitoring"

MEDIUM: tuple[tuple[ServiceType, int], ...] = (
    (ServiceType.SAD, 6),
    (ServiceType.MEALS, 5),
    (ServiceType.TELEASSISTANCE, 7),
)


def confirmed(
    case_id: str,
    expected_discharge_at: datetime,
    *,
    services: Sequence[tuple[ServiceType, int]] = MEDIUM,
    ambito_id: str = "desio",
) -> EligibilityConfirmed:
    return EligibilityConfirmed(
        case_id=case_id,
        ambito_id=ambito_id,
        intensity=Intensity.MEDIUM,
        services=[ServiceLine(service_type=s, weekly_quantity=Decimal(q)) for s, q in services],
        expected_discharge_at=expected_discharge_at,
        decided_by="rule",
        reasons=[Reason(code="phase2.primary_met", text="'yes' for R1")],
    )


def rejected(case_id: str) -> EligibilityRejected:
    """A decision superseding a confirmation (e.g. the team overrode the rule)."""
    return EligibilityRejected(
        case_id=case_id,
        reasons=[Reason(code="override.team", text="La famiglia rientra: caregiver presente.")],
    )


def accepted(
    request_id: str, provider_id: str, scheduled_start: datetime
) -> ServiceActivationAccepted:
    return ServiceActivationAccepted(
        request_id=request_id, provider_id=provider_id, scheduled_start=scheduled_start
    )


def declined(
    request_id: str, provider_id: str, reason_code: DeclineReason = DeclineReason.CAPACITY
) -> ServiceActivationDeclined:
    return ServiceActivationDeclined(
        request_id=request_id,
        provider_id=provider_id,
        reason_code=reason_code,
        note="Nessun operatore disponibile.",
    )


def readmitted(discharge_ref: str, readmitted_at: datetime) -> PatientReadmitted:
    return PatientReadmitted(
        hospital_id=HOSPITAL, discharge_ref=discharge_ref, readmitted_at=readmitted_at
    )


def closed(case_id: str, closed_at: datetime, outcome: CaseOutcome) -> CaseClosed:
    return CaseClosed(case_id=case_id, closed_at=closed_at, outcome=outcome)


def event(
    data: EventData, *, source: str, subject: str, correlation_id: str | None = None
) -> Envelope:
    """A CloudEvent with the case id as subject (and so as Kafka key when published)."""
    return Envelope(
        data=data,
        source=source,
        subject=subject,
        id=str(uuid.uuid4()),
        correlation_id=correlation_id,
    )


def from_intake(
    data: EligibilityConfirmed | EligibilityRejected, correlation_id: str | None = None
) -> Envelope:
    return event(data, source=INTAKE_SOURCE, subject=data.case_id, correlation_id=correlation_id)


def from_provider(data: EventData, case_id: str) -> Envelope:
    """A provider's answer: its data names only the request; subject and key are the case.
    Its source is the provider it names (any other is refused: ``contract.provenance``)."""
    return event(data, source=allowed_source(data), subject=case_id)


def from_monitoring(data: CaseClosed) -> Envelope:
    return event(data, source=MONITORING_SOURCE, subject=data.case_id)


def readmission(data: PatientReadmitted) -> Envelope:
    return event(data, source=HOSPITAL_SOURCE, subject=data.case_id)
