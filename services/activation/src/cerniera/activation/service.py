"""The activation service as the shared runtime runs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cerniera.activation.api import create_app
from cerniera.activation.cases import Activation
from cerniera.activation.config import ActivationConfig, load_config
from cerniera.activation.handlers import make_handlers
from cerniera.activation.tables import metadata
from cerniera.shared.runtime import ServiceRuntime, ServiceSpec
from cerniera.shared.service import service_spec
from cerniera.shared.settings import DatabaseSettings, KafkaSettings

MIGRATIONS = Path(__file__).parent / "migrations"
HTTP_PORT = 8001


def spec(config: ActivationConfig | None = None, *, deadline_check_s: float = 1.0) -> ServiceSpec:
    """``deadline_check_s``: how often (real seconds) unanswered requests are looked for."""
    config = config or load_config()

    async def check_deadlines(runtime: ServiceRuntime) -> int:
        return await Activation(config, runtime.clock).expire_overdue(runtime.db)

    return service_spec(
        metadata,
        MIGRATIONS,
        # Each registered provider's answers on its own topic: an explicit list (no pattern
        # subscription), so a topic nobody registered is never read.
        subscribes=lambda topics: [
            topics.hospital_discharges,
            topics.intake_cases,
            *(topics.provider_reports(p) for p in config.provider_ids),
            topics.monitoring_cases,
        ],
        publishes=lambda topics: [topics.provider_requests(p) for p in config.provider_ids],
        handlers=lambda runtime: make_handlers(Activation(config, runtime.clock)),
        periodic=check_deadlines,
        period_s=deadline_check_s,
        http=lambda runtime: create_app(runtime, config),
        http_port=HTTP_PORT,
    )


def runtime(
    kafka: KafkaSettings | None = None,
    database: DatabaseSettings | None = None,
    config: ActivationConfig | None = None,
    *,
    deadline_check_s: float = 1.0,
    **options: Any,
) -> ServiceRuntime:
    """The activation service; ``options`` go to ``ServiceRuntime`` (clock, service, relay...)."""
    return ServiceRuntime(
        spec(config, deadline_check_s=deadline_check_s), kafka, database, **options
    )
