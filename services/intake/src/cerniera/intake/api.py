"""The équipe's HTTP API on intake: the cases waiting for an assessment, the Phase-2 answers and
BRASS (submitted or corrected), the information for taking the person in charge and the PAI,
the team's override of the rule; the district's decisions: the team's confirmation of the
rule's proposal, the consent, the plan's revisions, the administrator's exception to the SAD
hours cap, the territorial network's answer, mediation notes, and the report of them.

Routes only: ``cases`` decides, ``schemas`` holds the shapes. A decision it causes goes through
the outbox with the case's own correlation id, like one the consumer makes. Personal and
clinical data are served here (the API is for the district's team) and never published.

Every route declares its action (``allow``): the bearer's token says who acts (the actor of
every change) and for which districts; ``cases`` refuses another district's case (403).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Query, status

from cerniera.intake import store
from cerniera.intake.brass import BrassItems
from cerniera.intake.cases import Changed, IntakeCases
from cerniera.intake.config import IntakeConfig
from cerniera.intake.domain import CaseStatus, TakingCharge
from cerniera.intake.plans import PlanReason
from cerniera.intake.schemas import (
    AssessmentRequest,
    AssessmentResult,
    BrassView,
    CapExceptionRequest,
    CapExceptionView,
    CaseList,
    CaseView,
    ChangeResult,
    ConfirmRequest,
    ConsentRequest,
    DecisionsReport,
    DistrictDecisions,
    MediationNoteRequest,
    MediationNoteView,
    NetworkTaskRequest,
    NetworkTaskView,
    OverrideRequest,
    OverrideResult,
    PlanRequest,
    TakingChargeRequest,
    TakingChargeView,
    assessment_result,
    brass_view,
    case_summary,
    case_view,
    change_result,
    override_result,
    taking_charge_view,
)
from cerniera.shared.access import Action, Principal
from cerniera.shared.access.web import allow
from cerniera.shared.contract.types import IDENTIFIER_PATTERN
from cerniera.shared.http import CaseId, error_responses, service_app, view
from cerniera.shared.runtime import ServiceRuntime

_NO_CASE = "No such case."
MAX_OFFSET = 1_000_000
"""More cases than a district will ever have: beyond, an offset is refused, not sent to SQL."""
_CASE_ERRORS = error_responses(e404=_NO_CASE, e409="Refused in the case's present state.")


def create_app(runtime: ServiceRuntime, config: IntakeConfig, pseudonym_key: bytes) -> FastAPI:
    app = service_app(
        runtime,
        title="Cerniera intake",
        description=(
            "The district team's (équipe) side of intake. A case announced without its "
            "Phase-2 assessment waits for it (`GET /cases?status=awaiting_assessment`); the "
            "team submits or corrects the answers and the BRASS index, records what it needs "
            "to take the person in charge and draft the PAI, and may override the district's "
            "rule with a recorded reason. Where the district says the team decides, the rule's "
            "eligible result is a proposal (`GET /cases?status=awaiting_confirmation`) until the "
            "team confirms it, tailoring the plan if needed; no EligibilityConfirmed is "
            "published without the person's or guardian's consent (`awaiting_consent`), nor for "
            "a plan that takes the person past the district's SAD hours cap without the "
            "administrator's exception. Decisions are published on the intake topic "
            "(EligibilityConfirmed / EligibilityRejected, PlanRevised, NetworkTaskOpened / "
            "NetworkTaskCompleted); for one case, a later decision "
            "event supersedes the earlier one. Every route needs a bearer token; a member "
            "of a district's équipe sees and changes only its district's cases (another's: "
            "403), and is recorded as the actor of every change."
        ),
    )
    clock = runtime.clock
    cases = IntakeCases(config, clock, pseudonym_key)

    @app.get(
        "/cases",
        tags=["cases"],
        summary="List cases (e.g. those awaiting assessment)",
        description="The cases of the caller's districts (every case for the auditor).",
    )
    async def list_cases(
        who: Annotated[Principal, allow(Action.CASE_READ)],
        case_status: Annotated[
            CaseStatus | None,
            Query(alias="status", description="Only cases in this state."),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=1000, description="Page size.")] = 100,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Cases to skip.")] = 0,
    ) -> CaseList:
        async with runtime.engine.connect() as conn:
            total, rows = await store.cases_page(conn, case_status, limit, offset, who.districts())
        today = clock.today()
        return CaseList(total=total, items=[case_summary(r, today) for r in rows])

    @app.put(
        "/cases/{case_id:path}/assessment",
        tags=["assessment"],
        responses=_CASE_ERRORS,
        summary="Submit or correct the Phase-2 answers and BRASS",
        description=(
            "Stores a new version of the assessment (who: the token's bearer; when). A case "
            "awaiting its assessment is decided by the district's rule and the decision is "
            "published (decided_by 'rule'). For a decided case the rule is applied again: if the "
            "answers change the decision (eligibility or intensity) a new decision event "
            "supersedes the earlier one, its first reason 'assessment.corrected'; else nothing is "
            "published. While the team's override stands, answers never change the decision. The "
            "same assessment sent again makes no new version."
        ),
    )
    async def put_assessment(
        case_id: CaseId,
        body: AssessmentRequest,
        who: Annotated[Principal, allow(Action.CASE_ASSESS)],
    ) -> AssessmentResult:
        async with runtime.db.unit_of_work() as uow:
            done = await cases.submit_assessment(
                uow,
                case_id,
                answers=body.answers,
                brass_score=body.brass_score,
                brass_items=body.brass_items,
                notes=body.notes,
                who=who,
            )
        return assessment_result(done)

    @app.post(
        "/cases/{case_id:path}/override",
        tags=["assessment"],
        status_code=status.HTTP_201_CREATED,
        responses=_CASE_ERRORS,
        summary="Override the rule's decision, with a recorded reason",
        description=(
            "Records who (the token's bearer), when, why and what the rule said. A decision event "
            "is published (decided_by = the operator; first reason 'override.team' with a fixed "
            "text, then 'override.rule_decision' and the rule's own reasons prefixed 'rule.') only "
            "if it changes the decision in force (eligibility or intensity); the reason stays "
            "here, never published. From then on corrected answers do not change the decision; a "
            "new override does."
        ),
    )
    async def post_override(
        case_id: CaseId,
        body: OverrideRequest,
        who: Annotated[Principal, allow(Action.CASE_OVERRIDE)],
    ) -> OverrideResult:
        async with runtime.db.unit_of_work() as uow:
            done = await cases.override(
                uow,
                case_id,
                eligible=body.decision == "eligible",
                intensity=body.intensity,
                reason=body.reason,
                who=who,
            )
        return override_result(done)

    @app.put(
        "/cases/{case_id:path}/taking-charge",
        tags=["taking charge"],
        responses=_CASE_ERRORS,
        summary="Record the information for taking charge and the PAI draft",
        description=(
            "Stores a new version (who: the token's bearer; when); the same content sent "
            "again makes none. Kept in intake only: nothing is published (personal and "
            "clinical data)."
        ),
    )
    async def put_taking_charge(
        case_id: CaseId,
        body: TakingChargeRequest,
        who: Annotated[Principal, allow(Action.CASE_TAKE_CHARGE)],
    ) -> TakingChargeView:
        content = TakingCharge(
            pai=body.pai.model_dump(mode="json"),
            information=body.information.model_dump(mode="json"),
        )
        async with runtime.db.unit_of_work() as uow:
            recorded = await cases.record_taking_charge(uow, case_id, content, who)
        return taking_charge_view(recorded)

    @app.put(
        "/cases/{case_id:path}/consent",
        tags=["decision"],
        responses=_CASE_ERRORS,
        summary="Record the person's or guardian's consent",
        description=(
            "Who gave it (the person, or the guardian named here: the name stays in intake) and "
            "who recorded it (the token's bearer). A confirmed eligible case is then published "
            "(EligibilityConfirmed); without consent nothing is (the case is awaiting_consent). "
            "Were its plan beyond the person's SAD hours cap, it waits for the team instead "
            "(awaiting_confirmation)."
        ),
    )
    async def put_consent(
        case_id: CaseId,
        body: ConsentRequest,
        who: Annotated[Principal, allow(Action.CASE_CONSENT)],
    ) -> ChangeResult:
        async with runtime.db.unit_of_work() as uow:
            done = await cases.record_consent(
                uow,
                case_id,
                given=body.given,
                given_by=body.given_by,
                guardian_name=body.guardian_name,
                who=who,
            )
        return change_result(done)

    @app.post(
        "/cases/{case_id:path}/confirm",
        tags=["decision"],
        responses=_CASE_ERRORS,
        summary="Confirm the rule's proposal, tailoring the plan if needed",
        description=(
            "The team takes the decision: decided_by becomes the operator (reason "
            "'confirmed.team'; 'plan.tailored' when the services differ from the package). "
            "EligibilityConfirmed is published once the consent is recorded. A plan beyond the "
            "person's SAD hours cap (weekly hours × follow-up days / 7, with the person's other "
            "confirmed plans) is refused, 409 'plan.cap_exceeded', unless the district's "
            "administrator recorded an exception for the case. The same confirmation of a "
            "published plan again changes nothing."
        ),
    )
    async def post_confirm(
        case_id: CaseId,
        body: ConfirmRequest,
        who: Annotated[Principal, allow(Action.CASE_CONFIRM)],
    ) -> ChangeResult:
        async with runtime.db.unit_of_work() as uow:
            done = await cases.confirm(
                uow, case_id, services=body.services, reason=body.reason, who=who
            )
        return _unless_refused(done)

    @app.put(
        "/cases/{case_id:path}/plan",
        tags=["decision"],
        responses=_CASE_ERRORS,
        summary="Revise the plan in force: services and weekly quantities",
        description=(
            "A new version of the published plan: PlanRevised with plan_version + 1, the "
            "services from now on (one left out stops) and the reason code with its fixed "
            "Italian text; the operator's reason stays in intake. The same services again make "
            "no version. Refused beyond the person's SAD hours cap (409 'plan.cap_exceeded') "
            "unless the district's administrator recorded an exception for the case."
        ),
    )
    async def put_plan(
        case_id: CaseId,
        body: PlanRequest,
        who: Annotated[Principal, allow(Action.PLAN_REVISE)],
    ) -> ChangeResult:
        async with runtime.db.unit_of_work() as uow:
            done = await cases.revise_plan(
                uow,
                case_id,
                services=body.services,
                code=PlanReason(body.reason_code),
                reason=body.reason,
                who=who,
            )
        return _unless_refused(done)

    @app.post(
        "/cases/{case_id:path}/cap-exception",
        tags=["decision"],
        status_code=status.HTTP_201_CREATED,
        responses=_CASE_ERRORS,
        summary="The district administrator's exception to the SAD hours cap",
        description=(
            "With its reason (kept in intake): the team may then confirm or revise the case's "
            "plan beyond the cap. For the district's administration only."
        ),
    )
    async def post_cap_exception(
        case_id: CaseId,
        body: CapExceptionRequest,
        who: Annotated[Principal, allow(Action.PLAN_CAP_EXCEPTION)],
    ) -> CapExceptionView:
        async with runtime.db.unit_of_work() as uow:
            granted = await cases.grant_cap_exception(uow, case_id, body.reason, who)
        return view(CapExceptionView, granted)

    @app.post(
        "/cases/{case_id:path}/network-task",
        tags=["decision"],
        status_code=status.HTTP_201_CREATED,
        responses=_CASE_ERRORS,
        summary="Record the territorial network's answer for a person without a caregiver",
        description=(
            "Completes the task opened when the case was confirmed (NetworkTaskOpened): "
            "NetworkTaskCompleted with the outcome and who takes part; the notes stay here."
        ),
    )
    async def post_network_task(
        case_id: CaseId,
        body: NetworkTaskRequest,
        who: Annotated[Principal, allow(Action.NETWORK_TASK_RECORD)],
    ) -> NetworkTaskView:
        async with runtime.db.unit_of_work() as uow:
            task, _ = await cases.record_network_task(
                uow,
                case_id,
                outcome=body.outcome,
                resources=body.resources,
                notes=body.notes,
                who=who,
            )
        return view(NetworkTaskView, task, resources=list(task.resources))

    @app.post(
        "/cases/{case_id:path}/mediation-notes",
        tags=["decision"],
        status_code=status.HTTP_201_CREATED,
        responses=_CASE_ERRORS,
        summary="Add a note of a mediation with a family that disagrees",
        description="Kept in the case (shown with it), never published.",
    )
    async def post_mediation_note(
        case_id: CaseId,
        body: MediationNoteRequest,
        who: Annotated[Principal, allow(Action.MEDIATION_NOTE)],
    ) -> MediationNoteView:
        async with runtime.db.unit_of_work() as uow:
            note = await cases.add_mediation_note(uow, case_id, body.text, who)
        return view(MediationNoteView, note)

    @app.get(
        "/reports/decisions",
        tags=["reports"],
        summary="The district's decisions: team vs rule, tailored plans, cap refusals, network",
        description="Per district of the caller (every district for the auditor).",
    )
    async def get_decisions_report(
        who: Annotated[Principal, allow(Action.REPORTS_READ)],
    ) -> DecisionsReport:
        async with runtime.engine.connect() as conn:
            report = await store.decisions_report(conn, who.districts())
        return DecisionsReport(
            districts=[DistrictDecisions(ambito_id=a, **f) for a, f in report.items()]
        )

    # After the routes under a case: a case id may contain "/", and this route matches any
    # path below /cases/, so the routes of the case's parts must be tried first (a DELETE on
    # /cases/X/assessment is then a 405 allowing PUT, not one allowing GET).
    @app.get(
        "/cases/{case_id:path}",
        tags=["cases"],
        responses=error_responses(e404=_NO_CASE),
        summary="A case: patient, assessment, decision (who and why), overrides, taking charge",
    )
    async def get_case(
        case_id: CaseId, who: Annotated[Principal, allow(Action.CASE_READ)]
    ) -> CaseView:
        async with runtime.engine.connect() as conn:
            file = await cases.case_file(conn, case_id, who)
        return case_view(file)

    @app.post(
        "/brass",
        tags=["brass"],
        responses=error_responses(e404="No such district."),
        summary="BRASS calculator: ten items → score, band and the items that drove it",
    )
    async def post_brass(
        items: BrassItems,
        who: Annotated[Principal, allow(Action.BRASS_SCORE)],
        ambito_id: Annotated[
            str | None,
            Query(
                description="Use this district's bands (default 0–10 / 11–19 / 20+).",
                pattern=IDENTIFIER_PATTERN,
                max_length=128,
            ),
        ] = None,
    ) -> BrassView:
        return brass_view(cases.score_brass(items, ambito_id))

    return app


def _unless_refused(done: Changed) -> ChangeResult:
    """The result, or the cap's refusal: raised here, after the unit of work has committed
    the refusal's record (the count the district reports)."""
    if done.refused is not None:
        raise done.refused
    return change_result(done)
