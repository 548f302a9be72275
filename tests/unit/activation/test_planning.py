"""Whom activation asks, and when it escalates: candidates, the plan worked back from the
discharge day, the next candidate after a decline or a silence, and a moved discharge."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from cerniera.activation.config import ActivationDefaults, Ambito, Provider, load_config
from cerniera.activation.domain import CaseStatus, ensure_sent_to, why_ignored
from cerniera.activation.planning import (
    Ask,
    Attempt,
    Candidate,
    Escalate,
    Move,
    PackageChange,
    RequestStatus,
    Step,
    Timing,
    assign,
    attempt_number,
    candidates_for,
    change_package,
    choose,
    deadline_for,
    is_overdue,
    next_candidate,
    plan_package,
    request_id_for,
    reschedule,
)
from cerniera.shared.contract import EscalationReason, ServiceLine, ServiceType
from cerniera.shared.refusals import Forbidden, Refused
from support.activation_attempts import CASE, MONDAY, MONDAY_9AM, attempt
from support.districts import EXAMPLE

DESIO = "108023"
VAREDO = "108045"  # in the district, outside coop-solidarieta-brianza's area

SAD, MEALS, TELE = ServiceType.SAD, ServiceType.MEALS, ServiceType.TELEASSISTANCE
CANNOT_START = EscalationReason.CANNOT_START_BEFORE_DISCHARGE
MARCH = {day: date(2026, 3, day) for day in range(1, 32)}  # 2 March 2026 is a Monday


@pytest.fixture(scope="module")
def desio() -> Ambito:
    return load_config(EXAMPLE).ambiti["desio"]


def small_district(*providers: Provider) -> Ambito:
    return Ambito(
        id="north",
        name="North",
        municipalities=frozenset({"108023", "108010"}),
        activation=ActivationDefaults(lead_time_days={SAD: 2, MEALS: 2, TELE: 3}),
        providers=providers,
    )


# --- candidates ------------------------------------------------------------------------------


def test_candidates_offer_the_service_in_registry_order(desio: Ambito) -> None:
    assert [(c.provider_id, c.lead_time_days) for c in candidates_for(desio, SAD, DESIO)] == [
        ("coop-il-melograno", 2),
        ("coop-solidarieta-brianza", 1),
    ]
    assert [c.provider_id for c in candidates_for(desio, MEALS, DESIO)] == [
        "brianza-ristorazione-sociale",
        "pasti-a-casa-desio",
    ]
    assert [c.provider_id for c in candidates_for(desio, TELE, DESIO)] == [
        "telesoccorso-lombardia",
        "croce-azzurra-teleassistenza",
    ]


def test_candidates_cover_the_beneficiarys_municipality(desio: Ambito) -> None:
    # coop-solidarieta-brianza serves Desio, Muggiò and Nova Milanese only.
    assert [c.provider_id for c in candidates_for(desio, SAD, VAREDO)] == ["coop-il-melograno"]


def test_a_provider_with_several_services_is_a_candidate_for_each() -> None:
    both = Provider(id="p", name="P", services=(SAD, MEALS), lead_time_days={MEALS: 4})
    district = small_district(both)

    assert [(c.provider_id, c.lead_time_days) for c in candidates_for(district, MEALS, DESIO)] == [
        ("p", 4)
    ]
    assert [(c.provider_id, c.lead_time_days) for c in candidates_for(district, SAD, DESIO)] == [
        ("p", 2)
    ]
    assert candidates_for(district, TELE, DESIO) == []


# --- the plan --------------------------------------------------------------------------------


def test_every_first_choice_meets_the_discharge(desio: Ambito) -> None:
    # Monday 2 March, discharge Thursday 5: sad/meals from Wednesday, teleassistance Thursday.
    steps = plan_package(desio, [SAD, MEALS, TELE], DESIO, Timing(MONDAY, MARCH[5]))

    assert steps == [
        Ask(SAD, "coop-il-melograno", start_by=MARCH[5], earliest_start=MARCH[4]),
        Ask(MEALS, "brianza-ristorazione-sociale", start_by=MARCH[5], earliest_start=MARCH[4]),
        Ask(TELE, "telesoccorso-lombardia", start_by=MARCH[5], earliest_start=MARCH[5]),
    ]


def test_the_first_candidate_that_meets_the_discharge_not_the_fastest(desio: Ambito) -> None:
    # Discharge Wednesday 4: coop-il-melograno (2 days) still makes it, so it is asked first
    # although coop-solidarieta-brianza (1 day) would be earlier; telesoccorso-lombardia (3
    # days, Thursday) cannot, croce-azzurra-teleassistenza (2 days) can.
    steps = plan_package(desio, [SAD, TELE], DESIO, Timing(MONDAY, MARCH[4]))

    assert steps == [
        Ask(SAD, "coop-il-melograno", start_by=MARCH[4], earliest_start=MARCH[4]),
        Ask(TELE, "croce-azzurra-teleassistenza", start_by=MARCH[4], earliest_start=MARCH[4]),
    ]


def test_cannot_start_before_discharge_escalates_and_asks_the_soonest(desio: Ambito) -> None:
    # Discharge Tuesday 3: only coop-solidarieta-brianza (1 day) makes it for SAD; nobody for
    # meals (Wed 4 / Thu 5) or teleassistance (Thu 5 / Wed 4): ask whoever starts soonest.
    steps = plan_package(desio, [SAD, MEALS, TELE], DESIO, Timing(MONDAY, MARCH[3]))

    assert steps == [
        Ask(SAD, "coop-solidarieta-brianza", start_by=MARCH[3], earliest_start=MARCH[3]),
        Ask(MEALS, "brianza-ristorazione-sociale", start_by=MARCH[4], earliest_start=MARCH[4]),
        Escalate(MEALS, CANNOT_START),
        Ask(TELE, "croce-azzurra-teleassistenza", start_by=MARCH[4], earliest_start=MARCH[4]),
        Escalate(TELE, CANNOT_START),
    ]


def test_a_tie_on_the_soonest_start_goes_to_the_first_in_order() -> None:
    first = Provider(id="first", name="First", services=(SAD,), lead_time_days={SAD: 3})
    second = Provider(id="second", name="Second", services=(SAD,), lead_time_days={SAD: 3})
    district = small_district(first, second)

    steps = plan_package(district, [SAD], DESIO, Timing(MONDAY, MARCH[3]))

    assert steps == [Ask(SAD, "first", MARCH[5], MARCH[5]), Escalate(SAD, CANNOT_START)]


def test_a_discharge_already_past_cannot_be_met(desio: Ambito) -> None:
    steps = plan_package(desio, [SAD], DESIO, Timing(MARCH[9], MONDAY))

    assert steps == [
        Ask(SAD, "coop-solidarieta-brianza", start_by=MARCH[10], earliest_start=MARCH[10]),
        Escalate(SAD, CANNOT_START),
    ]


def test_lead_times_skip_weekends_in_the_plan(desio: Ambito) -> None:
    # Asked on Friday 6 March for a Monday 9 discharge: 2 working days lands on Tuesday 10.
    steps = plan_package(desio, [SAD], DESIO, Timing(MARCH[6], MARCH[9]))

    assert steps == [Ask(SAD, "coop-solidarieta-brianza", MARCH[9], MARCH[9])]


def test_no_provider_for_the_service_or_the_municipality() -> None:
    only_elsewhere = Provider(
        id="meals-north", name="M", services=(MEALS,), municipalities=frozenset({"108010"})
    )
    district = small_district(only_elsewhere)

    steps = plan_package(district, [SAD, MEALS], DESIO, Timing(MONDAY, MARCH[9]))

    assert steps == [
        Escalate(SAD, EscalationReason.NO_PROVIDER_AVAILABLE),
        Escalate(MEALS, EscalationReason.NO_PROVIDER_AVAILABLE),
    ]


def test_choose_with_a_lead_time_of_zero_starts_today() -> None:
    steps = choose(
        SAD,
        [Candidate("same-day", 0)],
        Timing(MONDAY, MONDAY),
        none_left=EscalationReason.NO_PROVIDER_AVAILABLE,
    )

    assert steps == [Ask(SAD, "same-day", MONDAY, MONDAY)]


# --- the next candidate ----------------------------------------------------------------------


def next_steps(
    district: Ambito,
    tried: list[Attempt],
    service: ServiceType = SAD,
    *,
    municipality: str = DESIO,
    today: date = MONDAY,
    none_left: EscalationReason = EscalationReason.ALL_PROVIDERS_DECLINED,
) -> list[Step]:
    """What follows ``tried`` for ``service``, the discharge being on Thursday 5 March."""
    return next_candidate(
        district, service, municipality, tried, Timing(today, MARCH[5]), none_left=none_left
    )


def test_after_a_decline_the_next_candidate(desio: Ambito) -> None:
    tried = [attempt(SAD, "coop-il-melograno", status=RequestStatus.DECLINED)]

    steps = next_steps(desio, tried)

    assert steps == [Ask(SAD, "coop-solidarieta-brianza", MARCH[5], MARCH[3])]
    assert attempt_number(tried, SAD) == 2


def test_after_every_candidate_declined_escalate(desio: Ambito) -> None:
    tried = [
        attempt(SAD, "coop-il-melograno", status=RequestStatus.DECLINED),
        attempt(SAD, "coop-solidarieta-brianza", number=2, status=RequestStatus.DECLINED),
    ]

    steps = next_steps(desio, tried)

    assert steps == [Escalate(SAD, EscalationReason.ALL_PROVIDERS_DECLINED)]


def test_after_a_silence_with_nobody_left_escalate_for_no_answer(desio: Ambito) -> None:
    # Varedo: coop-il-melograno is the only SAD provider.
    tried = [attempt(SAD, "coop-il-melograno", status=RequestStatus.EXPIRED)]

    steps = next_steps(
        desio, tried, municipality=VAREDO, none_left=EscalationReason.NO_ANSWER_BEFORE_DEADLINE
    )

    assert steps == [Escalate(SAD, EscalationReason.NO_ANSWER_BEFORE_DEADLINE)]


def test_the_next_candidate_too_late_is_asked_and_escalated(desio: Ambito) -> None:
    # Declined on Thursday 5 for a Thursday 5 discharge: pasti-a-casa-desio needs 3 days.
    tried = [attempt(MEALS, "brianza-ristorazione-sociale", status=RequestStatus.DECLINED)]

    steps = next_steps(desio, tried, MEALS, today=MARCH[5])

    assert steps == [
        Ask(MEALS, "pasti-a-casa-desio", MARCH[10], MARCH[10]),
        Escalate(MEALS, CANNOT_START),
    ]


def test_a_provider_whose_request_ended_otherwise_is_a_candidate_again(desio: Ambito) -> None:
    # coop-il-melograno's request was deactivated when the package dropped SAD; SAD is back.
    tried = [attempt(SAD, "coop-il-melograno", status=RequestStatus.DEACTIVATED)]

    steps = next_steps(desio, tried)

    assert steps == [Ask(SAD, "coop-il-melograno", MARCH[5], MARCH[4])]


def test_providers_tried_for_another_service_are_still_candidates() -> None:
    both = Provider(id="p", name="P", services=(SAD, MEALS))
    district = small_district(both)
    tried = [attempt(MEALS, "p", status=RequestStatus.DECLINED)]

    steps = next_steps(district, tried)

    assert steps == [Ask(SAD, "p", MARCH[5], MARCH[4])]


def test_deadline_in_clock_hours_and_overdue() -> None:
    pending = attempt()
    # Requested Friday 6 March at 17:00: due Saturday at 17:00, the weekend counts.
    friday = datetime(2026, 3, 6, 16, 0, tzinfo=UTC)
    assert deadline_for(friday, 24) == datetime(2026, 3, 7, 16, 0, tzinfo=UTC)

    assert not is_overdue(pending, MONDAY_9AM + timedelta(hours=23, minutes=59))
    assert is_overdue(pending, MONDAY_9AM + timedelta(hours=24))
    answered = attempt(status=RequestStatus.ACCEPTED, active_from=MARCH[4])
    assert not is_overdue(answered, MONDAY_9AM + timedelta(days=3))


# --- request ids and answers -------------------------------------------------------------------


def test_request_ids_are_deterministic_and_unique_per_attempt() -> None:
    assert request_id_for(CASE, SAD, 1) == "asst-vimercate:V2026-000042/sad/1"
    assert request_id_for(CASE, TELE, 2) == "asst-vimercate:V2026-000042/teleassistance/2"
    assert request_id_for(CASE, SAD, 1) != request_id_for(CASE, SAD, 2)


def test_a_case_id_too_long_for_a_request_id_is_digested() -> None:
    longest = "h" * 64 + ":" + "r" * 64

    first, again = request_id_for(longest, TELE, 1), request_id_for(longest, TELE, 1)
    other = request_id_for("h" * 64 + ":" + "r" * 63 + "s", TELE, 1)

    assert len(first) <= 128
    assert first == again
    assert first != other
    assert first.endswith("/teleassistance/1")


def test_which_answers_apply() -> None:
    pending = attempt()
    accepted = attempt(status=RequestStatus.ACCEPTED, active_from=MARCH[4])

    assert why_ignored(pending, CaseStatus.PLANNED) is None
    assert why_ignored(accepted, CaseStatus.PLANNED) is None
    assert why_ignored(None, None) == "unknown request"
    assert why_ignored(pending, CaseStatus.ENDED) == "case ended"
    for closed in (RequestStatus.DECLINED, RequestStatus.EXPIRED, RequestStatus.DEACTIVATED):
        assert (
            why_ignored(attempt(status=closed), CaseStatus.PLANNED) == f"request already {closed}"
        )
    # Someone else's request is no stale answer: it is refused (see test_lifecycle).
    ensure_sent_to(pending, "coop-il-melograno")
    ensure_sent_to(None, "anyone")
    with pytest.raises(Forbidden, match=r"source\.not_allowed"):
        ensure_sent_to(pending, "someone-else")


# --- reschedule -------------------------------------------------------------------------------


def test_a_later_discharge_moves_every_open_request() -> None:
    pending = attempt(MEALS, "brianza-ristorazione-sociale")
    accepted = attempt(status=RequestStatus.ACCEPTED, active_from=MARCH[4])

    steps = reschedule([pending, accepted], MARCH[9])

    assert steps == [Move(pending.request_id, MARCH[9]), Move(accepted.request_id, MARCH[9])]


def test_an_earlier_discharge_a_pending_request_cannot_meet_escalates() -> None:
    # telesoccorso-lombardia, asked Monday with 3 days' lead: Thursday 5 at the earliest.
    tele = attempt(TELE, "telesoccorso-lombardia", earliest_start=MARCH[5])
    meals = attempt(MEALS, "brianza-ristorazione-sociale", earliest_start=MARCH[4])

    steps = reschedule([tele, meals], MARCH[4])

    # Teleassistance stays asked for its earliest day (unchanged: nothing to send again).
    assert tele.start_by == MARCH[5]
    assert steps == [Escalate(TELE, CANNOT_START), Move(meals.request_id, MARCH[4])]


def test_an_earlier_discharge_than_an_accepted_start_escalates() -> None:
    accepted = attempt(status=RequestStatus.ACCEPTED, active_from=MARCH[5])

    steps = reschedule([accepted], MARCH[4])

    assert steps == [Move(accepted.request_id, MARCH[4]), Escalate(SAD, CANNOT_START)]


def test_a_late_request_becomes_on_time_when_the_discharge_moves_back() -> None:
    late = attempt(TELE, "croce-azzurra-teleassistenza", start_by=MARCH[4], earliest_start=MARCH[4])

    assert reschedule([late], MARCH[6]) == [Move(late.request_id, MARCH[6])]


def test_same_day_changes_nothing() -> None:
    pending = attempt()

    assert reschedule([pending], pending.start_by) == []


# --- a superseding decision -------------------------------------------------------------------


def line(service: ServiceType, quantity: int) -> ServiceLine:
    return ServiceLine(service_type=service, weekly_quantity=Decimal(quantity))


MEDIUM = [line(SAD, 6), line(MEALS, 5), line(TELE, 7)]


def test_a_smaller_package_drops_and_requantifies() -> None:
    sad = attempt(SAD, status=RequestStatus.ACCEPTED, active_from=MARCH[4])
    meals = attempt(MEALS, "brianza-ristorazione-sociale")
    tele = attempt(TELE, "telesoccorso-lombardia")

    change = change_package(MEDIUM, [line(SAD, 3), line(TELE, 7)], [sad, meals, tele])

    assert change == PackageChange(added=(), dropped=(meals,), requantified=(sad,))


def test_a_larger_package_adds_services() -> None:
    sad = attempt(SAD)
    tele = attempt(TELE, "telesoccorso-lombardia")

    change = change_package([line(SAD, 3), line(TELE, 7)], MEDIUM, [sad, tele])

    assert change == PackageChange(added=(MEALS,), dropped=(), requantified=(sad,))


def test_the_same_package_changes_nothing_and_closed_requests_are_left_alone() -> None:
    declined_sad = attempt(SAD, status=RequestStatus.DECLINED, reason="capacity")
    pending_sad = attempt(SAD, "coop-solidarieta-brianza", number=2)
    expired_meals = attempt(MEALS, "brianza-ristorazione-sociale", status=RequestStatus.EXPIRED)

    assert change_package(MEDIUM, MEDIUM, [declined_sad, pending_sad]) == PackageChange((), (), ())
    # Meals dropped, but nothing of it is open: nothing to tell anyone.
    tried = [declined_sad, pending_sad, expired_meals]
    change = change_package(MEDIUM, [line(SAD, 12), line(TELE, 7)], tried)
    assert change == PackageChange(added=(), dropped=(), requantified=(pending_sad,))


# --- a provider assigned by hand ---------------------------------------------------------------


def test_a_provider_by_hand_starts_on_the_discharge_day_when_it_can(desio: Ambito) -> None:
    # Its own lead time (coop-solidarieta-brianza: 1 day), even for a municipality outside
    # its area (Varedo): the team knows better than the rotation.
    assert assign(desio, SAD, "coop-solidarieta-brianza", Timing(MONDAY, MARCH[5])) == Ask(
        SAD, "coop-solidarieta-brianza", MARCH[5], MARCH[3]
    )
    assert candidates_for(desio, SAD, VAREDO) == [Candidate("coop-il-melograno", 2)]


def test_a_provider_by_hand_too_slow_starts_on_its_earliest_day(desio: Ambito) -> None:
    # Friday 6 March + 3 working days: Wednesday 11, after a Tuesday 10 discharge.
    assert assign(desio, MEALS, "pasti-a-casa-desio", Timing(MARCH[6], MARCH[10])) == Ask(
        MEALS, "pasti-a-casa-desio", MARCH[11], MARCH[11]
    )


def test_the_emergency_alarm_is_planned_like_any_service(desio: Ambito) -> None:
    alarm = ServiceType.EMERGENCY_ALARM

    assert candidates_for(desio, alarm, DESIO) == [Candidate("telesoccorso-lombardia", 3)]
    assert plan_package(desio, [alarm], DESIO, Timing(MONDAY, MARCH[5])) == [
        Ask(alarm, "telesoccorso-lombardia", MARCH[5], MARCH[5])
    ]


@pytest.mark.parametrize(
    ("provider_id", "service", "code"),
    [
        ("coop-sconosciuta", SAD, "provider.unknown"),
        ("coop-il-melograno", MEALS, "provider.service_not_offered"),
    ],
)
def test_a_provider_by_hand_is_one_of_the_district_for_the_service(
    desio: Ambito, provider_id: str, service: ServiceType, code: str
) -> None:
    with pytest.raises(Refused) as refused:
        assign(desio, service, provider_id, Timing(MONDAY, MARCH[5]))
    assert refused.value.code == code
