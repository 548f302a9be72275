"""HL7 v2 ADT → notices and ACKs, from the sample messages: pure, no I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message

from cerniera.gateway import hl7
from cerniera.gateway.domain import (
    AdmissionNotice,
    CancelNotice,
    DischargeNotice,
    IgnoredNotice,
)
from cerniera.gateway.hl7 import AckCode, Header, Received, Refused
from cerniera.shared.clock import ROME
from cerniera.shared.contract import Caregiver, Patient
from support.gateway_samples import (
    A01,
    A03,
    A13,
    A16,
    A16_MOVED,
    DISCHARGED,
    EXPECTED,
    HL7_FISCAL_CODE,
    HL7_HOSPITAL,
    HL7_VISIT,
    MOVED,
    READMITTED,
    hl7_message,
)

NOW = datetime(2026, 11, 23, 8, 30, 5, tzinfo=UTC)


def received(text: str, hospitals: dict[str, str] | None = None) -> Received:
    result = hl7.read(text, hospitals or {})
    assert isinstance(result, Received), result
    return result


def refused(text: str) -> Refused:
    result = hl7.read(text, {})
    assert isinstance(result, Refused), result
    return result


def discharge(text: str) -> DischargeNotice:
    notice = received(text).notice
    assert isinstance(notice, DischargeNotice)
    return notice


# --- the samples ----------------------------------------------------------------------------


def test_a16_maps_every_contract_field() -> None:
    result = received(hl7_message(A16))
    notice = result.notice
    assert isinstance(notice, DischargeNotice)
    assert not notice.actual
    data = notice.announcement
    assert data.hospital_id == HL7_HOSPITAL  # MSH-4 ASST_VIMERCATE
    assert data.discharge_ref == HL7_VISIT  # PV1-19.1
    assert data.ward == "MEDGEN"  # PV1-3.1
    assert data.expected_discharge_at == EXPECTED  # PV2-9, local time
    assert data.patient == Patient(
        fiscal_code=HL7_FISCAL_CODE,
        given_name="Giuseppina",
        family_name="Brambilla",
        birth_date=date(1938, 3, 22),
        municipality_code="108023",  # PID-11.9: Desio
        address="Via Lampugnani 17, 20832 Desio (MB)",
        phone="0362 624118",
    )
    assert data.caregiver == Caregiver(
        present=True, name="Antonio Brambilla", phone="+39 347 5512093"
    )
    assert data.assessment is None  # OBX is not read (yet)
    assert result.header == Header(
        sending_application="SIO_ADT",
        sending_facility="ASST_VIMERCATE",
        receiving_application="CERNIERA",
        receiving_facility="COT_DESIO",
        control_id="SIO-20261123-000871",
        processing_id="P",
        version="2.5",
        trigger="A16",
    )


def test_a16_with_a_moved_date_carries_the_new_date() -> None:
    assert discharge(hl7_message(A16_MOVED)).announcement.expected_discharge_at == MOVED


def test_a03_is_the_actual_discharge_at_pv1_45_not_the_expected_one() -> None:
    notice = discharge(hl7_message(A03))
    assert notice.actual
    assert notice.announcement.expected_discharge_at == DISCHARGED


def test_a13_cancels_with_the_event_reason_of_table_0062() -> None:
    notice = received(hl7_message(A13)).notice
    assert isinstance(notice, CancelNotice)
    assert notice.cancellation.case_id == f"{HL7_HOSPITAL}:{HL7_VISIT}"
    assert notice.cancellation.reason == "Physician/health practitioner order"  # EVN-4 02


def test_a01_is_an_admission_at_pv1_44_of_the_new_visit() -> None:
    notice = received(hl7_message(A01)).notice
    assert notice == AdmissionNotice(
        hospital_id=HL7_HOSPITAL,
        fiscal_code=HL7_FISCAL_CODE,
        admitted_at=READMITTED,
        discharge_ref="V2026-001877",
    )


def test_a04_is_an_admission_too_and_falls_back_to_evn_2_for_the_time() -> None:
    text = hl7_message(
        A01, {"ADT^A01^ADT_A01": "ADT^A04^ADT_A01", "|20261209224000": "|", "EVN|A01": "EVN|A04"}
    )
    notice = received(text).notice
    assert isinstance(notice, AdmissionNotice)
    assert notice.admitted_at == datetime(2026, 12, 9, 22, 55, tzinfo=ROME)  # EVN-2


@pytest.mark.parametrize(
    ("trigger", "what"), [("A11", "ADT^A11 (cancel admit)"), ("A02", "ADT^A02")]
)
def test_an_adt_event_the_gateway_does_not_use_is_accepted_and_ignored(
    trigger: str, what: str
) -> None:
    notice = received(hl7_message(A16, {"ADT^A16^ADT_A16": f"ADT^{trigger}^ADT_A09"})).notice
    assert notice == IgnoredNotice(HL7_HOSPITAL, what)


# --- fields -----------------------------------------------------------------------------


def test_hospital_id_comes_from_the_configured_map_before_the_default() -> None:
    hospitals = {"ASST_VIMERCATE": "asst-brianza"}
    notice = received(hl7_message(A16), hospitals).notice
    assert isinstance(notice, DischargeNotice)
    assert notice.announcement.hospital_id == "asst-brianza"


def test_fiscal_code_without_type_is_the_first_identifier_that_is_one() -> None:
    text = hl7_message(
        A16,
        {
            "BRMGPP38C62D286R^^^MEF^NNITA~0004417392^^^ASST_VIMERCATE^PI": (
                "0004417392^^^ASST_VIMERCATE^PI~brmgpp38c62d286r^^^MEF"
            )
        },
    )
    assert discharge(text).announcement.patient.fiscal_code == HL7_FISCAL_CODE


def test_home_address_is_preferred_to_others() -> None:
    text = hl7_message(
        A16,
        {
            "Via Lampugnani 17^^Desio^MB^20832^IT^H^^108023": (
                "Via Dante 3^^Milano^MI^20121^IT^B^^015146~"
                "Via Lampugnani 17^^Desio^MB^20832^IT^H^^108023"
            )
        },
    )
    patient = discharge(text).announcement.patient
    assert (patient.municipality_code, patient.address) == (
        "108023",
        "Via Lampugnani 17, 20832 Desio (MB)",
    )


def test_escaped_separators_are_undone() -> None:
    text = hl7_message(A16, {"Via Lampugnani 17^": "Via Lampugnani 17\\S\\B\\T\\C^"})
    assert discharge(text).announcement.patient.address.startswith("Via Lampugnani 17^B&C,")


def test_no_nk1_means_no_caregiver() -> None:
    text = hl7_message(
        A16, {"NK1|1|Brambilla^Antonio|SON^Figlio^HL70063||+39 347 5512093^PRN^CP\n": ""}
    )
    assert discharge(text).announcement.caregiver == Caregiver(present=False)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # No zone: Italian time, summer and winter.
        ("20260715093000", datetime(2026, 7, 15, 9, 30, tzinfo=ROME)),
        ("202611271000", datetime(2026, 11, 27, 10, 0, tzinfo=ROME)),
        # A zone given is kept.
        ("20261127100000+0000", datetime(2026, 11, 27, 10, 0, tzinfo=UTC)),
        (
            "20261127100000.25-0500",
            datetime(2026, 11, 27, 10, 0, 0, 250000, tzinfo=timezone(timedelta(hours=-5))),
        ),
        # To the day only: the start of that day in Italy.
        ("20261127", datetime(2026, 11, 27, 0, 0, tzinfo=ROME)),
    ],
)
def test_timestamps(value: str, expected: datetime) -> None:
    at = discharge(hl7_message(A16, {"20261127100000": value})).announcement.expected_discharge_at
    assert at == expected
    assert at.utcoffset() == expected.utcoffset()


def test_local_time_is_rome_time_across_the_dst_change() -> None:
    winter = discharge(hl7_message(A16, {"20261127100000": "20260301120000"}))
    summer = discharge(hl7_message(A16, {"20261127100000": "20260401120000"}))
    assert winter.announcement.expected_discharge_at.utcoffset() == timedelta(hours=1)
    assert summer.announcement.expected_discharge_at.utcoffset() == timedelta(hours=2)


# --- refusals ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "location", "code", "words"),
    [
        ({"BRMGPP38C62D286R": "BRMGPP38C62D286X"}, "PID-3.1", 102, "codice fiscale"),
        (
            {"BRMGPP38C62D286R^^^MEF^NNITA~": ""},
            "PID-3.1",
            101,
            "codice fiscale",
        ),
        ({"||20261127100000": "||"}, "PV2-9", 101, "expected discharge"),
        ({"V2026-000412^^^": "^^^"}, "PV1-19.1", 101, "visit number"),
        ({"MEDGEN^212": "^212"}, "PV1-3.1", 101, "ward"),
        ({"^^108023": "^^"}, "PID-11.9", 101, "ISTAT"),
        ({"^^108023": "^^Desio"}, "PID-11.9", 102, "ISTAT"),
        ({"Brambilla^Giuseppina": "Brambilla"}, "PID-5.2", 101, "given name"),
        ({"19380322": "1938-03-22"}, "PID-7", 102, "not an HL7 date/time"),
        ({"20261127100000": "20261131100000"}, "PV2-9", 102, "day is out of range"),
        ({"|ASST_VIMERCATE|CERNIERA": "||CERNIERA"}, "MSH-4.1", 101, "sending facility"),
        # A control character in a name: nothing a service could keep (NUL cannot be stored).
        ({"Brambilla^Giuseppina": "Bramb\x00illa^Giuseppina"}, "PID-5.1", 102, "family"),
        ({"Brambilla^Giuseppina": "Brambilla^Giu\x1bseppina"}, "PID-5.2", 102, "given"),
    ],
)
def test_a_missing_or_invalid_field_is_an_ae_naming_it(
    changes: dict[str, str], location: str, code: int, words: str
) -> None:
    result = refused(hl7_message(A16, changes))
    assert result.error.ack_code is AckCode.ERROR
    assert str(result.error.location) == location
    assert result.error.error_code == code
    assert location in result.error.text
    assert words in result.error.text
    assert result.header.control_id == "SIO-20261123-000871"  # the ACK can still answer it


def test_a03_without_pv1_45_is_an_ae() -> None:
    result = refused(hl7_message(A03, {"|20261130104000": "|"}))
    assert str(result.error.location) == "PV1-45"


def test_a_message_without_pv1_is_an_ae() -> None:
    text = "\r".join(s for s in hl7_message(A13).split("\r") if not s.startswith("PV1"))
    result = refused(text)
    assert (result.error.ack_code, str(result.error.location)) == (AckCode.ERROR, "PV1")


@pytest.mark.parametrize(
    ("text", "code", "words"),
    [
        ("this is not an HL7 message", 100, "must start with MSH"),
        ("", 100, "must start with MSH"),
        (hl7_message(A16, {"\nPV1|": "\nP V1|"}), 100, "malformed"),
        (hl7_message(A16, {"|P|2.5|": "|P|2.9|"}), 203, "2.9"),
        (hl7_message(A16, {"|P|2.5|": "|P|2.2|"}), 203, "2.2"),
        (hl7_message(A16, {"ADT^A16^ADT_A16": "ORU^R01^ORU_R01"}), 200, "ORU^R01"),
        (hl7_message(A16, {"|SIO-20261123-000871|": "||"}), 101, "MSH-10"),
    ],
)
def test_an_unacceptable_message_is_an_ar(text: str, code: int, words: str) -> None:
    result = refused(text)
    assert result.error.ack_code is AckCode.REJECT
    assert result.error.error_code == code
    assert words in result.error.text


def test_an_unsupported_version_is_still_answered_with_its_control_id() -> None:
    result = refused(hl7_message(A16, {"|P|2.5|": "|P|2.9|"}))
    assert result.header.control_id == "SIO-20261123-000871"
    assert result.header.version == "2.9"


def test_line_feeds_are_accepted_as_segment_ends() -> None:
    crlf = hl7_message(A16).replace("\r", "\r\n")
    assert discharge(crlf).announcement.case_id == f"{HL7_HOSPITAL}:{HL7_VISIT}"


# --- the ACK ------------------------------------------------------------------------------


def parse(ack: str) -> Any:
    assert ack.endswith("\r")
    return parse_message(ack, validation_level=VALIDATION_LEVEL.TOLERANT, find_groups=False)


def test_aa_swaps_sender_and_receiver_and_names_the_message() -> None:
    header = received(hl7_message(A16)).header
    ack = parse(hl7.ack(header, AckCode.ACCEPT, "DischargeAnnounced for x", NOW))
    msh, msa = ack.msh, ack.msa
    assert msh.msh_3.to_er7() == "CERNIERA"
    assert msh.msh_4.to_er7() == "COT_DESIO"
    assert msh.msh_5.to_er7() == "SIO_ADT"
    assert msh.msh_6.to_er7() == "ASST_VIMERCATE"
    assert msh.msh_7.to_er7() == "20261123093005+0100"  # the clock's time, in Italy
    assert msh.msh_9.to_er7() == "ACK^A16^ACK"
    assert msh.msh_12.to_er7() == "2.5"
    assert msh.msh_10.to_er7()  # its own control id
    assert (msa.msa_1.to_er7(), msa.msa_2.to_er7()) == ("AA", "SIO-20261123-000871")
    assert msa.msa_3.to_er7() == "DischargeAnnounced for x"
    assert len(ack.err) == 0


def test_ae_carries_err_with_location_code_and_the_whole_reason() -> None:
    result = refused(hl7_message(A16, {"BRMGPP38C62D286R": "BRMGPP38C62D286X"}))
    error = result.error
    ack = parse(hl7.refusal(result, NOW))
    msa, err = ack.msa, ack.err
    assert msa.msa_1.to_er7() == "AE"
    assert msa.msa_2.to_er7() == "SIO-20261123-000871"
    assert len(msa.msa_3.to_er7()) <= hl7.MSA_TEXT_MAX
    assert msa.msa_3.to_er7().startswith("PID-3.1 (codice fiscale): invalid codice fiscale")
    assert err.err_2.to_er7() == "PID^1^3^1^1"
    assert err.err_3.to_er7() == "102^Data type error^HL70357"
    assert err.err_4.to_er7() == "E"
    assert err.err_8.to_er7() == error.text  # nothing to escape in it, so the same text


def test_ar_for_garbage_answers_even_without_a_header() -> None:
    result = refused("garbage")
    ack = parse(hl7.refusal(result, NOW))
    assert ack.msa.msa_1.to_er7() == "AR"
    assert ack.msa.msa_2.to_er7() == ""
    assert ack.msh.msh_9.to_er7() == "ACK"
    assert ack.err.err_3.to_er7() == "100^Segment sequence error^HL70357"


def test_ack_text_with_separators_is_escaped_not_split() -> None:
    header = received(hl7_message(A16)).header
    ack = hl7.ack(header, AckCode.ERROR, "a|b^c&d~e", NOW)
    assert "MSA|AE|SIO-20261123-000871|a\\F\\b\\S\\c\\T\\d\\R\\e" in ack


# --- before parsing: who sends, and whether it is worth parsing ------------------------------


def test_peek_reads_the_header_by_hand_as_the_parser_does() -> None:
    text = hl7_message(A16)
    read = hl7.read(text, {})
    assert isinstance(read, Received)
    assert hl7.peek(text) == read.header
    assert hl7.peek("\n".join(text.split("\r"))) == read.header  # LF segment ends too


@pytest.mark.parametrize("text", ["", "PID|1", "MSH|", "garbage\rMSH|^~\\&|A|B"])
def test_peek_finds_no_header_in_what_does_not_start_with_msh(text: str) -> None:
    assert hl7.peek(text) is None


def test_peek_takes_the_first_component_and_repetition_of_msh_4() -> None:
    text = hl7_message(A16, {"|ASST_VIMERCATE|": "|HSG^1.2.3^ISO~ASST_VIMERCATE|"})
    header = hl7.peek(text)
    assert header is not None
    assert header.sending_facility == "HSG"


def test_a_message_with_too_many_separators_is_refused_before_parsing() -> None:
    phone = "0362 624118^PRN^PH"
    text = hl7_message(A16, {phone: "~".join([phone] * 50_000)})
    read = hl7.read(text, {})
    assert isinstance(read, Refused)
    assert (read.error.ack_code, read.error.error_code) == (AckCode.REJECT, 100)
    assert "too complex" in read.error.text
    assert read.header.control_id == "SIO-20261123-000871"  # the AR still names the message


def test_not_admitted_is_a_bare_ar_naming_only_the_control_id() -> None:
    header = hl7.peek(hl7_message(A16))
    assert header is not None
    reply = hl7.not_admitted(header, NOW)
    assert reply.split("\r")[1] == f"MSA|AR|SIO-20261123-000871|{hl7.NOT_ADMITTED}"
    for revealing in ("ASST_VIMERCATE", "SIO_ADT", "COT_DESIO", "ERR|"):
        assert revealing not in reply
