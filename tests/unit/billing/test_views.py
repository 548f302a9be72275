"""Billing's views, pure: the CSV form of a statement, and statements from stored lines."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from cerniera.billing import domain, views
from cerniera.billing.cases import StatementView
from cerniera.billing.config import load_config
from cerniera.billing.schemas import StatementLine
from cerniera.billing.views import CSV_COLUMNS, statement_of, to_csv
from cerniera.shared.contract import Reason, ServiceType
from support.billing_events import MELOGRANO, SAD, granted
from support.districts import EXAMPLE


def line(**changes: object) -> StatementLine:
    values: dict[str, object] = {
        "ambito_id": "desio",
        "case_id": "asst-vimercate:V1",
        "delivery_ref": "MEL-1",
        "service_type": ServiceType.SAD,
        "delivered_on": date(2026, 12, 8),
        "evening": False,
        "holiday": True,
        "quantity": Decimal("2.00"),
        "unit_tariff": Decimal("21.50"),
        "surcharge_percent": Decimal("10.00"),
        "amount": Decimal("47.30"),
        "funding_source": "pnrr-m5c2-1.1.3",
        "status": domain.LineStatus.BILLED,
        "reason": None,
    }
    return StatementLine.model_validate({**values, **changes})


def test_csv_is_semicolon_separated_with_a_header_and_decimal_points() -> None:
    refused = line(
        delivery_ref="MEL-2",
        quantity=Decimal(1),
        amount=Decimal("22"),
        funding_source=None,
        status=domain.LineStatus.REFUSED,
        reason=Reason(code="sad.cap_exceeded", text="80 hours; reached"),
    )
    text = to_csv([line(), refused])

    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert text.endswith("\r\n")
    assert rows[0] == list(CSV_COLUMNS)
    billed = dict(zip(CSV_COLUMNS, rows[1], strict=True))
    assert billed["amount"] == "47.30"
    assert billed["unit_tariff"] == "21.50"
    assert billed["quantity"] == "2.00"
    assert billed["delivered_on"] == "2026-12-08"
    assert (billed["holiday"], billed["evening"]) == ("true", "false")
    assert (billed["status"], billed["reason_code"]) == ("billed", "")
    second = dict(zip(CSV_COLUMNS, rows[2], strict=True))
    assert (second["status"], second["reason_code"]) == ("refused", "sad.cap_exceeded")
    assert second["reason"] == "80 hours; reached"  # quoted, so the ";" stays in the text
    assert (second["amount"], second["funding_source"]) == ("22.00", "")


def test_a_statement_shows_each_portion_of_a_line_and_totals_only_the_billed() -> None:
    desio = load_config(EXAMPLE).ambiti["desio"]
    crossing = domain.Delivery(MELOGRANO, SAD, date(2026, 12, 8), Decimal(2))  # a holiday
    billing = domain.bill(
        desio, domain.CaseState("desio", granted(), sad_hours_used=Decimal(79)), crossing, {}
    )
    stored = domain.Line(7, "asst-vimercate:V1", "MEL-1", "desio", "corr", crossing, billing)
    waiting = domain.Line(
        8, "asst-vimercate:V2", "MEL-2", None, "corr-2", crossing, domain.pending(Decimal(3))
    )
    issued = domain.Issued(
        MELOGRANO, "desio", "2026-12", Decimal("23.65"), 1, datetime(2027, 1, 2, tzinfo=UTC), "e"
    )

    body = statement_of(MELOGRANO, "2026-12", None, StatementView([stored, waiting], [issued]))

    assert [
        (ln.delivery_ref, ln.quantity, ln.amount, ln.status, ln.holiday) for ln in body.lines
    ] == [
        ("MEL-1", Decimal(1), Decimal("23.65"), domain.LineStatus.BILLED, True),
        ("MEL-1", Decimal(1), Decimal("23.65"), domain.LineStatus.REFUSED, True),
        ("MEL-2", Decimal(3), Decimal(0), domain.LineStatus.PENDING, True),
    ]
    refused = body.lines[1].reason
    assert refused is not None
    assert refused.code == "sad.cap_exceeded"
    assert (body.lines[0].funding_source, body.lines[2].ambito_id) == ("pnrr-m5c2-1.1.3", None)
    [sad] = body.totals
    assert (sad.billed_amount, sad.refused_amount, sad.lines) == (
        Decimal("23.65"),
        Decimal("23.65"),
        3,
    )
    assert (body.total, body.refused_amount) == (Decimal("23.65"), Decimal("23.65"))
    [shown] = body.issued
    assert (shown.total, shown.event_id, shown.already_issued) == (Decimal("23.65"), "e", False)


@pytest.mark.parametrize(
    ("filename", "header"),
    [
        (
            "coop-il-melograno-2024-10.csv",
            'attachment; filename="coop-il-melograno-2024-10.csv"; '
            "filename*=UTF-8''coop-il-melograno-2024-10.csv",
        ),
        (
            "cooperativa-città-2024-10.csv",
            'attachment; filename="cooperativa-citt_-2024-10.csv"; '
            "filename*=UTF-8''cooperativa-citt%C3%A0-2024-10.csv",
        ),
        (
            'a"b;c\r\nX-Evil: 1-2024-10.csv',
            'attachment; filename="a_b_c__X-Evil__1-2024-10.csv"; '
            "filename*=UTF-8''a%22b%3Bc%0D%0AX-Evil%3A%201-2024-10.csv",
        ),
    ],
)
def test_the_csv_filename_is_an_ascii_fallback_and_the_name_itself_encoded(
    filename: str, header: str
) -> None:
    assert views.attachment(filename) == header
    assert header.isascii()
    assert header.isprintable()


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_no_csv_cell_is_run_as_a_formula(start: str) -> None:
    attack = f'{start}HYPERLINK("http://x";"y")'
    hostile = line(
        delivery_ref=f"{start}cmd|' /C calc'!A0",
        status=domain.LineStatus.REFUSED,
        reason=Reason(code="delivery.not_authorised", text=attack),
    )
    rows = list(csv.reader(io.StringIO(to_csv([hostile])), delimiter=";"))
    cells = dict(zip(CSV_COLUMNS, rows[1], strict=True))
    assert cells["delivery_ref"] == f"'{start}cmd|' /C calc'!A0"
    # A reason's text is stripped of leading whitespace already (the contract's models).
    assert cells["reason"] == f"'{attack.strip()}" if start.strip() else attack.strip()
    # Amounts and plain text are left as they were.
    assert (cells["amount"], cells["reason_code"]) == ("47.30", "delivery.not_authorised")
