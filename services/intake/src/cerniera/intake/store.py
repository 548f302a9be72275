"""Intake's SQL: cases and the team's records, rows to domain entities and back, and the
team's list of cases. No decisions here: ``domain`` and ``eligibility`` make them."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from pydantic import BaseModel, TypeAdapter
from sqlalchemy import Integer, Row, Table, Text, Update, any_, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.dialects.postgresql import Insert as Upsert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert

from cerniera.intake.brass import BrassItems
from cerniera.intake.domain import (
    AssessmentContent,
    AssessmentVersion,
    Case,
    CaseStatus,
    OverrideRecord,
    TakingCharge,
    TakingChargeVersion,
)
from cerniera.intake.eligibility import RULE, Decision, Eligible, NotEligible
from cerniera.intake.plans import (
    TEAM_REVISIONS,
    CapException,
    CapRefusal,
    Consent,
    MediationNote,
    NetworkTask,
    PlanReason,
    PlanVersion,
)
from cerniera.intake.tables import (
    assessments,
    cap_exceptions,
    cap_refusals,
    cases,
    mediation_notes,
    network_tasks,
    overrides,
    plans,
    taking_charge,
)
from cerniera.shared.contract import (
    Assessment,
    Caregiver,
    Intensity,
    NetworkOutcome,
    NetworkResource,
    Patient,
    Reason,
    ServiceLine,
)
from cerniera.shared.persistence import bulk
from cerniera.shared.persistence.rows import entity, row_of

# --- cases -----------------------------------------------------------------------------------


async def case(conn: AsyncConnection, case_id: str, *, lock: bool = False) -> Case | None:
    """The case; ``lock`` holds it until the transaction ends, so two requests (or a request
    and the consumer) never decide the same case at once."""
    query = select(cases).where(cases.c.case_id == case_id)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).one_or_none()
    return None if row is None else _case(row)


async def add_new(conn: AsyncConnection, new: Sequence[Case]) -> set[str]:
    """Insert the cases not stored yet, in one statement: the ids of those inserted."""
    if not new:
        return set()
    result = await bulk.insert_rows(conn, cases, [_case_row(c) for c in new], _new_only)
    return set(result.scalars())


def _new_only(statement: Upsert) -> Insert:
    return statement.on_conflict_do_nothing().returning(cases.c.case_id)


async def save(conn: AsyncConnection, case: Case, now: datetime) -> None:
    """Store what a decision changes: the status, the decision, and what the ward sent; who
    confirmed it, the consent, the plan published, the readmission and the closure."""
    await _update(
        conn,
        case.case_id,
        now,
        status=case.status,
        expected_discharge_at=case.expected_discharge_at,
        assessment=_json(case.ward_assessment),
        decision=_decision_json(case),
        confirmed_by=case.confirmed_by,
        consent=_consent_json(case.consent),
        plan_version=case.plan_version,
        plan_note=case.plan_note,
        readmitted_at=case.readmitted_at,
        closed_at=case.closed_at,
        closed_outcome=case.closed_outcome,
    )


async def person_plans(
    conn: AsyncConnection, fiscal_code: str, other_than: str
) -> list[tuple[str, list[ServiceLine]]]:
    """The person's other published plans that still stand (district and services): every
    visit, every hospital, not rejected since; ``Case.published_eligible`` says which."""
    standing = await persons_plans(conn, [fiscal_code])
    return [
        plan for case_id, plan in standing.get(fiscal_code, {}).items() if case_id != other_than
    ]


async def persons_plans(
    conn: AsyncConnection, fiscal_codes: Collection[str]
) -> dict[str, dict[str, tuple[str, list[ServiceLine]]]]:
    """``person_plans`` of several persons in one statement: per fiscal code, per case, the
    published plan that still stands (district and services)."""
    rows = (await conn.execute(_PERSONS_PLANS, {"codes": sorted(fiscal_codes)})).all()
    found: dict[str, dict[str, tuple[str, list[ServiceLine]]]] = {}
    for row in rows:
        other = _case(row)
        if other.published_eligible and isinstance(other.decision, Eligible):
            plan = (other.decision.ambito_id, other.decision.services)
            found.setdefault(row.fiscal_code, {})[other.case_id] = plan
    return found


_PERSONS_PLANS = select(cases).where(
    cases.c.fiscal_code == any_(bindparam("codes", type_=ARRAY(Text))), cases.c.plan_version > 0
)


async def set_published(
    conn: AsyncConnection, published: Sequence[tuple[str, int]], now: datetime
) -> None:
    """Cases stored as they are but for the plan just published: (case id, plan version) each,
    the pending operator's words cleared; one statement for them all."""
    if published:
        await conn.execute(
            _SET_PUBLISHED,
            {
                "case_ids": [case_id for case_id, _ in published],
                "plan_versions": [version for _, version in published],
                "now": now,
            },
        )


