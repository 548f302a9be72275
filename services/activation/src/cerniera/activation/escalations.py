"""Escalations that end: a service activation could not plan on its own is escalated to the
district's team (équipe), which resolves it. Pure: no I/O, the time is given.

An escalation is ``open`` from the first ``ServiceActivationEscalated`` of its service (a
repeat while it is open only updates its reason) until the team resolves it:

- ``manual_provider``: a provider of the district's registry asked by hand, outside the
  rotation (whatever it answered before, wherever it works), with its own lead time;
- ``family`` / ``territorial_network``: covered by them (``covered_by``): nothing is asked,
  and the service counts as ready; a provider already asked still starts when it can;
- ``dropped``: the service leaves the plan, for activation's purposes (``reason_code``);
- ``postponement_requested``: the ward is asked to postpone the discharge until the day every
  waiting service can start (``postpone``).

It is ``withdrawn`` when its service leaves the plan otherwise (a new plan, a rejection), and
``settled`` when a provider accepts to start by the discharge after all. A service escalated
again after it ended opens a new escalation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from cerniera.activation.planning import Attempt, RequestStatus, latest
from cerniera.shared.contract import (
    EscalationReason,
    NetworkResource,
    Resolution,
    ServiceLine,
    ServiceType,
)
from cerniera.shared.refusals import Invalid, Refused


class EscalationStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    WITHDRAWN = "withdrawn"
    SETTLED = "settled"


COVERING = frozenset({Resolution.FAMILY, Resolution.TERRITORIAL_NETWORK})


@dataclass(frozen=True)
class Escalation:
    """One escalation of one service of a case, and how it ended."""

    service_type: ServiceType
    reason: EscalationReason
    escalated_at: datetime
    status: EscalationStatus = EscalationStatus.OPEN
    resolution: Resolution | None = None
    provider_id: str | None = None
    covered_by: NetworkResource | None = None
    reason_code: str | None = None
    postpone_until: date | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status is EscalationStatus.OPEN


@dataclass(frozen=True)
class Resolve:
    """The team's resolution of a service's open escalation, as asked: each resolution needs
    its own detail and no other's."""

    service_type: ServiceType
    resolution: Resolution
    provider_id: str | None = None
    covered_by: NetworkResource | None = None
    reason_code: str | None = None

    def __post_init__(self) -> None:
        needed = {
            Resolution.MANUAL_PROVIDER: "provider_id",
            Resolution.FAMILY: "covered_by",
            Resolution.TERRITORIAL_NETWORK: "covered_by",
            Resolution.DROPPED: "reason_code",
        }.get(self.resolution)
        for detail in ("provider_id", "covered_by", "reason_code"):
            given = getattr(self, detail) is not None
            if detail == needed and not given:
                raise Invalid(
                    "resolution.incomplete",
                    f"La risoluzione {self.resolution.value} richiede {detail}.",
                )
            if detail != needed and given:
                raise Invalid(
                    "resolution.unexpected",
                    f"{detail} non si applica alla risoluzione {self.resolution.value}.",
                )


def escalate(
    escalations: Sequence[Escalation], service: ServiceType, reason: EscalationReason, now: datetime
) -> tuple[Escalation, ...]:
    """The service escalated: its open escalation takes the newest reason, or a new one opens."""
    current = open_escalation(escalations, service)
    if current is None:
        return (*escalations, Escalation(service, reason, now))
    return _replaced(escalations, current, replace(current, reason=reason))


def open_or_refused(escalations: Sequence[Escalation], service: ServiceType) -> Escalation:
    """The open escalation the team resolves; refused when the service has none."""
    current = open_escalation(escalations, service)
    if current is None:
        raise Refused(
            "escalation.not_open", f"Nessuna segnalazione aperta per il servizio {service.value}."
        )
    return current


def resolved(
    escalations: Sequence[Escalation],
    current: Escalation,
    ask: Resolve,
    by: str,
    now: datetime,
    until: date | None,
) -> tuple[tuple[Escalation, ...], Escalation]:
    """``current`` resolved as asked by ``by``; ``until`` is the postponement's day. Returns
    the escalations and the one resolved."""
    done = replace(
        current,
        status=EscalationStatus.RESOLVED,
        resolution=ask.resolution,
        provider_id=ask.provider_id,
        covered_by=ask.covered_by,
        reason_code=ask.reason_code,
        postpone_until=until,
        resolved_by=by,
        resolved_at=now,
    )
    return _replaced(escalations, current, done), done


def withdrawn(
    escalations: Sequence[Escalation], services: Sequence[ServiceType]
) -> tuple[Escalation, ...]:
    """The open escalations of ``services`` withdrawn: those services left the plan."""
    gone = set(services)
    return tuple(
        replace(e, status=EscalationStatus.WITHDRAWN) if e.is_open and e.service_type in gone else e
        for e in escalations
    )


def settled(escalations: Sequence[Escalation], service: ServiceType) -> tuple[Escalation, ...]:
    """The open escalation of ``service`` settled: a provider starts in time after all."""
    return tuple(
        replace(e, status=EscalationStatus.SETTLED)
        if e.is_open and e.service_type == service
        else e
        for e in escalations
    )


def open_escalation(escalations: Sequence[Escalation], service: ServiceType) -> Escalation | None:
    return next((e for e in escalations if e.is_open and e.service_type == service), None)


def covered(escalations: Sequence[Escalation], service: ServiceType) -> Escalation | None:
    """The resolution that covers ``service`` (family or network), while no newer escalation
    of it is open."""
    mine = [e for e in escalations if e.service_type == service]
    last = mine[-1] if mine else None
    return last if last is not None and last.resolution in COVERING else None


def _replaced(
    escalations: Sequence[Escalation], old: Escalation, new: Escalation
) -> tuple[Escalation, ...]:
    return tuple(new if e is old else e for e in escalations)


# --- a postponement ----------------------------------------------------------------------------


def start_day(attempts: Sequence[Attempt], service: ServiceType) -> date | None:
    """The first day the service can run, as far as activation knows: an acceptance's
    ``active_from``, a pending request's provider's earliest start; ``None`` with no provider
    asked (declined by all, silent, none offering it)."""
    current = latest(attempts, service)
    if current is None or not current.is_open:
        return None
    if current.status is RequestStatus.ACCEPTED:
        return current.active_from
    return current.earliest_start


def postponement(
    services: Sequence[ServiceLine],
    attempts: Sequence[Attempt],
    escalations: Sequence[Escalation],
    discharge_day: date,
) -> tuple[date, list[ServiceType]]:
    """The day to ask the ward for, and the services waiting for it: every service of the plan
    not covered by the family or the network that cannot start by ``discharge_day``. Refused
    when one has no known day (a provider must be assigned first) or none is waiting."""
    days: dict[ServiceType, date | None] = {
        s.service_type: start_day(attempts, s.service_type)
        for s in services
        if covered(escalations, s.service_type) is None
    }
    waiting = {s: d for s, d in days.items() if d is None or d > discharge_day}
    unknown = [s.value for s, d in waiting.items() if d is None]
    if unknown:
        raise Refused(
            "postponement.no_date",
            f"Nessun fornitore ha una data di inizio per {', '.join(unknown)}: "
            "assegnare prima un fornitore (manual_provider).",
        )
    known = [d for d in waiting.values() if d is not None]
    if not known:
        raise Refused(
            "postponement.not_needed",
            f"Ogni servizio può iniziare entro la dimissione del {discharge_day}: "
            "non serve rinviarla.",
        )
    return max(known), list(waiting)
