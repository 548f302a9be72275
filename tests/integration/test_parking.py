"""When one of a case's events is dead-lettered, its later events wait (parked, in order) until
the dead letter is replayed or discarded; other cases flow on. On the real broker and database,
with intake as the consumer."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import text

from cerniera.cli import deadletters
from cerniera.intake.config import load_config
from cerniera.intake.service import spec as intake_spec
from cerniera.intake.tables import cases
from cerniera.shared.contract import DischargeRescheduled, EventData, Topics
from cerniera.shared.envelope import Envelope
from cerniera.shared.messaging.consumer import Handler, Handlers
from cerniera.shared.persistence.outbox import UnitOfWork
from cerniera.shared.runtime import ServiceRuntime, ServiceSettings
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.discharges import (
    EXPECTED_DISCHARGE,
    announced,
    assessment,
    cancelled,
    from_hospital,
    rescheduled,
)
from support.districts import EXAMPLE
from support.kafka import headers_of, publish, publish_raw, read_topic
from support.waiting import eventually

pytestmark = pytest.mark.integration

FAST = ServiceSettings(
    http_host="127.0.0.1",
    http_port=0,
    event_max_attempts=2,
    event_retry_delay_s=0.0,
    parked_drain_interval_s=0.2,
)


class Breakable:
    """Intake's own handlers, except that reschedules fail while ``broken`` (a bug, fixed
    later), and every applied event is noted in order."""

    def __init__(self, handlers: Handlers) -> None:
        self.broken = True
        self.applied: list[tuple[str, str]] = []
        self._handlers = handlers

    def handlers(self) -> dict[type[EventData], Handler]:
        return {kind: self._wrap(kind, handler) for kind, handler in self._handlers.items()}

    def _wrap(self, kind: type[EventData], handler: Handler) -> Handler:
        async def handle(uow: UnitOfWork, events: Sequence[Envelope]) -> None:
            if kind is DischargeRescheduled and self.broken:
                raise RuntimeError("a bug in the reschedule handler")
            await handler(uow, events)
            self.applied += [(e.type, str(e.subject)) for e in events]

        return handle


def _intake(
    kafka: KafkaSettings, database: DatabaseSettings
) -> tuple[ServiceRuntime, list[Breakable]]:
    base = intake_spec(load_config(EXAMPLE))
    made: list[Breakable] = []

    def handlers(rt: ServiceRuntime) -> dict[type[EventData], Handler]:
        made.append(Breakable(base.handlers(rt)))
        return made[-1].handlers()

    spec = dataclasses.replace(base, handlers=handlers)
    return ServiceRuntime(spec, kafka, database, service=FAST), made


async def _status(rt: ServiceRuntime, case_id: str) -> Any:
    async with rt.engine.connect() as conn:
        return (
            await conn.execute(
                cases.select()
                .where(cases.c.case_id == case_id)
                .with_only_columns(cases.c.status, cases.c.expected_discharge_at)
            )
        ).one_or_none()


async def test_a_case_waits_behind_its_dead_letter_until_the_replay_and_others_flow(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    rt, made = _intake(kafka_settings, database_settings)
    stuck, other = "asst-vimercate:P-1", "asst-vimercate:P-2"
    moved = EXPECTED_DISCHARGE + timedelta(days=2)
    async with rt.running():
        breakable = made[0]
        await publish(
            kafka_settings,
            topics.hospital_discharges,
            from_hospital(announced(discharge_ref="P-1", assessment=assessment())),
            from_hospital(announced(discharge_ref="P-2", assessment=assessment())),
        )
        await eventually(lambda: _status(rt, other), lambda r: r is not None, what="P-2")
        # P-1's reschedule fails (the bug) and is dead-lettered; its cancellation, behind it,
        # must wait. P-2's cancellation goes through.
        await publish(
            kafka_settings,
            topics.hospital_discharges,
            from_hospital(rescheduled("P-1", moved)),
            from_hospital(cancelled("P-1")),
            from_hospital(cancelled("P-2")),
        )
        await eventually(
            lambda: _status(rt, other), lambda r: r.status == "cancelled", what="P-2 cancelled"
        )
        dlq = topics.dlq(topics.hospital_discharges)
        (letter,) = await read_topic(kafka_settings, dlq, until=lambda rs: len(rs) >= 1)
        assert headers_of(letter)["dlq_reason_code"] == "handler.failed"
        assert headers_of(letter)["dlq_consumer"] == "intake"
        row = await _status(rt, stuck)
        assert row.status == "eligible"  # the cancellation waits behind the dead letter
        assert rt.consumer.stats.parked == 1
        assert await _parked(rt) == 1

        # The fix, then the replay: the reschedule first, then what waited, in order.
        breakable.broken = False
        assert await deadletters.replay(kafka_settings, dlq, Console(quiet=True)) == 1
        row = await eventually(
            lambda: _status(rt, stuck), lambda r: r.status == "cancelled", what="P-1 cancelled"
        )
        assert row.expected_discharge_at == moved
        of_stuck = [kind for kind, case in breakable.applied if case == stuck]
        assert of_stuck == ["DischargeAnnounced", "DischargeRescheduled", "DischargeCancelled"]


async def test_an_unreadable_record_parks_its_case_until_an_operator_discards_it(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    rt, _ = _intake(kafka_settings, database_settings)
    stuck = "asst-vimercate:Q-1"
    async with rt.running():
        await publish(
            kafka_settings,
            topics.hospital_discharges,
            from_hospital(announced(discharge_ref="Q-1", assessment=assessment())),
        )
        await eventually(lambda: _status(rt, stuck), lambda r: r is not None, what="Q-1")
        nested = b"[" * 5000 + b"]" * 5000
        await publish_raw(
            kafka_settings,
            topics.hospital_discharges,
            [(stuck.encode(), nested, [("content-type", b"application/cloudevents+json")])],
        )
        await publish(kafka_settings, topics.hospital_discharges, from_hospital(cancelled("Q-1")))
        dlq = topics.dlq(topics.hospital_discharges)
        (letter,) = await read_topic(kafka_settings, dlq, until=lambda rs: len(rs) >= 1)
        assert headers_of(letter)["dlq_reason_code"] in {"record.too_deep", "json.malformed"}
        await eventually(lambda: _parked(rt), lambda n: n == 1, what="the cancellation parked")
        assert (await _status(rt, stuck)).status == "eligible"

        await deadletters.discard(
            kafka_settings, dlq, Console(quiet=True), consumer="intake", case=stuck
        )
        await eventually(
            lambda: _status(rt, stuck), lambda r: r.status == "cancelled", what="Q-1 cancelled"
        )
        assert await _parked(rt) == 0


async def _parked(rt: ServiceRuntime) -> int:
    """Records waiting in intake's own database."""
    async with rt.engine.connect() as conn:
        return int(await conn.scalar(text("SELECT count(*) FROM intake.parked_events")) or 0)
