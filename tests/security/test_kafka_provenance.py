"""Provenance on Kafka: an event from a source the contract does not allow to publish it is
dead-lettered at once (``source.not_allowed``) and changes nothing, whatever its type says.
Real broker, real PostgreSQL, billing and intake running as they do in production.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from cerniera.billing.config import load_config as billing_config
from cerniera.billing.service import runtime as billing
from cerniera.billing.tables import cases as billing_cases
from cerniera.billing.tables import deliveries
from cerniera.intake.config import load_config as intake_config
from cerniera.intake.service import runtime as intake
from cerniera.intake.tables import cases as intake_cases
from cerniera.shared.clock import Clock
from cerniera.shared.contract import CaseClosed, CaseOutcome, Topics
from cerniera.shared.contract.provenance import provider_source
from cerniera.shared.envelope import Envelope
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.billing_events import (
    MELOGRANO,
    SAD,
    activated,
    case_id,
    confirmed,
    delivery,
    reported,
)
from support.discharges import announced, assessment, from_hospital
from support.districts import EXAMPLE
from support.kafka import headers_of, publish, read_topic
from support.services import LOOPBACK
from support.waiting import eventually

pytestmark = pytest.mark.integration

NOW = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)


async def test_events_from_sources_not_allowed_are_dead_lettered_and_change_nothing(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    case = case_id("P-1")
    line = delivery(case, MELOGRANO, SAD, date(2026, 12, 9), 2, delivery_ref="P-1")
    closure = CaseClosed(
        case_id=case, closed_at=datetime(2026, 12, 2, tzinfo=UTC), outcome=CaseOutcome.DECEASED
    )
    # A provider closes a case: on its own reports topic, with its own genuine source...
    own_closure = Envelope(data=closure, source=provider_source(MELOGRANO), subject=case)
    # ... or as another provider.
    coop_x_closure = Envelope(data=closure, source="urn:dp:provider:coop-x", subject=case)
    # A provider confirms the eligibility of a case, on intake's own topic.
    forged_case = case_id("P-FORGED")
    forged_confirmation = dataclasses.replace(
        confirmed(forged_case), source="urn:dp:provider:coop-x"
    )
    # A hospital announces a visit in another hospital's name.
    other_hospital = dataclasses.replace(
        from_hospital(announced(discharge_ref="P-OTHER", assessment=assessment())),
        source="urn:dp:hospital:irccs-san-gerardo",
    )
    genuine = from_hospital(announced(discharge_ref="P-GOOD", assessment=assessment()))

    billing_rt = billing(
        kafka_settings,
        database_settings,
        billing_config(EXAMPLE),
        clock=Clock(epoch=NOW),
        service=LOOPBACK,
    )
    intake_rt = intake(kafka_settings, database_settings, intake_config(EXAMPLE), service=LOOPBACK)
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(billing_rt.running())
        await stack.enter_async_context(intake_rt.running())
        # The case as it really stands: confirmed, SAD activated, one line paid.
        await publish(kafka_settings, topics.intake_cases, confirmed(case))
        await publish(
            kafka_settings,
            topics.activation_services,
            activated(case, MELOGRANO, SAD, date(2026, 12, 1)),
        )
        await publish(kafka_settings, topics.provider_reports(MELOGRANO), reported(line))

        async def line_status() -> str | None:
            async with billing_rt.engine.connect() as conn:
                return await conn.scalar(select(deliveries.c.status))

        await eventually(line_status, lambda s: s == "billed", what="the line paid", timeout=30)

        reports = topics.provider_reports(MELOGRANO)
        await publish(kafka_settings, reports, own_closure, coop_x_closure)
        await publish(kafka_settings, topics.intake_cases, forged_confirmation)
        await publish(kafka_settings, topics.hospital_discharges, other_hospital, genuine)

        letters: dict[str, list[Any]] = {}
        for topic, count in [
            (reports, 2),
            (topics.intake_cases, 1),
            (topics.hospital_discharges, 1),
        ]:
            letters[topic] = await read_topic(
                kafka_settings, topics.dlq(topic), until=_at_least(count)
            )

        async def intake_knows() -> list[str]:
            async with intake_rt.engine.connect() as conn:
                return list((await conn.execute(select(intake_cases.c.case_id))).scalars())

        known = await eventually(
            intake_knows, lambda ids: genuine.subject in ids, what="the genuine announcement"
        )

        async def billing_knows() -> list[Any]:
            async with billing_rt.engine.connect() as conn:
                return list((await conn.execute(select(billing_cases))).all())

        # Intake's decision on the genuine case reaches billing a moment later.
        billed = await eventually(
            billing_knows,
            lambda rows: genuine.subject in {r.case_id for r in rows},
            what="the genuine decision in billing",
        )
        async with billing_rt.engine.connect() as conn:
            status = await conn.scalar(select(deliveries.c.status))

    refused = {
        (headers_of(r)["ce_id"], headers_of(r)["dlq_consumer"], headers_of(r)["dlq_reason_code"])
        for records in letters.values()
        for r in records
    }
    assert refused == {
        (own_closure.id, "billing", "source.not_allowed"),
        (coop_x_closure.id, "billing", "source.not_allowed"),
        (forged_confirmation.id, "billing", "source.not_allowed"),
        (other_hospital.id, "intake", "source.not_allowed"),
    }
    [own] = [r for r in letters[reports] if headers_of(r)["ce_id"] == own_closure.id]
    reason = headers_of(own)["dlq_reason"]
    assert "CaseClosed" in reason
    assert reports in reason
    # Nothing changed: the case is open, its line still paid; the forged cases do not exist.
    # (The genuine announcement went through intake, and its decision on to billing.)
    assert {c.case_id: (c.status, c.closed_at) for c in billed} == {
        case: ("confirmed", None),
        str(genuine.subject): ("confirmed", None),
    }
    assert status == "billed"
    assert known == [genuine.subject]


def _at_least(count: int) -> Callable[[list[Any]], bool]:
    return lambda records: len(records) >= count
