"""Transactional outbox: events are rows written with the business change, published after.

Nothing is ever published before its transaction commits, and nothing committed is lost: the
relay (``relay.OutboxRelay``) publishes rows in ``seq`` order and deletes them only once Kafka
has acknowledged them. A crash between the two publishes a row again; consumers deduplicate on
the event id.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import structlog
from sqlalchemy import LargeBinary, Table, Text, bindparam, cast, func, insert, select
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.dml import Insert

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
        self._before_commit: list[Callable[[], Awaitable[None]]] = []

    def before_commit(self, work: Callable[[], Awaitable[None]]) -> None:
        """Run ``work`` at the end of this transaction, in it, before the outbox is written:
        a handler that gathers a whole batch writes it once (the desk's read model)."""
        self._before_commit.append(work)

    def emit(self, data: EventData, *, subject: str, correlation_id: str | None = None) -> Envelope:
        """Queue ``data`` for publication. The cause is the event being handled (set by the
        consumer, see ``causation.handling``): the new event joins its chain. Work with no
        event as its cause (a timer, a person's request) passes the case's stored
        ``correlation_id``; an explicit one always wins; with none at all the event starts a
        chain of its own."""
        cause = current_cause()
        event_id = str(uuid.uuid4())
        event = Envelope(
            data=data,
            source=self._source,
            subject=subject,
            id=event_id,
            time=self._clock.now(),  # the service's time, accelerated in the demo
            correlation_id=correlation_id or (cause.chain_id if cause is not None else event_id),
            causation_id=cause.id if cause is not None else None,
        )
        self.emitted.append(event)
        return event

    async def flush(self) -> None:
        for work in self._before_commit:
            await work()
        self._before_commit.clear()
        if not self.emitted:
            return
        rows: dict[str, list[object]] = {name: [] for name in _COLUMNS}
        for event in self.emitted:
            # An event the contract also copies to another topic (a deactivation to the
            # provider's own topic) is published there as an event of its own: a new ce_id.
            for n, topic in enumerate(self._topics.destinations(event.data)):
                sent = event if n == 0 else dataclasses.replace(event, id=str(uuid.uuid4()))
                payload, headers = sent.to_binary()
                rows["event_ids"].append(sent.id)
                rows["topics"].append(topic)
                rows["keys"].append(sent.subject)
                rows["event_types"].append(sent.type)
                rows["headers"].append(
                    json.dumps([[name, value.decode()] for name, value in headers])
                )
                rows["payloads"].append(payload)
        await self.conn.execute(_write_statement(self._outbox), rows)


_COLUMNS = {
    "event_ids": ("event_id", Text),
    "topics": ("topic", Text),
    "keys": ("key", Text),
    "event_types": ("event_type", Text),
    "headers": ("headers", Text),  # JSON text, cast to the column's JSONB
    "payloads": ("payload", LargeBinary),
}
"""The outbox's written columns, each passed as one array of the transaction's rows."""


@functools.cache
def _write_statement(outbox: Table) -> Insert:
    """``INSERT INTO outbox ... SELECT * FROM unnest(:event_ids, ...) WITH ORDINALITY ORDER BY
    ordinality``: one statement, compiled once per outbox table, whatever the number of rows;
    ``seq`` follows the order the events were emitted in."""
    rows = (
        func.unnest(*(bindparam(array, type_=ARRAY(kind)) for array, (_, kind) in _COLUMNS.items()))
        .table_valued(*(column for column, _ in _COLUMNS.values()), with_ordinality="n")
        .render_derived()
    )
    values = select(
        rows.c.event_id,
        rows.c.topic,
        rows.c.key,
        rows.c.event_type,
        cast(rows.c.headers, JSONB),
        rows.c.payload,
    ).order_by(rows.c.n)
    return insert(outbox).from_select([column for column, _ in _COLUMNS.values()], values)


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
