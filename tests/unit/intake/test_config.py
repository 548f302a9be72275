"""Intake's configuration: the example document, and the errors a district's document can have."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from cerniera.intake.config import IntakeConfig, load_config
from cerniera.shared.contract import Intensity, ServiceType
from support.districts import EXAMPLE

PHASE2 = """
[defaults.phase2]
primary = {primary}

[defaults.phase2.requirements]
R1 = "No family network or caregiver"
R2 = "Caregiver present but unable to provide care"
R3 = "Aged 65+"
R4 = "Dependency in daily activities"
R5 = "Home suitable"
"""

PACKAGES = {
    "low": "sad = 3\nteleassistance = 7",
    "medium": "sad = 6\nmeals = 5\nteleassistance = 7",
    "high": "sad = 12\nmeals = 7\nteleassistance = 7",
}


def document(
    *,
    primary: str = '["R1", "R2"]',
    packages: tuple[str, ...] = ("low", "medium", "high"),
    north: str = '["108023", "108010"]',
    south: str = '["015125"]',
    intensity: str = "",
) -> str:
    """A small valid districts' document, with one thing changed per test."""
    text = PHASE2.format(primary=primary)
    for name in packages:
        text += f"\n[defaults.packages.{name}]\n{PACKAGES[name]}\n"
    text += intensity
    text += f'\n[ambiti.north]\nname = "North"\nmunicipalities = {north}\n'
    text += f'\n[ambiti.south]\nname = "South"\nmunicipalities = {south}\n'
    return text


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ambiti.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- the shipped example -------------------------------------------------------------------


@pytest.fixture(scope="module")
def example() -> IntakeConfig:
    return load_config(EXAMPLE)


def test_example_has_desio_and_magentino(example: IntakeConfig) -> None:
    assert sorted(example.ambiti) == ["desio", "magentino"]
    assert len(example.ambiti["desio"].municipalities) == 7
    assert len(example.ambiti["magentino"].municipalities) == 13


@pytest.mark.parametrize(
    ("code", "ambito_id"), [("108023", "desio"), ("015130", "magentino"), ("058091", None)]
)
def test_ambito_for_a_municipality(example: IntakeConfig, code: str, ambito_id: str | None) -> None:
    ambito = example.ambito_for(code)

    assert (ambito.id if ambito is not None else None) == ambito_id


def test_defaults_merge_under_each_district(example: IntakeConfig) -> None:
    desio, magentino = example.ambiti["desio"], example.ambiti["magentino"]

    assert desio.intensity.default is Intensity.MEDIUM
    assert magentino.intensity.default is Intensity.LOW  # its own override
    assert magentino.intensity.brass_low_max == 10  # the rest still from [defaults]
    assert magentino.intensity.brass_medium_max == 19
    for ambito in (desio, magentino):
        assert list(ambito.phase2.requirements) == [f"R{i}" for i in range(1, 10)]
        assert ambito.phase2.primary == ("R1", "R2")
        assert ambito.phase2.others == tuple(f"R{i}" for i in range(3, 10))
        assert ambito.phase2.min_primary_yes == 1
        assert ambito.phase2.min_other_yes_or_partial == 4


def test_example_packages(example: IntakeConfig) -> None:
    packages = example.ambiti["magentino"].packages

    assert packages[Intensity.LOW] == {
        ServiceType.SAD: Decimal(3),
        ServiceType.TELEASSISTANCE: Decimal(7),
    }
    assert packages[Intensity.MEDIUM] == {
        ServiceType.SAD: Decimal(6),
        ServiceType.MEALS: Decimal(5),
        ServiceType.TELEASSISTANCE: Decimal(7),
    }
    assert packages[Intensity.HIGH] == {
        ServiceType.SAD: Decimal(12),
        ServiceType.MEALS: Decimal(7),
        ServiceType.TELEASSISTANCE: Decimal(7),
    }


# --- a district's own document ------------------------------------------------------------


def test_a_valid_document_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, document()))

    assert sorted(config.ambiti) == ["north", "south"]
    assert config.ambiti["north"].phase2.others == ("R3", "R4", "R5")
    assert config.ambiti["north"].intensity.default is Intensity.MEDIUM  # the model's default


def test_the_path_given_wins_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CERNIERA_AMBITI", str(EXAMPLE))

    assert sorted(load_config(write(tmp_path, document())).ambiti) == ["north", "south"]


def test_municipality_in_two_districts_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, document(south='["015125", "108010"]'))

    with pytest.raises(ValidationError, match="municipality 108010 is in both north and south"):
        load_config(path)


@pytest.mark.parametrize("missing", ["low", "medium", "high"])
def test_missing_package_for_an_intensity_is_refused(tmp_path: Path, missing: str) -> None:
    kept = tuple(name for name in PACKAGES if name != missing)
    path = write(tmp_path, document(packages=kept))

    with pytest.raises(ValidationError, match=rf"packages missing for intensity \['{missing}'\]"):
        load_config(path)


def test_primary_requirement_not_in_the_checklist_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, document(primary='["R1", "R12"]'))

    with pytest.raises(
        ValidationError, match=r"primary requirements not in the checklist: \['R12'\]"
    ):
        load_config(path)


def test_brass_bands_out_of_order_are_refused(tmp_path: Path) -> None:
    bands = "\n[defaults.intensity]\nbrass_low_max = 19\nbrass_medium_max = 19\n"
    path = write(tmp_path, document(intensity=bands))

    with pytest.raises(ValidationError, match="brass_low_max must be below brass_medium_max"):
        load_config(path)


def test_unknown_intensity_default_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, document(intensity='\n[defaults.intensity]\ndefault = "extreme"\n'))

    with pytest.raises(ValidationError, match=r"intensity\.default"):
        load_config(path)


def test_bad_istat_code_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, document(north='["10802"]'))

    with pytest.raises(ValidationError, match=r"municipalities"):
        load_config(path)
