"""A case's lifecycle in activation, pure: no I/O, no clock (the time is given in ``Rules``),
so every transition is tested on its own. Whom to ask and by when is in ``planning``.

A case moves ``awaiting_eligibility`` (announced by the hospital) or ``awaiting_contact``
(package known, announcement not yet seen: they come on different topics, in either order) →
``planned`` (one request per service) → ``ended`` (cancelled, readmitted or closed: every open
request deactivated, except the running services a hand-over to the municipality continues).
While planned, answers, silences, a moved discharge, new contact details, a superseding
decision (a new package, or a rejection: back to ``awaiting_eligibility``), a revised plan
(``plan_version``: an older one arriving late is ignored) and the team's resolution of an
escalation (``escalations``) change its requests. ``CaseFile`` applies one input and records
what the transaction saves and emits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from cerniera.activation import escalations, notices
from cerniera.activation.config import Ambito
from cerniera.activation.escalations import Escalation, Resolve
from cerniera.activation.planning import (
    Attempt,
    Escalate,
    RequestStatus,
    Rules,
    Step,
    assign,
    change_package,
    is_overdue,
    new_request,
    next_candidate,
    plan_package,
    reschedule,
    starts_late,
)
from cerniera.shared.clock import italian_date
from cerniera.shared.contract import (
    Beneficiary,
    CaseHandedOver,
    CaseOutcome,
    DeclineReason,
    DischargeAnnounced,
    EligibilityConfirmed,
    EscalationReason,
    EscalationResolved,
    EventData,
    PatientDetailsUpdated,
    PlanRevised,
    Resolution,
    ServiceActivationRequested,
    ServiceLine,
    ServiceType,
)
from cerniera.shared.refusals import Forbidden, Refused

Ignored = str | None
"""Why an input changed nothing (stale, or about an ended case); ``None`` when it applied."""

CLOCK_SKEW = timedelta(minutes=5)
"""How far a provider's clock may be ahead of ours: an answer is timed by the provider's own
``ce_time`` (a backlog must not make it late), but never later than our now plus this."""


class CaseStatus(StrEnum):
    AWAITING_ELIGIBILITY = "awaiting_eligibility"
    AWAITING_CONTACT = "awaiting_contact"
    PLANNED = "planned"
    ENDED = "ended"


@dataclass(frozen=True)
class Case:
    """A case as activation knows it: only the contact a provider needs (no fiscal code, no
    clinical data), the municipality that picks the providers, the package and the discharge."""

    case_id: str
    status: CaseStatus
    correlation_id: str
    """The chain of the event that first told activation of the case: later work joins it."""
    ambito_id: str | None = None
    municipality_code: str | None = None
    beneficiary: Beneficiary | None = None
    services: tuple[ServiceLine, ...] = ()
    """The package, once known (empty while awaiting eligibility)."""
    discharge_at: datetime | None = None
    discharge_on: date | None = None
    end_reason: str | None = None
    plan_version: int = 0
    """The version of the individual plan (PAI) in force; 0 before any decision."""
    escalations: tuple[Escalation, ...] = ()
    """Every escalation of the case's services, open or ended, in order."""
    continuing: tuple[ServiceType, ...] = ()
    """The services the municipality continues once the case is handed over."""

    @classmethod
    def announced(cls, data: DischargeAnnounced, correlation_id: str) -> Case:
        """A case as its announcement creates it, waiting for the eligibility decision (built
        in one go: a run of announcements creates thousands)."""
        at = data.expected_discharge_at
        return cls(
            data.case_id,
            CaseStatus.AWAITING_ELIGIBILITY,
            correlation_id,
            municipality_code=data.patient.municipality_code,
            beneficiary=contact(data),
            discharge_at=at,
            discharge_on=italian_date(at),
        )

    @classmethod
    def confirmed(cls, data: EligibilityConfirmed, correlation_id: str) -> Case:
        """A case its decision creates, waiting for the hospital's announcement (the contact);
        built in one go too."""
        at = data.expected_discharge_at
        return cls(
            data.case_id,
            CaseStatus.AWAITING_CONTACT,
            correlation_id,
            ambito_id=data.ambito_id,
            services=tuple(data.services),
            discharge_at=at,
            discharge_on=italian_date(at),
            plan_version=data.plan_version,
        )

    @classmethod
    def ended_unseen(cls, case_id: str, ending: Ending, correlation_id: str) -> Case:
        """A case that ends before activation saw it: recorded as ended, so a decision arriving
        later on another topic does not start it."""
        return cls(case_id, CaseStatus.ENDED, correlation_id, end_reason=ending.reason)

    def with_announcement(self, data: DischargeAnnounced) -> Case:
        at = data.expected_discharge_at
        return replace(
            self,
            beneficiary=contact(data),
            municipality_code=data.patient.municipality_code,
            discharge_at=at,
            discharge_on=italian_date(at),
        )

    def with_discharge(self, discharge_at: datetime) -> Case:
        return replace(self, discharge_at=discharge_at, discharge_on=italian_date(discharge_at))

    @property
    def municipality(self) -> str:
        """Known once the hospital's announcement arrived (every planned case)."""
        if self.municipality_code is None:
            raise ValueError(f"case {self.case_id} has no municipality yet")
        return self.municipality_code

    @property
    def discharge_day(self) -> date:
        """Known from whichever came first, the announcement or the decision."""
        if self.discharge_on is None:
            raise ValueError(f"case {self.case_id} has no discharge date")
        return self.discharge_on

    def quantity(self, service: ServiceType) -> Decimal:
        return next(s.weekly_quantity for s in self.services if s.service_type == service)


