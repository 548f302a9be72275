"""How a service runs: database, outbox relay, broker and its one batch subscriber, wired once.

Every service describes itself with a ``ServiceSpec`` (name, schema, tables, handlers, topics);
``ServiceRuntime`` does the rest, the same way for all of them, in production and in tests.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from sqlalchemy import MetaData, Table

from cerniera.shared.contract import EventData, Topics
from cerniera.shared.messaging.consumer import EventConsumer, Handler
from cerniera.shared.messaging.dlq import DeadLetters
from cerniera.shared.messaging.kafka import make_broker, make_producer, provision_topics
from cerniera.shared.messaging.middleware import RetryMiddleware
from cerniera.shared.persistence import migrations
from cerniera.shared.persistence.db import make_engine
from cerniera.shared.persistence.outbox import Database, OutboxRelay
from cerniera.shared.settings import DatabaseSettings, KafkaSettings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    """Service name: also its schema, consumer group and Kafka client id."""
    metadata: MetaData
    outbox: Table
    inbox: Table
    migrations: Path
    subscribes: Callable[[Topics], list[str]]
    handlers: Callable[[Database], Mapping[type[EventData], Handler]]

    @property
    def source(self) -> str:
        return f"urn:dp:service:{self.name}"


async def _undecoded(msg: StreamMessage[Any]) -> None:
    return None


class ServiceRuntime:
    def __init__(
        self,
        spec: ServiceSpec,
        kafka: KafkaSettings | None = None,
        database: DatabaseSettings | None = None,
        *,
        migrate: bool = True,
        provision: bool = True,
    ) -> None:
        self.spec = spec
        self.kafka = kafka or KafkaSettings()
        self.database = database or DatabaseSettings()
        self.topics = Topics(prefix=self.kafka.topic_prefix)
        self._migrate = migrate
        self._provision = provision
        self.engine = make_engine(self.database, schema=spec.name)
        self.db = Database(self.engine, spec.outbox, self.topics, spec.source)
        self.dead_letters = DeadLetters(consumer=spec.name)
        self.consumer = EventConsumer(
            name=spec.name,
            db=self.db,
            inbox_table=spec.inbox,
            handlers=spec.handlers(self.db),
            dead_letters=self.dead_letters,
        )
        self.broker = self._make_broker()
        self.relay: OutboxRelay | None = None
        self._producer: AIOKafkaProducer | None = None
        self._relay_task: asyncio.Task[None] | None = None

    def _make_broker(self) -> KafkaBroker:
        broker = make_broker(self.kafka, client_id=self.spec.name, middlewares=[RetryMiddleware()])
        consumer = self.consumer

        @broker.subscriber(  # type: ignore[untyped-decorator]
            *self.spec.subscribes(self.topics),
            batch=True,
            max_records=self.kafka.max_batch_records,
            group_id=self.spec.name,
            # Offsets commit only after the batch's transaction has; errors seek back.
            ack_policy=AckPolicy.NACK_ON_ERROR,
            # FastStream would json.loads every body first, and a malformed one would fail
            # the whole batch forever; ``EventConsumer`` decodes (and dead-letters) instead.
            decoder=_undecoded,
            **self.kafka.consumer_params(),
            title=f"{self.spec.name}",
        )
        async def consume(msg: KafkaMessage) -> None:
            await consumer.process(msg.raw_message)

        return broker

    async def prepare(self) -> None:
        """Schema and topics: everything the service needs before it consumes."""
        if self._migrate:
            await migrations.upgrade(
                self.spec.migrations, self.database.database_url, self.spec.name
            )
        if self._provision:
            await provision_topics(self.kafka, self.topics.all())

    async def start(self) -> None:
        await self._open()
        await self.broker.start()
        log.info("service.started", service=self.spec.name, kafka=self.kafka.bootstrap_servers)

    async def stop(self) -> None:
        await self.broker.stop()
        await self._close()
        log.info("service.stopped", service=self.spec.name)

    async def _open(self) -> None:
        await self.prepare()
        # aiokafka clients belong to the running event loop: created here, not in __init__.
        self._producer = make_producer(self.kafka, client_id=f"{self.spec.name}-outbox")
        await self._producer.start()
        self.dead_letters.producer = self._producer
        self.relay = OutboxRelay(self.db, self._producer)
        self._relay_task = asyncio.create_task(self.relay.run(), name=f"{self.spec.name}-relay")

    async def _close(self) -> None:
        if self._relay_task is not None:
            self._relay_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._relay_task
            self._relay_task = None
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
        await self.engine.dispose()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ServiceRuntime]:
        await self.start()
        try:
            yield self
        finally:
            await self.stop()

    def app(self) -> FastStream:
        """A FastStream application (``faststream run``-compatible) around this runtime."""

        @contextlib.asynccontextmanager
        async def lifespan(*_: Any, **__: Any) -> AsyncIterator[None]:
            await self._open()
            try:
                yield
            finally:
                await self._close()

        return FastStream(self.broker, lifespan=lifespan)
