"""What changed, for the pages that update live.

The projection tells PostgreSQL (``NOTIFY desk_changes``) which cases each batch touched, in
the batch's own transaction: listeners hear of it only once it is committed, so a page that
reloads on the news reads what changed. Each replica of the desk listens (``Changes.follow``,
one connection of its own) and hands the news to its own open boards (server-sent events,
``Changes.listen``): every replica hears of every change, whichever consumed it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

import asyncpg
import structlog
from sqlalchemy.engine import make_url

from cerniera.shared.settings import DatabaseSettings

log = structlog.get_logger(__name__)

CHANNEL: Final = "desk_changes"
MAX_PAYLOAD: Final = 7900
"""Bytes of one notification: PostgreSQL refuses 8000 or more."""


@dataclass(frozen=True, slots=True)
class Change:
    case_id: str
    ambito_id: str | None
    provider_ids: frozenset[str] = frozenset()


def payloads(changes: Iterable[Change]) -> list[str]:
    """The notifications that tell ``changes``, each under ``MAX_PAYLOAD`` bytes: a JSON list
    of ``[case_id, ambito_id, [provider_id, ...]]``."""
    chunks: list[str] = []
    items: list[str] = []
    size = 2  # the brackets
    for change in changes:
        item = json.dumps(
            [change.case_id, change.ambito_id, sorted(change.provider_ids)],
            ensure_ascii=False,
            separators=(",", ":"),
        )
        length = len(item.encode()) + 1  # and its comma
        if items and size + length > MAX_PAYLOAD:
            chunks.append(f"[{','.join(items)}]")
            items, size = [], 2
        items.append(item)
        size += length
    if items:
        chunks.append(f"[{','.join(items)}]")
    return chunks


def parse(payload: str) -> list[Change]:
    """The changes a notification tells (``payloads``); ``ValueError`` if it is no such list."""
    try:
        items: Any = json.loads(payload)
        if not isinstance(items, list) or not items:
            raise ValueError("not a list of changes")
        changes = []
        for case_id, ambito, providers in items:
            if not isinstance(case_id, str) or not isinstance(ambito, str | None):
                raise ValueError("not a change")
            changes.append(Change(case_id, ambito, frozenset(str(p) for p in providers)))
        return changes
    except (TypeError, ValueError) as error:
        raise ValueError(f"not a desk change: {payload[:80]!r}") from error


def listen_url(database: DatabaseSettings) -> str:
    """asyncpg's own form of the database URL (no SQLAlchemy driver name)."""
    url = make_url(database.database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


@dataclass
class Changes:
    """This replica's open boards, and what it hears for them."""

    _listeners: set[asyncio.Queue[Change]] = field(default_factory=set)
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    """Set while ``follow`` listens (for tests and the health of the live pages)."""
    sessions: int = 0
    """How many times ``follow`` has started listening (a reconnection adds one)."""

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

    def heard(self, payload: str) -> None:
        """One notification: its changes to every open board."""
        try:
            self.announce(parse(payload))
        except ValueError:
            log.warning("desk.changes_unreadable", payload=payload[:80])

    async def follow(
        self,
        database: DatabaseSettings,
        *,
        ping_s: float = 5.0,
        max_backoff_s: float = 10.0,
    ) -> None:
        """Listen until cancelled, on a connection of its own; when PostgreSQL goes away
        (a restart, a failover), connect again, waiting longer each time up to
        ``max_backoff_s``. Changes committed while it was away are not heard: the boards
        show them at their next reload."""
        url = listen_url(database)
        delay = 0.2
        while True:
            sessions = self.sessions
            try:
                await self._listen_on(url, ping_s)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("desk.changes_disconnected", error=type(error).__name__)
            if self.sessions != sessions:  # it had listened: back off from the start
                delay = 0.2
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_backoff_s)

    async def _listen_on(self, url: str, ping_s: float) -> None:
        conn: asyncpg.Connection[Any] = await asyncpg.connect(url, timeout=10)
        lost = asyncio.Event()

        def on_notify(_conn: object, _pid: int, _channel: str, payload: object) -> None:
            self.heard(str(payload))

        try:
            conn.add_termination_listener(lambda _conn: lost.set())
            await conn.add_listener(CHANNEL, on_notify)
            self.sessions += 1
            self.connected.set()
            log.info("desk.changes_listening")
            while not lost.is_set():
                # A server that vanished without a word (no FIN): found by asking it.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), ping_s)
                if not lost.is_set():
                    await conn.fetchval("SELECT 1", timeout=ping_s)
        finally:
            self.connected.clear()
            with contextlib.suppress(Exception):
                await asyncio.shield(conn.close(timeout=2))
