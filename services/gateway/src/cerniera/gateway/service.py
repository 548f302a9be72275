"""The gateway as the shared runtime runs it, plus the MLLP listener the runtime does not know.

``GatewayRuntime`` wraps ``ServiceRuntime``: the listener starts once the runtime is up (schema
migrated, relay running) and stops before it goes down (engine disposed), whether the runtime
runs as a FastStream app (``cerniera-gateway run``) or in a test (``running()``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from faststream import FastStream

from cerniera.gateway.api import create_app
from cerniera.gateway.config import HTTP_PORT, GatewaySettings
from cerniera.gateway.handlers import make_handlers
from cerniera.gateway.mllp import MllpServer, answer_hl7
from cerniera.gateway.tables import metadata
from cerniera.shared.runtime import ServiceRuntime, ServiceSpec
from cerniera.shared.service import service_spec
from cerniera.shared.settings import DatabaseSettings, KafkaSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def spec(settings: GatewaySettings) -> ServiceSpec:
    return service_spec(
        metadata,
        MIGRATIONS,
        # Only to learn when a case is no longer open (closed, or rejected).
        subscribes=lambda topics: [topics.intake_cases, topics.monitoring_cases],
        handlers=lambda _runtime: make_handlers(),
        http=lambda runtime: create_app(runtime, settings.gateway_hospitals),
        http_port=HTTP_PORT,
    )


class GatewayRuntime(ServiceRuntime):
    def __init__(self, settings: GatewaySettings, **options: Any) -> None:
        """``options``: what ``ServiceRuntime`` takes besides the spec (kafka, database, ...)."""
        super().__init__(spec(settings), **options)
        self.settings = settings
        self.mllp = MllpServer(self._answer, settings.mllp_host, settings.mllp_port)

    async def _answer(self, payload: bytes) -> bytes:
        return await answer_hl7(self, self.settings.gateway_hospitals, payload)

    async def start(self) -> None:
        await super().start()
        try:
            await self.mllp.start()
        except BaseException:
            await super().stop()
            raise

    async def stop(self) -> None:
        await self.mllp.stop()
        await super().stop()

    def app(self) -> FastStream:
        app = super().app()
        app.after_startup(self.mllp.start)
        app.on_shutdown(self.mllp.stop)
        return app


def runtime(
    kafka: KafkaSettings | None = None,
    database: DatabaseSettings | None = None,
    settings: GatewaySettings | None = None,
    **options: Any,
) -> GatewayRuntime:
    """The gateway; ``options`` go to ``ServiceRuntime`` (clock, service, relay, ...)."""
    return GatewayRuntime(settings or GatewaySettings(), kafka=kafka, database=database, **options)
