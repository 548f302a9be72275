"""Hand-overs to the municipality, reversed decisions, readmissions before the decision, and
what the outcome indicators need: announcements, the hospital's dates, activations,
resolutions, postponements."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from cerniera.shared.persistence import columns

revision = "0004"
down_revision = "0003"

_EMPTY = sa.text("'[]'::jsonb")


def upgrade() -> None:
    op.add_column("followups", sa.Column("person_ref", sa.Text(), nullable=True))
    op.add_column(
        "followups", sa.Column("plan", postgresql.JSONB(), nullable=False, server_default=_EMPTY)
    )
    op.add_column(
        "followups",
        sa.Column("initial_plan", postgresql.JSONB(), nullable=False, server_default=_EMPTY),
    )
    op.add_column("followups", columns.moment("readmitted_at", nullable=True))
    op.add_column(
        "followups",
        sa.Column("decision_reversed", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("pending_discharge_dates", columns.moment("readmitted_at", nullable=True))
    op.create_table(
        "announcements",
        columns.case_key(),
        columns.moment("announced_at"),
        sa.Column("municipality_code", sa.Text(), nullable=False),
        sa.Column("patient", postgresql.JSONB(), nullable=False),
        sa.Column("caregiver", postgresql.JSONB(), nullable=True),
        columns.moment("received_at"),
    )
    op.create_index("announcements_received_at", "announcements", ["received_at"])
    op.create_table(
        "discharge_dates",
        sa.Column("case_id", sa.Text(), nullable=False),
        columns.moment("said_at"),
        columns.moment("expected_discharge_at"),
        columns.timestamp("received_at"),
        sa.PrimaryKeyConstraint(
            "case_id", "said_at", "expected_discharge_at", name="discharge_dates_pk"
        ),
    )
    op.create_table(
        "activations",
        sa.Column("request_id", sa.Text(), primary_key=True),
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("service_type", sa.Text(), nullable=False),
        sa.Column("provider_id", sa.Text(), nullable=False),
        sa.Column("active_from", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
    )
    op.create_index("activations_case", "activations", ["case_id"])
    op.create_table(
        "resolutions",
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("service_type", sa.Text(), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=False),
        columns.moment("resolved_at"),
        sa.PrimaryKeyConstraint("case_id", "service_type", name="resolutions_case_service"),
    )
    op.create_table(
        "postponements",
        columns.case_key(),
        columns.moment("first_requested_at"),
        sa.Column("postpone_until", sa.Date(), nullable=False),
    )
    op.create_table(
        "handovers",
        columns.case_of("followups"),
        sa.Column("municipality_code", sa.Text(), nullable=False),
        sa.Column("continuing", postgresql.JSONB(), nullable=False),
        sa.Column("needs", sa.Text(), nullable=True),
        sa.Column("contacts", postgresql.JSONB(), nullable=False),
        columns.moment("handed_over_at"),
        sa.Column("handed_over_by", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("case_id", name="handovers_case"),
    )


def downgrade() -> None:
    for table in (
        "handovers",
        "postponements",
        "resolutions",
        "activations",
        "discharge_dates",
        "announcements",
    ):
        op.drop_table(table)
    op.drop_column("pending_discharge_dates", "readmitted_at")
    for column in ("decision_reversed", "readmitted_at", "initial_plan", "plan", "person_ref"):
        op.drop_column("followups", column)
