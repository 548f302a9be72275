"""Monitoring's schema: the follow-ups, their weekly checks, what the hospital said about a
discharge before monitoring followed it, and what the reports and the hand-over summary need:
the announcement (the person, for the municipality), the hospital's dates, the services
activated, the escalations resolved, the postponements asked for, the hand-overs.

Personal data (``announcements.patient``, ``handovers.needs`` / ``contacts``) stay here: no
event carries them. An announcement of a case monitoring never follows is forgotten after the
retention of what is kept pending."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from cerniera.shared.persistence import columns
from cerniera.shared.persistence.tables import inbox_table, outbox_table

SCHEMA = "monitoring"

metadata = MetaData(schema=SCHEMA)

followups = Table(
    "followups",
    metadata,
    columns.case_key(),
    columns.ambito_id(),
    columns.status(),
    columns.moment("discharge_at"),
    # The calendar, fixed at opening: a district changing its rules does not move open cases.
    Column("discharge_on", Date, nullable=False),
    Column("closes_on", Date, nullable=False),
    Column("check_interval_days", Integer, nullable=False),
    Column("duration_days", Integer, nullable=False),
    Column("overdue_after_days", Integer, nullable=False),
    # Of the eligibility decision: every event about the case carries it.
    columns.correlation_id(),
    Column("outcome", Text, nullable=True),
    columns.moment("closed_at", nullable=True),
    Column("closed_by", Text, nullable=True),
    Column("close_note", Text, nullable=True),
    columns.moment("opened_at"),
    columns.timestamp("updated_at"),
    Column("person_ref", Text, nullable=True),
    # The plan's service lines ([{service_type, weekly_quantity}]): now, and at the discharge.
    Column("plan", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("initial_plan", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    columns.moment("readmitted_at", nullable=True),
    Column("decision_reversed", Boolean, nullable=False, server_default=false()),
    Index("followups_status_closes_on", "status", "closes_on"),
    Index("followups_ambito_status", "ambito_id", "status"),
)

checks = Table(
    "checks",
    metadata,
    columns.case_of("followups"),
    Column("week", Integer, nullable=False),
    Column("due_on", Date, nullable=False),
    columns.moment("checked_at"),
    Column("outcome", Text, nullable=False),
    Column("notes", Text, nullable=True),
    Column("recommendation", Text, nullable=True),
    Column("checked_by", Text, nullable=False),
    columns.moment("recorded_at"),
    PrimaryKeyConstraint("case_id", "week", name="checks_case_week"),
)

pending_discharge_dates = Table(
    "pending_discharge_dates",
    metadata,
    # Hospital events arrive with no order relative to the eligibility decision: a reschedule
    # or cancellation seen first waits here and applies when the follow-up opens.
    columns.case_key(),
    columns.moment("expected_discharge_at", nullable=True),
    Column("cancelled", Boolean, nullable=False, server_default=false()),
    columns.moment("received_at"),
    columns.moment("readmitted_at", nullable=True),
    Index("pending_discharge_dates_received_at", "received_at"),
)

announcements = Table(
    "announcements",
    metadata,
    # Every discharge the hospitals announce (most never become cases: forgotten then).
    columns.case_key(),
    columns.moment("announced_at"),  # the hospital's event time
    Column("municipality_code", Text, nullable=False),
    Column("patient", JSONB, nullable=False),
    Column("caregiver", JSONB(none_as_null=True), nullable=True),
    columns.moment("received_at"),
    Index("announcements_received_at", "received_at"),
)

discharge_dates = Table(
    "discharge_dates",
    metadata,
    # Each expected discharge the hospital gave, at its event's time: the planned day when the
    # team asked to postpone is read here, whatever order the topics were consumed in.
    Column("case_id", Text, nullable=False),
    columns.moment("said_at"),
    columns.moment("expected_discharge_at"),
    columns.timestamp("received_at"),
    PrimaryKeyConstraint("case_id", "said_at", "expected_discharge_at", name="discharge_dates_pk"),
)

activations = Table(
    "activations",
    metadata,
    # Activation's ServiceActivated / ServiceDeactivated (they may come before the decision).
    Column("request_id", Text, primary_key=True),
    Column("case_id", Text, nullable=False),
    Column("service_type", Text, nullable=False),
    Column("provider_id", Text, nullable=False),
    Column("active_from", Date, nullable=False),
    Column("until", Date, nullable=True),
    Index("activations_case", "case_id"),
)

resolutions = Table(
    "resolutions",
    metadata,
    # How the team resolved an escalated service, the latest per service.
    Column("case_id", Text, nullable=False),
    Column("service_type", Text, nullable=False),
    Column("resolution", Text, nullable=False),
    columns.moment("resolved_at"),
    PrimaryKeyConstraint("case_id", "service_type", name="resolutions_case_service"),
)

postponements = Table(
    "postponements",
    metadata,
    # The team asked the ward to postpone the discharge: when first, until when at last.
    columns.case_key(),
    columns.moment("first_requested_at"),
    Column("postpone_until", Date, nullable=False),
)

handovers = Table(
    "handovers",
    metadata,
    columns.case_of("followups"),
    Column("municipality_code", Text, nullable=False),
    Column("continuing", JSONB, nullable=False),
    Column("needs", Text, nullable=True),
    Column("contacts", JSONB, nullable=False),
    columns.moment("handed_over_at"),
    Column("handed_over_by", Text, nullable=True),
    PrimaryKeyConstraint("case_id", name="handovers_case"),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
