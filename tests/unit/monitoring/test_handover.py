"""The district's decisions in monitoring's rules, pure: the team's hand-over to the
municipality and the one at the closure, its summary in Italian, a reversed decision, a
readmission after the follow-up ended, a plan revised."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from cerniera.monitoring.config import MonitoringRule
from cerniera.monitoring.domain import (
    REVERSED_NOTE,
    Activation,
    Contact,
    FollowUp,
    FollowUpStatus,
    HandOver,
    HandOverRequest,
    PendingDischarge,
    hand_over_at_closure,
    running,
)
from cerniera.monitoring.summary import Person, quantity, summary
from cerniera.shared.contract import CaseOutcome, ServiceLine, ServiceType
from cerniera.shared.refusals import Conflict, Invalid

SAD, MEALS, TELE, ALARM = (
    ServiceType.SAD,
    ServiceType.MEALS,
    ServiceType.TELEASSISTANCE,
    ServiceType.EMERGENCY_ALARM,
)
DISCHARGE_AT = datetime(2024, 10, 3, 8, 0, tzinfo=UTC)  # 10:00 in Rome
CASE = "asst-vimercate:V1"
DESIO, MAGENTA = "108023", "015130"


def at(days: float) -> datetime:
    return DISCHARGE_AT + timedelta(days=days)


def plan(*lines: tuple[ServiceType, int]) -> tuple[ServiceLine, ...]:
    return tuple(ServiceLine(service_type=s, weekly_quantity=Decimal(q)) for s, q in lines)


def opened(*lines: tuple[ServiceType, int]) -> FollowUp:
    return FollowUp.open(
        CASE,
        "desio",
        DISCHARGE_AT,
        MonitoringRule(),
        "corr-1",
        person_ref="p-1",
        plan=plan(*lines) or plan((SAD, 6), (TELE, 7)),
    )


def request(*continuing: ServiceType, **given: object) -> HandOverRequest:
    return HandOverRequest(continuing=continuing, by="op-lbianchi", **given)  # type: ignore[arg-type]


# --- the team's hand-over -----------------------------------------------------------------------


def test_the_team_hands_over_to_the_municipality_of_residence_by_default() -> None:
    contacts = (Contact("Lucia Rossi", "figlia", "+39 333 1234567"),)
    closed, handover = opened().handed_over(
        request(TELE, SAD, SAD, needs="Spesa.", contacts=contacts), DESIO, [], at(14)
    )
    assert (closed.status, closed.outcome) == (
        FollowUpStatus.CLOSED,
        CaseOutcome.HANDED_OVER_TO_MUNICIPALITY,
    )
    assert (closed.closed_at, closed.closed_by) == (at(14), "op-lbianchi")
    assert handover == HandOver(
        case_id=CASE,
        municipality_code=DESIO,
        continuing=(SAD, TELE),  # each once, in a stable order
        needs="Spesa.",
        contacts=contacts,
        handed_over_at=at(14),
        handed_over_by="op-lbianchi",
    )
    _, named = opened().handed_over(request(municipality_code=MAGENTA), DESIO, [], at(14))
    assert (named.municipality_code, named.continuing) == (MAGENTA, ())


def test_a_service_running_outside_the_plan_may_continue() -> None:
    # Telesoccorso assigned by hand after an escalation: the case's, though not in the plan.
    _, handover = opened().handed_over(request(ALARM), DESIO, [ALARM], at(14))
    assert handover.continuing == (ALARM,)


def test_refused_hand_overs() -> None:
    with pytest.raises(Invalid) as error:
        opened().handed_over(request(MEALS), DESIO, [SAD], at(14))
    assert error.value.code == "handover.service_not_in_case"
    with pytest.raises(Invalid) as error:
        opened().handed_over(request(SAD), None, [], at(14))
    assert error.value.code == "handover.municipality_unknown"
    with pytest.raises(Conflict) as conflict:
        opened().handed_over(request(SAD), DESIO, [], at(-1))
    assert conflict.value.code == "followup.not_started"
    closed = opened().closed(CaseOutcome.DECEASED, at(3))
    with pytest.raises(Conflict) as conflict:
        closed.handed_over(request(SAD), DESIO, [], at(14))
    assert conflict.value.code == "followup.closed"


# --- the hand-over at the closure ---------------------------------------------------------------


def test_at_the_closure_the_services_running_continue_under_the_municipality() -> None:
    handed = opened().closed(CaseOutcome.HANDED_OVER_TO_MUNICIPALITY, at(30))
    handover = hand_over_at_closure(handed, MAGENTA, [TELE, SAD, TELE])
    assert handover == HandOver(CASE, MAGENTA, (SAD, TELE), None, (), at(30), None)
    assert hand_over_at_closure(handed, None, [SAD]) is None  # no municipality known
    completed = opened().closed(CaseOutcome.COMPLETED, at(30))
    assert hand_over_at_closure(completed, DESIO, [SAD]) is None


def test_the_services_running_on_a_day() -> None:
    sad = Activation("r1", CASE, SAD, "coop-a", date(2024, 10, 3))
    stopped = Activation("r2", CASE, MEALS, "coop-b", date(2024, 10, 3), until=date(2024, 10, 9))
    later = Activation("r3", CASE, TELE, "coop-c", date(2024, 10, 20))
    assert running([sad, stopped, later], date(2024, 10, 9)) == [sad, stopped, later]
    assert running([sad, stopped, later], date(2024, 10, 10)) == [sad, later]


# --- a decision reversed, a readmission after the end, a plan revised ---------------------------


def test_a_reversed_decision_ends_an_open_follow_up_as_withdrawn() -> None:
    for now in (at(-2), at(5)):  # before the discharge, and after
        ended = opened().reversed(now, "op-lbianchi")
        assert ended is not None
        assert (ended.status, ended.outcome, ended.closed_at) == (
            FollowUpStatus.CLOSED,
            CaseOutcome.WITHDRAWN,
            now,
        )
        assert (ended.closed_by, ended.close_note) == ("op-lbianchi", REVERSED_NOTE)
        assert ended.decision_reversed
        assert ended.reversed(now, "rule") is None
    assert opened().closed(CaseOutcome.DECEASED, at(3)).reversed(at(4), "rule") is None


def test_a_readmission_before_the_decision_is_kept_until_it_opens() -> None:
    pending = PendingDischarge(expected_discharge_at=None, cancelled=False, readmitted_at=at(4))
    followup = FollowUp.open(CASE, "desio", DISCHARGE_AT, MonitoringRule(), "corr-1", pending)
    assert followup.is_open  # the service layer applies it once stored (it publishes)
    closed = followup.readmitted(at(4))
    assert closed is not None
    assert (closed.outcome, closed.closed_at, closed.readmitted_at) == (
        CaseOutcome.READMITTED,
        at(4),
        at(4),
    )


def test_a_readmission_after_the_end_is_noted_once_without_reopening() -> None:
    handed = opened().closed(CaseOutcome.HANDED_OVER_TO_MUNICIPALITY, at(14))
    noted = handed.readmitted(at(20))
    assert noted is not None
    assert (noted.status, noted.outcome, noted.closed_at) == (
        FollowUpStatus.CLOSED,
        CaseOutcome.HANDED_OVER_TO_MUNICIPALITY,
        at(14),
    )
    assert noted.readmitted_at == at(20)
    assert noted.readmitted(at(25)) is None  # the first one counts


def test_a_revised_plan_is_the_plan_at_the_discharge_only_until_it() -> None:
    revised = opened().plan_revised(plan((SAD, 9), (ALARM, 7)), at(-1))
    assert revised is not None
    assert revised.plan == revised.initial_plan == plan((SAD, 9), (ALARM, 7))
    later = opened().plan_revised(plan((SAD, 9)), at(8))
    assert later is not None
    assert (later.plan, later.initial_plan) == (plan((SAD, 9)), plan((SAD, 6), (TELE, 7)))
    assert later.services() == {SAD}
    assert opened().closed(CaseOutcome.DECEASED, at(3)).plan_revised(plan((SAD, 9)), at(4)) is None


# --- the summary, in Italian ---------------------------------------------------------------------

PERSON = Person(
    given_name="Mario",
    family_name="Rossi",
    birth_date=date(1940, 12, 10),
    fiscal_code="RSSMRA40T10F704X",
    municipality_code=DESIO,
    address="Via Garibaldi 4, 20832 Desio (MB)",
    phone="+39 0362 123456",
    caregiver_present=True,
    caregiver_name="Lucia Rossi",
    caregiver_phone="+39 333 1234567",
)
ACTIVE = [
    Activation("r1", CASE, SAD, "coop-il-melograno", date(2024, 10, 3)),
    Activation("r2", CASE, TELE, "telesoccorso-lombardia", date(2024, 10, 4)),
]
NAMES = {"coop-il-melograno": "Cooperativa Sociale Il Melograno"}


def sections(found: object) -> dict[str, dict[str, str]]:
    return {s.title: {i.label: i.value for i in s.items} for s in found.sections}  # type: ignore[attr-defined]


def test_the_summary_of_a_hand_over() -> None:
    closed, handover = opened().handed_over(
        request(SAD, needs="Vive sola.", contacts=(Contact("Dott. Bianchi", "MMG"),)),
        DESIO,
        [SAD, TELE],
        at(14),
    )
    found = summary(
        closed,
        handover,
        PERSON,
        ACTIVE,
        lambda p: NAMES.get(p, p),
        "Ambito di Desio",
        date(2025, 1, 1),
    )
    assert (found.handed_over, found.municipality_code, found.continuing) == (True, DESIO, (SAD,))
    assert found.title == "Passaggio in carico ai servizi sociali del Comune"
    got = sections(found)
    assert got["Persona"]["Nome e cognome"] == "Mario Rossi"
    assert got["Persona"]["Data di nascita"] == "10/12/1940"
    assert got["Servizi in corso"] == {
        "Assistenza domiciliare (SAD)": "6 ore a settimana; Cooperativa Sociale Il Melograno, "
        "attivo dal 03/10/2024; prosegue con il Comune",
        "Teleassistenza": "7 giorni a settimana; telesoccorso-lombardia, attivo dal 04/10/2024; "
        "termina con la chiusura del caso",
    }
    assert got["Bisogni"] == {"Bisogni rilevati dall'équipe": "Vive sola."}
    assert got["Contatti"] == {
        "Caregiver": "Lucia Rossi, tel. +39 333 1234567",
        "Dott. Bianchi (MMG)": "telefono non indicato",
    }
    assert got["Date"] == {
        "Ambito": "Ambito di Desio",
        "Dimissione": "03/10/2024",
        "Fine del monitoraggio prevista": "02/11/2024",
        "Passaggio al Comune": "17/10/2024",
        "A cura di": "op-lbianchi",
    }
    text = found.text
    assert text.startswith("# Passaggio in carico ai servizi sociali del Comune\n\n## Persona\n")
    assert "- **Codice fiscale**: RSSMRA40T10F704X" in text
    assert "## Servizi in corso" in text


def test_a_draft_before_the_hand_over_and_without_the_announcement() -> None:
    found = summary(opened(), None, None, ACTIVE[:1], lambda p: p, None, date(2024, 10, 12))
    assert (found.handed_over, found.municipality_code, found.continuing) == (False, None, (SAD,))
    assert found.title.endswith("(bozza)")
    got = sections(found)
    assert got["Persona"]["Dati anagrafici"] == "non ricevuti dall'ospedale"
    assert got["Servizi in corso"]["Teleassistenza"] == "7 giorni a settimana; nessun ente attivo"
    assert got["Servizi in corso"]["Assistenza domiciliare (SAD)"].endswith("proposto: prosegue")
    assert got["Bisogni"] == {"Bisogni rilevati dall'équipe": "da indicare al passaggio"}
    assert got["Date"]["Bozza del"] == "12/10/2024"
    assert got["Date"]["Ambito"] == "desio"


def test_quantities_read_in_italian() -> None:
    assert quantity(SAD, Decimal("9")) == "9 ore a settimana"
    assert quantity(SAD, Decimal("10.00")) == "10 ore a settimana"
    assert quantity(SAD, Decimal("4.5")) == "4,5 ore a settimana"
    assert quantity(MEALS, Decimal(5)) == "5 pasti a settimana"
    assert quantity(ALARM, Decimal(7)) == "7 giorni a settimana"