def contact(data: DischargeAnnounced) -> Beneficiary:
    """Only what a provider needs to reach the person: name, address, phone."""
    patient = data.patient
    return Beneficiary(
        name=f"{patient.given_name} {patient.family_name}",
        address=patient.address,
        phone=patient.phone,
    )


@dataclass(frozen=True)
class Ending:
    """Why a case ends, and the last day of its services (``until`` of ``ServiceDeactivated``)."""

    until: date
    reason: str
    handed_over: bool = False
    """Closed by a hand-over to the municipality: its continuing services go on."""

    @classmethod
    def cancelled(cls, today: date) -> Ending:
        return cls(today, "discharge cancelled")

    @classmethod
    def readmitted(cls, readmitted_at: datetime) -> Ending:
        day = italian_date(readmitted_at)
        return cls(day, f"readmitted on {day}")

    @classmethod
    def closed(cls, closed_at: datetime, outcome: CaseOutcome) -> Ending:
        handed_over = outcome is CaseOutcome.HANDED_OVER_TO_MUNICIPALITY
        return cls(italian_date(closed_at), f"case closed ({outcome.value})", handed_over)


def ensure_sent_to(attempt: Attempt | None, provider_id: str) -> None:
    """A provider answers only the requests sent to it (on its own topic): an answer naming
    another provider's request is refused, whatever its state, never applied nor ignored."""
    if attempt is not None and provider_id != attempt.provider_id:
        raise Forbidden(
            "source.not_allowed",
            f"request {attempt.request_id} was sent to {attempt.provider_id}, not to {provider_id}",
        )


def why_ignored(attempt: Attempt | None, case_status: str | None) -> Ignored:
    """Why an answer of the provider asked does not apply (unknown, superseded, case ended),
    or ``None`` when it does."""
    if attempt is None:
        return "unknown request"
    if case_status == CaseStatus.ENDED:
        return "case ended"
    if not attempt.is_open:
        return f"request already {attempt.status}"
    return None


