"""Lead times count working days: Saturdays, Sundays and Italian public holidays do not count."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from cerniera.activation.planning import ITALY, WorkingCalendar
from cerniera.shared.clock import italian_date


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # An ordinary week: Monday + 2 = Wednesday.
        (date(2026, 3, 2), 2, date(2026, 3, 4)),
        # Over a weekend: Friday + 1 = Monday.
        (date(2026, 3, 6), 1, date(2026, 3, 9)),
        # Lead time 0: the same day.
        (date(2026, 3, 7), 0, date(2026, 3, 7)),
        # Christmas (Fri 25) and Santo Stefano (Sat 26), then a Sunday: Thu 24 + 1 = Mon 28.
        (date(2026, 12, 24), 1, date(2026, 12, 28)),
        # Wed 23 + 3: Thu 24, Mon 28, Tue 29.
        (date(2026, 12, 23), 3, date(2026, 12, 29)),
        # Easter Monday 2026-04-06: Fri 3 April + 1 = Tue 7 April.
        (date(2026, 4, 3), 1, date(2026, 4, 7)),
        # Festa della Repubblica, Tue 2 June 2026: Mon 1 + 1 = Wed 3.
        (date(2026, 6, 1), 1, date(2026, 6, 3)),
        # Starting on a holiday: the holiday itself is day 0, not a working day counted.
        (date(2026, 6, 2), 2, date(2026, 6, 4)),
        # Capodanno and Epifania 2027 (Fri 1 Jan, Wed 6 Jan): Thu 31 Dec 2026 + 3 = Thu 7 Jan.
        (date(2026, 12, 31), 3, date(2027, 1, 7)),
    ],
)
def test_working_days_after(start: date, days: int, expected: date) -> None:
    assert ITALY.add_working_days(start, days) == expected


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 12, 25), False),
        (date(2026, 12, 26), False),
        (date(2026, 4, 6), False),
        (date(2026, 6, 2), False),
        (date(2026, 4, 25), False),  # Liberazione (a Saturday in 2026, not working anyway)
        (date(2026, 3, 7), False),  # Saturday
        (date(2026, 3, 8), False),  # Sunday
        (date(2026, 3, 9), True),
        (date(2026, 4, 7), True),
    ],
)
def test_is_working_day(day: date, working: bool) -> None:
    assert ITALY.is_working_day(day) is working


def test_a_district_can_add_its_own_closures() -> None:
    # E.g. a patron saint's day: Sant'Ambrogio in Milan, Mon 7 December 2026.
    calendar = WorkingCalendar(extra_holidays=[date(2026, 12, 7)])

    assert calendar.add_working_days(date(2026, 12, 4), 1) == date(2026, 12, 9)  # 8 Dec too
    assert ITALY.add_working_days(date(2026, 12, 4), 1) == date(2026, 12, 7)


def test_a_negative_lead_time_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        ITALY.add_working_days(date(2026, 3, 2), -1)


def test_the_discharge_day_is_the_italian_date() -> None:
    # 23:30 UTC on 4 March is already 5 March in Italy (UTC+1 in winter).
    assert italian_date(datetime(2026, 3, 4, 23, 30, tzinfo=UTC)) == date(2026, 3, 5)
    assert italian_date(datetime(2026, 3, 4, 22, 30, tzinfo=UTC)) == date(2026, 3, 4)
