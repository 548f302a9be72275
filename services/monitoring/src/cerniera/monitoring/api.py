"""The équipe's HTTP API: record weekly checks, list the checks due, close a case early, read a
follow-up. Thin: the rules are in ``domain``; what it publishes goes through the outbox."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query, Response, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import insert, select, text

from cerniera.monitoring import domain, store
from cerniera.monitoring.tables import checks, followups
from cerniera.shared.contract import (
    CaseOutcome,
    CheckOutcome,
    Identifier,
    Recommendation,
    WeeklyCheckDone,
)
from cerniera.shared.runtime import ServiceRuntime

Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]

_CASE = "asst-vimercate:V2024-000123"
_OPERATOR = "op-lbianchi"


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CheckRequest(_Request):
    """A weekly check done by the équipe."""

    outcome: CheckOutcome = Field(description="The équipe's finding.", examples=["stable"])
    notes: Note | None = Field(
        default=None,
        description="Free notes; published with the check.",
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
    checked_by: Identifier = Field(
        description="Id of the operator who did the check.", examples=[_OPERATOR]
    )
    week: int | None = Field(
        default=None,
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


class CloseRequest(_Request):
    """An early end of the case, decided by the équipe."""

    outcome: domain.EarlyOutcome = Field(description="Why the case ends.", examples=["deceased"])
    closed_by: Identifier = Field(description="Id of the closing operator.", examples=[_OPERATOR])
    note: Note | None = Field(
        default=None, description="Free note, kept here (not published).", examples=["Decesso."]
    )


class CheckView(BaseModel):
    """A recorded weekly check."""

    case_id: str = Field(description="The case id.", examples=[_CASE])
    week: int = Field(description="Week since discharge: 1, 2, …", examples=[1])
    due_on: date = Field(description="The day the week's check fell due.")
    checked_at: datetime = Field(description="When the check was done.")
    outcome: CheckOutcome = Field(description="The équipe's finding.")
    notes: str | None = Field(description="Free notes.")
    recommendation: Recommendation | None = Field(description="What to do next.")
    checked_by: str = Field(description="Id of the operator who did the check.")
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

    case_id: str = Field(description="The case id.", examples=[_CASE])
    ambito_id: str = Field(description="The district that follows the case.")
    status: domain.FollowUpStatus = Field(
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
    closed_by: str | None = Field(description="The operator who closed it early, if any.")
    close_note: str | None = Field(description="The operator's note at an early closure.")
    correlation_id: str = Field(description="Carried by every event about the case.")


class DueCheckView(BaseModel):
    """A weekly check that has fallen due and is not recorded."""

    case_id: str = Field(description="The case id.", examples=[_CASE])
    ambito_id: str = Field(description="The district that follows the case.")
    week: int = Field(description="Week since discharge.")
    due_on: date = Field(description="The day it fell due.")
    overdue: bool = Field(description="Past the district's grace period (overdue_after_days).")
    days_overdue: int = Field(description="Days past the grace period; 0 when not overdue.")


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine code.", examples=["check.week_recorded"])
    message: str = Field(description="For people.")


class ErrorBody(BaseModel):
    detail: ErrorDetail


_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No follow-up for this case."},
    409: {"model": ErrorBody, "description": "Refused in the case's present state."},
}


def _refused(error: domain.Refused) -> HTTPException:
    code = (
        status.HTTP_409_CONFLICT
        if isinstance(error, domain.Conflict)
        else status.HTTP_422_UNPROCESSABLE_CONTENT
    )
    return HTTPException(code, detail={"code": error.code, "message": error.message})


def _not_found(case_id: str) -> HTTPException:
    return HTTPException(
        status.HTTP_404_NOT_FOUND,
        detail={"code": "case.unknown", "message": f"no follow-up for case {case_id}"},
    )


def _check_view(row: Any) -> CheckView:
    return CheckView.model_validate(row, from_attributes=True)


def create_app(runtime: ServiceRuntime) -> FastAPI:
    app = FastAPI(
        title="Cerniera monitoring",
        version="1.0.0",
        description=(
            "The équipe's follow-up of each protected-discharge case: a check every week from "
            "the discharge, closure after the district's period (30 days by default) or "
            "earlier. Checks and closures are published on the monitoring topic "
            "(WeeklyCheckDone, CaseClosed)."
        ),
    )
    clock = runtime.clock

    @app.post(
        "/cases/{case_id}/checks",
        status_code=status.HTTP_201_CREATED,
        responses=_ERRORS,
        summary="Record a weekly check",
    )
    async def record_check(case_id: str, body: CheckRequest) -> CheckView:
        now = clock.now()
        checked_at = body.checked_at or now
        async with runtime.db.unit_of_work() as uow:
            row = await store.load(uow.conn, case_id, lock=True)
            if row is None:
                raise _not_found(case_id)
            schedule = store.schedule_of(row)
            done = await store.checks_of(uow.conn, [case_id])
            try:
                week = domain.week_for_check(
                    store.status_of(row),
                    schedule,
                    row.discharge_at,
                    {c.week for c in done[case_id]},
                    checked_at,
                    now,
                    body.week,
                )
            except domain.Refused as refused:
                raise _refused(refused) from None
            stored = (
                await uow.conn.execute(
                    insert(checks)
                    .values(
                        case_id=case_id,
                        week=week,
                        due_on=schedule.due_on(week),
                        checked_at=checked_at,
                        outcome=body.outcome,
                        notes=body.notes,
                        recommendation=body.recommendation,
                        checked_by=body.checked_by,
                        recorded_at=now,
                    )
                    .returning(*checks.c)
                )
            ).one()
            store.emit(
                uow,
                row,
                WeeklyCheckDone(
                    case_id=case_id,
                    week=week,
                    checked_at=checked_at,
                    outcome=body.outcome,
                    notes=body.notes,
                    recommendation=body.recommendation,
                ),
            )
        return _check_view(stored)

    @app.post("/cases/{case_id}/close", responses=_ERRORS, summary="Close a case early")
    async def close_case(case_id: str, body: CloseRequest) -> FollowUpView:
        async with runtime.db.unit_of_work() as uow:
            row = await store.load(uow.conn, case_id, lock=True)
            if row is None:
                raise _not_found(case_id)
            try:
                domain.ensure_open(store.status_of(row))
            except domain.Refused as refused:
                raise _refused(refused) from None
            await store.close(
                uow,
                row,
                CaseOutcome(body.outcome.value),
                clock.now(),
                closed_by=body.closed_by,
                note=body.note,
            )
        return await _follow_up(case_id)

    @app.get("/cases/{case_id}", responses=_ERRORS, summary="A case's follow-up")
    async def get_case(case_id: str) -> FollowUpView:
        return await _follow_up(case_id)

    @app.get("/checks/due", summary="Weekly checks due and not recorded, overdue first")
    async def due(
        ambito_id: Annotated[str | None, Query(description="Only this district's cases.")] = None,
        on: Annotated[
            date | None, Query(description="As of this day (Italy); default: today.")
        ] = None,
    ) -> list[DueCheckView]:
        day = on or clock.today()
        query = select(followups).where(
            followups.c.status == domain.FollowUpStatus.OPEN, followups.c.discharge_on < day
        )
        if ambito_id is not None:
            query = query.where(followups.c.ambito_id == ambito_id)
        async with runtime.engine.connect() as conn:
            rows = list(await conn.execute(query))
            done = await store.checks_of(conn, [row.case_id for row in rows])
        found = [
            check
            for row in rows
            for check in domain.due_checks(
                row.case_id,
                row.ambito_id,
                store.schedule_of(row),
                {c.week for c in done[row.case_id]},
                day,
            )
        ]
        return [
            DueCheckView.model_validate(c, from_attributes=True) for c in domain.by_urgency(found)
        ]

    @app.get("/health", summary="Liveness and database reachability")
    async def health(response: Response) -> dict[str, str]:
        try:
            async with runtime.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
            return {"status": "database unavailable"}
        return {"status": "ok"}

    async def _follow_up(case_id: str) -> FollowUpView:
        async with runtime.engine.connect() as conn:
            row = await store.load(conn, case_id)
            if row is None:
                raise _not_found(case_id)
            done = (await store.checks_of(conn, [case_id]))[case_id]
        following = store.status_of(row) is domain.FollowUpStatus.OPEN
        weeks = domain.calendar(
            store.schedule_of(row), {c.week for c in done}, clock.today() if following else None
        )
        return FollowUpView(
            case_id=row.case_id,
            ambito_id=row.ambito_id,
            status=store.status_of(row),
            discharge_at=row.discharge_at,
            discharge_on=row.discharge_on,
            closes_on=row.closes_on,
            weeks=[WeekView.model_validate(w, from_attributes=True) for w in weeks],
            checks=[_check_view(c) for c in done],
            outcome=CaseOutcome(row.outcome) if row.outcome else None,
            closed_at=row.closed_at,
            closed_by=row.closed_by,
            close_note=row.close_note,
            correlation_id=row.correlation_id,
        )

    return app
