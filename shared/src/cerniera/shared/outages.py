"""Is a failure the infrastructure's (the database or the broker away), not the work's?

One answer for every part that must tell them apart: the consumer (retry the batch, never
dead-letter), the outbox relay and periodic work (retry quietly), the HTTP toolkit (503).
"""

from __future__ import annotations

import asyncpg
from aiokafka.errors import KafkaError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# SQLSTATE classes of a database that is unavailable, restarting, failing over or overloaded:
# connection (08), insufficient resources (53: too many connections), operator intervention
# (57: shutting down, starting up), system error (58), transaction rollback (40: serialization,
# deadlock), object not in prerequisite state (55: not accepting connections, lock not
# available), and a read-only node (25006).
_TRANSIENT_SQLSTATE_CLASSES = ("08", "53", "57", "58", "40", "55")
_TRANSIENT_SQLSTATES = ("25006",)


def is_transient(error: BaseException) -> bool:
    """Infrastructure trouble: retrying the same batch later may succeed, and dead-lettering
    would wrongly condemn good records. Looks through the whole chain of causes, because
    asyncpg's errors arrive wrapped by SQLAlchemy (which raises no ``OperationalError`` for
    them)."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if _transient_alone(current):
            return True
        orig = getattr(current, "orig", None)  # SQLAlchemy keeps the driver's error there
        pending += [e for e in (orig, current.__cause__, current.__context__) if e is not None]
    return False


def _transient_alone(error: BaseException) -> bool:
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(
        error,
        OperationalError
        | InterfaceError
        | PoolTimeout
        | KafkaError
        | OSError
        | TimeoutError
        | asyncpg.InterfaceError
        | asyncpg.exceptions.ConnectionDoesNotExistError,
    ):
        return True
    state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    if isinstance(state, str):
        return state.startswith(_TRANSIENT_SQLSTATE_CLASSES) or state in _TRANSIENT_SQLSTATES
    return False
