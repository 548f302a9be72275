"""The team's API on intake, its shapes: the request bodies, the views it answers with, and
the pure mappers from domain entities (and the list's rows) to those views."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator
from sqlalchemy import Row

from cerniera.intake import brass, domain
from cerniera.intake.brass import BrassBand, BrassItems, BrassResult
from cerniera.intake.cases import Assessed, CaseFile, Changed, Overridden
from cerniera.intake.domain import (
    AssessmentContent,
    AssessmentVersion,
    OverrideRecord,
    TakingChargeVersion,
)
from cerniera.intake.eligibility import Decision, Eligible
from cerniera.intake.plans import (
    PLAN_TEXTS,
    WARD,
    Consent,
    GivenBy,
    PlanReason,
    PlanVersion,
)
from cerniera.shared.contract import (
    AnswerValue,
    Caregiver,
    Intensity,
    NetworkOutcome,
    NetworkResource,
    Patient,
    Reason,
    ServiceLine,
    ServiceType,
)
from cerniera.shared.contract.events import RequirementId
from cerniera.shared.contract.types import TEXT_PATTERN
from cerniera.shared.envelope import Envelope
from cerniera.shared.http import EXAMPLE_CASE, Note, RequestBody, ShortText, view

# Leaves room in the published reason (at most 4000 characters) for who decided.
OverrideReason = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000, pattern=TEXT_PATTERN),
]

# --- requests --------------------------------------------------------------------------------


class AssessmentRequest(RequestBody):
    """The Phase-2 answers and the BRASS index, as the team submits or corrects them. Who
    assessed is the bearer of the access token, never a field of the body."""

    answers: dict[RequirementId, AnswerValue] = Field(
        min_length=1,
        description="Answers to the district's checklist (R1, R2, …): yes, partial or no. A "
        "requirement left out counts as 'no'; one the district's checklist lacks is refused.",
        examples=[{"R1": "yes", "R2": "no", "R3": "yes", "R4": "partial", "R5": "yes"}],
    )
    brass_score: int | None = Field(
        default=None,
        strict=True,  # a number: not false for 0, nor "22"
        ge=0,
        le=brass.MAX_SCORE,
        description="The BRASS score when only the total is known (0–40). With brass_items it "
        "may be left out; if given it must equal the score of the items.",
        examples=[22],
    )
    brass_items: BrassItems | None = Field(
        default=None,
        description="The ten BRASS items: the score, band and drivers are computed from them.",
    )
    notes: Note | None = Field(
        default=None, description="Free notes of the assessor.", examples=["Vive sola."]
    )

    @model_validator(mode="after")
    def _score_matches_items(self) -> AssessmentRequest:
        if self.brass_items is not None and self.brass_score is not None:
            computed = brass.score(self.brass_items).score
            if computed != self.brass_score:
                raise ValueError(
                    f"brass_score {self.brass_score} differs from the score of brass_items "
                    f"({computed}); send one of them, or both equal"
                )
        return self


class OverrideRequest(RequestBody):
    """The team's decision instead of the rule's. Who decided is the bearer of the access
    token, never a field of the body."""

    decision: Literal["eligible", "not_eligible"] = Field(
        description="The team's decision.", examples=["eligible"]
    )
    intensity: Intensity | None = Field(
        default=None,
        description="Intensity of the package: required when eligible, absent otherwise.",
        examples=["high"],
    )
    reason: OverrideReason = Field(
        description=(
            "Why the team decides against (or confirms) the rule; kept with the case, never "
            "published (the decision event says 'override.team' with a fixed text)."
        ),
        examples=["Caregiver ricoverato: la rete familiare è di fatto assente."],
    )

    @model_validator(mode="after")
    def _intensity_iff_eligible(self) -> OverrideRequest:
        if self.decision == "eligible" and self.intensity is None:
            raise ValueError("intensity is required when the decision is eligible")
        if self.decision == "not_eligible" and self.intensity is not None:
            raise ValueError("intensity is only for an eligible decision")
        return self


class Pai(RequestBody):
    """The draft of the PAI (Piano Assistenziale Individualizzato, the individual care plan)."""

    objectives: list[Note] = Field(
        min_length=1,
        description="What the plan aims at.",
        examples=[["Rientro a domicilio in sicurezza", "Igiene personale quotidiana"]],
    )
    services_notes: Note | None = Field(
        default=None,
        description="Notes on the services and how to deliver them.",
        examples=["SAD al mattino; pasti senza sale."],
    )
    areas_to_investigate: list[Note] = Field(
        default_factory=list,
        description="What the assessment could not yet establish.",
        examples=[["Idoneità del bagno", "Disponibilità della figlia nei fine settimana"]],
    )
    post_discharge_plan: Note | None = Field(
        default=None,
        description="The operational plan for the days after discharge.",
        examples=["Prima visita SAD il giorno della dimissione; telefonata dell'équipe a 48 h."],
    )


class Contact(RequestBody):
    """A person to contact about the case."""

    name: ShortText = Field(description="Name.", examples=["Lucia Rossi"])
    role: ShortText | None = Field(
        default=None, description="Relationship or role.", examples=["figlia"]
    )
    phone: ShortText | None = Field(default=None, description="Phone.", examples=["+39 333 1"])


class TakingChargeInformation(RequestBody):
    """What the team needs to take the person in charge (presa in carico)."""

    reference_person: Contact | None = Field(
        default=None, description="The family member or other person to call first."
    )
    general_practitioner: Contact | None = Field(
        default=None, description="The GP (medico di medicina generale, MMG)."
    )
    municipality_social_worker: Contact | None = Field(
        default=None, description="The social worker of the municipality of residence."
    )
    territorial_network: Note | None = Field(
        default=None,
        description="Volunteers, neighbours, municipal services engaged when there is no "
        "caregiver.",
        examples=["Auser Desio: spesa settimanale."],
    )
    home: Note | None = Field(
        default=None,
        description="The home: access, stairs, lift, barriers, keys.",
        examples=["Secondo piano senza ascensore; chiavi dalla vicina."],
    )
    consent: bool | None = Field(
        default=None,
        strict=True,  # true or false: not 0 or "yes"
        description="Whether the person consents to the plan.",
        examples=[True],
    )
    notes: Note | None = Field(default=None, description="Anything else.")


class TakingChargeRequest(RequestBody):
    """The information for taking the person in charge and the PAI draft, as recorded. Who
    recorded it is the bearer of the access token, never a field of the body."""

    pai: Pai = Field(description="The PAI draft.")
    information: TakingChargeInformation = Field(description="Information for taking charge.")


class ConsentRequest(RequestBody):
    """The consent to the protected discharge, as the team collected it. Who recorded it is
    the bearer of the access token."""

    given: bool = Field(
        default=True,
        strict=True,
        description="Consent given (false: refused; nothing is published without it).",
        examples=[True],
    )
    given_by: GivenBy = Field(
        description="The person, or their guardian (tutore, amministratore di sostegno).",
        examples=["guardian"],
    )
    guardian_name: ShortText | None = Field(
        default=None,
        description="The guardian's name (only when given_by is guardian); kept in intake.",
        examples=["Avv. Carla Neri"],
    )

    @model_validator(mode="after")
    def _guardian_named(self) -> ConsentRequest:
        if (self.given_by == "guardian") != (self.guardian_name is not None):
            raise ValueError("guardian_name is required for a guardian's consent, and only then")
        return self


PlanServices = Annotated[
    list[ServiceLine],
    Field(
        min_length=1,
        max_length=len(ServiceType),
        description="Each service once, with its weekly quantity (SAD hours, meals, days of "
        "teleassistance or emergency alarm); a service left out is not in the plan.",
        examples=[
            [
                {"service_type": "sad", "weekly_quantity": 9},
                {"service_type": "emergency_alarm", "weekly_quantity": 7},
                {"service_type": "teleassistance", "weekly_quantity": 7},
            ]
        ],
    ),
]


class ConfirmRequest(RequestBody):
    """The team's confirmation of the rule's proposal, the services tailored if given."""

    services: PlanServices | None = None
    reason: Note | None = Field(
        default=None,
        description="Why the services differ from the package: kept in intake, never published.",
        examples=["Figlia presente a pranzo: niente pasti; SAD 9 ore per l'igiene."],
    )


class PlanRequest(RequestBody):
    """A revision of the plan in force. Who revised it is the bearer of the access token."""

    services: PlanServices
    reason_code: Literal["plan.tailored", "plan.check_adjustment", "plan.escalation_resolved"] = (
        Field(description="Why, as published (with a fixed text).", examples=["plan.tailored"])
    )
    reason: Note = Field(
        description="The operator's reason: kept in intake, never published.",
        examples=["Alla verifica la persona si lava da sola: SAD ridotto a 4 ore."],
    )


class CapExceptionRequest(RequestBody):
    """The district administrator's exception to the SAD hours cap for this case."""

    reason: Note = Field(
        description="Why this person may have more SAD hours than the cap (kept in intake).",
        examples=["Persona sola con demenza: deroga approvata dal responsabile d'ambito."],
    )


