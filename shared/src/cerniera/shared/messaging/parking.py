"""Parked cases: when one of a case's events is dead-lettered, the case's later events wait.

Kafka keeps a case's events in order (one key, one partition); dead-lettering one of them must
not let the next ones overtake it (activation would plan with an old discharge date while
intake holds the new one). So the consumer *parks* the case: its later records are stored, as
they arrived and in order, in the service's own database, while every other case flows on.

The case is released when its dead letter comes back and is applied (``cerniera dlq replay``),
or when an operator discards the dead letter (``cerniera dlq discard``). Released records are
then applied one at a time, in order, each in the transaction that deletes it: exactly once.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    MetaData,
    Row,
    Table,
    Text,
    any_,
    bindparam,
    delete,
    exists,
    func,
    select,
    union,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from cerniera.shared.messaging.dlq import Record
from cerniera.shared.persistence.rows import entity
from cerniera.shared.persistence.tables import parked_cases_table, parked_events_table

REPLAY_FOR = "dlq_replay_for"
"""Header of a replayed dead letter: the consumer group it is for (others ignore it)."""
DISCARD_FOR = "dlq_discard_for"
"""Header of an operator's discard: the consumer group whose parked case it releases."""
DEAD_LETTER_ID = "dlq_dead_letter_id"
"""Header naming the dead letter a replay or discard is about: ``topic:partition:offset``."""


def record_key(record: Record) -> str | None:
    """The case a record belongs to: its Kafka key (the case id)."""
    key = record.key
    if key is None:
        return None
    return key.decode("utf-8", errors="replace") if isinstance(key, bytes) else str(key)


def header(record: Record, name: str) -> str | None:
    for key, value in record.headers or ():
        if key == name:
            return bytes(value).decode("utf-8", errors="replace")
    return None


@dataclass
class ParkedRecord:
    """A parked record, back in the shape of the one that arrived."""

    seq: int
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


class Parking:
    """One consumer group's parked cases and records, in its service's schema."""

    def __init__(self, engine: AsyncEngine, schema: str, consumer: str) -> None:
        metadata = MetaData(schema=schema)
        self.cases: Table = parked_cases_table(metadata)
        self.events: Table = parked_events_table(metadata)
        self._engine = engine
        self.consumer = consumer
        self._parked_among = self._parked_among_query()  # asked at every batch: built once
        self._released = self._released_query()

    def _parked_among_query(self) -> Any:
        cases, events = self.cases, self.events
        wanted = bindparam("keys", type_=ARRAY(Text))  # one array: one SQL text, prepared once
        return union(
            select(cases.c.case_key).where(
                cases.c.consumer == self.consumer, cases.c.case_key == any_(wanted)
            ),
            select(events.c.case_key).where(
                events.c.consumer == self.consumer, events.c.case_key == any_(wanted)
            ),
        )

    def _released_query(self) -> Any:
        cases, events = self.cases, self.events
        still_parked = exists().where(
            cases.c.consumer == events.c.consumer, cases.c.case_key == events.c.case_key
        )
        return (
            select(events.c.case_key)
            .where(events.c.consumer == self.consumer, ~still_parked)
            .group_by(events.c.case_key)
            .order_by(func.min(events.c.seq))
            .limit(bindparam("limit"))
        )

    async def parked_among(self, keys: Iterable[str]) -> set[str]:
        """Which of ``keys`` are parked, or still have records waiting to be applied."""
        wanted = sorted(set(keys))
        if not wanted:
            return set()
        async with self._engine.connect() as conn:
            return set((await conn.execute(self._parked_among, {"keys": wanted})).scalars())

    async def park_case(self, key: str, dead_letter_id: str, code: str, reason: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(self.cases)
                .values(
                    consumer=self.consumer,
                    case_key=key,
                    dead_letter_id=dead_letter_id,
                    reason_code=code,
                    reason=reason[:4000],
                )
                .on_conflict_do_update(
                    index_elements=["consumer", "case_key"],
                    set_={"dead_letter_id": dead_letter_id, "reason_code": code},
                )
            )

    async def park_records(self, records: Sequence[Record]) -> None:
        if not records:
            return
        rows = [
            {
                "consumer": self.consumer,
                "case_key": record_key(record),
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "key": record.key,
                "value": record.value,
                # base64: a header may hold any bytes, a NUL included, which JSONB refuses
                "headers": [
                    [k, base64.b64encode(bytes(v)).decode()] for k, v in record.headers or ()
                ],
            }
            for record in records
        ]
        async with self._engine.begin() as conn:
            await conn.execute(insert(self.events), rows)

    async def release(self, keys: Iterable[str]) -> int:
        """Release parked cases (their dead letter was applied or discarded)."""
        wanted = sorted(set(keys))
        if not wanted:
            return 0
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(self.cases).where(
                    self.cases.c.consumer == self.consumer, self.cases.c.case_key.in_(wanted)
                )
            )
        return int(result.rowcount or 0)

    async def released_keys(self, limit: int = 100) -> list[str]:
        """Cases with records waiting whose case is no longer parked: ready to drain."""
        async with self._engine.connect() as conn:
            return list((await conn.execute(self._released, {"limit": limit})).scalars())

    async def peek(self, key: str) -> ParkedRecord | None:
        """The case's earliest waiting record."""
        events = self.events
        query = (
            select(events)
            .where(events.c.consumer == self.consumer, events.c.case_key == key)
            .order_by(events.c.seq)
            .limit(1)
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).one_or_none()
        return None if row is None else _parked(row)

    async def forget(self, conn: AsyncConnection, seq: int) -> None:
        """Forget a waiting record in ``conn``'s transaction (the one that applied it)."""
        await conn.execute(delete(self.events).where(self.events.c.seq == seq))

    async def forget_now(self, seq: int) -> None:
        async with self._engine.begin() as conn:
            await self.forget(conn, seq)


def _encoded(headers: Iterable[tuple[str, bytes]] | None) -> list[list[str]]:
    """base64: a header may hold any bytes, a NUL included, which JSONB refuses."""
    return [[key, base64.b64encode(bytes(value)).decode()] for key, value in headers or ()]


def _parked(row: Row[Any]) -> ParkedRecord:
    return entity(ParkedRecord, row, headers=[(k, base64.b64decode(v)) for k, v in row.headers])
