"""The readiness view over HTTP: is everything a beneficiary needs going to be running on the
discharge day and, if not, which provider is late and why; each escalation, open with the days
left before discharge or how the team resolved it; and the team's resolution. Thin: ``cases``
reads and changes, ``domain``/``escalations`` and ``readiness`` decide."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import FastAPI, Query
from pydantic import BaseModel

from cerniera.activation import cases
from cerniera.activation.cases import Activation
from cerniera.activation.config import ActivationConfig
from cerniera.activation.domain import CaseStatus
from cerniera.activation.escalations import Resolve
from cerniera.activation.readiness import EscalationView, Readiness, ServiceReadiness
from cerniera.shared.access import Action, Principal
from cerniera.shared.access.web import allow
from cerniera.shared.contract import NetworkResource, ProviderId, Resolution, ServiceType
from cerniera.shared.contract.events import ReasonCode
from cerniera.shared.http import CaseId, RequestBody, error_responses, service_app
from cerniera.shared.runtime import ServiceRuntime


class ReadinessOut(BaseModel):
    case_id: str
    ambito_id: str | None
    status: CaseStatus
    discharge_on: date | None
    ready: bool
    """Every service of the package confirmed to start on or before the discharge day."""
    waiting_for: str | None
    plan_version: int
    services: list[ServiceReadiness]
    """Each service of the package: its current request, and why it is late (null when not)."""
    escalations: list[EscalationView]
    """Each escalation: open with the days left before discharge, or how it ended."""

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
    escalations: list[EscalationView]

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
            escalations=r.escalations,
        )


class CaseList(BaseModel):
    count: int
    cases: list[CaseSummary]


class ResolveRequest(RequestBody):
    """How the team resolves the service's open escalation; each resolution takes its own
    detail: ``provider_id`` (manual_provider), ``covered_by`` (family, territorial_network),
    ``reason_code`` (dropped), none (postponement_requested)."""

    resolution: Resolution
    provider_id: ProviderId | None = None
    covered_by: NetworkResource | None = None
    reason_code: ReasonCode | None = None


def create_app(runtime: ServiceRuntime, config: ActivationConfig) -> FastAPI:
    engine = runtime.engine
    clock = runtime.clock
    activation = Activation(config, clock)
    app = service_app(
        runtime,
        title="Cerniera activation",
        description=(
            "Readiness of each case's services for the discharge day, the escalations to the "
            "district's team with the days left before discharge, and the team's resolution "
            "of each: a provider by hand, covered by the family or the territorial network, "
            "dropped, or the ward asked to postpone the discharge."
        ),
    )

    @app.post(
        "/cases/{case_id:path}/escalations/{service_type}/resolve",
        response_model=ReadinessOut,
        responses=error_responses(
            e404="Activation knows no such case.",
            e409="No open escalation for the service, no plan under way, a provider not of "
            "the district for the service, or no day to ask the ward for.",
        ),
    )
    async def resolve_escalation(
        case_id: CaseId,
        service_type: ServiceType,
        body: ResolveRequest,
        who: Annotated[Principal, allow(Action.ESCALATION_RESOLVE)],
    ) -> ReadinessOut:
        """Resolve the open escalation of a service of the case (the team of its district; the
        actor is the token's). Publishes `EscalationResolved`, and with it: a request to the
        provider assigned by hand (its own lead time), the deactivation of what the service
        had asked, or `DischargePostponementRequested` for the ward (until the day every
        waiting service can start). Answers the case's readiness after it."""
        ask = Resolve(
            service_type, body.resolution, body.provider_id, body.covered_by, body.reason_code
        )
        async with runtime.db.unit_of_work() as uow:
            await activation.resolve(uow, case_id, ask, who)
        async with engine.connect() as conn:
            found = await cases.case_readiness(conn, case_id, clock.today())
        return ReadinessOut.of(found)

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
            found = await cases.case_readiness(conn, case_id, clock.today())
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
            found = await cases.open_cases_readiness(conn, clock.today())
        chosen = [
            r
            for r in found
            if (ready is None or r.ready == ready) and (visible is None or r.ambito_id in visible)
        ][:limit]
        return CaseList(count=len(chosen), cases=[CaseSummary.of(r) for r in chosen])

    return app
