"""``cerniera-desk``: run the desk (default), bring its schema up to date (``migrate``), or
rebuild its read model from the topics (``rebuild``, with the desk stopped).

Reads KAFKA_* and DATABASE_URL from the environment (see the README), OIDC_ISSUER for log-in,
DESK_* for the services it sends commands to (``config.DeskSettings``); serves the pages on
HTTP_PORT (default 8005).
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from cerniera.desk.rebuild import rebuild
from cerniera.desk.service import MIGRATIONS, runtime
from cerniera.desk.tables import SCHEMA
from cerniera.shared.entrypoint import service_cli
from cerniera.shared.logging import configure_logging


def cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="cerniera-desk", description=__doc__)
    parser.add_argument("command", choices=["run", "migrate", "rebuild"], nargs="?", default="run")
    args, _ = parser.parse_known_args(argv)
    if args.command == "rebuild":
        signal.signal(signal.SIGINT, signal.default_int_handler)
        configure_logging()
        asyncio.run(rebuild())
        return
    service_cli(SCHEMA, __doc__, MIGRATIONS, runtime, argv)


if __name__ == "__main__":
    cli()
