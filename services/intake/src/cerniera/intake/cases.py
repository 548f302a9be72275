"""Intake's service layer: one method per use case, for the consumer and the team's API.

Each loads through ``store``, decides through ``domain`` (``eligibility``, ``plans``), saves
through ``store`` and queues the events with ``uow.emit``; nothing else decides. The time is
the service's clock, read once the case is locked. A decision the hospital's event caused
joins that event's chain (the consumer sets the cause); one made on the team's request has no
event as its cause, so it passes the case's stored correlation id and stays in its chain.
Refusals are ``cerniera.shared.refusals``: the consumer dead-letters them, the API answers them.

An eligible decision is published (``EligibilityConfirmed``) once confirmed (by the rule or
the team, as the district says) and consented to, and only if the SAD hours it authorises
keep the person within the district's cap (or the administrator made an exception): the
team's explicit plans over the cap are refused (409, the refusal counted), the rule's are
held for the team (``awaiting_confirmation``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from cerniera.intake import brass, domain, eligibility, plans, store
from cerniera.intake.brass import BrassItems, BrassResult
from cerniera.intake.config import Ambito, IntakeConfig
from cerniera.intake.domain import (
    AssessmentContent,
    AssessmentVersion,
    Case,
    CaseStatus,
    OverrideRecord,
    ReassessmentOutcome,
    TakingCharge,
    TakingChargeVersion,
)
from cerniera.intake.eligibility import RULE, Decision, Eligible
from cerniera.intake.plans import (
    CapCheck,
    CapExceeded,
    CapException,
    CapRefusal,
    GivenBy,
    MediationNote,
    NetworkTask,
    PlanReason,
    PlanVersion,
)
from cerniera.shared.access import Principal
from cerniera.shared.causation import handling
from cerniera.shared.clock import Clock
from cerniera.shared.contract import (
    AnswerValue,
    DischargeAnnounced,
    Intensity,
    NetworkOutcome,
    NetworkResource,
    NetworkTaskCompleted,
    NetworkTaskOpened,
    PlanRevised,
    ServiceLine,
)
from cerniera.shared.envelope import Envelope
from cerniera.shared.persistence.outbox import UnitOfWork
from cerniera.shared.refusals import Conflict, NotFound

log = structlog.get_logger(__name__)


# --- what the team's requests answer ---------------------------------------------------------


@dataclass(frozen=True)
class CaseFile:
    """A case with everything the team recorded on it, oldest first."""

    case: Case
    ambito: Ambito | None
    assessments: list[AssessmentVersion]
    overrides: list[OverrideRecord]
    taking_charge: list[TakingChargeVersion]
    plans: list[PlanVersion]
    cap: CapCheck | None
    """The plan in force (or proposed) against the person's cap; None without one."""
    cap_exceptions: list[CapException]
    cap_refusals: list[CapRefusal]
    network_tasks: list[NetworkTask]
    mediation_notes: list[MediationNote]
    person_ref: str


@dataclass(frozen=True)
class Assessed:
    """What an assessment did to the case."""

    case: Case
    """The case after it: its decision in force."""
    outcome: ReassessmentOutcome
    version: AssessmentVersion
    """The assessment now in force."""
    bands: tuple[int, int]
    rule: Decision
    """What the district's rule says of these answers."""
    published: Envelope | None


@dataclass(frozen=True)
class Overridden:
    """What an override did to the case."""

    case: Case
    override: OverrideRecord
    published: Envelope | None


@dataclass(frozen=True)
class Changed:
    """What a confirmation, a consent or a plan did to the case. ``refused``: the plan would
    exceed the cap; the refusal is recorded (counted) with the unit of work, so the door
    raises it only once that has committed."""

    case: Case
    published: Envelope | None = None
    refused: CapExceeded | None = None


# --- the use cases -----------------------------------------------------------------------------


