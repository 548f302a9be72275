"""Billing end to end: real broker, real PostgreSQL, real HTTP; nothing mocked.

Each test starts billing on its own topic prefix and an empty schema, publishes what intake,
activation, provider adapters and monitoring would, and looks at what a district or a provider
would see: the statements and budgets over HTTP, the events on ``billing.ledger``, and
billing's tables.
The clock stands in mid-January 2027, so December 2026 is a month that can be issued.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import os
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Row, select

from cerniera.billing.config import BillingConfig, load_config
from cerniera.billing.service import runtime
from cerniera.billing.tables import authorisations, cases, deliveries, inbox
from cerniera.shared.clock import Clock
from cerniera.shared.contract import (
    BudgetThresholdReached,
    HoursDelivered,
    ProviderStatementIssued,
    ServiceActivated,
    ServiceDeactivated,
    Topics,
)
from cerniera.shared.envelope import Envelope, decode
from cerniera.shared.runtime import ServiceRuntime, ServiceSettings
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.billing_events import (
    ASC_MAGENTINO,
    MAGENTINO,
    MEALS,
    MELOGRANO,
    RISTORAZIONE,
    SAD,
    TELE,
    TELESOCCORSO,
    activated,
    case_id,
    closed,
    confirmed,
    deactivated,
    delivery,
    rejected,
    reported,
)
from support.districts import EXAMPLE
from support.identity import Identity
from support.kafka import headers_of, publish, read_topic
from support.services import healthy, serving
from support.waiting import eventually, read_quiet

pytestmark = pytest.mark.integration

NOW = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)
PERIOD = "2026-12"
D = Decimal

# Magentino with tiny budgets, so a few lines cross every threshold and both sources.
SMALL_MAGENTINO = """
[defaults.billing]
sad_cap_hours = 80
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
amount = "100.00"

[[ambiti.magentino.funding]]
id = "fnps-2021-2022"
name = "FNPS 2021-2022"
amount = "50.00"

[[ambiti.magentino.providers]]
id = "asc-servizi-alla-persona"
name = "Azienda Speciale Consortile Servizi alla Persona"
services = ["sad"]
"""
PNRR, FNPS = "pnrr-m5c2-1.1.3", "fnps-2021-2022"
DECEMBER = date(2026, 12, 1)


# --- helpers -------------------------------------------------------------------------------------


def billing(
    kafka: KafkaSettings, database: DatabaseSettings, config: BillingConfig | None = None
) -> contextlib.AbstractAsyncContextManager[tuple[ServiceRuntime, httpx.AsyncClient]]:
    """Billing on the example districts (whatever CERNIERA_AMBITI says here), and a client."""
    return serving(
        runtime(
            kafka,
            database,
            config or load_config(EXAMPLE),
            clock=Clock(epoch=NOW),
            service=ServiceSettings(http_port=0),
        )
    )


async def delivery_rows(rt: ServiceRuntime) -> list[Row[Any]]:
    async with rt.engine.connect() as conn:
        return list((await conn.execute(select(deliveries).order_by(deliveries.c.id))).all())


async def wait_rows(
    rt: ServiceRuntime, done: Callable[[list[Row[Any]]], bool], what: str
) -> list[Row[Any]]:
    async def probe() -> list[Row[Any]]:
        return await delivery_rows(rt)

    return await eventually(probe, done, what=what, timeout=30)


async def authorise(
    kafka: KafkaSettings, topics: Topics, rt: ServiceRuntime, *events: Envelope
) -> None:
    """Publish activation's events and wait until billing has them all: the deliveries that
    follow meet their activations (the other order is tested on its own)."""
    await publish(kafka, topics.activation_services, *events)
    wanted = {
        (e.data_as(ServiceActivated).request_id, "active_from")
        if isinstance(e.data, ServiceActivated)
        else (e.data_as(ServiceDeactivated).request_id, "until")
        for e in events
    }

    async def probe() -> set[tuple[str, str]]:
        async with rt.engine.connect() as conn:
            rows = (await conn.execute(select(authorisations))).all()
        return {(r.request_id, k) for r in rows for k in ("active_from", "until") if r._mapping[k]}

    await eventually(probe, lambda seen: wanted <= seen, what="activations stored", timeout=30)


async def report(kafka: KafkaSettings, topics: Topics, *events: Envelope) -> None:
    """Publish deliveries on their providers' own topics, in order per provider."""
    for provider, run in itertools.groupby(
        events, key=lambda e: e.data_as(HoursDelivered).provider_id
    ):
        await publish(kafka, topics.provider_reports(provider), *run)


