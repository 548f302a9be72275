"""The équipe's HTTP API: request and response models, and the pure mappers domain -> view."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from pydantic import AwareDatetime, BaseModel, Field

from cerniera.monitoring.cases import BeneficiaryRow, DistrictOutcomes
from cerniera.monitoring.domain import (
    Check,
    CheckReport,
    Contact,
    EarlyOutcome,
    FollowUp,
    FollowUpStatus,
    HandOverRequest,
)
from cerniera.monitoring.indicators import Days, Rate
from cerniera.monitoring.summary import Summary
from cerniera.shared.contract import CaseOutcome, CheckOutcome, Recommendation, ServiceType
from cerniera.shared.contract.types import IstatCode
from cerniera.shared.http import EXAMPLE_CASE, Note, RequestBody, ShortText, view


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


# --- the hand-over to the municipality -------------------------------------------------------


class ContactBody(RequestBody):
    """Someone the municipality's social services may call."""

    name: ShortText = Field(description="Name.", examples=["Lucia Rossi"])
    role: ShortText | None = Field(
        default=None, description="Who they are to the person.", examples=["figlia"]
    )
    phone: ShortText | None = Field(
        default=None, description="Phone.", examples=["+39 333 1234567"]
    )


class HandOverBody(RequestBody):
    """The team hands the case over to the municipality's social services. Who did it is the
    bearer of the access token, never a field of the body."""

    continuing: list[ServiceType] = Field(
        max_length=len(ServiceType),
        description="The case's services that go on under the municipality (the others stop "
        "when the case closes); may be empty.",
        examples=[["sad", "emergency_alarm"]],
    )
    municipality_code: IstatCode | None = Field(
        default=None,
        description="ISTAT code of the municipality taking over; default: the person's "
        "municipality of residence, as the hospital announced it.",
        examples=["108023"],
    )
    needs: Note | None = Field(
        default=None,
        description="The needs the municipality's social services should know (kept here, in "
        "the hand-over summary; never published).",
        examples=["Vive sola; serve aiuto per la spesa e l'igiene personale."],
    )
    contacts: list[ContactBody] = Field(
        default=[], max_length=20, description="Contacts for the municipality (kept here)."
    )

    def request(self, by: str) -> HandOverRequest:
        return HandOverRequest(
            continuing=self.continuing,
            by=by,
            municipality_code=self.municipality_code,
            needs=self.needs,
            contacts=[Contact(**c.model_dump()) for c in self.contacts],
        )


class ItemView(BaseModel):
    label: str = Field(description="In Italian.", examples=["Nome e cognome"])
    value: str = Field(description="In Italian.", examples=["Mario Rossi"])


class SectionView(BaseModel):
    title: str = Field(description="In Italian.", examples=["Persona"])
    items: list[ItemView]


class HandOverSummaryView(BaseModel):
    """The hand-over summary for the municipality's social services, in Italian: sections of
    labelled items, and the same as Markdown (``text``). A draft until the hand-over is done."""

    case_id: str = Field(description="The case id.", examples=[EXAMPLE_CASE])
    ambito_id: str = Field(description="The district.")
    handed_over: bool = Field(description="False: a draft of what would be handed over today.")
    municipality_code: str | None = Field(description="ISTAT code of the municipality.")
    continuing: list[ServiceType] = Field(
        description="The services that continue (in a draft: those running, proposed)."
    )
    title: str = Field(description="In Italian.")
    sections: list[SectionView] = Field(description="Persona, servizi, bisogni, contatti, date.")
    text: str = Field(description="The whole summary as Markdown, in Italian.")


def summary_view(found: Summary) -> HandOverSummaryView:
    return view(
        HandOverSummaryView,
        found,
        continuing=list(found.continuing),
        sections=[
            SectionView(
                title=s.title, items=[ItemView(label=i.label, value=i.value) for i in s.items]
            )
            for s in found.sections
        ],
        text=found.text,
    )


# --- reports ---------------------------------------------------------------------------------

INDICATOR_LABELS = {
    "cases": "Casi dimessi nel periodo",
    "beneficiaries": "Persone seguite nel periodo",
    "open": "Casi ancora in monitoraggio",
    "readmitted_within_30_days": "Riammissione in ospedale entro 30 giorni dalla dimissione",
    "institutionalised": "Inserimento in struttura residenziale",
    "at_home_at_day_30": "A domicilio al trentesimo giorno",
    "days_to_every_service_active": (
        "Giorni dall'annuncio della dimissione a tutti i servizi attivi"
    ),
    "not_all_active": "Casi senza tutti i servizi attivi",
    "bed_days_lost": "Giornate di degenza perse in attesa dei servizi",
    "cases_waiting_for_services": "Casi con rinvio della dimissione chiesto dall'équipe",
    "hand_overs": "Passaggi in carico al Comune",
    "beneficiaries_to_date": "Beneficiari dall'avvio del progetto",
    "beneficiary_target": "Obiettivo di beneficiari",
}


