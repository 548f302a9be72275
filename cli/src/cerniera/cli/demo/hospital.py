"""Simulated wards: a month of announcements, with the reschedules, cancellations and
readmissions real wards produce, as a timeline of events at simulated times."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, TypeVar

from cerniera.cli.synthetic import announcement
from cerniera.shared.clock import ROME, italian_date
from cerniera.shared.contract import (
    DischargeAnnounced,
    DischargeCancelled,
    DischargeRescheduled,
    EventData,
    PatientReadmitted,
)

Visit = TypeVar("Visit", DischargeCancelled, DischargeRescheduled, PatientReadmitted)


@dataclass(frozen=True, order=True)
class Planned:
    at: datetime
    seq: int
    data: EventData

    @property
    def source(self) -> str:
        return f"urn:dp:hospital:{getattr(self.data, 'hospital_id', 'unknown')}"

    @property
    def case_id(self) -> str:
        return str(getattr(self.data, "case_id", ""))


@dataclass(frozen=True)
class WardBehaviour:
    eligible_share: float = 0.8
    reschedule_share: float = 0.25
    cancel_share: float = 0.04
    readmit_share: float = 0.08


def month_of_discharges(
    start: datetime,
    cases: int,
    days: int = 30,
    seed: int = 2026,
    behaviour: WardBehaviour | None = None,
) -> list[Planned]:
    """``cases`` announcements spread over ``days`` working hours from ``start``, and what
    follows each: a later date, a cancellation, a readmission after going home."""
    behaviour = behaviour or WardBehaviour()
    rng = random.Random(seed)
    timeline: list[Planned] = []
    seq = itertools.count(1)

    def plan(at: datetime, data: EventData) -> None:
        timeline.append(Planned(at, next(seq), data))

    for n in range(cases):
        day = italian_date(start) + timedelta(days=rng.randrange(days))
        at = datetime.combine(day, time(rng.randint(8, 17), rng.randrange(60)), ROME)
        data = announcement(rng, n, now=at, eligible_share=behaviour.eligible_share)
        # Wards announce 3-7 days ahead, for a late-morning discharge.
        discharge_day = day + timedelta(days=rng.randint(3, 7))
        discharge = datetime.combine(discharge_day, time(rng.choice([10, 11, 12])), ROME)
        data = data.model_copy(update={"expected_discharge_at": discharge})
        plan(at, data)
        draw = rng.random()
        if draw < behaviour.cancel_share:
            cancel_at = at + (discharge - at) * rng.uniform(0.3, 0.9)
            reason = "clinical worsening, discharge postponed indefinitely"
            plan(cancel_at, _about(data, DischargeCancelled, reason=reason))
            continue
        if draw < behaviour.cancel_share + behaviour.reschedule_share:
            moved_at = at + (discharge - at) * rng.uniform(0.2, 0.8)
            discharge = discharge + timedelta(days=rng.choice([-1, 1, 2, 3]))
            discharge = max(discharge, moved_at + timedelta(days=1))
            plan(moved_at, _about(data, DischargeRescheduled, expected_discharge_at=discharge))
        if rng.random() < behaviour.readmit_share:
            back = discharge + timedelta(days=rng.randint(5, 20), hours=rng.randint(0, 8))
            plan(back, _about(data, PatientReadmitted, readmitted_at=back))
    return sorted(timeline)


def _about(visit: DischargeAnnounced, event: type[Visit], **fields: Any) -> Visit:
    """``event`` about the same hospital visit as ``visit``."""
    return event(hospital_id=visit.hospital_id, discharge_ref=visit.discharge_ref, **fields)
