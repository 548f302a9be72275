"""The core of the batch consumer, against a fake database: no broker, no PostgreSQL.

The fake keeps what a real transaction would: the inbox's claimed keys and the events each
committed transaction applied and emitted, all thrown away when the transaction fails.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import asyncpg
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import ClauseElement, MetaData
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection

from cerniera.shared.clock import Clock
from cerniera.shared.contract import (
    DischargeCancelled,
    DischargeRescheduled,
    EventData,
    PatientReadmitted,
    Topics,
)
from cerniera.shared.envelope import Envelope
from cerniera.shared.messaging.consumer import (
    EventConsumer,
    Handlers,
    per_event,
    runs,
)
from cerniera.shared.messaging.dlq import Record
from cerniera.shared.outages import is_transient
from cerniera.shared.persistence.inbox import Inbox
from cerniera.shared.persistence.outbox import UnitOfWork
from cerniera.shared.persistence.tables import inbox_table, outbox_table
from cerniera.shared.refusals import NotFound, Refused
from support.discharges import HOSPITAL, HOSPITAL_SOURCE, cancelled, from_hospital, rescheduled
from support.records import FakeRecord

MOVED = datetime(2024, 10, 9, 9, 0, tzinfo=UTC)
OUTBOX = outbox_table(MetaData())


# --- the fakes -----------------------------------------------------------------------------


@dataclass
class Transaction:
    """The fake connection of one transaction: what it claimed and what its handlers did."""

    claimed: set[tuple[str, str]] = field(default_factory=set)
    applied: list[str] = field(default_factory=list)
    """``ce_id`` of every event a handler applied, in order."""


@dataclass
class Committed:
    applied: list[str]
    emitted: list[Envelope]


class FakeDatabase:
    """``unit_of_work()`` like ``persistence.outbox.Database``: commits when the block ends,
    keeps nothing when it raises."""

    def __init__(self) -> None:
        self.claimed: set[tuple[str, str]] = set()
        self.commits: list[Committed] = []
        self.rollbacks = 0

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        tx = Transaction()
        uow = UnitOfWork(
            cast(AsyncConnection, tx), OUTBOX, Topics(), "urn:dp:service:test", Clock()
        )
        try:
            yield uow
        except BaseException:
            self.rollbacks += 1
            raise
        self.claimed |= tx.claimed
        self.commits.append(Committed(tx.applied, list(uow.emitted)))

    @property
    def applied(self) -> list[str]:
        """Every event applied by a committed transaction, in commit order."""
        return [event_id for commit in self.commits for event_id in commit.applied]


class FakeInbox:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING``: each key new to the inbox comes back
    once, however often the batch holds it."""

    def __init__(self, db: FakeDatabase) -> None:
        self._db = db
        self.digests: dict[tuple[str, str], str] = {}

    async def claim(
        self, conn: AsyncConnection, events: Sequence[Envelope]
    ) -> set[tuple[str, str]]:
        tx = cast(Transaction, conn)
        new = {e.dedup_key for e in events} - self._db.claimed - tx.claimed
        tx.claimed |= new
        for event in events:
            self.digests.setdefault(event.dedup_key, event.digest)
        return new

    async def conflicting(
        self, conn: AsyncConnection, events: Sequence[Envelope]
    ) -> set[tuple[str, str]]:
        return {e.dedup_key for e in events if self.digests[e.dedup_key] != e.digest}


@dataclass
class DeadLetter:
    record: Record
    code: str
    reason: str
    attempts: int


class FakeDeadLetters:
    def __init__(self) -> None:
        self.sent: list[DeadLetter] = []

    async def send(self, record: Record, code: str, reason: str, attempts: int = 1) -> None:
        self.sent.append(DeadLetter(record, code, reason, attempts))


def record(event: Envelope) -> FakeRecord:
    value, headers = event.to_binary()
    return FakeRecord(value, headers, key=(event.subject or "").encode())


def moved(ref: str) -> Envelope:
    return from_hospital(rescheduled(ref, MOVED))


def gone(ref: str) -> Envelope:
    return from_hospital(cancelled(ref))


def readmitted(ref: str) -> Envelope:
    data = PatientReadmitted(hospital_id=HOSPITAL, discharge_ref=ref, readmitted_at=MOVED)
    return Envelope(data=data, source=HOSPITAL_SOURCE, subject=data.case_id)


