"""activation: the plan's version, each case's escalations and how they ended, and the services
a hand-over to the municipality continues."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.add_column(
        "cases",
        sa.Column("plan_version", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.add_column("cases", sa.Column("escalations", postgresql.JSONB(), nullable=True))
    op.add_column("cases", sa.Column("continuing", postgresql.JSONB(), nullable=True))


def downgrade() -> None:
    for column in ("continuing", "escalations", "plan_version"):
        op.drop_column("cases", column)
