"""The outside world of the chaos run: the hospitals, publishing on Kafka at their simulated
times, and the équipe, recording each weekly check through monitoring's HTTP API (retrying
while monitoring or its database is down)."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

import httpx
from aiokafka import AIOKafkaProducer

from cerniera.cli.chaos.scenario import WEEKS, CasePlan, Send
from cerniera.shared.clock import Clock


@dataclass
class Hospitals:
    sends: list[Send]
    clock: Clock
    published: int = 0
    by_what: Counter[str] = field(default_factory=Counter)

    @property
    def done(self) -> bool:
        return self.published == len(self.sends)

    async def run(self, producer: AIOKafkaProducer) -> None:
        while not self.done:
            now = self.clock.now()
            acknowledged: list[asyncio.Future[object]] = []
            start = self.published
            while start + len(acknowledged) < len(self.sends):
                send = self.sends[start + len(acknowledged)]
                if send.at > now:
                    break
                acknowledged.append(
                    await producer.send(
                        send.topic, value=send.value, key=send.key, headers=send.headers
                    )
                )
            await asyncio.gather(*acknowledged)
            for send in self.sends[start : start + len(acknowledged)]:
                self.by_what[send.what] += 1
            self.published = start + len(acknowledged)
            await asyncio.sleep(0.1)


@dataclass
class Team:
    """Records every due weekly check: "continue" until the last week, then the case's own
    recommendation (close, or hand over to the municipality)."""

    monitoring_url: str
    cases: dict[str, CasePlan]
    tokens: list[str]
    """One access token per district's team: each sees and records its own district's."""
    recorded: int = 0
    already: int = 0
    """Answered 409 "week already recorded": an earlier try went through unanswered."""
    refused: Counter[str] = field(default_factory=Counter)
    unavailable: int = 0

    async def run(self) -> None:
        clients = [
            httpx.AsyncClient(timeout=5.0, headers={"Authorization": f"Bearer {token}"})
            for token in self.tokens
        ]
        try:
            while True:
                for client in clients:
                    await self._round(client)
                await asyncio.sleep(0.5)
        finally:
            for client in clients:
                await client.aclose()

    async def _round(self, client: httpx.AsyncClient) -> None:
        try:
            response = await client.get(f"{self.monitoring_url}/checks/due")
            response.raise_for_status()
            due = response.json()
        except (httpx.HTTPError, ValueError):
            self.unavailable += 1
            await asyncio.sleep(0.5)
            return
        await self._record_all(client, due)

    async def _record_all(self, client: httpx.AsyncClient, due: list[dict[str, object]]) -> None:
        limit = asyncio.Semaphore(6)

        async def one(item: dict[str, object]) -> None:
            async with limit:
                await self._record(client, str(item["case_id"]), int(str(item["week"])))

        await asyncio.gather(*(one(item) for item in due))

    async def _record(self, client: httpx.AsyncClient, case_id: str, week: int) -> None:
        plan = self.cases.get(case_id)
        recommendation = "continue"
        if week >= WEEKS:
            hand_over = plan is not None and plan.hand_over
            recommendation = "hand_over_to_municipality" if hand_over else "close"
        body = {
            "week": week,
            "outcome": "stable",
            "recommendation": recommendation,
        }
        try:
            response = await client.post(f"{self.monitoring_url}/cases/{case_id}/checks", json=body)
        except httpx.HTTPError:
            self.unavailable += 1
            return
        if response.status_code < 300:
            self.recorded += 1
        elif response.status_code == 409:
            code = _code(response)
            if code == "check.week_recorded":
                self.already += 1
            else:
                self.refused[code] += 1
        elif response.status_code >= 500:
            self.unavailable += 1
        else:
            self.refused[f"http {response.status_code}"] += 1


def _code(response: httpx.Response) -> str:
    try:
        return str(response.json()["detail"]["code"])
    except (ValueError, KeyError, TypeError):
        return f"http {response.status_code}"
