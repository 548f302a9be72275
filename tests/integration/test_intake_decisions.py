"""The district's decisions in intake, end to end: real HTTP on loopback, the real broker and
PostgreSQL, the service's own runtime; nothing mocked.

Magentino's team confirms the rule's proposals (``[intake] decision = "team"``), Desio lets the
rule decide; in both, nothing is published without the person's or guardian's consent. The
team tailors and revises plans (versions, with who and why), the SAD hours cap is counted per
person across hospitals and yields only to the administrator's exception, a person without a
caregiver gets the territorial network, and monitoring's closure or a readmission end the
team's changes. What outside systems see is read on ``intake.cases``.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from cerniera.intake.config import load_config
from cerniera.intake.service import runtime
from cerniera.intake.tables import outbox
from cerniera.shared.contract import (
    CaseClosed,
    CaseOutcome,
    EligibilityConfirmed,
    EventData,
    NetworkTaskCompleted,
    NetworkTaskOpened,
    PatientReadmitted,
    PlanRevised,
    Topics,
)
from cerniera.shared.envelope import Envelope, decode
from cerniera.shared.runtime import ServiceRuntime
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.discharges import MAGENTA, announced, assessment, from_hospital
from support.districts import EXAMPLE
from support.identity import Identity
from support.kafka import publish
from support.services import LOOPBACK, serving
from support.waiting import eventually, read_quiet

pytestmark = pytest.mark.integration

DESIO_OP = "op-lbianchi"
MAGENTA_OP = "op-magenta"
ADMIN = "adm-desio"
FISCAL_CODE = "BNCLRA40A41F205W"
TAILORED = [
    {"service_type": "sad", "weekly_quantity": 9},
    {"service_type": "emergency_alarm", "weekly_quantity": 7},
    {"service_type": "teleassistance", "weekly_quantity": 7},
]


@contextlib.asynccontextmanager
async def intake(
    kafka: KafkaSettings, database: DatabaseSettings
) -> AsyncIterator[tuple[ServiceRuntime, httpx.AsyncClient]]:
    """Intake on the example districts, and a client of its API (the test districts' team)."""
    rt = runtime(kafka, database, load_config(EXAMPLE), service=LOOPBACK)
    async with serving(rt) as running:
        yield running


def team(identity: Identity, ambito_id: str = "desio", username: str = DESIO_OP) -> dict[str, str]:
    return identity.headers("equipe", ambito_id=ambito_id, username=username)


async def arrived(client: httpx.AsyncClient, case_id: str, **expected: Any) -> dict[str, Any]:
    """The case as the team sees it, once stored with the ``expected`` values."""

    async def probe() -> httpx.Response:
        return await client.get(f"/cases/{case_id}")

    def done(r: httpx.Response) -> bool:
        return r.status_code == 200 and all(r.json()[k] == v for k, v in expected.items())

    response = await eventually(probe, done, what=f"case {case_id} with {expected}")
    body: dict[str, Any] = response.json()
    return body


async def published(
    rt: ServiceRuntime, kafka: KafkaSettings, topics: Topics, case_id: str
) -> list[Envelope]:
    """Everything intake published about the case, once its outbox is empty and the topic
    quiet: what an outside system would ever see of it so far."""

    async def pending() -> int:
        async with rt.engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(outbox)) or 0)

    await eventually(pending, lambda n: n == 0, what="an empty outbox")
    records = await read_quiet(kafka, topics.intake_cases, quiet=0.5)
    return [e for e in (decode(r.value, r.headers) for r in records) if e.subject == case_id]


def of_type(events: list[Envelope], kind: type[EventData]) -> list[Any]:
    return [e.data for e in events if isinstance(e.data, kind)]


