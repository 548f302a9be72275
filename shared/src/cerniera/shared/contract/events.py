"""The `data` of every event in the public contract, as strict pydantic models.

Outside systems (hospitals, provider adapters, other districts) code against these shapes, so
field names and required/optional status follow /work/shared/contract.md exactly. Models ignore
unknown fields so that fields the project adds later do not break old consumers.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar, Final

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from cerniera.shared.contract.types import (
    AnswerValue,
    CaseId,
    CaseOutcome,
    CheckOutcome,
    DeclineReason,
    DischargeRef,
    EscalationReason,
    FiscalCode,
    HospitalId,
    Identifier,
    Intensity,
    IstatCode,
    Money,
    NetworkOutcome,
    NetworkResource,
    Quantity,
    Recommendation,
    Resolution,
    ServiceType,
    ShortText,
    Text,
    case_id_for,
)

__all__ = [
    "ACTIVATION_REQUESTS",
    "ACTIVATION_SERVICES",
    "BILLING_LEDGER",
    "EVENT_TYPES",
    "HOSPITAL_DISCHARGES",
    "INTAKE_CASES",
    "MONITORING_CASES",
    "PER_PROVIDER_TOPICS",
    "PROVIDERS_REPORTS",
    "PROVIDER_ID_PATTERN",
    "TOPIC_NAMES",
    "Assessment",
    "Beneficiary",
    "BudgetThresholdReached",
    "Caregiver",
    "CaseClosed",
    "CaseHandedOver",
    "DischargeAnnounced",
    "DischargeCancelled",
    "DischargePostponementRequested",
    "DischargeRescheduled",
    "EligibilityConfirmed",
    "EligibilityRejected",
    "EscalationResolved",
    "EventData",
    "HoursDelivered",
    "NetworkTaskCompleted",
    "NetworkTaskOpened",
    "Patient",
    "PatientDetailsUpdated",
    "PatientReadmitted",
    "PlanRevised",
    "ProviderId",
    "ProviderStatementIssued",
    "Reason",
    "ServiceActivated",
    "ServiceActivationAccepted",
    "ServiceActivationDeclined",
    "ServiceActivationEscalated",
    "ServiceActivationRequested",
    "ServiceDeactivated",
    "ServiceLine",
    "WeeklyCheckDone",
    "topic_events",
]

# Topic names without the configurable prefix (see topics.Topics for the full names).
HOSPITAL_DISCHARGES: Final = "hospital.discharges"
INTAKE_CASES: Final = "intake.cases"
ACTIVATION_SERVICES: Final = "activation.services"
ACTIVATION_REQUESTS: Final = "activation.requests"
"""One topic per provider, ``activation.requests.<provider_id>``: the requests (the only events
with the beneficiary's contact) and their deactivations, read by that provider alone."""
PROVIDERS_REPORTS: Final = "providers.reports"
"""One topic per provider, ``providers.reports.<provider_id>``: its answers and deliveries,
written by that provider alone."""
MONITORING_CASES: Final = "monitoring.cases"
BILLING_LEDGER: Final = "billing.ledger"
TOPIC_NAMES: Final = (
    HOSPITAL_DISCHARGES,
    INTAKE_CASES,
    ACTIVATION_SERVICES,
    ACTIVATION_REQUESTS,
    PROVIDERS_REPORTS,
    MONITORING_CASES,
    BILLING_LEDGER,
)
PER_PROVIDER_TOPICS: Final = frozenset({ACTIVATION_REQUESTS, PROVIDERS_REPORTS})
"""The topic families with one topic per provider, so that broker ACLs (literal, per topic) let
each provider read only its own requests and write only its own reports."""

PROVIDER_ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
# A provider id names its own topics: Kafka's topic characters, and no dot, so that
# "<family>.<provider_id>" reads back unambiguously.
ProviderId = Annotated[str, StringConstraints(pattern=PROVIDER_ID_PATTERN)]
"""A provider's id (ente gestore): letters, digits, hyphens and underscores, at most 64."""

RequirementId = Annotated[str, StringConstraints(pattern=r"^R[1-9][0-9]?$")]
ReasonCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+(?:\.[a-z0-9_]+)*$")]
Period = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-(?:0[1-9]|1[0-2])$")]

# Invented but realistic example values, shared by field docs and whole-event examples.
_HOSPITAL = "asst-vimercate"
_REF = "V2024-000123"
_CASE = f"{_HOSPITAL}:{_REF}"
_AMBITO = "ambito-desio"
_PROVIDER = "coop-il-melograno"
_REQUEST = "5b0f6a3e-2c1d-4e8a-9f7b-3d2a1c0e9b84"
_ADDRESS = "Via Roma 12, 20871 Vimercate (MB)"
_PATIENT: Final[dict[str, Any]] = {
    "fiscal_code": "RSSMRA85T10A562S",
    "given_name": "Mario",
    "family_name": "Rossi",
    "birth_date": "1985-12-10",
    "municipality_code": "108050",
    "address": _ADDRESS,
    "phone": "+39 039 1234567",
}
_ASSESSMENT: Final[dict[str, Any]] = {
    "answers": {"R1": "yes", "R3": "yes", "R4": "partial", "R5": "yes", "R6": "yes"},
    "brass_score": 22,
    "notes": "Vive solo, nessun familiare in zona.",
}
_BENEFICIARY: Final[dict[str, Any]] = {
    "name": "Mario Rossi",
    "address": _ADDRESS,
    "phone": "+39 039 1234567",
}


class EventData(BaseModel):
    """Base of every event's `data`: frozen, whitespace-stripped, tolerant of unknown fields."""

    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)

    event_type: ClassVar[str]
    """The CloudEvents `ce_type` (the event name, exactly)."""
    topic: ClassVar[str]
    """The topic the event is written to, without the configurable prefix; for a per-provider
    family (``PER_PROVIDER_TOPICS``), the topic of the event's ``provider_id``."""
    copied_to: ClassVar[tuple[str, ...]] = ()
    """Other topics that get a copy of the event, under its own ``ce_id`` (a deactivation goes
    to the provider's request topic too, so that a provider reads its own topic only)."""


