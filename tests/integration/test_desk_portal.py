"""The desk's provider portal end to end: the real broker, the real PostgreSQL, the real
identity provider (a person logs in through its form, authorization code with PKCE), billing
over HTTP. Nothing mocked.

- an operator of Coop Il Melograno sees its own requests and services, never another
  provider's (404, and the refusal in the audit log);
- accepting, declining and reporting a delivery publish what the provider's adapter would, on
  the provider's own reports topic, with its source, keyed by the case and caused by the
  request; a form that does not hold is shown again with what to change, and publishes nothing;
- its monthly statements: those issued (the desk's ledger), their lines from billing, the CSV.

The desk's read model comes from the topics, as in production: activation's requests and
activations, the portal's own answers read back, billing's ledger.
"""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from cerniera.desk import queries
from cerniera.desk.tables import requests
from cerniera.shared.clock import ROME
from cerniera.shared.contract import (
    Beneficiary,
    HoursDelivered,
    ProviderStatementIssued,
    ServiceActivated,
    ServiceActivationAccepted,
    ServiceActivationDeclined,
    ServiceActivationRequested,
    ServiceType,
    Topics,
)
from cerniera.shared.envelope import Envelope, decode
from cerniera.shared.runtime import ServiceRuntime
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.billing_events import activated, confirmed, delivery, reported
from support.desk_login import log_in, register
from support.identity import Identity
from support.kafka import publish, read_topic
from support.services import desk, service_runtime, serving
from support.waiting import eventually, read_quiet

pytestmark = pytest.mark.integration

MELOGRANO = "coop-il-melograno"
SOLIDARIETA = "coop-solidarieta-brianza"  # another SAD provider of Desio
ACTIVATION = "urn:dp:service:activation"
SAD, MEALS = ServiceType.SAD, ServiceType.MEALS


# --- helpers -------------------------------------------------------------------------------------


def requested(provider_id: str, name: str, *, ref: str, service: ServiceType = SAD) -> Envelope:
    """The ServiceActivationRequested activation sends to ``provider_id``'s own topic."""
    case = f"asst-vimercate:{ref}"
    return Envelope(
        data=ServiceActivationRequested(
            case_id=case,
            request_id=str(uuid.uuid4()),
            provider_id=provider_id,
            service_type=service,
            weekly_quantity=Decimal(6 if service is SAD else 5),
            start_by=date(2024, 10, 5),
            beneficiary=Beneficiary(
                name=name, address="Via Roma 12, 20871 Vimercate (MB)", phone="+39 039 1234567"
            ),
        ),
        source=ACTIVATION,
        subject=case,
        time=datetime(2024, 10, 2, 9, tzinfo=UTC),
        correlation_id=str(uuid.uuid4()),
        causation_id=str(uuid.uuid4()),
    )


def started(request: Envelope, active_from: date) -> Envelope:
    """The ServiceActivated activation publishes once the provider accepted ``request``."""
    asked = request.data_as(ServiceActivationRequested)
    return request.caused(
        ServiceActivated(
            case_id=asked.case_id,
            request_id=asked.request_id,
            provider_id=asked.provider_id,
            service_type=asked.service_type,
            active_from=active_from,
        ),
        source=ACTIVATION,
    )


def request_id(event: Envelope) -> str:
    return event.data_as(ServiceActivationRequested).request_id


def case_of(event: Envelope) -> str:
    return event.data_as(ServiceActivationRequested).case_id


async def statuses(rt: ServiceRuntime) -> dict[str, str]:
    """The requests in the desk's read model: request id → status."""
    async with rt.engine.connect() as conn:
        rows = await conn.execute(select(requests.c.request_id, requests.c.status))
        return {row.request_id: row.status for row in rows}


def section(page: str, heading_id: str) -> str:
    found = re.search(rf'<section aria-labelledby="{heading_id}">.*?</section>', page, re.S)
    assert found, f"a section {heading_id}"
    return html.unescape(str(found[0]))


