"""The outbox and inbox tables, defined once and created in each service's own schema."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB


def outbox_table(metadata: MetaData) -> Table:
    """Events written in the business transaction, published later by the relay.

    ``seq`` orders publication; ``key`` (the case id) is the Kafka key, so the order per case
    survives into the topic. Rows are deleted once the broker has acknowledged them.
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
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
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
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("consumer", "source", "event_id"),
    )
