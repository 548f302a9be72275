"""The gateway as the shared runtime runs it, plus the MLLP listener the runtime does not know.

``GatewayRuntime`` wraps ``ServiceRuntime``: the listener starts once the runtime is up (schema
migrated, relay running) and stops before it goes down (engine disposed), whether the runtime
runs as a FastStream app (``cerniera-gateway run``) or in a test (``running()``). It listens
with TLS, or in plain TCP when explicitly allowed; otherwise the MLLP door stays shut.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import structlog
from faststream import FastStream

from cerniera.gateway import hl7
from cerniera.gateway.api import create_app
from cerniera.gateway.config import HTTP_PORT, GatewaySettings
from cerniera.gateway.handlers import make_handlers
from cerniera.gateway.mllp import Limits, MllpServer, answer_hl7
from cerniera.gateway.senders import Peer, server_context
from cerniera.gateway.tables import metadata
from cerniera.shared.runtime import ServiceRuntime, ServiceSpec
from cerniera.shared.service import service_spec
from cerniera.shared.settings import DatabaseSettings, KafkaSettings

MIGRATIONS = Path(__file__).parent / "migrations"
log = structlog.get_logger(__name__)


def spec(settings: GatewaySettings) -> ServiceSpec:
    return service_spec(
        metadata,
        MIGRATIONS,
        # To learn when a case is no longer open (closed, or rejected), and when the team asks
        # a ward to postpone a discharge (activation's DischargePostponementRequested).
        subscribes=lambda topics: [
            topics.intake_cases,
            topics.monitoring_cases,
            topics.activation_services,
        ],
        handlers=lambda _runtime: make_handlers(),
        http=lambda runtime: create_app(
            runtime, settings.gateway_hospitals, max_body_bytes=settings.fhir_max_body_bytes
        ),
        http_port=HTTP_PORT,
    )


class GatewayRuntime(ServiceRuntime):
    def __init__(self, settings: GatewaySettings, **options: Any) -> None:
        """``options``: what ``ServiceRuntime`` takes besides the spec (kafka, database, ...)."""
        super().__init__(spec(settings), **options)
        self.settings = settings
        tls = server_context(settings)  # a missing or unreadable certificate fails here
        self.mllp: MllpServer | None = None
        if tls is not None or settings.mllp_allow_plaintext:
            self.mllp = MllpServer(
                self._answer,
                settings.mllp_host,
                settings.mllp_port,
                limits=Limits(
                    max_message_bytes=settings.mllp_max_message_bytes,
                    max_connections=settings.mllp_max_connections,
                    idle_timeout_s=settings.mllp_idle_timeout_s,
                ),
                tls=tls,
                certificates=settings.gateway_client_certs,
                too_large=lambda: hl7.too_large(self.clock.now()).encode(),
            )

    async def _answer(self, payload: bytes, peer: Peer) -> bytes:
        return await answer_hl7(self, self.settings.gateway_hospitals, payload, peer)

    async def start(self) -> None:
        await super().start()
        try:
            await self._start_mllp()
        except BaseException:
            await super().stop()
            raise

    async def stop(self) -> None:
        if self.mllp is not None:
            await self.mllp.stop()
        await super().stop()

    def app(self) -> FastStream:
        app = super().app()
        app.after_startup(self._start_mllp)
        if self.mllp is not None:
            app.on_shutdown(self.mllp.stop)
        return app

    async def _start_mllp(self) -> None:
        if self.mllp is None:
            log.warning(
                "mllp.shut",
                reason="neither TLS (MLLP_TLS_*) nor MLLP_ALLOW_PLAINTEXT=true: HL7 v2 not served",
            )
            return
        await self.mllp.start()


def runtime(
    kafka: KafkaSettings | None = None,
    database: DatabaseSettings | None = None,
    settings: GatewaySettings | None = None,
    **options: Any,
) -> GatewayRuntime:
    """The gateway; ``options`` go to ``ServiceRuntime`` (clock, service, relay, ...)."""
    return GatewayRuntime(settings or GatewaySettings(), kafka=kafka, database=database, **options)
