"""Activation's configuration: the example's provider registry, and the errors a district's
document can have (reported at start-up, naming the district and the key)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from cerniera.activation.config import ActivationConfig, load_config
from cerniera.shared.contract import ServiceType
from support.districts import DESIO_PROVIDERS, EXAMPLE

DEFAULTS = """
[defaults.activation]
lead_time_days = { sad = 2, meals = 2, teleassistance = 3 }
answer_deadline_hours = 24
"""


def document(providers: str, *, defaults: str = DEFAULTS) -> str:
    return (
        defaults
        + '\n[ambiti.north]\nname = "North"\nmunicipalities = ["108023", "108010"]\n'
        + providers
    )


def load(tmp_path: Path, text: str) -> ActivationConfig:
    path = tmp_path / "ambiti.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


@pytest.fixture(scope="module")
def example() -> ActivationConfig:
    return load_config(EXAMPLE)


def test_example_registry_in_order(example: ActivationConfig) -> None:
    desio = example.ambiti["desio"]

    assert tuple(p.id for p in desio.providers) == DESIO_PROVIDERS
    assert desio.answer_deadline_hours == 24
    melograno, solidarieta, *_ = desio.providers
    assert melograno.municipalities is None  # the whole district
    assert solidarieta.municipalities == frozenset({"108023", "108034", "108035"})


@pytest.mark.parametrize(
    ("provider", "service", "days"),
    [
        ("coop-il-melograno", ServiceType.SAD, 2),  # district default
        ("coop-solidarieta-brianza", ServiceType.SAD, 1),  # its own
        ("brianza-ristorazione-sociale", ServiceType.MEALS, 2),
        ("pasti-a-casa-desio", ServiceType.MEALS, 3),
        ("telesoccorso-lombardia", ServiceType.TELEASSISTANCE, 3),
        ("croce-azzurra-teleassistenza", ServiceType.TELEASSISTANCE, 2),
    ],
)
def test_lead_times_own_or_district_default(
    example: ActivationConfig, provider: str, service: ServiceType, days: int
) -> None:
    desio = example.ambiti["desio"]
    [found] = [p for p in desio.providers if p.id == provider]

    assert desio.lead_time(found, service) == days


def test_a_district_overrides_the_default_deadline(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        document(
            "[ambiti.north.activation]\nanswer_deadline_hours = 8\n"
            '[[ambiti.north.providers]]\nid = "p"\nname = "P"\nservices = ["sad"]\n'
        ),
    )

    north = config.ambiti["north"]
    assert north.answer_deadline_hours == 8
    assert north.lead_time(north.providers[0], ServiceType.SAD) == 2  # merged, key by key


@pytest.mark.parametrize(
    ("providers", "message"),
    [
        (
            '[[ambiti.north.providers]]\nid = "p"\nname = "P"\nservices = ["sad"]\n'
            '[[ambiti.north.providers]]\nid = "p"\nname = "P again"\nservices = ["meals"]\n',
            "provider p is listed twice",
        ),
        (
            '[[ambiti.north.providers]]\nid = "p"\nname = "P"\nservices = ["sad"]\n'
            "lead_time_days = { meals = 1 }\n",
            "lead_time_days for services it does not offer",
        ),
        (
            '[[ambiti.north.providers]]\nid = "p"\nname = "P"\nservices = ["sad"]\n'
            'municipalities = ["015130"]\n',
            "municipalities not in the district",
        ),
        (
            '[[ambiti.north.providers]]\nid = "p"\nname = "P"\nservices = ["gardening"]\n',
            "services",
        ),
        ('[[ambiti.north.providers]]\nid = "p"\nname = "P"\nservices = []\n', "services"),
    ],
)
def test_invalid_registries_are_refused(tmp_path: Path, providers: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as error:
        load(tmp_path, document(providers))

    assert "north" in str(error.value)


def test_a_service_without_any_lead_time_is_refused(tmp_path: Path) -> None:
    text = document(
        '[[ambiti.north.providers]]\nid = "p"\nname = "P"\nservices = ["meals"]\n',
        defaults="[defaults.activation]\nlead_time_days = { sad = 2 }\n",
    )

    with pytest.raises(ValidationError, match=r"provider p: no lead time for \['meals'\]"):
        load(tmp_path, text)
