"""Reusable field types and enumerations of the public event contract.

Each type carries its own validation, JSON serialisation and JSON Schema, so every event model
(and the AsyncAPI documentation generated from them) states the same rules in one place.
"""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Final

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.it import codicefiscale

__all__ = [
    "AnswerValue",
    "AwareDatetime",
    "CaseId",
    "CaseOutcome",
    "CheckOutcome",
    "DeclineReason",
    "DischargeRef",
    "EscalationReason",
    "FiscalCode",
    "HospitalId",
    "Identifier",
    "Intensity",
    "IstatCode",
    "Money",
    "NetworkOutcome",
    "NetworkResource",
    "Quantity",
    "Recommendation",
    "Resolution",
    "ServiceType",
    "ShortText",
    "Text",
    "case_id_for",
    "split_case_id",
]

# --- text ----------------------------------------------------------------------------------

# Control characters (C0, DEL, C1): never part of what a person writes, and NUL cannot even be
# stored (PostgreSQL refuses it in text). Refused here, once, so every door refuses them alike
# and nothing reaches a service that a later one could not keep.
_CONTROLS: Final = r"\x00-\x1F\x7F-\x9F"
_CONTROLS_BUT_LINES: Final = r"\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F"  # tab, LF, CR allowed

LINE_PATTERN: Final = rf"^[^{_CONTROLS}]*$"
"""One line of a person's text (a name, an address, a phone): no control character."""
TEXT_PATTERN: Final = rf"^[^{_CONTROLS_BUT_LINES}]*$"
"""A person's free text (notes, reasons): lines and tabs, no other control character."""

Text = Annotated[str, StringConstraints(min_length=1, max_length=4000, pattern=TEXT_PATTERN)]
"""Free text a person writes (notes, reasons): at most 4000 characters, no control character
but tab and line breaks."""

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=LINE_PATTERN)]
"""One line a person writes (a name, an address, a phone): at most 256 characters, no control
character."""

# --- identifiers --------------------------------------------------------------------------

_ID_CHAR: Final = rf"[^\s{_CONTROLS}]"  # neither whitespace nor a control character

HOSPITAL_ID_PATTERN: Final = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
DISCHARGE_REF_PATTERN: Final = rf"^{_ID_CHAR}{{1,64}}$"
# The hospital id never contains ":", so the first ":" always splits a case id unambiguously,
# even when the hospital's own discharge reference contains one.
CASE_ID_PATTERN: Final = rf"^[a-z0-9]+(?:-[a-z0-9]+)*:{_ID_CHAR}{{1,64}}$"
IDENTIFIER_PATTERN: Final = rf"^{_ID_CHAR}+$"

_HOSPITAL_ID_RE: Final = re.compile(HOSPITAL_ID_PATTERN)
_DISCHARGE_REF_RE: Final = re.compile(DISCHARGE_REF_PATTERN)

HospitalId = Annotated[
    str, StringConstraints(pattern=HOSPITAL_ID_PATTERN, min_length=1, max_length=64)
]
"""The project's id of a hospital (lowercase letters, digits, hyphens), e.g. "asst-vimercate"."""

DischargeRef = Annotated[str, StringConstraints(pattern=DISCHARGE_REF_PATTERN)]
"""The hospital's own visit number (HL7 PV1-19): non-empty, at most 64 chars, no whitespace
and no control character."""

CaseId = Annotated[str, StringConstraints(pattern=CASE_ID_PATTERN, max_length=129)]
"""A case id, "<hospital_id>:<discharge_ref>": derived, so hospitals never need to learn ours."""

Identifier = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN, max_length=128)]
"""An opaque project-side id (district, provider, request, operator): non-empty, no whitespace,
no control character."""


def case_id_for(hospital_id: str, discharge_ref: str) -> str:
    """Build the case id from the hospital's identifiers; raise ``ValueError`` if invalid.

    A repeated announcement of the same discharge therefore maps to the same case.
    """
    if not _HOSPITAL_ID_RE.fullmatch(hospital_id) or len(hospital_id) > 64:
        raise ValueError(f"invalid hospital_id {hospital_id!r}: use lowercase letters, digits, -")
    if not _DISCHARGE_REF_RE.fullmatch(discharge_ref):
        raise ValueError(
            f"invalid discharge_ref {discharge_ref!r}: non-empty, no whitespace or control "
            "character, max 64 chars"
        )
    return f"{hospital_id}:{discharge_ref}"


def split_case_id(case_id: str) -> tuple[str, str]:
    """Split a case id into ``(hospital_id, discharge_ref)``; raise ``ValueError`` if invalid."""
    hospital_id, sep, discharge_ref = case_id.partition(":")
    if not sep:
        raise ValueError(f"invalid case id {case_id!r}: expected '<hospital_id>:<discharge_ref>'")
    case_id_for(hospital_id, discharge_ref)
    return hospital_id, discharge_ref


# --- codice fiscale ----------------------------------------------------------------------


def _validate_fiscal_code(value: str) -> str:
    code = "".join(value.split()).upper()
    if len(code) != 16:
        # python-stdnum also accepts 11-digit company codes; a patient is always a person.
        raise PydanticCustomError(
            "fiscal_code",
            "invalid codice fiscale: a personal code has 16 characters, got {length}",
            {"length": len(code)},
        )
    try:
        codicefiscale.validate(code)
    except StdnumValidationError as exc:
        raise PydanticCustomError(
            "fiscal_code", "invalid codice fiscale: {reason}", {"reason": str(exc)}
        ) from exc
    return code


