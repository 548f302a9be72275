"""``cerniera-gateway``: run the hospital gateway, or only migrate its schema.

Reads KAFKA_* and DATABASE_URL like every service (see the README), plus MLLP_PORT (default
2575), HTTP_PORT (default 8004), GATEWAY_HOSPITALS (``MSH4_CODE=hospital-id,...``), and for
the MLLP door MLLP_TLS_CERT / MLLP_TLS_KEY / MLLP_TLS_CLIENT_CA with GATEWAY_CLIENT_CERTS, or
MLLP_ALLOW_PLAINTEXT=true (services/gateway/README.md).
"""

from __future__ import annotations

from cerniera.gateway.service import MIGRATIONS, runtime
from cerniera.gateway.tables import SCHEMA
from cerniera.shared.entrypoint import service_cli


def cli(argv: list[str] | None = None) -> None:
    service_cli(SCHEMA, __doc__, MIGRATIONS, runtime, argv)


if __name__ == "__main__":
    cli()
