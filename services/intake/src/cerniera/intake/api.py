"""The équipe's HTTP API on intake: the cases waiting for an assessment, the Phase-2 answers and
BRASS (submitted or corrected), the information for taking the person in charge and the PAI,
and the team's override of the rule.

Thin: the rules are in ``domain`` and ``brass``. A decision it causes goes through the outbox
with the case's own correlation id, like one the consumer makes. Personal and clinical data are
served here (the API is for the district's team) and never published.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import FastAPI, HTTPException, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlalchemy import Row, insert, update

from cerniera.intake import brass, domain, store
from cerniera.intake.brass import BrassBand, BrassItems, BrassResult
from cerniera.intake.config import Ambito, IntakeConfig
from cerniera.intake.handlers import emit_decision
from cerniera.intake.tables import assessments, cases, overrides, taking_charge
from cerniera.shared.clock import ROME
from cerniera.shared.contract import (
    AnswerValue,
    Assessment,
    Caregiver,
    Identifier,
    Intensity,
    Patient,
    Reason,
    ServiceLine,
)
from cerniera.shared.contract.events import RequirementId
from cerniera.shared.runtime import ServiceRuntime

Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]
# Leaves room in the published reason (at most 4000 characters) for who decided.
OverrideReason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)
]

_CASE = "asst-vimercate:V2024-000123"
_OPERATOR = "op-lbianchi"

CaseId = Annotated[
    str,
    Path(
        description="The case id, '<hospital_id>:<discharge_ref>', as it is (a '/' in the "
        "hospital's reference included).",
        examples=[_CASE],
    ),
]


# --- requests --------------------------------------------------------------------------------


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AssessmentRequest(_Request):
    """The Phase-2 answers and the BRASS index, as the team submits or corrects them."""

    answers: dict[RequirementId, AnswerValue] = Field(
        min_length=1,
        description="Answers to the district's checklist (R1, R2, …): yes, partial or no. A "
        "requirement left out counts as 'no'; one the district's checklist lacks is refused.",
        examples=[{"R1": "yes", "R2": "no", "R3": "yes", "R4": "partial", "R5": "yes"}],
    )
    brass_score: int | None = Field(
        default=None,
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
    assessed_by: Identifier = Field(
        description="Id of the operator who assessed.", examples=[_OPERATOR]
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


class OverrideRequest(_Request):
    """The team's decision instead of the rule's."""

    decision: Literal["eligible", "not_eligible"] = Field(
        description="The team's decision.", examples=["eligible"]
    )
    intensity: Intensity | None = Field(
        default=None,
        description="Intensity of the package: required when eligible, absent otherwise.",
        examples=["high"],
    )
    reason: OverrideReason = Field(
        description="Why the team decides against (or confirms) the rule; published.",
        examples=["Caregiver ricoverato: la rete familiare è di fatto assente."],
    )
    decided_by: Identifier = Field(description="Id of the deciding operator.", examples=[_OPERATOR])

    @model_validator(mode="after")
    def _intensity_iff_eligible(self) -> OverrideRequest:
        if self.decision == "eligible" and self.intensity is None:
            raise ValueError("intensity is required when the decision is eligible")
        if self.decision == "not_eligible" and self.intensity is not None:
            raise ValueError("intensity is only for an eligible decision")
        return self


class Pai(_Request):
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


class Contact(_Request):
    """A person to contact about the case."""

    name: ShortText = Field(description="Name.", examples=["Lucia Rossi"])
    role: ShortText | None = Field(
        default=None, description="Relationship or role.", examples=["figlia"]
    )
    phone: ShortText | None = Field(default=None, description="Phone.", examples=["+39 333 1"])


class TakingChargeInformation(_Request):
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
        default=None, description="Whether the person consents to the plan.", examples=[True]
    )
    notes: Note | None = Field(default=None, description="Anything else.")


class TakingChargeRequest(_Request):
    """The information for taking the person in charge and the PAI draft, as recorded."""

    pai: Pai = Field(description="The PAI draft.")
    information: TakingChargeInformation = Field(description="Information for taking charge.")
    recorded_by: Identifier = Field(
        description="Id of the operator who records it.", examples=[_OPERATOR]
    )


# --- responses -------------------------------------------------------------------------------


class BrassItemView(BaseModel):
    """One BRASS item: the answer and its points."""

    item: str = Field(description="The item's code.", examples=["dependencies"])
    label: str = Field(description="The item's name.", examples=["functional status (ADL/IADL)"])
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
        description="EligibilityConfirmed or EligibilityRejected.",
        examples=["EligibilityConfirmed"],
    )
    event_id: str = Field(description="The event's ce_id.")


class AssessmentResult(BaseModel):
    """What an assessment did to the case."""

    case_id: str = Field(description="The case id.", examples=[_CASE])
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

    case_id: str = Field(description="The case id.", examples=[_CASE])
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


class CaseSummary(BaseModel):
    """A line of the team's list of cases."""

    case_id: str = Field(description="The case id.", examples=[_CASE])
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

    case_id: str = Field(description="The case id.", examples=[_CASE])
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


