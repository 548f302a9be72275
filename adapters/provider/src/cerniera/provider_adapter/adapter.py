"""The Kafka side of the provider adapter: read requests, answer them, report deliveries.

One process serves one or more provider ids (the demo runs several simulated providers in
one). It reads only its providers' own request topics, ``activation.requests.<provider_id>``
(a provider's Kafka principal may read that topic and nothing else), in a consumer group of its
own, writes only to their report topics, ``providers.reports.<provider_id>``, keeps what it
learns in memory, and a loop (woken by new requests, else every ``tick_s`` real seconds) asks the
policy for decisions, publishes the answers that are due and reports each service's deliveries
for every (simulated) day that has passed.

State lives in memory, so offsets are deliberately never committed (``AckPolicy.MANUAL``,
never acknowledged): every start re-reads the topic from the beginning and rebuilds the state.
The policy's answers are a function of the request (seeded by its id, timed from its
``ce_time``), so the replay repeats the same answers and the same ``delivery_ref`` lines, which
Cerniera treats as repeats. A production adapter persists its state (requests, answers, days
reported) in its own database and commits offsets after each write (``AckPolicy.ACK``):
a restart must neither re-report months of deliveries nor lose an answer it was about to give.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage

from cerniera.provider_adapter.policy import (
    Accept,
    AcceptedService,
    Decision,
    Decline,
    ProviderPolicy,
    Silence,
    SimulatedPolicy,
    due_days,
)
from cerniera.shared.clock import Clock, italian_date
from cerniera.shared.contract import (
    EventData,
    HoursDelivered,
    ServiceActivationAccepted,
    ServiceActivationDeclined,
    ServiceActivationRequested,
    ServiceDeactivated,
    Topics,
    provenance,
)
from cerniera.shared.envelope import Envelope, InvalidRecord, decode
from cerniera.shared.lifecycle import Started
from cerniera.shared.messaging.kafka import make_broker, make_producer
from cerniera.shared.messaging.parking import DISCARD_FOR, REPLAY_FOR, header
from cerniera.shared.settings import KafkaSettings

__all__ = [
    "AdapterStats",
    "ProviderAdapter",
    "Stage",
    "TrackedRequest",
    "default_group_id",
    "provider_source",
    "run_adapter",
    "subscribes",
]

log = structlog.get_logger(__name__)


def subscribes(topics: Topics, providers: Sequence[str]) -> list[str]:
    """The topics an adapter reads: each of its providers' own requests (and their
    deactivations); never another provider's, never the shared ``activation.services``."""
    return [topics.provider_requests(p) for p in dict.fromkeys(providers)]


def provider_source(provider_id: str) -> str:
    """The ``ce_source`` of everything a provider publishes."""
    return f"urn:dp:provider:{provider_id}"


def default_group_id(providers: Sequence[str]) -> str:
    """One consumer group per set of providers: every process must see all its providers'
    requests, so two processes serving different providers never share a group."""
    names = "+".join(sorted(set(providers)))
    if len(names) > 200:
        names = hashlib.sha256(names.encode()).hexdigest()[:16]
    return f"provider-adapter.{names}"


class Stage(StrEnum):
    RECEIVED = "received"
    """New or updated: the policy has not decided yet."""
    DECIDED = "decided"
    """Decided: the answer is published at ``due_at``."""
    ANSWERED = "answered"
    SILENT = "silent"
    """The policy chose not to answer."""


