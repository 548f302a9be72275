"""The ``cerniera`` command's Kafka tools, on the real broker: send, and dead-letter replay."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import select

from cerniera.cli import deadletters, events
from cerniera.intake.service import runtime
from cerniera.intake.tables import cases
from cerniera.shared.contract import EligibilityConfirmed, Topics
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.discharges import announced, assessment, from_hospital, rescheduled
from support.kafka import publish, read_events, read_topic
from support.services import LOOPBACK
from support.waiting import eventually

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "events"


async def test_send_publishes_the_example_and_intake_decides(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    async with runtime(kafka_settings, database_settings, service=LOOPBACK).running():
        await events.send(
            kafka_settings, [EXAMPLES / "discharge-announced.json"], False, Console(quiet=True)
        )
        published = await read_events(kafka_settings, topics.intake_cases, count=2)
    # No caregiver in the example: a territorial-network task is opened beside the decision.
    [decision] = [e for e in published if e.type == EligibilityConfirmed.event_type]
    assert decision.subject == "asst-vimercate:V2026-000123"
    assert decision.data_as(EligibilityConfirmed).ambito_id == "desio"


def test_send_refuses_an_invalid_file_before_sending_anything(tmp_path: Path) -> None:
    doc = json.loads((EXAMPLES / "discharge-announced.json").read_text())
    doc["data"]["patient"]["fiscal_code"] = "RSSMRA40T10D286X"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(SystemExit, match=r"data\.invalid.*fiscal_code"):
        events.load_event(bad)


async def test_a_dead_letter_replayed_after_the_fix_is_applied(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    moved = datetime(2024, 10, 9, 9, 0, tzinfo=UTC)
    early = from_hospital(rescheduled("R-1", moved))
    rt = runtime(kafka_settings, database_settings, service=LOOPBACK)
    async with rt.running():
        # A reschedule for a discharge intake has never seen: dead-lettered (case.unknown).
        await publish(kafka_settings, topics.hospital_discharges, early)
        dlq = topics.dlq(topics.hospital_discharges)
        (letter,) = await read_topic(kafka_settings, dlq, until=lambda rs: len(rs) >= 1)
        assert dict(letter.headers)["dlq_reason_code"] == b"case.unknown"
        # The fix: the missing announcement arrives; then the operator replays the DLQ.
        await publish(
            kafka_settings,
            topics.hospital_discharges,
            from_hospital(announced(discharge_ref="R-1", assessment=assessment())),
        )
        await read_events(kafka_settings, topics.intake_cases, count=1)
        replayed = await deadletters.replay(kafka_settings, dlq, Console(quiet=True))
        assert replayed == 1
        # Back on its topic as it first arrived: same event, the dead letter's headers gone.
        first, _announcement, again = await read_topic(
            kafka_settings, topics.hospital_discharges, until=lambda rs: len(rs) >= 3
        )
        assert (again.value, again.key) == (first.value, first.key)
        # For the group that failed it (intake) only, naming the dead letter.
        assert [h for h in again.headers if not h[0].startswith("dlq_")] == list(first.headers)
        replay_headers = dict(h for h in again.headers if h[0].startswith("dlq_"))
        assert replay_headers["dlq_replay_for"] == b"intake"
        assert replay_headers["dlq_dead_letter_id"] == (
            f"{topics.hospital_discharges}:{letter.partition}:{first.offset}".encode()
        )
        # A second replay sends nothing twice.
        assert await deadletters.replay(kafka_settings, dlq, Console(quiet=True)) == 0

        async def expected_at() -> datetime | None:
            async with rt.engine.connect() as conn:
                found: datetime | None = await conn.scalar(
                    select(cases.c.expected_discharge_at).where(
                        cases.c.case_id == "asst-vimercate:R-1"
                    )
                )
                return found

        assert await eventually(expected_at, lambda at: at == moved, what="the replayed date")
