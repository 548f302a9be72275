"""The desk's read model on the real broker and PostgreSQL: what intake, activation and the
providers (the reference adapter) publish about real cases, with the hospital's, monitoring's
and billing's events, folded into the desk's tables; thrown away and rebuilt from the topics
(``cerniera-desk rebuild``) into the very same tables and pages; every change told, once
committed, to whoever listens (``NOTIFY desk_changes``), again after PostgreSQL dropped the
listener; and the projection's writes as the pages read them.

(Not tested here: that the rebuild refuses while a desk runs. On the dev broker the join it
makes then leaves the shared "desk" group wedged for the tests after it.)
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from cerniera.desk import queries
from cerniera.desk.casefile import RequestStatus, ServiceStatus, Stage
from cerniera.desk.fold import residence_districts
from cerniera.desk.live import CHANNEL, Change, Changes, listen_url, parse
from cerniera.desk.projection import make_handlers
from cerniera.desk.rebuild import rebuild
from cerniera.desk.service import MIGRATIONS, every_topic
from cerniera.desk.tables import SCHEMA, cases, ledger, outbox, requests, timeline
from cerniera.provider_adapter.adapter import ProviderAdapter
from cerniera.provider_adapter.policy import SimulatedPolicy
from cerniera.shared.ambiti import load_document
from cerniera.shared.clock import Clock
from cerniera.shared.contract import (
    CheckOutcome,
    EventData,
    HoursDelivered,
    ProviderStatementIssued,
    ServiceActivationAccepted,
    ServiceActivationRequested,
    ServiceDeactivated,
    ServiceType,
    Topics,
    WeeklyCheckDone,
)
from cerniera.shared.contract.events import Beneficiary
from cerniera.shared.contract.provenance import allowed_source
from cerniera.shared.envelope import Envelope
from cerniera.shared.messaging.consumer import runs
from cerniera.shared.persistence.db import make_engine
from cerniera.shared.persistence.migrations import upgrade
from cerniera.shared.persistence.outbox import Database
from cerniera.shared.runtime import ServiceRuntime
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.desk_login import log_in, register
from support.discharges import (
    EXPECTED_DISCHARGE,
    MAGENTA,
    announced,
    assessment,
    cancelled,
    from_hospital,
    not_met_answers,
    person,
    rescheduled,
)
from support.districts import DESIO_PROVIDERS, EXAMPLE
from support.identity import Identity
from support.kafka import publish
from support.services import desk, service_runtime
from support.waiting import eventually, read_quiet

pytestmark = pytest.mark.integration

DISCHARGE = EXPECTED_DISCHARGE + timedelta(days=9)  # every provider's lead time fits
DECLINING = "coop-il-melograno"  # SAD goes to the district's next provider
OPERATOR = "as-anna-rebuild"


async def pages(rt: ServiceRuntime, issuer: str, paths: list[str]) -> dict[str, str]:
    """The HTML of the team's pages, as a logged-in member of Desio's team gets them."""
    assert rt.http_url is not None
    async with httpx.AsyncClient(base_url=rt.http_url, timeout=10) as client:
        register(issuer, OPERATOR, "Anna Sala", ["equipe"], ambito_id="desio")
        await log_in(client, OPERATOR, "/oggi")
        got = {path: await client.get(path) for path in paths}
    assert {p: r.status_code for p, r in got.items()} == dict.fromkeys(paths, 200)
    return {path: response.text for path, response in got.items()}


def case_of(ref: str) -> str:
    return f"asst-vimercate:{ref}"


def from_source(data: EventData, subject: str) -> Envelope:
    return Envelope(data=data, source=allowed_source(data), subject=subject)


@contextlib.asynccontextmanager
async def read_model(database: DatabaseSettings) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database.database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def snapshot(engine: AsyncEngine) -> dict[str, list[dict[str, Any]]]:
    """The whole read model, without what only says when the desk read it (arrival ``seq``,
    ``updated_at``)."""
    taken: dict[str, list[dict[str, Any]]] = {}
    async with engine.connect() as conn:
        for table, key in ((cases, "case_id"), (timeline, "event_id"), (requests, "request_id")):
            columns = [c for c in table.c if c.name not in ("seq", "updated_at")]
            rows = await conn.execute(select(*columns).order_by(table.c[key]))
            taken[table.name] = [dict(row._mapping) for row in rows]
        rows = await conn.execute(select(ledger).order_by(ledger.c.event_id))
        taken[ledger.name] = [dict(row._mapping) for row in rows]
    return taken


async def timeline_rows(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(timeline)) or 0)


async def view_of(engine: AsyncEngine, case_id: str) -> Any:
    async with engine.connect() as conn:
        return await queries.case_view(conn, case_id)


def all_running(view: Any) -> bool:
    return (
        view is not None
        and len(view.services) == 3
        and all(s.status == ServiceStatus.ACTIVE for s in view.services.values())
    )


async def committed_offsets(
    kafka: KafkaSettings, partitions: list[TopicPartition]
) -> dict[TopicPartition, int]:
    admin = AIOKafkaAdminClient(**kafka.client_params())
    await admin.start()
    try:
        found = await admin.list_consumer_group_offsets("desk", partitions=partitions)
    finally:
        await admin.close()
    return {tp: meta.offset for tp, meta in found.items()}


async def beginnings(kafka: KafkaSettings, topics: list[str]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(**kafka.client_params(), enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()  # fetches the metadata
        partitions = [
            TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()
        ]
        return dict(await consumer.beginning_offsets(partitions))
    finally:
        await consumer.stop()


async def test_a_rebuilt_read_model_is_the_one_the_desk_had_built(
    kafka_settings: KafkaSettings,
    topics: Topics,
    database_settings: DatabaseSettings,
    identity: Identity,
) -> None:
    confirmed, rejected_, withdrawn = case_of("RB-1"), case_of("RB-2"), case_of("RB-3")
    policies = {
        p: SimulatedPolicy(decline_share=1.0 if p == DECLINING else 0.0) for p in DESIO_PROVIDERS
    }
    adapter = ProviderAdapter(
        list(DESIO_PROVIDERS),
        policies,
        kafka=kafka_settings,
        clock=Clock(epoch=EXPECTED_DISCHARGE),
        tick_s=0.1,
    )
    services = [
        service_runtime(name, kafka_settings, database_settings)
        for name in ("intake", "activation")
    ]
    async with read_model(database_settings) as engine:
        async with desk(kafka_settings, database_settings).running() as first:
            async with contextlib.AsyncExitStack() as stack:
                await asyncio.gather(*(stack.enter_async_context(rt.running()) for rt in services))
                await stack.enter_async_context(adapter.running())
                await publish(
                    kafka_settings,
                    topics.hospital_discharges,
                    from_hospital(
                        announced(
                            discharge_ref="RB-1",
                            expected_discharge_at=DISCHARGE,
                            assessment=assessment(brass_score=15),
                            fiscal_code=person(1),
                        )
                    ),
                    from_hospital(
                        announced(
                            discharge_ref="RB-2",
                            expected_discharge_at=DISCHARGE,
                            assessment=assessment(not_met_answers()),
                            fiscal_code=person(2),
                        )
                    ),
                    from_hospital(announced(discharge_ref="RB-3", fiscal_code=person(3))),
                    from_hospital(rescheduled("RB-3", DISCHARGE + timedelta(days=1))),
                    from_hospital(cancelled("RB-3")),
                )
                running = await eventually(
                    lambda: view_of(engine, confirmed),
                    all_running,
                    timeout=60,
                    what="every service of the confirmed case running",
                )
                sad = running.services["sad"]
                assert sad.provider_id is not None
                assert sad.provider_id != DECLINING  # declined, and asked of the next one
            # The producers have stopped; monitoring, billing and the provider's report.
            await publish(
                kafka_settings,
                topics.provider_reports(sad.provider_id),
                from_source(
                    HoursDelivered(
                        case_id=confirmed,
                        provider_id=sad.provider_id,
                        service_type=sad.service_type,
                        delivered_on=sad.active_from or date(2024, 10, 12),
                        quantity=Decimal("1.5"),
                        delivery_ref=f"RB-{uuid.uuid4()}",
                    ),
                    confirmed,
                ),
            )
            await publish(
                kafka_settings,
                topics.monitoring_cases,
                from_source(
                    WeeklyCheckDone(
                        case_id=confirmed,
                        week=1,
                        checked_at=DISCHARGE + timedelta(days=7),
                        outcome=CheckOutcome.STABLE,
                    ),
                    confirmed,
                ),
            )
            await publish(
                kafka_settings,
                topics.billing_ledger,
                from_source(
                    ProviderStatementIssued(
                        provider_id=sad.provider_id,
                        ambito_id="desio",
                        period="2024-10",
                        total=Decimal("33.00"),
                        lines=1,
                        issued_at=DISCHARGE + timedelta(days=30),
                    ),
                    "desio",
                ),
            )
            read = every_topic(topics)
            published = len(await read_quiet(kafka_settings, read, quiet=1.5, timeout=60))
            await eventually(
                lambda: timeline_rows(engine),
                lambda rows: rows == published,
                timeout=60,
                what=f"the desk's timeline holding all {published} events",
            )
            built = await snapshot(engine)
            shown = [f"/casi/{case}" for case in (confirmed, rejected_, withdrawn)]
            shown += ["/oggi", "/arrivi"]
            seen = await pages(first, identity.issuer, shown)

        # What the desk built, told by the events of every topic.
        views = {row["case_id"]: row for row in built["cases"]}
        assert {c: (v["stage"], v["ambito_id"]) for c, v in views.items()} == {
            confirmed: ("confirmed", "desio"),
            rejected_: ("rejected", "desio"),
            withdrawn: ("cancelled", "desio"),
        }
        assert views[withdrawn]["discharge_at"] == DISCHARGE + timedelta(days=1)
        assert {r["status"] for r in built["requests"]} == {"declined", "active"}
        delivered = [r for r in built["requests"] if r["provider_id"] == sad.provider_id]
        assert [r["view"]["delivered"] for r in delivered] == [1.5]
        assert [row["event_type"] for row in built["ledger"]] == ["ProviderStatementIssued"]
        kinds = {row["event_type"] for row in built["timeline"]}
        assert {"DischargeAnnounced", "EligibilityConfirmed", "EligibilityRejected"} <= kinds
        assert {"ServiceActivationDeclined", "ServiceActivated", "WeeklyCheckDone"} <= kinds
        assert all(r["ambito_id"] == "desio" for r in built["timeline"])  # hospital's too

        said: list[str] = []
        report = await rebuild(kafka_settings, database_settings, say=said.append)

        assert report.emptied["timeline"] == published
        assert report.emptied["cases"] == 3
        assert report.emptied["inbox"] == published
        assert report.missing_topics == []
        assert sum(report.partitions.values()) == len(read) * kafka_settings.topic_partitions
        assert said[-1].startswith("desk rebuild:")
        assert await snapshot(engine) == {t: [] for t in built}
        starts = await beginnings(kafka_settings, read)
        assert await committed_offsets(kafka_settings, list(starts)) == starts

        async with desk(kafka_settings, database_settings).running() as second:
            rebuilt = await eventually(
                lambda: snapshot(engine),
                lambda taken: len(taken["timeline"]) == published and taken == built,
                timeout=90,
                what="the read model built again from the topics",
            )
            seen_again = await pages(second, identity.issuer, shown)
    assert rebuilt == built
    assert "Mario Rossi" in seen[f"/casi/{confirmed}"]
    for path in shown:  # the team sees what it saw
        assert seen_again[path] == seen[path], path


async def test_listeners_hear_of_each_change_once_it_is_committed(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    changes = Changes()
    first, second = case_of("LN-1"), case_of("LN-2")
    async with (
        read_model(database_settings) as engine,
        desk(kafka_settings, database_settings).running(),
    ):
        follow = asyncio.create_task(changes.follow(database_settings, ping_s=0.5))
        try:
            await asyncio.wait_for(changes.connected.wait(), 10)
            async with changes.listen() as heard:
                await publish(
                    kafka_settings,
                    topics.hospital_discharges,
                    from_hospital(announced(discharge_ref="LN-1", fiscal_code=person(11))),
                )
                change = await asyncio.wait_for(heard.get(), 30)
                # Told after the commit: whoever reads on hearing it finds the change.
                view = await view_of(engine, first)
            assert change == Change(first, "desio", frozenset())
            assert view is not None
            assert view.stage == Stage.ANNOUNCED

            # The desk listens too (its own connection), and so do we: PostgreSQL drops
            # both, both come back.
            async with engine.connect() as conn:
                listening = await conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE query ILIKE 'LISTEN%desk_changes%'"
                    )
                )
                assert len(listening.all()) >= 2
            await eventually(
                lambda: asyncio.sleep(0, changes.sessions),
                lambda sessions: sessions >= 2 and changes.connected.is_set(),
                timeout=20,
                what="the listener back",
            )
            async with changes.listen() as heard:
                await publish(
                    kafka_settings,
                    topics.hospital_discharges,
                    from_hospital(announced(discharge_ref="LN-2", fiscal_code=person(12))),
                )
                change = await asyncio.wait_for(heard.get(), 30)
            assert change.case_id == second
        finally:
            follow.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follow


# --- the projection's writes and the pages' reads, on PostgreSQL alone ------------------------


def at_hour(hour: int) -> datetime:
    return datetime(2024, 10, 1, tzinfo=UTC) + timedelta(hours=hour)


def sent(data: EventData, hour: int, subject: str | None = None) -> Envelope:
    case = getattr(data, "case_id", None)
    return Envelope(
        data=data,
        source=allowed_source(data),
        subject=subject or (case if isinstance(case, str) else None),
        time=at_hour(hour),
    )


@contextlib.asynccontextmanager
async def projecting(database: DatabaseSettings) -> AsyncIterator[Any]:
    """The desk's projection on its own schema, fed as its consumer does: each transaction's
    runs of one event type, then the commit."""
    await upgrade(MIGRATIONS, database.database_url, SCHEMA)
    engine = make_engine(database, schema=SCHEMA)
    db = Database(engine, outbox, Topics(), "urn:dp:service:desk")
    handlers = make_handlers(residence_districts(load_document(EXAMPLE)))

    @contextlib.asynccontextmanager
    async def transaction(*events: Envelope) -> AsyncIterator[None]:
        async with db.unit_of_work() as uow:
            for run in runs(events):
                await handlers[type(run[0].data)](uow, run)
            yield

    try:
        yield engine, transaction
    finally:
        await engine.dispose()


async def test_the_projection_writes_what_the_pages_read(
    database_settings: DatabaseSettings,
) -> None:
    case, other = case_of("PR-1"), case_of("PR-2")
    request = f"{case}/sad/1"
    provider = "coop-il-melograno"
    accepted = ServiceActivationAccepted(
        request_id=request, provider_id=provider, scheduled_start=at_hour(30)
    )
    asked = ServiceActivationRequested(
        case_id=case,
        request_id=request,
        provider_id=provider,
        service_type=ServiceType.SAD,
        weekly_quantity=Decimal(6),
        start_by=date(2024, 10, 4),
        beneficiary=Beneficiary(name="Mario Rossi", address="Via Garibaldi 4, Desio"),
    )
    ended = ServiceDeactivated(
        case_id=case,
        request_id=request,
        provider_id=provider,
        service_type=ServiceType.SAD,
        until=date(2024, 10, 30),
    )
    statement = ProviderStatementIssued(
        provider_id=provider,
        ambito_id="desio",
        period="2024-10",
        total=Decimal("33.00"),
        lines=1,
        issued_at=at_hour(40),
    )
    listener = await asyncpg.connect(listen_url(database_settings))
    heard: asyncio.Queue[str] = asyncio.Queue()
    await listener.add_listener(CHANNEL, lambda *args: heard.put_nowait(str(args[-1])))
    try:
        async with projecting(database_settings) as (engine, transaction):
            # The provider's answer, read before anything else of the case: no district yet.
            async with transaction(sent(accepted, 3, subject=case)):
                pass
            async with transaction(
                from_hospital(announced(discharge_ref="PR-1", fiscal_code=person(21))),
                from_hospital(announced(discharge_ref="PR-2", municipality_code=MAGENTA)),
                sent(asked, 2),
                sent(ended, 5),
                sent(ended, 5),  # its copy on the provider's topic: an id of its own
                sent(statement, 40, subject="desio"),
            ):
                await asyncio.sleep(0.3)
                assert heard.qsize() == 1  # the first transaction's; this one's not yet
            told = [parse(await asyncio.wait_for(heard.get(), 5)) for _ in range(2)]

            async with engine.connect() as conn:
                view = await queries.case_view(conn, case)
                history = await queries.timeline(conn, case)
                desio = await queries.cases(conn, ["desio"])
                both = await queries.cases(conn, ["desio", "magentino", "atlantide"])
                none = await queries.cases(conn, [])
                confirmed = await queries.cases(conn, ["desio"], stages=[Stage.CONFIRMED])
                later = await queries.cases(
                    conn, ["desio"], discharge_from=EXPECTED_DISCHARGE + timedelta(hours=1)
                )
                theirs = await queries.requests_of(conn, provider)
                pending = await queries.requests_of(conn, provider, [RequestStatus.PENDING])
                one = await queries.request(conn, request)
                statements = await queries.ledger(conn, ambito_ids=["desio"])
                thresholds = await queries.ledger(conn, event_type="BudgetThresholdReached")
                districts = {
                    row.ambito_id
                    for row in await conn.execute(
                        select(timeline.c.ambito_id).where(timeline.c.case_id == case)
                    )
                }
    finally:
        await listener.close()

    assert told[0] == [Change(case, None, frozenset({provider}))]
    assert sorted(told[1], key=lambda c: c.case_id) == [
        Change(case, "desio", frozenset({provider})),
        Change(other, "magentino"),
    ]
    assert view is not None
    assert (view.stage, view.ambito_id, view.services["sad"].status) == (
        Stage.ANNOUNCED,
        "desio",
        ServiceStatus.ENDED,
    )
    # The answer first read keeps its place; the deactivation is told once.
    assert [e.event_type for e in history] == [
        "ServiceActivationRequested",
        "ServiceActivationAccepted",
        "ServiceDeactivated",
        "DischargeAnnounced",  # the test's hospital sends at the real time, years later
    ]
    assert districts == {"desio"}  # the answer's row too, once the district was known
    assert [v.case_id for v in desio] == [case]
    assert (desio[0].services, desio[0].requests) == (view.services, {})  # lists: no bookkeeping
    assert list(view.requests) == [request]
    assert [v.case_id for v in both] == sorted([case, other])
    assert (none, confirmed, later) == ([], [], [])
    assert [(r.request_id, r.status, r.scheduled_start) for r in theirs] == [
        (request, RequestStatus.ENDED, at_hour(30))
    ]
    assert pending == []
    assert one == theirs[0]
    assert [(e.event_type, e.period, e.data["total"]) for e in statements] == [
        ("ProviderStatementIssued", "2024-10", "33.00")
    ]
    assert thresholds == []
