"""The provider portal's decisions, pure: what a provider's operator wrote in a form, checked
against the request as the desk knows it (``casefile.RequestView``), and built into the very
event the provider's own adapter would publish (``ServiceActivationAccepted``,
``ServiceActivationDeclined``, ``HoursDelivered``).

A form that does not hold is refused field by field with ``FormInvalid``: each ``Problem`` is
an i18n key (``web/portal.py`` registers the words) and the values to put in it, so the page
shows the person what to change next to the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Final

from cerniera.desk.casefile import RequestStatus, RequestView
from cerniera.shared.clock import ROME, italian_date
from cerniera.shared.contract import (
    DeclineReason,
    HoursDelivered,
    ServiceActivationAccepted,
    ServiceActivationDeclined,
    ServiceType,
)
from cerniera.shared.contract.types import TEXT_PATTERN

Form = Mapping[str, str]
"""The submitted fields, by name (every value a string, as the browser sends it)."""

# The forms' field names (the templates use the same).
START_DAY: Final = "giorno"
START_TIME: Final = "ora"
REASON: Final = "motivo"
NOTE: Final = "nota"
DAY: Final = "giorno"
QUANTITY: Final = "quantita"
EVENING: Final = "sera"
NONCE: Final = "modulo"
REQUEST: Final = "richiesta"
"""Not a field: a problem with the request itself (already answered, not running)."""

ANSWERABLE: Final = frozenset({RequestStatus.PENDING})
"""A request is answered once; an update of it (same id, new ``start_by``) is pending again."""
DELIVERING: Final = frozenset({RequestStatus.ACCEPTED, RequestStatus.ACTIVE, RequestStatus.ENDED})
"""Deliveries are reported from the acceptance on, and after the end for the days before it."""

NOTE_MAX: Final = 4000
FAR_AHEAD: Final = timedelta(days=366)
"""A start more than a year ahead is a typing mistake, not a plan."""

_NONCE: Final = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_QUANTITY: Final = re.compile(r"^[0-9]{1,6}(?:[.,][0-9]+)?$")
_TIME: Final = re.compile(r"^([01]?[0-9]|2[0-3])[:.]([0-5][0-9])$")
_TEXT: Final = re.compile(TEXT_PATTERN)


class Unit(StrEnum):
    """What a service's quantity counts."""

    HOURS = "hours"
    MEALS = "meals"
    DAYS = "days"


UNITS: Final[Mapping[ServiceType, Unit]] = {
    ServiceType.SAD: Unit.HOURS,
    ServiceType.MEALS: Unit.MEALS,
    ServiceType.TELEASSISTANCE: Unit.DAYS,
    ServiceType.EMERGENCY_ALARM: Unit.DAYS,
}

DAILY_MAX: Final[Mapping[Unit, Decimal]] = {
    Unit.HOURS: Decimal(24),
    Unit.MEALS: Decimal(3),
    Unit.DAYS: Decimal(1),
}
"""The most one line can hold: a day's hours, a day's meals, one day of service."""


def unit_of(service_type: ServiceType) -> Unit:
    return UNITS[service_type]


