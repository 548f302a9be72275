"""billing: its own copy of the activations, the package's weekly quantities, and the quantity
of each line counted against its week's authorisation."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from cerniera.shared.persistence import columns

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.add_column(
        "cases",
        sa.Column(
            "weekly_quantities",
            postgresql.JSONB(),
            nullable=False,
            server_default=sa.text("'{}'::jsonb"),
        ),
    )
    op.add_column(
        "deliveries",
        sa.Column(
            "counted_quantity", sa.Numeric(10, 2), nullable=False, server_default=sa.text("0")
        ),
    )
    op.create_table(
        "authorisations",
        sa.Column("request_id", sa.Text(), primary_key=True),
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("provider_id", sa.Text(), nullable=False),
        sa.Column("service_type", sa.Text(), nullable=False),
        sa.Column("active_from", sa.Date(), nullable=True),
        sa.Column("until", sa.Date(), nullable=True),
        columns.timestamp("updated_at"),
    )
    op.create_index(
        "authorisations_grant", "authorisations", ["case_id", "provider_id", "service_type"]
    )


def downgrade() -> None:
    op.drop_table("authorisations")
    op.drop_column("deliveries", "counted_quantity")
    op.drop_column("cases", "weekly_quantities")
