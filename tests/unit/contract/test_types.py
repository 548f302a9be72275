"""Field types of the public contract: what outside systems may send and what we emit."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from cerniera.shared.contract import (
    AnswerValue,
    AwareDatetime,
    CaseId,
    DischargeAnnounced,
    DischargeRef,
    FiscalCode,
    Identifier,
    IstatCode,
    Money,
    Quantity,
    ServiceType,
    case_id_for,
    split_case_id,
)
from cerniera.shared.contract.types import ShortText, Text


class _Holder(BaseModel):
    fiscal_code: FiscalCode | None = None
    istat: IstatCode | None = None
    money: Money | None = None
    quantity: Quantity | None = None
    at: AwareDatetime | None = None
    case_id: CaseId | None = None
    service_type: ServiceType | None = None
    answer: AnswerValue | None = None


# --- codice fiscale ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("RSSMRA85T10A562S", "RSSMRA85T10A562S"),
        ("rssmra85t10a562s", "RSSMRA85T10A562S"),
        (" RSS MRA 85T10 A562S ", "RSSMRA85T10A562S"),
        # Omocodia: digits replaced by letters when two people would share a code.
        ("RSSMRA85T10A56NH", "RSSMRA85T10A56NH"),
        ("RSSMRA85T1LA56NK", "RSSMRA85T1LA56NK"),
    ],
)
def test_fiscal_code_valid_and_normalised(raw: str, expected: str) -> None:
    assert _Holder(fiscal_code=raw).fiscal_code == expected


@pytest.mark.parametrize(
    "raw",
    [
        "RSSMRA85T10A562T",  # wrong check character
        "RSSMRA85T10A562",  # too short
        "RSSMRA85Z10A562S",  # Z is not a month letter
        "00743110157",  # valid company code (partita IVA), not a person
        "",
    ],
)
def test_fiscal_code_invalid_rejected(raw: str) -> None:
    with pytest.raises(ValidationError) as info:
        _Holder(fiscal_code=raw)
    assert info.value.errors()[0]["type"] == "fiscal_code"


# --- ISTAT code --------------------------------------------------------------------------


def test_istat_code_six_digits() -> None:
    assert _Holder(istat="015130").istat == "015130"


@pytest.mark.parametrize("raw", ["15130", "0151300", "01513A", 15130])
def test_istat_code_invalid_rejected(raw: object) -> None:
    with pytest.raises(ValidationError):
        _Holder.model_validate({"istat": raw})


# --- money -------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["22.00", "22", 22, Decimal("22.0"), Decimal("22.000")])
def test_money_accepts_exact_inputs_and_serialises_two_decimals(raw: object) -> None:
    holder = _Holder.model_validate({"money": raw})
    assert holder.money == Decimal("22.00")
    assert holder.model_dump_json(include={"money"}) == '{"money":"22.00"}'


def test_money_keeps_decimal_in_python_mode() -> None:
    assert _Holder(money=Decimal("7.5")).model_dump(include={"money"}) == {"money": Decimal("7.50")}


@pytest.mark.parametrize("raw", [22.0, 0.1, True])
def test_money_rejects_float(raw: object) -> None:
    with pytest.raises(ValidationError) as info:
        _Holder.model_validate({"money": raw})
    assert info.value.errors()[0]["type"] == "money_type"


def test_money_rejects_json_number_with_fraction() -> None:
    with pytest.raises(ValidationError):
        _Holder.model_validate_json('{"money": 22.5}')


@pytest.mark.parametrize("raw", ["22.001", "NaN", "Infinity", "abc"])
def test_money_rejects_invalid_decimals(raw: str) -> None:
    with pytest.raises(ValidationError):
        _Holder(money=raw)


# --- quantity ----------------------------------------------------------------------------


def test_quantity_json_number_round_trip() -> None:
    holder = _Holder.model_validate_json('{"quantity": 1.5}')
    assert holder.quantity == Decimal("1.5")
    assert holder.model_dump_json(include={"quantity"}) == '{"quantity":1.5}'
    assert _Holder(quantity=6).model_dump_json(include={"quantity"}) == '{"quantity":6}'


@pytest.mark.parametrize("raw", [0, -1, "0.001"])
def test_quantity_must_be_positive_with_two_decimals(raw: object) -> None:
    with pytest.raises(ValidationError):
        _Holder.model_validate({"quantity": raw})


# --- datetimes ---------------------------------------------------------------------------


def test_naive_datetime_rejected() -> None:
    with pytest.raises(ValidationError):
        _Holder(at="2024-10-03T10:00:00")
    with pytest.raises(ValidationError):
        _Holder(at=datetime(2024, 10, 3, 10, 0))  # naive on purpose


def test_aware_datetime_accepted() -> None:
    holder = _Holder(at="2024-10-03T08:00:00Z")
    assert holder.at == datetime(2024, 10, 3, 8, 0, tzinfo=UTC)


# --- case id -----------------------------------------------------------------------------


def test_case_id_for_and_split() -> None:
    case_id = case_id_for("asst-vimercate", "V2024-000123")
    assert case_id == "asst-vimercate:V2024-000123"
    assert split_case_id(case_id) == ("asst-vimercate", "V2024-000123")
    assert _Holder(case_id=case_id).case_id == case_id


def test_case_id_discharge_ref_may_contain_colon() -> None:
    assert split_case_id("asst-vimercate:A:1") == ("asst-vimercate", "A:1")


@pytest.mark.parametrize(
    ("hospital_id", "discharge_ref"),
    [
        ("ASST-Vimercate", "V1"),  # upper case
        ("asst:vimercate", "V1"),  # colon would make the case id ambiguous
        ("asst_vimercate", "V1"),
        ("", "V1"),
        ("asst-vimercate", ""),
        ("asst-vimercate", "V 1"),
        ("asst-vimercate", "V" * 65),
        ("asst-vimercate", "V\x001"),  # NUL: PostgreSQL cannot even store it
        ("asst-vimercate", "V\x7f1"),
        ("asst-vimercate", "V\x851"),  # C1 control
    ],
)
def test_case_id_for_rejects_invalid_parts(hospital_id: str, discharge_ref: str) -> None:
    with pytest.raises(ValueError, match="invalid"):
        case_id_for(hospital_id, discharge_ref)


@pytest.mark.parametrize(
    "raw", ["asst-vimercate", "ASST:V1", "asst-vimercate:", ":V1", "asst-vimercate:V\x001"]
)
def test_case_id_type_rejects_invalid(raw: str) -> None:
    with pytest.raises(ValidationError):
        _Holder(case_id=raw)
    with pytest.raises(ValueError, match="invalid"):
        split_case_id(raw)


# --- text and identifiers: no control character ---------------------------------------


class _Texts(BaseModel):
    text: Text | None = None
    short: ShortText | None = None
    identifier: Identifier | None = None
    discharge_ref: DischargeRef | None = None


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\x9f"])
def test_a_control_character_is_refused_wherever_a_person_writes(char: str) -> None:
    for field in ("text", "short", "identifier", "discharge_ref"):
        with pytest.raises(ValidationError, match="pattern"):
            _Texts.model_validate({field: f"Ros{char}si"})


def test_free_text_keeps_its_lines_and_tabs_one_line_text_does_not() -> None:
    note = "Vive sola.\r\n\tFiglia a Milano."
    assert _Texts(text=note).text == note
    with pytest.raises(ValidationError, match="pattern"):
        _Texts(short="Via Roma 12\nVimercate")


def test_text_that_is_not_ascii_is_text() -> None:
    held = _Texts(text="Perché è così", short="Nicolò D'Agostino", identifier="coop-àèì")
    assert (held.text, held.short, held.identifier) == (
        "Perché è così",
        "Nicolò D'Agostino",
        "coop-àèì",
    )


def test_an_event_refuses_a_nul_in_a_patients_name() -> None:
    data = DischargeAnnounced.model_json_schema()["examples"][0]
    patient = {**data["patient"], "family_name": "Ros\x00si"}
    with pytest.raises(ValidationError) as info:
        DischargeAnnounced.model_validate({**data, "patient": patient})
    assert [e["loc"] for e in info.value.errors()] == [("patient", "family_name")]


# --- enums -------------------------------------------------------------------------------


def test_enum_values_accepted_and_unknown_rejected() -> None:
    assert _Holder(service_type="sad").service_type is ServiceType.SAD
    assert _Holder(answer="partial").answer is AnswerValue.PARTIAL
    with pytest.raises(ValidationError):
        _Holder(service_type="physiotherapy")
    with pytest.raises(ValidationError):
        _Holder(answer="YES")
