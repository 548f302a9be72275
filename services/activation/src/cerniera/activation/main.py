"""``cerniera-activation``: run the activation service, or only migrate its schema.

Reads KAFKA_* and DATABASE_URL from the environment (see the README), the districts'
configuration (providers, lead times, answer deadline) from CERNIERA_AMBITI (default: the
shipped Desio/Magentino example), the clock from CERNIERA_CLOCK_*, and serves the readiness
view on HTTP_PORT (default 8001).
"""

from __future__ import annotations

import argparse
import asyncio

from cerniera.activation.service import MIGRATIONS, runtime
from cerniera.activation.tables import SCHEMA
from cerniera.shared.logging import configure_logging
from cerniera.shared.persistence.migrations import upgrade
from cerniera.shared.settings import DatabaseSettings


def cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="cerniera-activation", description=__doc__)
    parser.add_argument("command", choices=["run", "migrate"], nargs="?", default="run")
    args = parser.parse_args(argv)
    configure_logging()
    if args.command == "migrate":
        asyncio.run(upgrade(MIGRATIONS, DatabaseSettings().database_url, SCHEMA))
    else:
        asyncio.run(runtime().app().run())


if __name__ == "__main__":
    cli()
