"""The team's decisions on a case, pure: consent, the individual plan (PAI) and its versions,
the SAD hours cap per person, the pseudonym the cap is counted on outside intake, the
territorial network and the mediation notes. No I/O, no clock: time is passed in.

The cap: the SAD hours a plan authorises are its weekly hours over the district's follow-up
period (``weekly × days / 7``); the person's confirmed plans (every visit, every hospital:
counted on the fiscal code, which intake alone keeps) may not authorise more than the
district's cap together, unless the district's administrator recorded an exception for the
case, with a reason.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Literal

from cerniera.shared.contract import NetworkOutcome, NetworkResource, Reason, ServiceLine
from cerniera.shared.contract.types import ServiceType
from cerniera.shared.refusals import Conflict, Invalid

# --- consent ------------------------------------------------------------------------------------

GivenBy = Literal["person", "guardian"]


@dataclass(frozen=True)
class Consent:
    """The consent to the protected discharge: the person's or their guardian's (tutore,
    amministratore di sostegno). The guardian's name stays in intake."""

    given: bool
    given_by: GivenBy | None
    """None when the ward collected it with the checklist (it does not say who)."""
    guardian_name: str | None
    recorded_by: str
    """The operator, or ``ward`` when it came with the ward's assessment."""
    recorded_at: datetime


WARD = "ward"


def consent_of(
    recorded: Consent | None, ward_consent: bool | None, announced_at: datetime
) -> Consent | None:
    """The consent in force: the team's record, else what the ward sent, else none yet."""
    if recorded is not None:
        return recorded
    if ward_consent is None:
        return None
    return Consent(ward_consent, None, None, WARD, announced_at)


def new_consent(
    given: bool, given_by: GivenBy, guardian_name: str | None, recorded_by: str, at: datetime
) -> Consent:
    """The team's record of the consent: a guardian is named, the person is not."""
    if (given_by == "guardian") != (guardian_name is not None):
        raise Invalid(
            "consent.guardian_name",
            "Il nome del tutore o amministratore di sostegno va indicato solo quando il "
            "consenso è suo.",
        )
    return Consent(given, given_by, guardian_name, recorded_by, at)


# --- the plan and its versions ------------------------------------------------------------------


class PlanReason(StrEnum):
    """Why a plan version was made. The first three are the team's (``PlanRevised``)."""

    TAILORED = "plan.tailored"
    CHECK_ADJUSTMENT = "plan.check_adjustment"
    ESCALATION_RESOLVED = "plan.escalation_resolved"
    PACKAGE = "plan.package"
    """Version 1 as the intensity package says."""
    DECISION_CHANGED = "plan.decision_changed"
    """A new decision (corrected answers, an override) replaced the plan with its package."""


PLAN_TEXTS: dict[PlanReason, str] = {
    PlanReason.TAILORED: "Piano personalizzato dall'équipe.",
    PlanReason.CHECK_ADJUSTMENT: "Piano adeguato dall'équipe alla verifica settimanale.",
    PlanReason.ESCALATION_RESOLVED: "Piano modificato dall'équipe per risolvere una "
    "segnalazione di attivazione.",
    PlanReason.PACKAGE: "Piano del pacchetto di intensità stabilito.",
    PlanReason.DECISION_CHANGED: "Piano del pacchetto della nuova decisione.",
}
"""The published text of each code: fixed, whatever the operator wrote (that stays here)."""

TEAM_REVISIONS = (
    PlanReason.TAILORED,
    PlanReason.CHECK_ADJUSTMENT,
    PlanReason.ESCALATION_RESOLVED,
)

CONFIRMED_TEXT = "Piano confermato dall'équipe, che prende in carico la persona."
"""The published text of ``confirmed.team``: the team confirmed the rule's proposal."""


def plan_reason(code: PlanReason) -> Reason:
    return Reason(code=code.value, text=PLAN_TEXTS[code])


@dataclass(frozen=True)
class PlanVersion:
    """One version of a case's plan: what it authorises from then on, who, when and why."""

    version: int
    services: list[ServiceLine]
    reason_code: PlanReason
    reason: str | None
    """The operator's words (kept in intake, never published)."""
    revised_by: str
    revised_at: datetime
    event_id: str | None


