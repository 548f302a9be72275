"""HL7 v2 ADT messages in, notices out, and the ACK that answers each message: pure, no I/O.

Real feeds come in every version from 2.3 to 2.8, with segments LF- or CR-terminated,
Z-segments, segments newer than the version they declare (an ARV in a 2.4 message), ``""``
(the HL7 null) and escapes. hl7apy refuses a segment its version does not define (even at the
tolerant validation level) and names fields after each version's data types (TS.1 exists up
to 2.6, not in 2.7+), so the gateway reads the message positionally instead: segment, field,
repetition, component, subcomponent, which is how every version places its fields. Segments it
does not read are skipped unread; only the fields an event needs are checked.

====================  ============================================================
contract              HL7 v2 (2.3 – 2.8)
====================  ============================================================
hospital_id           MSH-4.1 sending facility (through ``GATEWAY_HOSPITALS``)
discharge_ref         PV1-19.1 visit number
ward                  PV1-3.1 assigned location: point of care
expected_discharge_at PV2-9 expected discharge (A16); PV1-45 discharge date/time (A03)
patient.fiscal_code   PID-3: the identifier of type NNITA or CF, else the first valid one
patient names         PID-5 (the legal name, type L, else the first): .1.1 family, .2 given
patient.birth_date    PID-7
patient.address       PID-11 (the first of type H, else L, else the first): street, ZIP
                      city (province)
municipality_code     PID-11.9 county/parish code: the ISTAT code of the comune
patient.phone         PID-13: .1, else .12, else +.5 .6 .7 (the first telephone given)
caregiver             the first NK1: present; NK1-2 name; NK1-5 phone. No NK1: not present
assessment            OBX segments with the codes of ``ASSESSMENT_CODES`` (below)
readmitted_at         PV1-44 admit date/time, else EVN-2, else MSH-7
cancellation reason   EVN-4 event reason (HL7 table 0062)
====================  ============================================================

A time without a zone (HL7 TS allows it) is Italian local time; one given to the day only
starts that day.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from enum import StrEnum
from typing import Any, Final, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from cerniera.gateway.domain import (
    AdmissionNotice,
    CancelNotice,
    DetailsNotice,
    DischargeNotice,
    IgnoredNotice,
    Notice,
    answer_value,
    hospital_id_for,
    start_of_day,
)
from cerniera.shared.clock import ROME
from cerniera.shared.contract import (
    DischargeAnnounced,
    DischargeCancelled,
    FiscalCode,
    HospitalId,
    PatientDetailsUpdated,
)

SUPPORTED_VERSIONS: Final = (
    "2.3",
    "2.3.1",
    "2.4",
    "2.5",
    "2.5.1",
    "2.6",
    "2.7",
    "2.7.1",
    "2.8",
    "2.8.1",
    "2.8.2",
)
ACK_VERSION: Final = "2.5"
"""The ACK's MSH-12 when the message names no version the gateway reads."""
ERL_SINCE: Final = "2.5"
"""ERR-2..8 (location, code, severity, text) exist from 2.5; before, only ERR-1 (ELD)."""
FISCAL_CODE_TYPES: Final = frozenset({"NNITA", "CF"})
"""PID-3.5 identifier types of the codice fiscale (NNITA: national person identifier, Italy)."""
GATEWAY_APPLICATION: Final = "CERNIERA"
MSA_TEXT_MAX: Final = 80  # MSA-3 is 80 characters long; ERR-8 carries the full text
MAX_SEPARATORS: Final = 5_000
"""Fields, components and repetitions a message may have: an ADT message has a few hundred;
more is no hospital's message, and not worth reading."""
NOT_ADMITTED: Final = "mittente non autorizzato / sender not authorised"
TOO_LARGE: Final = "messaggio troppo grande / message too large"
HL7_NULL: Final = '""'
"""A field sent as ``""`` is explicitly empty: read as no value."""

