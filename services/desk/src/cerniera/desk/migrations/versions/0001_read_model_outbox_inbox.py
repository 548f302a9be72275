"""desk: the read model (timeline, cases, requests, ledger), outbox and inbox."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from cerniera.shared.persistence import columns, migrations

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "timeline",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), primary_key=True),
        sa.Column("event_id", sa.Text(), nullable=False, unique=True),
        sa.Column("case_id", sa.Text(), nullable=True),
        sa.Column("ambito_id", sa.Text(), nullable=True),
        sa.Column("provider_id", sa.Text(), nullable=True),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        columns.moment("occurred_at"),
        sa.Column("correlation_id", sa.Text(), nullable=True),
        sa.Column("causation_id", sa.Text(), nullable=True),
        sa.Column("data", JSONB(), nullable=False),
    )
    op.create_index("timeline_case_seq", "timeline", ["case_id", "seq"])
    op.create_table(
        "cases",
        columns.case_key(),
        columns.ambito_id(nullable=True),
        sa.Column("hospital_id", sa.Text(), nullable=True),
        sa.Column("stage", sa.Text(), nullable=False),
        columns.moment("discharge_at", nullable=True),
        sa.Column("view", JSONB(), nullable=False),
        columns.timestamp("updated_at"),
    )
    op.create_index("cases_ambito_stage", "cases", ["ambito_id", "stage"])
    op.create_index("cases_discharge_at", "cases", ["discharge_at"])
    op.create_table(
        "requests",
        sa.Column("request_id", sa.Text(), primary_key=True),
        sa.Column("provider_id", sa.Text(), nullable=False),
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("start_by", sa.Date(), nullable=True),
        sa.Column("view", JSONB(), nullable=False),
        columns.timestamp("updated_at"),
    )
    op.create_index("requests_provider_status", "requests", ["provider_id", "status"])
    op.create_table(
        "ledger",
        sa.Column("event_id", sa.Text(), primary_key=True),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("ambito_id", sa.Text(), nullable=False),
        sa.Column("provider_id", sa.Text(), nullable=True),
        sa.Column("period", sa.Text(), nullable=True),
        columns.moment("occurred_at"),
        sa.Column("data", JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")),
    )
    op.create_index("ledger_ambito_type", "ledger", ["ambito_id", "event_type"])
    migrations.create_messaging_tables()


def downgrade() -> None:
    migrations.drop_messaging_tables()
    for table in ("ledger", "requests", "cases", "timeline"):
        op.drop_table(table)
