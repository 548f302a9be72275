"""The reads the pages make of the read model: each one query on an index, fast on thousands
of cases. They take the connection (``runtime.engine.connect()``) and filters the caller has
already checked against the user's grants: a query never widens what it is given (no
districts: no cases).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, Text, bindparam, func, select
from sqlalchemy.dialects.postgresql import JSONB, distinct_on
from sqlalchemy.ext.asyncio import AsyncConnection

from cerniera.desk.casefile import CaseView, RequestStatus, RequestView, Stage
from cerniera.desk.tables import cases as cases_table
from cerniera.desk.tables import ledger as ledger_table
from cerniera.desk.tables import requests as requests_table
from cerniera.desk.tables import timeline as timeline_table

BOOKKEEPING = ("requests", "deliveries")
"""What the fold keeps to draw a case's services and its requests' views from, in any order:
left out of the lists (most of a long case's view), which show the services drawn."""
CASES_LIMIT = 2000
"""Most cases one list shows: a district's whole month, and no page that never ends."""


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One event of a case's history, as the desk received it."""

    seq: int
    """Arrival order at the desk (another after a rebuild)."""
    event_id: str
    event_type: str
    occurred_at: datetime
    """The event's own time (``ce_time``)."""
    source: str
    topic: str
    provider_id: str | None
    correlation_id: str | None
    causation_id: str | None
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One of billing's events: a statement issued, a budget threshold reached."""

    event_id: str
    event_type: str
    ambito_id: str
    provider_id: str | None
    period: str | None
    occurred_at: datetime
    data: dict[str, Any]


def _texts(values: Collection[str]) -> Any:
    return bindparam(None, sorted(values), type_=ARRAY(Text))


async def case_view(conn: AsyncConnection, case_id: str) -> CaseView | None:
    """The case's view, or None if the desk has read nothing of it."""
    row = (
        await conn.execute(select(cases_table.c.view).where(cases_table.c.case_id == case_id))
    ).first()
    return None if row is None else CaseView.model_validate(row.view)


async def timeline(conn: AsyncConnection, case_id: str) -> list[TimelineEntry]:
    """The case's history, in the order it happened (each event's own time; the order the desk
    read them only between events of the same moment): the same after a rebuild, which reads
    the topics in another order. A deactivation reaches the desk twice (activation's topic and
    its copy on the provider's, each with an id of its own): shown once."""
    t = timeline_table
    first = (
        select(t)
        .where(t.c.case_id == case_id)
        .ext(distinct_on(t.c.event_type, t.c.source, t.c.occurred_at, t.c.causation_id, t.c.data))
        .order_by(t.c.event_type, t.c.source, t.c.occurred_at, t.c.causation_id, t.c.data, t.c.seq)
        .subquery()
    )
    rows = await conn.execute(select(first).order_by(first.c.occurred_at, first.c.seq))
    return [
        TimelineEntry(
            seq=row.seq,
            event_id=row.event_id,
            event_type=row.event_type,
            occurred_at=row.occurred_at,
            source=row.source,
            topic=row.topic,
            provider_id=row.provider_id,
            correlation_id=row.correlation_id,
            causation_id=row.causation_id,
            data=row.data,
        )
        for row in rows
    ]


async def cases(
    conn: AsyncConnection,
    ambito_ids: Collection[str],
    stages: Collection[Stage] | None = None,
    discharge_from: datetime | None = None,
    discharge_to: datetime | None = None,
    limit: int = CASES_LIMIT,
) -> list[CaseView]:
    """The cases of ``ambito_ids`` (in ``stages``, all by default) whose expected discharge is
    within ``[discharge_from, discharge_to)`` when given (a case with no date yet only when
    neither is), soonest discharge first. For lists: without the fold's bookkeeping (each
    request's facts, each delivered line: ``requests_of`` has the providers' view of them),
    which a case's own page (``case_view``) has."""
    if not ambito_ids:
        return []
    c = cases_table.c
    listed = c.view.op("-", return_type=JSONB)(_texts(BOOKKEEPING)).label("view")
    query = select(listed).where(c.ambito_id == func.any(_texts(ambito_ids)))
    if stages is not None:
        query = query.where(c.stage == func.any(_texts([Stage(s).value for s in stages])))
    if discharge_from is not None:
        query = query.where(c.discharge_at >= discharge_from)
    if discharge_to is not None:
        query = query.where(c.discharge_at < discharge_to)
    query = query.order_by(c.discharge_at.asc().nulls_last(), c.case_id).limit(limit)
    return [CaseView.model_validate(row.view) for row in await conn.execute(query)]


async def requests_of(
    conn: AsyncConnection,
    provider_id: str,
    statuses: Collection[RequestStatus] | None = None,
) -> list[RequestView]:
    """The provider's requests (in ``statuses``, all by default), the most urgent first."""
    r = requests_table.c
    query = select(r.view).where(r.provider_id == provider_id)
    if statuses is not None:
        query = query.where(
            r.status == func.any(_texts([RequestStatus(s).value for s in statuses]))
        )
    query = query.order_by(r.start_by.asc().nulls_last(), r.request_id)
    return [RequestView.model_validate(row.view) for row in await conn.execute(query)]


async def request(conn: AsyncConnection, request_id: str) -> RequestView | None:
    """One request as its provider sees it (the caller checks it is the user's provider's)."""
    r = requests_table.c
    row = (await conn.execute(select(r.view).where(r.request_id == request_id))).first()
    return None if row is None else RequestView.model_validate(row.view)


async def ledger(
    conn: AsyncConnection,
    ambito_ids: Collection[str] | None = None,
    provider_id: str | None = None,
    event_type: str | None = None,
) -> list[LedgerEntry]:
    """Billing's events, oldest first, of ``ambito_ids`` / ``provider_id`` / ``event_type``
    when given (``BudgetThresholdReached``, ``ProviderStatementIssued``)."""
    g = ledger_table.c
    query = select(ledger_table)
    if ambito_ids is not None:
        query = query.where(g.ambito_id == func.any(_texts(ambito_ids)))
    if provider_id is not None:
        query = query.where(g.provider_id == provider_id)
    if event_type is not None:
        query = query.where(g.event_type == event_type)
    query = query.order_by(g.occurred_at, g.event_id)
    return [
        LedgerEntry(
            event_id=row.event_id,
            event_type=row.event_type,
            ambito_id=row.ambito_id,
            provider_id=row.provider_id,
            period=row.period,
            occurred_at=row.occurred_at,
            data=row.data,
        )
        for row in await conn.execute(query)
    ]
