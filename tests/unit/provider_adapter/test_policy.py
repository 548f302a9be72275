"""The simulated provider's rules, pure: answers in seeded shares, start after the lead time in
working days, and the delivery schedule (SAD visits, meals, teleassistance, deactivation)."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from cerniera.provider_adapter.policy import (
    Accept,
    AcceptedService,
    Decline,
    Silence,
    SimulatedPolicy,
    add_working_days,
    daily_quantity,
    due_days,
    sad_visit_days,
    scheduled_day,
    spread,
)
from cerniera.shared.clock import ROME
from cerniera.shared.contract import (
    DeclineReason,
    ServiceActivationRequested,
    ServiceType,
)

PROVIDER = "coop-il-melograno"
MONDAY = date(2026, 11, 2)
FRIDAY = MONDAY + timedelta(days=4)
SATURDAY = MONDAY + timedelta(days=5)
WEEK = [MONDAY + timedelta(days=n) for n in range(7)]


def request(
    *,
    service_type: ServiceType = ServiceType.SAD,
    weekly_quantity: str = "6",
    start_by: date = MONDAY + timedelta(days=7),
    request_id: str | None = None,
) -> ServiceActivationRequested:
    return ServiceActivationRequested.model_validate(
        {
            "case_id": "asst-vimercate:V2026-000123",
            "request_id": request_id or str(uuid.uuid4()),
            "provider_id": PROVIDER,
            "service_type": service_type,
            "weekly_quantity": weekly_quantity,
            "start_by": start_by,
            "beneficiary": {"name": "Mario Rossi", "address": "Via Roma 12, Desio"},
        }
    )


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ROME)


# --- start date -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "days", "expected"),
    [
        (MONDAY, 0, MONDAY),
        (MONDAY, 3, MONDAY + timedelta(days=3)),  # Thursday
        (FRIDAY, 2, MONDAY + timedelta(days=8)),  # over the weekend to Tuesday
        (SATURDAY, 2, MONDAY + timedelta(days=8)),  # Monday is the first working day
        (SATURDAY, 0, SATURDAY),
    ],
)
def test_working_days_are_monday_to_friday(day: date, days: int, expected: date) -> None:
    assert add_working_days(day, days) == expected


def test_start_is_the_later_of_start_by_and_the_lead_time() -> None:
    # Requested Friday with 2 working days of lead time: Tuesday at the earliest.
    assert scheduled_day(MONDAY + timedelta(days=14), FRIDAY, 2) == MONDAY + timedelta(days=14)
    assert scheduled_day(SATURDAY, FRIDAY, 2) == MONDAY + timedelta(days=8)


def test_acceptance_starts_at_nine_italian_time_after_the_service_lead_time() -> None:
    policy = SimulatedPolicy(answer_delay=timedelta(hours=4))
    urgent = FRIDAY  # wanted the same day
    sad = policy.decision(request(start_by=urgent), at(FRIDAY))
    tele = policy.decision(
        request(service_type=ServiceType.TELEASSISTANCE, weekly_quantity="7", start_by=urgent),
        at(FRIDAY),
    )
    assert sad == Accept(at(MONDAY + timedelta(days=8), 9), timedelta(hours=4))  # SAD: 2 days
    assert tele == Accept(at(MONDAY + timedelta(days=9), 9), timedelta(hours=4))  # tele: 3
    assert isinstance(sad, Accept)
    assert sad.start.utcoffset() == timedelta(hours=1)  # CET in November


def test_the_request_day_is_taken_in_italy() -> None:
    # 23:30 UTC on Friday is already Saturday in Rome: the lead time counts from Saturday.
    late_friday_utc = datetime.combine(FRIDAY, time(23, 30), tzinfo=UTC)
    policy = SimulatedPolicy(lead_time_days={ServiceType.SAD: 0})
    decision = policy.decision(request(start_by=FRIDAY), late_friday_utc)
    assert decision == Accept(at(SATURDAY, 9))


def test_an_updated_request_gets_the_same_verdict_and_a_new_start() -> None:
    policy = SimulatedPolicy(seed=3)
    first = request(start_by=MONDAY + timedelta(days=7))
    moved = first.model_copy(update={"start_by": MONDAY + timedelta(days=10)})
    assert policy.decision(first, at(MONDAY)) == Accept(at(MONDAY + timedelta(days=7), 9))
    assert policy.decision(moved, at(MONDAY)) == Accept(at(MONDAY + timedelta(days=10), 9))


# --- shares -----------------------------------------------------------------------------------


def test_decline_and_silence_shares_hold_and_the_seed_reproduces_them() -> None:
    policy = SimulatedPolicy(
        decline_share=0.2, silence_share=0.05, answer_delay=timedelta(hours=4), seed=1
    )
    requests = [request(request_id=f"req-{n}") for n in range(4000)]
    decisions = [policy.decision(r, at(MONDAY)) for r in requests]
    kinds = Counter(type(d) for d in decisions)
    assert kinds[Decline] / 4000 == pytest.approx(0.2, abs=0.025)
    assert kinds[Silence] / 4000 == pytest.approx(0.05, abs=0.015)
    assert kinds[Accept] / 4000 == pytest.approx(0.75, abs=0.025)
    declines = [d for d in decisions if isinstance(d, Decline)]
    assert {d.reason for d in declines} == {
        DeclineReason.CAPACITY,
        DeclineReason.OUT_OF_AREA,
        DeclineReason.MISSING_INFORMATION,
    }
    assert all(d.note and d.delay == timedelta(hours=4) for d in declines)

    again = SimulatedPolicy(
        decline_share=0.2, silence_share=0.05, answer_delay=timedelta(hours=4), seed=1
    )
    assert [again.decision(r, at(MONDAY)) for r in reversed(requests)] == decisions[::-1]
    other_seed = SimulatedPolicy(decline_share=0.2, silence_share=0.05, seed=2)
    assert [type(other_seed.decision(r, at(MONDAY))) for r in requests] != [
        type(d) for d in decisions
    ]


def test_extreme_shares() -> None:
    reqs = [request() for _ in range(50)]
    assert all(
        isinstance(SimulatedPolicy(decline_share=1).decision(r, at(MONDAY)), Decline) for r in reqs
    )
    assert all(
        isinstance(SimulatedPolicy(silence_share=1).decision(r, at(MONDAY)), Silence) for r in reqs
    )
    assert all(isinstance(SimulatedPolicy().decision(r, at(MONDAY)), Accept) for r in reqs)


@pytest.mark.parametrize(
    "options",
    [
        {"decline_share": 1.2},
        {"silence_share": -0.1},
        {"decline_share": 0.7, "silence_share": 0.4},
        {"evening_share": 2},
        {"answer_delay": timedelta(hours=-1)},
        {"lead_time_days": {ServiceType.SAD: -1}},
    ],
)
def test_impossible_parameters_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="must"):
        SimulatedPolicy(**options)  # type: ignore[arg-type]


def test_an_acceptance_needs_a_time_zone() -> None:
    with pytest.raises(ValueError, match="time zone"):
        Accept(datetime(2026, 11, 2, 9))


# --- delivery schedule ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "slots", "step", "parts"),
    [
        ("6", 3, "0.01", ["2", "2", "2"]),
        ("6.5", 3, "0.01", ["2.17", "2.17", "2.16"]),
        ("5", 7, "1", ["1", "1", "1", "1", "1", "0", "0"]),
        ("10", 7, "1", ["2", "2", "2", "1", "1", "1", "1"]),
        ("5.5", 7, "1", ["1", "1", "1", "1", "1", "0", "0"]),  # whole meals only
    ],
)
def test_spread_splits_exactly_in_steps(
    total: str, slots: int, step: str, parts: list[str]
) -> None:
    assert spread(Decimal(total), slots, Decimal(step)) == [Decimal(p) for p in parts]


@pytest.mark.parametrize(
    ("weekly", "days", "per_visit"),
    [
        ("1", (2,), ["1"]),
        ("3", (1, 3), ["1.5", "1.5"]),
        ("6", (0, 2, 4), ["2", "2", "2"]),
        ("7", (0, 1, 3, 4), ["1.75", "1.75", "1.75", "1.75"]),
        ("12", (0, 1, 2, 3, 4), ["2.4"] * 5),
    ],
)
def test_sad_hours_are_visits_spread_over_the_working_week(
    weekly: str, days: tuple[int, ...], per_visit: list[str]
) -> None:
    hours = {d.weekday(): daily_quantity(ServiceType.SAD, Decimal(weekly), d) for d in WEEK}
    assert sad_visit_days(Decimal(weekly)) == days
    assert {w: h for w, h in hours.items() if h} == dict(
        zip(days, [Decimal(h) for h in per_visit], strict=True)
    )
    assert sum(hours.values()) == Decimal(weekly)


@pytest.mark.parametrize("weekly", ["2.5", "6.5", "9", "12.34", "20"])
def test_a_week_of_sad_adds_up_to_the_weekly_hours(weekly: str) -> None:
    assert sum(daily_quantity(ServiceType.SAD, Decimal(weekly), d) for d in WEEK) == Decimal(weekly)


def test_meals_per_day_from_the_weekly_quantity() -> None:
    five = [daily_quantity(ServiceType.MEALS, Decimal(5), d) for d in WEEK]
    seven = [daily_quantity(ServiceType.MEALS, Decimal(7), d) for d in WEEK]
    ten = [daily_quantity(ServiceType.MEALS, Decimal(10), d) for d in WEEK]
    assert five == [1, 1, 1, 1, 1, 0, 0]  # Monday to Friday
    assert seven == [1] * 7
    assert ten == [2, 2, 2, 1, 1, 1, 1]


def test_teleassistance_is_one_day_every_day() -> None:
    assert [daily_quantity(ServiceType.TELEASSISTANCE, Decimal(7), d) for d in WEEK] == [1] * 7


async def test_lines_of_a_month_have_unique_stable_refs_and_stop_after_until() -> None:
    sad = request(weekly_quantity="6", request_id="req-sad")
    until = MONDAY + timedelta(days=17)  # a Thursday
    service = AcceptedService(sad, start=MONDAY + timedelta(days=2), until=until)
    policy = SimulatedPolicy(seed=4, evening_share=0.5)
    month = [MONDAY + timedelta(days=n) for n in range(31)]

    lines = {day: await policy.deliveries(service, day) for day in month}
    delivered = [day for day, ls in lines.items() if ls]
    refs = [line.delivery_ref for ls in lines.values() for line in ls]

    # Mon/Wed/Fri from the start (a Wednesday) to `until`, nothing outside.
    assert delivered[0] == MONDAY + timedelta(days=2)
    assert delivered[-1] == MONDAY + timedelta(days=16)  # the last Wednesday before `until`
    assert {d.weekday() for d in delivered} == {0, 2, 4}
    assert all(line.quantity == 2 for ls in lines.values() for line in ls)
    assert len(refs) == len(set(refs)) == 7
    # The same lines again (another process, after a restart): identical, refs included.
    replay = SimulatedPolicy(seed=4, evening_share=0.5)
    assert {day: await replay.deliveries(service, day) for day in month} == lines


def test_evening_visits_are_a_seeded_share_of_sad_only() -> None:
    days = [MONDAY + timedelta(days=n) for n in range(400)]
    sad = AcceptedService(request(weekly_quantity="12", request_id="r1"), start=MONDAY)
    meals = AcceptedService(
        request(service_type=ServiceType.MEALS, weekly_quantity="7", request_id="r2"),
        start=MONDAY,
    )
    half = SimulatedPolicy(evening_share=0.5, seed=9)
    visits = [line for d in days for line in half.lines(sad, d)]
    assert sum(line.evening for line in visits) / len(visits) == pytest.approx(0.5, abs=0.08)
    assert not any(line.evening for d in days for line in half.lines(meals, d))
    assert not any(
        line.evening for d in days for line in SimulatedPolicy(evening_share=0).lines(sad, d)
    )


def test_due_days_run_from_the_start_through_yesterday_and_stop_at_until() -> None:
    start = MONDAY
    today = MONDAY + timedelta(days=5)
    assert due_days(start, None, None, start) == []  # nothing has passed yet
    assert due_days(start, None, None, today) == WEEK[:5]
    assert due_days(start, WEEK[2], None, today) == WEEK[3:5]  # only what is not yet reported
    assert due_days(start, None, WEEK[1], today) == WEEK[:2]  # deactivated after Tuesday
    assert due_days(start, WEEK[1], WEEK[1], today) == []  # ...and nothing more, ever
    assert due_days(WEEK[3], WEEK[1], None, today) == WEEK[3:5]  # a later start moves it
