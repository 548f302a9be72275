"""``cerniera-billing``: run the billing service (consumer and HTTP API on port 8003), or only
migrate its schema.

Reads KAFKA_* and DATABASE_URL from the environment (see the README), HTTP_PORT for the API,
and the districts' configuration from CERNIERA_AMBITI (default: the shipped Desio/Magentino
example).
"""

from __future__ import annotations

from cerniera.billing.service import MIGRATIONS, runtime
from cerniera.billing.tables import SCHEMA
from cerniera.shared.entrypoint import service_cli


def cli(argv: list[str] | None = None) -> None:
    service_cli(SCHEMA, __doc__, MIGRATIONS, runtime, argv)


if __name__ == "__main__":
    cli()
