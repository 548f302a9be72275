"""Activation running on the real broker and database, as its integration tests drive it: the
service on the example districts with a clock from Monday 2 March 2026, 9:00 in Italy; what the
hospital, intake and providers publish; what activation writes on ``activation.services`` and
on each Desio provider's own request topic."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeAlias, TypeVar

from aiokafka import ConsumerRecord
from sqlalchemy import select

from cerniera.activation.config import load_config
from cerniera.activation.service import runtime
from cerniera.activation.tables import cases, requests
from cerniera.shared.clock import ROME, Clock
from cerniera.shared.contract import (
    EventData,
    ServiceActivationAccepted,
    ServiceActivationDeclined,
    ServiceActivationRequested,
    ServiceDeactivated,
    ServiceType,
    Topics,
)
from cerniera.shared.envelope import Envelope, decode
from cerniera.shared.runtime import ServiceRuntime
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.activation_events import (
    MEDIUM,
    accepted,
    confirmed,
    from_intake,
    from_provider,
)
from support.discharges import announced, assessment, from_hospital
from support.districts import DESIO_PROVIDERS, EXAMPLE
from support.kafka import publish, read_topic
from support.services import LOOPBACK
from support.waiting import read_quiet

EPOCH = datetime(2026, 3, 2, 9, 0, tzinfo=ROME)  # a Monday

Record: TypeAlias = "ConsumerRecord[Any, Any]"
E = TypeVar("E", bound=EventData)


def march(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=ROME)


# --- helpers -------------------------------------------------------------------------------


def activation(
    kafka: KafkaSettings,
    database: DatabaseSettings,
    clock: Clock | None = None,
    *,
    deadline_check_s: float = 1.0,
) -> ServiceRuntime:
    """Activation on the example districts, its HTTP API on a free loopback port."""
    return runtime(
        kafka,
        database,
        load_config(EXAMPLE),
        clock=clock or Clock(epoch=EPOCH),
        service=LOOPBACK,
        deadline_check_s=deadline_check_s,
    )


def written(topics: Topics) -> list[str]:
    """Where activation writes: the shared topic and each (Desio) provider's own topic."""
    return [topics.activation_services, *(topics.provider_requests(p) for p in DESIO_PROVIDERS)]


def for_case(records: Sequence[Record], case_id: str) -> list[tuple[Record, Envelope]]:
    decoded = [(r, decode(r.value, r.headers)) for r in records]
    return [(r, e) for r, e in decoded if e.subject == case_id]


def seen(found: Sequence[tuple[Record, Envelope]]) -> list[Envelope]:
    """The case's events once each: a deactivation's copy on the provider's topic left out.
    Each topic's events keep their order; events of different topics have none."""
    return [
        e
        for r, e in found
        if not (isinstance(e.data, ServiceDeactivated) and ".activation.requests." in r.topic)
    ]


def on_topic(found: Sequence[tuple[Record, Envelope]], topic: str) -> list[tuple[str, Any]]:
    """(type, request id) of the events on one topic, in order."""
    return [(e.type, getattr(e.data, "request_id", None)) for r, e in found if r.topic == topic]


def of(events: Sequence[Envelope], kind: type[E]) -> list[E]:
    return [e.data for e in events if isinstance(e.data, kind)]


async def wait_events(
    kafka: KafkaSettings,
    topics: Topics,
    case_id: str,
    done: Callable[[list[Envelope]], bool],
    *,
    timeout: float = 20.0,
) -> list[Envelope]:
    """The case's events (``seen``), once ``done`` holds for them."""

    def enough(records: list[Record]) -> bool:
        return done(seen(for_case(records, case_id)))

    records = await read_topic(kafka, written(topics), until=enough, timeout=timeout)
    return seen(for_case(records, case_id))


async def settled(
    kafka: KafkaSettings, topics: Topics, case_id: str, *, quiet: float = 1.0
) -> list[tuple[Record, Envelope]]:
    """Every record of the case, copies included, once the topics stayed quiet: for "nothing
    more" assertions."""
    return for_case(await read_quiet(kafka, written(topics), quiet=quiet), case_id)


def count(kind: type[EventData], at_least: int) -> Callable[[list[Envelope]], bool]:
    return lambda events: len(of(events, kind)) >= at_least


async def start_case(
    kafka: KafkaSettings,
    topics: Topics,
    ref: str,
    discharge_at: datetime,
    services: Sequence[tuple[ServiceType, int]] = MEDIUM,
) -> tuple[str, Envelope]:
    """What the ward and intake publish: the announcement, then the decision."""
    announcement = from_hospital(
        announced(discharge_ref=ref, expected_discharge_at=discharge_at, assessment=assessment())
    )
    assert announcement.subject is not None
    case_id = announcement.subject
    await publish(kafka, topics.hospital_discharges, announcement)
    decision = from_intake(
        confirmed(case_id, discharge_at, services=services), correlation_id=announcement.id
    )
    await publish(kafka, topics.intake_cases, decision)
    return case_id, announcement


async def planned_case(
    kafka: KafkaSettings, topics: Topics, ref: str, discharge_at: datetime
) -> tuple[str, Envelope, dict[ServiceType, ServiceActivationRequested]]:
    """A case started with the medium package, and the three requests activation sent for it."""
    case_id, announcement = await start_case(kafka, topics, ref, discharge_at)
    return case_id, announcement, await requests_for(kafka, topics, case_id)


async def requests_for(
    kafka: KafkaSettings, topics: Topics, case_id: str, n: int = 3
) -> dict[ServiceType, ServiceActivationRequested]:
    events = await wait_events(kafka, topics, case_id, count(ServiceActivationRequested, n))
    return {r.service_type: r for r in of(events, ServiceActivationRequested)}


Answer: TypeAlias = ServiceActivationAccepted | ServiceActivationDeclined


async def answer(kafka: KafkaSettings, topics: Topics, case_id: str, *data: Answer) -> None:
    """Each answer as its provider sends it: on its own reports topic."""
    for d in data:
        await publish(kafka, topics.provider_reports(d.provider_id), from_provider(d, case_id))


async def accept(
    kafka: KafkaSettings,
    topics: Topics,
    case_id: str,
    *answers: tuple[ServiceActivationRequested, datetime],
) -> None:
    """Each request accepted by the provider it was sent to, from the moment given with it."""
    await answer(
        kafka, topics, case_id, *(accepted(r.request_id, r.provider_id, at) for r, at in answers)
    )


async def request_rows(rt: ServiceRuntime, case_id: str) -> list[Any]:
    async with rt.engine.connect() as conn:
        rows = await conn.execute(
            select(requests)
            .where(requests.c.case_id == case_id)
            .order_by(requests.c.service_type, requests.c.attempt)
        )
        return list(rows)


async def case_status(rt: ServiceRuntime, case_id: str) -> tuple[str, str | None] | None:
    async with rt.engine.connect() as conn:
        row = (
            await conn.execute(
                select(cases.c.status, cases.c.end_reason).where(cases.c.case_id == case_id)
            )
        ).one_or_none()
    return (row.status, row.end_reason) if row is not None else None
