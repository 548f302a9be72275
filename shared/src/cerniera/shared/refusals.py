"""Refusals: what the domain and the service layer raise when something may not be done.

One family for every door. Over HTTP the shared toolkit answers ``NotFound`` with 404,
``Conflict`` with 409 and ``Invalid`` with 422, in the one error body; a Kafka consumer
dead-letters the event at once with the refusal's code (retrying could never help).
"""

from __future__ import annotations


class Refused(Exception):  # noqa: N818 - a verdict, not a crash
    """Refused in the present state (HTTP 409); ``code`` is stable, ``message`` for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Conflict(Refused):
    """Not possible in the present state of the case (HTTP 409)."""


class NotFound(Refused):
    """No such case, provider, district... (HTTP 404)."""


class Invalid(Refused):
    """Well-formed but not acceptable (HTTP 422), e.g. a requirement the checklist lacks."""


class Forbidden(Refused):
    """Outside the caller's role, district, provider or hospital (HTTP 403). On Kafka: an
    event from a source not allowed to publish it (``source.not_allowed``)."""