# OBX-3.1 codes of the ward's Phase-2 assessment (OBX-3.3, the coding system, is not read;
# ``99DP`` is the local one to use). OBX-5 holds the value; OBX-11 D, W or X drops the OBX.
ANSWER_PREFIX: Final = "DP-"
"""``DP-R1`` … ``DP-R99``: the answer to requirement R<n>: Y/P/N, Sì/Parz./No, yes/partial/no."""
BRASS_CODE: Final = "DP-BRASS"
"""The BRASS index, an integer 0–40 (OBX-2 NM)."""
CONSENT_CODE: Final = "DP-CONSENT"
"""The person's (or guardian's) consent: Y/N, Sì/No."""
NOTE_CODE: Final = "DP-NOTE"
"""Free notes of the assessor (OBX-2 ST, TX or FT); several are joined by line breaks."""
ASSESSMENT_CODES: Final = (f"{ANSWER_PREFIX}R<n>", BRASS_CODE, CONSENT_CODE, NOTE_CODE)
_REQUIREMENT: Final = re.compile(rf"{ANSWER_PREFIX}(R[1-9][0-9]?)")
_SEGMENT_ID: Final = re.compile(r"[A-Z][A-Z0-9]{2}")
_DROPPED_RESULTS: Final = frozenset({"D", "W", "X"})  # OBX-11: deleted, wrong, not obtained

_fiscal_codes: Final = TypeAdapter(FiscalCode)
_hospital_ids: Final = TypeAdapter(HospitalId)


class AckCode(StrEnum):
    """MSA-1 in original acknowledgment mode."""

    ACCEPT = "AA"
    ERROR = "AE"
    """The message was understood but cannot be applied: a field is missing or invalid."""
    REJECT = "AR"
    """The message itself is unacceptable: unparsable, wrong type or version."""


ERROR_CODES: Final = {  # HL7 table 0357, message error condition codes
    100: "Segment sequence error",
    101: "Required field missing",
    102: "Data type error",
    200: "Unsupported message type",
    203: "Unsupported version id",
    207: "Application internal error",
}

# Table 0062, event reason: the only reason an ADT^A13 carries in a standard field.
EVENT_REASONS: Final = {
    "01": "Patient request",
    "02": "Physician/health practitioner order",
    "03": "Census management",
    "O": "Other",
    "U": "Unknown",
}


@dataclass(frozen=True)
class Location:
    """Where in the message: ``PID-11.9`` for people, ``PID^1^11^1^9`` (ERR-2) for machines;
    ``sequence`` is which of the segments of that name (the third OBX: 3)."""

    segment: str
    field: int | None = None
    component: int | None = None
    sequence: int = 1

    def __str__(self) -> str:
        text = self.segment if self.sequence == 1 else f"{self.segment}[{self.sequence}]"
        text = text if self.field is None else f"{text}-{self.field}"
        return f"{text}.{self.component}" if self.component else text

    def erl(self) -> str:
        parts = [self.segment, str(self.sequence)]
        if self.field is not None:
            parts.append(str(self.field))
            if self.component:
                parts += ["1", str(self.component)]
        return "^".join(parts)


class Hl7Error(Exception):
    """Why a message is not accepted: the ACK code, the table 0357 code, a sentence naming the
    field at fault, and its location."""

    def __init__(
        self, ack_code: AckCode, error_code: int, text: str, location: Location | None = None
    ) -> None:
        super().__init__(text)
        self.ack_code = ack_code
        self.error_code = error_code
        self.text = text
        self.location = location


@dataclass(frozen=True)
class Header:
    """What the ACK needs from the message's MSH."""

    sending_application: str = ""
    sending_facility: str = ""
    receiving_application: str = ""
    receiving_facility: str = ""
    control_id: str = ""
    processing_id: str = "P"
    version: str = ACK_VERSION
    trigger: str = ""


@dataclass(frozen=True)
class Received:
    header: Header
    notice: Notice


@dataclass(frozen=True)
class Refused:
    error: Hl7Error
    header: Header = field(default_factory=Header)


# --- the message, split -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Chars:
    """The message's own separators (MSH-1, MSH-2); a 2.7+ truncation character is ignored."""

    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"

    @classmethod
    def of(cls, msh: str) -> _Chars | None:
        if len(msh) < 8 or not msh.startswith("MSH"):
            return None
        separator = msh[3]
        encoding = msh[4:].split(separator, 1)[0]
        chars = [separator, *encoding[:4]]
        if len(encoding) < 4 or len(set(chars)) != 5 or any(c.isalnum() for c in chars):
            return None
        return cls(separator, *encoding[:4])


