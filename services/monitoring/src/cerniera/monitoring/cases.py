"""Monitoring's use cases: the one place that decides. The Kafka handlers, the équipe's HTTP API
and the periodic closure all call these, so a case is opened, checked and closed (and its event
published) the same way whoever asks.

Each use case loads through ``store``, decides through ``domain``, saves through ``store`` and
emits through the unit of work. Everything monitoring publishes about a case carries the case's
own correlation id (the eligibility decision's), even when a hospital event with a correlation
of its own is the cause; the time is passed in.

Intake's decisions and the hospital's events travel on different topics, so a reschedule, a
cancellation or a readmission may arrive before the decision it concerns: it is kept as pending
and applied when the follow-up opens (a readmission then closes it at once). A decision
reversed later (confirmed, then rejected) ends the follow-up as withdrawn.

For the hand-over summary and the outcome indicators monitoring also keeps the announcement
(the person, the municipality of residence, when), each expected discharge the hospital gave,
and activation's facts (services active, escalations resolved, postponements asked for); all
kept by case, whatever order the topics deliver them in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from cerniera.monitoring import indicators, store
from cerniera.monitoring.config import BeneficiaryTarget, MonitoringConfig, MonitoringRule
from cerniera.monitoring.domain import (
    Activation,
    Check,
    CheckReport,
    DueCheck,
    EarlyOutcome,
    FollowUp,
    HandOver,
    HandOverRequest,
    PendingDischarge,
    by_urgency,
    hand_over_at_closure,
    running,
)
from cerniera.monitoring.indicators import CaseFacts, Outcomes
from cerniera.monitoring.summary import Summary, summary
from cerniera.shared.access import Principal
from cerniera.shared.clock import italian_date
from cerniera.shared.contract import (
    CaseClosed,
    CaseHandedOver,
    CaseOutcome,
    DischargeAnnounced,
    DischargePostponementRequested,
    EligibilityConfirmed,
    EscalationResolved,
    PatientDetailsUpdated,
    ServiceActivated,
    ServiceDeactivated,
    ServiceLine,
    ServiceType,
    WeeklyCheckDone,
)
from cerniera.shared.envelope import Envelope
from cerniera.shared.persistence.outbox import UnitOfWork
from cerniera.shared.refusals import NotFound

log = structlog.get_logger(__name__)

BATCH = 500
"""Follow-ups closed per transaction by the periodic closure; the rest wait for the next run."""

PENDING_RETENTION = timedelta(days=60)
"""How long a reschedule or cancellation for a case monitoring does not follow is kept: the
eligibility decision it waits for comes within hours, never months."""


# --- from intake and the hospital ------------------------------------------------------------


async def open_follow_up(
    uow: UnitOfWork,
    config: MonitoringConfig,
    decision: EligibilityConfirmed,
    correlation_id: str,
    now: datetime,
) -> None:
    """The case is confirmed: follow it from its discharge, by its district's rule. The same
    decision again (under another event id) opens nothing more. One decision alone: the
    consumer opens a run of them with ``open_follow_ups``."""
    rule = _rule(config, decision)
    pending = await store.take_pending(uow.conn, decision.case_id)
    followup = _opening(decision, correlation_id, rule, pending)
    opened = await store.add(uow.conn, followup, now)
    log.info(
        "followup.opened" if opened else "followup.known",
        status=followup.status,
        discharge_on=followup.schedule.discharge_on.isoformat(),
        applied_pending=pending is not None,
    )
    if opened:
        await _readmitted_before(uow, decision.case_id, pending, now)


async def open_follow_ups(
    uow: UnitOfWork,
    config: MonitoringConfig,
    decisions: Sequence[tuple[EligibilityConfirmed, str]],
    now: datetime,
    cause: Callable[[int], AbstractContextManager[object]],
) -> None:
    """``open_follow_up`` for a run of decisions (each with its chain id) in two statements:
    what was kept pending for the run's cases taken in one, their follow-ups added in one. A
    case's first decision in the run is the one that counts: a later one finds it followed, as
    one by one. A readmission kept before the decision then ends its follow-up, in the run's
    order, ``cause(i)`` marking the run's ``i``-th event as its cause. A district not in the
    configuration refuses the run before anything is kept."""
    rules = [_rule(config, decision) for decision, _ in decisions]
    first: dict[str, int] = {}
    for i, (decision, _) in enumerate(decisions):
        first.setdefault(decision.case_id, i)
    pending = await store.take_pending_each(uow.conn, list(first))
    new = [_opening(*decisions[i], rules[i], pending.get(case_id)) for case_id, i in first.items()]
    opened = await store.add_each(uow.conn, new, now)
    for i, (decision, _) in enumerate(decisions):
        case_id = decision.case_id
        if first[case_id] != i or case_id not in opened:
            with cause(i):
                log.info("followup.known")  # rare: the same decision again
        elif case_id in pending:
            with cause(i):
                await _readmitted_before(uow, case_id, pending[case_id], now)
    # One line per run, not per case: the follow-ups themselves are in the database.
    log.info(
        "followups.opened",
        decisions=len(decisions),
        opened=len(opened),
        cancelled=sum(1 for f in new if f.case_id in opened and not f.is_open),
        applied_pending=len(opened & pending.keys()),
    )


def _rule(config: MonitoringConfig, decision: EligibilityConfirmed) -> MonitoringRule:
    """The decision's district's rule; refused when the district is not configured."""
    rule = config.rule_for(decision.ambito_id)
    if rule is None:
        raise NotFound("ambito.unknown", f"no district {decision.ambito_id!r} in the configuration")
    return rule


def _opening(
    decision: EligibilityConfirmed,
    correlation_id: str,
    rule: MonitoringRule,
    pending: PendingDischarge | None,
) -> FollowUp:
    return FollowUp.open(
        decision.case_id,
        decision.ambito_id,
        decision.expected_discharge_at,
        rule,
        correlation_id,
        pending,
        person_ref=decision.person_ref,
        plan=decision.services,
    )


async def _readmitted_before(
    uow: UnitOfWork, case_id: str, pending: PendingDischarge | None, now: datetime
) -> None:
    """A follow-up just opened: readmitted before the decision came, it ends as it opens."""
    if pending is not None and pending.readmitted_at is not None:
        await readmit(uow, case_id, pending.readmitted_at, now)


async def reverse(uow: UnitOfWork, case_id: str, decided_by: str, now: datetime) -> None:
    """Intake rejected a case: if monitoring follows it (the decision was reversed), the
    follow-up ends as withdrawn. Most rejections are of cases never confirmed: nothing. One
    rejection alone: the consumer reverses a run of them with ``reverse_run``."""
    followup = await store.load(uow.conn, case_id, lock=True)
    if followup is not None:
        await _reversed(uow, followup, decided_by, now)


async def reverse_run(
    uow: UnitOfWork,
    rejections: Sequence[tuple[str, str]],
    now: datetime,
    cause: Callable[[int], AbstractContextManager[object]],
) -> None:
    """``reverse`` for a run of rejections (each a case id and who decided): the follow-ups of
    the run's cases locked in one statement; each one found (rare) reversed as one by one, in
    the run's order, ``cause(i)`` marking the run's ``i``-th event as its cause."""
    found = await store.lock_each(uow.conn, {case_id for case_id, _ in rejections})
    for i, (case_id, decided_by) in enumerate(rejections):
        followup = found.get(case_id)
        if followup is not None:
            with cause(i):  # a case rejected again in the run sees its first reversal
                found[case_id] = await _reversed(uow, followup, decided_by, now)


async def _reversed(
    uow: UnitOfWork, followup: FollowUp, decided_by: str, now: datetime
) -> FollowUp:
    """The locked follow-up ended as withdrawn (published), unless it had ended already."""
    ended = followup.reversed(now, decided_by)
    if ended is None:
        log.info("reversal.ignored", status=followup.status)
        return followup
    await _close(uow, ended)
    return ended


async def revise_plan(
    uow: UnitOfWork, case_id: str, services: Sequence[ServiceLine], now: datetime
) -> None:
    """The team revised the plan: the services the case has (for its hand-over)."""
    followup = await store.load(uow.conn, case_id, lock=True)
    revised = followup.plan_revised(services, now) if followup is not None else None
    if revised is None:
        log.info("plan_revision.ignored", status=followup.status if followup else None)
        return
    await store.save(uow.conn, revised)


async def note_announcements(uow: UnitOfWork, events: Sequence[Envelope], now: datetime) -> None:
    """Every announcement, in bulk: the person and the municipality (for the hand-over), when
    (for the indicators) and the expected discharge; forgotten if no case follows."""
    people: dict[str, dict[str, Any]] = {}
    dates = []
    for event in events:
        data = event.data_as(DischargeAnnounced)
        people[data.case_id] = {
            "case_id": data.case_id,
            "announced_at": event.time,
            "municipality_code": data.patient.municipality_code,
            "patient": data.patient.model_dump(mode="json"),
            "caregiver": data.caregiver.model_dump(mode="json") if data.caregiver else None,
            "received_at": now,
        }
        dates.append(_said(data.case_id, event.time, data.expected_discharge_at))
    await store.keep_announcements(uow.conn, list(people.values()))
    await store.keep_discharge_dates(uow.conn, dates)


async def update_details(uow: UnitOfWork, data: PatientDetailsUpdated) -> None:
    """The hospital corrected the address, phone or caregiver: the summary shows them."""
    details = {"address": data.address, **({"phone": data.phone} if data.phone else {})}
    caregiver = data.caregiver.model_dump(mode="json") if data.caregiver else None
    if not await store.update_details(uow.conn, data.case_id, details, caregiver):
        log.info("details.ignored")


def _said(case_id: str, said_at: datetime, expected: datetime) -> dict[str, Any]:
    return {"case_id": case_id, "said_at": said_at, "expected_discharge_at": expected}


# --- from activation -----------------------------------------------------------------------


async def service_activated(uow: UnitOfWork, data: ServiceActivated) -> None:
    await store.keep_activation(
        uow.conn,
        Activation(
            data.request_id, data.case_id, data.service_type, data.provider_id, data.active_from
        ),
    )


async def service_deactivated(uow: UnitOfWork, data: ServiceDeactivated) -> None:
    await store.stop_activation(uow.conn, data.request_id, data.until)


async def escalation_resolved(uow: UnitOfWork, data: EscalationResolved) -> None:
    await store.keep_resolution(
        uow.conn, data.case_id, data.service_type, data.resolution, data.resolved_at
    )


async def postponement_requested(uow: UnitOfWork, data: DischargePostponementRequested) -> None:
    await store.keep_postponement(uow.conn, data.case_id, data.requested_at, data.postpone_until)


async def reschedule(
    uow: UnitOfWork,
    case_id: str,
    expected_discharge_at: datetime,
    now: datetime,
    said_at: datetime | None = None,
) -> None:
    """The hospital moved the discharge (at ``said_at``, its event's time): the calendar moves
    with it until the discharge."""
    await store.keep_discharge_dates(
        uow.conn, [_said(case_id, said_at or now, expected_discharge_at)]
    )
    followup = await store.load(uow.conn, case_id, lock=True)
    if followup is None:
        # Kept (the latest wins: one case's hospital events are in order) in case the
        # decision is still on its way; dropped by the periodic purge otherwise.
        await store.keep_pending_date(uow.conn, case_id, expected_discharge_at, now)
        return
    moved = followup.rescheduled(expected_discharge_at, now)
    if moved is None:
        log.info(
            "reschedule.ignored",
            status=followup.status,
            discharge_at=str(followup.discharge_at),
        )
        return
    await store.save(uow.conn, moved)


async def cancel(uow: UnitOfWork, case_id: str, now: datetime) -> None:
    """The hospital cancelled the discharge: no follow-up, and nothing to publish."""
    followup = await store.load(uow.conn, case_id, lock=True)
    if followup is None:
        await store.keep_pending_cancellation(uow.conn, case_id, now)
        return
    cancelled = followup.cancelled()
    if cancelled is None:
        log.info("cancellation.ignored", status=followup.status)
        return
    await store.save(uow.conn, cancelled)


async def readmit(uow: UnitOfWork, case_id: str, readmitted_at: datetime, now: datetime) -> None:
    """Back in hospital: an open follow-up closes as readmitted; one that has ended notes it
    (the readmission rate); one not yet known keeps it until the decision comes."""
    followup = await store.load(uow.conn, case_id, lock=True)
    if followup is None:
        await store.keep_pending_readmission(uow.conn, case_id, readmitted_at, now)
        return
    changed = followup.readmitted(readmitted_at)
    if changed is None:
        log.info("readmission.ignored", status=followup.status)
    elif followup.is_open:
        await _close(uow, changed)
    else:
        await store.save(uow.conn, changed)


# --- the équipe ------------------------------------------------------------------------------
# ``who`` is the bearer of the request's token: a follow-up of another district is refused
# (403) before anything about it is told or changed.


async def record_check(
    uow: UnitOfWork, who: Principal, case_id: str, report: CheckReport, now: datetime
) -> Check:
    """Record the weekly check ``who`` reported (``report.checked_by`` is ``who.actor``) and
    publish ``WeeklyCheckDone``: its codes only, the team's notes (clinical free text) stay in
    monitoring's database."""
    followup = await _existing(uow.conn, case_id, lock=True, who=who)
    recorded = (await store.checks_of(uow.conn, [case_id]))[case_id]
    check = followup.check(recorded, report, now)
    stored = await store.add_check(uow.conn, check)
    uow.emit(
        WeeklyCheckDone.model_validate(check, from_attributes=True),
        subject=case_id,
        correlation_id=followup.correlation_id,
    )
    return stored


async def close_early(
    uow: UnitOfWork,
    who: Principal,
    case_id: str,
    outcome: EarlyOutcome,
    note: str | None,
    now: datetime,
) -> None:
    """The équipe (``who``) ends an open case before its time."""
    followup = await _existing(uow.conn, case_id, lock=True, who=who)
    await _close(uow, followup.closed(outcome.case_outcome, now, closed_by=who.actor, note=note))


async def hand_over(
    uow: UnitOfWork, who: Principal, case_id: str, request: HandOverRequest, now: datetime
) -> None:
    """The team (``who``, ``request.by``) hands the case over to the municipality: publish
    ``CaseHandedOver`` (the services that continue), then ``CaseClosed``. The needs and
    contacts stay here, in the hand-over summary."""
    followup = await _existing(uow.conn, case_id, lock=True, who=who)
    residence = (await store.residences(uow.conn, [case_id])).get(case_id)
    activations = (await store.activations_of(uow.conn, [case_id]))[case_id]
    services = [a.service_type for a in running(activations, italian_date(now))]
    closed, handover = followup.handed_over(request, residence, services, now)
    await _close(uow, closed, handover)


# --- the clock -------------------------------------------------------------------------------


async def close_due(uow: UnitOfWork, now: datetime) -> int:
    """Close every open follow-up whose ``closes_on`` has come (the Italian day of ``now``),
    with the outcome the last check recommended, up to ``BATCH``; forget what was kept pending
    too long. Return how many were closed."""
    today = italian_date(now)
    due = await store.open_past_period(uow.conn, today, BATCH)
    ids = [f.case_id for f in due]
    by_case = await store.checks_of(uow.conn, ids)
    residences = await store.residences(uow.conn, ids)
    activations = await store.activations_of(uow.conn, ids)
    for followup in due:
        closed = followup.closed_at_end_of_period(by_case[followup.case_id], now)
        # The last check recommended the hand-over and the team did not do the step: the
        # municipality of residence takes the case with the services running.
        handover = hand_over_at_closure(
            closed,
            residences.get(closed.case_id),
            [a.service_type for a in running(activations[closed.case_id], today)],
        )
        if closed.outcome is CaseOutcome.HANDED_OVER_TO_MUNICIPALITY and handover is None:
            log.warning("handover.municipality_unknown", case_id=closed.case_id)
        await _close(uow, closed, handover)
        log.info("followup.closed", case_id=closed.case_id, outcome=closed.outcome)
    await store.forget_pending(uow.conn, now - PENDING_RETENTION)
    return len(due)


# --- reads -----------------------------------------------------------------------------------


async def follow_up(
    conn: AsyncConnection, who: Principal, case_id: str
) -> tuple[FollowUp, list[Check]]:
    """A case's follow-up and its checks, by week."""
    followup = await _existing(conn, case_id, who=who)
    return followup, (await store.checks_of(conn, [case_id]))[case_id]


async def due_checks(
    conn: AsyncConnection, who: Principal, on: date, ambito_id: str | None = None
) -> list[DueCheck]:
    """The weekly checks due by ``on`` and not recorded, overdue first: of ``ambito_id`` (one
    of ``who``'s districts, else refused) or of all ``who``'s districts."""
    ambiti = who.districts()
    if ambito_id is not None:
        who.require_district(ambito_id)
        ambiti = frozenset({ambito_id})
    followups = await store.open_discharged_before(conn, on, ambiti)
    done = await store.checks_of(conn, [f.case_id for f in followups])
    return by_urgency(
        check
        for followup in followups
        for check in followup.due_checks({c.week for c in done[followup.case_id]}, on)
    )


async def hand_over_summary(
    conn: AsyncConnection, who: Principal, config: MonitoringConfig, case_id: str, today: date
) -> Summary:
    """The summary for the municipality's social services: of the hand-over once done, else
    a draft of what would be handed over today."""
    followup = await _existing(conn, case_id, who=who)
    handover = (await store.handovers_of(conn, [case_id])).get(case_id)
    return summary(
        followup,
        handover,
        await store.person(conn, case_id),
        (await store.activations_of(conn, [case_id]))[case_id],
        lambda provider_id: config.provider_name(followup.ambito_id, provider_id),
        _district_name(config, followup.ambito_id),
        today,
    )


@dataclass(frozen=True)
class DistrictOutcomes:
    ambito_id: str
    name: str | None
    outcomes: Outcomes
    beneficiaries_to_date: int
    """Distinct persons taken in charge ever: the progress against ``target``."""
    target: BeneficiaryTarget | None


async def outcomes(
    conn: AsyncConnection,
    who: Principal,
    config: MonitoringConfig,
    first: date,
    last: date,
    ambito_id: str | None = None,
) -> list[DistrictOutcomes]:
    """The outcome indicators of the cases discharged from ``first`` to ``last``, per district
    (``ambito_id``, one of ``who``'s, or all of ``who``'s)."""
    ambiti = _districts(who, config, ambito_id)
    followups = [
        f
        for f in await store.discharged_between(conn, ambiti, first, last)
        if not f.decision_reversed
    ]
    facts = await _facts(conn, followups)
    to_date = await store.beneficiaries(conn, ambiti)
    return [
        DistrictOutcomes(
            ambito_id=aid,
            name=_district_name(config, aid),
            outcomes=indicators.outcomes([f for f in facts if f.ambito_id == aid]),
            beneficiaries_to_date=to_date.get(aid, 0),
            target=config.ambiti[aid].beneficiary_target if aid in config.ambiti else None,
        )
        for aid in sorted(ambiti)
    ]


@dataclass(frozen=True)
class BeneficiaryRow:
    """One case in a period, for the funder's export."""

    case_id: str
    person_ref: str | None
    ambito_id: str
    start: date
    end: date | None
    outcome: CaseOutcome | None
    decision_reversed: bool


async def beneficiaries(
    conn: AsyncConnection,
    who: Principal,
    config: MonitoringConfig,
    first: date,
    last: date,
    ambito_id: str | None = None,
) -> list[BeneficiaryRow]:
    """Every case followed on some day from ``first`` to ``last``: from its discharge day to
    its closure day (or still open)."""
    ambiti = _districts(who, config, ambito_id)
    return [
        BeneficiaryRow(
            case_id=f.case_id,
            person_ref=f.person_ref,
            ambito_id=f.ambito_id,
            start=f.schedule.discharge_on,
            end=italian_date(f.closed_at) if f.closed_at else None,
            outcome=f.outcome,
            decision_reversed=f.decision_reversed,
        )
        for f in await store.running_between(conn, ambiti, first, last)
    ]


async def _facts(conn: AsyncConnection, followups: Sequence[FollowUp]) -> list[CaseFacts]:
    ids = [f.case_id for f in followups]
    announced = await store.announced_at(conn, ids)
    activations = await store.activations_of(conn, ids)
    resolutions = await store.resolutions_of(conn, ids)
    asked = await store.postponed_at(conn, ids)
    said = await store.dates_said(conn, ids)
    handed = await store.handovers_of(conn, ids)
    facts = []
    for f in followups:
        case = f.case_id
        first_active: dict[ServiceType, date] = {}
        for a in activations[case]:  # by active_from: the first of each service wins
            first_active.setdefault(a.service_type, a.active_from)
        handover = handed.get(case)
        facts.append(
            CaseFacts(
                case_id=case,
                ambito_id=f.ambito_id,
                discharge_on=f.schedule.discharge_on,
                person_ref=f.person_ref,
                outcome=f.outcome,
                readmitted_on=italian_date(f.readmitted_at) if f.readmitted_at else None,
                announced_on=italian_date(announced[case]) if case in announced else None,
                needs_provider=indicators.needs_provider(
                    [line.service_type for line in f.initial_plan], resolutions[case]
                ),
                first_active=first_active,
                planned_discharge_on=(
                    indicators.planned_before(said[case], asked[case]) if case in asked else None
                ),
                handed_over_by_team=(
                    handover.handed_over_by is not None if handover is not None else None
                ),
            )
        )
    return facts


def _districts(who: Principal, config: MonitoringConfig, ambito_id: str | None) -> frozenset[str]:
    """``ambito_id`` (one of ``who``'s, else refused), or every district of the configuration
    ``who`` sees."""
    if ambito_id is not None:
        who.require_district(ambito_id)
        return frozenset({ambito_id})
    seen = who.districts()
    return frozenset(config.ambiti) if seen is None else seen & frozenset(config.ambiti)


def _district_name(config: MonitoringConfig, ambito_id: str) -> str | None:
    ambito = config.ambiti.get(ambito_id)
    return ambito.name if ambito is not None else None


# --- shared steps ----------------------------------------------------------------------------


async def _existing(
    conn: AsyncConnection, case_id: str, *, lock: bool = False, who: Principal
) -> FollowUp:
    followup = await store.load(conn, case_id, lock=lock)
    if followup is None:
        raise NotFound("case.unknown", f"no follow-up for case {case_id}")
    who.require_district(followup.ambito_id)
    return followup


async def _close(uow: UnitOfWork, closed: FollowUp, handover: HandOver | None = None) -> None:
    """Save a follow-up just closed and publish ``CaseClosed``; ``CaseHandedOver`` first when
    it passes to the municipality."""
    assert closed.outcome is not None
    assert closed.closed_at is not None
    await store.save(uow.conn, closed)
    if handover is not None:
        await store.add_handover(uow.conn, handover)
        uow.emit(
            CaseHandedOver(
                case_id=closed.case_id,
                ambito_id=closed.ambito_id,
                municipality_code=handover.municipality_code,
                continuing=list(handover.continuing),
                handed_over_at=handover.handed_over_at,
            ),
            subject=closed.case_id,
            correlation_id=closed.correlation_id,
        )
    uow.emit(
        CaseClosed(case_id=closed.case_id, closed_at=closed.closed_at, outcome=closed.outcome),
        subject=closed.case_id,
        correlation_id=closed.correlation_id,
    )
