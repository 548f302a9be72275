"""The équipe's APIs (intake and monitoring) as an attacker, a neighbour and an auditor see them:
real services on loopback, the real broker and PostgreSQL, tokens from the embedded identity
provider (or forged here); nothing mocked.

Two cases of Desio's are set up: one in intake awaiting its assessment, one followed by
monitoring. Every route is tried: without a valid token (401), with another district's team
(403), with a role that is not the team's (403), with an actor named in the body (422); each
time both cases are read back as Desio's team and must be exactly as before. Then who acted is
the token's, the audit log shows it, and the auditor reads everything and changes nothing.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from cerniera.intake.config import load_config as intake_config
from cerniera.intake.service import runtime as intake_runtime
from cerniera.monitoring.config import load_config as monitoring_config
from cerniera.monitoring.service import runtime as monitoring_runtime
from cerniera.shared.access import Action, Role, allowed_roles
from cerniera.shared.clock import ROME, Clock
from cerniera.shared.contract import Topics
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.discharges import announced, from_hospital, met_answers
from support.districts import EXAMPLE
from support.identity import Identity
from support.kafka import publish
from support.monitoring_events import case_id, confirmed, from_intake
from support.services import LOOPBACK
from support.waiting import eventually

pytestmark = pytest.mark.integration

CASE = case_id("SEC-INTAKE")
"""Desio's, in intake, awaiting its assessment."""
FOLLOWED = case_id("SEC-FOLLOW")
"""Desio's, followed by monitoring: week 1 due on 10 October."""
HANDED = case_id("SEC-HANDOVER")
"""Desio's, followed by monitoring: the one the hand-over route hands over (the close route
closes ``FOLLOWED``)."""
TODAY = datetime(2024, 10, 12, 10, 0, tzinfo=ROME)
ADMIN = "adm-desio"
"""Desio's administration (the exception to the SAD hours cap is theirs)."""

BRASS_ITEMS: dict[str, Any] = {
    "age": 82,
    "living_situation": "alone_with_family_support",
    "dependencies": ["bathing_dressing", "toileting"],
    "cognition": "oriented",
    "behaviours": [],
    "mobility": "walks_with_aids",
    "sensory_deficits": "none",
    "previous_admissions": 1,
    "active_problems": 2,
    "drugs": 3,
}


@dataclass(frozen=True)
class Route:
    service: str
    method: str
    template: str
    """As the OpenAPI names it."""
    action: Action
    body: dict[str, Any] | None = None
    actor_field: str | None = None
    """The field a body once carried for who acted: now refused."""
    on: str | None = None
    """The case it acts on, when not the service's usual one."""
    role: str = "equipe"
    """Who does it: the district's team, or its administration."""

    @property
    def case(self) -> str | None:
        if "{case_id}" not in self.template:
            return None
        return self.on or (CASE if self.service == "intake" else FOLLOWED)

    @property
    def path(self) -> str:
        return self.template.replace("{case_id}", self.case or "")


