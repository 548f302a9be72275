"""Runs of eligibility decisions applied in bulk give exactly what they give one by one: the
same rows in billing's tables and the same events, in the same order, each caused by its
decision. The confirmations price waiting lines (a case with a repeated delivery, a case
decided twice, a case closed before billing knew it, a plan of version 2) and cross every
budget threshold on the way; one case's SAD hours are priced before a later confirmation in
the run links another case, with hours paid already, to the same person (so the SAD cap
depends on the order); one confirmation repeats an earlier one with nothing waiting. The
rejections that follow refuse a case's waiting lines (rejected twice) and record a case never
seen, which a last run confirms.

Each way runs in its own transaction on the real database, rolled back at the end, on the same
events and a clock that stands still (so "now" is the same in both).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, select

from cerniera.billing.config import BillingConfig, load_config
from cerniera.billing.handlers import make_handlers
from cerniera.billing.service import runtime
from cerniera.billing.tables import (
    allocations,
    authorisations,
    cases,
    deliveries,
    plans,
    thresholds_reached,
)
from cerniera.shared.causation import handling
from cerniera.shared.contract import EligibilityConfirmed, HoursDelivered
from cerniera.shared.envelope import Envelope
from cerniera.shared.messaging.consumer import Handlers, runs
from cerniera.shared.persistence.outbox import UnitOfWork
from cerniera.shared.refusals import NotFound
from cerniera.shared.runtime import ServiceRuntime
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.billing_events import (
    ASC_MAGENTINO,
    MAGENTINO,
    SAD,
    activated,
    case_id,
    closed,
    confirmed,
    delivery,
    rejected,
    reported,
)
from support.rolled_back import StillClock, rolled_back
from support.services import LOOPBACK

pytestmark = pytest.mark.integration

NOW = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)

# Tiny budgets, so the run's few lines cross every threshold of both sources (spent in this
# order: 200.00 then 100.00, at 22.00 an hour), and a SAD cap of 6 hours.
DISTRICT = """
[defaults.billing]
sad_cap_hours = 6
surcharge_percent = 10
thresholds_percent = [50, 80, 100]

[defaults.billing.tariffs]
sad = "22.00"
meals = "7.50"
teleassistance = "0.50"
emergency_alarm = "0.40"

[ambiti.magentino]
name = "Ambito del Magentino"

[[ambiti.magentino.funding]]
id = "pnrr-m5c2-1.1.3"
name = "PNRR M5C2 1.1.3"
amount = "200.00"

[[ambiti.magentino.funding]]
id = "fnps-2021-2022"
name = "FNPS 2021-2022"
amount = "100.00"

