"""The équipe's HTTP API: record weekly checks, list the checks due, close a case early, read a
follow-up. Routes only: the use cases are in ``cases``, the models in ``schemas``.

Every route declares its action (``allow``); the bearer's token says who acts (the actor of
every change) and for which districts: ``cases`` refuses another district's follow-up (403)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from fastapi import FastAPI, Query, status
from pydantic import BeforeValidator

from cerniera.monitoring import cases
from cerniera.monitoring.schemas import (
    CheckRequest,
    CheckView,
    CloseRequest,
    DueCheckView,
    FollowUpView,
    check_view,
    follow_up_view,
)
from cerniera.shared.access import Action, Principal
from cerniera.shared.access.web import allow
from cerniera.shared.contract.types import IDENTIFIER_PATTERN
from cerniera.shared.http import CaseId, error_responses, service_app
from cerniera.shared.runtime import ServiceRuntime

_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_day(value: object) -> object:
    """A day is written YYYY-MM-DD: not a number of seconds since 1970, as pydantic would
    otherwise take "0" to mean."""
    if isinstance(value, str) and not _ISO_DAY.fullmatch(value):
        raise ValueError("a day is written YYYY-MM-DD")
    return value


ERRORS = error_responses(
    e404="No follow-up for this case.", e409="Refused in the case's present state."
)


def create_app(runtime: ServiceRuntime) -> FastAPI:
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
            date | None,
            Query(description="As of this day (Italy), YYYY-MM-DD; default: today."),
            BeforeValidator(_iso_day),
        ] = None,
    ) -> list[DueCheckView]:
        async with runtime.engine.connect() as conn:
            found = await cases.due_checks(conn, who, on or clock.today(), ambito_id)
        return [DueCheckView.model_validate(c, from_attributes=True) for c in found]

    return app
