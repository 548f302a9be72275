"""For tests that run the same events two ways on the real database and compare: a clock that
stands still (so "now" is the same both ways) and a transaction rolled back once its results
are read (so the next way starts afresh)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from cerniera.shared.clock import Clock
from cerniera.shared.persistence.outbox import UnitOfWork
from cerniera.shared.runtime import ServiceRuntime


class StillClock(Clock):
    def __init__(self, at: datetime) -> None:
        super().__init__()
        self._at = at

    def now(self) -> datetime:
        return self._at


class RolledBackError(Exception):
    pass


@asynccontextmanager
async def rolled_back(rt: ServiceRuntime) -> AsyncIterator[UnitOfWork]:
    """A transaction ended after its results are read, so the next way starts afresh."""
    with contextlib.suppress(RolledBackError):
        async with rt.db.unit_of_work() as uow:
            yield uow
            raise RolledBackError
