"""The desk's view of a case and of a provider's request: what the screens show, folded from
the events of every topic (``fold.apply``). Plain data, no I/O: stored as JSON in
``desk.cases.view`` / ``desk.requests.view`` and read back with ``model_validate``.

The desk sees only what the events carry. What intake keeps to itself (the rule's proposal
awaiting the team's confirmation, the operator's words) the screens ask intake for, with the
user's own token.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from cerniera.shared.contract.types import ServiceType


class _View(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Stage(StrEnum):
    """Where a case is, as the team sees it."""

    ANNOUNCED = "announced"
    """The hospital announced the discharge; intake has not decided yet (assessment or the
    team's confirmation pending)."""
    CONFIRMED = "confirmed"
    """Eligible: a plan is in force and its services are being activated or running."""
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    """The hospital cancelled the discharge."""
    CLOSED = "closed"
    HANDED_OVER = "handed_over"


class ServiceStatus(StrEnum):
    """One service of the plan, from the request to its end."""

    PLANNED = "planned"
    """In the plan; no request sent yet."""
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    """The last provider asked declined; activation tries the next or escalates."""
    ACTIVE = "active"
    ESCALATED = "escalated"
    """No provider could take it in time: the team must decide (``escalation``)."""
    COVERED = "covered"
    """Escalation resolved without a provider (family, territorial network)."""
    DROPPED = "dropped"
    ENDED = "ended"


class Person(_View):
    fiscal_code: str
    given_name: str
    family_name: str
    birth_date: date
    municipality_code: str
    address: str
    phone: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class CaregiverView(_View):
    present: bool
    name: str | None = None
    phone: str | None = None


class AssessmentView(_View):
    answers: dict[str, str] = Field(default_factory=dict)
    """BRASS and eligibility items: requirement id → yes / partial / no."""
    brass_score: int | None = None
    consent: bool | None = None
    notes: str | None = None


class PlanLine(_View):
    service_type: ServiceType
    weekly_quantity: float


class PlanVersion(_View):
    version: int
    services: list[PlanLine]
    at: datetime
    by: str
    reason: str | None = None
    """Italian text of the revision's reason code (version 1: the decision's reasons)."""


class Escalation(_View):
    reason: str
    """``EscalationReason`` code."""
    escalated_at: datetime
    resolution: str | None = None
    """``Resolution`` code once resolved."""
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    provider_id: str | None = None
    """The provider assigned by hand (``manual_provider``)."""
    covered_by: str | None = None
    """``NetworkResource`` code of who covers the service (family, territorial network)."""
    reason_code: str | None = None
    """Why the service was dropped (``dropped``)."""


class ServiceView(_View):
    service_type: ServiceType
    weekly_quantity: float | None = None
    status: ServiceStatus = ServiceStatus.PLANNED
    provider_id: str | None = None
    request_id: str | None = None
    start_by: date | None = None
    scheduled_start: datetime | None = None
    active_from: date | None = None
    until: date | None = None
    escalation: Escalation | None = None
    """The open or last escalation of this service."""


class CheckView(_View):
    week: int
    checked_at: datetime
    outcome: str
    recommendation: str | None = None


class NetworkTask(_View):
    task_id: str
    opened_at: datetime
    completed_at: datetime | None = None
    outcome: str | None = None
    resources: list[str] = Field(default_factory=list)


class Closure(_View):
    closed_at: datetime
    outcome: str
    """``CaseOutcome`` code."""
    handed_over_at: datetime | None = None
    municipality_code: str | None = None
    continuing: list[ServiceType] = Field(default_factory=list)


class RequestFacts(_View):
    """What the desk knows of one activation request, gathered from three topics (activation's,
    the provider's requests, the provider's reports) that arrive in any order: the provider's
    answer may be read before the request it answers. ``fold.request_view`` turns it into the
    provider's ``RequestView`` once the request itself is known."""

    request_id: str
    provider_id: str
    service_type: ServiceType | None = None
    """Unknown while only the provider's answer has been read."""
    weekly_quantity: float | None = None
    start_by: date | None = None
    beneficiary_name: str | None = None
    beneficiary_address: str | None = None
    beneficiary_phone: str | None = None
    requested_at: datetime | None = None
    """When activation first sent it; None while the request itself is unread."""
    answer: str | None = None
    """The provider's last answer: ``accepted`` or ``declined``."""
    scheduled_start: datetime | None = None
    decline_reason: str | None = None
    """``DeclineReason`` code."""
    active_from: date | None = None
    until: date | None = None
    """Set once the request ended (``ServiceDeactivated``): it never starts again."""


class Delivery(_View):
    """One line a provider reported delivered (``HoursDelivered``)."""

    provider_id: str
    service_type: ServiceType
    delivered_on: date
    quantity: float
    evening: bool = False


class Postponement(_View):
    postpone_until: date
    waiting_for: list[ServiceType]
    requested_at: datetime


class CaseView(_View):
    """Everything the desk knows about one case."""

    case_id: str
    ambito_id: str | None = None
    hospital_id: str | None = None
    discharge_ref: str | None = None
    ward: str | None = None
    stage: Stage = Stage.ANNOUNCED
    announced_at: datetime | None = None
    expected_discharge_at: datetime | None = None
    person: Person | None = None
    caregiver: CaregiverView | None = None
    assessment: AssessmentView | None = None
    intensity: str | None = None
    decided_by: str | None = None
    """``rule`` or the operator who confirmed."""
    decided_at: datetime | None = None
    reasons: list[str] = Field(default_factory=list)
    """Italian texts of the decision's reasons."""
    plan: list[PlanLine] = Field(default_factory=list)
    plan_version: int = 0
    versions: list[PlanVersion] = Field(default_factory=list)
    services: dict[str, ServiceView] = Field(default_factory=dict)
    """By service type."""
    checks: list[CheckView] = Field(default_factory=list)
    network_task: NetworkTask | None = None
    postponement: Postponement | None = None
    readmitted_at: datetime | None = None
    closure: Closure | None = None
    updated_at: datetime | None = None
    """The time of the latest event folded in (its ``ce_time``)."""
    cancelled_at: datetime | None = None
    """When the hospital cancelled the discharge (a later announcement undoes it)."""
    cancellation_reason: str | None = None
    """The hospital's words, if it gave any."""
    eligible: bool | None = None
    """Intake's last decision: True confirmed, False rejected, None not decided yet."""
    discharge_told_at: datetime | None = None
    """When the hospital last told the expected discharge (its event's time): a later hospital
    event wins, intake's copy of the date only fills in while the hospital's is unknown."""
    requests: dict[str, RequestFacts] = Field(default_factory=dict)
    """Every activation request of the case, by request id (the services' status is drawn
    from them)."""
    deliveries: dict[str, Delivery] = Field(default_factory=dict)
    """Delivered lines by ``<provider_id>:<delivery_ref>`` (a repeated line is the same)."""


class RequestStatus(StrEnum):
    PENDING = "pending"
    """Sent to the provider, not answered."""
    ACCEPTED = "accepted"
    DECLINED = "declined"
    ACTIVE = "active"
    ENDED = "ended"


class RequestView(_View):
    """One activation request as its provider sees it (the portal)."""

    request_id: str
    provider_id: str
    case_id: str
    service_type: ServiceType
    weekly_quantity: float
    start_by: date
    beneficiary_name: str
    beneficiary_address: str
    beneficiary_phone: str | None = None
    status: RequestStatus = RequestStatus.PENDING
    requested_at: datetime
    scheduled_start: datetime | None = None
    decline_reason: str | None = None
    active_from: date | None = None
    until: date | None = None
    delivered: float = 0.0
    """Quantity reported delivered so far (hours, meals or days)."""
    last_delivered_on: date | None = None
