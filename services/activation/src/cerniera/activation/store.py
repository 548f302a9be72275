"""Reading and locking activation's rows, shared by the handlers, the deadline check and the API.

Lock order is always the case row first, then its requests: the consumer, the deadline check
and other replicas then never deadlock, and each sees the case as the last one left it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, func, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from cerniera.activation.domain import Attempt, CaseStatus, CaseView, RequestStatus
from cerniera.activation.tables import cases, requests
from cerniera.shared.contract import Beneficiary, ServiceLine, ServiceType


@dataclass(frozen=True)
class Case:
    case_id: str
    status: CaseStatus
    ambito_id: str | None
    municipality_code: str | None
    beneficiary: Beneficiary | None
    services: tuple[ServiceLine, ...]
    discharge_on: date | None
    correlation_id: str
    end_reason: str | None

    @classmethod
    def of(cls, row: Row[Any]) -> Case:
        return cls(
            case_id=row.case_id,
            status=CaseStatus(row.status),
            ambito_id=row.ambito_id,
            municipality_code=row.municipality_code,
            beneficiary=Beneficiary.model_validate(row.beneficiary) if row.beneficiary else None,
            services=tuple(ServiceLine.model_validate(s) for s in row.services or ()),
            discharge_on=row.discharge_on,
            correlation_id=row.correlation_id,
            end_reason=row.end_reason,
        )

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

    def view(self) -> CaseView:
        return CaseView(
            case_id=self.case_id,
            status=self.status,
            discharge_on=self.discharge_on,
            services=tuple(s.service_type for s in self.services),
            municipality_code=self.municipality_code,
            end_reason=self.end_reason,
        )


def attempt_of(row: Row[Any]) -> Attempt:
    return Attempt(
        request_id=row.request_id,
        service_type=ServiceType(row.service_type),
        provider_id=row.provider_id,
        attempt=row.attempt,
        status=RequestStatus(row.status),
        start_by=row.start_by,
        earliest_start=row.earliest_start,
        requested_at=row.requested_at,
        deadline_at=row.deadline_at,
        answered_at=row.answered_at,
        active_from=row.active_from,
        reason=row.reason,
    )


async def lock_case(
    conn: AsyncConnection, case_id: str, *, skip_locked: bool = False
) -> Case | None:
    row = (
        await conn.execute(
            select(cases).where(cases.c.case_id == case_id).with_for_update(skip_locked=skip_locked)
        )
    ).one_or_none()
    return Case.of(row) if row is not None else None


async def update_case(conn: AsyncConnection, case_id: str, **values: Any) -> Case:
    """Update a case (already locked by this transaction) and return it as it is now."""
    row = (
        await conn.execute(
            update(cases)
            .where(cases.c.case_id == case_id)
            .values(**values, updated_at=func.now())
            .returning(*cases.c)
        )
    ).one()
    return Case.of(row)


async def lock_or_create_case(
    conn: AsyncConnection, case_id: str, values: Mapping[str, Any]
) -> tuple[Case, bool]:
    """The case locked, created from ``values`` if new; ``True`` when it was created.

    One statement: an upsert that changes nothing on conflict still locks the row and returns
    it, and ``xmax = 0`` tells a fresh row from an existing one. Two replicas seeing a case's
    first events on two topics at once queue on the row instead of one failing on the key.
    """
    row = (await conn.execute(_UPSERT, {"case_id": case_id, **values})).one()
    return Case.of(row), bool(row.created)


# Built once: the columns come from each call's parameters, and SQLAlchemy caches the compiled
# form per set of columns (building the statement per call cost as much as running it).
_insert = insert(cases)
_UPSERT = _insert.on_conflict_do_update(
    index_elements=[cases.c.case_id], set_={"case_id": _insert.excluded.case_id}
).returning(*cases.c, literal_column("xmax = 0").label("created"))


async def attempts_of(conn: AsyncConnection, case_id: str) -> list[Attempt]:
    rows = await conn.execute(
        select(requests)
        .where(requests.c.case_id == case_id)
        .order_by(requests.c.requested_at, requests.c.request_id)
    )
    return [attempt_of(r) for r in rows]


async def attempts_by_case(
    conn: AsyncConnection, case_ids: Sequence[str]
) -> dict[str, list[Attempt]]:
    found: dict[str, list[Attempt]] = {c: [] for c in case_ids}
    if case_ids:
        rows = await conn.execute(
            select(requests)
            .where(requests.c.case_id.in_(case_ids))
            .order_by(requests.c.case_id, requests.c.requested_at, requests.c.request_id)
        )
        for r in rows:
            found[r.case_id].append(attempt_of(r))
    return found
