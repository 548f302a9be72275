"""The desk's budget and outcomes page end to end: billing and monitoring running on the real
broker and PostgreSQL, fed the events their producers would publish; the desk asking them with
the logged-in person's own token (log-in through the real identity provider's form).

- the district's administration sees spending per quarter and funding source, the budget per
  source, the persons served against the target and the outcome indicators: each chart's
  figures (the page's JSON block, what Chart.js draws) are billing's and monitoring's, the
  table under each chart says the same, and each CSV too;
- the team sees the same reports but not the budget (billing's BUDGET_READ is the
  administration's), and only its own district;
- a service that does not answer empties its own part of the page, not the page.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from cerniera.desk import queries
from cerniera.shared.clock import ROME
from cerniera.shared.contract import BudgetThresholdReached, ServiceType, Topics
from cerniera.shared.envelope import Envelope
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support import billing_events as billed
from support import monitoring_events as followed
from support.desk_login import log_in, register
from support.identity import Identity
from support.kafka import publish
from support.services import desk, service_runtime, serving
from support.waiting import eventually

pytestmark = pytest.mark.integration

MELOGRANO = "coop-il-melograno"
PNRR = "pnrr-m5c2-1.1.3"
PERIOD = {"da": "2024-09-01", "a": "2024-10-31"}
SAD = ServiceType.SAD


# --- helpers -------------------------------------------------------------------------------------


def at(day: str, hour: int = 10) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), ROME).replace(hour=hour)


def charts_of(page: str) -> dict[str, Any]:
    """The figures the page hands to static/charts.js (what Chart.js draws)."""
    found = re.search(
        r'<script type="application/json" id="cerniera-grafici">(.*?)</script>', page, re.S
    )
    assert found, "the page carries its charts' figures"
    figures: dict[str, Any] = json.loads(found[1])
    return figures


def table_of(page: str, chart: str) -> str:
    found = re.search(rf'<table id="tabella-{chart}".*?</table>', page, re.S)
    assert found, f"a table under the chart {chart}"
    return html.unescape(found[0])


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def threshold(ambito_id: str, percent: int, spent: str, budget: str) -> BudgetThresholdReached:
    return BudgetThresholdReached(
        ambito_id=ambito_id,
        funding_source=PNRR,
        threshold_percent=percent,
        spent=Decimal(spent),
        budget=Decimal(budget),
        reached_at=datetime(2024, 10, 1, 18, tzinfo=UTC),
    )


# --- the page ------------------------------------------------------------------------------------


async def test_the_district_sees_its_budget_and_outcomes_as_billing_and_monitoring_report(
    kafka_settings: KafkaSettings,
    topics: Topics,
    database_settings: DatabaseSettings,
    identity: Identity,
) -> None:
    issuer = identity.issuer
    register(issuer, "adm-desio", "Anna Ferrari", ["district_admin"], ambito_id="desio")
    register(issuer, "as-desio", "Marco Riva", ["equipe"], ambito_id="desio")
    admin = identity.headers("district_admin", ambito_id="desio")
    paid = billed.case_id("BUD-1")

    billing_rt = service_runtime("billing", kafka_settings, database_settings)
    monitoring_rt = service_runtime("monitoring", kafka_settings, database_settings)
    async with (
        serving(billing_rt, headers=admin) as (_, billing),
        serving(monitoring_rt, headers=admin) as (_, monitoring),
    ):
        # Billing: 2 hours in September (43.00 at Melograno's 21.50), 1 in October (21.50).
        await publish(kafka_settings, topics.intake_cases, billed.confirmed(paid))
        await publish(
            kafka_settings,
            topics.activation_services,
            billed.activated(paid, MELOGRANO, SAD, date(2024, 9, 2)),
        )
        await publish(
            kafka_settings,
            topics.provider_reports(MELOGRANO),
            billed.reported(billed.delivery(paid, MELOGRANO, SAD, date(2024, 9, 10), 2)),
            billed.reported(billed.delivery(paid, MELOGRANO, SAD, date(2024, 10, 1), 1)),
        )
        # Monitoring: two cases discharged in September; B back in hospital on day 8.
        await publish(
            kafka_settings,
            topics.hospital_discharges,
            followed.announcement("A", at("2024-09-05"), expected_discharge_at=at("2024-09-10")),
            followed.announcement("B", at("2024-09-06"), expected_discharge_at=at("2024-09-12")),
        )
        await publish(
            kafka_settings,
            topics.intake_cases,
            *(
                followed.from_intake(followed.confirmed(ref, expected_discharge_at=at(day)))
                for ref, day in (("A", "2024-09-10"), ("B", "2024-09-12"))
            ),
        )
        for ref in ("A", "B"):  # followed before B's readmission comes
            path = f"/cases/{followed.case_id(ref)}"

            async def follow_up(path: str = path) -> httpx.Response:
                return await monitoring.get(path, headers=identity.team())

            await eventually(
                follow_up, lambda found: found.status_code == 200, what=path, timeout=30
            )
        await publish(
            kafka_settings,
            topics.hospital_discharges,
            followed.hospital_event(followed.readmitted("B", at("2024-09-20"))),
        )

        async def spending() -> list[dict[str, Any]]:
            body: list[dict[str, Any]] = (
                await billing.get("/reports/spending", params={"ambito_id": "desio"})
            ).json()
            return body

        async def outcomes() -> dict[str, Any]:
            found = await monitoring.get(
                "/reports/outcomes",
                params={"ambito_id": "desio", "from": PERIOD["da"], "to": PERIOD["a"]},
            )
            body: dict[str, Any] = found.json()
            return body

        await eventually(
            spending,
            lambda s: bool(s) and s[0]["total"] == "64.50",
            what="billing's spending",
            timeout=30,
        )
        report = await eventually(
            outcomes,
            lambda r: (
                r["districts"][0]["cases"] == 2
                and r["districts"][0]["readmitted_within_30_days"]["count"] == 1
            ),
            what="monitoring's two cases, one readmitted",
            timeout=30,
        )
        [desio_spending] = (
            await billing.get(
                "/reports/spending",
                params={"ambito_id": "desio", "from": PERIOD["da"], "to": PERIOD["a"]},
            )
        ).json()
        [desio_budget] = (await billing.get("/budget", params={"ambito_id": "desio"})).json()
        [progress] = (
            await billing.get("/reports/beneficiaries", params={"ambito_id": "desio"})
        ).json()
        [desio_outcomes] = report["districts"]

        assert billing_rt.http_url is not None
        assert monitoring_rt.http_url is not None
        urls = {"billing": billing_rt.http_url, "monitoring": monitoring_rt.http_url}
        async with serving(desk(kafka_settings, database_settings, urls), headers={}) as (rt, ui):
            # Billing's thresholds, as the desk reads them from billing's ledger.
            reached = [
                Envelope(data=data, source="urn:dp:service:billing", subject=data.ambito_id)
                for data in (
                    threshold("desio", 80, "190080.00", "237600.00"),
                    threshold("magentino", 50, "164997.50", "329995.00"),
                )
            ]
            await publish(kafka_settings, topics.billing_ledger, *reached)

            async def ledger_events() -> set[str]:
                async with rt.engine.connect() as conn:
                    return {e.event_id for e in await queries.ledger(conn)}

            await eventually(
                ledger_events,
                lambda ids: {e.id for e in reached} <= ids,
                what="the thresholds in the desk's ledger",
                timeout=30,
            )
            await log_in(ui, "adm-desio", "/budget")
            page = await ui.get("/budget", params=PERIOD)
            english = await ui.get("/budget", params={**PERIOD, "lang": "en"})
            csvs = {
                name: await ui.get(f"/budget/{name}.csv", params={"ambito_id": "desio", **PERIOD})
                for name in ("spesa", "fonti", "beneficiari", "esiti")
            }
            backwards = await ui.get("/budget", params={"da": "2024-10-31", "a": "2024-09-01"})
            other_district = await ui.get("/budget", params={"ambito_id": "magentino"})

            async with httpx.AsyncClient(base_url=ui.base_url, timeout=10) as team:
                await log_in(team, "as-desio", "/budget")
                team_page = await team.get("/budget", params=PERIOD)
                team_budget_csv = await team.get("/budget/fonti.csv")
                team_spending_csv = await team.get("/budget/spesa.csv", params=PERIOD)
                no_such_chart = await team.get("/budget/segreti.csv")

    # --- the administration's page
    assert page.status_code == 200, page.text
    assert '<html lang="it">' in page.text
    figures = charts_of(page.text)
    assert figures["locale"] == "it-IT"
    charts = figures["charts"]
    assert set(charts) == {"spesa", "fonti", "beneficiari", "esiti"}

    # Spending per quarter and source: billing's figures, drawn and tabled.
    quarters = desio_spending["quarters"]
    assert [q["quarter"] for q in quarters] == ["2024-Q3", "2024-Q4"]
    assert charts["spesa"]["data"]["labels"] == ["III trimestre 2024", "IV trimestre 2024"]
    [pnrr] = charts["spesa"]["data"]["datasets"]
    assert pnrr["label"] == quarters[0]["funding"][0]["name"]
    assert pnrr["data"] == [float(q["funding"][0]["spent"]) for q in quarters] == [43.0, 21.5]
    spending_table = table_of(page.text, "spesa")
    assert "43,00\xa0€" in spending_table
    assert "21,50\xa0€" in spending_table
    assert "Totale: 64,50\xa0€" in page.text

    # The budget per source: spent and what is left, as billing counts them.
    [source] = desio_budget["funding"]
    assert charts["fonti"]["data"]["labels"] == [source["name"]]
    spent, left = charts["fonti"]["data"]["datasets"]
    assert (spent["data"], left["data"]) == (
        [float(source["spent"])],
        [float(source["remaining"])],
    )
    assert source["amount"] == "237600.00"
    assert "237.600,00\xa0€" in table_of(page.text, "fonti")

    # Persons served against the target.
    assert charts["beneficiari"]["data"]["datasets"][0]["data"] == [
        progress["beneficiaries"],
        progress["target"],
    ]
    assert progress["target"] == 125
    assert progress["message"] in html.unescape(page.text)

    # Outcomes: monitoring's rates, in percent.
    rates = ("readmitted_within_30_days", "institutionalised", "at_home_at_day_30")
    assert charts["esiti"]["data"]["datasets"][0]["data"] == [
        desio_outcomes[r]["percent"] for r in rates
    ]
    assert desio_outcomes["readmitted_within_30_days"]["percent"] == 50.0
    outcomes_table = table_of(page.text, "esiti")
    assert "Riammissione in ospedale entro 30 giorni dalla dimissione" in outcomes_table
    assert "50 %" in outcomes_table

    # Every chart described in words, every script from the desk itself (none inline).
    for chart in charts:
        assert re.search(
            rf'<canvas id="grafico-{chart}" data-grafico="{chart}" role="img" aria-label="[^"]+"',
            page.text,
        )
    scripts = re.findall(r"<script([^>]*)>", page.text)
    assert scripts
    assert all('src="/static/' in s or 'type="application/json"' in s for s in scripts)

    # Thresholds reached: this district's only, told in words, not by colour.
    assert "Soglia del 80 % raggiunta" in page.text
    assert "Soglia del 50 % raggiunta" not in page.text

    # English on request, same figures.
    assert charts_of(english.text)["charts"]["spesa"]["data"]["labels"] == ["Q3 2024", "Q4 2024"]
    assert charts_of(english.text)["charts"]["spesa"]["data"]["datasets"] == [pnrr]

    # --- the CSVs: the same figures
    for name, response in csvs.items():
        assert response.status_code == 200, (name, response.text)
        assert response.headers["content-type"].startswith("text/csv")
        assert f'filename="{name}-desio.csv"' in response.headers["content-disposition"]
    assert [
        (r["trimestre"], r["fonte"], r["speso"], r["beneficiari"])
        for r in rows_of(csvs["spesa"].text)
    ] == [
        (q["quarter"], f["funding_source"], f["spent"], str(f["beneficiaries"]))
        for q in quarters
        for f in q["funding"]
    ]
    budget_rows = rows_of(csvs["fonti"].text)
    assert [(r["fonte"], r["budget"], r["speso"], r["residuo"]) for r in budget_rows] == [
        (source["funding_source"], source["amount"], source["spent"], source["remaining"])
    ]
    [target_row] = rows_of(csvs["beneficiari"].text)
    assert (target_row["beneficiari"], target_row["obiettivo"]) == (
        str(progress["beneficiaries"]),
        "125",
    )
    indicators = {r["indicatore"]: r for r in rows_of(csvs["esiti"].text)}
    assert indicators["cases"]["valore"] == "2"
    readmitted = indicators["readmitted_within_30_days"]
    assert (readmitted["valore"], readmitted["su"], readmitted["percentuale"]) == (
        "1",
        "2",
        "50",
    )
    assert csvs["esiti"].text.startswith(
        "ambito_id;indicatore;descrizione;valore;su;percentuale\r\n"
    )

    assert backwards.status_code == 200
    assert "Il periodo finisce prima di cominciare" in backwards.text
    assert other_district.status_code == 403

    # --- the team: the reports, not the budget
    assert team_page.status_code == 200, team_page.text
    team_charts = charts_of(team_page.text)["charts"]
    assert set(team_charts) == {"spesa", "beneficiari", "esiti"}
    assert team_charts["spesa"] == charts["spesa"]
    assert "Il budget di ogni fonte è consultabile dall'Ufficio di Piano." in html.unescape(
        team_page.text
    )
    assert team_budget_csv.status_code == 403
    assert no_such_chart.status_code == 404
    assert team_spending_csv.text == csvs["spesa"].text


async def test_a_service_that_does_not_answer_empties_only_its_own_part(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, identity: Identity
) -> None:
    register(identity.issuer, "adm-desio-2", "Anna Ferrari", ["district_admin"], ambito_id="desio")
    billing_rt = service_runtime("billing", kafka_settings, database_settings)
    admin = identity.headers("district_admin", ambito_id="desio")
    async with serving(billing_rt, headers=admin) as (_, billing):
        assert billing_rt.http_url is not None
        # Billing's first token fetches the issuer's keys; the desk's requests at once would
        # race that fetch (shared TokenVerifier._key: see the report).
        assert (await billing.get("/budget")).status_code == 200
        # Monitoring is not running: the desk's address for it answers nothing.
        desk_rt = desk(kafka_settings, database_settings, {"billing": billing_rt.http_url})
        async with serving(desk_rt, headers={}) as (_, ui):
            await log_in(ui, "adm-desio-2", "/budget")
            page = await ui.get("/budget")
            outcomes_csv = await ui.get("/budget/esiti.csv")
            spending_csv = await ui.get("/budget/spesa.csv")

    assert page.status_code == 200, page.text
    charts = charts_of(page.text)["charts"]
    assert "esiti" not in charts
    assert set(charts) == {"fonti", "beneficiari"}  # no spending yet: nothing to draw
    section = r'<section class="report" aria-labelledby="titolo-esiti">.*?</section>'
    esiti = re.search(section, page.text, re.S)
    assert esiti
    assert 'role="alert"' in esiti[0]
    assert "non sono disponibili ora" in esiti[0]
    assert "Nessun dato per ora." in page.text  # spending: none yet
    assert outcomes_csv.status_code == 503
    assert spending_csv.status_code == 200
    assert spending_csv.text == "ambito_id;trimestre;periodo;fonte;nome_fonte;speso;beneficiari\r\n"