class RateView(BaseModel):
    count: int = Field(description="Cases counted.")
    of: int = Field(description="Out of.")
    percent: float | None = Field(description="count / of, in percent (one decimal).")


class DaysView(BaseModel):
    cases: int = Field(description="Cases measured.")
    mean: float | None
    median: float | None
    max: int | None


class TargetView(BaseModel):
    count: int = Field(description="Persons the project promises to serve.", examples=[125])
    years: int = Field(description="Over this many years.", examples=[3])
    reached: int = Field(description="Distinct persons taken in charge so far.")
    percent: float = Field(description="reached / count, in percent.")


class DistrictOutcomesView(BaseModel):
    """A district's outcome indicators; their definitions are in the route's description."""

    ambito_id: str
    name: str | None
    cases: int
    beneficiaries: int
    open: int
    outcomes: dict[str, int] = Field(description="Closed cases by outcome.")
    readmitted_within_30_days: RateView
    institutionalised: RateView
    at_home_at_day_30: RateView
    days_to_every_service_active: DaysView
    not_all_active: int
    bed_days_lost: int
    cases_waiting_for_services: int
    hand_overs: int
    hand_overs_by_team: int
    hand_overs_at_closure: int
    beneficiaries_to_date: int
    beneficiary_target: TargetView | None


class OutcomesReport(BaseModel):
    from_: date = Field(serialization_alias="from", description="First discharge day counted.")
    to: date = Field(description="Last discharge day counted.")
    labels: dict[str, str] = Field(description="Italian labels of the indicators.")
    districts: list[DistrictOutcomesView]


def _rate(rate: Rate) -> RateView:
    return RateView(count=rate.count, of=rate.of, percent=rate.percent)


def district_outcomes_view(found: DistrictOutcomes) -> DistrictOutcomesView:
    o = found.outcomes
    target = found.target
    return DistrictOutcomesView(
        ambito_id=found.ambito_id,
        name=found.name,
        cases=o.cases,
        beneficiaries=o.beneficiaries,
        open=o.open,
        outcomes=dict(o.outcomes),
        readmitted_within_30_days=_rate(o.readmitted_within_30_days),
        institutionalised=_rate(o.institutionalised),
        at_home_at_day_30=_rate(o.at_home_at_day_30),
        days_to_every_service_active=_days(o.days_to_every_service_active),
        not_all_active=o.not_all_active,
        bed_days_lost=o.bed_days_lost,
        cases_waiting_for_services=o.cases_waiting_for_services,
        hand_overs=o.hand_overs,
        hand_overs_by_team=o.hand_overs_by_team,
        hand_overs_at_closure=o.hand_overs_at_closure,
        beneficiaries_to_date=found.beneficiaries_to_date,
        beneficiary_target=(
            TargetView(
                count=target.count,
                years=target.years,
                reached=found.beneficiaries_to_date,
                percent=round(100 * found.beneficiaries_to_date / target.count, 1),
            )
            if target is not None
            else None
        ),
    )


def _days(days: Days) -> DaysView:
    return DaysView(cases=days.cases, mean=days.mean, median=days.median, max=days.max)


class BeneficiaryRowView(BaseModel):
    """One case followed in the quarter, for the funder's export."""

    case_id: str = Field(description="The case id (billing's records join on it).")
    person_ref: str | None = Field(
        description="The person's pseudonym (EligibilityConfirmed.person_ref)."
    )
    ambito_id: str = Field(description="The district.")
    start: date = Field(description="The discharge day (Italy).")
    end: date | None = Field(description="The closure day (Italy); null while followed.")
    outcome: CaseOutcome | None = Field(description="How the case ended; null while followed.")
    decision_reversed: bool = Field(
        description="Intake reversed its decision (the person is not a beneficiary)."
    )


class BeneficiariesReport(BaseModel):
    quarter: str = Field(examples=["2026-Q4"])
    from_: date = Field(serialization_alias="from", description="The quarter's first day.")
    to: date = Field(description="The quarter's last day.")
    rows: list[BeneficiaryRowView] = Field(description="By discharge day, then case.")


def beneficiary_row_view(row: BeneficiaryRow) -> BeneficiaryRowView:
    return BeneficiaryRowView.model_validate(row, from_attributes=True)
