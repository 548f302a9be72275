"""Hospitals as they really speak, end to end on the REAL MLLP listener, HTTP endpoint, broker
and database: ADT feeds of versions 2.3, 2.4, 2.8 (and a 2.5.1 A08) shaped like real ones,
an unparsable message, the ward's assessment through OBX and through a FHIR
QuestionnaireResponse, and a postponement asked by the team that becomes a FHIR Task only its
hospital can read. Nothing mocked.
"""

from __future__ import annotations

import os
from datetime import date, datetime

import httpx
import pytest

from cerniera.gateway.tables import tasks, visits
from cerniera.shared.clock import ROME
from cerniera.shared.contract import (
    Assessment,
    Caregiver,
    DischargeAnnounced,
    DischargePostponementRequested,
    PatientDetailsUpdated,
    PatientReadmitted,
    ServiceType,
    Topics,
)
from cerniera.shared.envelope import Envelope, decode
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.gateway_mllp import Ack, MllpClient
from support.gateway_running import LOOPBACK, Record, count, mllp_port, published, running
from support.gateway_samples import (
    A01_V23,
    A03_V24,
    A08_V251,
    A16,
    A16_V28,
    QUESTIONNAIRE_BUNDLE,
    QUESTIONNAIRE_CASE,
    V24_CASE,
    V28_CASE,
    fhir_resource,
    hl7_message,
)
from support.identity import Identity
from support.kafka import publish
from support.waiting import eventually

pytestmark = pytest.mark.integration


def token(role: str, **claims: str) -> dict[str, str]:
    return Identity(os.environ["OIDC_ISSUER"]).headers(role, **claims)


def events(records: list[Record]) -> list[Envelope]:
    ordered = sorted(records, key=lambda r: (r.partition, r.offset))
    return [decode(r.value, r.headers) for r in ordered]


def accepted(ack: Ack, *words: str) -> None:
    assert ack.code == "AA", ack
    for word in words:
        assert word in ack.reason, ack


async def test_feeds_of_2_3_2_4_2_5_1_and_2_8_are_accepted_and_become_the_right_events(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, topics: Topics
) -> None:
    async with (
        running(kafka_settings, database_settings) as rt,
        MllpClient(LOOPBACK, mllp_port(rt)) as client,
    ):
        # 2.8: truncation character, SFT/ARV/ROL, the ward's assessment in OBX, a Z-segment.
        v28 = await client.send(hl7_message(A16_V28, end="\n"))
        accepted(v28, "DischargeAnnounced", V28_CASE)
        assert (v28.version, v28.control_id) == ("2.8", "SIO-20261201-004410")
        # 2.5.1 A08 for that open case: the new address, phone and caregiver.
        accepted(await client.send(hl7_message(A08_V251)), "PatientDetailsUpdated", V28_CASE)
        # 2.4 A03 with LF ends and no final one, a Z-segment, an ARV 2.4 does not define.
        v24 = await client.send(hl7_message(A03_V24, end="\n").rstrip("\n"))
        accepted(v24, "DischargeAnnounced", V24_CASE)
        assert (v24.version, v24.control_id) == ("2.4", "PR24-0098812")
        # 2.3 A01 without EVN, PV1-45 "": the patient of the 2.4 case is back in hospital.
        v23 = await client.send(hl7_message(A01_V23))
        accepted(v23, "PatientReadmitted", V24_CASE)
        assert (v23.version, v23.message_type) == ("2.3", "ACK^A01^ACK")
        # The ACK swaps the parties: the gateway is MSH-3/4, the sender MSH-5/6.
        assert v23.parties == ("CERNIERA", "CERNIERA", "ADT_LEGACY", "ASST_VIMERCATE")
        records = await published(rt, kafka_settings, topics)

    by_case: dict[str | None, list[Envelope]] = {}
    for event in events(records):
        by_case.setdefault(event.subject, []).append(event)
    announced, updated = by_case[V28_CASE]
    assert isinstance(announced.data, DischargeAnnounced)
    assert announced.data.assessment == Assessment(
        answers={
            "R1": "no",
            "R2": "yes",
            "R3": "yes",
            "R4": "partial",
            "R5": "yes",
            "R9": "partial",
        },
        brass_score=21,
        consent=True,
        notes="La figlia lavora a Milano fino alle 18.\nScale senza ascensore & bagno da adattare.",
    )
    assert announced.data.patient.phone == "+39 039 6051234"
    assert updated.data == PatientDetailsUpdated(
        hospital_id="asst-vimercate",
        discharge_ref="V2026-002201",
        address="Via Torino 15, 20835 Muggiò (MB)",
        phone="039 2783311",
        caregiver=Caregiver(present=True, name="Paola Cerutti", phone="+39 333 4417702"),
    )
    assert updated.correlation_id == announced.id  # one case, one chain
    assert updated.source == "urn:dp:hospital:asst-vimercate"

    discharged, readmitted = by_case[V24_CASE]
    assert isinstance(discharged.data, DischargeAnnounced)
    assert discharged.data.expected_discharge_at == datetime(2026, 12, 3, 10, 30, tzinfo=ROME)
    assert discharged.data.patient.address == "Via Achille Grandi 22, 20834 Nova Milanese (MB)"
    assert discharged.data.assessment is None  # the hospital's own OBX are not ours
    assert isinstance(readmitted.data, PatientReadmitted)
    assert readmitted.data.readmitted_at == datetime(2026, 12, 10, 6, 55, tzinfo=ROME)
    assert set(by_case) == {V28_CASE, V24_CASE}


