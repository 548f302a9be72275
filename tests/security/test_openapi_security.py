"""Every route of every service declares who may call it, and refuses a caller with no token.

The walk reads each running service's own OpenAPI, so a route added later without a guard
fails here: it would be declared public (``security: []``) or answer without a token.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from cerniera.shared.access import Role
from cerniera.shared.http import EXAMPLE_CASE
from cerniera.shared.settings import DatabaseSettings, KafkaSettings
from support.services import SERVICES_WITH_HTTP, service_runtime

pytestmark = pytest.mark.integration

ROLES = {role.value for role in Role}
SAMPLE = {"case_id": EXAMPLE_CASE, "provider_id": "coop-il-melograno", "period": "2024-10"}


def _url(path: str) -> str:
    """The path with a sample value in each parameter (``{case_id:path}`` included)."""
    return re.sub(r"\{(\w+)(?::path)?\}", lambda m: SAMPLE.get(m.group(1), "x"), path)


def _operations(openapi: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, operations in openapi["paths"].items()
        for method, operation in operations.items()
    ]


@pytest.mark.parametrize("name", SERVICES_WITH_HTTP)
async def test_every_route_declares_its_roles_and_refuses_a_missing_token(
    name: str, kafka_settings: KafkaSettings, database_settings: DatabaseSettings
) -> None:
    rt = service_runtime(name, kafka_settings, database_settings)
    async with rt.running(), httpx.AsyncClient(base_url=rt.http_url or "", timeout=10) as http:
        openapi = (await http.get("/openapi.json")).json()
        operations = _operations(openapi)
        answers = {
            (method, path): await http.request(method, _url(path), json={})
            for method, path, _ in operations
        }
    assert openapi["components"]["securitySchemes"]["oidc"]["scheme"] == "bearer"
    undeclared = [
        f"{method} {path}"
        for method, path, operation in operations
        if operation.get("security") != [{"oidc": []}]
        or not operation.get("x-roles")
        or not set(operation["x-roles"]) <= ROLES
        or "401" not in operation["responses"]
        or "403" not in operation["responses"]
    ]
    assert not undeclared, f"{name}: routes without declared security: {undeclared}"
    assert any(path == "/audit" for _, path, _ in operations)
    open_doors = {
        f"{method} {path}": (r.status_code, r.text[:80])
        for (method, path), r in answers.items()
        if r.status_code != 401
        or r.json()["detail"]["code"] != "auth.required"
        or not r.headers.get("www-authenticate", "").startswith("Bearer")
    }
    assert not open_doors, f"{name}: answered without a token: {open_doors}"