@dataclass(frozen=True)
class _Value:
    """One repetition of a field."""

    raw: str
    chars: _Chars

    def get(self, component: int = 1, sub: int = 1) -> str:
        """A component's (subcomponent's) text, escapes undone; ``""`` and absent are empty."""
        components = self.raw.split(self.chars.component)
        if component > len(components):
            return ""
        subs = components[component - 1].split(self.chars.subcomponent)
        if sub > len(subs) or subs[sub - 1] == HL7_NULL:
            return ""
        return _unescape(subs[sub - 1], self.chars).strip()


class _Segment:
    """One segment: ``value(n)`` is SEG-n whatever the version calls it."""

    def __init__(self, name: str, fields: list[str], chars: _Chars, sequence: int = 1) -> None:
        self.name = name
        self.fields = fields  # fields[n] is SEG-n
        self.chars = chars
        self.sequence = sequence

    def repetitions(self, n: int) -> list[_Value]:
        raw = self.fields[n] if n < len(self.fields) else ""
        if raw in ("", HL7_NULL):
            return []
        return [_Value(r, self.chars) for r in raw.split(self.chars.repetition)]

    def first(self, n: int) -> _Value:
        found = self.repetitions(n)
        return found[0] if found else _Value("", self.chars)

    def value(self, n: int, component: int = 1, sub: int = 1) -> str:
        return self.first(n).get(component, sub)

    def where(self, n: int | None = None, component: int | None = None) -> Location:
        return Location(self.name, n, component, self.sequence)


class _Message:
    """The segments of a message, in order. Any segment id is accepted (Z-segments, segments
    newer than the version): only those the gateway reads are looked at."""

    def __init__(self, text: str) -> None:
        lines = text.split("\r")
        chars = _Chars.of(lines[0])
        if chars is None:
            raise Hl7Error(
                AckCode.REJECT,
                100,
                "malformed HL7 v2 message: MSH-1 and MSH-2 must give five distinct separators",
                Location("MSH", 2),
            )
        self.chars = chars
        self.segments: list[_Segment] = []
        counts: dict[str, int] = {}
        for index, line in enumerate(lines, start=1):
            name = line[:3]
            if not _SEGMENT_ID.fullmatch(name) or line[3:4] not in ("", chars.field):
                raise Hl7Error(
                    AckCode.REJECT,
                    100,
                    f"malformed HL7 v2 message: segment {index} does not start with a segment "
                    "id (three capital letters or digits) and a field separator",
                )
            fields = line.split(chars.field)
            if name == "MSH":  # MSH-1 is the separator itself: MSH-n is then fields[n]
                fields.insert(1, chars.field)
            counts[name] = counts.get(name, 0) + 1
            self.segments.append(_Segment(name, fields, chars, counts[name]))

    def all(self, name: str) -> list[_Segment]:
        return [s for s in self.segments if s.name == name]

    def optional(self, name: str) -> _Segment:
        """The first segment of that name, or an empty one (every field empty)."""
        found = self.all(name)
        return found[0] if found else _Segment(name, [name], self.chars)

    def required(self, name: str) -> _Segment:
        found = self.all(name)
        if not found:
            raise Hl7Error(AckCode.ERROR, 100, f"{name} segment missing", Location(name))
        return found[0]


# --- reading ------------------------------------------------------------------------------


def read(text: str, hospitals: Mapping[str, str]) -> Received | Refused:
    """The notice an ADT message carries, or why it is refused (AR: not an acceptable message;
    AE: a required field missing or invalid). A refusal keeps the header whenever the message
    starts with an MSH, so that its ACK still answers the sender's control id."""
    text = _segments(text)
    header = peek(text)
    if header is None:
        return Refused(
            Hl7Error(AckCode.REJECT, 100, "not an HL7 v2 message: it must start with MSH")
        )
    if sum(text.count(separator) for separator in set(text[3:8])) > MAX_SEPARATORS:
        return Refused(
            Hl7Error(
                AckCode.REJECT,
                100,
                f"message too complex: more than {MAX_SEPARATORS} fields, components and "
                "repetitions",
            ),
            header,
        )
    try:
        return Received(header, _Reader(_Message(text)).notice(header, hospitals))
    except Hl7Error as error:
        return Refused(error, header)