def _set_published() -> Update:
    given = (
        func.unnest(
            bindparam("case_ids", type_=ARRAY(Text)),
            bindparam("plan_versions", type_=ARRAY(Integer)),
        )
        .table_valued("case_id", "plan_version")
        .render_derived()
    )
    return (
        update(cases)
        .where(cases.c.case_id == given.c.case_id)
        .values(plan_version=given.c.plan_version, plan_note=None, updated_at=bindparam("now"))
    )


_SET_PUBLISHED = _set_published()


async def set_expected_discharge(
    conn: AsyncConnection, case_id: str, expected_discharge_at: datetime, now: datetime
) -> bool:
    """False when there is no such case."""
    return await _update(conn, case_id, now, expected_discharge_at=expected_discharge_at)


async def set_status(
    conn: AsyncConnection, case_id: str, status: CaseStatus, now: datetime
) -> bool:
    """False when there is no such case."""
    return await _update(conn, case_id, now, status=status)


async def cases_page(
    conn: AsyncConnection,
    status: CaseStatus | None,
    limit: int,
    offset: int,
    ambiti: Collection[str] | None = None,
) -> tuple[int, list[Row[Any]]]:
    """One page of cases (most urgent discharge first) and how many there are in all, of the
    districts ``ambiti`` (``None``: every case)."""
    where = [cases.c.status == status] if status is not None else []
    if ambiti is not None:
        where.append(cases.c.ambito_id.in_(sorted(ambiti)))
    total = await conn.scalar(select(func.count()).select_from(cases).where(*where))
    rows = (
        await conn.execute(
            select(*_SUMMARY)
            .where(*where)
            .order_by(cases.c.expected_discharge_at, cases.c.case_id)
            .limit(limit)
            .offset(offset)
        )
    ).all()
    return int(total or 0), list(rows)


_SUMMARY = [
    cases.c[name]
    for name in (
        "case_id",
        "hospital_id",
        "ward",
        "ambito_id",
        "status",
        "expected_discharge_at",
        "created_at",
    )
]


async def _update(conn: AsyncConnection, case_id: str, now: datetime, **values: Any) -> bool:
    changed = await conn.scalar(
        update(cases)
        .where(cases.c.case_id == case_id)
        .values(**values, updated_at=now)
        .returning(cases.c.case_id)
    )
    return changed is not None


def _case(row: Row[Any]) -> Case:
    return entity(
        Case,
        row,
        status=CaseStatus(row.status),
        patient=Patient.model_validate(row.patient),
        caregiver=Caregiver.model_validate(row.caregiver) if row.caregiver else None,
        ward_assessment=Assessment.model_validate(row.assessment) if row.assessment else None,
        decision=decision_from_record(row.decision, row.ambito_id),
        decided_at=_decided_at(row.decision),
        announced_at=row.created_at,
        consent=_consent(row.consent),
    )


def _case_row(case: Case) -> dict[str, Any]:
    return row_of(
        cases,
        case,
        patient=case.patient.model_dump(mode="json"),
        caregiver=_json(case.caregiver),
        assessment=_json(case.ward_assessment),
        decision=_decision_json(case),
        consent=_consent_json(case.consent),
        fiscal_code=case.patient.fiscal_code,
        created_at=case.announced_at,
        updated_at=case.announced_at,
    )


