"""Intake end to end: real broker, real PostgreSQL, the service's own runtime; nothing mocked.

Each test starts intake on its own topic prefix and an empty database, publishes what a
hospital would, and looks at what an outside system would see: the records on
``intake.cases`` and ``<topic>.dlq``, plus intake's own tables.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeAlias

import pytest
from aiokafka import ConsumerRecord
from sqlalchemy import Row, func, select

from cerniera.intake.config import load_config
from cerniera.intake.eligibility import Eligible
from cerniera.intake.service import runtime
from cerniera.intake.store import decision_from_record
from cerniera.intake.tables import cases, inbox, outbox
from cerniera.shared.contract import (
    DischargeAnnounced,
    EligibilityConfirmed,
    EligibilityRejected,
    Intensity,
    ServiceType,
    Topics,
)
from cerniera.shared.envelope import STRUCTURED, Envelope, decode
from cerniera.shared.runtime import ServiceRuntime
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.discharges import (
    BAD_FISCAL_CODE,
    DESIO,
    EXPECTED_DISCHARGE,
    HOSPITAL_SOURCE,
    MAGENTA,
    ROME,
    announced,
    announced_json,
    assessment,
    cancelled,
    from_hospital,
    met_answers,
    not_met_answers,
    rescheduled,
)
from support.districts import EXAMPLE
from support.kafka import headers_of, publish, publish_raw, read_topic, same_partition_keys
from support.services import LOOPBACK
from support.waiting import eventually, read_quiet

pytestmark = pytest.mark.integration

INTAKE_SOURCE = "urn:dp:service:intake"

Record: TypeAlias = "ConsumerRecord[Any, Any]"

PERSONS = ("VRDGPP40A01F205N", "BNCMRA41B02F205Y", "NREFNC42C03F205P")
"""Fiscal codes of three different persons."""

HIGH = {
    ServiceType.SAD: Decimal(12),
    ServiceType.MEALS: Decimal(7),
    ServiceType.TELEASSISTANCE: Decimal(7),
}
LOW = {ServiceType.SAD: Decimal(3), ServiceType.TELEASSISTANCE: Decimal(7)}


# --- helpers -------------------------------------------------------------------------------


def intake(kafka: KafkaSettings, database: DatabaseSettings) -> ServiceRuntime:
    """Intake on the example districts, whatever CERNIERA_AMBITI says on this machine; its
    HTTP API on any free loopback port, so tests never fight over 8000."""
    return runtime(kafka, database, load_config(EXAMPLE), service=LOOPBACK)


@contextlib.asynccontextmanager
async def running(
    kafka: KafkaSettings, database: DatabaseSettings
) -> AsyncIterator[ServiceRuntime]:
    rt = intake(kafka, database)
    async with rt.running():
        yield rt


async def case_row(rt: ServiceRuntime, case_id: str) -> Row[Any] | None:
    async with rt.engine.connect() as conn:
        return (await conn.execute(select(cases).where(cases.c.case_id == case_id))).one_or_none()


async def count(rt: ServiceRuntime, table: Any, *where: Any) -> int:
    async with rt.engine.connect() as conn:
        total = await conn.scalar(select(func.count()).select_from(table).where(*where))
    return int(total or 0)


async def wait_for_case(rt: ServiceRuntime, case_id: str, **expected: Any) -> Row[Any]:
    """The case row once it exists and its columns have the ``expected`` values."""

    async def probe() -> Row[Any] | None:
        return await case_row(rt, case_id)

    def done(row: Row[Any] | None) -> bool:
        return row is not None and all(getattr(row, k) == v for k, v in expected.items())

    row = await eventually(probe, done, what=f"case {case_id} with {expected}")
    assert row is not None
    return row


async def outbox_drained(rt: ServiceRuntime) -> None:
    """Everything intake committed has been published (the relay deletes after the ack)."""

    async def pending() -> int:
        return await count(rt, outbox)

    await eventually(pending, lambda n: n == 0, what="an empty outbox")


async def barrier(
    rt: ServiceRuntime, kafka: KafkaSettings, topics: Topics, discharge_ref: str
) -> None:
    """Wait until intake has consumed everything published so far for this case: a
    reschedule sent now is behind those records on the same partition (same key), so once its
    effect is visible, they have all been handled."""
    marker = datetime(2031, 1, 1, tzinfo=UTC) + timedelta(seconds=uuid.uuid4().int % 10**6)
    data = rescheduled(discharge_ref, marker)
    await publish(kafka, topics.hospital_discharges, from_hospital(data))
    await wait_for_case(rt, data.case_id, expected_discharge_at=marker)
    await outbox_drained(rt)


DECISIONS = (EligibilityConfirmed.event_type, EligibilityRejected.event_type)


def decisions_for(records: list[Record], case_id: str) -> list[tuple[Record, Envelope]]:
    """The case's decisions (not the network tasks a case without a caregiver opens)."""
    decoded = [(r, decode(r.value, r.headers)) for r in records]
    return [(r, e) for r, e in decoded if e.subject == case_id and e.type in DECISIONS]


