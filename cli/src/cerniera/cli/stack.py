"""Where the running stack is: written by ``cerniera up``, read by the other commands.

Environment variables win (KAFKA_BOOTSTRAP_SERVERS, DATABASE_URL, ...), so every command also
works against an existing Kafka and PostgreSQL.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from cerniera.cli.devstack import project_root
from cerniera.shared.settings import KafkaSettings


@dataclass(frozen=True)
class Stack:
    bootstrap_servers: str
    database_url: str
    enable_idempotence: bool
    topic_prefix: str
    oidc_issuer: str | None = None
    desk_url: str | None = None


def stack_file() -> Path:
    return project_root() / ".cerniera" / "stack.json"


def write(stack: Stack) -> Path:
    path = stack_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(stack), indent=2))
    return path


def clear() -> None:
    stack_file().unlink(missing_ok=True)


def oidc_issuer() -> str:
    """The identity provider for client commands: OIDC_ISSUER, else the one ``up`` started."""
    if os.environ.get("OIDC_ISSUER"):
        return os.environ["OIDC_ISSUER"]
    path = stack_file()
    issuer = json.loads(path.read_text()).get("oidc_issuer") if path.exists() else None
    if not issuer:
        raise SystemExit(
            "No identity provider: start the stack with './cerniera up' in another terminal, "
            "or set OIDC_ISSUER."
        )
    return str(issuer)


def desk_url() -> str:
    """The desk of the running stack (``up``, or ``demo --keep``): DESK_URL, else the file."""
    if os.environ.get("DESK_URL"):
        return os.environ["DESK_URL"]
    path = stack_file()
    url = json.loads(path.read_text()).get("desk_url") if path.exists() else None
    if not url:
        raise SystemExit(
            "No desk: start the stack with './cerniera up' (or './cerniera demo --keep') in "
            "another terminal, or set DESK_URL."
        )
    return str(url)


def kafka_settings() -> KafkaSettings:
    """Settings for client commands: the environment, else the stack ``cerniera up`` started."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        return KafkaSettings()
    path = stack_file()
    if not path.exists():
        raise SystemExit(
            "No broker: start the stack with './cerniera up' in another terminal, "
            "or set KAFKA_BOOTSTRAP_SERVERS."
        )
    stack = Stack(**json.loads(path.read_text()))
    return KafkaSettings(
        bootstrap_servers=stack.bootstrap_servers,
        enable_idempotence=stack.enable_idempotence,
        topic_prefix=stack.topic_prefix,
    )
