"""HL7 v2 as hospitals really send it: every version from 2.3 to 2.8, LF segment ends,
Z-segments, segments newer than the message's version, ``""``, escapes; A08 updates; the
ward's assessment in OBX; and an ACK that answers the sender's control id whatever happened.
Pure, no I/O."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message

from cerniera.gateway import hl7
from cerniera.gateway.domain import (
    AdmissionNotice,
    DetailsNotice,
    DischargeNotice,
    IgnoredNotice,
)
from cerniera.gateway.hl7 import AckCode, Received, Refused
from cerniera.shared.clock import ROME
from cerniera.shared.contract import Assessment, Caregiver, PatientDetailsUpdated
from support.gateway_samples import (
    A01_V23,
    A03_V24,
    A08_V251,
    A16,
    A16_V28,
    HL7_VISIT,
    V24_FISCAL_CODE,
    V28_CASE,
    V28_FISCAL_CODE,
    hl7_message,
)

HOSPITALS = {"ASST_VIMERCATE": "asst-vimercate"}
NOW = datetime(2026, 12, 1, 7, 30, tzinfo=ROME)
EVERY_VERSION = ["2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8", "2.8.1"]


def read(text: str) -> Received | Refused:
    return hl7.read(text, HOSPITALS)


def received(text: str) -> Received:
    result = read(text)
    assert isinstance(result, Received), result
    return result


def refused(text: str) -> Refused:
    result = read(text)
    assert isinstance(result, Refused), result
    return result


def discharge(text: str) -> DischargeNotice:
    notice = received(text).notice
    assert isinstance(notice, DischargeNotice), notice
    return notice


def segments(ack: str) -> dict[str, list[str]]:
    """The ACK's segments by name, split into fields by hand (``fields[n]`` is SEG-n)."""
    found = {}
    for line in ack.split("\r"):
        if line:
            fields = line.split("|")
            if fields[0] == "MSH":
                fields.insert(1, "|")
            found[fields[0]] = fields
    return found


# --- every version, every feature of real feeds ------------------------------------------------


def real_feed(version: str) -> str:
    """The 2.5 A16 as a real feed of ``version`` sends it: LF ends, a segment that version may
    not know (ARV, 2.6+), a Z-segment, ``""`` for empty fields, an escape in the address."""
    return hl7_message(
        A16,
        {
            "|P|2.5|": f"|P|{version}|",
            "\nPID|1||": '\nARV|1|A|DEM|PAT|Riservato\nPID|1|""|',
            "Via Lampugnani 17^": "Via Lampugnani 17 \\T\\ 19^",
            "|W|": '|""|',
            "\nPV1|": '\nZPV|1|MEDGEN^^^^\\F\\|""\nPV1|',
        },
        end="\n",
    )


@pytest.mark.parametrize("version", EVERY_VERSION)
def test_every_version_from_2_3_to_2_8_is_read_alike(version: str) -> None:
    result = received(real_feed(version))
    assert result.header.version == version
    data = discharge(real_feed(version)).announcement
    assert data.case_id == f"asst-vimercate:{HL7_VISIT}"
    assert data.patient.fiscal_code == "BRMGPP38C62D286R"
    assert data.patient.address == "Via Lampugnani 17 & 19, 20832 Desio (MB)"
    assert data.expected_discharge_at == datetime(2026, 11, 27, 10, 0, tzinfo=ROME)


@pytest.mark.parametrize("version", ["2.2", "2.9", "3.0", ""])
def test_versions_outside_2_3_to_2_8_are_refused_with_203(version: str) -> None:
    result = refused(hl7_message(A16, {"|P|2.5|": f"|P|{version}|"}))
    assert (result.error.ack_code, result.error.error_code) == (AckCode.REJECT, 203)


@pytest.mark.parametrize("end", ["\r", "\n", "\r\n"])
def test_any_segment_end_is_read(end: str) -> None:
    assert discharge(hl7_message(A16, end=end)).announcement.ward == "MEDGEN"


def test_a_byte_order_mark_before_msh_is_skipped() -> None:
    assert discharge("\ufeff" + hl7_message(A16)).announcement.ward == "MEDGEN"


def test_a_2_8_feed_with_truncation_character_sft_arv_rol_and_obx() -> None:
    result = received(hl7_message(A16_V28))
    assert (result.header.version, result.header.trigger) == ("2.8", "A16")
    assert result.header.sending_facility == "ASST_VIMERCATE"  # MSH-4.1 of an HD with an OID
    notice = result.notice
    assert isinstance(notice, DischargeNotice)
    data = notice.announcement
    assert data.case_id == V28_CASE
    assert data.ward == "CARDIO"
    # PV2-9 with its own zone; EVN-1 says A01, but MSH-9 says A16 and MSH-9 decides.
    assert data.expected_discharge_at == datetime(
        2026, 12, 4, 11, 0, tzinfo=timezone(timedelta(hours=1))
    )
    patient = data.patient
    assert (patient.fiscal_code, patient.family_name, patient.given_name) == (
        V28_FISCAL_CODE,
        "Cerutti",  # the legal name (XPN-7 L), not the maiden one
        "Anna",
    )
    assert patient.address == "Via Giuseppe Mazzini 8 scala A&B, 20835 Muggiò (MB)"
    assert patient.phone == "+39 039 6051234"  # XTN-5/6/7 (2.7+), the 0 of 039 kept
    assert data.caregiver == Caregiver(present=True, name="Paola Cerutti", phone="+39 333 4417702")


