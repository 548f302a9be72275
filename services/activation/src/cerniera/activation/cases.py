"""Activation's use cases: each locks the case once, lets ``domain`` decide, saves what changed
and emits what it decided, in the caller's transaction. The Kafka handlers, the deadline check
and the readiness API all come through here.

Every event is emitted with the case's correlation id, whatever its cause carried: a provider's
answer or a timer belongs to the case's chain, and still names its own cause.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from cerniera.activation import store
from cerniera.activation.config import ActivationConfig
from cerniera.activation.domain import Case, CaseFile, Ending, Ignored
from cerniera.activation.escalations import Resolve
from cerniera.activation.planning import ITALY, Rules, WorkingCalendar
from cerniera.activation.readiness import Readiness, readiness
from cerniera.shared.access import Principal
from cerniera.shared.clock import Clock
from cerniera.shared.contract import (
    CaseClosed,
    CaseHandedOver,
    DischargeAnnounced,
    EligibilityConfirmed,
    PatientDetailsUpdated,
    PatientReadmitted,
    PlanRevised,
    ServiceActivationAccepted,
    ServiceActivationDeclined,
    ServiceActivationEscalated,
)
from cerniera.shared.messaging.consumer import distinct_stretches
from cerniera.shared.persistence.outbox import Database, UnitOfWork
from cerniera.shared.refusals import NotFound

log = structlog.get_logger(__name__)

Transition = Callable[[CaseFile], Ignored]
"""One of ``CaseFile``'s transitions, with its input."""


