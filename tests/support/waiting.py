"""Waiting without fixed sleeps: poll with a deadline, read a topic until it is quiet."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from cerniera.shared.settings import KafkaSettings
from support.kafka import Topic, partitions_of, topic_names

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    *,
    timeout: float = 20.0,
    interval: float = 0.1,
    what: str = "condition",
) -> T:
    """Call ``probe`` until ``done(result)``; return that result, or fail with the last one."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if done(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout} s waiting for {what}; last: {result!r}"
            )
        await asyncio.sleep(interval)


async def read_quiet(
    settings: KafkaSettings, topic: Topic, *, quiet: float = 1.0, timeout: float = 30.0
) -> list[ConsumerRecord[Any, Any]]:
    """Every record of ``topic`` (or of several) from the beginning, returned once ``quiet``
    seconds pass with no new record: for asserting that something did NOT (or did only once)
    arrive."""
    consumer = AIOKafkaConsumer(**settings.client_params(), enable_auto_commit=False)
    await consumer.start()
    records: list[ConsumerRecord[Any, Any]] = []
    try:
        assigned = await partitions_of(consumer, topic)
        missing = set(topic_names(topic)) - {tp.topic for tp in assigned}
        assert not missing, f"topic(s) {', '.join(sorted(missing))} do not exist"
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        deadline = time.monotonic() + timeout
        last_new = time.monotonic()
        while not (await _caught_up(consumer, assigned) and time.monotonic() - last_new >= quiet):
            if time.monotonic() > deadline:
                raise AssertionError(f"{topic} never went quiet; {len(records)} records so far")
            batch = await consumer.getmany(timeout_ms=100)
            for part in batch.values():
                if part:
                    records.extend(part)
                    last_new = time.monotonic()
    finally:
        await consumer.stop()
    return records


async def _caught_up(consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> bool:
    """Every partition fetched at least once (its high watermark is known) and read to it, so
    a quiet spell means "nothing more", not "nothing fetched yet"."""
    for tp in partitions:
        highwater = consumer.highwater(tp)
        if highwater is None or await consumer.position(tp) < highwater:
            return False
    return True
