"""Factories for activation's domain values (pure: no I/O), shared by its unit tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from cerniera.activation.planning import Attempt, RequestStatus, request_id_for
from cerniera.shared.clock import ROME
from cerniera.shared.contract import ServiceType

CASE = "asst-vimercate:V2026-000042"
MONDAY = date(2026, 3, 2)  # an ordinary week: no holiday until Easter
MONDAY_9AM = datetime(2026, 3, 2, 9, 0, tzinfo=ROME)


def attempt(
    service: ServiceType = ServiceType.SAD,
    provider_id: str = "coop-il-melograno",
    *,
    number: int = 1,
    status: RequestStatus = RequestStatus.REQUESTED,
    weekly_quantity: Decimal = Decimal(6),
    start_by: date = date(2026, 3, 5),
    earliest_start: date = date(2026, 3, 4),
    requested_at: datetime = MONDAY_9AM,
    **more: Any,
) -> Attempt:
    """A request as stored, asked on Monday 2 March 2026 at 9:00 with a 24-hour deadline."""
    return Attempt(
        request_id=request_id_for(CASE, service, number),
        service_type=service,
        provider_id=provider_id,
        attempt=number,
        status=status,
        weekly_quantity=weekly_quantity,
        start_by=start_by,
        earliest_start=earliest_start,
        requested_at=requested_at,
        deadline_at=requested_at + timedelta(hours=24),
        **more,
    )