ROUTES = [
    Route("intake", "GET", "/cases", Action.CASE_READ),
    Route("intake", "GET", "/cases/{case_id}", Action.CASE_READ),
    Route(
        "intake",
        "PUT",
        "/cases/{case_id}/assessment",
        Action.CASE_ASSESS,
        {"answers": met_answers()},
        "assessed_by",
    ),
    Route(
        "intake",
        "POST",
        "/cases/{case_id}/override",
        Action.CASE_OVERRIDE,
        {"decision": "eligible", "intensity": "high", "reason": "Caregiver ricoverato."},
        "decided_by",
    ),
    Route(
        "intake",
        "PUT",
        "/cases/{case_id}/taking-charge",
        Action.CASE_TAKE_CHARGE,
        {"pai": {"objectives": ["Rientro a domicilio"]}, "information": {"consent": True}},
        "recorded_by",
    ),
    Route(
        "intake",
        "PUT",
        "/cases/{case_id}/consent",
        Action.CASE_CONSENT,
        {"given_by": "person"},
        "recorded_by",
    ),
    Route("intake", "POST", "/cases/{case_id}/confirm", Action.CASE_CONFIRM, {}, "decided_by"),
    Route(
        "intake",
        "PUT",
        "/cases/{case_id}/plan",
        Action.PLAN_REVISE,
        {
            "services": [
                {"service_type": "sad", "weekly_quantity": 9},
                {"service_type": "emergency_alarm", "weekly_quantity": 7},
            ],
            "reason_code": "plan.tailored",
            "reason": "Pranza con la figlia: niente pasti.",
        },
        "revised_by",
    ),
    Route(
        "intake",
        "POST",
        "/cases/{case_id}/cap-exception",
        Action.PLAN_CAP_EXCEPTION,
        {"reason": "Deroga approvata dal responsabile d'ambito."},
        "granted_by",
        role="district_admin",
    ),
    Route(
        "intake",
        "POST",
        "/cases/{case_id}/network-task",
        Action.NETWORK_TASK_RECORD,
        {"outcome": "engaged", "resources": ["volunteers"]},
        "completed_by",
    ),
    Route(
        "intake",
        "POST",
        "/cases/{case_id}/mediation-notes",
        Action.MEDIATION_NOTE,
        {"text": "Il figlio chiede l'RSA: concordata una prova di due settimane."},
        "written_by",
    ),
    Route("intake", "GET", "/reports/decisions", Action.REPORTS_READ),
    Route("intake", "POST", "/brass", Action.BRASS_SCORE, BRASS_ITEMS),
    Route("monitoring", "GET", "/checks/due", Action.CHECKS_READ),
    Route("monitoring", "GET", "/cases/{case_id}", Action.CASE_READ),
    Route(
        "monitoring",
        "POST",
        "/cases/{case_id}/checks",
        Action.CHECK_RECORD,
        {"outcome": "stable"},
        "checked_by",
    ),
    Route(
        "monitoring",
        "POST",
        "/cases/{case_id}/close",
        Action.CASE_CLOSE,
        {"outcome": "deceased"},
        "closed_by",
    ),
    Route("monitoring", "GET", "/cases/{case_id}/hand-over-summary", Action.CASE_READ),
    Route("monitoring", "GET", "/reports/outcomes", Action.REPORTS_READ),
    Route("monitoring", "GET", "/reports/beneficiaries", Action.REPORTS_READ),
    Route(
        "monitoring",
        "POST",
        "/cases/{case_id}/hand-over",
        Action.CASE_HAND_OVER,
        {"continuing": ["sad"], "municipality_code": "108023", "needs": "Spesa settimanale."},
        "handed_over_by",
        on=HANDED,
    ),
]


@dataclass
class Stack:
    clients: dict[str, httpx.AsyncClient]
    identity: Identity

    @property
    def desio(self) -> dict[str, str]:
        return self.identity.headers("equipe", ambito_id="desio", username="op-lbianchi")

    @property
    def auditor(self) -> dict[str, str]:
        return self.identity.headers("auditor", username="aud-garante")

    def of_desio(self, route: Route) -> dict[str, str]:
        """Desio's member of the route's role: its team, or its administration."""
        if route.role == "equipe":
            return self.desio
        return self.identity.headers(route.role, ambito_id="desio", username=ADMIN)

    async def send(
        self, route: Route, headers: dict[str, str], body: dict[str, Any] | None = None
    ) -> httpx.Response:
        return await self.clients[route.service].request(
            route.method, route.path, json=body or route.body, headers=headers
        )

    async def state(self) -> tuple[Any, ...]:
        """The cases and the checks due, as Desio's team reads them."""
        intake, monitoring = self.clients["intake"], self.clients["monitoring"]
        found = (
            await intake.get(f"/cases/{CASE}", headers=self.desio),
            await monitoring.get(f"/cases/{FOLLOWED}", headers=self.desio),
            await monitoring.get("/checks/due", headers=self.desio),
            await monitoring.get(f"/cases/{HANDED}", headers=self.desio),
        )
        assert [r.status_code for r in found] == [200] * 4, [r.text for r in found]
        return tuple(r.json() for r in found)

    async def audit(self, service: str, **params: str) -> list[dict[str, Any]]:
        response = await self.clients[service].get(
            "/audit", params={"limit": "1000", **params}, headers=self.auditor
        )
        assert response.status_code == 200, response.text
        entries: list[dict[str, Any]] = response.json()
        return entries


