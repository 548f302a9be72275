"""The simulated équipe (district team): records the weekly checks that are due, through
monitoring's HTTP API, as a social worker and a nurse would from their screen."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Team:
    monitoring_url: str
    seed: int = 7
    recorded: int = 0
    closed_early: int = 0
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    async def round(self, client: httpx.AsyncClient) -> None:
        """Record every check due now."""
        response = await client.get(f"{self.monitoring_url}/checks/due")
        response.raise_for_status()
        for due in _items(response.json()):
            await self._check(client, due)

    async def _check(self, client: httpx.AsyncClient, due: dict[str, Any]) -> None:
        rng = self._rng
        case_id = due["case_id"]
        if rng.random() < 0.01:
            outcome = rng.choice(["deceased", "institutionalised", "withdrawn"])
            close = await client.post(
                f"{self.monitoring_url}/cases/{case_id}/close",
                json={"outcome": outcome, "closed_by": "equipe-demo", "note": "simulated"},
            )
            self._note(close)
            self.closed_early += close.status_code < 300
            return
        last_week = due.get("week", 1) >= 4
        body = {
            "week": due.get("week"),
            "outcome": rng.choices(["stable", "needs_adjustment", "critical"], [80, 17, 3])[0],
            "checked_by": rng.choice(["as-rossi", "inf-colombo"]),
            "recommendation": (
                rng.choices(["close", "hand_over_to_municipality"], [70, 30])[0]
                if last_week
                else "continue"
            ),
        }
        response = await client.post(f"{self.monitoring_url}/cases/{case_id}/checks", json=body)
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
