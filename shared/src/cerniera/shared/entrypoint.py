"""The command line every service has: ``cerniera-<name> run`` (default) or ``migrate``."""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Callable
from pathlib import Path

from cerniera.shared.logging import configure_logging
from cerniera.shared.messaging.kafka import BrokerConfigError
from cerniera.shared.persistence.migrations import upgrade
from cerniera.shared.runtime import ServiceRuntime
from cerniera.shared.settings import DatabaseSettings


def service_cli(
    name: str,
    description: str | None,
    migrations: Path,
    runtime: Callable[[], ServiceRuntime],
    argv: list[str] | None = None,
) -> None:
    parser = argparse.ArgumentParser(prog=f"cerniera-{name}", description=description)
    parser.add_argument(
        "command",
        choices=["run", "migrate"],
        nargs="?",
        default="run",
        help="run the service (default), or only bring its schema up to date",
    )
    args = parser.parse_args(argv)
    # A shell starting us in the background leaves SIGINT ignored, and the ignore is inherited:
    # restore it, so that SIGINT stops the service as SIGTERM does.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    configure_logging()
    try:
        if args.command == "migrate":
            asyncio.run(upgrade(migrations, DatabaseSettings().database_url, name))
        else:
            asyncio.run(runtime().app().run())
    except BrokerConfigError as error:
        raise SystemExit(f"cerniera-{name}: {error}") from None
