"""Alembic, one migration history per service, each in its own schema.

A service's ``migrations/env.py`` calls ``run_env``; ``upgrade`` applies the history from code
(at start-up, or from the service's ``migrate`` command).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

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
        engine = create_async_engine(url, poolclass=NullPool)
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
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column(
            "processed_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
        sa.PrimaryKeyConstraint("consumer", "source", "event_id"),
    )


def drop_messaging_tables() -> None:
    from alembic import op

    op.drop_table("inbox")
    op.drop_table("outbox")
