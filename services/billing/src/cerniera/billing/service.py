"""The billing service as the shared runtime runs it."""

from __future__ import annotations

from pathlib import Path

from cerniera.billing.api import create_app
from cerniera.billing.config import BillingConfig, load_config
from cerniera.billing.handlers import make_handlers
from cerniera.billing.tables import metadata
from cerniera.shared.runtime import ServiceSpec
from cerniera.shared.service import RuntimeFactory, service_spec

MIGRATIONS = Path(__file__).parent / "migrations"
HTTP_PORT = 8003


def spec(config: BillingConfig | None = None) -> ServiceSpec:
    config = config or load_config()
    # Each registered provider's own reports topic: an explicit list, no pattern subscription.
    providers = list(dict.fromkeys(p.id for a in config.ambiti.values() for p in a.providers))
    return service_spec(
        metadata,
        MIGRATIONS,
        # Eligibility (district, package), activations, deliveries, closures; nothing else.
        subscribes=lambda topics: [
            topics.intake_cases,
            topics.activation_services,  # activations: what a provider is authorised to bill
            *(topics.provider_reports(p) for p in providers),
            topics.monitoring_cases,
        ],
        handlers=lambda runtime: make_handlers(config, runtime.clock),
        http=lambda runtime: create_app(runtime, config),
        http_port=HTTP_PORT,
    )


runtime = RuntimeFactory(spec)
"""``runtime(kafka, database, config, **options)``: the billing service."""
