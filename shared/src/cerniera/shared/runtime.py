"""How a service runs: database, outbox relay, broker and its one batch subscriber, wired once.

Every service describes itself with a ``ServiceSpec`` (name, schema, tables, handlers, topics);
``ServiceRuntime`` does the rest, the same way for all of them, in production and in tests.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Table, delete, text

from cerniera.shared.access.audit import AuditLog
from cerniera.shared.access.tokens import OidcSettings, TokenVerifier
from cerniera.shared.access.web import Access
from cerniera.shared.clock import Clock
from cerniera.shared.contract import Topics
from cerniera.shared.lifecycle import Started
from cerniera.shared.messaging.consumer import EventConsumer, Handlers
from cerniera.shared.messaging.dlq import DeadLetters
from cerniera.shared.messaging.kafka import (
    make_broker,
    make_producer,
    provision_topics,
    start_producer,
)
from cerniera.shared.messaging.middleware import RetryMiddleware
from cerniera.shared.messaging.parking import Parking
from cerniera.shared.outages import is_transient
from cerniera.shared.persistence import migrations
from cerniera.shared.persistence.db import make_engine
from cerniera.shared.persistence.inbox import Inbox
from cerniera.shared.persistence.outbox import Database
from cerniera.shared.persistence.relay import OutboxRelay
from cerniera.shared.settings import DatabaseSettings, KafkaSettings

log = structlog.get_logger(__name__)


Periodic = Callable[["ServiceRuntime"], Awaitable[object]]


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    """Service name: also its schema, consumer group and Kafka client id."""
    outbox: Table
    inbox: Table
    migrations: Path
    subscribes: Callable[[Topics], list[str]]
    handlers: Callable[[ServiceRuntime], Handlers]
    publishes: Callable[[Topics], list[str]] = lambda topics: []
    """Per-provider topics the service writes (activation: each provider's requests), created
    at start with the shared topics and those it subscribes to."""
    periodic: Periodic | None = None
    """Work driven by time, not events (deadlines, due checks): run every ``period_s``."""
    period_s: float = 1.0
    http: Callable[[ServiceRuntime], Any] | None = None
    """An ASGI app served beside the consumer, on ``HTTP_PORT``: built with
    ``cerniera.shared.http.service_app``, which adds ``/health`` and ``/metrics``."""
    http_port: int = 8000

    @property
    def source(self) -> str:
        return f"urn:dp:service:{self.name}"


class ServiceSettings(BaseSettings):
    """``HTTP_HOST`` / ``HTTP_PORT`` for services with an HTTP API (0 = any free port);
    ``INBOX_RETENTION_DAYS``: how long processed event ids are kept for deduplication."""

    model_config = SettingsConfigDict(extra="ignore")

    http_host: str = "0.0.0.0"
    http_port: int | None = None
    # Longer than the topics' retention (Kafka's default is 7 days): an event can only be
    # redelivered while its topic still holds it, so older ids can no longer be duplicates.
    inbox_retention_days: float = Field(default=30.0, gt=0)
    inbox_prune_interval_s: float = Field(default=3600.0, gt=0)
    parked_drain_interval_s: float = Field(default=2.0, gt=0)
    # A record that fails on its own is tried this often, waiting 0.25 s, then twice as long
    # each time: about 8 s in all, so that a database restart does not dead-letter it.
    event_max_attempts: int = Field(default=6, ge=1)
    event_retry_delay_s: float = Field(default=0.25, ge=0)


async def _undecoded(msg: StreamMessage[Any]) -> None:
    return None


class ServiceRuntime(Started):
    def __init__(
        self,
        spec: ServiceSpec,
        kafka: KafkaSettings | None = None,
        database: DatabaseSettings | None = None,
        *,
        clock: Clock | None = None,
        service: ServiceSettings | None = None,
        migrate: bool = True,
        provision: bool = True,
        relay: bool = True,
        oidc: OidcSettings | None = None,
    ) -> None:
        """``relay=False`` consumes and commits without publishing the outbox: what a process
        that dies between its commit and its publish leaves behind (used by the tests)."""
        self.spec = spec
        self.kafka = kafka or KafkaSettings()
        self.database = database or DatabaseSettings()
        self.clock = clock or Clock.from_settings()
        self.service = service or ServiceSettings()
        self.topics = Topics(prefix=self.kafka.topic_prefix)
        self._migrate = migrate
        self._provision = provision
        self._relay = relay
        self.engine = make_engine(self.database, schema=spec.name)
        self.db = Database(self.engine, spec.outbox, self.topics, spec.source, self.clock)
        self.access = Access(
            TokenVerifier.from_settings(oidc or OidcSettings()), AuditLog(self.engine)
        )
        self.dead_letters = DeadLetters(consumer=spec.name)
        self.consumer = EventConsumer(
            name=spec.name,
            db=self.db,
            inbox=Inbox(spec.inbox, spec.name),
            handlers=spec.handlers(self),
            dead_letters=self.dead_letters,
            topics=self.topics,
            parking=Parking(self.engine, spec.name, spec.name),
            max_attempts=self.service.event_max_attempts,
            retry_delay=self.service.event_retry_delay_s,
        )
        self.broker = self._make_broker()
        self.relay: OutboxRelay | None = None
        self._producer: AIOKafkaProducer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._http: Any = None
        self.http_url: str | None = None

    def _make_broker(self) -> KafkaBroker:
        broker = make_broker(
            self.kafka, client_id=self.spec.name, middlewares=[RetryMiddleware(self.spec.name)]
        )
        consumer = self.consumer
        topics = self.spec.subscribes(self.topics)
        if not topics:  # a service fed only by HTTP or sockets (e.g. a gateway)
            return broker

        @broker.subscriber(  # type: ignore[untyped-decorator]
            *topics,
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
        """Schema and topics: everything the service needs before it consumes. A database
        that is not there yet (starting, failing over) is waited for, not a reason to exit."""
        if self._migrate:
            delay = 0.5
            while True:
                try:
                    await migrations.upgrade(
                        self.spec.migrations, self.database.database_url, self.spec.name
                    )
                    break
                except Exception as error:
                    if not is_transient(error):
                        raise
                    log.warning("database.unavailable", retry_in_s=delay, error=repr(error))
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 10.0)
        if self._provision:
            own = [*self.spec.subscribes(self.topics), *self.spec.publishes(self.topics)]
            await provision_topics(self.kafka, [*self.topics.all(), *own])

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
        await start_producer(self._producer, self.kafka)
        self.dead_letters.producer = self._producer
        self.relay = OutboxRelay(self.db, self._producer)
        if self._relay:
            self._tasks.append(asyncio.create_task(self.relay.run(), name="outbox-relay"))
        if (periodic := self.spec.periodic) is not None:
            self._repeat("periodic", lambda: periodic(self), self.spec.period_s, "periodic.failed")
        self._repeat(
            "inbox-prune",
            self._prune_inbox,
            self.service.inbox_prune_interval_s,
            "inbox.prune_failed",
        )
        # Released cases' waiting records are applied with the next batch, or here when no
        # batch comes (a discarded dead letter on a quiet topic).
        self._repeat(
            "parked-drain",
            self.consumer.drain,
            self.service.parked_drain_interval_s,
            "parked.drain_failed",
            wait_first=True,
        )
        if self.spec.http is not None:
            await self._serve_http()

    def _repeat(
        self,
        name: str,
        work: Callable[[], Awaitable[object]],
        every_s: float,
        failed: str,
        *,
        wait_first: bool = False,
    ) -> None:
        """A task that runs ``work`` every ``every_s`` seconds (at once, unless ``wait_first``)
        until the service stops; a failure is logged as ``failed`` and the next time comes."""

        async def repeat() -> None:
            if wait_first:
                await asyncio.sleep(every_s)
            while True:
                try:
                    await work()
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    if is_transient(error):  # retried at the next round: no traceback
                        log.warning(failed, service=self.spec.name, error=type(error).__name__)
                    else:
                        log.exception(failed, service=self.spec.name)
                await asyncio.sleep(every_s)

        self._tasks.append(asyncio.create_task(repeat(), name=name))

    async def prune_inbox(self) -> int:
        """Forget processed event ids older than the retention; return how many."""
        inbox = self.spec.inbox
        cutoff = datetime.now(UTC) - timedelta(days=self.service.inbox_retention_days)
        async with self.engine.begin() as conn:
            result = await conn.execute(delete(inbox).where(inbox.c.processed_at < cutoff))
        return int(result.rowcount or 0)

    async def _prune_inbox(self) -> None:
        if pruned := await self.prune_inbox():
            log.info("inbox.pruned", service=self.spec.name, rows=pruned)

    async def _serve_http(self) -> None:
        import uvicorn

        assert self.spec.http is not None
        port = self.service.http_port
        app = self.spec.http(self)
        config = uvicorn.Config(
            app,
            host=self.service.http_host,
            port=self.spec.http_port if port is None else port,
            log_config=None,
            lifespan="off",
        )
        self._http = uvicorn.Server(config)
        self._tasks.append(asyncio.create_task(self._http.serve(), name="http"))
        while not self._http.started:
            if self._tasks[-1].done():
                self._tasks[-1].result()  # raises the reason it could not start
            await asyncio.sleep(0.02)
        host, bound = self._http.servers[0].sockets[0].getsockname()[:2]
        self.http_url = f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{bound}"
        log.info("http.listening", service=self.spec.name, url=self.http_url)
        if self.access.verifier is None:
            log.error(
                "http.no_identity_provider",
                service=self.spec.name,
                hint="set OIDC_ISSUER: until then every route but /health answers 503",
            )

    @property
    def stopping(self) -> bool:
        """Shutting down: long responses (server-sent events) should end now, or the HTTP
        server waits for them."""
        return self._http is not None and bool(self._http.should_exit)

    async def database_reachable(self) -> bool:
        try:
            async with asyncio.timeout(2):
                async with self.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
        except Exception:
            log.warning("health.database_unavailable", service=self.spec.name, exc_info=True)
            return False
        return True

    async def broker_reachable(self) -> bool:
        if self._producer is None:
            return False
        try:
            async with asyncio.timeout(2):
                await self._producer.client.fetch_all_metadata()
        except Exception:
            log.warning("health.broker_unavailable", service=self.spec.name, exc_info=True)
            return False
        return True

    async def _close(self) -> None:
        if self._http is not None:
            self._http.should_exit = True
        for task in self._tasks:
            if task.get_name() != "http":
                task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self._http = None
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
        await self.engine.dispose()

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
