"""The intake service as the shared runtime runs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cerniera.intake.api import create_app
from cerniera.intake.config import IntakeConfig, load_config
from cerniera.intake.handlers import make_handlers
from cerniera.intake.tables import SCHEMA, inbox, outbox
from cerniera.shared.runtime import ServiceRuntime, ServiceSpec
from cerniera.shared.settings import DatabaseSettings, KafkaSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def spec(config: IntakeConfig | None = None) -> ServiceSpec:
    config = config or load_config()
    return ServiceSpec(
        name=SCHEMA,
        outbox=outbox,
        inbox=inbox,
        migrations=MIGRATIONS,
        subscribes=lambda topics: [topics.hospital_discharges],
        handlers=lambda runtime: make_handlers(config, runtime.clock),
        http=lambda runtime: create_app(runtime, config),
        http_port=8000,
    )


def runtime(
    kafka: KafkaSettings | None = None,
    database: DatabaseSettings | None = None,
    config: IntakeConfig | None = None,
    **options: Any,
) -> ServiceRuntime:
    """The intake service; ``options`` go to ``ServiceRuntime`` (clock, relay, ...)."""
    return ServiceRuntime(spec(config), kafka, database, **options)
