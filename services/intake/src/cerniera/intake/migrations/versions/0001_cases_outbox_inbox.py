"""Cases, outbox and inbox."""

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
        sa.Column("hospital_id", sa.Text(), nullable=False),
        sa.Column("discharge_ref", sa.Text(), nullable=False),
        sa.Column("ward", sa.Text(), nullable=False),
        columns.ambito_id(nullable=True),
        columns.status(),
        columns.moment("expected_discharge_at"),
        sa.Column("patient", postgresql.JSONB(), nullable=False),
        sa.Column("caregiver", postgresql.JSONB(), nullable=True),
        sa.Column("assessment", postgresql.JSONB(), nullable=True),
        sa.Column("decision", postgresql.JSONB(), nullable=True),
        columns.correlation_id(),
        columns.timestamp("created_at", nullable=True),
        columns.timestamp("updated_at", nullable=True),
    )
    op.create_index("cases_status", "cases", ["status"])
    migrations.create_messaging_tables()


def downgrade() -> None:
    migrations.drop_messaging_tables()
    op.drop_table("cases")
