"""One protected discharge through the whole system, on the real broker and database.

Intake, activation, monitoring and billing run side by side (each with its own schema, group
and outbox), with the reference provider adapter answering and delivering, and time running
at one simulated day per real second: the ward announces, the rule decides, every service is
requested and activated before discharge, the team records the weekly checks over HTTP, the
case closes after 30 days, providers are told to stop, and billing has paid the deliveries.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from datetime import datetime, time, timedelta
from typing import Any

import httpx
import pytest

from cerniera.activation.service import runtime as activation
from cerniera.billing.service import runtime as billing
from cerniera.intake.service import runtime as intake
from cerniera.monitoring.service import runtime as monitoring
from cerniera.provider_adapter.adapter import ProviderAdapter
from cerniera.provider_adapter.policy import SimulatedPolicy
from cerniera.shared.clock import ROME, Clock
from cerniera.shared.contract import Topics
from cerniera.shared.envelope import Envelope, decode
from cerniera.shared.runtime import ServiceRuntime
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.discharges import announced, assessment, from_hospital
from support.districts import DESIO_PROVIDERS
from support.identity import Identity
from support.kafka import publish
from support.services import LOOPBACK
from support.waiting import eventually, read_quiet

pytestmark = pytest.mark.integration

EPOCH = datetime(2026, 11, 2, 8, 0, tzinfo=ROME)  # a Monday
CASE = "asst-vimercate:E2E-0001"
PROVIDERS = list(DESIO_PROVIDERS)  # all answering


async def test_a_case_from_announcement_to_closure(
    kafka_settings: KafkaSettings,
    topics: Topics,
    database_settings: DatabaseSettings,
    identity: Identity,
) -> None:
    clock = Clock(speed=86_400, epoch=EPOCH)  # one simulated day per second
    runtimes: list[ServiceRuntime] = [
        make(kafka_settings, database_settings, clock=clock, service=LOOPBACK)
        for make in (intake, activation, monitoring, billing)
    ]
    adapter = ProviderAdapter(
        PROVIDERS,
        SimulatedPolicy(answer_delay=timedelta(hours=2)),
        kafka=kafka_settings,
        clock=clock,
    )
    async with contextlib.AsyncExitStack() as stack:
        await asyncio.gather(*(stack.enter_async_context(rt.running()) for rt in runtimes))
        await stack.enter_async_context(adapter.running())
        _, _, follow_up, pay = runtimes
        # Nine days ahead of the (simulated) moment of the announcement: every lead time fits,
        # whatever day of the week start-up ended on.
        discharge_day = clock.today() + timedelta(days=9)
        discharge = datetime.combine(discharge_day, time(11, 0), ROME)
        announcement = from_hospital(
            announced(
                discharge_ref="E2E-0001",
                expected_discharge_at=discharge,
                assessment=assessment(brass_score=15),
            )
        )
        await publish(kafka_settings, topics.hospital_discharges, announcement)

        # Desio's équipe follows the case; its administration reads the budget.
        equipe = identity.headers("equipe", ambito_id="desio", username="as-rossi")
        admin = identity.headers("district_admin", ambito_id="desio")
        async with httpx.AsyncClient(timeout=5, headers=equipe) as client:
            await team_records_every_check(client, str(follow_up.http_url), clock)
            closed = await eventually(
                lambda: case_view(client, f"{follow_up.http_url}/cases/{CASE}"),
                lambda view: view["status"] == "closed",
                timeout=40,
                what="the case closed after 30 days",
            )
            events = await events_of_case(kafka_settings, topics)
            budget = (
                await client.get(f"{pay.http_url}/budget?ambito_id=desio", headers=admin)
            ).json()

    kinds = Counter(event.type for event in events)
    story = [(e.type, e.time.isoformat(), e.subject) for e in events]
    # Hospital → intake → activation ↔ providers → monitoring → billing, in that order.
    assert kinds["EligibilityConfirmed"] == 1
    assert kinds["ServiceActivationRequested"] == 3, story
    assert kinds["ServiceActivationAccepted"] == 3
    assert kinds["ServiceActivated"] == 3
    assert kinds["WeeklyCheckDone"] == 4
    assert kinds["CaseClosed"] == 1
    # Every provider told to stop at closure: on activation.services, and a copy on its own
    # request topic (the only one it reads).
    assert kinds["ServiceDeactivated"] == 3 * 2
    assert kinds["HoursDelivered"] > 30
    activated = [e.data for e in events if e.type == "ServiceActivated"]
    assert all(a.active_from <= discharge_day for a in activated)  # type: ignore[attr-defined]
    (closure,) = [e.data for e in events if e.type == "CaseClosed"]
    assert closure.outcome == "completed"  # type: ignore[attr-defined]
    assert closed["outcome"] == "completed"
    assert {c["checked_by"] for c in closed["checks"]} == {"as-rossi"}  # the token's user
    # One correlation id from the ward's announcement (which started it: the ward set none)
    # to the last delivery.
    assert {e.correlation_id or e.id for e in events} == {announcement.id}
    # Billing paid what the providers delivered, from the district's PNRR budget.
    (desio,) = budget
    assert desio["beneficiaries"] == 1
    assert float(desio["spent"]) > 0


async def team_records_every_check(client: httpx.AsyncClient, url: str, clock: Clock) -> None:
    """The équipe: each weekly check as it falls due; close at the last one."""
    recorded: set[int] = set()
    deadline = asyncio.get_running_loop().time() + 45
    while len(recorded) < 4 and asyncio.get_running_loop().time() < deadline:
        due = (await client.get(f"{url}/checks/due")).json()
        for item in due if isinstance(due, list) else due.get("checks", due.get("items", [])):
            if item["case_id"] != CASE or item["week"] in recorded:
                continue
            response = await client.post(
                f"{url}/cases/{CASE}/checks",
                json={
                    "week": item["week"],
                    "outcome": "stable",
                    "recommendation": "close" if item["week"] == 4 else "continue",
                },
            )
            assert response.status_code == 201, response.text
            recorded.add(item["week"])
        await asyncio.sleep(0.2)
    assert recorded == {1, 2, 3, 4}, f"checks recorded by {clock.now()}: {recorded}"


async def case_view(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    response = await client.get(url)
    return response.json() if response.status_code == 200 else {"status": "unknown"}


async def events_of_case(kafka: KafkaSettings, topics: Topics) -> list[Envelope]:
    """Every event about the case, once deliveries have stopped: on every topic, the
    providers' own included, each event once (a deactivation is copied to its provider)."""
    found: dict[str, Envelope] = {}
    for topic in topics.all(PROVIDERS):
        records = await read_quiet(kafka, topic, quiet=0.5)
        for event in (decode(r.value, r.headers) for r in records):
            if event.subject == CASE:
                found.setdefault(event.id, event)
    return list(found.values())
