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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from cerniera.cli import stack
from cerniera.cli.devstack import (
    DatabaseEndpoint,
    KafkaEndpoint,
    database_endpoint,
    free_port,
    kafka_endpoint,
    pdeathsig_preexec,
)
from cerniera.cli.identity.directory import DEMO_PASSWORD, Directory, demo_directory, describe
from cerniera.cli.identity.provider import serving as serving_identity
from cerniera.shared import ambiti
from cerniera.shared.ambiti import district_tables, load_document, provider_ids
from cerniera.shared.contract import Topics
from cerniera.shared.messaging.kafka import provision_topics
from cerniera.shared.settings import KafkaSettings


@dataclass(frozen=True)
class ServiceCommand:
    module: str
    http_port: int | None = None  # the service's default port, if it serves HTTP
    mllp_port: int | None = None  # the HL7 v2 listener's default port, if it has one

    def argv(self) -> list[str]:
        return [sys.executable, "-m", self.module, "run"]


# Each service is an independent process: its own schema, consumer group and outbox relay.
SERVICES: dict[str, ServiceCommand] = {
    "intake": ServiceCommand("cerniera.intake.main", 8000),
    "activation": ServiceCommand("cerniera.activation.main", 8001),
    "monitoring": ServiceCommand("cerniera.monitoring.main", 8002),
    "billing": ServiceCommand("cerniera.billing.main", 8003),
    "gateway": ServiceCommand("cerniera.gateway.main", 8004, mllp_port=2575),
    # Last: it sends every command to the services above, at the addresses they got.
    "desk": ServiceCommand("cerniera.desk.main", 8005),
}

DESK_USES = ("intake", "activation", "monitoring", "billing")
"""The services whose APIs the desk calls (``DESK_<NAME>_URL``)."""

STOP_GRACE_S = 25.0


@dataclass
class RunningService:
    name: str
    process: subprocess.Popen[str]
    http_url: str | None = None
    mllp: str | None = None


@dataclass
class RunningStack:
    kafka: KafkaEndpoint
    database: DatabaseEndpoint
    settings: KafkaSettings
    env: dict[str, str]
    services: list[RunningService] = field(default_factory=list)
    directory: Directory | None = None
    """The demo accounts of the embedded identity provider (None: OIDC_ISSUER was given)."""

    @property
    def issuer(self) -> str:
        return self.env["OIDC_ISSUER"]

    @property
    def topics(self) -> Topics:
        return Topics(prefix=self.settings.topic_prefix)

    @property
    def providers(self) -> list[str]:
        """The providers the services' districts register: whose own topics exist."""
        return provider_ids(load_document(self.env.get(ambiti.ENV_VAR)))

    def all_topics(self) -> list[str]:
        """Every contract topic of this stack, each provider's own included."""
        return self.topics.all(self.providers)

    def url(self, service: str) -> str:
        for running in self.services:
            if running.name == service and running.http_url:
                return running.http_url
        raise KeyError(f"service {service} has no HTTP API running")

    def failed(self) -> RunningService | None:
        return next((s for s in self.services if s.process.poll() is not None), None)


IDP_PORT = 9400
"""The embedded identity provider's port when free (else any)."""


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
        # Tansu holds each fetch for the whole wait even when records arrive: keep it short.
        env.setdefault("KAFKA_FETCH_MAX_WAIT_MS", "20")
    return env