class NetworkTaskRequest(RequestBody):
    """The territorial network's answer for a person without a caregiver."""

    outcome: NetworkOutcome = Field(description="The outcome.", examples=["engaged"])
    resources: list[NetworkResource] = Field(
        max_length=len(NetworkResource),
        description="Who takes part.",
        examples=[["volunteers", "family_community_nurse"]],
    )
    notes: Note | None = Field(
        default=None,
        description="Details (kept in intake).",
        examples=["Auser: spesa il martedì."],
    )


class MediationNoteRequest(RequestBody):
    """A note of the team's mediation with a family that disagrees (kept in intake)."""

    text: Note = Field(
        examples=["Il figlio chiede il ricovero in RSA; concordata una prova di due settimane."]
    )


# --- responses -------------------------------------------------------------------------------


class BrassItemView(BaseModel):
    """One BRASS item: the answer and its points."""

    item: str = Field(description="The item's code.", examples=["dependencies"])
    label: str = Field(
        description="The item's name (Italian).", examples=["stato funzionale (ADL/IADL)"]
    )
    answer: str = Field(description="The answer given.", examples=["toileting, shopping"])
    points: int = Field(description="Its points.", examples=[2])
    max_points: int = Field(description="The most it can score.", examples=[11])


class BrassView(BaseModel):
    """A BRASS score with its band and the items that drove it."""

    score: int = Field(description="0–40.", examples=[22])
    max_score: int = Field(default=brass.MAX_SCORE, description="The highest possible score.")
    band: BrassBand = Field(
        description="Risk of a difficult discharge, with the district's bands (default 0–10 "
        "low, 11–19 medium, 20 or more high).",
        examples=["high"],
    )
    items: list[BrassItemView] = Field(description="The ten items in the form's order.")
    drivers: list[BrassItemView] = Field(
        description=f"The items that contributed most (at most {brass.DRIVERS}, most points "
        "first; items at 0 are never drivers)."
    )


