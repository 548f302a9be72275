"""Billing's configuration: the example document, and the errors a district's document can have."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from cerniera.billing.config import BillingConfig, load_config
from cerniera.shared.contract import ServiceType
from support.districts import EXAMPLE

DEFAULTS = """
[defaults.billing]
sad_cap_hours = 80
surcharge_percent = 10
thresholds_percent = {thresholds}

[defaults.billing.tariffs]
sad = "22.00"
meals = "7.50"
{teleassistance}
"""

NORTH = """
[ambiti.north]
name = "North"
{funding}

[[ambiti.north.providers]]
id = "coop-a"
name = "Coop A"
services = ["sad"]
tariffs = {{ sad = {tariff} }}
"""

FUNDING = """
[[ambiti.north.funding]]
id = "pnrr"
name = "PNRR"
amount = "1000.00"
"""


def document(
    tmp_path: Path,
    *,
    thresholds: str = "[100, 50, 80, 80]",
    teleassistance: str = 'teleassistance = "0.50"\nemergency_alarm = "0.40"',
    funding: str = FUNDING,
    tariff: str = '"21.50"',
) -> Path:
    path = tmp_path / "ambiti.toml"
    text = DEFAULTS.format(thresholds=thresholds, teleassistance=teleassistance)
    path.write_text(text + NORTH.format(funding=funding, tariff=tariff), encoding="utf-8")
    return path


def test_the_example_document() -> None:
    config = load_config(EXAMPLE)

    assert set(config.ambiti) == {"desio", "magentino"}
    desio, magentino = config.ambiti["desio"], config.ambiti["magentino"]
    assert desio.billing.sad_cap_hours == 80
    assert desio.billing.surcharge_percent == 10
    assert desio.billing.thresholds_percent == (50, 80, 100)
    assert desio.billing.tariffs[ServiceType.SAD] == Decimal("22.00")
    assert [(f.id, f.amount) for f in desio.funding] == [("pnrr-m5c2-1.1.3", Decimal("237600.00"))]
    assert [(f.id, f.amount) for f in magentino.funding] == [
        ("pnrr-m5c2-1.1.3", Decimal("329995.00")),
        ("fnps-2021-2022", Decimal("36787.79")),
    ]
    assert [a.id for a in config.districts_of("telesoccorso-lombardia")] == ["desio", "magentino"]
    assert [a.id for a in config.districts_of("coop-il-melograno")] == ["desio"]
    assert config.districts_of("nobody") == []


def test_a_valid_document_sorts_thresholds(tmp_path: Path) -> None:
    config = load_config(document(tmp_path))
    assert config.ambiti["north"].billing.thresholds_percent == (50, 80, 100)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"funding": ""}, "ambiti.north.funding"),
        ({"teleassistance": ""}, "tariffs missing for ['emergency_alarm', 'teleassistance']"),
        ({"thresholds": "[50, 120]"}, "between 1 and 100"),
        ({"tariff": '"0.00"'}, "tariffs must be positive"),
        ({"tariff": "21.5"}, "never a float"),
        ({"funding": FUNDING + FUNDING}, "funding source listed twice: pnrr"),
    ],
)
def test_errors_name_the_district_and_key(
    tmp_path: Path, changes: dict[str, str], message: str
) -> None:
    with pytest.raises(ValidationError) as error:
        load_config(document(tmp_path, **changes))
    assert message in str(error.value)
    assert "north" in str(error.value)


def test_config_is_frozen() -> None:
    config = load_config(EXAMPLE)
    assert isinstance(config, BillingConfig)
    with pytest.raises(ValidationError):
        config.ambiti["desio"].name = "x"  # type: ignore[misc]
