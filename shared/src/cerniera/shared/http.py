"""The HTTP toolkit every service's API is built with, so that all of them answer alike.

- ``service_app``: the one app factory. It adds ``/health`` (database and broker, 200 or 503,
  never an exception's text) and ``/metrics`` (Prometheus), and makes every refusal, ours or
  the framework's, the same body: ``{"detail": {"code": ..., "message": ...}}``; a request
  that does not validate is a 422 ``request.invalid``, and the OpenAPI says so.
- Routes and the service layer refuse by raising ``cerniera.shared.refusals`` (``NotFound``
  404, ``Invalid`` 422, any other ``Refused`` 409); ``ApiError`` is for a status of its own.
- ``error_responses``: the refusals a route declares in its OpenAPI.
- ``view``: a response model filled from an entity (or a row) whose fields carry its names.
- ``RequestBody``, ``Note``, ``ShortText``, ``CaseId``: the shared bases of request schemas.
  Text refuses control characters (the contract's rule, ``LINE_PATTERN`` / ``TEXT_PATTERN``),
  and a case id in a path refuses whatever no case id can be, before any SQL.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import date, datetime
from typing import Annotated, Any, Literal, Protocol, TypeVar

import structlog
from fastapi import FastAPI, HTTPException, Query
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from cerniera.shared.access.audit import AuditEntry
from cerniera.shared.access.roles import Action, Principal
from cerniera.shared.access.web import Access, Unauthenticated, allow, declare_security, denied
from cerniera.shared.contract.types import (
    CASE_ID_PATTERN,
    IDENTIFIER_PATTERN,
    LINE_PATTERN,
    TEXT_PATTERN,
)
from cerniera.shared.outages import is_transient
from cerniera.shared.refusals import Forbidden, Invalid, NotFound, Refused

log = structlog.get_logger(__name__)

EXAMPLE_CASE = "asst-vimercate:V2024-000123"

Note = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=4000, pattern=TEXT_PATTERN),
]
"""Free text a person writes (notes, reasons): line breaks and tabs, no other control
character."""
ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=256, pattern=LINE_PATTERN),
]
"""A name, a role, a phone number: one line, no control character."""

CaseId = Annotated[
    str,
    PathParam(
        description="The case id, '<hospital_id>:<discharge_ref>', as it is (a '/' in the "
        "hospital's reference included).",
        examples=[EXAMPLE_CASE],
        pattern=CASE_ID_PATTERN,
        max_length=129,
    ),
]
"""A case id in a route's path (declare the route with ``{case_id:path}``)."""

_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_day(value: object) -> object:
    """A day is written YYYY-MM-DD: not a number of seconds since 1970, as pydantic would
    otherwise take "0" to mean."""
    if isinstance(value, str) and not _ISO_DAY.fullmatch(value):
        raise ValueError("a day is written YYYY-MM-DD")
    return value


Day = Annotated[date | None, BeforeValidator(_iso_day)]
"""An optional day in a query, YYYY-MM-DD only (add its ``Query(...)``)."""


class RequestBody(BaseModel):
    """Base of every request body: unknown fields are refused, not silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


View = TypeVar("View", bound=BaseModel)


def view(model: type[View], of: object, **given: Any) -> View:
    """The ``model`` (a response body) that shows ``of`` (an entity, a row): each field from
    the attribute of its name, except those in ``given`` (worked out, or named otherwise).
    Fields ``of`` has no attribute for are left to the model (its default, or refused)."""
    same = {
        name: getattr(of, name)
        for name in model.model_fields
        if name not in given and hasattr(of, name)
    }
    return model(**same, **given)


class ErrorDetail(BaseModel):
    """Why a request was refused."""

    code: str = Field(description="Stable machine code.", examples=["case.unknown"])
    message: str = Field(description="For people.")


class ErrorBody(BaseModel):
    """A refusal: the one error body of every service."""

    detail: ErrorDetail


class ApiError(HTTPException):
    """A refusal with a stable code: ``raise ApiError(409, "case.cancelled", "...")``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(status, detail={"code": code, "message": message})
        self.code = code
        self.message = message