# --- nested models ----------------------------------------------------------------------


class _NestedModel(BaseModel):
    """Same rules as EventData for the objects nested in events."""

    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)


class Patient(_NestedModel):
    """The person being discharged, as identified by the hospital."""

    fiscal_code: FiscalCode = Field(
        description="Codice fiscale (Italian tax code) of the patient (HL7 PID-3).",
        examples=["RSSMRA85T10A562S"],
    )
    given_name: ShortText = Field(description="Given name.", examples=["Mario"])
    family_name: ShortText = Field(description="Family name.", examples=["Rossi"])
    birth_date: date = Field(description="Date of birth.", examples=["1985-12-10"])
    municipality_code: IstatCode = Field(
        description="ISTAT code of the municipality of residence (Comune di residenza).",
        examples=["108050"],
    )
    address: ShortText = Field(
        description="Home address, where services will be delivered.",
        examples=[_ADDRESS],
    )
    phone: ShortText | None = Field(
        default=None, description="Phone number, if known.", examples=["+39 039 1234567"]
    )


class Caregiver(_NestedModel):
    """The family member or other person who looks after the patient, if any."""

    present: bool = Field(
        description="Whether a caregiver is present; if not, the territorial network is engaged.",
        examples=[True],
    )
    name: ShortText | None = Field(
        default=None, description="Caregiver's name.", examples=["Lucia Rossi"]
    )
    phone: ShortText | None = Field(
        default=None, description="Caregiver's phone number.", examples=["+39 333 1234567"]
    )


class Assessment(_NestedModel):
    """First assessment filled at the ward: the "Phase 2" checklist and the BRASS index."""

    answers: dict[RequirementId, AnswerValue] = Field(
        description=(
            "Answers to the district's checklist, keyed by requirement id (R1, R2, …): "
            "yes, partial or no."
        ),
        examples=[{"R1": "yes", "R2": "no", "R3": "yes", "R4": "partial", "R5": "yes"}],
    )
    brass_score: int | None = Field(
        default=None,
        ge=0,
        le=40,
        description=(
            "BRASS index (Blaylock Risk Assessment Screening Score) of discharge risk, 0–40: "
            "0–10 low, 11–19 medium, 20 or more high."
        ),
        examples=[18],
    )
    notes: Text | None = Field(
        default=None,
        description="Free notes of the assessor.",
        examples=["Vive sola al secondo piano senza ascensore; figlia a Milano."],
    )
    consent: bool | None = Field(
        default=None,
        description=(
            "Whether the person (or their guardian) gave informed consent to the protected "
            "discharge, collected by the ward with the checklist; absent: the team collects "
            "it. No provider is contacted without it. Added in 2.1."
        ),
        examples=[True],
    )


class ServiceLine(_NestedModel):
    """One service of the package granted to a case."""

    service_type: ServiceType = Field(description="The service.", examples=["sad"])
    weekly_quantity: Quantity = Field(
        description="Per week: hours for SAD, meals for meals, days for teleassistance.",
        examples=[6],
    )


class Beneficiary(_NestedModel):
    """Only what a provider needs to reach the person and start the service (data
    minimisation): no fiscal code, no birth date, no clinical data. Sent to the provider asked,
    on its own request topic only."""

    name: ShortText = Field(description="Full name of the beneficiary.", examples=["Mario Rossi"])
    address: ShortText = Field(
        description="Where the service is delivered.",
        examples=[_ADDRESS],
    )
    phone: ShortText | None = Field(
        default=None, description="Phone number, if known.", examples=["+39 039 1234567"]
    )


