"""The desk's projection: every event of every topic into its read model (``tables``), in
the consumer's transaction.

The consumer hands a batch to the handlers run by run (consecutive events of one type); the
desk gathers the runs of a transaction and writes them once, at its end (just before the
transaction's outbox is written): the timeline rows, the touched cases' views (loaded in one
select, folded, upserted in one statement), the requests whose provider's view changed, the
ledger's rows, and one ``NOTIFY`` of what changed, heard by every replica once committed. A
batch of thousands of events is a handful of statements.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ARRAY, Text, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from cerniera.desk import fold
from cerniera.desk.casefile import CaseView, RequestView
from cerniera.desk.live import CHANNEL, Change, payloads
from cerniera.desk.tables import cases, ledger, requests, timeline
from cerniera.shared.ambiti import load_document
from cerniera.shared.contract import EVENT_TYPES, ProviderStatementIssued
from cerniera.shared.envelope import Envelope
from cerniera.shared.messaging.consumer import Handler, Handlers
from cerniera.shared.persistence.outbox import UnitOfWork

CHUNK = 1000
"""Rows per statement: PostgreSQL takes at most 32,767 parameters in one (12 a timeline row)."""


def make_handlers(districts: fold.Districts | None = None) -> Handlers:
    """The one handler of every event type of the contract. ``districts``: municipality →
    district, where an announced case belongs before intake decides (default: the districts'
    document, ``CERNIERA_AMBITI``)."""
    residence = districts if districts is not None else fold.residence_districts(load_document())
    pending: weakref.WeakKeyDictionary[UnitOfWork, Batch] = weakref.WeakKeyDictionary()

    async def gather(uow: UnitOfWork, events: Sequence[Envelope]) -> None:
        batch = pending.get(uow)
        if batch is None:
            batch = pending[uow] = Batch(residence)
            conn = uow.conn
            # Once per transaction, at its end: one select and one upsert for the batch.
            uow.before_commit(lambda: batch.write(conn))
        batch.events.extend(events)

    handler: Handler = gather
    return {model: handler for model in EVENT_TYPES.values()}


@dataclass
class Batch:
    """The events of one transaction, in the order the consumer handed them."""

    districts: fold.Districts
    events: list[Envelope] = field(default_factory=list)

    async def write(self, conn: AsyncConnection) -> None:
        if not self.events:
            return
        by_case: dict[str, list[Envelope]] = {}
        for event in self.events:
            if (case_id := fold.case_of(event)) is not None:
                by_case.setdefault(case_id, []).append(event)
        loaded = await _views(conn, by_case)
        # What the batch changes is told against what was: read before folding in place.
        districts_before = {case_id: view.ambito_id for case_id, view in loaded.items()}
        requests_before = {case_id: fold.request_views(view) for case_id, view in loaded.items()}
        after = {
            case_id: fold.fold(loaded.get(case_id), events, self.districts, in_place=True)
            for case_id, events in by_case.items()
        }
        changed_requests = [
            request
            for case_id, view in after.items()
            for request_id, request in fold.request_views(view).items()
            if requests_before.get(case_id, {}).get(request_id) != request
        ]
        await _insert(conn, timeline, _timeline_rows(self.events, after), conflict="event_id")
        await _upsert_cases(conn, after.values())
        await _upsert_requests(conn, changed_requests)
        await _insert(conn, ledger, _ledger_rows(self.events), conflict="event_id")
        await _backfill_districts(conn, districts_before, after)
        await _notify(conn, _changes(by_case, districts_before, after, changed_requests))


async def _views(conn: AsyncConnection, case_ids: Iterable[str]) -> dict[str, CaseView]:
    wanted = list(case_ids)
    if not wanted:
        return {}
    query = select(cases.c.view).where(cases.c.case_id == func.any(_texts(wanted)))
    return {
        view.case_id: view
        for view in (CaseView.model_validate(row.view) for row in await conn.execute(query))
    }


def _texts(values: list[str]) -> Any:
    return bindparam(None, values, type_=ARRAY(Text))


def _timeline_rows(
    events: Sequence[Envelope], after: Mapping[str, CaseView]
) -> list[dict[str, Any]]:
    rows = []
    for event in events:
        data = event.data
        case_id = fold.case_of(event)
        # The case's district (as the batch leaves it) for its events; billing's own.
        ambito = (
            after[case_id].ambito_id if case_id is not None else getattr(data, "ambito_id", None)
        )
        rows.append(
            {
                "event_id": event.id,
                "case_id": case_id,
                "ambito_id": ambito,
                "provider_id": getattr(data, "provider_id", None),
                "event_type": event.type,
                "source": event.source,
                "topic": type(data).topic,
                "occurred_at": event.time,
                "correlation_id": event.correlation_id,
                "causation_id": event.causation_id,
                "data": data.model_dump(mode="json"),
            }
        )
    return rows


def _ledger_rows(events: Sequence[Envelope]) -> list[dict[str, Any]]:
    return [
        {
            "event_id": event.id,
            "event_type": event.type,
            "ambito_id": getattr(event.data, "ambito_id"),  # noqa: B009 - every ledger event's
            "provider_id": getattr(event.data, "provider_id", None),
            "period": (
                event.data.period if isinstance(event.data, ProviderStatementIssued) else None
            ),
            "occurred_at": event.time,
            "data": event.data.model_dump(mode="json"),
        }
        for event in events
        if isinstance(event.data, fold.LEDGER_EVENTS)
    ]


async def _insert(
    conn: AsyncConnection, table: Any, rows: list[dict[str, Any]], *, conflict: str
) -> None:
    # A redelivered event (another source, the same id) is already there: kept as it was.
    for start in range(0, len(rows), CHUNK):
        stmt = insert(table).values(rows[start : start + CHUNK])
        await conn.execute(stmt.on_conflict_do_nothing(index_elements=[conflict]))


async def _upsert_cases(conn: AsyncConnection, views: Iterable[CaseView]) -> None:
    rows = [
        {
            "case_id": view.case_id,
            "ambito_id": view.ambito_id,
            "hospital_id": view.hospital_id,
            "stage": view.stage.value,
            "discharge_at": view.expected_discharge_at,
            "view": view.model_dump(mode="json"),
        }
        for view in views
    ]
    for start in range(0, len(rows), CHUNK):
        stmt = insert(cases).values(rows[start : start + CHUNK])
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[cases.c.case_id],
                set_={
                    "ambito_id": stmt.excluded.ambito_id,
                    "hospital_id": stmt.excluded.hospital_id,
                    "stage": stmt.excluded.stage,
                    "discharge_at": stmt.excluded.discharge_at,
                    "view": stmt.excluded.view,
                    "updated_at": func.now(),
                },
            )
        )


async def _upsert_requests(conn: AsyncConnection, views: Sequence[RequestView]) -> None:
    rows = [
        {
            "request_id": view.request_id,
            "provider_id": view.provider_id,
            "case_id": view.case_id,
            "status": view.status.value,
            "start_by": view.start_by,
            "view": view.model_dump(mode="json"),
        }
        for view in views
    ]
    for start in range(0, len(rows), CHUNK):
        stmt = insert(requests).values(rows[start : start + CHUNK])
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[requests.c.request_id],
                set_={
                    "provider_id": stmt.excluded.provider_id,
                    "case_id": stmt.excluded.case_id,
                    "status": stmt.excluded.status,
                    "start_by": stmt.excluded.start_by,
                    "view": stmt.excluded.view,
                    "updated_at": func.now(),
                },
            )
        )


async def _backfill_districts(
    conn: AsyncConnection, before: Mapping[str, str | None], after: Mapping[str, CaseView]
) -> None:
    """A case whose district became known (or changed): its earlier timeline rows follow, so
    a district's timeline is its cases' whole history, whatever order the topics came in."""
    moved = [case_id for case_id, ambito in before.items() if ambito != after[case_id].ambito_id]
    if not moved:
        return
    await conn.execute(
        update(timeline)
        .where(
            timeline.c.case_id == cases.c.case_id,
            cases.c.case_id == func.any(_texts(moved)),
            timeline.c.ambito_id.is_distinct_from(cases.c.ambito_id),
        )
        .values(ambito_id=cases.c.ambito_id)
    )


def _changes(
    by_case: Mapping[str, list[Envelope]],
    before: Mapping[str, str | None],
    after: Mapping[str, CaseView],
    changed_requests: Sequence[RequestView],
) -> list[Change]:
    providers: dict[str, set[str]] = {case_id: set() for case_id in by_case}
    for case_id, events in by_case.items():
        providers[case_id].update(
            p for e in events if isinstance(p := getattr(e.data, "provider_id", None), str)
        )
    for request in changed_requests:
        providers[request.case_id].add(request.provider_id)
    changes = [
        Change(case_id, after[case_id].ambito_id, frozenset(providers[case_id]))
        for case_id in by_case
    ]
    # A case that moved to another district leaves the old one's boards too.
    changes.extend(
        Change(case_id, ambito)
        for case_id, ambito in before.items()
        if ambito is not None and ambito != after[case_id].ambito_id
    )
    return changes


async def _notify(conn: AsyncConnection, changes: Sequence[Change]) -> None:
    """Delivered by PostgreSQL when (and only if) the transaction commits."""
    chunks = payloads(changes)
    if chunks:
        await conn.execute(
            text("SELECT pg_notify(:channel, p) FROM unnest(:chunks) AS p").bindparams(
                bindparam("channel", CHANNEL), bindparam("chunks", chunks, type_=ARRAY(Text))
            )
        )