def peek(text: str) -> Header | None:
    """The MSH, read before anything else: who sends it (MSH-4), and what its ACK needs.
    ``None`` when the text does not start with a readable MSH."""
    msh = re.split(r"[\r\n]", text.lstrip("\ufeff \t\r\n"), maxsplit=1)[0]
    if len(msh) < 8 or not msh.startswith("MSH") or msh[3].isalnum():
        return None
    # Broken encoding characters still leave the fields: the ACK can name MSH-10.
    chars = _Chars.of(msh) or _Chars(field=msh[3])
    fields = msh.split(chars.field)
    fields.insert(1, chars.field)
    segment = _Segment("MSH", fields, chars)
    return Header(
        sending_application=segment.value(3),
        sending_facility=segment.value(4),
        receiving_application=segment.value(5),
        receiving_facility=segment.value(6),
        control_id=segment.value(10),
        processing_id=segment.value(11) or "P",
        version=segment.value(12),
        trigger=segment.value(9, 2),
    )


def _segments(text: str) -> str:
    """Segments end with CR; files and many senders use LF or CRLF instead (and some put a
    UTF-8 byte order mark first)."""
    lines = re.split(r"\r\n|\r|\n", text.lstrip("\ufeff").strip())
    return "\r".join(line for line in lines if line)


