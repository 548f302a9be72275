"""The demo's simulated wards and its report: pure, no I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from cerniera.cli.demo.hospital import month_of_discharges
from cerniera.cli.demo.report import build_report, render_markdown
from cerniera.shared.contract import (
    CaseClosed,
    DischargeAnnounced,
    DischargeRescheduled,
    EligibilityConfirmed,
    EventData,
    PatientReadmitted,
    ServiceActivated,
    ServiceLine,
)
from cerniera.shared.envelope import Envelope

START = datetime(2026, 11, 2, 7, tzinfo=UTC)


def test_the_month_is_in_order_and_follow_ups_come_after_their_announcement() -> None:
    timeline = month_of_discharges(START, cases=80, seed=3)
    assert [p.at for p in timeline] == sorted(p.at for p in timeline)
    announced_at = {p.case_id: p.at for p in timeline if isinstance(p.data, DischargeAnnounced)}
    assert len(announced_at) == 80
    for planned in timeline:
        assert planned.at >= announced_at[planned.case_id]
        if isinstance(planned.data, PatientReadmitted):
            assert planned.data.readmitted_at > announced_at[planned.case_id] + timedelta(days=5)
    kinds = {type(p.data).__name__ for p in timeline}
    assert {"DischargeRescheduled", "PatientReadmitted"} <= kinds


def test_same_seed_same_month() -> None:
    first = month_of_discharges(START, cases=20, seed=9)
    again = month_of_discharges(START, cases=20, seed=9)
    assert [(p.at, p.data) for p in first] == [(p.at, p.data) for p in again]


def _event(data: EventData, at: datetime) -> tuple[str, Envelope]:
    return ("t", Envelope(data=data, source="urn:test", subject=None, time=at))


def test_ready_by_discharge_counts_the_rescheduled_date_and_every_service() -> None:
    timeline = month_of_discharges(START, cases=2, seed=1, behaviour=None)
    announcements = [p.data for p in timeline if isinstance(p.data, DischargeAnnounced)]
    ready, late = announcements
    discharge = datetime(2026, 11, 10, 10, tzinfo=UTC)
    events = []
    for case in (ready, late):
        events.append(_event(case.model_copy(update={"expected_discharge_at": discharge}), START))
        events.append(
            _event(
                EligibilityConfirmed(
                    case_id=case.case_id,
                    ambito_id="desio",
                    intensity="low",
                    services=[
                        ServiceLine(service_type="sad", weekly_quantity=Decimal(3)),
                        ServiceLine(service_type="teleassistance", weekly_quantity=Decimal(7)),
                    ],
                    expected_discharge_at=discharge,
                    decided_by="rule",
                    reasons=[],
                ),
                START,
            )
        )
    # The late case's discharge moves earlier, before its teleassistance starts.
    events.append(
        _event(
            DischargeRescheduled(
                hospital_id=late.hospital_id,
                discharge_ref=late.discharge_ref,
                expected_discharge_at=discharge - timedelta(days=3),
            ),
            START,
        )
    )
    for case, tele_from in ((ready, date(2026, 11, 9)), (late, date(2026, 11, 9))):
        for service, active in (("sad", date(2026, 11, 6)), ("teleassistance", tele_from)):
            events.append(
                _event(
                    ServiceActivated(
                        case_id=case.case_id,
                        request_id=f"{case.case_id}/{service}/1",
                        provider_id="p",
                        service_type=service,
                        active_from=active,
                    ),
                    START + timedelta(days=2),
                )
            )
    events.append(
        _event(CaseClosed(case_id=ready.case_id, closed_at=discharge, outcome="completed"), START)
    )
    report = build_report(events)
    assert report.cases_going_home == 2
    assert report.cases_ready_by_discharge == 1
    assert report.lead_days["sad"] == [2.0, 2.0]
    assert report.outcomes == {"completed": 1}
    assert report.still_open == 1
    text = render_markdown(report, "November")
    assert "1 of 2 cases going home (50%)" in text
