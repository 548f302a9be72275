"""The tests' identity provider: the embedded one (``cerniera.cli.identity``), started once per
session, with accounts registered on the fly for each role, district, provider or hospital a
test needs. Tokens go through the real flows (PKCE for people, client credentials for
systems) and are cached per account."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import httpx

from cerniera.cli.identity.client import person_token, system_token

TEST_DISTRICTS = ("desio", "magentino", "atlantide")
"""The districts of the test configurations: the default test user's."""


@dataclass(frozen=True)
class Identity:
    issuer: str

    def token(
        self,
        role: str | tuple[str, ...],
        *,
        ambito_id: str | tuple[str, ...] | None = None,
        provider_id: str | None = None,
        hospital_id: str | None = None,
        username: str | None = None,
    ) -> str:
        roles = (role,) if isinstance(role, str) else role
        ambiti = (ambito_id,) if isinstance(ambito_id, str) else ambito_id
        return _token(self.issuer, roles, ambiti, provider_id, hospital_id, username)

    def headers(
        self, role: str | tuple[str, ...], **scope: str | tuple[str, ...] | None
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, **scope)}"}  # type: ignore[arg-type]

    def team(self, ambito_id: str | tuple[str, ...] = TEST_DISTRICTS) -> dict[str, str]:
        """A member of the équipe (and the administration) of ``ambito_id``."""
        return self.headers(("equipe", "district_admin"), ambito_id=ambito_id)


@functools.cache
def _token(
    issuer: str,
    roles: tuple[str, ...],
    ambiti: tuple[str, ...] | None,
    provider_id: str | None,
    hospital_id: str | None,
    username: str | None,
) -> str:
    system = "hospital" in roles or ("provider" in roles and username is None)
    scope = "-".join([*(ambiti or ()), provider_id or "", hospital_id or ""]).strip("-")
    name = username or f"{'client' if system else 'user'}-{'-'.join(roles)}-{scope}"[:120]
    claims = {
        "roles": list(roles),
        "ambito_id": list(ambiti) if ambiti and len(ambiti) > 1 else (ambiti or (None,))[0],
        "provider_id": provider_id,
        "hospital_id": hospital_id,
        "system": system,
    }
    httpx.put(f"{issuer}/accounts/{name}", json=claims, timeout=10).raise_for_status()
    return system_token(issuer, name) if system else person_token(issuer, name)
