"""Readiness: is everything a beneficiary needs going to be running on the discharge day and,
if not, which provider is late and why, in words an operator can act on. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from cerniera.activation.domain import Case, CaseStatus
from cerniera.activation.planning import Attempt, RequestStatus, latest, starts_late
from cerniera.shared.clock import ROME
from cerniera.shared.contract import ServiceType


@dataclass(frozen=True)
class ServiceReadiness:
    service_type: ServiceType
    provider_id: str | None
    request_id: str | None
    status: str
    start_by: date | None
    active_from: date | None
    late: str | None
    """Why this service is not (yet) ready for the discharge day; ``None`` when it is."""


@dataclass(frozen=True)
class Readiness:
    case_id: str
    status: CaseStatus
    discharge_on: date | None
    ready: bool
    services: list[ServiceReadiness]
    waiting_for: str | None = None
    ambito_id: str | None = None
    """The district that took the case in charge (None before its decision)."""


def readiness(case: Case, attempts: Sequence[Attempt]) -> Readiness:
    """Whether every service of the package is confirmed to start on or before the discharge
    day and, for each one that is not, why: in words an operator can act on."""
    services = [_service_readiness(case, s.service_type, attempts) for s in case.services]
    waiting_for = {
        CaseStatus.AWAITING_ELIGIBILITY: "the team's eligibility decision (package of services)",
        CaseStatus.AWAITING_CONTACT: "the hospital's announcement (beneficiary's contact)",
    }.get(case.status)
    ready = (
        case.status is CaseStatus.PLANNED
        and bool(services)
        and all(s.late is None for s in services)
    )
    return Readiness(
        case.case_id, case.status, case.discharge_on, ready, services, waiting_for, case.ambito_id
    )


def _service_readiness(
    case: Case, service: ServiceType, attempts: Sequence[Attempt]
) -> ServiceReadiness:
    current = latest(attempts, service)
    if current is None:
        if case.status is CaseStatus.ENDED:
            status, late = "ended", f"case ended ({case.end_reason})"
        elif case.status is not CaseStatus.PLANNED:
            status, late = "waiting", "waiting for the hospital's announcement before asking"
        else:
            status = "escalated"
            late = (
                f"no provider offers {service.value} in municipality {case.municipality_code}: "
                "escalated"
            )
        return ServiceReadiness(service, None, None, status, None, None, late)
    return ServiceReadiness(
        service_type=service,
        provider_id=current.provider_id,
        request_id=current.request_id,
        status=current.status.value,
        start_by=current.start_by,
        active_from=current.active_from,
        late=_why_late(case, current, attempts),
    )


def _why_late(case: Case, current: Attempt, attempts: Sequence[Attempt]) -> str | None:
    provider = current.provider_id
    if current.status is RequestStatus.ACCEPTED:
        assert current.active_from is not None
        if case.discharge_on is not None and starts_late(current.active_from, case.discharge_on):
            return (
                f"starts after discharge: {provider} starts on {current.active_from}, "
                f"discharge on {case.discharge_on}"
            )
        return None
    if current.status is RequestStatus.REQUESTED:
        text = (
            f"waiting for answer from {provider} since {_when(current.requested_at)}, "
            f"deadline {_when(current.deadline_at)}"
        )
        previous = [
            a for a in attempts if a.service_type == current.service_type and a is not current
        ]
        if previous:
            before = max(previous, key=lambda a: a.attempt)
            text = f"{_what_happened(before)}, now asking {provider}: {text}"
        if case.discharge_on is not None and starts_late(current.start_by, case.discharge_on):
            text += f"; cannot start before {current.start_by}, after discharge"
        return text
    if case.status is CaseStatus.ENDED:
        return f"case ended ({case.end_reason})"
    if current.status is RequestStatus.DEACTIVATED:
        return f"request to {provider} withdrawn ({current.reason})"
    return f"{_what_happened(current)}; no other provider: escalated"


def _what_happened(attempt: Attempt) -> str:
    if attempt.status is RequestStatus.DECLINED:
        return f"declined by {attempt.provider_id} ({attempt.reason})"
    if attempt.status is RequestStatus.EXPIRED:
        return f"no answer from {attempt.provider_id} by {_when(attempt.deadline_at)}"
    return f"{attempt.provider_id}: {attempt.status.value}"


def _when(moment: datetime) -> str:
    return moment.astimezone(ROME).strftime("%Y-%m-%d %H:%M")
