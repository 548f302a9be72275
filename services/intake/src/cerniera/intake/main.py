"""``cerniera-intake``: run the intake service, or only migrate its schema.

Reads KAFKA_* and DATABASE_URL from the environment (see the README), and the districts'
configuration from CERNIERA_AMBITI (default: the shipped Desio/Magentino example). The team's
HTTP API listens on HTTP_HOST:HTTP_PORT (default 0.0.0.0:8000; docs at /docs).
"""

from __future__ import annotations

from cerniera.intake.service import MIGRATIONS, runtime
from cerniera.intake.tables import SCHEMA
from cerniera.shared.entrypoint import service_cli


def cli(argv: list[str] | None = None) -> None:
    service_cli(SCHEMA, __doc__, MIGRATIONS, runtime, argv)


if __name__ == "__main__":
    cli()