class Recorder:
    """Handlers that note what they apply, in the transaction's fake connection, and fail on
    demand: ``fail[event_id]`` is raised at every call, or is a list of outcomes, one per call
    (``None``: that call succeeds)."""

    def __init__(self) -> None:
        self.runs: list[list[str]] = []
        self.calls: dict[str, int] = {}
        self.fail: dict[str, BaseException | list[BaseException | None]] = {}

    async def apply(self, uow: UnitOfWork, events: Sequence[Envelope]) -> None:
        self.runs.append([e.id for e in events])
        for event in events:
            self.calls[event.id] = self.calls.get(event.id, 0) + 1
            outcome = self.fail.get(event.id)
            if isinstance(outcome, list):
                outcome = outcome.pop(0) if outcome else None
            if outcome is not None:
                raise outcome
            cast(Transaction, uow.conn).applied.append(event.id)

    def handlers(self, *types: type[EventData]) -> Handlers:
        return dict.fromkeys(types or (DischargeRescheduled, DischargeCancelled), self.apply)


@dataclass
class Rig:
    db: FakeDatabase
    dead_letters: FakeDeadLetters
    consumer: EventConsumer


def rig(handlers: Handlers, max_attempts: int = 3) -> Rig:
    db, dead_letters = FakeDatabase(), FakeDeadLetters()
    consumer = EventConsumer(
        name="unit-test",
        db=db,
        inbox=FakeInbox(db),
        handlers=handlers,
        dead_letters=dead_letters,
        topics=Topics(),
        max_attempts=max_attempts,
        retry_delay=0.0,
    )
    return Rig(db, dead_letters, consumer)


# --- runs ----------------------------------------------------------------------------------


def test_runs_split_consecutive_events_of_one_type_and_keep_the_order() -> None:
    a1, a2, a3 = moved("A1"), moved("A2"), moved("A3")
    b1, b2, b3 = gone("B1"), gone("B2"), gone("B3")
    grouped = runs([a1, a2, b1, a3, b2, b3])
    assert [[e.id for e in run] for run in grouped] == [
        [a1.id, a2.id],
        [b1.id],
        [a3.id],
        [b2.id, b3.id],
    ]
    assert runs([]) == []


def test_runs_with_keys_regroup_by_type_keeping_each_cases_order() -> None:
    a1, b1, c1 = moved("A"), moved("B"), moved("C")
    a2, c2, a3 = gone("A"), gone("C"), moved("A")
    grouped = runs([a1, b1, a2, c1, a3, c2], ["A", "B", "A", "C", "A", "C"])
    # C's move joins the first run; A's second move must wait behind A's cancellation.
    assert [[e.id for e in run] for run in grouped] == [
        [a1.id, b1.id, c1.id],
        [a2.id, c2.id],
        [a3.id],
    ]


def test_an_event_without_a_key_keeps_its_place_among_all() -> None:
    a1, b1, x, c1 = moved("A"), gone("B"), moved("X"), moved("C")
    grouped = runs([a1, b1, x, c1], ["A", "B", None, "C"])
    assert [[e.id for e in run] for run in grouped] == [[a1.id], [b1.id], [x.id], [c1.id]]


@given(st.lists(st.tuples(st.sampled_from("ABCD"), st.booleans()), max_size=40))
def test_regrouped_runs_keep_every_cases_order(plan: list[tuple[str, bool]]) -> None:
    events = [moved(key) if is_move else gone(key) for key, is_move in plan]
    keys = [key for key, _ in plan]
    grouped = runs(events, keys)
    flat = [e for run in grouped for e in run]
    assert sorted(e.id for e in flat) == sorted(e.id for e in events)  # nothing lost or doubled
    assert all(len({type(e.data) for e in run}) == 1 for run in grouped)
    of = dict(zip((e.id for e in events), keys, strict=True))
    for key in set(keys):
        assert [e.id for e in flat if of[e.id] == key] == [
            e.id for e, k in zip(events, keys, strict=True) if k == key
        ]
    # never more runs than the plain split, and at most one per type when no case repeats
    assert len(grouped) <= len(runs(events))
    if len(set(keys)) == len(keys):
        assert len(grouped) == len({type(e.data) for e in events})


# --- a batch that succeeds -----------------------------------------------------------------