def reason_codes(data: EligibilityConfirmed | EligibilityRejected) -> list[str]:
    return [r.code for r in data.reasons]


def quantities(data: EligibilityConfirmed) -> dict[ServiceType, Decimal]:
    return {s.service_type: s.weekly_quantity for s in data.services}


def assert_published_by_intake(record: Record, event: Envelope, cause: Envelope) -> None:
    """The CloudEvents binding and Kafka key of a decision caused by ``cause``."""
    case_id = cause.subject
    assert case_id is not None
    headers = headers_of(record)
    assert record.key == case_id.encode()
    assert headers["ce_subject"] == case_id
    assert headers["ce_source"] == INTAKE_SOURCE
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_type"] == event.type
    assert headers["content-type"] == "application/json"
    assert headers["ce_causationid"] == cause.id
    assert event.id != cause.id


async def one_decision(
    kafka: KafkaSettings, topics: Topics, case_id: str, *, quiet: float = 1.0, timeout: float = 30
) -> tuple[Record, Envelope]:
    """Wait for the case's decision, then for the topic to stay quiet: exactly one."""
    await read_topic(
        kafka,
        topics.intake_cases,
        until=lambda rs: bool(decisions_for(rs, case_id)),
        timeout=timeout,
    )
    found = decisions_for(await read_quiet(kafka, topics.intake_cases, quiet=quiet), case_id)
    assert len(found) == 1, [e.type for _, e in found]
    return found[0]


# --- a. binary content mode ---------------------------------------------------------------


