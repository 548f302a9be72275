"""The monitoring service as the shared runtime runs it."""

from __future__ import annotations

from pathlib import Path

from cerniera.monitoring import cases
from cerniera.monitoring.api import create_app
from cerniera.monitoring.config import MonitoringConfig, load_config
from cerniera.monitoring.handlers import make_handlers
from cerniera.monitoring.tables import metadata
from cerniera.shared.runtime import ServiceRuntime, ServiceSpec
from cerniera.shared.service import RuntimeFactory, service_spec

MIGRATIONS = Path(__file__).parent / "migrations"
HTTP_PORT = 8002


async def close_due(runtime: ServiceRuntime) -> int:
    """The periodic work: close the follow-ups whose period has ended."""
    async with runtime.db.unit_of_work() as uow:
        return await cases.close_due(uow, runtime.clock.now())


def spec(config: MonitoringConfig | None = None) -> ServiceSpec:
    config = config or load_config()
    return service_spec(
        metadata,
        MIGRATIONS,
        subscribes=lambda topics: [
            topics.intake_cases,
            topics.hospital_discharges,
            topics.activation_services,
        ],
        handlers=lambda runtime: make_handlers(config, runtime.clock),
        periodic=close_due,
        period_s=1.0,
        http=lambda runtime: create_app(runtime, config),
        http_port=HTTP_PORT,
    )


runtime = RuntimeFactory(spec)
"""``runtime(kafka, database, config, **options)``: the monitoring service."""
