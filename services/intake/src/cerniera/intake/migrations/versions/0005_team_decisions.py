"""The district's decisions: confirmation and consent, plan versions, the SAD hours cap per
person (its exceptions and refusals), the territorial network and mediation notes; the
closure and readmission intake learns of."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from cerniera.shared.persistence import columns

revision = "0005"
down_revision = "0004"


def _case_id() -> sa.Column[str]:
    return columns.case_of("cases", ondelete="CASCADE")


def upgrade() -> None:
    op.add_column("cases", sa.Column("fiscal_code", sa.Text(), nullable=True))
    op.add_column("cases", sa.Column("confirmed_by", sa.Text(), nullable=True))
    op.add_column("cases", sa.Column("consent", postgresql.JSONB(), nullable=True))
    op.add_column(
        "cases", sa.Column("plan_version", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("cases", sa.Column("plan_note", sa.Text(), nullable=True))
    op.add_column("cases", columns.moment("readmitted_at", nullable=True))
    op.add_column("cases", columns.moment("closed_at", nullable=True))
    op.add_column("cases", sa.Column("closed_outcome", sa.Text(), nullable=True))
    # Cases decided before: the person from the announcement; an eligible decision was
    # published by the rule as version 1 of the plan.
    op.execute("UPDATE cases SET fiscal_code = patient->>'fiscal_code'")
    op.execute(
        "UPDATE cases SET plan_version = 1, confirmed_by = decision->>'decided_by' "
        "WHERE status = 'eligible'"
    )
    op.create_index("cases_fiscal_code", "cases", ["fiscal_code"])
    op.create_table(
        "plans",
        _case_id(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("services", postgresql.JSONB(), nullable=False),
        sa.Column("reason_code", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("revised_by", sa.Text(), nullable=False),
        columns.moment("revised_at"),
        sa.Column("event_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("case_id", "version"),
    )
    op.create_table(
        "cap_exceptions",
        _case_id(),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("granted_by", sa.Text(), nullable=False),
        columns.moment("granted_at"),
        sa.PrimaryKeyConstraint("case_id", "seq"),
    )
    op.create_table(
        "cap_refusals",
        _case_id(),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("plan_hours", sa.Numeric(), nullable=False),
        sa.Column("other_hours", sa.Numeric(), nullable=False),
        sa.Column("cap", sa.Numeric(), nullable=False),
        sa.Column("refused_by", sa.Text(), nullable=False),
        columns.moment("refused_at"),
        sa.PrimaryKeyConstraint("case_id", "seq"),
    )
    op.create_table(
        "network_tasks",
        _case_id(),
        sa.Column("task_id", sa.Text(), nullable=False),
        columns.moment("opened_at"),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("resources", postgresql.JSONB(), nullable=False, server_default="[]"),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("completed_by", sa.Text(), nullable=True),
        columns.moment("completed_at", nullable=True),
        sa.PrimaryKeyConstraint("case_id", "task_id"),
    )
    op.create_table(
        "mediation_notes",
        _case_id(),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("written_by", sa.Text(), nullable=False),
        columns.moment("written_at"),
        sa.PrimaryKeyConstraint("case_id", "seq"),
    )


def downgrade() -> None:
    for table in ("mediation_notes", "network_tasks", "cap_refusals", "cap_exceptions", "plans"):
        op.drop_table(table)
    op.drop_index("cases_fiscal_code", table_name="cases")
    for column in (
        "closed_outcome",
        "closed_at",
        "readmitted_at",
        "plan_note",
        "plan_version",
        "consent",
        "confirmed_by",
        "fiscal_code",
    ):
        op.drop_column("cases", column)
