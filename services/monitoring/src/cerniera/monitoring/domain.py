"""Monitoring's rules, pure: no I/O, so every rule is tested on its own.

After discharge the équipe (the district's social and health team) checks each case every
``check_interval_days`` and closes it after ``duration_days``, or hands it over to the
municipality of residence. A follow-up is ``open`` from the eligibility decision (it starts at
the discharge), then ``closed`` (with a ``CaseOutcome``) or ``cancelled`` (the hospital cancelled
the discharge: the person never went home under the programme, so nothing is published).

A case passes to the municipality's social services by the team's hand-over (``handed_over``),
or at the closure when the last check recommended it and the team did not do it
(``hand_over_at_closure``): the services running then continue under the municipality.

Days are Italian calendar days: a discharge at 00:30 in Rome is that day, not the day before.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from cerniera.monitoring.config import MonitoringRule
from cerniera.shared.clock import italian_date
from cerniera.shared.contract import (
    CaseOutcome,
    CheckOutcome,
    Recommendation,
    ServiceLine,
    ServiceType,
)
from cerniera.shared.refusals import Conflict, Invalid

FUTURE_TOLERANCE = timedelta(minutes=5)
"""How far ahead of the service clock a check's ``checked_at`` may be (clients' clock skew)."""

REVERSED_NOTE = "Decisione di ammissibilità revocata: il caso non rientra più nel programma."
"""The closure note of a follow-up ended because intake reversed its decision."""


class FollowUpStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class EarlyOutcome(StrEnum):
    """How an operator may end a case before its time (readmission comes from the hospital)."""

    DECEASED = CaseOutcome.DECEASED.value
    INSTITUTIONALISED = CaseOutcome.INSTITUTIONALISED.value
    WITHDRAWN = CaseOutcome.WITHDRAWN.value

    @property
    def case_outcome(self) -> CaseOutcome:
        return CaseOutcome(self.value)


# The Italian calendar day of a discharge date and time.
discharge_day = italian_date


@dataclass(frozen=True)
class Schedule:
    """A follow-up's calendar, fixed when it opens: week ``k`` falls due on
    ``discharge_on + k × check_interval_days``, for every week due before ``closes_on``."""

    discharge_on: date
    check_interval_days: int
    duration_days: int
    overdue_after_days: int

    @classmethod
    def of(cls, discharge_on: date, rule: MonitoringRule) -> Schedule:
        return cls(
            discharge_on=discharge_on,
            check_interval_days=rule.check_interval_days,
            duration_days=rule.duration_days,
            overdue_after_days=rule.overdue_after_days,
        )

    @property
    def closes_on(self) -> date:
        """The day the follow-up ends (it is closed as that day starts)."""
        return self.discharge_on + timedelta(days=self.duration_days)

    @property
    def weeks(self) -> int:
        """How many checks: a week due on the closing day itself could never be recorded, as
        the case closes when that day starts, so it is not scheduled (4 for 30 days / 7)."""
        return (self.duration_days - 1) // self.check_interval_days

    def due_on(self, week: int) -> date:
        return self.discharge_on + timedelta(days=week * self.check_interval_days)

    def moved_to(self, discharge_on: date) -> Schedule:
        return Schedule(
            discharge_on, self.check_interval_days, self.duration_days, self.overdue_after_days
        )


@dataclass(frozen=True)
class Lateness:
    overdue: bool
    days_overdue: int


def lateness(due_on: date, on: date, overdue_after_days: int) -> Lateness:
    """The équipe has ``overdue_after_days`` whole days after the due date; from the day after,
    a check not recorded is overdue, by one day more each day (so ``overdue`` ⇔ days > 0).
    With 2: due on the 7th, still in time on the 9th, one day overdue on the 10th."""
    days = (on - due_on).days - overdue_after_days
    return Lateness(overdue=days > 0, days_overdue=max(days, 0))


@dataclass(frozen=True)
class DueCheck:
    case_id: str
    ambito_id: str
    week: int
    due_on: date
    overdue: bool
    days_overdue: int


def due_checks(
    case_id: str, ambito_id: str, schedule: Schedule, recorded: Collection[int], on: date
) -> list[DueCheck]:
    """The case's weekly checks that have fallen due by ``on`` and are not recorded."""
    return [
        DueCheck(case_id, ambito_id, w.week, w.due_on, w.overdue, w.days_overdue)
        for w in calendar(schedule, recorded, on)
        if not w.recorded and w.due_on <= on
    ]


def by_urgency(checks: Iterable[DueCheck]) -> list[DueCheck]:
    """Overdue first, the most overdue first; then the longest due; then by case and week."""
    return sorted(
        checks, key=lambda c: (not c.overdue, -c.days_overdue, c.due_on, c.case_id, c.week)
    )


