"""``cerniera token``: the access token of a demo account, chosen by role and scope."""

from __future__ import annotations

from cerniera.cli.identity.client import TokenError, person_token, system_token
from cerniera.cli.identity.directory import demo_directory
from cerniera.shared.ambiti import district_tables, load_document


def demo_token(
    issuer: str,
    *,
    role: str,
    district: str | None = None,
    provider: str | None = None,
    hospital: str | None = None,
    user: str | None = None,
) -> str:
    directory = demo_directory(district_tables(load_document()))
    if user is not None:
        return person_token(issuer, user)
    account = directory.find(role, district=district, provider=provider, hospital=hospital)
    if account is None:
        scope = {"district": district, "provider": provider, "hospital": hospital}
        wanted = "".join(f" and {name} {value!r}" for name, value in scope.items() if value)
        raise SystemExit(
            f"No demo account with role {role!r}{wanted}: see the accounts './cerniera up' prints."
        )
    try:
        if account.username in directory.people:
            return person_token(issuer, account.username)
        return system_token(issuer, account.username)
    except TokenError as error:
        raise SystemExit(f"The identity provider refused: {error}") from None
