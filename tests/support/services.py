"""A service running in a test, with its HTTP API on loopback."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx

from cerniera.activation.config import load_config as activation_config
from cerniera.activation.service import runtime as activation_runtime
from cerniera.billing.config import load_config as billing_config
from cerniera.billing.service import runtime as billing_runtime
from cerniera.desk.config import DeskSettings
from cerniera.desk.service import runtime as desk_runtime
from cerniera.gateway.config import GatewaySettings
from cerniera.gateway.service import runtime as gateway_runtime
from cerniera.intake.config import load_config as intake_config
from cerniera.intake.service import runtime as intake_runtime
from cerniera.monitoring.config import load_config as monitoring_config
from cerniera.monitoring.service import runtime as monitoring_runtime
from cerniera.shared.clock import Clock
from cerniera.shared.runtime import ServiceRuntime, ServiceSettings
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.discharges import EXPECTED_DISCHARGE
from support.districts import EXAMPLE
from support.identity import Identity

# Any free loopback port, so tests never fight over 8000.
LOOPBACK = ServiceSettings(http_host="127.0.0.1", http_port=0)

SERVICES_WITH_HTTP = ("intake", "activation", "monitoring", "billing", "gateway")


def service_runtime(name: str, kafka: KafkaSettings, database: DatabaseSettings) -> ServiceRuntime:
    """Service ``name`` on the example districts, its clock at the example discharge, its HTTP
    API on loopback."""
    clock = Clock(epoch=EXPECTED_DISCHARGE)
    if name == "gateway":
        settings = GatewaySettings(mllp_host="127.0.0.1", mllp_port=0, gateway_hospitals={})
        return gateway_runtime(kafka, database, settings, clock=clock, service=LOOPBACK)
    runtime, config = _DISTRICTS_READ_BY[name]
    return runtime(kafka, database, config(EXAMPLE), clock=clock, service=LOOPBACK)


def desk(
    kafka: KafkaSettings,
    database: DatabaseSettings,
    urls: dict[str, str] | None = None,
    **settings: Any,
) -> ServiceRuntime:
    """The desk on loopback, sending its commands to the services at ``urls`` (service name →
    its ``http_url``; the services a test does not run are refused as unreachable)."""
    urls = urls or {}
    given = {f"{name}_url": url for name, url in urls.items()}
    nowhere = {
        f"{name}_url": "http://127.0.0.1:9"
        for name in ("intake", "activation", "monitoring", "billing")
        if name not in urls
    }
    desk_settings = DeskSettings(**{**nowhere, **given, **settings})
    clock = Clock(epoch=EXPECTED_DISCHARGE)
    return desk_runtime(kafka, database, desk_settings, clock=clock, service=LOOPBACK)


# The services configured by the districts' document: each runtime, and how it reads its part.
_DISTRICTS_READ_BY: dict[str, tuple[Callable[..., ServiceRuntime], Callable[[Path], Any]]] = {
    "intake": (intake_runtime, intake_config),
    "activation": (activation_runtime, activation_config),
    "monitoring": (monitoring_runtime, monitoring_config),
    "billing": (billing_runtime, billing_config),
}


@contextlib.asynccontextmanager
async def serving(
    rt: ServiceRuntime, headers: dict[str, str] | None = None
) -> AsyncIterator[tuple[ServiceRuntime, httpx.AsyncClient]]:
    """``rt`` running, and a client of its HTTP API: by default as a member of the équipe and
    the administration of the test districts (``headers`` for anyone else)."""
    if headers is None:
        headers = Identity(os.environ["OIDC_ISSUER"]).team()
    async with rt.running():
        assert rt.http_url is not None
        async with httpx.AsyncClient(base_url=rt.http_url, timeout=10, headers=headers) as client:
            yield rt, client


def healthy(service: str) -> dict[str, Any]:
    """What ``/health`` answers, with 200, when the database and the broker both answer."""
    return {"status": "ok", "service": service, "checks": {"database": "ok", "broker": "ok"}}
