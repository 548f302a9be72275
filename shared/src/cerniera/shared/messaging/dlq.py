"""Dead letters: a record that cannot be processed goes to its topic's dead-letter topic
(``Topics.dlq``) with the reason in headers, exactly as it arrived, so it can be replayed once
the cause is fixed."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

import structlog
from aiokafka import AIOKafkaProducer

from cerniera.shared.contract import Topics

log = structlog.get_logger(__name__)

HEADER_PREFIX = "dlq_"
"""Every header a dead letter adds starts with it; a replay removes them."""
REASON_CODE = f"{HEADER_PREFIX}reason_code"
REASON = f"{HEADER_PREFIX}reason"
ORIGINAL_TOPIC = f"{HEADER_PREFIX}original_topic"
ORIGINAL_PARTITION = f"{HEADER_PREFIX}original_partition"
ORIGINAL_OFFSET = f"{HEADER_PREFIX}original_offset"
CONSUMER = f"{HEADER_PREFIX}consumer"
FAILED_AT = f"{HEADER_PREFIX}failed_at"
ATTEMPTS = f"{HEADER_PREFIX}attempts"
TRUNCATED_FROM = f"{HEADER_PREFIX}truncated_from"
"""Set when the record was too large to copy whole: its size in bytes (the value kept is its
start, and ``dlq_value_sha256`` identifies the original)."""
VALUE_SHA256 = f"{HEADER_PREFIX}value_sha256"

MAX_VALUE = 256 * 1024
"""A dead letter carries at most this much of the record's value: what no producer request
limit refuses (a record near or over 1 MiB could not be copied, and would block its partition)."""


def original_headers(headers: Iterable[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """The headers a record had before it was dead-lettered (any number of times)."""
    return [(key, value) for key, value in headers if not key.startswith(HEADER_PREFIX)]


class Record(Protocol):
    """What we need of an aiokafka ConsumerRecord."""

    topic: str
    partition: int
    offset: int
    key: Any
    value: Any
    headers: Any


def _key(key: Any) -> bytes | None:
    if key is None or len(key) <= 1024:
        return key  # type: ignore[no-any-return]
    return bytes(key[:1024])


class DeadLetters:
    def __init__(self, consumer: str, producer: AIOKafkaProducer | None = None) -> None:
        self.producer = producer  # set when the service starts (aiokafka needs the loop)
        self._consumer = consumer
        self.count = 0

    async def send(self, record: Record, code: str, reason: str, attempts: int = 1) -> None:
        headers = original_headers(record.headers)
        value = record.value
        if value is not None and len(value) > MAX_VALUE:
            headers += [
                (TRUNCATED_FROM, str(len(value)).encode()),
                (VALUE_SHA256, hashlib.sha256(value).hexdigest().encode()),
            ]
            value = value[:MAX_VALUE]
        if sum(len(k) + len(v) for k, v in headers) > MAX_VALUE:  # headers can be as large
            headers = [(k, v) for k, v in headers if len(k) + len(v) <= 1024]
            headers.append((TRUNCATED_FROM, b"headers"))
        headers += [
            (REASON_CODE, code.encode()),
            (REASON, reason[:4000].encode()),
            (ORIGINAL_TOPIC, record.topic.encode()),
            (ORIGINAL_PARTITION, str(record.partition).encode()),
            (ORIGINAL_OFFSET, str(record.offset).encode()),
            (CONSUMER, self._consumer.encode()),
            (FAILED_AT, datetime.now(UTC).isoformat().encode()),
            (ATTEMPTS, str(attempts).encode()),
        ]
        # Awaited: the offset of the bad record is committed only after its dead letter is safe.
        assert self.producer is not None, "dead letters need a started producer"
        await self.producer.send_and_wait(
            Topics.dlq(record.topic), value=value, key=_key(record.key), headers=headers
        )
        self.count += 1
        log.warning(
            "record.dead_lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            reason_code=code,
            reason=reason,
        )