@dataclass(frozen=True)
class WeekState:
    week: int
    due_on: date
    recorded: bool
    overdue: bool
    days_overdue: int


def calendar(schedule: Schedule, recorded: Collection[int], on: date | None) -> list[WeekState]:
    """Every scheduled week as of ``on``: recorded, or how late it is. ``on`` is None for a
    follow-up that has ended: nothing is late any more."""
    states = []
    for week in range(1, schedule.weeks + 1):
        due_on = schedule.due_on(week)
        late = Lateness(overdue=False, days_overdue=0)
        if week not in recorded and on is not None:
            late = lateness(due_on, on, schedule.overdue_after_days)
        states.append(WeekState(week, due_on, week in recorded, late.overdue, late.days_overdue))
    return states


def ensure_open(status: FollowUpStatus) -> None:
    if status is FollowUpStatus.CLOSED:
        raise Conflict("followup.closed", "the follow-up is closed")
    if status is FollowUpStatus.CANCELLED:
        raise Conflict("followup.cancelled", "the discharge was cancelled: there is no follow-up")


def week_for_check(
    status: FollowUpStatus,
    schedule: Schedule,
    discharge_at: datetime,
    recorded: Collection[int],
    checked_at: datetime,
    now: datetime,
    requested: int | None = None,
) -> int:
    """The week a new check is recorded for: the one asked for, else the earliest week not yet
    recorded (due weeks come first in the calendar, so an overdue one is filled before a check
    done ahead of time counts for the coming week). Refused (``Conflict``, ``Invalid``) when it
    cannot be."""
    ensure_open(status)
    if checked_at > now + FUTURE_TOLERANCE:
        raise Invalid("check.in_future", f"checked_at {checked_at.isoformat()} is in the future")
    if checked_at < discharge_at:
        raise Conflict(
            "followup.not_started",
            f"the follow-up starts at the discharge, {discharge_at.isoformat()}",
        )
    if requested is not None:
        if not 1 <= requested <= schedule.weeks:
            raise Invalid(
                "check.week_not_scheduled",
                f"week {requested} is not scheduled: weeks 1 to {schedule.weeks}",
            )
        if requested in recorded:
            raise Conflict("check.week_recorded", f"week {requested} is already recorded")
        return requested
    for week in range(1, schedule.weeks + 1):
        if week not in recorded:
            return week
    raise Conflict("check.all_recorded", f"all {schedule.weeks} weekly checks are recorded")


@dataclass(frozen=True)
class CheckReport:
    """What the équipe reports of a check; ``week`` and ``checked_at`` default to the earliest
    week not yet recorded and to now."""

    outcome: CheckOutcome
    checked_by: str
    notes: str | None = None
    recommendation: Recommendation | None = None
    week: int | None = None
    checked_at: datetime | None = None


@dataclass(frozen=True)
class Check:
    """A weekly check, recorded."""

    case_id: str
    week: int
    due_on: date
    checked_at: datetime
    outcome: CheckOutcome
    notes: str | None
    recommendation: Recommendation | None
    checked_by: str
    recorded_at: datetime


def last_check(checks: Sequence[Check]) -> Check | None:
    """The équipe's latest word: the check done last (the later week when done together), even
    if an earlier week was recorded late."""
    return max(checks, key=lambda c: (c.checked_at, c.week), default=None)


def closure_outcome(checks: Sequence[Check]) -> CaseOutcome:
    """At the end of the period: handed over to the municipality when the last check said so,
    else completed."""
    last = last_check(checks)
    if last is not None and last.recommendation is Recommendation.HAND_OVER_TO_MUNICIPALITY:
        return CaseOutcome.HANDED_OVER_TO_MUNICIPALITY
    return CaseOutcome.COMPLETED


def has_started(discharge_at: datetime, now: datetime) -> bool:
    """The follow-up starts when the person goes home: the (expected) discharge."""
    return now >= discharge_at


def may_reschedule(status: FollowUpStatus, discharge_at: datetime, now: datetime) -> bool:
    """The hospital may move the discharge until it happens; after that the calendar stands."""
    return status is FollowUpStatus.OPEN and not has_started(discharge_at, now)


@dataclass(frozen=True)
class PendingDischarge:
    """What the hospital said about a discharge before monitoring followed the case: the latest
    expected date, if it moved, whether it was cancelled, and when the person was readmitted
    (the readmission may overtake the decision: it applies when the follow-up opens)."""

    expected_discharge_at: datetime | None
    cancelled: bool
    readmitted_at: datetime | None = None


