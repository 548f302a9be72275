"""The desk's schema: its read model of every topic, and what its portal publishes.

Everything here is derived from the topics (a rebuild empties it and reads them again), but for
the outbox of the provider portal's answers and the audit log. The read model:

- ``timeline``: every event about a case, in the order the desk received it, with its
  correlation and causation ids, for the case's history;
- ``cases``: each case's folded view (``casefile.CaseView`` as JSON), with the columns the
  screens filter and sort on;
- ``requests``: each activation request as its provider sees it (``casefile.RequestView``),
  for the provider portal;
- ``ledger``: billing's events (statements issued, budget thresholds reached).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Identity,
    Index,
    MetaData,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from cerniera.shared.persistence import columns
from cerniera.shared.persistence.tables import inbox_table, outbox_table

SCHEMA = "desk"

metadata = MetaData(schema=SCHEMA)

timeline = Table(
    "timeline",
    metadata,
    # Arrival order: what the team saw happen, in the order it happened to the desk.
    Column("seq", BigInteger, Identity(always=False), primary_key=True),
    Column("event_id", Text, nullable=False, unique=True),
    Column("case_id", Text, nullable=True),
    Column("ambito_id", Text, nullable=True),
    Column("provider_id", Text, nullable=True),
    Column("event_type", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("topic", Text, nullable=False),
    columns.moment("occurred_at"),
    Column("correlation_id", Text, nullable=True),
    Column("causation_id", Text, nullable=True),
    Column("data", JSONB, nullable=False),
    Index("timeline_case_seq", "case_id", "seq"),
)

cases = Table(
    "cases",
    metadata,
    columns.case_key(),
    # Known once the hospital announced the discharge, or intake decided: null before.
    columns.ambito_id(nullable=True),
    Column("hospital_id", Text, nullable=True),
    Column("stage", Text, nullable=False),
    columns.moment("discharge_at", nullable=True),
    Column("view", JSONB, nullable=False),
    columns.timestamp("updated_at"),
    Index("cases_ambito_stage", "ambito_id", "stage"),
    Index("cases_discharge_at", "discharge_at"),
)

requests = Table(
    "requests",
    metadata,
    Column("request_id", Text, primary_key=True),
    Column("provider_id", Text, nullable=False),
    Column("case_id", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("start_by", Date, nullable=True),
    Column("view", JSONB, nullable=False),
    columns.timestamp("updated_at"),
    Index("requests_provider_status", "provider_id", "status"),
)

ledger = Table(
    "ledger",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("event_type", Text, nullable=False),
    Column("ambito_id", Text, nullable=False),
    Column("provider_id", Text, nullable=True),
    Column("period", Text, nullable=True),
    columns.moment("occurred_at"),
    Column("data", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Index("ledger_ambito_type", "ambito_id", "event_type"),
)

READ_MODEL = (timeline, cases, requests, ledger)
"""What ``cerniera-desk rebuild`` empties before the topics are read again."""

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
