"""Orchestration of ``cerniera chaos``: broker, a killable database, the services and the
provider adapter as processes; the hospitals, the équipe and the report duplicator; the faults
(services SIGKILLed and restarted, the database taken away); a live view; and at the end the
verdict from the topics and the databases."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import tempfile
import time
import tomllib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaProducer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from cerniera.cli.chaos.actors import Hospitals, Team
from cerniera.cli.chaos.fleet import KILLABLE, Fleet, adapter_argv
from cerniera.cli.chaos.observe import Observed, Watcher
from cerniera.cli.chaos.postgres import KillablePostgres
from cerniera.cli.chaos.scenario import (
    EPOCH,
    CasePlan,
    Kind,
    Scenario,
    districts_document,
    play,
    provider_ids,
)
from cerniera.cli.chaos.verify import Verdict, consumer_lag, judge, leftovers, snapshot
from cerniera.cli.devstack import DatabaseEndpoint, KafkaEndpoint, free_port, kafka_endpoint
from cerniera.cli.identity.client import person_token
from cerniera.cli.identity.directory import demo_directory
from cerniera.cli.identity.provider import serving as serving_identity
from cerniera.cli.up import service_environment, stop_on_signals
from cerniera.shared.ambiti import district_tables
from cerniera.shared.clock import ROME, Clock
from cerniera.shared.contract import DEFAULT_PREFIX, Topics
from cerniera.shared.messaging.kafka import provision_topics
from cerniera.shared.settings import KafkaSettings

STARTUP_S = 15.0
"""Real seconds for the processes to start; the simulated time (and the faults) begin after."""
SETTLE_S = 120.0
"""After the last fault, how long every group has to read to the end: this, or what is left
of ``--timeout`` if that is more."""
STALL_S = 45.0
"""Past the scenario's end, stop waiting when nothing new has been read for this long."""


@dataclass(frozen=True)
class ChaosOptions:
    cases: int = 1000
    seed: int = 2026
    kill_every: float = 6.0
    db_outages: int = 3
    partitions: int = 6
    activation_replicas: int = 1
    timeout: float = 900.0
    seconds_per_day: float = 4.0
    out: Path = Path(".cerniera/chaos")
    log_level: str = "WARNING"


@dataclass
class Outage:
    kind: str
    seconds: float
    terminated: int = 0


@dataclass
class Faults:
    kills: Counter[str] = field(default_factory=Counter)
    outages: list[Outage] = field(default_factory=list)
    planned_outages: int = 0
    now: str = ""
    """What is broken at this moment (for the live view)."""
    exits: list[str] = field(default_factory=list)
    """Processes that stopped by themselves (restarted)."""
    timeline: list[str] = field(default_factory=list)
    """Every fault, when it happened (real and simulated time), for the report."""

    def describe(self) -> str:
        by_service = ", ".join(f"{name} {n}" for name, n in sorted(self.kills.items()))
        outages = Counter(o.kind for o in self.outages)
        seconds = sum(o.seconds for o in self.outages)
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(outages.items()))
        return (
            f"{sum(self.kills.values())} services SIGKILLed and restarted ({by_service or '-'}); "
            f"{len(self.outages)} database outages, {seconds:.0f} s in all ({kinds or '-'})"
        )


def run_chaos(console: Console, options: ChaosOptions) -> int:
    stop_on_signals()
    started = time.monotonic()
    logs = options.out / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    # On a broker of one's own (the default: Tansu) the usual names; on a shared one
    # (KAFKA_BOOTSTRAP_SERVERS), topics of this run's own.
    external = bool(os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip())
    prefix = f"chaos{os.getpid()}." if external else DEFAULT_PREFIX
    scenario = play(options.cases, options.seed, Topics(prefix))
    kinds = Counter(c.kind for c in scenario.cases)
    console.print(
        f"[bold]Cerniera chaos run[/]: {options.cases} cases ({kinds[Kind.ELIGIBLE]} eligible, "
        f"{kinds[Kind.NOT_ELIGIBLE]} not eligible, {kinds[Kind.CANCELLED]} cancelled), "
        f"announced over {scenario.announce_days} days from {EPOCH:%d %B %Y}; 1 simulated day = "
        f"{options.seconds_per_day:g} s; a service SIGKILLed every ~{options.kill_every:g} s, "
        f"{options.db_outages} database outages; {options.partitions} partitions, "
        f"{options.activation_replicas} activation process(es). Logs: {logs}/"
    )
    work = Path(tempfile.mkdtemp(prefix="cerniera-chaos-"))
    try:
        with kafka_endpoint() as kafka:
            run = ChaosRun(console, options, kafka, work, logs, scenario, prefix)
            verdict = asyncio.run(run.main())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    elapsed = time.monotonic() - started
    _report(console, options, run, verdict, elapsed)
    return 0 if verdict.clean else 1


