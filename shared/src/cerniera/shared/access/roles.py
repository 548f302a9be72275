"""Who may do what: the roles, the actions, and the one table that joins them.

Pure (no I/O): the HTTP dependency (``access.web``) and the service layers ask it. A
``Principal`` is what a verified token says about its bearer; the *scope* checks (own
district, own provider, own hospital) are here too, so every service refuses alike.

Roles (the claim ``roles`` of the access token, or Keycloak's ``realm_access.roles``):

- ``equipe``: a member of a district's team (équipe / COT: social worker, nurse): the cases
  of their own district (claim ``ambito_id``);
- ``district_admin``: a district's administration: budgets, providers' statements, reports;
- ``provider``: an operator of one provider (claim ``provider_id``): its requests and
  deliveries, its statements;
- ``hospital``: a hospital's system, by client credentials (claim ``hospital_id``): its own
  discharges;
- ``auditor``: reads everything, changes nothing; every read is itself logged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from cerniera.shared.refusals import Forbidden


class Role(StrEnum):
    EQUIPE = "equipe"
    DISTRICT_ADMIN = "district_admin"
    PROVIDER = "provider"
    HOSPITAL = "hospital"
    AUDITOR = "auditor"


class Action(StrEnum):
    """What a request does. The value is written in the audit log."""

    CASE_READ = "case.read"
    CASE_ASSESS = "case.assess"
    CASE_OVERRIDE = "case.override"
    CASE_TAKE_CHARGE = "case.take_charge"
    BRASS_SCORE = "brass.score"
    CHECK_RECORD = "check.record"
    CHECKS_READ = "checks.read"
    CASE_CLOSE = "case.close"
    READINESS_READ = "readiness.read"
    BUDGET_READ = "budget.read"
    STATEMENT_READ = "statement.read"
    STATEMENT_ISSUE = "statement.issue"
    DISCHARGE_SUBMIT = "discharge.submit"
    AUDIT_READ = "audit.read"
    CASE_CONFIRM = "case.confirm"
    CASE_CONSENT = "case.consent"
    PLAN_REVISE = "plan.revise"
    PLAN_CAP_EXCEPTION = "plan.cap_exception"
    NETWORK_TASK_RECORD = "network_task.record"
    MEDIATION_NOTE = "case.mediation_note"
    ESCALATION_RESOLVE = "escalation.resolve"
    CASE_HAND_OVER = "case.hand_over"
    REPORTS_READ = "reports.read"
    FUNDER_EXPORT = "reports.funder_export"
    TASKS_READ = "tasks.read"
    PROVIDER_ANSWER = "provider.answer"
    """A provider accepts or declines a request (the desk's portal publishes it)."""
    DELIVERY_REPORT = "delivery.report"
    """A provider reports what it delivered (the desk's portal publishes it)."""
    REQUESTS_READ = "requests.read"
    """A provider reads the requests addressed to it (the desk's portal)."""

    @property
    def reads(self) -> bool:
        return self in _READS


_READS: Final = frozenset(
    {
        Action.CASE_READ,
        Action.CHECKS_READ,
        Action.READINESS_READ,
        Action.BUDGET_READ,
        Action.STATEMENT_READ,
        Action.AUDIT_READ,
        Action.REPORTS_READ,
        Action.FUNDER_EXPORT,
        Action.TASKS_READ,
        Action.REQUESTS_READ,
    }
)

E, A, P, H = Role.EQUIPE, Role.DISTRICT_ADMIN, Role.PROVIDER, Role.HOSPITAL
GRANTS: Final[Mapping[Action, frozenset[Role]]] = {
    Action.CASE_READ: frozenset({E}),
    Action.CASE_ASSESS: frozenset({E}),
    Action.CASE_OVERRIDE: frozenset({E}),
    Action.CASE_TAKE_CHARGE: frozenset({E}),
    Action.BRASS_SCORE: frozenset({E}),
    Action.CHECK_RECORD: frozenset({E}),
    Action.CHECKS_READ: frozenset({E}),
    Action.CASE_CLOSE: frozenset({E}),
    Action.READINESS_READ: frozenset({E}),
    Action.BUDGET_READ: frozenset({A}),
    Action.STATEMENT_READ: frozenset({A, P}),
    Action.STATEMENT_ISSUE: frozenset({A}),
    Action.DISCHARGE_SUBMIT: frozenset({H}),
    Action.AUDIT_READ: frozenset(),
    Action.CASE_CONFIRM: frozenset({E}),
    Action.CASE_CONSENT: frozenset({E}),
    Action.PLAN_REVISE: frozenset({E}),
    Action.PLAN_CAP_EXCEPTION: frozenset({A}),
    Action.NETWORK_TASK_RECORD: frozenset({E}),
    Action.MEDIATION_NOTE: frozenset({E}),
    Action.ESCALATION_RESOLVE: frozenset({E}),
    Action.CASE_HAND_OVER: frozenset({E}),
    Action.REPORTS_READ: frozenset({A, E}),
    Action.FUNDER_EXPORT: frozenset({A}),
    Action.TASKS_READ: frozenset({H}),
    Action.PROVIDER_ANSWER: frozenset({P}),
    Action.DELIVERY_REPORT: frozenset({P}),
    Action.REQUESTS_READ: frozenset({P}),
}
"""Who may do each action; the auditor may besides do every action that only reads."""


def allowed_roles(action: Action) -> frozenset[Role]:
    """Every role that may do ``action`` (what the OpenAPI declares)."""
    return GRANTS[action] | ({Role.AUDITOR} if action.reads else frozenset())


@dataclass(frozen=True, slots=True)
class Principal:
    """The bearer of a verified token: who (``actor``, written in every audit field), in
    which roles, for which districts, provider or hospital."""

    subject: str
    actor: str
    roles: frozenset[Role]
    ambiti: frozenset[str] = frozenset()
    provider_id: str | None = None
    hospital_id: str | None = None

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> Principal:
        """From an access token's claims (ours, or Keycloak's with the realm's mappers)."""
        raw_roles = claims.get("roles")
        if raw_roles is None:
            raw_roles = (claims.get("realm_access") or {}).get("roles", ())
        known = {r.value for r in Role}
        roles = frozenset(Role(r) for r in _strings(raw_roles) if r in known)
        subject = str(claims["sub"])
        username = claims.get("preferred_username")
        return cls(
            subject=subject,
            actor=username if isinstance(username, str) and username else subject,
            roles=roles,
            ambiti=frozenset(_strings(claims.get("ambito_id"))),
            provider_id=_one(claims.get("provider_id")),
            hospital_id=_one(claims.get("hospital_id")),
        )

    @property
    def auditor(self) -> bool:
        return Role.AUDITOR in self.roles

    def may(self, action: Action) -> bool:
        return bool(self.roles & allowed_roles(action))

    def require(self, action: Action) -> None:
        if not self.may(action):
            raise Forbidden("access.role", "Operazione non consentita al suo ruolo.")

    def districts(self) -> frozenset[str] | None:
        """The districts whose cases this principal sees: ``None`` means all (the auditor)."""
        return None if self.auditor else self.ambiti

    def require_district(self, ambito_id: str | None) -> None:
        """Refuse a case of another district (the auditor sees every district)."""
        if self.auditor:
            return
        if ambito_id is None or ambito_id not in self.ambiti:
            raise Forbidden("access.district", "Caso di un altro ambito: accesso non consentito.")

    def require_provider(self, provider_id: str) -> None:
        """Refuse another provider's data. District administrators (scoped by district where
        the data is) and the auditor see every provider."""
        if self.auditor or Role.DISTRICT_ADMIN in self.roles:
            return
        if self.provider_id != provider_id:
            raise Forbidden("access.provider", "Dati di un altro ente: accesso non consentito.")

    def require_hospital(self, hospital_id: str) -> None:
        if self.hospital_id != hospital_id:
            raise Forbidden(
                "access.hospital", "Dimissione di un altro ospedale: invio non consentito."
            )


def _strings(value: object) -> Iterable[str]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return (v for v in value if isinstance(v, str))
    return ()


def _one(value: object) -> str | None:
    found = list(_strings(value))
    return found[0] if len(found) == 1 else None
