"""Activation's schema. It keeps only the contact a provider needs (name, address, phone) and the
municipality that picks the providers: no fiscal code, no clinical data."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    Numeric,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from cerniera.shared.persistence import columns
from cerniera.shared.persistence.tables import inbox_table, outbox_table

SCHEMA = "activation"

metadata = MetaData(schema=SCHEMA)

cases = Table(
    "cases",
    metadata,
    columns.case_key(),
    columns.status(),
    columns.ambito_id(nullable=True),
    Column("municipality_code", Text, nullable=True),
    # {name, address, phone}: exactly what a ServiceActivationRequested carries.
    Column("beneficiary", JSONB(none_as_null=True), nullable=True),
    # The package: [{service_type, weekly_quantity}].
    Column("services", JSONB(none_as_null=True), nullable=True),
    columns.moment("discharge_at", nullable=True),
    Column("discharge_on", Date, nullable=True),
    Column("end_reason", Text, nullable=True),
    # The version of the plan in force (0 before a decision).
    Column("plan_version", Integer, nullable=False, server_default=text("0")),
    # [{service_type, reason, status, resolution, ...}]: each escalation and how it ended.
    Column("escalations", JSONB(none_as_null=True), nullable=True),
    # [service_type]: what the municipality continues after a hand-over.
    Column("continuing", JSONB(none_as_null=True), nullable=True),
    columns.correlation_id(),
    *columns.timestamps(),
    Index("cases_status", "status"),
)

requests = Table(
    "requests",
    metadata,
    Column("request_id", Text, primary_key=True),
    columns.case_of("cases"),
    Column("service_type", Text, nullable=False),
    Column("provider_id", Text, nullable=False),
    Column("attempt", Integer, nullable=False),
    columns.status(),
    Column("weekly_quantity", Numeric(10, 2), nullable=False),
    Column("start_by", Date, nullable=False),
    Column("earliest_start", Date, nullable=False),
    columns.moment("requested_at"),
    columns.moment("deadline_at"),
    columns.moment("answered_at", nullable=True),
    Column("active_from", Date, nullable=True),
    Column("reason", Text, nullable=True),
    columns.timestamp("updated_at"),
    UniqueConstraint("case_id", "service_type", "attempt", name="requests_case_service_attempt"),
    Index("requests_case", "case_id"),
    # What the deadline check scans every period: pending requests by deadline.
    Index(
        "requests_pending_deadline",
        "deadline_at",
        postgresql_where=text("status = 'requested'"),
    ),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
