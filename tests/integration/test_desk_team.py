"""The district team's pages end to end: the desk with the real intake, activation and
monitoring over HTTP, the real broker and PostgreSQL, the real identity provider (a person
logs in through its form). Nothing mocked.

- Oggi lists a new discharge waiting for its assessment (intake's list, asked with the user's
  own token), never another district's;
- the assessment typed in the desk's form reaches intake as that person's; a form that does
  not hold comes back with what to correct, and reaches nobody;
- another district's case is a 404 page, its row on the board too;
- the board's stream tells of a change of the user's case as soon as the desk has read it,
  and keeps the connection alive meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from cerniera.desk import queries
from cerniera.desk.web import team
from cerniera.shared.contract import Topics
from cerniera.shared.runtime import ServiceRuntime
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.desk_login import log_in, register
from support.discharges import (
    EXPECTED_DISCHARGE,
    MAGENTA,
    announced,
    from_hospital,
    met_answers,
    person,
)
from support.identity import Identity
from support.kafka import publish
from support.services import desk, service_runtime
from support.waiting import eventually

pytestmark = pytest.mark.integration

DESIO_OP = "as-giulia-sala"
OURS = "asst-vimercate:TEAM-1"  # a Desio resident's discharge
THEIRS = "asst-vimercate:TEAM-2"  # a Magenta resident's: Magentino's case
SERVICES = ("intake", "activation", "monitoring")


@contextlib.asynccontextmanager
async def the_system(
    kafka: KafkaSettings, database: DatabaseSettings
) -> AsyncIterator[tuple[ServiceRuntime, dict[str, str]]]:
    """Intake, activation and monitoring on the example districts, and the desk sending its
    commands to them; with where each service answers."""
    async with contextlib.AsyncExitStack() as running:
        runtimes = [service_runtime(name, kafka, database) for name in SERVICES]
        await asyncio.gather(*(running.enter_async_context(rt.running()) for rt in runtimes))
        urls = {name: str(rt.http_url) for name, rt in zip(SERVICES, runtimes, strict=True)}
        the_desk = await running.enter_async_context(desk(kafka, database, urls=urls).running())
        yield the_desk, urls


def section(page: str, testid: str) -> str:
    """The HTML of one section of Oggi (``data-testid``), up to the next."""
    start = page.index(f'data-testid="{testid}"')
    end = page.find("<section", start)
    return page[start : end if end != -1 else len(page)]


async def next_event(lines: AsyncIterator[str], timeout: float) -> tuple[str, str]:
    """The next (event, data) of a server-sent events stream; comments are ('', text)."""
    event, data = "", ""
    async with asyncio.timeout(timeout):
        async for line in lines:
            if line.startswith(":") and not event:
                return "", line[1:].strip()
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                data = line.removeprefix("data:").strip()
            elif line == "" and event:
                return event, data
    raise AssertionError("the stream ended")


async def test_the_team_sees_its_new_discharge_assesses_it_and_watches_it_live(
    kafka_settings: KafkaSettings,
    topics: Topics,
    database_settings: DatabaseSettings,
    identity: Identity,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    register(identity.issuer, DESIO_OP, "Giulia Sala", ["equipe"], ambito_id="desio")
    monkeypatch.setattr(team, "HEARTBEAT_S", 0.5)  # the desk runs in this process
    in_three_days = EXPECTED_DISCHARGE + timedelta(days=3)
    ours = announced(
        discharge_ref="TEAM-1", fiscal_code=person(701), expected_discharge_at=in_three_days
    )
    theirs = announced(
        discharge_ref="TEAM-2",
        fiscal_code=person(702),
        municipality_code=MAGENTA,
        expected_discharge_at=in_three_days,
    )

    async with (
        the_system(kafka_settings, database_settings) as (rt, urls),
        httpx.AsyncClient(base_url=str(rt.http_url), timeout=15) as browser,
    ):
        await publish(
            kafka_settings, topics.hospital_discharges, from_hospital(ours), from_hospital(theirs)
        )
        await log_in(browser, DESIO_OP, "/oggi")

        # Oggi: the new discharge, by the person's name once the desk has read it.
        async def today() -> str:
            page = await browser.get("/oggi")
            assert page.status_code == 200, page.text
            return page.text

        page = await eventually(
            today,
            lambda p: "Mario Rossi" in section(p, "today-awaiting_assessment"),
            what="the new discharge on Oggi",
        )
        waiting = section(page, "today-awaiting_assessment")
        assert f'data-case-id="{OURS}"' in waiting
        assert f'href="/casi/{OURS}#valutazione"' in waiting
        assert THEIRS not in page  # Magentino's, known to intake, never listed here
        assert 'aria-current="page"' in page

        # Another district's case: the desk has it, and answers as for no case at all.
        async def desk_has_theirs() -> Any:
            async with rt.engine.connect() as conn:
                return await queries.case_view(conn, THEIRS)

        found = await eventually(desk_has_theirs, lambda v: v is not None, what="theirs read")
        assert found.ambito_id == "magentino"
        refused = await browser.get(f"/casi/{THEIRS}")
        assert refused.status_code == 404
        assert "Pagina non trovata." in refused.text
        assert "Mario Rossi" not in refused.text
        assert (await browser.get(f"/arrivi/riga/{THEIRS}")).status_code == 404
        board = await browser.get("/arrivi")
        assert f'data-case-id="{OURS}"' in board.text
        assert THEIRS not in board.text

        # A form that does not hold: shown again with what to correct, sent nowhere.
        wrong = await browser.post(
            f"/casi/{OURS}/valutazione", data={"R1": "yes", "brass_score": "55"}
        )
        assert wrong.status_code == 422
        assert "Rispondi a questo requisito: sì, in parte o no." in wrong.text
        assert "Indica il punteggio BRASS: un numero intero da 0 a 40." in wrong.text
        assert (
            'id="valutazione-brass_score" name="brass_score" type="text" value="55"' in wrong.text
        )
        assert 'aria-describedby="valutazione-R2-errore" aria-invalid="true"' in wrong.text
        async with httpx.AsyncClient(
            base_url=urls["intake"], headers=identity.team(), timeout=10
        ) as intake_api:
            before = (await intake_api.get(f"/cases/{OURS}")).json()
            assert before["status"] == "awaiting_assessment"
            assert before["assessment_history"] == []

            async with browser.stream("GET", "/arrivi/eventi") as stream:
                assert stream.status_code == 200
                assert stream.headers["content-type"].startswith("text/event-stream")
                lines = stream.aiter_lines()
                assert await anext(lines) == "retry: 3000"
                assert await next_event(lines, 5) == ("", "connesso")
                assert await next_event(lines, 5) == ("", "battito")  # kept alive

                # The assessment, as the person types it, reaches intake as theirs.
                answers = {k: v.value for k, v in met_answers().items()}
                sent = await browser.post(
                    f"/casi/{OURS}/valutazione",
                    data={**answers, "brass_score": "22", "notes": "Vive sola."},
                )
                assert sent.status_code == 303, sent.text
                assert sent.headers["location"] == f"/casi/{OURS}"
                assessed = (await intake_api.get(f"/cases/{OURS}")).json()
                assert assessed["assessment"]["answers"] == answers
                assert assessed["assessment"]["brass_score"] == 22
                assert assessed["assessment"]["notes"] == "Vive sola."
                assert assessed["assessment"]["assessed_by"] == DESIO_OP
                assert assessed["status"] == "awaiting_consent"  # nothing published yet
                shown = await browser.get(sent.headers["location"])
                assert 'role="status"' in shown.text
                assert "Valutazione registrata." in shown.text
                assert 'id="consenso"' in shown.text

                # The consent: intake publishes the decision, the desk reads it, the board
                # hears of the case.
                consent = await browser.post(
                    f"/casi/{OURS}/consenso", data={"given": "yes", "given_by": "person"}
                )
                assert consent.status_code == 303, consent.text
                event, data = await _first_caso(lines)
                assert event == "caso"
                assert json.loads(data) == {"case_id": OURS}

            decided = (await intake_api.get(f"/cases/{OURS}")).json()
            assert decided["status"] == "eligible"
            assert decided["consent"]["recorded_by"] == DESIO_OP

        # A service's refusal comes back with the form, in the reader's words (monitoring
        # answers in English), what was typed kept.
        async def check_too_early() -> httpx.Response:
            return await browser.post(
                f"/casi/{OURS}/verifica", data={"outcome": "stable", "notes": "Presto."}
            )

        early = await eventually(
            check_too_early,
            lambda r: "Il monitoraggio comincia con la dimissione." in r.text,
            what="monitoring's refusal of a check before the discharge",
        )
        assert early.status_code == 409
        assert 'role="alert"' in early.text
        assert ">Presto.</textarea>" in early.text

        # No provider can start some services three days from now: Oggi shows the escalation
        # with the days left, and the team resolves it from the case page.
        page = await eventually(
            today,
            lambda p: f'data-case-id="{OURS}"' in section(p, "today-escalations"),
            what="the escalation on Oggi",
        )
        escalations = section(page, "today-escalations")
        service = re.findall(
            rf'data-case-id="{re.escape(OURS)}" data-service="(\w+)"', escalations
        )[0]
        assert "tra 3 giorni" in escalations
        assert f'href="/casi/{OURS}#segnalazione-{service}"' in escalations

        case_page = await browser.get(f"/casi/{OURS}")
        assert f'id="segnalazione-{service}"' in case_page.text
        resolved = await browser.post(
            f"/casi/{OURS}/segnalazioni/{service}/risolvi", data={"resolution": "family"}
        )
        assert resolved.status_code == 303, resolved.text
        async with httpx.AsyncClient(
            base_url=urls["activation"], headers=identity.team(), timeout=10
        ) as activation_api:
            readiness = (await activation_api.get(f"/cases/{OURS}/readiness")).json()
        (done,) = [e for e in readiness["escalations"] if e["service_type"] == service]
        assert (done["resolution"], done["covered_by"]) == ("family", "family")
        assert done["resolved_by"] == DESIO_OP

        # The row the board swaps in: covered by the family, that service is ready.
        async def row() -> httpx.Response:
            return await browser.get(f"/arrivi/riga/{OURS}")

        fragment = await eventually(
            row,
            lambda r: f'data-service="{service}" data-service-state="ready"' in r.text,
            what="the service covered on the board",
        )
        assert re.search(rf'<tr [^>]*data-case-id="{re.escape(OURS)}"', fragment.text)
        assert 'data-ready="false"' in fragment.text  # the others still wait for a provider
        assert "<html" not in fragment.text  # a fragment, not a page


async def _first_caso(lines: AsyncIterator[str], timeout: float = 30) -> tuple[str, str]:
    """The first ``caso`` event within ``timeout`` seconds, heartbeats skipped."""
    async with asyncio.timeout(timeout):
        while True:
            event, data = await next_event(lines, timeout)
            if event:
                return event, data
