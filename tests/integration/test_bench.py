"""``cerniera bench`` on the real broker and database, at tiny sizes: the raw ceiling and the
services' rates beside it, and latency at a steady load, each with the services' memory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from rich.console import Console

from cerniera.cli.bench import BenchOptions, bench
from cerniera.cli.devstack import DatabaseEndpoint, KafkaEndpoint

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

PIPELINE = {"intake", "activation", "monitoring", "billing"}


@pytest.mark.usefixtures("database_settings")  # the services' schemas dropped: a clean start
async def test_the_services_rates_stand_beside_the_raw_ceiling(
    kafka: KafkaEndpoint, database: DatabaseEndpoint, tmp_path: Path
) -> None:
    console = Console(record=True, width=120)
    options = BenchOptions(cases=300, partitions=3, baseline=True, pipeline=True, timeout=240)
    report = await bench(console, options, kafka, database, tmp_path)
    figures = report.throughput
    assert figures is not None
    ceiling, intake = figures.ceiling, figures.intake
    assert ceiling is not None
    assert intake is not None
    assert ceiling > 0
    assert intake > 0
    assert figures.activation
    assert figures.end_to_end
    out = console.export_text()
    assert "ratio to the raw ceiling" in out
    assert f"{intake / ceiling:.1%}" in out  # the ratio printed beside the rate
    assert "300 announcements handled" in out
    # The processes' table runs until monitoring and billing had consumed every decision.
    assert "monitoring had consumed every decision" in out
    assert "billing had consumed every decision" in out
    assert set(report.usage) >= PIPELINE
    assert all(0 < used.start <= used.peak for used in report.usage.values())
    # Each service's output went to its own log file, not to the bench's.
    logs = {name.removesuffix(".log") for name in os.listdir(tmp_path) if name.endswith(".log")}
    assert logs == PIPELINE


@pytest.mark.usefixtures("database_settings")
async def test_latency_at_a_steady_load_is_reported_from_kafka_timestamps(
    kafka: KafkaEndpoint, database: DatabaseEndpoint, tmp_path: Path
) -> None:
    console = Console(record=True, width=120)
    options = BenchOptions(partitions=3, rate=20, duration=3, warmup=5, timeout=240)
    report = await bench(console, options, kafka, database, tmp_path)
    figures = report.latency
    assert figures is not None
    assert figures.offered == 60
    assert figures.achieved is not None
    assert 15 < figures.achieved < 25
    decision, planned = figures.decision, figures.planned
    assert decision is not None
    assert planned is not None
    assert 0 < decision.count <= 60
    assert 0 < planned.count <= decision.count
    assert 0 <= decision.p50 <= decision.p95 <= decision.p99 <= decision.max
    # A case's requests follow its decision.
    assert planned.p50 >= decision.p50
    out = console.export_text()
    assert "Latency at 20 announcements/s offered" in out
    assert "CreateTime" in out
    assert set(report.usage) >= PIPELINE