class Reason(_NestedModel):
    """A reason for a decision: a stable machine code plus text for people."""

    code: ReasonCode = Field(
        description="Machine code, dot-separated lowercase words.",
        examples=["phase2.primary_requirement_missing"],
    )
    text: Text = Field(
        description="Human-readable explanation.",
        examples=["Nessun 'Sì' ai requisiti 1 o 2 (rete familiare assente o inadeguata)."],
    )


# --- dp.hospital.discharges ---------------------------------------------------------------


class _HospitalVisitEvent(EventData):
    """An event about one hospital visit, identified by the hospital's own ids."""

    topic: ClassVar[str] = HOSPITAL_DISCHARGES

    hospital_id: HospitalId = Field(
        description="The project's id of the hospital (lowercase letters, digits, hyphens).",
        examples=[_HOSPITAL],
    )
    discharge_ref: DischargeRef = Field(
        description="The hospital's visit number (HL7 PV1-19); with hospital_id, the case id.",
        examples=[_REF],
    )

    @property
    def case_id(self) -> str:
        """The case id, "<hospital_id>:<discharge_ref>"."""
        return case_id_for(self.hospital_id, self.discharge_ref)


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    """Whole-event examples for the generated docs; the unit tests validate every one."""
    return ConfigDict(json_schema_extra={"examples": list(examples)})


# Fields that several events carry, documented once.
_CaseIdField = Annotated[
    CaseId, Field(description="The case id, '<hospital_id>:<discharge_ref>'.", examples=[_CASE])
]
_RequestIdField = Annotated[
    Identifier,
    Field(
        description="The activation request's id, echoed by the provider in its answers.",
        examples=[_REQUEST],
    ),
]
_ProviderIdField = Annotated[
    ProviderId, Field(description="The provider (ente gestore).", examples=[_PROVIDER])
]


class DischargeAnnounced(_HospitalVisitEvent):
    """The hospital announces a (usually future) protected discharge: the case starts here."""

    event_type: ClassVar[str] = "DischargeAnnounced"
    model_config = _examples(
        {
            "hospital_id": _HOSPITAL,
            "ward": "medicina-generale",
            "discharge_ref": _REF,
            "expected_discharge_at": "2024-10-03T10:00:00+02:00",
            "patient": _PATIENT,
            "caregiver": {"present": False},
            "assessment": _ASSESSMENT,
        },
        {
            "hospital_id": "irccs-san-gerardo",
            "ward": "geriatria",
            "discharge_ref": "SG-2024-55871",
            "expected_discharge_at": "2024-11-12T09:30:00Z",
            "patient": {
                "fiscal_code": "BNCMRA40C55D286X",
                "given_name": "Maria",
                "family_name": "Bianchi",
                "birth_date": "1940-03-15",
                "municipality_code": "108023",
                "address": "Via Garibaldi 4, 20832 Desio (MB)",
            },
        },
    )

    ward: ShortText = Field(
        description="The announcing ward (reparto).", examples=["medicina-generale"]
    )
    expected_discharge_at: AwareDatetime = Field(
        description="Expected discharge date and time (HL7 PV2-9); it often moves.",
        examples=["2024-10-03T10:00:00+02:00"],
    )
    patient: Patient = Field(description="The patient.", examples=[_PATIENT])
    caregiver: Caregiver | None = Field(
        default=None,
        description="The caregiver, if the ward knows.",
        examples=[{"present": True, "name": "Lucia Rossi", "phone": "+39 333 1234567"}],
    )
    assessment: Assessment | None = Field(
        default=None,
        description="The first assessment, if already filled at the ward.",
        examples=[_ASSESSMENT],
    )


class DischargeRescheduled(_HospitalVisitEvent):
    """The expected discharge moved to another date and time."""

    event_type: ClassVar[str] = "DischargeRescheduled"
    model_config = _examples(
        {
            "hospital_id": _HOSPITAL,
            "discharge_ref": _REF,
            "expected_discharge_at": "2024-10-05T11:00:00+02:00",
        }
    )

    expected_discharge_at: AwareDatetime = Field(
        description="New expected discharge date and time.",
        examples=["2024-10-05T11:00:00+02:00"],
    )


class DischargeCancelled(_HospitalVisitEvent):
    """The announced discharge will not happen (HL7 ADT^A13)."""

    event_type: ClassVar[str] = "DischargeCancelled"
    model_config = _examples(
        {"hospital_id": _HOSPITAL, "discharge_ref": _REF, "reason": "Peggioramento clinico."},
        {"hospital_id": _HOSPITAL, "discharge_ref": _REF},
    )

    reason: Text | None = Field(
        default=None, description="Why, if the hospital says.", examples=["Peggioramento clinico."]
    )


class PatientReadmitted(_HospitalVisitEvent):
    """A discharged patient is back in hospital; discharge_ref is the original visit's."""

    event_type: ClassVar[str] = "PatientReadmitted"
    model_config = _examples(
        {
            "hospital_id": _HOSPITAL,
            "discharge_ref": _REF,
            "readmitted_at": "2024-10-15T22:40:00+02:00",
        }
    )

    readmitted_at: AwareDatetime = Field(
        description="When the patient was readmitted.", examples=["2024-10-15T22:40:00+02:00"]
    )


