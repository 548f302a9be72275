"""The readiness view: is everything a beneficiary needs going to be running on the discharge
day and, if not, which provider is late and why. Thin: ``domain.readiness`` decides."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import FastAPI, HTTPException, Query
from pydantic import BaseModel
from sqlalchemy import select, text

from cerniera.activation import domain
from cerniera.activation.domain import CaseStatus
from cerniera.activation.store import Case, attempts_by_case, attempts_of
from cerniera.activation.tables import cases
from cerniera.shared.contract import ServiceType
from cerniera.shared.runtime import ServiceRuntime


class ServiceOut(BaseModel):
    service_type: ServiceType
    provider_id: str | None
    request_id: str | None
    status: str
    start_by: date | None
    active_from: date | None
    late: str | None
    """Why this service is not ready for the discharge day; null when it is."""


class ReadinessOut(BaseModel):
    case_id: str
    status: CaseStatus
    discharge_on: date | None
    ready: bool
    """Every service of the package confirmed to start on or before the discharge day."""
    waiting_for: str | None
    services: list[ServiceOut]

    @classmethod
    def of(cls, r: domain.Readiness) -> ReadinessOut:
        return cls(
            case_id=r.case_id,
            status=r.status,
            discharge_on=r.discharge_on,
            ready=r.ready,
            waiting_for=r.waiting_for,
            services=[ServiceOut(**vars(s)) for s in r.services],
        )


class LateService(BaseModel):
    service_type: ServiceType
    provider_id: str | None
    late: str


class CaseSummary(BaseModel):
    case_id: str
    status: CaseStatus
    discharge_on: date | None
    ready: bool
    late: list[LateService]


class CaseList(BaseModel):
    count: int
    cases: list[CaseSummary]


def make_app(runtime: ServiceRuntime) -> FastAPI:
    engine = runtime.engine
    app = FastAPI(
        title="Cerniera activation",
        description="Readiness of each case's services for the discharge day.",
    )

    @app.get("/health")
    async def health() -> dict[str, Any]:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return {"status": "ok", "service": runtime.spec.name}

    # ``path``: a hospital's own discharge reference may contain "/".
    @app.get("/cases/{case_id:path}/readiness", response_model=ReadinessOut)
    async def case_readiness(case_id: str) -> ReadinessOut:
        async with engine.connect() as conn:
            row = (
                await conn.execute(select(cases).where(cases.c.case_id == case_id))
            ).one_or_none()
            if row is None:
                raise HTTPException(
                    status_code=404,
                    detail=(
                        f"activation knows no case {case_id!r}: neither its discharge "
                        "announcement nor its eligibility decision has arrived here"
                    ),
                )
            attempts = await attempts_of(conn, case_id)
        return ReadinessOut.of(domain.readiness(Case.of(row).view(), attempts))

    @app.get("/cases", response_model=CaseList)
    async def list_cases(
        ready: bool | None = Query(
            default=None, description="false: only cases not ready, with the late providers"
        ),
        limit: int = Query(default=200, ge=1, le=5000),
    ) -> CaseList:
        """Cases with a package that have not ended, soonest discharge first."""
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(cases)
                    .where(cases.c.status.in_([CaseStatus.AWAITING_CONTACT, CaseStatus.PLANNED]))
                    .order_by(cases.c.discharge_on, cases.c.case_id)
                )
            ).all()
            found = [Case.of(r) for r in rows]
            attempts = await attempts_by_case(conn, [c.case_id for c in found])
        summaries = []
        for case in found:
            r = domain.readiness(case.view(), attempts[case.case_id])
            if ready is not None and r.ready != ready:
                continue
            late = [
                LateService(service_type=s.service_type, provider_id=s.provider_id, late=s.late)
                for s in r.services
                if s.late is not None
            ]
            summaries.append(
                CaseSummary(
                    case_id=r.case_id,
                    status=r.status,
                    discharge_on=r.discharge_on,
                    ready=r.ready,
                    late=late,
                )
            )
            if len(summaries) >= limit:
                break
        return CaseList(count=len(summaries), cases=summaries)

    return app
