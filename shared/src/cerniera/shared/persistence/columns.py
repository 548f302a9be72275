"""Columns that the tables of every service have in common, for ``tables.py`` and migrations.

A migration that uses one of these keeps what it created only while the column stays as it
is: change a column here and a history changes with it. A different column is a new helper.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, ForeignKey, Text, func


def timestamp(name: str, *, nullable: bool = False) -> Column[datetime]:
    """A ``timestamptz`` column that defaults to the time of the insert."""
    return Column(name, DateTime(timezone=True), nullable=nullable, server_default=func.now())


def moment(name: str, *, nullable: bool = False) -> Column[datetime]:
    """A ``timestamptz`` column that the service fills (no default): when something happened."""
    return Column(name, DateTime(timezone=True), nullable=nullable)


def timestamps() -> tuple[Column[datetime], Column[datetime]]:
    """``created_at`` and ``updated_at``, both defaulting to the time of the insert."""
    return timestamp("created_at"), timestamp("updated_at")


def case_key() -> Column[str]:
    """The case id, ``<hospital_id>:<discharge_ref>``, as the key of a table of cases."""
    return Column("case_id", Text, primary_key=True)


def case_of(cases: str, *, ondelete: str | None = None) -> Column[str]:
    """The case a row belongs to: its id, a foreign key to the table of cases ``cases``."""
    return Column(
        "case_id", Text, ForeignKey(f"{cases}.case_id", ondelete=ondelete), nullable=False
    )


def status() -> Column[str]:
    """Where a row stands: the value of one of the service's enums."""
    return Column("status", Text, nullable=False)


def ambito_id(*, nullable: bool = False) -> Column[str]:
    """The district (Ambito territoriale sociale) a row belongs to; nullable where it may be
    learnt later (from another topic), or never (a residence outside every district)."""
    return Column("ambito_id", Text, nullable=nullable)


def correlation_id(*, nullable: bool = False) -> Column[str]:
    """The correlation id of the case's chain of events, kept with the case so that work with
    no event as its cause (an HTTP request, a periodic check) joins that chain."""
    return Column("correlation_id", Text, nullable=nullable)


def parked_case() -> tuple[Column[str], Column[str]]:
    """A case whose records wait behind a dead letter, for one consumer group: ``consumer``
    (the group) and ``case_key`` (the records' Kafka key)."""
    return Column("consumer", Text, nullable=False), Column("case_key", Text, nullable=False)
