"""The team's assessments (versions), overrides of the rule, and taking-charge records."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from cerniera.shared.persistence import columns

revision = "0002"
down_revision = "0001"


def _case_id() -> sa.Column[str]:
    return columns.case_of("cases", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "assessments",
        _case_id(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("answers", postgresql.JSONB(), nullable=False),
        sa.Column("brass_score", sa.Integer(), nullable=True),
        sa.Column("brass_items", postgresql.JSONB(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("assessed_by", sa.Text(), nullable=False),
        columns.moment("assessed_at"),
        sa.PrimaryKeyConstraint("case_id", "version"),
    )
    op.create_table(
        "taking_charge",
        _case_id(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("pai", postgresql.JSONB(), nullable=False),
        sa.Column("information", postgresql.JSONB(), nullable=False),
        sa.Column("recorded_by", sa.Text(), nullable=False),
        columns.moment("recorded_at"),
        sa.PrimaryKeyConstraint("case_id", "version"),
    )
    op.create_table(
        "overrides",
        _case_id(),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("decision", postgresql.JSONB(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=False),
        columns.moment("decided_at"),
        sa.Column("rule", postgresql.JSONB(), nullable=True),
        sa.Column("event_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("case_id", "seq"),
    )
    # The waiting list, most urgent first.
    op.create_index("cases_status_expected", "cases", ["status", "expected_discharge_at"])


def downgrade() -> None:
    op.drop_index("cases_status_expected", table_name="cases")
    op.drop_table("overrides")
    op.drop_table("taking_charge")
    op.drop_table("assessments")