class CaseFile:
    """A case and its requests while one transaction changes them. Each transition changes
    ``case`` and the requests and records what to save (``created`` and ``updated`` requests,
    ``case`` when ``case_changed``) and what to tell providers and monitoring (``events``, in
    order). One transition per input; the inputs are the events activation consumes and time."""

    def __init__(self, case: Case, attempts: Iterable[Attempt], rules: Rules) -> None:
        self.case = case
        self.attempts = list(attempts)
        self.rules = rules
        self.events: list[EventData] = []
        self._loaded = case
        self._created: dict[str, Attempt] = {}
        self._updated: dict[str, Attempt] = {}

    @property
    def case_changed(self) -> bool:
        return self.case != self._loaded

    @property
    def created(self) -> list[Attempt]:
        return list(self._created.values())

    @property
    def updated(self) -> list[Attempt]:
        return list(self._updated.values())

    # --- the hospital ----------------------------------------------------------------------

    def announced(self, data: DischargeAnnounced) -> Ignored:
        """The announcement of a case already known (a new one is ``Case.announced``): keep
        the contact and the expected discharge; plan if the package is already known."""
        status = self.case.status
        if status is CaseStatus.ENDED:
            return "case ended"
        if status is CaseStatus.PLANNED:
            # Announced again: the contact may be corrected, and the date may have moved.
            corrected = contact(data) != self.case.beneficiary
            self.case = replace(self.case, beneficiary=contact(data))
            self._move_discharge(data.expected_discharge_at)
            if corrected:
                self._resend_open()
            return None
        self.case = self.case.with_announcement(data)
        if status is CaseStatus.AWAITING_CONTACT:
            self._start()
        return None

    def rescheduled(self, discharge_at: datetime) -> Ignored:
        if self.case.status is CaseStatus.ENDED:
            return "case ended"
        self._move_discharge(discharge_at)
        return None

    def details_updated(self, data: PatientDetailsUpdated) -> Ignored:
        """The hospital corrected the address or the phone (HL7 A08): every open request is
        sent again (same request id) so its provider has them. A phone left out keeps the
        one known: an update without it does not make the person unreachable."""
        if self.case.status is CaseStatus.ENDED:
            return "case ended"
        known = self.case.beneficiary
        if known is None:
            return "no contact yet: the announcement has not arrived"
        phone = data.phone if data.phone is not None else known.phone
        updated = known.model_copy(update={"address": data.address, "phone": phone})
        if updated == known:
            return "same details"
        self.case = replace(self.case, beneficiary=updated)
        if self.case.status is CaseStatus.PLANNED:
            self._resend_open()
        return None

    def end(self, ending: Ending) -> Ignored:
        """Cancelled, readmitted or closed: every open request deactivated, the case ended.
        A hand-over to the municipality keeps the running services it continues."""
        if self.case.status is CaseStatus.ENDED:
            return "case already ended"
        continuing = set(self.case.continuing) if ending.handed_over else set()
        for attempt in [a for a in self.attempts if a.is_open]:
            # Only a running service can go on; a request still unanswered stops.
            running = attempt.status is RequestStatus.ACCEPTED
            if not (running and attempt.service_type in continuing):
                self._deactivate(attempt, ending.reason, ending.until)
        self.case = replace(self.case, status=CaseStatus.ENDED, end_reason=ending.reason)
        return None

    # --- intake ----------------------------------------------------------------------------

    def confirmed(self, data: EligibilityConfirmed) -> Ignored:
        """The package of a case already known (a new one is ``Case.confirmed``): plan it once
        the contact is known too. A later decision supersedes the earlier one and changes the
        plan under way."""
        status = self.case.status
        if status is CaseStatus.ENDED:
            return "case ended"
        if data.plan_version < self.case.plan_version:
            return f"plan version {data.plan_version} older than {self.case.plan_version}"
        services = tuple(data.services)
        version = data.plan_version
        if status is CaseStatus.PLANNED:
            self._change_package(data.ambito_id, services)
            self.case = replace(self.case, plan_version=version)
        elif self.case.beneficiary is not None:
            # Once announced, the hospital's date stays: it may have moved since the decision.
            self.case = replace(
                self.case, ambito_id=data.ambito_id, services=services, plan_version=version
            )
            self._start()
        else:
            self.case = replace(
                self.case,
                ambito_id=data.ambito_id,
                services=services,
                plan_version=version,
                status=CaseStatus.AWAITING_CONTACT,
            ).with_discharge(data.expected_discharge_at)
        return None

    def revised(self, data: PlanRevised) -> Ignored:
        """The team revised the plan (PAI): services added are planned, quantities changed
        sent again (same request id), services absent stopped. A version not newer than the
        plan in force (a late or repeated revision) changes nothing."""
        status = self.case.status
        if status is CaseStatus.ENDED:
            return "case ended"
        if status is CaseStatus.AWAITING_ELIGIBILITY:
            return "no plan in force: the case awaits its decision"
        if data.plan_version <= self.case.plan_version:
            return f"plan version {data.plan_version}, in force {self.case.plan_version}"
        services = tuple(data.services)
        if status is CaseStatus.PLANNED:
            self._change_package(data.ambito_id, services)
        else:
            self.case = replace(self.case, ambito_id=data.ambito_id, services=services)
        self.case = replace(self.case, plan_version=data.plan_version)
        return None

    def rejected(self) -> Ignored:
        """A rejection needs nothing from activation, unless it supersedes a confirmation (the
        team overrode the rule, or corrected the assessment): then every service stops, and the
        case waits for a new decision."""
        if self.case.status in (CaseStatus.AWAITING_ELIGIBILITY, CaseStatus.ENDED):
            return f"case {self.case.status}"
        self._stop("eligibility rejected by a later decision", self.rules.today)
        # A new confirmation starts a new plan, whatever its version.
        self.case = replace(
            self.case,
            status=CaseStatus.AWAITING_ELIGIBILITY,
            services=(),
            plan_version=0,
            escalations=escalations.withdrawn(self.case.escalations, list(ServiceType)),
        )
        return None

    def handed_over(self, data: CaseHandedOver) -> Ignored:
        """The municipality takes over: the services it continues are kept when the case
        closes (``end``)."""
        if self.case.status is CaseStatus.ENDED:
            return "case ended"
        self.case = replace(self.case, continuing=tuple(data.continuing))
        return None

    # --- the team ----------------------------------------------------------------------------

    def resolve(self, ask: Resolve, by: str) -> EscalationResolved:
        """The team resolves the open escalation of a service (see ``escalations``); refused
        when the case has no plan under way, the service none open, the provider named is
        not the district's for that service, or a postponement has no day to ask for."""
        if self.case.status is not CaseStatus.PLANNED:
            raise Refused(
                "case.not_planned",
                f"Il caso non ha un piano in corso (stato: {self.case.status.value}).",
            )
        service = ask.service_type
        current = escalations.open_or_refused(self.case.escalations, service)
        ambito = self.rules.ambito(self.case.ambito_id)
        timing = self.rules.timing(self.case.discharge_day)
        step: Step | None = None
        until: date | None = None
        waiting: list[ServiceType] = []
        if ask.resolution is Resolution.MANUAL_PROVIDER:
            assert ask.provider_id is not None, "checked by Resolve"
            step = assign(ambito, service, ask.provider_id, timing)
        elif ask.resolution is Resolution.POSTPONEMENT_REQUESTED:
            until, waiting = escalations.postponement(
                self.case.services, self.attempts, self.case.escalations, timing.discharge_day
            )
        found, done = escalations.resolved(
            self.case.escalations, current, ask, by, self.rules.now, until
        )
        self.case = replace(self.case, escalations=found)
        event = notices.resolved(self.case, done, by, self.rules.now)
        self.events.append(event)
        # What follows from it; family or network: covered, nothing asked.
        if step is not None:
            self._stop_service(service, "replaced by a provider the team assigned")
            self._apply(ambito, [step])
        elif ask.resolution is Resolution.DROPPED:
            self._stop_service(service, f"dropped by the team ({ask.reason_code})")
            kept = tuple(s for s in self.case.services if s.service_type != service)
            self.case = replace(self.case, services=kept)
        elif until is not None:
            self.events.append(notices.postponement(self.case, until, waiting, by, self.rules.now))
        return event

    # --- providers and time ----------------------------------------------------------------

    def accepted(
        self,
        request_id: str,
        provider_id: str,
        scheduled_start: datetime,
        sent_at: datetime | None = None,
    ) -> Ignored:
        """Active from the Italian day of ``scheduled_start``; a later acceptance of the same
        request with another day updates it. Escalated when that day is after discharge.

        The answer is timed by when the provider sent it (``sent_at``, its ``ce_time``,
        bounded by clock skew), not by when it is read: an acceptance sent before the deadline
        but read after it (a backlog) is honoured, and the next provider, asked meanwhile, is
        withdrawn unless it has accepted already."""
        attempt = self._attempt(request_id)
        ensure_sent_to(attempt, provider_id)
        answered_at = self._answer_time(attempt, sent_at)
        if attempt is not None and self._answered_in_time_but_expired(attempt, answered_at):
            why = self._revive(attempt)
            if why is not None:
                return why
            attempt = self._attempt(request_id)
        why = why_ignored(attempt, self.case.status)
        if why is not None or attempt is None:
            return why
        active_from = italian_date(scheduled_start)
        if attempt.status is RequestStatus.ACCEPTED and attempt.active_from == active_from:
            return "same acceptance again"
        self._update(
            replace(
                attempt,
                status=RequestStatus.ACCEPTED,
                answered_at=answered_at,
                active_from=active_from,
            )
        )
        self.events.append(notices.activated(self.case, attempt, active_from))
        if starts_late(active_from, self.case.discharge_day):
            self._escalate(attempt.service_type, EscalationReason.CANNOT_START_BEFORE_DISCHARGE)
        else:  # on time after all: nothing left for the team to resolve
            found = escalations.settled(self.case.escalations, attempt.service_type)
            self.case = replace(self.case, escalations=found)
        return None

    def _answer_time(self, attempt: Attempt | None, sent_at: datetime | None) -> datetime:
        """When the provider answered: its own time, never before the request was sent nor
        later than now (beyond the tolerated clock skew, a sender's clock is not believed)."""
        if sent_at is None:
            return self.rules.now
        answered = min(sent_at, self.rules.now + CLOCK_SKEW)
        return max(answered, attempt.requested_at) if attempt is not None else answered

    def _answered_in_time_but_expired(self, attempt: Attempt, answered_at: datetime) -> bool:
        return (
            attempt.status is RequestStatus.EXPIRED
            and self.case.status is CaseStatus.PLANNED
            and answered_at <= attempt.deadline_at + CLOCK_SKEW
        )

    def _revive(self, expired: Attempt) -> Ignored:
        """Undo an expiry that only a backlog caused: the provider answered in time."""
        later = [
            a
            for a in self.attempts
            if a.service_type is expired.service_type and a.attempt > expired.attempt
        ]
        if any(a.status is RequestStatus.ACCEPTED for a in later):
            return "answered in time, but the next provider has accepted already"
        today = self.rules.today
        for replacement in [a for a in later if a.is_open]:
            self._deactivate(replacement, "the provider asked first answered in time", today)
        revived = self._update(replace(expired, status=RequestStatus.REQUESTED, reason=None))
        self._tell_requested(revived)  # it was told it was withdrawn: it is asked again
        return None

    def declined(self, request_id: str, provider_id: str, reason: DeclineReason) -> Ignored:
        """Declined (before or after accepting): the next candidate is asked."""
        attempt = self._attempt(request_id)
        ensure_sent_to(attempt, provider_id)
        why = why_ignored(attempt, self.case.status)
        if why is not None or attempt is None:
            return why
        self._pass_over(
            attempt,
            RequestStatus.DECLINED,
            reason.value,
            none_left=EscalationReason.ALL_PROVIDERS_DECLINED,
        )
        return None

    def expire(self) -> list[Attempt]:
        """Withdraw the requests unanswered past their deadline and ask the next candidates;
        return the requests withdrawn."""
        if self.case.status is not CaseStatus.PLANNED:
            return []
        overdue = [a for a in self.attempts if is_overdue(a, self.rules.now)]
        for attempt in overdue:
            self._pass_over(
                attempt,
                RequestStatus.EXPIRED,
                "no answer before the deadline",
                none_left=EscalationReason.NO_ANSWER_BEFORE_DEADLINE,
            )
        return overdue

    # --- steps -----------------------------------------------------------------------------

    def _start(self) -> None:
        """Both halves are in: the contact and the package. Plan every service."""
        self.case = replace(self.case, status=CaseStatus.PLANNED)
        self._plan([s.service_type for s in self.case.services])

    def _plan(self, services: Sequence[ServiceType]) -> None:
        ambito = self.rules.ambito(self.case.ambito_id)
        timing = self.rules.timing(self.case.discharge_day)
        steps = plan_package(ambito, services, self.case.municipality, timing)
        self._apply(ambito, steps)

    def _pass_over(
        self,
        attempt: Attempt,
        status: RequestStatus,
        reason: str,
        *,
        none_left: EscalationReason,
    ) -> None:
        """Close ``attempt`` (declined, or expired) and ask the next candidate. A provider that
        had accepted, or that is withdrawn for silence, is told with ``ServiceDeactivated``."""
        answered_at = self.rules.now if status is RequestStatus.DECLINED else None
        self._update(replace(attempt, status=status, reason=reason, answered_at=answered_at))
        if attempt.status is RequestStatus.ACCEPTED or status is RequestStatus.EXPIRED:
            self._tell_deactivated(attempt, self.rules.today)
        ambito = self.rules.ambito(self.case.ambito_id)
        steps = next_candidate(
            ambito,
            attempt.service_type,
            self.case.municipality,
            self.attempts,
            self.rules.timing(self.case.discharge_day),
            none_left=none_left,
        )
        self._apply(ambito, steps)

    def _apply(self, ambito: Ambito, steps: Sequence[Step]) -> None:
        for step in steps:
            if isinstance(step, Escalate):
                self._escalate(step.service_type, step.reason)
                continue
            attempt = new_request(
                self.case.case_id,
                step,
                self.attempts,
                self.case.quantity(step.service_type),
                now=self.rules.now,
                answer_deadline_hours=ambito.answer_deadline_hours,
            )
            self.attempts.append(attempt)
            self._created[attempt.request_id] = attempt
            self._tell_requested(attempt)

    def _change_package(self, ambito_id: str, services: tuple[ServiceLine, ...]) -> None:
        change = change_package(self.case.services, services, self.attempts)
        gone = {s.service_type for s in self.case.services} - {s.service_type for s in services}
        self.case = replace(
            self.case,
            ambito_id=ambito_id,
            services=services,
            escalations=escalations.withdrawn(self.case.escalations, list(gone)),
        )
        for attempt in change.dropped:
            self._deactivate(attempt, "package changed", self.rules.today)
        for attempt in change.requantified:
            quantity = self.case.quantity(attempt.service_type)
            self._tell_requested(self._update(replace(attempt, weekly_quantity=quantity)))
        if change.added:
            self._plan(change.added)

    def _move_discharge(self, discharge_at: datetime) -> None:
        before = self.case.discharge_on
        self.case = self.case.with_discharge(discharge_at)
        day = self.case.discharge_day
        if self.case.status is not CaseStatus.PLANNED or day == before:
            return
        for step in reschedule([a for a in self.attempts if a.is_open], day):
            if isinstance(step, Escalate):
                self._escalate(step.service_type, step.reason)
            else:
                moved = self._attempt(step.request_id)
                assert moved is not None
                self._tell_requested(self._update(replace(moved, start_by=step.start_by)))

    def _stop(self, reason: str, until: date) -> None:
        for attempt in [a for a in self.attempts if a.is_open]:
            self._deactivate(attempt, reason, until)

    def _stop_service(self, service: ServiceType, reason: str) -> None:
        for attempt in [a for a in self.attempts if a.is_open and a.service_type == service]:
            self._deactivate(attempt, reason, self.rules.today)

    def _resend_open(self) -> None:
        """Every open request sent again with the case's contact (same request id), unless
        this transaction has sent it already."""
        sent = {e.request_id for e in self.events if isinstance(e, ServiceActivationRequested)}
        for attempt in self.attempts:
            if attempt.is_open and attempt.request_id not in sent:
                self._tell_requested(attempt)

    def _deactivate(self, attempt: Attempt, reason: str, until: date) -> None:
        self._update(replace(attempt, status=RequestStatus.DEACTIVATED, reason=reason))
        self._tell_deactivated(attempt, until)

    # --- records ---------------------------------------------------------------------------

    def _attempt(self, request_id: str) -> Attempt | None:
        return next((a for a in self.attempts if a.request_id == request_id), None)

    def _update(self, attempt: Attempt) -> Attempt:
        same = attempt.request_id
        self.attempts = [attempt if a.request_id == same else a for a in self.attempts]
        if attempt.request_id in self._created:
            self._created[attempt.request_id] = attempt
        else:
            self._updated[attempt.request_id] = attempt
        return attempt

    def _tell_requested(self, attempt: Attempt) -> None:
        self.events.append(notices.requested(self.case, attempt))

    def _tell_deactivated(self, attempt: Attempt, until: date) -> None:
        self.events.append(notices.deactivated(self.case, attempt, until))

    def _escalate(self, service: ServiceType, reason: EscalationReason) -> None:
        found = escalations.escalate(self.case.escalations, service, reason, self.rules.now)
        self.case = replace(self.case, escalations=found)
        self.events.append(notices.escalated(self.case, service, reason))