def counted_in_days(service_type: ServiceType) -> bool:
    """Teleassistance and telesoccorso are reported a day at a time: no quantity to type."""
    return unit_of(service_type) is Unit.DAYS


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong with one field: an i18n key and the values its words name."""

    key: str
    values: Mapping[str, object] = field(default_factory=dict)


class FormInvalid(Exception):  # noqa: N818 - a verdict on the form, shown next to its fields
    def __init__(self, problems: Mapping[str, Problem]) -> None:
        super().__init__(", ".join(f"{name}: {p.key}" for name, p in problems.items()))
        self.problems = dict(problems)


# --- answers ---------------------------------------------------------------------------------


def acceptance(view: RequestView, form: Form, now: datetime) -> ServiceActivationAccepted:
    """The provider accepts ``view``, starting on the day and at the time of the form (Italian
    time), not before today."""
    problems = _answerable(view)
    today = italian_date(now)
    day = _day(form, START_DAY, problems)
    if day is not None and day < today:
        problems[START_DAY] = Problem("portale.error.start_day.past", {"today": today})
    elif day is not None and day > today + FAR_AHEAD:
        problems[START_DAY] = Problem("portale.error.start_day.far")
    at = _time(form, problems)
    if problems:
        raise FormInvalid(problems)
    assert day is not None
    assert at is not None
    return ServiceActivationAccepted(
        request_id=view.request_id,
        provider_id=view.provider_id,
        scheduled_start=datetime.combine(day, at, ROME),
    )


def decline(view: RequestView, form: Form) -> ServiceActivationDeclined:
    """The provider declines ``view`` for one of the contract's reasons; "other" needs a note
    saying which, so that the district learns something from it."""
    problems = _answerable(view)
    reason = _reason(form.get(REASON, ""))
    note = form.get(NOTE, "").strip() or None
    if reason is None:
        problems[REASON] = Problem("portale.error.reason.missing")
    if note is None and reason is DeclineReason.OTHER:
        problems[NOTE] = Problem("portale.error.note.needed")
    elif note is not None and len(note) > NOTE_MAX:
        problems[NOTE] = Problem("portale.error.note.long", {"max": NOTE_MAX})
    elif note is not None and not _TEXT.fullmatch(note):
        problems[NOTE] = Problem("portale.error.note.characters")
    if problems:
        raise FormInvalid(problems)
    assert reason is not None
    return ServiceActivationDeclined(
        request_id=view.request_id, provider_id=view.provider_id, reason_code=reason, note=note
    )


def _answerable(view: RequestView) -> dict[str, Problem]:
    if view.status in ANSWERABLE:
        return {}
    return {REQUEST: Problem("portale.error.request.answered")}


def _reason(code: str) -> DeclineReason | None:
    try:
        return DeclineReason(code)
    except ValueError:
        return None


# --- deliveries ------------------------------------------------------------------------------


def delivery(view: RequestView, form: Form, today: date) -> HoursDelivered:
    """One line delivered on a day of the service: hours (SAD, evening or not), meals, or one
    day of teleassistance or telesoccorso. Its ``delivery_ref`` is the request's, the day's and
    the form's own: the same form sent twice is the same line, which billing pays once."""
    problems: dict[str, Problem] = {}
    if view.status not in DELIVERING:
        problems[REQUEST] = Problem("portale.error.request.not_running")
    day = _day(form, DAY, problems)
    first, last = first_day(view), view.until
    if day is None:
        pass
    elif day > today:
        problems[DAY] = Problem("portale.error.day.future", {"today": today})
    elif first is not None and day < first:
        problems[DAY] = Problem("portale.error.day.before_start", {"start": first})
    elif last is not None and day > last:
        problems[DAY] = Problem("portale.error.day.after_end", {"end": last})
    unit = unit_of(view.service_type)
    quantity = Decimal(1) if unit is Unit.DAYS else _quantity(form, unit, problems)
    nonce = form.get(NONCE, "")
    if not _NONCE.fullmatch(nonce):
        problems[NONCE] = Problem("portale.error.form.expired")
    if problems:
        raise FormInvalid(problems)
    assert day is not None
    assert quantity is not None
    return HoursDelivered(
        case_id=view.case_id,
        provider_id=view.provider_id,
        service_type=view.service_type,
        delivered_on=day,
        quantity=quantity,
        delivery_ref=delivery_ref(view.request_id, day, nonce),
        evening=view.service_type is ServiceType.SAD and form.get(EVENING) in ("1", "on", "true"),
    )


def delivery_ref(request_id: str, day: date, nonce: str) -> str:
    """``<request_id>/<day>/<form>``: stable for one form, new with the next one."""
    return f"{request_id}/{day.isoformat()}/{nonce}"


def first_day(view: RequestView) -> date | None:
    """The first day of service, as far as the desk knows: activation's, else the start the
    provider gave."""
    if view.active_from is not None:
        return view.active_from
    return italian_date(view.scheduled_start) if view.scheduled_start is not None else None


def _quantity(form: Form, unit: Unit, problems: dict[str, Problem]) -> Decimal | None:
    raw = form.get(QUANTITY, "").strip().replace(" ", "")
    if not raw:
        problems[QUANTITY] = Problem(f"portale.error.quantity.missing.{unit}")
        return None
    if not _QUANTITY.fullmatch(raw):
        problems[QUANTITY] = Problem("portale.error.quantity.invalid")
        return None
    try:
        value = Decimal(raw.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern lets only numbers through
        problems[QUANTITY] = Problem("portale.error.quantity.invalid")
        return None
    most = DAILY_MAX[unit]
    if value <= 0:
        problems[QUANTITY] = Problem("portale.error.quantity.zero")
    elif value != value.quantize(Decimal("0.01")):
        problems[QUANTITY] = Problem("portale.error.quantity.decimals")
    elif unit is Unit.MEALS and value != value.to_integral_value():
        problems[QUANTITY] = Problem("portale.error.quantity.whole")
    elif value > most:
        problems[QUANTITY] = Problem(f"portale.error.quantity.most.{unit}", {"most": most})
    else:
        return value.quantize(Decimal("0.01"))
    return None


# --- days and times, as people type them ------------------------------------------------------


def _day(form: Form, name: str, problems: dict[str, Problem]) -> date | None:
    raw = form.get(name, "").strip()
    if not raw:
        problems[name] = Problem("portale.error.day.missing")
        return None
    found = parse_day(raw)
    if found is None:
        problems[name] = Problem("portale.error.day.invalid")
    return found


def parse_day(raw: str) -> date | None:
    """``2024-10-03`` (what a date field sends) or ``3/10/2024`` (what a person types where
    the browser shows a plain text field)."""
    try:
        return date.fromisoformat(raw) if "-" in raw else _italian_day(raw)
    except ValueError:
        return None


def _italian_day(raw: str) -> date | None:
    parts = raw.replace(".", "/").split("/")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or len(parts[2]) != 4:
        return None
    day, month, year = (int(p) for p in parts)
    return date(year, month, day)


def _time(form: Form, problems: dict[str, Problem]) -> time | None:
    raw = form.get(START_TIME, "").strip()
    if not raw:
        problems[START_TIME] = Problem("portale.error.time.missing")
        return None
    found = _TIME.fullmatch(raw)
    if found is None:
        problems[START_TIME] = Problem("portale.error.time.invalid")
        return None
    return time(int(found[1]), int(found[2]))
