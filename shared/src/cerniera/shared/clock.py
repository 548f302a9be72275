"""Time as the services see it.

Real time in production. In the demo, accelerated: simulated time = ``epoch`` + (real time
since ``real_start``) × ``speed``; every process given the same three settings agrees on the
time, so 30-day cases finish in minutes without any service knowing it is a simulation.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic_settings import BaseSettings, SettingsConfigDict

ROME = ZoneInfo("Europe/Rome")  # the districts' local time: days, weeks and deadlines


def italian_date(moment: datetime) -> date:
    """The day ``moment`` falls on in Italy (a discharge at 00:30 CET is that day, not UTC's)."""
    return moment.astimezone(ROME).date()


class ClockSettings(BaseSettings):
    """``CERNIERA_CLOCK_SPEED`` (1 = real time), ``CERNIERA_CLOCK_EPOCH`` (the simulated time at
    ``CERNIERA_CLOCK_REAL_START``, a Unix timestamp)."""

    model_config = SettingsConfigDict(env_prefix="CERNIERA_CLOCK_", extra="ignore")

    speed: float = 1.0
    epoch: datetime | None = None
    real_start: float | None = None


class Clock:
    def __init__(
        self, speed: float = 1.0, epoch: datetime | None = None, real_start: float | None = None
    ) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self.speed = speed
        self.real_start = real_start if real_start is not None else time.time()
        self.epoch = epoch or datetime.fromtimestamp(self.real_start, UTC)
        if self.epoch.tzinfo is None:
            raise ValueError("clock epoch must carry a time zone")

    @classmethod
    def from_settings(cls, settings: ClockSettings | None = None) -> Clock:
        settings = settings or ClockSettings()
        return cls(settings.speed, settings.epoch, settings.real_start)

    def now(self) -> datetime:
        elapsed = (time.time() - self.real_start) * self.speed
        return (self.epoch + timedelta(seconds=elapsed)).astimezone(UTC)

    def today(self) -> date:
        """Today in Italy."""
        return italian_date(self.now())

    def real_seconds(self, simulated: timedelta) -> float:
        """How long ``simulated`` lasts on the wall clock."""
        return simulated.total_seconds() / self.speed
