"""The gateway's rules: which event a hospital's message becomes, given what was announced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cerniera.gateway.domain import (
    AdmissionNotice,
    CancelNotice,
    DischargeNotice,
    IgnoredNotice,
    Visit,
    VisitStatus,
    hospital_id_for,
    on_admission,
    on_cancel,
    on_discharge,
    on_ignored,
    source_for,
    start_of_day,
)
from cerniera.shared.clock import ROME
from cerniera.shared.contract import (
    DischargeAnnounced,
    DischargeCancelled,
    DischargeRescheduled,
    PatientReadmitted,
)
from support.discharges import FISCAL_CODE, announced, cancelled

AT = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
CASE = "asst-vimercate:V2024-000123"


def notice(at: datetime = AT, ref: str = "V2024-000123") -> DischargeNotice:
    return DischargeNotice(announced(discharge_ref=ref, expected_discharge_at=at))


def visit(status: VisitStatus = VisitStatus.OPEN, at: datetime = AT, case_id: str = CASE) -> Visit:
    return Visit(case_id, FISCAL_CODE, at, status, correlation_id="corr-1")


# --- ADT^A16 / ADT^A03 / Encounter ---------------------------------------------------------


def test_a_new_visit_is_announced_and_starts_a_correlation() -> None:
    outcome = on_discharge(None, notice())
    [change] = outcome.changes
    assert isinstance(change.event, DischargeAnnounced)
    assert change.event == notice().announcement
    assert change.visit == Visit(CASE, FISCAL_CODE, AT, VisitStatus.OPEN, correlation_id=None)
    assert "DischargeAnnounced" in outcome.summary


def test_the_same_date_again_is_nothing_new() -> None:
    outcome = on_discharge(visit(), notice())
    assert outcome.changes == []
    assert "nothing new" in outcome.summary


def test_the_same_instant_in_another_zone_is_the_same_date() -> None:
    assert on_discharge(visit(), notice(AT.astimezone(ROME))).changes == []


def test_a_moved_date_is_a_reschedule_keeping_the_case_correlation() -> None:
    later = AT + timedelta(days=3)
    [change] = on_discharge(visit(), notice(later)).changes
    assert change.event == DischargeRescheduled(
        hospital_id="asst-vimercate", discharge_ref="V2024-000123", expected_discharge_at=later
    )
    assert change.visit == visit(at=later)  # still open, same correlation


def test_a_closed_case_is_still_rescheduled_not_announced_again() -> None:
    later = AT + timedelta(hours=2)
    [change] = on_discharge(visit(VisitStatus.CLOSED), notice(later)).changes
    assert isinstance(change.event, DischargeRescheduled)
    assert change.visit.status is VisitStatus.CLOSED


def test_a_cancelled_discharge_announced_again_reopens_the_same_case() -> None:
    [change] = on_discharge(visit(VisitStatus.CANCELLED), notice()).changes
    assert isinstance(change.event, DischargeAnnounced)
    assert change.visit.status is VisitStatus.OPEN
    assert change.visit.correlation_id == "corr-1"


# --- ADT^A13 --------------------------------------------------------------------------------


def test_a13_cancels_an_announced_visit() -> None:
    data = cancelled("V2024-000123")
    [change] = on_cancel(visit(), CancelNotice(data)).changes
    assert change.event == data
    assert isinstance(change.event, DischargeCancelled)
    assert change.visit.status is VisitStatus.CANCELLED


@pytest.mark.parametrize("known", [None, visit(VisitStatus.CANCELLED)])
def test_a13_for_nothing_announced_or_already_cancelled_publishes_nothing(
    known: Visit | None,
) -> None:
    assert on_cancel(known, CancelNotice(cancelled("V2024-000123"))).changes == []


# --- ADT^A01 / ADT^A04 -------------------------------------------------------------------------

ADMITTED = datetime(2026, 12, 9, 22, 40, tzinfo=ROME)


def admission(
    ref: str | None = "V2026-001877", hospital: str = "asst-vimercate"
) -> AdmissionNotice:
    return AdmissionNotice(hospital, FISCAL_CODE, ADMITTED, ref)


def test_admission_of_a_patient_with_an_open_case_is_a_readmission_of_that_case() -> None:
    [change] = on_admission([visit()], admission()).changes
    assert change.event == PatientReadmitted(
        hospital_id="asst-vimercate", discharge_ref="V2024-000123", readmitted_at=ADMITTED
    )
    assert change.visit.status is VisitStatus.CLOSED  # a second A01/A04 finds nothing open


def test_a_readmission_elsewhere_names_the_original_hospitals_case() -> None:
    [change] = on_admission([visit()], admission(hospital="irccs-san-gerardo")).changes
    assert isinstance(change.event, PatientReadmitted)
    assert change.event.case_id == CASE


def test_no_open_case_means_no_readmission() -> None:
    outcome = on_admission([], admission())
    assert outcome.changes == []
    assert "no open case" in outcome.summary


def test_an_admission_message_for_the_announced_visit_itself_is_no_readmission() -> None:
    assert on_admission([visit()], admission(ref="V2024-000123")).changes == []


def test_only_open_visits_are_readmitted() -> None:
    visits = [visit(VisitStatus.CANCELLED), visit(case_id="asst-vimercate:V2")]
    [change] = on_admission(visits, admission()).changes
    assert change.visit.case_id == "asst-vimercate:V2"


# --- messages the gateway has no use for ---------------------------------------------------


def test_an_ignored_message_changes_nothing_and_says_so() -> None:
    outcome = on_ignored(IgnoredNotice("asst-vimercate", "ADT^A08"))
    assert outcome.changes == []
    assert outcome.summary == "ADT^A08: not used by the gateway, nothing to do"


# --- shared helpers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "hospitals", "expected"),
    [
        ("ASST_VIMERCATE", {}, "asst-vimercate"),
        ("  IRCCS San Gerardo  ", {}, "irccs-san-gerardo"),
        ("Ospedale Città di Sesto", {}, "ospedale-citta-di-sesto"),
        ("030316", {}, "030316"),
        ("ASST_VIMERCATE", {"ASST_VIMERCATE": "asst-brianza"}, "asst-brianza"),
        ("asst_vimercate", {"ASST_VIMERCATE": "asst-brianza"}, "asst-brianza"),
        ("__", {}, ""),
    ],
)
def test_hospital_id_for(code: str, hospitals: dict[str, str], expected: str) -> None:
    assert hospital_id_for(code, hospitals) == expected


def test_the_gateway_speaks_for_the_hospital() -> None:
    assert source_for("asst-vimercate") == "urn:dp:hospital:asst-vimercate"


def test_start_of_day_is_midnight_in_italy() -> None:
    day = start_of_day(datetime(2026, 7, 1).date())
    assert day == datetime(2026, 6, 30, 22, 0, tzinfo=UTC)
