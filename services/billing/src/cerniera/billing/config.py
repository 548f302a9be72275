"""Billing's part of the districts' configuration: tariffs, the SAD cap, the surcharge, the
budget thresholds, each district's funding sources and its registry of providers (enti
gestori)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cerniera.shared.ambiti import district_tables, load_document
from cerniera.shared.contract import Identifier, Money, Quantity, ServiceType


class _Config(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


Tariffs = dict[ServiceType, Money]
"""Euros per unit: SAD per hour, meals per meal, teleassistance per day."""


class BillingRules(_Config):
    """``[defaults.billing]``, overridable per district."""

    sad_cap_hours: Quantity
    surcharge_percent: Decimal = Field(ge=0, le=100, decimal_places=2)
    thresholds_percent: tuple[int, ...] = (50, 80, 100)
    tariffs: Tariffs

    @field_validator("thresholds_percent")
    @classmethod
    def _thresholds(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(not 1 <= t <= 100 for t in value):
            raise ValueError("thresholds_percent must be between 1 and 100")
        return tuple(sorted(set(value)))

    @model_validator(mode="after")
    def _every_tariff(self) -> BillingRules:
        missing = set(ServiceType) - set(self.tariffs)
        if missing:
            raise ValueError(f"tariffs missing for {sorted(m.value for m in missing)}")
        if any(t <= 0 for t in self.tariffs.values()):
            raise ValueError("tariffs must be positive")
        return self


class FundingSource(_Config):
    """One source of a district's budget (PNRR line, FNPS share, ...)."""

    id: Identifier
    name: str
    amount: Money = Field(gt=0)


class Provider(_Config):
    """A provider registered in a district, with its own tariffs where it has them."""

    id: Identifier
    name: str
    services: frozenset[ServiceType] = Field(min_length=1)
    tariffs: Tariffs = {}

    @model_validator(mode="after")
    def _positive_tariffs(self) -> Provider:
        if any(t <= 0 for t in self.tariffs.values()):
            raise ValueError(f"provider {self.id}: tariffs must be positive")
        return self


class BeneficiaryTarget(_Config):
    """``beneficiary_target = { count = 125, years = 3 }``: the persons the district's project
    promises to serve (Desio: 125 over three years), counted from ``since`` when given (the
    project's start), else from the first line billing ever priced."""

    count: int = Field(gt=0)
    years: int = Field(gt=0, le=50)
    since: date | None = None


class Ambito(_Config):
    """One district (Ambito territoriale sociale) as billing sees it."""

    id: str
    name: str
    billing: BillingRules
    funding: tuple[FundingSource, ...] = Field(min_length=1)
    providers: tuple[Provider, ...] = ()
    beneficiary_target: BeneficiaryTarget | None = None

    @model_validator(mode="after")
    def _unique_ids(self) -> Ambito:
        for what, ids in (
            ("funding source", [f.id for f in self.funding]),
            ("provider", [p.id for p in self.providers]),
        ):
            repeated = sorted({i for i in ids if ids.count(i) > 1})
            if repeated:
                raise ValueError(f"{what} listed twice: {', '.join(repeated)}")
        return self

    def provider(self, provider_id: str) -> Provider | None:
        return next((p for p in self.providers if p.id == provider_id), None)

    def tariff(self, provider: Provider, service: ServiceType) -> Money:
        """The provider's own tariff for ``service``, else the district's."""
        return provider.tariffs.get(service, self.billing.tariffs[service])


class BillingConfig(_Config):
    ambiti: dict[str, Ambito]

    def districts_of(self, provider_id: str) -> list[Ambito]:
        """The districts whose registry lists the provider."""
        return [a for a in self.ambiti.values() if a.provider(provider_id) is not None]


def load_config(path: str | Path | None = None) -> BillingConfig:
    """Validate the districts' document; errors name the district and key at fault."""
    tables = district_tables(load_document(path))
    ambiti: dict[str, Any] = {aid: {"id": aid, **t} for aid, t in tables.items()}
    return BillingConfig.model_validate({"ambiti": ambiti})