@dataclass(frozen=True)
class Activation:
    """A service activation reports active for the case (``ServiceActivated``), until the
    day ``ServiceDeactivated`` stops it."""

    request_id: str
    case_id: str
    service_type: ServiceType
    provider_id: str
    active_from: date
    until: date | None = None

    def running_on(self, day: date) -> bool:
        """Not stopped before ``day`` (it may start later: it is the case's, already agreed)."""
        return self.until is None or self.until >= day


def running(activations: Iterable[Activation], day: date) -> list[Activation]:
    return [a for a in activations if a.running_on(day)]


@dataclass(frozen=True)
class Contact:
    """Someone the municipality's social services may call: a relative, the GP, a neighbour."""

    name: str
    role: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class HandOverRequest:
    """The team's hand-over: to which municipality (default: the person's), which services go
    on, the needs and contacts for the municipality's social services."""

    continuing: Collection[ServiceType]
    by: str
    municipality_code: str | None = None
    needs: str | None = None
    contacts: Sequence[Contact] = ()


@dataclass(frozen=True)
class HandOver:
    """A case passed to the municipality's social services."""

    case_id: str
    municipality_code: str
    continuing: tuple[ServiceType, ...]
    needs: str | None
    contacts: tuple[Contact, ...]
    handed_over_at: datetime
    handed_over_by: str | None
    """The operator; ``None`` when done at the closure, on the last check's recommendation."""


def hand_over_at_closure(
    closed: FollowUp, municipality_code: str | None, running_services: Iterable[ServiceType]
) -> HandOver | None:
    """The last check recommended handing over and the team did not do the step: at the
    closure the case passes to the municipality of residence with every service running
    (they continue). ``None`` when the outcome is another, or the municipality is unknown."""
    if closed.outcome is not CaseOutcome.HANDED_OVER_TO_MUNICIPALITY:
        return None
    if municipality_code is None or closed.closed_at is None:
        return None
    return HandOver(
        case_id=closed.case_id,
        municipality_code=municipality_code,
        continuing=tuple(sorted(set(running_services))),
        needs=None,
        contacts=(),
        handed_over_at=closed.closed_at,
        handed_over_by=None,
    )


