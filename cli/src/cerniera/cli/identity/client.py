"""Getting an access token from an OpenID Connect provider, as the people and systems of
Cerniera do: authorization code with PKCE (S256) for a person, whose log-in form this client
fills in (``cerniera token``, the demo's simulated team, the tests), and client credentials
for a hospital's or a provider's system."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import httpx

from cerniera.cli.identity.directory import DEMO_PASSWORD

CLI_CLIENT = "cerniera-cli"
REDIRECT_URI = "http://127.0.0.1:8765/callback"
"""Never listened on: the client reads the code off the redirect instead of following it."""


class TokenError(Exception):
    """The provider refused to issue the token."""


def _endpoints(http: httpx.Client, issuer: str) -> dict[str, str]:
    found = http.get(f"{issuer.rstrip('/')}/.well-known/openid-configuration")
    found.raise_for_status()
    document: dict[str, str] = found.json()
    return document


def person_token(
    issuer: str, username: str, *, password: str = DEMO_PASSWORD, client_id: str = CLI_CLIENT
) -> str:
    """A person's access token: the authorization-code flow with PKCE, logging in through the
    provider's form."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    state = secrets.token_urlsafe(16)
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile",
        "state": state,
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    with httpx.Client(timeout=10) as http:
        endpoints = _endpoints(http, issuer)
        login = http.post(
            endpoints["authorization_endpoint"],
            params=params,
            data={"username": username, "password": password},
        )
        if login.status_code != 302:
            raise TokenError(f"log-in of {username!r} refused ({login.status_code})")
        query = parse_qs(urlsplit(login.headers["location"]).query)
        if query.get("state") != [state] or "code" not in query:
            raise TokenError(f"no authorization code for {username!r}: {query.get('error')}")
        return _token(
            http,
            endpoints["token_endpoint"],
            {
                "grant_type": "authorization_code",
                "code": query["code"][0],
                "redirect_uri": REDIRECT_URI,
                "client_id": client_id,
                "code_verifier": verifier,
            },
        )


def system_token(issuer: str, client_id: str, secret: str = DEMO_PASSWORD) -> str:
    """A hospital's or provider's access token: client credentials."""
    with httpx.Client(timeout=10) as http:
        endpoints = _endpoints(http, issuer)
        return _token(
            http,
            endpoints["token_endpoint"],
            {"grant_type": "client_credentials", "scope": "openid"},
            auth=(client_id, secret),
        )


def _token(
    http: httpx.Client,
    endpoint: str,
    form: dict[str, str],
    auth: tuple[str, str] | None = None,
) -> str:
    answer = http.post(endpoint, data=form, auth=auth) if auth else http.post(endpoint, data=form)
    if answer.status_code != 200:
        raise TokenError(f"token refused ({answer.status_code}): {answer.text[:200]}")
    token: str = answer.json()["access_token"]
    return token
