"""The district's decisions reaching activation, end to end on the real broker, PostgreSQL and
HTTP: a revised plan (versioned, the emergency alarm included), the team's resolution of an
escalation, a decision reversed, a readmission before the decision, a hand-over to the
municipality, and new contact details from the hospital (HL7 A08).

The clock and the districts are those of ``test_activation``: Monday 2 March 2026, 9:00 in
Italy, Desio (108023); the emergency alarm is telesoccorso-lombardia's (3 working days).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from cerniera.activation.tables import cases, inbox
from cerniera.shared.contract import (
    CaseClosed,
    CaseHandedOver,
    CaseOutcome,
    DischargePostponementRequested,
    EscalationResolved,
    EventData,
    PatientDetailsUpdated,
    PlanRevised,
    Reason,
    Resolution,
    ServiceActivated,
    ServiceActivationEscalated,
    ServiceActivationRequested,
    ServiceDeactivated,
    ServiceLine,
    ServiceType,
    Topics,
)
from cerniera.shared.envelope import Envelope
from cerniera.shared.runtime import ServiceRuntime
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.activation_events import (
    INTAKE_SOURCE,
    MONITORING_SOURCE,
    confirmed,
    declined,
    event,
    from_intake,
    readmission,
    readmitted,
    rejected,
)
from support.activation_running import (
    accept,
    activation,
    answer,
    case_status,
    count,
    march,
    of,
    on_topic,
    planned_case,
    request_rows,
    requests_for,
    settled,
    start_case,
    wait_events,
)
from support.discharges import HOSPITAL, HOSPITAL_SOURCE, announced, assessment, from_hospital
from support.identity import Identity
from support.kafka import publish
from support.waiting import eventually

pytestmark = pytest.mark.integration

SAD, MEALS, TELE = ServiceType.SAD, ServiceType.MEALS, ServiceType.TELEASSISTANCE
ALARM = ServiceType.EMERGENCY_ALARM
MONDAY = date(2026, 3, 2)
REQUESTED, STOPPED = "ServiceActivationRequested", "ServiceDeactivated"
TEAM_ACTOR = "user-equipe-district_admin-desio-magentino-atlantide"  # identity.team()'s


def revised(case_id: str, version: int, services: Sequence[tuple[ServiceType, int]]) -> Envelope:
    data = PlanRevised(
        case_id=case_id,
        ambito_id="desio",
        plan_version=version,
        services=[ServiceLine(service_type=s, weekly_quantity=Decimal(q)) for s, q in services],
        revised_by="op-lbianchi",
        reason=Reason(code="plan.check_adjustment", text="Piano adeguato alla verifica."),
    )
    return event(data, source=INTAKE_SOURCE, subject=case_id)


def from_monitoring(data: CaseHandedOver | CaseClosed) -> Envelope:
    return event(data, source=MONITORING_SOURCE, subject=data.case_id)


def client(rt: ServiceRuntime, headers: dict[str, str]) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=rt.http_url or "", headers=headers, timeout=10)


def resolve_path(case_id: str, service: ServiceType) -> str:
    return f"/cases/{case_id}/escalations/{service.value}/resolve"


def kinds(events: Sequence[Envelope]) -> list[str]:
    return [e.type for e in events]


def only(events: Sequence[Envelope], kind: type[EventData]) -> Any:
    [found] = of(events, kind)
    return found


# --- 1. a revised plan -------------------------------------------------------------------------


async def test_a_revised_plan_adds_changes_and_stops_and_an_older_one_is_ignored(
    kafka_settings: KafkaSettings,
    topics: Topics,
    database_settings: DatabaseSettings,
    identity: Identity,
) -> None:
    async with activation(kafka_settings, database_settings).running() as rt:
        case_id, _, sent = await planned_case(kafka_settings, topics, "P-1", march(5))
        await accept(kafka_settings, topics, case_id, (sent[SAD], march(4)))
        await wait_events(kafka_settings, topics, case_id, count(ServiceActivated, 1))

        # Version 2: SAD 9 h, no meals, no teleassistance, the emergency alarm added.
        await publish(
            kafka_settings, topics.intake_cases, revised(case_id, 2, [(SAD, 9), (ALARM, 7)])
        )
        await wait_events(kafka_settings, topics, case_id, count(ServiceActivationRequested, 5))
        # Version 3 stops the alarm; version 2 again, arriving late, changes nothing.
        await publish(kafka_settings, topics.intake_cases, revised(case_id, 3, [(SAD, 9)]))
        await publish(
            kafka_settings, topics.intake_cases, revised(case_id, 2, [(SAD, 3), (MEALS, 5)])
        )
        await wait_events(kafka_settings, topics, case_id, count(ServiceDeactivated, 3))
        records = await settled(kafka_settings, topics, case_id)
        async with rt.engine.connect() as conn:
            version = await conn.scalar(
                select(cases.c.plan_version).where(cases.c.case_id == case_id)
            )
        async with client(rt, identity.team()) as http:
            view = (await http.get(f"/cases/{case_id}/readiness")).json()

    alarm_id = f"{case_id}/emergency_alarm/1"
    assert on_topic(records, topics.provider_requests("coop-il-melograno")) == [
        (REQUESTED, sent[SAD].request_id),
        (REQUESTED, sent[SAD].request_id),  # SAD 9 h: the same request, updated
    ]
    assert on_topic(records, topics.provider_requests("brianza-ristorazione-sociale")) == [
        (REQUESTED, sent[MEALS].request_id),
        (STOPPED, sent[MEALS].request_id),
    ]
    assert on_topic(records, topics.provider_requests("telesoccorso-lombardia")) == [
        (REQUESTED, sent[TELE].request_id),
        (STOPPED, sent[TELE].request_id),
        (REQUESTED, alarm_id),
        (STOPPED, alarm_id),
    ]
    asked = {
        (r.request_id, r.weekly_quantity, r.start_by)
        for _, e in records
        if isinstance(r := e.data, ServiceActivationRequested)
    }
    assert (sent[SAD].request_id, Decimal(9), date(2026, 3, 5)) in asked
    assert (alarm_id, Decimal(7), date(2026, 3, 5)) in asked
    assert all(e.data.until == MONDAY for _, e in records if isinstance(e.data, ServiceDeactivated))
    assert version == 3
    assert view["plan_version"] == 3
    assert [(s["service_type"], s["status"]) for s in view["services"]] == [("sad", "accepted")]


# --- 2. escalations that end -------------------------------------------------------------------


async def test_a_provider_assigned_by_hand_and_who_may_resolve(
    kafka_settings: KafkaSettings,
    topics: Topics,
    database_settings: DatabaseSettings,
    identity: Identity,
) -> None:
    async with activation(kafka_settings, database_settings).running() as rt:
        case_id, _ = await start_case(kafka_settings, topics, "E-1", march(5), services=[(SAD, 6)])
        first = (await requests_for(kafka_settings, topics, case_id, 1))[SAD]
        await answer(kafka_settings, topics, case_id, declined(first.request_id, first.provider_id))
        events = await wait_events(
            kafka_settings, topics, case_id, count(ServiceActivationRequested, 2)
        )
        [second] = [r for r in of(events, ServiceActivationRequested) if r != first]
        await answer(
            kafka_settings, topics, case_id, declined(second.request_id, second.provider_id)
        )
        await wait_events(kafka_settings, topics, case_id, count(ServiceActivationEscalated, 1))
        path = resolve_path(case_id, SAD)
        manual = {"resolution": "manual_provider", "provider_id": "coop-il-melograno"}
        async with client(rt, identity.team()) as http:
            open_view = (await http.get(f"/cases/{case_id}/readiness")).json()
            listed = (await http.get("/cases", params={"ready": "false"})).json()
            incomplete = await http.post(path, json={"resolution": "manual_provider"})
            foreign_provider = await http.post(
                path, json={**manual, "provider_id": "asc-servizi-alla-persona"}
            )
            unknown = await http.post(resolve_path("asst-vimercate:NOPE", SAD), json=manual)
        async with client(rt, identity.headers("equipe", ambito_id="magentino")) as http:
            other_district = await http.post(path, json=manual)
        async with client(rt, identity.headers("district_admin", ambito_id="desio")) as http:
            not_the_team = await http.post(path, json=manual)
        async with client(rt, identity.headers("equipe", ambito_id="desio")) as http:
            resolved = await http.post(path, json=manual)
            again = await http.post(path, json=manual)
        events = await wait_events(
            kafka_settings, topics, case_id, count(ServiceActivationRequested, 3)
        )
        records = await settled(kafka_settings, topics, case_id)

    [escalation] = open_view["escalations"]
    assert (escalation["status"], escalation["reason"], escalation["days_left"]) == (
        "open",
        "all_providers_declined",
        3,
    )
    assert escalation["summary"] == (
        "sad: tutti i fornitori hanno rifiutato; aperta: mancano 3 giorni alla dimissione"
    )
    [summary] = listed["cases"]
    assert [(e["service_type"], e["days_left"]) for e in summary["escalations"]] == [("sad", 3)]

    assert (incomplete.status_code, incomplete.json()["detail"]["code"]) == (
        422,
        "resolution.incomplete",
    )
    assert (foreign_provider.status_code, foreign_provider.json()["detail"]["code"]) == (
        409,
        "provider.unknown",
    )
    assert unknown.status_code == 404
    assert other_district.status_code == 403
    assert not_the_team.status_code == 403
    assert resolved.status_code == 200, resolved.text
    after = resolved.json()
    [done] = after["escalations"]
    assert (done["status"], done["resolution"], done["provider_id"], done["days_left"]) == (
        "resolved",
        "manual_provider",
        "coop-il-melograno",
        None,
    )
    assert done["resolved_by"] == "user-equipe-desio"  # the token's actor, never the body's
    assert "assegnata a mano a coop-il-melograno" in done["summary"]
    assert (again.status_code, again.json()["detail"]["code"]) == (409, "escalation.not_open")

    # Outside the rotation: coop-il-melograno had declined; asked again, its own lead time
    # (2 working days) making Thursday's discharge.
    # (Each provider's topic keeps its order; between topics there is none.)
    [by_hand] = [
        r for r in of(events, ServiceActivationRequested) if r.request_id.endswith("/sad/3")
    ]
    assert (by_hand.request_id, by_hand.provider_id, by_hand.start_by) == (
        f"{case_id}/sad/3",
        "coop-il-melograno",
        date(2026, 3, 5),
    )
    assert on_topic(records, topics.provider_requests("coop-il-melograno")) == [
        (REQUESTED, first.request_id),
        (REQUESTED, by_hand.request_id),
    ]
    shared = [e for r, e in records if r.topic == topics.activation_services]
    assert kinds(shared) == ["ServiceActivationEscalated", "EscalationResolved"]
    resolution = shared[1].data
    assert isinstance(resolution, EscalationResolved)
    assert (resolution.resolution, resolution.provider_id, resolution.resolved_by) == (
        Resolution.MANUAL_PROVIDER,
        "coop-il-melograno",
        "user-equipe-desio",
    )


async def test_covered_by_the_family_then_the_ward_asked_to_postpone(
    kafka_settings: KafkaSettings,
    topics: Topics,
    database_settings: DatabaseSettings,
    identity: Identity,
) -> None:
    # Discharge on Tuesday 3: SAD can make it (coop-solidarieta-brianza, 1 day); meals and
    # teleassistance cannot before Wednesday 4, so both are escalated.
    async with activation(kafka_settings, database_settings).running() as rt:
        case_id, announcement = await start_case(kafka_settings, topics, "E-2", march(3))
        await wait_events(kafka_settings, topics, case_id, count(ServiceActivationEscalated, 2))
        async with client(rt, identity.team()) as http:
            family = await http.post(
                resolve_path(case_id, TELE),
                json={"resolution": "family", "covered_by": "family"},
            )
            postponed = await http.post(
                resolve_path(case_id, MEALS), json={"resolution": "postponement_requested"}
            )
        events = await wait_events(
            kafka_settings, topics, case_id, count(DischargePostponementRequested, 1)
        )
        records = await settled(kafka_settings, topics, case_id)

    assert family.status_code == 200, family.text
    tele = family.json()["services"][2]
    assert (tele["service_type"], tele["status"], tele["late"]) == (
        "teleassistance",
        "covered",
        None,
    )
    assert postponed.status_code == 200, postponed.text
    views = {e["service_type"]: e for e in postponed.json()["escalations"]}
    assert views["meals"]["postpone_until"] == "2026-03-04"
    assert views["meals"]["summary"].endswith(
        "chiesto al reparto di rinviare la dimissione al 2026-03-04"
    )
    assert views["teleassistance"]["summary"].endswith("coperto dalla famiglia (famiglia)")

    # For the ward that announced it: the hospital's own ids; teleassistance is covered.
    asked = only(events, DischargePostponementRequested)
    assert (asked.case_id, asked.hospital_id, asked.discharge_ref) == (case_id, HOSPITAL, "E-2")
    assert (asked.postpone_until, asked.waiting_for) == (date(2026, 3, 4), [MEALS])
    assert asked.requested_by == views["meals"]["resolved_by"] == TEAM_ACTOR
    postponement = next(e for _, e in records if isinstance(e.data, DischargePostponementRequested))
    assert postponement.correlation_id == announcement.id  # the case's chain
    shared = [e for r, e in records if r.topic == topics.activation_services]
    assert [
        (e.data.service_type, e.data.resolution)
        for e in shared
        if isinstance(e.data, EscalationResolved)
    ] == [(TELE, Resolution.FAMILY), (MEALS, Resolution.POSTPONEMENT_REQUESTED)]
    # Nothing new was asked of any provider, nothing stopped.
    assert len(of([e for _, e in records], ServiceActivationRequested)) == 3
    assert of([e for _, e in records], ServiceDeactivated) == []


async def test_a_dropped_service_leaves_the_plan(
    kafka_settings: KafkaSettings,
    topics: Topics,
    database_settings: DatabaseSettings,
    identity: Identity,
) -> None:
    # Discharge on Tuesday 3: meals escalated while brianza-ristorazione-sociale is asked.
    async with activation(kafka_settings, database_settings).running() as rt:
        case_id, _ = await start_case(
            kafka_settings, topics, "E-3", march(3), services=[(SAD, 6), (MEALS, 5)]
        )
        await wait_events(kafka_settings, topics, case_id, count(ServiceActivationEscalated, 1))
        async with client(rt, identity.team()) as http:
            dropped = await http.post(
                resolve_path(case_id, MEALS),
                json={"resolution": "dropped", "reason_code": "plan.not_needed"},
            )
        await wait_events(kafka_settings, topics, case_id, count(ServiceDeactivated, 1))
        records = await settled(kafka_settings, topics, case_id)
        rows = {r.service_type: r for r in await request_rows(rt, case_id)}

    assert dropped.status_code == 200, dropped.text
    view = dropped.json()
    assert [s["service_type"] for s in view["services"]] == ["sad"]
    [escalation] = view["escalations"]
    assert (escalation["resolution"], escalation["reason_code"]) == ("dropped", "plan.not_needed")
    assert on_topic(records, topics.provider_requests("brianza-ristorazione-sociale")) == [
        (REQUESTED, f"{case_id}/meals/1"),
        (STOPPED, f"{case_id}/meals/1"),
    ]
    assert (rows["meals"].status, rows["meals"].reason) == (
        "deactivated",
        "dropped by the team (plan.not_needed)",
    )


# --- 3. a decision reversed; a readmission before the decision ---------------------------------


async def test_a_decision_reversed_ends_every_request_and_a_readmission_first_is_kept(
    kafka_settings: KafkaSettings,
    topics: Topics,
    database_settings: DatabaseSettings,
    identity: Identity,
) -> None:
    async with activation(kafka_settings, database_settings).running() as rt:
        case_id, announcement, sent = await planned_case(kafka_settings, topics, "R-1", march(5))
        await accept(kafka_settings, topics, case_id, (sent[SAD], march(4)))
        await wait_events(kafka_settings, topics, case_id, count(ServiceActivated, 1))
        await publish(
            kafka_settings, topics.intake_cases, from_intake(rejected(case_id), announcement.id)
        )
        await wait_events(kafka_settings, topics, case_id, count(ServiceDeactivated, 3))
        reversed_records = await settled(kafka_settings, topics, case_id)

        # Another patient readmitted before the team decided: the decision finds it ended.
        first = from_hospital(
            announced(discharge_ref="R-2", expected_discharge_at=march(5), assessment=assessment())
        )
        assert first.subject is not None
        readmitted_case = first.subject
        await publish(kafka_settings, topics.hospital_discharges, first)
        await publish(
            kafka_settings,
            topics.hospital_discharges,
            readmission(readmitted("R-2", march(2, 20))),
        )
        # The readmission applied (the decision comes on another topic: no order between).
        ended = await eventual_status(rt, readmitted_case, "ended")
        decision = from_intake(confirmed(readmitted_case, march(5)), first.id)
        await publish(kafka_settings, topics.intake_cases, decision)
        await eventually(lambda: consumed(rt, decision), bool, what="the decision consumed")
        readmitted_records = await settled(kafka_settings, topics, readmitted_case)
        async with client(rt, identity.team()) as http:
            listed = (await http.get("/cases")).json()
            reversed_view = (await http.get(f"/cases/{case_id}/readiness")).json()

    stopped = [e.data for _, e in reversed_records if isinstance(e.data, ServiceDeactivated)]
    # Each once on the shared topic and once on its provider's own.
    assert sorted((d.request_id, d.until) for d in stopped) == sorted(
        (r.request_id, MONDAY) for r in sent.values() for _ in range(2)
    )
    assert reversed_view["status"] == "awaiting_eligibility"
    assert reversed_view["services"] == []
    assert ended == ("ended", "readmitted on 2026-03-02")
    assert readmitted_records == []  # nothing asked of any provider
    assert [c["case_id"] for c in listed["cases"]] == []


async def consumed(rt: ServiceRuntime, envelope: Envelope) -> bool:
    """Whether activation has handled the event (its inbox holds it)."""
    async with rt.engine.connect() as conn:
        found = await conn.scalar(select(inbox.c.event_id).where(inbox.c.event_id == envelope.id))
    return found is not None


async def eventual_status(rt: ServiceRuntime, case_id: str, status: str) -> Any:
    return await eventually(
        lambda: case_status(rt, case_id),
        lambda found: found is not None and found[0] == status,
        what=f"case {case_id} {status}",
    )


# --- 4. a hand-over to the municipality --------------------------------------------------------


async def test_a_hand_over_keeps_the_services_the_municipality_continues(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    async with activation(kafka_settings, database_settings).running() as rt:
        case_id, _, sent = await planned_case(kafka_settings, topics, "H-1", march(5))
        await accept(kafka_settings, topics, case_id, (sent[SAD], march(4)), (sent[TELE], march(5)))
        await wait_events(kafka_settings, topics, case_id, count(ServiceActivated, 2))
        handed_over = CaseHandedOver(
            case_id=case_id,
            ambito_id="desio",
            municipality_code="108023",
            continuing=[SAD, MEALS],
            handed_over_at=march(31, 11),
        )
        closure = CaseClosed(
            case_id=case_id,
            closed_at=march(31, 12),
            outcome=CaseOutcome.HANDED_OVER_TO_MUNICIPALITY,
        )
        await publish(
            kafka_settings,
            topics.monitoring_cases,
            from_monitoring(handed_over),
            from_monitoring(closure),
        )
        await wait_events(kafka_settings, topics, case_id, count(ServiceDeactivated, 2))
        records = await settled(kafka_settings, topics, case_id)
        rows = {r.service_type: r for r in await request_rows(rt, case_id)}
        status = await case_status(rt, case_id)

    # SAD runs on under the municipality; teleassistance is not continued, and meals never
    # started (its request unanswered): both stop on the day of closure.
    shared = [
        (e.data.request_id, e.data.until)
        for r, e in records
        if r.topic == topics.activation_services and isinstance(e.data, ServiceDeactivated)
    ]
    assert sorted(shared) == [
        (sent[MEALS].request_id, date(2026, 3, 31)),
        (sent[TELE].request_id, date(2026, 3, 31)),
    ]
    assert on_topic(records, topics.provider_requests("coop-il-melograno")) == [
        (REQUESTED, sent[SAD].request_id)
    ]
    assert (rows["sad"].status, rows["teleassistance"].status, rows["meals"].status) == (
        "accepted",
        "deactivated",
        "deactivated",
    )
    assert status == ("ended", "case closed (handed_over_to_municipality)")


# --- 5. new contact details from the hospital --------------------------------------------------


async def test_new_contact_details_reach_every_provider_asked(
    kafka_settings: KafkaSettings, topics: Topics, database_settings: DatabaseSettings
) -> None:
    async with activation(kafka_settings, database_settings).running():
        case_id, _, sent = await planned_case(kafka_settings, topics, "D-1", march(5))
        await accept(kafka_settings, topics, case_id, (sent[SAD], march(4)))
        await wait_events(kafka_settings, topics, case_id, count(ServiceActivated, 1))
        update = PatientDetailsUpdated(
            hospital_id=HOSPITAL,
            discharge_ref="D-1",
            address="Via Manzoni 3, 20832 Desio (MB)",
            phone="+39 0362 765432",
        )
        await publish(
            kafka_settings,
            topics.hospital_discharges,
            event(update, source=HOSPITAL_SOURCE, subject=case_id),
        )
        await wait_events(kafka_settings, topics, case_id, count(ServiceActivationRequested, 6))
        records = await settled(kafka_settings, topics, case_id)

    resent = [
        (r.topic, e.data)
        for r, e in records
        if isinstance(e.data, ServiceActivationRequested)
        and e.data.beneficiary.address.startswith("Via Manzoni")
    ]
    # The same request ids, each on its provider's own topic, with the new address and phone.
    assert sorted((d.request_id, topic) for topic, d in resent) == sorted(
        (r.request_id, topics.provider_requests(r.provider_id)) for r in sent.values()
    )
    assert {(d.beneficiary.name, d.beneficiary.phone) for _, d in resent} == {
        ("Mario Rossi", "+39 0362 765432")
    }
    assert all(d.weekly_quantity == sent[d.service_type].weekly_quantity for _, d in resent)
