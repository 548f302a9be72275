"""``persistence.bulk`` on the real database: rows sent as one array per column land exactly as
SQLAlchemy's own ``executemany`` puts them, in order, JSON and NULLs included; an update by key
changes only the rows named."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Integer,
    MetaData,
    Numeric,
    Table,
    Text,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB, Insert, insert
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.dml import Insert as AnyInsert

from cerniera.shared.persistence.bulk import insert_rows, update_rows
from cerniera.shared.persistence.db import make_engine
from cerniera.shared.settings import DatabaseSettings

pytestmark = pytest.mark.integration


def _table(name: str) -> Table:
    return Table(
        name,
        MetaData(),
        Column("seq", BigInteger, Identity(always=True)),
        Column("case_id", Text, primary_key=True),
        Column("hours", Numeric(6, 2), nullable=True),
        Column("visits", Integer, nullable=False),
        Column("at", DateTime(timezone=True), nullable=True),
        Column("doc", JSONB, nullable=True),  # None: JSON null
        Column("note", JSONB(none_as_null=True), nullable=True),  # None: SQL NULL
        Column("updated_at", DateTime(timezone=True), nullable=True),
    )


@pytest.fixture
async def engine(database_settings: DatabaseSettings) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_settings, schema="public")
    yield engine
    await engine.dispose()


def _rows(n: int) -> list[dict[str, Any]]:
    at = datetime(2026, 11, 30, 9, tzinfo=UTC)
    return [
        {
            "case_id": f"H:{n - i:04}",  # not in key order: the order kept is the rows'
            "hours": Decimal("1.25") * i if i % 3 else None,
            "visits": i,
            "at": at if i % 2 else None,
            "doc": {"nome": "Lucia", "lines": [i, "è"]} if i % 4 else None,
            "note": ["visita"] if i % 5 else None,
        }
        for i in range(n)
    ]


def _nothing_on_conflict(statement: Insert) -> AnyInsert:
    return statement.on_conflict_do_nothing()


async def _contents(engine: AsyncEngine, table: Table) -> list[Any]:
    async with engine.connect() as conn:
        # JSON null and SQL NULL both read as None: told apart by IS NULL.
        nulls = (table.c.doc.is_(None), table.c.note.is_(None))
        query = select(table, *nulls).order_by(table.c.seq)
        return [tuple(r) for r in await conn.execute(query)]


async def test_inserted_rows_match_executemany_in_order(engine: AsyncEngine) -> None:
    mine, theirs = _table(f"bulk_{uuid.uuid4().hex[:8]}"), _table(f"many_{uuid.uuid4().hex[:8]}")
    rows = _rows(50)
    async with engine.begin() as conn:
        for table in (mine, theirs):
            await conn.run_sync(table.create)
        result = await insert_rows(
            conn, mine, rows, lambda s: s.returning(mine.c.case_id, mine.c.seq)
        )
        returned = [r.case_id for r in result]
        await conn.execute(insert(theirs), rows)
    assert returned == [r["case_id"] for r in rows]
    assert await _contents(engine, mine) == await _contents(engine, theirs)
    async with engine.begin() as conn:
        for table in (mine, theirs):
            await conn.run_sync(table.drop)


async def test_a_finish_applies_and_an_update_changes_only_its_rows(engine: AsyncEngine) -> None:
    table = _table(f"bulk_{uuid.uuid4().hex[:8]}")
    rows = _rows(10)
    async with engine.begin() as conn:
        await conn.run_sync(table.create)
        await insert_rows(conn, table, rows)
        again = await insert_rows(
            conn, table, rows[:3], lambda s: _nothing_on_conflict(s).returning(table.c.case_id)
        )
        assert list(again) == []  # all three known: nothing inserted twice
        changed = [
            {
                "case_id": rows[1]["case_id"],
                "visits": 50,
                "doc": None,
            },  # then again: the later wins
            {"case_id": rows[1]["case_id"], "visits": 100, "doc": {"stato": "chiuso"}},
            {"case_id": rows[7]["case_id"], "visits": 700, "doc": None},
        ]
        await update_rows(conn, table, "case_id", changed, stamp="updated_at")
        found = {}
        stamped = set()
        for r in await conn.execute(select(table)):
            found[r.case_id] = (r.visits, r.doc)
            if r.updated_at is not None:
                stamped.add(r.case_id)
        await conn.run_sync(table.drop)
    assert stamped == {rows[1]["case_id"], rows[7]["case_id"]}
    assert found[rows[1]["case_id"]] == (100, {"stato": "chiuso"})
    assert found[rows[7]["case_id"]] == (700, None)
    untouched = {r["case_id"]: (r["visits"], r["doc"]) for r in rows if r not in (rows[1], rows[7])}
    assert {k: v for k, v in found.items() if k in untouched} == untouched