def nonce_of(page: str) -> str:
    found = re.search(r'name="modulo" value="([^"]+)"', page)
    assert found, "the delivery form carries its own id"
    return found[1]


def decoded(records: list[Any]) -> list[tuple[bytes, Envelope]]:
    return [(r.key, decode(r.value, r.headers)) for r in records]


# --- answers and deliveries ----------------------------------------------------------------------


async def test_a_provider_answers_its_own_requests_and_reports_what_it_delivered(
    kafka_settings: KafkaSettings,
    topics: Topics,
    database_settings: DatabaseSettings,
    identity: Identity,
) -> None:
    issuer = identity.issuer
    register(issuer, "coord-melograno", "Chiara Conti", ["provider"], provider_id=MELOGRANO)
    register(issuer, "as-marco-riva", "Marco Riva", ["equipe"], ambito_id="desio")
    to_accept = requested(MELOGRANO, "Mario Rossi", ref="P-1")
    to_decline = requested(MELOGRANO, "Lucia Galli", ref="P-2", service=MEALS)
    running = requested(MELOGRANO, "Anna Verdi", ref="P-3")
    others = requested(SOLIDARIETA, "Giulia Neri", ref="P-4")
    others_running = requested(SOLIDARIETA, "Paolo Neri", ref="P-5")
    active, others_active = request_id(running), request_id(others_running)

    async with serving(desk(kafka_settings, database_settings), headers={}) as (rt, client):
        # What activation sends: the requests on each provider's own topic, two started.
        await publish(
            kafka_settings, topics.provider_requests(MELOGRANO), to_accept, to_decline, running
        )
        await publish(kafka_settings, topics.provider_requests(SOLIDARIETA), others, others_running)
        await publish(
            kafka_settings,
            topics.activation_services,
            started(running, date(2024, 10, 1)),
            started(others_running, date(2024, 10, 1)),
        )
        await eventually(
            lambda: statuses(rt),
            lambda found: len(found) == 5 and found[active] == found[others_active] == "active",
            what="the five requests in the desk's read model",
            timeout=30,
        )

        anonymous = await client.get("/portale")
        async with httpx.AsyncClient(base_url=client.base_url, timeout=10) as team:
            await log_in(team, "as-marco-riva", "/oggi")
            team_portal = await team.get("/portale")
        await log_in(client, "coord-melograno", "/portale")
        home = await client.get("/portale")

        # Another provider's request: as if it did not exist.
        theirs = await client.get(f"/portale/richieste/{request_id(others)}")
        theirs_service = await client.get(f"/portale/servizi/{others_active}")
        theirs_accept = await client.post(
            f"/portale/richieste/{request_id(others)}/accetta",
            data={"giorno": "2024-10-04", "ora": "09:00"},
        )
        nobody = uuid.uuid4()
        unknown = await client.get(f"/portale/richieste/{nobody}")

        # A start in the past: the form again, with what to change, and nothing published.
        page = await client.get(f"/portale/richieste/{request_id(to_accept)}")
        wrong = await client.post(
            f"/portale/richieste/{request_id(to_accept)}/accetta",
            data={"giorno": "2024-10-01", "ora": "09:00"},
        )
        accepted = await client.post(
            f"/portale/richieste/{request_id(to_accept)}/accetta",
            data={"giorno": "2024-10-04", "ora": "08:30"},
        )
        after = await client.get(accepted.headers["location"])
        no_reason = await client.post(
            f"/portale/richieste/{request_id(to_decline)}/rifiuta", data={"nota": "x"}
        )
        declined = await client.post(
            f"/portale/richieste/{request_id(to_decline)}/rifiuta",
            data={"motivo": "capacity", "nota": "Nessun operatore fino al 10/10."},
        )

        # A delivery, sent twice from the same form (a double click): one delivery_ref.
        service_page = await client.get(f"/portale/servizi/{active}")
        nonce = nonce_of(service_page.text)
        line = {"giorno": "2024-10-02", "quantita": "1,5", "sera": "1", "modulo": nonce}
        deliveries = f"/portale/servizi/{active}/consegne"
        reported_once = await client.post(deliveries, data=line)
        reported_twice = await client.post(deliveries, data=line)
        next_form = await client.get(reported_once.headers["location"])
        tomorrow = await client.post(deliveries, data={**line, "giorno": "2024-10-04"})
        before_start = await client.post(deliveries, data={**line, "giorno": "2024-09-30"})
        not_running = await client.post(  # pending or declined: never running
            f"/portale/servizi/{request_id(to_decline)}/consegne",
            data={"giorno": "2024-10-02", "quantita": "1", "modulo": nonce},
        )

        mine = await read_topic(
            kafka_settings, topics.provider_reports(MELOGRANO), until=lambda rs: len(rs) >= 4
        )
        mine = await read_quiet(kafka_settings, topics.provider_reports(MELOGRANO), quiet=1.0)
        theirs_topic = await read_quiet(
            kafka_settings, topics.provider_reports(SOLIDARIETA), quiet=0.5
        )

        # The desk reads its own answers back, as activation and billing do: the accepted
        # request is a service now, the declined one gone, the delivery counted.
        async def portal() -> str:
            return (await client.get("/portale")).text

        settled = await eventually(
            portal,
            lambda text: (
                request_id(to_accept) in section(text, "in-corso")
                and "Lucia Galli" not in text
                and f"{active}/2024-10-02/{nonce}" in section(text, "consegne")
            ),
            what="the portal after the desk read its own answers",
            timeout=30,
        )
        assert rt.access.audit is not None
        audit = await rt.access.audit.entries(
            case_id=None, actor="coord-melograno", after=0, limit=1000
        )

    # Only a logged-in provider's operator: the team is refused the portal.
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=/portale"
    assert team_portal.status_code == 403

    # Its own requests and services, nobody else's, in Italian.
    assert home.status_code == 200, home.text
    assert '<html lang="it">' in home.text
    pending, services = section(home.text, "da-evadere"), section(home.text, "in-corso")
    assert "Richieste da evadere" in pending
    assert ("Mario Rossi" in pending, "Lucia Galli" in pending) == (True, True)
    assert "Anna Verdi" in services
    for stranger in ("Giulia Neri", "Paolo Neri", request_id(others), others_active):
        assert stranger not in home.text
    assert f'href="/portale/richieste/{request_id(to_accept)}"' in pending
    assert f'href="/portale/servizi/{active}"' in services

    for refused in (theirs, theirs_service, theirs_accept, unknown):
        assert refused.status_code == 404
        assert "Pagina non trovata" in refused.text
    denied = [e.path for e in audit if e.outcome == "denied"]
    assert f"/portale/richieste/{request_id(others)}" in denied
    assert f"/portale/richieste/{request_id(others)}/accetta" in denied
    assert f"/portale/servizi/{others_active}" in denied
    assert f"/portale/richieste/{nobody}" not in denied  # nothing there to refuse

    # The answer form, and the same form with what to change.
    assert page.status_code == 200
    assert 'type="date"' in page.text
    assert 'min="2024-10-03"' in page.text
    assert wrong.status_code == 422
    assert 'role="alert"' in wrong.text
    assert "Il giorno di inizio non può essere prima di oggi (3 ott 2024)." in wrong.text
    assert 'aria-describedby="accetta-giorno-aiuto accetta-giorno-errore"' in wrong.text
    assert 'aria-invalid="true"' in wrong.text
    assert 'value="2024-10-01"' in wrong.text  # what the person typed stays
    assert no_reason.status_code == 422
    assert "Scegliere il motivo del rifiuto." in no_reason.text
    assert tomorrow.status_code == 422
    assert "deve ancora venire" in tomorrow.text
    assert before_start.status_code == 422
    assert "Il servizio è iniziato il 1 ott 2024" in before_start.text
    assert not_running.status_code == 422
    assert "non è in corso" in not_running.text

    assert (accepted.status_code, accepted.headers["location"]) == (
        303,
        "/portale?fatto=accettata",
    )
    assert "Risposta inviata: richiesta accettata." in after.text
    assert declined.status_code == 303
    assert reported_once.status_code == reported_twice.status_code == 303
    assert "Consegna segnalata." in next_form.text
    assert nonce_of(next_form.text) != nonce  # the next delivery is another line

    # On Melograno's own topic, from Melograno, keyed by the case: what its adapter would send.
    assert theirs_topic == []
    events = decoded(mine)
    assert sorted(e.type for _, e in events) == [
        "HoursDelivered",
        "HoursDelivered",
        "ServiceActivationAccepted",
        "ServiceActivationDeclined",
    ]
    assert {e.source for _, e in events} == {f"urn:dp:provider:{MELOGRANO}"}
    assert all(e.subject is not None and key == e.subject.encode() for key, e in events)
    [(key, acceptance)] = [(k, e) for k, e in events if e.type == "ServiceActivationAccepted"]
    assert key == case_of(to_accept).encode()
    assert acceptance.data == ServiceActivationAccepted(
        request_id=request_id(to_accept),
        provider_id=MELOGRANO,
        scheduled_start=datetime(2024, 10, 4, 8, 30, tzinfo=ROME),
    )
    # Caused by the request it answers, in the request's chain.
    assert (acceptance.correlation_id, acceptance.causation_id) == (
        to_accept.chain_id,
        to_accept.id,
    )
    [(_, refusal)] = [(k, e) for k, e in events if e.type == "ServiceActivationDeclined"]
    assert refusal.subject == case_of(to_decline)
    assert refusal.causation_id == to_decline.id
    assert refusal.data == ServiceActivationDeclined(
        request_id=request_id(to_decline),
        provider_id=MELOGRANO,
        reason_code="capacity",
        note="Nessun operatore fino al 10/10.",
    )
    lines = [e for _, e in events if e.type == "HoursDelivered"]
    assert len({e.id for e in lines}) == 2
    expected = HoursDelivered(
        case_id=case_of(running),
        provider_id=MELOGRANO,
        service_type=SAD,
        delivered_on=date(2024, 10, 2),
        quantity=Decimal("1.5"),
        delivery_ref=f"{active}/2024-10-02/{nonce}",
        evening=True,
    )
    assert [e.data for e in lines] == [expected, expected]  # billing pays the ref once

    # Read back: shown once, with its hours.
    recent = section(settled, "consegne")
    assert recent.count(f"{active}/2024-10-02/{nonce}") == 1
    assert "1,5 ore" in recent


