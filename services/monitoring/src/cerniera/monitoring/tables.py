"""Monitoring's schema: the follow-ups, their weekly checks, and what the hospital said about a
discharge before monitoring followed it."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    false,
)

from cerniera.shared.persistence import columns
from cerniera.shared.persistence.tables import inbox_table, outbox_table

SCHEMA = "monitoring"

metadata = MetaData(schema=SCHEMA)

followups = Table(
    "followups",
    metadata,
    columns.case_key(),
    columns.ambito_id(),
    columns.status(),
    columns.moment("discharge_at"),
    # The calendar, fixed at opening: a district changing its rules does not move open cases.
    Column("discharge_on", Date, nullable=False),
    Column("closes_on", Date, nullable=False),
    Column("check_interval_days", Integer, nullable=False),
    Column("duration_days", Integer, nullable=False),
    Column("overdue_after_days", Integer, nullable=False),
    # Of the eligibility decision: every event about the case carries it.
    columns.correlation_id(),
    Column("outcome", Text, nullable=True),
    columns.moment("closed_at", nullable=True),
    Column("closed_by", Text, nullable=True),
    Column("close_note", Text, nullable=True),
    columns.moment("opened_at"),
    columns.timestamp("updated_at"),
    Index("followups_status_closes_on", "status", "closes_on"),
    Index("followups_ambito_status", "ambito_id", "status"),
)

checks = Table(
    "checks",
    metadata,
    columns.case_of("followups"),
    Column("week", Integer, nullable=False),
    Column("due_on", Date, nullable=False),
    columns.moment("checked_at"),
    Column("outcome", Text, nullable=False),
    Column("notes", Text, nullable=True),
    Column("recommendation", Text, nullable=True),
    Column("checked_by", Text, nullable=False),
    columns.moment("recorded_at"),
    PrimaryKeyConstraint("case_id", "week", name="checks_case_week"),
)

pending_discharge_dates = Table(
    "pending_discharge_dates",
    metadata,
    # Hospital events arrive with no order relative to the eligibility decision: a reschedule
    # or cancellation seen first waits here and applies when the follow-up opens.
    columns.case_key(),
    columns.moment("expected_discharge_at", nullable=True),
    Column("cancelled", Boolean, nullable=False, server_default=false()),
    columns.moment("received_at"),
    Index("pending_discharge_dates_received_at", "received_at"),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