def refusal(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["detail"]["code"]


def visit(ref: str, **fields: Any) -> Envelope:
    return from_hospital(announced(discharge_ref=ref, **fields))


def by(source: str, data: EventData, subject: str) -> Envelope:
    return Envelope(data=data, source=source, subject=subject, id=str(uuid.uuid4()))


# --- 1. the rule advises, the team decides; consent ----------------------------------------------


async def test_where_the_team_decides_nothing_is_published_until_it_confirms(
    kafka_settings: KafkaSettings,
    topics: Topics,
    database_settings: DatabaseSettings,
    identity: Identity,
) -> None:
    proposal = visit("T-1", municipality_code=MAGENTA, assessment=assessment(brass_score=15))
    case_id = "asst-vimercate:T-1"
    magenta = team(identity, "magentino", MAGENTA_OP)

    async with intake(kafka_settings, database_settings) as (rt, client):
        await publish(kafka_settings, topics.hospital_discharges, proposal)
        case = await arrived(client, case_id, status="awaiting_confirmation")
        assert case["decision"]["decided_by"] == "rule"  # the rule's proposal, kept
        assert case["consent"]["source"] == "ward"
        assert await published(rt, kafka_settings, topics, case_id) == []
        listed = (await client.get("/cases", params={"status": "awaiting_confirmation"})).json()
        assert [c["case_id"] for c in listed["items"]] == [case_id]

        confirmed = await client.post(
            f"/cases/{case_id}/confirm",
            json={"services": TAILORED, "reason": "Pranza con la figlia: niente pasti."},
            headers=magenta,
        )
        assert confirmed.status_code == 200, confirmed.text
        assert (confirmed.json()["status"], confirmed.json()["plan_version"]) == ("eligible", 1)
        again = await client.post(f"/cases/{case_id}/confirm", json={}, headers=magenta)
        assert (again.status_code, again.json()["published"]) == (200, None)
        events = await published(rt, kafka_settings, topics, case_id)
        case = (await client.get(f"/cases/{case_id}")).json()

    [decision] = of_type(events, EligibilityConfirmed)
    assert decision.decided_by == MAGENTA_OP
    assert [r.code for r in decision.reasons][:2] == ["confirmed.team", "plan.tailored"]
    assert [(s.service_type.value, int(s.weekly_quantity)) for s in decision.services] == [
        ("sad", 9),
        ("emergency_alarm", 7),
        ("teleassistance", 7),
    ]
    assert decision.plan_version == 1
    assert "niente pasti" not in decision.model_dump_json()  # the operator's words stay here
    assert [p["reason_code"] for p in case["plan_history"]] == ["plan.tailored"]
    assert case["plan_history"][0]["reason"] == "Pranza con la figlia: niente pasti."
    assert case["plan_history"][0]["revised_by"] == MAGENTA_OP
    assert case["confirmed_by"] == MAGENTA_OP
    assert case["checklist"]["R1"] == "Assenza di rete familiare o di caregiver"


async def test_without_consent_nothing_is_published_until_the_team_records_it(
    kafka_settings: KafkaSettings,
    topics: Topics,
    database_settings: DatabaseSettings,
    identity: Identity,
) -> None:
    waiting = visit("C-1", assessment=assessment(brass_score=15, consent=None))
    case_id = "asst-vimercate:C-1"

    async with intake(kafka_settings, database_settings) as (rt, client):
        await publish(kafka_settings, topics.hospital_discharges, waiting)
        await arrived(client, case_id, status="awaiting_consent")
        url = f"/cases/{case_id}/consent"
        refused = await client.put(
            url, json={"given": False, "given_by": "person"}, headers=team(identity)
        )
        assert refused.json()["status"] == "awaiting_consent"
        assert await published(rt, kafka_settings, topics, case_id) == []
        unnamed = await client.put(url, json={"given_by": "guardian"}, headers=team(identity))
        assert refusal(unnamed) == (422, "request.invalid")

        given = await client.put(
            url,
            json={"given_by": "guardian", "guardian_name": "Avv. Carla Neri"},
            headers=team(identity),
        )
        assert given.status_code == 200, given.text
        assert given.json()["status"] == "eligible"
        again = await client.put(
            url,
            json={"given_by": "guardian", "guardian_name": "Avv. Carla Neri"},
            headers=team(identity),
        )
        assert (again.status_code, again.json()["published"]) == (200, None)  # once is enough
        events = await published(rt, kafka_settings, topics, case_id)
        case = (await client.get(f"/cases/{case_id}")).json()

    [decision] = of_type(events, EligibilityConfirmed)
    assert decision.decided_by == "rule"  # Desio: the rule decided, the team got the consent
    assert "Neri" not in str([e.data for e in events])
    assert case["consent"] == {
        "given": True,
        "source": "team",
        "given_by": "guardian",
        "guardian_name": "Avv. Carla Neri",
        "recorded_by": DESIO_OP,
        "recorded_at": case["consent"]["recorded_at"],
    }


# --- 2. tailored plans, with their versions -------------------------------------------------------


async def test_a_revised_plan_is_published_as_a_new_version_with_its_reason(
    kafka_settings: KafkaSettings,
    topics: Topics,
    database_settings: DatabaseSettings,
    identity: Identity,
) -> None:
    case_id = "asst-vimercate:P-1"

    async with intake(kafka_settings, database_settings) as (rt, client):
        await publish(
            kafka_settings,
            topics.hospital_discharges,
            visit("P-1", assessment=assessment(brass_score=15)),
        )
        await arrived(client, case_id, status="eligible")
        url = f"/cases/{case_id}/plan"
        body = {
            "services": TAILORED,
            "reason_code": "plan.check_adjustment",
            "reason": "Alla verifica: pasti non graditi, serve il telesoccorso.",
        }
        revised = await client.put(url, json=body, headers=team(identity))
        assert revised.status_code == 200, revised.text
        assert revised.json()["plan_version"] == 2
        same = await client.put(url, json=body, headers=team(identity, username="op-mverdi"))
        assert (same.json()["plan_version"], same.json()["published"]) == (2, None)
        odd = await client.put(url, json={**body, "reason_code": "plan.whim"})
        assert refusal(odd) == (422, "request.invalid")
        twice = await client.put(url, json={**body, "services": TAILORED[:1] * 2})
        assert refusal(twice) == (422, "plan.repeated_service")
        events = await published(rt, kafka_settings, topics, case_id)
        case = (await client.get(f"/cases/{case_id}")).json()

    [first] = of_type(events, EligibilityConfirmed)
    [revision] = of_type(events, PlanRevised)
    assert (first.plan_version, revision.plan_version) == (1, 2)
    assert revision.revised_by == DESIO_OP
    assert revision.reason.code == "plan.check_adjustment"
    assert revision.reason.text == "Piano adeguato dall'équipe alla verifica settimanale."
    assert "telesoccorso" not in revision.model_dump_json()
    assert [s.service_type.value for s in revision.services] == [
        "sad",
        "emergency_alarm",
        "teleassistance",
    ]
    history = [(p["version"], p["reason_code"], p["revised_by"]) for p in case["plan_history"]]
    assert history == [(1, "plan.package", "rule"), (2, "plan.check_adjustment", DESIO_OP)]
    assert case["plan_history"][1]["event_id"] is not None
    assert case["decision"]["services"] == [
        {"service_type": s["service_type"], "weekly_quantity": s["weekly_quantity"]}
        for s in TAILORED
    ]


# --- 3. the SAD hours cap per person -------------------------------------------------------------


async def test_the_cap_counts_the_person_across_hospitals_and_yields_to_the_admins_exception(
    kafka_settings: KafkaSettings,
    topics: Topics,
    database_settings: DatabaseSettings,
    identity: Identity,
) -> None:
    # The same person, high intensity (SAD 12 h/week: 51.4 h over 30 days) at two hospitals.
    high = assessment(brass_score=25)
    first = visit("K-1", fiscal_code=FISCAL_CODE, assessment=high)
    at_monza = announced(
        hospital_id="irccs-san-gerardo",
        discharge_ref="K-2",
        fiscal_code=FISCAL_CODE,
        assessment=high,
    )
    second = by("urn:dp:hospital:irccs-san-gerardo", at_monza, at_monza.case_id)
    first_id, second_id = "asst-vimercate:K-1", "irccs-san-gerardo:K-2"
    admin = identity.headers("district_admin", ambito_id="desio", username=ADMIN)

    async with intake(kafka_settings, database_settings) as (rt, client):
        await publish(kafka_settings, topics.hospital_discharges, first)
        await arrived(client, first_id, status="eligible")
        await publish(kafka_settings, topics.hospital_discharges, second)
        # The rule may not authorise past the cap: the case waits for the team.
        held = await arrived(client, second_id, status="awaiting_confirmation")
        assert held["cap"]["exceeded"] is True
        assert [r["refused_by"] for r in held["cap"]["refusals"]] == ["rule"]
        assert await published(rt, kafka_settings, topics, second_id) == []

        url = f"/cases/{second_id}/confirm"
        refused = await client.post(url, json={}, headers=team(identity))
        assert refusal(refused) == (409, "plan.cap_exceeded")
        message = refused.json()["detail"]["message"]
        assert "51.4" in message
        assert "102.8" in message
        assert "80" in message
        # The exception is the administration's, not the team's.
        reason = {"reason": "Persona sola con demenza: deroga del responsabile d'ambito."}
        not_theirs = await client.post(
            f"/cases/{second_id}/cap-exception", json=reason, headers=team(identity)
        )
        assert refusal(not_theirs) == (403, "access.role")
        granted = await client.post(f"/cases/{second_id}/cap-exception", json=reason, headers=admin)
        assert granted.status_code == 201, granted.text
        allowed = await client.post(url, json={}, headers=team(identity))
        assert allowed.status_code == 200, allowed.text
        assert allowed.json()["status"] == "eligible"

        events = {c: await published(rt, kafka_settings, topics, c) for c in (first_id, second_id)}
        case = (await client.get(f"/cases/{second_id}")).json()
        report = (await client.get("/reports/decisions", headers=team(identity))).json()

    [by_rule] = of_type(events[first_id], EligibilityConfirmed)
    [by_team] = of_type(events[second_id], EligibilityConfirmed)
    assert (by_rule.decided_by, by_team.decided_by) == ("rule", DESIO_OP)
    # One person across hospitals: the same pseudonym, never the fiscal code.
    assert by_rule.person_ref == by_team.person_ref == case["person_ref"]
    assert FISCAL_CODE not in by_team.model_dump_json()
    assert case["cap"]["other_hours"] == "51.4"
    assert case["cap"]["excepted"] is True
    assert [r["refused_by"] for r in case["cap"]["refusals"]] == ["rule", DESIO_OP]
    [desio] = report["districts"]
    assert desio["ambito_id"] == "desio"
    assert (desio["confirmed_by_rule"], desio["confirmed_by_team"]) == (1, 1)
    assert (desio["cap_refusals"], desio["persons_refused"], desio["cap_exceptions"]) == (2, 1, 1)
    assert desio["network_tasks_opened"] == 2


# --- 4. no caregiver: the territorial network; mediation ----------------------------------------


async def test_a_person_without_a_caregiver_gets_the_territorial_network(
    kafka_settings: KafkaSettings,
    topics: Topics,
    database_settings: DatabaseSettings,
    identity: Identity,
) -> None:
    case_id = "asst-vimercate:N-1"

    async with intake(kafka_settings, database_settings) as (rt, client):
        await publish(  # the ward's caregiver: {"present": false}
            kafka_settings,
            topics.hospital_discharges,
            visit("N-1", assessment=assessment(brass_score=15)),
        )
        await arrived(client, case_id, status="eligible")
        url = f"/cases/{case_id}/network-task"
        body = {
            "outcome": "partially_engaged",
            "resources": ["volunteers", "family_community_nurse"],
            "notes": "Auser: spesa il martedì.",
        }
        recorded = await client.post(url, json=body, headers=team(identity))
        assert recorded.status_code == 201, recorded.text
        assert refusal(await client.post(url, json=body)) == (409, "network_task.none")
        note = await client.post(
            f"/cases/{case_id}/mediation-notes",
            json={"text": "Il figlio vorrebbe l'RSA: concordata una prova di due settimane."},
            headers=team(identity),
        )
        assert note.status_code == 201, note.text
        events = await published(rt, kafka_settings, topics, case_id)
        case = (await client.get(f"/cases/{case_id}")).json()

    [opened] = of_type(events, NetworkTaskOpened)
    [completed] = of_type(events, NetworkTaskCompleted)
    assert (opened.ambito_id, completed.task_id) == ("desio", opened.task_id)
    assert completed.outcome.value == "partially_engaged"
    assert [r.value for r in completed.resources] == ["volunteers", "family_community_nurse"]
    assert "Auser" not in completed.model_dump_json()
    assert "RSA" not in str(events)
    [task] = case["network_tasks"]
    assert (task["task_id"], task["completed_by"], task["notes"]) == (
        opened.task_id,
        DESIO_OP,
        "Auser: spesa il martedì.",
    )
    assert [n["written_by"] for n in case["mediation_notes"]] == [DESIO_OP]


# --- 5. closures and readmissions ----------------------------------------------------------------


async def test_a_closed_case_refuses_changes_and_a_readmission_ends_a_proposal(
    kafka_settings: KafkaSettings,
    topics: Topics,
    database_settings: DatabaseSettings,
    identity: Identity,
) -> None:
    closing, proposal = "asst-vimercate:Z-1", "asst-vimercate:Z-2"
    back = datetime(2024, 10, 2, 22, 0, tzinfo=UTC)

    async with intake(kafka_settings, database_settings) as (rt, client):
        await publish(
            kafka_settings,
            topics.hospital_discharges,
            visit("Z-1", assessment=assessment(brass_score=15)),
            visit("Z-2", municipality_code=MAGENTA, assessment=assessment(brass_score=15)),
        )
        await arrived(client, closing, status="eligible")
        await arrived(client, proposal, status="awaiting_confirmation")
        closed = CaseClosed(case_id=closing, closed_at=back, outcome=CaseOutcome.COMPLETED)
        await publish(
            kafka_settings,
            topics.monitoring_cases,
            by("urn:dp:service:monitoring", closed, closing),
        )
        readmitted = PatientReadmitted(
            hospital_id="asst-vimercate", discharge_ref="Z-2", readmitted_at=back
        )
        await publish(
            kafka_settings,
            topics.hospital_discharges,
            by("urn:dp:hospital:asst-vimercate", readmitted, proposal),
        )
        case = await arrived(client, closing, status="closed")
        assert (case["closed_outcome"], case["plan_version"]) == ("completed", 1)
        plan = {"services": TAILORED, "reason_code": "plan.tailored", "reason": "Troppo tardi."}
        assert refusal(await client.put(f"/cases/{closing}/plan", json=plan)) == (
            409,
            "case.closed",
        )
        note = {"text": "Troppo tardi."}
        assert refusal(await client.post(f"/cases/{closing}/mediation-notes", json=note)) == (
            409,
            "case.closed",
        )

        ended = await arrived(client, proposal, status="readmitted")
        assert ended["readmitted_at"] is not None
        confirm = await client.post(
            f"/cases/{proposal}/confirm",
            json={},
            headers=team(identity, "magentino", MAGENTA_OP),
        )
        assert refusal(confirm) == (409, "case.readmitted")
        assert await published(rt, kafka_settings, topics, proposal) == []
