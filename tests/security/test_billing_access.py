"""Billing as providers, neighbouring districts, the team and the auditor try it: each reads
only its own statements and budgets, only a district's administration issues, and nothing is
published by a refused request."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from cerniera.billing.config import load_config
from cerniera.billing.service import runtime
from cerniera.shared.clock import Clock
from cerniera.shared.contract import ProviderStatementIssued, Topics
from cerniera.shared.envelope import decode
from cerniera.shared.runtime import ServiceSettings
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.billing_events import (
    MELOGRANO,
    RISTORAZIONE,
    SAD,
    activated,
    case_id,
    confirmed,
    delivery,
    reported,
)
from support.districts import EXAMPLE
from support.identity import Identity
from support.kafka import publish
from support.services import serving
from support.waiting import eventually, read_quiet

pytestmark = pytest.mark.integration

NOW = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)
PERIOD = "2026-12"


def refusal(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["detail"]["code"]


async def test_each_caller_sees_and_issues_only_what_is_theirs(
    kafka_settings: KafkaSettings,
    topics: Topics,
    database_settings: DatabaseSettings,
    identity: Identity,
) -> None:
    case = case_id("SEC-BILL")
    melograno = identity.headers("provider", provider_id=MELOGRANO)
    ristorazione = identity.headers("provider", provider_id=RISTORAZIONE)
    desio = identity.headers("district_admin", ambito_id="desio")
    magentino = identity.headers("district_admin", ambito_id="magentino")
    team = identity.headers("equipe", ambito_id="desio")
    auditor = identity.headers("auditor")
    rt = runtime(
        kafka_settings,
        database_settings,
        load_config(EXAMPLE),
        clock=Clock(epoch=NOW),
        service=ServiceSettings(http_port=0),
    )
    async with serving(rt, headers=desio) as (_, http):
        await publish(kafka_settings, topics.intake_cases, confirmed(case))
        await publish(
            kafka_settings,
            topics.activation_services,
            activated(case, MELOGRANO, SAD, date(2026, 12, 1)),
        )
        line = reported(delivery(case, MELOGRANO, SAD, date(2026, 12, 9), 2, delivery_ref="S-1"))
        await publish(kafka_settings, topics.provider_reports(MELOGRANO), line)
        path = f"/statements/{MELOGRANO}/{PERIOD}"

        async def own() -> dict[str, Any]:
            answer = await http.get(path, headers=melograno)
            return dict(answer.json()) if answer.status_code == 200 else {}

        statement = await eventually(own, lambda s: s.get("total") == "43.00", what="the line")

        # Another provider's statement, issuing, budgets: not a provider's.
        other = await http.get(path, headers=ristorazione)
        csv = await http.get(f"{path}.csv", headers=ristorazione)
        provider_issues = await http.post(f"{path}/issue", headers=melograno)
        provider_budget = await http.get("/budget", headers=melograno)
        # A neighbouring district's administration: not Desio's statements, budget or money.
        neighbour = await http.get(path, params={"ambito_id": "desio"}, headers=magentino)
        neighbour_issues = await http.post(
            f"{path}/issue", params={"ambito_id": "desio"}, headers=magentino
        )
        neighbour_budget = await http.get("/budget", headers=magentino)
        asked_budget = await http.get("/budget", params={"ambito_id": "desio"}, headers=magentino)
        # The team and the auditor do not issue; the auditor reads everything.
        team_reads = await http.get(path, headers=team)
        auditor_issues = await http.post(
            f"{path}/issue", params={"ambito_id": "desio"}, headers=auditor
        )
        auditor_reads = await http.get(path, headers=auditor)
        auditor_budget = await http.get("/budget", headers=auditor)
        published_before = await read_quiet(kafka_settings, topics.billing_ledger, quiet=1.0)
        # Desio's administration issues its own.
        issued = await http.post(f"{path}/issue")

    assert statement["lines"][0]["delivery_ref"] == "S-1"
    assert refusal(other) == refusal(csv) == (403, "access.provider")
    assert refusal(provider_issues) == (403, "access.role")
    assert refusal(provider_budget) == (403, "access.role")
    assert refusal(neighbour) == refusal(neighbour_issues) == (403, "access.district")
    assert [b["ambito_id"] for b in neighbour_budget.json()] == ["magentino"]
    assert refusal(asked_budget) == (403, "access.district")
    assert refusal(team_reads) == (403, "access.role")
    assert refusal(auditor_issues) == (403, "access.role")
    assert auditor_reads.json()["total"] == "43.00"
    assert {b["ambito_id"] for b in auditor_budget.json()} == {"desio", "magentino"}
    # No refused request published anything; the administration's issue did, once.
    issued_events = [
        r
        for r in published_before
        if decode(r.value, r.headers).type == ProviderStatementIssued.event_type
    ]
    assert issued_events == []
    assert issued.status_code == 201
    assert issued.json()["ambito_id"] == "desio"


async def test_reports_and_the_funder_export_are_the_districts_own(
    kafka_settings: KafkaSettings,
    database_settings: DatabaseSettings,
    identity: Identity,
) -> None:
    desio_admin = identity.headers("district_admin", ambito_id="desio")
    magentino_admin = identity.headers("district_admin", ambito_id="magentino")
    desio_team = identity.headers("equipe", ambito_id="desio")
    magentino_team = identity.headers("equipe", ambito_id="magentino")
    provider = identity.headers("provider", provider_id=MELOGRANO)
    auditor = identity.headers("auditor")
    desio = {"ambito_id": "desio"}
    plan = {**desio, "services": [{"service_type": "sad", "weekly_quantity": 6}], "weeks": 4}
    reads = ("/reports/spending", "/reports/beneficiaries")
    exports = ("/reports/funder-export.json", "/reports/funder-export.csv")
    rt = runtime(
        kafka_settings,
        database_settings,
        load_config(EXAMPLE),
        clock=Clock(epoch=NOW),
        service=ServiceSettings(http_port=0),
    )
    async with serving(rt, headers=desio_admin) as (_, http):

        async def answers(headers: dict[str, str], paths: tuple[str, ...]) -> list[Any]:
            return [(await http.get(p, params=desio, headers=headers)) for p in paths]

        # Another district's administration and team: 403 on Desio's reports and export.
        neighbour_reads = await answers(magentino_admin, reads + exports)
        neighbour_team_reads = await answers(magentino_team, reads)
        neighbour_forecast = await http.post("/budget/forecast", json=plan, headers=magentino_team)
        # Desio's team reads the reports and forecasts, but the export is the administration's.
        team_reads = await answers(desio_team, reads)
        team_forecast = await http.post("/budget/forecast", json=plan, headers=desio_team)
        team_exports = await answers(desio_team, exports)
        provider_reads = await answers(provider, reads + exports)
        own = await answers(desio_admin, reads + exports)
        audited = await answers(auditor, reads + exports)
        unscoped = await http.get("/reports/spending", headers=magentino_admin)

    assert [refusal(r) for r in neighbour_reads] == [(403, "access.district")] * 4
    assert [refusal(r) for r in neighbour_team_reads] == [(403, "access.district")] * 2
    assert refusal(neighbour_forecast) == (403, "access.district")
    assert [r.status_code for r in team_reads] == [200, 200]
    assert team_forecast.status_code == 200
    assert [refusal(r) for r in team_exports] == [(403, "access.role")] * 2
    assert [refusal(r) for r in provider_reads] == [(403, "access.role")] * 4
    assert [r.status_code for r in own] == [200] * 4
    assert [r.status_code for r in audited] == [200] * 4
    # Without a district: the caller's own only.
    assert [d["ambito_id"] for d in unscoped.json()] == ["magentino"]
