"""Many rows in one statement whose SQL never changes: each column travels as one array.

SQLAlchemy's ``executemany`` renders a multi-row ``VALUES`` per batch and processes every
value of every row in Python; at a few thousand rows a second that is most of a service's CPU.
Here a statement reads its rows from ``unnest`` of one array per column, so it is compiled
once (and prepared once by asyncpg), and a batch costs one list per column. JSON columns
travel as text, cast back in SQL, since asyncpg has no codec for arrays of ``jsonb``.

``INSERT`` keeps the rows' order (``WITH ORDINALITY``): identities and ``RETURNING`` follow it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Table,
    Text,
    bindparam,
    cast,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSON, insert
from sqlalchemy.dialects.postgresql import Insert as Upsert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert, Update
from sqlalchemy.sql.expression import TableValuedAlias
from sqlalchemy.types import TypeEngine

Finish = Callable[[Upsert], Insert]
"""What follows the insert (``on_conflict_do_nothing``, ``returning``...): a module-level
function, so that the statement it gives is built once."""


def _is_json(kind: TypeEngine[Any]) -> bool:
    return isinstance(kind, JSON)  # JSONB is one


def _rows(table: Table, columns: tuple[str, ...]) -> TableValuedAlias:
    """``unnest(:c_a, :c_b, ...) WITH ORDINALITY AS (a, b, ..., n)``."""
    arrays = []
    for name in columns:
        kind = table.c[name].type
        if isinstance(kind, ARRAY):  # unnest would flatten an array of arrays
            raise TypeError(f"{table.name}.{name} is an array column: not for bulk")
        carried = Text() if _is_json(kind) else kind
        arrays.append(bindparam(f"c_{name}", type_=ARRAY(carried)))
    return func.unnest(*arrays).table_valued(*columns, with_ordinality="n").render_derived()


def _value(table: Table, rows: TableValuedAlias, name: str) -> ColumnElement[Any]:
    kind = table.c[name].type
    return cast(rows.c[name], kind) if _is_json(kind) else rows.c[name]


@functools.lru_cache(maxsize=256)  # bounded: a ``finish`` made anew each call is a new key
def insert_statement(
    table: Table, columns: tuple[str, ...], finish: Finish | None = None
) -> Insert:
    """``INSERT INTO table (columns) SELECT ... FROM unnest(...) ORDER BY ordinality``, then
    ``finish``; built once per table, columns and finish."""
    rows = _rows(table, columns)
    values = select(*(_value(table, rows, name) for name in columns)).order_by(rows.c.n)
    statement = insert(table).from_select(list(columns), values)
    return finish(statement) if finish is not None else statement


@functools.lru_cache(maxsize=256)
def update_statement(
    table: Table, key: str, columns: tuple[str, ...], stamp: str | None = None
) -> Update:
    """``UPDATE table SET columns = rows.columns [, stamp = now()] FROM unnest(...) rows WHERE
    table.key = rows.key``: each row updates the table's row of its ``key``."""
    rows = _rows(table, (key, *columns))
    values: dict[str, Any] = {name: _value(table, rows, name) for name in columns}
    if stamp is not None:
        values[stamp] = func.now()
    return update(table).where(table.c[key] == rows.c[key]).values(values)


def arrays(
    table: Table, columns: tuple[str, ...], rows: Sequence[Mapping[str, Any]]
) -> dict[str, list[Any]]:
    """The parameters of a statement above: one list per column, JSON columns as text."""
    params: dict[str, list[Any]] = {}
    for name in columns:
        values = [row[name] for row in rows]
        kind = table.c[name].type
        if isinstance(kind, JSON):  # None is SQL NULL or JSON null, as the column says
            as_null = kind.none_as_null
            values = [None if v is None and as_null else json.dumps(v) for v in values]
        params[f"c_{name}"] = values
    return params


async def insert_rows(
    conn: AsyncConnection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    finish: Finish | None = None,
) -> CursorResult[Any]:
    """Insert ``rows`` (each with the same columns) in one statement; its result."""
    columns = tuple(rows[0])
    return await conn.execute(
        insert_statement(table, columns, finish), arrays(table, columns, rows)
    )


async def update_rows(
    conn: AsyncConnection,
    table: Table,
    key: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    stamp: str | None = None,
) -> None:
    """Update, in one statement, the row of each of ``rows``' ``key`` with its other columns
    (each row with the same columns), and ``stamp`` with the time. Of two rows with the same
    key the later wins, as one statement after the other."""
    latest = list({row[key]: row for row in rows}.values())
    columns = tuple(name for name in rows[0] if name != key)
    await conn.execute(
        update_statement(table, key, columns, stamp), arrays(table, (key, *columns), latest)
    )
