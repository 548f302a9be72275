"""The gateway's rules, pure: what a hospital's message means for the contract, given what the
gateway already announced for that visit.

Both doors (HL7 v2 over MLLP, FHIR R4 over HTTP) turn a message into a ``Notice``; the rules
below decide which contract event, if any, it becomes. The gateway remembers each visit it
announced (``Visit``) so that a repeated ADT^A16 becomes a reschedule, or nothing, instead of a
second announcement, and so that an admission finds the patient's open case.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from enum import StrEnum
from typing import Final

from cerniera.shared.clock import ROME
from cerniera.shared.contract import (
    AnswerValue,
    DischargeAnnounced,
    DischargeCancelled,
    DischargeRescheduled,
    EventData,
    PatientDetailsUpdated,
    PatientReadmitted,
    case_id_for,
    split_case_id,
)

HOSPITAL_SOURCE_PREFIX: Final = "urn:dp:hospital:"


class VisitStatus(StrEnum):
    OPEN = "open"
    """Announced and followed: an admission of the patient is a readmission."""
    CLOSED = "closed"
    """No longer followed: the case was closed, rejected, or the patient readmitted."""
    CANCELLED = "cancelled"
    """The hospital cancelled the discharge (ADT^A13)."""


@dataclass(frozen=True)
class Visit:
    """A hospital visit the gateway announced: the state it needs, and nothing personal beyond
    the fiscal code that links an admission to the case."""

    case_id: str
    fiscal_code: str
    expected_discharge_at: datetime
    status: VisitStatus
    correlation_id: str | None = None
    """The case's correlation id; ``None`` until the announcement that starts it is emitted."""


# --- what the hospital said, whichever door it used ----------------------------------------


@dataclass(frozen=True)
class DischargeNotice:
    """A discharge expected (ADT^A16; an Encounter in progress with ``period.end``) or done
    (ADT^A03; a finished Encounter): everything a DischargeAnnounced needs."""

    announcement: DischargeAnnounced
    actual: bool = False
    """The discharge happened (the time is PV1-45 / the finished Encounter's end)."""

    @property
    def hospital_id(self) -> str:
        return self.announcement.hospital_id


@dataclass(frozen=True)
class CancelNotice:
    """The pending discharge is cancelled (ADT^A13)."""

    cancellation: DischargeCancelled

    @property
    def hospital_id(self) -> str:
        return self.cancellation.hospital_id


@dataclass(frozen=True)
class AdmissionNotice:
    """A patient admitted or registered (ADT^A01 / ADT^A04), possibly a readmission."""

    hospital_id: str
    fiscal_code: str
    admitted_at: datetime
    discharge_ref: str | None = None
    """The new visit's own number: an admission is never a readmission into itself."""

    @property
    def case_id(self) -> str | None:
        return case_id_for(self.hospital_id, self.discharge_ref) if self.discharge_ref else None


@dataclass(frozen=True)
class DetailsNotice:
    """The patient's contact details corrected (ADT^A08) for one visit (PV1-19)."""

    update: PatientDetailsUpdated

    @property
    def hospital_id(self) -> str:
        return self.update.hospital_id


@dataclass(frozen=True)
class IgnoredNotice:
    """A well-formed message the gateway has no use for (e.g. ADT^A11): accepted, no event."""

    hospital_id: str
    what: str


Notice = DischargeNotice | CancelNotice | AdmissionNotice | DetailsNotice | IgnoredNotice


# --- what a notice does -----------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One visit's new state, and the event that tells the world (if any)."""

    visit: Visit
    event: EventData | None = None


@dataclass(frozen=True)
class Outcome:
    changes: list[Change]
    summary: str
    """For the sender (ACK MSA-3, HTTP body) and the log: what happened, in one line."""


def on_discharge(visit: Visit | None, notice: DischargeNotice) -> Outcome:
    """ADT^A16 / ADT^A03 / an Encounter: announce a new visit; reschedule a known one whose
    date moved; nothing for the same date again. A discharge the hospital had cancelled and now
    announces again is announced again (same case, same correlation)."""
    data = notice.announcement
    at = data.expected_discharge_at
    if visit is None or visit.status is VisitStatus.CANCELLED:
        state = Visit(
            case_id=data.case_id,
            fiscal_code=data.patient.fiscal_code,
            expected_discharge_at=at,
            status=VisitStatus.OPEN,
            correlation_id=visit.correlation_id if visit else None,
        )
        again = " again" if visit else ""
        return Outcome([Change(state, data)], f"DischargeAnnounced{again} for {data.case_id}")
    if visit.expected_discharge_at == at:
        return Outcome([], f"nothing new: {data.case_id} already expected at {_local(at)}")
    event = DischargeRescheduled(
        hospital_id=data.hospital_id, discharge_ref=data.discharge_ref, expected_discharge_at=at
    )
    return Outcome(
        [Change(replace(visit, expected_discharge_at=at), event)],
        f"DischargeRescheduled for {data.case_id} to {_local(at)}",
    )