# --- statements ----------------------------------------------------------------------------------


async def test_a_provider_reads_its_statements_with_their_lines_from_billing(
    kafka_settings: KafkaSettings,
    topics: Topics,
    database_settings: DatabaseSettings,
    identity: Identity,
) -> None:
    register(identity.issuer, "amm-melograno", "Elena Sala", ["provider"], provider_id=MELOGRANO)
    case = "asst-vimercate:S-1"
    admin = identity.headers("district_admin", ambito_id="desio")
    melograno = identity.headers("provider", provider_id=MELOGRANO)

    billing_rt = service_runtime("billing", kafka_settings, database_settings)
    async with serving(billing_rt, headers=admin) as (_, billing):
        assert billing_rt.http_url is not None
        # September 2024: 2 hours on the 10th and an evening hour on the 12th, at 21.50 (+10%).
        await publish(kafka_settings, topics.intake_cases, confirmed(case))
        await publish(
            kafka_settings,
            topics.activation_services,
            activated(case, MELOGRANO, SAD, date(2024, 9, 2)),
        )
        await publish(
            kafka_settings,
            topics.provider_reports(MELOGRANO),
            reported(delivery(case, MELOGRANO, SAD, date(2024, 9, 10), 2, delivery_ref="=MEL-1")),
            reported(
                delivery(
                    case, MELOGRANO, SAD, date(2024, 9, 12), 1, delivery_ref="MEL-2", evening=True
                )
            ),
        )

        async def september() -> dict[str, Any]:
            found = await billing.get(f"/statements/{MELOGRANO}/2024-09", headers=melograno)
            body: dict[str, Any] = found.json()
            return body

        await eventually(
            september,
            lambda s: [line["status"] for line in s.get("lines", [])] == ["billed", "billed"],
            what="September's two lines billed",
            timeout=30,
        )
        issued = await billing.post(f"/statements/{MELOGRANO}/2024-09/issue")
        assert issued.status_code == 201, issued.text
        ledger_records = await read_topic(
            kafka_settings, topics.billing_ledger, until=lambda rs: len(rs) >= 1
        )
        [statement_event] = [decode(r.value, r.headers) for r in ledger_records]
        from_billing = await billing.get(f"/statements/{MELOGRANO}/2024-09", headers=melograno)
        csv_from_billing = await billing.get(
            f"/statements/{MELOGRANO}/2024-09.csv",
            params={"ambito_id": "desio"},
            headers=melograno,
        )

        # Another provider's statement of the same month, on billing's ledger too.
        other = Envelope(
            data=ProviderStatementIssued(
                provider_id=SOLIDARIETA,
                ambito_id="desio",
                period="2024-09",
                total=Decimal("999.00"),
                lines=9,
                issued_at=datetime(2024, 10, 2, 9, tzinfo=UTC),
            ),
            source="urn:dp:service:billing",
            subject="desio",
        )
        await publish(kafka_settings, topics.billing_ledger, other)

        desk_rt = desk(kafka_settings, database_settings, {"billing": billing_rt.http_url})
        async with serving(desk_rt, headers={}) as (rt, client):

            async def ledger_events() -> set[str]:
                async with rt.engine.connect() as conn:
                    entries = await queries.ledger(conn)
                return {e.event_id for e in entries}

            await eventually(
                ledger_events,
                lambda ids: {statement_event.id, other.id} <= ids,
                what="both statements in the desk's ledger",
                timeout=30,
            )
            await log_in(client, "amm-melograno", "/portale/estratti")
            listing = await client.get("/portale/estratti")
            detail = await client.get("/portale/estratti/2024-09", params={"ambito_id": "desio"})
            current = await client.get("/portale/estratti", params={"mese": "2024-10"})
            bad_month = await client.get("/portale/estratti", params={"mese": "ottobre"})
            nonsense = await client.get("/portale/estratti/2024-13")
            csv_page = await client.get(
                "/portale/estratti/2024-09.csv", params={"ambito_id": "desio"}
            )
            english = await client.get(
                "/portale/estratti/2024-09", params={"ambito_id": "desio", "lang": "en"}
            )

    body = from_billing.json()
    assert body["total"] == "66.65"  # 2 h at 21.50 + 1 evening hour at 23.65
    assert listing.status_code == 200, listing.text
    assert "settembre 2024" in listing.text
    assert "66,65\xa0€" in listing.text
    assert "999,00" not in listing.text  # another provider's statement
    assert 'href="/portale/estratti/2024-09?ambito_id=desio"' in listing.text
    assert 'href="/portale/estratti/2024-09.csv?ambito_id=desio"' in listing.text

    assert detail.status_code == 200, detail.text
    assert "Estratto di settembre 2024" in detail.text
    for line in body["lines"]:
        assert f'data-ref="{line["delivery_ref"]}"' in detail.text
    assert 'data-total="66.65"' in detail.text
    assert "Pagata" in detail.text
    assert "Emesso il" in detail.text
    assert "Statement of September 2024" in english.text

    assert (current.status_code, current.headers["location"]) == (303, "/portale/estratti/2024-10")
    assert bad_month.status_code == 200
    assert "Il mese non è valido" in bad_month.text
    assert nonsense.status_code == 404

    assert csv_page.status_code == 200
    assert csv_page.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv_page.headers["content-disposition"]
    assert csv_page.text == csv_from_billing.text
    assert "'=MEL-1" in csv_page.text  # billing's cells are inert, and stay so
