"""Smaller faults of issue 8, each on the real broker or database: a batch too large for one
inbox statement, a broker without idempotent producers, a service started while its database
is away."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import MetaData, text

from cerniera.intake.config import load_config
from cerniera.intake.service import runtime as intake
from cerniera.shared.contract import DischargeCancelled
from cerniera.shared.envelope import Envelope
from cerniera.shared.messaging.kafka import BrokerConfigError, make_producer, start_producer
from cerniera.shared.persistence.db import make_engine
from cerniera.shared.persistence.inbox import Inbox
from cerniera.shared.persistence.tables import inbox_table
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.database import refuse_connections
from support.districts import EXAMPLE
from support.services import LOOPBACK

pytestmark = pytest.mark.integration


async def test_a_batch_larger_than_one_statement_allows_is_claimed_in_chunks(
    database_settings: DatabaseSettings,
) -> None:
    """PostgreSQL takes at most 32,767 parameters in a statement: 7,000 events, 6 columns."""
    engine = make_engine(database_settings, schema="inboxtest")
    metadata = MetaData(schema="inboxtest")
    table = inbox_table(metadata)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS inboxtest CASCADE"))
        await conn.execute(text("CREATE SCHEMA inboxtest"))
        await conn.run_sync(metadata.create_all)
    events = [
        Envelope(
            data=DischargeCancelled(hospital_id="asst-vimercate", discharge_ref=f"B-{n}"),
            source="urn:dp:test",
            subject=f"asst-vimercate:B-{n}",
            time=datetime(2026, 11, 2, tzinfo=UTC),
        )
        for n in range(7000)
    ]
    inbox = Inbox(table, "test")
    try:
        async with engine.begin() as conn:
            assert len(await inbox.claim(conn, events)) == 7000
        async with engine.begin() as conn:
            assert await inbox.claim(conn, events) == set()  # all known now
            assert await inbox.conflicting(conn, events) == set()
    finally:
        await engine.dispose()


async def test_a_broker_without_idempotent_producers_is_named_with_the_setting_to_change(
    kafka_settings: KafkaSettings,
) -> None:
    if kafka_settings.enable_idempotence:
        pytest.skip("this broker supports idempotent producers")
    asked = kafka_settings.model_copy(update={"enable_idempotence": True})
    producer = make_producer(asked, client_id=f"idem-{uuid.uuid4().hex[:6]}")
    with pytest.raises(BrokerConfigError, match="set KAFKA_ENABLE_IDEMPOTENCE=false"):
        await start_producer(producer, asked)


async def test_a_service_started_while_its_database_is_away_waits_for_it(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings
) -> None:
    rt = intake(kafka_settings, database_settings, load_config(EXAMPLE), service=LOOPBACK)
    outage = asyncio.create_task(refuse_connections(database_settings.database_url, 4))
    await asyncio.sleep(0.3)
    started = asyncio.get_running_loop().time()
    async with rt.running():
        waited = asyncio.get_running_loop().time() - started
        assert await rt.database_reachable()
    await outage
    assert waited > 2  # it waited for the database instead of exiting
