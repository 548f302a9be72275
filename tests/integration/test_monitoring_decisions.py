"""The district's decisions as monitoring sees them, end to end on the real broker, the real
PostgreSQL and real HTTP on loopback (nothing mocked): the team's hand-over to the municipality
and its summary, a decision reversed after the follow-up opened, a readmission that overtakes
the decision, and the outcome indicators and beneficiary feed computed from what the hospital,
intake and activation published.
"""

from __future__ import annotations

import contextlib
from datetime import date, datetime, timedelta
from typing import Any, TypeAlias

import httpx
import pytest
from aiokafka import ConsumerRecord
from sqlalchemy import select

from cerniera.monitoring.config import load_config
from cerniera.monitoring.service import runtime
from cerniera.monitoring.tables import pending_discharge_dates
from cerniera.shared.clock import ROME, Clock
from cerniera.shared.contract import (
    CaseClosed,
    CaseHandedOver,
    Resolution,
    ServiceType,
    Topics,
)
from cerniera.shared.envelope import Envelope, decode
from cerniera.shared.runtime import ServiceRuntime
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.discharges import DESIO, EXPECTED_DISCHARGE, MAGENTA, rescheduled
from support.districts import EXAMPLE
from support.identity import Identity
from support.kafka import publish, read_topic
from support.monitoring_events import (
    activated,
    announcement,
    case_id,
    confirmed,
    from_intake,
    from_source,
    hospital_event,
    postponement,
    readmitted,
    rejected,
    resolved,
)
from support.services import LOOPBACK, serving
from support.waiting import eventually, read_quiet

pytestmark = pytest.mark.integration

Record: TypeAlias = "ConsumerRecord[Any, Any]"
SAD, MEALS, TELE = ServiceType.SAD, ServiceType.MEALS, ServiceType.TELEASSISTANCE


def running(
    kafka: KafkaSettings, database: DatabaseSettings, clock: Clock
) -> contextlib.AbstractAsyncContextManager[tuple[ServiceRuntime, httpx.AsyncClient]]:
    return serving(runtime(kafka, database, load_config(EXAMPLE), clock=clock, service=LOOPBACK))


def at(day: str, hour: int = 10) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), ROME).replace(hour=hour)


def published(records: list[Record], case: str) -> list[Envelope]:
    return [e for e in (decode(r.value, r.headers) for r in records) if e.subject == case]


