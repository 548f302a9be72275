"""The outbox relay: publishes committed outbox rows to Kafka, in order per case, and survives
restarts (its state is the table).

Each row goes to the partition of its key (the case id), so a case's events share one
partition. The relay sends each partition's rows as a sequence of batches, awaiting each
acknowledgement before the next batch of that partition: a failure stops that partition where
it failed, and nothing later of the same partition can overtake the failed row. Partitions
are independent: trouble in one does not hold the others.

A row the broker refuses for good (larger than the broker accepts, an invalid topic), or that
keeps failing while other partitions go through, is *parked*: kept in the table with its error,
counted in ``cerniera_outbox_parked`` and logged, never retried in a loop; its case's later rows
wait behind it (order per case), every other case goes on. ``release_parked`` puts parked rows
back in line once the cause is fixed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    InvalidTopicError,
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    TopicAuthorizationFailedError,
)
from aiokafka.partitioner import DefaultPartitioner
from sqlalchemy import (
    BigInteger,
    Table,
    and_,
    any_,
    bindparam,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Delete

from cerniera.shared import metrics
from cerniera.shared.outages import is_transient
from cerniera.shared.persistence.outbox import Database

log = structlog.get_logger(__name__)

# Errors no retry can cure: the row itself is at fault.
PERMANENT = (
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    InvalidTopicError,
    TopicAuthorizationFailedError,
)


@dataclass
class RoundResult:
    """What one pass did: rows acknowledged, and the first failure of each partition."""

    sent: list[int] = field(default_factory=list)
    failed: dict[int, BaseException] = field(default_factory=dict)


class OutboxRelay:
    """One relay per schema publishes at a time (a PostgreSQL advisory lock): two relays
    taking alternate batches could reorder a case's events."""

    def __init__(
        self,
        db: Database,
        producer: AIOKafkaProducer,
        *,
        batch_size: int = 1000,
        poll_interval: float = 0.25,
        park_after: int = 5,
        max_request_size: int = 1024 * 1024,  # aiokafka's default: what a request may carry
    ) -> None:
        self._db = db
        self._producer = producer
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._park_after = park_after
        self._max_request_size = max_request_size
        self._lock_name = f"cerniera.outbox.{db.outbox.schema}"
        self._service = db.outbox.schema or ""
        self.published = 0

    async def run(self) -> None:
        backoff = self._poll_interval
        while True:
            try:
                count, failures = await self.publish_pending()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if is_transient(error):  # the database or broker is away: retried, quietly
                    log.warning("outbox.publish_failed", retry_in_s=backoff, error=repr(error))
                else:
                    log.exception("outbox.publish_failed", retry_in_s=backoff)
                failures = 1
                count = 0
            if failures:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            backoff = self._poll_interval
            if count < self._batch_size:
                await self._wait_for_work()

    async def _wait_for_work(self) -> None:
        event = self._db.committed_events
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout=self._poll_interval)
        event.clear()

    async def publish_pending(self) -> tuple[int, int]:
        """Publish one round; return (rows acknowledged, partitions that failed)."""
        table = self._db.outbox
        async with self._db.engine.begin() as conn:
            locked = await conn.scalar(
                select(func.pg_try_advisory_xact_lock(func.hashtext(self._lock_name)))
            )
            if not locked:
                return 0, 0
            rows = await self._pending(conn)
            metrics.OUTBOX_PENDING.labels(self._service).set(len(rows))
            if not rows:
                return 0, 0
            result = await self._send(rows)
            if result.sent:
                await conn.execute(_delete_statement(table), {"seqs": result.sent})
            if result.failed:
                await self._record_failures(conn, rows, result)
        self.published += len(result.sent)
        metrics.PUBLISHED.labels(self._service).inc(len(result.sent))
        return len(result.sent), len(result.failed)

    async def _pending(self, conn: AsyncConnection) -> Sequence[Any]:
        """The next rows in order, leaving out parked rows and every later row of their case."""
        table = self._db.outbox
        parked = select(table.c.key).where(table.c.parked_at.is_not(None), table.c.key.is_not(None))
        query = (
            select(table)
            .where(
                table.c.parked_at.is_(None),
                or_(table.c.key.is_(None), table.c.key.not_in(parked)),
            )
            .order_by(table.c.seq)
            .limit(self._batch_size)
        )
        return (await conn.execute(query)).all()

    async def _send(self, rows: Sequence[Any]) -> RoundResult:
        result = RoundResult()
        by_partition: dict[tuple[str, int], list[Any]] = defaultdict(list)
        for topic in dict.fromkeys(row.topic for row in rows):
            of_topic = [row for row in rows if row.topic == topic]
            try:
                async with asyncio.timeout(10):
                    partitions = sorted(await self._producer.partitions_for(topic))
            except (KafkaError, TimeoutError) as error:
                result.failed[of_topic[0].seq] = error  # this topic waits; the others go on
                continue
            for row in of_topic:
                by_partition[(topic, _partition_of(row, partitions))].append(row)
        await asyncio.gather(
            *(
                self._send_partition(topic, partition, part, result)
                for (topic, partition), part in by_partition.items()
            )
        )
        return result

    async def _send_partition(
        self, topic: str, partition: int, rows: list[Any], result: RoundResult
    ) -> None:
        """Batch after batch, each acknowledged before the next: stop at the first failure."""
        position = 0
        while position < len(rows):
            batch = self._producer.create_batch()
            chunk: list[Any] = []
            for row in rows[position:]:
                headers = [(name, value.encode()) for name, value in row.headers]
                key = row.key.encode() if row.key is not None else None
                if _size(key, row.payload, headers) > self._max_request_size:
                    if not chunk:  # what the producer would refuse; never sent
                        result.failed[row.seq] = MessageSizeTooLargeError(
                            f"the event is larger than {self._max_request_size} bytes"
                        )
                        return
                    break  # send what comes before it first
                if (
                    batch.append(key=key, value=row.payload, timestamp=None, headers=headers)
                    is None
                ):
                    break  # the batch is full: the rest goes in the next one
                chunk.append(row)
            try:
                await (await self._producer.send_batch(batch, topic, partition=partition))
            except KafkaError as error:
                # The batch failed as a whole; blame its first row (alone next time if so).
                result.failed[chunk[0].seq] = error
                return
            result.sent.extend(row.seq for row in chunk)
            position += len(chunk)

    async def _record_failures(
        self, conn: AsyncConnection, rows: Sequence[Any], result: RoundResult
    ) -> None:
        """Count the attempt; park what no retry can cure, or what keeps failing while the
        broker takes other partitions' rows (so it is not the broker that is down)."""
        table = self._db.outbox
        attempts = {row.seq: row.attempts for row in rows}
        broker_works = bool(result.sent)
        now = datetime.now(UTC)
        for seq, error in result.failed.items():
            tries = attempts[seq] + 1
            park = isinstance(error, PERMANENT) or (broker_works and tries >= self._park_after)
            await conn.execute(
                update(table)
                .where(table.c.seq == seq)
                .values(
                    attempts=tries,
                    last_error=f"{type(error).__name__}: {error}"[:2000],
                    parked_at=now if park else None,
                )
            )
            if park:
                metrics.OUTBOX_PARKED.labels(self._service).inc()
                log.error("outbox.row_parked", seq=seq, attempts=tries, error=repr(error))
            else:
                log.warning("outbox.send_failed", seq=seq, attempts=tries, error=repr(error))


