"""Logs carry no personal data: fields by name at any depth, fiscal codes in any text,
tracebacks included, for our loggers and for the libraries' standard-library ones."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import structlog

from cerniera.shared.contract.events import Patient
from cerniera.shared.logging import FISCAL_CODE, configure_logging, formatter, redact_personal

CF = "RSSMRA85T10A562S"


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """JSON lines of the logger ``cerniera.test.redaction`` through the production formatter
    (structlog's side of the chain is the one ``configure_logging`` installed)."""
    configure_logging("INFO", json=False)
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter(structlog.processors.JSONRenderer()))
    logger = logging.getLogger("cerniera.test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield out
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


def records(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_fiscal_code_in_an_exception_message_and_traceback_is_masked(
    lines: io.StringIO,
) -> None:
    log = structlog.get_logger("cerniera.test.redaction")
    try:
        raise ValueError(f"duplicate key value violates unique constraint: ({CF})")
    except ValueError:
        log.exception("case.insert_failed", case_id="asst-vimercate:V2026-000123")

    text = lines.getvalue()
    assert CF not in text
    (line,) = records(lines)
    assert "Traceback" in line["exception"]
    assert (
        "ValueError: duplicate key value violates unique constraint: ([codice fiscale])"
        in (line["exception"])
    )
    assert line["case_id"] == "asst-vimercate:V2026-000123"


def test_standard_library_records_are_redacted_too(lines: io.StringIO) -> None:
    """What aiokafka, FastStream or SQLAlchemy log goes through the same formatter."""
    stdlib = logging.getLogger("cerniera.test.redaction")
    try:
        raise RuntimeError(f"cannot decode {CF.lower()}")
    except RuntimeError:
        stdlib.error("handler failed for %s", CF, exc_info=True)

    (line,) = records(lines)
    assert line["event"] == "handler failed for [codice fiscale]"
    assert "RuntimeError: cannot decode [codice fiscale]" in line["exception"]
    assert CF not in json.dumps(line).upper()


def test_personal_fields_are_replaced_at_any_depth(lines: io.StringIO) -> None:
    log = structlog.get_logger("cerniera.test.redaction")
    log.warning(
        "discharge.rejected",
        reason="patient.invalid",
        data={
            "patient": {"fiscal_code": CF, "given_name": "Mario"},
            "caregivers": [{"Name": "Anna Rossi", "phone": "+39 039 1234567", "present": True}],
            "assessment": {"brass_score": 22, "notes": "Vive solo."},
            "municipality_code": "108050",
        },
        note=None,
    )

    (line,) = records(lines)
    assert line["reason"] == "patient.invalid"  # a machine code, kept
    assert line["data"] == {
        "patient": "[redacted]",
        "caregivers": [{"Name": "[redacted]", "phone": "[redacted]", "present": True}],
        "assessment": {"brass_score": 22, "notes": "[redacted]"},
        "municipality_code": "108050",
    }
    assert line["note"] is None


def test_a_model_is_redacted_field_by_field() -> None:
    patient = Patient(
        fiscal_code=CF,
        given_name="Mario",
        family_name="Rossi",
        birth_date=date(1985, 12, 10),
        municipality_code="108050",
        address="Via Roma 12, 20871 Vimercate (MB)",
    )
    out = redact_personal(None, "info", {"event": "x", "subject": patient, "ids": (CF, 7)})
    assert out["subject"]["fiscal_code"] == "[redacted]"
    assert out["subject"]["address"] == "[redacted]"
    assert out["subject"]["municipality_code"] == "108050"
    assert out["ids"] == ["[codice fiscale]", 7]


@pytest.mark.parametrize(
    "text",
    [
        CF,
        CF.lower(),
        "RSSMRA85T50A562W",  # a woman (day + 40)
        "RSSMRAURTMLARSNL",  # omocodia: every digit replaced by a letter
        f"cf={CF};",
    ],
)
def test_fiscal_codes_are_found(text: str) -> None:
    assert FISCAL_CODE.search(text)


@pytest.mark.parametrize(
    "text",
    [
        "asst-vimercate:V2026-000123",
        "5b0f6a3e-2c1d-4e8a-9f7b-3d2a1c0e9b84",
        "RSSMRA85T10A562SX",  # part of a longer token
        "RSSMRA85Z10A562S",  # Z is no month
        "coop-il-melograno",
    ],
)
def test_other_identifiers_are_left_alone(text: str) -> None:
    assert not FISCAL_CODE.search(text)


def test_sql_errors_never_carry_the_bound_values() -> None:
    from cerniera.shared.persistence.db import make_engine

    engine = make_engine("postgresql://cerniera@127.0.0.1:1/cerniera", schema="intake")
    assert engine.sync_engine.hide_parameters
