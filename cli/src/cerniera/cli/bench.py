"""``cerniera bench``: intake's decisions per second, end to end through the real broker.

N announcements are loaded onto the hospital topic first; then the intake service starts (its
own process, as in production) and the clock runs from its first decision to its N-th. Group
join and start-up are reported apart, so the rate is the steady-state pipeline: consume →
validate → inbox + case + outbox in one transaction per batch → relay → acknowledged publish.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from rich.console import Console
from rich.progress import Progress

from cerniera.cli.devstack import database_endpoint, kafka_endpoint
from cerniera.cli.synthetic import announcement
from cerniera.cli.up import SERVICES, service_environment
from cerniera.shared.ambiti import provider_ids
from cerniera.shared.contract import Topics
from cerniera.shared.envelope import Envelope
from cerniera.shared.messaging.kafka import provision_topics
from cerniera.shared.settings import KafkaSettings


async def _load(
    settings: KafkaSettings, topic: str, cases: int, run: str, progress: Progress
) -> None:
    rng = random.Random(7)
    now = datetime.now(UTC)
    task = progress.add_task("publishing announcements", total=cases)
    producer = AIOKafkaProducer(**settings.producer_params())
    await producer.start()
    try:
        pending = []
        for seq in range(cases):
            data = announcement(rng, seq, now=now, run=run)
            event = Envelope(
                data=data, source=f"urn:dp:hospital:{data.hospital_id}", subject=data.case_id
            )
            value, headers = event.to_binary()
            pending.append(
                await producer.send(topic, value=value, key=data.case_id.encode(), headers=headers)
            )
            if len(pending) >= 2000:
                await asyncio.gather(*pending)
                progress.advance(task, len(pending))
                pending.clear()
        await asyncio.gather(*pending)
        progress.advance(task, len(pending))
    finally:
        await producer.stop()


async def _collect(
    settings: KafkaSettings,
    topics: list[str],
    done: Callable[[list[ConsumerRecord[Any, Any]]], int],
    total: int,
    label: str,
    progress: Progress,
    timeout: float,
) -> list[ConsumerRecord[Any, Any]]:
    """Read ``topics`` from the start until ``done(records)`` (a count) reaches ``total``."""
    consumer = AIOKafkaConsumer(**settings.client_params(), enable_auto_commit=False)
    await consumer.start()
    task = progress.add_task(label, total=total)
    records: list[ConsumerRecord[Any, Any]] = []
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in consumer.partitions_for_topic(topic) or []
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + timeout
        while (count := done(records)) < total:
            progress.update(task, completed=count)
            if time.monotonic() > deadline:
                raise SystemExit(f"timed out on {label}: {count} of {total}")
            batch = await consumer.getmany(timeout_ms=200, max_records=5000)
            for part in batch.values():
                records.extend(part)
        progress.update(task, completed=total)
    finally:
        await consumer.stop()
    return records


def _span(stamps_ms: list[int]) -> tuple[float, float]:
    """First and last of the records' Kafka timestamps (set when the relay sent them)."""
    return min(stamps_ms) / 1000, max(stamps_ms) / 1000


def _rate(count: int, first: float, last: float) -> str:
    return f"{count / (last - first):,.0f}/s" if last > first else "n/a"


def run_bench(
    console: Console, cases: int, partitions: int, timeout: float, pipeline: bool
) -> None:
    run = f"{int(time.time()) % 100000:05d}"
    services = ["intake", "activation", "monitoring", "billing"] if pipeline else ["intake"]
    # A throw-away embedded database unless DATABASE_URL says otherwise: nothing left behind.
    with (
        kafka_endpoint() as kafka,
        database_endpoint(data_dir=Path(tempfile.mkdtemp(prefix="cerniera-bench-"))) as database,
    ):
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
        )
        topics = Topics(prefix=prefix)
        providers = provider_ids()  # the services' districts: the shipped example unless set
        asyncio.run(provision_topics(settings, topics.all(providers)))
        console.print(
            f"Kafka {kafka.bootstrap_servers} ({kafka.kind}), PostgreSQL {database.kind}, "
            f"{partitions} partitions, {cases} cases, services: {', '.join(services)}, "
            f"{os.cpu_count()} CPUs"
        )
        with Progress(console=console) as progress:
            asyncio.run(_load(settings, topics.hospital_discharges, cases, run, progress))
            started = time.time()
            processes = [subprocess.Popen(SERVICES[name].argv(), env=env) for name in services]
            try:
                decisions = asyncio.run(
                    _collect(
                        settings,
                        [topics.intake_cases],
                        len,
                        cases,
                        "decisions on intake.cases",
                        progress,
                        timeout,
                    )
                )
                eligible = sum(
                    dict(r.headers).get("ce_type") == b"EligibilityConfirmed" for r in decisions
                )
                requests = (
                    asyncio.run(
                        _collect(
                            settings,
                            [topics.provider_requests(p) for p in providers],
                            _planned_cases,
                            eligible,
                            "cases planned (requests to the providers)",
                            progress,
                            timeout,
                        )
                    )
                    if pipeline
                    else []
                )
            finally:
                for process in processes:
                    process.terminate()
                for process in processes:
                    process.wait(timeout=30)
    first, last = _span([r.timestamp for r in decisions])
    console.print(
        f"[bold]intake: {_rate(cases, first, last)} decisions[/] steady state "
        f"({cases} decisions in {last - first:.2f} s after the first; "
        f"{first - started:.1f} s of start-up, migration and group join before it)"
    )
    if pipeline:
        planned = _first_request_per_case(requests)
        p_first, p_last = _span(list(planned.values()))
        console.print(
            f"[bold]activation: {_rate(len(planned), p_first, p_last)} cases planned[/] "
            f"({len(planned)} eligible cases, {len(requests)} activation events; the last "
            f"case planned {p_last - last:.1f} s after the last decision), with monitoring "
            "and billing consuming the same decisions"
        )


def _first_request_per_case(records: list[ConsumerRecord[Any, Any]]) -> dict[bytes, int]:
    first: dict[bytes, int] = {}
    for record in records:
        if dict(record.headers).get("ce_type") == b"ServiceActivationRequested":
            first.setdefault(record.key, record.timestamp)
    return first


def _planned_cases(records: list[ConsumerRecord[Any, Any]]) -> int:
    return len(_first_request_per_case(records))