async def test_a_batch_is_applied_once_in_one_transaction_run_by_run() -> None:
    recorder = Recorder()
    r = rig(recorder.handlers())
    events = [moved("A1"), moved("A2"), gone("B1"), moved("A3"), gone("A1")]
    await r.consumer.process([record(e) for e in events])

    assert len(r.db.commits) == 1
    # Grouped by type, each case's events in their order: A1's cancellation after its move.
    moves, cancels = [events[0], events[1], events[3]], [events[2], events[4]]
    assert recorder.runs == [[e.id for e in moves], [e.id for e in cancels]]
    assert r.db.commits[0].applied == [e.id for e in moves + cancels]
    assert r.db.claimed == {e.dedup_key for e in events}
    assert r.dead_letters.sent == []
    stats = r.consumer.stats
    assert (stats.batches, stats.processed, stats.duplicates, stats.ignored) == (1, 5, 0, 0)


async def test_what_a_per_event_handler_emits_is_caused_by_its_event() -> None:
    async def answer(uow: UnitOfWork, event: Envelope) -> None:
        assert isinstance(event.data, DischargeRescheduled)
        uow.emit(cancelled(event.data.discharge_ref), subject=str(event.subject))

    r = rig({DischargeRescheduled: per_event(answer)})
    first, second = moved("A1"), dataclasses.replace(moved("A2"), correlation_id="chain-7")
    await r.consumer.process([record(first), record(second)])

    (commit,) = r.db.commits
    assert [(e.causation_id, e.correlation_id) for e in commit.emitted] == [
        (first.id, first.id),  # a chain starts at the first event
        (second.id, "chain-7"),
    ]


# --- duplicates ----------------------------------------------------------------------------


async def test_duplicates_in_a_batch_and_events_already_claimed_are_skipped() -> None:
    recorder = Recorder()
    r = rig(recorder.handlers())
    earlier, fresh = moved("A1"), moved("A2")
    await r.consumer.process([record(earlier)])

    await r.consumer.process([record(fresh), record(earlier), record(fresh)])

    assert [c.applied for c in r.db.commits] == [[earlier.id], [fresh.id]]
    assert recorder.calls == {earlier.id: 1, fresh.id: 1}
    stats = r.consumer.stats
    assert (stats.batches, stats.processed, stats.duplicates) == (2, 2, 2)


async def test_a_redelivered_batch_changes_nothing() -> None:
    recorder = Recorder()
    r = rig(recorder.handlers())
    events = [moved("A1"), gone("B1")]
    await r.consumer.process([record(e) for e in events])
    await r.consumer.process([record(e) for e in events])  # e.g. after a crash before commit

    assert [c.applied for c in r.db.commits] == [[e.id for e in events], []]
    assert recorder.calls == dict.fromkeys((e.id for e in events), 1)
    assert (r.consumer.stats.processed, r.consumer.stats.duplicates) == (2, 2)


# --- a failing record ----------------------------------------------------------------------


async def test_a_failing_record_is_isolated_retried_and_dead_lettered_the_rest_applied() -> None:
    recorder = Recorder()
    r = rig(recorder.handlers(), max_attempts=3)
    good1, bad, good2 = moved("A1"), moved("A2"), gone("B1")
    recorder.fail[bad.id] = ValueError("no such discharge")
    records = [record(good1), record(bad), record(good2)]

    await r.consumer.process(records)

    # The batch's transaction rolled back; then each record alone, in order.
    assert r.db.applied == [good1.id, good2.id]
    assert [c.applied for c in r.db.commits] == [[good1.id], [good2.id]]
    # good2 comes after the failure: the batch never reached it.
    assert recorder.calls == {good1.id: 2, bad.id: 1 + 3, good2.id: 1}
    assert r.db.rollbacks == 1 + 3
    assert bad.dedup_key not in r.db.claimed  # a replay after a fix is applied
    (letter,) = r.dead_letters.sent
    assert letter.record is records[1]
    assert (letter.code, letter.attempts) == ("handler.failed", 3)
    assert letter.reason == repr(ValueError("no such discharge"))
    stats = r.consumer.stats
    assert (stats.processed, stats.dead_lettered, stats.duplicates) == (2, 1, 0)


async def test_a_record_that_fails_once_is_applied_on_its_retry() -> None:
    recorder = Recorder()
    r = rig(recorder.handlers(), max_attempts=3)
    good, flaky = moved("A1"), moved("A2")
    # Fails in the batch, and on its first attempt alone; then succeeds.
    recorder.fail[flaky.id] = [RuntimeError("deadlock?"), RuntimeError("again"), None]

    await r.consumer.process([record(good), record(flaky)])

    assert r.db.applied == [good.id, flaky.id]
    assert recorder.calls[flaky.id] == 3
    assert r.dead_letters.sent == []
    assert r.consumer.stats.processed == 2


