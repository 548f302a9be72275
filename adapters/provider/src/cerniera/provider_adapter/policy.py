"""What a provider (ente gestore) decides and delivers: the pluggable part of the adapter, pure.

``ProviderPolicy`` is what a real provider implements with calls to its own system (rota,
kitchen orders, alarm centre). ``SimulatedPolicy`` is the reference implementation the demo
uses: it accepts, declines or stays silent in seeded shares, starts after a lead time in
working days, and delivers a plausible weekly pattern.

Every random draw is seeded by the request id (never by arrival order), so the same request
always gets the same answer and the same deliveries: after a restart the adapter re-reads its
requests and repeats exactly what it said before.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Protocol

from cerniera.shared.clock import ROME, italian_date
from cerniera.shared.contract import DeclineReason, ServiceActivationRequested, ServiceType

__all__ = [
    "DEFAULT_LEAD_TIME_DAYS",
    "Accept",
    "AcceptedService",
    "Decision",
    "Decline",
    "Delivery",
    "ProviderPolicy",
    "Silence",
    "SimulatedPolicy",
    "add_working_days",
    "daily_quantity",
    "delivery_ref",
    "due_days",
    "sad_visit_days",
    "scheduled_day",
    "spread",
]

# The districts' default lead times (domain: SAD 2, meals 2, teleassistance 3 working days).
DEFAULT_LEAD_TIME_DAYS: Mapping[ServiceType, int] = {
    ServiceType.SAD: 2,
    ServiceType.MEALS: 2,
    ServiceType.TELEASSISTANCE: 3,
}
MAX_SAD_VISIT_HOURS = 2  # SAD hours are split into visits of about this length, Mon-Fri
# Which weekdays (Mon = 0) the SAD visits fall on, by number of visits a week: spread out.
_SAD_PATTERNS: Mapping[int, tuple[int, ...]] = {
    1: (2,),
    2: (1, 3),
    3: (0, 2, 4),
    4: (0, 1, 3, 4),
    5: (0, 1, 2, 3, 4),
}
_CENT = Decimal("0.01")


# --- decisions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Accept:
    """Accept the request; the service starts at ``start``. ``delay``: answer after this much
    (simulated) time from the request, as a real coordinator would."""

    start: datetime
    delay: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("Accept.start must carry a time zone")


@dataclass(frozen=True)
class Decline:
    """Decline the request with one of the contract's reason codes and an optional note."""

    reason: DeclineReason
    note: str | None = None
    delay: timedelta = timedelta(0)


@dataclass(frozen=True)
class Silence:
    """Do not answer (a silent provider: activation passes over it after its deadline). A real
    adapter may still answer later with ``ProviderAdapter.answer``."""


Decision = Accept | Decline | Silence


@dataclass(frozen=True)
class AcceptedService:
    """A service the provider accepted: what ``deliveries`` is asked about, day by day."""

    request: ServiceActivationRequested
    start: date
    until: date | None = None
    """Last day of service, once activation deactivated it."""


@dataclass(frozen=True)
class Delivery:
    """One delivered line of one day: hours (SAD), meals or teleassistance days."""

    quantity: Decimal
    delivery_ref: str
    """Unique per line and stable: reporting the same line again is the same delivery."""
    evening: bool = False


class ProviderPolicy(Protocol):
    """What a provider decides. Async, because a real one asks its own system."""

    async def decide(self, request: ServiceActivationRequested, requested_at: datetime) -> Decision:
        """Answer an activation request (also called again when the request is updated)."""
        ...

    async def deliveries(self, service: AcceptedService, day: date) -> Sequence[Delivery]:
        """What was delivered on ``day`` (a past day between the start and ``until``)."""
        ...


# --- the rules, as plain functions ----------------------------------------------------------


def add_working_days(day: date, days: int) -> date:
    """``day`` plus ``days`` working days, Monday to Friday. Italian public holidays are not
    skipped: the reference adapter depends on nothing beyond the contract library."""
    result = day
    remaining = days
    while remaining > 0:
        result += timedelta(days=1)
        if result.weekday() < 5:
            remaining -= 1
    return result


def scheduled_day(start_by: date, requested_on: date, lead_time_days: int) -> date:
    """The first day the provider can serve: the requested day, unless its lead time (in
    working days from the request) makes it later."""
    return max(start_by, add_working_days(requested_on, lead_time_days))


def spread(total: Decimal, slots: int, step: Decimal) -> list[Decimal]:
    """Split ``total`` into ``slots`` parts, multiples of ``step`` that differ by at most one
    step, the larger ones first. The parts add up to ``total`` rounded down to the step."""
    if slots <= 0:
        return []
    units = int((total / step).to_integral_value(rounding=ROUND_FLOOR))
    base, extra = divmod(units, slots)
    return [(base + (1 if n < extra else 0)) * step for n in range(slots)]


def sad_visit_days(weekly_hours: Decimal) -> tuple[int, ...]:
    """Weekdays (Mon = 0) of the SAD visits: visits of at most about two hours, Mon-Fri."""
    visits = min(5, max(1, math.ceil(weekly_hours / MAX_SAD_VISIT_HOURS)))
    return _SAD_PATTERNS[visits]


