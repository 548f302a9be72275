"""Italian by default, English on request (``?lang=en``, kept in a cookie): the words of the
pages, and dates and money in the reader's format (Babel's CLDR data). Machine codes (service
types, reason codes) stay as they are in the data; their names for people are here."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

LANGUAGES: Final = ("it", "en")
DEFAULT: Final = "it"
LANG_COOKIE: Final = "lang"
TIMEZONE: Final = ZoneInfo("Europe/Rome")
"""Italian districts: every date and time is shown on Italian time."""

_LOCALES: Final = {"it": "it_IT", "en": "en_GB"}

MESSAGES: Final[dict[str, dict[str, str]]] = {
    # Words shared by every page; each page module adds its own with ``register``.
    "app.name": {"it": "Cerniera", "en": "Cerniera"},
    "nav.skip": {"it": "Vai al contenuto", "en": "Skip to content"},
    "nav.today": {"it": "Oggi", "en": "Today"},
    "nav.board": {"it": "Dimissioni in arrivo", "en": "Coming discharges"},
    "nav.budget": {"it": "Budget ed esiti", "en": "Budget and outcomes"},
    "nav.portal": {"it": "Portale ente", "en": "Provider portal"},
    "nav.logout": {"it": "Esci", "en": "Log out"},
    "nav.language": {"it": "English", "en": "Italiano"},
    "nav.main": {"it": "Navigazione principale", "en": "Main navigation"},
    "login.title": {"it": "Accesso", "en": "Log in"},
    "login.lead": {
        "it": "Accedi con il tuo account dell'ambito o dell'ente.",
        "en": "Log in with your district's or provider's account.",
    },
    "login.button": {"it": "Accedi", "en": "Log in"},
    "login.failed": {
        "it": "Accesso non riuscito: riprova.",
        "en": "Log-in failed: please try again.",
    },
    "logout.done": {"it": "Sei uscito da Cerniera.", "en": "You have logged out of Cerniera."},
    "error.forbidden": {
        "it": "Non puoi vedere questa pagina con il tuo ruolo.",
        "en": "Your role cannot see this page.",
    },
    "error.not_found": {"it": "Pagina non trovata.", "en": "Page not found."},
    "error.unavailable": {
        "it": "Il servizio non risponde ora: riprova tra poco.",
        "en": "The service is not answering now: try again shortly.",
    },
    # Machine codes' names for people.
    "service.sad": {"it": "Assistenza domiciliare (SAD)", "en": "Home care (SAD)"},
    "service.meals": {"it": "Pasti a domicilio", "en": "Meals at home"},
    "service.teleassistance": {"it": "Teleassistenza", "en": "Teleassistance"},
    "service.emergency_alarm": {"it": "Telesoccorso", "en": "Emergency alarm"},
}


def register(messages: dict[str, dict[str, str]]) -> None:
    """Add a page module's words (a key defined twice is a mistake)."""
    clash = MESSAGES.keys() & messages.keys()
    assert not clash, f"messages defined twice: {sorted(clash)}"
    MESSAGES.update(messages)


def pick(lang: str | None) -> str:
    return lang if lang in LANGUAGES else DEFAULT


def text(key: str, lang: str, **values: object) -> str:
    """The words of ``key`` in ``lang`` (Italian when missing; the key itself when unknown)."""
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    words = entry.get(lang) or entry[DEFAULT]
    return words.format(**values) if values else words


def day(value: date | datetime | None, lang: str, style: str = "medium") -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(TIMEZONE).date()
    return format_date(value, format=style, locale=_LOCALES[lang])


def moment(value: datetime | None, lang: str) -> str:
    if value is None:
        return "—"
    return format_datetime(value, format="short", tzinfo=TIMEZONE, locale=_LOCALES[lang])


def money(value: Decimal | float | str | None, lang: str) -> str:
    if value is None:
        return "—"
    return format_currency(Decimal(str(value)), "EUR", locale=_LOCALES[lang])


def number(value: Decimal | float | int | None, lang: str) -> str:
    if value is None:
        return "—"
    return format_decimal(value, locale=_LOCALES[lang])
