"""``cerniera-intake``: run the intake service, or only migrate its schema.

Reads KAFKA_* and DATABASE_URL from the environment (see the README), and the districts'
configuration from CERNIERA_AMBITI (default: the shipped Desio/Magentino example). The team's
HTTP API listens on HTTP_HOST:HTTP_PORT (default 0.0.0.0:8000; docs at /docs).
"""

from __future__ import annotations

import argparse
import asyncio

from cerniera.intake.service import MIGRATIONS, runtime
from cerniera.intake.tables import SCHEMA
from cerniera.shared.logging import configure_logging
from cerniera.shared.persistence.migrations import upgrade
from cerniera.shared.settings import DatabaseSettings


def cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="cerniera-intake", description=__doc__)
    parser.add_argument("command", choices=["run", "migrate"], nargs="?", default="run")
    args = parser.parse_args(argv)
    configure_logging()
    if args.command == "migrate":
        asyncio.run(upgrade(MIGRATIONS, DatabaseSettings().database_url, SCHEMA))
    else:
        asyncio.run(runtime().app().run())


if __name__ == "__main__":
    cli()
