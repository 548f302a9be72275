"""The hospital gateway end to end: the sample messages sent through the REAL MLLP listener (an
asyncio client writing framed bytes to its port) and the REAL HTTP endpoint (httpx), the
events read back from the real broker, the state from the real database. Nothing mocked.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Row, select

from cerniera.gateway.service import GatewayRuntime
from cerniera.gateway.tables import outbox, visits
from cerniera.shared.contract import (
    CaseClosed,
    CaseOutcome,
    DischargeAnnounced,
    DischargeCancelled,
    DischargeRescheduled,
    EligibilityRejected,
    PatientReadmitted,
    Reason,
    Topics,
)
from cerniera.shared.envelope import Envelope, decode
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.gateway_mllp import Ack, MllpClient
from support.gateway_running import LOOPBACK, Record, count, mllp_port, published, running
from support.gateway_samples import (
    A01,
    A03,
    A13,
    A16,
    A16_MOVED,
    DAVINCI_CASE,
    DAVINCI_DISCHARGE,
    DISCHARGED,
    ENCOUNTER_FINISHED,
    ENCOUNTER_IN_PROGRESS,
    EXPECTED,
    FHIR_CASE,
    HL7_CASE,
    HL7_FISCAL_CODE,
    MOVED,
    READMITTED,
    fhir_resource,
    hl7_message,
)
from support.identity import Identity
from support.kafka import headers_of, publish
from support.services import healthy
from support.waiting import eventually


def san_gerardo() -> dict[str, str]:
    """The sample encounters' hospital's system (client credentials)."""
    return Identity(os.environ["OIDC_ISSUER"]).headers("hospital", hospital_id="irccs-san-gerardo")


pytestmark = pytest.mark.integration


# --- helpers -------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def over_mllp(
    kafka: KafkaSettings, database: DatabaseSettings
) -> AsyncIterator[tuple[GatewayRuntime, MllpClient]]:
    """The gateway running, and an MLLP client connected to it."""
    async with running(kafka, database) as rt, MllpClient(LOOPBACK, mllp_port(rt)) as client:
        yield rt, client


async def visit(rt: GatewayRuntime, case_id: str) -> Row[Any] | None:
    async with rt.engine.connect() as conn:
        query = select(visits).where(visits.c.case_id == case_id)
        return (await conn.execute(query)).one_or_none()


def events(records: list[Record]) -> list[Envelope]:
    """Decoded, each case's events in their order (one case = one key = one partition)."""
    ordered = sorted(records, key=lambda r: (r.partition, r.offset))
    return [decode(r.value, r.headers) for r in ordered]


def by_case(records: list[Record]) -> dict[str | None, list[Envelope]]:
    cases: dict[str | None, list[Envelope]] = {}
    for event in events(records):
        cases.setdefault(event.subject, []).append(event)
    return cases


def accepted(ack: Ack, *words: str) -> None:
    assert ack.code == "AA", ack
    for word in words:
        assert word in ack.reason, ack


# --- HL7 v2 over MLLP ----------------------------------------------------------------------


async def test_a16_a16_moved_a03_and_readmission_become_one_case_story(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, topics: Topics
) -> None:
    async with over_mllp(kafka_settings, database_settings) as (rt, client):
        ack = await client.send(hl7_message(A16))
        accepted(ack, "DischargeAnnounced", HL7_CASE)
        assert ack.control_id == "SIO-20261123-000871"
        assert ack.message_type == "ACK^A16^ACK"
        # AA means committed: the visit is stored before the ACK leaves.
        row = await visit(rt, HL7_CASE)
        assert row is not None
        assert (row.status, row.expected_discharge_at) == ("open", EXPECTED)

        accepted(await client.send(hl7_message(A16)), "nothing new")
        accepted(await client.send(hl7_message(A16_MOVED)), "DischargeRescheduled")
        accepted(await client.send(hl7_message(A03)), "DischargeRescheduled")
        accepted(await client.send(hl7_message(A01)), "PatientReadmitted", HL7_CASE)
        accepted(await client.send(hl7_message(A01)), "no open case")  # sent twice: once

        records = await published(rt, kafka_settings, topics)
        row = await visit(rt, HL7_CASE)
        assert row is not None
        assert row.status == "closed"

    announced, moved, discharged, readmitted = events(records)
    assert isinstance(announced.data, DischargeAnnounced)
    assert announced.data.model_dump(mode="json") == {
        "hospital_id": "asst-vimercate",
        "ward": "MEDGEN",
        "discharge_ref": "V2026-000412",
        "expected_discharge_at": "2026-11-27T10:00:00+01:00",
        "patient": {
            "fiscal_code": HL7_FISCAL_CODE,
            "given_name": "Giuseppina",
            "family_name": "Brambilla",
            "birth_date": "1938-03-22",
            "municipality_code": "108023",
            "address": "Via Lampugnani 17, 20832 Desio (MB)",
            "phone": "0362 624118",
        },
        "caregiver": {"present": True, "name": "Antonio Brambilla", "phone": "+39 347 5512093"},
        "assessment": None,
    }
    assert isinstance(moved.data, DischargeRescheduled)
    assert moved.data.expected_discharge_at == MOVED
    assert isinstance(discharged.data, DischargeRescheduled)
    assert discharged.data.expected_discharge_at == DISCHARGED  # PV1-45, the actual time
    assert isinstance(readmitted.data, PatientReadmitted)
    assert (readmitted.data.case_id, readmitted.data.readmitted_at) == (HL7_CASE, READMITTED)
    # The gateway speaks for the hospital; the case's first event starts its correlation.
    story = [announced, moved, discharged, readmitted]
    assert {e.source for e in story} == {"urn:dp:hospital:asst-vimercate"}
    assert {e.subject for e in story} == {HL7_CASE}
    assert {e.correlation_id for e in story} == {announced.id}
    assert {r.key for r in records} == {HL7_CASE.encode()}