class AssessmentView(BaseModel):
    """One version of a case's Phase-2 answers and BRASS."""

    version: int = Field(
        description="0 = the ward's, sent with the announcement; 1, 2, … = the team's."
    )
    source: Literal["hospital", "team"] = Field(description="Who filled it.")
    answers: dict[str, AnswerValue] = Field(description="The Phase-2 answers.")
    brass_score: int | None = Field(description="BRASS score, if known.")
    brass_band: BrassBand | None = Field(description="Its band, with the district's bands.")
    brass: BrassView | None = Field(description="The BRASS items, when they were given.")
    notes: str | None = Field(description="Free notes.")
    assessed_by: str | None = Field(description="The team's operator (none for the ward's).")
    assessed_at: datetime | None = Field(description="When the team recorded it.")


class DecisionView(BaseModel):
    """An eligibility decision: what, who decided and why."""

    outcome: Literal["eligible", "not_eligible"] = Field(description="The decision.")
    intensity: Intensity | None = Field(description="Intensity of the package, when eligible.")
    services: list[ServiceLine] = Field(description="The package, when eligible.")
    decided_by: str = Field(description='"rule" or the deciding operator\'s id.')
    reasons: list[Reason] = Field(description="Why: machine codes and text.")
    decided_at: datetime | None = Field(description="When, as far as recorded.")