class PatientDetailsUpdated(_HospitalVisitEvent):
    """The hospital corrected the patient's contact details (HL7 ADT^A08): where the services
    are delivered, how to reach the person and their caregiver. Added in 2.1."""

    event_type: ClassVar[str] = "PatientDetailsUpdated"
    model_config = _examples(
        {
            "hospital_id": _HOSPITAL,
            "discharge_ref": _REF,
            "address": "Via Manzoni 3, 20871 Vimercate (MB)",
            "phone": "+39 039 7654321",
        }
    )

    address: ShortText = Field(
        description="Home address, where services will be delivered.", examples=[_ADDRESS]
    )
    phone: ShortText | None = Field(
        default=None, description="Phone number, if known.", examples=["+39 039 1234567"]
    )
    caregiver: Caregiver | None = Field(
        default=None,
        description="The caregiver as now known; absent: unchanged.",
        examples=[{"present": True, "name": "Lucia Rossi", "phone": "+39 333 1234567"}],
    )


# --- dp.intake.cases ----------------------------------------------------------------------


class EligibilityConfirmed(EventData):
    """The team (équipe) confirmed the case, with an intensity package of services."""

    event_type: ClassVar[str] = "EligibilityConfirmed"
    topic: ClassVar[str] = INTAKE_CASES
    model_config = _examples(
        {
            "case_id": _CASE,
            "ambito_id": _AMBITO,
            "intensity": "medium",
            "services": [
                {"service_type": "sad", "weekly_quantity": 6},
                {"service_type": "meals", "weekly_quantity": 5},
                {"service_type": "teleassistance", "weekly_quantity": 7},
            ],
            "expected_discharge_at": "2024-10-03T10:00:00+02:00",
            "decided_by": "rule",
            "reasons": [
                {
                    "code": "phase2.requirements_met",
                    "text": "R1 'Sì' e cinque requisiti 'Sì' o 'Parzialmente'.",
                }
            ],
        }
    )

    case_id: _CaseIdField
    ambito_id: Identifier = Field(
        description="The district (Ambito territoriale sociale) that takes the case in charge.",
        examples=[_AMBITO],
    )
    intensity: Intensity = Field(description="Intensity of the package.", examples=["medium"])
    services: list[ServiceLine] = Field(
        min_length=1,
        description="Services to activate before discharge.",
        examples=[[{"service_type": "sad", "weekly_quantity": 6}]],
    )
    expected_discharge_at: AwareDatetime = Field(
        description="Expected discharge known at decision time: the activation deadline.",
        examples=["2024-10-03T10:00:00+02:00"],
    )
    decided_by: Identifier = Field(
        description='"rule" when the district rule decided, else the deciding operator\'s id.',
        examples=["rule", "op-lbianchi"],
    )
    reasons: list[Reason] = Field(
        description=(
            "Why, as codes with fixed texts: an operator's override is `override.team` (who: "
            "`decided_by`); the operator's own words stay in intake, never published."
        ),
        examples=[[{"code": "phase2.requirements_met", "text": "Requisiti soddisfatti."}]],
    )
    person_ref: Identifier | None = Field(
        default=None,
        description=(
            "A pseudonym of the person (keyed hash of the fiscal code, the same across visits "
            "and hospitals): what per-person limits such as the SAD hours cap count on, "
            "without the fiscal code. Added in 2.1."
        ),
        examples=["p-3f9a1c0e5b7d2a48"],
    )
    plan_version: int = Field(
        default=1,
        ge=1,
        description="The version of the individual plan (PAI) these services are. Added in 2.1.",
        examples=[1],
    )


class PlanRevised(EventData):
    """The team changed a confirmed case's individual plan (PAI): the services and their
    weekly quantities from now on (a service absent is stopped). Activation re-plans: adds,
    changes and stops requests. Added in 2.1."""

    event_type: ClassVar[str] = "PlanRevised"
    topic: ClassVar[str] = INTAKE_CASES
    model_config = _examples(
        {
            "case_id": _CASE,
            "ambito_id": _AMBITO,
            "plan_version": 2,
            "services": [
                {"service_type": "sad", "weekly_quantity": 9},
                {"service_type": "emergency_alarm", "weekly_quantity": 7},
            ],
            "revised_by": "op-lbianchi",
            "reason": {"code": "plan.check_adjustment", "text": "Piano adeguato alla verifica."},
        }
    )

    case_id: _CaseIdField
    ambito_id: Identifier = Field(description="The district in charge.", examples=[_AMBITO])
    plan_version: int = Field(ge=2, description="The plan's new version.", examples=[2])
    services: list[ServiceLine] = Field(
        description="Every service of the plan from now on; an empty list stops them all.",
        examples=[[{"service_type": "sad", "weekly_quantity": 9}]],
    )
    revised_by: Identifier = Field(description="The operator.", examples=["op-lbianchi"])
    reason: Reason = Field(
        description="Why, as a code with a fixed text (`plan.tailored`, "
        "`plan.check_adjustment`, `plan.escalation_resolved`); the operator's words stay in "
        "intake.",
        examples=[{"code": "plan.tailored", "text": "Piano personalizzato dall'équipe."}],
    )


