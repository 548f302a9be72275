"""What the chaos run plays: the hospitals' events for N cases, duplicates included, and the
districts' document the services run on (the shipped example with a short follow-up).

Every case is announced as a ward would, with a Phase-2 assessment so that the rule decides
without the team: most are eligible, some are not, and some eligible ones are cancelled before
discharge. Each announcement is sent twice with the same event id, half the cases are announced
again under a new id, and each cancellation is sent twice. Everything is drawn from the seed,
event ids included, so the same seed plays the same run.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from importlib.resources import files

from cerniera.cli.synthetic import announcement
from cerniera.shared import ambiti
from cerniera.shared.clock import ROME, italian_date
from cerniera.shared.contract import DischargeCancelled, EventData, Topics
from cerniera.shared.envelope import Envelope

EPOCH = datetime(2027, 1, 11, 7, 0, tzinfo=ROME)
"""A Monday, with no Italian public holiday in the ten weeks that follow: lead times in working
days then depend on weekends alone."""

CHECK_INTERVAL_DAYS = 4
FOLLOW_UP_DAYS = 12
WEEKS = (FOLLOW_UP_DAYS - 1) // CHECK_INTERVAL_DAYS
"""Checks per case (monitoring schedules none on the closing day itself): weeks 1 and 2."""
ANSWER_DEADLINE_HOURS = 240
"""Long: a provider's answer delayed by a killed service must not pass it over."""
DISCHARGE_AFTER_DAYS = (9, 11)
"""Days from announcement to discharge: three working days of lead time take up to five
calendar days; the rest is room for a decision or a plan delayed by the faults (a service
restarting takes a simulated day or two), which would otherwise escalate the service as
``cannot_start_before_discharge``."""

NOT_ELIGIBLE_SHARE = 0.15
CANCELLED_SHARE = 0.06
REANNOUNCED_SHARE = 0.5
HANDED_OVER_SHARE = 0.3


class Kind(StrEnum):
    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not eligible"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class CasePlan:
    """A case and the end state its inputs call for."""

    case_id: str
    kind: Kind
    discharge_at: datetime
    hand_over: bool
    """The team's last check recommends handing over to the municipality (else closing)."""

    @property
    def discharge_on(self) -> date:
        return italian_date(self.discharge_at)

    @property
    def expected_outcome(self) -> str:
        return "handed_over_to_municipality" if self.hand_over else "completed"


@dataclass(frozen=True, order=True)
class Send:
    """One record the hospitals publish at simulated time ``at``."""

    at: datetime
    seq: int
    what: str = field(compare=False)
    """announcement, duplicate (same event id), re-announcement (new id), cancellation."""
    topic: str = field(compare=False)
    key: bytes = field(compare=False)
    value: bytes = field(compare=False)
    headers: list[tuple[str, bytes]] = field(compare=False)


@dataclass(frozen=True)
class Scenario:
    cases: list[CasePlan]
    sends: list[Send]
    announce_days: int

    @property
    def last_discharge(self) -> datetime:
        return max(c.discharge_at for c in self.cases)

    @property
    def ends_at(self) -> datetime:
        """When the last follow-up has closed and its last day of deliveries is reported."""
        last = datetime.combine(self.last_discharge.date(), time(0), ROME)
        return last + timedelta(days=FOLLOW_UP_DAYS + 2)


def announce_days(cases: int) -> int:
    """Days over which the wards announce: about 250 cases a day."""
    return max(2, math.ceil(cases / 250))


