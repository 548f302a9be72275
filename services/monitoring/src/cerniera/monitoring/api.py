"""The équipe's HTTP API: record weekly checks, list the checks due, close a case early, hand it
over to the municipality (and read the hand-over summary), read a follow-up; the district's
outcome indicators and the per-beneficiary feed of the funder's export. Routes only: the use
cases are in ``cases``, the models in ``schemas``.

Every route declares its action (``allow``); the bearer's token says who acts (the actor of
every change) and for which districts: ``cases`` refuses another district's follow-up (403)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import FastAPI, Query, status

from cerniera.monitoring import cases
from cerniera.monitoring.config import MonitoringConfig, load_config
from cerniera.monitoring.indicators import quarter_days
from cerniera.monitoring.schemas import (
    INDICATOR_LABELS,
    BeneficiariesReport,
    CheckRequest,
    CheckView,
    CloseRequest,
    DueCheckView,
    FollowUpView,
    HandOverBody,
    HandOverSummaryView,
    OutcomesReport,
    beneficiary_row_view,
    check_view,
    district_outcomes_view,
    follow_up_view,
    summary_view,
)
from cerniera.shared.access import Action, Principal
from cerniera.shared.access.web import allow
from cerniera.shared.contract.types import IDENTIFIER_PATTERN
from cerniera.shared.http import CaseId, Day, error_responses, service_app
from cerniera.shared.refusals import Invalid
from cerniera.shared.runtime import ServiceRuntime

ERRORS = error_responses(
    e404="No follow-up for this case.", e409="Refused in the case's present state."
)

District = Annotated[
    str | None,
    Query(
        description="Only this district (one of the caller's; the auditor: any).",
        pattern=IDENTIFIER_PATTERN,
        max_length=128,
    ),
]

OUTCOMES_DESCRIPTION = """Per district (the caller's; the auditor: every one), over the cases
discharged from `from` to `to` (default: from 1 January of `to`'s year to today), less the
discharges the hospital cancelled and the decisions intake reversed:

- `readmitted_within_30_days`: readmitted at most 30 days after the discharge day (even after
  an early closure), of the cases;
- `institutionalised`: closed as institutionalised, of the cases;
- `at_home_at_day_30`: closed completed or handed over, and not readmitted within 30 days, of
  the cases closed (the withdrawn left out);
- `days_to_every_service_active`: from the day the ward announced the discharge to the first
  day every service of the plan at the discharge was active (services the team resolved by
  family, territorial network or dropping left out); `not_all_active` counts the cases still
  short of one;
- `bed_days_lost`: for each case whose discharge the team asked to postpone
  (DischargePostponementRequested) because services were not ready, the days from the
  discharge day the hospital had planned when the team first asked to the actual discharge
  day, when later; reschedules the team did not ask for are the hospital's and not counted;
- `hand_overs`: closed handed over to the municipality, by the team's step
  (`hand_overs_by_team`) or at the closure on the last check's recommendation;
- `beneficiaries`: distinct persons (intake's pseudonym) in the period;
  `beneficiaries_to_date` since the start, against the district's `beneficiary_target`.
"""


def create_app(runtime: ServiceRuntime, config: MonitoringConfig | None = None) -> FastAPI:
    config = config or load_config()
    app = service_app(
        runtime,
        title="Cerniera monitoring",
        description=(
            "The équipe's follow-up of each protected-discharge case: a check every week from "
            "the discharge, closure after the district's period (30 days by default) or "
            "earlier. Checks and closures are published on the monitoring topic "
            "(WeeklyCheckDone, CaseClosed). Every route needs a bearer token; a member of a "
            "district's équipe sees and changes only its district's cases (another's: 403), "
            "and is recorded as the actor of every change."
        ),
    )
    clock = runtime.clock

    @app.post(
        "/cases/{case_id:path}/checks",
        status_code=status.HTTP_201_CREATED,
        responses=ERRORS,
        summary="Record a weekly check",
    )
    async def record_check(
        case_id: CaseId,
        body: CheckRequest,
        who: Annotated[Principal, allow(Action.CHECK_RECORD)],
    ) -> CheckView:
        report = body.report(checked_by=who.actor)
        async with runtime.db.unit_of_work() as uow:
            check = await cases.record_check(uow, who, case_id, report, clock.now())
        return check_view(check)

    @app.post("/cases/{case_id:path}/close", responses=ERRORS, summary="Close a case early")
    async def close_case(
        case_id: CaseId, body: CloseRequest, who: Annotated[Principal, allow(Action.CASE_CLOSE)]
    ) -> FollowUpView:
        async with runtime.db.unit_of_work() as uow:
            await cases.close_early(uow, who, case_id, body.outcome, body.note, clock.now())
        return await _follow_up_view(who, case_id)

    @app.post(
        "/cases/{case_id:path}/hand-over",
        status_code=status.HTTP_201_CREATED,
        responses=ERRORS,
        summary="Hand the case over to the municipality's social services",
        description="Publishes CaseHandedOver (the municipality, the services that continue) "
        "then CaseClosed (handed_over_to_municipality). The needs and contacts stay here, in "
        "the hand-over summary. Refused before the discharge and on a closed case (409), with "
        "a service that is not the case's or no municipality known (422).",
    )
    async def hand_over(
        case_id: CaseId,
        body: HandOverBody,
        who: Annotated[Principal, allow(Action.CASE_HAND_OVER)],
    ) -> HandOverSummaryView:
        async with runtime.db.unit_of_work() as uow:
            await cases.hand_over(uow, who, case_id, body.request(who.actor), clock.now())
        return await _summary(who, case_id)

    @app.get(
        "/cases/{case_id:path}/hand-over-summary",
        responses=ERRORS,
        summary="The hand-over summary for the municipality (Italian)",
        description="The person, the services running with their providers, the needs, the "
        "contacts and the dates, as labelled sections and as Markdown (`text`). Before the "
        "hand-over, a draft (`handed_over`: false) of what would be handed over today.",
    )
    async def hand_over_summary(
        case_id: CaseId, who: Annotated[Principal, allow(Action.CASE_READ)]
    ) -> HandOverSummaryView:
        return await _summary(who, case_id)

    async def _summary(who: Principal, case_id: str) -> HandOverSummaryView:
        async with runtime.engine.connect() as conn:
            found = await cases.hand_over_summary(conn, who, config, case_id, clock.today())
        return summary_view(found)

    # ``path``: a hospital's own discharge reference may contain "/". Registered after the
    # routes under a case, which this one would otherwise shadow (and answer their 405s).
    @app.get("/cases/{case_id:path}", responses=ERRORS, summary="A case's follow-up")
    async def get_case(
        case_id: CaseId, who: Annotated[Principal, allow(Action.CASE_READ)]
    ) -> FollowUpView:
        return await _follow_up_view(who, case_id)

    async def _follow_up_view(who: Principal, case_id: str) -> FollowUpView:
        async with runtime.engine.connect() as conn:
            followup, checks = await cases.follow_up(conn, who, case_id)
        return follow_up_view(followup, checks, clock.today())

    @app.get(
        "/checks/due",
        summary="Weekly checks due and not recorded, overdue first",
        description="Of the caller's districts (every district for the auditor), or of one of "
        "them (`ambito_id`; another district's: 403).",
    )
    async def due(
        who: Annotated[Principal, allow(Action.CHECKS_READ)],
        ambito_id: Annotated[
            str | None,
            Query(
                description="Only this district's cases (one of the caller's).",
                pattern=IDENTIFIER_PATTERN,
                max_length=128,
            ),
        ] = None,
        on: Annotated[
            Day, Query(description="As of this day (Italy), YYYY-MM-DD; default: today.")
        ] = None,
    ) -> list[DueCheckView]:
        async with runtime.engine.connect() as conn:
            found = await cases.due_checks(conn, who, on or clock.today(), ambito_id)
        return [DueCheckView.model_validate(c, from_attributes=True) for c in found]

    @app.get(
        "/reports/outcomes",
        summary="The district's outcome indicators and progress against its target",
        description=OUTCOMES_DESCRIPTION,
    )
    async def outcomes(
        who: Annotated[Principal, allow(Action.REPORTS_READ)],
        ambito_id: District = None,
        first: Annotated[
            Day, Query(alias="from", description="First discharge day, YYYY-MM-DD.")
        ] = None,
        last: Annotated[
            Day, Query(alias="to", description="Last discharge day, YYYY-MM-DD.")
        ] = None,
    ) -> OutcomesReport:
        last = last or clock.today()
        first = first or date(last.year, 1, 1)
        if first > last:
            raise Invalid("report.period_invalid", "Il periodo finisce prima di cominciare.")
        async with runtime.engine.connect() as conn:
            found = await cases.outcomes(conn, who, config, first, last, ambito_id)
        return OutcomesReport(
            from_=first,
            to=last,
            labels=INDICATOR_LABELS,
            districts=[district_outcomes_view(d) for d in found],
        )

    @app.get(
        "/reports/beneficiaries",
        summary="The cases followed in a quarter, for the funder's export",
        description="One row per case followed on some day of the quarter (discharge day to "
        "closure day): the person's pseudonym, the district, start, end and outcome. Billing "
        "joins its spending on `case_id`.",
    )
    async def beneficiaries(
        who: Annotated[Principal, allow(Action.REPORTS_READ)],
        ambito_id: District = None,
        quarter: Annotated[
            str | None,
            Query(
                description="YYYY-Qn; default: the current quarter.",
                pattern=r"^[0-9]{4}-Q[1-4]$",
                examples=["2026-Q4"],
            ),
        ] = None,
    ) -> BeneficiariesReport:
        today = clock.today()
        quarter = quarter or f"{today.year}-Q{(today.month - 1) // 3 + 1}"
        first, last = quarter_days(quarter)
        async with runtime.engine.connect() as conn:
            rows = await cases.beneficiaries(conn, who, config, first, last, ambito_id)
        return BeneficiariesReport(
            quarter=quarter, from_=first, to=last, rows=[beneficiary_row_view(r) for r in rows]
        )

    return app
