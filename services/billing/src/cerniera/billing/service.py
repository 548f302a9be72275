"""The billing service as the shared runtime runs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cerniera.billing.api import create_app
from cerniera.billing.config import BillingConfig, load_config
from cerniera.billing.handlers import make_handlers
from cerniera.billing.tables import SCHEMA, inbox, outbox
from cerniera.shared.runtime import ServiceRuntime, ServiceSpec
from cerniera.shared.settings import DatabaseSettings, KafkaSettings

MIGRATIONS = Path(__file__).parent / "migrations"
HTTP_PORT = 8003


def spec(config: BillingConfig | None = None) -> ServiceSpec:
    config = config or load_config()
    return ServiceSpec(
        name=SCHEMA,
        outbox=outbox,
        inbox=inbox,
        migrations=MIGRATIONS,
        # Eligibility (the case's district), deliveries, closures; nothing else is read.
        subscribes=lambda topics: [
            topics.intake_cases,
            topics.providers_reports,
            topics.monitoring_cases,
        ],
        handlers=lambda runtime: make_handlers(config, runtime.clock),
        http=lambda runtime: create_app(runtime, config),
        http_port=HTTP_PORT,
    )


def runtime(
    kafka: KafkaSettings | None = None,
    database: DatabaseSettings | None = None,
    config: BillingConfig | None = None,
    **options: Any,
) -> ServiceRuntime:
    """The billing service; ``options`` go to ``ServiceRuntime`` (clock, service, relay, ...)."""
    return ServiceRuntime(spec(config), kafka, database, **options)
