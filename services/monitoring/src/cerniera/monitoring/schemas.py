"""The équipe's HTTP API: request and response models, and the pure mappers domain -> view."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from pydantic import AwareDatetime, BaseModel, Field

from cerniera.monitoring.domain import (
    Check,
    CheckReport,
    EarlyOutcome,
    FollowUp,
    FollowUpStatus,
)
from cerniera.shared.contract import CaseOutcome, CheckOutcome, Recommendation
from cerniera.shared.http import EXAMPLE_CASE, Note, RequestBody, view


class CheckRequest(RequestBody):
    """A weekly check done by the équipe. Who did it is the bearer of the access token, never
    a field of the body."""

    outcome: CheckOutcome = Field(description="The équipe's finding.", examples=["stable"])
    notes: Note | None = Field(
        default=None,
        description="Free notes; kept here, never published (WeeklyCheckDone carries codes).",
        examples=["Aumentare SAD a 9 ore/settimana."],
    )
    recommendation: Recommendation | None = Field(
        default=None,
        description=(
            "What to do next. The last check's recommendation decides how the case closes at "
            "the end of the period: hand_over_to_municipality hands it over, else completed."
        ),
        examples=["continue"],
    )
    week: int | None = Field(
        default=None,
        strict=True,  # a number: not true for 1, nor "1"
        ge=1,
        description=(
            "Week since discharge the check is for; default: the earliest week not yet recorded "
            "(an overdue week first)."
        ),
        examples=[1],
    )
    checked_at: AwareDatetime | None = Field(
        default=None,
        description="When the check was done, with time zone; default: now.",
        examples=["2024-10-10T15:00:00+02:00"],
    )

    def report(self, checked_by: str) -> CheckReport:
        return CheckReport(**self.model_dump(), checked_by=checked_by)


class CloseRequest(RequestBody):
    """An early end of the case, decided by the équipe. Who closed it is the bearer of the
    access token, never a field of the body."""

    outcome: EarlyOutcome = Field(description="Why the case ends.", examples=["deceased"])
    note: Note | None = Field(
        default=None, description="Free note, kept here (not published).", examples=["Decesso."]
    )


class CheckView(BaseModel):
    """A recorded weekly check."""

    case_id: str = Field(description="The case id.", examples=[EXAMPLE_CASE])
    week: int = Field(description="Week since discharge: 1, 2, …", examples=[1])
    due_on: date = Field(description="The day the week's check fell due.")
    checked_at: datetime = Field(description="When the check was done.")
    outcome: CheckOutcome = Field(description="The équipe's finding.")
    notes: str | None = Field(description="Free notes.")
    recommendation: Recommendation | None = Field(description="What to do next.")
    checked_by: str = Field(description="The operator who did the check (from the token).")
    recorded_at: datetime = Field(description="When the check was recorded here.")


class WeekView(BaseModel):
    """One scheduled weekly check, as of today."""

    week: int = Field(description="Week since discharge.")
    due_on: date = Field(description="Due date: discharge day + week × check interval.")
    recorded: bool = Field(description="Whether the check is recorded.")
    overdue: bool = Field(description="Not recorded and past its grace period.")
    days_overdue: int = Field(description="Days past the grace period; 0 when not overdue.")


class FollowUpView(BaseModel):
    """A case's follow-up after discharge."""

    case_id: str = Field(description="The case id.", examples=[EXAMPLE_CASE])
    ambito_id: str = Field(description="The district that follows the case.")
    status: FollowUpStatus = Field(
        description="open (from the decision; it starts at discharge), closed, or cancelled "
        "(the hospital cancelled the discharge)."
    )
    discharge_at: datetime = Field(description="The (expected) discharge date and time.")
    discharge_on: date = Field(description="The discharge day (Italy): week 0.")
    closes_on: date = Field(description="The day the follow-up period ends.")
    weeks: list[WeekView] = Field(description="The weekly checks scheduled.")
    checks: list[CheckView] = Field(description="The checks recorded, by week.")
    outcome: CaseOutcome | None = Field(description="How the case ended, once closed.")
    closed_at: datetime | None = Field(description="When the case ended.")
    closed_by: str | None = Field(
        description="The operator who closed it early, if any (from the token)."
    )
    close_note: str | None = Field(description="The operator's note at an early closure.")
    correlation_id: str = Field(description="Carried by every event about the case.")


class DueCheckView(BaseModel):
    """A weekly check that has fallen due and is not recorded."""

    case_id: str = Field(description="The case id.", examples=[EXAMPLE_CASE])
    ambito_id: str = Field(description="The district that follows the case.")
    week: int = Field(description="Week since discharge.")
    due_on: date = Field(description="The day it fell due.")
    overdue: bool = Field(description="Past the district's grace period (overdue_after_days).")
    days_overdue: int = Field(description="Days past the grace period; 0 when not overdue.")


def check_view(check: Check) -> CheckView:
    return CheckView.model_validate(check, from_attributes=True)


def follow_up_view(followup: FollowUp, checks: Sequence[Check], today: date) -> FollowUpView:
    """The follow-up as of ``today``: how late each week is, while it is open."""
    weeks = followup.weeks({c.week for c in checks}, today)
    return view(
        FollowUpView,
        followup,
        discharge_on=followup.schedule.discharge_on,
        closes_on=followup.schedule.closes_on,
        weeks=[WeekView.model_validate(w, from_attributes=True) for w in weeks],
        checks=[check_view(c) for c in checks],
    )
