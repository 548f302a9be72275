"""Whom to ask, and by when: the requests to providers and the rules that make them. Pure.

Every service of a case's package must be running by the discharge day, and each provider
(ente gestore) needs its own lead time, counted in working days (Monday to Friday, Italian
public holidays excluded). For each service the candidates are the district's providers that
offer it and cover the beneficiary's municipality, in the district's order; planning works back
from the discharge day:

- ask the first candidate whose earliest possible start (today + its lead time) is on or before
  the discharge day, with ``start_by`` = the discharge day;
- if none can, escalate (``cannot_start_before_discharge``) and still ask the candidate that can
  start soonest, with ``start_by`` = that day, so the service starts as soon as it can;
- with no candidate at all, escalate (``no_provider_available``).

A decline, or silence past the answer deadline, passes the service to the next candidate that
has not already declined or stayed silent, by the same rule; when none is left the service is
escalated. A new package or a revised plan changes the plan (``change_package``), a moved
discharge moves it (``reschedule``), and the team may assign a provider by hand (``assign``).

A request (``Attempt``) moves ``requested`` → ``accepted`` | ``declined`` | ``expired`` (no
answer by the deadline: withdrawn), and any open one (``requested``/``accepted``) →
``deactivated`` when its service or its case stops.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Final

import holidays

from cerniera.activation.config import Ambito
from cerniera.shared.clock import italian_date
from cerniera.shared.contract import EscalationReason, ServiceLine, ServiceType
from cerniera.shared.refusals import Refused

MAX_REQUEST_ID: Final = 128  # the contract's Identifier


class RequestStatus(StrEnum):
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    DEACTIVATED = "deactivated"


OPEN: Final = frozenset({RequestStatus.REQUESTED, RequestStatus.ACCEPTED})


@dataclass(frozen=True)
class Attempt:
    """One request to one provider for one service of a case."""

    request_id: str
    service_type: ServiceType
    provider_id: str
    attempt: int
    status: RequestStatus
    weekly_quantity: Decimal
    start_by: date
    earliest_start: date
    requested_at: datetime
    deadline_at: datetime
    answered_at: datetime | None = None
    active_from: date | None = None
    reason: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


# --- working days ----------------------------------------------------------------------------


class WorkingCalendar:
    """Monday to Friday, Italian public holidays excluded (national ones, from ``holidays``)."""

    def __init__(self, extra_holidays: Iterable[date] = ()) -> None:
        self._holidays = holidays.country_holidays("IT")
        self._extra = frozenset(extra_holidays)
        # Asked for each candidate of each service planned, nearly always from today with one
        # of a few lead times: each answer counted once.
        self._days_after = functools.lru_cache(maxsize=1024)(self._count)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._holidays and day not in self._extra

    def add_working_days(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (``start`` itself when ``days`` is 0)."""
        if days < 0:
            raise ValueError("a lead time cannot be negative")
        return self._days_after(start, days)

    def _count(self, start: date, days: int) -> date:
        day = start
        while days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                days -= 1
        return day


ITALY: Final = WorkingCalendar()


@dataclass(frozen=True)
class Timing:
    """When providers are asked: ``today``, for services running by ``discharge_day``; lead
    times count working days of ``calendar``."""

    today: date
    discharge_day: date
    calendar: WorkingCalendar = ITALY


@dataclass(frozen=True)
class Rules:
    """What a transition needs besides the case: the districts, the working calendar, and the
    time of the transaction (the service's clock: accelerated in the demo and in tests)."""

    ambiti: Mapping[str, Ambito]
    now: datetime
    calendar: WorkingCalendar = ITALY

    @property
    def today(self) -> date:
        return italian_date(self.now)

    def timing(self, discharge_day: date) -> Timing:
        """Asking providers today, for ``discharge_day``."""
        return Timing(self.today, discharge_day, self.calendar)

    def ambito(self, ambito_id: str | None) -> Ambito:
        ambito = self.ambiti.get(ambito_id or "")
        if ambito is None:
            raise Refused("ambito.unknown", f"district {ambito_id} is not in activation's document")
        return ambito


# --- candidates and planning -------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    provider_id: str
    lead_time_days: int


