"""Activation's part of the districts' configuration: each district's providers (enti gestori),
the services they run and where, their lead times, and how long a provider has to answer."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cerniera.shared.ambiti import district_tables, load_document
from cerniera.shared.contract import IstatCode, ProviderId, ServiceType

LeadTimes = dict[ServiceType, Annotated[int, Field(ge=0, le=60)]]
"""Working days between a request and the first possible day of service, per service."""


class _Config(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ActivationDefaults(_Config):
    """``[defaults.activation]``, overridable per district."""

    lead_time_days: LeadTimes = {}
    answer_deadline_hours: float = Field(default=24, gt=0, le=24 * 30)


class Provider(_Config):
    """An ente gestore: a provider running one or more services in (part of) a district."""

    id: ProviderId
    """Also names the provider's topics, so only topic-safe characters."""
    name: str = Field(min_length=1)
    services: tuple[ServiceType, ...] = Field(min_length=1)
    municipalities: frozenset[IstatCode] | None = None
    """ISTAT codes served; ``None`` (omitted) = the whole district."""
    lead_time_days: LeadTimes = {}
    """Overrides the district's lead time for the services named."""

    def covers(self, municipality_code: str) -> bool:
        return self.municipalities is None or municipality_code in self.municipalities


class Ambito(_Config):
    """One district (Ambito territoriale sociale) as activation sees it."""

    id: str
    name: str
    municipalities: frozenset[IstatCode] = frozenset()
    activation: ActivationDefaults = ActivationDefaults()
    providers: tuple[Provider, ...] = ()
    """In the district's order of preference: candidates are asked in this order."""

    @model_validator(mode="after")
    def _providers_consistent(self) -> Ambito:
        seen: set[str] = set()
        for p in self.providers:
            if p.id in seen:
                raise ValueError(f"provider {p.id} is listed twice")
            seen.add(p.id)
            foreign = set(p.lead_time_days) - set(p.services)
            if foreign:
                raise ValueError(
                    f"provider {p.id}: lead_time_days for services it does not offer: "
                    f"{sorted(s.value for s in foreign)}"
                )
            missing = [s.value for s in p.services if self._lead_time(p, s) is None]
            if missing:
                raise ValueError(
                    f"provider {p.id}: no lead time for {missing} (neither its own "
                    "lead_time_days nor [defaults.activation].lead_time_days)"
                )
            if p.municipalities is not None and self.municipalities:
                outside = p.municipalities - self.municipalities
                if outside:
                    raise ValueError(
                        f"provider {p.id}: municipalities not in the district: {sorted(outside)}"
                    )
        return self

    def _lead_time(self, provider: Provider, service: ServiceType) -> int | None:
        own = provider.lead_time_days.get(service)
        return own if own is not None else self.activation.lead_time_days.get(service)

    def lead_time(self, provider: Provider, service: ServiceType) -> int:
        """The provider's lead time for ``service`` in working days (validated to exist)."""
        days = self._lead_time(provider, service)
        assert days is not None, "validated at start-up"
        return days

    @cached_property
    def offering(self) -> dict[ServiceType, list[tuple[Provider, int]]]:
        """Per service, the providers offering it with their lead times, in the district's
        order: found once, as planning asks for them for each service of each case."""
        found: dict[ServiceType, list[tuple[Provider, int]]] = {}
        for p in self.providers:
            for service in p.services:
                found.setdefault(service, []).append((p, self.lead_time(p, service)))
        return found

    @property
    def answer_deadline_hours(self) -> float:
        return self.activation.answer_deadline_hours


class ActivationConfig(_Config):
    ambiti: dict[str, Ambito]

    @property
    def provider_ids(self) -> list[str]:
        """Every provider some district registers, once each: whose topics activation uses."""
        return list(dict.fromkeys(p.id for a in self.ambiti.values() for p in a.providers))


def load_config(path: str | Path | None = None) -> ActivationConfig:
    """Validate the districts' document; errors name the district and key at fault."""
    tables = district_tables(load_document(path))
    ambiti: dict[str, Any] = {aid: {"id": aid, **t} for aid, t in tables.items()}
    return ActivationConfig.model_validate({"ambiti": ambiti})
