"""billing: the person of each case (the SAD cap and the funder's beneficiaries count persons,
not visits), and the case's plans by version (PlanRevised changes the weekly quantities from
its day). The package each case was confirmed with becomes its plan version 1."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from cerniera.shared.persistence import columns

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.add_column("cases", sa.Column("person_ref", sa.Text(), nullable=True))
    op.create_index("cases_person", "cases", ["person_ref"])
    op.create_table(
        "plans",
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=True),
        sa.Column("weekly_quantities", postgresql.JSONB(), nullable=False),
        columns.timestamp("updated_at"),
        sa.PrimaryKeyConstraint("case_id", "plan_version"),
    )
    op.execute(
        "INSERT INTO plans (case_id, plan_version, weekly_quantities) "
        "SELECT case_id, 1, weekly_quantities FROM cases WHERE status = 'confirmed'"
    )
    op.drop_column("cases", "weekly_quantities")


def downgrade() -> None:
    op.add_column(
        "cases",
        sa.Column(
            "weekly_quantities",
            postgresql.JSONB(),
            nullable=False,
            server_default=sa.text("'{}'::jsonb"),
        ),
    )
    op.execute(
        "UPDATE cases SET weekly_quantities = p.weekly_quantities FROM ("
        " SELECT DISTINCT ON (case_id) case_id, weekly_quantities FROM plans"
        " ORDER BY case_id, plan_version DESC) p WHERE p.case_id = cases.case_id"
    )
    op.drop_table("plans")
    op.drop_index("cases_person", table_name="cases")
    op.drop_column("cases", "person_ref")
