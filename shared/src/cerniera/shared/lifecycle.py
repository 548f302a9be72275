"""What a process starts and stops around its work: a service's runtime, a provider adapter."""

from __future__ import annotations

import abc
import contextlib
from collections.abc import AsyncIterator
from typing import Self


class Started(abc.ABC):
    """Something with an async ``start`` and ``stop``: ``async with thing.running():`` runs it
    for the block, and stops it however the block ends."""

    @abc.abstractmethod
    async def start(self) -> None: ...

    @abc.abstractmethod
    async def stop(self) -> None: ...

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Self]:
        await self.start()
        try:
            yield self
        finally:
            await self.stop()