class _Reader:
    """The fields of one message, for the notice its event needs."""

    def __init__(self, message: _Message) -> None:
        self.message = message

    # Dispatch -------------------------------------------------------------------------------

    def notice(self, header: Header, hospitals: Mapping[str, str]) -> Notice:
        if header.version not in SUPPORTED_VERSIONS:
            raise Hl7Error(
                AckCode.REJECT,
                203,
                f"MSH-12: version {header.version!r} not supported; send one of 2.3 to 2.8",
                Location("MSH", 12),
            )
        if not header.control_id:
            raise _missing(Location("MSH", 10), "message control id", AckCode.REJECT)
        msh = self.message.required("MSH")
        kind = msh.value(9)
        trigger = header.trigger or self.message.optional("EVN").value(1)  # EVN-1: pre-2.3 habit
        if kind != "ADT":
            raise Hl7Error(
                AckCode.REJECT,
                200,
                f"MSH-9: message type {kind or '(empty)'}^{trigger} not supported; the gateway "
                "takes ADT^A01, A03, A04, A08, A11, A13 and A16",
                Location("MSH", 9, 1),
            )
        hospital_id = self.hospital_id(header, hospitals)
        if trigger == "A16":
            return self.discharge(hospital_id, self.pv2_9(), actual=False)
        if trigger == "A03":
            return self.discharge(hospital_id, self.pv1_45(), actual=True)
        if trigger == "A13":
            return self.cancellation(hospital_id)
        if trigger in ("A01", "A04"):
            return self.admission(hospital_id)
        if trigger == "A08":
            return self.details(hospital_id)
        if trigger == "A11":  # cancel admit: the contract has no readmission to take back
            return IgnoredNotice(hospital_id, "ADT^A11 (cancel admit)")
        return IgnoredNotice(hospital_id, f"ADT^{trigger or '(no trigger event)'}")

    def hospital_id(self, header: Header, hospitals: Mapping[str, str]) -> str:
        where = Location("MSH", 4, 1)
        if not header.sending_facility:
            raise _missing(where, "sending facility: which hospital speaks")
        hospital_id = hospital_id_for(header.sending_facility, hospitals)
        try:
            return _hospital_ids.validate_python(hospital_id)
        except ValidationError:
            raise Hl7Error(
                AckCode.ERROR,
                102,
                f"{where}: {header.sending_facility!r} gives no valid hospital id "
                f"({hospital_id!r}); map it in GATEWAY_HOSPITALS",
                where,
            ) from None

    # The kinds of message ------------------------------------------------------------------

    def discharge(
        self, hospital_id: str, when: tuple[datetime, Location], *, actual: bool
    ) -> DischargeNotice:
        at, at_where = when
        pid, pv1 = self.message.required("PID"), self.message.required("PV1")
        family, given = self.name(pid)
        address = self.address(pid)
        data = {
            "hospital_id": hospital_id,
            "discharge_ref": pv1.value(19) or None,
            "ward": pv1.value(3) or None,
            "expected_discharge_at": at,
            "patient": {
                "fiscal_code": self.fiscal_code(pid),
                "given_name": given or None,
                "family_name": family or None,
                "birth_date": self.date(pid, 7),
                "municipality_code": address.get("municipality_code"),
                "address": address.get("address"),
                "phone": _phone(pid.repetitions(13)),
            },
            "caregiver": self.caregiver() or {"present": False},
            "assessment": self.assessment(),
        }
        fields = {**_ANNOUNCEMENT_FIELDS, ("expected_discharge_at",): (at_where, "")}
        announcement = _validated(DischargeAnnounced, data, fields)
        return DischargeNotice(announcement, actual=actual)

    def cancellation(self, hospital_id: str) -> CancelNotice:
        pv1 = self.message.required("PV1")
        reason = self.message.optional("EVN").value(4)
        data = {
            "hospital_id": hospital_id,
            "discharge_ref": pv1.value(19) or None,
            "reason": EVENT_REASONS.get(reason, reason) or None,
        }
        return CancelNotice(_validated(DischargeCancelled, data, _ANNOUNCEMENT_FIELDS))

    def admission(self, hospital_id: str) -> AdmissionNotice:
        pid = self.message.required("PID")
        fiscal_code = self.fiscal_code(pid)
        where = Location("PID", 3, 1)
        if fiscal_code is None:
            raise _missing(where, "codice fiscale")
        try:
            fiscal_code = _fiscal_codes.validate_python(fiscal_code)
        except ValidationError as exc:
            raise _invalid(where, "codice fiscale", exc) from None
        pv1 = self.message.optional("PV1")
        candidates = [
            (pv1, 44),
            (self.message.optional("EVN"), 2),
            (self.message.required("MSH"), 7),
        ]
        for segment, n in candidates:
            if segment.value(n):
                admitted_at = self.timestamp(segment, n)
                break
        else:
            raise _missing(Location("MSH", 7), "date/time of the admission")
        return AdmissionNotice(hospital_id, fiscal_code, admitted_at, pv1.value(19) or None)

    def details(self, hospital_id: str) -> DetailsNotice:
        """ADT^A08: only what ``PatientDetailsUpdated`` carries; no NK1 leaves the caregiver
        as it was (an A08 need not repeat the next of kin)."""
        pid, pv1 = self.message.required("PID"), self.message.required("PV1")
        data = {
            "hospital_id": hospital_id,
            "discharge_ref": pv1.value(19) or None,
            "address": self.address(pid).get("address"),
            "phone": _phone(pid.repetitions(13)),
            "caregiver": self.caregiver(),
        }
        return DetailsNotice(_validated(PatientDetailsUpdated, data, _ANNOUNCEMENT_FIELDS))

    # Fields ---------------------------------------------------------------------------------

    def pv2_9(self) -> tuple[datetime, Location]:
        where = Location("PV2", 9)
        pv2 = self.message.optional("PV2")
        if not pv2.value(9):
            raise _missing(where, "expected discharge date/time: an ADT^A16 needs it")
        return self.timestamp(pv2, 9), where

    def pv1_45(self) -> tuple[datetime, Location]:
        where = Location("PV1", 45)
        pv1 = self.message.required("PV1")
        if not pv1.value(45):
            raise _missing(where, "discharge date/time: an ADT^A03 needs it")
        return self.timestamp(pv1, 45), where

    def fiscal_code(self, pid: _Segment) -> str | None:
        """The identifier typed as a codice fiscale; else the first that is a valid one. A
        typed but invalid one is returned as it is, so that validation names it."""
        identifiers = pid.repetitions(3)
        for identifier in identifiers:
            if identifier.get(5).upper() in FISCAL_CODE_TYPES:
                return identifier.get(1) or None
        for identifier in identifiers:
            try:
                return _fiscal_codes.validate_python(identifier.get(1))
            except ValidationError:
                continue
        return None

    def name(self, pid: _Segment) -> tuple[str, str]:
        """The legal name (XPN-7 L), else the first: family (XPN-1.1), given (XPN-2)."""
        names = pid.repetitions(5)
        if not names:
            return "", ""
        chosen = next((n for n in names if n.get(7).upper() == "L"), names[0])
        return chosen.get(1, 1), chosen.get(2)

    def address(self, pid: _Segment) -> dict[str, str | None]:
        """The home address (XAD-7 H), else the legal one (L), else the first."""
        addresses = pid.repetitions(11)
        if not addresses:
            return {}
        types = [a.get(7).upper() for a in addresses]
        chosen = addresses[next((types.index(t) for t in ("H", "L") if t in types), 0)]
        # XAD-1 is SAD from 2.5 (street or mailing address & street name & dwelling number).
        street = chosen.get(1, 1) or " ".join(p for p in (chosen.get(1, 2), chosen.get(1, 3)) if p)
        province = chosen.get(4)
        locality = " ".join(p for p in (chosen.get(5), chosen.get(3)) if p)
        if locality and province:
            locality += f" ({province})"
        return {
            "address": ", ".join(p for p in (street, locality) if p) or None,
            "municipality_code": chosen.get(9) or None,
        }

    def caregiver(self) -> dict[str, Any] | None:
        """The first NK1 (``None`` without one): its name and phone."""
        found = self.message.all("NK1")
        if not found:
            return None
        nk1 = found[0]
        name = nk1.first(2)
        full_name = " ".join(p for p in (name.get(2), name.get(1, 1)) if p)
        return {"present": True, "name": full_name or None, "phone": _phone(nk1.repetitions(5))}

    def assessment(self) -> dict[str, Any] | None:
        """The ward's Phase-2 answers, BRASS score, consent and notes from OBX segments coded
        as ``ASSESSMENT_CODES`` say; other OBX segments are not ours and are skipped. ``None``
        when the message carries none."""
        answers: dict[str, str] = {}
        found: dict[str, Any] = {}
        notes: list[str] = []
        for obx in self.message.all("OBX"):
            code = obx.value(3).upper()
            if obx.value(11).upper() in _DROPPED_RESULTS:
                continue
            value, where = obx.value(5), obx.where(5)
            requirement = _REQUIREMENT.fullmatch(code)
            if requirement:
                answers[requirement.group(1)] = _answer(value, where, code).value
            elif code == BRASS_CODE:
                found["brass_score"] = _brass(value, where)
            elif code == CONSENT_CODE:
                answer = _answer(value, where, code)
                if answer.value == "partial":
                    raise _invalid(where, code, f"{value!r}: consent is Y or N")
                found["consent"] = answer.value == "yes"
            elif code == NOTE_CODE and value:
                notes.append(value)
        if notes:
            found["notes"] = "\n".join(notes)
        return {"answers": answers, **found} if answers or found else None

    def timestamp(self, segment: _Segment, n: int) -> datetime:
        return _parse_timestamp(segment.value(n), segment.where(n))

    def date(self, segment: _Segment, n: int) -> date | None:
        value = segment.value(n)
        return _parse_timestamp(value, segment.where(n)).date() if value else None


