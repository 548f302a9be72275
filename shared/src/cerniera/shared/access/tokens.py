"""Bearer tokens verified as a resource server: the issuer's keys found by OpenID Connect
discovery, then PyJWT checks signature, issuer, audience and expiry.

Keys are cached; a token signed with a key id not seen yet makes one new discovery (at most
every ``REFRESH_AFTER_S``), so an issuer's key rotation needs no restart and a flood of forged
key ids costs no flood of requests to the issuer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any, Final

import httpx
import jwt
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ALGORITHMS: Final = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384")
"""Asymmetric only: an issuer's public keys, never a shared secret (nor ``none``)."""
REFRESH_AFTER_S: Final = 30.0


class OidcSettings(BaseSettings):
    """``OIDC_ISSUER`` (e.g. ``https://sso.example.it/realms/cerniera``) and
    ``OIDC_AUDIENCE`` (the ``aud`` every token for Cerniera's APIs carries)."""

    model_config = SettingsConfigDict(env_prefix="OIDC_", extra="ignore")

    issuer: str | None = None
    audience: str = "cerniera"
    leeway_s: float = Field(default=30.0, ge=0, le=300)


class TokenRefused(Exception):  # noqa: N818 - a verdict on a token
    """The token is missing, malformed, expired, or not signed by the issuer for us."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class IssuerUnavailable(Exception):  # noqa: N818 - a state of the issuer
    """The issuer's discovery document or keys cannot be fetched now."""


class TokenVerifier:
    def __init__(
        self,
        issuer: str,
        audience: str,
        *,
        leeway_s: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self.leeway_s = leeway_s
        self._transport = transport
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = -REFRESH_AFTER_S
        self._lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: OidcSettings) -> TokenVerifier | None:
        if not settings.issuer:
            return None
        return cls(settings.issuer, settings.audience, leeway_s=settings.leeway_s)

    async def claims(self, token: str) -> Mapping[str, Any]:
        """The token's claims once verified; else ``TokenRefused``."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenRefused("auth.invalid_token", "Token non leggibile.") from None
        if header.get("alg") not in ALGORITHMS:
            raise TokenRefused("auth.invalid_token", "Algoritmo di firma non ammesso.")
        key = await self._key(str(header.get("kid", "")))
        try:
            return jwt.decode(
                token,
                key=key,
                algorithms=list(ALGORITHMS),
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_s,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRefused("auth.expired_token", "Token scaduto.") from None
        except jwt.PyJWTError as error:
            raise TokenRefused(
                "auth.invalid_token", f"Token non valido ({type(error).__name__})."
            ) from None

    async def _key(self, kid: str) -> jwt.PyJWK:
        if kid not in self._keys:
            # Taken even while a refresh is in flight: a request arriving then waits for its
            # keys instead of being refused (a service's first burst after it starts).
            async with self._lock:
                if kid not in self._keys and time.monotonic() - self._fetched_at >= REFRESH_AFTER_S:
                    await self._refresh()
        key = self._keys.get(kid)
        if key is None and not kid and len(self._keys) == 1:
            key = next(iter(self._keys.values()))  # an issuer with one key may omit kid
        if key is None:
            raise TokenRefused("auth.invalid_token", "Chiave di firma sconosciuta.")
        return key

    async def _refresh(self) -> None:
        self._fetched_at = time.monotonic()
        try:
            async with httpx.AsyncClient(transport=self._transport, timeout=5) as http:
                found = await http.get(f"{self.issuer}/.well-known/openid-configuration")
                found.raise_for_status()
                discovery = found.json()
                if str(discovery.get("issuer", "")).rstrip("/") != self.issuer:
                    raise IssuerUnavailable("the discovery document names another issuer")
                keys = await http.get(discovery["jwks_uri"])
                keys.raise_for_status()
                key_set = jwt.PyJWKSet.from_dict(keys.json())
        except (httpx.HTTPError, ValueError, KeyError, jwt.PyJWTError) as error:
            self._fetched_at = -REFRESH_AFTER_S  # try again at the next request
            raise IssuerUnavailable(type(error).__name__) from error
        self._keys = {str(k.key_id or ""): k for k in key_set.keys}