def error_responses(**declared: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for refusals, e.g. ``error_responses(e404="No such case.")``."""
    return {
        int(key.removeprefix("e")): {"model": ErrorBody, "description": text}
        for key, text in declared.items()
    }


Check = Literal["ok", "unavailable"]


class Health(BaseModel):
    """What ``/health`` answers: each dependency's state, no error text."""

    status: Check
    service: str
    checks: dict[str, Check]


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class Probed(Protocol):
    """What ``/health`` asks of the service's runtime (``ServiceRuntime`` in production)."""

    @property
    def spec(self) -> _Named: ...

    async def database_reachable(self) -> bool: ...

    async def broker_reachable(self) -> bool: ...


class AuditEntryView(BaseModel):
    """One access to personal data: who, in which roles, when, what, which case."""

    seq: int
    at: datetime
    actor: str
    subject: str
    roles: str
    action: str
    method: str
    path: str
    case_id: str | None
    outcome: Literal["allowed", "denied"]


def service_app(
    runtime: Probed, *, title: str, description: str, version: str = "1.0.0"
) -> FastAPI:
    """A service's FastAPI app with the operational routes and the shared error body."""
    app = FastAPI(title=title, description=description, version=version)
    # The runtime's token verifier and audit log; an app without them refuses every guarded
    # route (503 auth.unconfigured), never serves it unguarded.
    access = getattr(runtime, "access", None)
    app.state.access = access if isinstance(access, Access) else Access(None, None)
    app.add_exception_handler(Unauthenticated, _unauthenticated_body)
    app.add_exception_handler(StarletteHTTPException, _error_body)
    app.add_exception_handler(Refused, _refusal_body)
    app.add_exception_handler(RequestValidationError, _invalid_request_body)
    for outage in (DBAPIError, PoolTimeout, OSError):
        app.add_exception_handler(outage, _unavailable_body)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = declare_security(app, declare_error_bodies(generate()))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/health", include_in_schema=False)
    async def health() -> JSONResponse:
        checks = {
            "database": await _check("database", runtime.database_reachable),
            "broker": await _check("broker", runtime.broker_reachable),
        }
        ok = all(state == "ok" for state in checks.values())
        body = Health(
            status="ok" if ok else "unavailable", service=runtime.spec.name, checks=checks
        )
        return JSONResponse(body.model_dump(), status_code=200 if ok else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.get(
        "/audit",
        tags=["audit"],
        summary="The audit log: every access to personal data on this service",
        description="Oldest first; page with `after` (the last `seq` seen). Reading it is "
        "itself logged.",
    )
    async def audit(
        who: Annotated[Principal, allow(Action.AUDIT_READ)],
        case_id: Annotated[
            str | None, Query(pattern=CASE_ID_PATTERN, max_length=129, description="One case.")
        ] = None,
        actor: Annotated[
            str | None,
            Query(pattern=IDENTIFIER_PATTERN, max_length=256, description="One actor."),
        ] = None,
        after: Annotated[int, Query(ge=0, description="Entries after this seq.")] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[AuditEntryView]:
        log_ = app.state.access.audit
        if log_ is None:
            return []
        found: list[AuditEntry] = list(
            await log_.entries(case_id=case_id, actor=actor, after=after, limit=limit)
        )
        return [view(AuditEntryView, entry) for entry in found]

    return app


async def _unauthenticated_body(request: Request, error: Exception) -> Response:
    """No valid token (401, with the challenge), or no identity provider to ask (503)."""
    assert isinstance(error, Unauthenticated)
    body = ErrorBody(detail=ErrorDetail(code=error.code, message=error.message))
    headers = {"WWW-Authenticate": 'Bearer realm="cerniera"'} if error.status == 401 else {}
    if error.status == 503:
        headers["Retry-After"] = "5"
    return JSONResponse(body.model_dump(), status_code=error.status, headers=headers)


async def _check(name: str, reachable: Callable[[], Awaitable[bool]]) -> Check:
    """One dependency's state; a probe that fails is "unavailable", its error only logged."""
    try:
        return "ok" if await reachable() else "unavailable"
    except Exception:
        log.warning("health.check_failed", check=name, exc_info=True)
        return "unavailable"


_STATUS_OF = {NotFound: 404, Invalid: 422, Forbidden: 403}


async def _unavailable_body(request: Request, error: Exception) -> Response:
    """The database (or broker) is away: 503 with Retry-After, so a client tries again; any
    other database error is the server's fault (500). Never the error's text."""
    if is_transient(error):
        log.warning("http.unavailable", path=request.url.path, error=type(error).__name__)
        body = ErrorBody(
            detail=ErrorDetail(
                code="service.unavailable", message="Temporarily unavailable: try again shortly."
            )
        )
        return JSONResponse(body.model_dump(), status_code=503, headers={"Retry-After": "5"})
    log.error("http.failed", path=request.url.path, exc_info=error)
    body = ErrorBody(detail=ErrorDetail(code="internal.error", message="Internal error."))
    return JSONResponse(body.model_dump(), status_code=500)


async def _refusal_body(request: Request, error: Exception) -> Response:
    """A refusal of the domain or the service layer: 404, 422, else 409."""
    assert isinstance(error, Refused)
    status = next((s for kind, s in _STATUS_OF.items() if isinstance(error, kind)), 409)
    if isinstance(error, Forbidden):
        await denied(request)
    body = ErrorBody(detail=ErrorDetail(code=error.code, message=error.message))
    return JSONResponse(body.model_dump(), status_code=status)


async def _error_body(request: Request, error: Exception) -> Response:
    """Every HTTPException as ``ErrorBody``: ours carry a code; the framework's (404 for an
    unknown path, 405, ...) get ``http.<status>``."""
    assert isinstance(error, StarletteHTTPException)
    detail = error.detail
    if isinstance(detail, Mapping) and {"code", "message"} <= detail.keys():
        body = ErrorBody(detail=ErrorDetail(code=detail["code"], message=detail["message"]))
    else:
        body = ErrorBody(detail=ErrorDetail(code=f"http.{error.status_code}", message=str(detail)))
    return JSONResponse(body.model_dump(), status_code=error.status_code, headers=error.headers)


INVALID_REQUEST = "request.invalid"
_MAX_ERRORS = 5


async def _invalid_request_body(request: Request, error: Exception) -> Response:
    """A request the route's parameters or body model refuse: 422 ``request.invalid``, naming
    where (``body.notes``, ``path.case_id``, ``query.offset``) and why, never the input."""
    assert isinstance(error, RequestValidationError)
    problems = [
        f"{'.'.join(str(part) for part in e.get('loc', ()))}: {e.get('msg', 'invalid')}"
        for e in error.errors()
    ]
    if len(problems) > _MAX_ERRORS:
        problems = [*problems[:_MAX_ERRORS], f"and {len(problems) - _MAX_ERRORS} more"]
    message = "; ".join(problems) or "The request is invalid."
    body = ErrorBody(detail=ErrorDetail(code=INVALID_REQUEST, message=message))
    return JSONResponse(body.model_dump(), status_code=422)


_REF = "#/components/schemas/{model}"
_FRAMEWORK_422 = "#/components/schemas/HTTPValidationError"
_INVALID = "The request does not validate (request.invalid), or a rule refuses it: see the code."
_UNREADABLE = "The body cannot be read (http.400): not UTF-8 text."


def declare_error_bodies(openapi: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI as the app answers: a 422 is ``ErrorBody`` (not FastAPI's
    ``HTTPValidationError`` list), and an operation taking a JSON body declares the 400 of a
    body that cannot even be decoded."""
    components = openapi.setdefault("components", {}).setdefault("schemas", {})
    error_body = {"$ref": _REF.format(model="ErrorBody")}
    used = False
    for operations in openapi.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            declared = responses.get("422", {}).get("content", {}).get("application/json", {})
            if declared.get("schema", {}).get("$ref") == _FRAMEWORK_422:
                responses["422"] = {
                    "description": _INVALID,
                    "content": {"application/json": {"schema": error_body}},
                }
                used = True
            body = operation.get("requestBody", {}).get("content", {})
            if "application/json" in body and "400" not in responses:
                responses["400"] = {
                    "description": _UNREADABLE,
                    "content": {"application/json": {"schema": error_body}},
                }
                used = True
    if used:
        schema = ErrorBody.model_json_schema(ref_template=_REF)
        for name, definition in schema.pop("$defs", {}).items():
            components.setdefault(name, definition)
        components.setdefault("ErrorBody", schema)
    if _FRAMEWORK_422.rpartition("/")[2] in components and _FRAMEWORK_422 not in str(openapi):
        del components["HTTPValidationError"]
        if "#/components/schemas/ValidationError" not in str(openapi):
            components.pop("ValidationError", None)
    return openapi
