"""The intake service as the shared runtime runs it."""

from __future__ import annotations

from pathlib import Path

from cerniera.intake.api import create_app
from cerniera.intake.config import IntakeConfig, load_config, pseudonym_key
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
        # Monitoring's closures: a closed case refuses the team's changes.
        subscribes=lambda topics: [topics.hospital_discharges, topics.monitoring_cases],
        handlers=lambda runtime: make_handlers(config, runtime.clock, pseudonym_key()),
        http=lambda runtime: create_app(runtime, config, pseudonym_key()),
        http_port=8000,
    )


runtime = RuntimeFactory(spec)
"""``runtime(kafka, database, config, **options)``: the intake service."""