@contextlib.asynccontextmanager
async def running(
    kafka: KafkaSettings, topics: Topics, database: DatabaseSettings, identity: Identity
) -> AsyncIterator[Stack]:
    """Intake and monitoring, with Desio's two cases in place."""
    clock = Clock(epoch=TODAY)
    intake = intake_runtime(kafka, database, intake_config(EXAMPLE), service=LOOPBACK, clock=clock)
    monitoring = monitoring_runtime(
        kafka, database, monitoring_config(EXAMPLE), service=LOOPBACK, clock=clock
    )
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(intake.running())
        await stack.enter_async_context(monitoring.running())
        clients = {
            name: await stack.enter_async_context(
                httpx.AsyncClient(base_url=str(rt.http_url), timeout=10)
            )
            for name, rt in (("intake", intake), ("monitoring", monitoring))
        }
        running = Stack(clients, identity)
        await publish(
            kafka, topics.hospital_discharges, from_hospital(announced(discharge_ref="SEC-INTAKE"))
        )
        await publish(
            kafka,
            topics.intake_cases,
            from_intake(confirmed("SEC-FOLLOW")),
            from_intake(confirmed("SEC-HANDOVER")),
        )
        for client, case in (
            (clients["intake"], CASE),
            (clients["monitoring"], FOLLOWED),
            (clients["monitoring"], HANDED),
        ):

            async def probe(client: httpx.AsyncClient = client, case: str = case) -> int:
                return (await client.get(f"/cases/{case}", headers=running.desio)).status_code

            await eventually(probe, lambda status: status == 200, what=f"{case} stored")
        yield running


@pytest.fixture
async def stack(
    kafka_settings: KafkaSettings,
    topics: Topics,
    database_settings: DatabaseSettings,
    identity: Identity,
) -> AsyncIterator[Stack]:
    async with running(kafka_settings, topics, database_settings, identity) as found:
        yield found


def refusal(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["detail"]["code"]


def forged_token(issuer: str) -> str:
    """A token like the provider's, under the provider's own key id, signed by another key."""
    keys = httpx.get(httpx.get(f"{issuer}/.well-known/openid-configuration").json()["jwks_uri"])
    kid = keys.json()["keys"][0]["kid"]
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": "cerniera",
        "sub": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 300,
        "preferred_username": "op-forger",
        "roles": ["equipe", "auditor"],
        "ambito_id": "desio",
    }
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


# --- every route is here, and declares who may call it --------------------------------------


async def test_every_route_of_the_two_apis_is_tried_here(stack: Stack) -> None:
    declared = set()
    for service, client in stack.clients.items():
        openapi = (await client.get("/openapi.json")).json()
        for path, operations in openapi["paths"].items():
            for method, operation in operations.items():
                assert operation["x-roles"], (service, method, path)
                assert {"401", "403"} <= set(operation["responses"])
                if path != "/audit":
                    declared.add((service, method.upper(), path, operation["x-action"]))
    assert declared == {(r.service, r.method, r.template, r.action.value) for r in ROUTES}


# --- no valid token ---------------------------------------------------------------------------


async def test_without_a_valid_token_every_route_answers_401_and_changes_nothing(
    stack: Stack, identity: Identity
) -> None:
    before = await stack.state()
    attempts = {
        "no token": {},
        "not a JWT": {"Authorization": "Bearer not-a-token"},
        "another scheme": {"Authorization": "Basic b3AtbGJpYW5jaGk6Y2VybmllcmE="},
        "forged signature": {"Authorization": f"Bearer {forged_token(identity.issuer)}"},
    }
    for route in ROUTES:
        for what, headers in attempts.items():
            response = await stack.send(route, headers)
            assert response.status_code == 401, (route, what, response.text)
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            expected = (
                "auth.invalid_token" if what.startswith(("not", "forged")) else "auth.required"
            )
            assert refusal(response)[1] == expected, (route, what)
    assert await stack.state() == before
    # Nobody authenticated: no access to log, and none by the forger.
    for service in stack.clients:
        assert [e for e in await stack.audit(service) if e["actor"] == "op-forger"] == []