@pytest.mark.parametrize(
    "refusal",
    [Refused("case.closed", "The case is closed."), NotFound("case.unknown", "No such case.")],
)
async def test_a_refusal_dead_letters_at_once_with_its_code(refusal: Refused) -> None:
    recorder = Recorder()
    r = rig(recorder.handlers(), max_attempts=3)
    refused, good = moved("A1"), moved("A2")
    recorder.fail[refused.id] = refusal

    await r.consumer.process([record(refused), record(good)])

    (letter,) = r.dead_letters.sent
    assert (letter.code, letter.reason, letter.attempts) == (refusal.code, refusal.message, 1)
    assert recorder.calls[refused.id] == 2  # in the batch, then once alone: never retried
    assert r.db.applied == [good.id]


@pytest.mark.parametrize(
    "error",
    [
        OSError("connection reset"),
        TimeoutError(),
        OperationalError("SELECT 1", {}, Exception("server closed the connection")),
        DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True),
    ],
    ids=["OSError", "TimeoutError", "OperationalError", "invalidated"],
)
async def test_infrastructure_trouble_is_raised_and_nothing_is_dead_lettered(
    error: Exception,
) -> None:
    recorder = Recorder()
    r = rig(recorder.handlers())
    first, failing = moved("A1"), moved("A2")
    recorder.fail[failing.id] = error

    with pytest.raises(type(error)):
        await r.consumer.process([record(first), record(failing)])

    assert r.dead_letters.sent == []
    assert r.db.commits == []  # the batch is retried whole (the offsets are not committed)
    assert recorder.calls == {first.id: 1, failing.id: 1}  # not isolated one by one


async def test_infrastructure_trouble_while_isolating_is_raised_too() -> None:
    recorder = Recorder()
    r = rig(recorder.handlers())
    first, bad = moved("A1"), moved("A2")
    recorder.fail[bad.id] = [ValueError("bad"), OSError("database gone")]

    with pytest.raises(OSError, match="database gone"):
        await r.consumer.process([record(first), record(bad)])

    assert r.dead_letters.sent == []
    assert r.db.applied == [first.id]  # applied alone before the outage: a duplicate later


# --- records that cannot be read, events nobody here handles -------------------------------


async def test_an_unreadable_record_is_dead_lettered_and_the_rest_applied() -> None:
    recorder = Recorder()
    r = rig(recorder.handlers())
    good = moved("A1")
    value, headers = good.to_binary()
    garbled = FakeRecord(b"{not json", headers=[(k, v) for k, v in headers if k != "ce_id"])
    unknown = FakeRecord(
        value, [(k, b"DischargeHappened" if k == "ce_type" else v) for k, v in headers]
    )

    await r.consumer.process([garbled, record(good), unknown])

    assert [(d.record, d.code, d.attempts) for d in r.dead_letters.sent] == [
        (garbled, "cloudevents.missing_attributes", 1),
        (unknown, "cloudevents.unknown_type", 1),
    ]
    assert r.db.applied == [good.id]
    assert r.consumer.stats.dead_lettered == 2
    assert r.consumer.stats.processed == 1


async def test_events_without_a_handler_are_counted_as_ignored() -> None:
    recorder = Recorder()
    r = rig(recorder.handlers(DischargeRescheduled))
    handled = moved("A1")

    await r.consumer.process([record(gone("B1")), record(handled), record(readmitted("A9"))])

    assert r.db.applied == [handled.id]
    assert recorder.runs == [[handled.id]]
    stats = r.consumer.stats
    assert (stats.ignored, stats.processed, stats.dead_lettered) == (2, 1, 0)


async def test_a_batch_with_nothing_to_handle_opens_no_transaction() -> None:
    r = rig(Recorder().handlers(DischargeRescheduled))
    await r.consumer.process([record(gone("B1")), record(gone("B2"))])
    assert (r.db.commits, r.db.rollbacks) == ([], 0)
    assert r.consumer.stats.ignored == 2


# --- the real inbox: one statement per batch -----------------------------------------------


