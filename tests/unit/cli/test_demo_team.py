"""The demo's simulated équipe: one member per district, each with their own token, sees and
records only their district's checks, and never names an actor in a body."""

from __future__ import annotations

import json

import httpx

from cerniera.cli.demo.team import Team

DUE = {
    "token-desio": [{"case_id": "h:D-1", "ambito_id": "desio", "week": 1}],
    "token-magentino": [{"case_id": "h:M-1", "ambito_id": "magentino", "week": 4}],
}


async def test_each_district_records_its_own_checks_with_its_own_token() -> None:
    posted: list[tuple[str, str, dict[str, object]]] = []

    def monitoring(request: httpx.Request) -> httpx.Response:
        token = request.headers["Authorization"].removeprefix("Bearer ")
        if request.url.path == "/checks/due":
            return httpx.Response(200, json=DUE[token])
        posted.append((token, request.url.path, json.loads(request.content)))
        return httpx.Response(201, json={})

    team = Team("http://monitoring", {"desio": "token-desio", "magentino": "token-magentino"})
    async with httpx.AsyncClient(transport=httpx.MockTransport(monitoring)) as client:
        await team.round(client)

    # At its last week a case is checked, or handed over to the municipality.
    [desio, magentino] = [(token, path) for token, path, _ in posted]
    assert desio == ("token-desio", "/cases/h:D-1/checks")
    assert magentino in {
        ("token-magentino", "/cases/h:M-1/checks"),
        ("token-magentino", "/cases/h:M-1/hand-over"),
    }
    assert not any(key.endswith("_by") for _, _, body in posted for key in body)
    assert (team.recorded + team.handed_over, team.errors) == (2, [])