@dataclass
class TrackedRequest:
    """What the adapter knows about one request (by ``request_id``), latest version first."""

    envelope: Envelope
    version: int = 1
    stage: Stage = Stage.RECEIVED
    decision: Decision | None = None
    due_at: datetime | None = None
    start: date | None = None
    """First day of service, once an acceptance has been published."""
    until: date | None = None
    """Last day of service, once activation deactivated it."""
    reported_through: date | None = None
    """Deliveries are reported up to and including this day."""

    @property
    def request(self) -> ServiceActivationRequested:
        data = self.envelope.data
        assert isinstance(data, ServiceActivationRequested)
        return data

    def update(self, envelope: Envelope) -> None:
        """The same request again (e.g. a new ``start_by``): decide and answer it anew.
        Deliveries pause until the new answer; days already reported stay reported."""
        self.envelope = envelope
        self.version += 1
        self.stage = Stage.RECEIVED
        self.decision = None
        self.due_at = None

    def decide(self, decision: Decision, due_at: datetime) -> None:
        self.decision = decision
        self.stage = Stage.SILENT if isinstance(decision, Silence) else Stage.DECIDED
        self.due_at = None if isinstance(decision, Silence) else due_at

    def service(self) -> AcceptedService | None:
        """The service as accepted, while its acceptance stands (not while an update waits)."""
        if self.stage is not Stage.ANSWERED or self.start is None:
            return None
        return AcceptedService(self.request, self.start, self.until)


@dataclass
class AdapterStats:
    requests: int = 0
    updates: int = 0
    accepted: int = 0
    declined: int = 0
    silent: int = 0
    deliveries: int = 0
    skipped: int = 0
    """Records that could not be read, or that name another provider than their topic (a
    production adapter dead-letters them)."""


async def _undecoded(msg: StreamMessage[Any]) -> None:
    # FastStream would json.loads every body first; ``decode`` reads the records instead.
    return None