class NetworkTaskOpened(EventData):
    """A case without a caregiver: the team engages the territorial network (volunteers,
    parish, neighbours, the family and community nurse). Added in 2.1."""

    event_type: ClassVar[str] = "NetworkTaskOpened"
    topic: ClassVar[str] = INTAKE_CASES
    model_config = _examples(
        {
            "case_id": _CASE,
            "ambito_id": _AMBITO,
            "task_id": "net-1",
            "opened_at": "2024-10-01T09:00:00+02:00",
        }
    )

    case_id: _CaseIdField
    ambito_id: Identifier = Field(description="The district in charge.", examples=[_AMBITO])
    task_id: Identifier = Field(description="The task's id.", examples=["net-1"])
    opened_at: AwareDatetime = Field(description="When.", examples=["2024-10-01T09:00:00+02:00"])


class NetworkTaskCompleted(EventData):
    """The territorial network's answer for a case: who takes part. Added in 2.1."""

    event_type: ClassVar[str] = "NetworkTaskCompleted"
    topic: ClassVar[str] = INTAKE_CASES
    model_config = _examples(
        {
            "case_id": _CASE,
            "task_id": "net-1",
            "outcome": "engaged",
            "resources": ["volunteers", "family_community_nurse"],
            "completed_at": "2024-10-02T17:00:00+02:00",
        }
    )

    case_id: _CaseIdField
    task_id: Identifier = Field(description="The task's id.", examples=["net-1"])
    outcome: NetworkOutcome = Field(description="The outcome.", examples=["engaged"])
    resources: list[NetworkResource] = Field(
        description="Who takes part.", examples=[["volunteers"]]
    )
    completed_at: AwareDatetime = Field(description="When.", examples=["2024-10-02T17:00:00+02:00"])


class EligibilityRejected(EventData):
    """The case does not qualify for a protected discharge."""

    event_type: ClassVar[str] = "EligibilityRejected"
    topic: ClassVar[str] = INTAKE_CASES
    model_config = _examples(
        {
            "case_id": _CASE,
            "reasons": [
                {
                    "code": "phase2.primary_requirement_missing",
                    "text": "Nessun 'Sì' ai requisiti 1 o 2.",
                }
            ],
        }
    )

    case_id: _CaseIdField
    reasons: list[Reason] = Field(
        min_length=1,
        description=(
            "Machine codes plus fixed texts; an operator's override is `override.team`, its "
            "words kept in intake, never published."
        ),
        examples=[[{"code": "phase2.primary_requirement_missing", "text": "Requisito 1/2."}]],
    )
    decided_by: Identifier = Field(
        default="rule",
        description=(
            "`rule` when the district's rule decided, else the operator who overrode it. "
            "Added to the contract in 1.1; absent means `rule`."
        ),
        examples=["rule"],
    )


# --- dp.activation.services and dp.activation.requests.<provider_id> -----------------------


class _RequestEvent(EventData):
    """An event about one activation request: the case, the request, its provider, its service."""

    topic: ClassVar[str] = ACTIVATION_SERVICES

    case_id: _CaseIdField
    request_id: _RequestIdField
    provider_id: _ProviderIdField
    service_type: ServiceType = Field(description="The service.", examples=["sad"])


class ServiceActivationRequested(_RequestEvent):
    """Activation asks one provider to start one service for a case. The only event with the
    beneficiary's contact: it goes to that provider's own request topic, nowhere else."""

    event_type: ClassVar[str] = "ServiceActivationRequested"
    topic: ClassVar[str] = ACTIVATION_REQUESTS
    model_config = _examples(
        {
            "case_id": _CASE,
            "request_id": _REQUEST,
            "provider_id": _PROVIDER,
            "service_type": "sad",
            "weekly_quantity": 6,
            "start_by": "2024-10-03",
            "beneficiary": _BENEFICIARY,
        }
    )

    weekly_quantity: Quantity = Field(
        description="Per week: hours for SAD, meals for meals, days for teleassistance.",
        examples=[6],
    )
    start_by: date = Field(
        description=(
            "The service must be running by this day: the discharge day, or, when no provider "
            "can start that early, this provider's earliest day (the case is then escalated). "
            "A request repeated with the same request_id updates it (e.g. a new start_by "
            "after the discharge was rescheduled)."
        ),
        examples=["2024-10-03"],
    )
    beneficiary: Beneficiary = Field(
        description="Who receives the service.", examples=[_BENEFICIARY]
    )