class ErrorDetail(BaseModel):
    """Why a request was refused."""

    code: str = Field(description="Stable machine code.", examples=["case.cancelled"])
    message: str = Field(description="For people.")


class ErrorBody(BaseModel):
    """A refusal."""

    detail: ErrorDetail


_CASE_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No such case."},
    409: {"model": ErrorBody, "description": "Refused in the case's present state."},
}


def _error(code: int, error: str, message: str) -> HTTPException:
    return HTTPException(code, detail={"code": error, "message": message})


# --- the app ---------------------------------------------------------------------------------


def create_app(runtime: ServiceRuntime, config: IntakeConfig) -> FastAPI:
    app = FastAPI(
        title="Cerniera intake",
        version="1.0.0",
        description=(
            "The district team's (équipe) side of intake. A case announced without its "
            "Phase-2 assessment waits for it (`GET /cases?status=awaiting_assessment`); the "
            "team submits or corrects the answers and the BRASS index, records what it needs "
            "to take the person in charge and draft the PAI, and may override the district's "
            "rule with a recorded reason. Decisions are published on the intake topic "
            "(EligibilityConfirmed / EligibilityRejected); for one case, a later decision "
            "event supersedes the earlier one."
        ),
    )
    clock = runtime.clock

    def bands(ambito: Ambito | None) -> tuple[int, int]:
        if ambito is None:
            return brass.LOW_MAX, brass.MEDIUM_MAX
        return ambito.intensity.brass_low_max, ambito.intensity.brass_medium_max

    def district(row: Row[Any]) -> Ambito | None:
        return config.ambiti.get(row.ambito_id) if row.ambito_id else None

    async def locked_open_case(conn: Any, case_id: str) -> Row[Any]:
        row = await store.case(conn, case_id, lock=True)
        if row is None:
            raise _error(404, "case.unknown", f"no case {case_id}")
        if row.status == domain.CaseStatus.CANCELLED:
            raise _error(409, "case.cancelled", f"the hospital cancelled the discharge {case_id}")
        return row

    @app.get("/cases", tags=["cases"], summary="List cases (e.g. those awaiting assessment)")
    async def list_cases(
        case_status: Annotated[
            domain.CaseStatus | None,
            Query(alias="status", description="Only cases in this state."),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=1000, description="Page size.")] = 100,
        offset: Annotated[int, Query(ge=0, description="Cases to skip.")] = 0,
    ) -> CaseList:
        async with runtime.engine.connect() as conn:
            total, rows = await store.cases_page(conn, case_status, limit, offset)
        today = clock.today()
        return CaseList(
            total=total,
            items=[
                CaseSummary(
                    case_id=r.case_id,
                    hospital_id=r.hospital_id,
                    ward=r.ward,
                    ambito_id=r.ambito_id,
                    status=r.status,
                    expected_discharge_at=r.expected_discharge_at,
                    announced_at=r.created_at,
                    days_waiting=(today - r.created_at.astimezone(ROME).date()).days
                    if r.status == domain.CaseStatus.AWAITING_ASSESSMENT
                    else None,
                )
                for r in rows
            ],
        )

    @app.get(
        "/cases/{case_id:path}",
        tags=["cases"],
        responses={404: _CASE_ERRORS[404]},
        summary="A case: patient, assessment, decision (who and why), overrides, taking charge",
    )
    async def get_case(case_id: CaseId) -> CaseView:
        async with runtime.engine.connect() as conn:
            row = await store.case(conn, case_id)
            if row is None:
                raise _error(404, "case.unknown", f"no case {case_id}")
            versions = await store.assessment_versions(conn, case_id)
            overridden = await store.overrides_of(conn, case_id)
            charge = await store.taking_charge_versions(conn, case_id)
        ambito = district(row)
        history = _assessment_history(row, versions, bands(ambito))
        charge_views = [_taking_charge_view(r) for r in charge]
        return CaseView(
            case_id=row.case_id,
            hospital_id=row.hospital_id,
            discharge_ref=row.discharge_ref,
            ward=row.ward,
            ambito_id=row.ambito_id,
            status=row.status,
            expected_discharge_at=row.expected_discharge_at,
            announced_at=row.created_at,
            correlation_id=row.correlation_id,
            patient=Patient.model_validate(row.patient),
            caregiver=Caregiver.model_validate(row.caregiver) if row.caregiver else None,
            assessment=history[-1] if history else None,
            assessment_history=history,
            decision=_decision_view(
                domain.decision_from_record(row.decision, row.ambito_id), row.decision
            ),
            override_in_force=bool(overridden),
            overrides=[_override_view(o, row.ambito_id) for o in overridden],
            taking_charge=charge_views[-1] if charge_views else None,
            taking_charge_history=charge_views,
        )

    @app.put(
        "/cases/{case_id:path}/assessment",
        tags=["assessment"],
        responses=_CASE_ERRORS,
        summary="Submit or correct the Phase-2 answers and BRASS",
        description=(
            "Stores a new version of the assessment (who, when). A case awaiting its "
            "assessment is decided by the district's rule and the decision is published "
            "(decided_by 'rule'). For a decided case the rule is applied again: if the answers "
            "change the decision (eligibility or intensity) a new decision event supersedes "
            "the earlier one, its first reason 'assessment.corrected'; else nothing is "
            "published. While the team's override stands, answers never change the decision. "
            "The same assessment sent again makes no new version."
        ),
    )
    async def put_assessment(case_id: CaseId, body: AssessmentRequest) -> AssessmentResult:
        async with runtime.db.unit_of_work() as uow:
            row = await locked_open_case(uow.conn, case_id)
            ambito = district(row)
            if ambito is None:
                raise _error(
                    409,
                    "case.no_district",
                    f"the patient's residence is in no district served here ({case_id}): "
                    "there is no checklist to assess it against",
                )
            unknown = domain.unknown_requirements(ambito.phase2, body.answers)
            if unknown:
                raise _error(
                    422,
                    "assessment.unknown_requirements",
                    f"not in the checklist of {ambito.id}: {', '.join(unknown)} (it has "
                    f"{', '.join(ambito.phase2.requirements)})",
                )
            result = brass.score(body.brass_items, *bands(ambito)) if body.brass_items else None
            assessment = Assessment(
                answers=body.answers,
                brass_score=result.score if result else body.brass_score,
                notes=body.notes,
            )
            record = _assessment_record(assessment, body.brass_items)
            versions = await store.assessment_versions(uow.conn, case_id)
            latest = versions[-1] if versions else None
            now = clock.now()
            if latest is None or _assessment_record_of(latest) != record:
                version = latest.version + 1 if latest else 1
                await uow.conn.execute(
                    insert(assessments).values(
                        case_id=case_id,
                        version=version,
                        assessed_by=body.assessed_by,
                        assessed_at=now,
                        **record,
                    )
                )
                current = _team_assessment_view(
                    version, record, body.assessed_by, now, bands(ambito)
                )
            else:
                current = _team_assessment_view(
                    latest.version, record, latest.assessed_by, latest.assessed_at, bands(ambito)
                )
            in_force = domain.decision_from_record(row.decision, row.ambito_id)
            overridden = bool(await store.overrides_of(uow.conn, case_id))
            reassessed = domain.reassess(
                ambito,
                assessment,
                in_force,
                overridden=overridden,
                version=current.version,
                assessed_by=body.assessed_by,
                brass=result,
            )
            decision, decision_json, published = in_force, row.decision, None
            new_status = domain.CaseStatus(row.status)
            if reassessed.decision is not None:
                decision = reassessed.decision
                decision_json = domain.decision_record(decision, now)
                new_status = domain.status_of(decision)
                event = emit_decision(
                    uow,
                    case_id,
                    row.expected_discharge_at,
                    decision,
                    correlation_id=row.correlation_id,
                )
                published = PublishedView(event_type=event.type, event_id=event.id)
                await uow.conn.execute(
                    update(cases)
                    .where(cases.c.case_id == case_id)
                    .values(status=new_status, decision=decision_json, updated_at=now)
                )
        rule_view = _decision_view(reassessed.rule, None)
        decision_view = _decision_view(decision, decision_json)
        assert rule_view is not None
        assert decision_view is not None
        return AssessmentResult(
            case_id=case_id,
            status=new_status,
            outcome=reassessed.outcome,
            assessment=current,
            rule=rule_view,
            decision=decision_view,
            published=published,
        )

    @app.post(
        "/cases/{case_id:path}/override",
        tags=["assessment"],
        status_code=status.HTTP_201_CREATED,
        responses=_CASE_ERRORS,
        summary="Override the rule's decision, with a recorded reason",
        description=(
            "Records who, when, why and what the rule said. A decision event is published "
            "(decided_by = the operator; first reason 'override.team' with the operator's "
            "reason, then 'override.rule_decision' and the rule's own reasons prefixed "
            "'rule.') only if it changes the decision in force (eligibility or intensity). "
            "From then on corrected answers do not change the decision; a new override does."
        ),
    )
    async def post_override(case_id: CaseId, body: OverrideRequest) -> OverrideResult:
        async with runtime.db.unit_of_work() as uow:
            row = await locked_open_case(uow.conn, case_id)
            ambito = district(row)
            versions = await store.assessment_versions(uow.conn, case_id)
            assessment, items = _current_assessment(row, versions)
            result = brass.score(items, *bands(ambito)) if items else None
            in_force = domain.decision_from_record(row.decision, row.ambito_id)
            rule = domain.rule_says(ambito, assessment, result, stored=in_force)
            try:
                overridden = domain.override(
                    ambito,
                    eligible=body.decision == "eligible",
                    intensity=body.intensity,
                    reason=body.reason,
                    decided_by=body.decided_by,
                    in_force=in_force,
                    rule=rule,
                )
            except domain.OverrideError as error:
                raise _error(409, "override.not_possible", str(error)) from error
            now = clock.now()
            seq = len(await store.overrides_of(uow.conn, case_id)) + 1
            decision_json = domain.decision_record(overridden.decision, now)
            published = None
            if overridden.publish:
                event = emit_decision(
                    uow,
                    case_id,
                    row.expected_discharge_at,
                    overridden.decision,
                    correlation_id=row.correlation_id,
                )
                published = PublishedView(event_type=event.type, event_id=event.id)
                await uow.conn.execute(
                    update(cases)
                    .where(cases.c.case_id == case_id)
                    .values(
                        status=domain.status_of(overridden.decision),
                        decision=decision_json,
                        updated_at=now,
                    )
                )
                in_force, in_force_json = overridden.decision, decision_json
            else:
                in_force_json = row.decision
            rule_json = domain.decision_record(rule) if rule else None
            await uow.conn.execute(
                insert(overrides).values(
                    case_id=case_id,
                    seq=seq,
                    decision=decision_json,
                    reason=body.reason,
                    decided_by=body.decided_by,
                    decided_at=now,
                    rule=rule_json,
                    event_id=published.event_id if published else None,
                )
            )
        decision_view = _decision_view(in_force, in_force_json)
        override_decision = _decision_view(overridden.decision, decision_json)
        assert decision_view is not None
        assert override_decision is not None
        return OverrideResult(
            case_id=case_id,
            status=domain.status_of(in_force) if in_force else domain.CaseStatus(row.status),
            override=OverrideView(
                seq=seq,
                decision=override_decision,
                reason=body.reason,
                decided_by=body.decided_by,
                decided_at=now,
                rule=_decision_view(rule, rule_json),
                published_event_id=published.event_id if published else None,
            ),
            decision=decision_view,
            published=published,
        )

    @app.put(
        "/cases/{case_id:path}/taking-charge",
        tags=["taking charge"],
        responses=_CASE_ERRORS,
        summary="Record the information for taking charge and the PAI draft",
        description=(
            "Stores a new version (who, when); the same content sent again makes none. Kept "
            "in intake only: nothing is published (personal and clinical data)."
        ),
    )
    async def put_taking_charge(case_id: CaseId, body: TakingChargeRequest) -> TakingChargeView:
        pai = body.pai.model_dump(mode="json")
        information = body.information.model_dump(mode="json")
        async with runtime.db.unit_of_work() as uow:
            await locked_open_case(uow.conn, case_id)
            versions = await store.taking_charge_versions(uow.conn, case_id)
            latest = versions[-1] if versions else None
            if latest is not None and (latest.pai, latest.information) == (pai, information):
                return _taking_charge_view(latest)
            version = latest.version + 1 if latest else 1
            now = clock.now()
            await uow.conn.execute(
                insert(taking_charge).values(
                    case_id=case_id,
                    version=version,
                    pai=pai,
                    information=information,
                    recorded_by=body.recorded_by,
                    recorded_at=now,
                )
            )
        return TakingChargeView(
            version=version,
            pai=body.pai,
            information=body.information,
            recorded_by=body.recorded_by,
            recorded_at=now,
        )

    @app.post(
        "/brass",
        tags=["brass"],
        responses={404: {"model": ErrorBody, "description": "No such district."}},
        summary="BRASS calculator: ten items → score, band and the items that drove it",
    )
    async def post_brass(
        items: BrassItems,
        ambito_id: Annotated[
            str | None,
            Query(description="Use this district's bands (default 0–10 / 11–19 / 20+)."),
        ] = None,
    ) -> BrassView:
        ambito = None
        if ambito_id is not None:
            ambito = config.ambiti.get(ambito_id)
            if ambito is None:
                raise _error(404, "ambito.unknown", f"no district {ambito_id}")
        return _brass_view(brass.score(items, *bands(ambito)))

    return app


