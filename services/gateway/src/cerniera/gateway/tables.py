"""The gateway's schema: the visits it announced, and its outbox/inbox.

Kept minimal on purpose: the patient's personal data travels in the events (intake keeps it);
the gateway keeps only what turns a repeated message into the right event, and the fiscal
code that links an admission to an open case.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, MetaData, Table, Text, func

from cerniera.shared.persistence.tables import inbox_table, outbox_table

SCHEMA = "gateway"

metadata = MetaData(schema=SCHEMA)

visits = Table(
    "visits",
    metadata,
    Column("case_id", Text, primary_key=True),
    Column("fiscal_code", Text, nullable=False),
    Column("expected_discharge_at", DateTime(timezone=True), nullable=False),
    Column("status", Text, nullable=False),
    Column("correlation_id", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