def candidates_for(ambito: Ambito, service: ServiceType, municipality_code: str) -> list[Candidate]:
    """Providers offering ``service`` and covering the municipality, in the district's order."""
    return [
        Candidate(provider_id=p.id, lead_time_days=lead_time)
        for p, lead_time in ambito.offering.get(service, ())
        if p.covers(municipality_code)
    ]


@dataclass(frozen=True)
class Ask:
    """Send a request to a provider."""

    service_type: ServiceType
    provider_id: str
    start_by: date
    earliest_start: date
    """The provider's first possible day, from the day it is asked and its lead time."""


@dataclass(frozen=True)
class Escalate:
    """An operator must step in for this service."""

    service_type: ServiceType
    reason: EscalationReason


Step = Ask | Escalate


def choose(
    service: ServiceType,
    candidates: Sequence[Candidate],
    timing: Timing,
    *,
    none_left: EscalationReason,
) -> list[Step]:
    """Whom to ask for ``service``, working back from the discharge day (see the module doc)."""
    if not candidates:
        return [Escalate(service, none_left)]
    add_working_days = timing.calendar.add_working_days
    starts = [(c, add_working_days(timing.today, c.lead_time_days)) for c in candidates]
    for candidate, earliest in starts:
        if earliest <= timing.discharge_day:
            return [Ask(service, candidate.provider_id, timing.discharge_day, earliest)]
    soonest, earliest = min(starts, key=lambda s: s[1])  # ties: the district's order
    return [
        Ask(service, soonest.provider_id, earliest, earliest),
        Escalate(service, EscalationReason.CANNOT_START_BEFORE_DISCHARGE),
    ]


def plan_package(
    ambito: Ambito, services: Sequence[ServiceType], municipality_code: str, timing: Timing
) -> list[Step]:
    """The first request (or escalation) for every service of the package."""
    none_left = EscalationReason.NO_PROVIDER_AVAILABLE
    steps: list[Step] = []
    for service in services:
        candidates = candidates_for(ambito, service, municipality_code)
        steps += choose(service, candidates, timing, none_left=none_left)
    return steps


def assign(ambito: Ambito, service: ServiceType, provider_id: str, timing: Timing) -> Ask:
    """A provider the team assigns by hand, outside the rotation (whatever it answered
    before, wherever it works): any of the district's registry offering ``service``, asked
    with its own lead time to start on the discharge day or, when it cannot, on its earliest
    day."""
    provider = next((p for p in ambito.providers if p.id == provider_id), None)
    if provider is None:
        raise Refused(
            "provider.unknown",
            f"{provider_id} non è tra i fornitori dell'ambito {ambito.name}.",
        )
    if service not in provider.services:
        raise Refused(
            "provider.service_not_offered",
            f"{provider_id} non offre il servizio {service.value}.",
        )
    earliest = timing.calendar.add_working_days(timing.today, ambito.lead_time(provider, service))
    return Ask(service, provider_id, max(earliest, timing.discharge_day), earliest)


def next_candidate(
    ambito: Ambito,
    service: ServiceType,
    municipality_code: str,
    tried: Iterable[Attempt],
    timing: Timing,
    *,
    none_left: EscalationReason,
) -> list[Step]:
    """After a decline or a silence: the same rule over the candidates that have not declined
    or stayed silent for this service; ``none_left`` (all declined, or no answer) when none is
    left. A provider whose request ended for another reason (the package changed, the decision
    was superseded) is a candidate again."""
    passed_over = (RequestStatus.DECLINED, RequestStatus.EXPIRED)
    asked = {a.provider_id for a in tried if a.service_type == service and a.status in passed_over}
    remaining = [
        c for c in candidates_for(ambito, service, municipality_code) if c.provider_id not in asked
    ]
    return choose(service, remaining, timing, none_left=none_left)


def attempt_number(tried: Iterable[Attempt], service: ServiceType) -> int:
    return 1 + max((a.attempt for a in tried if a.service_type == service), default=0)