class IntakeCases:
    """Intake's use cases on the districts' configuration, the service's clock and the key
    of the persons' pseudonyms."""

    def __init__(self, config: IntakeConfig, clock: Clock, pseudonym_key: bytes) -> None:
        self._config = config
        self._clock = clock
        self._key = pseudonym_key

    # the hospital's events

    async def announce(self, uow: UnitOfWork, events: Sequence[Envelope]) -> None:
        """A run of announcements: the new cases stored in one statement and decided together
        (``_settle_new``), each decision caused by its own announcement; a case announced again
        is looked at on its own, once the run's decisions are stored."""
        now = self._clock.now()  # the service's time (accelerated in the demo)
        first: dict[str, tuple[Envelope, Case]] = {}
        repeated: list[Envelope] = []
        for event in events:
            data = _announcement(event)
            if data.case_id in first:
                repeated.append(event)
                continue
            outcome = domain.assess_announcement(self._config, data)
            ambito = self._config.ambiti.get(outcome.ambito_id) if outcome.ambito_id else None
            opened = domain.new_case(
                data,
                outcome,
                correlation_id=event.chain_id,
                now=now,
                confirmed_by=domain.confirmer(ambito),
            )
            first[data.case_id] = (event, opened)
        created = await store.add_new(uow.conn, [opened for _, opened in first.values()])
        await self._settle_new(
            uow,
            [(event, opened) for case_id, (event, opened) in first.items() if case_id in created],
            now,
        )
        known_before = [event for case_id, (event, _) in first.items() if case_id not in created]
        for event in known_before + repeated:
            with handling(event):
                await self.announced_again(uow, _announcement(event))

    async def announced_again(self, uow: UnitOfWork, announcement: DischargeAnnounced) -> None:
        """The same discharge announced again: decided only if it brings the assessment that
        a waiting case lacked."""
        case = await store.case(uow.conn, announcement.case_id, lock=True)
        if case is None:
            raise _no_discharge(announcement.case_id)
        now = self._clock.now()
        assessed = domain.reannounced(self._config, case, announcement, now)
        if assessed is None:
            log.info("announcement.repeated", case_id=case.case_id, status=case.status)
            return
        await store.save(uow.conn, assessed, now)
        await self._settle(uow, assessed, RULE, now)

    async def reschedule(
        self, uow: UnitOfWork, case_id: str, expected_discharge_at: datetime
    ) -> None:
        now = self._clock.now()
        if not await store.set_expected_discharge(uow.conn, case_id, expected_discharge_at, now):
            raise _no_discharge(case_id)

    async def cancel(self, uow: UnitOfWork, case_id: str) -> None:
        now = self._clock.now()
        if not await store.set_status(uow.conn, case_id, CaseStatus.CANCELLED, now):
            raise _no_discharge(case_id)

    async def readmitted(self, uow: UnitOfWork, case_id: str, readmitted_at: datetime) -> None:
        """Back in hospital: kept; a case not yet published is never confirmed (activation and
        monitoring end their own parts on the same event)."""
        case = await store.case(uow.conn, case_id, lock=True)
        if case is None:
            raise _no_discharge(case_id)
        await store.save(uow.conn, domain.readmitted(case, readmitted_at), self._clock.now())

    # monitoring's events

    async def closed(
        self, uow: UnitOfWork, case_id: str, closed_at: datetime, outcome: str
    ) -> None:
        """Monitoring closed the case: from now on it refuses the team's changes."""
        case = await store.case(uow.conn, case_id, lock=True)
        if case is None:
            raise _no_case(case_id)
        await store.save(uow.conn, domain.closed(case, closed_at, outcome), self._clock.now())

    # the team's requests

    async def case_file(self, conn: AsyncConnection, case_id: str, who: Principal) -> CaseFile:
        case = await store.case(conn, case_id)
        if case is None:
            raise _no_case(case_id)
        who.require_district(case.ambito_id)
        exceptions = await store.cap_exceptions_of(conn, case_id)
        cap = None
        if isinstance(case.decision, Eligible):
            cap = await self._cap(conn, case, case.decision.services, exceptions)
        return CaseFile(
            case=case,
            ambito=self._district(case),
            assessments=await store.assessment_versions(conn, case_id),
            overrides=await store.overrides_of(conn, case_id, case.ambito_id),
            taking_charge=await store.taking_charge_versions(conn, case_id),
            plans=await store.plan_versions(conn, case_id),
            cap=cap,
            cap_exceptions=exceptions,
            cap_refusals=await store.cap_refusals_of(conn, case_id),
            network_tasks=await store.network_tasks_of(conn, case_id),
            mediation_notes=await store.mediation_notes_of(conn, case_id),
            person_ref=plans.person_ref(case.patient.fiscal_code, self._key),
        )

    async def submit_assessment(
        self,
        uow: UnitOfWork,
        case_id: str,
        *,
        answers: Mapping[str, AnswerValue],
        brass_score: int | None,
        brass_items: BrassItems | None,
        notes: str | None,
        who: Principal,
    ) -> Assessed:
        """A new version of the team's assessment (none if the same again); the rule decides
        a waiting case, and a new decision supersedes the one in force only if it changes it."""
        case = await _open_case(uow.conn, case_id, who)
        assessed_by = who.actor
        ambito = domain.checklist_of(self._district(case), case_id, answers)
        bands = domain.brass_bands(ambito)
        content = AssessmentContent.filled(answers, brass_score, brass_items, notes)
        versions = await store.assessment_versions(uow.conn, case_id)
        now = self._clock.now()
        number = domain.new_version(versions, content)
        if number is None:
            current = versions[-1]
        else:
            current = AssessmentVersion(number, content, assessed_by, now)
            await store.add_assessment(uow.conn, case_id, current)
        reassessed = domain.reassess(
            ambito,
            content.assessment,
            case.decision,
            overridden=bool(await store.overrides_of(uow.conn, case_id, case.ambito_id)),
            version=current.version,
            assessed_by=assessed_by,
            brass=content.brass_result(bands),
        )
        published = None
        if reassessed.decision is not None:
            confirmer = domain.confirmer(ambito)
            case = case.with_outcome(reassessed.decision, now, confirmed_by=confirmer)
            await store.save(uow.conn, case, now)
            case, published = await self._settle(uow, case, who.actor, now, case.correlation_id)
        return Assessed(case, reassessed.outcome, current, bands, reassessed.rule, published)

    async def override(
        self,
        uow: UnitOfWork,
        case_id: str,
        *,
        eligible: bool,
        intensity: Intensity | None,
        reason: str,
        who: Principal,
    ) -> Overridden:
        """The team's decision instead of the rule's: always recorded, published only if it
        changes the decision in force (and, eligible, once consented to)."""
        case = await _open_case(uow.conn, case_id, who)
        decided_by = who.actor
        ambito = self._district(case)
        versions = await store.assessment_versions(uow.conn, case_id)
        content = domain.assessment_in_force(case, versions)
        rule = domain.rule_says(
            ambito,
            content.assessment if content else None,
            content.brass_result(domain.brass_bands(ambito)) if content else None,
            stored=case.decision,
        )
        overridden = domain.override(
            ambito,
            eligible=eligible,
            intensity=intensity,
            decided_by=decided_by,
            in_force=case.decision,
            rule=rule,
        )
        now = self._clock.now()
        published = None
        if overridden.publish:
            case = case.with_outcome(overridden.decision, now, confirmed_by=decided_by)
            await store.save(uow.conn, case, now)
            case, published = await self._settle(uow, case, decided_by, now, case.correlation_id)
        record = OverrideRecord(
            seq=len(await store.overrides_of(uow.conn, case_id, case.ambito_id)) + 1,
            decision=overridden.decision,
            reason=reason,
            decided_by=decided_by,
            decided_at=now,
            rule=rule,
            event_id=published.id if published else None,
        )
        await store.add_override(uow.conn, case_id, record)
        return Overridden(case, record, published)

    async def record_consent(
        self,
        uow: UnitOfWork,
        case_id: str,
        *,
        given: bool,
        given_by: GivenBy,
        guardian_name: str | None,
        who: Principal,
    ) -> Changed:
        """The person's or guardian's consent, as the team collected it: a confirmed eligible
        case is then published (held for the team if it would exceed the cap)."""
        case = await _open_case(uow.conn, case_id, who)
        now = self._clock.now()
        consent = plans.new_consent(given, given_by, guardian_name, who.actor, now)
        consented = domain.with_consent(case, consent)
        await store.save(uow.conn, consented, now)
        if consented.status is case.status:  # a record only: nothing to publish (again)
            return Changed(consented)
        consented, published = await self._settle(
            uow, consented, who.actor, now, case.correlation_id
        )
        return Changed(consented, published)

    async def confirm(
        self,
        uow: UnitOfWork,
        case_id: str,
        *,
        services: list[ServiceLine] | None,
        reason: str | None,
        who: Principal,
    ) -> Changed:
        """The team confirms the rule's proposal, the services tailored if it says so: it is
        then who decided, and the plan is published once consented to. A plan beyond the
        person's cap is refused (the refusal counted) unless the administrator excepted it."""
        case = await _open_case(uow.conn, case_id, who)
        now = self._clock.now()
        tailored = plans.checked_services(services) if services is not None else None
        confirmed = domain.confirmed(case, who.actor, tailored)
        if confirmed is None:
            return Changed(case)  # the same confirmation again: nothing changes
        confirmed = replace(confirmed, plan_note=reason)
        if confirmed.status is CaseStatus.ELIGIBLE:
            assert isinstance(confirmed.decision, Eligible)
            check = await self._cap(uow.conn, confirmed, confirmed.decision.services)
            if check.refused:
                await self._refused(uow.conn, case, check, who.actor, now)
                return Changed(case, refused=check.refusal())
        await store.save(uow.conn, confirmed, now)
        case, published = await self._settle(uow, confirmed, who.actor, now, case.correlation_id)
        return Changed(case, published)

    async def revise_plan(
        self,
        uow: UnitOfWork,
        case_id: str,
        *,
        services: list[ServiceLine],
        code: PlanReason,
        reason: str,
        who: Principal,
    ) -> Changed:
        """A new version of a published plan (``PlanRevised``, version + 1, the code's fixed
        text; the operator's words stay here); the same services again change nothing. Refused
        (and counted) beyond the person's cap unless the administrator excepted the case."""
        case = await _open_case(uow.conn, case_id, who)
        decision = case.decision
        if case.status is not CaseStatus.ELIGIBLE or not isinstance(decision, Eligible):
            raise Conflict(
                "plan.not_in_force",
                f"Il caso {case_id} non ha ancora un piano in vigore ({case.status}): i servizi "
                "si personalizzano alla conferma (POST /cases/{case_id}/confirm).",
            )
        services = plans.checked_services(services)
        if plans.same_services(services, decision.services):
            return Changed(case)
        now = self._clock.now()
        check = await self._cap(uow.conn, case, services)
        if check.refused:
            await self._refused(uow.conn, case, check, who.actor, now)
            return Changed(case, refused=check.refusal())
        version = case.plan_version + 1
        event = uow.emit(
            PlanRevised(
                case_id=case_id,
                ambito_id=decision.ambito_id,
                plan_version=version,
                services=services,
                revised_by=who.actor,
                reason=plans.plan_reason(code),
            ),
            subject=case_id,
            correlation_id=case.correlation_id,
        )
        plan = PlanVersion(version, services, code, reason, who.actor, now, event.id)
        await store.add_plan(uow.conn, case_id, plan)
        case = replace(case, decision=replace(decision, services=services), plan_version=version)
        await store.save(uow.conn, case, now)
        return Changed(case, event)

    async def grant_cap_exception(
        self, uow: UnitOfWork, case_id: str, reason: str, who: Principal
    ) -> CapException:
        """The district administrator's exception to the cap for this case, with its reason:
        the team may then confirm or revise its plan beyond the cap."""
        await _open_case(uow.conn, case_id, who)
        seq = len(await store.cap_exceptions_of(uow.conn, case_id)) + 1
        granted = CapException(seq, reason, who.actor, self._clock.now())
        await store.add_cap_exception(uow.conn, case_id, granted)
        return granted

    async def record_network_task(
        self,
        uow: UnitOfWork,
        case_id: str,
        *,
        outcome: NetworkOutcome,
        resources: list[NetworkResource],
        notes: str | None,
        who: Principal,
    ) -> tuple[NetworkTask, Envelope]:
        """The territorial network's answer for the open task (``NetworkTaskCompleted``)."""
        case = await _open_case(uow.conn, case_id, who)
        task = plans.open_task(await store.network_tasks_of(uow.conn, case_id))
        now = self._clock.now()
        done = replace(
            task,
            outcome=outcome,
            resources=tuple(dict.fromkeys(resources)),
            notes=notes,
            completed_by=who.actor,
            completed_at=now,
        )
        await store.complete_network_task(uow.conn, case_id, done)
        event = uow.emit(
            NetworkTaskCompleted(
                case_id=case_id,
                task_id=task.task_id,
                outcome=outcome,
                resources=list(done.resources),
                completed_at=now,
            ),
            subject=case_id,
            correlation_id=case.correlation_id,
        )
        return done, event

    async def add_mediation_note(
        self, uow: UnitOfWork, case_id: str, text: str, who: Principal
    ) -> MediationNote:
        """A mediation with a family that disagrees: kept in the case, never published."""
        await _open_case(uow.conn, case_id, who)
        seq = len(await store.mediation_notes_of(uow.conn, case_id)) + 1
        note = MediationNote(seq, text, who.actor, self._clock.now())
        await store.add_mediation_note(uow.conn, case_id, note)
        return note

    async def record_taking_charge(
        self, uow: UnitOfWork, case_id: str, content: TakingCharge, who: Principal
    ) -> TakingChargeVersion:
        """A new version of the information for taking charge and the PAI (none if the same
        again). Kept in intake: nothing is published."""
        await _open_case(uow.conn, case_id, who)
        versions = await store.taking_charge_versions(uow.conn, case_id)
        number = domain.new_version(versions, content)
        if number is None:
            return versions[-1]
        recorded = TakingChargeVersion(number, content, who.actor, self._clock.now())
        await store.add_taking_charge(uow.conn, case_id, recorded)
        return recorded

    def score_brass(self, items: BrassItems, ambito_id: str | None) -> BrassResult:
        """The BRASS calculator, with a district's bands when one is named."""
        ambito = None
        if ambito_id is not None:
            ambito = self._config.ambiti.get(ambito_id)
            if ambito is None:
                raise NotFound("ambito.unknown", f"Nessun ambito {ambito_id}.")
        return brass.score(items, *domain.brass_bands(ambito))

    # publishing a decision

    async def _settle_new(
        self, uow: UnitOfWork, opened: Sequence[tuple[Envelope, Case]], now: datetime
    ) -> None:
        """``_settle`` of a run of new cases, each caused by its announcement, the same events
        in the same order, with the database work per run instead of per case: the persons'
        published plans read at once (the cap then follows the run's own publications in
        memory), the plans, the cases' new versions and the network tasks written at once."""
        persons = {
            case.patient.fiscal_code
            for _, case in opened
            if case.status is CaseStatus.ELIGIBLE and isinstance(case.decision, Eligible)
        }
        standing = await store.persons_plans(uow.conn, persons) if persons else {}
        published: list[_Publication] = []
        for event, case in opened:
            if case.status not in _DECIDED:
                continue  # waiting (assessment, team, consent): no event to cause, none marked
            with handling(event):
                if case.status is CaseStatus.NOT_ELIGIBLE:
                    _emit_decision(uow, case)
                    continue
                decision = case.decision
                if case.status is not CaseStatus.ELIGIBLE or not isinstance(decision, Eligible):
                    continue
                person = standing.setdefault(case.patient.fiscal_code, {})
                others = [plan for case_id, plan in person.items() if case_id != case.case_id]
                check = await self._checked(uow.conn, case, decision.services, others)
                if check.refused:
                    await self._hold(uow, case, check, RULE, now)
                    continue
                publication = self._publication(uow, case, decision, now, None, tasks=[])
                person[case.case_id] = (decision.ambito_id, decision.services)
                published.append(publication)
        await store.add_plans(uow.conn, [(p.case_id, p.plan) for p in published])
        await store.set_published(uow.conn, [(p.case_id, p.plan.version) for p in published], now)
        tasks = [(p.case_id, p.task) for p in published if p.task is not None]
        await store.add_network_tasks(uow.conn, tasks)

    async def _settle(
        self,
        uow: UnitOfWork,
        case: Case,
        actor: str,
        now: datetime,
        correlation_id: str | None = None,
    ) -> tuple[Case, Envelope | None]:
        """Publish the decision the (saved) case now stands at: a rejection at once; an
        eligible decision confirmed and consented to, if within the cap, else held for the
        team. Waiting cases publish nothing."""
        if case.status is CaseStatus.NOT_ELIGIBLE:
            return case, _emit_decision(uow, case, correlation_id)
        decision = case.decision
        if case.status is not CaseStatus.ELIGIBLE or not isinstance(decision, Eligible):
            return case, None
        check = await self._cap(uow.conn, case, decision.services)
        if check.refused:
            return await self._hold(uow, case, check, actor, now), None
        return await self._publish(uow, case, decision, now, correlation_id)

    async def _hold(
        self, uow: UnitOfWork, case: Case, check: CapCheck, actor: str, now: datetime
    ) -> Case:
        """An eligible decision over the cap: the refusal counted, the case held for the team."""
        await self._refused(uow.conn, case, check, actor, now)
        held = domain.held_by_cap(case)
        await store.save(uow.conn, held, now)
        log.info("plan.held_by_cap", case_id=case.case_id, total=str(check.total))
        return held

    async def _publish(
        self,
        uow: UnitOfWork,
        case: Case,
        decision: Eligible,
        now: datetime,
        correlation_id: str | None,
    ) -> tuple[Case, Envelope]:
        """``_publication``, stored."""
        # Tasks open only here: the first publication has none yet.
        version = case.plan_version + 1
        tasks = [] if version == 1 else await store.network_tasks_of(uow.conn, case.case_id)
        publication = self._publication(uow, case, decision, now, correlation_id, tasks)
        published = replace(case, plan_version=version, plan_note=None)
        await store.add_plan(uow.conn, case.case_id, publication.plan)
        await store.save(uow.conn, published, now)
        if publication.task is not None:
            await store.add_network_task(uow.conn, case.case_id, publication.task)
        return published, publication.event

    def _publication(
        self,
        uow: UnitOfWork,
        case: Case,
        decision: Eligible,
        now: datetime,
        correlation_id: str | None,
        tasks: Sequence[NetworkTask],
    ) -> _Publication:
        """``EligibilityConfirmed`` with the person's pseudonym and the plan's new version
        (kept with who and why), and the territorial network's task for a person without a
        caregiver, once (``tasks``: the case's tasks so far): the events queued, the rows
        to store returned. The case then stands at the plan's version, the operator's words
        cleared: not copied here, since a run stores only the version (``_publish`` copies
        it)."""
        version = case.plan_version + 1
        event = uow.emit(
            eligibility.decision_event(
                case.case_id,
                case.expected_discharge_at,
                decision,
                person_ref=plans.person_ref(case.patient.fiscal_code, self._key),
                plan_version=version,
            ),
            subject=case.case_id,
            correlation_id=correlation_id,
        )
        tailored = any(r.code == PlanReason.TAILORED for r in decision.reasons)
        code = PlanReason.PACKAGE if version == 1 else PlanReason.DECISION_CHANGED
        by = case.confirmed_by or decision.decided_by
        plan = PlanVersion(
            version,
            decision.services,
            PlanReason.TAILORED if tailored else code,
            case.plan_note,
            by,
            now,
            event.id,
        )
        caregiver = case.caregiver.present if case.caregiver else None
        task = None
        if plans.needs_network(caregiver, tasks) and decision.ambito_id:
            task = NetworkTask(f"net-{uuid.uuid4().hex[:12]}", now)
            uow.emit(
                NetworkTaskOpened(
                    case_id=case.case_id,
                    ambito_id=decision.ambito_id,
                    task_id=task.task_id,
                    opened_at=now,
                ),
                subject=case.case_id,
                correlation_id=correlation_id,
            )
        return _Publication(case.case_id, event, plan, task)

    # the cap

    async def _cap(
        self,
        conn: AsyncConnection,
        case: Case,
        services: Sequence[ServiceLine],
        exceptions: Sequence[CapException] | None = None,
    ) -> CapCheck:
        """``services`` as the case's plan, against the person's other plans and the cap of
        the case's district; each plan counted over its own district's follow-up period."""
        others = await store.person_plans(conn, case.patient.fiscal_code, case.case_id)
        return await self._checked(conn, case, services, others, exceptions)

    async def _checked(
        self,
        conn: AsyncConnection,
        case: Case,
        services: Sequence[ServiceLine],
        others: Sequence[tuple[str, Sequence[ServiceLine]]],
        exceptions: Sequence[CapException] | None = None,
    ) -> CapCheck:
        """``_cap`` with the person's other plans (district and services) given."""
        ambito = self._district(case)
        assert ambito is not None  # an eligible case has its district
        other_hours = sum(
            (plans.sad_hours(s, self._follow_up_days(a)) for a, s in others),
            plans.sad_hours([], 0),
        )
        check = CapCheck(
            cap=ambito.billing.sad_cap_hours,
            plan_hours=plans.sad_hours(services, ambito.monitoring.duration_days),
            other_hours=other_hours,
            excepted=False,
        )
        if exceptions is None and not check.exceeded:
            return check  # within the cap: whether excepted does not matter
        if exceptions is None:
            exceptions = await store.cap_exceptions_of(conn, case.case_id)
        return replace(check, excepted=bool(exceptions))

    async def _refused(
        self, conn: AsyncConnection, case: Case, check: CapCheck, by: str, now: datetime
    ) -> None:
        seq = len(await store.cap_refusals_of(conn, case.case_id)) + 1
        refusal = CapRefusal(seq, check.plan_hours, check.other_hours, check.cap, by, now)
        await store.add_cap_refusal(conn, case.case_id, refusal)

    def _follow_up_days(self, ambito_id: str) -> int:
        ambito = self._config.ambiti.get(ambito_id)
        return ambito.monitoring.duration_days if ambito else 30

    def _district(self, case: Case) -> Ambito | None:
        return self._config.ambiti.get(case.ambito_id) if case.ambito_id else None


