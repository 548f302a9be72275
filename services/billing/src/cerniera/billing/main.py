"""``cerniera-billing``: run the billing service (consumer and HTTP API on port 8003), or only
migrate its schema.

Reads KAFKA_* and DATABASE_URL from the environment (see the README), HTTP_PORT for the API,
and the districts' configuration from CERNIERA_AMBITI (default: the shipped Desio/Magentino
example).
"""

from __future__ import annotations

import argparse
import asyncio

from cerniera.billing.service import MIGRATIONS, runtime
from cerniera.billing.tables import SCHEMA
from cerniera.shared.logging import configure_logging
from cerniera.shared.persistence.migrations import upgrade
from cerniera.shared.settings import DatabaseSettings


def cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="cerniera-billing", description=__doc__)
    parser.add_argument("command", choices=["run", "migrate"], nargs="?", default="run")
    args = parser.parse_args(argv)
    configure_logging()
    if args.command == "migrate":
        asyncio.run(upgrade(MIGRATIONS, DatabaseSettings().database_url, SCHEMA))
    else:
        asyncio.run(runtime().app().run())


if __name__ == "__main__":
    cli()
