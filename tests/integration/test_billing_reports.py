"""Billing's issue-10 rules and reports end to end: real broker, real PostgreSQL, real HTTP.

- the SAD cap counts the person (``person_ref``) across cases and hospitals;
- a PlanRevised changes the authorised weekly quantities from its day, and telesoccorso
  (``emergency_alarm``) is priced at its own tariff;
- what a plan would cost each funding source, before the team confirms it;
- spending per quarter and funding source, beneficiaries against the target, and the funder's
  export (JSON and CSV), from what billing priced and the closures monitoring published.

The clock stands in mid-January 2027, as in ``test_billing.py``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import Row, select

from cerniera.billing.config import BeneficiaryTarget, BillingConfig, FundingSource, load_config
from cerniera.billing.service import runtime
from cerniera.billing.tables import authorisations, cases, deliveries
from cerniera.shared.clock import Clock
from cerniera.shared.contract import HoursDelivered, ServiceActivated, Topics
from cerniera.shared.envelope import Envelope
from cerniera.shared.runtime import ServiceRuntime, ServiceSettings
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.billing_events import (
    ALARM,
    ASC_MAGENTINO,
    MAGENTINO,
    MEALS,
    MELOGRANO,
    RISTORAZIONE,
    SAD,
    TELE,
    TELESOCCORSO,
    activated,
    closed,
    confirmed,
    delivery,
    reported,
    revised,
)
from support.districts import EXAMPLE
from support.identity import Identity
from support.kafka import publish
from support.services import serving
from support.waiting import eventually

pytestmark = pytest.mark.integration

NOW = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)
DECEMBER = date(2026, 12, 1)
PNRR, FNPS = "pnrr-m5c2-1.1.3", "fnps-2021-2022"


# --- helpers -------------------------------------------------------------------------------------


def districts(*, small_magentino: bool = False) -> BillingConfig:
    """The example districts; Desio with its beneficiary target (125 over three years from
    October 2026); Magentino with tiny budgets when asked."""
    config = load_config(EXAMPLE)
    desio = config.ambiti["desio"].model_copy(
        update={
            "beneficiary_target": BeneficiaryTarget(count=125, years=3, since=date(2026, 10, 1))
        }
    )
    magentino = config.ambiti["magentino"]
    if small_magentino:
        magentino = magentino.model_copy(
            update={
                "funding": (
                    FundingSource(id=PNRR, name="PNRR M5C2 1.1.3", amount=Decimal("100.00")),
                    FundingSource(id=FNPS, name="FNPS 2021-2022", amount=Decimal("50.00")),
                )
            }
        )
    return config.model_copy(update={"ambiti": {"desio": desio, "magentino": magentino}})


def billing(
    kafka: KafkaSettings, database: DatabaseSettings, config: BillingConfig
) -> contextlib.AbstractAsyncContextManager[tuple[ServiceRuntime, httpx.AsyncClient]]:
    return serving(
        runtime(
            kafka, database, config, clock=Clock(epoch=NOW), service=ServiceSettings(http_port=0)
        )
    )


async def authorise(
    kafka: KafkaSettings, topics: Topics, rt: ServiceRuntime, *events: Envelope
) -> None:
    """Publish activations and wait until billing has them all."""
    await publish(kafka, topics.activation_services, *events)
    wanted = {e.data_as(ServiceActivated).request_id for e in events}

    async def probe() -> set[str]:
        async with rt.engine.connect() as conn:
            return set((await conn.execute(select(authorisations.c.request_id))).scalars())

    await eventually(probe, lambda seen: wanted <= seen, what="activations stored", timeout=30)


async def report(kafka: KafkaSettings, topics: Topics, *lines: HoursDelivered) -> None:
    """Publish deliveries on their providers' own topics, in order per provider."""
    for provider, run in itertools.groupby(lines, key=lambda d: d.provider_id):
        await publish(kafka, topics.provider_reports(provider), *(reported(d) for d in run))


async def wait_rows(
    rt: ServiceRuntime, done: Callable[[list[Row[Any]]], bool], what: str
) -> list[Row[Any]]:
    async def probe() -> list[Row[Any]]:
        async with rt.engine.connect() as conn:
            query = select(deliveries).order_by(deliveries.c.id)
            return list((await conn.execute(query)).all())

    return await eventually(probe, done, what=what, timeout=30)


