"""The readiness view's rule: ready only when every service of the package is confirmed to start
on or before the discharge day; otherwise each late service says why, naming the provider."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from cerniera.activation.domain import Case, CaseStatus
from cerniera.activation.planning import Attempt, RequestStatus
from cerniera.activation.readiness import readiness
from cerniera.shared.contract import ServiceLine, ServiceType
from support.activation_attempts import CASE, MONDAY, attempt

SAD, MEALS, TELE = ServiceType.SAD, ServiceType.MEALS, ServiceType.TELEASSISTANCE
THURSDAY = date(2026, 3, 5)


def case(
    status: CaseStatus = CaseStatus.PLANNED,
    *,
    services: tuple[ServiceType, ...] = (SAD, MEALS, TELE),
    end_reason: str | None = None,
) -> Case:
    """A Desio case to be discharged on Thursday 5 March 2026."""
    return Case(
        CASE,
        status,
        correlation_id="chain",
        municipality_code="108023",
        services=tuple(ServiceLine(service_type=s, weekly_quantity=Decimal(6)) for s in services),
        discharge_on=THURSDAY,
        end_reason=end_reason,
    )


def accepted(service: ServiceType, provider: str, active_from: date = THURSDAY) -> Attempt:
    return attempt(service, provider, status=RequestStatus.ACCEPTED, active_from=active_from)


def test_ready_when_every_service_starts_by_discharge() -> None:
    attempts = [
        accepted(SAD, "coop-il-melograno"),
        accepted(MEALS, "brianza-ristorazione-sociale", date(2026, 3, 4)),
        accepted(TELE, "telesoccorso-lombardia"),
    ]

    r = readiness(case(), attempts, MONDAY)

    assert r.ready is True
    assert [(s.service_type, s.status, s.late) for s in r.services] == [
        (SAD, "accepted", None),
        (MEALS, "accepted", None),
        (TELE, "accepted", None),
    ]
    assert r.waiting_for is None


def test_a_pending_answer_names_the_provider_and_its_deadline() -> None:
    attempts = [
        accepted(SAD, "coop-il-melograno"),
        accepted(MEALS, "brianza-ristorazione-sociale"),
        attempt(TELE, "telesoccorso-lombardia"),
    ]

    r = readiness(case(), attempts, MONDAY)

    assert r.ready is False
    tele = r.services[2]
    assert tele.provider_id == "telesoccorso-lombardia"
    assert tele.request_id == "asst-vimercate:V2026-000042/teleassistance/1"
    assert tele.status == "requested"
    assert tele.late == (
        "in attesa della risposta di telesoccorso-lombardia dal 2026-03-02 09:00, "
        "scadenza 2026-03-03 09:00"
    )


def test_a_decline_says_who_declined_and_who_is_asked_now() -> None:
    attempts = [
        attempt(SAD, "coop-il-melograno", status=RequestStatus.DECLINED, reason="capacity"),
        attempt(SAD, "coop-solidarieta-brianza", number=2),
    ]

    [sad] = readiness(case(services=(SAD,)), attempts, MONDAY).services

    assert sad.provider_id == "coop-solidarieta-brianza"
    assert sad.late is not None
    assert sad.late.startswith(
        "rifiutato da coop-il-melograno (capacity), ora si chiede a coop-solidarieta-brianza: "
        "in attesa della risposta di coop-solidarieta-brianza dal 2026-03-02 09:00"
    )


def test_a_start_after_discharge_is_late() -> None:
    r = readiness(
        case(services=(SAD,)), [accepted(SAD, "coop-il-melograno", date(2026, 3, 6))], MONDAY
    )

    assert r.ready is False
    assert r.services[0].late == (
        "inizia dopo la dimissione: coop-il-melograno inizia il 2026-03-06, "
        "dimissione il 2026-03-05"
    )


def test_a_pending_request_that_cannot_start_in_time_says_so() -> None:
    late = attempt(TELE, "croce-azzurra-teleassistenza", start_by=date(2026, 3, 6))

    [tele] = readiness(case(services=(TELE,)), [late], MONDAY).services

    assert tele.late is not None
    assert tele.late.endswith("; non può iniziare prima del 2026-03-06, dopo la dimissione")


def test_escalated_services_say_why() -> None:
    attempts = [
        attempt(SAD, "coop-il-melograno", status=RequestStatus.DECLINED, reason="out_of_area"),
        attempt(
            SAD,
            "coop-solidarieta-brianza",
            number=2,
            status=RequestStatus.DECLINED,
            reason="capacity",
        ),
        attempt(MEALS, "brianza-ristorazione-sociale", status=RequestStatus.EXPIRED),
    ]

    sad, meals, tele = readiness(case(), attempts, MONDAY).services

    assert sad.late == (
        "rifiutato da coop-solidarieta-brianza (capacity); nessun altro fornitore: "
        "segnalato all'équipe"
    )
    assert meals.late == (
        "nessuna risposta da brianza-ristorazione-sociale entro il 2026-03-03 09:00; "
        "nessun altro fornitore: segnalato all'équipe"
    )
    assert (tele.status, tele.provider_id) == ("escalated", None)
    assert tele.late == (
        "nessun fornitore offre teleassistance nel comune 108023: segnalato all'équipe"
    )


def test_a_case_waiting_for_its_announcement() -> None:
    r = readiness(case(CaseStatus.AWAITING_CONTACT), [], MONDAY)

    assert r.ready is False
    assert r.waiting_for == "l'annuncio dell'ospedale (recapiti del beneficiario)"
    assert [(s.service_type, s.status) for s in r.services] == [
        (SAD, "waiting"),
        (MEALS, "waiting"),
        (TELE, "waiting"),
    ]


def test_a_case_waiting_for_its_package() -> None:
    r = readiness(case(CaseStatus.AWAITING_ELIGIBILITY, services=()), [], MONDAY)

    assert r.ready is False
    assert r.services == []
    assert r.waiting_for == "la decisione sull'idoneità (pacchetto dei servizi)"


def test_an_ended_case_is_never_ready() -> None:
    attempts = [
        attempt(SAD, "coop-il-melograno", status=RequestStatus.DEACTIVATED, active_from=THURSDAY),
    ]

    r = readiness(
        case(CaseStatus.ENDED, services=(SAD,), end_reason="readmitted on 2026-03-09"),
        attempts,
        MONDAY,
    )

    assert r.ready is False
    assert r.services[0].late == "caso chiuso (readmitted on 2026-03-09)"