@functools.cache
def _delete_statement(outbox: Table) -> Delete:
    """``DELETE FROM outbox WHERE seq = ANY(:seqs)``: the acknowledged rows as one array, so the
    statement is compiled once whatever their number."""
    return delete(outbox).where(outbox.c.seq == any_(bindparam("seqs", type_=ARRAY(BigInteger))))


def _partition_of(row: Any, partitions: list[int]) -> int:
    """The producer's own choice for the row's key, so a case's events share a partition."""
    if row.key is None:
        return int(partitions[row.seq % len(partitions)])
    return int(DefaultPartitioner()(row.key.encode(), partitions, partitions))


def _size(key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]) -> int:
    overhead = 128  # record and batch framing
    return overhead + len(key or b"") + len(value) + sum(len(n) + len(v) for n, v in headers)


async def release_parked(db: Database, seqs: Sequence[int] | None = None) -> int:
    """Put parked rows back in line (after the cause is fixed): all, or the ``seqs`` given."""
    table = db.outbox
    where = [table.c.parked_at.is_not(None)]
    if seqs is not None:
        where.append(table.c.seq.in_(list(seqs)))
    async with db.engine.begin() as conn:
        result = await conn.execute(
            update(table).where(and_(*where)).values(parked_at=None, attempts=0)
        )
    db.committed_events.set()
    return int(result.rowcount or 0)
