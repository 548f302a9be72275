"""The outbox relay on the real broker and database: order per case, and a row that can never
be sent parked (its case waits) while every other case's events flow."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import MetaData, func, select, text

from cerniera.shared.clock import Clock
from cerniera.shared.contract import DischargeCancelled, Topics
from cerniera.shared.messaging.kafka import make_producer, provision_topics
from cerniera.shared.persistence.db import make_engine
from cerniera.shared.persistence.outbox import Database
from cerniera.shared.persistence.relay import OutboxRelay, release_parked
from cerniera.shared.persistence.tables import outbox_table
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.kafka import headers_of, read_topic

pytestmark = pytest.mark.integration

SCHEMA = "relaytest"


@pytest.fixture
async def db(database_settings: DatabaseSettings, topics: Topics) -> AsyncIterator[Database]:
    engine = make_engine(database_settings, schema=SCHEMA)
    metadata = MetaData(schema=SCHEMA)
    outbox = outbox_table(metadata)
    async with engine.begin() as conn:
        await conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        await conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        await conn.run_sync(metadata.create_all)
    yield Database(engine, outbox, topics, "urn:dp:test", Clock())
    await engine.dispose()


def _cancelled(ref: str, note: str = "") -> DischargeCancelled:
    return DischargeCancelled(
        hospital_id="asst-vimercate",
        discharge_ref=ref,
        reason=note or None,
    )


@asynccontextmanager
async def _relay(
    db: Database, kafka_settings: KafkaSettings, **options: Any
) -> AsyncIterator[OutboxRelay]:
    await provision_topics(kafka_settings, db.topics.all())
    producer = make_producer(kafka_settings, client_id="relay-test")
    await producer.start()
    try:
        yield OutboxRelay(db, producer, **options)
    finally:
        await producer.stop()


async def _pending(db: Database) -> list[Any]:
    async with db.engine.connect() as conn:
        return list((await conn.execute(select(db.outbox).order_by(db.outbox.c.seq))).all())


async def test_every_case_keeps_its_order_across_partitions(
    db: Database, kafka_settings: KafkaSettings, topics: Topics
) -> None:
    cases = [f"V{n:03d}" for n in range(40)]
    async with db.unit_of_work() as uow:
        for step in range(5):
            for ref in cases:
                uow.emit(_cancelled(ref, f"step {step}"), subject=f"asst-vimercate:{ref}")
    async with _relay(db, kafka_settings, batch_size=70) as relay:
        while (await relay.publish_pending())[0]:
            pass
    assert await _pending(db) == []
    records = await read_topic(
        kafka_settings, topics.hospital_discharges, until=lambda rs: len(rs) >= 200
    )
    assert len(records) == 200
    steps: dict[str, list[str]] = {}
    partition_of: dict[bytes, set[int]] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        steps.setdefault(record.key.decode(), []).append(record.value.decode())
        partition_of.setdefault(record.key, set()).add(record.partition)
    assert all(len(p) == 1 for p in partition_of.values())  # a case lives in one partition
    for published in steps.values():
        assert [f"step {n}" in body for n, body in enumerate(published)] == [True] * 5


async def test_a_row_that_cannot_be_sent_is_parked_and_only_its_case_waits(
    db: Database, kafka_settings: KafkaSettings, topics: Topics
) -> None:
    stuck = f"asst-vimercate:STUCK-{uuid.uuid4().hex[:6]}"
    async with db.unit_of_work() as uow:
        uow.emit(_cancelled("OK-1"), subject="asst-vimercate:OK-1")
        poison = uow.emit(_cancelled("STUCK", "x" * 900), subject=stuck)
        uow.emit(_cancelled("STUCK", "later"), subject=stuck)
        uow.emit(_cancelled("OK-2"), subject="asst-vimercate:OK-2")
    # A relay whose requests hold less than the poison row: the broker would refuse it.
    async with _relay(db, kafka_settings, max_request_size=1000) as relay:
        sent, failures = await relay.publish_pending()
        # A case behind the poison in its partition goes in the next round...
        sent += (await relay.publish_pending())[0]
        # ...and then nothing is retried in a loop: the parked row and its case wait.
        idle = await relay.publish_pending()
    assert failures == 1
    assert sent == 2
    assert idle == (0, 0)
    left = await _pending(db)
    assert left[0].event_id == poison.id
    assert left[0].parked_at is not None
    assert "MessageSizeTooLargeError" in left[0].last_error
    assert left[1].key == stuck
    assert left[1].parked_at is None  # waits behind it, not parked
    records = await read_topic(
        kafka_settings, topics.hospital_discharges, until=lambda rs: len(rs) >= 2
    )
    assert sorted(r.key.decode() for r in records) == [
        "asst-vimercate:OK-1",
        "asst-vimercate:OK-2",
    ]
    assert all(headers_of(r)["ce_type"] == "DischargeCancelled" for r in records)
    # Once the cause is fixed (here: a relay that may send larger requests), releasing the
    # parked row sends the case's events in their order.
    assert await release_parked(db) == 1
    async with _relay(db, kafka_settings) as relay:
        assert await relay.publish_pending() == (2, 0)
    async with db.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(db.outbox)) == 0
    records = await read_topic(
        kafka_settings, topics.hospital_discharges, until=lambda rs: len(rs) >= 4
    )
    of_stuck = [r.value.decode() for r in records if r.key.decode() == stuck]
    assert "x" * 900 in of_stuck[0]
    assert "later" in of_stuck[1]
