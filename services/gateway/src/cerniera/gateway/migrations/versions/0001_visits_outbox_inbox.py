"""Visits, outbox and inbox."""

import sqlalchemy as sa
from alembic import op

from cerniera.shared.persistence import columns, migrations

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "visits",
        columns.case_key(),
        sa.Column("fiscal_code", sa.Text(), nullable=False),
        columns.moment("expected_discharge_at"),
        columns.status(),
        columns.correlation_id(),
        columns.timestamp("created_at"),
        columns.timestamp("updated_at"),
    )
    # An admission looks for the patient's open cases.
    op.create_index(
        "visits_open_by_fiscal_code",
        "visits",
        ["fiscal_code"],
        postgresql_where=sa.text("status = 'open'"),
    )
    migrations.create_messaging_tables()


def downgrade() -> None:
    migrations.drop_messaging_tables()
    op.drop_table("visits")
