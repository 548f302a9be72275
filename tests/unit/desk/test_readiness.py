"""The team's rules, without I/O: each service's readiness by the day the person gets home, a
case as ready as its least ready service, the escalations open with the days left, and the
weekly checks due and overdue on the monitoring calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from cerniera.desk.casefile import (
    CaseView,
    CheckView,
    Closure,
    Escalation,
    PlanLine,
    ServiceStatus,
    ServiceView,
    Stage,
)
from cerniera.desk.readiness import (
    CheckSchedule,
    Ready,
    Why,
    case_readiness,
    checks_due,
    discharge_day,
    open_escalations,
    service_readiness,
    weekly_checks,
)
from cerniera.shared.clock import ROME
from cerniera.shared.contract.types import ServiceType

SAD, MEALS, TELE = ServiceType.SAD, ServiceType.MEALS, ServiceType.TELEASSISTANCE
DISCHARGE_ON = date(2024, 10, 3)
TODAY = date(2024, 10, 1)


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, datetime.min.time(), ROME).replace(hour=hour)


def service(service_type: ServiceType = SAD, **fields: Any) -> ServiceView:
    return ServiceView(service_type=service_type, **fields)


def case(
    *services: ServiceView,
    stage: Stage = Stage.CONFIRMED,
    discharge: datetime | None = None,
    case_id: str = "asst-vimercate:V1",
    **fields: Any,
) -> CaseView:
    return CaseView(
        case_id=case_id,
        ambito_id="desio",
        stage=stage,
        expected_discharge_at=discharge or at(DISCHARGE_ON),
        plan=[PlanLine(service_type=s.service_type, weekly_quantity=1) for s in services],
        services={s.service_type.value: s for s in services},
        **fields,
    )


# --- one service by the discharge day ---------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "state", "why", "starts_on"),
    [
        (
            service(status=ServiceStatus.ACTIVE, active_from=DISCHARGE_ON),
            Ready.READY,
            Why.ACTIVE,
            DISCHARGE_ON,
        ),
        (
            service(status=ServiceStatus.ACTIVE, active_from=DISCHARGE_ON + timedelta(days=1)),
            Ready.NOT_READY,
            Why.STARTS_LATE,
            DISCHARGE_ON + timedelta(days=1),
        ),
        (
            service(status=ServiceStatus.ACCEPTED, scheduled_start=at(DISCHARGE_ON, 9)),
            Ready.READY,
            Why.ACCEPTED,
            DISCHARGE_ON,
        ),
        (
            # 23:30 in Rome on the discharge day is the next day in UTC: Italy's day counts.
            service(
                status=ServiceStatus.ACCEPTED,
                scheduled_start=datetime(2024, 10, 3, 21, 30, tzinfo=UTC),
            ),
            Ready.READY,
            Why.ACCEPTED,
            DISCHARGE_ON,
        ),
        (
            service(status=ServiceStatus.ACCEPTED, scheduled_start=at(date(2024, 10, 4))),
            Ready.NOT_READY,
            Why.STARTS_LATE,
            date(2024, 10, 4),
        ),
        (
            service(status=ServiceStatus.REQUESTED, start_by=DISCHARGE_ON),
            Ready.AT_RISK,
            Why.REQUESTED,
            DISCHARGE_ON,
        ),
        (
            service(status=ServiceStatus.REQUESTED, start_by=date(2024, 10, 7)),
            Ready.NOT_READY,
            Why.STARTS_LATE,
            date(2024, 10, 7),
        ),
        (service(status=ServiceStatus.REQUESTED), Ready.AT_RISK, Why.NO_DATE, None),
        (service(status=ServiceStatus.PLANNED), Ready.AT_RISK, Why.PLANNED, None),
        (service(status=ServiceStatus.COVERED), Ready.READY, Why.COVERED, None),
        (service(status=ServiceStatus.ESCALATED), Ready.NOT_READY, Why.ESCALATED, None),
        (service(status=ServiceStatus.DECLINED), Ready.NOT_READY, Why.DECLINED, None),
    ],
)
def test_a_service_is_judged_on_the_day_the_person_gets_home(
    given: ServiceView, state: Ready, why: Why, starts_on: date | None
) -> None:
    judged = service_readiness(given, DISCHARGE_ON)

    assert judged is not None
    assert (judged.state, judged.why, judged.starts_on) == (state, why, starts_on)


def judged(given: ServiceView) -> tuple[Ready, Why]:
    found = service_readiness(given, DISCHARGE_ON)
    assert found is not None
    return found.state, found.why


@pytest.mark.parametrize("resolution", ["family", "territorial_network"])
def test_a_service_the_family_or_the_network_covers_is_ready(resolution: str) -> None:
    raised = Escalation(reason="cannot_start_before_discharge", escalated_at=at(TODAY))
    covered = raised.model_copy(update={"resolution": resolution, "resolved_at": at(TODAY)})
    by_hand = raised.model_copy(update={"resolution": "manual_provider", "resolved_at": at(TODAY)})
    late = date(2024, 10, 7)  # the provider asked before still starts too late

    assert judged(service(status=ServiceStatus.REQUESTED, start_by=late, escalation=covered)) == (
        Ready.READY,
        Why.COVERED,
    )
    # Escalated again, or given to a provider by hand: the provider's dates count again.
    assert judged(service(status=ServiceStatus.ESCALATED, escalation=raised)) == (
        Ready.NOT_READY,
        Why.ESCALATED,
    )
    assert judged(service(status=ServiceStatus.REQUESTED, start_by=late, escalation=by_hand)) == (
        Ready.NOT_READY,
        Why.STARTS_LATE,
    )


@pytest.mark.parametrize("status", [ServiceStatus.DROPPED, ServiceStatus.ENDED])
def test_a_service_no_longer_in_the_plan_is_not_judged(status: ServiceStatus) -> None:
    assert service_readiness(service(status=status), DISCHARGE_ON) is None


# --- the case ---------------------------------------------------------------------------------


def test_a_case_is_as_ready_as_its_least_ready_service() -> None:
    active = service(SAD, status=ServiceStatus.ACTIVE, active_from=DISCHARGE_ON)
    asked = service(MEALS, status=ServiceStatus.REQUESTED, start_by=DISCHARGE_ON)
    escalated = service(TELE, status=ServiceStatus.ESCALATED)

    assert case_readiness(case(active), TODAY).state is Ready.READY
    assert case_readiness(case(active), TODAY).ready
    assert case_readiness(case(active, asked), TODAY).state is Ready.AT_RISK
    assert case_readiness(case(active, asked, escalated), TODAY).state is Ready.NOT_READY
    assert not case_readiness(case(active, asked), TODAY).ready


def test_the_days_left_count_from_today_to_the_discharge_day() -> None:
    judged = case_readiness(case(service(status=ServiceStatus.COVERED)), TODAY)

    assert (judged.discharge_on, judged.days_left) == (DISCHARGE_ON, 2)
    assert case_readiness(case(), DISCHARGE_ON + timedelta(days=2)).days_left == -2


def test_a_case_not_decided_yet_has_nothing_ready() -> None:
    judged = case_readiness(case(stage=Stage.ANNOUNCED), TODAY)

    assert (judged.state, judged.why, judged.services) == (Ready.NOT_READY, Why.UNDECIDED, ())


def test_a_plan_line_activation_has_not_reached_yet_is_still_to_request() -> None:
    view = case(service(SAD, status=ServiceStatus.ACTIVE, active_from=DISCHARGE_ON))
    view = view.model_copy(
        update={"plan": [*view.plan, PlanLine(service_type=MEALS, weekly_quantity=5)]}
    )

    judged = case_readiness(view, TODAY)

    meals = judged.of("meals")
    assert meals is not None
    assert (meals.state, meals.why) == (Ready.AT_RISK, Why.PLANNED)
    assert judged.state is Ready.AT_RISK


def test_a_dropped_service_does_not_hold_the_case_back() -> None:
    view = case(
        service(SAD, status=ServiceStatus.ACTIVE, active_from=DISCHARGE_ON),
        service(MEALS, status=ServiceStatus.DROPPED),
    )

    judged = case_readiness(view, TODAY)

    assert judged.state is Ready.READY
    assert judged.of("meals") is None


def test_the_discharge_day_is_the_day_in_italy() -> None:
    late_evening = datetime(2024, 10, 2, 22, 30, tzinfo=UTC)  # 00:30 on the 3rd in Rome

    assert discharge_day(case(discharge=late_evening)) == DISCHARGE_ON


# --- escalations ------------------------------------------------------------------------------


def test_open_escalations_come_with_the_days_left_nearest_discharge_first() -> None:
    raised = Escalation(reason="all_providers_declined", escalated_at=at(TODAY))
    resolved = raised.model_copy(update={"resolution": "family", "resolved_at": at(TODAY)})
    later = case(
        service(MEALS, status=ServiceStatus.ESCALATED, escalation=raised),
        discharge=at(date(2024, 10, 9)),
        case_id="asst-vimercate:LATER",
    )
    sooner = case(service(SAD, status=ServiceStatus.ESCALATED, escalation=raised))
    done = case(
        service(SAD, status=ServiceStatus.COVERED, escalation=resolved),
        case_id="asst-vimercate:DONE",
    )
    undecided = case(
        service(SAD, status=ServiceStatus.ESCALATED, escalation=raised),
        stage=Stage.CANCELLED,
        case_id="asst-vimercate:GONE",
    )

    found = open_escalations([later, done, sooner, undecided], TODAY)

    assert [(e.case_id, e.service_type, e.days_left) for e in found] == [
        ("asst-vimercate:V1", SAD, 2),
        ("asst-vimercate:LATER", MEALS, 8),
    ]
    assert found[0].reason == "all_providers_declined"


# --- weekly checks ----------------------------------------------------------------------------

SCHEDULE = CheckSchedule(interval_days=7, duration_days=30, overdue_after_days=2)


def check(week: int) -> CheckView:
    return CheckView(
        week=week, checked_at=at(DISCHARGE_ON + timedelta(days=7 * week)), outcome="stable"
    )


def test_four_weeks_are_scheduled_in_thirty_days() -> None:
    weeks = weekly_checks(case(), date(2024, 10, 3), SCHEDULE)

    assert [(w.week, w.due_on) for w in weeks] == [
        (1, date(2024, 10, 10)),
        (2, date(2024, 10, 17)),
        (3, date(2024, 10, 24)),
        (4, date(2024, 10, 31)),
    ]
    assert not any(w.due for w in weeks)


@pytest.mark.parametrize(
    ("today", "due", "overdue", "days_overdue"),
    [
        (date(2024, 10, 9), False, False, 0),
        (date(2024, 10, 10), True, False, 0),  # due on its day
        (date(2024, 10, 12), True, False, 0),  # two days of grace
        (date(2024, 10, 13), True, True, 1),
        (date(2024, 10, 15), True, True, 3),
    ],
)
def test_a_week_falls_due_then_overdue_after_the_grace_days(
    today: date, due: bool, overdue: bool, days_overdue: int
) -> None:
    first = weekly_checks(case(), today, SCHEDULE)[0]

    assert (first.due, first.overdue, first.days_overdue) == (due, overdue, days_overdue)


def test_a_recorded_week_is_neither_due_nor_overdue() -> None:
    first = weekly_checks(case(checks=[check(1)]), date(2024, 10, 20), SCHEDULE)[0]

    assert first.recorded
    assert not first.due
    assert not first.overdue


@pytest.mark.parametrize(
    "view",
    [
        case(discharge=at(date(2024, 10, 20))),  # not discharged yet
        case(stage=Stage.ANNOUNCED),
        case(stage=Stage.CLOSED, closure=Closure(closed_at=at(TODAY), outcome="deceased")),
    ],
)
def test_no_checks_before_the_discharge_nor_for_a_case_not_followed(view: CaseView) -> None:
    assert weekly_checks(view, date(2024, 10, 15), SCHEDULE) == []


def test_checks_due_list_the_overdue_first_each_on_its_districts_calendar() -> None:
    today = date(2024, 10, 18)
    first_week_late = case(case_id="asst-vimercate:A")  # week 1 five days overdue, week 2 due
    magentino = case(case_id="asst-ovest-milanese:B", checks=[check(1)])
    magentino = magentino.model_copy(update={"ambito_id": "magentino"})
    strict = {"magentino": CheckSchedule(interval_days=7, duration_days=30, overdue_after_days=0)}

    due = checks_due([magentino, first_week_late], today, strict)

    assert [(w.case_id, w.week, w.overdue, w.days_overdue) for w in due] == [
        ("asst-vimercate:A", 1, True, 6),
        ("asst-ovest-milanese:B", 2, True, 1),
        ("asst-vimercate:A", 2, False, 0),
    ]
