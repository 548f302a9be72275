"""``cerniera up``: broker, database, topics and services, each service its own process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from cerniera.cli import stack
from cerniera.cli.devstack import DatabaseEndpoint, KafkaEndpoint, database_endpoint, kafka_endpoint
from cerniera.shared.contract import Topics
from cerniera.shared.messaging.kafka import provision_topics
from cerniera.shared.settings import KafkaSettings

# Each service is an independent process: its own schema, consumer group and outbox relay.
SERVICES: dict[str, list[str]] = {
    "intake": [sys.executable, "-m", "cerniera.intake.main", "run"],
}

STOP_GRACE_S = 25.0


@dataclass
class RunningService:
    name: str
    process: subprocess.Popen[str]


def service_environment(kafka: KafkaEndpoint, database: DatabaseEndpoint) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        KAFKA_BOOTSTRAP_SERVERS=kafka.bootstrap_servers,
        KAFKA_ENABLE_IDEMPOTENCE=str(kafka.supports_idempotence).lower(),
        DATABASE_URL=database.url,
        LOG_FORMAT=os.environ.get("LOG_FORMAT", "console"),
        PYTHONUNBUFFERED="1",
    )
    if kafka.kind == "tansu":
        # Tansu holds each JoinGroup for half the session timeout: keep sessions short there.
        env.setdefault("KAFKA_SESSION_TIMEOUT_MS", "3000")
        env.setdefault("KAFKA_HEARTBEAT_INTERVAL_MS", "1000")
    return env


def run_up(console: Console, services: list[str]) -> int:
    unknown = [s for s in services if s not in SERVICES]
    if unknown:
        console.print(
            f"[red]Unknown service(s): {', '.join(unknown)}[/]; known: {', '.join(SERVICES)}"
        )
        return 2
    with contextlib.ExitStack() as resources:
        console.print("[bold]Starting Cerniera…[/]")
        started = time.monotonic()
        kafka = resources.enter_context(kafka_endpoint())
        database = resources.enter_context(database_endpoint())
        env = service_environment(kafka, database)
        settings = KafkaSettings(
            bootstrap_servers=kafka.bootstrap_servers,
            enable_idempotence=kafka.supports_idempotence,
            topic_prefix=env.get("KAFKA_TOPIC_PREFIX", "dp."),
            topic_partitions=int(env.get("KAFKA_TOPIC_PARTITIONS", "6")),
        )
        topics = Topics(prefix=settings.topic_prefix)
        asyncio.run(provision_topics(settings, topics.all()))
        stack.write(
            stack.Stack(
                bootstrap_servers=kafka.bootstrap_servers,
                database_url=database.url,
                enable_idempotence=kafka.supports_idempotence,
                topic_prefix=settings.topic_prefix,
            )
        )
        resources.callback(stack.clear)
        running = [_spawn(name, env) for name in services]
        resources.callback(_stop_all, console, running)
        _show(console, kafka, database, topics, running, time.monotonic() - started)
        return _wait(console, running)
    return 0


def _spawn(name: str, env: dict[str, str]) -> RunningService:
    process = subprocess.Popen(
        SERVICES[name],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # Its own process group: Ctrl-C reaches ``up`` only, which then stops services in order.
        start_new_session=True,
    )
    threading.Thread(target=_relay_output, args=(name, process), daemon=True).start()
    return RunningService(name, process)


def _relay_output(name: str, process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        sys.stdout.write(f"{name:>10} | {line}")
        sys.stdout.flush()


def _show(
    console: Console,
    kafka: KafkaEndpoint,
    database: DatabaseEndpoint,
    topics: Topics,
    running: list[RunningService],
    elapsed: float,
) -> None:
    table = Table(title=f"Cerniera is up ({elapsed:.1f} s) — Ctrl-C stops everything")
    table.add_column("component")
    table.add_column("where")
    table.add_column("kind")
    table.add_row("Kafka", kafka.bootstrap_servers, kafka.kind)
    table.add_row("PostgreSQL", database.url, database.kind)
    table.add_row("topics", ", ".join(topics.all()), "+ .dlq each")
    for service in running:
        table.add_row(f"service {service.name}", f"pid {service.process.pid}", "process")
    console.print(table)
    console.print(
        "Try it from another terminal:\n"
        "  [bold]./cerniera send examples/events/discharge-announced.json[/]\n"
        "  [bold]./cerniera watch[/]   (every event on every topic, decisions included)"
    )


def _wait(console: Console, running: list[RunningService]) -> int:
    try:
        while True:
            for service in running:
                code = service.process.poll()
                if code is not None:
                    console.print(f"[red]service {service.name} exited with code {code}[/]")
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        console.print("\n[bold]Stopping…[/]")
        return 0


def _stop_all(console: Console, running: list[RunningService]) -> None:
    for service in running:
        if service.process.poll() is None:
            service.process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + STOP_GRACE_S
    for service in running:
        with contextlib.suppress(subprocess.TimeoutExpired):
            service.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        if service.process.poll() is None:
            service.process.kill()
        console.print(f"stopped {service.name}")


def all_services() -> Iterator[str]:
    yield from SERVICES
