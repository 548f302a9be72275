"""gateway: FHIR Tasks for the hospitals (a discharge to postpone)."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from cerniera.shared.persistence import columns

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("task_id", sa.Text(), primary_key=True),
        sa.Column("hospital_id", sa.Text(), nullable=False),
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("resource", JSONB(), nullable=False),
        columns.timestamp("created_at"),
    )
    # A hospital's system fetches its own Tasks, newest first.
    op.create_index("tasks_by_hospital", "tasks", ["hospital_id", "created_at"])


def downgrade() -> None:
    op.drop_table("tasks")