def play(cases: int, seed: int, topics: Topics) -> Scenario:
    rng = random.Random(seed)
    days = announce_days(cases)
    plans: list[CasePlan] = []
    sends: list[Send] = []

    def send(at: datetime, what: str, event: Envelope) -> None:
        value, headers = event.to_binary()
        key = (event.subject or "").encode()
        topic = topics.for_event(event.data)
        sends.append(Send(at, len(sends), what, topic, key, value, headers))

    def envelope(data: EventData, case_id: str, at: datetime) -> Envelope:
        source = f"urn:dp:hospital:{getattr(data, 'hospital_id', 'unknown')}"
        return Envelope(data=data, source=source, subject=case_id, id=_uuid(rng), time=at)

    for n in range(cases):
        day = EPOCH.date() + timedelta(days=rng.randrange(days))
        at = datetime.combine(day, time(rng.randint(8, 17), rng.randrange(60)), ROME)
        draw = rng.random()
        kind = (
            Kind.NOT_ELIGIBLE
            if draw < NOT_ELIGIBLE_SHARE
            else Kind.CANCELLED
            if draw < NOT_ELIGIBLE_SHARE + CANCELLED_SHARE
            else Kind.ELIGIBLE
        )
        data = announcement(
            rng, n, now=at, eligible_share=0.0 if kind is Kind.NOT_ELIGIBLE else 1.0, run="C"
        )
        discharge_day = day + timedelta(days=rng.randint(*DISCHARGE_AFTER_DAYS))
        discharge = datetime.combine(discharge_day, time(rng.choice([10, 11, 12])), ROME)
        data = data.model_copy(update={"expected_discharge_at": discharge})
        case_id = data.case_id
        plans.append(CasePlan(case_id, kind, discharge, rng.random() < HANDED_OVER_SHARE))

        first = envelope(data, case_id, at)
        send(at, "announcement", first)
        # The same event again (a hospital system retrying), up to a day and a half later.
        send(at + timedelta(hours=rng.uniform(0, 36)), "duplicate", first)
        if rng.random() < REANNOUNCED_SHARE:  # the ward announces the same discharge again
            again = at + timedelta(hours=rng.uniform(2, 48))
            send(again, "re-announcement", envelope(data, case_id, again))
        if kind is Kind.CANCELLED:
            cancel_at = at + timedelta(hours=rng.uniform(60, 96))
            cancellation = envelope(
                DischargeCancelled(
                    hospital_id=data.hospital_id,
                    discharge_ref=data.discharge_ref,
                    reason="clinical worsening, discharge postponed indefinitely",
                ),
                case_id,
                cancel_at,
            )
            send(cancel_at, "cancellation", cancellation)
            send(cancel_at + timedelta(hours=rng.uniform(0, 12)), "duplicate", cancellation)
    return Scenario(plans, sorted(sends), days)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


# --- the districts' document -----------------------------------------------------------------

_CHANGES = {
    "check_interval_days = 7": f"check_interval_days = {CHECK_INTERVAL_DAYS}",
    "duration_days = 30": f"duration_days = {FOLLOW_UP_DAYS}",
    "answer_deadline_hours = 24": f"answer_deadline_hours = {ANSWER_DEADLINE_HOURS}",
    # Teleassistance for the high package only: a line a day for every case would make the
    # run mostly delivery reports, minutes of billing that test nothing more.
    "[defaults.packages.low]\nsad = 3\nteleassistance = 7\n": "[defaults.packages.low]\nsad = 3\n",
    "meals = 5\nteleassistance = 7\n": "meals = 5\n",
    # The rule decides in both districts: the run is about faults, and a team confirming
    # proposals by hand would be one more actor to kill, not one more fault to survive.
    'decision = "team"': 'decision = "rule"',
}


def districts_document() -> str:
    """The shipped example (Desio and Magentino) with a follow-up of 12 days checked every 4,
    teleassistance in the high package only, a long answer deadline and the rule deciding in
    both districts: the run is about faults, not about providers' silence."""
    text = files("cerniera.shared.ambiti").joinpath("example.toml").read_text(encoding="utf-8")
    for old, new in _CHANGES.items():
        if old not in text:
            raise RuntimeError(f"the example districts' document no longer says {old!r}")
        text = text.replace(old, new, 1)
    return text


def provider_ids(document: str) -> list[str]:
    """Every provider of every district, once, in the document's order."""
    import tomllib

    return ambiti.provider_ids(tomllib.loads(document))
