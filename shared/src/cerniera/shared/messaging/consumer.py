"""Batch consumption with effectively-once effects.

A batch of records becomes one database transaction: the inbox claims the event ids, the
handlers run in record order (so each case's events keep their order), the outbox rows are
written, and the transaction commits before the offsets do. A batch that fails for a reason
other than unavailable infrastructure is replayed one record at a time, so that only the
record at fault is retried (with back-off long enough to ride out a database restart) and, in
the end, dead-lettered; the rest of the partition goes on.

Unavailable infrastructure (``is_transient``) never dead-letters anything: the batch fails,
and is read again after a pause. A case one of whose events was dead-lettered is parked
(``parking``): its later events wait, in order, until the dead letter is replayed or
discarded. A replayed dead letter is meant for the group that failed it (``dlq_replay_for``);
every other group ignores it.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Collection, Hashable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from cerniera.shared import metrics
from cerniera.shared.causation import handling
from cerniera.shared.contract import EventData, Topics, provenance
from cerniera.shared.envelope import Envelope, InvalidRecord, decode
from cerniera.shared.messaging.dlq import Record
from cerniera.shared.messaging.parking import (
    DISCARD_FOR,
    REPLAY_FOR,
    ParkedRecord,
    Parking,
    header,
    record_key,
)
from cerniera.shared.outages import is_transient
from cerniera.shared.persistence.outbox import UnitOfWork
from cerniera.shared.refusals import Forbidden, NotFound, Refused

log = structlog.get_logger(__name__)

EventHandler = Callable[[UnitOfWork, Envelope], Awaitable[None]]
Handler = Callable[[UnitOfWork, Sequence[Envelope]], Awaitable[None]]
"""Handles a run of consecutive events of one type, in order. A handler may apply the run in
bulk (one statement for many events); ``per_event`` adapts one that takes them one by one."""
Handlers = Mapping[type[EventData], Handler]
"""The handler of each event type a consumer reads (a service's ``make_handlers``)."""


def per_event(handler: EventHandler) -> Handler:
    async def handle(uow: UnitOfWork, events: Sequence[Envelope]) -> None:
        for event in events:
            with handling(event):
                await handler(uow, event)

    return handle


def runs(
    events: Sequence[Envelope], keys: Sequence[str | None] | None = None
) -> list[list[Envelope]]:
    """Split into runs of events of the same type, to be handled one run after another, so
    that a run can be applied in bulk.

    Without ``keys`` the runs are maximal stretches of consecutive events, in the order given.
    With ``keys`` (each event's case: its Kafka key) only each case's own order is kept, which
    is all the contract promises: an event joins the first run of its type that is not earlier
    than its case's previous event, so a batch that interleaves decisions of many cases becomes
    a few long runs. An event without a key keeps its place among all the others."""
    if keys is None:
        grouped: list[list[Envelope]] = []
        for event in events:
            if grouped and type(grouped[-1][0].data) is type(event.data):
                grouped[-1].append(event)
            else:
                grouped.append([event])
        return grouped
    regrouped: list[list[Envelope]] = []
    of_type: dict[type[EventData], list[int]] = {}  # the runs of each type, by position
    last: dict[str, int] = {}  # the run of each case's latest event
    floor = 0  # no event may go before the latest event without a key
    for event, key in zip(events, keys, strict=True):
        kind = type(event.data)
        if key is None:
            at = len(regrouped)
            regrouped.append([event])
            of_type.setdefault(kind, []).append(at)
            floor = at + 1
            continue
        earliest = max(floor, last.get(key, 0))
        positions = of_type.setdefault(kind, [])
        found = bisect_left(positions, earliest)
        if found < len(positions):
            at = positions[found]
            regrouped[at].append(event)
        else:
            at = len(regrouped)
            regrouped.append([event])
            positions.append(at)
        last[key] = at
    return regrouped


def distinct_stretches(keys: Sequence[Collection[Hashable]]) -> list[range]:
    """A run cut where one of an event's ``keys`` (its case; for billing its person too) comes
    again: within a stretch each key once, so a bulk statement has one row each, and a later
    stretch sees what the earlier one saved, as one by one."""
    stretches: list[range] = []
    seen: set[Hashable] = set()
    start = 0
    for i, each in enumerate(keys):
        if not seen.isdisjoint(each):
            stretches.append(range(start, i))
            seen.clear()
            start = i
        seen.update(each)
    if start < len(keys):
        stretches.append(range(start, len(keys)))
    return stretches


class Transactions(Protocol):
    """What the consumer needs of the database (``persistence.outbox.Database``)."""

    def unit_of_work(self) -> AbstractAsyncContextManager[UnitOfWork]: ...


class Claims(Protocol):
    """What the consumer needs of its inbox (``persistence.inbox.Inbox``)."""

    async def claim(
        self, conn: AsyncConnection, events: Sequence[Envelope]
    ) -> set[tuple[str, str]]:
        """Claim the events' keys in the transaction of ``conn``; return those never claimed
        before."""
        ...

    async def conflicting(
        self, conn: AsyncConnection, events: Sequence[Envelope]
    ) -> set[tuple[str, str]]:
        """Of events already claimed, those whose payload differs from the one claimed."""
        ...


class DeadLetterSink(Protocol):
    """Where records that can never be applied go (``messaging.dlq.DeadLetters``)."""

    async def send(self, record: Record, code: str, reason: str, attempts: int = 1) -> None: ...


class IdConflict(Refused):
    """The same event id again with another payload: not a duplicate, and never dropped."""

    def __init__(self) -> None:
        super().__init__(
            "event.id_conflict",
            "an event with this ce_source and ce_id was processed before with another payload",
        )


@dataclass
class ConsumerStats:
    processed: int = 0
    duplicates: int = 0
    ignored: int = 0
    dead_lettered: int = 0
    parked: int = 0
    batches: int = 0


class EventConsumer:
    """Decodes, deduplicates and handles batches of records for one consumer group."""

    def __init__(
        self,
        *,
        name: str,
        db: Transactions,
        inbox: Claims,
        handlers: Handlers,
        dead_letters: DeadLetterSink,
        topics: Topics,
        parking: Parking | None = None,
        max_attempts: int = 6,
        retry_delay: float = 0.25,
    ) -> None:
        """A record that fails alone is tried ``max_attempts`` times, waiting ``retry_delay``
        and then twice as long each time (by default about 8 s in all: a database restart).
        ``topics`` gives the prefix under which a record's topic is checked (``provenance``)."""
        self.name = name
        self._prefix = topics.prefix
        self._db = db
        self._inbox = inbox
        self._handlers = handlers
        self._dead_letters = dead_letters
        self._parking = parking
        self._max_attempts = max_attempts
        self._retry_delay = retry_delay
        self._lock = asyncio.Lock()  # a batch and a drain never interleave in one process
        self._lettered: set[str] = set()  # cases with a record dead-lettered in this batch
        # Whether a case may have been released since the last drain: at start, and after a
        # release here; otherwise the periodic ``drain`` finds what others released.
        self._may_drain = True
        self.stats = ConsumerStats()

    async def process(self, records: Sequence[Record]) -> None:
        self.stats.batches += 1
        async with self._lock:
            if self._parking is not None and self._may_drain:
                self._may_drain = False  # a failed drain is the periodic one's to do
                self._may_drain = await self._drain_released(self._parking)
            await self._process(records)

    async def drain(self) -> None:
        """Apply the waiting records of released cases (called periodically as well, so a
        discard is acted on even when no new record arrives)."""
        if self._parking is None:
            return
        async with self._lock:
            await self._drain_released(self._parking)

    async def _process(self, records: Sequence[Record]) -> None:
        self._lettered.clear()
        parked = await self._parked_among(records)
        waiting: list[Record] = []
        batch: list[tuple[Record, Envelope]] = []
        replayed: set[str] = set()
        for record in records:
            key = record_key(record)
            discard_for = header(record, DISCARD_FOR)
            replay_for = header(record, REPLAY_FOR)
            if discard_for is not None or (replay_for is not None and replay_for != self.name):
                if discard_for == self.name and key is not None and self._parking is not None:
                    await self._parking.release([key])  # its waiting records follow, in order
                    self._may_drain = True
                    log.warning("case.discard_released", case_key=key)
                self._ignored()
                continue
            if key in parked and replay_for is None:
                waiting.append(record)  # behind its dead letter
                continue
            if replay_for is not None and key is not None:
                replayed.add(key)
            try:
                event = decode(record.value, record.headers)
            except InvalidRecord as invalid:
                await self._dead_letter(record, invalid.code, invalid.detail, parked=parked)
                continue
            if not await self._trusted(record, event):
                continue
            if type(event.data) in self._handlers:
                batch.append((record, event))
            else:
                self._ignored()  # an event type on this topic that we do not act on
        if waiting:
            await self._park(waiting)
        if batch:
            await self._apply_batch(batch, parked)
        # A dead letter that came back and went through releases its case.
        if self._parking is not None and (released := replayed - self._lettered):
            await self._parking.release(released)
            self._may_drain = True

    async def _apply_batch(self, batch: list[tuple[Record, Envelope]], parked: set[str]) -> None:
        try:
            await self._apply(
                [event for _, event in batch], keys=[record_key(record) for record, _ in batch]
            )
            return
        except Exception as error:
            if is_transient(error):
                raise
            log.warning("batch.failed_isolating", size=len(batch), error=repr(error))
        for record, event in batch:
            key = record_key(record)
            if key in parked and header(record, REPLAY_FOR) is None:
                await self._park([record])  # an earlier event of its case was dead-lettered
            else:
                await self._apply_alone(record, event, parked)

    async def _apply(
        self,
        events: Sequence[Envelope],
        *,
        keys: Sequence[str | None] | None = None,
        forget: int | None = None,
    ) -> None:
        """Apply ``events`` in one transaction; with their ``keys`` (cases), in runs that keep
        only each case's order (``runs``)."""
        async with self._db.unit_of_work() as uow:
            new = await self._inbox.claim(uow.conn, events)
            fresh = []
            fresh_keys = []
            repeated = []
            for i, event in enumerate(events):
                if event.dedup_key in new:
                    new.discard(event.dedup_key)  # the same event twice in one batch runs once
                    fresh.append(event)
                    fresh_keys.append(keys[i] if keys is not None else None)
                else:
                    repeated.append(event)
            if repeated and await self._inbox.conflicting(uow.conn, repeated):
                raise IdConflict()
            for run in runs(fresh, fresh_keys if keys is not None else None):
                await self._handlers[type(run[0].data)](uow, run)
            if forget is not None and self._parking is not None:
                await self._parking.forget(uow.conn, forget)  # applied and forgotten at once
        self.stats.duplicates += len(repeated)
        self.stats.processed += len(fresh)
        metrics.EVENTS.labels(self.name, "duplicate").inc(len(repeated))
        metrics.EVENTS.labels(self.name, "processed").inc(len(fresh))

    async def _apply_alone(
        self, record: Record, event: Envelope, parked: set[str], *, forget: int | None = None
    ) -> bool:
        """Apply one event, retrying with back-off; dead-letter it in the end. True if
        applied."""
        for attempt in range(1, self._max_attempts + 1):
            try:
                await self._apply([event], forget=forget)
                return True
            except Refused as refused:  # a verdict on the event: retrying cannot help
                # A case this service does not know yet has nothing to hold back: its
                # announcement, still to come, must not wait behind this dead letter. Nor
                # does a forgery (Forbidden): a stranger must not stall the real case.
                hold = None if isinstance(refused, NotFound | Forbidden) else parked
                await self._dead_letter(record, refused.code, refused.message, attempt, hold)
                return False
            except Exception as error:
                if is_transient(error):
                    raise
                if attempt == self._max_attempts:
                    await self._dead_letter(record, "handler.failed", repr(error), attempt, parked)
                    return False
                log.warning("event.retrying", attempt=attempt, error=repr(error))
                await asyncio.sleep(self._retry_delay * 2 ** (attempt - 1))
        return False

    async def _dead_letter(
        self,
        record: Record,
        code: str,
        reason: str,
        attempts: int = 1,
        parked: set[str] | None = None,
    ) -> None:
        await self._dead_letters.send(record, code, reason, attempts)
        self.stats.dead_lettered += 1
        metrics.EVENTS.labels(self.name, "dead_lettered").inc()
        key = record_key(record)
        if key is not None:
            self._lettered.add(key)
        if self._parking is not None and key is not None and parked is not None:
            # The case's later events wait for this one (replayed or discarded).
            await self._parking.park_case(key, dead_letter_id(record), code, reason)
            parked.add(key)

    async def _trusted(self, record: Record, event: Envelope) -> bool:
        """Whether the record's source may publish its event on its topic; if not, it is
        dead-lettered at once. Its case is not parked: a forged event must not hold back the
        case's real ones."""
        why = provenance.refusal(record.topic, event.data, event.source, self._prefix)
        if why is None:
            return True
        log.warning("event.source_not_allowed", topic=record.topic, type=event.type)
        await self._dead_letter(record, provenance.NOT_ALLOWED, why)
        return False

    async def _parked_among(self, records: Sequence[Record]) -> set[str]:
        if self._parking is None:
            return set()
        keys = {key for record in records if (key := record_key(record)) is not None}
        return await self._parking.parked_among(keys)

    async def _park(self, records: Sequence[Record]) -> None:
        assert self._parking is not None
        await self._parking.park_records(records)
        self.stats.parked += len(records)
        metrics.EVENTS.labels(self.name, "parked").inc(len(records))

    def _ignored(self) -> None:
        self.stats.ignored += 1
        metrics.EVENTS.labels(self.name, "ignored").inc()

    async def _drain_released(self, parking: Parking) -> bool:
        """Each released case's waiting records, in order, each applied in the transaction
        that forgets it; a case stops at a record dead-lettered again (parked again). Whether
        there was any (there may be more)."""
        released = await parking.released_keys()
        for key in released:
            while (waiting := await parking.peek(key)) is not None:
                if not await self._drain_one(parking, key, waiting):
                    break
        return bool(released)

    async def _drain_one(self, parking: Parking, key: str, waiting: ParkedRecord) -> bool:
        parked: set[str] = set()
        try:
            event = decode(waiting.value, waiting.headers)
        except InvalidRecord as invalid:
            await self._dead_letter(waiting, invalid.code, invalid.detail, parked=parked)
            await parking.forget_now(waiting.seq)
            return False
        if not await self._trusted(waiting, event):
            await parking.forget_now(waiting.seq)
            return True
        if type(event.data) not in self._handlers:
            self._ignored()
            await parking.forget_now(waiting.seq)
            return True
        if await self._apply_alone(waiting, event, parked, forget=waiting.seq):
            log.info("case.drained_one", case_key=key, event_id=event.id)
            return True
        await parking.forget_now(waiting.seq)  # now on the dead-letter topic, its case parked
        return False


def dead_letter_id(record: Record) -> str:
    """How a dead letter is named: where its record was read."""
    return f"{record.topic}:{record.partition}:{record.offset}"
