"""Idempotent consumers: claim each event's id in the same transaction as its effects.

The inbox keeps each processed event's payload digest too: the same id again with the same
payload is a redelivery (skipped), with another payload a conflict (dead-lettered, never
silently dropped).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from cerniera.shared.envelope import Envelope

CHUNK = 1000
"""Rows per statement: PostgreSQL takes at most 32,767 parameters in one (6 per row here)."""


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

    One statement per thousand events. A key already present (a redelivery, or the same event
    twice in one batch) is not returned, so its handler does not run again.
    """
    unique: dict[tuple[str, str], Envelope] = {}
    for event in events:
        unique.setdefault(event.dedup_key, event)  # the first one of a batch is the one kept
    rows = [
        {
            "consumer": consumer,
            "source": source,
            "event_id": event_id,
            "event_type": event.type,
            "digest": event.digest,
        }
        for (source, event_id), event in unique.items()
    ]
    new: set[tuple[str, str]] = set()
    for start in range(0, len(rows), CHUNK):
        stmt = (
            insert(inbox)
            .values(rows[start : start + CHUNK])
            .on_conflict_do_nothing()
            .returning(inbox.c.source, inbox.c.event_id)
        )
        new |= {(row.source, row.event_id) for row in await conn.execute(stmt)}
    return new
