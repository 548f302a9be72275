"""Dead letters: a record that cannot be processed goes to ``<topic>.dlq`` with the reason in
headers, exactly as it arrived, so it can be replayed once the cause is fixed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

import structlog
from aiokafka import AIOKafkaProducer

log = structlog.get_logger(__name__)

DLQ_SUFFIX = ".dlq"
REASON_CODE = "dlq_reason_code"
REASON = "dlq_reason"
ORIGINAL_TOPIC = "dlq_original_topic"
ORIGINAL_PARTITION = "dlq_original_partition"
ORIGINAL_OFFSET = "dlq_original_offset"
CONSUMER = "dlq_consumer"
FAILED_AT = "dlq_failed_at"
ATTEMPTS = "dlq_attempts"


class Record(Protocol):
    """What we need of an aiokafka ConsumerRecord."""

    topic: str
    partition: int
    offset: int
    key: Any
    value: Any
    headers: Any


class DeadLetters:
    def __init__(self, consumer: str, producer: AIOKafkaProducer | None = None) -> None:
        self.producer = producer  # set when the service starts (aiokafka needs the loop)
        self._consumer = consumer
        self.count = 0

    async def send(self, record: Record, code: str, reason: str, attempts: int = 1) -> None:
        headers = [(k, v) for k, v in record.headers if not k.startswith("dlq_")]
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
            record.topic + DLQ_SUFFIX, value=record.value, key=record.key, headers=headers
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


def original_topic(dlq_topic: str) -> str:
    if not dlq_topic.endswith(DLQ_SUFFIX):
        raise ValueError(f"{dlq_topic!r} is not a dead-letter topic (no {DLQ_SUFFIX} suffix)")
    return dlq_topic[: -len(DLQ_SUFFIX)]
