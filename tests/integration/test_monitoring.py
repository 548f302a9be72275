"""Monitoring end to end: real broker, real PostgreSQL, real HTTP on loopback; nothing mocked.

Each test starts monitoring on its own topic prefix and an empty database with a clock of its
own (fixed, or accelerated so that a 30-day follow-up ends in seconds), publishes what intake
and the hospital would, drives the équipe's HTTP API, and looks at what an outside system would
see: the records on ``monitoring.cases`` and the dead-letter topics. Requests carry a token of
the embedded identity provider (by default, of the équipe of the test districts); the operator
it names is the one recorded.
"""

from __future__ import annotations

import contextlib
from datetime import date, datetime, timedelta
from typing import Any, TypeAlias

import httpx
import pytest
from aiokafka import ConsumerRecord
from sqlalchemy import func, select

from cerniera.monitoring.config import load_config
from cerniera.monitoring.service import runtime
from cerniera.monitoring.tables import inbox, pending_discharge_dates
from cerniera.shared.clock import ROME, Clock
from cerniera.shared.contract import (
    CaseClosed,
    CaseHandedOver,
    ServiceType,
    Topics,
    WeeklyCheckDone,
)
from cerniera.shared.envelope import Envelope, decode
from cerniera.shared.runtime import ServiceRuntime
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.discharges import EXPECTED_DISCHARGE, MAGENTA, cancelled, rescheduled
from support.districts import EXAMPLE
from support.identity import Identity
from support.kafka import headers_of, publish, read_topic
from support.monitoring_events import (
    activated,
    announcement,
    case_id,
    confirmed,
    from_intake,
    from_source,
    hospital_event,
    readmitted,
)
from support.services import LOOPBACK, healthy, serving
from support.waiting import eventually, read_quiet

pytestmark = pytest.mark.integration

MONITORING_SOURCE = "urn:dp:service:monitoring"
DAY = 86_400.0  # seconds

Record: TypeAlias = "ConsumerRecord[Any, Any]"
Due: TypeAlias = "list[tuple[str, int, str, bool, int]]"

# EXPECTED_DISCHARGE is 2024-10-03 10:00 in Rome: weeks due 10-10, 10-17, 10-24, 10-31;
# the follow-up ends on 11-02.
WEEKS = ["2024-10-10", "2024-10-17", "2024-10-24", "2024-10-31"]


# --- helpers -------------------------------------------------------------------------------


def running(
    kafka: KafkaSettings, database: DatabaseSettings, clock: Clock
) -> contextlib.AbstractAsyncContextManager[tuple[ServiceRuntime, httpx.AsyncClient]]:
    """Monitoring on the example districts, its API on a free loopback port, and a client."""
    return serving(runtime(kafka, database, load_config(EXAMPLE), clock=clock, service=LOOPBACK))


async def follow_up(client: httpx.AsyncClient, case: str, **expected: Any) -> dict[str, Any]:
    """The case's follow-up once it exists and its fields have the ``expected`` values."""

    async def probe() -> httpx.Response:
        return await client.get(f"/cases/{case}")

    def done(response: httpx.Response) -> bool:
        if response.status_code != 200:
            return False
        body = response.json()
        return all(body[k] == v for k, v in expected.items())

    response = await eventually(probe, done, what=f"follow-up {case} with {expected}")
    body: dict[str, Any] = response.json()
    return body


async def record_check(
    client: httpx.AsyncClient,
    case: str,
    expect: int = 201,
    headers: dict[str, str] | None = None,
    **body: Any,
) -> dict[str, Any]:
    response = await client.post(f"/cases/{case}/checks", json=body, headers=headers)
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