async def test_a13_cancels_and_then_an_admission_finds_no_open_case(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, topics: Topics
) -> None:
    async with over_mllp(kafka_settings, database_settings) as (rt, client):
        # Sent in ISO 8859-1, as MSH-18 says: the other charset Italian systems use.
        latin1 = hl7_message(
            A16,
            {"UNICODE UTF-8": "8859/1", "Via Lampugnani 17": "Via Niccolò Tommaseo 5"},
        )
        ack = Ack((await client.send_bytes(latin1.encode("latin-1"))).decode("latin-1"))
        accepted(ack, "DischargeAnnounced")
        accepted(await client.send(hl7_message(A13)), "DischargeCancelled")
        accepted(await client.send(hl7_message(A13)), "already cancelled")
        accepted(await client.send(hl7_message(A01)), "no open case")
        records = await published(rt, kafka_settings, topics)

    announced, cancelled = events(records)
    assert isinstance(announced.data, DischargeAnnounced)
    assert announced.data.patient.address == "Via Niccolò Tommaseo 5, 20832 Desio (MB)"
    assert cancelled.data == DischargeCancelled(
        hospital_id="asst-vimercate",
        discharge_ref="V2026-000412",
        reason="Physician/health practitioner order",
    )
    assert cancelled.correlation_id == announced.id


async def test_refused_messages_are_answered_with_the_reason_and_change_nothing(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, topics: Topics
) -> None:
    async with over_mllp(kafka_settings, database_settings) as (rt, client):
        garbage = Ack((await client.send_bytes(b"\xff\xfe not HL7 at all")).decode("latin-1"))
        assert (garbage.code, garbage.error_code) == ("AR", "100^Segment sequence error^HL70357")
        assert "must start with MSH" in garbage.reason

        bad_code = await client.send(hl7_message(A16, {"BRMGPP38C62D286R": "BRMGPP38C62D286X"}))
        assert (bad_code.code, bad_code.control_id) == ("AE", "SIO-20261123-000871")
        assert bad_code.error_location == "PID^1^3^1^1"
        assert "invalid codice fiscale" in bad_code.error_text

        no_date = await client.send(hl7_message(A16, {"||20261127100000": "||"}))
        assert (no_date.code, no_date.error_location) == ("AE", "PV2^1^9")
        assert "PV2-9 (expected discharge date/time" in no_date.error_text

        wrong_type = await client.send(hl7_message(A16, {"ADT^A16^ADT_A16": "ORU^R01^ORU_R01"}))
        assert (wrong_type.code, wrong_type.error_code) == (
            "AR",
            "200^Unsupported message type^HL70357",
        )

        # Nothing stored, nothing queued, nothing published...
        assert await count(rt, visits) == 0
        assert await count(rt, outbox) == 0
        assert await published(rt, kafka_settings, topics) == []
        # ...and the connection is still good for the next message.
        accepted(await client.send(hl7_message(A16)), "DischargeAnnounced")
        assert len(await published(rt, kafka_settings, topics)) == 1


# --- FHIR R4 over HTTP -------------------------------------------------------------------


