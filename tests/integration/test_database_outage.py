"""A database that refuses connections for a few seconds (as in a failover) while events flow:
nothing is dead-lettered, every case is decided once it is back. Real broker, real PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord
from sqlalchemy import func, select

from cerniera.intake.config import load_config
from cerniera.intake.service import runtime
from cerniera.intake.tables import cases
from cerniera.shared.contract import Topics
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.database import refuse_connections
from support.discharges import announced, assessment, from_hospital, person
from support.districts import EXAMPLE
from support.kafka import publish, read_topic
from support.services import LOOPBACK
from support.waiting import eventually, read_quiet

pytestmark = pytest.mark.integration

CASES = 60


async def test_a_database_refusing_connections_dead_letters_nothing(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    rt = runtime(kafka_settings, database_settings, load_config(EXAMPLE), service=LOOPBACK)
    async with rt.running():
        first = [
            from_hospital(
                announced(discharge_ref=f"F-{n}", assessment=assessment(), fiscal_code=person(n))
            )
            for n in range(CASES // 2)
        ]
        await publish(kafka_settings, topics.hospital_discharges, *first)
        outage = asyncio.create_task(refuse_connections(database_settings.database_url, 6))
        await asyncio.sleep(0.5)  # the rest arrive while the database is away
        rest = [
            from_hospital(
                announced(discharge_ref=f"F-{n}", assessment=assessment(), fiscal_code=person(n))
            )
            for n in range(CASES // 2, CASES)
        ]
        await publish(kafka_settings, topics.hospital_discharges, *rest)
        await outage
        # Every decision published (a case without a caregiver also opens a network task).
        await read_topic(kafka_settings, topics.intake_cases, until=_decisions(CASES), timeout=60)

        async def decided() -> int:
            async with rt.engine.connect() as conn:
                return int(await conn.scalar(select(func.count()).select_from(cases)) or 0)

        assert await eventually(decided, lambda n: n == CASES, what="every case decided")
    dlq = await read_quiet(kafka_settings, topics.dlq(topics.hospital_discharges), quiet=1)
    assert dlq == []
    assert rt.consumer.stats.dead_lettered == 0


def _decisions(count: int) -> Callable[[list[ConsumerRecord[Any, Any]]], bool]:
    def enough(records: list[ConsumerRecord[Any, Any]]) -> bool:
        types = [dict(r.headers).get("ce_type", b"") for r in records]
        return sum(t in (b"EligibilityConfirmed", b"EligibilityRejected") for t in types) >= count

    return enough
