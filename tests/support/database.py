"""Test helpers that act on the real PostgreSQL: take a database away, as a failover does."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine


async def refuse_connections(url: str, seconds: float) -> None:
    """``ALLOW_CONNECTIONS false`` on the service's database and its sessions ended, for
    ``seconds``; then allowed again. Done from another database of the same server."""
    target = make_url(url)
    admin = create_async_engine(target.set(database="template1"), isolation_level="AUTOCOMMIT")
    name = target.database
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
        await asyncio.sleep(seconds)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        await admin.dispose()
