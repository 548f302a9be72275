"""Intake's schema. Personal data (patient, caregiver, assessment) stays here: decision events
carry the case id, never the person."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, MetaData, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB

from cerniera.shared.persistence.tables import inbox_table, outbox_table

SCHEMA = "intake"

metadata = MetaData(schema=SCHEMA)

cases = Table(
    "cases",
    metadata,
    Column("case_id", Text, primary_key=True),
    Column("hospital_id", Text, nullable=False),
    Column("discharge_ref", Text, nullable=False),
    Column("ward", Text, nullable=False),
    Column("ambito_id", Text, nullable=True),
    Column("status", Text, nullable=False),
    Column("expected_discharge_at", DateTime(timezone=True), nullable=False),
    Column("patient", JSONB, nullable=False),
    Column("caregiver", JSONB, nullable=True),
    Column("assessment", JSONB, nullable=True),
    Column("decision", JSONB, nullable=True),
    Column("correlation_id", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
