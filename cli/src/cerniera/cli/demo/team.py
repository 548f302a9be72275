"""The simulated équipe (district team): records the weekly checks that are due, through
monitoring's HTTP API, as a social worker and a nurse would from their screen.

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
    recorded: int = 0
    closed_early: int = 0
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    async def round(self, client: httpx.AsyncClient) -> None:
        """Record every check due now, district by district, each as its own équipe."""
        for ambito_id in sorted(self.tokens):
            auth = {"Authorization": f"Bearer {self.tokens[ambito_id]}"}
            response = await client.get(f"{self.monitoring_url}/checks/due", headers=auth)
            response.raise_for_status()
            for due in _items(response.json()):
                await self._check(client, due, auth)

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

    def _note(self, response: httpx.Response) -> None:
        # 409 is a race with the closure at 30 days: expected, not an error.
        if response.status_code >= 400 and response.status_code != 409:
            self.errors.append(
                f"{response.request.url}: {response.status_code} {response.text[:200]}"
            )


def _items(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, list):
        return body
    for key in ("checks", "items", "due"):
        if isinstance(body, dict) and isinstance(body.get(key), list):
            return list(body[key])
    return []
