"""Test helpers that talk to the real broker: publish contract events, read topics back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.partitioner import DefaultPartitioner

from cerniera.shared.envelope import Envelope, decode
from cerniera.shared.settings import KafkaSettings


async def publish_raw(
    settings: KafkaSettings,
    topic: str,
    records: Sequence[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]],
) -> None:
    """Produce (key, value, headers) records in order and wait for every acknowledgement."""
    producer = AIOKafkaProducer(**settings.producer_params())
    await producer.start()
    try:
        futures = [
            await producer.send(topic, key=key, value=value, headers=headers)
            for key, value, headers in records
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def publish(settings: KafkaSettings, topic: str, *events: Envelope) -> None:
    records = []
    for event in events:
        value, headers = event.to_binary()
        records.append((event.subject.encode() if event.subject else None, value, headers))
    await publish_raw(settings, topic, records)


Topic = str | Sequence[str]
"""One topic, or several read together (e.g. every provider's own topic)."""


def topic_names(topic: Topic) -> list[str]:
    return [topic] if isinstance(topic, str) else list(topic)


async def partitions_of(consumer: AIOKafkaConsumer, topic: Topic) -> list[TopicPartition]:
    """Every partition of the topics (metadata refreshed once if some are not known yet)."""

    def known() -> list[TopicPartition]:
        return [
            TopicPartition(name, p)
            for name in topic_names(topic)
            for p in sorted(consumer.partitions_for_topic(name) or [])
        ]

    if not all(consumer.partitions_for_topic(name) for name in topic_names(topic)):
        await consumer.force_metadata_update()
    return known()


async def read_topic(
    settings: KafkaSettings,
    topic: Topic,
    *,
    until: Callable[[list[ConsumerRecord[Any, Any]]], bool],
    timeout: float = 30.0,
) -> list[ConsumerRecord[Any, Any]]:
    """Read ``topic`` (or several) from the beginning (no consumer group) until
    ``until(records)`` holds: each topic's records in order, the topics interleaved.

    Raises AssertionError with what was seen if the timeout passes first.
    """
    consumer = AIOKafkaConsumer(**settings.client_params(), enable_auto_commit=False)
    await consumer.start()
    records: list[ConsumerRecord[Any, Any]] = []
    try:
        partitions = await partitions_of(consumer, topic)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + timeout
        while not until(records):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out on {topic}; saw {len(records)} records: "
                    + ", ".join(_describe(r) for r in records[:20])
                )
            batch = await consumer.getmany(timeout_ms=200)
            for part in batch.values():
                records.extend(part)
    finally:
        await consumer.stop()
    return records


async def read_events(
    settings: KafkaSettings, topic: Topic, *, count: int, timeout: float = 30.0
) -> list[Envelope]:
    records = await read_topic(settings, topic, until=lambda rs: len(rs) >= count, timeout=timeout)
    return [decode(r.value, r.headers) for r in records]


def headers_of(record: ConsumerRecord[Any, Any]) -> dict[str, str]:
    return {k: v.decode() for k, v in record.headers}


def _describe(record: ConsumerRecord[Any, Any]) -> str:
    h = headers_of(record)
    return f"{h.get('ce_type', '?')}@{record.partition}:{record.offset}"


def same_partition_keys(
    key: bytes, partitions: int, count: int, *, tag: bytes = b"other"
) -> list[bytes]:
    """Other cases' keys that the producer sends to the same partition as ``key``."""
    every = list(range(partitions))
    wanted = DefaultPartitioner()(key, every, every)
    candidates = (key + b"-" + tag + f"-{n}".encode() for n in range(10_000))
    same = (other for other in candidates if DefaultPartitioner()(other, every, every) == wanted)
    return [next(same) for _ in range(count)]
