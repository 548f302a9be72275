"""The readiness view over HTTP: is everything a beneficiary needs going to be running on the
discharge day and, if not, which provider is late and why. Thin: ``cases`` reads, and
``readiness`` decides."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import FastAPI, Query
from pydantic import BaseModel

from cerniera.activation import cases
from cerniera.activation.domain import CaseStatus
from cerniera.activation.readiness import Readiness, ServiceReadiness
from cerniera.shared.access import Action, Principal
from cerniera.shared.access.web import allow
from cerniera.shared.contract import ServiceType
from cerniera.shared.http import CaseId, error_responses, service_app
from cerniera.shared.runtime import ServiceRuntime


class ReadinessOut(BaseModel):
    case_id: str
    ambito_id: str | None
    status: CaseStatus
    discharge_on: date | None
    ready: bool
    """Every service of the package confirmed to start on or before the discharge day."""
    waiting_for: str | None
    services: list[ServiceReadiness]
    """Each service of the package: its current request, and why it is late (null when not)."""

    @classmethod
    def of(cls, r: Readiness) -> ReadinessOut:
        return cls.model_validate(r, from_attributes=True)


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

    @classmethod
    def of(cls, r: Readiness) -> CaseSummary:
        return cls(
            case_id=r.case_id,
            status=r.status,
            discharge_on=r.discharge_on,
            ready=r.ready,
            late=[
                LateService(service_type=s.service_type, provider_id=s.provider_id, late=s.late)
                for s in r.services
                if s.late is not None
            ],
        )


class CaseList(BaseModel):
    count: int
    cases: list[CaseSummary]


def create_app(runtime: ServiceRuntime) -> FastAPI:
    engine = runtime.engine
    app = service_app(
        runtime,
        title="Cerniera activation",
        description="Readiness of each case's services for the discharge day.",
    )

    # ``path``: a hospital's own discharge reference may contain "/".
    @app.get(
        "/cases/{case_id:path}/readiness",
        response_model=ReadinessOut,
        responses=error_responses(e404="Activation knows no such case."),
    )
    async def case_readiness(
        case_id: CaseId, who: Annotated[Principal, allow(Action.READINESS_READ)]
    ) -> ReadinessOut:
        async with engine.connect() as conn:
            found = await cases.case_readiness(conn, case_id)
        who.require_district(found.ambito_id)
        return ReadinessOut.of(found)

    @app.get("/cases", response_model=CaseList)
    async def list_cases(
        who: Annotated[Principal, allow(Action.READINESS_READ)],
        ready: bool | None = Query(
            default=None, description="false: only cases not ready, with the late providers"
        ),
        limit: int = Query(default=200, ge=1, le=5000),
    ) -> CaseList:
        """Cases with a package that have not ended, soonest discharge first: those of the
        caller's districts (every district for the auditor)."""
        visible = who.districts()
        async with engine.connect() as conn:
            found = await cases.open_cases_readiness(conn)
        chosen = [
            r
            for r in found
            if (ready is None or r.ready == ready) and (visible is None or r.ambito_id in visible)
        ][:limit]
        return CaseList(count=len(chosen), cases=[CaseSummary.of(r) for r in chosen])

    return app