def checked_services(services: Sequence[ServiceLine]) -> list[ServiceLine]:
    """A plan's services: each service once."""
    kinds = [s.service_type for s in services]
    repeated = sorted({k.value for k in kinds if kinds.count(k) > 1})
    if repeated:
        raise Invalid(
            "plan.repeated_service",
            f"Ogni servizio compare una sola volta nel piano: ripetuto {', '.join(repeated)}.",
        )
    return list(services)


def same_services(a: Sequence[ServiceLine], b: Sequence[ServiceLine]) -> bool:
    return _quantities(a) == _quantities(b)


def _quantities(services: Iterable[ServiceLine]) -> dict[ServiceType, Decimal]:
    return {s.service_type: Decimal(s.weekly_quantity) for s in services}


# --- the SAD hours cap per person -----------------------------------------------------------


def sad_hours(services: Iterable[ServiceLine], follow_up_days: int) -> Decimal:
    """The SAD hours a plan authorises: its weekly hours over the follow-up period."""
    weekly = sum((s.weekly_quantity for s in services if s.service_type is ServiceType.SAD), 0)
    return (Decimal(weekly) * follow_up_days / 7).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass(frozen=True)
class CapCheck:
    """What a plan would bring the person to: this plan's hours and the others' (every other
    confirmed plan of the same person), against the district's cap."""

    cap: Decimal
    plan_hours: Decimal
    other_hours: Decimal
    excepted: bool
    """The district's administrator recorded an exception for this case."""

    @property
    def total(self) -> Decimal:
        return self.plan_hours + self.other_hours

    @property
    def exceeded(self) -> bool:
        return self.total > self.cap

    @property
    def refused(self) -> bool:
        return self.exceeded and not self.excepted

    def refusal(self) -> CapExceeded:
        return CapExceeded(self)


class CapExceeded(Conflict):
    """A plan that would take the person past the district's SAD hours cap."""

    def __init__(self, check: CapCheck) -> None:
        super().__init__(
            "plan.cap_exceeded",
            f"Il piano autorizza {check.plan_hours} ore di SAD, che con le {check.other_hours} "
            f"già autorizzate alla persona (altri piani confermati) fanno {check.total} ore: "
            f"oltre il tetto dell'ambito di {check.cap} ore a persona. Serve un'eccezione "
            "motivata dell'amministrazione dell'ambito, o un piano con meno ore.",
        )
        self.check = check


@dataclass(frozen=True)
class CapException:
    """The district administrator's exception to the cap for one case, with its reason."""

    seq: int
    reason: str
    granted_by: str
    granted_at: datetime


@dataclass(frozen=True)
class CapRefusal:
    """A plan refused (or held for the team) because of the cap: counted for the report."""

    seq: int
    plan_hours: Decimal
    other_hours: Decimal
    cap: Decimal
    refused_by: str
    """Who asked for the plan: the operator, or ``rule``."""
    refused_at: datetime


# --- the person's pseudonym -----------------------------------------------------------------


def person_ref(fiscal_code: str, key: bytes) -> str:
    """The pseudonym of a person outside intake: a keyed hash (HMAC-SHA256) of the fiscal
    code, the same across visits and hospitals, that cannot be reversed without the key."""
    digest = hmac.new(key, fiscal_code.strip().upper().encode(), hashlib.sha256).hexdigest()
    return f"p-{digest[:16]}"


# --- the territorial network and mediation ------------------------------------------------------


@dataclass(frozen=True)
class NetworkTask:
    """The task of engaging the territorial network for a person without a caregiver."""

    task_id: str
    opened_at: datetime
    outcome: NetworkOutcome | None = None
    resources: tuple[NetworkResource, ...] = ()
    notes: str | None = None
    completed_by: str | None = None
    completed_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.completed_at is None


def needs_network(caregiver_present: bool | None, tasks: Sequence[NetworkTask]) -> bool:
    """A confirmed case whose person has no caregiver gets one task, once."""
    return caregiver_present is False and not tasks


def open_task(tasks: Sequence[NetworkTask]) -> NetworkTask:
    """The task the team records the outcome of."""
    for task in tasks:
        if task.open:
            return task
    raise Conflict(
        "network_task.none",
        "Nessuna attivazione della rete territoriale aperta per il caso: si apre alla "
        "conferma di un caso senza caregiver.",
    )


@dataclass(frozen=True)
class MediationNote:
    """The team's note of a mediation with a family that disagrees (kept in intake)."""

    seq: int
    text: str
    written_by: str
    written_at: datetime
