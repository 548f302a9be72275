"""Work driven by the clock, not by events: closing follow-ups whose period has ended."""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy import delete

from cerniera.monitoring import domain, store
from cerniera.monitoring.tables import pending_discharge_dates
from cerniera.shared.runtime import ServiceRuntime

log = structlog.get_logger(__name__)

BATCH = 500
"""Follow-ups closed per transaction; the rest wait for the next period."""

PENDING_RETENTION = timedelta(days=60)
"""How long a reschedule or cancellation for a case monitoring does not follow is kept: the
eligibility decision it waits for comes within hours, never months."""


async def close_due(runtime: ServiceRuntime) -> int:
    """Close every open follow-up whose ``closes_on`` has come (Italian day of the service
    clock), with the outcome the last check recommended; return how many were closed."""
    now = runtime.clock.now()
    async with runtime.db.unit_of_work() as uow:
        rows = await store.open_past_period(uow.conn, runtime.clock.today(), BATCH)
        by_case = await store.checks_of(uow.conn, [row.case_id for row in rows])
        for row in rows:
            outcome = domain.closure_outcome(store.recorded(by_case[row.case_id]))
            await store.close(uow, row, outcome, now)
            log.info("followup.closed", case_id=row.case_id, outcome=outcome)
        await uow.conn.execute(
            delete(pending_discharge_dates).where(
                pending_discharge_dates.c.received_at < now - PENDING_RETENTION
            )
        )
    return len(rows)