@contextlib.contextmanager
def running_stack(
    console: Console,
    services: list[str],
    *,
    extra_env: dict[str, str] | None = None,
    data_dir: Path | None = None,
    output: Callable[[str, str], None] | None = None,
) -> Iterator[RunningStack]:
    """Broker, database, topics and the services (own processes); all stopped on exit."""
    unknown = [s for s in services if s not in SERVICES]
    if unknown:
        raise SystemExit(f"Unknown service(s): {', '.join(unknown)}; known: {', '.join(SERVICES)}")
    with contextlib.ExitStack() as resources:
        kafka = resources.enter_context(kafka_endpoint())
        database = resources.enter_context(database_endpoint(data_dir=data_dir))
        env = service_environment(kafka, database)
        env.update(extra_env or {})
        directory = None
        if not env.get("OIDC_ISSUER"):
            # No identity provider given: the embedded one, with the demo's accounts.
            directory = demo_directory(district_tables(load_document(env.get(ambiti.ENV_VAR))))
            idp = resources.enter_context(
                serving_identity(directory, port=_preferred_port(IDP_PORT))
            )
            env["OIDC_ISSUER"] = idp.url
        settings = KafkaSettings(
            bootstrap_servers=kafka.bootstrap_servers,
            enable_idempotence=kafka.supports_idempotence,
            topic_prefix=env.get("KAFKA_TOPIC_PREFIX", "dp."),
            topic_partitions=int(env.get("KAFKA_TOPIC_PARTITIONS", "6")),
        )
        running = RunningStack(kafka, database, settings, env, directory=directory)
        asyncio.run(provision_topics(settings, running.all_topics()))
        resources.callback(_stop_all, console, running.services)
        for name in sorted(services, key=list(SERVICES).index):
            urls = {s.name: s.http_url for s in running.services if s.http_url}
            running.services.append(_spawn(name, env, output or _print_line, urls))
        yield running


def stop_on_signals() -> None:
    """SIGINT and SIGTERM stop ``up`` (and the demo) cleanly, also when started from a script
    in the background, where the shell leaves SIGINT ignored."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)


def run_up(console: Console, services: list[str]) -> int:
    stop_on_signals()
    started = time.monotonic()
    console.print("[bold]Starting Cerniera…[/]")
    with running_stack(console, services) as running:
        write_stack(running)
        try:
            _show(console, running, time.monotonic() - started)
            return _wait(console, running)
        finally:
            stack.clear()


def write_stack(running: RunningStack) -> None:
    """Where this stack is, for the client commands (send, watch, token, bench --pages)."""
    desk = next((s.http_url for s in running.services if s.name == "desk"), None)
    stack.write(
        stack.Stack(
            bootstrap_servers=running.kafka.bootstrap_servers,
            database_url=running.database.url,
            enable_idempotence=running.kafka.supports_idempotence,
            topic_prefix=running.settings.topic_prefix,
            oidc_issuer=running.issuer,
            desk_url=desk,
        )
    )


def _spawn(
    name: str,
    env: dict[str, str],
    output: Callable[[str, str], None],
    urls: dict[str, str] | None = None,
) -> RunningService:
    command = SERVICES[name]
    env = dict(env)
    if name == "desk":
        for used in DESK_USES:
            if urls and used in urls:
                env[f"DESK_{used.upper()}_URL"] = urls[used]
    url = mllp = None
    if command.http_port is not None:
        port = _preferred_port(command.http_port)
        env["HTTP_PORT"] = str(port)
        url = f"http://127.0.0.1:{port}"
    if command.mllp_port is not None:
        port = _preferred_port(command.mllp_port)
        env["MLLP_PORT"] = str(port)
        mllp = f"127.0.0.1:{port}"
        # A local stack: HL7 in plain TCP on loopback only, from the samples' sender (MSH-4).
        env.setdefault("MLLP_HOST", "127.0.0.1")
        env.setdefault("MLLP_ALLOW_PLAINTEXT", "true")
        env.setdefault("GATEWAY_HOSPITALS", "ASST_VIMERCATE=asst-vimercate")
    process = subprocess.Popen(
        command.argv(),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # Its own process group: Ctrl-C reaches ``up`` only, which then stops services in order.
        start_new_session=True,
        # Killed with us, even by SIGKILL: no service lives on holding its ports.
        preexec_fn=pdeathsig_preexec(signal.SIGTERM),
    )
    threading.Thread(target=_relay_output, args=(name, process, output), daemon=True).start()
    return RunningService(name, process, url, mllp)


def _preferred_port(port: int) -> int:
    """The service's usual port when nothing listens there, else any free one."""
    import socket

    with socket.socket() as probe:
        return port if probe.connect_ex(("127.0.0.1", port)) != 0 else free_port()


