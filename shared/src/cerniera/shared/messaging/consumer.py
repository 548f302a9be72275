"""Batch consumption with effectively-once effects.

A batch of records becomes one database transaction: the inbox claims the event ids, the
handlers run in record order (so each case's events keep their order), the outbox rows are
written, and the transaction commits before the offsets do. A batch that fails for a reason
other than unavailable infrastructure is replayed one record at a time, so that only the
record at fault is retried and, in the end, dead-lettered; the rest of the partition goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

import structlog
from aiokafka.errors import KafkaError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from cerniera.shared import metrics
from cerniera.shared.causation import handling
from cerniera.shared.contract import EventData
from cerniera.shared.envelope import Envelope, InvalidRecord, decode
from cerniera.shared.messaging.dlq import Record
from cerniera.shared.persistence.outbox import UnitOfWork
from cerniera.shared.refusals import Refused

log = structlog.get_logger(__name__)

EventHandler = Callable[[UnitOfWork, Envelope], Awaitable[None]]
Handler = Callable[[UnitOfWork, Sequence[Envelope]], Awaitable[None]]
"""Handles a run of consecutive events of one type, in order. A handler may apply the run in
bulk (one statement for many events); ``per_event`` adapts one that takes them one by one."""


def per_event(handler: EventHandler) -> Handler:
    async def handle(uow: UnitOfWork, events: Sequence[Envelope]) -> None:
        for event in events:
            with handling(event):
                await handler(uow, event)

    return handle


def runs(events: Sequence[Envelope]) -> list[list[Envelope]]:
    """Split into maximal runs of consecutive events of the same type. Handling runs in order
    keeps every case's events in their order, while a run can be applied in bulk."""
    grouped: list[list[Envelope]] = []
    for event in events:
        if grouped and type(grouped[-1][0].data) is type(event.data):
            grouped[-1].append(event)
        else:
            grouped.append([event])
    return grouped


def is_transient(error: BaseException) -> bool:
    """Infrastructure trouble: retrying the same batch later may succeed, and dead-lettering
    would wrongly condemn good records."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(
        error, OperationalError | InterfaceError | KafkaError | OSError | TimeoutError
    )


class Transactions(Protocol):
    """What the consumer needs of the database (``persistence.outbox.Database``)."""

    def unit_of_work(self) -> AbstractAsyncContextManager[UnitOfWork]: ...


class Claims(Protocol):
    """What the consumer needs of its inbox (``persistence.inbox.Inbox``): claim the events'
    keys in the transaction of ``conn``; return those never claimed before."""

    async def claim(
        self, conn: AsyncConnection, events: Sequence[Envelope]
    ) -> set[tuple[str, str]]: ...


class DeadLetterSink(Protocol):
    """Where records that can never be applied go (``messaging.dlq.DeadLetters``)."""

    async def send(self, record: Record, code: str, reason: str, attempts: int = 1) -> None: ...


@dataclass
class ConsumerStats:
    processed: int = 0
    duplicates: int = 0
    ignored: int = 0
    dead_lettered: int = 0
    batches: int = 0


class EventConsumer:
    """Decodes, deduplicates and handles batches of records for one consumer group."""

    def __init__(
        self,
        *,
        name: str,
        db: Transactions,
        inbox: Claims,
        handlers: Mapping[type[EventData], Handler],
        dead_letters: DeadLetterSink,
        max_attempts: int = 3,
        retry_delay: float = 0.1,
    ) -> None:
        self.name = name
        self._db = db
        self._inbox = inbox
        self._handlers = handlers
        self._dead_letters = dead_letters
        self._max_attempts = max_attempts
        self._retry_delay = retry_delay
        self.stats = ConsumerStats()

    async def process(self, records: Sequence[Record]) -> None:
        self.stats.batches += 1
        batch: list[tuple[Record, Envelope]] = []
        for record in records:
            try:
                event = decode(record.value, record.headers)
            except InvalidRecord as invalid:
                await self._dead_letter(record, invalid.code, invalid.detail)
                continue
            if type(event.data) in self._handlers:
                batch.append((record, event))
            else:
                self.stats.ignored += 1  # an event type on this topic that we do not act on
                metrics.EVENTS.labels(self.name, "ignored").inc()
        if not batch:
            return
        try:
            await self._apply([event for _, event in batch])
        except Exception as error:
            if is_transient(error):
                raise
            log.warning("batch.failed_isolating", size=len(batch), error=repr(error))
            for record, event in batch:
                await self._apply_alone(record, event)

    async def _apply(self, events: Sequence[Envelope]) -> None:
        async with self._db.unit_of_work() as uow:
            new = await self._inbox.claim(uow.conn, events)
            fresh = []
            for event in events:
                if event.dedup_key in new:
                    new.discard(event.dedup_key)  # the same event twice in one batch runs once
                    fresh.append(event)
            for run in runs(fresh):
                await self._handlers[type(run[0].data)](uow, run)
        self.stats.duplicates += len(events) - len(fresh)
        self.stats.processed += len(fresh)
        metrics.EVENTS.labels(self.name, "duplicate").inc(len(events) - len(fresh))
        metrics.EVENTS.labels(self.name, "processed").inc(len(fresh))

    async def _apply_alone(self, record: Record, event: Envelope) -> None:
        for attempt in range(1, self._max_attempts + 1):
            try:
                await self._apply([event])
                return
            except Refused as refused:  # a verdict on the event: retrying cannot help
                await self._dead_letter(record, refused.code, refused.message, attempt)
                return
            except Exception as error:
                if is_transient(error):
                    raise
                if attempt == self._max_attempts:
                    await self._dead_letter(record, "handler.failed", repr(error), attempt)
                    return
                log.warning("event.retrying", attempt=attempt, error=repr(error))
                await asyncio.sleep(self._retry_delay * 2 ** (attempt - 1))

    async def _dead_letter(self, record: Record, code: str, reason: str, attempts: int = 1) -> None:
        await self._dead_letters.send(record, code, reason, attempts)
        self.stats.dead_lettered += 1
        metrics.EVENTS.labels(self.name, "dead_lettered").inc()