class PublishedView(BaseModel):
    """A decision event queued for publication (through the outbox) on the intake topic."""

    event_type: str = Field(
        description="EligibilityConfirmed, EligibilityRejected, PlanRevised, NetworkTask….",
        examples=["EligibilityConfirmed"],
    )
    event_id: str = Field(description="The event's ce_id.")


class AssessmentResult(BaseModel):
    """What an assessment did to the case."""

    case_id: str = Field(description="The case id.", examples=[EXAMPLE_CASE])
    status: domain.CaseStatus
    outcome: domain.ReassessmentOutcome = Field(
        description="decided (a waiting case got its decision), corrected (the new answers "
        "change the decision: a new decision event supersedes the earlier one), unchanged "
        "(same decision: nothing published), held_by_override (the team's override stands)."
    )
    assessment: AssessmentView = Field(description="The assessment now in force.")
    rule: DecisionView = Field(description="What the district's rule says of these answers.")
    decision: DecisionView = Field(description="The decision in force.")
    published: PublishedView | None = Field(description="The decision event, if one was sent.")


class OverrideView(BaseModel):
    """One override of the rule by the team, as recorded."""

    seq: int = Field(description="1, 2, … per case.")
    decision: DecisionView = Field(description="The team's decision.")
    reason: str = Field(description="The operator's reason.")
    decided_by: str = Field(description="The deciding operator.")
    decided_at: datetime = Field(description="When.")
    rule: DecisionView | None = Field(description="What the rule said at that moment.")
    published_event_id: str | None = Field(
        description="The decision event, or none when the decision in force already said so."
    )


class OverrideResult(BaseModel):
    """What an override did to the case."""

    case_id: str = Field(description="The case id.", examples=[EXAMPLE_CASE])
    status: domain.CaseStatus
    override: OverrideView
    decision: DecisionView = Field(description="The decision in force.")
    published: PublishedView | None = Field(
        description="The decision event, or none when the decision in force already said so."
    )


class TakingChargeView(BaseModel):
    """One version of the information for taking charge and the PAI draft."""

    version: int = Field(description="1, 2, … per case.")
    pai: Pai
    information: TakingChargeInformation
    recorded_by: str = Field(description="The operator who recorded it.")
    recorded_at: datetime = Field(description="When.")


class ConsentView(BaseModel):
    """The consent in force."""

    given: bool = Field(description="Given (false: refused).")
    source: Literal["ward", "team"] = Field(description="Collected by the ward or the team.")
    given_by: GivenBy | None = Field(description="The person or the guardian (team only).")
    guardian_name: str | None = Field(description="The guardian's name, if theirs.")
    recorded_by: str = Field(description="The operator, or 'ward'.")
    recorded_at: datetime = Field(description="When.")


class PlanVersionView(BaseModel):
    """One version of the individual plan (PAI): what it authorises, who, when and why."""

    version: int = Field(description="1, 2, … per case, as published.")
    services: list[ServiceLine] = Field(description="The services and weekly quantities.")
    reason_code: PlanReason = Field(description="Why, as published.")
    reason_text: str = Field(description="The code's fixed text (published).")
    reason: str | None = Field(description="The operator's words (kept in intake).")
    revised_by: str = Field(description="'rule' or the operator.")
    revised_at: datetime = Field(description="When.")
    event_id: str | None = Field(description="The event that published it.")


