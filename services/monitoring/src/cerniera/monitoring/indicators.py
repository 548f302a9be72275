"""The district's outcome indicators, pure: computed from what monitoring knows of each case
(``CaseFacts``), so every definition is tested on its own.

The cases counted are the follow-ups discharged in the period asked for, less those the
hospital cancelled and those whose eligibility intake reversed (they were never the
programme's). Days are Italian calendar days.

- **Readmitted within 30 days**: the hospital readmitted the person at most 30 days after the
  discharge day (even after the follow-up ended early, e.g. handed over on day 14).
- **Institutionalised**: closed as ``institutionalised``.
- **At home at day 30**: of the follow-ups that have ended, except the withdrawn (the programme
  lost sight of the person), those closed ``completed`` or ``handed_over_to_municipality`` and
  not readmitted within 30 days.
- **Days from announcement to every service active**: from the day the ward announced the
  discharge to the first day on which every service of the plan at the discharge that needed a
  provider was active (the latest of each service's first ``active_from``). A service the team
  resolved without a provider (family, territorial network, dropped) needs none. Cases whose
  services are not all active are counted apart (``not_all_active``).
- **Bed-days lost waiting for services**: for a case whose discharge the team asked the ward to
  postpone because services were not ready (``DischargePostponementRequested``), the days from
  the discharge day the hospital had planned when the first such request was made to the actual
  discharge day (the follow-up's day 0), when later. A reschedule the team did not ask for is
  the hospital's own (clinical) and is not counted.
- **Hand-overs**: cases closed ``handed_over_to_municipality``, by the team's hand-over step or
  at the closure on the last check's recommendation.
- **Beneficiaries**: distinct persons (intake's pseudonym; the case when there is none).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from cerniera.shared.clock import italian_date
from cerniera.shared.contract import CaseOutcome, Resolution, ServiceType

WINDOW_DAYS = 30
"""Readmission and "at home" are measured at this many days from the discharge."""

AT_HOME = frozenset({CaseOutcome.COMPLETED, CaseOutcome.HANDED_OVER_TO_MUNICIPALITY})

WITHOUT_PROVIDER = frozenset(
    {Resolution.FAMILY, Resolution.TERRITORIAL_NETWORK, Resolution.DROPPED}
)
"""Escalations the team resolved so that no provider is needed."""


@dataclass(frozen=True)
class CaseFacts:
    """What the indicators need of one case."""

    case_id: str
    ambito_id: str
    discharge_on: date
    person_ref: str | None = None
    outcome: CaseOutcome | None = None
    """``None`` while the follow-up is open."""
    readmitted_on: date | None = None
    announced_on: date | None = None
    needs_provider: frozenset[ServiceType] = frozenset()
    """The plan's services at the discharge, less those resolved without a provider."""
    first_active: Mapping[ServiceType, date] = field(default_factory=dict)
    """Each service's first day active."""
    planned_discharge_on: date | None = None
    """The discharge day planned when the team first asked to postpone; ``None``: never asked."""
    handed_over_by_team: bool | None = None
    """True: the team's hand-over step; False: at the closure; None: not handed over."""

    @property
    def person(self) -> str:
        return self.person_ref or self.case_id


def readmitted_within(facts: CaseFacts, days: int = WINDOW_DAYS) -> bool:
    return (
        facts.readmitted_on is not None and (facts.readmitted_on - facts.discharge_on).days <= days
    )


def at_home_at_day_30(facts: CaseFacts) -> bool | None:
    """``None`` while it cannot be told: still open, or withdrawn."""
    if facts.outcome is None or facts.outcome is CaseOutcome.WITHDRAWN:
        return None
    return facts.outcome in AT_HOME and not readmitted_within(facts)


def days_to_every_service_active(facts: CaseFacts) -> int | None:
    """``None`` when the announcement is unknown, nothing needed a provider, or a service is
    not (yet) active."""
    if facts.announced_on is None or not facts.needs_provider:
        return None
    if not facts.needs_provider <= set(facts.first_active):
        return None
    every = max(facts.first_active[s] for s in facts.needs_provider)
    return max((every - facts.announced_on).days, 0)


