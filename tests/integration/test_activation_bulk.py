"""Runs of eligibility decisions applied in bulk give exactly what they give one by one: the
same rows and the same events, in the same order, each caused by its decision. The
confirmations mix a case announced before, a case decided twice, a case readmitted before its
decision, cases not announced yet (one decided twice) and a planned case whose package
changes; the rejections that follow stop a planned case (rejected twice, then confirmed anew),
one awaiting contact, and one activation never saw.

Each way runs in its own transaction on the real database, rolled back at the end, on the same
events and a clock that stands still (so "now" is the same in both).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any

from sqlalchemy import select

from cerniera.activation.cases import Activation
from cerniera.activation.config import load_config
from cerniera.activation.handlers import make_handlers
from cerniera.activation.tables import cases, requests
from cerniera.shared.causation import handling
from cerniera.shared.contract import (
    DischargeAnnounced,
    EligibilityConfirmed,
    EligibilityRejected,
    PatientReadmitted,
    ServiceType,
)
from cerniera.shared.envelope import Envelope
from cerniera.shared.messaging.consumer import Handler, per_event, runs
from cerniera.shared.persistence.outbox import UnitOfWork
from cerniera.shared.runtime import ServiceRuntime
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.activation_events import (
    confirmed,
    from_intake,
    readmission,
    readmitted,
    rejected,
)
from support.activation_running import EPOCH, activation, march
from support.discharges import announced, from_hospital
from support.districts import EXAMPLE
from support.rolled_back import StillClock, rolled_back

SAD, MEALS = ServiceType.SAD, ServiceType.MEALS


def case_of(ref: str) -> str:
    return announced(discharge_ref=ref).case_id


def the_run() -> tuple[list[Envelope], list[Envelope]]:
    """What comes before the run (announcements, a readmission, a first decision) and the run."""
    before = [
        from_hospital(announced(discharge_ref=ref, expected_discharge_at=march(5)))
        for ref in ("B-1", "B-2", "B-3", "B-6")
    ]
    before.append(readmission(readmitted("B-3", march(3))))
    before.append(from_intake(confirmed(case_of("B-6"), march(5))))
    sad_only = [(SAD, 9)]
    run = [
        from_intake(confirmed(case_of("B-1"), march(5))),
        from_intake(confirmed(case_of("B-2"), march(5))),
        from_intake(confirmed(case_of("B-3"), march(5))),  # readmitted: ignored
        from_intake(confirmed("asst-vimercate:B-4", march(6))),  # not announced: waits
        from_intake(confirmed(case_of("B-2"), march(5), services=sad_only)),  # again
        from_intake(confirmed("asst-vimercate:B-5", march(6))),
        from_intake(confirmed("asst-vimercate:B-5", march(9), services=sad_only)),
        from_intake(confirmed(case_of("B-6"), march(5), services=[(SAD, 3), (MEALS, 5)])),
        # A run of rejections: of a planned case (twice), of one awaiting contact, of none.
        from_intake(rejected(case_of("B-1"))),
        from_intake(rejected("asst-vimercate:B-4")),
        from_intake(rejected("asst-vimercate:B-9")),
        from_intake(rejected(case_of("B-1"))),
        from_intake(confirmed(case_of("B-1"), march(5), services=sad_only)),  # planned anew
    ]
    return before, run


async def outcome(
    rt: ServiceRuntime, before: list[Envelope], run: list[Envelope], bulk: bool
) -> tuple[list[Any], list[Any], list[Any]]:
    """The events the run emitted and the case and request rows after it."""
    activation_ = Activation(load_config(EXAMPLE), StillClock(EPOCH.astimezone(UTC)))
    handlers = make_handlers(activation_)

    async def one(uow: UnitOfWork, event: Envelope) -> None:
        if isinstance(event.data, EligibilityRejected):
            await activation_.rejected(uow, event.data.case_id)
        elif isinstance(event.data, DischargeAnnounced):
            await activation_.announced(uow, event.data, event.chain_id)
        else:
            await activation_.confirmed(uow, event.data_as(EligibilityConfirmed), event.chain_id)

    async def in_runs(uow: UnitOfWork, events: Sequence[Envelope]) -> None:
        for each in runs(events):  # as the consumer hands them over
            await handlers[type(each[0].data)](uow, each)

    on_run: Handler = in_runs if bulk else per_event(one)
    found: tuple[list[Any], list[Any], list[Any]] = ([], [], [])
    async with rolled_back(rt) as uow:
        for event in before:
            with handling(event):
                kind = type(event.data)
                if kind is EligibilityConfirmed:
                    await one(uow, event)
                else:
                    assert kind in (DischargeAnnounced, PatientReadmitted)
                    await handlers[kind](uow, [event])
        already = len(uow.emitted)
        await on_run(uow, run)
        emitted = [
            (e.type, e.data.model_dump(), e.subject, e.correlation_id, e.causation_id)
            for e in uow.emitted[already:]
        ]
        ids = {e.subject for e in [*before, *run]}
        case_rows = await uow.conn.execute(
            select(cases).where(cases.c.case_id.in_(ids)).order_by(cases.c.case_id)
        )
        request_rows = await uow.conn.execute(
            select(requests).where(requests.c.case_id.in_(ids)).order_by(requests.c.request_id)
        )
        found = (
            emitted,
            [{**r._mapping, "created_at": None, "updated_at": None} for r in case_rows],
            [{**r._mapping, "updated_at": None} for r in request_rows],
        )
    return found


async def test_a_run_in_bulk_gives_the_rows_and_events_of_one_by_one(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings
) -> None:
    before, run = the_run()
    async with activation(kafka_settings, database_settings).running() as rt:
        one_by_one = await outcome(rt, before, run, bulk=False)
        in_bulk = await outcome(rt, before, run, bulk=True)

    events, case_rows, request_rows = one_by_one
    # What the run is about: every kind of case made something to compare.
    status = {row["case_id"]: row["status"] for row in case_rows}
    assert status == {
        case_of("B-1"): "planned",
        case_of("B-2"): "planned",
        case_of("B-3"): "ended",
        "asst-vimercate:B-4": "awaiting_eligibility",
        "asst-vimercate:B-5": "awaiting_contact",
        case_of("B-6"): "planned",
    }
    kinds = {(subject, kind.rsplit(".", 1)[-1]) for kind, _, subject, _, _ in events}
    assert (case_of("B-2"), "ServiceDeactivated") in kinds  # its second package dropped meals
    assert (case_of("B-6"), "ServiceActivationRequested") in kinds
    assert (case_of("B-1"), "ServiceDeactivated") in kinds  # rejected once planned
    assert not any(subject == case_of("B-3") for _, _, subject, _, _ in events)
    causes = {e.id for e in run}
    assert all(cause in causes for *_, cause in events)

    assert in_bulk[0] == events
    assert in_bulk[1] == case_rows
    assert in_bulk[2] == request_rows


def announcements_after_decisions() -> tuple[list[Envelope], list[Envelope]]:
    """Decisions that came before their announcements, then a run of announcements: of cases
    waiting for their contact (one announced twice, moved), of a case announced before, of a
    new case (announced twice)."""
    before = [
        from_intake(confirmed(case_of("C-1"), march(5))),
        from_intake(confirmed(case_of("C-2"), march(6))),
        from_hospital(announced(discharge_ref="C-3", expected_discharge_at=march(5))),
    ]
    run = [
        from_hospital(announced(discharge_ref="C-1", expected_discharge_at=march(5))),
        from_hospital(announced(discharge_ref="C-2", expected_discharge_at=march(6))),
        from_hospital(announced(discharge_ref="C-3", expected_discharge_at=march(9))),
        from_hospital(announced(discharge_ref="C-4", expected_discharge_at=march(7))),
        from_hospital(announced(discharge_ref="C-2", expected_discharge_at=march(9))),  # moved
        from_hospital(announced(discharge_ref="C-4", expected_discharge_at=march(8))),
    ]
    return before, run


async def test_a_run_of_announcements_in_bulk_gives_what_one_by_one_gives(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings
) -> None:
    before, run = announcements_after_decisions()
    async with activation(kafka_settings, database_settings).running() as rt:
        one_by_one = await outcome(rt, before, run, bulk=False)
        in_bulk = await outcome(rt, before, run, bulk=True)

    events, case_rows, request_rows = one_by_one
    status = {row["case_id"]: row["status"] for row in case_rows}
    assert status[case_of("C-1")] == status[case_of("C-2")] == "planned"
    assert {subject for _, _, subject, _, _ in events} >= {case_of("C-1"), case_of("C-2")}
    assert request_rows  # the two planned cases asked their providers
    causes = {e.id for e in run}
    assert all(cause in causes for *_, cause in events)

    assert in_bulk[0] == events
    assert in_bulk[1] == case_rows
    assert in_bulk[2] == request_rows
