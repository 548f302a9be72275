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
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from rich.console import Console
from rich.progress import Progress

from cerniera.cli.devstack import database_endpoint, kafka_endpoint
from cerniera.cli.synthetic import announcement
from cerniera.cli.up import SERVICES, service_environment
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


async def _count_decisions(
    settings: KafkaSettings, topic: str, cases: int, progress: Progress, timeout: float
) -> tuple[float, float]:
    """Wait for ``cases`` decisions; return (time of first, time of last)."""
    consumer = AIOKafkaConsumer(**settings.client_params(), enable_auto_commit=False)
    await consumer.start()
    task = progress.add_task("decisions on intake.cases", total=cases)
    first = last = 0.0
    seen = 0
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + timeout
        while seen < cases:
            if time.monotonic() > deadline:
                raise SystemExit(f"timed out: {seen} of {cases} decisions")
            batch = await consumer.getmany(timeout_ms=200, max_records=5000)
            got = sum(len(records) for records in batch.values())
            if got:
                last = time.monotonic()
                first = first or last
                seen += got
                progress.advance(task, got)
    finally:
        await consumer.stop()
    return first, last


def run_bench(console: Console, cases: int, partitions: int, timeout: float) -> None:
    run = f"{int(time.time()) % 100000:05d}"
    # A throw-away embedded database unless DATABASE_URL says otherwise: nothing left behind.
    with (
        kafka_endpoint() as kafka,
        database_endpoint(data_dir=Path(tempfile.mkdtemp(prefix="cerniera-bench-"))) as database,
    ):
        env = service_environment(kafka, database)
        env["KAFKA_TOPIC_PREFIX"] = prefix = f"bench{run}."
        env["KAFKA_TOPIC_PARTITIONS"] = str(partitions)
        env["LOG_LEVEL"] = "WARNING"
        env["HTTP_PORT"] = "0"  # intake's API on any free port: the bench only reads Kafka
        settings = KafkaSettings(
            bootstrap_servers=kafka.bootstrap_servers,
            enable_idempotence=kafka.supports_idempotence,
            topic_prefix=prefix,
            topic_partitions=partitions,
        )
        topics = Topics(prefix=prefix)
        asyncio.run(provision_topics(settings, topics.all()))
        console.print(
            f"Kafka {kafka.bootstrap_servers} ({kafka.kind}), PostgreSQL {database.kind}, "
            f"{partitions} partitions, {cases} cases, {os.cpu_count()} CPUs"
        )
        with Progress(console=console) as progress:
            asyncio.run(_load(settings, topics.hospital_discharges, cases, run, progress))
            started = time.monotonic()
            service = subprocess.Popen(SERVICES["intake"].argv(), env=env)
            try:
                first, last = asyncio.run(
                    _count_decisions(settings, topics.intake_cases, cases, progress, timeout)
                )
            finally:
                service.terminate()
                service.wait(timeout=30)
    steady = cases / (last - first) if last > first else float("nan")
    console.print(
        f"[bold]intake: {steady:,.0f} decisions/s[/] steady state "
        f"({cases} decisions in {last - first:.2f} s after the first); "
        f"{cases / (last - started):,.0f}/s including start-up, migration and group join "
        f"({first - started:.1f} s to the first decision)"
    )
