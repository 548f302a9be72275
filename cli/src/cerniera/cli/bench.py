"""``cerniera bench``: the services' throughput through the real broker and database, side by side
with the raw ceiling measured on the same broker and database in the same run.

N announcements are loaded onto the hospital topic first. With ``--baseline`` a raw aiokafka +
asyncpg loop (``baseline``) does a service's durable work on them (its own consumer group and
schema). Then the services start, each its own process as in production (``--replicas`` of
intake and of activation, each set in its one consumer group), and the bench reads what they
publish. Rates come from the Kafka timestamps the producers set (the outbox relays, and the
baseline's producer): absolute rates vary between runs on a shared machine, ratios to the
ceiling are what is tracked. Each process's output goes to a log file; its memory (RSS) and
CPU time are sampled throughout. ``latency`` is the steady-load run (``--rate``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import parse_qs, urlsplit

import asyncpg
import psutil
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from cerniera.cli import sampler
from cerniera.cli.baseline import BATCH, asyncpg_dsn, run_baseline
from cerniera.cli.chaos.fleet import Member
from cerniera.cli.devstack import (
    DatabaseEndpoint,
    KafkaEndpoint,
    database_endpoint,
    kafka_endpoint,
)
from cerniera.cli.synthetic import announcement
from cerniera.cli.up import SERVICES, service_environment
from cerniera.shared.ambiti import provider_ids
from cerniera.shared.contract import (
    EligibilityConfirmed,
    EligibilityRejected,
    ServiceActivationRequested,
    Topics,
)
from cerniera.shared.envelope import Envelope
from cerniera.shared.messaging.kafka import provision_topics
from cerniera.shared.settings import KafkaSettings

if TYPE_CHECKING:
    from cerniera.cli.latency import LatencyFigures

PIPELINE = ("intake", "activation", "monitoring", "billing")
SCALED = ("intake", "activation")
"""The services ``--replicas`` runs several of (each set in its one consumer group)."""

DECISIONS = frozenset({EligibilityConfirmed.event_type, EligibilityRejected.event_type})
CONFIRMED = EligibilityConfirmed.event_type
REQUESTED = ServiceActivationRequested.event_type

Record: TypeAlias = ConsumerRecord[Any, Any]


@dataclass(frozen=True)
class BenchOptions:
    cases: int = 20_000
    partitions: int = 6
    timeout: float = 600.0
    pipeline: bool = False
    baseline: bool = False
    replicas: int = 1
    profile: bool = False
    """Sample each service's CPU (``sampler``): ``<process>.stacks`` beside its log."""
    rate: float | None = None
    """Announcements per second offered (the latency run, ``latency``), or None."""
    duration: float = 60.0
    warmup: int = 20
    """Latency run: cases sent through first (and left out) so every group has joined."""

    @property
    def services(self) -> list[str]:
        return list(PIPELINE) if self.pipeline or self.rate is not None else ["intake"]


# --- per-case outcomes --------------------------------------------------------------------


@dataclass
class Outcomes:
    """Per case, the Kafka timestamps (ms) of what the services published about it: its
    decision, and its first and last activation request. Only these are kept, not the records
    (a 100,000-case run)."""

    decided: dict[str, int] = field(default_factory=dict)
    eligible: set[str] = field(default_factory=set)
    first_request: dict[str, int] = field(default_factory=dict)
    last_request: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, case: str, timestamp: int) -> None:
        if kind in DECISIONS:
            # The first one: a second is a republication (a relay that died before its delete).
            self.decided.setdefault(case, timestamp)
            if kind == CONFIRMED:
                self.eligible.add(case)
        elif kind == REQUESTED:
            self.first_request[case] = min(timestamp, self.first_request.get(case, timestamp))
            self.last_request[case] = max(timestamp, self.last_request.get(case, timestamp))

    def add_record(self, record: Record) -> None:
        if record.key is not None:
            kind = dict(record.headers).get("ce_type", b"").decode()
            self.add(kind, record.key.decode(), record.timestamp)

    def describe(self) -> str:
        return (
            f"{len(self.decided):,} cases decided, {len(self.eligible):,} eligible, "
            f"{len(self.first_request):,} with activation requests"
        )


# --- figures --------------------------------------------------------------------------------


