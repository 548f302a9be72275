"""Who the embedded identity provider knows: people (log in with authorization code and PKCE)
and systems (hospitals and providers, with client credentials), each with the claims the
services authorise by (``roles``, ``ambito_id``, ``provider_id``, ``hospital_id``).

The demo directory is built from the districts' configuration: one named person per role and
district, a client per hospital and per provider. Passwords are the demo's, printed by
``cerniera up``: this provider is for development and demonstrations only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

DEMO_PASSWORD: Final = "cerniera"
"""Every demo person's password and every demo client's secret."""
PUBLIC_CLIENTS: Final = ("cerniera-desk", "cerniera-cli")
"""Clients of people (no secret; PKCE S256 required)."""


@dataclass(frozen=True, slots=True)
class Account:
    """A person or a system, with the claims its tokens carry."""

    username: str
    name: str
    roles: tuple[str, ...]
    ambito_id: str | None = None
    provider_id: str | None = None
    hospital_id: str | None = None
    title: str = ""

    def claims(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "preferred_username": self.username,
            "name": self.name,
            "roles": list(self.roles),
        }
        for claim in ("ambito_id", "provider_id", "hospital_id"):
            if (value := getattr(self, claim)) is not None:
                found[claim] = value
        return found


@dataclass
class Directory:
    people: dict[str, Account] = field(default_factory=dict)
    systems: dict[str, Account] = field(default_factory=dict)
    """Confidential clients by client id (client credentials)."""

    def add_person(self, account: Account) -> None:
        self.people[account.username] = account

    def add_system(self, account: Account) -> None:
        self.systems[account.username] = account

    def find(
        self,
        role: str,
        *,
        district: str | None = None,
        provider: str | None = None,
        hospital: str | None = None,
    ) -> Account | None:
        """The first account in ``role`` (and district, provider or hospital when given):
        a person when there is one, else a system."""
        for account in [*self.people.values(), *self.systems.values()]:
            if role not in account.roles:
                continue
            if district is not None and account.ambito_id != district:
                continue
            if provider is not None and account.provider_id != provider:
                continue
            if hospital is not None and account.hospital_id != hospital:
                continue
            return account
        return None


_TEAM: Final = (
    ("Laura Bianchi", "assistente sociale"),
    ("Giulia Verdi", "infermiera di famiglia e comunità"),
    ("Marco Riva", "assistente sociale"),
    ("Sara Galli", "infermiera di famiglia e comunità"),
)
_ADMINS: Final = ("Anna Ferrari", "Paolo Colombo", "Elena Fontana", "Luca Marini")


def demo_directory(districts: Mapping[str, Mapping[str, Any]]) -> Directory:
    """A person of the équipe and an administrator per district, an auditor, an operator per
    provider; a client per hospital and per provider. Usernames are stable (documented)."""
    directory = Directory()
    for index, (ambito_id, table) in enumerate(sorted(districts.items())):
        name, title = _TEAM[index % len(_TEAM)]
        directory.add_person(
            Account(f"equipe-{ambito_id}", name, ("equipe",), ambito_id=ambito_id, title=title)
        )
        directory.add_person(
            Account(
                f"admin-{ambito_id}",
                _ADMINS[index % len(_ADMINS)],
                ("district_admin",),
                ambito_id=ambito_id,
                title="ufficio di piano",
            )
        )
        for hospital_id in table.get("hospitals", ()):
            directory.add_system(
                Account(
                    f"hospital-{hospital_id}", hospital_id, ("hospital",), hospital_id=hospital_id
                )
            )
        for provider in table.get("providers", ()):
            provider_id = provider["id"]
            operator = Account(
                f"operatore-{provider_id}",
                f"Operatore {provider.get('name', provider_id)}",
                ("provider",),
                provider_id=provider_id,
                title="coordinatore",
            )
            directory.add_person(operator)
            directory.add_system(
                Account(
                    f"provider-{provider_id}", provider_id, ("provider",), provider_id=provider_id
                )
            )
    directory.add_person(Account("auditor", "Roberta Sala", ("auditor",), title="DPO"))
    return directory


def describe(directory: Directory) -> Iterator[tuple[str, str, str]]:
    """(username, who, scope) of each person: what ``cerniera up`` prints."""
    for account in directory.people.values():
        scope = account.ambito_id or account.provider_id or "tutti gli ambiti (sola lettura)"
        yield (
            account.username,
            f"{account.name}, {account.title}".strip(", "),
            f"{'/'.join(account.roles)} · {scope}",
        )