def settled(count: int) -> Callable[[list[Row[Any]]], bool]:
    return lambda rows: len(rows) == count and all(r.status != "pending" for r in rows)


def statuses(rows: list[Row[Any]]) -> dict[str, str]:
    return {r.delivery_ref: r.status for r in rows}


def first_reason(rows: list[Row[Any]], ref: str) -> dict[str, str] | None:
    reasons = next(r.reasons for r in rows if r.delivery_ref == ref)
    return dict(reasons[0]) if reasons else None


def refusal(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["detail"]["code"]


# --- 1. the SAD cap counts the person ------------------------------------------------------------


async def test_the_sad_cap_counts_the_person_across_visits_and_hospitals(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    person = "p-3f9a1c0e5b7d2a48"
    first, second = "asst-vimercate:CAP-1", "irccs-san-gerardo:CAP-2"  # two hospitals
    older = "asst-vimercate:CAP-OLD"  # confirmed by an event without person_ref
    package = ((SAD, 40),)

    async with billing(kafka_settings, database_settings, districts()) as (rt, client):
        await publish(
            kafka_settings,
            topics.intake_cases,
            confirmed(first, package=package, person_ref=person),
            confirmed(second, package=package, person_ref=person),
            confirmed(older, package=package),
        )
        await authorise(
            kafka_settings,
            topics,
            rt,
            *(activated(c, MELOGRANO, SAD, DECEMBER) for c in (first, second, older)),
        )
        # The first stay: 60 hours over two weeks.
        await report(
            kafka_settings,
            topics,
            delivery(first, MELOGRANO, SAD, date(2026, 12, 7), 30, delivery_ref="A-1"),
            delivery(first, MELOGRANO, SAD, date(2026, 12, 14), 30, delivery_ref="A-2"),
        )
        await wait_rows(rt, settled(2), "the first stay's hours")
        # Discharged again from another hospital: 30 more hours, only 20 left under the cap.
        # The older case is someone billing cannot tell apart: its own 50 hours, its own cap.
        await report(
            kafka_settings,
            topics,
            delivery(second, MELOGRANO, SAD, date(2026, 12, 21), 30, delivery_ref="B-1"),
            delivery(older, MELOGRANO, SAD, date(2026, 12, 21), 25, delivery_ref="O-1"),
            delivery(older, MELOGRANO, SAD, date(2026, 12, 28), 25, delivery_ref="O-2"),
        )
        rows = await wait_rows(rt, settled(5), "every line priced")
        budget = (await client.get("/budget", params={"ambito_id": "desio"})).json()
        async with rt.engine.connect() as conn:
            people = dict((await conn.execute(select(cases.c.case_id, cases.c.person_ref))).all())

    assert people == {first: person, second: person, older: None}
    by_ref = {r.delivery_ref: r for r in rows}
    assert [str(by_ref[ref].cap_hours) for ref in ("A-1", "A-2", "B-1", "O-1", "O-2")] == [
        "30.00",
        "30.00",
        "20.00",
        "25.00",
        "25.00",
    ]
    split = by_ref["B-1"]
    assert (split.status, str(split.over_cap_quantity), str(split.billed_amount)) == (
        "billed",
        "10.00",
        "430.00",  # 20 h at Melograno's 21.50
    )
    assert first_reason(rows, "B-1") == {
        "code": "sad.cap_exceeded",
        "text": "Tetto SAD di 80 ore per persona: già riconosciute 60 ore, 10 delle 30 ore di "
        "questa riga non pagate.",
    }
    assert statuses(rows) == dict.fromkeys(("A-1", "A-2", "B-1", "O-1", "O-2"), "billed")
    # Beneficiaries are persons: the person's two cases count once.
    [desio] = budget
    assert desio["beneficiaries"] == 2


# --- 2. a revised plan, and telesoccorso ---------------------------------------------------------


async def test_a_revised_plan_authorises_its_quantities_from_its_day(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    case = "asst-vimercate:PLAN-1"
    # Confirmed with SAD 6 h and teleassistance; revised on Wednesday 9 December to SAD 9 h
    # and telesoccorso instead of teleassistance.
    revision = revised(case, ((SAD, 9), (ALARM, 7)), datetime(2026, 12, 9, 10, tzinfo=UTC))

    async with billing(kafka_settings, database_settings, districts()) as (rt, client):
        await publish(
            kafka_settings, topics.intake_cases, confirmed(case, package=((SAD, 6), (TELE, 7)))
        )
        await authorise(
            kafka_settings,
            topics,
            rt,
            activated(case, MELOGRANO, SAD, DECEMBER),
            activated(case, TELESOCCORSO, TELE, DECEMBER),
            activated(case, TELESOCCORSO, ALARM, date(2026, 12, 10)),
        )
        # Reported before the revision reached billing: priced on the old plan.
        await report(
            kafka_settings,
            topics,
            delivery(case, MELOGRANO, SAD, date(2026, 12, 7), 4, delivery_ref="S-1"),
            delivery(case, MELOGRANO, SAD, date(2026, 12, 10), 4, delivery_ref="S-2"),
            delivery(case, TELESOCCORSO, TELE, date(2026, 12, 8), 1, delivery_ref="T-1"),
            delivery(case, TELESOCCORSO, TELE, date(2026, 12, 11), 1, delivery_ref="T-2"),
        )
        before = statuses(await wait_rows(rt, settled(4), "the old plan's pricing"))
        await publish(kafka_settings, topics.intake_cases, revision)
        after = await wait_rows(
            rt, lambda rs: statuses(rs).get("S-2") == "billed", "S-2 priced again"
        )
        await report(
            kafka_settings,
            topics,
            delivery(case, TELESOCCORSO, ALARM, date(2026, 12, 10), 1, delivery_ref="A-1"),
            delivery(case, MELOGRANO, SAD, date(2026, 12, 14), 9, delivery_ref="S-3"),
            delivery(case, MELOGRANO, SAD, date(2026, 12, 21), 10, delivery_ref="S-4"),
        )
        rows = await wait_rows(rt, settled(7), "the new plan's lines")
        alarm = await client.get(
            f"/statements/{TELESOCCORSO}/2026-12", params={"ambito_id": "desio"}
        )

    assert before == {"S-1": "billed", "S-2": "refused", "T-1": "billed", "T-2": "billed"}
    # From 9 December: 9 h a week (4 + 4 fit), and teleassistance is no longer in the plan.
    assert statuses(after) == {"S-1": "billed", "S-2": "billed", "T-1": "billed", "T-2": "refused"}
    assert first_reason(after, "T-2") == {
        "code": "delivery.not_authorised",
        "text": "Il servizio teleassistance non è nel piano del caso in vigore il 11/12/2026.",
    }
    assert statuses(rows) == {
        "S-1": "billed",
        "S-2": "billed",
        "T-1": "billed",
        "T-2": "refused",
        "A-1": "billed",
        "S-3": "billed",
        "S-4": "refused",
    }
    over = first_reason(rows, "S-4")
    assert over is not None
    assert over["code"] == "delivery.over_quantity"
    assert "autorizzate 9 ore" in over["text"]
    # Telesoccorso at its own tariff (0.40 a day); T-2's budget share given back.
    body = alarm.json()
    lines = {
        ln["delivery_ref"]: (ln["service_type"], ln["amount"], ln["status"]) for ln in body["lines"]
    }
    assert lines == {
        "T-1": ("teleassistance", "0.50", "billed"),
        "T-2": ("teleassistance", "0.50", "refused"),
        "A-1": ("emergency_alarm", "0.40", "billed"),
    }
    assert body["total"] == "0.90"


# --- 3. what a plan would cost, before the team confirms it --------------------------------------


async def test_the_team_sees_a_plan_go_past_the_remaining_budget_before_confirming(
    kafka_settings: KafkaSettings,
    topics: Topics,
    database_settings: DatabaseSettings,
    identity: Identity,
) -> None:
    case = "asst-ovest-milanese:FC-1"
    team = identity.headers("equipe", ambito_id=MAGENTINO)
    plan = {"ambito_id": MAGENTINO, "services": [{"service_type": "sad", "weekly_quantity": 2}]}

    config = districts(small_magentino=True)
    async with billing(kafka_settings, database_settings, config) as (rt, client):
        before = await client.post("/budget/forecast", json={**plan, "weeks": 1}, headers=team)
        await publish(kafka_settings, topics.intake_cases, confirmed(case, MAGENTINO))
        await authorise(kafka_settings, topics, rt, activated(case, ASC_MAGENTINO, SAD, DECEMBER))
        await report(
            kafka_settings,
            topics,
            delivery(case, ASC_MAGENTINO, SAD, date(2026, 12, 9), 3, delivery_ref="F-1"),
        )
        await wait_rows(rt, settled(1), "66.00 spent")
        after = await client.post("/budget/forecast", json={**plan, "weeks": 2}, headers=team)
        both = await client.post("/budget/forecast", json={**plan, "weeks": 2, "days": 14})
        spent = await wait_rows(rt, settled(1), "nothing stored by a forecast")

    assert before.status_code == 200, before.text
    assert (before.json()["total"], before.json()["fits"]) == ("44.00", True)
    # 66.00 of PNRR's 100.00 spent: 4 h × 22.00 = 88.00 go past it and past FNPS's 50.00.
    body = after.json()
    assert (body["days"], body["total"], body["unfunded"], body["fits"]) == (
        14,
        "88.00",
        "4.00",
        False,
    )
    assert [
        (
            s["funding_source"],
            s["remaining"],
            s["estimated_cost"],
            s["remaining_after"],
            s["exceeds"],
        )
        for s in body["funding"]
    ] == [(PNRR, "34.00", "34.00", "0.00", True), (FNPS, "50.00", "50.00", "0.00", True)]
    assert body["funding"][0]["message"] == (
        "PNRR M5C2 1.1.3: residuo 34,00 €; il piano (stima 88,00 € a carico di questa fonte) "
        "la supererebbe di 54,00 €, che ricadrebbero sulla fonte successiva."
    )
    assert body["message"] == (
        "Costo stimato del piano per 14 giorni: 88,00 €. Attenzione: supera il budget residuo "
        "di Ambito del Magentino di 4,00 €; prima di confermarlo serve una decisione "
        "dell'ambito."
    )
    assert refusal(both) == (422, "request.invalid")
    assert len(spent) == 1


# --- 4. the district's reports and the funder's export -------------------------------------------


async def test_spending_per_quarter_beneficiaries_and_the_funder_export(
    kafka_settings: KafkaSettings,
    topics: Topics,
    database_settings: DatabaseSettings,
    identity: Identity,
) -> None:
    anna, bruno = "asst-vimercate:REP-1", "irccs-san-gerardo:REP-2"
    older, carla = "asst-vimercate:REP-3", "asst-ovest-milanese:REP-4"
    desio_admin = identity.headers("district_admin", ambito_id="desio")
    magentino_admin = identity.headers("district_admin", ambito_id=MAGENTINO)
    auditor = identity.headers("auditor")

    async with billing(kafka_settings, database_settings, districts()) as (rt, client):
        await publish(
            kafka_settings,
            topics.intake_cases,
            confirmed(anna, person_ref="p-anna"),
            confirmed(bruno, person_ref="p-bruno"),
            confirmed(older),
            confirmed(carla, MAGENTINO, person_ref="p-carla"),
        )
        await authorise(
            kafka_settings,
            topics,
            rt,
            activated(anna, MELOGRANO, SAD, DECEMBER),
            activated(anna, RISTORAZIONE, MEALS, DECEMBER),
            activated(bruno, TELESOCCORSO, TELE, date(2026, 11, 20)),
            activated(older, MELOGRANO, SAD, DECEMBER),
            activated(carla, ASC_MAGENTINO, SAD, DECEMBER),
        )
        await report(
            kafka_settings,
            topics,
            delivery(anna, MELOGRANO, SAD, date(2026, 12, 9), 2, delivery_ref="R-1"),  # 43.00
            delivery(anna, MELOGRANO, SAD, date(2027, 1, 11), 2, delivery_ref="R-2"),  # 43.00
            delivery(older, MELOGRANO, SAD, date(2026, 12, 10), 1, delivery_ref="R-3"),  # 21.50
            delivery(anna, RISTORAZIONE, MEALS, date(2026, 12, 9), 5, delivery_ref="R-4"),  # 37.50
            delivery(bruno, TELESOCCORSO, TELE, date(2026, 11, 25), 7, delivery_ref="R-5"),  # 3.50
            delivery(carla, ASC_MAGENTINO, SAD, date(2026, 12, 9), 1, delivery_ref="R-6"),  # 22.00
        )
        await wait_rows(rt, settled(6), "every line priced")
        await publish(
            kafka_settings,
            topics.monitoring_cases,
            closed(anna, datetime(2027, 1, 14, 12, tzinfo=UTC)),
        )

        async def closure() -> Any:
            async with rt.engine.connect() as conn:
                return await conn.scalar(select(cases.c.closed_at).where(cases.c.case_id == anna))

        await eventually(closure, lambda at: at is not None, what="the closure")

        spending = await client.get("/reports/spending", params={"ambito_id": "desio"})
        from_january = await client.get(
            "/reports/spending", params={"ambito_id": "desio", "from": "2027-01-01"}
        )
        backwards = await client.get(
            "/reports/spending", params={"from": "2027-01-01", "to": "2026-12-31"}
        )
        progress = await client.get("/reports/beneficiaries", params={"ambito_id": "desio"})
        export = await client.get(
            "/reports/funder-export.json", params={"ambito_id": "desio"}, headers=desio_admin
        )
        export_csv = await client.get("/reports/funder-export.csv", headers=desio_admin)
        magentino_own = await client.get("/reports/funder-export.json", headers=magentino_admin)
        audited = await client.get("/reports/funder-export.json", headers=auditor)

    assert spending.status_code == 200, spending.text
    [desio] = spending.json()
    assert [
        (
            q["quarter"],
            q["label"],
            q["total"],
            [(f["funding_source"], f["spent"], f["beneficiaries"]) for f in q["funding"]],
        )
        for q in desio["quarters"]
    ] == [
        ("2026-Q4", "IV trimestre 2026", "105.50", [(PNRR, "105.50", 3)]),
        ("2027-Q1", "I trimestre 2027", "43.00", [(PNRR, "43.00", 1)]),
    ]
    assert desio["total"] == "148.50"
    assert [q["quarter"] for q in from_january.json()[0]["quarters"]] == ["2027-Q1"]
    assert refusal(backwards) == (422, "report.period_invalid")

    [target] = progress.json()
    assert (target["beneficiaries"], target["target"], target["years"], target["percent"]) == (
        3,
        125,
        3,
        "2.40",
    )
    assert (target["since"], target["until"]) == ("2026-10-01", "2029-10-01")
    assert target["message"] == "Ambito di Desio: 3 beneficiari su 125 previsti in 3 anni (2,40%)."

    assert export.status_code == 200, export.text
    assert [
        (r["beneficiary"], r["quarter"], r["start"], r["end"], r["services"], r["spending"])
        for r in export.json()
    ] == [
        (older, "2026-Q4", "2026-12-01", None, ["sad"], "21.50"),
        ("p-anna", "2026-Q4", "2026-12-01", "2027-01-14", ["sad", "meals"], "80.50"),
        ("p-bruno", "2026-Q4", "2026-11-20", None, ["teleassistance"], "3.50"),
        ("p-anna", "2027-Q1", "2026-12-01", "2027-01-14", ["sad"], "43.00"),
    ]
    assert {r["ambito_id"] for r in export.json()} == {"desio"}

    assert export_csv.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(export_csv.text), delimiter=";"))
    assert table[0] == [
        "beneficiary",
        "ambito_id",
        "quarter",
        "start",
        "end",
        "services",
        "spending",
    ]
    assert table[2] == [
        "p-anna",
        "desio",
        "2026-Q4",
        "2026-12-01",
        "2027-01-14",
        "sad,meals",
        "80.50",
    ]
    assert len(table) == 5

    # Each administration its own districts; the auditor every one.
    assert [r["beneficiary"] for r in magentino_own.json()] == ["p-carla"]
    assert {r["ambito_id"] for r in audited.json()} == {"desio", MAGENTINO}