async def test_an_a08_for_no_open_case_and_an_unparsable_message_change_nothing(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, topics: Topics
) -> None:
    async with (
        running(kafka_settings, database_settings) as rt,
        MllpClient(LOOPBACK, mllp_port(rt)) as client,
    ):
        accepted(await client.send(hl7_message(A08_V251)), "not an open case")
        broken = await client.send(hl7_message(A16, {"\nPV1|": "\nP V1|"}, end="\n"))
        assert (broken.code, broken.control_id) == ("AR", "SIO-20261123-000871")
        assert broken.error_code == "100^Segment sequence error^HL70357"
        assert broken.parties == ("CERNIERA", "COT_DESIO", "SIO_ADT", "ASST_VIMERCATE")
        # A 2.3 sender's unparsable message: the AR in 2.3, its control id in MSA-2.
        legacy = await client.send(hl7_message(A01_V23, {"\nPV1|": "\npv1|"}))
        assert (legacy.code, legacy.control_id, legacy.version) == ("AR", "Q884120017T00451", "2.3")
        assert legacy.error_code.endswith("100&Segment sequence error&HL70357")
        assert await count(rt, visits) == 0
        assert await published(rt, kafka_settings, topics) == []


async def test_a_fhir_questionnaire_response_is_the_announcement_s_assessment(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, topics: Topics
) -> None:
    headers = token("hospital", hospital_id="irccs-san-gerardo")
    async with (
        running(kafka_settings, database_settings) as rt,
        httpx.AsyncClient(base_url=rt.http_url or "", timeout=20, headers=headers) as http,
    ):
        response = await http.post("/fhir/Encounter", json=fhir_resource(QUESTIONNAIRE_BUNDLE))
        assert response.status_code == 202, response.text
        assert response.json()["case_id"] == QUESTIONNAIRE_CASE
        [record] = await published(rt, kafka_settings, topics)

    data = decode(record.value, record.headers).data
    assert isinstance(data, DischargeAnnounced)
    assert data.assessment is not None
    assert (data.assessment.brass_score, data.assessment.consent) == (17, True)
    assert data.assessment.answers["R4"] == "partial"
    assert len(data.assessment.answers) == 9


async def test_a_postponement_becomes_a_task_only_its_hospital_reads(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, topics: Topics
) -> None:
    request = DischargePostponementRequested(
        case_id=V28_CASE,
        hospital_id="asst-vimercate",
        discharge_ref="V2026-002201",
        postpone_until=date(2026, 12, 9),
        waiting_for=[ServiceType.MEALS],
        requested_by="op-lbianchi",
        requested_at=datetime(2026, 12, 2, 11, 0, tzinfo=ROME),
    )
    event = Envelope(data=request, source="urn:dp:service:activation", subject=V28_CASE)
    vimercate = token("hospital", hospital_id="asst-vimercate")
    async with (
        running(kafka_settings, database_settings) as rt,
        httpx.AsyncClient(base_url=rt.http_url or "", timeout=20) as http,
    ):
        await publish(kafka_settings, topics.activation_services, event)
        await publish(kafka_settings, topics.activation_services, event)  # delivered twice

        async def stored() -> int:
            return await count(rt, tasks)

        await eventually(stored, lambda n: n == 1, what="the Task stored")

        mine = await http.get("/fhir/Task", headers=vimercate)
        assert mine.status_code == 200, mine.text
        assert mine.headers["content-type"].startswith("application/fhir+json")
        bundle = mine.json()
        assert (bundle["resourceType"], bundle["type"], bundle["total"]) == (
            "Bundle",
            "searchset",
            1,
        )
        task = bundle["entry"][0]["resource"]
        assert task["id"] == event.id
        assert (task["status"], task["code"]["coding"][0]["code"]) == (
            "requested",
            "postpone-discharge",
        )
        assert task["encounter"]["identifier"]["value"] == "V2026-002201"
        assert task["restriction"]["period"]["start"] == "2026-12-09"
        assert "pasti a domicilio" in task["description"]

        other = await http.get(
            "/fhir/Task", headers=token("hospital", hospital_id="irccs-san-gerardo")
        )
        assert (other.status_code, other.json()["total"]) == (200, 0)
        team = await http.get("/fhir/Task", headers=token("equipe", ambito_id="desio"))
        assert team.status_code == 403
        anonymous = await http.get("/fhir/Task")
        assert anonymous.status_code == 401
        no_hospital = await http.get("/fhir/Task", headers=token("hospital"))
        assert no_hospital.status_code == 403
        # Nothing was published for it: the Task waits to be fetched.
        assert await published(rt, kafka_settings, topics) == []
