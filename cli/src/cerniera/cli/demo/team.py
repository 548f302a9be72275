"""The simulated équipe (district team), working through the services' HTTP APIs as a social
worker and a nurse would from their screen: confirms the rule's proposals where the district
decides as a team (tailoring some plans), records consent, answers the territorial network's
tasks, resolves escalations (a provider by hand, the family, the network, or a postponement
asked of the ward), records the weekly checks, and hands cases over to the municipality.

One member per district, each with their own access token (the demo user
``equipe-<ambito_id>``, ``cerniera.cli.identity.client.person_token``): each sees only their
district's due checks, and monitoring records them as the actor of what they do."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Team:
    monitoring_url: str
    tokens: Mapping[str, str]
    """An access token per district (``ambito_id``): a caller may refresh the values."""
    seed: int = 7
    intake_url: str | None = None
    activation_url: str | None = None
    providers: Mapping[str, Mapping[str, list[str]]] = field(default_factory=dict)
    """Per district, the providers offering each service (for a provider assigned by hand)."""
    admin_tokens: Mapping[str, str] = field(default_factory=dict)
    """Per district, the administration's token: it grants exceptions to the SAD hours cap."""
    recorded: int = 0
    closed_early: int = 0
    confirmed: int = 0
    tailored: int = 0
    cap_exceptions: int = 0
    resolved: int = 0
    network_answers: int = 0
    handed_over: int = 0
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._examined: set[str] = set()
        self._tailorings = 0

    async def round(self, client: httpx.AsyncClient) -> None:
        """A round of work, district by district, each as its own équipe."""
        for ambito_id in sorted(self.tokens):
            auth = {"Authorization": f"Bearer {self.tokens[ambito_id]}"}
            if self.intake_url:
                await self._decide(client, ambito_id, auth)
            if self.activation_url:
                await self._resolve(client, ambito_id, auth)
            response = await client.get(f"{self.monitoring_url}/checks/due", headers=auth)
            response.raise_for_status()
            for due in _items(response.json()):
                await self._check(client, due, auth)

    async def _decide(
        self, client: httpx.AsyncClient, ambito_id: str, auth: dict[str, str]
    ) -> None:
        """Proposals confirmed (one in four tailored: SAD 9 h and no meals, or the emergency
        alarm besides teleassistance), consent recorded, the network's answers recorded."""
        base = self.intake_url
        for case in await self._cases(client, auth, "awaiting_consent"):
            consent: dict[str, Any] = {"given": True, "given_by": "person"}
            if self._rng.random() < 0.2:
                consent = {**consent, "given_by": "guardian", "guardian_name": "Tutore (demo)"}
            answer = await client.put(f"{base}/cases/{case}/consent", json=consent, headers=auth)
            self._note(answer)
        for case in await self._cases(client, auth, "awaiting_confirmation"):
            body: dict[str, Any] = {}
            if self._rng.random() < 0.25:
                body = {"services": self._tailored(), "reason": "Piano personalizzato (demo)."}
            answer = await client.post(f"{base}/cases/{case}/confirm", json=body, headers=auth)
            if _code(answer) == "plan.cap_exceeded" and ambito_id in self.admin_tokens:
                # Over the person's SAD hours: the district's administration grants it.
                admin = {"Authorization": f"Bearer {self.admin_tokens[ambito_id]}"}
                granted = await client.post(
                    f"{base}/cases/{case}/cap-exception",
                    json={"reason": "Persona sola, non autosufficiente (demo)."},
                    headers=admin,
                )
                self._note(granted)
                self.cap_exceptions += granted.status_code < 300
                answer = await client.post(f"{base}/cases/{case}/confirm", json=body, headers=auth)
            self._note(answer)
            self.confirmed += answer.status_code < 300
            self.tailored += answer.status_code < 300 and bool(body)
        for case in await self._cases(client, auth, "eligible"):
            if case in self._examined:
                continue
            self._examined.add(case)
            found = await client.get(f"{base}/cases/{case}", headers=auth)
            tasks = found.json().get("network_tasks", []) if found.status_code == 200 else []
            if any(t.get("outcome") is None for t in tasks):
                outcome = self._rng.choices(
                    ["engaged", "partially_engaged", "not_available"], [60, 30, 10]
                )[0]
                resources = self._rng.sample(
                    ["volunteers", "parish", "neighbours", "family_community_nurse"], 2
                )
                answer = await client.post(
                    f"{base}/cases/{case}/network-task",
                    json={"outcome": outcome, "resources": resources},
                    headers=auth,
                )
                self._note(answer)
                self.network_answers += answer.status_code < 300

    def _tailored(self) -> list[dict[str, Any]]:
        self._tailorings += 1
        if self._tailorings % 3 == 1:  # more SAD than the person's 80 hours allow
            return [{"service_type": "sad", "weekly_quantity": 20}]
        pick = self._rng.random()
        if pick < 0.6:
            return [
                {"service_type": "sad", "weekly_quantity": 9},
                {"service_type": "teleassistance", "weekly_quantity": 7},
            ]
        return [
            {"service_type": "sad", "weekly_quantity": 4},
            {"service_type": "meals", "weekly_quantity": 5},
            {"service_type": "teleassistance", "weekly_quantity": 7},
            {"service_type": "emergency_alarm", "weekly_quantity": 7},
        ]

    async def _cases(
        self, client: httpx.AsyncClient, auth: dict[str, str], status: str
    ) -> list[str]:
        found = await client.get(
            f"{self.intake_url}/cases", params={"status": status, "limit": 1000}, headers=auth
        )
        self._note(found)
        return [c["case_id"] for c in found.json().get("items", [])] if found.is_success else []

    async def _resolve(
        self, client: httpx.AsyncClient, ambito_id: str, auth: dict[str, str]
    ) -> None:
        """Each open escalation: a provider by hand (half the time), the family or the
        network, or, two days or more before discharge, a postponement asked of the ward."""
        found = await client.get(
            f"{self.activation_url}/cases", params={"ready": "false"}, headers=auth
        )
        self._note(found)
        if not found.is_success:
            return
        for case in found.json().get("cases", []):
            for escalation in case.get("escalations", []):
                if escalation.get("status") != "open":
                    continue
                service = escalation["service_type"]
                body = self._resolution(ambito_id, service, escalation.get("days_left"))
                answer = await client.post(
                    f"{self.activation_url}/cases/{case['case_id']}/escalations/{service}/resolve",
                    json=body,
                    headers=auth,
                )
                self._note(answer)
                self.resolved += answer.status_code < 300

    def _resolution(self, ambito_id: str, service: str, days_left: int | None) -> dict[str, Any]:
        rng = self._rng
        offering = list(self.providers.get(ambito_id, {}).get(service, []))
        pick = rng.random()
        if offering and pick < 0.5:
            return {"resolution": "manual_provider", "provider_id": rng.choice(offering)}
        if pick < 0.65 and (days_left or 0) >= 2:
            return {"resolution": "postponement_requested"}
        if pick < 0.85:
            return {"resolution": "family", "covered_by": "family"}
        return {"resolution": "territorial_network", "covered_by": "volunteers"}

    async def _check(
        self, client: httpx.AsyncClient, due: dict[str, Any], auth: dict[str, str]
    ) -> None:
        rng = self._rng
        case_id = due["case_id"]
        if rng.random() < 0.01:
            outcome = rng.choice(["deceased", "institutionalised", "withdrawn"])
            close = await client.post(
                f"{self.monitoring_url}/cases/{case_id}/close",
                json={"outcome": outcome, "note": "simulated"},
                headers=auth,
            )
            self._note(close)
            self.closed_early += close.status_code < 300
            return
        last_week = due.get("week", 1) >= 4
        if last_week and rng.random() < 0.3:
            # The municipality takes over: SAD goes on under it, the rest ends with the case.
            hand_over = await client.post(
                f"{self.monitoring_url}/cases/{case_id}/hand-over",
                json={"continuing": ["sad"], "needs": "Igiene personale, spesa (demo)."},
                headers=auth,
            )
            if hand_over.status_code == 422:  # SAD is not in this case's plan
                hand_over = await client.post(
                    f"{self.monitoring_url}/cases/{case_id}/hand-over",
                    json={"continuing": []},
                    headers=auth,
                )
            self._note(hand_over)
            self.handed_over += hand_over.status_code < 300
            return
        body = {
            "week": due.get("week"),
            "outcome": rng.choices(["stable", "needs_adjustment", "critical"], [80, 17, 3])[0],
            "recommendation": (
                rng.choices(["close", "hand_over_to_municipality"], [70, 30])[0]
                if last_week
                else "continue"
            ),
        }
        response = await client.post(
            f"{self.monitoring_url}/cases/{case_id}/checks", json=body, headers=auth
        )
        self._note(response)
        self.recorded += response.status_code < 300
        if body["outcome"] == "needs_adjustment" and self.intake_url and rng.random() < 0.5:
            # The check finds more help needed: two more hours of SAD, teleassistance kept.
            revised = await client.put(
                f"{self.intake_url}/cases/{case_id}/plan",
                json={
                    "services": [
                        {"service_type": "sad", "weekly_quantity": 8},
                        {"service_type": "teleassistance", "weekly_quantity": 7},
                    ],
                    "reason_code": "plan.check_adjustment",
                    "reason": "Alla verifica servono due ore di SAD in più (demo).",
                },
                headers=auth,
            )
            self._note(revised)
            self.tailored += revised.status_code < 300

    def _note(self, response: httpx.Response) -> None:
        # 409 is a race (the closure at 30 days, an escalation settled meanwhile, a plan over
        # the person's SAD cap): expected, not an error.
        if response.status_code >= 400 and response.status_code != 409:
            self.errors.append(
                f"{response.request.url}: {response.status_code} {response.text[:200]}"
            )


def _code(response: httpx.Response) -> str:
    try:
        return str(response.json()["detail"]["code"])
    except (ValueError, KeyError, TypeError):
        return ""


def _items(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, list):
        return body
    for key in ("checks", "items", "due"):
        if isinstance(body, dict) and isinstance(body.get(key), list):
            return list(body[key])
    return []
