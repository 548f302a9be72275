"""Intake's schema. Personal data (patient, caregiver, assessment, the information for taking
the person in charge) stays here: decision events carry the case id, never the person."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

from cerniera.shared.persistence import columns
from cerniera.shared.persistence.tables import inbox_table, outbox_table

SCHEMA = "intake"

metadata = MetaData(schema=SCHEMA)


def _case_id() -> Column[str]:
    """The case a row of the team's records belongs to (deleted with it)."""
    return columns.case_of("cases", ondelete="CASCADE")


cases = Table(
    "cases",
    metadata,
    columns.case_key(),
    Column("hospital_id", Text, nullable=False),
    Column("discharge_ref", Text, nullable=False),
    Column("ward", Text, nullable=False),
    columns.ambito_id(nullable=True),
    columns.status(),
    columns.moment("expected_discharge_at"),
    Column("patient", JSONB, nullable=False),
    Column("caregiver", JSONB, nullable=True),
    Column("assessment", JSONB, nullable=True),
    Column("decision", JSONB, nullable=True),
    columns.correlation_id(),
    *columns.timestamps(),
    # The person across visits and hospitals, for the SAD hours cap (indexed by the migration).
    Column("fiscal_code", Text, nullable=True),
    Column("confirmed_by", Text, nullable=True),
    Column("consent", JSONB, nullable=True),
    Column("plan_version", Integer, nullable=False, server_default="0"),
    Column("plan_note", Text, nullable=True),  # the operator's words for a plan not yet published
    columns.moment("readmitted_at", nullable=True),
    columns.moment("closed_at", nullable=True),
    Column("closed_outcome", Text, nullable=True),
)

# The team's assessments of a case, one row per version (who, when); the latest is the one in
# force. ``cases.assessment`` keeps what the ward sent with the announcement (shown as version 0).
assessments = Table(
    "assessments",
    metadata,
    _case_id(),
    Column("version", Integer, nullable=False),
    Column("answers", JSONB, nullable=False),
    Column("brass_score", Integer, nullable=True),
    Column("brass_items", JSONB, nullable=True),
    Column("notes", Text, nullable=True),
    Column("assessed_by", Text, nullable=False),
    columns.moment("assessed_at"),
    PrimaryKeyConstraint("case_id", "version"),
)

# What the team needs to take the person in charge (presa in carico) and to draft the PAI
# (Piano Assistenziale Individualizzato), one row per version. Never published.
taking_charge = Table(
    "taking_charge",
    metadata,
    _case_id(),
    Column("version", Integer, nullable=False),
    Column("pai", JSONB, nullable=False),
    Column("information", JSONB, nullable=False),
    Column("recorded_by", Text, nullable=False),
    columns.moment("recorded_at"),
    PrimaryKeyConstraint("case_id", "version"),
)

# The team's overrides of the rule: who, when, why, and what the rule said at that moment.
overrides = Table(
    "overrides",
    metadata,
    _case_id(),
    Column("seq", Integer, nullable=False),
    Column("decision", JSONB, nullable=False),
    Column("reason", Text, nullable=False),
    Column("decided_by", Text, nullable=False),
    columns.moment("decided_at"),
    Column("rule", JSONB, nullable=True),
    Column("event_id", Text, nullable=True),
    PrimaryKeyConstraint("case_id", "seq"),
)

# The individual plan (PAI), one row per version: what it authorises, who, when and why (the
# operator's words stay here; the event carries the code and its fixed text).
plans = Table(
    "plans",
    metadata,
    _case_id(),
    Column("version", Integer, nullable=False),
    Column("services", JSONB, nullable=False),
    Column("reason_code", Text, nullable=False),
    Column("reason", Text, nullable=True),
    Column("revised_by", Text, nullable=False),
    columns.moment("revised_at"),
    Column("event_id", Text, nullable=True),
    PrimaryKeyConstraint("case_id", "version"),
)

# The district administrator's exceptions to the SAD hours cap, with their reasons.
cap_exceptions = Table(
    "cap_exceptions",
    metadata,
    _case_id(),
    Column("seq", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("granted_by", Text, nullable=False),
    columns.moment("granted_at"),
    PrimaryKeyConstraint("case_id", "seq"),
)

# Plans refused (or held for the team) because of the cap: counted for the report.
cap_refusals = Table(
    "cap_refusals",
    metadata,
    _case_id(),
    Column("seq", Integer, nullable=False),
    Column("plan_hours", Numeric, nullable=False),
    Column("other_hours", Numeric, nullable=False),
    Column("cap", Numeric, nullable=False),
    Column("refused_by", Text, nullable=False),
    columns.moment("refused_at"),
    PrimaryKeyConstraint("case_id", "seq"),
)

# The territorial network engaged for a person without a caregiver, and its answer.
network_tasks = Table(
    "network_tasks",
    metadata,
    _case_id(),
    Column("task_id", Text, nullable=False),
    columns.moment("opened_at"),
    Column("outcome", Text, nullable=True),
    Column("resources", JSONB, nullable=False, server_default="[]"),
    Column("notes", Text, nullable=True),
    Column("completed_by", Text, nullable=True),
    columns.moment("completed_at", nullable=True),
    PrimaryKeyConstraint("case_id", "task_id"),
)

# The team's notes of mediations with families who disagree (never published).
mediation_notes = Table(
    "mediation_notes",
    metadata,
    _case_id(),
    Column("seq", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("written_by", Text, nullable=False),
    columns.moment("written_at"),
    PrimaryKeyConstraint("case_id", "seq"),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
