"""Intake's service layer: one method per use case, for the consumer and the team's API.

Each loads through ``store``, decides through ``domain`` (and ``eligibility``), saves through
``store`` and queues the decision events with ``uow.emit``; nothing else decides. The time is
the service's clock, read once the case is locked. A decision the hospital's event caused
joins that event's chain (the consumer sets the cause); one made on the team's request has no
event as its cause, so it passes the case's stored correlation id and stays in its chain.
Refusals are ``cerniera.shared.refusals``: the consumer dead-letters them, the API answers them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from cerniera.intake import brass, domain, eligibility, store
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
from cerniera.intake.eligibility import Decision
from cerniera.shared.access import Principal
from cerniera.shared.causation import handling
from cerniera.shared.clock import Clock
from cerniera.shared.contract import AnswerValue, DischargeAnnounced, Intensity
from cerniera.shared.envelope import Envelope
from cerniera.shared.persistence.outbox import UnitOfWork
from cerniera.shared.refusals import NotFound

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


# --- the use cases -----------------------------------------------------------------------------


class IntakeCases:
    """Intake's use cases on the districts' configuration and the service's clock."""

    def __init__(self, config: IntakeConfig, clock: Clock) -> None:
        self._config = config
        self._clock = clock

    # the hospital's events

    async def announce(self, uow: UnitOfWork, events: Sequence[Envelope]) -> None:
        """A run of announcements: the new cases in one statement, each decision caused by its
        own announcement; a case announced again is looked at on its own."""
        now = self._clock.now()  # the service's time (accelerated in the demo)
        first: dict[str, tuple[Envelope, Case]] = {}
        repeated: list[Envelope] = []
        for event in events:
            data = _announcement(event)
            if data.case_id in first:
                repeated.append(event)
                continue
            outcome = domain.assess_announcement(self._config, data)
            opened = domain.new_case(data, outcome, correlation_id=event.chain_id, now=now)
            first[data.case_id] = (event, opened)
        created = await store.add_new(uow.conn, [opened for _, opened in first.values()])
        known_before = []
        for case_id, (event, opened) in first.items():
            if case_id in created:
                with handling(event):
                    _emit_decision(uow, opened)
            else:
                known_before.append(event)
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
        _emit_decision(uow, assessed)

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

    # the team's requests

    async def case_file(self, conn: AsyncConnection, case_id: str, who: Principal) -> CaseFile:
        case = await store.case(conn, case_id)
        if case is None:
            raise _no_case(case_id)
        who.require_district(case.ambito_id)
        return CaseFile(
            case=case,
            ambito=self._district(case),
            assessments=await store.assessment_versions(conn, case_id),
            overrides=await store.overrides_of(conn, case_id, case.ambito_id),
            taking_charge=await store.taking_charge_versions(conn, case_id),
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
            case = case.with_outcome(reassessed.decision, now)
            await store.save(uow.conn, case, now)
            published = _emit_decision(uow, case, case.correlation_id)
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
        changes the decision in force."""
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
            case = case.with_outcome(overridden.decision, now)
            await store.save(uow.conn, case, now)
            published = _emit_decision(uow, case, case.correlation_id)
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
                raise NotFound("ambito.unknown", f"no district {ambito_id}")
        return brass.score(items, *domain.brass_bands(ambito))

    def _district(self, case: Case) -> Ambito | None:
        return self._config.ambiti.get(case.ambito_id) if case.ambito_id else None


# --- helpers ----------------------------------------------------------------------------------


def _emit_decision(
    uow: UnitOfWork, case: Case, correlation_id: str | None = None
) -> Envelope | None:
    """Queue the case's decision, if it has one; a later one for the same case supersedes it."""
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
    return NotFound("case.unknown", f"no case {case_id}")


def _no_discharge(case_id: str) -> NotFound:
    return NotFound("case.unknown", f"no announced discharge {case_id}")