# --- helpers ----------------------------------------------------------------------------------

_DECIDED = (CaseStatus.NOT_ELIGIBLE, CaseStatus.ELIGIBLE)
"""Where a new case publishes its decision at once (unless the cap holds it)."""


@dataclass(frozen=True)
class _Publication:
    """A decision published: its event, and the rows to store."""

    case_id: str
    event: Envelope
    plan: PlanVersion
    task: NetworkTask | None


def _emit_decision(
    uow: UnitOfWork, case: Case, correlation_id: str | None = None
) -> Envelope | None:
    """Queue the case's rejection; a later decision for the same case supersedes it."""
    if case.decision is None:
        return None
    data = eligibility.decision_event(case.case_id, case.expected_discharge_at, case.decision)
    return uow.emit(data, subject=case.case_id, correlation_id=correlation_id)


async def _open_case(conn: AsyncConnection, case_id: str, who: Principal) -> Case:
    """The case, locked until the transaction ends (two requests, or a request and the
    consumer, never decide it at once), if ``who`` may work on it (their district's; a case
    of no district is no team's) and it is still open."""
    case = await store.case(conn, case_id, lock=True)
    if case is None:
        raise _no_case(case_id)
    who.require_district(case.ambito_id)  # before its state is told or anything changes
    domain.ensure_open(case)
    return case


def _announcement(event: Envelope) -> DischargeAnnounced:
    assert isinstance(event.data, DischargeAnnounced)
    return event.data


def _no_case(case_id: str) -> NotFound:
    return NotFound("case.unknown", f"Nessun caso {case_id}.")


def _no_discharge(case_id: str) -> NotFound:
    return NotFound("case.unknown", f"Nessuna dimissione annunciata {case_id}.")
