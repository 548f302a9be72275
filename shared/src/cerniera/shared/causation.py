"""The event being handled right now, so that whatever it causes inherits its correlation id.

Consumers set it around each event (see ``messaging.consumer``); the outbox reads it when an
event is emitted. Code in between never passes ids around by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import structlog

from cerniera.shared.envelope import Envelope

_current: ContextVar[Envelope | None] = ContextVar("cerniera_current_event", default=None)


def current_cause() -> Envelope | None:
    return _current.get()


@contextmanager
def handling(event: Envelope) -> Iterator[None]:
    """Mark ``event`` as the cause of everything emitted inside, and put its ids in the logs."""
    token = _current.set(event)
    with structlog.contextvars.bound_contextvars(
        event_id=event.id,
        event_type=event.type,
        case_id=event.subject,
        correlation_id=event.chain_id,
    ):
        try:
            yield
        finally:
            _current.reset(token)
