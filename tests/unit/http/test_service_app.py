"""The HTTP toolkit every service's API is built with: /health, /metrics and the one error
body, on an app from ``service_app`` with a fake runtime (no database, no broker)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError

from cerniera.shared import metrics
from cerniera.shared.http import (
    ApiError,
    CaseId,
    ErrorBody,
    Note,
    RequestBody,
    ShortText,
    error_responses,
    service_app,
)
from cerniera.shared.refusals import Conflict, Invalid, NotFound, Refused


@dataclass(frozen=True)
class Spec:
    name: str


SECRET = "password authentication failed for user cerniera at 10.0.0.7"


@dataclass
class FakeRuntime:
    """What ``service_app`` asks of ``ServiceRuntime``. A dependency is up (True), down
    (False), or its probe itself blows up ("raise") with text that must not reach the caller."""

    database: bool | str = True
    broker: bool | str = True
    spec: Spec = Spec("unit-test")

    async def database_reachable(self) -> bool:
        return self._answer(self.database)

    async def broker_reachable(self) -> bool:
        return self._answer(self.broker)

    @staticmethod
    def _answer(state: bool | str) -> bool:
        if state == "raise":
            raise ConnectionRefusedError(SECRET)
        return bool(state)


class Visit(RequestBody):
    note: str


class Report(RequestBody):
    notes: Note
    by: ShortText


def app_for(runtime: FakeRuntime) -> FastAPI:
    app = service_app(runtime, title="Unit test", description="An app of the toolkit.")

    @app.post("/refuse/{kind}", responses=error_responses(e404="No such case."))
    async def refuse(kind: str) -> None:
        raise {
            "refused": Refused("case.closed", "The case is closed."),
            "conflict": Conflict("case.cancelled", "The case was cancelled."),
            "not-found": NotFound("case.unknown", "No such case."),
            "invalid": Invalid("plan.incomplete", "The plan lacks a service."),
            "api-error": ApiError(429, "slow.down", "Too many requests."),
        }[kind]

    @app.get("/database/{sqlstate}")
    async def database(sqlstate: str) -> None:
        raise DBAPIError("SELECT 1", {}, _DriverError(sqlstate, SECRET))

    @app.post("/visits")
    async def visit(body: Visit) -> dict[str, str]:
        return {"note": body.note}

    @app.post("/cases/{case_id:path}/reports")
    async def report(case_id: CaseId, body: Report) -> dict[str, str]:
        return {"case_id": case_id, "notes": body.notes}

    @app.get("/cases/{case_id:path}", responses=error_responses(e404="No such case."))
    async def case(case_id: CaseId) -> dict[str, str]:
        return {"case_id": case_id}

    return app


class _DriverError(Exception):
    """What SQLAlchemy's asyncpg adapter raises: the server's SQLSTATE on ``sqlstate``."""

    def __init__(self, sqlstate: str, text: str) -> None:
        super().__init__(text)
        self.sqlstate = sqlstate


def client(runtime: FakeRuntime) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app_for(runtime))
    return httpx.AsyncClient(transport=transport, base_url="http://service")


async def test_health_is_ok_when_database_and_broker_answer() -> None:
    async with client(FakeRuntime()) as http:
        response = await http.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "service": "unit-test",
        "checks": {"database": "ok", "broker": "ok"},
    }


@pytest.mark.parametrize(
    ("database", "broker", "checks"),
    [
        (False, True, {"database": "unavailable", "broker": "ok"}),
        (True, False, {"database": "ok", "broker": "unavailable"}),
        (False, False, {"database": "unavailable", "broker": "unavailable"}),
        ("raise", True, {"database": "unavailable", "broker": "ok"}),
        (True, "raise", {"database": "ok", "broker": "unavailable"}),
    ],
)
async def test_health_is_503_without_error_text_when_a_dependency_does_not_answer(
    database: bool | str, broker: bool | str, checks: dict[str, str]
) -> None:
    async with client(FakeRuntime(database, broker)) as http:
        response = await http.get("/health")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "service": "unit-test", "checks": checks}
    assert "password" not in response.text


async def test_metrics_are_served_and_operational_routes_stay_out_of_the_api() -> None:
    metrics.EVENTS.labels("unit-test", "processed").inc()
    async with client(FakeRuntime()) as http:
        scraped = await http.get("/metrics")
        openapi = (await http.get("/openapi.json")).json()
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    assert 'cerniera_events_total{outcome="processed",service="unit-test"}' in scraped.text
    assert "/health" not in openapi["paths"]
    assert "/metrics" not in openapi["paths"]
    declared = openapi["paths"]["/refuse/{kind}"]["post"]["responses"]["404"]
    assert declared["description"] == "No such case."
    assert declared["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")


@pytest.mark.parametrize(
    ("kind", "status", "code", "message"),
    [
        ("refused", 409, "case.closed", "The case is closed."),
        ("conflict", 409, "case.cancelled", "The case was cancelled."),
        ("not-found", 404, "case.unknown", "No such case."),
        ("invalid", 422, "plan.incomplete", "The plan lacks a service."),
        ("api-error", 429, "slow.down", "Too many requests."),
    ],
)
async def test_a_refusal_in_a_route_is_the_one_error_body(
    kind: str, status: int, code: str, message: str
) -> None:
    async with client(FakeRuntime()) as http:
        response = await http.post(f"/refuse/{kind}")
    assert response.status_code == status
    assert response.json() == {"detail": {"code": code, "message": message}}
    ErrorBody.model_validate(response.json())


async def test_an_unknown_path_is_a_404_in_the_one_error_body() -> None:
    async with client(FakeRuntime()) as http:
        response = await http.get("/no/such/path")
    assert response.status_code == 404
    assert response.json() == {"detail": {"code": "http.404", "message": "Not Found"}}


async def test_a_wrong_method_is_a_405_in_the_one_error_body() -> None:
    async with client(FakeRuntime()) as http:
        response = await http.delete("/health")
    assert response.status_code == 405
    assert response.json()["detail"]["code"] == "http.405"


async def test_request_bodies_refuse_unknown_fields() -> None:
    async with client(FakeRuntime()) as http:
        accepted = await http.post("/visits", json={"note": "All well."})
        refused = await http.post("/visits", json={"note": "All well.", "mood": "good"})
    assert accepted.json() == {"note": "All well."}
    assert refused.status_code == 422
    assert refused.json() == {
        "detail": {
            "code": "request.invalid",
            "message": "body.mood: Extra inputs are not permitted",
        }
    }


CASE = "asst-vimercate:V2024/000123"
JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("request_args", "where"),
    [
        (("POST", "/visits", {"json": {}}), "body.note: Field required"),
        (
            ("POST", "/visits", {"content": b"{not json", "headers": JSON}),
            "body.1: JSON decode error",
        ),
        (
            ("POST", f"/cases/{CASE}/reports", {"json": {"notes": "a\x00b", "by": "op"}}),
            "body.notes",
        ),
        (("POST", f"/cases/{CASE}/reports", {"json": {"notes": "ok", "by": "a\nb"}}), "body.by"),
        (("GET", "/cases/asst-vimercate:a%00b", {}), "path.case_id"),
        (("GET", "/cases/asst-vimercate:a%0Db", {}), "path.case_id"),
        (("GET", "/cases/not-a-case-id", {}), "path.case_id"),
        (("GET", f"/cases/asst-vimercate:{'V' * 65}", {}), "path.case_id"),
    ],
)
async def test_a_request_that_does_not_validate_is_a_422_in_the_one_error_body(
    request_args: tuple[str, str, dict[str, Any]], where: str
) -> None:
    method, url, kwargs = request_args
    async with client(FakeRuntime()) as http:
        response = await http.request(method, url, **kwargs)
    assert response.status_code == 422, response.text
    detail = ErrorBody.model_validate(response.json()).detail
    assert detail.code == "request.invalid"
    assert detail.message.startswith(where), detail.message
    assert "\x00" not in response.text
    assert "\\u0000" not in response.text


async def test_a_body_that_cannot_be_decoded_is_a_400_in_the_one_error_body() -> None:
    async with client(FakeRuntime()) as http:
        response = await http.post("/visits", content=b'{"note": "\xff"}', headers=JSON)
    assert response.status_code == 400
    assert response.json()["detail"]["code"] == "http.400"


async def test_person_text_keeps_lines_and_case_ids_keep_their_slashes() -> None:
    async with client(FakeRuntime()) as http:
        report = await http.post(
            f"/cases/{CASE}/reports", json={"notes": " Line one.\r\n\tLine two. ", "by": "op"}
        )
        case = await http.get(f"/cases/{CASE}")
    assert report.json() == {"case_id": CASE, "notes": "Line one.\r\n\tLine two."}
    assert case.json() == {"case_id": CASE}


async def test_the_openapi_declares_the_bodies_the_app_answers() -> None:
    async with client(FakeRuntime()) as http:
        openapi = (await http.get("/openapi.json")).json()
    schemas = openapi["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert "ValidationError" not in schemas
    error_body = {"$ref": "#/components/schemas/ErrorBody"}
    report = openapi["paths"]["/cases/{case_id}/reports"]["post"]
    for status in ("400", "422"):
        assert report["responses"][status]["content"]["application/json"]["schema"] == error_body
    case = openapi["paths"]["/cases/{case_id}"]["get"]
    assert case["responses"]["422"]["content"]["application/json"]["schema"] == error_body
    assert "400" not in case["responses"]  # no body to decode
    [parameter] = case["parameters"]
    assert parameter["schema"]["pattern"].startswith("^[a-z0-9]+")
    note = schemas["Report"]["properties"]["notes"]
    assert "\\x00" in note["pattern"]


async def test_a_database_away_is_a_503_to_retry_and_another_database_error_a_500() -> None:
    async with client(FakeRuntime()) as http:
        away = await http.get("/database/57P03")  # starting up, failing over
        broken = await http.get("/database/42P01")  # a bug: no such table
    assert away.status_code == 503
    assert away.headers["retry-after"] == "5"
    assert away.json()["detail"]["code"] == "service.unavailable"
    assert broken.status_code == 500
    assert broken.json()["detail"]["code"] == "internal.error"
    assert SECRET not in away.text + broken.text
