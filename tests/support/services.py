"""A service running in a test, with its HTTP API on loopback."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from cerniera.shared.runtime import ServiceRuntime, ServiceSettings

# Any free loopback port, so tests never fight over 8000.
LOOPBACK = ServiceSettings(http_host="127.0.0.1", http_port=0)


@contextlib.asynccontextmanager
async def serving(rt: ServiceRuntime) -> AsyncIterator[tuple[ServiceRuntime, httpx.AsyncClient]]:
    """``rt`` running, and a client of its HTTP API."""
    async with rt.running():
        assert rt.http_url is not None
        async with httpx.AsyncClient(base_url=rt.http_url, timeout=10) as client:
            yield rt, client


def healthy(service: str) -> dict[str, Any]:
    """What ``/health`` answers, with 200, when the database and the broker both answer."""
    return {"status": "ok", "service": service, "checks": {"database": "ok", "broker": "ok"}}