def test_the_ward_s_assessment_is_read_from_obx() -> None:
    assessment = discharge(hl7_message(A16_V28)).announcement.assessment
    assert assessment == Assessment(
        # DP-R8 is OBX-11 X (could not be obtained): not an answer. The heart rate is not ours.
        answers={
            "R1": "no",
            "R2": "yes",
            "R3": "yes",
            "R4": "partial",
            "R5": "yes",
            "R9": "partial",
        },
        brass_score=21,
        consent=True,
        notes="La figlia lavora a Milano fino alle 18.\nScale senza ascensore & bagno da adattare.",
    )


def test_a_message_without_our_obx_has_no_assessment() -> None:
    assert discharge(hl7_message(A03_V24)).announcement.assessment is None


@pytest.mark.parametrize(
    ("changes", "location", "code", "words"),
    [
        ({"||Parz.||": "||Forse||"}, "OBX[5]-5", 102, "no answer"),
        ({"||Parz.||": "||||"}, "OBX[5]-5", 101, "DP-R4"),
        (
            {"DP-BRASS^Indice BRASS^99DP||21": "DP-BRASS^Indice BRASS^99DP||41"},
            "OBX[9]-5",
            102,
            "0–40",
        ),
        (
            {"DP-BRASS^Indice BRASS^99DP||21": "DP-BRASS^Indice BRASS^99DP||alto"},
            "OBX[9]-5",
            102,
            "BRASS",
        ),
        (
            {"della persona^99DP||Y": "della persona^99DP||P"},
            "OBX[10]-5",
            102,
            "consent",
        ),
    ],
)
def test_a_bad_assessment_value_is_an_ae_naming_its_obx(
    changes: dict[str, str], location: str, code: int, words: str
) -> None:
    result = refused(hl7_message(A16_V28, changes))
    assert result.error.ack_code is AckCode.ERROR
    assert (str(result.error.location), result.error.error_code) == (location, code)
    assert words in result.error.text
    assert result.error.location is not None
    assert result.error.location.erl() == location[:3] + "^" + location[4:-3] + "^5"


def test_a_2_4_feed_with_lf_z_segment_newer_segment_and_no_final_newline() -> None:
    text = (hl7_message(A03_V24, end="\n")).rstrip("\n")
    notice = discharge(text)
    assert notice.actual
    data = notice.announcement
    assert data.case_id == "asst-vimercate:V2026-002187"
    assert data.expected_discharge_at == datetime(2026, 12, 3, 10, 30, tzinfo=ROME)  # no seconds
    assert data.patient.fiscal_code == V24_FISCAL_CODE  # typed CF, after the hospital's own id
    assert data.patient.birth_date == date(1935, 8, 12)  # PID-7 with a time
    assert data.patient.address == "Via Achille Grandi 22, 20834 Nova Milanese (MB)"  # "" dropped
    assert data.patient.phone == "0362 410077"  # the first of two repetitions


def test_a_2_3_admission_without_evn_and_with_a_null_discharge_time() -> None:
    notice = received(hl7_message(A01_V23)).notice
    assert notice == AdmissionNotice(
        hospital_id="asst-vimercate",
        fiscal_code=V24_FISCAL_CODE,
        admitted_at=datetime(2026, 12, 10, 6, 55, tzinfo=ROME),  # PV1-44; PV1-45 is ""
        discharge_ref="9001",
    )


def test_the_trigger_falls_back_to_evn_1_when_msh_9_has_none() -> None:
    notice = received(hl7_message(A16, {"ADT^A16^ADT_A16": "ADT"})).notice
    assert isinstance(notice, DischargeNotice)


def test_hl7_null_in_a_required_field_is_missing_not_a_value() -> None:
    result = refused(hl7_message(A16, {"V2026-000412^^^ASST_VIMERCATE^VN": '""'}))
    assert (str(result.error.location), result.error.error_code) == ("PV1-19.1", 101)


# --- A08: the patient's details ------------------------------------------------------------


def test_a08_is_a_details_update_for_the_visit() -> None:
    notice = received(hl7_message(A08_V251)).notice
    assert notice == DetailsNotice(
        PatientDetailsUpdated(
            hospital_id="asst-vimercate",
            discharge_ref="V2026-002201",
            address="Via Torino 15, 20835 Muggiò (MB)",
            phone="039 2783311",
            caregiver=Caregiver(present=True, name="Paola Cerutti", phone="+39 333 4417702"),
        )
    )