[[ambiti.magentino.providers]]
id = "asc-servizi-alla-persona"
name = "Azienda Speciale Consortile Servizi alla Persona"
services = ["sad"]
"""

WAITING, LINKED, TWICE, CLOSED, VERSION_2 = (
    case_id(ref) for ref in ("K-WAITING", "K-LINKED", "K-TWICE", "K-CLOSED", "K-V2")
)
SAME_PERSON, AGAIN, REFUSED, UNSEEN = (
    case_id(ref) for ref in ("K-PERSON", "K-AGAIN", "K-REFUSED", "K-UNSEEN")
)
CASES = {WAITING, LINKED, TWICE, CLOSED, VERSION_2, SAME_PERSON, AGAIN, REFUSED, UNSEEN}
PERSON = "person-shared"
PNRR, FNPS = "pnrr-m5c2-1.1.3", "fnps-2021-2022"


def sad(case: str, day: int, hours: int, ref: str) -> Envelope:
    return reported(
        delivery(case, ASC_MAGENTINO, SAD, date(2026, 12, day), hours, delivery_ref=ref)
    )


def of_version(event: Envelope, version: int) -> Envelope:
    data = event.data_as(EligibilityConfirmed).model_copy(update={"plan_version": version})
    return Envelope(
        data=data, source=event.source, subject=event.subject, correlation_id=event.chain_id
    )


def the_runs() -> tuple[list[Envelope], list[Envelope]]:
    """What comes before the runs (activations, deliveries, a closure, earlier decisions) and
    the runs: confirmations, rejections, a last confirmation."""
    before = [
        activated(case, ASC_MAGENTINO, SAD, date(2026, 12, 1))
        for case in (WAITING, LINKED, TWICE, CLOSED, VERSION_2, SAME_PERSON, AGAIN)
    ]
    # Known before, without its person (an older event): 4 of its SAD hours paid already.
    before += [confirmed(LINKED, MAGENTINO), sad(LINKED, 1, 4, "L-1")]
    before.append(confirmed(AGAIN, MAGENTINO))
    first = sad(WAITING, 1, 2, "W-1")
    before += [first, sad(WAITING, 2, 2, "W-2"), reported(first.data_as(HoursDelivered))]
    before += [sad(SAME_PERSON, 7, 3, "S-1"), sad(TWICE, 3, 2, "T-1")]
    before += [closed(CLOSED, datetime(2026, 12, 2, 15, tzinfo=UTC))]
    before += [sad(CLOSED, 1, 1, "C-1"), sad(CLOSED, 3, 1, "C-3")]  # the second after closure
    before += [sad(VERSION_2, 4, 2, "V-4"), sad(REFUSED, 1, 1, "R-1"), sad(REFUSED, 2, 1, "R-2")]
    run = [
        confirmed(WAITING, MAGENTINO, person_ref="person-waiting"),
        # Priced before LINKED's confirmation below links the person to it: LINKED's 4 hours
        # do not count toward the cap yet.
        confirmed(SAME_PERSON, MAGENTINO, person_ref=PERSON),
        confirmed(TWICE, MAGENTINO, person_ref="person-twice"),
        confirmed(CLOSED, MAGENTINO, person_ref="person-closed"),
        confirmed(LINKED, MAGENTINO, person_ref=PERSON),
        confirmed(TWICE, MAGENTINO, package=((SAD, 1),), person_ref="person-twice"),
        of_version(confirmed(VERSION_2, MAGENTINO, package=((SAD, 3),)), 2),
        confirmed(AGAIN, MAGENTINO, package=((SAD, 2),)),
        rejected(REFUSED),
        rejected(UNSEEN),
        rejected(REFUSED),
        confirmed(UNSEEN, MAGENTINO),
    ]
    return before, run


async def rows_of(uow: UnitOfWork) -> dict[str, list[dict[str, Any]]]:
    """Billing's rows for the cases, with what differs between two transactions left out: the
    database's own times, and delivery ids (a sequence is not rolled back) as positions."""
    position = {
        id_: n
        for n, id_ in enumerate(
            (await uow.conn.execute(select(deliveries.c.id).order_by(deliveries.c.id))).scalars()
        )
    }

    async def read(table: Table, *order: Any) -> list[dict[str, Any]]:
        found = await uow.conn.execute(select(table).order_by(*order))
        out = []
        for row in found:
            values = dict(row._mapping)
            for own_time in ("updated_at", "received_at"):
                values.pop(own_time, None)
            for key in ("id", "delivery_id"):
                if key in values:
                    values[key] = position[values[key]]
            out.append(values)
        return out

    found = {
        "cases": await read(cases, cases.c.case_id),
        "plans": await read(plans, plans.c.case_id, plans.c.plan_version),
        "deliveries": await read(deliveries, deliveries.c.id),
        "allocations": await read(
            allocations, allocations.c.delivery_id, allocations.c.funding_source
        ),
        "thresholds": await read(
            thresholds_reached,
            thresholds_reached.c.funding_source,
            thresholds_reached.c.threshold_percent,
        ),
        "authorisations": await read(authorisations, authorisations.c.request_id),
    }
    assert {row["case_id"] for row in found["cases"]} == CASES
    return found


async def outcome(
    rt: ServiceRuntime,
    config: BillingConfig,
    before: list[Envelope],
    run: list[Envelope],
    *,
    bulk: bool,
) -> tuple[list[Any], dict[str, list[dict[str, Any]]]]:
    """The events the runs emitted and billing's rows after them."""
    handlers = make_handlers(config, StillClock(NOW))

    async def apply(uow: UnitOfWork, events: Sequence[Envelope]) -> None:
        """As the consumer hands them over in bulk; one by one, each a run of its own."""
        for each in runs(events) if bulk else [[e] for e in events]:
            await handlers[type(each[0].data)](uow, each)

    async with rolled_back(rt) as uow:
        for event in before:
            with handling(event):
                await handlers[type(event.data)](uow, [event])
        already = len(uow.emitted)
        await apply(uow, run)
        emitted = [
            (e.type, e.data.model_dump(), e.subject, e.correlation_id, e.causation_id)
            for e in uow.emitted[already:]
        ]
        found = emitted, await rows_of(uow)
    return found


