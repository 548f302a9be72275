"""Cases, deliveries, allocations, thresholds reached, statements issued, outbox and inbox."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from cerniera.shared.persistence import columns, migrations

revision = "0001"
down_revision = None

MONEY = sa.Numeric(14, 2)
QUANTITY = sa.Numeric(10, 2)


def upgrade() -> None:
    op.create_table(
        "cases",
        columns.case_key(),
        columns.ambito_id(nullable=True),
        columns.status(),
        columns.correlation_id(nullable=True),
        columns.moment("closed_at", nullable=True),
        columns.timestamp("updated_at"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), primary_key=True),
        sa.Column("provider_id", sa.Text(), nullable=False),
        sa.Column("delivery_ref", sa.Text(), nullable=False),
        sa.Column("case_id", sa.Text(), nullable=False),
        columns.ambito_id(nullable=True),
        sa.Column("service_type", sa.Text(), nullable=False),
        sa.Column("delivered_on", sa.Date(), nullable=False),
        sa.Column("quantity", QUANTITY, nullable=False),
        sa.Column("evening", sa.Boolean(), nullable=False),
        columns.status(),
        sa.Column("reasons", postgresql.JSONB(), nullable=False),
        sa.Column("unit_tariff", MONEY, nullable=True),
        sa.Column("surcharge_percent", sa.Numeric(5, 2), nullable=False),
        sa.Column("priced_quantity", QUANTITY, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("billed_amount", MONEY, nullable=False),
        sa.Column("unfunded_amount", MONEY, nullable=False),
        sa.Column("unfunded_quantity", QUANTITY, nullable=False),
        sa.Column("over_cap_quantity", QUANTITY, nullable=False),
        sa.Column("over_cap_amount", MONEY, nullable=False),
        sa.Column("cap_hours", QUANTITY, nullable=False),
        sa.Column("event_source", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        columns.correlation_id(),
        columns.timestamp("received_at"),
        columns.moment("priced_at", nullable=True),
    )
    op.create_index(
        "deliveries_once",
        "deliveries",
        ["provider_id", "delivery_ref"],
        unique=True,
        postgresql_where=sa.text("status <> 'duplicate'"),
    )
    op.create_index("deliveries_case", "deliveries", ["case_id", "status"])
    op.create_index("deliveries_statement", "deliveries", ["provider_id", "delivered_on"])
    op.create_table(
        "allocations",
        sa.Column("delivery_id", sa.BigInteger(), sa.ForeignKey("deliveries.id"), nullable=False),
        columns.ambito_id(),
        sa.Column("funding_source", sa.Text(), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("quantity", QUANTITY, nullable=False),
        sa.PrimaryKeyConstraint("delivery_id", "funding_source"),
    )
    op.create_index("allocations_budget", "allocations", ["ambito_id", "funding_source"])
    op.create_table(
        "thresholds_reached",
        columns.ambito_id(),
        sa.Column("funding_source", sa.Text(), nullable=False),
        sa.Column("threshold_percent", sa.Integer(), nullable=False),
        sa.Column("spent", MONEY, nullable=False),
        sa.Column("budget", MONEY, nullable=False),
        columns.moment("reached_at"),
        sa.Column("delivery_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("ambito_id", "funding_source", "threshold_percent"),
    )
    op.create_table(
        "statements_issued",
        sa.Column("provider_id", sa.Text(), nullable=False),
        columns.ambito_id(),
        sa.Column("period", sa.Text(), nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        columns.moment("issued_at"),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("provider_id", "ambito_id", "period"),
    )
    migrations.create_messaging_tables()


def downgrade() -> None:
    migrations.drop_messaging_tables()
    op.drop_table("statements_issued")
    op.drop_table("thresholds_reached")
    op.drop_table("allocations")
    op.drop_table("deliveries")
    op.drop_table("cases")