def rate(count: int, first_ms: int, last_ms: int) -> float | None:
    """Per second between two Kafka timestamps; None when there is no span to divide by."""
    return count / ((last_ms - first_ms) / 1000) if last_ms > first_ms else None


@dataclass(frozen=True)
class Throughput:
    """The rates of a run (per second) and, with ``--baseline``, the raw ceiling."""

    intake: float | None
    activation: float | None = None
    end_to_end: float | None = None
    ceiling: float | None = None


def ratio_rows(figures: Throughput) -> list[tuple[str, str, str]]:
    """(what, rate, ratio to the ceiling) for each measured rate: the table's rows."""
    rows: list[tuple[str, float | None]] = []
    if figures.ceiling is not None:
        rows.append(("raw ceiling: events/s", figures.ceiling))
    rows.append(("intake: decisions/s", figures.intake))
    if figures.activation is not None:
        rows.append(("activation: cases planned/s", figures.activation))
    rows.append(("end to end: cases/s", figures.end_to_end))
    return [(what, _per_s(value), ratio(value, figures.ceiling)) for what, value in rows]


def ratio(value: float | None, ceiling: float | None) -> str:
    if value is None or not ceiling:
        return "–"
    return f"{value / ceiling:.1%}"


def _per_s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def throughput_table(figures: Throughput) -> Table:
    table = Table(title="Throughput (Kafka timestamps)")
    table.add_column("measured")
    table.add_column("rate", justify="right")
    table.add_column("ratio to the raw ceiling", justify="right")
    for row in ratio_rows(figures):
        table.add_row(*row)
    return table


# --- memory and CPU --------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    at: float
    rss: int
    """Resident memory, bytes."""
    cpu: float
    """CPU seconds (user + system) since the process started."""


@dataclass(frozen=True)
class Usage:
    """A process over the load: its memory at the start, at its peak and at the end (bytes),
    and the CPU seconds it used. ``middle``: its memory halfway, so that what grew in the
    second half tells a leak (growing all along) from a warm-up (caches and the allocator's
    arenas filling once)."""

    start: int
    peak: int
    end: int
    cpu_s: float
    middle: int = 0


def usage(samples: Sequence[Sample], since: float, until: float) -> Usage | None:
    """From the last sample taken at or before ``since`` to the last one at or before
    ``until``; samples of a process already gone (RSS 0) are left out."""
    live = [s for s in samples if s.rss > 0 and s.at <= until]
    kept = [s for s in live if s.at <= since][-1:] + [s for s in live if s.at > since]
    if not kept:
        return None
    halfway = (kept[0].at + kept[-1].at) / 2
    middle = [s for s in kept if s.at <= halfway][-1]
    return Usage(
        kept[0].rss,
        max(s.rss for s in kept),
        kept[-1].rss,
        kept[-1].cpu - kept[0].cpu,
        middle.rss,
    )


class ProcessTrace:
    """Each service process's memory (RSS) and CPU time, sampled every ``every_s`` in a
    thread."""

    def __init__(self, every_s: float = 0.5) -> None:
        self._every_s = every_s
        self._processes: dict[str, psutil.Process] = {}
        self._trees: set[str] = set()
        self.samples: dict[str, list[Sample]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="process-sampler", daemon=True)

    def watch(self, name: str, pid: int, *, tree: bool = False) -> None:
        """``tree``: count the CPU of its children too (PostgreSQL's backends)."""
        self._processes[name] = psutil.Process(pid)
        self.samples.setdefault(name, [])
        if tree:
            self._trees.add(name)

    def __enter__(self) -> ProcessTrace:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.time()
            for name, process in list(self._processes.items()):
                with contextlib.suppress(psutil.Error):
                    rss = process.memory_info().rss
                    family = [process]
                    if name in self._trees:
                        family += process.children(recursive=True)
                    cpu = sum(_cpu(member) for member in family)
                    self.samples[name].append(Sample(now, rss, cpu))
            self._stop.wait(self._every_s)

    def summary(self, since: float, until: float) -> dict[str, Usage]:
        """Per process, between ``since`` (when the load began: start-up and imports left out)
        and ``until`` (when it was done: shutdown left out)."""
        summary = {}
        for name, samples in self.samples.items():
            if (used := usage(samples, since, until)) is not None:
                summary[name] = used
        return summary