def all_active(facts: CaseFacts) -> bool:
    return facts.needs_provider <= set(facts.first_active)


def bed_days_lost(facts: CaseFacts) -> int:
    if facts.planned_discharge_on is None:
        return 0
    return max((facts.discharge_on - facts.planned_discharge_on).days, 0)


@dataclass(frozen=True)
class Rate:
    count: int
    of: int

    @property
    def percent(self) -> float | None:
        return round(100 * self.count / self.of, 1) if self.of else None


@dataclass(frozen=True)
class Days:
    """A distribution of whole days over ``cases``."""

    cases: int
    mean: float | None
    median: float | None
    max: int | None

    @classmethod
    def of(cls, values: Sequence[int]) -> Days:
        if not values:
            return cls(0, None, None, None)
        return cls(
            len(values),
            round(statistics.fmean(values), 1),
            float(statistics.median(values)),
            max(values),
        )


@dataclass(frozen=True)
class Outcomes:
    """A district's indicators over a period."""

    cases: int
    beneficiaries: int
    open: int
    outcomes: Mapping[str, int]
    readmitted_within_30_days: Rate
    institutionalised: Rate
    at_home_at_day_30: Rate
    days_to_every_service_active: Days
    not_all_active: int
    bed_days_lost: int
    cases_waiting_for_services: int
    """Cases whose discharge the team asked to postpone."""
    hand_overs: int
    hand_overs_by_team: int
    hand_overs_at_closure: int


def beneficiaries(cases: Iterable[CaseFacts]) -> int:
    return len({c.person for c in cases})


def outcomes(cases: Collection[CaseFacts]) -> Outcomes:
    closed = [c for c in cases if c.outcome is not None]
    at_home = [v for v in map(at_home_at_day_30, cases) if v is not None]
    days = [d for d in map(days_to_every_service_active, cases) if d is not None]
    handed = [c for c in cases if c.outcome is CaseOutcome.HANDED_OVER_TO_MUNICIPALITY]
    return Outcomes(
        cases=len(cases),
        beneficiaries=beneficiaries(cases),
        open=len(cases) - len(closed),
        outcomes=dict(sorted(Counter(c.outcome.value for c in closed if c.outcome).items())),
        readmitted_within_30_days=Rate(sum(map(readmitted_within, cases)), len(cases)),
        institutionalised=Rate(
            sum(c.outcome is CaseOutcome.INSTITUTIONALISED for c in cases), len(cases)
        ),
        at_home_at_day_30=Rate(sum(at_home), len(at_home)),
        days_to_every_service_active=Days.of(days),
        not_all_active=sum(1 for c in cases if c.needs_provider and not all_active(c)),
        bed_days_lost=sum(map(bed_days_lost, cases)),
        cases_waiting_for_services=sum(c.planned_discharge_on is not None for c in cases),
        hand_overs=len(handed),
        hand_overs_by_team=sum(c.handed_over_by_team is True for c in handed),
        hand_overs_at_closure=sum(c.handed_over_by_team is not True for c in handed),
    )


def needs_provider(
    plan: Iterable[ServiceType], resolutions: Mapping[ServiceType, Resolution]
) -> frozenset[ServiceType]:
    """The plan's services that need a provider: not resolved by family, network or drop."""
    return frozenset(s for s in plan if resolutions.get(s) not in WITHOUT_PROVIDER)


def quarter_days(quarter: str) -> tuple[date, date]:
    """``"2026-Q4"`` → its first and last day."""
    year, q = int(quarter[:4]), int(quarter[-1])
    first = date(year, 3 * q - 2, 1)
    last = date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1) - timedelta(days=1)
    return first, last


def planned_before(said: Iterable[tuple[datetime, datetime]], asked_at: datetime) -> date | None:
    """The discharge day the hospital had planned when the team asked to postpone: the last
    expected discharge it gave (announcement or reschedule, by the event's time) before
    ``asked_at``; ``None`` when it gave none before."""
    before = [(at, expected) for at, expected in said if at <= asked_at]
    return italian_date(max(before)[1]) if before else None
