"""Transactional outbox: events are rows written with the business change, published after.

Nothing is ever published before its transaction commits, and nothing committed is lost: the
relay publishes rows in ``seq`` order and deletes them only once Kafka has acknowledged them.
A crash between the two publishes a row again; consumers deduplicate on the event id.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from cerniera.shared import metrics
from cerniera.shared.causation import current_cause
from cerniera.shared.clock import Clock
from cerniera.shared.contract import EventData, Topics
from cerniera.shared.envelope import Envelope

log = structlog.get_logger(__name__)


class UnitOfWork:
    """One database transaction. Handlers write through ``conn`` and ``emit`` events; both
    commit together or not at all."""

    def __init__(
        self, conn: AsyncConnection, outbox: Table, topics: Topics, source: str, clock: Clock
    ) -> None:
        self.conn = conn
        self._outbox = outbox
        self._topics = topics
        self._source = source
        self._clock = clock
        self.emitted: list[Envelope] = []

    def emit(
        self,
        data: EventData,
        *,
        subject: str,
        cause: Envelope | None = None,
        correlation_id: str | None = None,
    ) -> Envelope:
        """Queue ``data`` for publication, caused by ``cause`` or else by the event being
        handled (if any): the new event inherits its correlation id. Work with no cause (a
        timer, an operator's request) passes the case's ``correlation_id``; with none at all
        the event starts a new chain. An explicit ``correlation_id`` always wins."""
        cause = cause or current_cause()
        now = self._clock.now()  # the service's time, accelerated in the demo
        if cause is not None:
            event = cause.caused(data, source=self._source, subject=subject, time=now)
            if correlation_id is not None:  # the case's own chain wins over the cause's
                event = dataclasses.replace(event, correlation_id=correlation_id)
        else:
            event = Envelope(
                data=data,
                source=self._source,
                subject=subject,
                time=now,
                correlation_id=correlation_id,
            )
            if correlation_id is None:
                event = _start_correlation(event)
        self.emitted.append(event)
        return event

    async def flush(self) -> None:
        if not self.emitted:
            return
        rows = []
        for event in self.emitted:
            payload, headers = event.to_binary()
            rows.append(
                {
                    "event_id": event.id,
                    "topic": self._topics.for_event(type(event.data)),
                    "key": event.subject,
                    "event_type": event.type,
                    "headers": [[name, value.decode()] for name, value in headers],
                    "payload": payload,
                }
            )
        await self.conn.execute(insert(self._outbox), rows)


def _start_correlation(event: Envelope) -> Envelope:
    """An event with no cause starts a chain: its own id becomes the correlation id."""
    return Envelope(
        data=event.data,
        source=event.source,
        subject=event.subject,
        id=event.id,
        time=event.time,
        correlation_id=event.id,
    )


class Database:
    """A service's database: transactions that carry their outbox with them."""

    def __init__(
        self,
        engine: AsyncEngine,
        outbox: Table,
        topics: Topics,
        source: str,
        clock: Clock | None = None,
    ) -> None:
        self.engine = engine
        self.outbox = outbox
        self.topics = topics
        self.source = source
        self.clock = clock or Clock()
        self.committed_events = asyncio.Event()

    @asynccontextmanager
    async def unit_of_work(self, *, source: str | None = None) -> AsyncIterator[UnitOfWork]:
        """A transaction whose emitted events carry ``source`` (default: this service's; a
        gateway speaks for the hospital)."""
        async with self.engine.begin() as conn:
            uow = UnitOfWork(conn, self.outbox, self.topics, source or self.source, self.clock)
            yield uow
            await uow.flush()
        if uow.emitted:
            # Wake this process's relay now instead of at its next poll.
            self.committed_events.set()


class OutboxRelay:
    """Publishes outbox rows in order, in batches, and survives restarts (state is the table).

    One relay per schema publishes at a time (a PostgreSQL advisory lock), because two relays
    taking alternate batches could reorder a case's events.
    """

    def __init__(
        self,
        db: Database,
        producer: AIOKafkaProducer,
        *,
        batch_size: int = 1000,
        poll_interval: float = 0.25,
    ) -> None:
        self._db = db
        self._producer = producer
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._lock_name = f"cerniera.outbox.{db.outbox.schema}"
        self.published = 0

    async def run(self) -> None:
        backoff = self._poll_interval
        while True:
            try:
                count = await self.publish_pending()
                backoff = self._poll_interval
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox.publish_failed", retry_in_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            if count < self._batch_size:
                await self._wait_for_work()

    async def _wait_for_work(self) -> None:
        event = self._db.committed_events
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout=self._poll_interval)
        event.clear()

    async def publish_pending(self) -> int:
        """Publish one batch; return how many rows went out."""
        table = self._db.outbox
        async with self._db.engine.begin() as conn:
            locked = await conn.scalar(
                select(func.pg_try_advisory_xact_lock(func.hashtext(self._lock_name)))
            )
            if not locked:
                return 0
            rows = (
                await conn.execute(select(table).order_by(table.c.seq).limit(self._batch_size))
            ).all()
            service = table.schema or ""
            metrics.OUTBOX_PENDING.labels(service).set(len(rows))
            if not rows:
                return 0
            await self._send(rows)
            await conn.execute(delete(table).where(table.c.seq.in_([r.seq for r in rows])))
        self.published += len(rows)
        metrics.PUBLISHED.labels(service).inc(len(rows))
        return len(rows)

    async def _send(self, rows: Sequence[Any]) -> None:
        futures = []
        for row in rows:
            headers = [(name, value.encode()) for name, value in row.headers]
            key = row.key.encode() if row.key is not None else None
            futures.append(
                await self._producer.send(row.topic, value=row.payload, key=key, headers=headers)
            )
        # Every record acknowledged (acks=all) before the rows are deleted.
        await asyncio.gather(*futures)
