"""The FHIR door, thin: read with ``fhir``, apply with ``cases.receive``, answer 202 with the
events produced, or an OperationOutcome (``application/fhir+json``) saying what is wrong, as
FHIR clients expect. ``/health``, ``/metrics`` and every other error come from the shared
toolkit."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from cerniera.gateway import cases, fhir
from cerniera.gateway.domain import DischargeNotice
from cerniera.shared.http import EXAMPLE_CASE, service_app
from cerniera.shared.runtime import ServiceRuntime

log = structlog.get_logger(__name__)

Reader = Callable[[object, Mapping[str, str]], DischargeNotice]


class EventRef(BaseModel):
    id: str = Field(description="The event's CloudEvents id (ce_id).")
    type: str = Field(description="The event type (ce_type).", examples=["DischargeAnnounced"])


class Accepted(BaseModel):
    """What the discharge led to; the events are committed and will be published."""

    case_id: str = Field(examples=[EXAMPLE_CASE])
    outcome: str = Field(description="What happened, in one line.")
    events: list[EventRef] = Field(description="The events produced: none when nothing new.")


_FHIR_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {fhir.FHIR_JSON: {"schema": {"type": "object"}}},
    }
}


def _outcome(description: str) -> dict[str, Any]:
    return {
        "description": f"{description}: an OperationOutcome.",
        "content": {fhir.FHIR_JSON: {"schema": {"type": "object"}}},
    }


_REFUSALS: dict[int | str, dict[str, Any]] = {
    400: _outcome("Not JSON, not an Encounter or Bundle, or not valid FHIR"),
    422: _outcome("Valid FHIR lacking what a discharge needs; the issue names the element"),
    500: _outcome("Not stored; nothing was applied, send it again"),
}


def create_app(runtime: ServiceRuntime, hospitals: Mapping[str, str]) -> FastAPI:
    app = service_app(
        runtime,
        title="Cerniera hospital gateway (FHIR R4)",
        description="Discharges from hospital systems as FHIR R4 Encounters or Da Vinci "
        "notification Bundles; see services/gateway/README.md.",
    )
    app.add_exception_handler(fhir.FhirError, _operation_outcome)

    async def accept(request: Request, read: Reader) -> Accepted:
        notice = read(fhir.load(await request.body()), hospitals)
        try:
            async with cases.speaking_for(runtime.db, notice.hospital_id) as uow:
                summary = await cases.receive(uow, notice)
        except Exception:
            log.exception("fhir.failed", case_id=notice.announcement.case_id)
            raise fhir.FhirError(
                500, "exception", "internal error: nothing was applied; retry"
            ) from None
        return Accepted(
            case_id=notice.announcement.case_id,
            outcome=summary,
            events=[EventRef(id=e.id, type=e.type) for e in uow.emitted],
        )

    @app.post("/fhir/Encounter", status_code=202, responses=_REFUSALS, openapi_extra=_FHIR_BODY)
    async def post_encounter(request: Request) -> Accepted:
        """An Encounter (Patient contained) or a Bundle with one Encounter and its Patient."""
        return await accept(request, fhir.read_encounter)

    @app.post("/fhir", status_code=202, responses=_REFUSALS, openapi_extra=_FHIR_BODY)
    async def post_message(request: Request) -> Accepted:
        """A Da Vinci notification Bundle (``notification-discharge``)."""
        return await accept(request, fhir.read_notification)

    return app


async def _operation_outcome(request: Request, problem: Exception) -> Response:
    assert isinstance(problem, fhir.FhirError)
    if problem.status < 500:
        # The expression, not the diagnostics: those may quote a patient's data.
        log.info("fhir.refused", status=problem.status, at=problem.expression)
    return JSONResponse(problem.outcome(), status_code=problem.status, media_type=fhir.FHIR_JSON)