@dataclass(frozen=True)
class FollowUp:
    """A case's follow-up. Each transition returns the new state, or ``None`` when the event
    changes nothing (the hospital's word comes too late); an operator's request that cannot
    apply is refused instead."""

    case_id: str
    ambito_id: str
    status: FollowUpStatus
    discharge_at: datetime
    schedule: Schedule
    correlation_id: str
    """Of the eligibility decision: every event about the case carries it."""
    outcome: CaseOutcome | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    close_note: str | None = None
    person_ref: str | None = None
    """The person's pseudonym (intake's): beneficiaries are persons, not visits."""
    plan: tuple[ServiceLine, ...] = ()
    """The individual plan's services now: the decision's, then each revision's."""
    initial_plan: tuple[ServiceLine, ...] = ()
    """The plan as it stood at the discharge: what had to be running by then."""
    readmitted_at: datetime | None = None
    """The first readmission, noted even after the follow-up ended (readmission rate)."""
    decision_reversed: bool = False
    """Intake reversed its decision (confirmed, then rejected): not a beneficiary."""

    @classmethod
    def open(
        cls,
        case_id: str,
        ambito_id: str,
        discharge_at: datetime,
        rule: MonitoringRule,
        correlation_id: str,
        pending: PendingDischarge | None = None,
        *,
        person_ref: str | None = None,
        plan: Sequence[ServiceLine] = (),
    ) -> FollowUp:
        """Opened by the eligibility decision; what the hospital said before it applies (a
        readmission kept pending is applied by ``readmitted`` once the follow-up is stored)."""
        status = FollowUpStatus.OPEN
        if pending is not None:
            discharge_at = pending.expected_discharge_at or discharge_at
            if pending.cancelled:
                status = FollowUpStatus.CANCELLED
        schedule = Schedule.of(discharge_day(discharge_at), rule)
        return cls(
            case_id,
            ambito_id,
            status,
            discharge_at,
            schedule,
            correlation_id,
            person_ref=person_ref,
            plan=tuple(plan),
            initial_plan=tuple(plan),
        )

    @property
    def is_open(self) -> bool:
        return self.status is FollowUpStatus.OPEN

    def rescheduled(self, discharge_at: datetime, now: datetime) -> FollowUp | None:
        """The calendar moved with the discharge, if it has not happened yet."""
        if not may_reschedule(self.status, self.discharge_at, now):
            return None
        schedule = self.schedule.moved_to(discharge_day(discharge_at))
        return replace(self, discharge_at=discharge_at, schedule=schedule)

    def cancelled(self) -> FollowUp | None:
        """The hospital cancelled the discharge: the person never went home under the
        programme (nothing is published)."""
        return replace(self, status=FollowUpStatus.CANCELLED) if self.is_open else None

    def readmitted(self, readmitted_at: datetime) -> FollowUp | None:
        """Back in hospital: an open follow-up ends then. After it ended (completed, handed
        over, ...) the first readmission is still noted, without an event: the 30-day
        readmission rate counts it. ``None`` when nothing changes."""
        if self.status is FollowUpStatus.CANCELLED or self.readmitted_at is not None:
            return None
        noted = replace(self, readmitted_at=readmitted_at)
        return noted.closed(CaseOutcome.READMITTED, readmitted_at) if self.is_open else noted

    def reversed(self, now: datetime, decided_by: str) -> FollowUp | None:
        """Intake reversed its decision (confirmed, then rejected): the programme's follow-up
        ends, as withdrawn. ``None`` when it had already ended."""
        if not self.is_open:
            return None
        return replace(self, decision_reversed=True).closed(
            CaseOutcome.WITHDRAWN, now, closed_by=decided_by, note=REVERSED_NOTE
        )

    def plan_revised(self, services: Sequence[ServiceLine], now: datetime) -> FollowUp | None:
        """The team revised the plan: the plan at the discharge moves with it until then."""
        if not self.is_open:
            return None
        initial = self.initial_plan if has_started(self.discharge_at, now) else tuple(services)
        return replace(self, plan=tuple(services), initial_plan=initial)

    def services(self, running_services: Iterable[ServiceType] = ()) -> frozenset[ServiceType]:
        """The case's services: its plan's and any running (a provider assigned by hand)."""
        return frozenset(line.service_type for line in self.plan) | frozenset(running_services)

    def handed_over(
        self,
        request: HandOverRequest,
        residence: str | None,
        running_services: Iterable[ServiceType],
        now: datetime,
    ) -> tuple[FollowUp, HandOver]:
        """The team hands the case over to the municipality (``residence`` unless the request
        names another): closed, with the hand-over record. Refused before the discharge, with
        no municipality known, or with a service that is not the case's."""
        ensure_open(self.status)
        if not has_started(self.discharge_at, now):
            raise Conflict(
                "followup.not_started",
                "La persona non è ancora dimessa: il passaggio al Comune segue la dimissione.",
            )
        municipality = request.municipality_code or residence
        if municipality is None:
            raise Invalid(
                "handover.municipality_unknown",
                "Comune di residenza non noto: indicare il codice ISTAT del Comune.",
            )
        extra = set(request.continuing) - self.services(running_services)
        if extra:
            raise Invalid(
                "handover.service_not_in_case",
                f"Servizi non previsti per il caso: {', '.join(sorted(extra))}.",
            )
        handover = HandOver(
            case_id=self.case_id,
            municipality_code=municipality,
            continuing=tuple(sorted(set(request.continuing))),
            needs=request.needs,
            contacts=tuple(request.contacts),
            handed_over_at=now,
            handed_over_by=request.by,
        )
        closed = self.closed(CaseOutcome.HANDED_OVER_TO_MUNICIPALITY, now, closed_by=request.by)
        return closed, handover

    def closed(
        self,
        outcome: CaseOutcome,
        closed_at: datetime,
        *,
        closed_by: str | None = None,
        note: str | None = None,
    ) -> FollowUp:
        """Ended, with ``outcome``; refused when it is not open."""
        ensure_open(self.status)
        return replace(
            self,
            status=FollowUpStatus.CLOSED,
            outcome=outcome,
            closed_at=closed_at,
            closed_by=closed_by,
            close_note=note,
        )

    def closed_at_end_of_period(self, checks: Sequence[Check], now: datetime) -> FollowUp:
        """Closed as its last day starts, with the outcome the last check recommended."""
        return self.closed(closure_outcome(checks), now)

    def weeks(self, recorded: Collection[int], today: date) -> list[WeekState]:
        """The calendar as of ``today``; once the follow-up has ended nothing is late."""
        return calendar(self.schedule, recorded, today if self.is_open else None)

    def due_checks(self, recorded: Collection[int], on: date) -> list[DueCheck]:
        return due_checks(self.case_id, self.ambito_id, self.schedule, recorded, on)

    def check(self, recorded: Sequence[Check], report: CheckReport, now: datetime) -> Check:
        """The check ``report`` records, for the week ``week_for_check`` finds; refused when
        the follow-up or the week cannot take it."""
        checked_at = report.checked_at or now
        week = week_for_check(
            self.status,
            self.schedule,
            self.discharge_at,
            {c.week for c in recorded},
            checked_at,
            now,
            report.week,
        )
        return Check(
            case_id=self.case_id,
            week=week,
            due_on=self.schedule.due_on(week),
            checked_at=checked_at,
            outcome=report.outcome,
            notes=report.notes,
            recommendation=report.recommendation,
            checked_by=report.checked_by,
            recorded_at=now,
        )
