"""Monitoring's configuration: the example document, district overrides, and errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from cerniera.monitoring.config import MonitoringRule, load_config
from support.districts import EXAMPLE

DOCUMENT = """
[defaults.monitoring]
check_interval_days = 7
duration_days = 30
overdue_after_days = 2

[ambiti.north]
name = "North"

[ambiti.south]
name = "South"
{south}
"""


def write(tmp_path: Path, south: str = "") -> Path:
    path = tmp_path / "ambiti.toml"
    path.write_text(DOCUMENT.format(south=south), encoding="utf-8")
    return path


def test_the_example_districts_use_the_defaults() -> None:
    config = load_config(EXAMPLE)
    assert set(config.ambiti) == {"desio", "magentino"}
    for ambito_id in ("desio", "magentino"):
        assert config.rule_for(ambito_id) == MonitoringRule(
            check_interval_days=7, duration_days=30, overdue_after_days=2
        )
    assert config.rule_for("roma") is None


def test_a_district_overrides_the_defaults_key_by_key(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[ambiti.south.monitoring]\nduration_days = 45"))
    assert config.rule_for("south") == MonitoringRule(
        check_interval_days=7, duration_days=45, overdue_after_days=2
    )
    assert config.rule_for("north") == MonitoringRule()


@pytest.mark.parametrize(
    ("section", "complaint"),
    [
        ("duration_days = 7", "duration_days must exceed check_interval_days"),
        ("check_interval_days = 0", "greater than or equal to 1"),
        ("overdue_after_days = -1", "greater than or equal to 0"),
        ('duration_days = "a month"', "valid integer"),
    ],
)
def test_errors_name_the_district_and_key(tmp_path: Path, section: str, complaint: str) -> None:
    with pytest.raises(ValidationError) as error:
        load_config(write(tmp_path, f"[ambiti.south.monitoring]\n{section}"))
    message = str(error.value)
    assert "ambiti.south.monitoring" in message
    assert complaint in message
