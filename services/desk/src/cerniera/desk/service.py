"""The desk as the shared runtime runs it: it consumes every topic of the contract (each
provider's own included) into its read model, serves the pages, and publishes the answers and
deliveries that providers without a system of their own record in its portal."""

from __future__ import annotations

from pathlib import Path

from cerniera.desk.config import DeskSettings
from cerniera.desk.live import Changes
from cerniera.desk.projection import make_handlers
from cerniera.desk.tables import metadata
from cerniera.desk.web.app import create_app
from cerniera.shared.ambiti import load_document, provider_ids
from cerniera.shared.contract import Topics
from cerniera.shared.runtime import ServiceSpec
from cerniera.shared.service import RuntimeFactory, service_spec

MIGRATIONS = Path(__file__).parent / "migrations"
HTTP_PORT = 8005


def every_topic(topics: Topics) -> list[str]:
    """Every contract topic, each provider's own included (the districts' registry)."""
    return topics.all(provider_ids(load_document()))


def spec(settings: DeskSettings | None = None) -> ServiceSpec:
    settings = settings or DeskSettings()
    changes = Changes()
    return service_spec(
        metadata,
        MIGRATIONS,
        subscribes=every_topic,
        handlers=lambda runtime: make_handlers(),
        # Not periodic work: the one long task that hears the changes committed (LISTEN),
        # started and stopped with the desk, restarted should it ever end.
        periodic=lambda runtime: changes.follow(runtime.database),
        http=lambda runtime: create_app(runtime, settings, changes),
        http_port=HTTP_PORT,
    )


runtime = RuntimeFactory(spec)
"""``runtime(kafka, database, settings, **options)``: the desk."""