class ChaosRun:
    def __init__(
        self,
        console: Console,
        options: ChaosOptions,
        kafka: KafkaEndpoint,
        work: Path,
        logs: Path,
        scenario: Scenario,
        prefix: str = DEFAULT_PREFIX,
    ) -> None:
        self.console = console
        self.options = options
        self.kafka = kafka
        self.work = work
        self.logs = logs
        self.scenario = scenario
        self.rng = random.Random(options.seed)
        self.faults = Faults(planned_outages=options.db_outages)
        self.settings = KafkaSettings(
            bootstrap_servers=kafka.bootstrap_servers,
            enable_idempotence=kafka.supports_idempotence,
            topic_partitions=options.partitions,
            topic_prefix=prefix,
        )
        self.topics = Topics(prefix=self.settings.topic_prefix)
        self.postgres = KillablePostgres(work)
        self.clock = Clock(86_400 / options.seconds_per_day, EPOCH, time.time() + STARTUP_S)
        self.fleet: Fleet | None = None
        self.watcher: Watcher | None = None
        self.hospitals = Hospitals(scenario.sends, self.clock)
        self.team: Team | None = None
        self._identity = contextlib.ExitStack()
        self.settled = False
        self.lag: dict[str, int] = {}
        """Records each service's group has still to read (refreshed every few seconds)."""
        self._deadline = time.monotonic() + options.timeout

    # --- the run ------------------------------------------------------------------------------

    async def main(self) -> Verdict:
        self.postgres.init()
        await self.postgres.start()
        await self.postgres.create_database()
        providers = provider_ids(districts_document())
        await provision_topics(self.settings, self.topics.all(providers))
        fleet = self.fleet = self._fleet()
        producer = AIOKafkaProducer(**self.settings.producer_params(), client_id="chaos")
        tasks: list[asyncio.Task[None]] = []
        try:
            fleet.start_all()
            await producer.start()
            dump = self.options.out / "events.jsonl"
            watcher = self.watcher = Watcher(
                self.settings, self.topics, producer, dump, providers=providers
            )
            tasks.append(asyncio.create_task(watcher.run(), name="watcher"))
            await watcher.started.wait()
            tasks.append(asyncio.create_task(self._follow_lag(), name="lag"))
            await self._until(self.clock.real_start)
            tasks.append(asyncio.create_task(self.hospitals.run(producer), name="hospitals"))
            assert self.team is not None
            tasks.append(asyncio.create_task(self.team.run(), name="team"))
            faults = [
                asyncio.create_task(self._kill_services(), name="kills"),
                asyncio.create_task(self._take_database_away(), name="outages"),
            ]
            with Live(self._view(), console=self.console, refresh_per_second=2) as live:
                await self._play(live, tasks)
                for task in faults:
                    task.cancel()
                await asyncio.gather(*faults, return_exceptions=True)
                self.faults.now = "settling: no more faults"
                await self._settle(live)
                live.update(self._view())
            return await self._verdict()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                await producer.stop()
            fleet.stop_all()
            self.postgres.stop()
            self._identity.close()

    def _fleet(self) -> Fleet:
        document = districts_document()
        ambiti = self.work / "ambiti.toml"
        ambiti.write_text(document, encoding="utf-8")
        env = service_environment(self.kafka, DatabaseEndpoint(self.postgres.url, "chaos"))
        env.update(
            CERNIERA_CLOCK_SPEED=str(self.clock.speed),
            CERNIERA_CLOCK_EPOCH=EPOCH.isoformat(),
            CERNIERA_CLOCK_REAL_START=str(self.clock.real_start),
            CERNIERA_AMBITI=str(ambiti),
            KAFKA_TOPIC_PREFIX=self.settings.topic_prefix,
            KAFKA_TOPIC_PARTITIONS=str(self.options.partitions),
            LOG_FORMAT="json",
            LOG_LEVEL=self.options.log_level,
        )
        # The embedded identity provider: the team logs in as each district's demo account.
        directory = demo_directory(district_tables(tomllib.loads(document)))
        idp = self._identity.enter_context(serving_identity(directory))
        env["OIDC_ISSUER"] = idp.url
        tokens = {
            account.ambito_id: person_token(idp.url, account.username)
            for account in directory.people.values()
            if account.ambito_id and "equipe" in account.roles
        }
        fleet = Fleet(env, self.logs, activation_replicas=self.options.activation_replicas)
        port = free_port()
        fleet.member("monitoring").env["HTTP_PORT"] = str(port)
        cases = {c.case_id: c for c in self.scenario.cases}
        self.team = Team(f"http://127.0.0.1:{port}", cases, list(tokens.values()))
        argv = adapter_argv(provider_ids(document), self.options.seed)
        fleet.add("providers", argv, env, self.logs / "providers.log")
        return fleet

    async def _until(self, real_time: float) -> None:
        while time.time() < real_time:
            self._revive()
            await asyncio.sleep(min(0.5, max(0.0, real_time - time.time())))

    async def _follow_lag(self) -> None:
        assert self.watcher is not None
        groups = _groups(self.topics)
        while True:
            await asyncio.sleep(3.0)
            try:
                lag = await consumer_lag(self.settings, groups, self.watcher.highwater)
            except Exception:
                continue
            totals: Counter[str] = Counter()
            for (group, _), behind in lag.items():
                totals[group] += behind
            self.lag = dict(totals)

    def _note(self, what: str) -> None:
        simulated = self.clock.now().astimezone(ROME)
        self.faults.timeline.append(f"{time.strftime('%X')} ({simulated:%a %d %b %H:%M}) {what}")

    async def _play(self, live: Live, tasks: list[asyncio.Task[None]]) -> None:
        """Until every case has reached its end state (or nothing moves any more)."""
        ends_at = self.scenario.ends_at
        while time.monotonic() < self._deadline:
            for task in tasks:
                if task.done() and not task.cancelled() and task.exception() is not None:
                    raise RuntimeError(f"the run's {task.get_name()} failed") from task.exception()
            self._revive()
            live.update(self._view())
            if self.clock.now() >= ends_at and self.hospitals.done:
                if self._all_done():
                    return
                assert self.watcher is not None
                quiet = asyncio.get_running_loop().time() - self.watcher.last_record_at
                if self.clock.now() >= ends_at + timedelta(days=2) and quiet > STALL_S:
                    return
            await asyncio.sleep(0.5)

    def _revive(self) -> None:
        if self.fleet is None:
            return
        for member, code in self.fleet.revive():
            self.faults.exits.append(f"{member.name} exited with code {code} (restarted)")
            self._note(f"{member.name} exited by itself with code {code}; restarted")

    # --- faults ---------------------------------------------------------------------------------

    async def _kill_services(self) -> None:
        assert self.fleet is not None
        if self.options.kill_every <= 0:
            return
        while True:
            await asyncio.sleep(self.options.kill_every * self.rng.uniform(0.6, 1.4))
            member = self.fleet.pick(self.rng)
            member.kill()
            self.faults.kills[member.service] += 1
            self._note(f"SIGKILL {member.name}")
            try:
                await asyncio.sleep(self.rng.uniform(0.2, 1.0))
            finally:
                member.start()
                self._note(f"started {member.name} again")

    async def _take_database_away(self) -> None:
        """``db_outages`` outages of 5-10 s spread over the cases' lifecycle: the postmaster
        SIGKILLed (then started again on the same data), or the services' database refusing
        connections with every session terminated (then allowed again), in turn."""
        count = self.options.db_outages
        if count <= 0:
            return
        span = (self.scenario.ends_at - EPOCH).total_seconds() / self.clock.speed
        for n in range(count):
            at = self.clock.real_start + span * (n + self.rng.uniform(0.3, 0.7)) / count
            await asyncio.sleep(max(0.0, at - time.time()))
            seconds = self.rng.uniform(5.0, 10.0)
            if n % 2 == 0:
                await self._postmaster_killed(seconds)
            else:
                await self._connections_refused(seconds)

    async def _postmaster_killed(self, seconds: float) -> None:
        async with self._outage("postmaster killed", f"postmaster SIGKILLed ({seconds:.1f} s)"):
            self.postgres.kill()
            self._note("SIGKILL the postmaster")
            try:
                await asyncio.sleep(seconds)
            finally:
                await self.postgres.start()

    async def _connections_refused(self, seconds: float) -> None:
        async with self._outage("connections refused", f"refusing connections ({seconds:.1f} s)"):
            try:
                terminated = await self.postgres.refuse_connections()
                self.faults.outages[-1].terminated = terminated
                self._note(f"connections refused, {terminated} sessions terminated")
                await asyncio.sleep(seconds)
            finally:
                await self.postgres.allow_connections()

    @contextlib.asynccontextmanager
    async def _outage(self, kind: str, what: str) -> AsyncIterator[None]:
        """Record a database outage: shown while it lasts, timed, noted in the timeline."""
        self.faults.now = f"database down: {what}"
        outage = Outage(kind, 0.0)
        self.faults.outages.append(outage)
        began = time.monotonic()
        try:
            yield
        finally:
            outage.seconds = time.monotonic() - began
            self.faults.now = ""
            self._note(f"database back after {outage.seconds:.1f} s ({kind})")

    # --- the end ------------------------------------------------------------------------------

    async def _settle(self, live: Live) -> None:
        """Faults over: wait until every group has read to the end, every outbox is empty and
        nothing is parked, three checks in a row, a second apart."""
        assert self.watcher is not None
        deadline = max(time.monotonic() + SETTLE_S, self._deadline)
        clean = 0
        while time.monotonic() < deadline and clean < 3:
            await asyncio.sleep(1.0)
            self._revive()
            live.update(self._view())
            try:
                quiet = await self._quiet()
            except Exception as error:  # the database or broker still waking up
                self.faults.now = f"settling: {type(error).__name__}"
                quiet = False
            clean = clean + 1 if quiet else 0
        self.settled = clean >= 3

    async def _quiet(self) -> bool:
        assert self.watcher is not None
        if not self.watcher.caught_up:
            return False
        lag = await consumer_lag(self.settings, _groups(self.topics), self.watcher.highwater)
        if any(lag.values()):
            return False
        conn = await self.postgres.connect()
        try:
            left = await leftovers(conn)
            pending = await conn.fetchval(
                "SELECT count(*) FROM billing.deliveries WHERE status = 'pending'"
            )
        finally:
            await conn.close()
        return not pending and not any(n for tables in left.values() for n in tables.values())

    async def _verdict(self) -> Verdict:
        assert self.watcher is not None
        lag = await consumer_lag(self.settings, _groups(self.topics), self.watcher.highwater)
        conn = await self.postgres.connect()
        try:
            snap = await snapshot(conn)
        finally:
            await conn.close()
        return judge(self.scenario.cases, self.watcher.observed, snap, lag)

    # --- the view -----------------------------------------------------------------------------

    def _all_done(self) -> bool:
        assert self.watcher is not None
        observed = self.watcher.observed
        now = self.clock.now()
        return all(_state(plan, observed, now) in FINAL for plan in self.scenario.cases)

    def _view(self) -> Table:
        now = self.clock.now().astimezone(ROME)
        started = now >= EPOCH
        title = f"Simulated time: {now:%a %d %b %Y %H:%M}" if started else "Starting…"
        table = Table(title=title, show_header=False)
        sends = self.hospitals.sends
        by_what = ", ".join(f"{k} {v}" for k, v in sorted(self.hospitals.by_what.items()))
        table.add_row("hospital events", f"{self.hospitals.published} / {len(sends)} ({by_what})")
        if self.watcher is not None:
            observed = self.watcher.observed
            states = Counter(_state(plan, observed, now) for plan in self.scenario.cases)
            table.add_row(
                "cases",
                ", ".join(f"{name} {states[name]}" for name in STATES if states[name]),
            )
            table.add_row(
                "deliveries",
                f"{len(observed.reports)} lines reported, {observed.duplicates_sent} sent again",
            )
            busy = ", ".join(f"{k} {v}" for k, v in observed.types.most_common(5))
            table.add_row("events", f"{sum(observed.types.values())} ({busy})")
            table.add_row("dead letters", str(len(observed.dead_letters)))
        if self.team is not None:
            refused = sum(self.team.refused.values())
            table.add_row(
                "the équipe",
                f"{self.team.recorded} checks recorded ({self.team.already} already recorded, "
                f"{refused} refused, {self.team.unavailable} tries while unavailable)",
            )
        outages = f"{len(self.faults.outages)} / {self.faults.planned_outages} database outages"
        kills = sum(self.faults.kills.values())
        table.add_row("faults", f"{kills} services killed, {outages}  {self.faults.now}")
        if self.lag:
            behind = ", ".join(f"{group} {n}" for group, n in self.lag.items())
            table.add_row("still to read", behind)
        if self.fleet is not None:
            down = [m.name for m in self.fleet.members if not m.alive]
            table.add_row("processes", f"down: {', '.join(down)}" if down else "all running")
        if self.faults.exits:
            table.add_row("exited by themselves", "; ".join(self.faults.exits[-3:]))
        return table