def _phone(numbers: list[_Value]) -> str | None:
    """The first telephone: XTN-1, else XTN-12 (unformatted), else +country area local
    (XTN-5/6/7, as sent: an Italian area code keeps its leading 0). E-mail entries skipped."""
    for number in numbers:
        if number.get(2).upper() == "NET" or number.get(3).casefold() in ("internet", "x.400"):
            continue
        parts = [number.get(5), number.get(6), number.get(7)]
        if parts[0]:
            parts[0] = "+" + parts[0].lstrip("+")
        text = number.get(1) or number.get(12) or " ".join(p for p in parts if p)
        if text:
            return text
    return None


def _answer(value: str, where: Location, code: str) -> Any:
    answer = answer_value(value)
    if answer is None:
        if not value:
            raise _missing(where, f"{code}: the answer")
        raise _invalid(where, code, f"{value!r} is no answer: Y, P or N (Sì, Parz., No)")
    return answer


def _brass(value: str, where: Location) -> int:
    if not value:
        raise _missing(where, f"{BRASS_CODE}: the BRASS score")
    if not value.isdigit() or int(value) > 40:
        raise _invalid(where, BRASS_CODE, f"{value!r}: the BRASS score is an integer 0–40")
    return int(value)


# Where each contract field comes from, to name it when it is missing or invalid.
_ANNOUNCEMENT_FIELDS: Final[dict[tuple[str, ...], tuple[Location, str]]] = {
    ("hospital_id",): (Location("MSH", 4, 1), "sending facility"),
    ("discharge_ref",): (Location("PV1", 19, 1), "visit number"),
    ("ward",): (Location("PV1", 3, 1), "ward: point of care"),
    ("patient", "fiscal_code"): (Location("PID", 3, 1), "codice fiscale"),
    ("patient", "given_name"): (Location("PID", 5, 2), "given name"),
    ("patient", "family_name"): (Location("PID", 5, 1), "family name"),
    ("patient", "birth_date"): (Location("PID", 7), "birth date"),
    ("patient", "municipality_code"): (
        Location("PID", 11, 9),
        "ISTAT code of the municipality of residence",
    ),
    ("patient", "address"): (Location("PID", 11), "address"),
    ("patient", "phone"): (Location("PID", 13), "phone"),
    ("address",): (Location("PID", 11), "address"),
    ("phone",): (Location("PID", 13), "phone"),
    ("caregiver", "name"): (Location("NK1", 2), "caregiver's name"),
    ("caregiver", "phone"): (Location("NK1", 5), "caregiver's phone"),
    ("assessment", "notes"): (Location("OBX", 5), f"{NOTE_CODE}: notes"),
    ("reason",): (Location("EVN", 4), "event reason"),
}


