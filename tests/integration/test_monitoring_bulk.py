"""Runs of eligibility decisions applied in bulk give exactly what they give one by one: the
same rows and the same events, in the same order, each caused by its decision. The
confirmations mix a case with nothing kept, cases the hospital moved, cancelled or readmitted
before the decision (one of them decided twice), a case decided twice and one already followed;
the rejections that follow reverse a followed case (rejected twice) and one opened in the run,
find a cancelled and a readmitted case already ended, and name cases never seen, one of them
confirmed anew after. A run naming a district not configured is refused before anything is
kept.

Each way runs in its own transaction on the real database, rolled back at the end, on the same
events and a clock that stands still (so "now" is the same in both).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import DateTime, Table, select

from cerniera.monitoring import cases
from cerniera.monitoring.config import load_config
from cerniera.monitoring.handlers import make_handlers
from cerniera.monitoring.service import runtime
from cerniera.monitoring.tables import inbox, metadata, outbox, pending_discharge_dates
from cerniera.shared.contract import CaseClosed, EligibilityConfirmed, EligibilityRejected
from cerniera.shared.envelope import Envelope
from cerniera.shared.messaging.consumer import Handler, per_event, runs
from cerniera.shared.persistence.outbox import UnitOfWork
from cerniera.shared.refusals import NotFound
from cerniera.shared.runtime import ServiceRuntime
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.discharges import cancelled, rescheduled
from support.districts import EXAMPLE
from support.monitoring_events import (
    case_id,
    confirmed,
    from_intake,
    hospital_event,
    readmitted,
    rejected,
)
from support.rolled_back import StillClock, rolled_back
from support.services import LOOPBACK

pytestmark = pytest.mark.integration

NOW = datetime(2024, 10, 1, 9, 0, tzinfo=UTC)  # before the discharge (3 October)
CONFIG = load_config(EXAMPLE)


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2024, 10, day, hour, tzinfo=UTC)


def the_run() -> tuple[list[Envelope], list[Envelope]]:
    """What comes before the run (the hospital's word on cases not followed yet, two cases
    followed, one of them ended by a readmission) and the run."""
    before = [
        hospital_event(rescheduled("M-moved", at(5))),
        hospital_event(cancelled("M-cancelled")),
        hospital_event(readmitted("M-readmitted", at(2))),
        hospital_event(readmitted("M-readmitted-2", at(2, 15))),
        from_intake(confirmed("M-followed")),
        from_intake(confirmed("M-ended")),
        hospital_event(readmitted("M-ended", at(4))),
    ]
    run = [
        from_intake(confirmed("M-plain")),
        from_intake(confirmed("M-moved")),
        from_intake(confirmed("M-cancelled")),
        from_intake(confirmed("M-readmitted")),  # ends as it opens
        from_intake(confirmed("M-plain", ambito_id="magentino")),  # again: opens nothing
        from_intake(confirmed("M-followed")),  # followed already
        from_intake(confirmed("M-readmitted-2")),
        from_intake(confirmed("M-readmitted")),  # again, once ended
        # A run of rejections: of a followed case (twice), of one opened in the run, of
        # cases already ended, of cases never seen.
        from_intake(rejected("M-followed")),
        from_intake(rejected("M-never")),
        from_intake(rejected("M-plain")),
        from_intake(rejected("M-followed")),
        from_intake(rejected("M-cancelled")),
        from_intake(rejected("M-ended")),
        from_intake(rejected("M-anew")),
        from_intake(confirmed("M-anew")),  # confirmed after its rejection: followed
        from_intake(confirmed("M-plain")),  # reversed in the run: stays so
    ]
    return before, run


def handled_both_ways() -> tuple[Handler, Handler, dict[type[Any], Handler]]:
    """The one-by-one way, the bulk way (as the consumer hands runs over) and every handler."""
    clock = StillClock(NOW)
    handlers = make_handlers(CONFIG, clock)

    async def one(uow: UnitOfWork, event: Envelope) -> None:
        if isinstance(event.data, EligibilityRejected):
            data = event.data
            await cases.reverse(uow, data.case_id, data.decided_by, clock.now())
        else:
            decision = event.data_as(EligibilityConfirmed)
            await cases.open_follow_up(uow, CONFIG, decision, event.chain_id, clock.now())

    async def in_runs(uow: UnitOfWork, events: Sequence[Envelope]) -> None:
        for each in runs(events):
            await handlers[type(each[0].data)](uow, each)

    return per_event(one), in_runs, dict(handlers)


async def apply_before(
    uow: UnitOfWork, before: list[Envelope], one_by_one: Handler, handlers: dict[type[Any], Handler]
) -> None:
    """The same way for both: decisions one by one, the hospital's events by their handler."""
    for event in before:
        kind = type(event.data)
        if kind is EligibilityConfirmed:
            await one_by_one(uow, [event])
        else:
            await handlers[kind](uow, [event])


