"""Columns that the tables of every service have in common, for ``tables.py`` and migrations.

A migration that uses one of these keeps what it created only while the column stays as it
is: change a column here and a history changes with it. A different column is a new helper.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Text, func


def timestamp(name: str, *, nullable: bool = False) -> Column[datetime]:
    """A ``timestamptz`` column that defaults to the time of the insert."""
    return Column(name, DateTime(timezone=True), nullable=nullable, server_default=func.now())


def timestamps() -> tuple[Column[datetime], Column[datetime]]:
    """``created_at`` and ``updated_at``, both defaulting to the time of the insert."""
    return timestamp("created_at"), timestamp("updated_at")


def case_key() -> Column[str]:
    """The case id, ``<hospital_id>:<discharge_ref>``, as the key of a table of cases."""
    return Column("case_id", Text, primary_key=True)


def correlation_id(*, nullable: bool = False) -> Column[str]:
    """The correlation id of the case's chain of events, kept with the case so that work with
    no event as its cause (an HTTP request, a periodic check) joins that chain."""
    return Column("correlation_id", Text, nullable=nullable)
