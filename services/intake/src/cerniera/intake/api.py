"""The équipe's HTTP API on intake: the cases waiting for an assessment, the Phase-2 answers and
BRASS (submitted or corrected), the information for taking the person in charge and the PAI,
and the team's override of the rule.

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
from cerniera.intake.cases import IntakeCases
from cerniera.intake.config import IntakeConfig
from cerniera.intake.domain import CaseStatus, TakingCharge
from cerniera.intake.schemas import (
    AssessmentRequest,
    AssessmentResult,
    BrassView,
    CaseList,
    CaseView,
    OverrideRequest,
    OverrideResult,
    TakingChargeRequest,
    TakingChargeView,
    assessment_result,
    brass_view,
    case_summary,
    case_view,
    override_result,
    taking_charge_view,
)
from cerniera.shared.access import Action, Principal
from cerniera.shared.access.web import allow
from cerniera.shared.contract.types import IDENTIFIER_PATTERN
from cerniera.shared.http import CaseId, error_responses, service_app
from cerniera.shared.runtime import ServiceRuntime

_NO_CASE = "No such case."
MAX_OFFSET = 1_000_000
"""More cases than a district will ever have: beyond, an offset is refused, not sent to SQL."""
_CASE_ERRORS = error_responses(e404=_NO_CASE, e409="Refused in the case's present state.")


def create_app(runtime: ServiceRuntime, config: IntakeConfig) -> FastAPI:
    app = service_app(
        runtime,
        title="Cerniera intake",
        description=(
            "The district team's (équipe) side of intake. A case announced without its "
            "Phase-2 assessment waits for it (`GET /cases?status=awaiting_assessment`); the "
            "team submits or corrects the answers and the BRASS index, records what it needs "
            "to take the person in charge and draft the PAI, and may override the district's "
            "rule with a recorded reason. Decisions are published on the intake topic "
            "(EligibilityConfirmed / EligibilityRejected); for one case, a later decision "
            "event supersedes the earlier one. Every route needs a bearer token; a member "
            "of a district's équipe sees and changes only its district's cases (another's: "
            "403), and is recorded as the actor of every change."
        ),
    )
    clock = runtime.clock
    cases = IntakeCases(config, clock)

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
