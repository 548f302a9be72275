"""Cases, requests, outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from cerniera.shared.persistence.migrations import create_messaging_tables, drop_messaging_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("case_id", sa.Text(), primary_key=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("ambito_id", sa.Text(), nullable=True),
        sa.Column("municipality_code", sa.Text(), nullable=True),
        sa.Column("beneficiary", postgresql.JSONB(), nullable=True),
        sa.Column("services", postgresql.JSONB(), nullable=True),
        sa.Column("discharge_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("discharge_on", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.Column("correlation_id", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_index("cases_status", "cases", ["status"])
    op.create_table(
        "requests",
        sa.Column("request_id", sa.Text(), primary_key=True),
        sa.Column("case_id", sa.Text(), sa.ForeignKey("cases.case_id"), nullable=False),
        sa.Column("service_type", sa.Text(), nullable=False),
        sa.Column("provider_id", sa.Text(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("weekly_quantity", sa.Numeric(10, 2), nullable=False),
        sa.Column("start_by", sa.Date(), nullable=False),
        sa.Column("earliest_start", sa.Date(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active_from", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
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
    create_messaging_tables()


def downgrade() -> None:
    drop_messaging_tables()
    op.drop_table("requests")
    op.drop_table("cases")
