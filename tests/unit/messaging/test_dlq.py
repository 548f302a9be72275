"""Dead letters: where a record that can never be applied goes, exactly as it arrived, with
why in headers (no broker: the producer is a fake that keeps what it is given)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from aiokafka import AIOKafkaProducer

from cerniera.shared.contract import Topics
from cerniera.shared.messaging import dlq
from cerniera.shared.messaging.dlq import DeadLetters
from support.records import FakeRecord


@dataclass
class Sent:
    topic: str
    value: bytes | None
    key: bytes | None
    headers: list[tuple[str, bytes]]


@dataclass
class FakeProducer:
    sent: list[Sent] = field(default_factory=list)

    async def send_and_wait(self, topic: str, **record: Any) -> None:
        self.sent.append(Sent(topic, record["value"], record["key"], record["headers"]))


def arrived(
    value: bytes, headers: list[tuple[str, bytes]], topic: str = "dp.intake.cases"
) -> FakeRecord:
    """A record as it arrived: offset 41 of partition 2, keyed by its case."""
    return FakeRecord(value, headers, topic, partition=2, offset=41, key=b"asst-vimercate:V1")


async def test_a_dead_letter_is_the_record_as_it_came_plus_why() -> None:
    producer = FakeProducer()
    letters = DeadLetters("monitoring", cast(AIOKafkaProducer, producer))
    record = arrived(b"{oops", [("ce_id", b"e-1"), ("ce_type", b"CaseClosed")])

    await letters.send(record, "json.malformed", "Expecting value", attempts=1)

    (sent,) = producer.sent
    assert sent.topic == Topics.dlq("dp.intake.cases") == "dp.intake.cases.dlq"
    assert (sent.value, sent.key) == (record.value, record.key)
    headers = dict(sent.headers)
    assert sent.headers[:2] == record.headers  # the original headers first, untouched
    assert headers[dlq.REASON_CODE] == b"json.malformed"
    assert headers[dlq.REASON] == b"Expecting value"
    assert headers[dlq.ORIGINAL_TOPIC] == b"dp.intake.cases"
    assert (headers[dlq.ORIGINAL_PARTITION], headers[dlq.ORIGINAL_OFFSET]) == (b"2", b"41")
    assert headers[dlq.CONSUMER] == b"monitoring"
    assert headers[dlq.ATTEMPTS] == b"1"
    assert dlq.FAILED_AT in headers
    assert letters.count == 1


async def test_a_record_dead_lettered_again_keeps_only_the_latest_reason() -> None:
    producer = FakeProducer()
    letters = DeadLetters("intake", cast(AIOKafkaProducer, producer))
    replayed = arrived(
        b"{}",
        [("ce_id", b"e-1"), (dlq.REASON_CODE, b"old.code"), (dlq.ATTEMPTS, b"3")],
        topic="dp.hospital.discharges",
    )

    await letters.send(replayed, "case.unknown", "x" * 5000, attempts=2)

    (sent,) = producer.sent
    names = [name for name, _ in sent.headers]
    assert names.count(dlq.REASON_CODE) == 1
    assert dict(sent.headers)[dlq.REASON_CODE] == b"case.unknown"
    assert dict(sent.headers)[dlq.ATTEMPTS] == b"2"
    assert len(dict(sent.headers)[dlq.REASON]) == 4000  # long reasons are cut
    assert dlq.original_headers(sent.headers) == [("ce_id", b"e-1")]


async def test_a_record_too_large_to_copy_is_kept_truncated_with_its_size_and_digest() -> None:
    producer = FakeProducer()
    letters = DeadLetters("intake", cast(AIOKafkaProducer, producer))
    huge = b"x" * (2 * 1024 * 1024)
    record = arrived(huge, [("ce_id", b"e-9"), ("junk", b"y" * (600 * 1024))])

    await letters.send(record, "data.invalid", "far too large")

    (sent,) = producer.sent
    assert sent.value == huge[: dlq.MAX_VALUE]
    headers = dict(sent.headers)
    assert headers[dlq.TRUNCATED_FROM] == b"headers"  # the oversized header was left out
    assert ("dlq_truncated_from", str(len(huge)).encode()) in sent.headers
    assert b"junk" not in {k.encode() for k, _ in sent.headers}
    assert headers["ce_id"] == b"e-9"
    assert headers[dlq.REASON_CODE] == b"data.invalid"
    size = len(sent.value or b"") + sum(len(k) + len(v) for k, v in sent.headers)
    assert size < 1024 * 1024  # what any producer accepts in one request