class CapExceptionView(BaseModel):
    seq: int
    reason: str = Field(description="Why (the administrator's words).")
    granted_by: str = Field(description="The district administrator.")
    granted_at: datetime


class CapRefusalView(BaseModel):
    seq: int
    plan_hours: Decimal = Field(description="SAD hours the refused plan would authorise.")
    other_hours: Decimal = Field(description="SAD hours of the person's other plans.")
    cap: Decimal = Field(description="The district's cap per person.")
    refused_by: str = Field(description="Who asked for the plan: the operator, or 'rule'.")
    refused_at: datetime


class CapView(BaseModel):
    """The plan in force (or proposed) against the person's SAD hours cap."""

    cap_hours: Decimal = Field(description="The district's cap per person.", examples=[80])
    plan_hours: Decimal = Field(description="This plan: weekly hours × follow-up days / 7.")
    other_hours: Decimal = Field(
        description="The person's other confirmed plans (every visit and hospital)."
    )
    total_hours: Decimal
    exceeded: bool
    excepted: bool = Field(description="The administrator recorded an exception for the case.")
    exceptions: list[CapExceptionView]
    refusals: list[CapRefusalView] = Field(description="Plans refused (or held) for the cap.")


class NetworkTaskView(BaseModel):
    """The territorial network engaged for a person without a caregiver."""

    task_id: str
    opened_at: datetime
    outcome: NetworkOutcome | None = Field(description="None while open.")
    resources: list[NetworkResource]
    notes: str | None
    completed_by: str | None
    completed_at: datetime | None


class MediationNoteView(BaseModel):
    seq: int
    text: str
    written_by: str
    written_at: datetime


class ChangeResult(BaseModel):
    """What a confirmation, a consent or a revision of the plan did to the case."""

    case_id: str = Field(description="The case id.", examples=[EXAMPLE_CASE])
    status: domain.CaseStatus
    decision: DecisionView | None = Field(description="The decision (proposal) in force.")
    plan_version: int = Field(description="The plan last published (0: none yet).")
    published: PublishedView | None = Field(description="The event queued, if any.")


class DistrictDecisions(BaseModel):
    """One district's decisions, for the report."""

    ambito_id: str
    confirmed_by_team: int = Field(description="Plans published on the team's decision.")
    confirmed_by_rule: int = Field(description="Plans published on the rule's decision.")
    awaiting_confirmation: int
    awaiting_consent: int
    tailored_plans: int = Field(description="Cases whose plan the team tailored.")
    plan_revisions: int = Field(description="Revisions of published plans (PlanRevised).")
    cap_refusals: int = Field(description="Plans refused or held for the SAD hours cap.")
    persons_refused: int = Field(description="Persons with at least one such refusal.")
    cap_exceptions: int
    network_tasks_opened: int
    network_tasks_completed: int
    mediation_notes: int


class DecisionsReport(BaseModel):
    """The district's decisions (the caller's districts; every district for the auditor)."""

    districts: list[DistrictDecisions]


class CaseSummary(BaseModel):
    """A line of the team's list of cases."""

    case_id: str = Field(description="The case id.", examples=[EXAMPLE_CASE])
    hospital_id: str = Field(description="The announcing hospital.", examples=["asst-vimercate"])
    ward: str = Field(description="The announcing ward.", examples=["medicina-generale"])
    ambito_id: str | None = Field(description="The district, if the residence is in one.")
    status: domain.CaseStatus
    expected_discharge_at: datetime = Field(description="Expected discharge (it may move).")
    announced_at: datetime = Field(description="When intake received the case.")
    days_waiting: int | None = Field(
        description="Days since the announcement (Italy), while awaiting the assessment."
    )


class CaseList(BaseModel):
    """One page of cases."""

    total: int = Field(description="Cases matching, in all pages.")
    items: list[CaseSummary] = Field(description="Most urgent discharge first.")


