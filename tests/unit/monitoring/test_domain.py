"""Monitoring's rules: the weekly calendar, lateness, the week a check is for, and how a case
closes. Pure, no I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from cerniera.monitoring.config import MonitoringRule
from cerniera.monitoring.domain import (
    FUTURE_TOLERANCE,
    Check,
    CheckReport,
    DueCheck,
    EarlyOutcome,
    FollowUp,
    FollowUpStatus,
    Lateness,
    PendingDischarge,
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
from cerniera.shared.contract import CaseOutcome, CheckOutcome, Recommendation
from cerniera.shared.refusals import Conflict, Invalid, Refused

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


def refusal(recorded: set[int], checked_at: datetime, **given: Any) -> tuple[type[Refused], str]:
    """What ``week`` refuses, and why."""
    with pytest.raises(Refused) as refused:
        week(recorded, checked_at, **given)
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


def done(week: int, days: float, recommendation: Recommendation | None = None) -> Check:
    return Check(
        case_id=CASE,
        week=week,
        due_on=DEFAULTS.due_on(week),
        checked_at=at(days),
        outcome=CheckOutcome.STABLE,
        notes=None,
        recommendation=recommendation,
        checked_by="op-lbianchi",
        recorded_at=at(days),
    )


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
    checks: list[Check], outcome: CaseOutcome
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


# --- a follow-up's life ----------------------------------------------------------------------


def opened(pending: PendingDischarge | None = None) -> FollowUp:
    return FollowUp.open(CASE, "desio", DISCHARGE_AT, MonitoringRule(), "corr-1", pending)


def cancelled_follow_up() -> FollowUp:
    cancelled = opened().cancelled()
    assert cancelled is not None
    return cancelled


def test_a_follow_up_opens_on_the_italian_day_of_the_discharge_by_the_districts_rule() -> None:
    rule = MonitoringRule(check_interval_days=5, duration_days=21, overdue_after_days=1)
    late_evening = datetime(2024, 10, 2, 22, 30, tzinfo=UTC)  # 00:30 on the 3rd in Rome
    followup = FollowUp.open(CASE, "desio", late_evening, rule, "corr-1")
    assert followup.status is OPEN
    assert followup.is_open
    assert followup.discharge_at == late_evening
    assert followup.schedule == Schedule(DISCHARGE_ON, 5, 21, 1)
    assert (followup.correlation_id, followup.outcome, followup.closed_at) == ("corr-1", None, None)


def test_what_the_hospital_said_before_the_decision_applies_when_the_follow_up_opens() -> None:
    moved_to = DISCHARGE_AT + timedelta(days=3)
    moved = opened(PendingDischarge(expected_discharge_at=moved_to, cancelled=False))
    assert (moved.status, moved.discharge_at) == (OPEN, moved_to)
    assert moved.schedule.discharge_on == day(3)
    gone = opened(PendingDischarge(expected_discharge_at=None, cancelled=True))
    assert (gone.status, gone.discharge_at, gone.schedule) == (CANCELLED, DISCHARGE_AT, DEFAULTS)
    both = opened(PendingDischarge(expected_discharge_at=moved_to, cancelled=True))
    assert (both.status, both.schedule.discharge_on) == (CANCELLED, day(3))


def test_a_reschedule_moves_the_calendar_only_before_the_discharge() -> None:
    moved = opened().rescheduled(at(2), now=at(-1))
    assert moved is not None
    assert (moved.discharge_at, moved.schedule) == (at(2), DEFAULTS.moved_to(day(2)))
    assert opened().rescheduled(at(2), now=at(0)) is None
    assert cancelled_follow_up().rescheduled(at(2), now=at(-1)) is None


def test_a_cancellation_applies_to_an_open_follow_up_only() -> None:
    cancelled = cancelled_follow_up()
    assert (cancelled.status, cancelled.outcome) == (CANCELLED, None)
    assert cancelled.cancelled() is None
    assert opened().closed(CaseOutcome.DECEASED, at(3)).cancelled() is None


def test_a_readmission_closes_an_open_follow_up_at_the_readmission() -> None:
    closed = opened().readmitted(at(2))
    assert closed is not None
    assert (closed.status, closed.outcome, closed.closed_at) == (
        CLOSED,
        CaseOutcome.READMITTED,
        at(2),
    )
    assert (closed.closed_by, closed.close_note) == (None, None)
    assert closed.readmitted(at(3)) is None
    assert cancelled_follow_up().readmitted(at(3)) is None


def test_an_early_closure_by_the_equipe_is_refused_unless_open() -> None:
    outcome = EarlyOutcome.DECEASED.case_outcome
    closed = opened().closed(outcome, at(5), closed_by="op-lbianchi", note="Decesso.")
    assert (closed.status, closed.outcome, closed.closed_at) == (CLOSED, outcome, at(5))
    assert (closed.closed_by, closed.close_note) == ("op-lbianchi", "Decesso.")
    cancelled = cancelled_follow_up()
    for ended, code in ((closed, "followup.closed"), (cancelled, "followup.cancelled")):
        with pytest.raises(Conflict) as refused:
            ended.closed(outcome, at(6))
        assert refused.value.code == code


def test_the_closure_at_the_end_of_the_period_follows_the_last_check() -> None:
    handed = opened().closed_at_end_of_period(
        [done(1, 7, CONTINUE), done(2, 14, HAND_OVER)], at(30)
    )
    assert (handed.outcome, handed.closed_at) == (CaseOutcome.HANDED_OVER_TO_MUNICIPALITY, at(30))
    assert opened().closed_at_end_of_period([], at(30)).outcome is CaseOutcome.COMPLETED


def test_the_weeks_of_a_follow_up_are_late_only_while_it_is_open() -> None:
    assert [w.overdue for w in opened().weeks({2}, day(17))] == [True, False, False, False]
    ended = opened().closed(CaseOutcome.WITHDRAWN, at(17))
    assert [(w.recorded, w.overdue) for w in ended.weeks({2}, day(17))] == [
        (False, False),
        (True, False),
        (False, False),
        (False, False),
    ]
    assert [(c.case_id, c.week) for c in opened().due_checks({1}, day(14))] == [(CASE, 2)]


def test_a_check_is_recorded_for_the_week_found_and_at_now_by_default() -> None:
    report = CheckReport(
        outcome=CheckOutcome.NEEDS_ADJUSTMENT,
        checked_by="op-lbianchi",
        notes="Aumentare SAD.",
        recommendation=HAND_OVER,
    )
    check = opened().check([done(1, 7)], report, now=at(15))
    assert check == Check(
        case_id=CASE,
        week=2,
        due_on=day(14),
        checked_at=at(15),
        outcome=CheckOutcome.NEEDS_ADJUSTMENT,
        notes="Aumentare SAD.",
        recommendation=HAND_OVER,
        checked_by="op-lbianchi",
        recorded_at=at(15),
    )
    asked = CheckReport(CheckOutcome.STABLE, "op-mverdi", week=3, checked_at=at(9))
    ahead = opened().check([], asked, now=at(10))
    assert (ahead.week, ahead.due_on, ahead.checked_at, ahead.recorded_at) == (
        3,
        day(21),
        at(9),
        at(10),
    )
    with pytest.raises(Conflict) as refused:
        opened().check([done(3, 9)], asked, now=at(10))
    assert refused.value.code == "check.week_recorded"
