"""The audit log: every request that reads or changes personal data, who made it (actor and
roles, from the token), when, which case, what (the action, method and path) and whether it
was allowed. One table per service schema, append-only: a trigger refuses UPDATE, DELETE and
TRUNCATE, so not even the service can rewrite its history. The auditor reads it through
``GET /audit`` on each service (itself an audited read).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import BigInteger, Column, Identity, MetaData, Table, Text
from sqlalchemy.ext.asyncio import AsyncEngine

from cerniera.shared.access.roles import Action, Principal
from cerniera.shared.persistence import columns

Outcome = Literal["allowed", "denied"]


def audit_table(metadata: MetaData) -> Table:
    return Table(
        "audit_log",
        metadata,
        *_columns(),
    )


def _columns() -> list[Column[Any]]:
    return [
        Column("seq", BigInteger, Identity(always=True), primary_key=True),
        columns.timestamp("at"),
        Column("actor", Text, nullable=False),
        Column("subject", Text, nullable=False),
        Column("roles", Text, nullable=False),
        Column("action", Text, nullable=False),
        Column("method", Text, nullable=False),
        Column("path", Text, nullable=False),
        Column("case_id", Text, nullable=True),
        Column("outcome", Text, nullable=False),
    ]


_TABLE = audit_table(MetaData())

_APPEND_ONLY = (
    """CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
    END $$""",
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
    """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()""",
)


def create_audit_log() -> None:
    """For a service's migration: the table and the triggers that keep it append-only."""
    from alembic import op

    op.create_table("audit_log", *_columns())
    op.create_index("audit_log_case", "audit_log", ["case_id", "seq"])
    for statement in _APPEND_ONLY:
        op.execute(statement)


def drop_audit_log() -> None:
    from alembic import op

    op.drop_table("audit_log")
    op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")


def audit_log_v1(revision: str, after: str) -> tuple[str, str, Any, Any]:
    """``revision, down_revision, upgrade, downgrade`` of a service's audit-log migration."""
    return revision, after, create_audit_log, drop_audit_log


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    subject: str
    roles: str
    action: str
    method: str
    path: str
    case_id: str | None
    outcome: str


class AuditLog:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def record(
        self,
        who: Principal,
        action: Action,
        *,
        method: str,
        path: str,
        case_id: str | None,
        outcome: Outcome,
    ) -> None:
        """Written before the request is served, in its own transaction: a request whose
        access cannot be recorded is not served (the database error answers 503)."""
        async with self._engine.begin() as conn:
            await conn.execute(
                _TABLE.insert().values(
                    actor=who.actor,
                    subject=who.subject,
                    roles=",".join(sorted(who.roles)),
                    action=action.value,
                    method=method,
                    path=path[:2048],
                    case_id=case_id,
                    outcome=outcome,
                )
            )

    async def entries(
        self, *, case_id: str | None, actor: str | None, after: int, limit: int
    ) -> Sequence[AuditEntry]:
        query = sa.select(_TABLE).where(_TABLE.c.seq > after).order_by(_TABLE.c.seq).limit(limit)
        if case_id is not None:
            query = query.where(_TABLE.c.case_id == case_id)
        if actor is not None:
            query = query.where(_TABLE.c.actor == actor)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [AuditEntry(**row) for row in rows]
