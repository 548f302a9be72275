"""Factories for the events monitoring consumes (pure: no I/O): intake's decisions, the
hospital's announcements and readmissions, activation's facts, as the CloudEvents their
producers would publish."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from cerniera.shared.contract import (
    DischargeCancelled,
    DischargePostponementRequested,
    DischargeRescheduled,
    EligibilityConfirmed,
    EligibilityRejected,
    EscalationResolved,
    EventData,
    Intensity,
    PatientReadmitted,
    Reason,
    Resolution,
    ServiceActivated,
    ServiceLine,
    ServiceType,
    case_id_for,
)
from cerniera.shared.contract.provenance import allowed_source
from cerniera.shared.envelope import Envelope
from support.discharges import EXPECTED_DISCHARGE, HOSPITAL, HOSPITAL_SOURCE, announced

INTAKE_SOURCE = "urn:dp:service:intake"


def case_id(discharge_ref: str) -> str:
    return case_id_for(HOSPITAL, discharge_ref)


def confirmed(
    discharge_ref: str,
    *,
    ambito_id: str = "desio",
    expected_discharge_at: datetime = EXPECTED_DISCHARGE,
    person_ref: str | None = None,
    services: Sequence[tuple[ServiceType, int]] = (
        (ServiceType.SAD, 6),
        (ServiceType.TELEASSISTANCE, 7),
    ),
) -> EligibilityConfirmed:
    return EligibilityConfirmed(
        case_id=case_id(discharge_ref),
        ambito_id=ambito_id,
        intensity=Intensity.MEDIUM,
        services=[ServiceLine(service_type=s, weekly_quantity=Decimal(q)) for s, q in services],
        expected_discharge_at=expected_discharge_at,
        decided_by="rule",
        reasons=[Reason(code="phase2.primary_met", text="'yes' for R1")],
        person_ref=person_ref,
    )


def rejected(discharge_ref: str) -> EligibilityRejected:
    """A decision reversed: the team overrode the rule after the case was confirmed."""
    return EligibilityRejected(
        case_id=case_id(discharge_ref),
        reasons=[Reason(code="override.team", text="Caregiver di nuovo presente.")],
        decided_by="op-lbianchi",
    )


def announcement(discharge_ref: str, at: datetime, **fields: Any) -> Envelope:
    """The ward's DischargeAnnounced, sent at ``at`` (its event time)."""
    return from_source(announced(discharge_ref=discharge_ref, **fields), at=at)


def activated(
    discharge_ref: str, service_type: ServiceType, provider_id: str, active_from: date
) -> ServiceActivated:
    return ServiceActivated(
        case_id=case_id(discharge_ref),
        request_id=f"req-{discharge_ref}-{service_type}",
        provider_id=provider_id,
        service_type=service_type,
        active_from=active_from,
    )


def resolved(
    discharge_ref: str, service_type: ServiceType, resolution: Resolution, at: datetime
) -> EscalationResolved:
    return EscalationResolved(
        case_id=case_id(discharge_ref),
        service_type=service_type,
        resolution=resolution,
        resolved_by="op-lbianchi",
        resolved_at=at,
    )


def postponement(
    discharge_ref: str, postpone_until: date, requested_at: datetime
) -> DischargePostponementRequested:
    return DischargePostponementRequested(
        case_id=case_id(discharge_ref),
        hospital_id=HOSPITAL,
        discharge_ref=discharge_ref,
        postpone_until=postpone_until,
        waiting_for=[ServiceType.MEALS],
        requested_by="op-lbianchi",
        requested_at=requested_at,
    )


def from_source(data: EventData, *, at: datetime | None = None) -> Envelope:
    """Any event as the one source allowed to publish it does (subject: its case), sent at
    ``at`` (default: now)."""
    subject = str(getattr(data, "case_id"))  # noqa: B009 - every event here has one
    if at is None:
        return Envelope(data=data, source=allowed_source(data), subject=subject)
    return Envelope(data=data, source=allowed_source(data), subject=subject, time=at)


def readmitted(discharge_ref: str, readmitted_at: datetime) -> PatientReadmitted:
    return PatientReadmitted(
        hospital_id=HOSPITAL, discharge_ref=discharge_ref, readmitted_at=readmitted_at
    )


def from_intake(
    data: EligibilityConfirmed | EligibilityRejected, *, correlation_id: str | None = None
) -> Envelope:
    """The decision as intake publishes it: its correlation id is the case's from now on."""
    return Envelope(
        data=data,
        source=INTAKE_SOURCE,
        subject=data.case_id,
        correlation_id=correlation_id or f"corr-{uuid.uuid4()}",
        causation_id=str(uuid.uuid4()),
    )


def hospital_event(
    data: DischargeRescheduled | DischargeCancelled | PatientReadmitted,
    *,
    correlation_id: str | None = None,
) -> Envelope:
    """A hospital's event, with a correlation of its own (never the case's, in monitoring)."""
    event_data: EventData = data
    return Envelope(
        data=event_data,
        source=HOSPITAL_SOURCE,
        subject=data.case_id,
        correlation_id=correlation_id or f"hospital-{uuid.uuid4()}",
    )
