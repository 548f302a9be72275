"""Intake's HTTP API for the district team, end to end: real HTTP on loopback, real broker, real
PostgreSQL, the service's own runtime; nothing mocked.

What an outside system sees is checked on ``intake.cases`` (the decision events, their
``decided_by``, reasons and correlation id); what the team sees, through the API itself. Each
request carries a token of the embedded identity provider: the operator it names is the one
recorded (who may do what is in ``tests/security/test_equipe_apis.py``).
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from cerniera.intake.config import load_config
from cerniera.intake.service import runtime
from cerniera.shared.clock import Clock
from cerniera.shared.contract import (
    EligibilityConfirmed,
    EligibilityRejected,
    Intensity,
    Topics,
)
from cerniera.shared.envelope import Envelope, decode
from cerniera.shared.runtime import ServiceRuntime
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.discharges import (
    EXPECTED_DISCHARGE,
    ROME,
    announced,
    assessment,
    cancelled,
    from_hospital,
    not_met_answers,
)
from support.districts import EXAMPLE
from support.identity import Identity
from support.kafka import publish, read_topic
from support.services import LOOPBACK, healthy, serving
from support.waiting import eventually, read_quiet

pytestmark = pytest.mark.integration

OPERATOR = "op-lbianchi"

# Desio's checklist, all answered: met with nothing to spare, and not met (no "yes" in R1/R2).
MET = {f"R{i}": a for i, a in enumerate(["yes", "no", "yes", "partial", "yes", "partial"], 1)}
MET |= {"R7": "no", "R8": "no", "R9": "no"}
NOT_MET = {**{f"R{i}": "yes" for i in range(3, 10)}, "R1": "no", "R2": "no"}
# 82 years (3), alone with family support (2), five dependencies (5), oriented, appropriate,
# with aids (1), vision or hearing (1), two admissions (2), four problems (1), seven drugs (2).
BRASS_ITEMS: dict[str, Any] = {
    "age": 82,
    "living_situation": "alone_with_family_support",
    "dependencies": ["bathing_dressing", "toileting", "meal_preparation", "shopping", "transport"],
    "cognition": "oriented",
    "behaviours": [],
    "mobility": "walks_with_aids",
    "sensory_deficits": "vision_or_hearing",
    "previous_admissions": 2,
    "active_problems": 4,
    "drugs": 7,
}
BRASS_SCORE = 17  # medium


def operator(identity: Identity, username: str = OPERATOR) -> dict[str, str]:
    """The headers of a request by ``username``, of Desio's équipe."""
    return identity.headers("equipe", ambito_id="desio", username=username)


def team_api(
    kafka: KafkaSettings, database: DatabaseSettings, clock: Clock | None = None
) -> contextlib.AbstractAsyncContextManager[tuple[ServiceRuntime, httpx.AsyncClient]]:
    """Intake on the example districts, its API on a free loopback port, and a client."""
    return serving(runtime(kafka, database, load_config(EXAMPLE), service=LOOPBACK, clock=clock))


async def case_arrived(client: httpx.AsyncClient, case_id: str) -> dict[str, Any]:
    """The case as the team sees it, once the consumer has stored the announcement."""

    async def probe() -> httpx.Response:
        return await client.get(f"/cases/{case_id}")

    response = await eventually(probe, lambda r: r.status_code == 200, what=f"case {case_id}")
    body: dict[str, Any] = response.json()
    return body


DECISIONS = (EligibilityConfirmed.event_type, EligibilityRejected.event_type)


async def decisions_for(
    kafka: KafkaSettings, topics: Topics, case_id: str, count: int
) -> list[Envelope]:
    """The case's decisions on intake.cases (not its network tasks), once ``count`` are
    there and the topic is quiet."""

    def of_case(records: list[Any]) -> list[Envelope]:
        decoded = [decode(r.value, r.headers) for r in records]
        return [e for e in decoded if e.subject == case_id and e.type in DECISIONS]

    await read_topic(
        kafka, topics.intake_cases, until=lambda rs: len(of_case(rs)) >= count, timeout=20
    )
    found = of_case(await read_quiet(kafka, topics.intake_cases, quiet=0.5))
    assert len(found) == count, [(e.type, e.data) for e in found]
    return found


def codes(data: EligibilityConfirmed | EligibilityRejected) -> list[str]:
    return [r.code for r in data.reasons]


# --- the waiting list, the rule's decision and a correction ------------------------------------