# --- views -----------------------------------------------------------------------------------


def _brass_view(result: BrassResult) -> BrassView:
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


def _assessment_record(assessment: Assessment, items: BrassItems | None) -> dict[str, Any]:
    """The stored columns of an assessment version (also what makes two versions the same)."""
    return {
        "answers": {r: a.value for r, a in assessment.answers.items()},
        "brass_score": assessment.brass_score,
        "brass_items": items.model_dump(mode="json") if items else None,
        "notes": assessment.notes,
    }


def _assessment_record_of(row: Row[Any]) -> dict[str, Any]:
    return {
        "answers": row.answers,
        "brass_score": row.brass_score,
        "brass_items": row.brass_items,
        "notes": row.notes,
    }


def _team_assessment_view(
    version: int,
    record: dict[str, Any],
    assessed_by: str,
    assessed_at: datetime,
    bands: tuple[int, int],
) -> AssessmentView:
    items = record["brass_items"]
    score = record["brass_score"]
    return AssessmentView(
        version=version,
        source="team",
        answers=record["answers"],
        brass_score=score,
        brass_band=brass.band_of(score, *bands) if score is not None else None,
        brass=_brass_view(brass.score(BrassItems.model_validate(items), *bands)) if items else None,
        notes=record["notes"],
        assessed_by=assessed_by,
        assessed_at=assessed_at,
    )


