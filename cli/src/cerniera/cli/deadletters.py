"""``cerniera dlq``: list, replay and discard dead letters.

- **Bounded**: a replay goes through the dead letters present when it starts, never the ones
  it causes (a record that fails again is dead-lettered anew, after the start).
- **Targeted**: a replayed record carries ``dlq_replay_for`` = the consumer group that failed
  it; every other group ignores it (it had applied the original, or dead-lettered it itself).
- **Idempotent**: the replay's own consumer group commits what it has sent, so running it
  twice sends nothing twice; and the replayed record keeps its event id, so a group's inbox
  drops a copy it already applied.

A discard tells the failing group to give up on the dead letter: the case it had parked is
released, and its waiting events are applied.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from rich.console import Console

from cerniera.shared.contract import Topics
from cerniera.shared.messaging import dlq
from cerniera.shared.messaging.parking import DEAD_LETTER_ID, DISCARD_FOR, REPLAY_FOR
from cerniera.shared.settings import KafkaSettings

REPLAY_GROUP = "cerniera.dlq-replay"


@dataclass(frozen=True)
class DeadLetter:
    record: ConsumerRecord[bytes, bytes]

    def header(self, name: str) -> str | None:
        for key, value in self.record.headers:
            if key == name:
                return str(value.decode("utf-8", errors="replace"))
        return None

    @property
    def consumer(self) -> str:
        return self.header(dlq.CONSUMER) or "?"

    @property
    def id(self) -> str:
        """Where the record was first read: ``topic:partition:offset``."""
        return ":".join(
            self.header(name) or "?"
            for name in (dlq.ORIGINAL_TOPIC, dlq.ORIGINAL_PARTITION, dlq.ORIGINAL_OFFSET)
        )


@asynccontextmanager
async def _reader(
    settings: KafkaSettings, dlq_topic: str, group: str | None
) -> AsyncIterator[AIOKafkaConsumer]:
    consumer = AIOKafkaConsumer(
        **settings.client_params(),
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        await consumer.topics()  # fetches the metadata
        partitions = [
            TopicPartition(dlq_topic, p) for p in consumer.partitions_for_topic(dlq_topic) or []
        ]
        if not partitions:
            raise SystemExit(f"no topic {dlq_topic}")
        consumer.assign(partitions)
        if group is None:
            await consumer.seek_to_beginning(*partitions)
        yield consumer
    finally:
        await consumer.stop()


async def _present(
    consumer: AIOKafkaConsumer, started_ms: int
) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
    """The records present when we started: a partition ends at its first later record, or
    when it has nothing more (high-water marks, not end_offsets: wrong on the dev broker)."""
    done: set[TopicPartition] = set()
    while True:
        batch = await consumer.getmany(timeout_ms=1000)
        if not batch:
            return
        for tp, records in batch.items():
            if tp in done:
                continue
            for record in records:
                if record.timestamp > started_ms:
                    done.add(tp)
                    consumer.pause(tp)
                    break
                yield record


async def list_letters(settings: KafkaSettings, dlq_topic: str, console: Console) -> int:
    Topics.dlq_origin(dlq_topic)  # refuses a topic that is no dead-letter topic
    started_ms = int(time.time() * 1000)
    reasons: Counter[tuple[str, str]] = Counter()
    async with _reader(settings, dlq_topic, None) as consumer:
        async for record in _present(consumer, started_ms):
            letter = DeadLetter(record)
            reasons[(letter.consumer, letter.header(dlq.REASON_CODE) or "?")] += 1
            console.print(
                f"{letter.id} consumer={letter.consumer} key={_text(record.key)} "
                f"{letter.header(dlq.REASON_CODE)}: {letter.header(dlq.REASON)}"
            )
    for (consumer_name, code), count in sorted(reasons.items()):
        console.print(f"[bold]{count}[/] × {consumer_name} {code}")
    return sum(reasons.values())


async def replay(
    settings: KafkaSettings,
    dlq_topic: str,
    console: Console,
    *,
    consumer: str | None = None,
    again: bool = False,
) -> int:
    """Send the dead letters present now back to their topic, each for the group that failed
    it (only ``consumer``'s, if given). ``again`` re-reads from the start, ignoring what
    earlier replays have sent."""
    original = Topics.dlq_origin(dlq_topic)
    started_ms = int(time.time() * 1000)
    group = None if again else f"{REPLAY_GROUP}.{consumer or 'all'}"
    sent = 0
    producer = AIOKafkaProducer(**settings.producer_params())
    await producer.start()
    try:
        async with _reader(settings, dlq_topic, group) as reader:
            async for record in _present(reader, started_ms):
                letter = DeadLetter(record)
                if consumer is None or letter.consumer == consumer:
                    headers = [
                        *dlq.original_headers(record.headers),
                        (REPLAY_FOR, letter.consumer.encode()),
                        (DEAD_LETTER_ID, letter.id.encode()),
                    ]
                    await producer.send_and_wait(
                        original, value=record.value, key=record.key, headers=headers
                    )
                    sent += 1
                if group is not None:  # sent (or not ours): never again for this group
                    tp = TopicPartition(record.topic, record.partition)
                    await reader.commit({tp: OffsetAndMetadata(record.offset + 1, "")})
    finally:
        await producer.stop()
    console.print(f"replayed {sent} dead letter(s) from {dlq_topic} to {original}")
    return sent


async def discard(
    settings: KafkaSettings, dlq_topic: str, console: Console, *, consumer: str, case: str
) -> None:
    """Tell ``consumer`` to give up on the dead letters of ``case``: its parked case is
    released and the events that waited behind them are applied."""
    original = Topics.dlq_origin(dlq_topic)
    producer = AIOKafkaProducer(**settings.producer_params())
    await producer.start()
    try:
        await producer.send_and_wait(
            original,
            value=b"",
            key=case.encode(),
            headers=[(DISCARD_FOR, consumer.encode()), (DEAD_LETTER_ID, b"*")],
        )
    finally:
        await producer.stop()
    console.print(f"{consumer}: case {case} released; its waiting events will be applied")


def _text(value: Any) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)