def _cpu(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
    except psutil.Error:  # a backend that just ended
        return 0.0
    return float(times.user + times.system)


def watch_infrastructure(trace: ProcessTrace, stack: Stack) -> None:
    """The bench itself, and the broker and the database when they are the embedded ones
    (children of this process, or a data directory here): they share the cores."""
    trace.watch("bench (this process)", os.getpid())
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if child.name().startswith("tansu"):
                trace.watch("broker (tansu)", child.pid)
    host = parse_qs(urlsplit(stack.database.url).query).get("host", [""])[0]
    if host.startswith("/") and (pidfile := Path(host) / "postmaster.pid").exists():
        postmaster = int(pidfile.read_text().split()[0])
        trace.watch("database (postgres, CPU of all)", postmaster, tree=True)


def usage_table(summary: dict[str, Usage], seconds: float) -> Table:
    table = Table(title=f"Processes over the load ({seconds:.1f} s): RSS in MiB, CPU")
    columns = ("process", "start", "peak", "end", "end − start", "second half", "CPU s")
    for column in columns:
        table.add_column(column, justify="left" if column == "process" else "right")
    for name, used in summary.items():
        mib = [f"{v / 2**20:,.0f}" for v in (used.start, used.peak, used.end)]
        grew = [f"{(used.end - since) / 2**20:+,.0f}" for since in (used.start, used.middle)]
        table.add_row(name, *mib, *grew, f"{used.cpu_s:.1f}")
    return table


def print_profiles(console: Console, logs: Path, names: list[str], cases: int) -> None:
    """Where each process spent its CPU once started, from its sampled profile."""
    # Signals that fall due during one long C call count once: "sampled s" runs below the CPU
    # time of the table above; the shares are what to read.
    table = Table(title="CPU once started (sampled), share of it in each library; SQL")
    columns = ["process", "sampled s", *sampler.LIBRARIES, "statements", "per case"]
    for column in columns:
        table.add_column(column, justify="left" if column == "process" else "right")
    heaviest = []
    for name in names:
        if (profile := sampler.read(logs / f"{name}.stacks")) is None:
            continue
        shares = [f"{profile.shares[library]:.0%}" for library in sampler.LIBRARIES]
        per_case = f"{profile.statements / cases:.1f}"
        table.add_row(name, f"{profile.cpu_s:.1f}", *shares, f"{profile.statements:,}", per_case)
        functions = ", ".join(f"{f} {share:.0%}" for f, share in profile.functions)
        heaviest.append(f"{name}: {functions}")
    console.print(table)
    console.print("Heaviest own functions (inclusive share of CPU):\n" + "\n".join(heaviest))
    console.print(
        f"Folded stacks (for a flame graph) and SQL statement counts: {logs}/<process>.stacks, "
        f"{logs}/<process>.stacks.sql"
    )


# --- the stack and the services -------------------------------------------------------------


@dataclass
class Stack:
    """Broker, database, topics and the services' environment of one bench run."""

    kafka: KafkaEndpoint
    database: DatabaseEndpoint
    env: dict[str, str]
    settings: KafkaSettings
    topics: Topics
    providers: list[str]
    logs: Path
    run: str

    @classmethod
    async def provision(
        cls, kafka: KafkaEndpoint, database: DatabaseEndpoint, partitions: int, logs: Path
    ) -> Stack:
        run = f"{int(time.time() * 1000) % 10**8:08d}"
        env = service_environment(kafka, database)
        env["KAFKA_TOPIC_PREFIX"] = prefix = f"bench{run}."
        env["KAFKA_TOPIC_PARTITIONS"] = str(partitions)
        env["LOG_LEVEL"] = "WARNING"
        env["HTTP_PORT"] = "0"  # APIs on any free port: the bench only reads Kafka
        settings = KafkaSettings(
            bootstrap_servers=kafka.bootstrap_servers,
            enable_idempotence=kafka.supports_idempotence,
            topic_prefix=prefix,
            topic_partitions=partitions,
            session_timeout_ms=int(env.get("KAFKA_SESSION_TIMEOUT_MS", "10000")),
            heartbeat_interval_ms=int(env.get("KAFKA_HEARTBEAT_INTERVAL_MS", "3000")),
        )
        topics = Topics(prefix=prefix)
        providers = provider_ids()  # the services' districts: the shipped example unless set
        await provision_topics(settings, topics.all(providers))
        return cls(kafka, database, env, settings, topics, providers, logs, run)

    def describe(self, options: BenchOptions) -> str:
        return (
            f"Kafka {self.kafka.bootstrap_servers} ({self.kafka.kind}), PostgreSQL "
            f"{self.database.kind}, {self.settings.topic_partitions} partitions, "
            f"{os.cpu_count()} CPUs; services: {', '.join(process_names(options))}; "
            f"their logs: {self.logs}/"
        )


def process_names(options: BenchOptions) -> list[str]:
    """The processes: ``intake``, or ``intake-1``, ``intake-2``... with replicas."""
    names = []
    for service in options.services:
        count = options.replicas if service in SCALED else 1
        names += [service] if count == 1 else [f"{service}-{n}" for n in range(1, count + 1)]
    return names


def _argv(service: str, profile: Path | None) -> list[str]:
    if profile is None:
        return SERVICES[service].argv()
    return sampler.argv(SERVICES[service].module, profile)


@contextlib.contextmanager
def services_running(
    stack: Stack, options: BenchOptions, trace: ProcessTrace
) -> Iterator[list[Member]]:
    """The services' processes, output to ``<logs>/<name>.log``, stopped (SIGTERM, then
    SIGKILL after 30 s) on exit."""
    members = []
    for name in process_names(options):
        service = name.rsplit("-", 1)[0] if name not in SERVICES else name
        profile = stack.logs / f"{name}.stacks" if options.profile else None
        members.append(
            Member(name, service, _argv(service, profile), stack.env, stack.logs / f"{name}.log")
        )
    watch_infrastructure(trace, stack)
    try:
        for member in members:
            member.start()
            assert member.process is not None
            trace.watch(name=member.name, pid=member.process.pid)
        yield members
    finally:
        running = [m.process for m in members if m.process is not None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        for process in running:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def exited(members: list[Member]) -> str | None:
    for member in members:
        if member.process is not None and member.process.poll() is not None:
            return f"{member.name} exited with {member.process.returncode}: see {member.log}"
    return None


# --- writing and reading Kafka --------------------------------------------------------------

Offsets = dict[TopicPartition, int]
"""Per partition, the offset after the last record: how far a topic was written or read."""

Announcement = tuple[bytes, bytes, list[tuple[str, bytes]]]


def encoded_announcement(rng: random.Random, seq: int, now: datetime, run: str) -> Announcement:
    """A realistic announcement as the hospital sends it: value, key (the case), headers."""
    data = announcement(rng, seq, now=now, run=run)
    event = Envelope(data=data, source=f"urn:dp:hospital:{data.hospital_id}", subject=data.case_id)
    value, headers = event.to_binary()
    return value, data.case_id.encode(), headers


def announcements(seqs: range, run: str) -> Iterator[Announcement]:
    """Announcements ``seqs`` of the run (the same ones for the same numbers)."""
    rng = random.Random(7 + seqs.start)
    now = datetime.now(UTC)
    for seq in seqs:
        yield encoded_announcement(rng, seq, now, run)


def written(metadata: list[Any]) -> Offsets:
    """Where the sends (their ``RecordMetadata``) left each partition."""
    ends: Offsets = {}
    for sent in metadata:
        tp = TopicPartition(sent.topic, sent.partition)
        ends[tp] = max(ends.get(tp, 0), sent.offset + 1)
    return ends


async def load(
    settings: KafkaSettings, topic: str, seqs: range, run: str, progress: Progress | None
) -> Offsets:
    """Announcements ``seqs`` of the run, as fast as the producer takes them."""
    task = progress.add_task("publishing announcements", total=len(seqs)) if progress else None
    producer = AIOKafkaProducer(**settings.producer_params())
    await producer.start()
    try:
        metadata: list[Any] = []
        pending = []
        for n, (value, key, headers) in enumerate(announcements(seqs, run), start=1):
            pending.append(await producer.send(topic, value=value, key=key, headers=headers))
            if len(pending) >= 2000 or n == len(seqs):
                metadata += await asyncio.gather(*pending)
                if progress is not None and task is not None:
                    progress.advance(task, len(pending))
                pending.clear()
    finally:
        await producer.stop()
    return written(metadata)


@dataclass
class Span:
    """Records seen and the first and last of their timestamps (ms)."""

    count: int = 0
    first: int = 0
    last: int = 0
    kinds: set[int] = field(default_factory=set)
    """Their timestamp types: 0 CreateTime (the producer's), 1 LogAppendTime (the broker's)."""

    def add(self, record: Record) -> None:
        self.first = record.timestamp if not self.count else min(self.first, record.timestamp)
        self.last = max(self.last, record.timestamp)
        self.count += 1
        self.kinds.add(record.timestamp_type)


def timestamps_used(kinds: set[int]) -> str:
    if kinds == {0}:
        return "Kafka record timestamps (CreateTime, set by each producer as it sends)"
    if kinds == {1}:
        return "Kafka record timestamps (LogAppendTime, set by the broker)"
    return f"Kafka record timestamps (types {sorted(kinds)})"


class Watch:
    """Reads topics from their start, handing each record on, and tells when a service has
    settled: its consumer group has committed the input given, and its outbox is empty (all it
    will publish is in Kafka); then reads on until it has read all there is."""

    def __init__(
        self,
        stack: Stack,
        topics: list[str],
        on_record: Callable[[Record], None],
        *,
        members: list[Member] | None = None,
        state: Callable[[], str] = lambda: "",
    ) -> None:
        self._stack = stack
        self.topics = stack.topics
        self._topics = topics
        self._on_record = on_record
        self._members = members or []
        self._state = state
        params = stack.settings.client_params()
        self._consumer = AIOKafkaConsumer(**params, enable_auto_commit=False)
        self._admin = AIOKafkaAdminClient(**params)
        self._db: asyncpg.Connection | None = None
        self.read: Offsets = {}
        """How far each partition has been read."""

    async def __aenter__(self) -> Watch:
        await self._consumer.start()
        partitions = [
            TopicPartition(topic, p)
            for topic in self._topics
            for p in self._consumer.partitions_for_topic(topic) or []
        ]
        self._consumer.assign(partitions)
        await self._consumer.seek_to_beginning(*partitions)
        await self._admin.start()
        self._db = await asyncpg.connect(asyncpg_dsn(self._stack.database.url))
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._consumer.stop()
        await self._admin.close()
        if self._db is not None:
            await self._db.close()

    def read_of(self, topic: str) -> Offsets:
        return {tp: end for tp, end in self.read.items() if tp.topic == topic}

    async def poll(self) -> None:
        batch = await self._consumer.getmany(timeout_ms=200, max_records=5000)
        for tp, records in batch.items():
            for record in records:
                self._on_record(record)
            if records:
                self.read[tp] = records[-1].offset + 1

    async def caught_up(self) -> bool:
        """Whether every partition is read up to its high watermark (the last fetch's)."""
        for tp in self._consumer.assignment():
            highwater = self._consumer.highwater(tp)
            if highwater is None or await self._consumer.position(tp) < highwater:
                return False
        return True

    async def settled(self, group: str, inputs: Offsets) -> bool:
        # Partitions named: this broker drops the connection when they are not.
        committed = await self._admin.list_consumer_group_offsets(group, partitions=list(inputs))
        for tp, end in inputs.items():
            at = committed.get(tp)
            if at is None or at.offset < end:
                return False
        assert self._db is not None
        pending = await self._db.fetchval(
            f'SELECT count(*) FROM "{group}".outbox WHERE parked_at IS NULL'
        )
        return bool(pending == 0)

    async def until_settled(
        self,
        group: str,
        inputs: Offsets,
        *,
        timeout: float,
        tick: Callable[[], None] = lambda: None,
    ) -> float:
        """Read until ``group`` has settled on ``inputs`` and everything is read; when it had
        settled (wall clock, within the half-second it is checked)."""
        deadline = time.monotonic() + timeout
        next_check = 0.0
        settled_at: float | None = None
        settled_wall = 0.0
        while True:
            began = time.monotonic()
            await self.poll()
            tick()
            if settled_at is None:
                if (reason := exited(self._members)) is not None:
                    raise SystemExit(reason)
                if began >= next_check:
                    next_check = began + 0.5
                    if await self.settled(group, inputs):
                        settled_at, settled_wall = time.monotonic(), time.time()
            # Fetches answered after it settled carry the final high watermarks.
            elif began > settled_at + 1.5 and await self.caught_up():
                return settled_wall
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"timed out after {timeout:g} s waiting for {group}: {self._state()}"
                )


FOLLOWERS = ("monitoring", "billing")
"""The services that follow intake's decisions beside activation, out of the measured path."""


async def _followers_settled(
    watch: Watch, stack: Stack, inputs: Offsets, timeout: float
) -> dict[str, float]:
    """Wait until monitoring and billing have consumed all of ``inputs`` they read (the
    announcements, monitoring only, and intake's decisions); when each had, by the clock."""
    read_by = {
        "monitoring": {stack.topics.hospital_discharges, stack.topics.intake_cases},
        "billing": {stack.topics.intake_cases},
    }
    at = {}
    for group in FOLLOWERS:
        theirs = {tp: end for tp, end in inputs.items() if tp.topic in read_by[group]}
        at[group] = await watch.until_settled(group, theirs, timeout=timeout)
    return at


async def first_consumed(database_url: str, since: float) -> float | None:
    """When intake's first transaction of the run began (its inbox's ``processed_at`` is the
    transaction's ``now()``): the first announcement consumed, as the database's clock says."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        at = await conn.fetchval(
            "SELECT min(processed_at) FROM intake.inbox WHERE processed_at >= to_timestamp($1)",
            since,
        )
    finally:
        await conn.close()
    return at.timestamp() if at is not None else None


# --- the throughput run ---------------------------------------------------------------------


@dataclass(frozen=True)
class BenchReport:
    throughput: Throughput | None = None
    latency: LatencyFigures | None = None
    usage: dict[str, Usage] = field(default_factory=dict)


def run_bench(console: Console, options: BenchOptions) -> BenchReport:
    """The command: a throw-away embedded database unless DATABASE_URL says otherwise, and the
    embedded broker unless KAFKA_BOOTSTRAP_SERVERS does."""
    with (
        tempfile.TemporaryDirectory(prefix="cerniera-bench-db-") as data,
        kafka_endpoint() as kafka,
        database_endpoint(data_dir=Path(data)) as database,
    ):
        logs = Path(tempfile.mkdtemp(prefix="cerniera-bench-logs-"))
        return asyncio.run(bench(console, options, kafka, database, logs))


async def bench(
    console: Console,
    options: BenchOptions,
    kafka: KafkaEndpoint,
    database: DatabaseEndpoint,
    logs: Path,
) -> BenchReport:
    stack = await Stack.provision(kafka, database, options.partitions, logs)
    console.print(stack.describe(options))
    if options.rate is not None:
        from cerniera.cli.latency import measure_latency

        return await measure_latency(console, options, stack)
    return await measure_throughput(console, options, stack)


async def measure_throughput(console: Console, options: BenchOptions, stack: Stack) -> BenchReport:
    topics, settings = stack.topics, stack.settings
    cases = options.cases
    console.print(f"{cases:,} announcements, batches of up to {settings.max_batch_records}")
    with Progress(console=console, transient=True) as progress:
        announced = await load(
            settings, topics.hospital_discharges, range(cases), stack.run, progress
        )
    ceiling = await _ceiling(console, options, stack) if options.baseline else None
    outcomes = Outcomes()
    intake = Span()  # everything intake publishes: decisions, and tasks for the network

    def on_record(record: Record) -> None:
        if record.topic == topics.intake_cases:
            intake.add(record)
        outcomes.add_record(record)

    readers = [topics.intake_cases]
    if options.pipeline:
        readers += [topics.provider_requests(p) for p in stack.providers]
    trace = ProcessTrace()
    with Progress(console=console, transient=True) as progress, trace:
        started = time.time()
        with services_running(stack, options, trace) as members:
            watch = Watch(stack, readers, on_record, members=members, state=outcomes.describe)
            async with watch:
                decided = progress.add_task("cases decided (intake.cases)", total=None)
                planned = progress.add_task("cases planned (requests)", total=None)
                await watch.until_settled(
                    "intake",
                    announced,
                    timeout=options.timeout,
                    tick=lambda: progress.update(decided, completed=len(outcomes.decided)),
                )
                if options.pipeline:
                    inputs = {**announced, **watch.read_of(topics.intake_cases)}
                    await watch.until_settled(
                        "activation",
                        inputs,
                        timeout=options.timeout,
                        tick=lambda: progress.update(
                            planned,
                            completed=len(outcomes.first_request),
                            total=len(outcomes.eligible),
                        ),
                    )
                    # The CPU table counts their whole work, not what they did meanwhile.
                    caught_up = await _followers_settled(watch, stack, inputs, options.timeout)
            finished = time.time()
    consumed = await first_consumed(stack.database.url, started)
    planned_at = list(outcomes.first_request.values())
    caught_up = caught_up if options.pipeline else {}
    end = max([intake.last, *outcomes.last_request.values()])
    figures = Throughput(
        intake=rate(cases, intake.first, intake.last),
        activation=rate(len(planned_at), min(planned_at), max(planned_at))
        if options.pipeline and planned_at
        else None,
        end_to_end=rate(cases, int(consumed * 1000), end) if consumed is not None else None,
        ceiling=ceiling,
    )
    console.print(throughput_table(figures))
    console.print(_legend(options, outcomes, intake, end, consumed, started, caught_up))
    since = consumed or started
    summary = trace.summary(since=since, until=finished)
    console.print(usage_table(summary, finished - since))
    if options.profile:
        print_profiles(console, stack.logs, process_names(options), cases)
    return BenchReport(throughput=figures, usage=summary)


def _legend(
    options: BenchOptions,
    outcomes: Outcomes,
    intake: Span,
    end: int,
    consumed: float | None,
    started: float,
    caught_up: dict[str, float] | None = None,
) -> str:
    """What each row measured, and the counts behind it."""
    cases = options.cases
    lines = []
    if options.baseline:
        lines.append(
            f"raw ceiling: aiokafka + asyncpg alone doing a service's durable work on the same "
            f"{cases:,} announcements, batches of {BATCH} (cerniera.cli.baseline); first to last "
            "record it published"
        )
    lines.append(
        f"intake: {cases:,} announcements handled over {(intake.last - intake.first) / 1000:.2f} "
        f"s, from the first to the last of its {intake.count:,} events ({len(outcomes.decided):,} "
        "decisions; the other cases wait for the team)"
    )
    if options.pipeline:
        lines.append(
            f"activation: {len(outcomes.first_request):,} of {len(outcomes.eligible):,} eligible "
            "cases planned, from the first case's first request to the last case's; monitoring "
            "and billing consume the same decisions meanwhile"
        )
        if caught_up:
            lines.append(
                "then "
                + " and ".join(
                    f"{group} had consumed every decision {at - end / 1000:+.1f} s after the last "
                    "request"
                    for group, at in caught_up.items()
                )
                + " (the processes' table runs until then)"
            )
    last = "activation request" if options.pipeline else "event of intake"
    lines.append(
        f"end to end: {cases:,} cases from the first announcement consumed (intake's first "
        f"transaction) to the last {last}"
        + (f"; {consumed - started:.1f} s of start-up and group join before" if consumed else "")
    )
    if options.replicas > 1:
        lines.append(
            f"{options.replicas} processes each of {' and '.join(SCALED)}, each set in its one "
            "consumer group, sharing the partitions"
        )
    lines.append(f"Times: {timestamps_used(intake.kinds)}.")
    return "\n".join(lines)


async def _ceiling(console: Console, options: BenchOptions, stack: Stack) -> float | None:
    """The raw loop over the same announcements, then its rate from its output's timestamps."""
    settings, topics = stack.settings, stack.topics
    out = f"{settings.topic_prefix}bench.baseline"
    await provision_topics(settings, [out])
    with console.status(f"raw ceiling: aiokafka + asyncpg, batches of {BATCH}"):
        await run_baseline(
            settings,
            stack.database.url,
            source=topics.hospital_discharges,
            out=out,
            events=options.cases,
            schema=f"bench_baseline_{stack.run}",
            group=f"{settings.topic_prefix}baseline",
            timeout=options.timeout,
        )
        span = Span()
        consumer = AIOKafkaConsumer(out, **settings.client_params(), auto_offset_reset="earliest")
        await consumer.start()
        try:
            async with asyncio.timeout(60):
                while span.count < options.cases:
                    for records in (await consumer.getmany(timeout_ms=500)).values():
                        for record in records:
                            span.add(record)
        finally:
            await consumer.stop()
    return rate(span.count, span.first, span.last)
