"""What operators rely on, the same for every service: /health and /metrics."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from cerniera.intake.service import runtime
from cerniera.intake.tables import inbox
from cerniera.shared.contract import Topics
from cerniera.shared.runtime import ServiceSettings
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.discharges import announced, assessment, from_hospital
from support.kafka import publish, read_events
from support.services import LOOPBACK, healthy

pytestmark = pytest.mark.integration


async def test_health_and_metrics_beside_the_api(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    rt = runtime(kafka_settings, database_settings, service=LOOPBACK)
    async with rt.running(), httpx.AsyncClient(base_url=str(rt.http_url)) as client:
        health = await client.get("/health")
        assert (health.status_code, health.json()) == (200, healthy("intake"))

        await publish(
            kafka_settings,
            topics.hospital_discharges,
            from_hospital(announced(discharge_ref="OPS-1", assessment=assessment())),
        )
        await read_events(kafka_settings, topics.intake_cases, count=1)
        metrics = await client.get("/metrics")
        assert metrics.status_code == 200
        assert 'cerniera_events_total{outcome="processed",service="intake"}' in metrics.text
        assert 'cerniera_outbox_published_total{service="intake"}' in metrics.text
        assert "/health" not in (await client.get("/openapi.json")).text  # not the team's API


async def test_the_inbox_forgets_event_ids_older_than_its_retention(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    old, recent = (
        from_hospital(announced(discharge_ref=ref, assessment=assessment()))
        for ref in ("OLD-1", "NEW-1")
    )
    rt = runtime(
        kafka_settings,
        database_settings,
        service=ServiceSettings(http_host="127.0.0.1", http_port=0, inbox_retention_days=30),
    )
    async with rt.running():
        await publish(kafka_settings, topics.hospital_discharges, old, recent)
        await read_events(kafka_settings, topics.intake_cases, count=2)
        async with rt.engine.begin() as conn:
            await conn.execute(
                update(inbox)
                .where(inbox.c.event_id == old.id)
                .values(processed_at=func.now() - timedelta(days=31))
            )
        assert await rt.prune_inbox() == 1
        async with rt.engine.connect() as conn:
            kept = set((await conn.execute(select(inbox.c.event_id))).scalars())
    assert kept == {recent.id}
