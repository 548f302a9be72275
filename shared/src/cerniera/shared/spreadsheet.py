"""CSV for the districts' spreadsheets: semicolon-separated (as Italian spreadsheets expect),
a header row, CRLF line ends (RFC 4180), amounts with a decimal point and two places
("22.00"), days ISO, and no cell a spreadsheet would run as a formula (OWASP CSV injection):
ids, reasons and names come from providers, hospitals and the districts' configuration, and a
spreadsheet is where the district opens them."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

DELIMITER: Final = ";"
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def inert(text: str) -> str:
    """A text starting with = + - @, tab or carriage return gets a leading single quote."""
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, float):
        return f"{value:.2f}" if not value.is_integer() else str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return inert(str(value))


def document(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=DELIMITER, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return buffer.getvalue()