def billing(
    kafka: KafkaSettings, database: DatabaseSettings, config: BillingConfig
) -> ServiceRuntime:
    return runtime(kafka, database, config, clock=StillClock(NOW), service=LOOPBACK)


async def test_runs_in_bulk_give_the_rows_and_events_of_one_by_one(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    document = tmp_path / "ambiti.toml"
    document.write_text(DISTRICT, encoding="utf-8")
    config = load_config(document)
    before, run = the_runs()
    async with billing(kafka_settings, database_settings, config).running() as rt:
        one_by_one = await outcome(rt, config, before, run, bulk=False)
        in_bulk = await outcome(rt, config, before, run, bulk=True)

    events, rows = one_by_one
    # What the runs are about: every kind of case made something to compare.
    by_ref = {
        row["delivery_ref"]: row for row in rows["deliveries"] if row["status"] != "duplicate"
    }
    assert by_ref["W-1"]["status"] == by_ref["W-2"]["status"] == "billed"
    [repeated] = [row for row in rows["deliveries"] if row["status"] == "duplicate"]
    assert (repeated["delivery_ref"], repeated["ambito_id"]) == ("W-1", MAGENTINO)
    # Priced before LINKED joined its person: no hours of the cap used yet.
    assert (by_ref["S-1"]["priced_quantity"], by_ref["S-1"]["over_cap_quantity"]) == (3, 0)
    assert [r["code"] for r in by_ref["C-1"]["reasons"]] == ["budget.exhausted"]
    assert [r["code"] for r in by_ref["C-3"]["reasons"]] == ["case.closed"]
    assert by_ref["R-1"]["reasons"][0]["code"] == by_ref["R-2"]["reasons"][0]["code"]
    assert by_ref["R-1"]["status"] == "refused"
    status = {row["case_id"]: row["status"] for row in rows["cases"]}
    assert status[REFUSED] == "rejected"
    assert status[UNSEEN] == "confirmed"
    person = {row["case_id"]: row["person_ref"] for row in rows["cases"]}
    assert person[LINKED] == person[SAME_PERSON] == PERSON
    twice = [p for p in rows["plans"] if p["case_id"] == TWICE]
    assert [(p["plan_version"], p["weekly_quantities"]) for p in twice] == [(1, {"sad": "1"})]
    assert (VERSION_2, 2) in {(p["case_id"], p["plan_version"]) for p in rows["plans"]}
    # Every threshold of both sources, each caused by the confirmation whose line crossed it.
    crossed = [(data["funding_source"], data["threshold_percent"]) for _, data, *_ in events]
    assert crossed == [(PNRR, 50), (PNRR, 80), (PNRR, 100), (FNPS, 50), (FNPS, 80), (FNPS, 100)]
    waiting, same_person, twice_first, closed_ = (e.id for e in run[:4])
    causes = [cause for *_, cause in events]
    assert causes == [waiting, waiting, same_person, twice_first, twice_first, closed_]

    assert in_bulk[0] == events
    assert in_bulk[1] == rows


async def test_an_unknown_district_refuses_the_run_before_anything_is_kept(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    document = tmp_path / "ambiti.toml"
    document.write_text(DISTRICT, encoding="utf-8")
    config = load_config(document)
    handlers: Handlers = make_handlers(config, StillClock(NOW))
    run = [confirmed(WAITING, MAGENTINO), confirmed(TWICE, "nowhere")]
    async with (
        billing(kafka_settings, database_settings, config).running() as rt,
        rolled_back(rt) as uow,
    ):
        with pytest.raises(NotFound):
            await handlers[EligibilityConfirmed](uow, run)
        assert (await uow.conn.execute(select(cases))).all() == []
        assert (await uow.conn.execute(select(plans))).all() == []