def statuses(rows: list[Row[Any]]) -> dict[str, str]:
    return {r.delivery_ref: r.status for r in rows}


def settled(count: int) -> Callable[[list[Row[Any]]], bool]:
    """``count`` rows, none pending."""
    return lambda rows: len(rows) == count and all(r.status != "pending" for r in rows)


async def statement(
    client: httpx.AsyncClient, provider: str, suffix: str = "", **params: str
) -> httpx.Response:
    """The statement as the district reads it (``ambito_id`` given), else as the provider
    itself: every district's lines, and those not yet attributed to one."""
    headers = None
    if "ambito_id" not in params:
        headers = Identity(os.environ["OIDC_ISSUER"]).headers("provider", provider_id=provider)
    url = f"/statements/{provider}/{PERIOD}{suffix}"
    response = await client.get(url, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response


def refusal(response: httpx.Response) -> tuple[int, str]:
    """The status and code of a refusal, in the one error body of every service."""
    detail = response.json()["detail"]
    assert set(detail) == {"code", "message"}, detail
    return response.status_code, detail["code"]


def line_summary(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (
            line["delivery_ref"],
            line["quantity"],
            line["amount"],
            line["status"],
            line["funding_source"],
            line["reason"]["code"] if line["reason"] else None,
        )
        for line in body["lines"]
    ]


def ledger(records: list[Any], kind: type[Any]) -> list[tuple[Any, Envelope]]:
    decoded = [(r, decode(r.value, r.headers)) for r in records]
    return [(r, e) for r, e in decoded if isinstance(e.data, kind)]


# --- a. priced by tariff, on the statement -------------------------------------------------------


async def test_deliveries_are_priced_and_shown_in_the_statement(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    case = case_id("B-PRICED")
    lines = {
        "weekday": delivery(case, MELOGRANO, SAD, date(2026, 12, 9), 2, delivery_ref="M-1"),
        "evening": delivery(
            case, MELOGRANO, SAD, date(2026, 12, 10), 1, delivery_ref="M-2", evening=True
        ),
        "immacolata": delivery(case, MELOGRANO, SAD, date(2026, 12, 8), "1.5", delivery_ref="M-3"),
        "christmas": delivery(case, MELOGRANO, SAD, date(2026, 12, 25), 2, delivery_ref="M-4"),
        "meals": delivery(case, RISTORAZIONE, MEALS, date(2026, 12, 25), 5, delivery_ref="R-1"),
        "tele": delivery(case, TELESOCCORSO, TELE, date(2026, 12, 1), 7, delivery_ref="T-1"),
        "outsider": delivery(case, ASC_MAGENTINO, SAD, date(2026, 12, 9), 2, delivery_ref="A-1"),
    }
    late = delivery(case, MELOGRANO, SAD, date(2026, 12, 30), 3, delivery_ref="M-5")

    async with billing(kafka_settings, database_settings) as (rt, client):
        await authorise(
            kafka_settings,
            topics,
            rt,
            activated(case, MELOGRANO, SAD, DECEMBER),
            activated(case, RISTORAZIONE, MEALS, DECEMBER),
            activated(case, TELESOCCORSO, TELE, DECEMBER),
        )
        await publish(kafka_settings, topics.intake_cases, confirmed(case))
        await report(kafka_settings, topics, *(reported(d) for d in [*lines.values(), late]))
        rows = await wait_rows(rt, settled(8), "8 priced deliveries")
        assert statuses(rows)["M-5"] == "billed"  # the closure has not reached billing yet
        # Monitoring closes the case on 28 December: the 30 December line is taken back.
        await publish(
            kafka_settings,
            topics.monitoring_cases,
            closed(case, datetime(2026, 12, 28, 12, tzinfo=UTC)),
        )
        rows = await wait_rows(
            rt, lambda rs: statuses(rs).get("M-5") == "refused", "the late line refused"
        )
        body = (await statement(client, MELOGRANO)).json()
        csv_response = await statement(client, MELOGRANO, ".csv", ambito_id="desio")
        outsider = (await statement(client, ASC_MAGENTINO)).json()
        budget = await client.get("/budget", params={"ambito_id": "desio"})
        health = await client.get("/health")
        docs = await client.get("/docs")
        openapi = (await client.get("/openapi.json")).json()

    # SAD at coop-il-melograno's own 21.50; +10 % in the evening and on 8 and 25 December.
    assert line_summary(body) == [
        ("M-1", "2.00", "43.00", "billed", PNRR, None),
        ("M-2", "1.00", "23.65", "billed", PNRR, None),
        ("M-3", "1.50", "35.48", "billed", PNRR, None),  # 35.475, half-up
        ("M-4", "2.00", "47.30", "billed", PNRR, None),
        ("M-5", "3.00", "64.50", "refused", None, "case.closed"),
    ]
    assert [(ln["unit_tariff"], ln["surcharge_percent"]) for ln in body["lines"][:2]] == [
        ("21.50", "0.00"),
        ("21.50", "10.00"),
    ]
    assert [ln["holiday"] for ln in body["lines"]] == [False, False, True, True, False]
    assert body["totals"] == [
        {
            "service_type": "sad",
            "billed_quantity": "6.50",
            "billed_amount": "149.43",
            "refused_quantity": "3.00",
            "refused_amount": "64.50",
            "lines": 5,
        }
    ]
    assert (body["total"], body["issued"]) == ("149.43", [])

    assert csv_response.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(csv_response.text), delimiter=";"))
    assert table[0][:4] == ["ambito_id", "case_id", "delivery_ref", "service_type"]
    header = table[0]
    assert [(r[header.index("delivery_ref")], r[header.index("amount")]) for r in table[1:]] == [
        ("M-1", "43.00"),
        ("M-2", "23.65"),
        ("M-3", "35.48"),
        ("M-4", "47.30"),
        ("M-5", "64.50"),
    ]

    # A provider of another district: refused, nothing paid.
    assert line_summary(outsider) == [
        ("A-1", "2.00", "0.00", "refused", None, "provider.not_in_district")
    ]
    assert outsider["total"] == "0.00"

    # Meals and teleassistance at the district's tariffs, never surcharged.
    by_ref = {r.delivery_ref: r for r in rows}
    assert (by_ref["R-1"].billed_amount, by_ref["R-1"].surcharge_percent) == (D("37.50"), 0)
    assert by_ref["T-1"].billed_amount == D("3.50")
    assert by_ref["M-5"].cap_hours == 0  # hours taken back from the cap too

    assert budget.status_code == 200
    [desio] = budget.json()
    assert (desio["ambito_id"], desio["spent"], desio["beneficiaries"]) == ("desio", "190.43", 1)
    [pnrr] = desio["funding"]
    assert (pnrr["amount"], pnrr["spent"], pnrr["remaining"]) == (
        "237600.00",
        "190.43",
        "237409.57",
    )
    assert (pnrr["percent_spent"], pnrr["thresholds_reached"]) == ("0.08", [])

    assert (health.status_code, health.json()) == (200, healthy("billing"))
    assert docs.status_code == 200
    line_schema = openapi["components"]["schemas"]["StatementLine"]["properties"]
    assert "half-up" in line_schema["amount"]["description"]


