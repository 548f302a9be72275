"""Factories for the events monitoring consumes (pure: no I/O): intake's decisions and the
hospital's readmissions, as the CloudEvents their producers would publish."""

from __future__ import annotations

import uuid
from datetime import datetime

from cerniera.shared.contract import (
    DischargeCancelled,
    DischargeRescheduled,
    EligibilityConfirmed,
    EventData,
    Intensity,
    PatientReadmitted,
    Reason,
    ServiceLine,
    ServiceType,
    case_id_for,
)
from cerniera.shared.envelope import Envelope
from support.discharges import EXPECTED_DISCHARGE, HOSPITAL, HOSPITAL_SOURCE

INTAKE_SOURCE = "urn:dp:service:intake"


def case_id(discharge_ref: str) -> str:
    return case_id_for(HOSPITAL, discharge_ref)


def confirmed(
    discharge_ref: str,
    *,
    ambito_id: str = "desio",
    expected_discharge_at: datetime = EXPECTED_DISCHARGE,
) -> EligibilityConfirmed:
    return EligibilityConfirmed(
        case_id=case_id(discharge_ref),
        ambito_id=ambito_id,
        intensity=Intensity.MEDIUM,
        services=[
            ServiceLine(service_type=ServiceType.SAD, weekly_quantity=6),
            ServiceLine(service_type=ServiceType.TELEASSISTANCE, weekly_quantity=7),
        ],
        expected_discharge_at=expected_discharge_at,
        decided_by="rule",
        reasons=[Reason(code="phase2.primary_met", text="'yes' for R1")],
    )


def readmitted(discharge_ref: str, readmitted_at: datetime) -> PatientReadmitted:
    return PatientReadmitted(
        hospital_id=HOSPITAL, discharge_ref=discharge_ref, readmitted_at=readmitted_at
    )


def from_intake(data: EligibilityConfirmed, *, correlation_id: str | None = None) -> Envelope:
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
