"""The gateway's schema: the visits it announced, the Tasks waiting for the hospitals, and
its outbox/inbox.

Kept minimal on purpose: the patient's personal data travels in the events (intake keeps it);
the gateway keeps only what turns a repeated message into the right event, the fiscal code
that links an admission to an open case, and the requests going back to the wards (a Task
names the visit, not the person).
"""

from __future__ import annotations

from sqlalchemy import Column, MetaData, Table, Text
from sqlalchemy.dialects.postgresql import JSONB

from cerniera.shared.persistence import columns
from cerniera.shared.persistence.tables import inbox_table, outbox_table

SCHEMA = "gateway"

metadata = MetaData(schema=SCHEMA)

visits = Table(
    "visits",
    metadata,
    columns.case_key(),
    Column("fiscal_code", Text, nullable=False),
    columns.moment("expected_discharge_at"),
    columns.status(),
    columns.correlation_id(),
    *columns.timestamps(),
)

tasks = Table(
    "tasks",
    metadata,
    Column("task_id", Text, primary_key=True),
    Column("hospital_id", Text, nullable=False),
    Column("case_id", Text, nullable=False),
    Column("resource", JSONB, nullable=False),
    columns.timestamp("created_at"),
)
"""FHIR Tasks for the hospitals (a discharge to postpone), as they are served."""

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
