"""What changed, for the pages that update live: the projection announces each batch's cases
after its commit; every open board (server-sent events) hears of those of its district.

In-process: each replica of the desk tells its own browsers about the events it consumed.
With several replicas, each consumes a share of the partitions, so a browser hears only of
its replica's share: run one replica, or put a fan-out (Postgres LISTEN/NOTIFY) here."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Change:
    case_id: str
    ambito_id: str | None
    provider_ids: frozenset[str] = frozenset()


@dataclass
class Changes:
    _listeners: set[asyncio.Queue[Change]] = field(default_factory=set)

    def announce(self, changes: Iterable[Change]) -> None:
        for change in changes:
            for queue in self._listeners:
                with contextlib.suppress(asyncio.QueueFull):  # a stalled browser misses it
                    queue.put_nowait(change)

    @contextlib.asynccontextmanager
    async def listen(self) -> AsyncIterator[asyncio.Queue[Change]]:
        queue: asyncio.Queue[Change] = asyncio.Queue(maxsize=1000)
        self._listeners.add(queue)
        try:
            yield queue
        finally:
            self._listeners.discard(queue)
