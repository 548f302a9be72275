"""Billing's schema. No personal data: a case is its id, its district and its dates."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from cerniera.shared.persistence import columns
from cerniera.shared.persistence.tables import inbox_table, outbox_table

SCHEMA = "billing"

metadata = MetaData(schema=SCHEMA)

MONEY = Numeric(14, 2)
QUANTITY = Numeric(10, 2)

cases = Table(
    "cases",
    metadata,
    columns.case_key(),
    # Null until EligibilityConfirmed arrives (a closure or a delivery may come first).
    columns.ambito_id(nullable=True),
    columns.status(),  # unknown | confirmed | rejected
    columns.correlation_id(nullable=True),
    columns.moment("closed_at", nullable=True),
    columns.timestamp("updated_at"),
    # The person's pseudonym (EligibilityConfirmed.person_ref): the SAD cap and the funder's
    # beneficiaries count persons across cases. Null for events older than contract 2.1.
    Column("person_ref", Text, nullable=True),
    Index("cases_person", "person_ref"),
)

# The case's individual plan (PAI) by version: the one it was confirmed with (in force from
# the start, effective_from null), then each PlanRevised from the Italian day it was made.
plans = Table(
    "plans",
    metadata,
    Column("case_id", Text, nullable=False),
    Column("plan_version", Integer, nullable=False),
    Column("effective_from", Date, nullable=True),
    # {service_type: weekly quantity as a decimal string}
    Column("weekly_quantities", JSONB, nullable=False),
    columns.timestamp("updated_at"),
    PrimaryKeyConstraint("case_id", "plan_version"),
)

# Billing's own copy of the activations (from activation's events, never its tables): what a
# provider is authorised to bill for a case and service, and from when until when.
authorisations = Table(
    "authorisations",
    metadata,
    Column("request_id", Text, primary_key=True),
    Column("case_id", Text, nullable=False),
    Column("provider_id", Text, nullable=False),
    Column("service_type", Text, nullable=False),
    Column("active_from", Date, nullable=True),  # null while only a deactivation is known
    Column("until", Date, nullable=True),
    columns.timestamp("updated_at"),
    Index("authorisations_grant", "case_id", "provider_id", "service_type"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("provider_id", Text, nullable=False),
    Column("delivery_ref", Text, nullable=False),
    Column("case_id", Text, nullable=False),
    columns.ambito_id(nullable=True),  # the case's, once known
    Column("service_type", Text, nullable=False),
    Column("delivered_on", Date, nullable=False),
    Column("quantity", QUANTITY, nullable=False),
    Column("evening", Boolean, nullable=False),
    columns.status(),  # domain.LineStatus
    Column("reasons", JSONB, nullable=False),  # [{code, text}]
    Column("unit_tariff", MONEY, nullable=True),
    Column("surcharge_percent", Numeric(5, 2), nullable=False),
    Column("priced_quantity", QUANTITY, nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("billed_amount", MONEY, nullable=False),
    Column("unfunded_amount", MONEY, nullable=False),
    Column("unfunded_quantity", QUANTITY, nullable=False),
    Column("over_cap_quantity", QUANTITY, nullable=False),
    Column("over_cap_amount", MONEY, nullable=False),
    Column("cap_hours", QUANTITY, nullable=False),  # SAD hours counted toward the cap
    # Counted against its week's authorised quantity (the whole of an authorised line).
    Column("counted_quantity", QUANTITY, nullable=False, server_default=text("0")),
    # The HoursDelivered this row came from: events caused later carry its correlation.
    Column("event_source", Text, nullable=False),
    Column("event_id", Text, nullable=False),
    columns.correlation_id(),
    columns.timestamp("received_at"),
    columns.moment("priced_at", nullable=True),
    # A repeated delivery_ref (new event id) is kept as its own ``duplicate`` row; the first
    # is the only one that counts.
    Index(
        "deliveries_once",
        "provider_id",
        "delivery_ref",
        unique=True,
        postgresql_where=text("status <> 'duplicate'"),
    ),
    Index("deliveries_case", "case_id", "status"),
    Index("deliveries_statement", "provider_id", "delivered_on"),
)

allocations = Table(
    "allocations",
    metadata,
    Column("delivery_id", BigInteger, ForeignKey(deliveries.c.id), nullable=False),
    columns.ambito_id(),
    Column("funding_source", Text, nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("quantity", QUANTITY, nullable=False),
    PrimaryKeyConstraint("delivery_id", "funding_source"),
    Index("allocations_budget", "ambito_id", "funding_source"),
)

thresholds_reached = Table(
    "thresholds_reached",
    metadata,
    columns.ambito_id(),
    Column("funding_source", Text, nullable=False),
    Column("threshold_percent", Integer, nullable=False),
    Column("spent", MONEY, nullable=False),
    Column("budget", MONEY, nullable=False),
    columns.moment("reached_at"),
    Column("delivery_id", BigInteger, nullable=False),
    PrimaryKeyConstraint("ambito_id", "funding_source", "threshold_percent"),
)

statements_issued = Table(
    "statements_issued",
    metadata,
    Column("provider_id", Text, nullable=False),
    columns.ambito_id(),
    Column("period", Text, nullable=False),
    Column("total", MONEY, nullable=False),
    Column("lines", Integer, nullable=False),
    columns.moment("issued_at"),
    Column("event_id", Text, nullable=False),
    PrimaryKeyConstraint("provider_id", "ambito_id", "period"),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