# --- the team's records, one row per version ---------------------------------------------------


async def assessment_versions(conn: AsyncConnection, case_id: str) -> list[AssessmentVersion]:
    rows = await _versions(conn, assessments, assessments.c.version, case_id)
    return [
        entity(
            AssessmentVersion,
            r,
            content=AssessmentContent(
                Assessment(answers=r.answers, brass_score=r.brass_score, notes=r.notes),
                BrassItems.model_validate(r.brass_items) if r.brass_items else None,
            ),
        )
        for r in rows
    ]


async def add_assessment(conn: AsyncConnection, case_id: str, new: AssessmentVersion) -> None:
    assessment = new.content.assessment
    row = row_of(
        assessments,
        new,
        case_id=case_id,
        answers={r: a.value for r, a in assessment.answers.items()},
        brass_score=assessment.brass_score,
        brass_items=_json(new.content.brass_items),
        notes=assessment.notes,
    )
    await conn.execute(insert(assessments).values(row))


async def overrides_of(
    conn: AsyncConnection, case_id: str, ambito_id: str | None
) -> list[OverrideRecord]:
    """The case's overrides, oldest first (``ambito_id``: the case's district)."""
    rows = await _versions(conn, overrides, overrides.c.seq, case_id)
    return [
        entity(
            OverrideRecord,
            r,
            decision=_decision(r.decision, ambito_id),
            rule=decision_from_record(r.rule, ambito_id),
        )
        for r in rows
    ]


async def add_override(conn: AsyncConnection, case_id: str, new: OverrideRecord) -> None:
    row = row_of(
        overrides,
        new,
        case_id=case_id,
        decision=decision_record(new.decision, new.decided_at),
        rule=decision_record(new.rule) if new.rule else None,
    )
    await conn.execute(insert(overrides).values(row))


async def taking_charge_versions(conn: AsyncConnection, case_id: str) -> list[TakingChargeVersion]:
    rows = await _versions(conn, taking_charge, taking_charge.c.version, case_id)
    return [
        entity(TakingChargeVersion, r, content=TakingCharge(pai=r.pai, information=r.information))
        for r in rows
    ]


async def add_taking_charge(conn: AsyncConnection, case_id: str, new: TakingChargeVersion) -> None:
    row = row_of(
        taking_charge,
        new,
        case_id=case_id,
        pai=dict(new.content.pai),
        information=dict(new.content.information),
    )
    await conn.execute(insert(taking_charge).values(row))


async def plan_versions(conn: AsyncConnection, case_id: str) -> list[PlanVersion]:
    rows = await _versions(conn, plans, plans.c.version, case_id)
    return [
        entity(
            PlanVersion,
            r,
            services=[ServiceLine.model_validate(s) for s in r.services],
            reason_code=PlanReason(r.reason_code),
        )
        for r in rows
    ]


async def add_plan(conn: AsyncConnection, case_id: str, new: PlanVersion) -> None:
    await add_plans(conn, [(case_id, new)])


async def add_plans(conn: AsyncConnection, new: Sequence[tuple[str, PlanVersion]]) -> None:
    """Plan versions of several cases, (case id, version) each, in one statement."""
    if new:
        await bulk.insert_rows(conn, plans, [_plan_row(case_id, plan) for case_id, plan in new])


def _plan_row(case_id: str, new: PlanVersion) -> dict[str, Any]:
    return row_of(
        plans,
        new,
        case_id=case_id,
        services=_SERVICES.dump_python(new.services, mode="json"),
        reason_code=new.reason_code.value,
    )


async def cap_exceptions_of(conn: AsyncConnection, case_id: str) -> list[CapException]:
    rows = await _versions(conn, cap_exceptions, cap_exceptions.c.seq, case_id)
    return [entity(CapException, r) for r in rows]


