"""Logging in to the desk as a person does, over HTTP: accounts on the embedded identity
provider (open registration in the tests), then the desk's log-in through its form."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

PASSWORD = "cerniera"
"""The embedded identity provider's password, for everyone."""


def register(issuer: str, username: str, name: str, roles: Sequence[str], **scope: Any) -> None:
    """An account with its roles and scope (``ambito_id`` or ``provider_id``)."""
    body = {"name": name, "roles": list(roles), **scope}
    httpx.put(f"{issuer}/accounts/{username}", json=body, timeout=10).raise_for_status()


async def log_in(client: httpx.AsyncClient, username: str, next_path: str) -> httpx.Response:
    """The desk sends the browser to the identity provider's form, the person logs in, the
    identity provider sends the browser back with a code, and the desk to ``next_path``."""
    start = await client.get("/login", params={"next": next_path})
    assert start.status_code in (302, 303), start.text
    authorize = start.headers["location"]
    form = await client.get(authorize)
    assert form.status_code == 200, form.text
    assert 'name="password"' in form.text
    answer = await client.post(authorize, data={"username": username, "password": PASSWORD})
    assert answer.status_code == 302, answer.text
    back = await client.get(answer.headers["location"])
    assert back.status_code == 303, back.text
    assert back.headers["location"] == next_path
    return back