def _kept(table: Table) -> list[str]:
    """The columns compared: not the database's own "now" (another transaction's)."""
    return [
        c.key
        for c in table.c
        if not (isinstance(c.type, DateTime) and c.server_default is not None)
    ]


async def rows(uow: UnitOfWork) -> dict[str, list[dict[str, Any]]]:
    """Every row of monitoring's tables but the inbox and the outbox (the events are compared
    as emitted), in key order."""
    found: dict[str, list[dict[str, Any]]] = {}
    for table in metadata.sorted_tables:
        if table is inbox or table is outbox:
            continue
        columns = [table.c[k] for k in _kept(table)]
        query = select(*columns).order_by(*(list(table.primary_key.columns) or columns))
        found[table.name] = [dict(r._mapping) for r in await uow.conn.execute(query)]
    return found


async def outcome(
    rt: ServiceRuntime, before: list[Envelope], run: list[Envelope], bulk: bool
) -> tuple[list[Any], dict[str, list[dict[str, Any]]]]:
    """The events the run emitted and monitoring's rows after it."""
    one_by_one, in_runs, handlers = handled_both_ways()
    found: tuple[list[Any], dict[str, list[dict[str, Any]]]] = ([], {})
    async with rolled_back(rt) as uow:
        await apply_before(uow, before, one_by_one, handlers)
        already = len(uow.emitted)
        await (in_runs if bulk else one_by_one)(uow, run)
        emitted = [
            (e.type, e.data.model_dump(), e.subject, e.correlation_id, e.causation_id)
            for e in uow.emitted[already:]
        ]
        found = (emitted, await rows(uow))
    return found


async def test_a_run_in_bulk_gives_the_rows_and_events_of_one_by_one(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings
) -> None:
    before, run = the_run()
    assert len(runs(run)) == 3  # confirmations, rejections, confirmations
    service = runtime(
        kafka_settings, database_settings, CONFIG, clock=StillClock(NOW), service=LOOPBACK
    )
    async with service.running() as rt:
        events, found = await outcome(rt, before, run, bulk=False)
        in_bulk = await outcome(rt, before, run, bulk=True)

    # What the run is about: every kind of case made something to compare.
    followed = {
        r["case_id"]: (r["status"], r["outcome"], r["decision_reversed"], r["discharge_at"])
        for r in found["followups"]
    }
    plain = confirmed("M-plain").expected_discharge_at
    assert followed == {
        case_id("M-plain"): ("closed", "withdrawn", True, plain),
        case_id("M-moved"): ("open", None, False, at(5)),
        case_id("M-cancelled"): ("cancelled", None, False, plain),
        case_id("M-readmitted"): ("closed", "readmitted", False, plain),
        case_id("M-readmitted-2"): ("closed", "readmitted", False, plain),
        case_id("M-followed"): ("closed", "withdrawn", True, plain),
        case_id("M-ended"): ("closed", "readmitted", False, plain),
        case_id("M-anew"): ("open", None, False, plain),
    }
    ambiti = {r["ambito_id"] for r in found["followups"]}
    assert ambiti == {"desio"}  # M-plain's first decision counted, not its second
    assert found["pending_discharge_dates"] == []  # every one taken by its decision
    closures = [(subject, data["outcome"]) for kind, data, subject, _, _ in events]
    assert closures == [
        (case_id("M-readmitted"), "readmitted"),
        (case_id("M-readmitted-2"), "readmitted"),
        (case_id("M-followed"), "withdrawn"),
        (case_id("M-plain"), "withdrawn"),
    ]
    assert {kind for kind, *_ in events} == {CaseClosed.event_type}
    causes = {e.id for e in run}
    assert all(cause in causes for *_, cause in events)

    assert in_bulk[0] == events
    assert in_bulk[1] == found


async def test_a_run_naming_an_unknown_district_is_refused_before_anything_is_kept(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings
) -> None:
    before = [
        hospital_event(readmitted("M-readmitted", at(2))),
        hospital_event(rescheduled("M-moved", at(5))),
    ]
    run = [
        from_intake(confirmed("M-readmitted")),
        from_intake(confirmed("M-moved")),
        from_intake(confirmed("M-elsewhere", ambito_id="atlantide")),
    ]
    service = runtime(
        kafka_settings, database_settings, CONFIG, clock=StillClock(NOW), service=LOOPBACK
    )
    async with service.running() as rt:
        for bulk in (False, True):
            one_by_one, in_runs, handlers = handled_both_ways()
            async with rolled_back(rt) as uow:
                await apply_before(uow, before, one_by_one, handlers)
                with pytest.raises(NotFound) as refused:
                    await (in_runs if bulk else one_by_one)(uow, run)
                assert refused.value.code == "ambito.unknown"
                if bulk:  # one by one, the consumer replays the batch event by event
                    assert uow.emitted == []
                    kept = await uow.conn.execute(select(pending_discharge_dates.c.case_id))
                    assert sorted(kept.scalars()) == [case_id("M-moved"), case_id("M-readmitted")]
                    assert (await rows(uow))["followups"] == []
