"""Log-in through the identity provider (authorization code with PKCE S256), and who the
user is on every page.

The session (a signed cookie, ``DESK_SESSION_MAX_AGE_S`` at most) holds the user's access
token: the desk verifies it on every request, as the services do, and passes it on to them
with each command, so every service authorises the user, not the desk. An expired token or
session sends the user back to log in; ``/logout`` forgets it.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Annotated, Any

import authlib.deprecate  # noqa: F401 - installs authlib's "always" filter first

with warnings.catch_warnings():
    # authlib warns, at import, that its httpx integration will move to "httpx2": nothing a
    # reader of the desk's output can act on.
    warnings.simplefilter("ignore")
    from authlib.integrations.starlette_client import OAuth
from fastapi import Depends, Request
from starlette.responses import RedirectResponse

from cerniera.desk.config import DeskSettings
from cerniera.shared.access import Principal
from cerniera.shared.access.roles import Role
from cerniera.shared.access.tokens import TokenRefused, TokenVerifier

SESSION_KEY = "user"


@dataclass(frozen=True, slots=True)
class User:
    """The logged-in person: their verified token's principal, name and the token itself."""

    principal: Principal
    name: str
    token: str
    expires_at: float

    @property
    def is_team(self) -> bool:
        return Role.EQUIPE in self.principal.roles

    @property
    def is_admin(self) -> bool:
        return Role.DISTRICT_ADMIN in self.principal.roles

    @property
    def is_provider(self) -> bool:
        return Role.PROVIDER in self.principal.roles and self.principal.provider_id is not None

    @property
    def ambito_id(self) -> str | None:
        """The user's district (the demo's people have one)."""
        return min(self.principal.ambiti) if self.principal.ambiti else None

    @property
    def home(self) -> str:
        """Where the user lands after logging in."""
        if self.is_provider:
            return "/portale"
        if self.is_team:
            return "/oggi"
        return "/budget"


class LoginRequired(Exception):  # noqa: N818 - a state of the request, answered by a redirect
    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def oauth_client(issuer: str, settings: DeskSettings) -> OAuth:
    oauth = OAuth()
    oauth.register(
        name="idp",
        client_id=settings.client_id,
        server_metadata_url=f"{issuer.rstrip('/')}/.well-known/openid-configuration",
        client_kwargs={
            "scope": "openid profile",
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "none",
        },
    )
    return oauth


async def begin_session(request: Request, verifier: TokenVerifier, token: dict[str, Any]) -> User:
    """Keep the access token the identity provider gave, once verified like every request."""
    access_token = str(token["access_token"])
    claims = await verifier.claims(access_token)
    request.session.clear()
    request.session[SESSION_KEY] = {
        "token": access_token,
        "name": str(claims.get("name") or claims.get("preferred_username") or claims["sub"]),
        "started": time.time(),
    }
    return await _user_of(request, verifier)


async def _user_of(request: Request, verifier: TokenVerifier) -> User:
    stored = request.session.get(SESSION_KEY)
    if not isinstance(stored, dict) or "token" not in stored:
        raise LoginRequired(str(request.url.path))
    # The cookie's own max age restarts whenever the session is written (a notice after a
    # form): the session's start is what caps it.
    max_age = request.app.state.settings.session_max_age_s
    if time.time() - float(stored.get("started", 0)) > max_age:
        request.session.clear()
        raise LoginRequired(str(request.url.path))
    try:
        claims = await verifier.claims(str(stored["token"]))
    except TokenRefused:  # expired (or the issuer's keys changed): log in again
        request.session.clear()
        raise LoginRequired(str(request.url.path)) from None
    return User(
        principal=Principal.from_claims(claims),
        name=str(stored.get("name", "")),
        token=str(stored["token"]),
        expires_at=float(claims.get("exp", 0)),
    )


async def current_user(request: Request) -> User:
    """The dependency of every page: the logged-in user, else a redirect to log in."""
    verifier: TokenVerifier | None = request.app.state.verifier
    if verifier is None:
        raise LoginRequired(str(request.url.path))
    return await _user_of(request, verifier)


CurrentUser = Annotated[User, Depends(current_user)]


def to_login(request: Request, error: Exception) -> RedirectResponse:
    assert isinstance(error, LoginRequired)
    return RedirectResponse(f"/login?next={error.next_url}", status_code=303)