async def test_a_waiting_case_is_assessed_decided_by_the_rule_and_corrected(
    kafka_settings: KafkaSettings,
    topics: Topics,
    database_settings: DatabaseSettings,
    identity: Identity,
) -> None:
    # One simulated day per real second: the waiting list counts days in the service's time.
    clock = Clock(speed=86_400, epoch=datetime(2024, 9, 30, 8, 0, tzinfo=UTC))
    # A discharge_ref with "/" in it: the case id travels in the path as it is.
    waiting = from_hospital(announced(discharge_ref="W/2024/1"), correlation_id="ward-flow-7")
    decided = from_hospital(announced(discharge_ref="W-DECIDED", assessment=assessment()))
    case_id = "asst-vimercate:W/2024/1"

    async with team_api(kafka_settings, database_settings, clock) as (_, client):
        await publish(kafka_settings, topics.hospital_discharges, waiting, decided)
        case = await case_arrived(client, case_id)
        assert case["status"] == "awaiting_assessment"
        assert (case["assessment"], case["decision"]) == (None, None)
        assert case["patient"]["fiscal_code"] == "RSSMRA85T10A562S"  # the team sees the person
        assert case["correlation_id"] == "ward-flow-7"
        await case_arrived(client, "asst-vimercate:W-DECIDED")

        async def waiting_list() -> dict[str, Any]:
            response = await client.get("/cases", params={"status": "awaiting_assessment"})
            assert response.status_code == 200
            body: dict[str, Any] = response.json()
            return body

        listed = await eventually(
            waiting_list,
            lambda b: bool(b["items"]) and b["items"][0]["days_waiting"] >= 1,
            what="a day of waiting",
        )
        assert listed["total"] == 1  # the decided case is not waiting
        [entry] = listed["items"]
        assert entry["case_id"] == case_id
        assert entry["hospital_id"] == "asst-vimercate"
        assert entry["ward"] == "medicina-generale"
        assert entry["ambito_id"] == "desio"
        assert datetime.fromisoformat(entry["expected_discharge_at"]) == EXPECTED_DISCHARGE

        # The person's consent, collected by the team (none came from the ward): without it
        # the rule's decision would wait.
        consent = await client.put(
            f"/cases/{case_id}/consent", json={"given_by": "person"}, headers=operator(identity)
        )
        assert consent.status_code == 200, consent.text
        assert (consent.json()["status"], consent.json()["published"]) == (
            "awaiting_assessment",
            None,
        )

        # The team's assessment: the rule decides, from the BRASS items.
        first = await client.put(
            f"/cases/{case_id}/assessment",
            json={"answers": MET, "brass_items": BRASS_ITEMS},
            headers=operator(identity),
        )
        assert first.status_code == 200, first.text
        result = first.json()
        assert (result["outcome"], result["status"]) == ("decided", "eligible")
        assert result["assessment"]["version"] == 1
        assert result["assessment"]["brass_score"] == BRASS_SCORE
        assert result["assessment"]["brass"]["band"] == "medium"
        assert [(d["item"], d["points"]) for d in result["assessment"]["brass"]["drivers"]] == [
            ("dependencies", 5),
            ("age", 3),
            ("living_situation", 2),
        ]
        assert result["decision"]["decided_by"] == "rule"
        assert result["published"]["event_type"] == "EligibilityConfirmed"

        # The same again: no new version, no event.
        again = await client.put(
            f"/cases/{case_id}/assessment",
            json={"answers": MET, "brass_items": BRASS_ITEMS},
            headers=operator(identity, "op-other"),
        )
        assert again.status_code == 200
        assert (again.json()["outcome"], again.json()["published"]) == ("unchanged", None)
        assert again.json()["assessment"]["version"] == 1

        # A correction that flips the outcome, then one that does not.
        corrected = await client.put(
            f"/cases/{case_id}/assessment",
            json={"answers": NOT_MET, "brass_score": 25},
            headers=operator(identity, "op-mverdi"),
        )
        assert corrected.status_code == 200, corrected.text
        assert corrected.json()["outcome"] == "corrected"
        assert corrected.json()["status"] == "not_eligible"
        assert corrected.json()["published"]["event_type"] == "EligibilityRejected"
        same_outcome = await client.put(
            f"/cases/{case_id}/assessment",
            json={"answers": NOT_MET, "notes": "Figlia a Milano."},
            headers=operator(identity, "op-mverdi"),
        )
        assert same_outcome.json()["outcome"] == "unchanged"
        assert same_outcome.json()["assessment"]["version"] == 3

        decisions = await decisions_for(kafka_settings, topics, case_id, count=2)
        case = (await client.get(f"/cases/{case_id}")).json()

    confirmed, rejected = (e.data for e in decisions)
    assert isinstance(confirmed, EligibilityConfirmed)
    assert confirmed.decided_by == "rule"
    assert confirmed.intensity is Intensity.MEDIUM
    assert codes(confirmed) == ["phase2.primary_met", "phase2.others_met", "intensity.brass"]
    assert "determinata da stato funzionale (ADL/IADL) 5, età 3" in confirmed.reasons[-1].text
    assert isinstance(rejected, EligibilityRejected)
    assert codes(rejected) == [
        "assessment.corrected",
        "phase2.primary_not_met",
        "phase2.others_met",
    ]
    assert "versione 2 di op-mverdi" in rejected.reasons[0].text
    # Both stay in the case's chain, though no event caused them.
    assert [e.correlation_id for e in decisions] == ["ward-flow-7", "ward-flow-7"]
    assert [e.causation_id for e in decisions] == [None, None]
    assert [e.id for e in decisions] == [
        result["published"]["event_id"],
        corrected.json()["published"]["event_id"],
    ]

    assert case["status"] == "not_eligible"
    assert [(a["version"], a["source"]) for a in case["assessment_history"]] == [
        (1, "team"),
        (2, "team"),
        (3, "team"),
    ]
    assert [a["assessed_by"] for a in case["assessment_history"]] == [
        OPERATOR,
        "op-mverdi",
        "op-mverdi",
    ]
    assert case["assessment"]["notes"] == "Figlia a Milano."
    assert case["decision"]["outcome"] == "not_eligible"
    assert case["decision"]["reasons"][0]["code"] == "assessment.corrected"


