"""Readiness: is everything a beneficiary needs going to be running on the discharge day and,
if not, which provider is late and why, in Italian words a social worker can act on; and each
escalation of the case, open (with the days left before discharge) or how it ended. Pure: the
day is given."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from cerniera.activation.domain import Case, CaseStatus
from cerniera.activation.escalations import Escalation, EscalationStatus, covered
from cerniera.activation.planning import Attempt, RequestStatus, latest, starts_late
from cerniera.shared.clock import ROME
from cerniera.shared.contract import (
    EscalationReason,
    NetworkResource,
    Resolution,
    ServiceType,
)


@dataclass(frozen=True)
class ServiceReadiness:
    service_type: ServiceType
    provider_id: str | None
    request_id: str | None
    status: str
    start_by: date | None
    active_from: date | None
    late: str | None
    """Why this service is not (yet) ready for the discharge day, in Italian; ``None`` when
    it is (``status`` ``covered``: by the family or the territorial network)."""


@dataclass(frozen=True)
class EscalationView:
    service_type: ServiceType
    reason: EscalationReason
    escalated_at: datetime
    status: EscalationStatus
    days_left: int | None
    """Open: days from today to the discharge (0 on the day, negative once past)."""
    resolution: Resolution | None
    provider_id: str | None
    covered_by: NetworkResource | None
    reason_code: str | None
    postpone_until: date | None
    resolved_by: str | None
    resolved_at: datetime | None
    summary: str
    """What happened and what is left, in Italian."""


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
    plan_version: int = 0
    escalations: list[EscalationView] = field(default_factory=list)


def readiness(case: Case, attempts: Sequence[Attempt], today: date) -> Readiness:
    """Whether every service of the package is confirmed to start on or before the discharge
    day (or covered by the family or the network) and, for each one that is not, why."""
    services = [_service_readiness(case, s.service_type, attempts) for s in case.services]
    waiting_for = {
        CaseStatus.AWAITING_ELIGIBILITY: "la decisione sull'idoneità (pacchetto dei servizi)",
        CaseStatus.AWAITING_CONTACT: "l'annuncio dell'ospedale (recapiti del beneficiario)",
    }.get(case.status)
    ready = (
        case.status is CaseStatus.PLANNED
        and bool(services)
        and all(s.late is None for s in services)
    )
    return Readiness(
        case.case_id,
        case.status,
        case.discharge_on,
        ready,
        services,
        waiting_for,
        case.ambito_id,
        case.plan_version,
        [escalation_view(e, case.discharge_on, today) for e in case.escalations],
    )


def _service_readiness(
    case: Case, service: ServiceType, attempts: Sequence[Attempt]
) -> ServiceReadiness:
    current = latest(attempts, service)
    cover = covered(case.escalations, service) if case.status is CaseStatus.PLANNED else None
    if cover is not None:
        return ServiceReadiness(
            service,
            current.provider_id if current is not None else None,
            current.request_id if current is not None else None,
            "covered",
            current.start_by if current is not None else None,
            current.active_from if current is not None else None,
            None,
        )
    if current is None:
        if case.status is CaseStatus.ENDED:
            status, late = "ended", f"caso chiuso ({case.end_reason})"
        elif case.status is not CaseStatus.PLANNED:
            status, late = "waiting", "in attesa dell'annuncio dell'ospedale prima di chiedere"
        else:
            status = "escalated"
            late = (
                f"nessun fornitore offre {service.value} nel comune {case.municipality_code}: "
                "segnalato all'équipe"
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
                f"inizia dopo la dimissione: {provider} inizia il {current.active_from}, "
                f"dimissione il {case.discharge_on}"
            )
        return None
    if current.status is RequestStatus.REQUESTED:
        text = (
            f"in attesa della risposta di {provider} dal {_when(current.requested_at)}, "
            f"scadenza {_when(current.deadline_at)}"
        )
        previous = [
            a for a in attempts if a.service_type == current.service_type and a is not current
        ]
        if previous:
            before = max(previous, key=lambda a: a.attempt)
            text = f"{_what_happened(before)}, ora si chiede a {provider}: {text}"
        if case.discharge_on is not None and starts_late(current.start_by, case.discharge_on):
            text += f"; non può iniziare prima del {current.start_by}, dopo la dimissione"
        return text
    if case.status is CaseStatus.ENDED:
        return f"caso chiuso ({case.end_reason})"
    if current.status is RequestStatus.DEACTIVATED:
        return f"richiesta a {provider} ritirata ({current.reason})"
    return f"{_what_happened(current)}; nessun altro fornitore: segnalato all'équipe"


def _what_happened(attempt: Attempt) -> str:
    if attempt.status is RequestStatus.DECLINED:
        return f"rifiutato da {attempt.provider_id} ({attempt.reason})"
    if attempt.status is RequestStatus.EXPIRED:
        return f"nessuna risposta da {attempt.provider_id} entro il {_when(attempt.deadline_at)}"
    return f"{attempt.provider_id}: {attempt.status.value}"


def _when(moment: datetime) -> str:
    return moment.astimezone(ROME).strftime("%Y-%m-%d %H:%M")


# --- escalations -------------------------------------------------------------------------------

REASONS_IT = {
    EscalationReason.ALL_PROVIDERS_DECLINED: "tutti i fornitori hanno rifiutato",
    EscalationReason.NO_ANSWER_BEFORE_DEADLINE: "nessuna risposta dei fornitori entro la scadenza",
    EscalationReason.CANNOT_START_BEFORE_DISCHARGE: (
        "nessun fornitore può iniziare entro la dimissione"
    ),
    EscalationReason.NO_PROVIDER_AVAILABLE: "nessun fornitore per il comune del beneficiario",
}
NETWORK_IT = {
    NetworkResource.VOLUNTEERS: "volontari",
    NetworkResource.PARISH: "parrocchia",
    NetworkResource.NEIGHBOURS: "vicini di casa",
    NetworkResource.FAMILY_COMMUNITY_NURSE: "infermiere di famiglia e di comunità",
    NetworkResource.FAMILY: "famiglia",
}


def escalation_view(e: Escalation, discharge_on: date | None, today: date) -> EscalationView:
    days_left = (discharge_on - today).days if e.is_open and discharge_on is not None else None
    return EscalationView(
        service_type=e.service_type,
        reason=e.reason,
        escalated_at=e.escalated_at,
        status=e.status,
        days_left=days_left,
        resolution=e.resolution,
        provider_id=e.provider_id,
        covered_by=e.covered_by,
        reason_code=e.reason_code,
        postpone_until=e.postpone_until,
        resolved_by=e.resolved_by,
        resolved_at=e.resolved_at,
        summary=_summary(e, days_left),
    )


def _summary(e: Escalation, days_left: int | None) -> str:
    why = f"{e.service_type.value}: {REASONS_IT[e.reason]}"
    if e.status is EscalationStatus.WITHDRAWN:
        return f"{why}; ritirata: il servizio non è più nel piano"
    if e.status is EscalationStatus.SETTLED:
        return f"{why}; superata: un fornitore inizia entro la dimissione"
    if e.status is EscalationStatus.OPEN:
        if days_left is None:
            return f"{why}; aperta"
        if days_left == 1:
            left = "manca 1 giorno alla dimissione"
        elif days_left > 1:
            left = f"mancano {days_left} giorni alla dimissione"
        elif days_left == 0:
            left = "la dimissione è oggi"
        else:
            left = f"dimissione già passata da {_days(-days_left)}"
        return f"{why}; aperta: {left}"
    return f"{why}; risolta da {e.resolved_by}: {_how(e)}"


def _days(n: int) -> str:
    return "1 giorno" if n == 1 else f"{n} giorni"


def _how(e: Escalation) -> str:
    match e.resolution:
        case Resolution.MANUAL_PROVIDER:
            return f"assegnata a mano a {e.provider_id}"
        case Resolution.FAMILY | Resolution.TERRITORIAL_NETWORK:
            who = NETWORK_IT[e.covered_by] if e.covered_by is not None else "?"
            if e.resolution is Resolution.FAMILY:
                return f"coperto dalla famiglia ({who})"
            return f"coperto dalla rete territoriale ({who})"
        case Resolution.DROPPED:
            return f"tolto dal piano ({e.reason_code})"
        case _:
            return f"chiesto al reparto di rinviare la dimissione al {e.postpone_until}"
