"""Records that cannot be read, on every topic a service reads, with every service running: a
record nested 5,000 levels deep, a 2 MiB record, an event without ``ce_time``, and the same
``ce_id`` again with another payload. Each ends on the dead-letter topic with its reason, for
every group that reads the topic, and the next good record on the same partition is processed
within seconds (its group's committed offset passes it). Real broker, real PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner

from cerniera.activation.service import runtime as activation
from cerniera.billing.service import runtime as billing
from cerniera.gateway.service import runtime as gateway
from cerniera.intake.service import runtime as intake
from cerniera.monitoring.service import runtime as monitoring
from cerniera.shared.contract import EventData, Topics
from cerniera.shared.contract.provenance import allowed_source
from cerniera.shared.envelope import STRUCTURED, Envelope
from cerniera.shared.runtime import ServiceRuntime
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.discharges import announced, assessment, from_hospital
from support.kafka import headers_of, read_topic, same_partition_keys
from support.services import LOOPBACK

pytestmark = pytest.mark.integration

TWO_MIB = 2 * 1024 * 1024


def _example(model: type[EventData]) -> EventData:
    extra: Any = model.model_config.get("json_schema_extra") or {}
    return model.model_validate(extra["examples"][0])


def _poison(good: Envelope, keys: list[bytes]) -> list[tuple[bytes, bytes, list[Any], str]]:
    """(key, value, headers, expected reason codes) of the three unreadable records."""
    value, headers = good.to_binary()

    def with_id(extra: list[tuple[str, bytes]] | None = None) -> list[tuple[str, bytes]]:
        fresh = [(k, str(uuid.uuid4()).encode() if k == "ce_id" else v) for k, v in headers]
        return [*fresh, *(extra or [])]

    doc = json.loads(good.to_structured())
    nested = json.dumps(doc)[:-1] + ', "deep": ' + "[" * 5000 + "]" * 5000 + "}"
    huge = b'{"padding": "' + b"a" * TWO_MIB + b'"}'
    no_time = [(k, v) for k, v in with_id() if k != "ce_time"]
    return [
        (keys[0], nested.encode(), [("content-type", STRUCTURED.encode())], "record.too_deep"),
        (keys[1], huge, with_id(), "data.invalid"),
        (keys[2], value, no_time, "cloudevents.missing_time"),
    ]


async def _produce(settings: KafkaSettings, topic: str, records: list[Any]) -> list[int]:
    """Send in order; return the offsets. Requests large enough for the 2 MiB record."""
    producer = AIOKafkaProducer(**settings.producer_params(), max_request_size=4 * TWO_MIB)
    await producer.start()
    try:
        offsets = []
        for key, value, headers in records:
            meta = await producer.send_and_wait(topic, value=value, key=key, headers=headers)
            offsets.append(meta.offset)
        return offsets
    finally:
        await producer.stop()


async def _committed(settings: KafkaSettings, group: str, tp: TopicPartition) -> int:
    consumer = AIOKafkaConsumer(**settings.client_params(), group_id=group)
    await consumer.start()
    try:
        return int(await consumer.committed(tp) or -1)
    finally:
        await consumer.stop()


async def test_unreadable_records_on_every_topic_end_on_the_dlq_and_the_partition_goes_on(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    runtimes: list[ServiceRuntime] = [
        make(kafka_settings, database_settings, service=LOOPBACK)
        for make in (intake, activation, monitoring, billing, gateway)
    ]
    readers: dict[str, list[str]] = {}
    for rt in runtimes:
        for topic in rt.spec.subscribes(topics):
            readers.setdefault(topic, []).append(rt.spec.name)
    assert len(readers) >= 4  # hospital, intake, providers and monitoring topics at least

    async with contextlib.AsyncExitStack() as stack:
        await asyncio.gather(*(stack.enter_async_context(rt.running()) for rt in runtimes))
        started = time.monotonic()
        expected: dict[str, dict[str, str]] = {}  # topic → ce_id-less key → reason
        good_at: dict[str, tuple[TopicPartition, int]] = {}
        for topic in readers:
            model = topics.events_on(topic)[0]
            data = _example(model)
            good = Envelope(data=data, source=allowed_source(data), subject="good:1")
            good_key = b"good:1"
            # Cases of their own per topic: a case dead-lettered on one topic is parked, and its
            # records on the next topic would wait behind it instead.
            keys = same_partition_keys(
                good_key, kafka_settings.topic_partitions, 3, tag=topic.encode()
            )
            poison = _poison(good, keys)
            value, headers = good.to_binary()
            records = [(k, v, h) for k, v, h, _ in poison] + [(good_key, value, headers)]
            offsets = await _produce(kafka_settings, topic, records)
            partition = TopicPartition(topic, _partition(keys[0], kafka_settings))
            good_at[topic] = (partition, offsets[-1])
            expected[topic] = {k.decode(): reason for k, _, _, reason in poison}

        for topic, groups in readers.items():
            dlq = topics.dlq(topic)
            wanted = {(g, k) for g in groups for k in expected[topic]}
            letters = [
                r
                for r in await read_topic(kafka_settings, dlq, until=_holds(wanted))
                if r.key.decode() in expected[topic]  # not the good record (a refusal)
            ]
            assert {(headers_of(r)["dlq_consumer"], r.key.decode()) for r in letters} == wanted
            for r in letters:
                assert headers_of(r)["dlq_reason_code"] == expected[topic][r.key.decode()]
            huge = [r for r in letters if headers_of(r)["dlq_reason_code"] == "data.invalid"]
            assert all(int(headers_of(r)["dlq_truncated_from"]) > TWO_MIB for r in huge)
            partition, offset = good_at[topic]
            for group in groups:
                for _ in range(100):
                    if await _committed(kafka_settings, group, partition) > offset:
                        break
                    await asyncio.sleep(0.2)
                else:
                    raise AssertionError(f"{group} did not get past the good record on {topic}")
        assert time.monotonic() - started < 90


async def test_the_same_event_id_with_another_payload_is_dead_lettered_as_a_conflict(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    rt = intake(kafka_settings, database_settings, service=LOOPBACK)
    original = from_hospital(announced(discharge_ref="C-1", assessment=assessment()))
    forged = from_hospital(announced(discharge_ref="C-1", assessment=assessment(brass_score=39)))
    value, headers = forged.to_binary()
    same_id = [(k, original.id.encode() if k == "ce_id" else v) for k, v in headers]
    async with rt.running():
        first, second = original.to_binary()
        key = b"asst-vimercate:C-1"
        await _produce(
            kafka_settings,
            topics.hospital_discharges,
            [(key, first, second), (key, value, same_id)],
        )
        dlq = topics.dlq(topics.hospital_discharges)
        (letter,) = await read_topic(kafka_settings, dlq, until=lambda rs: len(rs) >= 1)
    assert headers_of(letter)["dlq_reason_code"] == "event.id_conflict"
    assert headers_of(letter)["ce_id"] == original.id
    assert rt.consumer.stats.processed == 1


def _holds(wanted: set[tuple[str, str]]) -> Callable[[list[Any]], bool]:
    """Every (consumer group, key) of ``wanted`` is among the dead letters read so far."""
    return lambda records: (
        wanted <= {(headers_of(r)["dlq_consumer"], r.key.decode()) for r in records}
    )


def _partition(key: bytes, settings: KafkaSettings) -> int:
    every = list(range(settings.topic_partitions))
    return int(DefaultPartitioner()(key, every, every))