def new_request(
    case_id: str,
    ask: Ask,
    tried: Iterable[Attempt],
    weekly_quantity: Decimal,
    *,
    now: datetime,
    answer_deadline_hours: float,
) -> Attempt:
    """The request ``ask`` makes, numbered after the service's earlier ones, due in the
    district's answer deadline."""
    number = attempt_number(tried, ask.service_type)
    return Attempt(
        request_id=request_id_for(case_id, ask.service_type, number),
        service_type=ask.service_type,
        provider_id=ask.provider_id,
        attempt=number,
        status=RequestStatus.REQUESTED,
        weekly_quantity=weekly_quantity,
        start_by=ask.start_by,
        earliest_start=ask.earliest_start,
        requested_at=now,
        deadline_at=deadline_for(now, answer_deadline_hours),
    )


def request_id_for(case_id: str, service: ServiceType, attempt: int) -> str:
    """``<case_id>/<service_type>/<n>``: deterministic, so a replayed plan never mints a second
    request, and readable by the provider's staff. A case id too long for the contract's 128
    characters is replaced by a digest of itself (still deterministic and unique)."""
    readable = f"{case_id}/{service.value}/{attempt}"
    if len(readable) <= MAX_REQUEST_ID:
        return readable
    digest = hashlib.sha256(case_id.encode()).hexdigest()[:32]
    return f"{digest}/{service.value}/{attempt}"


def deadline_for(requested_at: datetime, answer_deadline_hours: float) -> datetime:
    """Answers are due in clock time (a night or a Sunday counts), unlike lead times."""
    return requested_at + timedelta(hours=answer_deadline_hours)


def is_overdue(attempt: Attempt, now: datetime) -> bool:
    return attempt.status is RequestStatus.REQUESTED and attempt.deadline_at <= now


def starts_late(active_from: date, discharge_day: date) -> bool:
    return active_from > discharge_day


def latest(attempts: Iterable[Attempt], service: ServiceType) -> Attempt | None:
    mine = [a for a in attempts if a.service_type == service]
    return max(mine, key=lambda a: a.attempt) if mine else None


# --- a new decision ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PackageChange:
    added: tuple[ServiceType, ...]
    """Services to plan from scratch."""
    dropped: tuple[Attempt, ...]
    """Open requests of services no longer in the package: deactivated."""
    requantified: tuple[Attempt, ...]
    """Open requests whose weekly quantity changed: sent again (same request id)."""


def change_package(
    old: Sequence[ServiceLine], new: Sequence[ServiceLine], attempts: Iterable[Attempt]
) -> PackageChange:
    """What a superseding decision changes in a plan already under way. A service that is kept
    with the same quantity is left alone, whatever state its requests are in."""
    before = {s.service_type: s.weekly_quantity for s in old}
    after = {s.service_type: s.weekly_quantity for s in new}
    open_ = [a for a in attempts if a.is_open]
    return PackageChange(
        added=tuple(s for s in after if s not in before),
        dropped=tuple(a for a in open_ if a.service_type not in after),
        requantified=tuple(
            a
            for a in open_
            if a.service_type in after
            and a.service_type in before
            and after[a.service_type] != before[a.service_type]
        ),
    )


# --- a moved discharge -----------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """Tell the provider the new ``start_by`` (the same request, sent again)."""

    request_id: str
    start_by: date


def reschedule(open_attempts: Iterable[Attempt], discharge_day: date) -> list[Move | Escalate]:
    """The plan moved to a new discharge day. A pending request's provider can start at its
    ``earliest_start`` (it learned of the need when first asked); an accepted one on its
    ``active_from`` until it says otherwise. Requests whose ``start_by`` changes are sent again;
    a service that can no longer start by the new day is escalated."""
    steps: list[Move | Escalate] = []
    for a in open_attempts:
        if a.status is RequestStatus.ACCEPTED:
            start_by = discharge_day
            late = a.active_from is not None and starts_late(a.active_from, discharge_day)
        else:
            late = starts_late(a.earliest_start, discharge_day)
            start_by = a.earliest_start if late else discharge_day
        if start_by != a.start_by:
            steps.append(Move(a.request_id, start_by))
        if late:
            steps.append(Escalate(a.service_type, EscalationReason.CANNOT_START_BEFORE_DISCHARGE))
    return steps