def refusal(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["detail"]["code"]


async def view(client: httpx.AsyncClient, path: str, **expected: Any) -> dict[str, Any]:
    """GET ``path`` until it answers 200 with the ``expected`` values."""

    async def probe() -> httpx.Response:
        return await client.get(path)

    def done(response: httpx.Response) -> bool:
        return response.status_code == 200 and all(
            response.json()[k] == v for k, v in expected.items()
        )

    body: dict[str, Any] = (await eventually(probe, done, what=f"{path} {expected}")).json()
    return body


# --- the team hands a case over to the municipality --------------------------------------------


async def test_the_team_hands_a_case_over_with_a_summary_for_the_municipality(
    kafka_settings: KafkaSettings,
    topics: Topics,
    database_settings: DatabaseSettings,
    identity: Identity,
) -> None:
    clock = Clock(epoch=at("2024-10-17"))  # discharged on 3 October
    case, later, elsewhere = case_id("HO-1"), case_id("HO-LATER"), case_id("HO-NOWHERE")
    decision = from_intake(confirmed("HO-1", person_ref="p-ho1"), correlation_id="corr-HO-1")
    lbianchi = identity.headers("equipe", ambito_id="desio", username="op-lbianchi")
    magentino = identity.headers("equipe", ambito_id="magentino", username="op-magenta")
    body = {
        "continuing": ["sad"],
        "needs": "Vive sola; serve aiuto per la spesa.",
        "contacts": [{"name": "Lucia Rossi", "role": "figlia", "phone": "+39 333 1234567"}],
    }

    async with running(kafka_settings, database_settings, clock) as (_, client):
        await publish(
            kafka_settings,
            topics.hospital_discharges,
            announcement("HO-1", at("2024-09-30"), municipality_code=DESIO),
        )
        await publish(
            kafka_settings,
            topics.activation_services,
            from_source(activated("HO-1", SAD, "coop-il-melograno", date(2024, 10, 3))),
            from_source(activated("HO-1", TELE, "telesoccorso-lombardia", date(2024, 10, 4))),
        )
        await publish(
            kafka_settings,
            topics.intake_cases,
            decision,
            from_intake(confirmed("HO-LATER", expected_discharge_at=at("2024-10-25"))),
            from_intake(confirmed("HO-NOWHERE")),
        )
        path = f"/cases/{case}/hand-over"
        draft = await view(
            client,
            f"{path}-summary",
            continuing=["sad", "teleassistance"],
            municipality_code=DESIO,  # the announcement, on another topic, seen too
        )

        refused = {
            "not the case's service": await client.post(
                path, json={**body, "continuing": ["meals"]}, headers=lbianchi
            ),
            "actor in the body": await client.post(
                path, json={**body, "handed_over_by": "op-x"}, headers=lbianchi
            ),
            "another district": await client.post(path, json=body, headers=magentino),
            "not yet discharged": await client.post(
                f"/cases/{later}/hand-over", json=body, headers=lbianchi
            ),
            "no municipality known": await client.post(
                f"/cases/{elsewhere}/hand-over", json=body, headers=lbianchi
            ),
        }
        other_summary = await client.get(f"{path}-summary", headers=magentino)
        handing = await client.post(path, json=body, headers=lbianchi)
        again = await client.post(path, json=body, headers=lbianchi)
        summary = (await client.get(f"{path}-summary")).json()
        followup = (await client.get(f"/cases/{case}")).json()
        # Another municipality named by the team wins over the residence.
        named = await client.post(
            f"/cases/{elsewhere}/hand-over",
            json={"continuing": [], "municipality_code": MAGENTA},
            headers=lbianchi,
        )

        def both_closed(records: list[Record]) -> bool:
            return all(
                any(e.type == "CaseClosed" for e in published(records, c))
                for c in (case, elsewhere)
            )

        await read_topic(kafka_settings, topics.monitoring_cases, until=both_closed)
        records = await read_quiet(kafka_settings, topics.monitoring_cases)

    # The draft: what would be handed over today, from the announcement and the activations.
    assert (draft["handed_over"], draft["municipality_code"]) == (False, DESIO)
    assert draft["title"].endswith("(bozza)")
    assert "Mario Rossi" in draft["text"]
    assert "Cooperativa Sociale Il Melograno, attivo dal 03/10/2024" in draft["text"]

    assert refusal(refused["not the case's service"]) == (422, "handover.service_not_in_case")
    assert refusal(refused["actor in the body"]) == (422, "request.invalid")
    assert refusal(refused["another district"]) == (403, "access.district")
    assert refusal(refused["not yet discharged"]) == (409, "followup.not_started")
    assert refusal(refused["no municipality known"]) == (422, "handover.municipality_unknown")
    assert refusal(other_summary) == (403, "access.district")

    assert handing.status_code == 201, handing.text
    assert handing.json() == summary
    assert refusal(again) == (409, "followup.closed")
    assert (followup["status"], followup["outcome"]) == ("closed", "handed_over_to_municipality")
    assert followup["closed_by"] == "op-lbianchi"

    # The summary, in Italian: the person, the services and who runs them, the needs, the
    # contacts, the dates (Italian format); the one that continues, and the one that stops.
    assert (summary["handed_over"], summary["municipality_code"]) == (True, DESIO)
    assert summary["continuing"] == ["sad"]
    sections = {
        s["title"]: {i["label"]: i["value"] for i in s["items"]} for s in summary["sections"]
    }
    assert sections["Persona"]["Nome e cognome"] == "Mario Rossi"
    assert sections["Persona"]["Data di nascita"] == "10/12/1940"
    assert sections["Persona"]["Comune che prende in carico (codice ISTAT)"] == DESIO
    services = sections["Servizi in corso"]
    assert services["Assistenza domiciliare (SAD)"] == (
        "6 ore a settimana; Cooperativa Sociale Il Melograno, attivo dal 03/10/2024; "
        "prosegue con il Comune"
    )
    assert services["Teleassistenza"] == (
        "7 giorni a settimana; Telesoccorso Lombardia, attivo dal 04/10/2024; "
        "termina con la chiusura del caso"
    )
    assert sections["Bisogni"] == {"Bisogni rilevati dall'équipe": body["needs"]}
    assert sections["Contatti"]["Lucia Rossi (figlia)"] == "+39 333 1234567"
    assert sections["Date"]["Dimissione"] == "03/10/2024"
    assert sections["Date"]["Passaggio al Comune"] == "17/10/2024"
    assert sections["Date"]["A cura di"] == "op-lbianchi"
    assert summary["text"].startswith("# Passaggio in carico ai servizi sociali del Comune\n")
    assert "- **Lucia Rossi (figlia)**: +39 333 1234567" in summary["text"]

    # Published: CaseHandedOver then CaseClosed, under the case's correlation; the needs and
    # contacts (personal data) stay in monitoring.
    events = published(records, case)
    assert [e.type for e in events] == ["CaseHandedOver", "CaseClosed"]
    assert {e.correlation_id for e in events} == {"corr-HO-1"}
    handover, closure = (e.data for e in events)
    assert isinstance(handover, CaseHandedOver)
    assert isinstance(closure, CaseClosed)
    assert handover == CaseHandedOver(
        case_id=case,
        ambito_id="desio",
        municipality_code=DESIO,
        continuing=[SAD],
        handed_over_at=closure.closed_at,
    )
    assert closure.outcome == "handed_over_to_municipality"
    raw = b"".join(r.value for r in records)
    assert b"Lucia" not in raw
    assert b"spesa" not in raw
    assert named.status_code == 201, named.text
    [named_handover] = [e.data for e in published(records, elsewhere) if e.type == "CaseHandedOver"]
    assert isinstance(named_handover, CaseHandedOver)
    assert (named_handover.municipality_code, named_handover.continuing) == (MAGENTA, [])
    assert published(records, later) == []


# --- a decision reversed, and a readmission before the decision --------------------------------


async def test_a_reversed_decision_ends_the_follow_up_and_an_early_readmission_is_applied(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    clock = Clock(epoch=at("2024-10-12"))
    reversed_, not_yet_home, back, never = (
        case_id(ref) for ref in ("RV-1", "RV-2", "RB-1", "RJ-1")
    )
    back_at = EXPECTED_DISCHARGE + timedelta(days=4)
    decision = from_intake(confirmed("RB-1"), correlation_id="corr-RB-1")

    async with running(kafka_settings, database_settings, clock) as (rt, client):
        # The readmission overtakes the decision (another topic): kept, then applied.
        await publish(
            kafka_settings, topics.hospital_discharges, hospital_event(readmitted("RB-1", back_at))
        )

        async def kept() -> list[Any]:
            async with rt.engine.connect() as conn:
                return list(await conn.execute(select(pending_discharge_dates.c.readmitted_at)))

        await eventually(kept, lambda rows: [r[0] for r in rows] == [back_at], what="kept")
        await publish(
            kafka_settings,
            topics.intake_cases,
            from_intake(confirmed("RV-1"), correlation_id="corr-RV-1"),
            from_intake(confirmed("RV-2", expected_discharge_at=at("2024-10-20"))),
        )
        await view(client, f"/cases/{reversed_}", status="open")
        await view(client, f"/cases/{not_yet_home}", status="open")
        await publish(
            kafka_settings,
            topics.intake_cases,
            from_intake(rejected("RV-1")),
            from_intake(rejected("RV-2")),
            from_intake(rejected("RJ-1")),  # never confirmed: nothing to end
            decision,
        )
        ended = await view(client, f"/cases/{reversed_}", status="closed")
        ended_early = await view(client, f"/cases/{not_yet_home}", status="closed")
        came_back = await view(client, f"/cases/{back}", status="closed")
        unknown = await client.get(f"/cases/{never}")
        check = await client.post(f"/cases/{reversed_}/checks", json={"outcome": "stable"})
        records = await read_quiet(kafka_settings, topics.monitoring_cases)
        report = (
            await client.get(
                "/reports/outcomes", params={"from": "2024-10-01", "ambito_id": "desio"}
            )
        ).json()

    # Reversed after the discharge, and before it: both end as withdrawn, by the decider.
    for followup in (ended, ended_early):
        assert (followup["outcome"], followup["closed_by"]) == ("withdrawn", "op-lbianchi")
        assert "revocata" in followup["close_note"]
    assert refusal(check) == (409, "followup.closed")
    [closure] = published(records, reversed_)
    assert closure.data == CaseClosed(
        case_id=reversed_, closed_at=datetime.fromisoformat(ended["closed_at"]), outcome="withdrawn"
    )
    assert closure.correlation_id == "corr-RV-1"
    assert [e.type for e in published(records, not_yet_home)] == ["CaseClosed"]
    # The readmission kept before the decision closed the follow-up as it opened.
    assert came_back["outcome"] == "readmitted"
    assert datetime.fromisoformat(came_back["closed_at"]) == back_at
    [readmission] = published(records, back)
    assert readmission.data == CaseClosed(case_id=back, closed_at=back_at, outcome="readmitted")
    assert (readmission.correlation_id, readmission.causation_id) == ("corr-RB-1", decision.id)
    # A rejection of a case never confirmed changes nothing.
    assert unknown.status_code == 404
    assert published(records, never) == []
    # Reversed decisions are no beneficiaries and count in no indicator.
    (desio,) = report["districts"]
    assert (desio["cases"], desio["beneficiaries_to_date"]) == (1, 1)
    assert desio["readmitted_within_30_days"] == {"count": 1, "of": 1, "percent": 100.0}


# --- the outcome indicators and the beneficiary feed -------------------------------------------


async def test_outcome_indicators_and_the_beneficiary_feed(
    kafka_settings: KafkaSettings,
    topics: Topics,
    database_settings: DatabaseSettings,
    identity: Identity,
) -> None:
    # 20 October 2024: the cases discharged in September have ended their 30 days.
    clock = Clock(epoch=at("2024-10-20"))
    ids = {ref: case_id(ref) for ref in ("A", "B", "C", "D", "E", "F", "G", "M", "X")}
    decisions = [
        confirmed("X", expected_discharge_at=at("2024-08-20"), person_ref="p-9"),
        confirmed("A", expected_discharge_at=at("2024-09-10"), person_ref="p-1"),
        # The same person again, another visit: one beneficiary.
        confirmed("B", expected_discharge_at=at("2024-09-12"), person_ref="p-1"),
        confirmed("C", expected_discharge_at=at("2024-10-01"), person_ref="p-3"),
        confirmed(
            "D",
            expected_discharge_at=at("2024-10-02"),
            person_ref="p-4",
            services=((SAD, 6), (MEALS, 5)),
        ),
        confirmed("E", expected_discharge_at=at("2024-10-05"), person_ref="p-5"),
        confirmed("F", expected_discharge_at=at("2024-10-06")),  # no pseudonym: the case
        confirmed("G", expected_discharge_at=at("2024-10-08"), person_ref="p-7"),
        confirmed(
            "M", ambito_id="magentino", expected_discharge_at=at("2024-10-03"), person_ref="p-m"
        ),
    ]
    hospital = [
        announcement("A", at("2024-09-05"), expected_discharge_at=at("2024-09-10")),
        # C: planned for 29 September; the team asks to postpone on the 27th (meals not
        # ready), the ward moves it to 1 October: two bed-days lost.
        announcement("C", at("2024-09-26"), expected_discharge_at=at("2024-09-29")),
        from_source(rescheduled("C", at("2024-10-01")), at=at("2024-09-28")),
        # D: the ward moves it on its own: not counted.
        announcement("D", at("2024-09-28"), expected_discharge_at=at("2024-09-30")),
        from_source(rescheduled("D", at("2024-10-02")), at=at("2024-09-29")),
        announcement("G", at("2024-10-01"), expected_discharge_at=at("2024-10-08")),
    ]
    activation = [
        activated("A", SAD, "coop-il-melograno", date(2024, 9, 10)),
        activated("A", TELE, "telesoccorso-lombardia", date(2024, 9, 12)),
        postponement("C", date(2024, 10, 1), at("2024-09-27")),
        activated("D", SAD, "coop-il-melograno", date(2024, 10, 2)),
        resolved("D", MEALS, Resolution.FAMILY, at("2024-09-30")),
        activated("G", SAD, "coop-il-melograno", date(2024, 10, 8)),
    ]
    lbianchi = identity.headers("equipe", ambito_id="desio", username="op-lbianchi")

    async with running(kafka_settings, database_settings, clock) as (_, client):
        await publish(kafka_settings, topics.hospital_discharges, *hospital)
        await publish(
            kafka_settings, topics.activation_services, *(from_source(e) for e in activation)
        )
        await publish(kafka_settings, topics.intake_cases, *(from_intake(d) for d in decisions))
        for ref in ("X", "A", "B"):  # their 30 days are over: closed at once
            await view(client, f"/cases/{ids[ref]}", status="closed")
        for ref in ("C", "D", "E", "F", "G"):
            await view(client, f"/cases/{ids[ref]}", status="open")
        # After the closure, B is readmitted on day 23: not at home at day 30.
        await publish(
            kafka_settings,
            topics.hospital_discharges,
            hospital_event(readmitted("B", at("2024-10-05"))),
        )
        await publish(kafka_settings, topics.intake_cases, from_intake(rejected("E")))
        for ref, outcome in (("C", "institutionalised"), ("F", "deceased")):
            closing = await client.post(
                f"/cases/{ids[ref]}/close", json={"outcome": outcome}, headers=lbianchi
            )
            assert closing.status_code == 200, closing.text
        handing = await client.post(
            f"/cases/{ids['D']}/hand-over", json={"continuing": ["sad"]}, headers=lbianchi
        )
        assert handing.status_code == 201, handing.text
        await view(client, f"/cases/{ids['E']}", status="closed")

        async def desio_report() -> dict[str, Any]:
            response = await client.get(
                "/reports/outcomes", params={"from": "2024-09-01", "to": "2024-10-31"}
            )
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            return body

        report = await eventually(
            desio_report,
            lambda r: r["districts"][0]["readmitted_within_30_days"]["count"] == 1,
            what="B's readmission noted",
        )
        x_closed = (await client.get(f"/cases/{ids['X']}")).json()["closed_at"]
        as_magentino = (
            await client.get(
                "/reports/outcomes",
                params={"from": "2024-09-01"},
                headers=identity.headers("district_admin", ambito_id="magentino"),
            )
        ).json()
        asked_for_desio = await client.get(
            "/reports/outcomes",
            params={"ambito_id": "desio"},
            headers=identity.headers("equipe", ambito_id="magentino"),
        )
        as_auditor = (
            await client.get(
                "/reports/outcomes",
                params={"from": "2024-09-01"},
                headers=identity.headers("auditor"),
            )
        ).json()
        backwards = await client.get(
            "/reports/outcomes", params={"from": "2024-10-02", "to": "2024-10-01"}
        )
        q3 = (await client.get("/reports/beneficiaries", params={"quarter": "2024-Q3"})).json()
        q4 = (
            await client.get(
                "/reports/beneficiaries",
                headers=identity.headers("district_admin", ambito_id="desio"),
            )
        ).json()
        bad_quarter = await client.get("/reports/beneficiaries", params={"quarter": "2024-Q5"})
        provider = await client.get(
            "/reports/beneficiaries",
            headers=identity.headers("provider", provider_id="coop-il-melograno"),
        )

    assert (report["from"], report["to"]) == ("2024-09-01", "2024-10-31")
    assert report["labels"]["at_home_at_day_30"] == "A domicilio al trentesimo giorno"
    [desio, magentino] = report["districts"]  # the test team is of both districts
    assert (desio["ambito_id"], desio["name"]) == ("desio", "Ambito di Desio")
    # A, B, C, D, F, G (E was reversed; X was discharged before the period).
    assert (desio["cases"], desio["beneficiaries"], desio["open"]) == (6, 5, 1)
    assert desio["outcomes"] == {
        "completed": 2,
        "deceased": 1,
        "handed_over_to_municipality": 1,
        "institutionalised": 1,
    }
    assert desio["readmitted_within_30_days"] == {"count": 1, "of": 6, "percent": 16.7}
    assert desio["institutionalised"] == {"count": 1, "of": 6, "percent": 16.7}
    # Of A, B, C, D, F (closed): A completed and D handed over, at home; B was readmitted.
    assert desio["at_home_at_day_30"] == {"count": 2, "of": 5, "percent": 40.0}
    # A: announced 5 Sept, all active 12 Sept (7); D: announced 28 Sept, SAD on 2 Oct, meals
    # covered by the family (4). B, C, F, G never had every service active.
    assert desio["days_to_every_service_active"] == {
        "cases": 2,
        "mean": 5.5,
        "median": 5.5,
        "max": 7,
    }
    assert desio["not_all_active"] == 4
    assert (desio["bed_days_lost"], desio["cases_waiting_for_services"]) == (2, 1)
    assert (desio["hand_overs"], desio["hand_overs_by_team"], desio["hand_overs_at_closure"]) == (
        1,
        1,
        0,
    )
    # Progress against the target: X, p-1, C, D, F, G (E reversed).
    assert desio["beneficiaries_to_date"] == 6
    assert desio["beneficiary_target"] == {"count": 125, "years": 3, "reached": 6, "percent": 4.8}
    assert (magentino["ambito_id"], magentino["cases"], magentino["open"]) == ("magentino", 1, 1)
    assert magentino["beneficiary_target"] is None

    # Scoped to the caller's districts; the auditor sees every one.
    assert [d["ambito_id"] for d in as_magentino["districts"]] == ["magentino"]
    assert refusal(asked_for_desio) == (403, "access.district")
    assert [d["ambito_id"] for d in as_auditor["districts"]] == ["desio", "magentino"]
    assert refusal(backwards) == (422, "report.period_invalid")

    # The feed of the funder's export: every case followed on a day of the quarter.
    assert (q3["quarter"], q3["from"], q3["to"]) == ("2024-Q3", "2024-07-01", "2024-09-30")
    rows = {r["case_id"]: r for r in q3["rows"]}
    assert set(rows) == {ids["X"], ids["A"], ids["B"]}
    assert rows[ids["X"]] == {
        "case_id": ids["X"],
        "person_ref": "p-9",
        "ambito_id": "desio",
        "start": "2024-08-20",
        "end": datetime.fromisoformat(x_closed).astimezone(ROME).date().isoformat(),
        "outcome": "completed",
        "decision_reversed": False,
    }
    assert q4["quarter"] == "2024-Q4"  # today's quarter by default
    q4_rows = {r["case_id"]: r for r in q4["rows"]}
    assert set(q4_rows) == {ids[ref] for ref in "XABCDEFG"}  # the admin: Desio's only
    assert q4_rows[ids["E"]]["decision_reversed"] is True
    assert q4_rows[ids["G"]]["end"] is None
    assert q4_rows[ids["G"]]["outcome"] is None
    assert q4_rows[ids["F"]]["person_ref"] is None
    assert bad_quarter.status_code == 422
    assert refusal(provider) == (403, "access.role")