class ServiceActivated(_RequestEvent):
    """A service is active for the case (the provider accepted and starts on this day)."""

    event_type: ClassVar[str] = "ServiceActivated"
    model_config = _examples(
        {
            "case_id": _CASE,
            "request_id": _REQUEST,
            "provider_id": _PROVIDER,
            "service_type": "sad",
            "active_from": "2024-10-03",
        }
    )

    active_from: date = Field(description="First day of service.", examples=["2024-10-03"])


class ServiceActivationEscalated(EventData):
    """No provider can start the service in time: an operator must step in."""

    event_type: ClassVar[str] = "ServiceActivationEscalated"
    topic: ClassVar[str] = ACTIVATION_SERVICES
    model_config = _examples(
        {"case_id": _CASE, "service_type": "meals", "reason": "all_providers_declined"}
    )

    case_id: _CaseIdField
    service_type: ServiceType = Field(description="The service.", examples=["meals"])
    reason: EscalationReason = Field(
        description="Why activation could not be completed automatically.",
        examples=["all_providers_declined"],
    )


class EscalationResolved(EventData):
    """The team resolved an escalated service: a provider by hand, covered by the family or
    the territorial network, dropped, or the discharge to be postponed. Added in 2.1."""

    event_type: ClassVar[str] = "EscalationResolved"
    topic: ClassVar[str] = ACTIVATION_SERVICES
    model_config = _examples(
        {
            "case_id": _CASE,
            "service_type": "meals",
            "resolution": "manual_provider",
            "provider_id": _PROVIDER,
            "resolved_by": "op-lbianchi",
            "resolved_at": "2024-10-01T11:00:00+02:00",
        },
        {
            "case_id": _CASE,
            "service_type": "meals",
            "resolution": "territorial_network",
            "covered_by": "volunteers",
            "resolved_by": "op-lbianchi",
            "resolved_at": "2024-10-01T11:00:00+02:00",
        },
    )

    case_id: _CaseIdField
    service_type: ServiceType = Field(description="The service.", examples=["meals"])
    resolution: Resolution = Field(description="How.", examples=["manual_provider"])
    provider_id: ProviderId | None = Field(
        default=None,
        description="The provider assigned by hand (manual_provider).",
        examples=[_PROVIDER],
    )
    covered_by: NetworkResource | None = Field(
        default=None,
        description="Who covers it (family, territorial_network).",
        examples=["volunteers"],
    )
    reason_code: ReasonCode | None = Field(
        default=None, description="Why it was dropped (dropped).", examples=["plan.not_needed"]
    )
    resolved_by: Identifier = Field(description="The operator.", examples=["op-lbianchi"])
    resolved_at: AwareDatetime = Field(description="When.", examples=["2024-10-01T11:00:00+02:00"])


class DischargePostponementRequested(EventData):
    """The team asks the ward to postpone a discharge until the services can start; the
    gateway turns it into a message back to the hospital. Added in 2.1."""

    event_type: ClassVar[str] = "DischargePostponementRequested"
    topic: ClassVar[str] = ACTIVATION_SERVICES
    model_config = _examples(
        {
            "case_id": _CASE,
            "hospital_id": _HOSPITAL,
            "discharge_ref": _REF,
            "postpone_until": "2024-10-07",
            "waiting_for": ["meals"],
            "requested_by": "op-lbianchi",
            "requested_at": "2024-10-01T11:00:00+02:00",
        }
    )

    case_id: _CaseIdField
    hospital_id: HospitalId = Field(description="The hospital.", examples=[_HOSPITAL])
    discharge_ref: DischargeRef = Field(description="The hospital's visit.", examples=[_REF])
    postpone_until: date = Field(
        description="The earliest day every service can be running.", examples=["2024-10-07"]
    )
    waiting_for: list[ServiceType] = Field(
        min_length=1, description="The services not ready before.", examples=[["meals"]]
    )
    requested_by: Identifier = Field(description="The operator.", examples=["op-lbianchi"])
    requested_at: AwareDatetime = Field(description="When.", examples=["2024-10-01T11:00:00+02:00"])


class ServiceDeactivated(_RequestEvent):
    """A service stops for the case (closure, readmission, plan change, the provider passed
    over). Published on `activation.services`, and a copy (its own `ce_id`) on the provider's
    request topic, so that the provider stops the service reading its own topic alone."""

    event_type: ClassVar[str] = "ServiceDeactivated"
    copied_to: ClassVar[tuple[str, ...]] = (ACTIVATION_REQUESTS,)
    model_config = _examples(
        {
            "case_id": _CASE,
            "request_id": _REQUEST,
            "provider_id": _PROVIDER,
            "service_type": "sad",
            "until": "2024-11-02",
        }
    )

    until: date = Field(description="Last day of service.", examples=["2024-11-02"])


# --- dp.providers.reports.<provider_id> -----------------------------------------------------