STATES = ("announced", "decided", "planned", "activated", "closed", "rejected", "cancelled")
FINAL = frozenset({"closed", "rejected", "cancelled"})


def _state(plan: CasePlan, observed: Observed, now: datetime) -> str:
    """Where a case stands, as the topics show it. A cancelled case is done once its
    (cancelled) discharge day has come, every request it had deactivated: by then its
    cancellation has long been sent."""
    case = plan.case_id
    if plan.kind is Kind.NOT_ELIGIBLE:
        return "rejected" if observed.rejected.get(case) else "announced"
    if not observed.confirmed.get(case):
        return "announced"
    requests = [r for asked in observed.requests_of(case).values() for r in asked]
    stopped = all(observed.deactivated.get(r) for r in requests)
    if plan.kind is Kind.CANCELLED:
        return "cancelled" if stopped and now >= plan.discharge_at else "decided"
    if not requests:
        return "decided"
    if observed.closed.get(case) and stopped:
        return "closed"
    if all(observed.activated.get(r) for r in requests):
        return "activated"
    return "planned"


def _groups(topics: Topics) -> dict[str, list[str]]:
    """The four services' consumer groups and the topics each reads."""
    from cerniera.cli.contract import subscriptions

    every = subscriptions()
    return {name: every[name](topics) for name in KILLABLE}


def _report(
    console: Console, options: ChaosOptions, run: ChaosRun, verdict: Verdict, elapsed: float
) -> None:
    findings = verdict.findings
    lines = [verdict.line(), f"faults: {run.faults.describe()}", f"checked: {verdict.summary()}"]
    lines.append(f"time: {elapsed:.0f} s ({elapsed / 60:.1f} min)")
    if run.faults.exits:
        lines.append(f"processes that exited by themselves: {'; '.join(run.faults.exits)}")
    if not run.settled:
        lines.append("the system did not settle (lag, outbox or parked rows) before the verdict")
    report = options.out / "report.txt"
    report.write_text(
        "\n".join(
            [
                *lines,
                "",
                *(f"{f.figure}: {f.what}" for f in findings),
                "",
                "faults, in order:",
                *run.faults.timeline,
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    style = "bold green" if verdict.clean else "bold red"
    console.print(f"[{style}]{lines[0]}[/]")
    for line in lines[1:]:
        console.print(line)
    for finding in findings[:25]:
        console.print(f"  {finding.figure}: {finding.what}", markup=False)
    if len(findings) > 25:
        console.print(f"  … and {len(findings) - 25} more in {report}")
    console.print(f"Report: {report}; logs: {run.logs}/")
