"""What activation tells providers (and their adapters) and the rest of the platform.
Pure: each function builds one event of the contract from a case and one of its requests.
Where each goes is the contract's (``Topics.destinations``): a request only to its provider's
own topic ``activation.requests.<provider_id>``; a deactivation to ``activation.services`` and,
as a copy, to the provider's topic; activations and escalations to ``activation.services``,
which carries no personal data.

- ``ServiceActivationRequested`` asks one provider to start one service; ``request_id`` is
  ``<case_id>/<service_type>/<n>``, ``n`` counting the requests made for that service.
  **A repeated ``request_id`` is an update, not a new request**: when the discharge moves, every
  open request (pending or accepted) is sent again with the same ``request_id`` and the new
  ``start_by`` (and when a new decision changes the weekly quantity, with the new
  ``weekly_quantity``); the provider answers again if its answer changes.
- ``ServiceActivated`` once the provider accepted (``active_from`` = the Italian day of its
  ``scheduled_start``; a later acceptance of the same request with another day updates it).
- ``ServiceDeactivated`` ends a request: the case ended (cancelled, readmitted, closed), a new
  decision dropped the service or rejected the case, the provider backed out after accepting,
  or it did not answer by the deadline (the request is withdrawn and the next provider asked).
- ``ServiceActivationEscalated`` when an operator must step in; ``EscalationResolved`` when
  the team resolved it, and ``DischargePostponementRequested`` when it asked the ward to
  postpone the discharge (the gateway sends it back to the hospital). Neither carries
  personal data: the hospital's ids are those of the case id.

Answers to requests that are unknown, already answered or withdrawn, or for ended cases are
ignored and logged: the inbox already drops redeliveries, so these are genuinely stale. An
answer naming a request sent to another provider is refused (``source.not_allowed``: it is
dead-lettered).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, TypedDict

from cerniera.activation.escalations import Escalation
from cerniera.activation.planning import Attempt
from cerniera.shared.contract import (
    DischargePostponementRequested,
    EscalationReason,
    EscalationResolved,
    ServiceActivated,
    ServiceActivationEscalated,
    ServiceActivationRequested,
    ServiceDeactivated,
    ServiceType,
    split_case_id,
)

if TYPE_CHECKING:
    from cerniera.activation.domain import Case


class _Request(TypedDict):
    case_id: str
    request_id: str
    provider_id: str
    service_type: ServiceType


def _request(case: Case, attempt: Attempt) -> _Request:
    """What every event about one request names: the case, the request, its provider, its
    service."""
    return _Request(
        case_id=case.case_id,
        request_id=attempt.request_id,
        provider_id=attempt.provider_id,
        service_type=attempt.service_type,
    )


def requested(case: Case, attempt: Attempt) -> ServiceActivationRequested:
    """Only what the provider needs: no fiscal code, no clinical data; for its eyes alone."""
    assert case.beneficiary is not None, "a case is planned once its contact is known"
    return ServiceActivationRequested(
        **_request(case, attempt),
        weekly_quantity=attempt.weekly_quantity,
        start_by=attempt.start_by,
        beneficiary=case.beneficiary,
    )


def activated(case: Case, attempt: Attempt, active_from: date) -> ServiceActivated:
    return ServiceActivated(**_request(case, attempt), active_from=active_from)


def deactivated(case: Case, attempt: Attempt, until: date) -> ServiceDeactivated:
    return ServiceDeactivated(**_request(case, attempt), until=until)


def escalated(
    case: Case, service: ServiceType, reason: EscalationReason
) -> ServiceActivationEscalated:
    return ServiceActivationEscalated(case_id=case.case_id, service_type=service, reason=reason)


def resolved(case: Case, escalation: Escalation, by: str, at: datetime) -> EscalationResolved:
    assert escalation.resolution is not None, "a resolved escalation"
    return EscalationResolved(
        case_id=case.case_id,
        service_type=escalation.service_type,
        resolution=escalation.resolution,
        provider_id=escalation.provider_id,
        covered_by=escalation.covered_by,
        reason_code=escalation.reason_code,
        resolved_by=by,
        resolved_at=at,
    )


def postponement(
    case: Case, until: date, waiting: list[ServiceType], by: str, at: datetime
) -> DischargePostponementRequested:
    """For the ward that announced the discharge: the hospital's own ids, from the case id."""
    hospital_id, discharge_ref = split_case_id(case.case_id)
    return DischargePostponementRequested(
        case_id=case.case_id,
        hospital_id=hospital_id,
        discharge_ref=discharge_ref,
        postpone_until=until,
        waiting_for=waiting,
        requested_by=by,
        requested_at=at,
    )
