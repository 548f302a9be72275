"""The embedded identity provider: real OAuth 2 / OpenID Connect flows over HTTP (authlib's
server in a thread), checked from the outside as a service and a client see it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from cerniera.cli.identity.client import REDIRECT_URI, TokenError, person_token, system_token
from cerniera.cli.identity.directory import demo_directory
from cerniera.cli.identity.provider import RunningProvider, serving
from cerniera.shared.access import Principal, Role
from cerniera.shared.access.tokens import TokenRefused, TokenVerifier
from cerniera.shared.ambiti import district_tables, load_document


@pytest.fixture(scope="module")
def idp() -> Iterator[RunningProvider]:
    with serving(demo_directory(district_tables(load_document()))) as running:
        yield running


def _claims(idp: RunningProvider, token: str, audience: str = "cerniera") -> Any:
    return asyncio.run(TokenVerifier(idp.url, audience).claims(token))


def test_a_person_logs_in_with_pkce_and_the_token_says_role_and_district(
    idp: RunningProvider,
) -> None:
    principal = Principal.from_claims(_claims(idp, person_token(idp.url, "equipe-desio")))
    assert (principal.actor, principal.roles, principal.ambiti) == (
        "equipe-desio",
        frozenset({Role.EQUIPE}),
        frozenset({"desio"}),
    )


def test_a_hospital_system_gets_a_token_by_client_credentials(idp: RunningProvider) -> None:
    principal = Principal.from_claims(
        _claims(idp, system_token(idp.url, "hospital-asst-vimercate"))
    )
    assert principal.roles == {Role.HOSPITAL}
    assert principal.hospital_id == "asst-vimercate"


def test_a_token_for_another_audience_is_refused(idp: RunningProvider) -> None:
    with pytest.raises(TokenRefused):
        _claims(idp, person_token(idp.url, "auditor"), audience="another-api")


def test_wrong_password_and_wrong_secret_are_refused(idp: RunningProvider) -> None:
    with pytest.raises(TokenError, match="401"):
        person_token(idp.url, "equipe-desio", password="guess")
    with pytest.raises(TokenError, match="401"):
        system_token(idp.url, "hospital-asst-vimercate", secret="guess")


def _authorize(idp: RunningProvider, **overrides: str) -> httpx.Response:
    params = {
        "response_type": "code",
        "client_id": "cerniera-cli",
        "redirect_uri": REDIRECT_URI,
        "scope": "openid",
        "state": "s",
        "code_challenge": "x" * 43,
        "code_challenge_method": "S256",
        **overrides,
    }
    params = {k: v for k, v in params.items() if v}
    return httpx.post(
        f"{idp.url}/authorize",
        params=params,
        data={"username": "equipe-desio", "password": "cerniera"},
    )


def test_the_code_flow_needs_pkce_and_a_loopback_redirect(idp: RunningProvider) -> None:
    assert _authorize(idp).status_code == 302  # the baseline the refusals differ from
    no_pkce = _authorize(idp, code_challenge="", code_challenge_method="")
    assert "code=" not in no_pkce.headers.get("location", "")
    assert _authorize(idp, redirect_uri="https://evil.example/cb").status_code == 400
    assert _authorize(idp, client_id="hospital-asst-vimercate").status_code == 400


def test_accounts_cannot_be_registered_outside_the_tests(idp: RunningProvider) -> None:
    answer = httpx.put(f"{idp.url}/accounts/mallory", json={"roles": ["auditor"]})
    assert answer.status_code == 404
    assert "mallory" not in idp.provider.directory.people