class CaseView(BaseModel):
    """A case as the team works on it (personal data included: the API is the team's)."""

    case_id: str = Field(description="The case id.", examples=[EXAMPLE_CASE])
    hospital_id: str = Field(description="The announcing hospital.")
    discharge_ref: str = Field(description="The hospital's visit number.")
    ward: str = Field(description="The announcing ward.")
    ambito_id: str | None = Field(description="The district, if the residence is in one.")
    status: domain.CaseStatus
    expected_discharge_at: datetime = Field(description="Expected discharge (it may move).")
    announced_at: datetime = Field(description="When intake received the case.")
    correlation_id: str = Field(description="Carried by every event about the case.")
    patient: Patient
    caregiver: Caregiver | None = Field(description="The caregiver, if the ward said.")
    assessment: AssessmentView | None = Field(description="The assessment in force.")
    assessment_history: list[AssessmentView] = Field(description="Every version, oldest first.")
    decision: DecisionView | None = Field(description="The decision in force (last published).")
    override_in_force: bool = Field(
        description="The team has overridden the rule: corrected answers no longer change the "
        "decision; a new override does."
    )
    overrides: list[OverrideView] = Field(description="The team's overrides, oldest first.")
    taking_charge: TakingChargeView | None = Field(description="The latest version.")
    taking_charge_history: list[TakingChargeView] = Field(description="Oldest first.")
    checklist: dict[str, str] = Field(
        description="The district's Phase-2 checklist: each requirement and its text (Italian)."
    )
    confirmed_by: str | None = Field(
        description="Who confirmed the eligible decision: 'rule', the operator, or none yet."
    )
    consent: ConsentView | None = Field(description="The consent in force, if any.")
    person_ref: str = Field(description="The person's pseudonym outside intake.")
    plan_version: int = Field(description="The plan last published (0: none yet).")
    plan_history: list[PlanVersionView] = Field(description="Every version, oldest first.")
    cap: CapView | None = Field(description="The plan against the person's SAD hours cap.")
    network_tasks: list[NetworkTaskView]
    mediation_notes: list[MediationNoteView]
    readmitted_at: datetime | None
    closed_at: datetime | None
    closed_outcome: str | None


# --- mappers: entities to views ----------------------------------------------------------------


def brass_view(result: BrassResult) -> BrassView:
    def item(s: brass.ItemScore) -> BrassItemView:
        return BrassItemView(
            item=s.item, label=s.label, answer=s.answer, points=s.points, max_points=s.max_points
        )

    return BrassView(
        score=result.score,
        band=result.band,
        items=[item(s) for s in result.items],
        drivers=[item(s) for s in result.drivers],
    )


def assessment_view(
    version: int,
    content: AssessmentContent,
    bands: tuple[int, int],
    assessed_by: str | None = None,
    assessed_at: datetime | None = None,
) -> AssessmentView:
    """Version 0 is the ward's (sent with the announcement), the others the team's."""
    assessment = content.assessment
    score = assessment.brass_score
    result = content.brass_result(bands)
    return AssessmentView(
        version=version,
        source="hospital" if version == 0 else "team",
        answers=dict(assessment.answers),
        brass_score=score,
        brass_band=brass.band_of(score, *bands) if score is not None else None,
        brass=brass_view(result) if result else None,
        notes=assessment.notes,
        assessed_by=assessed_by,
        assessed_at=assessed_at,
    )


def team_assessment_view(version: AssessmentVersion, bands: tuple[int, int]) -> AssessmentView:
    return assessment_view(
        version.version, version.content, bands, version.assessed_by, version.assessed_at
    )


def decision_view(decision: Decision, decided_at: datetime | None = None) -> DecisionView:
    eligible = isinstance(decision, Eligible)
    return DecisionView(
        outcome="eligible" if eligible else "not_eligible",
        intensity=decision.intensity if isinstance(decision, Eligible) else None,
        services=decision.services if isinstance(decision, Eligible) else [],
        decided_by=decision.decided_by,
        reasons=decision.reasons,
        decided_at=decided_at,
    )


def published_view(event: Envelope | None) -> PublishedView | None:
    return PublishedView(event_type=event.type, event_id=event.id) if event else None


