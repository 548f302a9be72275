"""What every service's ``service.py`` would otherwise write again: its ``ServiceSpec`` built
from its own tables and migrations, and its ``runtime(kafka, database, config, **options)``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy import MetaData

from cerniera.shared.runtime import ServiceRuntime, ServiceSpec
from cerniera.shared.settings import DatabaseSettings, KafkaSettings

Config = TypeVar("Config")


def service_spec(metadata: MetaData, migrations: Path, **parts: Any) -> ServiceSpec:
    """The spec of the service whose tables are ``metadata``: named after their schema, with
    the outbox and inbox defined there and the Alembic history in ``migrations``. ``parts`` are
    the rest of ``ServiceSpec`` (subscribes, handlers, periodic, http, ...)."""
    schema = metadata.schema
    assert schema, "a service's metadata names its schema"
    return ServiceSpec(
        name=schema,
        outbox=metadata.tables[f"{schema}.outbox"],
        inbox=metadata.tables[f"{schema}.inbox"],
        migrations=migrations,
        **parts,
    )


@dataclass(frozen=True)
class RuntimeFactory(Generic[Config]):
    """A service's ``runtime(kafka, database, config, **options)``."""

    spec: Callable[[Config | None], ServiceSpec]

    def __call__(
        self,
        kafka: KafkaSettings | None = None,
        database: DatabaseSettings | None = None,
        config: Config | None = None,
        **options: Any,
    ) -> ServiceRuntime:
        """The service of ``spec(config)`` (``None``: its configuration from the environment);
        ``options`` go to ``ServiceRuntime`` (clock, service, relay, ...)."""
        return ServiceRuntime(self.spec(config), kafka, database, **options)