class ProviderAdapter(Started):
    """Serves ``providers`` with ``policy`` (one for all, or one per provider id).

    ``start()``/``stop()`` or ``async with adapter.running():``; the demo runs it in-process.
    """

    def __init__(
        self,
        providers: Sequence[str],
        policy: ProviderPolicy | Mapping[str, ProviderPolicy] | None = None,
        *,
        kafka: KafkaSettings | None = None,
        clock: Clock | None = None,
        group_id: str | None = None,
        tick_s: float = 0.5,
    ) -> None:
        if not providers:
            raise ValueError("serve at least one provider id")
        policy = policy if policy is not None else SimulatedPolicy()
        if isinstance(policy, Mapping):
            missing = [p for p in providers if p not in policy]
            if missing:
                raise ValueError(f"no policy for provider(s) {', '.join(missing)}")
            self._policies: dict[str, ProviderPolicy] = {p: policy[p] for p in providers}
        else:
            self._policies = dict.fromkeys(providers, policy)
        self.kafka = kafka or KafkaSettings()
        self.clock = clock or Clock.from_settings()
        self.topics = Topics(prefix=self.kafka.topic_prefix)
        self.group_id = group_id or default_group_id(providers)
        self.tick_s = tick_s
        self.stats = AdapterStats()
        self._requests: dict[str, TrackedRequest] = {}
        self._wake = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        self._loop: asyncio.Task[None] | None = None
        self.broker = self._make_broker()

    @property
    def providers(self) -> list[str]:
        return list(self._policies)

    @property
    def requests(self) -> Mapping[str, TrackedRequest]:
        """Every request seen for the providers served, by request id (read only)."""
        return self._requests

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        self._producer = make_producer(self.kafka, client_id=f"{self.group_id}.producer")
        await self._producer.start()
        await self.broker.start()
        self._loop = asyncio.create_task(self._run(), name="provider-adapter")
        log.info("adapter.started", providers=self.providers, group_id=self.group_id)

    async def stop(self) -> None:
        await self.broker.stop()
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
            self._loop = None
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
        log.info("adapter.stopped", providers=self.providers, stats=vars(self.stats))

    # --- consuming ------------------------------------------------------------------------

    def _make_broker(self) -> KafkaBroker:
        broker = make_broker(self.kafka, client_id=self.group_id)

        @broker.subscriber(  # type: ignore[untyped-decorator]
            *subscribes(self.topics, self.providers),
            batch=True,
            max_records=self.kafka.max_batch_records,
            group_id=self.group_id,
            # Never acknowledged: the state is in memory, so a restart must read it all again.
            ack_policy=AckPolicy.MANUAL,
            decoder=_undecoded,
            # auto_offset_reset="earliest" (a new group reads everything), short sessions.
            **self.kafka.consumer_params(),
            title="provider-adapter",
        )
        async def consume(msg: KafkaMessage) -> None:
            records = msg.raw_message if isinstance(msg.raw_message, tuple) else (msg.raw_message,)
            for record in records:
                self._read(record)

        return broker

    def _read(self, record: Any) -> None:
        if header(record, REPLAY_FOR) or header(record, DISCARD_FOR):
            return  # an operator's replay or discard, for one of Cerniera's own services
        try:
            event = decode(record.value, record.headers)
        except InvalidRecord as invalid:
            if invalid.code == "cloudevents.unknown_type":
                return  # an event the contract added after this adapter was written
            # Outside the platform there is no dead-letter topic of ours to write to; a
            # production adapter sends the record to its own and alerts (see the README).
            self._skip(record, invalid.code, invalid.detail)
            return
        # Only what activation may write on this provider's topic: the contract's event types,
        # from activation's source, for this provider (the platform's provenance rule).
        refused = provenance.refusal(record.topic, event.data, event.source, self.topics.prefix)
        if refused is not None:
            self._skip(record, "source.not_allowed", refused)
            return
        self.receive(event)

    def _skip(self, record: Any, code: str, detail: str) -> None:
        self.stats.skipped += 1
        log.warning(
            "record.skipped",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            code=code,
            detail=detail,
        )

    def receive(self, event: Envelope) -> None:
        """Take one event from a provider's request topic; other types are ignored."""
        data = event.data
        if isinstance(data, ServiceActivationRequested) and data.provider_id in self._policies:
            tracked = self._requests.get(data.request_id)
            if tracked is None:
                self._requests[data.request_id] = TrackedRequest(event)
                self.stats.requests += 1
            elif tracked.envelope.id != event.id:  # the same event redelivered is no update
                tracked.update(event)
                self.stats.updates += 1
            self._wake.set()
        elif isinstance(data, ServiceDeactivated) and data.provider_id in self._policies:
            tracked = self._requests.get(data.request_id)
            if tracked is None:
                log.warning("deactivation.unknown_request", request_id=data.request_id)
                return
            tracked.until = data.until

    # --- answering ------------------------------------------------------------------------

    def answer(self, request_id: str, decision: Accept | Decline) -> None:
        """Answer a request now (plus ``decision.delay``), e.g. when a real provider's
        coordinator decided in its own system after the policy returned ``Silence``."""
        tracked = self._requests.get(request_id)
        if tracked is None:
            raise KeyError(f"unknown request {request_id!r}")
        tracked.decide(decision, self.clock.now() + decision.delay)
        self._wake.set()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.tick()
            except Exception:
                log.exception("tick.failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.tick_s)

    async def tick(self) -> None:
        """Decide what is new, publish the answers that are due, report the days passed."""
        await self._decide_new()
        now, today = self.clock.now(), self.clock.today()
        sent: list[tuple[Awaitable[Any], Callable[[], None]]] = []
        for tracked in list(self._requests.values()):
            try:
                if tracked.stage is Stage.DECIDED and tracked.due_at and tracked.due_at <= now:
                    sent.append(await self._send_answer(tracked))
                elif (service := tracked.service()) is not None:
                    days = due_days(service.start, tracked.reported_through, service.until, today)
                    if days:
                        sent.append(await self._send_deliveries(tracked, service, days))
            except Exception:
                log.exception("publish.failed", request_id=tracked.request.request_id)
        for acknowledged, then in sent:
            try:
                await acknowledged
            except Exception as error:  # not recorded as done: sent again at the next tick
                log.warning("publish.unacknowledged", error=repr(error))
                continue
            then()

    async def _decide_new(self) -> None:
        for tracked in [t for t in self._requests.values() if t.stage is Stage.RECEIVED]:
            request, version = tracked.request, tracked.version
            try:
                decision = await self._policies[request.provider_id].decide(
                    request, tracked.envelope.time
                )
            except Exception:
                log.exception("decide.failed", request_id=request.request_id)
                continue  # decided again at the next tick
            if tracked.version != version or tracked.stage is not Stage.RECEIVED:
                continue  # updated (or answered by hand) meanwhile: that one stands
            delay = decision.delay if not isinstance(decision, Silence) else timedelta(0)
            tracked.decide(decision, tracked.envelope.time + delay)
            if isinstance(decision, Silence):
                self.stats.silent += 1
                log.info("request.silent", request_id=request.request_id)

    async def _send_answer(
        self, tracked: TrackedRequest
    ) -> tuple[Awaitable[Any], Callable[[], None]]:
        request, decision = tracked.request, tracked.decision
        data: EventData
        if isinstance(decision, Accept):
            data = ServiceActivationAccepted(
                request_id=request.request_id,
                provider_id=request.provider_id,
                scheduled_start=decision.start,
            )
        elif isinstance(decision, Decline):
            data = ServiceActivationDeclined(
                request_id=request.request_id,
                provider_id=request.provider_id,
                reason_code=decision.reason,
                note=decision.note,
            )
        else:
            raise AssertionError(f"no answer to send for {decision!r}")
        acknowledged = await self._send(tracked, data)
        return acknowledged, partial(self._answered, tracked, tracked.version, decision)

    def _answered(self, tracked: TrackedRequest, version: int, decision: Accept | Decline) -> None:
        log.info(
            "request.answered",
            request_id=tracked.request.request_id,
            provider_id=tracked.request.provider_id,
            answer=type(decision).__name__,
        )
        if isinstance(decision, Accept):
            self.stats.accepted += 1
        else:
            self.stats.declined += 1
        if tracked.version != version:
            return  # updated while the answer was in flight: the update is answered next
        tracked.stage = Stage.ANSWERED
        # A decline of an updated request stops a service accepted before.
        tracked.start = italian_date(decision.start) if isinstance(decision, Accept) else None

    # --- delivering -----------------------------------------------------------------------

    async def _send_deliveries(
        self, tracked: TrackedRequest, service: AcceptedService, days: Sequence[date]
    ) -> tuple[Awaitable[Any], Callable[[], None]]:
        """Report ``days`` in order; they count as reported once Kafka has every line."""
        request = service.request
        policy = self._policies[request.provider_id]
        acknowledgements = []
        for day in days:
            for line in await policy.deliveries(service, day):
                data = HoursDelivered(
                    case_id=request.case_id,
                    provider_id=request.provider_id,
                    service_type=request.service_type,
                    delivered_on=day,
                    **asdict(line),
                )
                acknowledgements.append(await self._send(tracked, data))
        return asyncio.gather(*acknowledgements), partial(
            self._reported, tracked, days[-1], len(acknowledgements)
        )

    def _reported(self, tracked: TrackedRequest, last: date, lines: int) -> None:
        if tracked.reported_through is None or last > tracked.reported_through:
            tracked.reported_through = last
        self.stats.deliveries += lines

    # --- publishing -----------------------------------------------------------------------

    async def _send(self, tracked: TrackedRequest, data: EventData) -> Awaitable[Any]:
        """Queue one event caused by the request on its provider's own reports topic; return
        what resolves when Kafka has it.

        Key and subject are the case id, so the case's reports stay in order; the correlation
        id is the request's, the causation id the request's ``ce_id``."""
        assert self._producer is not None, "the adapter is not started"
        request = tracked.request
        event = tracked.envelope.caused(
            data,
            source=provider_source(request.provider_id),
            subject=request.case_id,
            time=self.clock.now(),
        )
        value, headers = event.to_binary()
        acknowledged: Awaitable[Any] = await self._producer.send(
            self.topics.provider_reports(request.provider_id),
            value=value,
            key=request.case_id.encode(),
            headers=headers,
        )
        return acknowledged


async def run_adapter(adapter: ProviderAdapter, stop: asyncio.Event | None = None) -> AdapterStats:
    """Run ``adapter`` until ``stop`` is set (or the task is cancelled); return its counts."""
    async with adapter.running():
        await (stop or asyncio.Event()).wait()
    return adapter.stats