FiscalCode = Annotated[
    str,
    AfterValidator(_validate_fiscal_code),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": (
                "^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}"
                "[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$"
            ),
            "description": (
                "Codice fiscale (Italian tax code) of a person: 16 characters, check character "
                "and omocodia (letters substituted for digits) verified; normalised to upper case."
            ),
        }
    ),
]
"""Codice fiscale (Italian tax code) of a person, validated and normalised to upper case."""

IstatCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]
"""ISTAT code of an Italian municipality: six digits, kept as a string for leading zeros."""

# --- money and quantities ----------------------------------------------------------------


def _reject_float(value: object) -> object:
    # A float cannot hold 0.10 exactly; the contract says money is a decimal string.
    if isinstance(value, float | bool):
        raise PydanticCustomError(
            "money_type", 'money must be a decimal string such as "22.00", never a float'
        )
    return value


def _quantize_cents(value: Decimal) -> Decimal:
    # Decimal("22") and Decimal("22.00") are equal; one representation keeps reprs stable.
    return value.quantize(Decimal("0.01"))


def _money_to_str(value: Decimal) -> str:
    return f"{value:.2f}"


Money = Annotated[
    Decimal,
    BeforeValidator(_reject_float),
    Field(decimal_places=2, allow_inf_nan=False),
    AfterValidator(_quantize_cents),
    PlainSerializer(_money_to_str, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^-?[0-9]+(\.[0-9]{1,2})?$",
            "description": 'Amount in euros as a decimal string, e.g. "22.00"; never a float.',
        }
    ),
]
"""An amount in euros, at most 2 decimals; JSON carries it as a string ("22.00")."""


def _quantity_to_number(value: Decimal) -> int | float:
    # Two decimals at most, so the float's shortest repr is exactly the decimal value.
    return int(value) if value == value.to_integral_value() else float(value)


Quantity = Annotated[
    Decimal,
    Field(gt=0, decimal_places=2, allow_inf_nan=False),
    PlainSerializer(_quantity_to_number, return_type=int | float, when_used="json"),
    WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "multipleOf": 0.01}),
]
"""A positive quantity (hours, meals, days) with at most 2 decimals; a JSON number."""

# --- enumerations ------------------------------------------------------------------------


class AnswerValue(StrEnum):
    """Answer to one requirement of the "Phase 2" assessment checklist."""

    YES = "yes"
    PARTIAL = "partial"
    NO = "no"


class Intensity(StrEnum):
    """Intensity of the service package (bassa / media / alta)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class ServiceType(StrEnum):
    """A home service: SAD (servizio di assistenza domiciliare, home care), meals, telecare."""

    SAD = "sad"
    MEALS = "meals"
    TELEASSISTANCE = "teleassistance"
    """Teleassistenza: scheduled calls and remote follow-up (days of service)."""
    EMERGENCY_ALARM = "emergency_alarm"
    """Telesoccorso: the alarm button answered day and night (days of service). Added in 2.1."""


class DeclineReason(StrEnum):
    """Why a provider (ente gestore) declined an activation request."""

    CAPACITY = "capacity"
    OUT_OF_AREA = "out_of_area"
    MISSING_INFORMATION = "missing_information"
    NOT_ELIGIBLE = "not_eligible"
    OTHER = "other"


class CheckOutcome(StrEnum):
    """Outcome of the team's weekly check of a case."""

    STABLE = "stable"
    NEEDS_ADJUSTMENT = "needs_adjustment"
    CRITICAL = "critical"


class Recommendation(StrEnum):
    """What the team recommends after a weekly check."""

    CONTINUE = "continue"
    CLOSE = "close"
    HAND_OVER_TO_MUNICIPALITY = "hand_over_to_municipality"


class CaseOutcome(StrEnum):
    """How a case ended: after the follow-up period, or early."""

    COMPLETED = "completed"
    HANDED_OVER_TO_MUNICIPALITY = "handed_over_to_municipality"
    READMITTED = "readmitted"
    DECEASED = "deceased"
    INSTITUTIONALISED = "institutionalised"
    WITHDRAWN = "withdrawn"


class Resolution(StrEnum):
    """How the team resolved an escalated service (added in 2.1)."""

    MANUAL_PROVIDER = "manual_provider"
    """A provider assigned by hand, outside the rotation, with its own lead time."""
    FAMILY = "family"
    """Covered by the family."""
    TERRITORIAL_NETWORK = "territorial_network"
    """Covered by the territorial network (volunteers, parish, neighbours, community nurse)."""
    DROPPED = "dropped"
    """Not needed after all: dropped from the plan, with a reason."""
    POSTPONEMENT_REQUESTED = "postponement_requested"
    """The ward is asked to postpone the discharge until the service can start."""


class NetworkResource(StrEnum):
    """Who in the territorial network takes part in a case without a caregiver (2.1)."""

    VOLUNTEERS = "volunteers"
    PARISH = "parish"
    NEIGHBOURS = "neighbours"
    FAMILY_COMMUNITY_NURSE = "family_community_nurse"
    FAMILY = "family"


class NetworkOutcome(StrEnum):
    """The outcome of a territorial-network task (2.1)."""

    ENGAGED = "engaged"
    PARTIALLY_ENGAGED = "partially_engaged"
    NOT_AVAILABLE = "not_available"


class EscalationReason(StrEnum):
    """Why activation of a service needs a human: no provider can start it on time."""

    ALL_PROVIDERS_DECLINED = "all_providers_declined"
    NO_ANSWER_BEFORE_DEADLINE = "no_answer_before_deadline"
    CANNOT_START_BEFORE_DISCHARGE = "cannot_start_before_discharge"
    NO_PROVIDER_AVAILABLE = "no_provider_available"
