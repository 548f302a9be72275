"""Real-process tests of cerniera.cli.devstack: Tansu, embedded PostgreSQL, env resolution."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from cerniera.cli.devstack import (
    DatabaseEndpoint,
    EmbeddedPostgres,
    KafkaEndpoint,
    TansuBroker,
    database_endpoint,
    docker_available,
    kafka_endpoint,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tansu() -> Iterator[KafkaEndpoint]:
    with TansuBroker() as broker:
        assert broker.endpoint is not None
        yield broker.endpoint


@pytest.fixture(scope="module")
def embedded_pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseEndpoint]:
    with EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data", cleanup=True) as pg:
        assert pg.endpoint is not None
        yield pg.endpoint


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_tansu_endpoint_shape(tansu: KafkaEndpoint) -> None:
    assert tansu.kind == "tansu"
    assert tansu.supports_idempotence is False
    assert tansu.bootstrap_servers.startswith("127.0.0.1:")


async def test_tansu_produce_consume_with_headers(tansu: KafkaEndpoint) -> None:
    topic = f"devstack-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=tansu.bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
        assert topic in await admin.list_topics()
    finally:
        await admin.close()

    producer = AIOKafkaProducer(
        bootstrap_servers=tansu.bootstrap_servers,
        acks="all",
        enable_idempotence=tansu.supports_idempotence,
    )
    await producer.start()
    headers = [("event-type", b"discharge.requested"), ("trace", b"\x00\x01binary")]
    try:
        await producer.send_and_wait(topic, b'{"id": 1}', key=b"patient-1", headers=headers)
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=tansu.bootstrap_servers,
        group_id=f"g-{topic}",
        auto_offset_reset="earliest",
        session_timeout_ms=3000,
        heartbeat_interval_ms=1000,
    )
    await consumer.start()
    try:
        msg = await asyncio.wait_for(consumer.getone(), timeout=20)
    finally:
        await consumer.stop()
    assert msg.key == b"patient-1"
    assert msg.value == b'{"id": 1}'
    assert list(msg.headers) == headers


def test_tansu_stop_is_fast_and_idempotent() -> None:
    broker = TansuBroker()
    endpoint = broker.start()
    port = int(endpoint.bootstrap_servers.rsplit(":", 1)[1])
    assert _port_open(port)
    started = time.perf_counter()
    broker.stop()
    assert time.perf_counter() - started < 1.0
    assert not _port_open(port)
    broker.stop()  # second stop is a no-op
    assert broker.pid is None


async def test_tansu_start_from_inside_a_running_loop() -> None:
    # start() is sync; under a running loop its readiness probe runs on a private loop.
    broker = TansuBroker()
    topic = f"in-loop-{uuid.uuid4().hex[:8]}"
    try:
        endpoint = broker.start()
        assert broker.pid is not None
        admin = AIOKafkaAdminClient(bootstrap_servers=endpoint.bootstrap_servers)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
            assert topic in await admin.list_topics()  # the broker answers this loop's client
        finally:
            await admin.close()
    finally:
        broker.stop()
    assert broker.pid is None


def test_tansu_start_fails_clearly_when_port_taken(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        broker = TansuBroker(port=port, log_path=tmp_path / "tansu.log")
        with pytest.raises(RuntimeError, match="AddrInUse"):
            broker.start(timeout=5)
        assert broker.pid is None


def test_kafka_endpoint_defaults_to_tansu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    with kafka_endpoint() as endpoint:
        assert endpoint.kind == "tansu"
        port = int(endpoint.bootstrap_servers.rsplit(":", 1)[1])
        assert _port_open(port)
    assert not _port_open(port)


def test_kafka_endpoint_without_docker_warns_once_and_uses_tansu(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    if docker_available():
        pytest.skip("Docker is reachable here")
    with (
        caplog.at_level(logging.WARNING, logger="cerniera.cli.devstack"),
        kafka_endpoint(prefer_testcontainers=True) as endpoint,
    ):
        assert endpoint.kind == "tansu"
    warnings = [r for r in caplog.records if r.name == "cerniera.cli.devstack"]
    assert len(warnings) == 1
    assert "Docker is not reachable" in warnings[0].getMessage()


@pytest.mark.parametrize(("raw", "idempotence"), [(None, True), ("false", False), ("1", True)])
def test_kafka_endpoint_external_from_env(
    monkeypatch: pytest.MonkeyPatch, raw: str | None, idempotence: bool
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9092,kafka-2:9092")
    if raw is None:
        monkeypatch.delenv("KAFKA_ENABLE_IDEMPOTENCE", raising=False)
    else:
        monkeypatch.setenv("KAFKA_ENABLE_IDEMPOTENCE", raw)
    with kafka_endpoint(prefer_testcontainers=True) as endpoint:
        assert endpoint == KafkaEndpoint("kafka-1:9092,kafka-2:9092", "external", idempotence)


async def test_embedded_postgres_answers_select_1(embedded_pg: DatabaseEndpoint) -> None:
    assert embedded_pg.kind == "embedded"
    assert embedded_pg.url.startswith("postgresql+asyncpg://")
    conn = await asyncpg.connect(embedded_pg.url.replace("+asyncpg", "", 1))
    try:
        assert await conn.fetchval("select 1") == 1
    finally:
        await conn.close()


async def test_embedded_postgres_url_works_with_sqlalchemy(embedded_pg: DatabaseEndpoint) -> None:
    engine = create_async_engine(embedded_pg.url)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("select 1"))).scalar_one() == 1
    finally:
        await engine.dispose()


def test_embedded_postgres_restart_keeps_data_and_cleanup_deletes(tmp_path: Path) -> None:
    data_dir = tmp_path / "pgdata"
    with EmbeddedPostgres(data_dir) as pg:
        assert pg.endpoint is not None
        url = pg.endpoint.url
    assert (data_dir / "PG_VERSION").exists()
    with EmbeddedPostgres(data_dir, cleanup=True) as pg:
        assert pg.endpoint is not None
        assert pg.endpoint.url == url
    assert not data_dir.exists()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("postgresql://u:p@db:5432/cerniera", "postgresql+asyncpg://u:p@db:5432/cerniera"),
        ("postgres://u:p@db/cerniera", "postgresql+asyncpg://u:p@db/cerniera"),
        ("postgresql+asyncpg://u@db/cerniera", "postgresql+asyncpg://u@db/cerniera"),
    ],
)
def test_database_endpoint_external_from_env(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", raw)
    with database_endpoint(prefer_testcontainers=True) as endpoint:
        assert endpoint == DatabaseEndpoint(url=expected, kind="external")


def test_docker_not_available_here_quickly() -> None:
    started = time.perf_counter()
    assert docker_available() is False
    assert time.perf_counter() - started < 2.0


def test_the_embedded_postgresql_dies_with_a_killed_parent(tmp_path: Path) -> None:
    """The postmaster runs detached; a parent killed by SIGKILL runs no exit hook, so a
    watchdog told by the kernel stops it."""
    import signal
    import subprocess
    import sys
    import time

    import psutil

    script = (
        "import time\n"
        "from pathlib import Path\n"
        "from cerniera.cli.devstack import EmbeddedPostgres\n"
        f"db = EmbeddedPostgres(data_dir=Path({str(tmp_path / 'pg')!r}))\n"
        "db.start()\n"
        "print(db._server.get_postmaster_info().pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    postmaster = psutil.Process(int(parent.stdout.readline()))
    assert postmaster.is_running()
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while postmaster.is_running() and postmaster.status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the embedded PostgreSQL outlived its parent"
        time.sleep(0.2)