async def add_cap_exception(conn: AsyncConnection, case_id: str, new: CapException) -> None:
    await conn.execute(insert(cap_exceptions).values(row_of(cap_exceptions, new, case_id=case_id)))


async def cap_refusals_of(conn: AsyncConnection, case_id: str) -> list[CapRefusal]:
    rows = await _versions(conn, cap_refusals, cap_refusals.c.seq, case_id)
    return [entity(CapRefusal, r) for r in rows]


async def add_cap_refusal(conn: AsyncConnection, case_id: str, new: CapRefusal) -> None:
    await conn.execute(insert(cap_refusals).values(row_of(cap_refusals, new, case_id=case_id)))


async def network_tasks_of(conn: AsyncConnection, case_id: str) -> list[NetworkTask]:
    rows = await _versions(conn, network_tasks, network_tasks.c.opened_at, case_id)
    return [
        entity(
            NetworkTask,
            r,
            outcome=NetworkOutcome(r.outcome) if r.outcome else None,
            resources=tuple(NetworkResource(x) for x in r.resources),
        )
        for r in rows
    ]


async def add_network_task(conn: AsyncConnection, case_id: str, new: NetworkTask) -> None:
    await add_network_tasks(conn, [(case_id, new)])


async def add_network_tasks(conn: AsyncConnection, new: Sequence[tuple[str, NetworkTask]]) -> None:
    """Network tasks of several cases, (case id, task) each, in one statement."""
    if new:
        rows = [
            row_of(network_tasks, task, case_id=case_id, resources=list(task.resources))
            for case_id, task in new
        ]
        await bulk.insert_rows(conn, network_tasks, rows)


async def complete_network_task(conn: AsyncConnection, case_id: str, done: NetworkTask) -> None:
    await conn.execute(
        update(network_tasks)
        .where(network_tasks.c.case_id == case_id, network_tasks.c.task_id == done.task_id)
        .values(
            outcome=done.outcome.value if done.outcome else None,
            resources=[r.value for r in done.resources],
            notes=done.notes,
            completed_by=done.completed_by,
            completed_at=done.completed_at,
        )
    )


async def mediation_notes_of(conn: AsyncConnection, case_id: str) -> list[MediationNote]:
    rows = await _versions(conn, mediation_notes, mediation_notes.c.seq, case_id)
    return [entity(MediationNote, r) for r in rows]


async def add_mediation_note(conn: AsyncConnection, case_id: str, new: MediationNote) -> None:
    row = row_of(mediation_notes, new, case_id=case_id)
    await conn.execute(insert(mediation_notes).values(row))


# --- the district's report ------------------------------------------------------------------------


async def decisions_report(
    conn: AsyncConnection, ambiti: Collection[str] | None
) -> dict[str, dict[str, int]]:
    """Per district: the plans confirmed by the team and by the rule, the cases waiting, the
    tailored plans and revisions, the cap's refusals and exceptions, the network tasks and
    the mediation notes. ``ambiti`` None: every district."""
    where = [cases.c.ambito_id.is_not(None)]
    if ambiti is not None:
        where.append(cases.c.ambito_id.in_(sorted(ambiti)))
    district = cases.c.ambito_id
    published = cases.c.plan_version > 0
    by_rule = cases.c.confirmed_by == RULE
    counts = {
        "confirmed_by_team": func.count().filter(published, ~by_rule),
        "confirmed_by_rule": func.count().filter(published, by_rule),
        "awaiting_confirmation": func.count().filter(
            cases.c.status == CaseStatus.AWAITING_CONFIRMATION
        ),
        "awaiting_consent": func.count().filter(cases.c.status == CaseStatus.AWAITING_CONSENT),
    }
    report: dict[str, dict[str, int]] = {}
    query = select(district, *(c.label(k) for k, c in counts.items())).where(*where)
    for row in (await conn.execute(query.group_by(district))).all():
        report[row.ambito_id] = {k: int(getattr(row, k)) for k in counts}
    team_plan = plans.c.reason_code.in_([r.value for r in TEAM_REVISIONS])
    per_case = {
        "tailored_plans": (plans, func.count(func.distinct(plans.c.case_id)).filter(team_plan)),
        "plan_revisions": (plans, func.count().filter(team_plan, plans.c.version > 1)),
        "cap_refusals": (cap_refusals, func.count()),
        "persons_refused": (cap_refusals, func.count(func.distinct(cases.c.fiscal_code))),
        "cap_exceptions": (cap_exceptions, func.count()),
        "network_tasks_opened": (network_tasks, func.count()),
        "network_tasks_completed": (
            network_tasks,
            func.count().filter(network_tasks.c.completed_at.is_not(None)),
        ),
        "mediation_notes": (mediation_notes, func.count()),
    }
    for key, (table, counted) in per_case.items():
        joined = table.join(cases, table.c.case_id == cases.c.case_id)
        query = select(district, counted.label("n")).select_from(joined).where(*where)
        for row in (await conn.execute(query.group_by(district))).all():
            report.setdefault(row.ambito_id, {})[key] = int(row.n)
    keys = [*counts, *per_case]
    return {a: {k: figures.get(k, 0) for k in keys} for a, figures in sorted(report.items())}


