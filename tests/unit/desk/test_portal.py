"""The provider portal's decisions, pure: a provider's answers and deliveries read from the
forms a person fills in, checked against the request as the desk knows it, and built into the
contract events the provider's adapter would publish; the words of every refusal, in Italian
and English; and the budget page's pure parts (its charts, tables, CSV and scope)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cerniera.desk import portal
from cerniera.desk.auth import User
from cerniera.desk.casefile import RequestStatus, RequestView
from cerniera.desk.portal import FormInvalid, Problem
from cerniera.desk.web import i18n
from cerniera.desk.web import portal as portal_pages
from cerniera.desk.web import reports as report_pages
from cerniera.shared.access import Principal, Role
from cerniera.shared.clock import ROME
from cerniera.shared.contract import (
    DeclineReason,
    HoursDelivered,
    ServiceActivationAccepted,
    ServiceActivationDeclined,
    ServiceType,
)
from cerniera.shared.refusals import Forbidden

REQUEST_ID = "5b0f6a3e-2c1d-4e8a-9f7b-3d2a1c0e9b84"
CASE = "asst-vimercate:V2024-000123"
MELOGRANO = "coop-il-melograno"
# 10:00 in Rome on Thursday 3 October 2024; today in Italy is the 3rd.
NOW = datetime(2024, 10, 3, 8, 0, tzinfo=UTC)
TODAY = date(2024, 10, 3)
NONCE = "Zx3kq9LmPw2Rt7Yv"
TEMPLATES = Path(portal_pages.__file__).parent / "templates"


def request(**changes: Any) -> RequestView:
    values: dict[str, Any] = {
        "request_id": REQUEST_ID,
        "provider_id": MELOGRANO,
        "case_id": CASE,
        "service_type": ServiceType.SAD,
        "weekly_quantity": 6,
        "start_by": date(2024, 10, 5),
        "beneficiary_name": "Mario Rossi",
        "beneficiary_address": "Via Roma 12, 20871 Vimercate (MB)",
        "requested_at": datetime(2024, 10, 1, 9, tzinfo=UTC),
    }
    return RequestView.model_validate({**values, **changes})


def running(**changes: Any) -> RequestView:
    """An accepted SAD service, active from 1 October 2024."""
    return request(**{"status": RequestStatus.ACTIVE, "active_from": date(2024, 10, 1), **changes})


def problems(error: pytest.ExceptionInfo[FormInvalid]) -> dict[str, str]:
    return {name: p.key for name, p in error.value.problems.items()}


# --- accepting -----------------------------------------------------------------------------------


def test_an_acceptance_starts_on_the_day_and_hour_given_on_italian_time() -> None:
    answer = portal.acceptance(request(), {"giorno": "2024-10-04", "ora": "09:30"}, NOW)

    assert answer == ServiceActivationAccepted(
        request_id=REQUEST_ID,
        provider_id=MELOGRANO,
        scheduled_start=datetime(2024, 10, 4, 9, 30, tzinfo=ROME),
    )
    assert answer.scheduled_start.utcoffset() is not None
    assert answer.scheduled_start.astimezone(UTC).hour == 7  # 09:30 CEST


def test_a_start_today_is_accepted_and_a_day_typed_the_italian_way_too() -> None:
    today = portal.acceptance(request(), {"giorno": "2024-10-03", "ora": "14:00"}, NOW)
    typed = portal.acceptance(request(), {"giorno": "4/10/2024", "ora": "8.15"}, NOW)

    assert today.scheduled_start == datetime(2024, 10, 3, 14, tzinfo=ROME)
    assert typed.scheduled_start == datetime(2024, 10, 4, 8, 15, tzinfo=ROME)


def test_a_start_before_today_is_refused_naming_today() -> None:
    with pytest.raises(FormInvalid) as refused:
        portal.acceptance(request(), {"giorno": "2024-10-02", "ora": "09:00"}, NOW)

    assert refused.value.problems == {
        "giorno": Problem("portale.error.start_day.past", {"today": TODAY})
    }


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({}, {"giorno": "portale.error.day.missing", "ora": "portale.error.time.missing"}),
        ({"giorno": "  ", "ora": "09:00"}, {"giorno": "portale.error.day.missing"}),
        ({"giorno": "2024-02-30", "ora": "09:00"}, {"giorno": "portale.error.day.invalid"}),
        ({"giorno": "31/02/2025", "ora": "09:00"}, {"giorno": "portale.error.day.invalid"}),
        ({"giorno": "domani", "ora": "09:00"}, {"giorno": "portale.error.day.invalid"}),
        ({"giorno": "2026-10-04", "ora": "09:00"}, {"giorno": "portale.error.start_day.far"}),
        ({"giorno": "2024-10-04", "ora": "25:00"}, {"ora": "portale.error.time.invalid"}),
        ({"giorno": "2024-10-04", "ora": "9"}, {"ora": "portale.error.time.invalid"}),
    ],
)
def test_an_acceptance_form_that_does_not_hold_is_refused_field_by_field(
    form: dict[str, str], expected: dict[str, str]
) -> None:
    with pytest.raises(FormInvalid) as refused:
        portal.acceptance(request(), form, NOW)

    assert problems(refused) == expected


@pytest.mark.parametrize(
    "status", [RequestStatus.ACCEPTED, RequestStatus.DECLINED, RequestStatus.ACTIVE]
)
def test_a_request_already_answered_cannot_be_answered_again(status: RequestStatus) -> None:
    with pytest.raises(FormInvalid) as accepting:
        portal.acceptance(request(status=status), {"giorno": "2024-10-04", "ora": "09:00"}, NOW)
    with pytest.raises(FormInvalid) as declining:
        portal.decline(request(status=status), {"motivo": "capacity"})

    assert problems(accepting) == {"richiesta": "portale.error.request.answered"}
    assert problems(declining) == {"richiesta": "portale.error.request.answered"}


# --- declining -----------------------------------------------------------------------------------


def test_a_decline_carries_the_reason_code_and_the_note() -> None:
    answer = portal.decline(
        request(), {"motivo": "capacity", "nota": "  Nessun operatore ASA fino al 10/10.  "}
    )

    assert answer == ServiceActivationDeclined(
        request_id=REQUEST_ID,
        provider_id=MELOGRANO,
        reason_code=DeclineReason.CAPACITY,
        note="Nessun operatore ASA fino al 10/10.",
    )


def test_a_decline_without_a_note_has_none() -> None:
    answer = portal.decline(request(), {"motivo": "out_of_area", "nota": "   "})

    assert (answer.reason_code, answer.note) == (DeclineReason.OUT_OF_AREA, None)


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({}, {"motivo": "portale.error.reason.missing"}),
        ({"motivo": "busy"}, {"motivo": "portale.error.reason.missing"}),
        ({"motivo": "other"}, {"nota": "portale.error.note.needed"}),
        ({"motivo": "capacity", "nota": "x" * 4001}, {"nota": "portale.error.note.long"}),
        ({"motivo": "capacity", "nota": "a\x00b"}, {"nota": "portale.error.note.characters"}),
    ],
)
def test_a_decline_form_that_does_not_hold_is_refused(
    form: dict[str, str], expected: dict[str, str]
) -> None:
    with pytest.raises(FormInvalid) as refused:
        portal.decline(request(), form)

    assert problems(refused) == expected


def test_other_reason_with_a_note_and_a_note_on_several_lines_are_fine() -> None:
    answer = portal.decline(request(), {"motivo": "other", "nota": "Sciopero.\r\nRiprovare."})

    assert (answer.reason_code, answer.note) == (DeclineReason.OTHER, "Sciopero.\r\nRiprovare.")


# --- deliveries ----------------------------------------------------------------------------------


def test_hours_delivered_with_a_comma_in_the_evening() -> None:
    line = portal.delivery(
        running(), {"giorno": "2024-10-02", "quantita": "1,5", "sera": "1", "modulo": NONCE}, TODAY
    )

    assert line == HoursDelivered(
        case_id=CASE,
        provider_id=MELOGRANO,
        service_type=ServiceType.SAD,
        delivered_on=date(2024, 10, 2),
        quantity=Decimal("1.5"),
        delivery_ref=f"{REQUEST_ID}/2024-10-02/{NONCE}",
        evening=True,
    )
    assert line.model_dump(mode="json")["quantity"] == 1.5


def test_the_same_form_sent_twice_is_the_same_line_and_the_next_form_another() -> None:
    form = {"giorno": "2024-10-02", "quantita": "2", "modulo": NONCE}
    first = portal.delivery(running(), form, TODAY)
    again = portal.delivery(running(), form, TODAY)
    next_one = portal.delivery(running(), {**form, "modulo": "Another-form-0001"}, TODAY)

    assert first.delivery_ref == again.delivery_ref
    assert next_one.delivery_ref != first.delivery_ref
    assert first.delivery_ref == portal.delivery_ref(REQUEST_ID, date(2024, 10, 2), NONCE)


def test_meals_are_whole_and_days_of_teleassistance_one_at_a_time() -> None:
    meals = portal.delivery(
        running(service_type=ServiceType.MEALS),
        {"giorno": "2024-10-03", "quantita": "2", "sera": "1", "modulo": NONCE},
        TODAY,
    )
    tele = portal.delivery(
        running(service_type=ServiceType.TELEASSISTANCE),
        {"giorno": "2024-10-03", "quantita": "5", "modulo": NONCE},
        TODAY,
    )

    assert (meals.quantity, meals.evening) == (Decimal(2), False)  # evening is SAD's only
    assert (tele.quantity, tele.service_type) == (Decimal(1), ServiceType.TELEASSISTANCE)
    assert portal.counted_in_days(ServiceType.EMERGENCY_ALARM)
    assert not portal.counted_in_days(ServiceType.MEALS)


def test_an_accepted_service_delivers_from_its_start_and_an_ended_one_up_to_its_end() -> None:
    accepted = request(
        status=RequestStatus.ACCEPTED,
        scheduled_start=datetime.combine(date(2024, 10, 2), time(23, 30), ROME),
    )
    ended = running(status=RequestStatus.ENDED, until=date(2024, 10, 2))
    form = {"quantita": "1", "modulo": NONCE}

    assert portal.first_day(accepted) == date(2024, 10, 2)  # the Italian day, not UTC's
    assert portal.delivery(accepted, {**form, "giorno": "2024-10-02"}, TODAY).quantity == 1
    assert portal.delivery(ended, {**form, "giorno": "2024-10-02"}, TODAY).quantity == 1
    with pytest.raises(FormInvalid) as before_start:
        portal.delivery(accepted, {**form, "giorno": "2024-10-01"}, TODAY)
    with pytest.raises(FormInvalid) as after_end:
        portal.delivery(ended, {**form, "giorno": "2024-10-03"}, TODAY)

    assert before_start.value.problems == {
        "giorno": Problem("portale.error.day.before_start", {"start": date(2024, 10, 2)})
    }
    assert after_end.value.problems == {
        "giorno": Problem("portale.error.day.after_end", {"end": date(2024, 10, 2)})
    }


@pytest.mark.parametrize(
    ("service", "form", "expected"),
    [
        (ServiceType.SAD, {"giorno": "2024-10-04"}, {"giorno": "portale.error.day.future"}),
        (ServiceType.SAD, {"quantita": ""}, {"quantita": "portale.error.quantity.missing.hours"}),
        (
            ServiceType.MEALS,
            {"quantita": ""},
            {"quantita": "portale.error.quantity.missing.meals"},
        ),
        (ServiceType.SAD, {"quantita": "1,5,5"}, {"quantita": "portale.error.quantity.invalid"}),
        (ServiceType.SAD, {"quantita": "-2"}, {"quantita": "portale.error.quantity.invalid"}),
        (ServiceType.SAD, {"quantita": "due"}, {"quantita": "portale.error.quantity.invalid"}),
        (ServiceType.SAD, {"quantita": "0"}, {"quantita": "portale.error.quantity.zero"}),
        (ServiceType.SAD, {"quantita": "1,255"}, {"quantita": "portale.error.quantity.decimals"}),
        (ServiceType.SAD, {"quantita": "24,5"}, {"quantita": "portale.error.quantity.most.hours"}),
        (ServiceType.MEALS, {"quantita": "1,5"}, {"quantita": "portale.error.quantity.whole"}),
        (ServiceType.MEALS, {"quantita": "4"}, {"quantita": "portale.error.quantity.most.meals"}),
        (ServiceType.SAD, {"modulo": ""}, {"modulo": "portale.error.form.expired"}),
        (ServiceType.SAD, {"modulo": "../../etc"}, {"modulo": "portale.error.form.expired"}),
    ],
)
def test_a_delivery_form_that_does_not_hold_is_refused(
    service: ServiceType, form: dict[str, str], expected: dict[str, str]
) -> None:
    valid = {"giorno": "2024-10-02", "quantita": "2", "modulo": NONCE}

    with pytest.raises(FormInvalid) as refused:
        portal.delivery(running(service_type=service), {**valid, **form}, TODAY)

    assert problems(refused) == expected


@pytest.mark.parametrize("status", [RequestStatus.PENDING, RequestStatus.DECLINED])
def test_no_delivery_for_a_service_that_is_not_running(status: RequestStatus) -> None:
    form = {"giorno": "2024-10-02", "quantita": "2", "modulo": NONCE}

    with pytest.raises(FormInvalid) as refused:
        portal.delivery(request(status=status), form, TODAY)

    assert problems(refused) == {"richiesta": "portale.error.request.not_running"}


def test_24_hours_and_3_meals_are_the_most_of_a_day() -> None:
    form = {"giorno": "2024-10-02", "modulo": NONCE}

    assert portal.delivery(running(), {**form, "quantita": "24"}, TODAY).quantity == 24
    meals = running(service_type=ServiceType.MEALS)
    assert portal.delivery(meals, {**form, "quantita": "3"}, TODAY).quantity == 3


# --- the words -----------------------------------------------------------------------------------


def test_every_problem_the_portal_can_raise_has_words_in_both_languages() -> None:
    source = Path(portal.__file__).read_text(encoding="utf-8")
    keys = set(re.findall(r'"(portale\.error\.[a-z_.]+)"', source))
    for unit in portal.Unit:  # the keys built with the unit
        keys |= {f"portale.error.quantity.missing.{unit}", f"portale.error.quantity.most.{unit}"}
    keys.discard("portale.error.quantity.missing.days")  # days have no quantity to type

    missing = {k for k in keys if set(i18n.MESSAGES.get(k, {})) != {"it", "en"}}

    assert len(keys) > 20
    assert not missing


def test_a_problem_is_told_with_the_readers_dates_and_numbers() -> None:
    past = Problem("portale.error.start_day.past", {"today": TODAY})
    most = Problem("portale.error.quantity.most.hours", {"most": Decimal(24)})

    assert portal_pages.messages({"giorno": past, "quantita": most}, "it") == {
        "giorno": "Il giorno di inizio non può essere prima di oggi (3 ott 2024).",
        "quantita": "Al massimo 24 ore in un giorno.",
    }
    assert portal_pages.messages({"giorno": past}, "en") == {
        "giorno": "The start day cannot be before today (3 Oct 2024)."
    }


def test_every_word_of_the_portal_and_budget_pages_is_in_both_languages() -> None:
    assert report_pages.router is not None  # registered its words on import
    ours = {k: v for k, v in i18n.MESSAGES.items() if k.startswith(("portale.", "budget."))}
    decline_reasons = {f"portale.reason.{r.value}" for r in DeclineReason}

    assert decline_reasons <= ours.keys()
    assert all(set(words) == {"it", "en"} and all(words.values()) for words in ours.values())


def test_every_word_the_templates_name_is_registered() -> None:
    named: set[str] = set()
    for template in [*TEMPLATES.glob("portale*.html"), *TEMPLATES.glob("budget*.html")]:
        found = re.findall(r"""\bt\(\s*["']([a-z_.]+)["']""", template.read_text())
        named |= {key for key in found if not key.endswith(".")}  # not "portale.status." ~ code

    assert {"portale.title", "budget.title", "portale.accept.day"} <= named
    assert named - i18n.MESSAGES.keys() == set()


# --- the budget page's pure parts (web/reports.py) -----------------------------------------------


def spending(*quarters: tuple[str, list[tuple[str, str]]]) -> report_pages.DistrictSpending:
    return report_pages.DistrictSpending.model_validate(
        {
            "ambito_id": "magentino",
            "name": "Magentino",
            "quarters": [
                {
                    "quarter": code,
                    "funding": [
                        {"funding_source": s, "name": s.upper(), "spent": v, "beneficiaries": 1}
                        for s, v in paid
                    ],
                    "total": str(sum(Decimal(v) for _, v in paid)),
                }
                for code, paid in quarters
            ],
            "total": "0",
        }
    )


def test_each_funding_source_is_a_series_over_the_quarters_with_nothing_as_zero() -> None:
    found = spending(
        ("2024-Q3", [("pnrr", "43.00")]), ("2024-Q4", [("pnrr", "21.50"), ("fnps", "10.00")])
    )

    chart = report_pages.spending_chart(found, "it")

    assert chart["data"]["labels"] == ["III trimestre 2024", "IV trimestre 2024"]
    assert chart["data"]["datasets"] == [
        {"label": "PNRR", "data": [43.0, 21.5]},
        {"label": "FNPS", "data": [0.0, 10.0]},
    ]
    assert chart["stacked"] is True
    assert report_pages.quarter_label("2025-Q1", "en") == "Q1 2025"


def test_the_csv_is_billings_kind_and_no_cell_runs_as_a_formula() -> None:
    found = spending(("2024-Q4", [("=HYPERLINK(1)", "21.5"), ("+fnps", "-3.00")]))

    text = report_pages.to_csv(report_pages.spending_table(found, "it"))

    assert text.split("\r\n") == [
        "ambito_id;trimestre;periodo;fonte;nome_fonte;speso;beneficiari",
        "magentino;2024-Q4;IV trimestre 2024;'=HYPERLINK(1);'=HYPERLINK(1);21.50;1",
        "magentino;2024-Q4;IV trimestre 2024;'+fnps;'+FNPS;-3.00;1",
        "",
    ]


def test_the_outcomes_table_names_each_indicator_with_its_count_and_percentage() -> None:
    rate = {"count": 1, "of": 4, "percent": 25.0}
    outcomes = report_pages.DistrictOutcomes.model_validate(
        {
            "ambito_id": "desio",
            "name": "Desio",
            "cases": 4,
            "beneficiaries": 3,
            "open": 1,
            "readmitted_within_30_days": rate,
            "institutionalised": {"count": 0, "of": 4, "percent": 0.0},
            "at_home_at_day_30": {"count": 0, "of": 0, "percent": None},
            "days_to_every_service_active": {"cases": 2, "mean": 1.5, "median": 1.5, "max": 2},
            "not_all_active": 0,
            "bed_days_lost": 2,
            "cases_waiting_for_services": 1,
            "hand_overs": 0,
            "beneficiaries_to_date": 10,
            "beneficiary_target": {"count": 125, "reached": 10, "percent": 8.0},
        }
    )

    rows = {row[1]: row[3:] for row in report_pages.outcomes_table(outcomes, "it").rows}
    chart = report_pages.outcomes_chart(outcomes, "en")

    assert rows["readmitted_within_30_days"] == (1, 4, 25.0)
    assert rows["at_home_at_day_30"] == (0, 0, None)
    assert rows["days_to_every_service_active.mean"] == (1.5, 2, None)
    assert rows["beneficiaries_to_date"] == (10, 125, 8.0)
    assert chart["data"]["labels"][0] == "Readmitted to hospital within 30 days of discharge"
    assert chart["data"]["datasets"][0]["data"] == [25.0, 0.0, None]


def a_user(*districts: str) -> User:
    principal = Principal(
        subject="s",
        actor="adm",
        roles=frozenset({Role.DISTRICT_ADMIN}),
        ambiti=frozenset(districts),
    )
    return User(principal=principal, name="Anna", token="t", expires_at=0)


def test_the_page_shows_one_of_the_users_districts_and_a_period_that_reads() -> None:
    user = a_user("magentino", "desio")

    first = report_pages.scope_of(user, None, "2024-09-01", None)
    backwards = report_pages.scope_of(user, "magentino", "2024-10-31", "2024-09-01")
    typo = report_pages.scope_of(user, "magentino", "31/10/2024", None)

    assert (first.ambito_id, first.districts, first.since) == (
        "desio",
        ("desio", "magentino"),
        date(2024, 9, 1),
    )
    assert first.params() == {"ambito_id": "desio", "from": "2024-09-01"}
    assert first.query() == "ambito_id=desio&da=2024-09-01"
    assert (backwards.since, backwards.until, backwards.problems) == (
        None,
        None,
        ("budget.error.period",),
    )
    assert typo.problems == ("budget.error.day",)
    with pytest.raises(Forbidden):
        report_pages.scope_of(user, "atlantide", None, None)
    with pytest.raises(Forbidden):
        report_pages.scope_of(a_user(), None, None, None)