# --- another district -----------------------------------------------------------------------


async def test_another_districts_team_is_refused_and_changes_nothing(stack: Stack) -> None:
    before = await stack.state()
    magentino = stack.identity.headers("equipe", ambito_id="magentino", username="op-magenta")
    magentino_admin = stack.identity.headers(
        "district_admin", ambito_id="magentino", username="adm-magenta"
    )
    for route in ROUTES:
        response = await stack.send(route, magentino if route.role == "equipe" else magentino_admin)
        if route.case is not None:
            assert refusal(response) == (403, "access.district"), (route, response.text)
        else:
            assert response.status_code == 200, (route, response.text)
    # Its lists leave Desio's cases out; Desio's due checks, asked for by name, are refused.
    intake, monitoring = stack.clients["intake"], stack.clients["monitoring"]
    listed = (await intake.get("/cases", headers=magentino)).json()
    assert (listed["total"], listed["items"]) == (0, [])
    assert (await monitoring.get("/checks/due", headers=magentino)).json() == []
    asked = await monitoring.get("/checks/due", params={"ambito_id": "desio"}, headers=magentino)
    assert refusal(asked) == (403, "access.district")
    # Desio's team sees them.
    assert [
        c["case_id"] for c in (await intake.get("/cases", headers=stack.desio)).json()["items"]
    ] == [CASE]
    assert [c["case_id"] for c in before[2]] == [FOLLOWED, HANDED]
    # Its reports leave Desio out; Desio's, asked for by name, are refused.
    for report in ("/reports/outcomes", "/reports/beneficiaries"):
        mine = (await monitoring.get(report, headers=magentino)).json()
        assert "desio" not in str(mine), report
        asked = await monitoring.get(report, params={"ambito_id": "desio"}, headers=magentino)
        assert refusal(asked) == (403, "access.district")
    # Each refusal of a case is in the audit log as denied, after the entry that let it in.
    for service in ("intake", "monitoring"):
        entries = [e for e in await stack.audit(service) if e["actor"] == "op-magenta"]
        refused = {(e["action"], e["case_id"]) for e in entries if e["outcome"] == "denied"}
        expected: set[tuple[str, str | None]] = {
            (r.action.value, r.case)
            for r in ROUTES
            if r.service == service and r.case and r.role == "equipe"
        }
        if service == "monitoring":  # Desio's due checks and reports, asked for by name
            expected |= {("checks.read", None), ("reports.read", None)}
        assert refused == expected

    assert await stack.state() == before


# --- roles that are not the team's ----------------------------------------------------------


async def test_providers_hospitals_and_administrators_are_refused_every_route(
    stack: Stack,
) -> None:
    before = await stack.state()
    outsiders = {
        "provider": stack.identity.headers(
            "provider", provider_id="coop-il-melograno", username="op-melograno"
        ),
        "hospital": stack.identity.headers("hospital", hospital_id="asst-vimercate"),
        "district_admin": stack.identity.headers("district_admin", ambito_id="desio"),
        "equipe": stack.desio,
        "no role": stack.identity.headers((), ambito_id="desio", username="op-nobody"),
    }
    for route in ROUTES:
        for who, headers in outsiders.items():
            if who == route.role:
                continue  # the route's own role: tried by the other tests
            response = await stack.send(route, headers)
            if who == "district_admin" and Role.DISTRICT_ADMIN in allowed_roles(route.action):
                # The district's reports are its administration's too (a read: nothing moves).
                assert response.status_code == 200, (route, who, response.text)
                continue
            assert refusal(response) == (403, "access.role"), (route, who, response.text)
    assert await stack.state() == before
    # Each refusal is in the audit log, as denied, with the case it was about.
    denied = [
        e
        for e in await stack.audit("monitoring")
        if e["outcome"] == "denied" and e["roles"] == "provider"
    ]
    assert {(e["action"], e["case_id"]) for e in denied} == {
        (r.action.value, r.case) for r in ROUTES if r.service == "monitoring"
    }
    assert {e["actor"] for e in denied} == {"op-melograno"}


# --- who acted: the token says, never the body ----------------------------------------------


