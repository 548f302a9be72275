"""The API's pure parts: the CSV form of a statement, and which district issues a statement."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi import HTTPException

import cerniera.shared.ambiti
from cerniera.billing import domain
from cerniera.billing.api import CSV_COLUMNS, StatementLine, paying_district, to_csv
from cerniera.billing.config import load_config
from cerniera.shared.contract import Reason, ServiceType

EXAMPLE = Path(cerniera.shared.ambiti.__file__).parent / "example.toml"


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


def test_the_paying_district_of_a_statement() -> None:
    config = load_config(EXAMPLE)

    assert paying_district(config, "coop-il-melograno", None).id == "desio"
    assert paying_district(config, "telesoccorso-lombardia", "magentino").id == "magentino"
    for provider, ambito, status in [
        ("telesoccorso-lombardia", None, 422),  # serves two districts
        ("coop-il-melograno", "magentino", 404),  # not registered there
        ("nobody", None, 404),
        ("coop-il-melograno", "atlantide", 404),
    ]:
        with pytest.raises(HTTPException) as error:
            paying_district(config, provider, ambito)
        assert error.value.status_code == status