async def _versions(
    conn: AsyncConnection, table: Table, order: Any, case_id: str
) -> list[Row[Any]]:
    query = select(table).where(table.c.case_id == case_id).order_by(order)
    return list((await conn.execute(query)).all())


# --- decisions as stored (JSON) ------------------------------------------------------------------


def decision_record(decision: Decision, decided_at: datetime | None = None) -> dict[str, Any]:
    """A decision as stored with its case (JSON): what was published, who decided and why."""
    record: dict[str, Any] = {
        "decided_by": decision.decided_by,
        "reasons": _REASONS.dump_python(decision.reasons, mode="json"),
    }
    if decided_at is not None:
        record["decided_at"] = decided_at.isoformat()
    if isinstance(decision, Eligible):
        record["intensity"] = decision.intensity.value
        record["services"] = _SERVICES.dump_python(decision.services, mode="json")
    return record


# A list dumped in one call rather than one call per item: the same JSON, for less.
_REASONS = TypeAdapter(list[Reason])
_SERVICES = TypeAdapter(list[ServiceLine])


def decision_from_record(
    record: Mapping[str, Any] | None, ambito_id: str | None
) -> Decision | None:
    """The decision stored by ``decision_record``, back."""
    if record is None:
        return None
    reasons = [Reason.model_validate(r) for r in record["reasons"]]
    decided_by = str(record["decided_by"])
    if "intensity" not in record:
        return NotEligible(reasons=reasons, ambito_id=ambito_id, decided_by=decided_by)
    if ambito_id is None:
        raise ValueError("an eligible decision always has its district")
    return Eligible(
        ambito_id=ambito_id,
        intensity=Intensity(record["intensity"]),
        services=[ServiceLine.model_validate(s) for s in record["services"]],
        reasons=reasons,
        decided_by=decided_by,
    )


def _decision(record: Mapping[str, Any], ambito_id: str | None) -> Decision:
    decision = decision_from_record(record, ambito_id)
    assert decision is not None
    return decision


def _decided_at(record: Mapping[str, Any] | None) -> datetime | None:
    decided_at = (record or {}).get("decided_at")
    return datetime.fromisoformat(decided_at) if decided_at else None


def _decision_json(case: Case) -> dict[str, Any] | None:
    if case.decision is None:
        return None
    return decision_record(case.decision, case.decided_at)


def _consent(record: Mapping[str, Any] | None) -> Consent | None:
    if record is None:
        return None
    return Consent(**{**record, "recorded_at": datetime.fromisoformat(record["recorded_at"])})


def _consent_json(consent: Consent | None) -> dict[str, Any] | None:
    if consent is None:
        return None
    return {**asdict(consent), "recorded_at": consent.recorded_at.isoformat()}


def _json(model: BaseModel | None) -> Any:
    return model.model_dump(mode="json") if model is not None else None
