"""What the team must look at, decided from the desk's view of a case: pure rules, no I/O.

- Readiness by the day the person gets home: each service of the plan is ``ready`` (running
  or accepted to start on or before the discharge day, or covered by the family or the
  network), ``at_risk`` (asked, or about to be, with a start by the discharge day, but no
  provider has said yes yet) or ``not_ready`` (escalated, declined, or starting after the
  discharge day). A case is as ready as its least ready service; a case not decided yet has
  no plan, so nothing is ready for it.
- The escalations open, with the days left before the discharge.
- The weekly checks due and overdue, on the monitoring calendar: week ``k`` falls due on the
  discharge day + ``k`` × the interval, for the weeks before the follow-up closes; a check not
  recorded ``overdue_after_days`` after it fell due is overdue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Final

from cerniera.desk.casefile import CaseView, ServiceStatus, ServiceView, Stage
from cerniera.shared.clock import italian_date
from cerniera.shared.contract.types import ServiceType


class Ready(StrEnum):
    """How ready a service (or a case) is by the discharge day; worst last."""

    READY = "ready"
    AT_RISK = "at_risk"
    NOT_READY = "not_ready"


_RANK = {Ready.READY: 0, Ready.AT_RISK: 1, Ready.NOT_READY: 2}


class Why(StrEnum):
    """Why a service is as ready as it is (the page says it in words)."""

    ACTIVE = "active"
    ACCEPTED = "accepted"
    COVERED = "covered"
    REQUESTED = "requested"
    PLANNED = "planned"
    NO_DATE = "no_date"
    """Accepted or asked, but no day known for its start."""
    STARTS_LATE = "starts_late"
    """It starts (or may start) only after the person is home."""
    ESCALATED = "escalated"
    DECLINED = "declined"
    UNDECIDED = "undecided"
    """The case is not decided yet: there is no plan."""


@dataclass(frozen=True, slots=True)
class ServiceReadiness:
    service_type: ServiceType
    state: Ready
    why: Why
    status: ServiceStatus
    provider_id: str | None
    starts_on: date | None
    """The day it started, is to start, or must start by (as far as known)."""


@dataclass(frozen=True, slots=True)
class CaseReadiness:
    case_id: str
    discharge_on: date | None
    days_left: int | None
    """Days from today to the discharge day (negative once it has passed)."""
    state: Ready
    why: Why | None
    """Set when the case itself (not one of its services) decides: not decided yet."""
    services: tuple[ServiceReadiness, ...]

    @property
    def ready(self) -> bool:
        return self.state is Ready.READY

    def of(self, service_type: str) -> ServiceReadiness | None:
        return next((s for s in self.services if s.service_type == service_type), None)


def discharge_day(view: CaseView) -> date | None:
    """The day (Italy) the person is expected home."""
    at = view.expected_discharge_at
    return italian_date(at) if at is not None else None


def days_left(discharge_on: date | None, today: date) -> int | None:
    return (discharge_on - today).days if discharge_on is not None else None


COVERING: Final = frozenset({"family", "territorial_network"})
"""Resolutions by which someone other than a provider covers the service."""


def service_readiness(service: ServiceView, discharge_on: date) -> ServiceReadiness | None:
    """The service's state on ``discharge_on``; ``None`` for one no longer in the plan
    (dropped, ended). One the family or the network covers is ready whatever a provider
    still asked says, until it is escalated again."""
    judged = _by_status(service, discharge_on)
    escalation = service.escalation
    covered = (
        escalation is not None
        and escalation.resolution in COVERING
        and service.status is not ServiceStatus.ESCALATED
    )
    if judged is not None and covered and judged.state is not Ready.READY:
        return replace(judged, state=Ready.READY, why=Why.COVERED)
    return judged


def _by_status(service: ServiceView, discharge_on: date) -> ServiceReadiness | None:
    status = service.status

    def judged(state: Ready, why: Why, starts_on: date | None) -> ServiceReadiness:
        return ServiceReadiness(
            service.service_type, state, why, status, service.provider_id, starts_on
        )

    def by_start(starts_on: date | None, on_time: Ready, why: Why) -> ServiceReadiness:
        if starts_on is None:
            return judged(Ready.AT_RISK, Why.NO_DATE, None)
        if starts_on > discharge_on:
            return judged(Ready.NOT_READY, Why.STARTS_LATE, starts_on)
        return judged(on_time, why, starts_on)

    if status in (ServiceStatus.DROPPED, ServiceStatus.ENDED):
        return None
    if status is ServiceStatus.ACTIVE:
        return by_start(service.active_from or service.start_by, Ready.READY, Why.ACTIVE)
    if status is ServiceStatus.ACCEPTED:
        scheduled = service.scheduled_start
        starts_on = italian_date(scheduled) if scheduled is not None else service.start_by
        return by_start(starts_on, Ready.READY, Why.ACCEPTED)
    if status is ServiceStatus.COVERED:
        return judged(Ready.READY, Why.COVERED, None)
    if status is ServiceStatus.REQUESTED:
        return by_start(service.start_by, Ready.AT_RISK, Why.REQUESTED)
    if status is ServiceStatus.PLANNED:
        return judged(Ready.AT_RISK, Why.PLANNED, service.start_by)
    if status is ServiceStatus.ESCALATED:
        return judged(Ready.NOT_READY, Why.ESCALATED, service.start_by)
    return judged(Ready.NOT_READY, Why.DECLINED, service.start_by)  # DECLINED


def plan_services(view: CaseView) -> list[ServiceView]:
    """The services the case has: those activation spoke of, and the plan's lines it has not
    reached yet (planned). In the plan's order, then the others'."""
    known: dict[str, ServiceView | None] = dict(view.services)
    lines = [
        known.pop(line.service_type.value, None)
        or ServiceView(service_type=line.service_type, weekly_quantity=line.weekly_quantity)
        for line in view.plan
    ]
    return [*lines, *(s for s in known.values() if s is not None)]


def case_readiness(view: CaseView, today: date) -> CaseReadiness:
    """How ready ``view`` is for the day the person gets home."""
    discharge_on = discharge_day(view)
    left = days_left(discharge_on, today)
    if view.stage is Stage.ANNOUNCED or discharge_on is None:
        return CaseReadiness(view.case_id, discharge_on, left, Ready.NOT_READY, Why.UNDECIDED, ())
    judged = tuple(
        r
        for r in (service_readiness(s, discharge_on) for s in plan_services(view))
        if r is not None
    )
    if not judged:  # nothing to start: a plan of services all dropped, or none yet
        return CaseReadiness(view.case_id, discharge_on, left, Ready.NOT_READY, Why.UNDECIDED, ())
    state = max((r.state for r in judged), key=_RANK.__getitem__)
    return CaseReadiness(view.case_id, discharge_on, left, state, None, judged)


# --- escalations ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenEscalation:
    case_id: str
    service_type: ServiceType
    reason: str
    """``EscalationReason`` code."""
    discharge_on: date | None
    days_left: int | None


def open_escalations(views: Iterable[CaseView], today: date) -> list[OpenEscalation]:
    """Every escalated service without a resolution, the nearest discharge first."""
    found = []
    for view in views:
        if view.stage is not Stage.CONFIRMED:
            continue
        discharge_on = discharge_day(view)
        for service in view.services.values():
            escalation = service.escalation
            if service.status is not ServiceStatus.ESCALATED or escalation is None:
                continue
            if escalation.resolved_at is not None:
                continue
            found.append(
                OpenEscalation(
                    view.case_id,
                    service.service_type,
                    escalation.reason,
                    discharge_on,
                    days_left(discharge_on, today),
                )
            )
    far = date.max
    return sorted(found, key=lambda e: (e.discharge_on or far, e.case_id, e.service_type))


# --- weekly checks -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckSchedule:
    """The monitoring calendar (the districts' defaults; a district may set its own)."""

    interval_days: int = 7
    duration_days: int = 30
    overdue_after_days: int = 2

    @property
    def weeks(self) -> int:
        """A week due on the closing day could never be recorded: it is not scheduled."""
        return (self.duration_days - 1) // self.interval_days


@dataclass(frozen=True, slots=True)
class WeekCheck:
    case_id: str
    week: int
    due_on: date
    recorded: bool
    due: bool
    """Its day has come and it is not recorded."""
    overdue: bool
    days_overdue: int
    """Days past the grace period; 0 when not overdue."""


def weekly_checks(
    view: CaseView, today: date, schedule: CheckSchedule | None = None
) -> list[WeekCheck]:
    """Every scheduled week of a confirmed case discharged by ``today``: recorded, due (its
    day has come), overdue (past the grace period), or still to come."""
    schedule = schedule or CheckSchedule()
    discharge_on = discharge_day(view)
    if view.stage is not Stage.CONFIRMED or discharge_on is None or discharge_on > today:
        return []
    recorded = {c.week for c in view.checks}
    weeks = []
    for week in range(1, schedule.weeks + 1):
        due_on = discharge_on + timedelta(days=week * schedule.interval_days)
        done = week in recorded
        late = 0 if done else max((today - due_on).days - schedule.overdue_after_days, 0)
        weeks.append(
            WeekCheck(
                view.case_id,
                week,
                due_on,
                recorded=done,
                due=not done and due_on <= today,
                overdue=late > 0,
                days_overdue=late,
            )
        )
    return weeks


def checks_due(
    views: Iterable[CaseView],
    today: date,
    schedules: Mapping[str, CheckSchedule] | None = None,
) -> list[WeekCheck]:
    """The weekly checks fallen due and not recorded, each case on its district's calendar
    (``schedules``; the defaults for another): overdue first (most overdue first), then the
    longest due."""
    schedules = schedules or {}
    due = [
        w for v in views for w in weekly_checks(v, today, schedules.get(v.ambito_id or "")) if w.due
    ]
    return sorted(due, key=lambda w: (not w.overdue, -w.days_overdue, w.due_on, w.case_id))
