"""``cerniera-monitoring``: run the monitoring service, or only migrate its schema.

Reads KAFKA_* and DATABASE_URL from the environment (see the README), the districts'
configuration from CERNIERA_AMBITI (default: the shipped Desio/Magentino example) and the clock
from CERNIERA_CLOCK_*; serves the équipe's HTTP API on HTTP_PORT (default 8002, docs at /docs).
"""

from __future__ import annotations

from cerniera.monitoring.service import MIGRATIONS, runtime
from cerniera.monitoring.tables import SCHEMA
from cerniera.shared.entrypoint import service_cli


def cli(argv: list[str] | None = None) -> None:
    service_cli(SCHEMA, __doc__, MIGRATIONS, runtime, argv)


if __name__ == "__main__":
    cli()
