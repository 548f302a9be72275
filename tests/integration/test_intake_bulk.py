"""Intake's bulk path: a run of announcements decided with the database work per run (the
persons' plans read at once, plans, cases and network tasks written at once), and the inbox's
claim of a batch, on the real database.

The run must decide as if its cases were decided one after the other: a person's second case
in the same run counts the first one's plan against the SAD hours cap.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from cerniera.intake.cases import IntakeCases
from cerniera.intake.config import IntakeConfig, load_config
from cerniera.intake.service import runtime
from cerniera.intake.tables import cap_refusals, cases, inbox, network_tasks, plans
from cerniera.shared.contract import (
    DischargeAnnounced,
    EligibilityConfirmed,
    NetworkTaskOpened,
)
from cerniera.shared.envelope import Envelope
from cerniera.shared.persistence.inbox import Inbox
from cerniera.shared.runtime import ServiceRuntime
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.discharges import announced, assessment, from_hospital, person
from support.districts import EXAMPLE
from support.services import LOOPBACK

pytestmark = pytest.mark.integration

KEY = b"k" * 32
HIGH = assessment(brass_score=25)  # SAD 12 h/week: 51.4 h over 30 days; the cap is 80


@pytest.fixture
async def intake(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings
) -> AsyncIterator[tuple[ServiceRuntime, IntakeConfig]]:
    """Intake's schema migrated, its consumer not running: the test drives the use cases."""
    config = load_config(EXAMPLE)
    rt = runtime(kafka_settings, database_settings, config, service=LOOPBACK)
    await rt.prepare()
    try:
        yield rt, config
    finally:
        await rt.engine.dispose()


def visit(ref: str, fiscal_code: str, **fields: Any) -> Envelope:
    return from_hospital(announced(discharge_ref=ref, fiscal_code=fiscal_code, **fields))


async def run(rt: ServiceRuntime, config: IntakeConfig, events: list[Envelope]) -> list[Envelope]:
    """``events`` announced as one run in one transaction: what it emitted, in order."""
    async with rt.db.unit_of_work() as uow:
        await IntakeCases(config, rt.clock, KEY).announce(uow, events)
    return uow.emitted


async def rows(rt: ServiceRuntime, query: Any) -> list[Any]:
    async with rt.engine.connect() as conn:
        return list((await conn.execute(query)).all())


async def test_a_run_decides_as_one_case_after_the_other(
    intake: tuple[ServiceRuntime, IntakeConfig],
) -> None:
    rt, config = intake
    same = person(1)
    first = visit("K-1", same, assessment=HIGH)
    second = visit("K-2", same, assessment=HIGH)  # with the first: 102.8 h, over the cap
    again = visit("K-1", same, assessment=HIGH)  # the first once more, another event id
    other = visit("N-1", person(2), assessment=assessment(brass_score=15))

    emitted = await run(rt, config, [first, second, again, other])

    # Same events, same order, each caused by its own announcement.
    assert [(type(e.data), e.subject, e.causation_id) for e in emitted] == [
        (EligibilityConfirmed, "asst-vimercate:K-1", first.id),
        (NetworkTaskOpened, "asst-vimercate:K-1", first.id),
        (EligibilityConfirmed, "asst-vimercate:N-1", other.id),
        (NetworkTaskOpened, "asst-vimercate:N-1", other.id),
    ]
    confirmed = [e for e in emitted if isinstance(e.data, EligibilityConfirmed)]
    assert [e.data.plan_version for e in confirmed if isinstance(e.data, EligibilityConfirmed)] == [
        1,
        1,
    ]
    stored = {
        r.case_id: (r.status, r.plan_version, r.confirmed_by)
        for r in await rows(
            rt, select(cases.c.case_id, cases.c.status, cases.c.plan_version, cases.c.confirmed_by)
        )
    }
    assert stored == {
        "asst-vimercate:K-1": ("eligible", 1, "rule"),
        "asst-vimercate:K-2": ("awaiting_confirmation", 0, None),  # held by the cap
        "asst-vimercate:N-1": ("eligible", 1, "rule"),
    }
    [refusal] = await rows(rt, select(cap_refusals))
    assert (refusal.case_id, refusal.seq, refusal.refused_by) == ("asst-vimercate:K-2", 1, "rule")
    assert (refusal.plan_hours, refusal.other_hours) == (Decimal("51.4"), Decimal("51.4"))
    stored_plans = await rows(rt, select(plans).order_by(plans.c.case_id))
    assert [
        (p.case_id, p.version, p.reason_code, p.revised_by, p.event_id) for p in stored_plans
    ] == [
        ("asst-vimercate:K-1", 1, "plan.package", "rule", confirmed[0].id),
        ("asst-vimercate:N-1", 1, "plan.package", "rule", confirmed[1].id),
    ]
    tasks = {t.case_id: t.task_id for t in await rows(rt, select(network_tasks))}
    opened = {e.subject: e.data.task_id for e in emitted if isinstance(e.data, NetworkTaskOpened)}
    assert tasks == opened

    # A later run sees the stored plan: the same person's third case is held too.
    third = visit("K-3", same, assessment=HIGH)
    assert await run(rt, config, [third]) == []
    held = await rows(rt, select(cap_refusals.c.case_id, cap_refusals.c.other_hours))
    assert sorted(held) == [
        ("asst-vimercate:K-2", Decimal("51.4")),
        ("asst-vimercate:K-3", Decimal("51.4")),
    ]


async def test_a_run_within_the_cap_publishes_both_cases_of_a_person(
    intake: tuple[ServiceRuntime, IntakeConfig],
) -> None:
    rt, config = intake
    same = person(3)
    low = assessment(brass_score=5)
    emitted = await run(
        rt, config, [visit("L-1", same, assessment=low), visit("L-2", same, assessment=low)]
    )
    published = [e.subject for e in emitted if isinstance(e.data, EligibilityConfirmed)]
    assert published == ["asst-vimercate:L-1", "asst-vimercate:L-2"]
    assert await rows(rt, select(cap_refusals)) == []


async def test_the_inbox_claims_each_key_once_and_tells_conflicts(
    intake: tuple[ServiceRuntime, IntakeConfig],
) -> None:
    rt, _ = intake
    box = Inbox(inbox, "intake")
    a = visit("I-1", person(4))
    b = visit("I-2", person(5))
    a_twice = from_hospital(a.data_as(DischargeAnnounced), event_id=a.id)
    async with rt.engine.begin() as conn:
        # The same event twice in one batch is claimed once.
        assert await box.claim(conn, [a, b, a_twice]) == {a.dedup_key, b.dedup_key}
        assert await box.claim(conn, []) == set()
    c = visit("I-3", person(6))
    other_payload = from_hospital(
        announced(discharge_ref="I-9", fiscal_code=person(7)), event_id=a.id
    )
    async with rt.engine.begin() as conn:
        # Claimed before: not new again; only the new one is.
        assert await box.claim(conn, [a, c]) == {c.dedup_key}
        assert await box.conflicting(conn, [a, b]) == set()
        assert await box.conflicting(conn, [other_payload]) == {a.dedup_key}
        # Another consumer's inbox is its own.
        assert await Inbox(inbox, "someone-else").claim(conn, [a]) == {a.dedup_key}
    stored = await rows(
        rt, select(inbox.c.consumer, inbox.c.event_id, inbox.c.event_type, inbox.c.digest)
    )
    assert (
        "intake",
        a.id,
        a.type,
        a.digest,
    ) in stored
    assert len(stored) == 4
