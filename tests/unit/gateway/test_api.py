"""The FHIR door without a database: what it refuses is an OperationOutcome, a failure to store
too (nothing applied); what is not a FHIR route answers with the toolkit's error body."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import httpx
import pytest

from cerniera.gateway.api import create_app
from cerniera.shared.runtime import ServiceRuntime
from support.gateway_samples import ENCOUNTER_IN_PROGRESS, fhir_resource


class _BrokenDatabase:
    @asynccontextmanager
    async def unit_of_work(self, *, source: str | None = None) -> AsyncIterator[Any]:
        raise ConnectionError("database down")
        yield  # pragma: no cover


class _Runtime:
    db = _BrokenDatabase()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(cast(ServiceRuntime, _Runtime()), {})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client


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
