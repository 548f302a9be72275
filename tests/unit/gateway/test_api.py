"""The FHIR door without a database: what it refuses is an OperationOutcome, a failure to store
too (nothing applied); what is not a FHIR route answers with the toolkit's error body."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import httpx
import pytest

from cerniera.gateway.api import create_app
from cerniera.shared.access.tokens import TokenVerifier
from cerniera.shared.access.web import Access
from cerniera.shared.runtime import ServiceRuntime
from support.gateway_samples import ENCOUNTER_IN_PROGRESS, fhir_resource
from support.identity import Identity


class _BrokenDatabase:
    @asynccontextmanager
    async def unit_of_work(self, *, source: str | None = None) -> AsyncIterator[Any]:
        raise ConnectionError("database down")
        yield  # pragma: no cover


class _Runtime:
    """No database; tokens checked against the session's identity provider, no audit log."""

    db = _BrokenDatabase()

    def __init__(self, identity: Identity) -> None:
        self.access = Access(TokenVerifier(identity.issuer, "cerniera"), audit=None)


SAN_GERARDO = "irccs-san-gerardo"
"""The hospital of the sample encounter."""


@asynccontextmanager
async def client(
    identity: Identity, hospital_id: str = SAN_GERARDO, **options: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """The door, called by a hospital's system (by default, the sample encounter's)."""
    app = create_app(cast(ServiceRuntime, _Runtime(identity)), {}, **options)
    transport = httpx.ASGITransport(app=app)
    headers = identity.headers("hospital", hospital_id=hospital_id)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://gateway", headers=headers
    ) as http:
        yield http


@pytest.fixture
async def http(identity: Identity) -> AsyncIterator[httpx.AsyncClient]:
    async with client(identity) as http:
        yield http


async def test_a_failure_to_store_is_a_500_operation_outcome(http: httpx.AsyncClient) -> None:
    response = await http.post("/fhir/Encounter", json=fhir_resource(ENCOUNTER_IN_PROGRESS))
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert response.json() == {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "exception",
                "diagnostics": "internal error: nothing was applied; retry",
            }
        ],
    }


async def test_a_refused_resource_is_an_operation_outcome_naming_the_element(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post("/fhir", json={"resourceType": "Encounter"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/fhir+json")
    [issue] = response.json()["issue"]
    assert (issue["code"], issue["expression"]) == ("not-supported", ["resourceType"])


async def test_outside_the_fhir_routes_errors_have_the_toolkits_body(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get("/fhir/Encounter")
    assert response.status_code == 405
    assert response.json() == {"detail": {"code": "http.405", "message": "Method Not Allowed"}}


# --- what the door takes -------------------------------------------------------------------


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/xml"])
async def test_a_body_that_is_not_fhir_json_is_a_415(
    http: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = await http.post("/fhir/Encounter", content=b"{}", headers=headers)
    assert response.status_code == 415
    assert response.json()["detail"]["code"] == "request.media_type"


async def test_a_body_over_the_limit_is_a_413_declared_or_streamed(identity: Identity) -> None:
    fhir_json = {"content-type": "application/fhir+json; charset=utf-8"}

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
        for _ in range(10):
            yield b" " * 300

    async with client(identity, max_body_bytes=1000) as http:
        declared = await http.post("/fhir", content=b" " * 1001, headers=fhir_json)
        streamed = await http.post("/fhir", content=chunks(), headers=fhir_json)
        within = await http.post("/fhir", content=b" " * 999 + b"{", headers=fhir_json)
    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.json()["detail"]["code"] == "request.too_large"
    assert within.status_code == 400  # read, and found not to be JSON


async def test_the_caller_speaks_only_for_its_own_hospital(identity: Identity) -> None:
    async with client(identity, hospital_id="asst-vimercate") as http:
        response = await http.post("/fhir/Encounter", json=fhir_resource(ENCOUNTER_IN_PROGRESS))
    # IRCCS San Gerardo's encounter: refused before the (broken) database is reached.
    assert response.status_code == 403
    assert response.json()["detail"]["code"] == "access.hospital"


async def test_without_a_hospitals_token_nothing_is_read(identity: Identity) -> None:
    app = create_app(cast(ServiceRuntime, _Runtime(identity)), {})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        anonymous = await http.post(
            "/fhir", content=b"x" * 10, headers={"content-type": "text/plain"}
        )
        team = await http.post(
            "/fhir/Encounter",
            json=fhir_resource(ENCOUNTER_IN_PROGRESS),
            headers=identity.headers("equipe", ambito_id="desio"),
        )
    assert (anonymous.status_code, anonymous.json()["detail"]["code"]) == (401, "auth.required")
    assert (team.status_code, team.json()["detail"]["code"]) == (403, "access.role")