class StatementRecorder:
    """Stands in for ``AsyncConnection``: keeps the statements and their parameters, answers
    with ``returning``."""

    def __init__(self, returning: list[tuple[str, str]]) -> None:
        self.statements: list[ClauseElement] = []
        self.parameters: list[dict[str, Any] | None] = []
        self._returning = returning

    async def execute(
        self, statement: ClauseElement, parameters: dict[str, Any] | None = None
    ) -> list[Row]:
        self.statements.append(statement)
        self.parameters.append(parameters)
        return [Row(source, event_id) for source, event_id in self._returning]


@dataclass(frozen=True)
class Row:
    source: str
    event_id: str


async def test_the_inbox_claims_a_batch_in_one_insert_that_skips_known_keys() -> None:
    first, again = moved("A1"), moved("A2")
    conn = StatementRecorder(returning=[first.dedup_key])
    inbox = Inbox(inbox_table(MetaData()), "unit-test")

    new = await inbox.claim(cast(AsyncConnection, conn), [first, again, first])

    assert new == {first.dedup_key}
    (statement,) = conn.statements
    sql = str(statement.compile(dialect=PGDialect()))  # type: ignore[no-untyped-call]
    assert sql.startswith("INSERT INTO inbox")
    assert "unnest(" in sql  # the rows are parameters (arrays): the SQL is the same each batch
    assert "ON CONFLICT DO NOTHING RETURNING inbox.source, inbox.event_id" in sql
    (parameters,) = conn.parameters
    assert parameters is not None
    assert parameters["consumer"] == "unit-test"
    # The same event twice in the batch is inserted once.
    assert parameters["event_ids"] == [first.id, again.id]
    assert parameters["digests"] == [first.digest, again.digest]
    assert await inbox.claim(cast(AsyncConnection, conn), []) == set()
    assert len(conn.statements) == 1  # nothing to claim, no statement
    # Built once: the next batch runs the very same statement.
    await inbox.claim(cast(AsyncConnection, conn), [again])
    assert conn.statements[1] is statement


# --- what counts as the database being away -------------------------------------------------


class _AdaptedError(Exception):
    """What SQLAlchemy's asyncpg adapter raises: the server's SQLSTATE on ``sqlstate``."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("sqlstate", "transient"),
    [
        ("57P03", True),  # cannot connect now: starting up, failing over
        ("57P01", True),  # admin shutdown
        ("53300", True),  # too many connections
        ("25006", True),  # read-only node
        ("55000", True),  # database not accepting connections
        ("08006", True),  # connection failure
        ("40001", True),  # serialization failure
        ("23505", False),  # unique violation: the record's fault
        ("22021", False),  # invalid byte sequence (a NUL): the record's fault
        ("42P01", False),  # undefined table: a bug, not an outage
    ],
)
def test_database_errors_are_classed_by_sqlstate(sqlstate: str, transient: bool) -> None:
    wrapped = DBAPIError("INSERT", {}, _AdaptedError(sqlstate))  # no OperationalError with asyncpg
    assert is_transient(wrapped) is transient


def test_a_pool_timeout_and_a_dropped_connection_deep_in_the_chain_are_transient() -> None:
    assert is_transient(PoolTimeout("QueuePool limit reached"))
    outer = RuntimeError("while applying the batch")
    outer.__cause__ = asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed")
    assert is_transient(outer)
    assert not is_transient(ValueError("a bug"))


async def test_an_outage_during_a_batch_is_never_dead_lettered_even_as_sqlstate_only() -> None:
    recorder = Recorder()
    r = rig(recorder.handlers())
    failing = moved("A1")
    recorder.fail[failing.id] = DBAPIError("SELECT 1", {}, _AdaptedError("57P03"))
    with pytest.raises(DBAPIError):
        await r.consumer.process([record(failing)])
    assert r.dead_letters.sent == []


async def test_the_same_id_with_another_payload_is_dead_lettered_as_a_conflict() -> None:
    recorder = Recorder()
    r = rig(recorder.handlers())
    original = moved("A1")
    forged = dataclasses.replace(gone("A1"), id=original.id)  # same ce_source and ce_id
    await r.consumer.process([record(original)])
    await r.consumer.process([record(original), record(forged)])

    assert r.db.applied == [original.id]
    assert [(d.code, d.attempts) for d in r.dead_letters.sent] == [("event.id_conflict", 1)]
    assert r.consumer.stats.duplicates == 1  # the true redelivery, skipped
