"""Monitoring's rules: the weekly calendar, lateness, the week a check is for, and how a case
closes. Pure, no I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from cerniera.monitoring.config import MonitoringRule
from cerniera.monitoring.domain import (
    FUTURE_TOLERANCE,
    Conflict,
    DueCheck,
    FollowUpStatus,
    Invalid,
    Lateness,
    RecordedCheck,
    Refused,
    Schedule,
    by_urgency,
    calendar,
    closure_outcome,
    discharge_day,
    due_checks,
    last_check,
    lateness,
    may_reschedule,
    week_for_check,
)
from cerniera.shared.contract import CaseOutcome, Recommendation

DISCHARGE_AT = datetime(2024, 10, 3, 8, 0, tzinfo=UTC)  # 10:00 in Rome
DISCHARGE_ON = date(2024, 10, 3)
DEFAULTS = Schedule.of(DISCHARGE_ON, MonitoringRule())  # every 7 days, 30 days, 2 days' grace
CASE = "asst-vimercate:V1"

OPEN, CLOSED, CANCELLED = FollowUpStatus.OPEN, FollowUpStatus.CLOSED, FollowUpStatus.CANCELLED
CONTINUE = Recommendation.CONTINUE
HAND_OVER = Recommendation.HAND_OVER_TO_MUNICIPALITY


def day(n: int) -> date:
    """``n`` days after the discharge day."""
    return DISCHARGE_ON + timedelta(days=n)


def at(days: float) -> datetime:
    return DISCHARGE_AT + timedelta(days=days)


# --- the calendar ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2024, 10, 3, 8, 0, tzinfo=UTC), date(2024, 10, 3)),
        # 23:30 UTC is already the next day in Rome (summer time, UTC+2) ...
        (datetime(2024, 10, 2, 22, 30, tzinfo=UTC), date(2024, 10, 3)),
        # ... and in winter (UTC+1) too.
        (datetime(2024, 12, 31, 23, 30, tzinfo=UTC), date(2025, 1, 1)),
        (datetime(2024, 12, 31, 22, 59, tzinfo=UTC), date(2024, 12, 31)),
    ],
)
def test_the_discharge_day_is_the_italian_calendar_day(moment: datetime, expected: date) -> None:
    assert discharge_day(moment) == expected


def test_default_calendar_is_four_weekly_checks_and_closure_on_day_30() -> None:
    assert DEFAULTS.weeks == 4
    assert [DEFAULTS.due_on(w) for w in range(1, 5)] == [day(7), day(14), day(21), day(28)]
    assert DEFAULTS.closes_on == day(30) == date(2024, 11, 2)


@pytest.mark.parametrize(
    ("interval", "duration", "weeks"),
    [
        (7, 30, 4),
        (7, 29, 4),  # week 4 on day 28, the day before closure
        (7, 28, 3),  # week 4 would fall on the closing day, when the case is already closed
        (7, 8, 1),
        (10, 30, 2),
        (3, 10, 3),
    ],
)
def test_weeks_whose_due_date_falls_within_the_duration(
    interval: int, duration: int, weeks: int
) -> None:
    schedule = Schedule.of(
        DISCHARGE_ON, MonitoringRule(check_interval_days=interval, duration_days=duration)
    )
    assert schedule.weeks == weeks
    assert schedule.due_on(weeks) < schedule.closes_on <= schedule.due_on(weeks + 1)


def test_moving_the_discharge_moves_every_date_and_keeps_the_rule() -> None:
    rule = MonitoringRule(check_interval_days=5, duration_days=21, overdue_after_days=1)
    moved = Schedule.of(DISCHARGE_ON, rule).moved_to(date(2024, 10, 10))
    assert moved == Schedule(date(2024, 10, 10), 5, 21, 1)
    assert moved.due_on(1) == date(2024, 10, 15)
    assert moved.closes_on == date(2024, 10, 31)


# --- lateness -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "overdue_after", "expected"),
    [
        (day(6), 2, Lateness(False, 0)),  # not due yet
        (day(7), 2, Lateness(False, 0)),  # due today
        (day(9), 2, Lateness(False, 0)),  # last day of the grace period
        (day(10), 2, Lateness(True, 1)),  # first day overdue
        (day(17), 2, Lateness(True, 8)),
        (day(7), 0, Lateness(False, 0)),  # no grace: in time on the day itself ...
        (day(8), 0, Lateness(True, 1)),  # ... overdue the day after
    ],
)
def test_lateness_at_the_edges(on: date, overdue_after: int, expected: Lateness) -> None:
    assert lateness(day(7), on, overdue_after) == expected


def test_due_checks_are_the_unrecorded_weeks_due_by_the_day() -> None:
    def due(recorded: set[int], on: date) -> list[tuple[int, date, bool, int]]:
        return [
            (c.week, c.due_on, c.overdue, c.days_overdue)
            for c in due_checks(CASE, "desio", DEFAULTS, recorded, on)
        ]

    assert due(set(), day(6)) == []
    assert due(set(), day(7)) == [(1, day(7), False, 0)]
    assert due(set(), day(14)) == [(1, day(7), True, 5), (2, day(14), False, 0)]
    assert due({1}, day(14)) == [(2, day(14), False, 0)]
    assert due({1, 2, 3}, day(29)) == [(4, day(28), False, 0)]
    # Long after the period (the case not yet closed): still only the scheduled four weeks.
    assert [w for w, *_ in due(set(), day(60))] == [1, 2, 3, 4]
    assert due({1, 2, 3, 4}, day(60)) == []
    assert {c.case_id for c in due_checks(CASE, "desio", DEFAULTS, set(), day(9))} == {CASE}
    assert {c.ambito_id for c in due_checks(CASE, "desio", DEFAULTS, set(), day(9))} == {"desio"}


def test_overdue_checks_come_first_the_most_overdue_first() -> None:
    def check(case: str, week: int, due_on: date, days_overdue: int) -> DueCheck:
        return DueCheck(case, "desio", week, due_on, days_overdue > 0, days_overdue)

    in_time_old = check("c", 2, day(14), 0)
    in_time_new = check("a", 3, day(15), 0)
    overdue_1 = check("b", 1, day(7), 1)  # a shorter grace period: due later, overdue longer
    overdue_3 = check("z", 1, day(8), 3)
    overdue_3_earlier = check("y", 1, day(6), 3)
    assert by_urgency([in_time_new, overdue_1, in_time_old, overdue_3, overdue_3_earlier]) == [
        overdue_3_earlier,
        overdue_3,
        overdue_1,
        in_time_old,
        in_time_new,
    ]


def test_the_calendar_of_a_case() -> None:
    weeks = calendar(DEFAULTS, {2}, day(17))
    assert [(w.week, w.due_on, w.recorded, w.overdue, w.days_overdue) for w in weeks] == [
        (1, day(7), False, True, 8),
        (2, day(14), True, False, 0),
        (3, day(21), False, False, 0),
        (4, day(28), False, False, 0),
    ]
    # A follow-up that has ended has nothing late.
    assert not any(w.overdue for w in calendar(DEFAULTS, set(), None))


# --- the week a check is for ----------------------------------------------------------------


def week(
    recorded: set[int],
    checked_at: datetime,
    requested: int | None = None,
    status: FollowUpStatus = OPEN,
    now: datetime | None = None,
) -> int:
    return week_for_check(
        status, DEFAULTS, DISCHARGE_AT, recorded, checked_at, now or checked_at, requested
    )


def refusal(
    recorded: set[int],
    checked_at: datetime,
    requested: int | None = None,
    status: FollowUpStatus = OPEN,
    now: datetime | None = None,
) -> tuple[type[Refused], str]:
    with pytest.raises(Refused) as refused:
        week(recorded, checked_at, requested, status, now)
    return type(refused.value), refused.value.code


def test_by_default_the_earliest_week_not_yet_recorded() -> None:
    assert week(set(), at(8)) == 1
    assert week({1}, at(15)) == 2
    # Week 2 was skipped and is overdue: it is filled before the week now due.
    assert week({1, 3}, at(22)) == 2
    # Nothing due yet (day 2): a check done ahead of time counts for the coming week.
    assert week(set(), at(2)) == 1
    assert week({1}, at(8)) == 2


def test_a_week_may_be_asked_for() -> None:
    assert week({1}, at(22), requested=3) == 3
    assert week(set(), at(8), requested=4) == 4  # ahead of time, when needed


def test_refused_checks() -> None:
    assert refusal(recorded={1, 2, 3, 4}, checked_at=at(29)) == (Conflict, "check.all_recorded")
    assert refusal(recorded={1}, checked_at=at(9), requested=1) == (
        Conflict,
        "check.week_recorded",
    )
    assert refusal(recorded=set(), checked_at=at(9), requested=5) == (
        Invalid,
        "check.week_not_scheduled",
    )
    assert refusal(recorded=set(), checked_at=at(9), requested=0) == (
        Invalid,
        "check.week_not_scheduled",
    )
    assert refusal(recorded=set(), checked_at=at(9), status=CLOSED) == (
        Conflict,
        "followup.closed",
    )
    assert refusal(recorded=set(), checked_at=at(9), status=CANCELLED) == (
        Conflict,
        "followup.cancelled",
    )
    # Before the person is home, and in the future.
    assert refusal(recorded=set(), checked_at=at(-0.01)) == (Conflict, "followup.not_started")
    assert refusal(recorded=set(), checked_at=at(9), now=at(9) - FUTURE_TOLERANCE * 2) == (
        Invalid,
        "check.in_future",
    )
    # A little clock skew is tolerated; the discharge instant itself is already at home.
    assert week(set(), at(9), now=at(9) - FUTURE_TOLERANCE) == 1
    assert week(set(), at(0)) == 1


# --- closure --------------------------------------------------------------------------------


def done(week: int, days: float, recommendation: Recommendation | None) -> RecordedCheck:
    return RecordedCheck(week=week, checked_at=at(days), recommendation=recommendation)


@pytest.mark.parametrize(
    ("checks", "outcome"),
    [
        ([], CaseOutcome.COMPLETED),
        ([done(1, 7, CONTINUE)], CaseOutcome.COMPLETED),
        ([done(1, 7, None)], CaseOutcome.COMPLETED),
        ([done(1, 7, Recommendation.CLOSE)], CaseOutcome.COMPLETED),
        ([done(1, 7, CONTINUE), done(2, 14, HAND_OVER)], CaseOutcome.HANDED_OVER_TO_MUNICIPALITY),
        # The équipe changed its mind: the last word counts, whatever it says.
        ([done(1, 7, HAND_OVER), done(2, 14, CONTINUE)], CaseOutcome.COMPLETED),
        ([done(1, 7, HAND_OVER), done(2, 14, None)], CaseOutcome.COMPLETED),
        # Week 1 recorded late, after week 2: done last, so it is the last word.
        ([done(2, 14, CONTINUE), done(1, 16, HAND_OVER)], CaseOutcome.HANDED_OVER_TO_MUNICIPALITY),
        # Done at the same moment: the later week.
        ([done(3, 21, HAND_OVER), done(2, 21, CONTINUE)], CaseOutcome.HANDED_OVER_TO_MUNICIPALITY),
    ],
)
def test_the_outcome_at_closure_follows_the_last_check(
    checks: list[RecordedCheck], outcome: CaseOutcome
) -> None:
    assert closure_outcome(checks) is outcome


def test_the_last_check() -> None:
    assert last_check([]) is None
    late = done(1, 16, CONTINUE)
    assert last_check([done(2, 14, HAND_OVER), late]) == late


def test_a_discharge_moves_only_before_it_happens() -> None:
    assert may_reschedule(OPEN, DISCHARGE_AT, at(-1))
    assert not may_reschedule(OPEN, DISCHARGE_AT, at(0))
    assert not may_reschedule(OPEN, DISCHARGE_AT, at(3))
    assert not may_reschedule(CANCELLED, DISCHARGE_AT, at(-1))
    assert not may_reschedule(CLOSED, DISCHARGE_AT, at(-1))