class Activation:
    """The use cases over the districts' configuration and the runtime's clock (accelerated in
    the demo and in tests): "today" for lead times, "now" for answer deadlines."""

    def __init__(
        self, config: ActivationConfig, clock: Clock, calendar: WorkingCalendar = ITALY
    ) -> None:
        self.config = config
        self.clock = clock
        self.calendar = calendar

    # --- the hospital ----------------------------------------------------------------------

    async def announced(self, uow: UnitOfWork, data: DischargeAnnounced, chain_id: str) -> None:
        """Keep the beneficiary's contact and the expected discharge; plan if the package is
        already known (the decision may have arrived first)."""
        case, created = await store.lock_or_create(uow.conn, Case.announced(data, chain_id))
        if not created:
            await self._apply(uow, case, lambda file: file.announced(data), "announcement")

    async def rescheduled(self, uow: UnitOfWork, case_id: str, discharge_at: datetime) -> None:
        case = await store.lock_case(uow.conn, case_id)
        if case is None:
            # Its announcement came first on this partition, so it was never announced (or
            # was dead-lettered): intake dead-letters the reschedule; nothing to move here.
            log.warning("reschedule.ignored", reason="unknown case")
            return
        await self._apply(uow, case, lambda file: file.rescheduled(discharge_at), "reschedule")

    async def details_updated(self, uow: UnitOfWork, data: PatientDetailsUpdated) -> None:
        """New address or phone: the providers asked get them (their requests sent again)."""
        case = await store.lock_case(uow.conn, data.case_id)
        if case is None:
            # Its announcement comes first on this partition: never announced here.
            log.warning("details.ignored", reason="unknown case")
            return
        await self._apply(uow, case, lambda file: file.details_updated(data), "details")

    async def cancelled(self, uow: UnitOfWork, case_id: str, chain_id: str) -> None:
        await self._end(uow, case_id, Ending.cancelled(self.clock.today()), chain_id)

    async def readmitted(self, uow: UnitOfWork, data: PatientReadmitted, chain_id: str) -> None:
        await self._end(uow, data.case_id, Ending.readmitted(data.readmitted_at), chain_id)

    # --- intake and monitoring -------------------------------------------------------------

    async def confirmed(self, uow: UnitOfWork, data: EligibilityConfirmed, chain_id: str) -> None:
        """The package: planned once the contact is known too; a later decision changes the
        plan under way. A district activation does not know is refused."""
        self._rules().ambito(data.ambito_id)  # refused when unknown, before anything is kept
        case, created = await store.lock_or_create(uow.conn, Case.confirmed(data, chain_id))
        if created:
            log.info("plan.waiting", waiting_for="DischargeAnnounced")
            return
        await self._apply(uow, case, lambda file: file.confirmed(data), "eligibility")

    async def confirmed_run(
        self,
        uow: UnitOfWork,
        decisions: Sequence[tuple[EligibilityConfirmed, str]],
        cause: Callable[[int], AbstractContextManager[object]],
    ) -> None:
        """``confirmed`` for a run of decisions (each with its chain id), in a few statements
        for the whole run (``_lock_or_create_run``). ``cause(i)`` marks the run's ``i``-th
        event as the cause of what follows from it."""
        rules = self._rules()
        for data, _ in decisions:
            rules.ambito(data.ambito_id)  # refused when unknown, before anything is kept
        await self._lock_or_create_run(
            uow,
            [Case.confirmed(*decision) for decision in decisions],
            lambda i, file: file.confirmed(decisions[i][0]),
            "eligibility",
            cause,
            waiting_for="DischargeAnnounced",
        )

    async def announced_run(
        self,
        uow: UnitOfWork,
        announcements: Sequence[tuple[DischargeAnnounced, str]],
        cause: Callable[[int], AbstractContextManager[object]],
    ) -> None:
        """``announced`` for a run of announcements (each with its chain id): the cases seen
        for the first time created in one statement (the usual case: the ward announces
        before intake decides), then the others (known already: the decision came first; or
        announced again in the run) as a run of their own, in a few statements for the whole
        run. ``cause(i)`` marks the run's ``i``-th event as the cause of what follows from it."""
        new = [Case.announced(*announcement) for announcement in announcements]  # built once
        first: dict[str, int] = {}
        for i, case in enumerate(new):
            first.setdefault(case.case_id, i)
        created = await store.create_new(uow.conn, [new[i] for i in first.values()])
        rest = [
            i
            for i, case in enumerate(new)
            if first[case.case_id] != i or case.case_id not in created
        ]
        await self._lock_or_create_run(
            uow,
            [new[i] for i in rest],
            lambda j, file: file.announced(announcements[rest[j]][0]),
            "announcement",
            lambda j: cause(rest[j]),
        )

    async def _lock_or_create_run(
        self,
        uow: UnitOfWork,
        new: Sequence[Case],
        transition: Callable[[int, CaseFile], Ignored],
        what: str,
        cause: Callable[[int], AbstractContextManager[object]],
        *,
        waiting_for: str | None = None,
    ) -> None:
        """A run of one transition: in each stretch of distinct cases, the cases locked or
        created (as ``new``) in one statement, their requests read in one, the ``i``-th
        event's ``transition`` applied to each case that was known, what changed written in
        one statement per table. A case created waits (``waiting_for`` is logged)."""
        rules = self._rules()
        for stretch in distinct_stretches([(case.case_id,) for case in new]):
            found = await store.lock_or_create_each(uow.conn, [new[i] for i in stretch])
            known = [case_id for case_id, (_, created) in found.items() if not created]
            attempts = await store.attempts_of_each(uow.conn, known)
            files = []
            for i in stretch:
                case, created = found[new[i].case_id]
                with cause(i):
                    if created:
                        if waiting_for is not None:
                            log.info("plan.waiting", waiting_for=waiting_for)
                        continue
                    file = CaseFile(case, attempts[case.case_id], rules)
                    files.append(self._settle(uow, file, transition(i, file), what))
            await self._save_each(uow, files)

    async def rejected_run(
        self,
        uow: UnitOfWork,
        case_ids: Sequence[str],
        cause: Callable[[int], AbstractContextManager[object]],
    ) -> None:
        """``rejected`` for a run of decisions, the cases locked in one statement, their
        requests read in one, what changed written in one per table."""
        rules = self._rules()
        for stretch in distinct_stretches([(case_id,) for case_id in case_ids]):
            found = await store.lock_each(uow.conn, [case_ids[i] for i in stretch])
            attempts = await store.attempts_of_each(uow.conn, list(found))
            files = []
            for i in stretch:
                case = found.get(case_ids[i])
                if case is None:
                    continue
                with cause(i):
                    file = CaseFile(case, attempts[case.case_id], rules)
                    files.append(self._settle(uow, file, file.rejected(), "rejection"))
            await self._save_each(uow, files)

    async def revised(self, uow: UnitOfWork, data: PlanRevised) -> None:
        """The team's revised plan: re-planned under way. It follows the decision on the same
        topic, so an unknown case is one whose decision never arrived (dead-lettered)."""
        self._rules().ambito(data.ambito_id)  # refused when unknown, before anything is kept
        case = await store.lock_case(uow.conn, data.case_id)
        if case is None:
            raise NotFound("case.unknown", f"no decision known for case {data.case_id}")
        await self._apply(uow, case, lambda file: file.revised(data), "plan_revision")

    async def rejected(self, uow: UnitOfWork, case_id: str) -> None:
        case = await store.lock_case(uow.conn, case_id)
        if case is not None:
            await self._apply(uow, case, CaseFile.rejected, "rejection")

    async def handed_over(self, uow: UnitOfWork, data: CaseHandedOver) -> None:
        case = await store.lock_case(uow.conn, data.case_id)
        if case is None:
            log.warning("hand_over.ignored", reason="unknown case")
            return
        await self._apply(uow, case, lambda file: file.handed_over(data), "hand_over")

    async def closed(self, uow: UnitOfWork, data: CaseClosed, chain_id: str) -> None:
        ending = Ending.closed(data.closed_at, data.outcome)
        await self._end(uow, data.case_id, ending, chain_id)

    # --- the team --------------------------------------------------------------------------

    async def resolve(self, uow: UnitOfWork, case_id: str, ask: Resolve, who: Principal) -> None:
        """The team of the case's district resolves an escalated service (``who`` acts)."""
        case = await store.lock_case(uow.conn, case_id)
        if case is None:
            raise NotFound("case.unknown", f"Attivazione non conosce il caso {case_id!r}.")
        who.require_district(case.ambito_id)
        file = await self._open(uow, case)
        file.resolve(ask, who.actor)
        log.info("escalation.resolved", service_type=ask.service_type, resolution=ask.resolution)
        await self._save(uow, file)

    # --- providers -------------------------------------------------------------------------

    async def accepted(
        self,
        uow: UnitOfWork,
        data: ServiceActivationAccepted,
        subject: str | None,
        sent_at: datetime | None = None,
    ) -> None:
        """``sent_at``: the answer's own time (``ce_time``), by which its deadline is judged."""

        def accept(file: CaseFile) -> Ignored:
            return file.accepted(data.request_id, data.provider_id, data.scheduled_start, sent_at)

        await self._answered(uow, data.request_id, subject, accept)

    async def declined(
        self, uow: UnitOfWork, data: ServiceActivationDeclined, subject: str | None
    ) -> None:
        def decline(file: CaseFile) -> Ignored:
            why = file.declined(data.request_id, data.provider_id, data.reason_code)
            if why is None:
                log.info("request.declined", reason_code=data.reason_code, note=data.note)
            return why

        await self._answered(uow, data.request_id, subject, decline)

    # --- time ------------------------------------------------------------------------------

    async def expire_overdue(self, db: Database, *, limit: int = 200) -> int:
        """Withdraw requests unanswered past their deadline and ask the next provider. One
        transaction per case; a case busy in the consumer is left for the next period."""
        async with db.engine.connect() as conn:
            case_ids = await store.overdue_cases(conn, self.clock.now(), limit)
        expired = 0
        for case_id in case_ids:
            try:
                async with db.unit_of_work() as uow:
                    expired += await self.expire_case(uow, case_id)
            except Exception:
                log.exception("deadline.check_failed", case_id=case_id)
        return expired

    async def expire_case(self, uow: UnitOfWork, case_id: str) -> int:
        case = await store.lock_case(uow.conn, case_id, skip_locked=True)
        if case is None:  # busy: the next period will see it
            return 0
        file = await self._open(uow, case)
        overdue = file.expire()
        for attempt in overdue:
            log.info(
                "request.expired",
                case_id=case_id,
                request_id=attempt.request_id,
                deadline_at=attempt.deadline_at.isoformat(),
            )
        await self._save(uow, file)
        return len(overdue)

    # --- steps -----------------------------------------------------------------------------

    def _rules(self) -> Rules:
        return Rules(self.config.ambiti, self.clock.now(), self.calendar)

    async def _open(self, uow: UnitOfWork, case: Case) -> CaseFile:
        """The locked case with its requests, for one transition."""
        return CaseFile(case, await store.attempts_of(uow.conn, case.case_id), self._rules())

    async def _apply(self, uow: UnitOfWork, case: Case, transition: Transition, what: str) -> None:
        """Apply ``transition`` to the locked case, then save and emit what it decided."""
        file = await self._open(uow, case)
        why = transition(file)
        if why is not None:
            log.info(f"{what}.ignored", reason=why)
        await self._save(uow, file)

    async def _end(self, uow: UnitOfWork, case_id: str, ending: Ending, chain_id: str) -> None:
        """Deactivate every open request and end the case; a case never seen is recorded as
        ended, so a decision arriving later on another topic does not start it."""
        case, created = await store.lock_or_create(
            uow.conn, Case.ended_unseen(case_id, ending, chain_id)
        )
        if created:
            log.info("case.ended_unseen", reason=ending.reason)
            return
        await self._apply(uow, case, lambda file: file.end(ending), "case.end")

    async def _answered(
        self, uow: UnitOfWork, request_id: str, subject: str | None, transition: Transition
    ) -> None:
        """A provider's answer, applied to the case of its request (locked)."""
        case_id = await store.case_of_request(uow.conn, request_id)
        case = await store.lock_case(uow.conn, case_id) if case_id is not None else None
        if case is None:
            log.info("answer.ignored", request_id=request_id, reason="unknown request")
            return
        if subject is not None and subject != case.case_id:
            log.warning("answer.subject_mismatch", request_case_id=case.case_id)
        await self._apply(uow, case, transition, "answer")

    def _settle(self, uow: UnitOfWork, file: CaseFile, why: Ignored, what: str) -> CaseFile:
        """A transition of a run applied: logged if ignored, its events emitted (its rows are
        saved with the run's, ``_save_each``)."""
        if why is not None:
            log.info(f"{what}.ignored", reason=why)
        self._emit(uow, file)
        return file

    async def _save_each(self, uow: UnitOfWork, files: Sequence[CaseFile]) -> None:
        """``_save`` for the rows of a run's distinct cases: one statement per table."""
        await store.save_cases(uow.conn, [f.case for f in files if f.case_changed])
        await store.save_requests_of_each(
            uow.conn,
            [(f.case.case_id, a) for f in files for a in f.created],
            [a for f in files for a in f.updated],
        )

    async def _save(self, uow: UnitOfWork, file: CaseFile) -> None:
        case = file.case
        if file.case_changed:
            await store.save_case(uow.conn, case)
        await store.save_requests(uow.conn, case.case_id, file.created, file.updated)
        self._emit(uow, file)

    def _emit(self, uow: UnitOfWork, file: CaseFile) -> None:
        case = file.case
        for data in file.events:
            if isinstance(data, ServiceActivationEscalated):
                log.warning("service.escalated", service_type=data.service_type, reason=data.reason)
            uow.emit(data, subject=case.case_id, correlation_id=case.correlation_id)


# --- the readiness view ----------------------------------------------------------------------


async def case_readiness(conn: AsyncConnection, case_id: str, today: date) -> Readiness:
    case = await store.load_case(conn, case_id)
    if case is None:
        raise NotFound(
            "case.unknown",
            f"activation knows no case {case_id!r}: neither its discharge announcement nor "
            "its eligibility decision has arrived here",
        )
    return readiness(case, await store.attempts_of(conn, case_id), today)


async def open_cases_readiness(conn: AsyncConnection, today: date) -> list[Readiness]:
    """Every case with a package that has not ended, soonest discharge first."""
    found = await store.open_cases(conn)
    attempts = await store.attempts_by_case(conn, [c.case_id for c in found])
    return [readiness(case, attempts[case.case_id], today) for case in found]
