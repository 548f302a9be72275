"""Idempotent consumers: claim each event's id in the same transaction as its effects.

The inbox keeps each processed event's payload digest too: the same id again with the same
payload is a redelivery (skipped), with another payload a conflict (dead-lettered, never
silently dropped).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, Text, bindparam, func, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import ReturningInsert

from cerniera.shared.envelope import Envelope

CHUNK = 1000
"""Keys per lookup of ``conflicting``: PostgreSQL takes at most 32,767 parameters in one."""


class Inbox:
    """A consumer group's inbox: the events it has processed, claimed in its transactions."""

    def __init__(self, table: Table, consumer: str) -> None:
        self.table = table
        self.consumer = consumer

    async def claim(
        self, conn: AsyncConnection, events: Sequence[Envelope]
    ) -> set[tuple[str, str]]:
        """``claim`` in this inbox, within ``conn``'s transaction."""
        return await claim(conn, self.table, self.consumer, events)

    async def conflicting(
        self, conn: AsyncConnection, events: Sequence[Envelope]
    ) -> set[tuple[str, str]]:
        """Of ``events`` already in the inbox, those claimed before with another payload."""
        table = self.table
        digests = {event.dedup_key: event.digest for event in events}
        found: set[tuple[str, str]] = set()
        keys = list(digests)
        for start in range(0, len(keys), CHUNK):
            query = select(table.c.source, table.c.event_id, table.c.digest).where(
                table.c.consumer == self.consumer,
                tuple_(table.c.source, table.c.event_id).in_(keys[start : start + CHUNK]),
            )
            for row in await conn.execute(query):
                key = (row.source, row.event_id)
                if row.digest is not None and row.digest != digests[key]:
                    found.add(key)
        return found


async def claim(
    conn: AsyncConnection, inbox: Table, consumer: str, events: Sequence[Envelope]
) -> set[tuple[str, str]]:
    """Insert the events' keys; return the keys that were new (never processed before).

    One statement, whatever the batch's size: the rows go as four arrays (``unnest``), so its
    SQL is compiled once and the batch costs no per-row work in SQLAlchemy. A key already
    present (a redelivery, or the same event twice in one batch) is not returned, so its
    handler does not run again.
    """
    unique: dict[tuple[str, str], Envelope] = {}
    for event in events:
        unique.setdefault(event.dedup_key, event)  # the first one of a batch is the one kept
    if not unique:
        return set()
    kept = unique.values()
    result = await conn.execute(
        _claim_statement(inbox),
        {
            "consumer": consumer,
            "sources": [source for source, _ in unique],
            "event_ids": [event_id for _, event_id in unique],
            "event_types": [event.type for event in kept],
            "digests": [event.digest for event in kept],
        },
    )
    return {(row.source, row.event_id) for row in result}


@functools.cache
def _claim_statement(inbox: Table) -> ReturningInsert[Any]:
    """``INSERT INTO inbox ... SELECT :consumer, * FROM unnest(:sources, ...) ON CONFLICT DO
    NOTHING RETURNING source, event_id``, built once per inbox table."""
    text_array = ARRAY(Text)
    claimed = (
        func.unnest(
            bindparam("sources", type_=text_array),
            bindparam("event_ids", type_=text_array),
            bindparam("event_types", type_=text_array),
            bindparam("digests", type_=text_array),
        )
        .table_valued("source", "event_id", "event_type", "digest")
        .render_derived()
    )
    rows = select(
        bindparam("consumer", type_=Text),
        claimed.c.source,
        claimed.c.event_id,
        claimed.c.event_type,
        claimed.c.digest,
    )
    return (
        insert(inbox)
        .from_select(["consumer", "source", "event_id", "event_type", "digest"], rows)
        .on_conflict_do_nothing()
        .returning(inbox.c.source, inbox.c.event_id)
    )
