"""Domain entities to rows and back, where a table's columns carry the entity's field names."""

from __future__ import annotations

import dataclasses
import functools
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Row, Table

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

E = TypeVar("E", bound="DataclassInstance")


def entity(kind: type[E], row: Row[Any], **given: Any) -> E:
    """The ``kind`` (a dataclass) that ``row`` stores: each field from the column of its name,
    except those in ``given`` (a column turned into a domain value, or one named otherwise).
    Columns that are no field of ``kind`` are left out."""
    columns = row._mapping
    same = {
        f.name: columns[f.name]
        for f in dataclasses.fields(kind)
        if f.name in columns and f.name not in given
    }
    return kind(**same, **given)


def row_of(table: Table, of: DataclassInstance, **given: Any) -> dict[str, Any]:
    """The row of ``table`` that stores ``of``: each column from the field of its name, except
    those in ``given``. Columns with no such field, and not given, are left to the table."""
    same = {name: getattr(of, name) for name in _same_names(table, type(of), tuple(given))}
    return {**same, **given}


@functools.cache  # rows are written thousands at a time, of a few tables and entities
def _same_names(
    table: Table, kind: type[DataclassInstance], given: tuple[str, ...]
) -> tuple[str, ...]:
    """The columns of ``table`` that a field of ``kind`` fills, but for those ``given``."""
    fields = {f.name for f in dataclasses.fields(kind)}
    return tuple(c.key for c in table.c if c.key in fields and c.key not in given)
