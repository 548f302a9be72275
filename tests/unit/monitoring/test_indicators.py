"""The outcome indicators, pure: each definition on small cases made to sit on its edges."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from cerniera.monitoring.indicators import (
    CaseFacts,
    Days,
    Rate,
    at_home_at_day_30,
    bed_days_lost,
    days_to_every_service_active,
    needs_provider,
    outcomes,
    planned_before,
    quarter_days,
    readmitted_within,
)
from cerniera.shared.clock import ROME
from cerniera.shared.contract import CaseOutcome, Resolution, ServiceType

SAD, MEALS, TELE = ServiceType.SAD, ServiceType.MEALS, ServiceType.TELEASSISTANCE
DISCHARGE = date(2024, 10, 3)


def case(n: int = 1, **given: object) -> CaseFacts:
    fields: dict[str, object] = {
        "case_id": f"h:C{n}",
        "ambito_id": "desio",
        "discharge_on": DISCHARGE,
        **given,
    }
    return CaseFacts(**fields)  # type: ignore[arg-type]


def day(n: int) -> date:
    return DISCHARGE + timedelta(days=n)


@pytest.mark.parametrize(
    ("readmitted_on", "expected"),
    [(None, False), (day(0), True), (day(30), True), (day(31), False), (day(-1), True)],
)
def test_readmitted_within_30_days_of_the_discharge_day(
    readmitted_on: date | None, expected: bool
) -> None:
    assert readmitted_within(case(readmitted_on=readmitted_on)) is expected


@pytest.mark.parametrize(
    ("outcome", "readmitted_on", "expected"),
    [
        (None, None, None),  # still followed
        (CaseOutcome.WITHDRAWN, None, None),  # lost sight of
        (CaseOutcome.COMPLETED, None, True),
        (CaseOutcome.HANDED_OVER_TO_MUNICIPALITY, None, True),
        (CaseOutcome.HANDED_OVER_TO_MUNICIPALITY, day(20), False),  # handed over, then back
        (CaseOutcome.COMPLETED, day(31), True),  # back after day 30: at home on day 30
        (CaseOutcome.READMITTED, day(5), False),
        (CaseOutcome.DECEASED, None, False),
        (CaseOutcome.INSTITUTIONALISED, None, False),
    ],
)
def test_at_home_at_day_30(
    outcome: CaseOutcome | None, readmitted_on: date | None, expected: bool | None
) -> None:
    assert at_home_at_day_30(case(outcome=outcome, readmitted_on=readmitted_on)) is expected


def test_days_to_every_service_active_is_to_the_last_service_needing_a_provider() -> None:
    announced = day(-5)
    every = case(
        announced_on=announced,
        needs_provider=frozenset({SAD, TELE}),
        first_active={SAD: day(0), TELE: day(2), MEALS: day(9)},  # meals: not needed
    )
    assert days_to_every_service_active(every) == 7
    missing = case(announced_on=announced, needs_provider=frozenset({SAD, TELE}), first_active={})
    assert days_to_every_service_active(missing) is None
    unknown = case(needs_provider=frozenset({SAD}), first_active={SAD: day(0)})
    assert days_to_every_service_active(unknown) is None
    nothing_needed = case(announced_on=announced)
    assert days_to_every_service_active(nothing_needed) is None
    # Active before the announcement is known (a provider kept from an earlier visit): 0.
    early = case(announced_on=day(1), needs_provider=frozenset({SAD}), first_active={SAD: day(0)})
    assert days_to_every_service_active(early) == 0


def test_services_resolved_without_a_provider_need_none() -> None:
    resolved = {MEALS: Resolution.FAMILY, TELE: Resolution.MANUAL_PROVIDER}
    assert needs_provider([SAD, MEALS, TELE], resolved) == {SAD, TELE}
    for without in (Resolution.TERRITORIAL_NETWORK, Resolution.DROPPED):
        assert needs_provider([MEALS], {MEALS: without}) == frozenset()
    assert needs_provider([MEALS], {MEALS: Resolution.POSTPONEMENT_REQUESTED}) == {MEALS}


def rome(day_: date, hour: int = 10) -> datetime:
    return datetime(day_.year, day_.month, day_.day, hour, tzinfo=ROME)


def test_the_planned_discharge_is_the_last_date_given_before_the_team_asked() -> None:
    said = [
        (rome(day(-8)), rome(day(-3))),  # announced for 30 Sept
        (rome(day(-6)), rome(day(-2))),  # the ward's own move to 1 Oct
        (rome(day(-4)), rome(day(0))),  # after the request: the ward's answer, 3 Oct
    ]
    assert planned_before(said, rome(day(-5))) == day(-2)
    assert planned_before(said, rome(day(-6))) == day(-2)  # said at that very moment
    assert planned_before(said, rome(day(-9))) is None
    assert planned_before(list(reversed(said)), rome(day(-5))) == day(-2)  # any order


@pytest.mark.parametrize(
    ("planned", "expected"), [(None, 0), (day(-2), 2), (day(0), 0), (day(3), 0)]
)
def test_bed_days_lost_are_the_days_the_discharge_moved_past_the_plan(
    planned: date | None, expected: int
) -> None:
    assert bed_days_lost(case(planned_discharge_on=planned)) == expected


def test_rates_and_days() -> None:
    assert Rate(1, 6).percent == 16.7
    assert Rate(0, 0).percent is None
    assert Days.of([]) == Days(0, None, None, None)
    assert Days.of([7, 4, 2, 9]) == Days(4, 5.5, 5.5, 9)


def test_a_districts_outcomes() -> None:
    cases = [
        case(1, person_ref="p-1", outcome=CaseOutcome.COMPLETED),
        case(2, person_ref="p-1", outcome=CaseOutcome.COMPLETED, readmitted_on=day(23)),
        case(3, outcome=CaseOutcome.INSTITUTIONALISED, planned_discharge_on=day(-2)),
        case(
            4,
            person_ref="p-4",
            outcome=CaseOutcome.HANDED_OVER_TO_MUNICIPALITY,
            handed_over_by_team=True,
            announced_on=day(-4),
            needs_provider=frozenset({SAD}),
            first_active={SAD: day(0)},
        ),
        case(
            5,
            person_ref="p-5",
            outcome=CaseOutcome.HANDED_OVER_TO_MUNICIPALITY,
            handed_over_by_team=False,
        ),
        case(6, person_ref="p-6", needs_provider=frozenset({SAD}), planned_discharge_on=day(1)),
        case(7, person_ref="p-7", outcome=CaseOutcome.WITHDRAWN),
    ]
    found = outcomes(cases)
    assert (found.cases, found.beneficiaries, found.open) == (7, 6, 1)
    assert found.outcomes == {
        "completed": 2,
        "handed_over_to_municipality": 2,
        "institutionalised": 1,
        "withdrawn": 1,
    }
    assert found.readmitted_within_30_days == Rate(1, 7)
    assert found.institutionalised == Rate(1, 7)
    assert found.at_home_at_day_30 == Rate(3, 5)  # 1, 4, 5 of 1-5 (6 open, 7 withdrawn)
    assert found.days_to_every_service_active == Days(1, 4.0, 4.0, 4)
    assert found.not_all_active == 1
    assert (found.bed_days_lost, found.cases_waiting_for_services) == (2, 2)
    assert (found.hand_overs, found.hand_overs_by_team, found.hand_overs_at_closure) == (2, 1, 1)
    assert outcomes([]).at_home_at_day_30 == Rate(0, 0)


@pytest.mark.parametrize(
    ("quarter", "first", "last"),
    [
        ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("2024-Q1", date(2024, 1, 1), date(2024, 3, 31)),
        ("2026-Q2", date(2026, 4, 1), date(2026, 6, 30)),
        ("2026-Q3", date(2026, 7, 1), date(2026, 9, 30)),
        ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
    ],
)
def test_the_days_of_a_quarter(quarter: str, first: date, last: date) -> None:
    assert quarter_days(quarter) == (first, last)
