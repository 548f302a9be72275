"""Monitoring's part of the districts' configuration: how often the équipe (the district's
social and health team) checks a case after discharge, for how long, and when a check is late;
and what its reports and hand-over summaries name: the district, its providers, its target."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cerniera.shared.ambiti import district_tables, load_document


class _Config(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class MonitoringRule(_Config):
    """``[monitoring]``: a check every ``check_interval_days`` from the discharge, closure after
    ``duration_days``, overdue when not recorded ``overdue_after_days`` after it fell due."""

    check_interval_days: int = Field(default=7, ge=1)
    duration_days: int = Field(default=30, ge=1)
    overdue_after_days: int = Field(default=2, ge=0)

    @model_validator(mode="after")
    def _at_least_one_check(self) -> MonitoringRule:
        if self.duration_days <= self.check_interval_days:
            raise ValueError(
                "duration_days must exceed check_interval_days, or no check would ever fall due"
            )
        return self


class BeneficiaryTarget(_Config):
    """``beneficiary_target = { count = 125, years = 3 }``: the persons the district's project
    promises to serve (the same key billing reads)."""

    count: int = Field(gt=0)
    years: int = Field(gt=0, le=50)


class Provider(_Config):
    """A provider as the hand-over summary names it."""

    id: str
    name: str | None = None


class Ambito(_Config):
    """One district (Ambito territoriale sociale) as monitoring sees it."""

    id: str
    name: str | None = None
    monitoring: MonitoringRule = MonitoringRule()
    beneficiary_target: BeneficiaryTarget | None = None
    providers: tuple[Provider, ...] = ()


class MonitoringConfig(_Config):
    ambiti: dict[str, Ambito]

    def rule_for(self, ambito_id: str) -> MonitoringRule | None:
        ambito = self.ambiti.get(ambito_id)
        return ambito.monitoring if ambito is not None else None

    def provider_name(self, ambito_id: str, provider_id: str) -> str:
        """The provider's name in the district's list; its id when not there."""
        ambito = self.ambiti.get(ambito_id)
        for provider in ambito.providers if ambito is not None else ():
            if provider.id == provider_id and provider.name:
                return provider.name
        return provider_id


def load_config(path: str | Path | None = None) -> MonitoringConfig:
    """Validate the districts' document; errors name the district and key at fault."""
    tables = district_tables(load_document(path))
    ambiti: dict[str, Any] = {aid: {"id": aid, **t} for aid, t in tables.items()}
    return MonitoringConfig.model_validate({"ambiti": ambiti})