class ServiceActivationAccepted(EventData):
    """The provider accepted an activation request."""

    event_type: ClassVar[str] = "ServiceActivationAccepted"
    topic: ClassVar[str] = PROVIDERS_REPORTS
    model_config = _examples(
        {
            "request_id": _REQUEST,
            "provider_id": _PROVIDER,
            "scheduled_start": "2024-10-03T09:00:00+02:00",
        }
    )

    request_id: _RequestIdField
    provider_id: _ProviderIdField
    scheduled_start: AwareDatetime = Field(
        description="When the provider will start the service.",
        examples=["2024-10-03T09:00:00+02:00"],
    )


class ServiceActivationDeclined(EventData):
    """The provider declined an activation request; activation tries elsewhere or escalates."""

    event_type: ClassVar[str] = "ServiceActivationDeclined"
    topic: ClassVar[str] = PROVIDERS_REPORTS
    model_config = _examples(
        {
            "request_id": _REQUEST,
            "provider_id": _PROVIDER,
            "reason_code": "capacity",
            "note": "Nessun operatore ASA disponibile fino al 10/10.",
        },
        {"request_id": _REQUEST, "provider_id": _PROVIDER, "reason_code": "out_of_area"},
    )

    request_id: _RequestIdField
    provider_id: _ProviderIdField
    reason_code: DeclineReason = Field(description="Why.", examples=["capacity"])
    note: Text | None = Field(
        default=None,
        description="Free text from the provider.",
        examples=["Nessun operatore ASA disponibile fino al 10/10."],
    )


class HoursDelivered(EventData):
    """The provider reports one delivered line; billing pays it by tariff."""

    event_type: ClassVar[str] = "HoursDelivered"
    topic: ClassVar[str] = PROVIDERS_REPORTS
    model_config = _examples(
        {
            "case_id": _CASE,
            "provider_id": _PROVIDER,
            "service_type": "sad",
            "delivered_on": "2024-10-04",
            "quantity": 1.5,
            "delivery_ref": "MEL-2024-10-04-0042",
        }
    )

    case_id: _CaseIdField
    provider_id: _ProviderIdField
    service_type: ServiceType = Field(description="The service.", examples=["sad"])
    delivered_on: date = Field(description="Day of delivery.", examples=["2024-10-04"])
    quantity: Quantity = Field(
        description="Hours for SAD, meals for meals, days for teleassistance.", examples=[1.5]
    )
    delivery_ref: ShortText = Field(
        description="The provider's unique id for this line; a repeat is the same delivery.",
        examples=["MEL-2024-10-04-0042"],
    )
    evening: bool = Field(
        default=False,
        description=(
            "Delivered in the evening (SAD after 20:00), which the district's tariff may pay "
            "at a surcharge. Added to the contract in 1.1; absent means false."
        ),
        examples=[False],
    )


# --- dp.monitoring.cases ------------------------------------------------------------------


class WeeklyCheckDone(EventData):
    """The team checked the case (weekly from discharge, or whenever needed): codes only."""

    event_type: ClassVar[str] = "WeeklyCheckDone"
    topic: ClassVar[str] = MONITORING_CASES
    model_config = _examples(
        {
            "case_id": _CASE,
            "week": 2,
            "checked_at": "2024-10-17T15:00:00+02:00",
            "outcome": "needs_adjustment",
            "recommendation": "continue",
        },
        {
            "case_id": _CASE,
            "week": 1,
            "checked_at": "2024-10-10T15:00:00+02:00",
            "outcome": "stable",
        },
    )

    case_id: _CaseIdField
    week: int = Field(ge=1, description="Week since discharge: 1, 2, …", examples=[2])
    checked_at: AwareDatetime = Field(
        description="When the check was done.", examples=["2024-10-17T15:00:00+02:00"]
    )
    outcome: CheckOutcome = Field(
        description=(
            "The team's finding. The team's notes stay in monitoring: clinical free text is "
            "never published (removed from the contract in 2.0)."
        ),
        examples=["stable"],
    )
    recommendation: Recommendation | None = Field(
        default=None, description="What to do next.", examples=["continue"]
    )


class CaseHandedOver(EventData):
    """The case passes to the municipality's social services: the services that continue
    under the municipality are not stopped when the follow-up ends (the hand-over summary
    for the municipality is served by monitoring, in Italian). Followed by `CaseClosed` with
    outcome `handed_over_to_municipality`. Added in 2.1."""

    event_type: ClassVar[str] = "CaseHandedOver"
    topic: ClassVar[str] = MONITORING_CASES
    model_config = _examples(
        {
            "case_id": _CASE,
            "ambito_id": _AMBITO,
            "municipality_code": "108050",
            "continuing": ["sad", "emergency_alarm"],
            "handed_over_at": "2024-11-02T12:00:00+01:00",
        }
    )

    case_id: _CaseIdField
    ambito_id: Identifier = Field(description="The district.", examples=[_AMBITO])
    municipality_code: IstatCode = Field(
        description="ISTAT code of the municipality taking over.", examples=["108050"]
    )
    continuing: list[ServiceType] = Field(
        description="The services that go on under the municipality.", examples=[["sad"]]
    )
    handed_over_at: AwareDatetime = Field(
        description="When.", examples=["2024-11-02T12:00:00+01:00"]
    )


