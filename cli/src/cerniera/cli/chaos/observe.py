"""What the topics show: every event of every topic (dead letters included) read from the
start, kept as the distinct event ids per business key, which is what ``verify`` counts.

The same reader is the report duplicator: each ``HoursDelivered`` a provider publishes is
published once more under a new event id (same ``delivery_ref``), as a provider system that
retries would.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from cerniera.shared.clock import italian_date
from cerniera.shared.contract import (
    BudgetThresholdReached,
    CaseClosed,
    CaseHandedOver,
    EligibilityConfirmed,
    EligibilityRejected,
    HoursDelivered,
    ServiceActivated,
    ServiceActivationEscalated,
    ServiceActivationRequested,
    ServiceDeactivated,
    Topics,
    WeeklyCheckDone,
)
from cerniera.shared.envelope import Envelope, InvalidRecord, decode
from cerniera.shared.messaging import dlq
from cerniera.shared.settings import KafkaSettings


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    key: str | None
    event_type: str | None
    consumer: str | None
    reason_code: str | None
    reason: str | None

    def describe(self) -> str:
        return (
            f"{self.topic}: {self.event_type} of {self.key}, dead-lettered by {self.consumer} "
            f"({self.reason_code}: {(self.reason or '')[:160]})"
        )


def _ids() -> defaultdict[str, set[str]]:
    return defaultdict(set)


@dataclass
class Observed:
    """Distinct event ids per business key, by what they are."""

    confirmed: defaultdict[str, set[str]] = field(default_factory=_ids)
    rejected: defaultdict[str, set[str]] = field(default_factory=_ids)
    package: dict[str, list[str]] = field(default_factory=dict)
    """The services of a case's package, from its (first) EligibilityConfirmed."""
    requested: defaultdict[str, set[str]] = field(default_factory=_ids)
    """By request id."""
    request_case: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Request id -> (case id, service type)."""
    activated: defaultdict[str, set[str]] = field(default_factory=_ids)
    deactivated: defaultdict[str, set[str]] = field(default_factory=_ids)
    escalated: defaultdict[str, set[tuple[str, str]]] = field(
        default_factory=lambda: defaultdict(set)
    )
    """Case -> (service type, reason)."""
    checks: defaultdict[tuple[str, int], set[str]] = field(default_factory=lambda: defaultdict(set))
    closed: defaultdict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))
    """Case -> event id -> outcome."""
    closed_on: dict[str, date] = field(default_factory=dict)
    """Case -> the (Italian) day of its first closure."""
    continuing: dict[str, set[str]] = field(default_factory=dict)
    """Case -> the services that go on under the municipality (``CaseHandedOver``)."""
    thresholds: defaultdict[tuple[str, str, int], set[str]] = field(
        default_factory=lambda: defaultdict(set)
    )
    reports: defaultdict[tuple[str, str], set[str]] = field(
        default_factory=lambda: defaultdict(set)
    )
    """(provider id, delivery_ref) -> event ids of the HoursDelivered that reported it."""
    dead_letters: list[DeadLetter] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    types: Counter[str] = field(default_factory=Counter)
    duplicates_sent: int = 0
    by_case: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    """Case -> service type -> request ids, in the order they were first seen."""

    def requests_of(self, case_id: str) -> dict[str, list[str]]:
        """Service type -> request ids, for one case."""
        return self.by_case.get(case_id, {})

    def account(self, event: Envelope) -> None:
        data = event.data
        self.types[event.type] += 1
        eid = event.id
        if isinstance(data, EligibilityConfirmed):
            self.confirmed[data.case_id].add(eid)
            self.package.setdefault(data.case_id, [s.service_type.value for s in data.services])
        elif isinstance(data, EligibilityRejected):
            self.rejected[data.case_id].add(eid)
        elif isinstance(data, ServiceActivationRequested):
            self.requested[data.request_id].add(eid)
            if data.request_id not in self.request_case:
                service = data.service_type.value
                self.request_case[data.request_id] = (data.case_id, service)
                by_service = self.by_case.setdefault(data.case_id, {})
                by_service.setdefault(service, []).append(data.request_id)
        elif isinstance(data, ServiceActivated):
            self.activated[data.request_id].add(eid)
        elif isinstance(data, ServiceDeactivated):
            self.deactivated[data.request_id].add(eid)
        elif isinstance(data, ServiceActivationEscalated):
            self.escalated[data.case_id].add((data.service_type.value, data.reason.value))
        elif isinstance(data, WeeklyCheckDone):
            self.checks[(data.case_id, data.week)].add(eid)
        elif isinstance(data, CaseHandedOver):
            self.continuing[data.case_id] = {s.value for s in data.continuing}
        elif isinstance(data, CaseClosed):
            self.closed[data.case_id][eid] = data.outcome.value
            self.closed_on.setdefault(data.case_id, italian_date(data.closed_at))
        elif isinstance(data, BudgetThresholdReached):
            key = (data.ambito_id, data.funding_source, data.threshold_percent)
            self.thresholds[key].add(eid)
        elif isinstance(data, HoursDelivered):
            self.reports[(data.provider_id, data.delivery_ref)].add(eid)

    def dead_letter(self, record: Any) -> None:
        headers = {k: bytes(v).decode("utf-8", "replace") for k, v in record.headers or ()}
        key = record.key.decode("utf-8", "replace") if record.key is not None else None
        self.dead_letters.append(
            DeadLetter(
                topic=record.topic,
                key=key,
                event_type=headers.get("ce_type"),
                consumer=headers.get(dlq.CONSUMER),
                reason_code=headers.get(dlq.REASON_CODE),
                reason=headers.get(dlq.REASON),
            )
        )


class Watcher:
    """Reads every topic and dead-letter topic from the start, into ``observed``; knows how
    far each partition goes (its high watermark, from the fetches: the dev broker's
    ``end_offsets`` cannot be trusted) and whether it has read that far."""

    def __init__(
        self,
        settings: KafkaSettings,
        topics: Topics,
        producer: AIOKafkaProducer,
        dump: Path | None = None,
        *,
        providers: Sequence[str] = (),
    ) -> None:
        """``dump``: where to write every record read, one JSON line each (for post-mortems);
        ``providers``: whose own topics to read too."""
        self.settings = settings
        self.providers = list(providers)
        self.dump = dump
        self.topics = topics
        self.producer = producer
        self.observed = Observed()
        self.highwater: dict[TopicPartition, int] = {}
        self.read_to: dict[TopicPartition, int] = {}
        self.last_record_at = 0.0
        self._ours: set[str] = set()
        self._consumer: AIOKafkaConsumer | None = None
        self.started = asyncio.Event()

    @property
    def caught_up(self) -> bool:
        return bool(self.highwater) and all(
            self.read_to.get(tp, 0) >= end for tp, end in self.highwater.items()
        )

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(
            **self.settings.client_params(),
            enable_auto_commit=False,
            client_id="chaos-watcher",
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )
        await consumer.start()
        self._consumer = consumer
        dump = self.dump.open("w", encoding="utf-8") if self.dump is not None else None
        try:
            partitions = [
                TopicPartition(name, p)
                for name in self.topics.all_with_dlq(self.providers)
                for p in sorted(consumer.partitions_for_topic(name) or [])
            ]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            self.started.set()
            while True:
                batch = await consumer.getmany(timeout_ms=200, max_records=5000)
                for tp, records in batch.items():
                    for record in records:
                        await self._read(record, dump)
                    if records:
                        self.read_to[tp] = records[-1].offset + 1
                        self.last_record_at = asyncio.get_running_loop().time()
                for tp in partitions:
                    end = consumer.highwater(tp)
                    if end is not None:
                        self.highwater[tp] = end
        finally:
            if dump is not None:
                dump.close()
            self._consumer = None
            await consumer.stop()

    async def _read(self, record: Any, dump: IO[str] | None) -> None:
        if Topics.is_dlq(record.topic):
            self.observed.dead_letter(record)
            _write(dump, record, None)
            return
        try:
            event = decode(record.value, record.headers)
        except InvalidRecord as invalid:
            self.observed.unreadable.append(f"{record.topic}: {invalid.code}")
            _write(dump, record, None)
            return
        _write(dump, record, event)
        if isinstance(event.data, ServiceDeactivated) and self.topics.provider_of(record.topic):
            return  # the provider's copy of a deactivation: counted once, on activation.services
        self.observed.account(event)
        if isinstance(event.data, HoursDelivered) and event.id not in self._ours:
            await self._send_again(record, event)

    async def _send_again(self, record: Any, event: Envelope) -> None:
        """The same delivery line reported once more, as a new event."""
        again = dataclasses.replace(event, id=str(uuid.uuid4()))
        self._ours.add(again.id)
        value, headers = again.to_binary()
        await self.producer.send(record.topic, value=value, key=record.key, headers=headers)
        self.observed.duplicates_sent += 1


def _write(dump: IO[str] | None, record: Any, event: Envelope | None) -> None:
    if dump is None:
        return
    line: dict[str, Any] = {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "read_at": time.time(),
    }
    if event is None:
        line["headers"] = {k: bytes(v).decode("utf-8", "replace") for k, v in record.headers}
    else:
        line.update(
            type=event.type,
            id=event.id,
            time=event.time.isoformat(),
            source=event.source,
            subject=event.subject,
            correlationid=event.correlation_id,
            causationid=event.causation_id,
            data=event.data.model_dump(mode="json"),
        )
    dump.write(json.dumps(line) + "\n")
