"""``cerniera-gateway``: run the hospital gateway, or only migrate its schema.

Reads KAFKA_* and DATABASE_URL like every service (see the README), plus MLLP_PORT (default
2575), HTTP_PORT (default 8004) and GATEWAY_HOSPITALS (``MSH4_CODE=hospital-id,...``).
"""

from __future__ import annotations

import argparse
import asyncio

from cerniera.gateway.service import MIGRATIONS, runtime
from cerniera.gateway.tables import SCHEMA
from cerniera.shared.logging import configure_logging
from cerniera.shared.persistence.migrations import upgrade
from cerniera.shared.settings import DatabaseSettings


def cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="cerniera-gateway", description=__doc__)
    parser.add_argument("command", choices=["run", "migrate"], nargs="?", default="run")
    args = parser.parse_args(argv)
    configure_logging()
    if args.command == "migrate":
        asyncio.run(upgrade(MIGRATIONS, DatabaseSettings().database_url, SCHEMA))
    else:
        asyncio.run(runtime().app().run())


if __name__ == "__main__":
    cli()