def refusal(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["detail"]["code"]


async def due(client: httpx.AsyncClient, **params: str) -> Due:
    response = await client.get("/checks/due", params=params)
    assert response.status_code == 200, response.text
    return [
        (c["case_id"], c["week"], c["due_on"], c["overdue"], c["days_overdue"])
        for c in response.json()
    ]


def published(records: list[Record], case: str) -> list[tuple[Record, Envelope]]:
    decoded = [(r, decode(r.value, r.headers)) for r in records]
    return [(r, e) for r, e in decoded if e.subject == case]


def assert_published_by_monitoring(record: Record, case: str, correlation_id: str) -> None:
    """Kafka key and subject = case id; the case's correlation id, whatever caused the event."""
    headers = headers_of(record)
    assert record.key == case.encode()
    assert headers["ce_subject"] == case
    assert headers["ce_source"] == MONITORING_SOURCE
    assert headers["ce_correlationid"] == correlation_id


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def closure_of(records: list[Record], case: str) -> datetime:
    [closure] = [e.data for _, e in published(records, case) if isinstance(e.data, CaseClosed)]
    assert isinstance(closure, CaseClosed)
    return closure.closed_at


async def count(rt: ServiceRuntime, table: Any, *where: Any) -> int:
    async with rt.engine.connect() as conn:
        total = await conn.scalar(select(func.count()).select_from(table).where(*where))
    return int(total or 0)


# --- a. a case followed over HTTP ----------------------------------------------------------


async def test_a_confirmed_case_is_followed_and_checked_over_http(
    kafka_settings: KafkaSettings,
    topics: Topics,
    database_settings: DatabaseSettings,
    identity: Identity,
) -> None:
    # Day 9 after the discharge: week 1 fell due two days ago, still within its grace period.
    clock = Clock(epoch=datetime(2024, 10, 12, 10, 0, tzinfo=ROME))
    decision = from_intake(confirmed("H-1"), correlation_id="corr-H-1")
    case = case_id("H-1")
    path = f"/cases/{case}"
    lbianchi = identity.headers("equipe", ambito_id="desio", username="op-lbianchi")
    mverdi = identity.headers("equipe", ambito_id="desio", username="op-mverdi")

    async with running(kafka_settings, database_settings, clock) as (rt, client):
        await publish(kafka_settings, topics.intake_cases, decision)
        opened = await follow_up(client, case)

        before = rt.clock.now()
        first = await record_check(
            client,
            case,
            headers=lbianchi,
            outcome="needs_adjustment",
            notes="Aumentare SAD a 9 ore/settimana.",
            recommendation="continue",
        )
        after = rt.clock.now()
        # Ahead of time, for a week asked for, at a given moment.
        ahead = await record_check(
            client,
            case,
            headers=mverdi,
            outcome="stable",
            week=3,
            checked_at="2024-10-12T09:15:00+02:00",
        )
        checked = await follow_up(client, case)

        # Refused: unknown case, a week recorded twice, bad input, before the discharge.
        body = {"outcome": "stable"}
        unknown_case = [
            await client.get("/cases/asst-vimercate:NOPE"),
            await client.post("/cases/asst-vimercate:NOPE/checks", json=body),
            await client.post("/cases/asst-vimercate:NOPE/close", json={"outcome": "deceased"}),
        ]
        twice = await client.post(f"{path}/checks", json={**body, "week": 1})
        not_scheduled = await client.post(f"{path}/checks", json={**body, "week": 5})
        before_discharge = await client.post(
            f"{path}/checks", json={**body, "checked_at": "2024-10-03T09:59:00+02:00"}
        )
        invalid = [
            await client.post(f"{path}/checks", json={**body, "outcome": "fine"}),
            await client.post(f"{path}/checks", json={}),
            await client.post(f"{path}/checks", json={**body, "week": 0}),
            await client.post(f"{path}/checks", json={**body, "checked_at": "2024-10-12T09:00"}),
            await client.post(f"{path}/checks", json={**body, "recommendation": "wait"}),
            await client.post(f"{path}/checks", json={**body, "surprise": True}),
            await client.post(f"{path}/close", json={"outcome": "completed"}),
            # The actor is the token's: a body naming one is refused, whoever it names.
            await client.post(f"{path}/checks", json={**body, "checked_by": "op-lbianchi"}),
            await client.post(f"{path}/close", json={"outcome": "deceased", "closed_by": "x"}),
            await client.get("/checks/due", params={"on": "yesterday"}),
        ]

        # The équipe ends the case early.
        closing = await client.post(
            f"{path}/close",
            json={"outcome": "deceased", "note": "Decesso a domicilio."},
            headers=lbianchi,
        )
        closed_again = await client.post(f"{path}/close", json={"outcome": "withdrawn"})
        check_when_closed = await client.post(f"{path}/checks", json=body)

        health = await client.get("/health")
        docs = await client.get("/docs")
        openapi = (await client.get("/openapi.json")).json()

        await read_topic(kafka_settings, topics.monitoring_cases, until=lambda rs: len(rs) >= 3)
        records = published(await read_quiet(kafka_settings, topics.monitoring_cases), case)

    # The follow-up opened from the decision, on the Italian day of the discharge.
    assert opened["status"] == "open"
    assert opened["ambito_id"] == "desio"
    assert moment(opened["discharge_at"]) == EXPECTED_DISCHARGE
    assert (opened["discharge_on"], opened["closes_on"]) == ("2024-10-03", "2024-11-02")
    assert [(w["week"], w["due_on"]) for w in opened["weeks"]] == list(enumerate(WEEKS, 1))
    assert not any(w["recorded"] or w["overdue"] for w in opened["weeks"])
    assert opened["checks"] == []
    assert opened["outcome"] is None
    assert opened["correlation_id"] == "corr-H-1"

    # The first check defaulted to week 1 and to the clock's now.
    assert first["week"] == 1
    assert first["due_on"] == WEEKS[0]
    assert before <= moment(first["checked_at"]) <= after
    assert (first["outcome"], first["recommendation"]) == ("needs_adjustment", "continue")
    assert (first["checked_by"], ahead["checked_by"]) == ("op-lbianchi", "op-mverdi")
    assert (ahead["week"], ahead["due_on"]) == (3, WEEKS[2])
    assert moment(ahead["checked_at"]) == datetime(2024, 10, 12, 9, 15, tzinfo=ROME)
    assert [c["week"] for c in checked["checks"]] == [1, 3]
    assert [w["recorded"] for w in checked["weeks"]] == [True, False, True, False]

    assert [refusal(r) for r in unknown_case] == [(404, "case.unknown")] * 3
    assert refusal(twice) == (409, "check.week_recorded")
    assert refusal(not_scheduled) == (422, "check.week_not_scheduled")
    assert refusal(before_discharge) == (409, "followup.not_started")
    assert [r.status_code for r in invalid] == [422] * len(invalid)

    assert closing.status_code == 200, closing.text
    closed = closing.json()
    assert (closed["status"], closed["outcome"]) == ("closed", "deceased")
    assert (closed["closed_by"], closed["close_note"]) == ("op-lbianchi", "Decesso a domicilio.")
    assert not any(w["overdue"] for w in closed["weeks"])
    assert refusal(closed_again) == (409, "followup.closed")
    assert refusal(check_when_closed) == (409, "followup.closed")

    # Published: the two checks and the closure, nothing for the refused requests; each under
    # the case's correlation id although no event caused them (an operator did).
    assert [e.type for _, e in records] == ["WeeklyCheckDone", "WeeklyCheckDone", "CaseClosed"]
    for record, _ in records:
        assert_published_by_monitoring(record, case, "corr-H-1")
        assert "ce_causationid" not in headers_of(record)
    week1, week3, closure = (e.data for _, e in records)
    assert week1 == WeeklyCheckDone(
        case_id=case,
        week=1,
        checked_at=moment(first["checked_at"]),
        outcome="needs_adjustment",
        recommendation="continue",
    )
    # The team's notes are kept here and shown to the team, never published: codes only.
    assert first["notes"] == "Aumentare SAD a 9 ore/settimana."
    assert b"notes" not in records[0][0].value
    assert b"Aumentare" not in records[0][0].value
    assert isinstance(week3, WeeklyCheckDone)
    assert (week3.week, week3.recommendation) == (3, None)
    assert closure == CaseClosed(
        case_id=case, closed_at=moment(closed["closed_at"]), outcome="deceased"
    )

    assert (health.status_code, health.json()) == (200, healthy("monitoring"))
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    schemas = openapi["components"]["schemas"]
    assert "checked_by" not in schemas["CheckRequest"]["properties"]
    assert "closed_by" not in schemas["CloseRequest"]["properties"]
    assert openapi["paths"]["/checks/due"]["get"]["x-roles"] == ["auditor", "equipe"]
    assert openapi["paths"]["/cases/{case_id}/close"]["post"]["x-roles"] == ["equipe"]
    assert {"/cases/{case_id}/checks", "/checks/due", "/cases/{case_id}/close"} <= set(
        openapi["paths"]
    )


# --- b. due and overdue ----------------------------------------------------------------------


async def test_checks_due_and_overdue_as_the_days_pass(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    # A simulated day every two real seconds, from the start of 18 October.
    clock = Clock(speed=DAY / 2, epoch=datetime(2024, 10, 18, 0, 0, tzinfo=ROME))
    d1, d2, m1, later = (case_id(ref) for ref in ("D-1", "D-2", "M-1", "F-1"))
    decisions = [
        from_intake(confirmed("D-1")),  # discharged 10-03: weeks due 10-10, 10-17, ...
        from_intake(confirmed("D-2", expected_discharge_at=EXPECTED_DISCHARGE + timedelta(5))),
        from_intake(
            confirmed(
                "M-1",
                ambito_id="magentino",
                expected_discharge_at=EXPECTED_DISCHARGE + timedelta(3),
            )
        ),
        from_intake(confirmed("F-1", expected_discharge_at=EXPECTED_DISCHARGE + timedelta(48))),
    ]

    async with running(kafka_settings, database_settings, clock) as (rt, client):
        await publish(kafka_settings, topics.intake_cases, *decisions)
        for case in (d1, d2, m1, later):
            await follow_up(client, case)

        # As of given days: the edges of week 1's grace period, by district.
        on_due_day = await due(client, on="2024-10-10")
        in_grace = await due(client, on="2024-10-12")
        first_day_overdue = await due(client, on="2024-10-13")
        desio_17 = await due(client, on="2024-10-17", ambito_id="desio")
        magentino_17 = await due(client, on="2024-10-17", ambito_id="magentino")
        all_17 = await due(client, on="2024-10-17")
        await record_check(client, d1, outcome="stable")
        after_check = await due(client, on="2024-10-17", ambito_id="desio")

        # As of today, as the clock runs: D-1's week 2 (due 10-17) is overdue from 10-20.
        async def today_and_listing() -> tuple[date, Due, Due]:
            today = rt.clock.today()
            listing = await due(client, ambito_id="desio")
            explicit = await due(client, ambito_id="desio", on=today.isoformat())
            return today, listing, explicit

        def week_2_overdue(seen: tuple[date, Due, Due]) -> bool:
            """Listed overdue, and the day did not change while the two listings were read."""
            day, listing, _ = seen
            return day == rt.clock.today() and (d1, 2, WEEKS[1], True) in [c[:4] for c in listing]

        today, listing, explicit = await eventually(
            today_and_listing, week_2_overdue, timeout=20, what="D-1 week 2 overdue"
        )

    assert on_due_day == [(d1, 1, "2024-10-10", False, 0)]
    assert in_grace == [(d1, 1, "2024-10-10", False, 0)]
    assert first_day_overdue == [
        (d1, 1, "2024-10-10", True, 1),
        (m1, 1, "2024-10-13", False, 0),
    ]
    assert desio_17 == [
        (d1, 1, "2024-10-10", True, 5),
        (d2, 1, "2024-10-15", False, 0),
        (d1, 2, "2024-10-17", False, 0),
    ]
    assert magentino_17 == [(m1, 1, "2024-10-13", True, 2)]
    assert all_17 == [
        (d1, 1, "2024-10-10", True, 5),
        (m1, 1, "2024-10-13", True, 2),
        (d2, 1, "2024-10-15", False, 0),
        (d1, 2, "2024-10-17", False, 0),
    ]
    # The check (default week: the overdue week 1) takes D-1 week 1 off the list.
    assert after_check == [(d2, 1, "2024-10-15", False, 0), (d1, 2, "2024-10-17", False, 0)]
    # Today's listing is the listing as of today; nothing due for the case discharged later.
    assert today >= date(2024, 10, 20)
    assert listing == explicit
    assert (d1, 2, WEEKS[1], True, (today - date(2024, 10, 17)).days - 2) in listing
    assert all(c[0] != later for c in listing)


# --- c. the end of the period, and an early end ------------------------------------------


async def test_closure_after_30_days_follows_the_last_check_and_readmission_ends_early(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    # Two simulated days every real second: the 30 days pass in about 15 s.
    epoch = datetime(2024, 10, 3, 10, 0, tzinfo=ROME)
    clock = Clock(speed=2 * DAY, epoch=epoch)
    handed, completed, back = (case_id(ref) for ref in ("C-HAND", "C-DONE", "C-BACK"))
    decisions = {
        case: from_intake(confirmed(ref, expected_discharge_at=epoch))
        for case, ref in ((handed, "C-HAND"), (completed, "C-DONE"), (back, "C-BACK"))
    }
    readmission = hospital_event(readmitted("C-BACK", epoch + timedelta(days=2, hours=3)))
    # C-HAND lives in Magenta; its SAD runs (teleassistance, in its plan, never started).
    home = announcement("C-HAND", epoch - timedelta(days=4), municipality_code=MAGENTA)
    sad = activated("C-HAND", ServiceType.SAD, "coop-il-melograno", epoch.date())

    async with running(kafka_settings, database_settings, clock) as (rt, client):
        await publish(kafka_settings, topics.hospital_discharges, home)
        await publish(kafka_settings, topics.activation_services, from_source(sad))
        await publish(kafka_settings, topics.intake_cases, *decisions.values())
        for case in decisions:
            await follow_up(client, case, status="open")
        # The last word counts: hand over after "continue", but "continue" after hand over.
        for case, recommendations in (
            (handed, ("continue", "hand_over_to_municipality")),
            (completed, ("hand_over_to_municipality", "continue")),
        ):
            for recommendation in recommendations:
                await record_check(client, case, outcome="stable", recommendation=recommendation)
        await publish(kafka_settings, topics.hospital_discharges, readmission)
        readmitted_view = await follow_up(client, back, status="closed")

        def closed(records: list[Record]) -> bool:
            return all(
                any(e.type == "CaseClosed" for _, e in published(records, case))
                for case in (handed, completed)
            )

        await read_topic(kafka_settings, topics.monitoring_cases, until=closed, timeout=40)
        # Quiet for a while longer: the periodic closure has run again over every case.
        records = await read_quiet(kafka_settings, topics.monitoring_cases, quiet=1.5)
        handed_view = await follow_up(client, handed)
        summary = (await client.get(f"/cases/{handed}/hand-over-summary")).json()
        now = rt.clock.now()

    end_of_period = datetime(2024, 11, 2, tzinfo=ROME)
    for case, outcome in (
        (handed, "handed_over_to_municipality"),
        (completed, "completed"),
    ):
        events = [(r, e) for r, e in published(records, case) if e.type != "CaseHandedOver"]
        assert [e.type for _, e in events] == ["WeeklyCheckDone"] * 2 + ["CaseClosed"]
        checks = [e.data for _, e in events[:2]]
        assert [c.week for c in checks if isinstance(c, WeeklyCheckDone)] == [1, 2]
        for record, _ in events:
            assert_published_by_monitoring(record, case, decisions[case].correlation_id or "")
        closure = events[-1][1].data
        assert isinstance(closure, CaseClosed)
        assert closure.outcome == outcome
        assert end_of_period <= closure.closed_at <= now

    assert (handed_view["status"], handed_view["outcome"]) == (
        "closed",
        "handed_over_to_municipality",
    )
    assert handed_view["closes_on"] == "2024-11-02"
    # The team recommended the hand-over but did not do the step: at the closure the case
    # passes to the municipality of residence with the services running, just before closing.
    [handing] = [(r, e) for r, e in published(records, handed) if e.type == "CaseHandedOver"]
    assert [e.type for _, e in published(records, handed)][-2:] == ["CaseHandedOver", "CaseClosed"]
    assert_published_by_monitoring(handing[0], handed, decisions[handed].correlation_id or "")
    handover = handing[1].data
    assert isinstance(handover, CaseHandedOver)
    assert (handover.municipality_code, handover.continuing) == (MAGENTA, [ServiceType.SAD])
    assert (handover.ambito_id, handover.handed_over_at) == ("desio", closure_of(records, handed))
    assert (summary["handed_over"], summary["continuing"]) == (True, ["sad"])
    assert "Passaggio al Comune" in summary["text"]
    assert "alla chiusura del monitoraggio" in summary["text"]
    assert not any(e.type == "CaseHandedOver" for _, e in published(records, completed))

    # Readmitted: closed at the readmission, under the case's correlation id (not the
    # hospital's), caused by the readmission; and never closed again at the end of the period.
    [(record, event)] = published(records, back)
    assert event.data == CaseClosed(
        case_id=back, closed_at=epoch + timedelta(days=2, hours=3), outcome="readmitted"
    )
    assert_published_by_monitoring(record, back, decisions[back].correlation_id or "")
    assert event.causation_id == readmission.id
    assert readmitted_view["outcome"] == "readmitted"
    assert moment(readmitted_view["closed_at"]) == epoch + timedelta(days=2, hours=3)


# --- d. the hospital's events, before and after the decision --------------------------------


async def test_hospital_events_before_and_after_the_decision(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    # 1 October: the cases below are discharged on the 3rd, except S-1 (28 September).
    clock = Clock(epoch=datetime(2024, 10, 1, 10, 0, tzinfo=ROME))
    moved, gone, open_, started, rome = (
        case_id(ref) for ref in ("P-MOVED", "P-GONE", "O-1", "S-1", "R-ROMA")
    )
    first_move = EXPECTED_DISCHARGE + timedelta(days=2)
    latest_move = datetime(2024, 10, 6, 9, 0, tzinfo=ROME)
    early = [
        hospital_event(rescheduled("P-MOVED", first_move)),
        hospital_event(rescheduled("P-MOVED", latest_move)),
        hospital_event(cancelled("P-GONE")),
    ]
    started_decision = from_intake(
        confirmed("S-1", expected_discharge_at=EXPECTED_DISCHARGE - timedelta(days=5))
    )
    again = from_intake(confirmed("S-1"))  # the same decision under another id and correlation
    unknown = hospital_event(readmitted("U-1", EXPECTED_DISCHARGE))

    async with running(kafka_settings, database_settings, clock) as (rt, client):
        # Before the decisions: kept, the latest date per case.
        await publish(kafka_settings, topics.hospital_discharges, *early)

        async def pending() -> dict[str, Any]:
            async with rt.engine.connect() as conn:
                rows = await conn.execute(select(pending_discharge_dates))
                return {r.case_id: (r.expected_discharge_at, r.cancelled) for r in rows}

        waiting = await eventually(
            pending,
            lambda rows: rows.get(moved, (None,))[0] == latest_move and gone in rows,
            what="pending reschedule and cancellation",
        )
        await publish(
            kafka_settings,
            topics.intake_cases,
            from_intake(confirmed("P-MOVED")),
            from_intake(confirmed("P-GONE")),
            from_intake(confirmed("O-1")),
            started_decision,
            from_intake(confirmed("R-ROMA", ambito_id="roma")),
        )
        moved_view = await follow_up(client, moved)
        gone_view = await follow_up(client, gone)
        await follow_up(client, open_, status="open")
        await follow_up(client, started, status="open")
        left_pending = await pending()

        # After the decisions: a reschedule before the discharge moves it, one after is
        # ignored; a cancellation cancels without an event; a readmission closes; a
        # readmission for a case not (yet) followed is kept, in case its decision comes.
        await publish(kafka_settings, topics.intake_cases, again)
        await publish(
            kafka_settings,
            topics.hospital_discharges,
            hospital_event(rescheduled("O-1", EXPECTED_DISCHARGE + timedelta(days=1))),
            hospital_event(cancelled("O-1")),
            hospital_event(rescheduled("S-1", EXPECTED_DISCHARGE + timedelta(days=7))),
            hospital_event(readmitted("S-1", EXPECTED_DISCHARGE - timedelta(days=1))),
            unknown,
        )
        open_view = await follow_up(client, open_, status="cancelled")
        started_view = await follow_up(client, started, status="closed")
        await eventually(
            lambda: count(rt, inbox, inbox.c.event_id.in_([again.id, unknown.id])),
            lambda n: n == 2,
            what="the repeated decision and the unknown readmission consumed",
        )
        started_after = await follow_up(client, started)
        check_cancelled = await client.post(f"/cases/{gone}/checks", json={"outcome": "stable"})
        roma = await client.get(f"/cases/{rome}")
        dead = await read_topic(
            kafka_settings, topics.dlq(topics.intake_cases), until=lambda rs: len(rs) >= 1
        )
        records = await read_quiet(kafka_settings, topics.monitoring_cases)
        hospital_dead = await read_quiet(
            kafka_settings, topics.dlq(topics.hospital_discharges), quiet=0.5
        )
        pending_at_end = await pending()
        async with rt.engine.connect() as conn:
            kept = (await conn.execute(select(pending_discharge_dates))).all()

    assert waiting == {moved: (latest_move, False), gone: (None, True)}
    # The reschedule that came first applies when the follow-up opens.
    assert moment(moved_view["discharge_at"]) == latest_move
    assert (moved_view["discharge_on"], moved_view["closes_on"]) == ("2024-10-06", "2024-11-05")
    assert moved_view["weeks"][0]["due_on"] == "2024-10-13"
    assert moved_view["status"] == "open"
    # A cancellation that came first: the follow-up exists, cancelled.
    assert gone_view["status"] == "cancelled"
    assert refusal(check_cancelled) == (409, "followup.cancelled")
    assert left_pending == {}

    # Rescheduled before the discharge (to the 4th), then cancelled.
    assert (open_view["discharge_on"], open_view["closes_on"]) == ("2024-10-04", "2024-11-03")
    assert open_view["outcome"] is None
    # Discharged on 28 September: the reschedule came too late; the readmission closed it.
    assert started_view["discharge_on"] == "2024-09-28"
    assert started_view["outcome"] == "readmitted"
    # The repeated decision opened nothing new: the first correlation stays.
    assert started_after["correlation_id"] == started_decision.correlation_id

    # A district monitoring does not know: dead-lettered, with the reason.
    assert roma.status_code == 404
    [letter] = dead
    assert headers_of(letter)["dlq_reason_code"] == "ambito.unknown"
    assert headers_of(letter)["ce_subject"] == rome

    # The one event published is the readmission's closure; no hospital event was refused.
    assert [(e.subject, e.type) for e in (decode(r.value, r.headers) for r in records)] == [
        (started, "CaseClosed")
    ]
    assert hospital_dead == []
    assert [(r.case_id, r.readmitted_at) for r in kept] == [(unknown.subject, EXPECTED_DISCHARGE)]
    assert pending_at_end == {unknown.subject: (None, False)}