def on_cancel(visit: Visit | None, notice: CancelNotice) -> Outcome:
    """ADT^A13: cancel an announced discharge; nothing to cancel otherwise."""
    data = notice.cancellation
    if visit is None:
        return Outcome([], f"nothing to cancel: {data.case_id} was never announced")
    if visit.status is VisitStatus.CANCELLED:
        return Outcome([], f"nothing new: {data.case_id} already cancelled")
    return Outcome(
        [Change(replace(visit, status=VisitStatus.CANCELLED), data)],
        f"DischargeCancelled for {data.case_id}",
    )


def on_admission(open_visits: Sequence[Visit], notice: AdmissionNotice) -> Outcome:
    """ADT^A01 / ADT^A04: the patient of an open case is back in hospital. The case is then no
    longer open, so a second message about the same admission publishes nothing."""
    changes = []
    for visit in open_visits:
        if visit.status is not VisitStatus.OPEN or visit.case_id == notice.case_id:
            continue
        hospital_id, discharge_ref = split_case_id(visit.case_id)
        event = PatientReadmitted(
            hospital_id=hospital_id, discharge_ref=discharge_ref, readmitted_at=notice.admitted_at
        )
        changes.append(Change(replace(visit, status=VisitStatus.CLOSED), event))
    if not changes:
        return Outcome([], "nothing to do: the patient has no open case")
    cases = ", ".join(c.visit.case_id for c in changes)
    return Outcome(changes, f"PatientReadmitted for {cases}")


def on_details(visit: Visit | None, notice: DetailsNotice) -> Outcome:
    """ADT^A08: the new address, phone and caregiver of an open case; a visit never announced,
    cancelled or no longer followed has no one to tell."""
    data = notice.update
    if visit is None or visit.status is not VisitStatus.OPEN:
        return Outcome([], f"nothing to update: {data.case_id} is not an open case")
    return Outcome([Change(visit, data)], f"PatientDetailsUpdated for {data.case_id}")


def on_ignored(notice: IgnoredNotice) -> Outcome:
    """A message the gateway has no use for: accepted, nothing changes."""
    return Outcome([], f"{notice.what}: not used by the gateway, nothing to do")


def source_for(hospital_id: str) -> str:
    """The CloudEvents source of what the gateway publishes: it speaks for the hospital."""
    return f"{HOSPITAL_SOURCE_PREFIX}{hospital_id}"


# --- shared by both doors -----------------------------------------------------------------

_NOT_ID = re.compile(r"[^a-z0-9]+")


def hospital_id_for(code: str, hospitals: Mapping[str, str]) -> str:
    """The project's hospital id for a sender's code: from the configured map, else the code
    lower-cased with hyphens (``ASST_VIMERCATE`` → ``asst-vimercate``). The result may still be
    invalid (empty); the contract's validation says so."""
    configured = configured_hospital(code, hospitals)
    if configured is not None:
        return configured
    ascii_code = unicodedata.normalize("NFKD", code).encode("ascii", "ignore").decode()
    return _NOT_ID.sub("-", ascii_code.lower()).strip("-")


def configured_hospital(code: str, hospitals: Mapping[str, str]) -> str | None:
    """The hospital id the configured map gives a sender's code (case aside), else ``None``."""
    code = code.strip()
    if code in hospitals:
        return hospitals[code]
    folded = {k.casefold(): v for k, v in hospitals.items()}
    return folded.get(code.casefold())


_ANSWERS: Final = {
    AnswerValue.YES: frozenset({"yes", "y", "si", "sì", "s"}),
    AnswerValue.PARTIAL: frozenset({"partial", "p", "parz", "parz.", "parziale", "parzialmente"}),
    AnswerValue.NO: frozenset({"no", "n"}),
}


def answer_value(text: str) -> AnswerValue | None:
    """A Phase-2 answer as a ward writes it (``Y``/``P``/``N``, ``Sì``/``Parz.``/``No``, or the
    contract's ``yes``/``partial``/``no``, any case); ``None`` for anything else."""
    folded = text.strip().casefold()
    return next((value for value, words in _ANSWERS.items() if folded in words), None)


def start_of_day(day: date) -> datetime:
    """A time given to the day only (an expected discharge "on 3 October") starts that day in
    Italy: services must be running by then."""
    return datetime.combine(day, time(0, 0), ROME)


def _local(moment: datetime) -> str:
    return moment.astimezone(ROME).isoformat(timespec="minutes")
