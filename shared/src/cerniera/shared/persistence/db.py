"""Engine creation: async SQLAlchemy 2 on asyncpg, with the service's schema on the search path."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from cerniera.shared.settings import DatabaseSettings, async_database_url


def make_engine(url: str | DatabaseSettings, *, schema: str, pool_size: int = 5) -> AsyncEngine:
    """An engine whose connections see ``schema`` first, so a service never names another's.

    asyncpg prepared-statement caching stays on: statements are the same few thousand times
    a second, and re-planning them would cost more than the round trip.

    ``hide_parameters``: a failed statement's error names the SQL, never the values bound to
    it (fiscal codes, names, notes), so no error text or log line can carry them.
    """
    if isinstance(url, DatabaseSettings):
        pool_size = url.database_pool_size
        url = url.database_url
    engine = create_async_engine(
        async_database_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        hide_parameters=True,
        connect_args={"server_settings": {"search_path": f"{schema},public"}},
    )
    engine.sync_engine.dialect.do_ping = _still_open  # type: ignore[method-assign]
    return engine


def _still_open(dbapi_connection: Any) -> bool:
    """The pool's check before lending a connection, without a round trip: asyncpg marks a
    connection closed as soon as its socket sees the server go (a restart, a kill), and the
    pool then replaces every connection made before. SQLAlchemy's own ping costs three round
    trips (begin, a query, rollback) at every checkout, several per batch. A connection lost
    without a word fails its next statement instead: a transient error, retried."""
    return not dbapi_connection.driver_connection.is_closed()
