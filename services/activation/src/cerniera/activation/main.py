"""``cerniera-activation``: run the activation service, or only migrate its schema.

Reads KAFKA_* and DATABASE_URL from the environment (see the README), the districts'
configuration (providers, lead times, answer deadline) from CERNIERA_AMBITI (default: the
shipped Desio/Magentino example), the clock from CERNIERA_CLOCK_*, and serves the readiness
view on HTTP_PORT (default 8001).
"""

from __future__ import annotations

from cerniera.activation.service import MIGRATIONS, runtime
from cerniera.activation.tables import SCHEMA
from cerniera.shared.entrypoint import service_cli


def cli(argv: list[str] | None = None) -> None:
    service_cli(SCHEMA, __doc__, MIGRATIONS, runtime, argv)


if __name__ == "__main__":
    cli()
