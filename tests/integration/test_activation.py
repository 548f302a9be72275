"""Activation end to end: real broker, real PostgreSQL, real HTTP; nothing mocked.

Each test starts activation on its own topic prefix and an empty database, with a clock whose
epoch is Monday 2 March 2026, 9:00 in Italy (no holiday near), so lead times are deterministic:
in Desio (municipality 108023) SAD is asked of coop-il-melograno (2 working days: Wednesday 4)
then coop-solidarieta-brianza (1 day), meals of brianza-ristorazione-sociale (2 days) then
pasti-a-casa-desio (3 days), teleassistance of telesoccorso-lombardia (3 days: Thursday 5) then
croce-azzurra-teleassistenza (2 days). The tests publish what the hospital, intake, providers
(each on its own reports topic) and monitoring would, and look at what activation writes: on
``activation.services`` (no personal data) and on each provider's own request topic.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from cerniera.shared.clock import ROME, Clock
from cerniera.shared.contract import (
    CaseOutcome,
    EligibilityConfirmed,
    EligibilityRejected,
    EscalationReason,
    ServiceActivated,
    ServiceActivationEscalated,
    ServiceActivationRequested,
    ServiceDeactivated,
    ServiceType,
    Topics,
)
from cerniera.shared.envelope import Envelope
from cerniera.shared.messaging import dlq
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.activation_events import (
    accepted,
    closed,
    confirmed,
    declined,
    from_intake,
    from_monitoring,
    from_provider,
    readmission,
    readmitted,
    rejected,
)
from support.activation_running import (
    EPOCH,
    accept,
    activation,
    answer,
    case_status,
    count,
    for_case,
    march,
    of,
    on_topic,
    planned_case,
    request_rows,
    requests_for,
    seen,
    settled,
    start_case,
    wait_events,
    written,
)
from support.discharges import (
    FISCAL_CODE,
    announced,
    cancelled,
    from_hospital,
    rescheduled,
)
from support.identity import Identity
from support.kafka import headers_of, publish, read_topic
from support.services import healthy
from support.waiting import eventually, read_quiet

pytestmark = pytest.mark.integration

SAD, MEALS, TELE = ServiceType.SAD, ServiceType.MEALS, ServiceType.TELEASSISTANCE
REQUEST_FIELDS = {
    "case_id",
    "request_id",
    "provider_id",
    "service_type",
    "weekly_quantity",
    "start_by",
    "beneficiary",
}
BENEFICIARY = {
    "name": "Mario Rossi",
    "address": "Via Garibaldi 4, 20832 Desio (MB)",
    "phone": "+39 0362 123456",
}

# --- a. one request per service, then activation ------------------------------------------------


async def test_one_request_per_service_then_accept_activates(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    async with activation(kafka_settings, database_settings).running() as rt:
        case_id, announcement, sent = await planned_case(kafka_settings, topics, "A-1", march(5))
        await answer(
            kafka_settings,
            topics,
            case_id,
            accepted(sent[SAD].request_id, "coop-il-melograno", march(4, 8)),
            accepted(sent[MEALS].request_id, "brianza-ristorazione-sociale", march(5, 11)),
            # 23:30 UTC on 4 March is 00:30 on the 5th in Italy: active from the 5th.
            accepted(
                sent[TELE].request_id,
                "telesoccorso-lombardia",
                datetime(2026, 3, 4, 23, 30, tzinfo=UTC),
            ),
        )
        await wait_events(kafka_settings, topics, case_id, count(ServiceActivated, 3))
        found = await settled(kafka_settings, topics, case_id)
        rows = await request_rows(rt, case_id)

    # Thursday 5 March: every first choice can start by then, so start_by is the discharge day.
    assert {s: (r.provider_id, r.start_by, r.weekly_quantity) for s, r in sent.items()} == {
        SAD: ("coop-il-melograno", date(2026, 3, 5), Decimal(6)),
        MEALS: ("brianza-ristorazione-sociale", date(2026, 3, 5), Decimal(5)),
        TELE: ("telesoccorso-lombardia", date(2026, 3, 5), Decimal(7)),
    }
    assert {r.request_id for r in sent.values()} == {
        f"{case_id}/sad/1",
        f"{case_id}/meals/1",
        f"{case_id}/teleassistance/1",
    }
    # Only what the provider needs, on the wire: no fiscal code, no birth date, no assessment;
    # and only on the provider's own topic: the shared topic carries no personal data at all.
    for record, event in found:
        assert record.key == case_id.encode()
        assert headers_of(record)["ce_source"] == "urn:dp:service:activation"
        assert event.correlation_id == announcement.id
        assert FISCAL_CODE.encode() not in record.value
        assert b"1940-12-10" not in record.value
        if isinstance(event.data, ServiceActivationRequested):
            assert record.topic == topics.provider_requests(event.data.provider_id)
            payload = json.loads(record.value)
            assert set(payload) == REQUEST_FIELDS
            assert payload["beneficiary"] == BENEFICIARY
        else:
            assert record.topic == topics.activation_services
            assert b"Rossi" not in record.value
            assert b"Garibaldi" not in record.value
    assert (
        sorted(e.type for _, e in found)
        == ["ServiceActivated"] * 3 + ["ServiceActivationRequested"] * 3
    )
    activated = {a.service_type: a for a in of([e for _, e in found], ServiceActivated)}
    assert {s: (a.request_id, a.provider_id, a.active_from) for s, a in activated.items()} == {
        SAD: (sent[SAD].request_id, "coop-il-melograno", date(2026, 3, 4)),
        MEALS: (sent[MEALS].request_id, "brianza-ristorazione-sociale", date(2026, 3, 5)),
        TELE: (sent[TELE].request_id, "telesoccorso-lombardia", date(2026, 3, 5)),
    }
    assert [(r.service_type, r.status, r.attempt) for r in rows] == [
        ("meals", "accepted", 1),
        ("sad", "accepted", 1),
        ("teleassistance", "accepted", 1),
    ]
    assert all(r.deadline_at - r.requested_at == timedelta(hours=24) for r in rows)


# --- b. a decline moves to the next provider --------------------------------------------------


async def test_a_decline_moves_to_the_next_provider(
    kafka_settings: KafkaSettings,
    topics: Topics,
    database_settings: DatabaseSettings,
    identity: Identity,
) -> None:
    async with activation(kafka_settings, database_settings).running() as rt:
        case_id, _ = await start_case(kafka_settings, topics, "B-1", march(5), services=[(SAD, 6)])
        first = (await requests_for(kafka_settings, topics, case_id, 1))[SAD]
        await answer(kafka_settings, topics, case_id, declined(first.request_id, first.provider_id))
        events = await wait_events(
            kafka_settings, topics, case_id, count(ServiceActivationRequested, 2)
        )
        [second] = [r for r in of(events, ServiceActivationRequested) if r != first]
        async with httpx.AsyncClient(base_url=rt.http_url or "", headers=identity.team()) as http:
            view = (await http.get(f"/cases/{case_id}/readiness")).json()

        # Stale answers: the first provider changes its mind, and a request nobody made.
        await answer(
            kafka_settings,
            topics,
            case_id,
            accepted(first.request_id, first.provider_id, march(4)),
            accepted(f"{case_id}/sad/9", "coop-il-melograno", march(4)),
            declined(second.request_id, second.provider_id),
        )
        await wait_events(kafka_settings, topics, case_id, count(ServiceActivationEscalated, 1))
        records = await settled(kafka_settings, topics, case_id)
        found = seen(records)

    assert (first.provider_id, second.provider_id) == (
        "coop-il-melograno",
        "coop-solidarieta-brianza",
    )
    assert second.request_id == f"{case_id}/sad/2"
    assert second.start_by == date(2026, 3, 5)
    assert view["ready"] is False
    [sad] = view["services"]
    assert sad["provider_id"] == "coop-solidarieta-brianza"
    assert sad["late"].startswith(
        "rifiutato da coop-il-melograno (capacity), ora si chiede a coop-solidarieta-brianza"
    )
    # Each provider asked on its own topic; the stale answers changed nothing.
    assert on_topic(records, topics.provider_requests(first.provider_id)) == [
        ("ServiceActivationRequested", first.request_id)
    ]
    assert on_topic(records, topics.provider_requests(second.provider_id)) == [
        ("ServiceActivationRequested", second.request_id)
    ]
    assert on_topic(records, topics.activation_services) == [("ServiceActivationEscalated", None)]
    assert of(found, ServiceActivationEscalated)[0].reason is (
        EscalationReason.ALL_PROVIDERS_DECLINED
    )


# --- c. silence past the deadline ----------------------------------------------------------------


async def test_silence_past_the_deadline_moves_on_then_escalates(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    # 24 simulated hours pass in 1.5 real seconds; the discharge is a month away, so the start
    # of the plan a few simulated days after the epoch does not change who is asked.
    discharge = datetime(2026, 4, 1, 10, tzinfo=ROME)
    clock = Clock(speed=24 * 3600 / 1.5, epoch=EPOCH)
    rt = activation(kafka_settings, database_settings, clock, deadline_check_s=0.2)
    async with rt.running():
        case_id, announcement = await start_case(
            kafka_settings, topics, "C-1", discharge, services=[(SAD, 6)]
        )
        await wait_events(kafka_settings, topics, case_id, count(ServiceActivationEscalated, 1))
        records = await settled(kafka_settings, topics, case_id, quiet=1.5)
        found = seen(records)
        rows = await request_rows(rt, case_id)

    # Each provider, on its own topic, is asked and then told it was passed over; the platform
    # hears of both withdrawals and of the escalation on the shared topic.
    for n, provider in ((1, "coop-il-melograno"), (2, "coop-solidarieta-brianza")):
        assert on_topic(records, topics.provider_requests(provider)) == [
            ("ServiceActivationRequested", f"{case_id}/sad/{n}"),
            ("ServiceDeactivated", f"{case_id}/sad/{n}"),
        ]
    assert on_topic(records, topics.activation_services) == [
        ("ServiceDeactivated", f"{case_id}/sad/1"),
        ("ServiceDeactivated", f"{case_id}/sad/2"),
        ("ServiceActivationEscalated", None),
    ]
    # The provider's copy is the same deactivation, under an id of its own.
    copies = [(r, e) for r, e in records if isinstance(e.data, ServiceDeactivated)]
    assert len({e.id for _, e in copies}) == 4
    assert len({e.data for _, e in copies}) == 2
    # Timer-driven events stay in the case's correlation chain.
    assert {e.correlation_id for _, e in records} == {announcement.id}
    withdrawn = of(found, ServiceDeactivated)
    assert [d.provider_id for d in withdrawn] == ["coop-il-melograno", "coop-solidarieta-brianza"]
    assert all(EPOCH.date() < d.until < discharge.date() for d in withdrawn)
    assert of(found, ServiceActivationEscalated)[0].reason is (
        EscalationReason.NO_ANSWER_BEFORE_DEADLINE
    )
    assert [(r.status, r.reason) for r in rows] == [
        ("expired", "no answer before the deadline"),
        ("expired", "no answer before the deadline"),
    ]
    # The second provider got its own 24 hours, from when it was asked.
    assert rows[1].requested_at >= rows[0].deadline_at
    assert rows[1].deadline_at - rows[1].requested_at == timedelta(hours=24)


# --- d. a reschedule moves the plan ------------------------------------------------------------


async def test_a_reschedule_resends_requests_with_the_new_start_by(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    async with activation(kafka_settings, database_settings).running():
        case_id, _, sent = await planned_case(kafka_settings, topics, "D-1", march(6))
        await accept(kafka_settings, topics, case_id, (sent[SAD], march(5, 8)))
        await wait_events(kafka_settings, topics, case_id, count(ServiceActivated, 1))

        # Later: Monday 9. Every open request, pending or accepted, gets the new day.
        await publish(
            kafka_settings,
            topics.hospital_discharges,
            from_hospital(rescheduled("D-1", march(9))),
        )
        later = await wait_events(
            kafka_settings, topics, case_id, count(ServiceActivationRequested, 6)
        )
        # Earlier: Wednesday 4. SAD was accepted for Thursday 5 and telesoccorso-lombardia
        # (asked on Monday, 3 working days) cannot start before Thursday: both escalated.
        await publish(
            kafka_settings,
            topics.hospital_discharges,
            from_hospital(rescheduled("D-1", march(4))),
        )
        await wait_events(kafka_settings, topics, case_id, count(ServiceActivationEscalated, 2))
        found = seen(await settled(kafka_settings, topics, case_id))

    def starts(events: list[Envelope]) -> dict[str, list[tuple[str, date]]]:
        """Each request's versions, in order (one request, one provider's topic: ordered)."""
        versions: dict[str, list[tuple[str, date]]] = {}
        for r in of(events, ServiceActivationRequested):
            versions.setdefault(r.request_id, []).append((r.provider_id, r.start_by))
        return versions

    assert {r.start_by for r in sent.values()} == {date(2026, 3, 6)}
    assert of(later, ServiceActivationEscalated) == []
    # The same request ids: a repeated request_id is an update of that request.
    assert starts(later) == {
        r.request_id: [(r.provider_id, date(2026, 3, 6)), (r.provider_id, date(2026, 3, 9))]
        for r in sent.values()
    }
    assert all(
        r.beneficiary.model_dump() == BENEFICIARY for r in of(later, ServiceActivationRequested)
    )
    assert {rid: [day for _, day in v] for rid, v in starts(found).items()} == {
        sent[SAD].request_id: [date(2026, 3, 6), date(2026, 3, 9), date(2026, 3, 4)],
        sent[MEALS].request_id: [date(2026, 3, 6), date(2026, 3, 9), date(2026, 3, 4)],
        # as soon as it can
        sent[TELE].request_id: [date(2026, 3, 6), date(2026, 3, 9), date(2026, 3, 5)],
    }
    assert {(e.service_type, e.reason) for e in of(found, ServiceActivationEscalated)} == {
        (SAD, EscalationReason.CANNOT_START_BEFORE_DISCHARGE),
        (TELE, EscalationReason.CANNOT_START_BEFORE_DISCHARGE),
    }
    assert len(of(found, ServiceActivationEscalated)) == 2
    assert len(of(found, ServiceActivated)) == 1


# --- e. readmission, cancellation, closure ------------------------------------------------------


async def test_readmission_cancellation_and_closure_deactivate_services(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    async with activation(kafka_settings, database_settings).running() as rt:
        # A case closed by monitoring before activation saw its decision is never started.
        early_close = from_monitoring(closed("asst-vimercate:E-0", march(3), CaseOutcome.WITHDRAWN))
        await publish(kafka_settings, topics.monitoring_cases, early_close)
        await eventually(
            lambda: case_status(rt, "asst-vimercate:E-0"),
            lambda s: s is not None,
            what="the closed case recorded",
        )

        readmitted_case, _ = await start_case(kafka_settings, topics, "E-1", march(5))
        cancelled_case, _ = await start_case(kafka_settings, topics, "E-2", march(5))
        closed_case, _ = await start_case(kafka_settings, topics, "E-3", march(5))
        never, _ = await start_case(kafka_settings, topics, "E-0", march(5))
        sent = await requests_for(kafka_settings, topics, readmitted_case)
        await accept(
            kafka_settings, topics, readmitted_case, (sent[SAD], march(4)), (sent[MEALS], march(5))
        )
        await wait_events(kafka_settings, topics, readmitted_case, count(ServiceActivated, 2))
        await requests_for(kafka_settings, topics, cancelled_case)
        await requests_for(kafka_settings, topics, closed_case)

        # 23:30 UTC on Monday 9 is already Tuesday 10 in Italy.
        back_in = readmitted("E-1", datetime(2026, 3, 9, 23, 30, tzinfo=UTC))
        await publish(kafka_settings, topics.hospital_discharges, readmission(back_in))
        await publish(kafka_settings, topics.hospital_discharges, from_hospital(cancelled("E-2")))
        await publish(
            kafka_settings,
            topics.monitoring_cases,
            from_monitoring(
                closed(closed_case, datetime(2026, 4, 4, 12, tzinfo=ROME), CaseOutcome.COMPLETED)
            ),
        )
        for case_id in (readmitted_case, cancelled_case, closed_case):
            await wait_events(kafka_settings, topics, case_id, count(ServiceDeactivated, 3))
        # Too late: the case has ended.
        await accept(kafka_settings, topics, readmitted_case, (sent[TELE], march(5)))
        await publish(
            kafka_settings,
            topics.hospital_discharges,
            from_hospital(rescheduled("E-1", march(12))),
        )
        records = await read_quiet(kafka_settings, written(topics), quiet=1.5)
        statuses = [await case_status(rt, c) for c in (readmitted_case, cancelled_case, never)]

    def types(case_id: str, where: str = topics.activation_services) -> list[str]:
        return [e.type for r, e in for_case(records, case_id) if r.topic == where]

    def told_providers(case_id: str) -> list[str]:
        """What the providers read, all their topics together."""
        return sorted(
            e.type for r, e in for_case(records, case_id) if r.topic != topics.activation_services
        )

    def until(case_id: str) -> set[tuple[str, date]]:
        events = seen(for_case(records, case_id))
        return {(d.request_id, d.until) for d in of(events, ServiceDeactivated)}

    assert for_case(records, never) == []
    assert types(readmitted_case) == ["ServiceActivated"] * 2 + ["ServiceDeactivated"] * 3
    assert until(readmitted_case) == {(r.request_id, date(2026, 3, 10)) for r in sent.values()}
    assert {u for _, u in until(cancelled_case)} == {EPOCH.date()}  # today, by the clock
    assert {u for _, u in until(closed_case)} == {date(2026, 4, 4)}
    for case_id in (readmitted_case, cancelled_case, closed_case):
        # Each provider told on its own topic, too, that its service stops.
        assert told_providers(case_id) == (
            ["ServiceActivationRequested"] * 3 + ["ServiceDeactivated"] * 3
        )
    for case_id in (cancelled_case, closed_case):
        assert types(case_id) == ["ServiceDeactivated"] * 3
    assert statuses == [
        ("ended", "readmitted on 2026-03-10"),
        ("ended", "discharge cancelled"),
        ("ended", "case closed (withdrawn)"),  # recorded when closed, never started
    ]


# --- f. the readiness view over HTTP ----------------------------------------------------------


async def test_readiness_over_http_names_the_late_provider(
    kafka_settings: KafkaSettings,
    topics: Topics,
    database_settings: DatabaseSettings,
    identity: Identity,
) -> None:
    case_id = "asst-vimercate:F-1"
    async with (
        activation(kafka_settings, database_settings).running() as rt,
        httpx.AsyncClient(base_url=rt.http_url or "", headers=identity.team()) as http,
    ):
        health = await http.get("/health")
        unknown = await http.get("/cases/asst-vimercate:NOPE/readiness")

        # The decision first: the plan waits for the hospital's announcement.
        await publish(
            kafka_settings, topics.intake_cases, from_intake(confirmed(case_id, march(5)))
        )

        async def view() -> dict[str, Any]:
            response = await http.get(f"/cases/{case_id}/readiness")
            return dict(response.json()) if response.status_code == 200 else {}

        waiting = await eventually(view, lambda v: bool(v), what="the waiting case")
        not_ready_while_waiting = (await http.get("/cases", params={"ready": "false"})).json()

        await publish(
            kafka_settings,
            topics.hospital_discharges,
            from_hospital(
                announced(discharge_ref="F-1", expected_discharge_at=march(5), assessment=None)
            ),
        )
        sent = await requests_for(kafka_settings, topics, case_id)
        await accept(
            kafka_settings, topics, case_id, (sent[SAD], march(4, 8)), (sent[MEALS], march(5, 8))
        )
        pending = await eventually(
            view,
            lambda v: [s["status"] for s in v["services"]] == ["accepted", "accepted", "requested"],
            what="two services accepted",
        )
        not_ready = (await http.get("/cases", params={"ready": "false"})).json()

        # Teleassistance accepted, but for the day after discharge.
        await accept(kafka_settings, topics, case_id, (sent[TELE], march(6, 8)))
        after = await eventually(
            view, lambda v: v["services"][2]["status"] == "accepted", what="a late acceptance"
        )
        # The provider finds a way: the same request accepted again, for the discharge day.
        await accept(kafka_settings, topics, case_id, (sent[TELE], march(5, 8)))
        ready = await eventually(view, lambda v: bool(v["ready"]), what="a ready case")
        listed_ready = (await http.get("/cases", params={"ready": "true"})).json()
        listed_not_ready = (await http.get("/cases", params={"ready": "false"})).json()
        found = seen(await settled(kafka_settings, topics, case_id))

    assert (health.status_code, health.json()) == (200, healthy("activation"))
    assert unknown.status_code == 404
    refusal = unknown.json()["detail"]
    assert refusal["code"] == "case.unknown"
    assert "asst-vimercate:NOPE" in refusal["message"]

    assert waiting["status"] == "awaiting_contact"
    assert waiting["ready"] is False
    assert waiting["discharge_on"] == "2026-03-05"
    assert "annuncio" in waiting["waiting_for"]
    assert [s["status"] for s in waiting["services"]] == ["waiting"] * 3
    assert [c["case_id"] for c in not_ready_while_waiting["cases"]] == [case_id]

    assert pending["ready"] is False
    tele = pending["services"][2]
    assert (tele["service_type"], tele["provider_id"]) == (
        "teleassistance",
        "telesoccorso-lombardia",
    )
    assert tele["late"].startswith(
        "in attesa della risposta di telesoccorso-lombardia dal 2026-03-02"
    )
    assert "scadenza 2026-03-03" in tele["late"]
    assert [s["late"] for s in pending["services"][:2]] == [None, None]
    assert pending["services"][0]["active_from"] == "2026-03-04"
    [listed] = not_ready["cases"]
    assert listed["case_id"] == case_id
    assert [(s["service_type"], s["provider_id"]) for s in listed["late"]] == [
        ("teleassistance", "telesoccorso-lombardia")
    ]

    assert after["ready"] is False
    assert after["services"][2]["late"] == (
        "inizia dopo la dimissione: telesoccorso-lombardia inizia il 2026-03-06, "
        "dimissione il 2026-03-05"
    )

    assert ready["ready"] is True
    assert all(s["late"] is None for s in ready["services"])
    assert [c["case_id"] for c in listed_ready["cases"]] == [case_id]
    assert listed_not_ready["cases"] == []
    # What the platform saw: the late start escalated, then updated. (SAD's and meals' answers
    # came on their providers' own topics, which have no order between them.)
    activations = [(a.service_type, a.active_from) for a in of(found, ServiceActivated)]
    assert set(activations[:2]) == {(SAD, date(2026, 3, 4)), (MEALS, date(2026, 3, 5))}
    assert activations[2:] == [(TELE, date(2026, 3, 6)), (TELE, date(2026, 3, 5))]
    assert [(e.service_type, e.reason) for e in of(found, ServiceActivationEscalated)] == [
        (TELE, EscalationReason.CANNOT_START_BEFORE_DISCHARGE)
    ]


# --- g. a later decision supersedes the plan -------------------------------------------------


async def test_a_later_decision_changes_or_withdraws_the_plan(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    async with activation(kafka_settings, database_settings).running() as rt:
        case_id, announcement, sent = await planned_case(kafka_settings, topics, "S-1", march(5))
        await accept(kafka_settings, topics, case_id, (sent[SAD], march(4)))
        await wait_events(kafka_settings, topics, case_id, count(ServiceActivated, 1))

        async def decide(data: EligibilityConfirmed | EligibilityRejected) -> None:
            await publish(kafka_settings, topics.intake_cases, from_intake(data, announcement.id))

        # The team corrects the assessment: low intensity, SAD 3 h and teleassistance.
        await decide(confirmed(case_id, march(5), services=[(SAD, 3), (TELE, 7)]))
        await wait_events(kafka_settings, topics, case_id, count(ServiceDeactivated, 1))
        await wait_events(kafka_settings, topics, case_id, count(ServiceActivationRequested, 4))
        # Then overrides the rule: not eligible after all. Every service stops.
        await decide(rejected(case_id))
        await wait_events(kafka_settings, topics, case_id, count(ServiceDeactivated, 3))
        withdrawn = await case_status(rt, case_id)
        # And confirms again: planned afresh, with new request ids.
        await decide(confirmed(case_id, march(5)))
        await wait_events(kafka_settings, topics, case_id, count(ServiceActivationRequested, 7))
        records = await settled(kafka_settings, topics, case_id)

    requested, dropped = "ServiceActivationRequested", "ServiceDeactivated"
    shared = on_topic(records, topics.activation_services)
    assert shared[:2] == [
        ("ServiceActivated", sent[SAD].request_id),
        (dropped, sent[MEALS].request_id),  # meals dropped
    ]
    assert set(shared[2:]) == {  # the rejection stops what is left
        (dropped, sent[SAD].request_id),
        (dropped, sent[TELE].request_id),
    }
    assert len(shared) == 4
    # What each provider read on its own topic: asked, updated, stopped, asked afresh.
    assert on_topic(records, topics.provider_requests("coop-il-melograno")) == [
        (requested, sent[SAD].request_id),
        (requested, sent[SAD].request_id),  # SAD: 3 hours, same request
        (dropped, sent[SAD].request_id),
        (requested, f"{case_id}/sad/2"),
    ]
    for provider, service, kind in (
        ("brianza-ristorazione-sociale", MEALS, "meals"),
        ("telesoccorso-lombardia", TELE, "teleassistance"),
    ):
        assert on_topic(records, topics.provider_requests(provider)) == [
            (requested, sent[service].request_id),
            (dropped, sent[service].request_id),
            (requested, f"{case_id}/{kind}/2"),
        ]
    asked = {
        (r.request_id, r.weekly_quantity, r.start_by)
        for r in of(seen(records), ServiceActivationRequested)
    }
    assert (sent[SAD].request_id, Decimal(3), date(2026, 3, 5)) in asked
    assert {(rid, q) for rid, q, _ in asked if rid.endswith("/2")} == {
        (f"{case_id}/sad/2", Decimal(6)),
        (f"{case_id}/meals/2", Decimal(5)),
        (f"{case_id}/teleassistance/2", Decimal(7)),
    }
    assert withdrawn == ("awaiting_eligibility", None)


# --- h. stopped mid-case and restarted ---------------------------------------------------------


async def test_a_restart_mid_case_loses_and_repeats_nothing(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    clock = Clock(epoch=EPOCH)  # one clock across the restart: time goes on
    melograno = topics.provider_reports("coop-il-melograno")

    async with activation(kafka_settings, database_settings, clock).running():
        case_id, announcement, sent = await planned_case(kafka_settings, topics, "G-1", march(5))
        sad_accepted = from_provider(
            accepted(sent[SAD].request_id, "coop-il-melograno", march(4)), case_id
        )
        await publish(kafka_settings, melograno, sad_accepted)
        await wait_events(kafka_settings, topics, case_id, count(ServiceActivated, 1))

    # While activation is down: a provider answers, and the ward's announcement is redelivered.
    await accept(kafka_settings, topics, case_id, (sent[MEALS], march(5)))
    await publish(kafka_settings, topics.hospital_discharges, announcement)

    async with activation(kafka_settings, database_settings, clock).running() as rt:
        # After the restart: the SAD acceptance redelivered, then re-sent by the provider as a
        # new event, a second copy of the decision (a new event id), and the last answer.
        await publish(kafka_settings, melograno, sad_accepted)
        await publish(kafka_settings, melograno, from_provider(sad_accepted.data, case_id))
        await publish(
            kafka_settings, topics.intake_cases, from_intake(confirmed(case_id, march(5)))
        )
        await accept(kafka_settings, topics, case_id, (sent[TELE], march(5)))
        await wait_events(kafka_settings, topics, case_id, count(ServiceActivated, 3))
        found = seen(await settled(kafka_settings, topics, case_id, quiet=1.5))
        rows = await request_rows(rt, case_id)

    requested = of(found, ServiceActivationRequested)
    activated = of(found, ServiceActivated)
    assert sorted(r.request_id for r in requested) == sorted(r.request_id for r in sent.values())
    assert len(requested) == 3
    assert sorted(a.service_type for a in activated) == sorted([SAD, MEALS, TELE])
    assert len(activated) == 3
    assert len(found) == 6
    assert [(r.service_type, r.status) for r in rows] == [
        ("meals", "accepted"),
        ("sad", "accepted"),
        ("teleassistance", "accepted"),
    ]


# --- i. only the provider asked may answer ------------------------------------------------------


async def test_an_answer_to_a_request_sent_to_another_provider_is_dead_lettered(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    """Another SAD provider of the district answers, on its own topic and in its own name, the
    request sent to coop-il-melograno: refused, on that provider's own dead-letter topic."""
    intruder = "coop-solidarieta-brianza"
    async with activation(kafka_settings, database_settings).running() as rt:
        case_id, _, sent = await planned_case(kafka_settings, topics, "I-1", march(5))
        await answer(
            kafka_settings, topics, case_id, accepted(sent[SAD].request_id, intruder, march(4))
        )
        dlq_topic = topics.dlq(topics.provider_reports(intruder))
        [letter] = await read_topic(kafka_settings, dlq_topic, until=lambda rs: len(rs) >= 1)
        found = seen(await settled(kafka_settings, topics, case_id))
        rows = await request_rows(rt, case_id)
        # The forgery holds nothing back: the provider asked answers, and is heard at once.
        await answer(
            kafka_settings,
            topics,
            case_id,
            accepted(sent[SAD].request_id, "coop-il-melograno", march(4)),
        )
        await wait_events(kafka_settings, topics, case_id, count(ServiceActivated, 1))

    assert sent[SAD].provider_id == "coop-il-melograno"
    headers = headers_of(letter)
    assert headers[dlq.REASON_CODE] == "source.not_allowed"
    assert "coop-il-melograno" in headers[dlq.REASON]
    assert headers["ce_source"] == f"urn:dp:provider:{intruder}"
    assert of(found, ServiceActivated) == []
    assert [r.status for r in rows] == ["requested"] * 3
