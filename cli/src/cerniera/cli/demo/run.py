"""Orchestration of ``cerniera demo``: the stack, the simulated hospitals, providers and team,
a live progress view, and the report at the end."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from rich.console import Console
from rich.live import Live
from rich.table import Table

from cerniera.cli.demo.hospital import Planned, month_of_discharges
from cerniera.cli.demo.report import build_report, render_markdown
from cerniera.cli.demo.team import Team
from cerniera.cli.identity.client import person_token
from cerniera.cli.stack import clear as clear_stack
from cerniera.cli.up import (
    RunningStack,
    running_stack,
    show_desk,
    stop_on_signals,
    write_stack,
)
from cerniera.shared import ambiti
from cerniera.shared.ambiti import district_tables, load_document
from cerniera.shared.clock import ROME, Clock
from cerniera.shared.contract import (
    CaseClosed,
    DischargeCancelled,
    EligibilityConfirmed,
    EligibilityRejected,
    Topics,
)
from cerniera.shared.envelope import Envelope, InvalidRecord, decode

EPOCH = datetime(2026, 11, 2, 7, 0, tzinfo=ROME)  # a Monday; the month runs into the holidays
STARTUP_S = 12.0  # real seconds the stack takes to start; the simulated month begins after

# Simulated providers, grouped by behaviour (one adapter process each). Busy SAD cooperatives
# decline often for lack of capacity; one meals service answers late or not at all.
PROVIDER_GROUPS: dict[str, tuple[list[str], list[str]]] = {
    "reliable": (
        [
            "coop-solidarieta-brianza",
            "brianza-ristorazione-sociale",
            "telesoccorso-lombardia",
            "croce-azzurra-teleassistenza",
            "asc-servizi-alla-persona",
            "mensa-solidale-magentina",
        ],
        ["--decline-share", "0.1", "--silence-share", "0.02", "--answer-delay-hours", "4"],
    ),
    "busy": (
        ["coop-il-melograno", "coop-ticino-assistenza"],
        ["--decline-share", "0.45", "--silence-share", "0.05", "--answer-delay-hours", "8"],
    ),
    "slow": (
        ["pasti-a-casa-desio"],
        ["--decline-share", "0.1", "--silence-share", "0.3", "--answer-delay-hours", "20"],
    ),
}


@dataclass
class Progress:
    planned: int = 0
    published: int = 0
    events: Counter[str] = field(default_factory=Counter)
    dead_letters: int = 0
    confirmed: set[str] = field(default_factory=set)
    rejected: set[str] = field(default_factory=set)
    closed: set[str] = field(default_factory=set)
    cancelled: set[str] = field(default_factory=set)
    log: list[tuple[str, Envelope]] = field(default_factory=list)

    def done(self) -> bool:
        return self.published == self.planned and self.confirmed <= (self.closed | self.cancelled)


def run_demo(
    console: Console,
    cases: int,
    seconds_per_day: float,
    seed: int,
    out: Path,
    timeout: float,
    *,
    keep: bool = False,
) -> int:
    out.mkdir(parents=True, exist_ok=True)
    logs = out / "logs"
    logs.mkdir(exist_ok=True)
    speed = 86_400 / seconds_per_day
    real_start = time.time() + STARTUP_S
    clock_env = {
        "CERNIERA_CLOCK_SPEED": str(speed),
        "CERNIERA_CLOCK_EPOCH": EPOCH.isoformat(),
        "CERNIERA_CLOCK_REAL_START": str(real_start),
        "LOG_FORMAT": "json",
    }
    clock = Clock(speed, EPOCH, real_start)
    timeline = month_of_discharges(EPOCH, cases, seed=seed)
    console.print(
        f"[bold]Cerniera demo[/]: {cases} discharges announced over a month from "
        f"{EPOCH:%d %B %Y}, Desio and Magentino districts; 1 simulated day = "
        f"{seconds_per_day:g} s. Service logs: {logs}/"
    )

    def to_file(name: str, line: str) -> None:
        with (logs / f"{name}.log").open("a", encoding="utf-8") as f:
            f.write(line)

    data_dir = Path(tempfile.mkdtemp(prefix="cerniera-demo-pg-"))
    with running_stack(
        console,
        ["intake", "activation", "monitoring", "billing", "desk"],
        extra_env=clock_env,
        data_dir=data_dir,
        output=to_file,
    ) as stack:
        show_desk(console, stack)
        adapters = _start_adapters(stack, seed, logs)
        try:
            progress = asyncio.run(_simulate(console, stack, clock, timeline, timeout))
            budget = asyncio.run(_budget(stack))
            district = asyncio.run(_district_reports(stack))
        finally:
            for adapter in adapters:
                adapter.terminate()
            for adapter in adapters:
                adapter.wait(timeout=20)
        _report(console, progress, budget, district, clock, out)
        if keep:
            _keep_running(console, stack)
    return 0 if progress.done() else 1


def _report(
    console: Console,
    progress: Progress,
    budget: list[dict[str, Any]],
    district: dict[str, dict[str, Any]],
    clock: Clock,
    out: Path,
) -> None:
    report = build_report(progress.log, progress.dead_letters, budget)
    report.district = district
    period = f"{EPOCH:%d %B %Y} to {clock.now().astimezone(ROME):%d %B %Y} (simulated)"
    text = render_markdown(report, period)
    (out / "report.md").write_text(text, encoding="utf-8")
    _write_events(out / "events.jsonl", progress.log)
    from rich.markdown import Markdown

    console.print(Markdown(text))
    console.print(f"Report: {out / 'report.md'}; every event: {out / 'events.jsonl'}")


def _keep_running(console: Console, stack: RunningStack) -> None:
    """``--keep``: the stack stays up for a look around the month in the desk (and for
    ``cerniera bench --pages``, which finds it in .cerniera/stack.json)."""
    stop_on_signals()
    write_stack(stack)
    show_desk(console, stack)
    console.print("The stack keeps running (--keep): Ctrl-C stops it.")
    try:
        while stack.failed() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        console.print("\n[bold]Stopping…[/]")
    finally:
        clear_stack()


def _start_adapters(stack: RunningStack, seed: int, logs: Path) -> list[subprocess.Popen[bytes]]:
    processes = []
    for n, (name, (providers, behaviour)) in enumerate(PROVIDER_GROUPS.items()):
        argv = [sys.executable, "-m", "cerniera.provider_adapter.main"]
        for provider in providers:
            argv += ["--provider", provider]
        argv += [*behaviour, "--seed", str(seed + n)]
        log = (logs / f"providers-{name}.log").open("ab")
        processes.append(
            subprocess.Popen(argv, env=stack.env, stdout=log, stderr=log, start_new_session=True)
        )
    return processes


async def _simulate(
    console: Console, stack: RunningStack, clock: Clock, timeline: list[Planned], timeout: float
) -> Progress:
    progress = Progress(planned=len(timeline))
    await _wait_healthy(stack, deadline=time.monotonic() + 60)
    # Each district's team logs in (authorization code with PKCE) as its demo account.
    districts = district_tables(load_document(stack.env.get(ambiti.ENV_VAR)))
    tokens = {
        ambito_id: await asyncio.to_thread(person_token, stack.issuer, f"equipe-{ambito_id}")
        for ambito_id in districts
    }
    admins = {
        ambito_id: await asyncio.to_thread(person_token, stack.issuer, f"admin-{ambito_id}")
        for ambito_id in districts
    }
    team = Team(
        stack.url("monitoring"),
        tokens,
        intake_url=stack.url("intake"),
        activation_url=stack.url("activation"),
        providers=_offering(districts),
        admin_tokens=admins,
    )
    watcher = asyncio.create_task(_watch(stack, progress))
    deadline = time.monotonic() + STARTUP_S + timeout
    producer = AIOKafkaProducer(**stack.settings.producer_params())
    await producer.start()
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            with Live(
                _view(progress, clock, team, stack), console=console, refresh_per_second=4
            ) as live:
                last_team_round = 0.0
                while not progress.done() and time.monotonic() < deadline:
                    await _publish_due(producer, stack, clock, timeline, progress)
                    if time.monotonic() - last_team_round > 1.0 and clock.now() >= EPOCH:
                        last_team_round = time.monotonic()
                        try:
                            await team.round(client)
                        except httpx.HTTPError as error:
                            team.errors.append(repr(error))
                    failed = stack.failed()
                    if failed is not None:
                        raise SystemExit(f"service {failed.name} stopped; see its log")
                    live.update(_view(progress, clock, team, stack))
                    await asyncio.sleep(0.25)
                await asyncio.sleep(2)  # let the last events arrive
                live.update(_view(progress, clock, team, stack))
    finally:
        await producer.stop()
        watcher.cancel()
    if not progress.done():
        console.print(
            "[yellow]The time limit passed before every case closed; reporting so far.[/]"
        )
    if team.errors:
        console.print(f"[yellow]{len(team.errors)} team requests failed, e.g. {team.errors[0]}[/]")
    return progress


async def _wait_healthy(stack: RunningStack, deadline: float) -> None:
    """Every HTTP service answers /health before the simulated team starts working."""
    urls = [s.http_url for s in stack.services if s.http_url]
    async with httpx.AsyncClient(timeout=2) as client:
        for url in urls:
            while True:
                try:
                    if (await client.get(f"{url}/health")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(f"{url} did not become healthy; see the service logs")
                await asyncio.sleep(0.2)


async def _publish_due(
    producer: AIOKafkaProducer,
    stack: RunningStack,
    clock: Clock,
    timeline: list[Planned],
    progress: Progress,
) -> None:
    now = clock.now()
    futures = []
    while progress.published < len(timeline) and timeline[progress.published].at <= now:
        planned = timeline[progress.published]
        event = Envelope(
            data=planned.data, source=planned.source, subject=planned.case_id, time=now
        )
        value, headers = event.to_binary()
        futures.append(
            await producer.send(
                stack.topics.for_event(planned.data),
                value=value,
                key=planned.case_id.encode(),
                headers=headers,
            )
        )
        progress.published += 1
    await asyncio.gather(*futures)


async def _watch(stack: RunningStack, progress: Progress) -> None:
    consumer = AIOKafkaConsumer(**stack.settings.client_params(), enable_auto_commit=False)
    await consumer.start()
    try:
        names = stack.topics.all_with_dlq(stack.providers)
        partitions = [
            TopicPartition(n, p) for n in names for p in consumer.partitions_for_topic(n) or []
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        while True:
            batch = await consumer.getmany(timeout_ms=250)
            for records in batch.values():
                for record in records:
                    if Topics.is_dlq(record.topic):
                        progress.dead_letters += 1
                        continue
                    try:
                        event = decode(record.value, record.headers)
                    except InvalidRecord:
                        continue
                    _account(progress, record.topic, event)
    finally:
        await consumer.stop()


def _account(progress: Progress, topic: str, event: Envelope) -> None:
    progress.log.append((topic, event))
    progress.events[event.type] += 1
    data = event.data
    case_id = str(getattr(data, "case_id", ""))
    if isinstance(data, EligibilityConfirmed):
        progress.confirmed.add(case_id)
    elif isinstance(data, EligibilityRejected):
        progress.rejected.add(case_id)
    elif isinstance(data, CaseClosed):
        progress.closed.add(case_id)
    elif isinstance(data, DischargeCancelled):
        progress.cancelled.add(case_id)


def _view(progress: Progress, clock: Clock, team: Team, stack: RunningStack) -> Table:
    now = clock.now().astimezone(ROME)
    table = Table(title=f"Simulated time: {now:%a %d %b %Y %H:%M}", show_header=False)
    table.add_row("hospital events sent", f"{progress.published} / {progress.planned}")
    table.add_row(
        "cases",
        f"{len(progress.confirmed)} eligible, {len(progress.rejected)} not eligible, "
        f"{len(progress.closed)} closed, {len(progress.cancelled)} cancelled",
    )
    table.add_row(
        "the team",
        f"{team.recorded} weekly checks recorded, {team.closed_early} cases closed early",
    )
    busy = ", ".join(f"{k} {v}" for k, v in progress.events.most_common(6))
    table.add_row("events", f"{sum(progress.events.values())} ({busy})")
    table.add_row("dead letters", str(progress.dead_letters))
    desk = next((s.http_url for s in stack.services if s.name == "desk" and s.http_url), None)
    if desk:
        table.add_row("desk (live)", f"{desk} — log in as equipe-magentino, password cerniera")
    return table


def _offering(districts: dict[str, dict[str, Any]]) -> dict[str, dict[str, list[str]]]:
    """Per district, the providers offering each service (the team's registry)."""
    found: dict[str, dict[str, list[str]]] = {}
    for ambito_id, table in districts.items():
        for provider in table.get("providers", ()):
            for service in provider.get("services", ()):
                found.setdefault(ambito_id, {}).setdefault(service, []).append(provider["id"])
    return found


async def _district_reports(stack: RunningStack) -> dict[str, dict[str, Any]]:
    """What the services report of each district, read as the auditor: the team's decisions
    (intake), the outcome indicators (monitoring), beneficiaries against the target
    (billing)."""
    token = await asyncio.to_thread(person_token, stack.issuer, "auditor")
    headers = {"Authorization": f"Bearer {token}"}
    found: dict[str, dict[str, Any]] = {}
    async with httpx.AsyncClient(timeout=10, headers=headers) as client:
        decisions = (await client.get(f"{stack.url('intake')}/reports/decisions")).json()
        outcomes = (
            await client.get(
                f"{stack.url('monitoring')}/reports/outcomes", params={"from": "2026-01-01"}
            )
        ).json()
        target = (await client.get(f"{stack.url('billing')}/reports/beneficiaries")).json()
    for row in decisions.get("districts", []):
        found.setdefault(row["ambito_id"], {}).update(
            {
                "cap refusals (SAD hours per person)": row["cap_refusals"],
                "persons refused for the cap": row["persons_refused"],
                "cap exceptions by the administration": row["cap_exceptions"],
            }
        )
    for row in outcomes.get("districts", []):
        days = row["days_to_every_service_active"]
        found.setdefault(row["ambito_id"], {}).update(
            {
                "readmitted within 30 days": _rate(row["readmitted_within_30_days"]),
                "institutionalised": _rate(row["institutionalised"]),
                "at home at day 30": _rate(row["at_home_at_day_30"]),
                "days from announcement to every service active (median)": days["median"],
                "bed-days lost waiting for services": row["bed_days_lost"],
            }
        )
    for row in target if isinstance(target, list) else []:
        if row.get("target"):
            found.setdefault(row["ambito_id"], {})["beneficiaries against the target"] = (
                f"{row['beneficiaries']} of {row['target']} over {row['years']} years"
            )
    return found


def _rate(rate: dict[str, Any]) -> str:
    percent = rate.get("percent")
    return f"{rate['count']} of {rate['of']}" + (f" ({percent}%)" if percent is not None else "")


async def _budget(stack: RunningStack) -> list[dict[str, Any]]:
    """Every district's budget, read as the auditor (a read the audit log keeps)."""
    token = await asyncio.to_thread(person_token, stack.issuer, "auditor")
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(timeout=10, headers=headers) as client:
        response = await client.get(f"{stack.url('billing')}/budget")
        response.raise_for_status()
        body = response.json()
    return _budget_rows(body)


def _budget_rows(body: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flatten billing's ``GET /budget`` into one row per district and funding source."""
    return [
        {
            **source,
            "ambito_id": district["ambito_id"],
            "district_unfunded": district.get("unfunded_amount"),
        }
        for district in body
        for source in district["funding"]
    ]


def _write_events(path: Path, log: list[tuple[str, Envelope]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for topic, event in log:
            f.write(
                json.dumps(
                    {
                        "topic": topic,
                        "type": event.type,
                        "id": event.id,
                        "time": event.time.isoformat(),
                        "subject": event.subject,
                        "correlationid": event.correlation_id,
                        "causationid": event.causation_id,
                        "source": event.source,
                        "data": event.data.model_dump(mode="json"),
                    }
                )
                + "\n"
            )
