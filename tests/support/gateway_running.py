"""The gateway running on free loopback ports for a test, and what it stored and published."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, TypeAlias

from aiokafka import ConsumerRecord
from sqlalchemy import func, select

from cerniera.gateway.config import GatewaySettings
from cerniera.gateway.service import GatewayRuntime, runtime
from cerniera.gateway.tables import outbox
from cerniera.shared.contract import Topics
from cerniera.shared.runtime import ServiceSettings
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.waiting import eventually, read_quiet

Record: TypeAlias = "ConsumerRecord[Any, Any]"
LOOPBACK = "127.0.0.1"
HOSPITALS = {"ASST_VIMERCATE": "asst-vimercate"}
"""The samples' HL7 sender (MSH-4), configured."""


@contextlib.asynccontextmanager
async def running(
    kafka: KafkaSettings, database: DatabaseSettings, **settings: Any
) -> AsyncIterator[GatewayRuntime]:
    """The gateway on free loopback ports (MLLP and HTTP), whatever this machine's env says:
    MLLP in plain TCP (unless ``settings`` say TLS) and the samples' sender configured;
    ``settings`` override any ``GatewaySettings`` field."""
    given: dict[str, Any] = {
        "mllp_host": LOOPBACK,
        "mllp_port": 0,
        "mllp_allow_plaintext": True,
        "gateway_hospitals": HOSPITALS,
        **settings,
    }
    rt = runtime(
        kafka,
        database,
        GatewaySettings(**given),
        service=ServiceSettings(http_host=LOOPBACK, http_port=0),
    )
    async with rt.running():
        yield rt


def mllp_port(rt: GatewayRuntime) -> int:
    assert rt.mllp is not None, "the MLLP door is open"
    return rt.mllp.port


async def count(rt: GatewayRuntime, table: Any) -> int:
    async with rt.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


async def published(rt: GatewayRuntime, kafka: KafkaSettings, topics: Topics) -> list[Record]:
    """Everything on the hospital topic once the gateway's outbox is empty and the topic quiet:
    what the gateway committed has all been published, so nothing more is coming."""

    async def pending() -> int:
        return await count(rt, outbox)

    await eventually(pending, lambda n: n == 0, what="an empty outbox")
    return await read_quiet(kafka, topics.hospital_discharges, quiet=0.5)