M = TypeVar("M", bound=BaseModel)


def _validated(
    model: type[M], data: dict[str, Any], fields: Mapping[tuple[str, ...], tuple[Location, str]]
) -> M:
    """Validate with the contract's own model; its first error becomes an AE naming the
    HL7 field it came from."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        loc = tuple(str(part) for part in error["loc"])
        location, label = fields.get(loc, (None, ".".join(loc)))
        if error["type"] == "missing" or error.get("input", "") is None:
            raise _missing(location, label) from None
        raise _invalid(location, label, error["msg"]) from None


def _missing(where: Location | None, what: str, ack: AckCode = AckCode.ERROR) -> Hl7Error:
    named = f"{where} ({what})" if where else what
    return Hl7Error(ack, 101, f"{named} is required but empty", where)


def _invalid(where: Location | None, what: str, reason: object) -> Hl7Error:
    if isinstance(reason, ValidationError):
        reason = reason.errors(include_url=False)[0]["msg"]
    named = " ".join(p for p in (str(where) if where else "", f"({what})" if what else "") if p)
    return Hl7Error(AckCode.ERROR, 102, f"{named}: {reason}", where)


_TS: Final = re.compile(
    r"(?P<y>\d{4})(?P<mo>\d{2})(?P<d>\d{2})"
    r"(?:(?P<h>\d{2})(?:(?P<mi>\d{2})(?:(?P<s>\d{2})(?:\.(?P<f>\d{1,4}))?)?)?)?"
    r"(?P<z>[+-]\d{4})?"
)


def _parse_timestamp(value: str, where: Location) -> datetime:
    """HL7 TS/DTM, at least to the day. No zone: Italian local time (Europe/Rome)."""
    match = _TS.fullmatch(value)
    if match is None:
        raise _invalid(where, "", f"{value!r} is not an HL7 date/time (YYYYMMDD[HHMM[SS]][+ZZZZ])")
    parts = match.groupdict()
    zone = parts["z"]
    tz: tzinfo = ROME
    if zone:
        sign = -1 if zone[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5])))
    try:
        day = date(int(parts["y"]), int(parts["mo"]), int(parts["d"]))
        if parts["h"] is None:
            return datetime(day.year, day.month, day.day, tzinfo=tz) if zone else start_of_day(day)
        fraction = parts["f"] or ""
        return datetime(
            day.year,
            day.month,
            day.day,
            int(parts["h"]),
            int(parts["mi"] or 0),
            int(parts["s"] or 0),
            int(fraction.ljust(6, "0")) if fraction else 0,
            tzinfo=tz,
        )
    except ValueError as exc:
        raise _invalid(where, "", f"{value!r}: {exc}") from None


def _unescape(value: str, chars: _Chars) -> str:
    escape = chars.escape
    if escape not in value:
        return value
    table = {
        "F": chars.field,
        "S": chars.component,
        "T": chars.subcomponent,
        "R": chars.repetition,
        "E": escape,
    }
    pattern = re.compile(f"{re.escape(escape)}([^{re.escape(escape)}]*){re.escape(escape)}")

    def replace(match: re.Match[str]) -> str:
        code = match.group(1)
        if code in table:
            return table[code]
        if code.startswith("X") and re.fullmatch(r"X(?:[0-9A-Fa-f]{2})+", code):
            return bytes.fromhex(code[1:]).decode("latin-1")
        if code == ".br":  # a line break in a text
            return "\n"
        return ""  # other formatting (\H\, \N\, \.sp\): no meaning in a name or an address

    return pattern.sub(replace, value)


# --- answering ----------------------------------------------------------------------------


def ack(
    header: Header,
    code: AckCode,
    text: str,
    now: datetime,
    error: Hl7Error | None = None,
) -> str:
    """The ACK (ER7, segments ending in CR) for a message, in the message's version: MSH with
    sender and receiver swapped, MSA-1 the code, MSA-2 its control id, MSA-3 the text; for
    AE/AR an ERR segment (2.5+: ERR-2 location, ERR-3 table 0357 code, ERR-4 severity, ERR-8
    the whole text; 2.3/2.4: ERR-1 location and code).

    Written by hand rather than with hl7apy: hl7apy writes a 2.8 ERR one field off (it drops
    the withdrawn ERR-1) and has no ERR-2 before 2.5."""
    version = header.version if header.version in SUPPORTED_VERSIONS else ACK_VERSION
    msh = [
        "MSH",
        "^~\\&",
        _hd(header.receiving_application or GATEWAY_APPLICATION),
        _hd(header.receiving_facility or GATEWAY_APPLICATION),
        _hd(header.sending_application),
        _hd(header.sending_facility),
        now.astimezone(ROME).strftime("%Y%m%d%H%M%S%z"),
        "",
        f"ACK^{_hd(header.trigger)}^ACK" if header.trigger else "ACK",
        uuid.uuid4().hex[:20],
        header.processing_id if header.processing_id.isalpha() else "P",
        version,
    ]
    segments = [
        "|".join(msh),
        "|".join(["MSA", code.value, _escape(header.control_id), _escape(_shorten(text))]),
    ]
    if error is not None:
        segments.append(_err(error, version))
    return "\r".join(segments) + "\r"


def _err(error: Hl7Error, version: str) -> str:
    where = error.location
    condition = f"{error.error_code}^{ERROR_CODES[error.error_code]}^HL70357"
    if _version_key(version) < _version_key(ERL_SINCE):
        # ERR-1 (ELD): segment^sequence^field^code, the code's components as subcomponents.
        position = [where.segment, str(where.sequence), str(where.field or "")] if where else []
        eld = "^".join(position or ["", "", ""]) + "^" + condition.replace("^", "&")
        return f"ERR|{eld}"
    erl = where.erl() if where is not None else ""
    return "|".join(["ERR", "", erl, condition, "E", "", "", "", _escape(error.text)])


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".") if p.isdigit())


def refusal(refused: Refused, now: datetime) -> str:
    """The ACK (AE or AR, with its ERR segment) for a message that is not accepted."""
    error = refused.error
    return ack(refused.header, error.ack_code, error.text, now, error)


def not_admitted(header: Header, now: datetime) -> str:
    """The AR for a sender that may not speak on this connection: a fixed text, and no id but
    the message's own control id (nothing about other hospitals, patients or cases)."""
    bare = Header(control_id=header.control_id, trigger=header.trigger, version=header.version)
    return ack(bare, AckCode.REJECT, NOT_ADMITTED, now)


def too_large(now: datetime) -> str:
    """The AR for a message over the size limit, before its connection is closed."""
    return ack(Header(), AckCode.REJECT, TOO_LARGE, now)


def _hd(value: str) -> str:
    """A namespace id as one component, without separators that would split it."""
    return re.sub(r"[|^~\\&\r\n]", " ", value)


def _escape(text: str) -> str:
    """A text field with HL7's escapes for the separators (``\\F\\`` for ``|``, ...)."""
    table = {"\\": "\\E\\", "|": "\\F\\", "^": "\\S\\", "&": "\\T\\", "~": "\\R\\"}
    text = "".join(table.get(c, c) for c in text)
    return text.replace("\r\n", "\\.br\\").replace("\n", "\\.br\\").replace("\r", "\\.br\\")


def _shorten(text: str, limit: int = MSA_TEXT_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
