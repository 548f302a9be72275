"""The gateway's schema: the visits it announced, and its outbox/inbox.

Kept minimal on purpose: the patient's personal data travels in the events (intake keeps it);
the gateway keeps only what turns a repeated message into the right event, and the fiscal
code that links an admission to an open case.
"""

from __future__ import annotations

from sqlalchemy import Column, MetaData, Table, Text

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

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