async def test_an_actor_named_in_the_body_is_refused_and_changes_nothing(stack: Stack) -> None:
    before = await stack.state()
    for route in ROUTES:
        if route.actor_field is None:
            continue
        assert route.body is not None
        for forged in ("op-lbianchi", "op-someone-else"):
            response = await stack.send(
                route, stack.of_desio(route), {**route.body, route.actor_field: forged}
            )
            assert refusal(response) == (422, "request.invalid"), (route, response.text)
            assert route.actor_field in response.json()["detail"]["message"]
    assert await stack.state() == before


async def test_the_actor_is_the_tokens_and_the_audit_log_shows_who_did_what(
    stack: Stack,
) -> None:
    for route in ROUTES:  # reads first, the closure last
        response = await stack.send(route, stack.of_desio(route))
        assert response.status_code in (200, 201), (route, response.text)
    case, followup, _, handed = await stack.state()

    assert [a["assessed_by"] for a in case["assessment_history"]] == ["op-lbianchi"]
    assert [o["decided_by"] for o in case["overrides"]] == ["op-lbianchi"]
    assert case["decision"]["decided_by"] == "op-lbianchi"
    assert [t["recorded_by"] for t in case["taking_charge_history"]] == ["op-lbianchi"]
    assert case["consent"]["recorded_by"] == "op-lbianchi"
    assert [p["revised_by"] for p in case["plan_history"]] == ["op-lbianchi"] * 2
    assert [e["granted_by"] for e in case["cap"]["exceptions"]] == [ADMIN]
    assert [t["completed_by"] for t in case["network_tasks"]] == ["op-lbianchi"]
    assert [n["written_by"] for n in case["mediation_notes"]] == ["op-lbianchi"]
    assert [c["checked_by"] for c in followup["checks"]] == ["op-lbianchi"]
    assert (followup["status"], followup["closed_by"]) == ("closed", "op-lbianchi")
    assert (handed["outcome"], handed["closed_by"]) == (
        "handed_over_to_municipality",
        "op-lbianchi",
    )

    # The audit log of each service: every change and read, by whom, on which case.
    seen = {
        (service, actor): [
            (e["action"], e["method"], e["case_id"], e["outcome"])
            for e in await stack.audit(service, actor=actor)
        ]
        for service in stack.clients
        for actor in ("op-lbianchi", ADMIN)
    }
    for route in ROUTES:
        logged = (route.action.value, route.method, route.case, "allowed")
        actor = "op-lbianchi" if route.role == "equipe" else ADMIN
        assert logged in seen[route.service, actor], route
    # One case's history, for the auditor: only that case.
    only = await stack.audit("intake", case_id=CASE)
    assert {e["case_id"] for e in only} == {CASE}
    assert {(e["actor"], e["roles"]) for e in only} == {
        ("op-lbianchi", "equipe"),
        (ADMIN, "district_admin"),
    }
    assert all(e["subject"] for e in only)  # the token's sub, besides the username
    # Reading the log is itself logged; the team may not read it.
    reads = await stack.audit("intake", actor="aud-garante")
    assert {(e["action"], e["path"]) for e in reads} >= {("audit.read", "/audit")}
    team_reads = await stack.clients["intake"].get("/audit", headers=stack.desio)
    assert refusal(team_reads) == (403, "access.role")


# --- the auditor --------------------------------------------------------------------------------


async def test_the_auditor_reads_every_district_and_changes_nothing(stack: Stack) -> None:
    before = await stack.state()
    for route in ROUTES:
        response = await stack.send(route, stack.auditor)
        if route.method == "GET":
            assert response.status_code == 200, (route, response.text)
        else:
            assert refusal(response) == (403, "access.role"), (route, response.text)
    intake, monitoring = stack.clients["intake"], stack.clients["monitoring"]
    listed = (await intake.get("/cases", headers=stack.auditor)).json()
    assert [c["case_id"] for c in listed["items"]] == [CASE]
    due = await monitoring.get("/checks/due", params={"ambito_id": "desio"}, headers=stack.auditor)
    assert [c["case_id"] for c in due.json()] == [FOLLOWED, HANDED]
    case = (await intake.get(f"/cases/{CASE}", headers=stack.auditor)).json()
    assert case == before[0]
    assert await stack.state() == before
