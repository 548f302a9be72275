"""The owning services' APIs, called with the user's own token: every command of the desk
goes there, and so do the reads only a service can answer (intake's proposals, billing's
spending). A refusal comes back as ``ServiceRefused`` with the service's code and its Italian
message, for the page to show next to the form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from cerniera.desk.config import DeskSettings


class ServiceRefused(Exception):  # noqa: N818 - the owning service's verdict
    def __init__(self, status: int, code: str, message: str, fields: dict[str, str]) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
        """Field name → message, for a 422 naming the fields that are wrong."""


class ServiceUnavailable(Exception):  # noqa: N818 - a state of the owning service
    pass


@dataclass
class Services:
    settings: DeskSettings
    client: httpx.AsyncClient

    @classmethod
    def open(cls, settings: DeskSettings) -> Services:
        return cls(settings, httpx.AsyncClient(timeout=settings.service_timeout_s))

    async def close(self) -> None:
        await self.client.aclose()

    def _base(self, service: str) -> str:
        return str(getattr(self.settings, f"{service}_url")).rstrip("/")

    async def call(
        self,
        method: str,
        service: str,
        path: str,
        token: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """The JSON answer of ``service`` (intake, activation, monitoring, billing)."""
        try:
            response = await self.client.request(
                method,
                f"{self._base(service)}{path}",
                json=json,
                params=params,
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.HTTPError as error:
            raise ServiceUnavailable(f"{service}: {type(error).__name__}") from error
        if response.status_code >= 500:
            raise ServiceUnavailable(f"{service}: HTTP {response.status_code}")
        if response.status_code >= 400:
            raise _refusal(response)
        if response.status_code == 204 or not response.content:
            return None
        if "json" not in response.headers.get("content-type", ""):
            return response.text
        return response.json()


def _refusal(response: httpx.Response) -> ServiceRefused:
    code, message, fields = "http.error", f"HTTP {response.status_code}", {}
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    if isinstance(detail, dict):
        code = str(detail.get("code", code))
        message = str(detail.get("message", message))
        for item in detail.get("fields") or detail.get("errors") or []:
            if isinstance(item, dict) and "field" in item:
                fields[str(item["field"])] = str(item.get("message", ""))
    return ServiceRefused(response.status_code, code, message, fields)
