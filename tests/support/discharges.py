"""Factories for hospital events (pure: no I/O), shared by unit and integration tests."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cerniera.cli.synthetic import fiscal_code
from cerniera.shared.contract import (
    AnswerValue,
    Assessment,
    DischargeAnnounced,
    DischargeCancelled,
    DischargeRescheduled,
)
from cerniera.shared.envelope import Envelope

HOSPITAL = "asst-vimercate"
HOSPITAL_SOURCE = f"urn:dp:hospital:{HOSPITAL}"
FISCAL_CODE = "RSSMRA85T10A562S"  # valid check character
BAD_FISCAL_CODE = "RSSMRA85T10A562T"  # same code, wrong check character
DESIO = "108023"  # ISTAT code of Desio (Ambito di Desio)
MAGENTA = "015130"  # ISTAT code of Magenta (Ambito del Magentino)
ROME = "058091"  # ISTAT code of Rome: in no district of the example configuration
EXPECTED_DISCHARGE = datetime(2024, 10, 3, 8, 0, tzinfo=UTC)

Y, P, N = AnswerValue.YES, AnswerValue.PARTIAL, AnswerValue.NO


def answers(**given: AnswerValue) -> dict[str, AnswerValue]:
    """``answers(R1=Y, R3=P)`` → ``{"R1": yes, "R3": partial}``; others stay unanswered."""
    return dict(given)


def met_answers() -> dict[str, AnswerValue]:
    """The rule met with nothing to spare: one "yes" in R1/R2, four "yes"/"partial" in R3-R9."""
    return answers(R1=Y, R2=N, R3=Y, R4=P, R5=Y, R6=P, R7=N, R8=N, R9=N)


def not_met_answers() -> dict[str, AnswerValue]:
    """No "yes" among R1/R2 (everything else "yes"): rejected by the Phase-2 rule."""
    return answers(R1=N, R2=N, R3=Y, R4=Y, R5=Y, R6=Y, R7=Y, R8=Y, R9=Y)


def assessment(
    given: dict[str, AnswerValue] | None = None,
    brass_score: int | None = None,
    consent: bool | None = True,
) -> Assessment:
    """The ward's assessment; with the person's consent unless told (None: not collected)."""
    return Assessment(
        answers=met_answers() if given is None else given, brass_score=brass_score, consent=consent
    )


def person(n: int) -> str:
    """The fiscal code of the ``n``-th of many different persons (each has their own SAD hours
    cap: cases of one person beyond it would wait for the team)."""
    born = date(1930, 1, 1) + timedelta(days=37 * n)
    return fiscal_code(random.Random(n), "Rossi", "Mario", born, "M")


def announced(**fields: Any) -> DischargeAnnounced:
    """The DischargeAnnounced of ``announced_json(**fields)``."""
    return DischargeAnnounced.model_validate(announced_json(**fields))


def announced_json(
    *,
    discharge_ref: str = "V2024-000123",
    municipality_code: str = DESIO,
    assessment: Assessment | None = None,
    expected_discharge_at: datetime = EXPECTED_DISCHARGE,
    fiscal_code: str = FISCAL_CODE,
    hospital_id: str = HOSPITAL,
) -> dict[str, Any]:
    """The JSON ``data`` of a DischargeAnnounced, unvalidated (so it may be made invalid)."""
    data: dict[str, Any] = {
        "hospital_id": hospital_id,
        "ward": "medicina-generale",
        "discharge_ref": discharge_ref,
        "expected_discharge_at": expected_discharge_at.isoformat(),
        "patient": {
            "fiscal_code": fiscal_code,
            "given_name": "Mario",
            "family_name": "Rossi",
            "birth_date": "1940-12-10",
            "municipality_code": municipality_code,
            "address": "Via Garibaldi 4, 20832 Desio (MB)",
            "phone": "+39 0362 123456",
        },
        "caregiver": {"present": False},
    }
    if assessment is not None:
        data["assessment"] = assessment.model_dump(mode="json", exclude_none=True)
    return data


def rescheduled(
    discharge_ref: str, expected_discharge_at: datetime, *, hospital_id: str = HOSPITAL
) -> DischargeRescheduled:
    return DischargeRescheduled(
        hospital_id=hospital_id,
        discharge_ref=discharge_ref,
        expected_discharge_at=expected_discharge_at,
    )


def cancelled(discharge_ref: str, *, hospital_id: str = HOSPITAL) -> DischargeCancelled:
    return DischargeCancelled(
        hospital_id=hospital_id, discharge_ref=discharge_ref, reason="Peggioramento clinico."
    )


HospitalEvent = DischargeAnnounced | DischargeRescheduled | DischargeCancelled


def from_hospital(
    data: HospitalEvent, *, event_id: str | None = None, correlation_id: str | None = None
) -> Envelope:
    """The CloudEvent a hospital system would publish for ``data`` (subject = case id)."""
    return Envelope(
        data=data,
        source=HOSPITAL_SOURCE,
        subject=data.case_id,
        id=event_id or str(uuid.uuid4()),
        correlation_id=correlation_id,
    )
