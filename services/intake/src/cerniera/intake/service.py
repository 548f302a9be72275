"""The intake service as the shared runtime runs it."""

from __future__ import annotations

from pathlib import Path

from cerniera.intake.api import create_app
from cerniera.intake.config import IntakeConfig, load_config
from cerniera.intake.handlers import make_handlers
from cerniera.intake.tables import metadata
from cerniera.shared.runtime import ServiceSpec
from cerniera.shared.service import RuntimeFactory, service_spec

MIGRATIONS = Path(__file__).parent / "migrations"


def spec(config: IntakeConfig | None = None) -> ServiceSpec:
    config = config or load_config()
    return service_spec(
        metadata,
        MIGRATIONS,
        subscribes=lambda topics: [topics.hospital_discharges],
        handlers=lambda runtime: make_handlers(config, runtime.clock),
        http=lambda runtime: create_app(runtime, config),
        http_port=8000,
    )


runtime = RuntimeFactory(spec)
"""``runtime(kafka, database, config, **options)``: the intake service."""
