"""Intake's part of the districts' configuration: who belongs where, the Phase-2 rule, the
BRASS bands, the service packages, who decides (the rule or the team), and the two numbers of
other sections that the SAD hours cap is counted with (``billing.sad_cap_hours``,
``monitoring.duration_days``): read from where they are set, never repeated."""

from __future__ import annotations

import functools
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import structlog
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cerniera.shared.ambiti import district_tables, load_document
from cerniera.shared.contract import Intensity, IstatCode, ServiceLine, ServiceType

log = structlog.get_logger(__name__)


class _Config(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Phase2Rule(_Config):
    """The Phase-2 checklist and its rule: at least ``min_primary_yes`` "yes" among the
    ``primary`` requirements, and ``min_other_yes_or_partial`` "yes"/"partial" among the rest."""

    requirements: dict[str, str] = Field(min_length=1)
    primary: tuple[str, ...] = ("R1", "R2")
    min_primary_yes: int = Field(default=1, ge=0)
    min_other_yes_or_partial: int = Field(default=4, ge=0)

    @model_validator(mode="after")
    def _primary_known(self) -> Phase2Rule:
        unknown = set(self.primary) - set(self.requirements)
        if unknown:
            raise ValueError(f"primary requirements not in the checklist: {sorted(unknown)}")
        return self

    @cached_property  # asked at every decision; the rule never changes
    def others(self) -> tuple[str, ...]:
        return tuple(r for r in self.requirements if r not in self.primary)


class IntensityRule(_Config):
    """BRASS bands (0-10 low, 11-19 medium, 20+ high by default) and the fallback intensity."""

    brass_low_max: int = Field(default=10, ge=0, le=40)
    brass_medium_max: int = Field(default=19, ge=0, le=40)
    default: Intensity = Intensity.MEDIUM

    @model_validator(mode="after")
    def _ordered(self) -> IntensityRule:
        if self.brass_low_max >= self.brass_medium_max:
            raise ValueError("brass_low_max must be below brass_medium_max")
        return self


class IntakeRules(_Config):
    """``[intake]``: who decides an eligible case. ``rule``: the district's rule, at once;
    ``team``: the rule proposes and the team confirms (Magentino's process)."""

    decision: Literal["rule", "team"] = "rule"


class SadCap(_Config):
    """``[billing]``, the one key intake reads: SAD hours per person at most."""

    sad_cap_hours: Decimal = Field(default=Decimal(80), gt=0)


class FollowUpPeriod(_Config):
    """``[monitoring]``, the one key intake reads: the days a plan's hours are authorised for."""

    duration_days: int = Field(default=30, ge=1)


class Ambito(_Config):
    """One district (Ambito territoriale sociale) as intake sees it."""

    id: str
    name: str
    municipalities: frozenset[IstatCode] = Field(min_length=1)
    phase2: Phase2Rule
    intensity: IntensityRule = IntensityRule()
    packages: dict[Intensity, dict[ServiceType, Decimal]]
    intake: IntakeRules = IntakeRules()
    billing: SadCap = SadCap()
    monitoring: FollowUpPeriod = FollowUpPeriod()

    @cached_property
    def package_lines(self) -> dict[Intensity, tuple[ServiceLine, ...]]:
        """Each intensity's package as the services of a plan: validated once, not at every
        decision (frozen, so the decisions share them)."""
        return {
            intensity: tuple(
                ServiceLine(service_type=service, weekly_quantity=quantity)
                for service, quantity in lines.items()
            )
            for intensity, lines in self.packages.items()
        }

    @property
    def team_decides(self) -> bool:
        return self.intake.decision == "team"

    @model_validator(mode="after")
    def _every_package(self) -> Ambito:
        missing = set(Intensity) - set(self.packages)
        if missing:
            raise ValueError(f"packages missing for intensity {sorted(m.value for m in missing)}")
        return self


class IntakeConfig(_Config):
    ambiti: dict[str, Ambito]

    @model_validator(mode="after")
    def _municipality_in_one_district(self) -> IntakeConfig:
        seen: dict[str, str] = {}
        for ambito in self.ambiti.values():
            for code in ambito.municipalities:
                if code in seen:
                    raise ValueError(f"municipality {code} is in both {seen[code]} and {ambito.id}")
                seen[code] = ambito.id
        return self

    def ambito_for(self, municipality_code: str) -> Ambito | None:
        """The district a municipality (ISTAT code) belongs to, if any."""
        return self._by_municipality.get(municipality_code)

    @cached_property
    def _by_municipality(self) -> dict[str, Ambito]:
        return {code: a for a in self.ambiti.values() for code in a.municipalities}


def load_config(path: str | Path | None = None) -> IntakeConfig:
    """Validate the districts' document; errors name the district and key at fault."""
    tables = district_tables(load_document(path))
    ambiti: dict[str, Any] = {aid: {"id": aid, **t} for aid, t in tables.items()}
    return IntakeConfig.model_validate({"ambiti": ambiti})


DEV_PSEUDONYM_KEY = "cerniera-dev-pseudonym-key-not-secret"
"""The development key: anyone can recompute the pseudonyms made with it."""


class PseudonymSettings(BaseSettings):
    """``PSEUDONYM_KEY``: the secret the person's pseudonym (``person_ref``) is keyed with.
    The same key must stay for the life of the data: pseudonyms made with another key no
    longer match the person's earlier ones."""

    model_config = SettingsConfigDict(extra="ignore")

    pseudonym_key: SecretStr = SecretStr(DEV_PSEUDONYM_KEY)


@functools.cache
def pseudonym_key() -> bytes:
    """The key from the environment (read once); the development default says so in the
    log."""
    key = PseudonymSettings().pseudonym_key.get_secret_value()
    if key == DEV_PSEUDONYM_KEY:
        log.warning(
            "pseudonym_key.default",
            hint="set PSEUDONYM_KEY to a secret of the deployment: with the development key "
            "anyone can link a person_ref to a fiscal code",
        )
    return key.encode()