async def test_fhir_encounters_and_notifications_become_events(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, topics: Topics
) -> None:
    async with (
        running(kafka_settings, database_settings) as rt,
        httpx.AsyncClient(base_url=rt.http_url or "", timeout=20, headers=san_gerardo()) as http,
    ):
        health = await http.get("/health")
        assert (health.status_code, health.json()) == (200, healthy("gateway"))
        fhir_json = {"Content-Type": "application/fhir+json"}
        first = await http.post(
            "/fhir/Encounter", json=fhir_resource(ENCOUNTER_IN_PROGRESS), headers=fhir_json
        )
        assert first.status_code == 202, first.text
        body = first.json()
        assert body["case_id"] == FHIR_CASE
        [produced] = body["events"]
        assert produced["type"] == "DischargeAnnounced"

        finished = await http.post("/fhir/Encounter", json=fhir_resource(ENCOUNTER_FINISHED))
        assert finished.status_code == 202, finished.text
        assert [e["type"] for e in finished.json()["events"]] == ["DischargeRescheduled"]

        again = await http.post("/fhir/Encounter", json=fhir_resource(ENCOUNTER_FINISHED))
        assert (again.status_code, again.json()["events"]) == (202, [])

        notification = await http.post("/fhir", json=fhir_resource(DAVINCI_DISCHARGE))
        assert notification.status_code == 202, notification.text
        assert notification.json()["case_id"] == DAVINCI_CASE

        records = await published(rt, kafka_settings, topics)

    cases = by_case(records)
    assert set(cases) == {FHIR_CASE, DAVINCI_CASE}
    announced, rescheduled = cases[FHIR_CASE]
    [notified] = cases[DAVINCI_CASE]
    assert announced.id == produced["id"]  # the 202 names the event that was published
    assert isinstance(announced.data, DischargeAnnounced)
    assert announced.source == "urn:dp:hospital:irccs-san-gerardo"
    assert (announced.data.case_id, announced.data.ward) == (FHIR_CASE, "Geriatria")
    assert announced.data.patient.fiscal_code == "CLMRSO36S54F797I"
    assert announced.data.patient.municipality_code == "108034"
    assert isinstance(rescheduled.data, DischargeRescheduled)
    assert rescheduled.data.expected_discharge_at.isoformat() == "2026-11-29T11:30:00+01:00"
    assert rescheduled.correlation_id == announced.id
    assert isinstance(notified.data, DischargeAnnounced)
    assert notified.data.case_id == DAVINCI_CASE
    assert headers_of(records[0])["content-type"] == "application/json"


async def test_a_bad_fhir_resource_gets_an_operation_outcome_and_changes_nothing(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, topics: Topics
) -> None:
    bad_code = fhir_resource(ENCOUNTER_IN_PROGRESS)
    bad_code["contained"][0]["identifier"][0]["value"] = "CLMRSO36S54F797X"
    bad_date = fhir_resource(ENCOUNTER_IN_PROGRESS)
    bad_date["period"]["end"] = "next friday"
    async with (
        running(kafka_settings, database_settings) as rt,
        httpx.AsyncClient(base_url=rt.http_url or "", timeout=20, headers=san_gerardo()) as http,
    ):
        unprocessable = await http.post("/fhir/Encounter", json=bad_code)
        invalid = await http.post("/fhir/Encounter", json=bad_date)
        not_json = await http.post(
            "/fhir/Encounter", content=b"{not json", headers={"content-type": "application/json"}
        )
        records = await published(rt, kafka_settings, topics)
        stored = await count(rt, visits)

    assert unprocessable.status_code == 422
    assert unprocessable.headers["content-type"].startswith("application/fhir+json")
    [issue] = unprocessable.json()["issue"]
    assert issue["severity"] == "error"
    assert issue["code"] == "value"
    assert issue["expression"] == ["Encounter.contained[0].identifier"]
    assert "invalid codice fiscale" in issue["diagnostics"]

    assert invalid.status_code == 400
    [issue] = invalid.json()["issue"]
    assert (issue["code"], issue["expression"]) == ("structure", ["Encounter.period.end"])

    assert not_json.status_code == 400
    assert "not JSON" in not_json.json()["issue"][0]["diagnostics"]
    assert (records, stored) == ([], 0)


# --- what other services say -------------------------------------------------------------


async def test_a_closed_or_rejected_case_is_no_longer_open_for_readmission(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, topics: Topics
) -> None:
    async with (
        running(kafka_settings, database_settings) as rt,
        MllpClient(LOOPBACK, mllp_port(rt)) as client,
        httpx.AsyncClient(base_url=rt.http_url or "", timeout=20, headers=san_gerardo()) as http,
    ):
        accepted(await client.send(hl7_message(A16)), "DischargeAnnounced")
        response = await http.post("/fhir/Encounter", json=fhir_resource(ENCOUNTER_IN_PROGRESS))
        assert response.status_code == 202
        closed = CaseClosed(case_id=HL7_CASE, closed_at=READMITTED, outcome=CaseOutcome.COMPLETED)
        rejected = EligibilityRejected(
            case_id=FHIR_CASE,
            reasons=[Reason(code="residence.outside_ambiti", text="Fuori ambito.")],
        )
        await publish(
            kafka_settings,
            topics.monitoring_cases,
            Envelope(data=closed, source="urn:dp:service:monitoring", subject=HL7_CASE),
        )
        await publish(
            kafka_settings,
            topics.intake_cases,
            Envelope(data=rejected, source="urn:dp:service:intake", subject=FHIR_CASE),
        )

        async def statuses() -> tuple[str | None, ...]:
            rows = [await visit(rt, case) for case in (HL7_CASE, FHIR_CASE)]
            return tuple(r.status if r else None for r in rows)

        await eventually(statuses, lambda s: s == ("closed", "closed"), what="both closed")
        accepted(await client.send(hl7_message(A01)), "no open case")
        records = await published(rt, kafka_settings, topics)

    cases = by_case(records)
    assert {case: [e.type for e in found] for case, found in cases.items()} == {
        HL7_CASE: ["DischargeAnnounced"],
        FHIR_CASE: ["DischargeAnnounced"],
    }