def _assessment_history(
    row: Row[Any], versions: list[Row[Any]], bands: tuple[int, int]
) -> list[AssessmentView]:
    history = []
    if row.assessment is not None:  # the ward's, sent with the announcement
        ward = Assessment.model_validate(row.assessment)
        score = ward.brass_score
        history.append(
            AssessmentView(
                version=0,
                source="hospital",
                answers=dict(ward.answers),
                brass_score=score,
                brass_band=brass.band_of(score, *bands) if score is not None else None,
                brass=None,
                notes=ward.notes,
                assessed_by=None,
                assessed_at=None,
            )
        )
    for v in versions:
        history.append(
            _team_assessment_view(
                v.version, _assessment_record_of(v), v.assessed_by, v.assessed_at, bands
            )
        )
    return history


def _current_assessment(
    row: Row[Any], versions: list[Row[Any]]
) -> tuple[Assessment | None, BrassItems | None]:
    """The assessment in force: the team's latest version, else the ward's."""
    if versions:
        latest = versions[-1]
        items = BrassItems.model_validate(latest.brass_items) if latest.brass_items else None
        assessment = Assessment(
            answers=latest.answers, brass_score=latest.brass_score, notes=latest.notes
        )
        return assessment, items
    if row.assessment is not None:
        return Assessment.model_validate(row.assessment), None
    return None, None