def override_view(record: OverrideRecord) -> OverrideView:
    return view(
        OverrideView,
        record,
        decision=decision_view(record.decision, record.decided_at),
        rule=decision_view(record.rule) if record.rule else None,
        published_event_id=record.event_id,
    )


def taking_charge_view(version: TakingChargeVersion) -> TakingChargeView:
    return view(
        TakingChargeView,
        version,
        pai=Pai.model_validate(version.content.pai),
        information=TakingChargeInformation.model_validate(version.content.information),
    )


def case_summary(row: Row[Any], today: date) -> CaseSummary:
    """A line of ``store.cases_page``."""
    status = domain.CaseStatus(row.status)
    return view(
        CaseSummary,
        row,
        status=status,
        announced_at=row.created_at,
        days_waiting=domain.days_waiting(status, row.created_at, today),
    )


def case_view(file: CaseFile) -> CaseView:
    case = file.case
    bands = domain.brass_bands(file.ambito)
    history = [team_assessment_view(v, bands) for v in file.assessments]
    if case.ward_assessment is not None:
        history.insert(0, assessment_view(0, AssessmentContent(case.ward_assessment), bands))
    charge = [taking_charge_view(v) for v in file.taking_charge]
    return view(
        CaseView,
        case,
        assessment=history[-1] if history else None,
        assessment_history=history,
        decision=decision_view(case.decision, case.decided_at) if case.decision else None,
        override_in_force=bool(file.overrides),
        overrides=[override_view(o) for o in file.overrides],
        taking_charge=charge[-1] if charge else None,
        taking_charge_history=charge,
        checklist=dict(file.ambito.phase2.requirements) if file.ambito else {},
        consent=consent_view(case.consent_in_force),
        person_ref=file.person_ref,
        plan_history=[plan_version_view(p) for p in file.plans],
        cap=cap_view(file) if file.cap else None,
        network_tasks=[
            view(NetworkTaskView, t, resources=list(t.resources)) for t in file.network_tasks
        ],
        mediation_notes=[view(MediationNoteView, n) for n in file.mediation_notes],
    )


def consent_view(consent: Consent | None) -> ConsentView | None:
    if consent is None:
        return None
    source: Literal["ward", "team"] = "ward" if consent.recorded_by == WARD else "team"
    return view(ConsentView, consent, source=source)


def plan_version_view(plan: PlanVersion) -> PlanVersionView:
    return view(PlanVersionView, plan, reason_text=PLAN_TEXTS[plan.reason_code])


def cap_view(file: CaseFile) -> CapView:
    check = file.cap
    assert check is not None
    return CapView(
        cap_hours=check.cap,
        plan_hours=check.plan_hours,
        other_hours=check.other_hours,
        total_hours=check.total,
        exceeded=check.exceeded,
        excepted=check.excepted,
        exceptions=[view(CapExceptionView, e) for e in file.cap_exceptions],
        refusals=[view(CapRefusalView, r) for r in file.cap_refusals],
    )


def change_result(done: Changed) -> ChangeResult:
    case = done.case
    return view(
        ChangeResult,
        case,
        decision=decision_view(case.decision, case.decided_at) if case.decision else None,
        published=published_view(done.published),
    )


def assessment_result(done: Assessed) -> AssessmentResult:
    case = done.case
    assert case.decision is not None  # an assessed case is decided
    return AssessmentResult(
        case_id=case.case_id,
        status=case.status,
        outcome=done.outcome,
        assessment=team_assessment_view(done.version, done.bands),
        rule=decision_view(done.rule),
        decision=decision_view(case.decision, case.decided_at),
        published=published_view(done.published),
    )


def override_result(done: Overridden) -> OverrideResult:
    case = done.case
    assert case.decision is not None  # an override always leaves a decision in force
    return OverrideResult(
        case_id=case.case_id,
        status=case.status,
        override=override_view(done.override),
        decision=decision_view(case.decision, case.decided_at),
        published=published_view(done.published),
    )
