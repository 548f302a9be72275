"""Alembic, one migration history per service, each in its own schema.

A service's ``migrations/env.py`` calls ``run_env``; ``upgrade`` applies the history from code
(at start-up, or from the service's ``migrate`` command).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from cerniera.shared.persistence import columns
from cerniera.shared.settings import async_database_url

_IN_PROCESS = asyncio.Lock()


def alembic_config(script_location: Path, url: str, schema: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", async_database_url(url).replace("%", "%%"))
    config.attributes["schema"] = schema
    return config


async def upgrade(script_location: Path, url: str, schema: str, revision: str = "head") -> None:
    """Bring ``schema`` to ``revision``. Alembic is synchronous and its env runs its own event
    loop, so it runs in a worker thread."""
    config = alembic_config(script_location, url, schema)
    # Alembic's ``context`` is module-global: two services migrating in one process (tests,
    # in-process runs) would overwrite each other's environment. Separate processes need not.
    async with _IN_PROCESS:
        await asyncio.to_thread(command.upgrade, config, revision)


def run_env(metadata: MetaData) -> None:
    """The body of every service's ``env.py``."""
    config = context.config
    schema = config.attributes.get("schema") or metadata.schema
    assert schema, "a service's metadata must name its schema"
    url = config.get_main_option("sqlalchemy.url")
    assert url

    def run(conn: Connection) -> None:
        # Two replicas starting together must not both migrate.
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:n))"), {"n": f"migrate.{schema}"})
        # Unqualified names in migrations land in the service's own schema.
        conn.execute(text(f'SET LOCAL search_path TO "{schema}"'))
        context.configure(
            connection=conn,
            target_metadata=metadata,
            version_table_schema=schema,
            include_schemas=False,
        )
        context.run_migrations()

    if context.is_offline_mode():
        context.configure(
            url=url, target_metadata=metadata, version_table_schema=schema, literal_binds=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return

    async def main() -> None:
        engine = create_async_engine(url, poolclass=NullPool, hide_parameters=True)
        try:
            async with engine.begin() as conn:
                # Replicas starting together take turns; checked first because CREATE SCHEMA
                # IF NOT EXISTS still needs the CREATE right on the database, which a
                # per-service user with an existing schema lacks.
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(hashtext(:n))"), {"n": f"migrate.{schema}"}
                )
                exists = await conn.scalar(
                    text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema}
                )
                if not exists:
                    await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            async with engine.begin() as conn:
                await conn.run_sync(run)
        finally:
            await engine.dispose()

    asyncio.run(main())


def create_messaging_tables() -> None:
    """Outbox and inbox, version 1, for a service's first migration. A later change to their
    shape is a new migration in every service, never an edit here."""
    from alembic import op

    op.create_table(
        "outbox",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), primary_key=True),
        sa.Column("event_id", sa.Text(), nullable=False, unique=True),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=True),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("headers", JSONB(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        columns.timestamp("created_at"),
    )
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        columns.timestamp("processed_at"),
        sa.PrimaryKeyConstraint("consumer", "source", "event_id"),
    )


def drop_messaging_tables() -> None:
    from alembic import op

    op.drop_table("inbox")
    op.drop_table("outbox")


def upgrade_messaging_tables_v2() -> None:
    """Messaging tables, version 2 (every service's second messaging migration): outbox rows
    that can be parked, the inbox's payload digest, and parked cases and their events."""
    from alembic import op

    op.add_column("outbox", sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("outbox", sa.Column("last_error", sa.Text(), nullable=True))
    op.add_column("outbox", columns.moment("parked_at", nullable=True))
    op.add_column("inbox", sa.Column("digest", sa.Text(), nullable=True))
    op.create_table(
        "parked_cases",
        *columns.parked_case(),
        sa.Column("dead_letter_id", sa.Text(), nullable=True),
        sa.Column("reason_code", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        columns.timestamp("parked_at"),
        sa.PrimaryKeyConstraint("consumer", "case_key"),
    )
    op.create_table(
        "parked_events",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), primary_key=True),
        *columns.parked_case(),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.LargeBinary(), nullable=True),
        sa.Column("value", sa.LargeBinary(), nullable=True),
        sa.Column("headers", JSONB(), nullable=False),
        columns.timestamp("parked_at"),
    )
    op.create_index("parked_events_case", "parked_events", ["consumer", "case_key", "seq"])


def downgrade_messaging_tables_v2() -> None:
    from alembic import op

    op.drop_table("parked_events")
    op.drop_table("parked_cases")
    op.drop_column("inbox", "digest")
    for column in ("parked_at", "last_error", "attempts"):
        op.drop_column("outbox", column)


def messaging_v2(revision: str, after: str) -> tuple[str, str, Any, Any]:
    """``revision, down_revision, upgrade, downgrade`` of a service's messaging-v2 migration,
    so that each service's file is one line."""
    return revision, after, upgrade_messaging_tables_v2, downgrade_messaging_tables_v2
