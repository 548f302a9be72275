"""Follow-ups, weekly checks, pending discharge dates, outbox and inbox."""

import sqlalchemy as sa
from alembic import op

from cerniera.shared.persistence import columns, migrations

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "followups",
        columns.case_key(),
        sa.Column("ambito_id", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("discharge_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("discharge_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("check_interval_days", sa.Integer(), nullable=False),
        sa.Column("duration_days", sa.Integer(), nullable=False),
        sa.Column("overdue_after_days", sa.Integer(), nullable=False),
        columns.correlation_id(),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.Text(), nullable=True),
        sa.Column("close_note", sa.Text(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        columns.timestamp("updated_at"),
    )
    op.create_index("followups_status_closes_on", "followups", ["status", "closes_on"])
    op.create_index("followups_ambito_status", "followups", ["ambito_id", "status"])
    op.create_table(
        "checks",
        sa.Column("case_id", sa.Text(), sa.ForeignKey("followups.case_id"), nullable=False),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("recommendation", sa.Text(), nullable=True),
        sa.Column("checked_by", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "week", name="checks_case_week"),
    )
    op.create_table(
        "pending_discharge_dates",
        columns.case_key(),
        sa.Column("expected_discharge_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "pending_discharge_dates_received_at", "pending_discharge_dates", ["received_at"]
    )
    migrations.create_messaging_tables()


def downgrade() -> None:
    migrations.drop_messaging_tables()
    op.drop_table("pending_discharge_dates")
    op.drop_table("checks")
    op.drop_table("followups")