def due_days(
    start: date, reported_through: date | None, until: date | None, today: date
) -> list[date]:
    """The days whose deliveries are to report now: from the start (or the day after the last
    one reported) through yesterday, and never after ``until`` (the service was deactivated)."""
    first = start
    if reported_through is not None:
        first = max(start, reported_through + timedelta(days=1))
    last = today - timedelta(days=1)
    if until is not None:
        last = min(last, until)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def delivery_ref(request_id: str, day: date, line: int) -> str:
    """Stable and unique per line: the same request, day and line always give the same ref."""
    return f"{request_id}/{day.isoformat()}/{line}"


def daily_quantity(service_type: ServiceType, weekly_quantity: Decimal, day: date) -> Decimal:
    """How much of a weekly quantity falls on ``day`` (zero: nothing delivered that day).

    SAD: the weekly hours split into visits on the weekdays of ``sad_visit_days``. Meals: whole
    meals spread over the week from Monday (5 a week = Monday to Friday, 7 = every day, 10 =
    two on Monday to Wednesday). Teleassistance: one day of service every day.
    """
    weekday = day.weekday()
    if service_type is ServiceType.SAD:
        days = sad_visit_days(weekly_quantity)
        if weekday not in days:
            return Decimal(0)
        return spread(weekly_quantity, len(days), _CENT)[days.index(weekday)]
    if service_type is ServiceType.MEALS:
        return spread(weekly_quantity, 7, Decimal(1))[weekday]
    return Decimal(1)


# --- the simulated provider -----------------------------------------------------------------

_DECLINES: Sequence[tuple[DeclineReason, str, float]] = (
    (DeclineReason.CAPACITY, "Nessun operatore disponibile nei tempi richiesti.", 0.6),
    (DeclineReason.OUT_OF_AREA, "Indirizzo fuori dalla zona servita.", 0.25),
    (DeclineReason.MISSING_INFORMATION, "Mancano indicazioni per l'accesso al domicilio.", 0.15),
)


@dataclass(frozen=True)
class SimulatedPolicy:
    """A provider that accepts, declines (``decline_share``) or never answers
    (``silence_share``), answers ``answer_delay`` after the request, starts on
    ``scheduled_day`` at ``start_time`` (Italian time) and delivers ``daily_quantity`` each day,
    a share of SAD visits in the evening (``evening_share``, billed at a surcharge)."""

    decline_share: float = 0.0
    silence_share: float = 0.0
    answer_delay: timedelta = timedelta(0)
    lead_time_days: Mapping[ServiceType, int] = field(
        default_factory=lambda: dict(DEFAULT_LEAD_TIME_DAYS)
    )
    evening_share: float = 0.1
    seed: int = 0
    start_time: time = time(9, 0)

    def __post_init__(self) -> None:
        for name in ("decline_share", "silence_share", "evening_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.decline_share + self.silence_share > 1.0:
            raise ValueError("decline_share + silence_share must not exceed 1")
        if self.answer_delay < timedelta(0):
            raise ValueError("answer_delay must not be negative")
        if any(days < 0 for days in self.lead_time_days.values()):
            raise ValueError("lead times must not be negative")

    async def decide(self, request: ServiceActivationRequested, requested_at: datetime) -> Decision:
        return self.decision(request, requested_at)

    async def deliveries(self, service: AcceptedService, day: date) -> Sequence[Delivery]:
        return self.lines(service, day)

    def decision(self, request: ServiceActivationRequested, requested_at: datetime) -> Decision:
        """The answer, drawn from a generator seeded by the request: an update of the same
        request (new ``start_by``) gets the same verdict, with a start computed anew."""
        rng = self._rng(request.provider_id, request.request_id)
        draw = rng.random()
        if draw < self.silence_share:
            return Silence()
        if draw < self.silence_share + self.decline_share:
            reason, note = _pick_decline(rng.random())
            return Decline(reason, note, self.answer_delay)
        lead = self.lead_time_days.get(request.service_type, 0)
        start = scheduled_day(request.start_by, italian_date(requested_at), lead)
        return Accept(datetime.combine(start, self.start_time, tzinfo=ROME), self.answer_delay)

    def lines(self, service: AcceptedService, day: date) -> list[Delivery]:
        """The lines of ``day``: at most one (one visit, one day's meals, one day of
        teleassistance); none on days without service, before the start or after ``until``."""
        request = service.request
        if day < service.start or (service.until is not None and day > service.until):
            return []
        quantity = daily_quantity(request.service_type, request.weekly_quantity, day)
        if quantity <= 0:
            return []
        evening = (
            request.service_type is ServiceType.SAD
            and self._rng(request.request_id, day.isoformat()).random() < self.evening_share
        )
        return [Delivery(quantity, delivery_ref(request.request_id, day, 1), evening)]

    def _rng(self, *key: str) -> random.Random:
        # A string seed is hashed with SHA-512: the same on every run and every machine.
        return random.Random(":".join((str(self.seed), *key)))


def _pick_decline(draw: float) -> tuple[DeclineReason, str]:
    cumulative = 0.0
    for reason, note, weight in _DECLINES:
        cumulative += weight
        if draw < cumulative:
            return reason, note
    return _DECLINES[-1][0], _DECLINES[-1][1]
