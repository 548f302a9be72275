"""The FHIR door, thin: read with ``fhir``, apply with ``cases.receive``, answer 202 with the
events produced, or an OperationOutcome (``application/fhir+json``) saying what is wrong, as
FHIR clients expect. ``/health``, ``/metrics`` and every other error come from the shared
toolkit, in its error body: a body that is not FHIR JSON (415) or too big (413, counted while
it streams in, never read whole).

Who may post: a hospital's system, with its access token (client credentials, role
``hospital``), for its own hospital only: a discharge of another hospital is a 403
(``access.hospital``), refused before anything is stored. The token is checked before the
body is read.

Back the other way, ``GET /fhir/Task``: the same system fetches the Tasks the district sent
its hospital (a discharge to postpone), never another hospital's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, Final

import structlog
from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from cerniera.gateway import cases, fhir
from cerniera.gateway.domain import DischargeNotice
from cerniera.shared.access import Action, Principal
from cerniera.shared.access.web import allow
from cerniera.shared.http import EXAMPLE_CASE, ApiError, ErrorBody, service_app
from cerniera.shared.refusals import Forbidden
from cerniera.shared.runtime import ServiceRuntime

log = structlog.get_logger(__name__)

Reader = Callable[[object, Mapping[str, str]], DischargeNotice]
HospitalCheck = Callable[[str], None]
"""Raises when the caller may not speak for the hospital it is given."""
MEDIA_TYPES: Final = (fhir.FHIR_JSON, "application/json")
MAX_BODY_BYTES: Final = 1 << 20
MAX_TASKS: Final = 500
Hospital = Annotated[Principal, allow(Action.DISCHARGE_SUBMIT)]
"""A hospital's system, authenticated: speaks for its own hospital only."""
HospitalReader = Annotated[Principal, allow(Action.TASKS_READ)]
"""A hospital's system, authenticated: reads its own hospital's Tasks only."""


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


def _fhir_json(description: str) -> dict[str, Any]:
    return {"description": description, "content": {fhir.FHIR_JSON: {"schema": {"type": "object"}}}}


def _outcome(description: str) -> dict[str, Any]:
    return _fhir_json(f"{description}: an OperationOutcome.")


_REFUSALS: dict[int | str, dict[str, Any]] = {
    400: _outcome("Not JSON, not an Encounter or Bundle, or not valid FHIR"),
    413: {"model": ErrorBody, "description": "The body is bigger than the gateway takes."},
    415: {"model": ErrorBody, "description": "Not application/fhir+json or application/json."},
    422: _outcome("Valid FHIR lacking what a discharge needs; the issue names the element"),
    500: _outcome("Not stored; nothing was applied, send it again"),
}


def create_app(
    runtime: ServiceRuntime,
    hospitals: Mapping[str, str],
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    app = service_app(
        runtime,
        title="Cerniera hospital gateway (FHIR R4)",
        description="Discharges from hospital systems as FHIR R4 Encounters or Da Vinci "
        "notification Bundles; see services/gateway/README.md.",
    )
    app.add_exception_handler(fhir.FhirError, _operation_outcome)

    async def accept(request: Request, read: Reader, may_speak_for: HospitalCheck) -> Accepted:
        notice = read(fhir.load(await _body(request, max_body_bytes)), hospitals)
        may_speak_for(notice.hospital_id)
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
    async def post_encounter(request: Request, who: Hospital) -> Accepted:
        """An Encounter (Patient contained) or a Bundle with one Encounter and its Patient."""
        return await accept(request, fhir.read_encounter, who.require_hospital)

    @app.post("/fhir", status_code=202, responses=_REFUSALS, openapi_extra=_FHIR_BODY)
    async def post_message(request: Request, who: Hospital) -> Accepted:
        """A Da Vinci notification Bundle (``notification-discharge``)."""
        return await accept(request, fhir.read_notification, who.require_hospital)

    @app.get(
        "/fhir/Task",
        responses={200: _fhir_json("A searchset Bundle of the hospital's Tasks, newest first")},
        response_class=JSONResponse,
    )
    async def get_tasks(
        who: HospitalReader,
        count: Annotated[int, Query(alias="_count", ge=1, le=MAX_TASKS)] = 100,
    ) -> Response:
        """The Tasks for the caller's hospital: each asks its ward to postpone a discharge
        (``code`` ``postpone-discharge``, ``restriction.period.start`` the day, the reason in
        Italian)."""
        if who.hospital_id is None:
            raise Forbidden("access.hospital", "Token senza ospedale: accesso non consentito.")
        async with runtime.engine.connect() as conn:
            tasks = await cases.tasks_for(conn, who.hospital_id, count)
        return JSONResponse(fhir.searchset(tasks), media_type=fhir.FHIR_JSON)

    return app


async def _body(request: Request, limit: int) -> bytes:
    """The request body if it is FHIR JSON of at most ``limit`` bytes: the declared length is
    checked first, and the bytes are counted as they arrive (a chunked body declares none), so
    a huge body is refused after ``limit`` bytes, never held whole."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type not in MEDIA_TYPES:
        raise ApiError(
            415,
            "request.media_type",
            "Il corpo deve essere application/fhir+json o application/json.",
        )
    too_large = ApiError(413, "request.too_large", f"Il corpo supera il limite di {limit} byte.")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


async def _operation_outcome(request: Request, problem: Exception) -> Response:
    assert isinstance(problem, fhir.FhirError)
    if problem.status < 500:
        # The expression, not the diagnostics: those may quote a patient's data.
        log.info("fhir.refused", status=problem.status, at=problem.expression)
    return JSONResponse(problem.outcome(), status_code=problem.status, media_type=fhir.FHIR_JSON)