# --- the team's override, and what it records ---------------------------------------------------


async def test_the_teams_override_is_published_with_who_and_why(
    kafka_settings: KafkaSettings,
    topics: Topics,
    database_settings: DatabaseSettings,
    identity: Identity,
) -> None:
    # The ward's assessment: no "yes" for R1/R2, so the rule rejects on arrival.
    event = from_hospital(
        announced(discharge_ref="O-1", assessment=assessment(not_met_answers(), brass_score=8))
    )
    case_id = "asst-vimercate:O-1"
    reason = "Caregiver ricoverato: la rete familiare è di fatto assente."

    async with team_api(kafka_settings, database_settings) as (_, client):
        await publish(kafka_settings, topics.hospital_discharges, event)
        await decisions_for(kafka_settings, topics, case_id, count=1)

        response = await client.post(
            f"/cases/{case_id}/override",
            json={"decision": "eligible", "intensity": "high", "reason": reason},
            headers=operator(identity),
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["status"] == "eligible"
        assert body["override"]["seq"] == 1
        assert body["override"]["rule"]["outcome"] == "not_eligible"
        assert body["override"]["published_event_id"] == body["published"]["event_id"]

        # The same decision again: recorded, not published.
        same = await client.post(
            f"/cases/{case_id}/override",
            json={
                "decision": "eligible",
                "intensity": "high",
                "reason": "Confermato in riunione d'équipe.",
            },
            headers=operator(identity, "op-mverdi"),
        )
        assert same.status_code == 201
        assert (same.json()["override"]["seq"], same.json()["published"]) == (2, None)

        # Corrected answers no longer move an overridden decision.
        held = await client.put(
            f"/cases/{case_id}/assessment",
            json={"answers": {**MET, "R1": "no"}, "brass_score": 3},
            headers=operator(identity),
        )
        assert held.json()["outcome"] == "held_by_override"
        assert held.json()["rule"]["outcome"] == "not_eligible"
        assert held.json()["published"] is None

        # Taking charge: stored with its versions, never published.
        taking_charge: dict[str, Any] = {
            "pai": {
                "objectives": ["Rientro a domicilio in sicurezza"],
                "areas_to_investigate": ["Idoneità del bagno"],
                "post_discharge_plan": "Prima visita SAD il giorno della dimissione.",
            },
            "information": {
                "reference_person": {"name": "Lucia Rossi", "role": "figlia"},
                "home": "Secondo piano senza ascensore.",
                "consent": True,
            },
        }
        url = f"/cases/{case_id}/taking-charge"
        as_operator = operator(identity)
        first = await client.put(url, json=taking_charge, headers=as_operator)
        repeated = await client.put(url, json=taking_charge, headers=as_operator)
        taking_charge["pai"]["areas_to_investigate"] = []
        changed = await client.put(url, json=taking_charge, headers=operator(identity, "op-mverdi"))
        assert [r.status_code for r in (first, repeated, changed)] == [200, 200, 200]
        assert [r.json()["version"] for r in (first, repeated, changed)] == [1, 1, 2]

        decisions = await decisions_for(kafka_settings, topics, case_id, count=2)
        case = (await client.get(f"/cases/{case_id}")).json()

    by_rule, by_team = decisions
    assert isinstance(by_rule.data, EligibilityRejected)
    overridden = by_team.data
    assert isinstance(overridden, EligibilityConfirmed)
    assert overridden.decided_by == OPERATOR
    assert overridden.intensity is Intensity.HIGH
    assert overridden.ambito_id == "desio"
    assert codes(overridden)[:3] == ["override.team", "intensity.team", "override.rule_decision"]
    assert reason not in overridden.reasons[0].text  # the reason stays in intake
    assert "rule.phase2.primary_not_met" in codes(overridden)
    assert by_team.correlation_id == by_rule.correlation_id == event.id

    assert case["status"] == "eligible"
    assert case["override_in_force"] is True
    assert case["decision"]["decided_by"] == OPERATOR
    assert [(o["decided_by"], o["published_event_id"]) for o in case["overrides"]] == [
        (OPERATOR, by_team.id),
        ("op-mverdi", None),
    ]
    assert case["overrides"][1]["reason"] == "Confermato in riunione d'équipe."
    assert [a["source"] for a in case["assessment_history"]] == ["hospital", "team"]
    assert case["assessment_history"][0]["brass_band"] == "low"
    assert case["taking_charge"]["version"] == 2
    assert [v["recorded_by"] for v in case["taking_charge_history"]] == [OPERATOR, "op-mverdi"]
    assert case["taking_charge"]["pai"]["areas_to_investigate"] == []
    assert case["taking_charge"]["information"]["reference_person"]["role"] == "figlia"
    assert len(case["taking_charge_history"]) == 2


# --- what the API refuses, and the BRASS calculator ----------------------------------------------


async def test_errors_and_the_brass_calculator(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    open_case = from_hospital(announced(discharge_ref="E-OPEN"))
    gone = from_hospital(announced(discharge_ref="E-GONE"))
    outside = from_hospital(
        announced(discharge_ref="E-OUT", municipality_code=ROME, assessment=assessment())
    )
    assess = {"answers": MET}
    override = {"decision": "eligible", "intensity": "low", "reason": "x"}
    charge = {"pai": {"objectives": ["x"]}, "information": {}}

    async with team_api(kafka_settings, database_settings) as (_, client):
        await publish(
            kafka_settings,
            topics.hospital_discharges,
            open_case,
            gone,
            outside,
            from_hospital(cancelled("E-GONE")),
        )
        await case_arrived(client, "asst-vimercate:E-OPEN")
        await eventually(
            lambda: client.get("/cases/asst-vimercate:E-OUT"),
            lambda r: r.status_code != 404,
            what="the case outside every district",
        )

        async def gone_status() -> Any:
            return (await case_arrived(client, "asst-vimercate:E-GONE"))["status"]

        await eventually(gone_status, lambda s: s == "cancelled", what="the cancellation")

        # 404: no such case, whatever the request.
        unknown = "asst-vimercate:NOPE"
        not_found = [
            await client.get(f"/cases/{unknown}"),
            await client.put(f"/cases/{unknown}/assessment", json=assess),
            await client.post(f"/cases/{unknown}/override", json=override),
            await client.put(f"/cases/{unknown}/taking-charge", json=charge),
        ]
        assert [r.status_code for r in not_found] == [404] * 4
        assert {r.json()["detail"]["code"] for r in not_found} == {"case.unknown"}

        # 409: a cancelled discharge.
        refused = [
            await client.put("/cases/asst-vimercate:E-GONE/assessment", json=assess),
            await client.post("/cases/asst-vimercate:E-GONE/override", json=override),
            await client.put("/cases/asst-vimercate:E-GONE/taking-charge", json=charge),
        ]
        assert [r.status_code for r in refused] == [409] * 3
        assert {r.json()["detail"]["code"] for r in refused} == {"case.cancelled"}
        # 403: a residence outside every district is no district's case, not even to read.
        no_district = [
            await client.get("/cases/asst-vimercate:E-OUT"),
            await client.put("/cases/asst-vimercate:E-OUT/assessment", json=assess),
            await client.post("/cases/asst-vimercate:E-OUT/override", json=override),
        ]
        assert [r.status_code for r in no_district] == [403] * 3
        assert {r.json()["detail"]["code"] for r in no_district} == {"access.district"}

        # 422: answers outside the district's checklist, bad values, incomplete requests.
        url = "/cases/asst-vimercate:E-OPEN"
        unknown_requirement = await client.put(
            f"{url}/assessment", json={**assess, "answers": {**MET, "R12": "yes"}}
        )
        assert unknown_requirement.status_code == 422
        assert unknown_requirement.json()["detail"]["code"] == "assessment.unknown_requirements"
        assert "R12" in unknown_requirement.json()["detail"]["message"]
        invalid = [
            await client.put(f"{url}/assessment", json={**assess, "answers": {"R1": "maybe"}}),
            await client.put(f"{url}/assessment", json={**assess, "answers": {"X1": "yes"}}),
            await client.put(f"{url}/assessment", json={**assess, "assessed_by": OPERATOR}),
            await client.put(f"{url}/assessment", json={**assess, "brass_score": 41}),
            await client.put(
                f"{url}/assessment",
                json={**assess, "brass_items": BRASS_ITEMS, "brass_score": BRASS_SCORE + 1},
            ),
            await client.put(
                f"{url}/assessment",
                json={**assess, "brass_items": {**BRASS_ITEMS, "mobility": "flies"}},
            ),
            await client.post(f"{url}/override", json={**override, "intensity": None}),
            await client.post(
                f"{url}/override", json={**override, "decision": "not_eligible"}
            ),  # with an intensity
            await client.post(f"{url}/override", json={**override, "reason": ""}),
            await client.put(f"{url}/taking-charge", json={**charge, "pai": {"objectives": []}}),
            # The actor is the token's: a body naming one is refused, whoever it names.
            await client.post(f"{url}/override", json={**override, "decided_by": OPERATOR}),
            await client.put(f"{url}/taking-charge", json={**charge, "recorded_by": OPERATOR}),
        ]
        assert [r.status_code for r in invalid] == [422] * len(invalid), [r.text for r in invalid]
        still = (await client.get(url)).json()
        assert (still["status"], still["assessment_history"]) == ("awaiting_assessment", [])

        # The BRASS calculator.
        calculated = await client.post("/brass", json=BRASS_ITEMS)
        assert calculated.status_code == 200
        brass = calculated.json()
        assert (brass["score"], brass["max_score"], brass["band"]) == (BRASS_SCORE, 40, "medium")
        assert len(brass["items"]) == 10
        assert [d["item"] for d in brass["drivers"]] == ["dependencies", "age", "living_situation"]
        stricter = await client.post("/brass", params={"ambito_id": "desio"}, json=BRASS_ITEMS)
        assert stricter.json()["band"] == "medium"
        nowhere = await client.post("/brass", params={"ambito_id": "nowhere"}, json=BRASS_ITEMS)
        assert nowhere.status_code == 404
        assert (await client.post("/brass", json={"age": 70})).status_code == 422

        # The documentation the team's screen is built from, and the operational routes.
        docs = await client.get("/docs")
        schema = (await client.get("/openapi.json")).json()
        health = await client.get("/health")
        metrics = await client.get("/metrics")

        # Nothing refused was published: only the outside-district rejection on arrival.
        decided = await read_quiet(kafka_settings, topics.intake_cases, quiet=0.5)

    assert docs.status_code == 200
    assert (health.status_code, health.json()) == (200, healthy("intake"))
    assert metrics.status_code == 200
    assert {
        "/cases",
        "/cases/{case_id}",
        "/cases/{case_id}/assessment",
        "/cases/{case_id}/override",
        "/cases/{case_id}/taking-charge",
        "/brass",
    } <= set(schema["paths"])
    components = schema["components"]["schemas"]
    for request, actor in (
        ("AssessmentRequest", "assessed_by"),
        ("OverrideRequest", "decided_by"),
        ("TakingChargeRequest", "recorded_by"),
    ):
        assert actor not in components[request]["properties"]
        assert "bearer of the access token" in " ".join(components[request]["description"].split())
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation["x-roles"], (method, path)
            assert {"401", "403"} <= set(operation["responses"]), (method, path)
    assert schema["paths"]["/cases/{case_id}/override"]["post"]["x-roles"] == ["equipe"]
    assert "description" in components["BrassItems"]["properties"]["living_situation"]
    assert "description" in components["AssessmentRequest"]["properties"]["answers"]
    assert [decode(r.value, r.headers).subject for r in decided] == ["asst-vimercate:E-OUT"]