# --- b. the cap and the same delivery twice ------------------------------------------------------


async def test_hours_over_the_cap_and_a_repeated_delivery_are_not_billed(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    case = case_id("B-CAP")
    most = reported(delivery(case, MELOGRANO, SAD, date(2026, 12, 2), 79, delivery_ref="C-1"))
    crossing = delivery(case, MELOGRANO, SAD, date(2026, 12, 3), 2, delivery_ref="C-2")
    first = reported(crossing)
    again = reported(crossing)  # the same delivery_ref, a new event id
    beyond = reported(delivery(case, MELOGRANO, SAD, date(2026, 12, 4), 1, delivery_ref="C-3"))

    confirmation = confirmed(case, package=((SAD, 100),))  # the cap, not the week, limits
    activation = activated(case, MELOGRANO, SAD, DECEMBER)

    async with billing(kafka_settings, database_settings) as (rt, client):
        await authorise(kafka_settings, topics, rt, activation)
        await publish(kafka_settings, topics.intake_cases, confirmation)
        # Same key, same partition: handled in this order. ``first`` redelivered as is too.
        await report(kafka_settings, topics, most, first, first, again, beyond)
        rows = await wait_rows(rt, settled(4), "4 delivery rows")
        body = (await statement(client, MELOGRANO, ambito_id="desio")).json()
        async with rt.engine.connect() as conn:
            claimed = (await conn.execute(select(inbox.c.event_id))).scalars().all()
        redelivered = rt.consumer.stats.duplicates

    assert line_summary(body) == [
        ("C-1", "79.00", "1698.50", "billed", PNRR, None),
        ("C-2", "1.00", "21.50", "billed", PNRR, None),
        ("C-2", "1.00", "21.50", "refused", None, "sad.cap_exceeded"),
        ("C-2", "2.00", "0.00", "duplicate", None, "delivery.duplicate"),
        ("C-3", "1.00", "21.50", "refused", None, "sad.cap_exceeded"),
    ]
    [sad_total] = body["totals"]
    assert (sad_total["billed_quantity"], sad_total["billed_amount"]) == ("80.00", "1720.00")
    assert body["total"] == "1720.00"
    # The redelivered event was dropped by the inbox: one row per event id, never two.
    assert [r.event_id for r in rows] == [most.id, first.id, again.id, beyond.id]
    assert sorted(claimed) == sorted(
        [activation.id, confirmation.id, most.id, first.id, again.id, beyond.id]
    )
    assert redelivered == 1
    assert sum(r.cap_hours for r in rows) == D(80)


# --- c. a delivery before its eligibility --------------------------------------------------------


async def test_a_delivery_before_its_confirmation_is_priced_when_it_arrives(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    early, refused_case = case_id("B-EARLY"), case_id("B-REJECTED")
    nowhere = confirmed(case_id("B-NOWHERE"), "atlantide")  # a district billing does not know
    waiting = delivery(early, MELOGRANO, SAD, date(2026, 12, 14), 2, delivery_ref="E-1")
    never = delivery(refused_case, MELOGRANO, SAD, date(2026, 12, 14), 2, delivery_ref="E-2")

    async with billing(kafka_settings, database_settings) as (rt, client):
        await authorise(kafka_settings, topics, rt, activated(early, MELOGRANO, SAD, DECEMBER))
        await report(kafka_settings, topics, reported(waiting), reported(never))
        rows = await wait_rows(rt, lambda rs: len(rs) == 2, "two pending deliveries")
        assert statuses(rows) == {"E-1": "pending", "E-2": "pending"}
        pending = (await statement(client, MELOGRANO)).json()

        await publish(
            kafka_settings, topics.intake_cases, confirmed(early), rejected(refused_case), nowhere
        )
        rows = await wait_rows(rt, settled(2), "both deliveries decided")
        body = (await statement(client, MELOGRANO)).json()
        [dead] = await read_topic(
            kafka_settings, topics.dlq(topics.intake_cases), until=lambda rs: len(rs) >= 1
        )
        async with rt.engine.connect() as conn:
            known = (await conn.execute(select(cases.c.case_id))).scalars().all()

    assert [(ln["status"], ln["reason"]["code"]) for ln in pending["lines"]] == [
        ("pending", "case.awaiting_eligibility"),
        ("pending", "case.awaiting_eligibility"),
    ]
    assert pending["total"] == "0.00"
    # Two cases, two keys: they may reach billing in either order.
    assert sorted(line_summary(body)) == [
        ("E-1", "2.00", "43.00", "billed", PNRR, None),
        ("E-2", "2.00", "0.00", "refused", None, "case.not_eligible"),
    ]
    assert {ln["delivery_ref"]: ln["ambito_id"] for ln in body["lines"]} == {
        "E-1": "desio",
        "E-2": None,
    }
    # An eligibility in an unknown district is refused at once, not stored.
    assert headers_of(dead)["dlq_reason_code"] == "ambito.unknown"
    assert headers_of(dead)["ce_id"] == nowhere.id
    assert sorted(known) == sorted([early, refused_case])


# --- d. budget thresholds ------------------------------------------------------------------------


async def test_budget_thresholds_are_published_once_in_the_delivery_chain(
    kafka_settings: KafkaSettings,
    topics: Topics,
    database_settings: DatabaseSettings,
    tmp_path: Path,
) -> None:
    document = tmp_path / "ambiti.toml"
    document.write_text(SMALL_MAGENTINO, encoding="utf-8")
    case = case_id("B-BUDGET")
    # Each 2 h of SAD at 22.00 = 44.00 against sources of 100.00 then 50.00.
    lines = [
        delivery(case, ASC_MAGENTINO, SAD, date(2026, 12, day), hours, delivery_ref=f"G-{day}")
        for day, hours in [(1, 2), (2, 2), (3, 2), (4, 2), (5, 1)]
    ]
    reports = [reported(d, correlation_id=f"corr-{d.delivered_on.day}") for d in lines]
    repeat = reported(lines[1], correlation_id="corr-repeat")  # same delivery_ref, new event

    async with billing(kafka_settings, database_settings, load_config(document)) as (rt, client):
        # Before the eligibility: all wait, then are priced in the order received.
        await authorise(kafka_settings, topics, rt, activated(case, ASC_MAGENTINO, SAD, DECEMBER))
        await report(kafka_settings, topics, *reports, repeat)
        await wait_rows(rt, lambda rs: len(rs) == 6, "six delivery rows")
        confirmation = confirmed(case, MAGENTINO, package=((SAD, 20),))
        await publish(kafka_settings, topics.intake_cases, confirmation)
        await wait_rows(rt, settled(6), "six priced rows")
        await read_topic(kafka_settings, topics.billing_ledger, until=lambda rs: len(rs) >= 6)
        # A redelivery of the line that crossed two thresholds: nothing more.
        await report(kafka_settings, topics, reports[1])
        records = await read_quiet(kafka_settings, topics.billing_ledger, quiet=1.5)
        body = (await statement(client, ASC_MAGENTINO)).json()
        budget = (await client.get("/budget")).json()

    reached = ledger(records, BudgetThresholdReached)
    assert len(records) == len(reached) == 6
    seen = []
    for record, event in reached:
        data = event.data
        assert isinstance(data, BudgetThresholdReached)
        assert record.key == b"magentino"
        assert headers_of(record)["ce_source"] == "urn:dp:service:billing"
        assert (data.ambito_id, data.reached_at.date()) == (MAGENTINO, NOW.date())
        seen.append(
            (
                data.funding_source,
                data.threshold_percent,
                str(data.spent),
                str(data.budget),
                event.correlation_id,
                event.causation_id,
            )
        )
    # Each in the chain of the delivery that crossed it; caused by the confirmation that made
    # billing price the waiting lines.
    cause = confirmation.id
    assert sorted(seen) == sorted(
        [
            # 88.00 on PNRR: one line crosses 50 % and 80 %.
            (PNRR, 50, "88.00", "100.00", "corr-2", cause),
            (PNRR, 80, "88.00", "100.00", "corr-2", cause),
            # 12.00 ends PNRR, 32.00 opens FNPS (64 %).
            (PNRR, 100, "100.00", "100.00", "corr-3", cause),
            (FNPS, 50, "32.00", "50.00", "corr-3", cause),
            # 18.00 ends FNPS; 26.00 is left unfunded.
            (FNPS, 80, "50.00", "50.00", "corr-4", cause),
            (FNPS, 100, "50.00", "50.00", "corr-4", cause),
        ]
    )

    assert line_summary(body) == [
        ("G-1", "2.00", "44.00", "billed", PNRR, None),
        ("G-2", "2.00", "44.00", "billed", PNRR, None),
        ("G-3", "0.55", "12.00", "billed", PNRR, None),
        ("G-3", "1.45", "32.00", "billed", FNPS, None),
        ("G-4", "0.82", "18.00", "billed", FNPS, None),
        ("G-4", "1.18", "26.00", "refused", None, "budget.exhausted"),
        ("G-5", "1.00", "22.00", "refused", None, "budget.exhausted"),
        ("G-2", "2.00", "0.00", "duplicate", None, "delivery.duplicate"),
    ]
    [magentino] = budget
    assert (magentino["spent"], magentino["remaining"], magentino["percent_spent"]) == (
        "150.00",
        "0.00",
        "100.00",
    )
    assert (magentino["unfunded_amount"], magentino["unfunded_lines"]) == ("48.00", 2)
    assert magentino["beneficiaries"] == 1
    assert [
        (f["funding_source"], f["spent"], [t["threshold_percent"] for t in f["thresholds_reached"]])
        for f in magentino["funding"]
    ] == [(PNRR, "100.00", [50, 80, 100]), (FNPS, "50.00", [50, 80, 100])]
    assert [f["beneficiaries"] for f in magentino["funding"]] == [1, 1]


# --- e. issuing a statement ----------------------------------------------------------------------


async def test_issuing_a_statement_publishes_it_once(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    case = case_id("B-ISSUE")
    reports = [
        reported(delivery(case, MELOGRANO, SAD, date(2026, 12, 9), 2)),  # 43.00
        reported(delivery(case, MELOGRANO, SAD, date(2026, 12, 13), 1)),  # Sunday: 23.65
        reported(delivery(case, MELOGRANO, SAD, date(2027, 1, 4), 1)),  # next month
    ]

    async with billing(kafka_settings, database_settings) as (rt, client):
        await authorise(kafka_settings, topics, rt, activated(case, MELOGRANO, SAD, DECEMBER))
        await publish(kafka_settings, topics.intake_cases, confirmed(case))
        await report(kafka_settings, topics, *reports)
        await wait_rows(rt, settled(3), "three priced deliveries")
        issue = f"/statements/{MELOGRANO}/{PERIOD}/issue"
        first = await client.post(issue)
        second = await client.post(issue, params={"ambito_id": "desio"})
        current_month = await client.post(f"/statements/{MELOGRANO}/2027-01/issue")
        ambiguous = await client.post(f"/statements/{TELESOCCORSO}/{PERIOD}/issue")
        stranger = await client.post(f"/statements/nobody/{PERIOD}/issue")
        elsewhere = await client.post(issue, params={"ambito_id": MAGENTINO})
        unknown = [
            await client.post(issue, params={"ambito_id": "atlantide"}),
            await client.get(
                f"/statements/{MELOGRANO}/{PERIOD}", params={"ambito_id": "atlantide"}
            ),
            await client.get(
                f"/statements/{MELOGRANO}/{PERIOD}.csv", params={"ambito_id": "atlantide"}
            ),
            await client.get("/budget", params={"ambito_id": "atlantide"}),
        ]
        await read_topic(kafka_settings, topics.billing_ledger, until=lambda rs: len(rs) >= 1)
        records = await read_quiet(kafka_settings, topics.billing_ledger, quiet=1.5)
        body = (await statement(client, MELOGRANO)).json()

    assert first.status_code == 201, first.text
    assert second.status_code == 200, second.text
    issued = first.json()
    assert (issued["ambito_id"], issued["period"], issued["total"], issued["lines"]) == (
        "desio",
        PERIOD,
        "66.65",
        2,
    )
    assert issued["already_issued"] is False
    assert second.json() == {**issued, "already_issued": True}
    assert refusal(current_month) == (409, "period.not_over")
    assert refusal(ambiguous) == (422, "statement.ambito_required")
    assert refusal(stranger) == (404, "provider.unknown")
    assert refusal(elsewhere) == (404, "provider.not_in_district")
    assert [refusal(r) for r in unknown] == [(404, "ambito.unknown")] * 4

    [(record, event)] = ledger(records, ProviderStatementIssued)
    assert len(records) == 1
    data = event.data
    assert isinstance(data, ProviderStatementIssued)
    assert (data.provider_id, data.ambito_id, data.period) == (MELOGRANO, "desio", PERIOD)
    assert (data.total, data.lines) == (D("66.65"), 2)
    assert event.id == issued["event_id"]
    assert record.key == b"desio"
    assert body["issued"] == [issued]


# --- f. only what was activated is paid ----------------------------------------------------------


async def test_only_activated_services_within_their_period_and_quantity_are_paid(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    case = case_id("B-AUTH")
    # Coop Il Melograno does SAD, 6 h a week, from Monday 7 December through Friday 18.
    sad_activation = activated(case, MELOGRANO, SAD, date(2026, 12, 7))
    lines = [
        # Brianza Ristorazione never served this case: nothing activated for it.
        delivery(case, RISTORAZIONE, MEALS, date(2026, 12, 9), 5, delivery_ref="N-1"),
        delivery(case, MELOGRANO, SAD, date(2026, 12, 9), 2, delivery_ref="N-2"),  # paid
        delivery(case, MELOGRANO, SAD, date(2026, 12, 10), 5, delivery_ref="N-3"),  # 7 > 6 h
        delivery(case, MELOGRANO, SAD, date(2026, 12, 4), 2, delivery_ref="N-4"),  # before
        delivery(case, MELOGRANO, SAD, date(2026, 12, 21), 2, delivery_ref="N-5"),  # after
    ]
    # Teleassistance reported before billing learns of its activation (another topic).
    early = delivery(case, TELESOCCORSO, TELE, date(2026, 12, 9), 7, delivery_ref="N-6")

    async with billing(kafka_settings, database_settings) as (rt, client):
        await publish(kafka_settings, topics.intake_cases, confirmed(case))
        await authorise(
            kafka_settings,
            topics,
            rt,
            sad_activation,
            deactivated(sad_activation, date(2026, 12, 18)),
        )
        await report(kafka_settings, topics, *(reported(d) for d in lines), reported(early))
        rows = await wait_rows(rt, settled(6), "six priced deliveries")
        assert statuses(rows)["N-6"] == "refused"  # no activation yet: refused, kept
        await publish(
            kafka_settings,
            topics.activation_services,
            activated(case, TELESOCCORSO, TELE, date(2026, 12, 7)),
        )
        rows = await wait_rows(
            rt, lambda rs: statuses(rs).get("N-6") == "billed", "the early line priced again"
        )
        # What the district sees of each provider.
        melograno = (await statement(client, MELOGRANO, ambito_id="desio")).json()
        ristorazione = (await statement(client, RISTORAZIONE, ambito_id="desio")).json()
        telesoccorso = (await statement(client, TELESOCCORSO, ambito_id="desio")).json()
        csv_text = (await statement(client, RISTORAZIONE, ".csv", ambito_id="desio")).text
        [desio] = (await client.get("/budget", params={"ambito_id": "desio"})).json()

    # Refused lines are on the statement with their reason, worth their tariff, never paid.
    assert line_summary(ristorazione) == [
        ("N-1", "5.00", "37.50", "refused", None, "delivery.not_authorised")
    ]
    assert ristorazione["total"] == "0.00"
    assert "Nessuna attivazione" in ristorazione["lines"][0]["reason"]["text"]
    assert sorted(line_summary(melograno)) == [
        ("N-2", "2.00", "43.00", "billed", PNRR, None),
        ("N-3", "5.00", "107.50", "refused", None, "delivery.over_quantity"),
        ("N-4", "2.00", "43.00", "refused", None, "delivery.outside_period"),
        ("N-5", "2.00", "43.00", "refused", None, "delivery.outside_period"),
    ]
    assert melograno["total"] == "43.00"
    texts = {ln["delivery_ref"]: ln["reason"]["text"] for ln in melograno["lines"] if ln["reason"]}
    assert texts["N-3"].startswith("Settimana dal 07/12/2026: autorizzate 6 ore")
    assert "dal 07/12/2026 al 18/12/2026" in texts["N-5"]
    assert line_summary(telesoccorso) == [("N-6", "7.00", "3.50", "billed", PNRR, None)]
    table = list(csv.reader(io.StringIO(csv_text), delimiter=";"))
    assert [(r[table[0].index("status")], r[table[0].index("reason_code")]) for r in table[1:]] == [
        ("refused", "delivery.not_authorised")
    ]
    # Only what was paid is spent from the district's budget.
    assert desio["spent"] == "46.50"
    assert {r.delivery_ref: r.counted_quantity for r in rows} == {
        "N-1": 0,
        "N-2": 2,
        "N-3": 0,
        "N-4": 0,
        "N-5": 0,
        "N-6": 7,
    }
