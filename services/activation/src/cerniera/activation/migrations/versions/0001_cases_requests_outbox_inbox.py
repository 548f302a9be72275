"""Cases, requests, outbox and inbox."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from cerniera.shared.persistence import columns, migrations

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "cases",
        columns.case_key(),
        columns.status(),
        columns.ambito_id(nullable=True),
        sa.Column("municipality_code", sa.Text(), nullable=True),
        sa.Column("beneficiary", postgresql.JSONB(), nullable=True),
        sa.Column("services", postgresql.JSONB(), nullable=True),
        columns.moment("discharge_at", nullable=True),
        sa.Column("discharge_on", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        columns.correlation_id(),
        columns.timestamp("created_at"),
        columns.timestamp("updated_at"),
    )
    op.create_index("cases_status", "cases", ["status"])
    op.create_table(
        "requests",
        sa.Column("request_id", sa.Text(), primary_key=True),
        columns.case_of("cases"),
        sa.Column("service_type", sa.Text(), nullable=False),
        sa.Column("provider_id", sa.Text(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        columns.status(),
        sa.Column("weekly_quantity", sa.Numeric(10, 2), nullable=False),
        sa.Column("start_by", sa.Date(), nullable=False),
        sa.Column("earliest_start", sa.Date(), nullable=False),
        columns.moment("requested_at"),
        columns.moment("deadline_at"),
        columns.moment("answered_at", nullable=True),
        sa.Column("active_from", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        columns.timestamp("updated_at"),
        sa.UniqueConstraint(
            "case_id", "service_type", "attempt", name="requests_case_service_attempt"
        ),
    )
    op.create_index("requests_case", "requests", ["case_id"])
    op.create_index(
        "requests_pending_deadline",
        "requests",
        ["deadline_at"],
        postgresql_where=sa.text("status = 'requested'"),
    )
    migrations.create_messaging_tables()


def downgrade() -> None:
    migrations.drop_messaging_tables()
    op.drop_table("requests")
    op.drop_table("cases")
