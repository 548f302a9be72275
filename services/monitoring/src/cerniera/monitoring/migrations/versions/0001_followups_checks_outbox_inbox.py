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
        columns.ambito_id(),
        columns.status(),
        columns.moment("discharge_at"),
        sa.Column("discharge_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("check_interval_days", sa.Integer(), nullable=False),
        sa.Column("duration_days", sa.Integer(), nullable=False),
        sa.Column("overdue_after_days", sa.Integer(), nullable=False),
        columns.correlation_id(),
        sa.Column("outcome", sa.Text(), nullable=True),
        columns.moment("closed_at", nullable=True),
        sa.Column("closed_by", sa.Text(), nullable=True),
        sa.Column("close_note", sa.Text(), nullable=True),
        columns.moment("opened_at"),
        columns.timestamp("updated_at"),
    )
    op.create_index("followups_status_closes_on", "followups", ["status", "closes_on"])
    op.create_index("followups_ambito_status", "followups", ["ambito_id", "status"])
    op.create_table(
        "checks",
        columns.case_of("followups"),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        columns.moment("checked_at"),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("recommendation", sa.Text(), nullable=True),
        sa.Column("checked_by", sa.Text(), nullable=False),
        columns.moment("recorded_at"),
        sa.PrimaryKeyConstraint("case_id", "week", name="checks_case_week"),
    )
    op.create_table(
        "pending_discharge_dates",
        columns.case_key(),
        columns.moment("expected_discharge_at", nullable=True),
        sa.Column("cancelled", sa.Boolean(), nullable=False, server_default=sa.false()),
        columns.moment("received_at"),
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
