"""The raw ceiling: aiokafka and asyncpg alone doing a service's durable work, batch by batch.

Per batch of up to 500 records from the hospital topic, what every service does with the events
it applies, and nothing else: in ONE transaction, an inbox row per event (a redelivery is
skipped), a state row per case and an outbox row per event; commit; publish the outbox rows
with acks=all and wait for the acknowledgements; delete the rows; commit the consumer offsets.
No decoding, validation or domain rules: what the machine allows for the durable part, which
``cerniera bench --baseline`` sets beside the services' rates, in the same run.

The tables live in a schema of their own, dropped at the end.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from cerniera.shared.settings import KafkaSettings

BATCH = 500

_TABLES = """
CREATE TABLE {s}.inbox (
    source text NOT NULL, event_id text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (source, event_id));
CREATE TABLE {s}.cases (
    case_id text PRIMARY KEY, events integer NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE {s}.outbox (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, topic text NOT NULL, key text,
    headers jsonb NOT NULL, payload bytea NOT NULL);
"""
_CLAIM = """
INSERT INTO {s}.inbox (source, event_id) SELECT * FROM unnest($1::text[], $2::text[])
ON CONFLICT DO NOTHING RETURNING source, event_id"""
_STATE = """
INSERT INTO {s}.cases (case_id) SELECT unnest($1::text[])
ON CONFLICT (case_id) DO UPDATE SET events = cases.events + 1, updated_at = now()"""
_OUTBOX = """
INSERT INTO {s}.outbox (topic, key, headers, payload)
SELECT $1, k, h::jsonb, p FROM unnest($2::text[], $3::text[], $4::bytea[]) AS u(k, h, p)
RETURNING seq"""
_DELETE = "DELETE FROM {s}.outbox WHERE seq = ANY($1::bigint[])"


def asyncpg_dsn(url: str) -> str:
    """asyncpg's form of a SQLAlchemy URL (``postgresql+asyncpg://`` → ``postgresql://``)."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def run_baseline(
    settings: KafkaSettings,
    database_url: str,
    *,
    source: str,
    out: str,
    events: int,
    schema: str,
    group: str,
    timeout: float,
) -> int:
    """Apply ``events`` records of ``source`` as a service would, publishing to ``out``; return
    how many were applied (not redeliveries)."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    consumer = AIOKafkaConsumer(
        source,
        group_id=group,
        enable_auto_commit=False,
        **settings.client_params(),
        **settings.consumer_params(),
    )
    producer = AIOKafkaProducer(**settings.producer_params())
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};")
        await conn.execute(_TABLES.format(s=schema))
        await consumer.start()
        await producer.start()
        seen = applied = 0
        async with asyncio.timeout(timeout):
            while seen < events:
                fetched = await consumer.getmany(timeout_ms=500, max_records=BATCH)
                records = [record for part in fetched.values() for record in part]
                if records:
                    applied += await _apply(conn, producer, schema, out, records)
                    await consumer.commit()
                    seen += len(records)
        return applied
    finally:
        await consumer.stop()
        await producer.stop()
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.close()


async def _apply(
    conn: asyncpg.Connection,
    producer: AIOKafkaProducer,
    schema: str,
    out: str,
    records: Sequence[ConsumerRecord[Any, Any]],
) -> int:
    heads = [dict(record.headers) for record in records]
    async with conn.transaction():
        claimed = await conn.fetch(
            _CLAIM.format(s=schema),
            [h["ce_source"].decode() for h in heads],
            [h["ce_id"].decode() for h in heads],
        )
        new = {(row["source"], row["event_id"]) for row in claimed}
        fresh = []
        for record, h in zip(records, heads, strict=True):
            key = (h["ce_source"].decode(), h["ce_id"].decode())
            if key in new:
                new.discard(key)  # the same event twice in one batch is applied once
                fresh.append(record)
        if not fresh:
            return 0
        cases = [record.key.decode() for record in fresh]
        await conn.execute(_STATE.format(s=schema), list(dict.fromkeys(cases)))
        rows = await conn.fetch(
            _OUTBOX.format(s=schema),
            out,
            cases,
            [json.dumps([[n, v.decode()] for n, v in record.headers]) for record in fresh],
            [record.value for record in fresh],
        )
    acks = [
        await producer.send(out, value=record.value, key=record.key, headers=list(record.headers))
        for record in fresh
    ]
    await asyncio.gather(*acks)
    await conn.execute(_DELETE.format(s=schema), [row["seq"] for row in rows])
    return len(fresh)
