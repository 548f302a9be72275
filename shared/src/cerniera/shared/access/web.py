"""Access on HTTP: the route dependency that authenticates the bearer, checks the role for the
route's action, and writes the audit log; and what the OpenAPI declares of it.

A route declares what it does, and gets who does it::

    async def put_assessment(
        case_id: CaseId, body: ..., who: Annotated[Principal, allow(Action.CASE_ASSESS)]
    )

``who.actor`` is then the only actor the route writes (never one from the body), and the
service layer checks the scope (``who.require_district(case.ambito_id)``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

import structlog
from fastapi import Depends, FastAPI, Request, Security
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cerniera.shared.access.audit import AuditLog, Outcome
from cerniera.shared.access.roles import Action, Principal, allowed_roles
from cerniera.shared.access.tokens import IssuerUnavailable, TokenRefused, TokenVerifier
from cerniera.shared.contract.types import CASE_ID_PATTERN
from cerniera.shared.refusals import Forbidden

log = structlog.get_logger(__name__)

_PATH_SAFE = "/:@-._~!$&'()*+,;="
_CASE_ID = re.compile(CASE_ID_PATTERN)

SCHEME = "oidc"
bearer = HTTPBearer(
    auto_error=False,
    scheme_name=SCHEME,
    bearerFormat="JWT",
    description=(
        "An access token of the OpenID Connect provider (OIDC_ISSUER) for the audience "
        "OIDC_AUDIENCE: authorization code with PKCE for people, client credentials for "
        "hospitals and providers."
    ),
)


@dataclass(frozen=True, slots=True)
class Access:
    """What a service's app checks tokens with and writes the audit log to."""

    verifier: TokenVerifier | None
    audit: AuditLog | None


class Unauthenticated(Exception):  # noqa: N818 - a verdict, answered 401 / 503
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def _guard(action: Action) -> Callable[..., Any]:
    async def guard(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    ) -> Principal:
        access: Access = request.app.state.access
        who = await _authenticate(access, credentials)
        allowed = who.may(action)
        await record(request, who, action, "allowed" if allowed else "denied")
        if not allowed:
            raise Forbidden("access.role", "Operazione non consentita al suo ruolo.")
        # For ``denied``: a refusal of the scope later (another district's case) is logged too.
        request.state.access = (who, action)
        return who

    guard.cerniera_action = action  # type: ignore[attr-defined]  # read by ``declare_security``
    return guard


async def record(request: Request, who: Principal, action: Action, outcome: Outcome) -> None:
    """One entry of the audit log for this request (none in an app without one)."""
    access: Access = request.app.state.access
    if access.audit is not None:
        # Logged before the route validates anything: the path as it came, percent-encoded
        # (a NUL cannot be stored), and the case only when it is one.
        case_id = request.path_params.get("case_id")
        await access.audit.record(
            who,
            action,
            method=request.method,
            path=quote(request.url.path, safe=_PATH_SAFE),
            case_id=case_id if isinstance(case_id, str) and _CASE_ID.match(case_id) else None,
            outcome=outcome,
        )


async def denied(request: Request) -> None:
    """A request let through by its role but refused for its scope (another district's case,
    another provider's statement): logged as denied, after the entry that let it in."""
    granted = getattr(request.state, "access", None)
    if granted is not None:
        who, action = granted
        await record(request, who, action, "denied")


async def _authenticate(
    access: Access, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    if access.verifier is None:
        raise Unauthenticated(503, "auth.unconfigured", "Nessun identity provider configurato.")
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated(401, "auth.required", "Serve un token di accesso (Bearer).")
    try:
        claims = await access.verifier.claims(credentials.credentials)
    except TokenRefused as refused:
        raise Unauthenticated(401, refused.code, refused.message) from None
    except IssuerUnavailable:
        log.warning("auth.issuer_unavailable", issuer=access.verifier.issuer)
        raise Unauthenticated(
            503, "auth.unavailable", "Identity provider non raggiungibile: riprovare."
        ) from None
    return Principal.from_claims(claims)


_GUARDS = {action: Depends(_guard(action)) for action in Action}


def allow(action: Action) -> Any:
    """The dependency of a route that does ``action``: ``who: Annotated[Principal,
    allow(Action.X)]`` is the principal of a request allowed to do it."""
    return _GUARDS[action]


def _actions_of(route: APIRoute) -> Iterator[Action]:
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        action = getattr(dependant.call, "cerniera_action", None)
        if isinstance(action, Action):
            yield action
        stack.extend(dependant.dependencies)


_DENIED = {
    "401": "No token, or one that is expired, malformed or not for this audience "
    "(auth.required, auth.invalid_token, auth.expired_token).",
    "403": "Outside the caller's role, district, provider or hospital (access.*).",
}


def declare_security(app: FastAPI, openapi: dict[str, Any]) -> dict[str, Any]:
    """Each operation's roles (``x-roles``, ``x-action``) and its 401/403, from the guard
    its route depends on. An operation without one is declared public (``security: []``)."""
    error_body = {"$ref": "#/components/schemas/ErrorBody"}
    for route in app.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        actions = list(_actions_of(route))
        for method in route.methods or ():
            operation = openapi.get("paths", {}).get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            if not actions:
                operation["security"] = []
                continue
            roles = sorted({role.value for a in actions for role in allowed_roles(a)})
            operation["x-action"] = actions[0].value
            operation["x-roles"] = roles
            responses = operation.setdefault("responses", {})
            for status, text in _DENIED.items():
                responses.setdefault(
                    status,
                    {"description": text, "content": {"application/json": {"schema": error_body}}},
                )
    return openapi