async def test_announcements_become_one_decision_each(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    eligible = from_hospital(
        announced(discharge_ref="A-ELIGIBLE", assessment=assessment(met_answers(), brass_score=25))
    )
    by_rule = from_hospital(
        announced(
            discharge_ref="A-RULE",
            municipality_code=MAGENTA,
            assessment=assessment(not_met_answers(), brass_score=25),
        )
    )
    outside = from_hospital(
        announced(
            discharge_ref="A-OUTSIDE",
            municipality_code=ROME,
            assessment=assessment(met_answers(), brass_score=25),
        )
    )

    async with running(kafka_settings, database_settings) as rt:
        await publish(kafka_settings, topics.hospital_discharges, eligible, by_rule, outside)
        await read_topic(kafka_settings, topics.intake_cases, until=lambda rs: len(rs) >= 3)
        records = await read_quiet(kafka_settings, topics.intake_cases)
        rows = {
            e.subject: await case_row(rt, e.subject or "") for e in (eligible, by_rule, outside)
        }

    # Three decisions, and the territorial network engaged for the eligible person, who has no
    # caregiver.
    assert sorted(decode(r.value, r.headers).type for r in records) == [
        "EligibilityConfirmed",
        "EligibilityRejected",
        "EligibilityRejected",
        "NetworkTaskOpened",
    ]

    # Eligible: intensity from BRASS 25 (high), not Desio's default (medium).
    [(record, event)] = decisions_for(records, "asst-vimercate:A-ELIGIBLE")
    assert_published_by_intake(record, event, eligible)
    confirmed = event.data
    assert isinstance(confirmed, EligibilityConfirmed)
    assert confirmed.case_id == "asst-vimercate:A-ELIGIBLE"
    assert confirmed.ambito_id == "desio"
    assert confirmed.intensity is Intensity.HIGH
    assert quantities(confirmed) == HIGH
    assert len(confirmed.services) == 3
    assert confirmed.decided_by == "rule"
    assert confirmed.expected_discharge_at == EXPECTED_DISCHARGE
    assert reason_codes(confirmed) == ["phase2.primary_met", "phase2.others_met", "intensity.brass"]
    # The person as a keyed pseudonym (never the fiscal code), and version 1 of the plan.
    assert confirmed.person_ref is not None
    assert confirmed.person_ref.startswith("p-")
    assert "RSSMRA" not in confirmed.model_dump_json()
    assert confirmed.plan_version == 1

    row = rows[eligible.subject]
    assert row is not None
    announcement = eligible.data
    assert isinstance(announcement, DischargeAnnounced)
    assert row.status == "eligible"
    assert row.ambito_id == "desio"
    assert row.hospital_id == "asst-vimercate"
    assert row.discharge_ref == "A-ELIGIBLE"
    assert row.ward == "medicina-generale"
    assert row.expected_discharge_at == EXPECTED_DISCHARGE
    assert row.patient == announcement.patient.model_dump(mode="json")
    assert row.patient["fiscal_code"] == "RSSMRA85T10A562S"
    assert row.patient["municipality_code"] == DESIO
    assert row.caregiver == {"present": False, "name": None, "phone": None}
    assert row.assessment["brass_score"] == 25
    assert row.decision["intensity"] == "high"
    assert row.decision["decided_by"] == "rule"

    # Rejected by the Phase-2 rule: no "yes" for R1 or R2.
    [(record, event)] = decisions_for(records, "asst-vimercate:A-RULE")
    assert_published_by_intake(record, event, by_rule)
    rejected = event.data
    assert isinstance(rejected, EligibilityRejected)
    assert rejected.case_id == "asst-vimercate:A-RULE"
    assert reason_codes(rejected) == ["phase2.primary_not_met", "phase2.others_met"]
    row = rows[by_rule.subject]
    assert row is not None
    assert (row.status, row.ambito_id) == ("not_eligible", "magentino")

    # Rejected because the patient lives in no district served here.
    [(record, event)] = decisions_for(records, "asst-vimercate:A-OUTSIDE")
    assert_published_by_intake(record, event, outside)
    assert isinstance(event.data, EligibilityRejected)
    assert reason_codes(event.data) == ["residence.outside_ambiti"]
    row = rows[outside.subject]
    assert row is not None
    assert (row.status, row.ambito_id) == ("not_eligible", None)


# --- b. structured content mode -----------------------------------------------------------


async def test_structured_content_mode_is_accepted(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    # Magentino without a BRASS score: the district's default, low.
    event = from_hospital(
        announced(discharge_ref="S-1", municipality_code=MAGENTA, assessment=assessment())
    )
    case_id = "asst-vimercate:S-1"

    async with running(kafka_settings, database_settings) as rt:
        await publish_raw(
            kafka_settings,
            topics.hospital_discharges,
            [(case_id.encode(), event.to_structured(), [("content-type", STRUCTURED.encode())])],
        )
        # Magentino's team confirms the rule's proposals: kept, not published.
        row = await wait_for_case(rt, case_id, status="awaiting_confirmation")
        await outbox_drained(rt)
        records = await read_quiet(kafka_settings, topics.intake_cases, quiet=0.5)

    assert decisions_for(records, case_id) == []
    proposal = decision_from_record(row.decision, row.ambito_id)
    assert isinstance(proposal, Eligible)
    assert proposal.ambito_id == "magentino"
    assert proposal.intensity is Intensity.LOW
    assert {s.service_type: s.weekly_quantity for s in proposal.services} == LOW
    assert [r.code for r in proposal.reasons][-1] == "intensity.default"
    assert row.patient["given_name"] == "Mario"


# --- c. the same event three times --------------------------------------------------------


async def test_the_same_event_three_times_is_decided_once(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    event = from_hospital(announced(discharge_ref="D-1", assessment=assessment(brass_score=5)))
    case_id = "asst-vimercate:D-1"

    async with running(kafka_settings, database_settings) as rt:
        await publish(kafka_settings, topics.hospital_discharges, event)
        await read_topic(
            kafka_settings,
            topics.intake_cases,
            until=lambda rs: bool(decisions_for(rs, case_id)),
        )
        # Redeliveries: one in a later batch of its own, then two in one batch.
        await publish(kafka_settings, topics.hospital_discharges, event)
        await publish(kafka_settings, topics.hospital_discharges, event, event)
        await barrier(rt, kafka_settings, topics, "D-1")
        found = decisions_for(
            await read_quiet(kafka_settings, topics.intake_cases, quiet=2), case_id
        )
        in_inbox = await count(rt, inbox, inbox.c.event_id == event.id)
        cases_total = await count(rt, cases)
        skipped = rt.consumer.stats.duplicates

        # Where a second run would show: an old reschedule redelivered after a newer one
        # must not move the date back. The cancellation behind them says they were handled.
        later = EXPECTED_DISCHARGE + timedelta(days=2)
        older = from_hospital(rescheduled("D-1", EXPECTED_DISCHARGE + timedelta(days=1)))
        newer = from_hospital(rescheduled("D-1", later))
        await publish(kafka_settings, topics.hospital_discharges, older, newer)
        await wait_for_case(rt, case_id, expected_discharge_at=later)
        await publish(
            kafka_settings, topics.hospital_discharges, older, from_hospital(cancelled("D-1"))
        )
        row = await wait_for_case(rt, case_id, status="cancelled")

    assert [e.type for _, e in found] == ["EligibilityConfirmed"]
    assert found[0][1].causation_id == event.id
    assert in_inbox == 1
    assert cases_total == 1
    assert row.expected_discharge_at == later
    assert skipped == 3  # the consumer's own count: three redeliveries seen and skipped


# --- d. the same discharge announced again ------------------------------------------------


async def test_a_discharge_announced_again_is_decided_once(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    # Three persons: one person's three plans would pass the SAD hours cap.
    decided = announced(
        discharge_ref="R-1", assessment=assessment(brass_score=15), fiscal_code=PERSONS[0]
    )
    waiting = announced(discharge_ref="R-2", fiscal_code=PERSONS[1])  # no assessment yet
    assessed = announced(
        discharge_ref="R-2", assessment=assessment(brass_score=25), fiscal_code=PERSONS[1]
    )
    # The same two announcements back to back, most likely in one batch.
    together = [
        from_hospital(announced(discharge_ref="R-3", fiscal_code=PERSONS[2])),
        from_hospital(
            announced(
                discharge_ref="R-3", assessment=assessment(brass_score=0), fiscal_code=PERSONS[2]
            )
        ),
    ]

    async with running(kafka_settings, database_settings) as rt:
        # Decided at the first announcement; a second one (new event id) changes nothing.
        await publish(kafka_settings, topics.hospital_discharges, from_hospital(decided))
        await one_decision(kafka_settings, topics, decided.case_id, quiet=0.2)
        await publish(kafka_settings, topics.hospital_discharges, from_hospital(decided))

        # Awaiting its assessment: a case, no decision.
        first = from_hospital(waiting)
        await publish(kafka_settings, topics.hospital_discharges, first)
        row = await wait_for_case(rt, waiting.case_id)
        assert row.status == "awaiting_assessment"
        assert row.ambito_id == "desio"
        assert row.decision is None
        assert row.correlation_id == first.id
        await outbox_drained(rt)
        early = await read_quiet(kafka_settings, topics.intake_cases, quiet=0.5)
        assert decisions_for(early, waiting.case_id) == []

        # The assessment arrives with a new announcement: now it is decided, once.
        second = from_hospital(assessed)
        await publish(kafka_settings, topics.hospital_discharges, second)
        record, decision = await one_decision(kafka_settings, topics, waiting.case_id, quiet=0.2)
        # ... and announced yet again, with or without the assessment: nothing more.
        await publish(
            kafka_settings,
            topics.hospital_discharges,
            from_hospital(assessed),
            from_hospital(waiting),
            *together,
        )
        await barrier(rt, kafka_settings, topics, "R-2")
        await barrier(rt, kafka_settings, topics, "R-1")
        await barrier(rt, kafka_settings, topics, "R-3")
        records = await read_quiet(kafka_settings, topics.intake_cases, quiet=1)
        row = await wait_for_case(rt, waiting.case_id)
        inbox_rows = await count(rt, inbox)

    assert len(decisions_for(records, decided.case_id)) == 1
    assert len(decisions_for(records, waiting.case_id)) == 1
    [(_, in_batch)] = decisions_for(records, "asst-vimercate:R-3")
    assert in_batch.causation_id == together[1].id
    assert isinstance(in_batch.data, EligibilityConfirmed)
    assert in_batch.data.intensity is Intensity.LOW
    # Three decisions, and the network engaged for each person (none has a caregiver).
    assert len(records) == 6
    assert_published_by_intake(record, decision, second)
    assert isinstance(decision.data, EligibilityConfirmed)
    assert decision.data.intensity is Intensity.HIGH
    assert row.status == "eligible"
    assert row.assessment["brass_score"] == 25
    assert row.decision["intensity"] == "high"
    # 2 + 1 + 1 + 2 + 2 announcements and 3 barriers, each a new event id.
    assert inbox_rows == 11


# --- e. dead letters ------------------------------------------------------------------------

RawRecord: TypeAlias = tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]


async def dead_letters_then_good_record(
    kafka: KafkaSettings,
    topics: Topics,
    database: DatabaseSettings,
    discharge_ref: str,
    bad: list[tuple[bytes, str, str]],
) -> dict[str, tuple[Record, dict[str, str]]]:
    """Publish the ``bad`` (value, ce_id, ce_type) records, then a good announcement of
    another case on the same partition; check the good one was decided after the bad ones
    were dead-lettered (the partition was not blocked); return the dead letters by ce_id.
    (The bad records' own case is parked: its later events would wait for the replay.)"""
    good = from_hospital(
        announced(discharge_ref=discharge_ref, assessment=assessment(brass_score=12))
    )
    assert good.subject is not None
    good_key = good.subject.encode()
    # Each bad record a case of its own: one dead-lettered would park its case's later ones.
    keys = same_partition_keys(good_key, kafka.topic_partitions, len(bad))
    good_value, good_headers = good.to_binary()

    def headers(event_id: str, ce_type: str) -> list[tuple[str, bytes]]:
        rewritten = {"ce_id": event_id.encode(), "ce_type": ce_type.encode()}
        return [(name, rewritten.get(name, value)) for name, value in good_headers]

    records: list[RawRecord] = [
        (key, value, headers(i, t)) for key, (value, i, t) in zip(keys, bad, strict=True)
    ]
    dlq = topics.dlq(topics.hospital_discharges)

    async with running(kafka, database) as rt:
        await publish_raw(
            kafka, topics.hospital_discharges, [*records, (good_key, good_value, good_headers)]
        )
        record, decision = await one_decision(kafka, topics, good.subject, quiet=0.2, timeout=10)
        await read_topic(kafka, dlq, until=lambda rs: len(rs) >= len(bad))
        dead = await read_quiet(kafka, dlq, quiet=0.5)
        published = await read_topic(
            kafka, topics.hospital_discharges, until=lambda rs: len(rs) > len(bad)
        )
        inbox_rows = await count(rt, inbox)

    assert_published_by_intake(record, decision, good)
    assert inbox_rows == 1  # only the good record was processed
    assert len(dead) == len(bad)
    letters = {headers_of(r)["ce_id"]: (r, headers_of(r)) for r in dead}
    assert sorted(letters) == sorted(event_id for _, event_id, _ in bad)
    # All from the good record's partition, before it: it was not blocked behind them.
    [original] = [r for r in published if headers_of(r)["ce_id"] == good.id]
    for key, (value, event_id, _) in zip(keys, bad, strict=True):
        r, h = letters[event_id]
        assert r.value == value  # exactly as it arrived, so it can be replayed
        assert r.key == key
        assert h["dlq_original_topic"] == topics.hospital_discharges
        assert int(h["dlq_original_partition"]) == original.partition
        assert int(h["dlq_original_offset"]) < original.offset
        assert h["dlq_consumer"] == "intake"
        assert h["ce_source"] == HOSPITAL_SOURCE
    return letters


async def test_malformed_and_invalid_records_go_to_the_dlq_and_the_partition_goes_on(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    # Binary mode, content-type application/json: envelope.decode names it "data.invalid".
    malformed = b'{"hospital_id": "asst-vimercate", "ward": '
    bad_fiscal_code = json.dumps(
        announced_json(discharge_ref="E-DATA", fiscal_code=BAD_FISCAL_CODE)
    ).encode()
    valid_data = json.dumps(announced_json(discharge_ref="E-DATA")).encode()

    letters = await dead_letters_then_good_record(
        kafka_settings,
        topics,
        database_settings,
        "E-DATA",
        [
            (malformed, "bad-json", "DischargeAnnounced"),
            (bad_fiscal_code, "bad-fiscal-code", "DischargeAnnounced"),
            (valid_data, "unknown-type", "DischargeTeleported"),
        ],
    )

    codes = {event_id: h["dlq_reason_code"] for event_id, (_, h) in letters.items()}
    assert codes == {
        "bad-json": "data.invalid",
        "bad-fiscal-code": "data.invalid",
        "unknown-type": "cloudevents.unknown_type",
    }
    reasons = {event_id: h["dlq_reason"] for event_id, (_, h) in letters.items()}
    assert "Invalid JSON" in reasons["bad-json"]
    assert "patient.fiscal_code" in reasons["bad-fiscal-code"]
    assert "codice fiscale" in reasons["bad-fiscal-code"]
    assert "DischargeTeleported" in reasons["unknown-type"]


# --- f. the outbox across a stop -----------------------------------------------------------


async def test_outbox_survives_a_stop_between_commit_and_publish(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    event = from_hospital(announced(discharge_ref="O-1", assessment=assessment(brass_score=30)))
    case_id = "asst-vimercate:O-1"

    # The process "dies" between commit and publish: it commits, and never publishes.
    first = runtime(kafka_settings, database_settings, relay=False, service=LOOPBACK)
    async with first.running():
        await publish(kafka_settings, topics.hospital_discharges, event)

        async def pending() -> int:
            return await count(first, outbox, outbox.c.key == case_id)

        # The decision, and the territorial network's task (the person has no caregiver).
        await eventually(pending, lambda n: n == 2, what="the decision in the outbox")
        await wait_for_case(first, case_id, status="eligible")
        assert await read_quiet(kafka_settings, topics.intake_cases, quiet=0.5) == []

    second = intake(kafka_settings, database_settings)
    async with second.running():
        record, decision = await one_decision(kafka_settings, topics, case_id, quiet=0.2)
        await outbox_drained(second)
        # A redelivery of the announcement after the restart: the inbox stops it.
        await publish(kafka_settings, topics.hospital_discharges, event)
        await barrier(second, kafka_settings, topics, "O-1")
        records = await read_quiet(kafka_settings, topics.intake_cases, quiet=1)
        skipped = second.consumer.stats.duplicates
        outbox_rows = await count(second, outbox)
        inbox_rows = await count(second, inbox, inbox.c.event_id == event.id)
        case_rows = await count(second, cases)

    assert_published_by_intake(record, decision, event)
    assert isinstance(decision.data, EligibilityConfirmed)
    assert decision.data.intensity is Intensity.HIGH
    assert [decode(r.value, r.headers).type for r in records] == [
        "EligibilityConfirmed",
        "NetworkTaskOpened",
    ]
    assert skipped in (1, 2)  # the redelivery, and the original if its offset was not committed
    assert outbox_rows == 0
    assert inbox_rows == 1
    assert case_rows == 1


# --- g. correlation ---------------------------------------------------------------------------


async def test_decisions_carry_correlation_and_causation(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    with_correlation = from_hospital(
        announced(discharge_ref="C-1", assessment=assessment()), correlation_id="ward-flow-42"
    )
    without = from_hospital(announced(discharge_ref="C-2", assessment=assessment()))
    assert without.correlation_id is None

    async with running(kafka_settings, database_settings) as rt:
        await publish(kafka_settings, topics.hospital_discharges, with_correlation, without)
        records = await read_topic(
            kafka_settings, topics.intake_cases, until=lambda rs: len(rs) >= 2
        )
        rows = [
            await case_row(rt, case_id) for case_id in ("asst-vimercate:C-1", "asst-vimercate:C-2")
        ]

    [(record_1, decision_1)] = decisions_for(records, "asst-vimercate:C-1")
    assert headers_of(record_1)["ce_correlationid"] == "ward-flow-42"
    assert decision_1.correlation_id == "ward-flow-42"
    assert decision_1.causation_id == with_correlation.id

    [(record_2, decision_2)] = decisions_for(records, "asst-vimercate:C-2")
    assert headers_of(record_2)["ce_correlationid"] == without.id
    assert decision_2.correlation_id == without.id
    assert decision_2.causation_id == without.id

    assert [row.correlation_id if row else None for row in rows] == ["ward-flow-42", without.id]


# --- h. reschedule and cancel ------------------------------------------------------------------


async def test_reschedule_and_cancel_update_the_case(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    case_id = "asst-vimercate:H-1"
    moved_to = EXPECTED_DISCHARGE + timedelta(days=2, hours=3)
    unknown = from_hospital(rescheduled("H-UNKNOWN", moved_to))
    unknown_cancel = from_hospital(cancelled("H-UNKNOWN"))
    dlq = topics.dlq(topics.hospital_discharges)

    async with running(kafka_settings, database_settings) as rt:
        await publish(
            kafka_settings,
            topics.hospital_discharges,
            from_hospital(announced(discharge_ref="H-1", assessment=assessment())),
        )
        row = await wait_for_case(rt, case_id)
        assert row.expected_discharge_at == EXPECTED_DISCHARGE

        await publish(
            kafka_settings, topics.hospital_discharges, from_hospital(rescheduled("H-1", moved_to))
        )
        row = await wait_for_case(rt, case_id, expected_discharge_at=moved_to)
        assert row.status == "eligible"

        await publish(kafka_settings, topics.hospital_discharges, from_hospital(cancelled("H-1")))
        row = await wait_for_case(rt, case_id, status="cancelled")
        assert row.expected_discharge_at == moved_to

        await publish(kafka_settings, topics.hospital_discharges, unknown, unknown_cancel)
        dead = await read_topic(kafka_settings, dlq, until=lambda rs: len(rs) >= 2)
        unknown_rows = await count(rt, cases, cases.c.case_id == "asst-vimercate:H-UNKNOWN")

    letters = {headers_of(r)["ce_id"]: headers_of(r) for r in dead}
    assert letters.keys() == {unknown.id, unknown_cancel.id}
    for headers in letters.values():
        assert headers["dlq_reason_code"] == "case.unknown"
        assert "asst-vimercate:H-UNKNOWN" in headers["dlq_reason"]
    assert letters[unknown.id]["ce_type"] == "DischargeRescheduled"
    assert unknown_rows == 0
