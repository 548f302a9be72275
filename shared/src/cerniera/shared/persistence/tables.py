"""The outbox and inbox tables, defined once and created in each service's own schema."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Identity,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

from cerniera.shared.persistence import columns


def outbox_table(metadata: MetaData) -> Table:
    """Events written in the business transaction, published later by the relay.

    ``seq`` orders publication; ``key`` (the case id) is the Kafka key, so the order per case
    survives into the topic. Rows are deleted once the broker has acknowledged them. A row
    the broker refuses for good (too large, ...) is *parked* (``parked_at``, ``last_error``):
    reported, kept, and its case's later rows wait behind it; every other case goes on.
    """
    return Table(
        "outbox",
        metadata,
        Column("seq", BigInteger, Identity(always=True), primary_key=True),
        Column("event_id", Text, nullable=False, unique=True),
        Column("topic", Text, nullable=False),
        Column("key", Text, nullable=True),
        Column("event_type", Text, nullable=False),
        Column("headers", JSONB, nullable=False),
        Column("payload", LargeBinary, nullable=False),
        columns.timestamp("created_at"),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Column("last_error", Text, nullable=True),
        columns.moment("parked_at", nullable=True),
    )


def inbox_table(metadata: MetaData) -> Table:
    """Events a consumer has processed, keyed by (consumer, ce_source, ce_id): inserted in the
    same transaction as the effects, so a redelivered event finds its row and is skipped."""
    return Table(
        "inbox",
        metadata,
        Column("consumer", Text, nullable=False),
        Column("source", Text, nullable=False),
        Column("event_id", Text, nullable=False),
        Column("event_type", Text, nullable=False),
        columns.timestamp("processed_at"),
        # The payload's digest: the same id again with other content is a conflict, not a
        # duplicate (dead-lettered, never silently dropped).
        Column("digest", Text, nullable=True),
        PrimaryKeyConstraint("consumer", "source", "event_id"),
    )


def parked_cases_table(metadata: MetaData) -> Table:
    """Cases whose events wait: one of their events was dead-lettered, so the later ones must
    not overtake it. Released when the dead letter is replayed and applied, or discarded."""
    return Table(
        "parked_cases",
        metadata,
        *columns.parked_case(),
        Column("dead_letter_id", Text, nullable=True),
        Column("reason_code", Text, nullable=False),
        Column("reason", Text, nullable=False),
        columns.timestamp("parked_at"),
        PrimaryKeyConstraint("consumer", "case_key"),
    )


def parked_events_table(metadata: MetaData) -> Table:
    """The records of a parked case that arrived after its dead letter, as they arrived, in
    order: applied (through the ordinary path) when the case is released."""
    return Table(
        "parked_events",
        metadata,
        Column("seq", BigInteger, Identity(always=True), primary_key=True),
        *columns.parked_case(),
        Column("topic", Text, nullable=False),
        Column("partition", Integer, nullable=False),
        Column("offset", BigInteger, nullable=False),
        Column("key", LargeBinary, nullable=True),
        Column("value", LargeBinary, nullable=True),
        Column("headers", JSONB, nullable=False),
        columns.timestamp("parked_at"),
    )
