"""Idempotent consumers: claim each event's id in the same transaction as its effects."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from cerniera.shared.envelope import Envelope


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


async def claim(
    conn: AsyncConnection, inbox: Table, consumer: str, events: Sequence[Envelope]
) -> set[tuple[str, str]]:
    """Insert the events' keys; return the keys that were new (never processed before).

    One statement for the whole batch. A key already present (a redelivery, or the same event
    twice in one batch) is not returned, so its handler does not run again.
    """
    if not events:
        return set()
    unique = {event.dedup_key: event.type for event in events}
    stmt = (
        insert(inbox)
        .values(
            [
                {"consumer": consumer, "source": source, "event_id": event_id, "event_type": kind}
                for (source, event_id), kind in unique.items()
            ]
        )
        .on_conflict_do_nothing()
        .returning(inbox.c.source, inbox.c.event_id)
    )
    result = await conn.execute(stmt)
    return {(row.source, row.event_id) for row in result}