def test_a08_without_nk1_leaves_the_caregiver_as_it_was() -> None:
    text = hl7_message(
        A08_V251, {"NK1|1|Cerutti^Paola|DAU^Figlia^HL70063||+39 333 4417702^PRN^CP\n": ""}
    )
    notice = received(text).notice
    assert isinstance(notice, DetailsNotice)
    assert notice.update.caregiver is None


def test_a08_without_an_address_is_an_ae() -> None:
    result = refused(hl7_message(A08_V251, {"Via Torino 15^^Muggiò^MB^20835^IT^H^^108034": ""}))
    assert (str(result.error.location), result.error.error_code) == ("PID-11", 101)


# --- the ACK always answers the sender -----------------------------------------------------------


def test_an_unparsable_message_is_an_ar_echoing_the_control_id_and_swapping_the_parties() -> None:
    broken = hl7_message(A16, {"\nPV1|": "\nP V1|"})
    result = refused(broken)
    assert (result.error.ack_code, result.error.error_code) == (AckCode.REJECT, 100)
    ack = segments(hl7.refusal(result, NOW))
    assert ack["MSA"][1:3] == ["AR", "SIO-20261123-000871"]
    assert ack["MSH"][3:7] == ["CERNIERA", "COT_DESIO", "SIO_ADT", "ASST_VIMERCATE"]
    assert ack["MSH"][9] == "ACK^A16^ACK"


@pytest.mark.parametrize(
    "changes",
    [
        {"|^~\\&|": "|^^^^|"},  # MSH-2 no separators at all
        {"\nEVN|": "\nevn|"},  # a segment id in lower case
        {"|P|2.5|": "|P|2.2|"},  # a version not read
        {"ADT^A16^ADT_A16": "ORU^R01^ORU_R01"},  # not ADT
    ],
)
def test_every_refusal_of_a_message_with_an_msh_echoes_its_control_id(
    changes: dict[str, str],
) -> None:
    result = refused(hl7_message(A16, changes))
    reply = hl7.refusal(result, NOW)
    assert "MSA|AR|SIO-20261123-000871|" in reply


@pytest.mark.parametrize("version", [v for v in EVERY_VERSION if v != "2.7.1"])  # hl7apy: no 2.7.1
def test_the_ack_is_in_the_message_s_version_and_hl7apy_reads_it(version: str) -> None:
    result = received(real_feed(version))
    reply = hl7.ack(result.header, AckCode.ACCEPT, "DischargeAnnounced", NOW)
    parsed = parse_message(reply, validation_level=VALIDATION_LEVEL.TOLERANT, find_groups=False)
    assert parsed.msh.msh_12.to_er7() == version
    assert parsed.msa.msa_2.to_er7() == "SIO-20261123-000871"
    assert segments(reply)["MSH"][2] == "^~\\&"


@pytest.mark.parametrize(
    ("version", "uses_erl"), [("2.3", False), ("2.4", False), ("2.5", True), ("2.8", True)]
)
def test_err_says_where_in_the_way_of_the_message_s_version(version: str, uses_erl: bool) -> None:
    result = refused(
        hl7_message(A16, {"|P|2.5|": f"|P|{version}|", "BRMGPP38C62D286R": "BRMGPP38C62D286X"})
    )
    err = segments(hl7.refusal(result, NOW))["ERR"]
    if uses_erl:  # ERR-2 location, ERR-3 code, ERR-4 severity, ERR-8 the whole text
        assert err[1:5] == ["", "PID^1^3^1^1", "102^Data type error^HL70357", "E"]
        assert "invalid codice fiscale" in err[8]
    else:  # ERR-1 only, as 2.3 and 2.4 define it: segment^sequence^field^code
        assert err[1:] == ["PID^1^3^102&Data type error&HL70357"]


def test_the_ack_escapes_the_sender_s_control_id_and_text() -> None:
    result = refused(hl7_message(A16, {"|SIO-20261123-000871|": "|A\\F\\B|", "|P|2.5|": "|P|2.9|"}))
    assert result.header.control_id == "A|B"
    assert "MSA|AR|A\\F\\B|" in hl7.refusal(result, NOW)


def test_garbage_without_msh_is_an_ar_with_nothing_to_echo() -> None:
    ack = segments(hl7.refusal(refused("\ufeffnot HL7 at all"), NOW))
    assert ack["MSA"][1:3] == ["AR", ""]
    assert ack["MSH"][9] == "ACK"


def test_a08_of_2_5_1_is_accepted_where_it_used_to_be_ignored() -> None:
    notice = received(hl7_message(A16, {"ADT^A16^ADT_A16": "ADT^A08^ADT_A01"})).notice
    assert not isinstance(notice, IgnoredNotice)