def _print_line(name: str, line: str) -> None:
    sys.stdout.write(f"{name:>10} | {line}")
    sys.stdout.flush()


def _relay_output(
    name: str, process: subprocess.Popen[str], output: Callable[[str, str], None]
) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        output(name, line)


def _show(console: Console, running: RunningStack, elapsed: float) -> None:
    table = Table(title=f"Cerniera is up ({elapsed:.1f} s) — Ctrl-C stops everything")
    table.add_column("component")
    table.add_column("where")
    table.add_column("kind")
    table.add_row("Kafka", running.kafka.bootstrap_servers, running.kafka.kind)
    table.add_row("PostgreSQL", running.database.url, running.database.kind)
    topics, prefix = running.topics, running.settings.topic_prefix
    table.add_row("topics", ", ".join(topics.all()), "+ .dlq each")
    table.add_row(
        "per provider",
        f"{prefix}activation.requests.<id>, {prefix}providers.reports.<id>: "
        + ", ".join(running.providers),
        "+ .dlq each",
    )
    for service in running.services:
        if service.name == "desk":
            continue
        where = f"pid {service.process.pid}"
        if service.http_url:
            where += f", {service.http_url} (API docs: {service.http_url}/docs)"
        if service.mllp:
            where += f", HL7 v2 MLLP on {service.mllp}"
        table.add_row(f"service {service.name}", where, "process")
    table.add_row(
        "identity (OIDC)",
        running.issuer,
        "embedded (demo accounts)" if running.directory else "OIDC_ISSUER",
    )
    console.print(table)
    if running.directory is not None:
        people = Table(title=f"Demo accounts (password '{DEMO_PASSWORD}')")
        for column in ("username", "who", "role · scope"):
            people.add_column(column)
        for row in describe(running.directory):
            people.add_row(*row)
        console.print(people)
    show_desk(console, running)
    console.print(
        "Try it from another terminal:\n"
        "  [bold]./cerniera send examples/events/discharge-announced.json[/]\n"
        "  [bold]./cerniera watch[/]   (every event on every topic, decisions included)\n"
        '  [bold]curl -H "Authorization: Bearer $(./cerniera token --role equipe '
        '--district desio)" <intake>/cases[/]\n'
        "  HL7 v2 and FHIR samples: examples/hl7/, examples/fhir/ (services/gateway/README.md)"
    )


def show_desk(console: Console, running: RunningStack) -> None:
    """Where the team's screens and the providers' portal are, and who to log in as."""
    desk = next((s for s in running.services if s.name == "desk" and s.http_url), None)
    if desk is None:
        return
    console.print(
        f"[bold]Desk[/] (the team's screens and the providers' portal): [bold]{desk.http_url}[/]"
    )
    if running.directory is not None:
        console.print(
            f"  log in as [bold]equipe-magentino[/] or [bold]equipe-desio[/] (social worker), "
            f"[bold]admin-desio[/] (district administration), "
            f"[bold]operatore-<provider>[/] (provider portal); password '{DEMO_PASSWORD}'"
        )


def _wait(console: Console, running: RunningStack) -> int:
    try:
        while True:
            failed = running.failed()
            if failed is not None:
                code = failed.process.returncode
                console.print(f"[red]service {failed.name} exited with code {code}[/]")
                return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        console.print("\n[bold]Stopping…[/]")
        return 0


def _stop_all(console: Console, running: list[RunningService]) -> None:
    for service in running:
        if service.process.poll() is None:
            service.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    for service in running:
        with contextlib.suppress(subprocess.TimeoutExpired):
            service.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        if service.process.poll() is None:
            service.process.kill()
        console.print(f"stopped {service.name}")