class CaseClosed(EventData):
    """The case ended: after the follow-up period (30 days by default) or early."""

    event_type: ClassVar[str] = "CaseClosed"
    topic: ClassVar[str] = MONITORING_CASES
    model_config = _examples(
        {"case_id": _CASE, "closed_at": "2024-11-02T12:00:00+01:00", "outcome": "completed"}
    )

    case_id: _CaseIdField
    closed_at: AwareDatetime = Field(
        description="When the case was closed.", examples=["2024-11-02T12:00:00+01:00"]
    )
    outcome: CaseOutcome = Field(description="How the case ended.", examples=["completed"])


# --- dp.billing.ledger --------------------------------------------------------------------

_FUNDING_SOURCE_DOC = (
    "The funding source of the budget, e.g. PNRR Line 1.1.3 or the national social policy "
    "fund (FNPS, Fondo Nazionale Politiche Sociali) of a year."
)


class BudgetThresholdReached(EventData):
    """A district's spending on one funding source crossed a configured share of its budget."""

    event_type: ClassVar[str] = "BudgetThresholdReached"
    topic: ClassVar[str] = BILLING_LEDGER
    model_config = _examples(
        {
            "ambito_id": "ambito-magentino",
            "funding_source": "pnrr-m5c2-1.1.3",
            "threshold_percent": 80,
            "spent": "263996.00",
            "budget": "329995.00",
            "reached_at": "2025-03-31T18:00:00+02:00",
        }
    )

    ambito_id: Identifier = Field(description="The district.", examples=["ambito-magentino"])
    funding_source: Identifier = Field(
        description=_FUNDING_SOURCE_DOC, examples=["pnrr-m5c2-1.1.3", "fnps-2022"]
    )
    threshold_percent: int = Field(
        ge=1, le=100, description="The threshold crossed, in percent of budget.", examples=[80]
    )
    spent: Money = Field(ge=0, description="Spent so far, in euros.", examples=["263996.00"])
    budget: Money = Field(gt=0, description="The budget, in euros.", examples=["329995.00"])
    reached_at: AwareDatetime = Field(
        description="When the threshold was crossed.", examples=["2025-03-31T18:00:00+02:00"]
    )


class ProviderStatementIssued(EventData):
    """Billing issued a provider's statement for one month: what the district owes it."""

    event_type: ClassVar[str] = "ProviderStatementIssued"
    topic: ClassVar[str] = BILLING_LEDGER
    model_config = _examples(
        {
            "provider_id": _PROVIDER,
            "ambito_id": _AMBITO,
            "period": "2024-10",
            "total": "2851.50",
            "lines": 137,
            "issued_at": "2024-11-05T09:00:00+01:00",
        }
    )

    provider_id: _ProviderIdField
    ambito_id: Identifier = Field(description="The paying district.", examples=[_AMBITO])
    period: Period = Field(description="The month covered, YYYY-MM.", examples=["2024-10"])
    total: Money = Field(ge=0, description="Total due, in euros.", examples=["2851.50"])
    lines: int = Field(ge=0, description="Number of delivery lines billed.", examples=[137])
    issued_at: AwareDatetime = Field(
        description="When the statement was issued.", examples=["2024-11-05T09:00:00+01:00"]
    )


# --- registry ------------------------------------------------------------------------------

EVENT_TYPES: Final[dict[str, type[EventData]]] = {
    model.event_type: model
    for model in (
        DischargeAnnounced,
        DischargeRescheduled,
        DischargeCancelled,
        PatientReadmitted,
        PatientDetailsUpdated,
        EligibilityConfirmed,
        EligibilityRejected,
        PlanRevised,
        NetworkTaskOpened,
        NetworkTaskCompleted,
        ServiceActivationRequested,
        ServiceActivated,
        ServiceActivationEscalated,
        EscalationResolved,
        DischargePostponementRequested,
        ServiceDeactivated,
        ServiceActivationAccepted,
        ServiceActivationDeclined,
        HoursDelivered,
        WeeklyCheckDone,
        CaseHandedOver,
        CaseClosed,
        BudgetThresholdReached,
        ProviderStatementIssued,
    )
}
"""Every event model by its CloudEvents `ce_type`: what a consumer uses to parse a record."""


def topic_events(topic: str) -> list[type[EventData]]:
    """The event models written to ``topic`` (a name without prefix, e.g. "intake.cases"; for
    a per-provider family, e.g. "activation.requests"), copies included."""
    if topic not in TOPIC_NAMES:
        raise ValueError(f"unknown topic {topic!r}; expected one of {', '.join(TOPIC_NAMES)}")
    return [m for m in EVENT_TYPES.values() if m.topic == topic or topic in m.copied_to]