def _decision_view(
    decision: domain.Decision | None, record: dict[str, Any] | None
) -> DecisionView | None:
    if decision is None:
        return None
    eligible = isinstance(decision, domain.Eligible)
    decided_at = (record or {}).get("decided_at")
    return DecisionView(
        outcome="eligible" if eligible else "not_eligible",
        intensity=decision.intensity if isinstance(decision, domain.Eligible) else None,
        services=decision.services if isinstance(decision, domain.Eligible) else [],
        decided_by=decision.decided_by,
        reasons=decision.reasons,
        decided_at=datetime.fromisoformat(decided_at) if decided_at else None,
    )


def _override_view(row: Row[Any], ambito_id: str | None) -> OverrideView:
    decision = _decision_view(domain.decision_from_record(row.decision, ambito_id), row.decision)
    assert decision is not None
    return OverrideView(
        seq=row.seq,
        decision=decision,
        reason=row.reason,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        rule=_decision_view(domain.decision_from_record(row.rule, ambito_id), row.rule),
        published_event_id=row.event_id,
    )


def _taking_charge_view(row: Row[Any]) -> TakingChargeView:
    return TakingChargeView(
        version=row.version,
        pai=Pai.model_validate(row.pai),
        information=TakingChargeInformation.model_validate(row.information),
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )
