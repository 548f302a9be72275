"""The FHIR door: thin. Parse with ``fhir``, apply with ``handlers.receive``, answer 202 with the
events produced, or an OperationOutcome saying what is wrong."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from cerniera.gateway import fhir, handlers
from cerniera.gateway.domain import DischargeNotice
from cerniera.shared.runtime import ServiceRuntime

log = structlog.get_logger(__name__)

Reader = Callable[[object, Mapping[str, str]], DischargeNotice]


def make_app(runtime: ServiceRuntime, hospitals: Mapping[str, str]) -> FastAPI:
    app = FastAPI(
        title="Cerniera hospital gateway (FHIR R4)",
        description="Discharges from hospital systems as FHIR R4 Encounters or Da Vinci "
        "notification Bundles; see services/gateway/README.md.",
    )

    async def accept(request: Request, read: Reader) -> JSONResponse:
        try:
            doc = json.loads(await request.body())
        except ValueError as exc:
            return _problem(fhir.FhirError(400, "structure", f"the body is not JSON: {exc}"))
        try:
            notice = read(doc, hospitals)
        except fhir.FhirError as problem:
            # The expression, not the diagnostics: those may quote a patient's data.
            log.info("fhir.refused", status=problem.status, at=problem.expression)
            return _problem(problem)
        try:
            receipt = await handlers.receive(runtime, notice)
        except Exception:
            log.exception("fhir.failed", case_id=notice.announcement.case_id)
            return _problem(
                fhir.FhirError(500, "exception", "internal error: nothing was applied; retry")
            )
        body: dict[str, Any] = {
            "case_id": notice.announcement.case_id,
            "outcome": receipt.summary,
            "events": [{"id": e.id, "type": e.type} for e in receipt.events],
        }
        return JSONResponse(body, status_code=202)

    @app.post("/fhir/Encounter", status_code=202)
    async def post_encounter(request: Request) -> JSONResponse:
        """An Encounter (Patient contained) or a Bundle with one Encounter and its Patient."""
        return await accept(request, fhir.read_encounter)

    @app.post("/fhir", status_code=202)
    async def post_message(request: Request) -> JSONResponse:
        """A Da Vinci notification Bundle (``notification-discharge``)."""
        return await accept(request, fhir.read_notification)

    return app


def _problem(problem: fhir.FhirError) -> JSONResponse:
    return JSONResponse(problem.outcome(), status_code=problem.status, media_type=fhir.FHIR_JSON)
