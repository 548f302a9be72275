"""What operators rely on, the same for every service: /health and /metrics."""

from __future__ import annotations

import httpx
import pytest

from cerniera.intake.service import runtime
from cerniera.shared.contract import Topics
from cerniera.shared.runtime import ServiceSettings
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.discharges import announced, assessment, from_hospital
from support.kafka import publish, read_events

pytestmark = pytest.mark.integration


async def test_health_and_metrics_beside_the_api(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    rt = runtime(
        kafka_settings,
        database_settings,
        service=ServiceSettings(http_host="127.0.0.1", http_port=0),
    )
    async with rt.running(), httpx.AsyncClient(base_url=str(rt.http_url)) as client:
        health = await client.get("/health")
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "service": "intake"}

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
