"""FastStream middleware around every consumed batch: log context, attempt counting, back-off.

Per-record concerns (correlation and causation ids, deduplication, dead-lettering) are in
``consumer.EventConsumer``, because a batch carries many cases. What reaches this middleware
as an exception is infrastructure trouble (database or broker down): the batch is not
acknowledged (``AckPolicy.NACK_ON_ERROR`` seeks back) and is read again after a growing pause,
instead of the immediate, endless re-reads that would flood the logs and the database.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from faststream import BaseMiddleware
from faststream._internal.basic_types import AsyncFuncAny
from faststream._internal.context.repository import ContextRepo
from faststream.message import StreamMessage

from cerniera.shared import metrics

log = structlog.get_logger(__name__)


class Backoff:
    """Counts consecutive failures of one subscriber and says how long to wait."""

    def __init__(self, initial: float = 0.2, maximum: float = 30.0) -> None:
        self.initial = initial
        self.maximum = maximum
        self.failures = 0

    def next_delay(self) -> float:
        self.failures += 1
        return min(self.initial * 2.0 ** (self.failures - 1), self.maximum)

    def reset(self) -> None:
        self.failures = 0


class RetryMiddleware:
    """Middleware factory for ``KafkaBroker(middlewares=[...])``; holds the attempt count."""

    def __init__(self, service: str, backoff: Backoff | None = None) -> None:
        self.service = service
        self.backoff = backoff or Backoff()

    def __call__(self, msg: Any, /, *, context: ContextRepo) -> _RetryScope:
        return _RetryScope(msg, context=context, backoff=self.backoff, service=self.service)


class _RetryScope(BaseMiddleware):
    def __init__(
        self, msg: Any, /, *, context: ContextRepo, backoff: Backoff, service: str
    ) -> None:
        super().__init__(msg, context=context)
        self._backoff = backoff
        self._service = service

    async def consume_scope(self, call_next: AsyncFuncAny, msg: StreamMessage[Any]) -> Any:
        records = msg.raw_message if isinstance(msg.raw_message, tuple) else (msg.raw_message,)
        first = records[0] if records else None
        with structlog.contextvars.bound_contextvars(
            topic=getattr(first, "topic", None), batch=len(records)
        ):
            try:
                result = await call_next(msg)
            except Exception as error:
                delay = self._backoff.next_delay()
                metrics.BATCH_FAILURES.labels(self._service).inc()
                log.error(
                    "batch.failed",
                    attempt=self._backoff.failures,
                    retry_in_s=delay,
                    error=repr(error),
                )
                await asyncio.sleep(delay)
                raise
            self._backoff.reset()
            return result
