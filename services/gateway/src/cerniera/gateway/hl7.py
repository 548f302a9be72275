"""HL7 v2.5 ADT messages in, notices out, and the ACK that answers each message: pure, no I/O.

hl7apy parses (leniently: ``find_groups=False``, tolerant validation) and builds the ACK; this
module only knows where the contract's fields live in an ADT message:

====================  ============================================================
contract              HL7 v2.5
====================  ============================================================
hospital_id           MSH-4.1 sending facility (through ``GATEWAY_HOSPITALS``)
discharge_ref         PV1-19.1 visit number
ward                  PV1-3.1 assigned location: point of care
expected_discharge_at PV2-9 expected discharge (A16); PV1-45 discharge date/time (A03)
patient.fiscal_code   PID-3: the identifier of type NNITA or CF, else the first valid one
patient names         PID-5.1.1 family, PID-5.2 given
patient.birth_date    PID-7
patient.address       PID-11 (the first of type H, else L, else the first): street, ZIP
                      city (province)
municipality_code     PID-11.9 county/parish code: the ISTAT code of the comune
patient.phone         PID-13.1 (or .12): the first number given
caregiver             the first NK1: present; NK1-2 name; NK1-5 phone. No NK1: not present
readmitted_at         PV1-44 admit date/time, else EVN-2, else MSH-7
cancellation reason   EVN-4 event reason (HL7 table 0062)
====================  ============================================================

A time without a zone (HL7 TS allows it) is Italian local time; one given to the day only
starts that day.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from enum import StrEnum
from typing import Any, Final, TypeVar

from hl7apy import v2_5
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Message
from hl7apy.exceptions import UnsupportedVersion
from hl7apy.parser import parse_message
from pydantic import BaseModel, TypeAdapter, ValidationError

from cerniera.gateway.domain import (
    AdmissionNotice,
    CancelNotice,
    DischargeNotice,
    IgnoredNotice,
    Notice,
    hospital_id_for,
    start_of_day,
)
from cerniera.shared.clock import ROME
from cerniera.shared.contract import (
    DischargeAnnounced,
    DischargeCancelled,
    FiscalCode,
    HospitalId,
)

SUPPORTED_VERSIONS: Final = ("2.5", "2.5.1")
FISCAL_CODE_TYPES: Final = frozenset({"NNITA", "CF"})
"""PID-3.5 identifier types of the codice fiscale (NNITA: national person identifier, Italy)."""
GATEWAY_APPLICATION: Final = "CERNIERA"
MSA_TEXT_MAX: Final = 80  # MSA-3 is 80 characters long in v2.5; ERR-8 carries the full text
MAX_SEPARATORS: Final = 5_000
"""Fields, components and repetitions a message may have: an ADT message has a few hundred,
and hl7apy takes about 0.1 ms for each, so 50,000 repetitions of a field would keep it busy
for seconds."""
NOT_ADMITTED: Final = "mittente non autorizzato / sender not authorised"
TOO_LARGE: Final = "messaggio troppo grande / message too large"

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
    """Where in the message: ``PID-11.9`` for people, ``PID^1^11^1^9`` (ERR-2) for machines."""

    segment: str
    field: int | None = None
    component: int | None = None

    def __str__(self) -> str:
        text = self.segment if self.field is None else f"{self.segment}-{self.field}"
        return f"{text}.{self.component}" if self.component else text

    def erl(self) -> str:
        parts = [self.segment, "1"]
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
    version: str = SUPPORTED_VERSIONS[0]
    trigger: str = ""


@dataclass(frozen=True)
class Received:
    header: Header
    notice: Notice


@dataclass(frozen=True)
class Refused:
    error: Hl7Error
    header: Header = field(default_factory=Header)


# --- reading ------------------------------------------------------------------------------


def read(text: str, hospitals: Mapping[str, str]) -> Received | Refused:
    """The notice an ADT message carries, or why it is refused (AR: not an acceptable message;
    AE: a required field missing or invalid)."""
    text = _segments(text)
    if not text.startswith("MSH"):
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
            peek(text) or Header(),
        )
    try:
        message = parse_message(text, validation_level=VALIDATION_LEVEL.TOLERANT, find_groups=False)
    except UnsupportedVersion as exc:
        return Refused(Hl7Error(AckCode.REJECT, 203, f"MSH-12: {exc}", Location("MSH", 12)))
    except Exception as exc:  # hl7apy's errors share no base class worth relying on
        return Refused(Hl7Error(AckCode.REJECT, 100, f"malformed HL7 v2 message: {exc}"))
    reader = _Reader(message)
    header = reader.header()
    try:
        return Received(header, reader.notice(header, hospitals))
    except Hl7Error as error:
        return Refused(error, header)


def peek(text: str) -> Header | None:
    """The MSH read by hand, without parsing the message: who sends it (MSH-4), and what its
    ACK needs, before anything else is read. ``None`` when the text does not start with MSH."""
    msh = re.split(r"[\r\n]", text.lstrip(), maxsplit=1)[0]
    if not msh.startswith("MSH") or len(msh) < 8:
        return None
    fields = msh.split(msh[3])  # fields[n - 1] is MSH-n (MSH-1 is the separator itself)
    splitter = re.compile(f"[{re.escape(msh[4:6])}]")  # component and repetition separators

    def component(n: int, k: int = 1) -> str:
        parts = splitter.split(fields[n - 1]) if len(fields) >= n else []
        return parts[k - 1].strip() if len(parts) >= k else ""

    return Header(
        sending_application=component(3),
        sending_facility=component(4),
        receiving_application=component(5),
        receiving_facility=component(6),
        control_id=component(10),
        processing_id=component(11) or "P",
        version=component(12),
        trigger=component(9, 2),
    )


def _segments(text: str) -> str:
    """Segments end with CR; files and some senders use LF or CRLF instead."""
    return "\r".join(line for line in re.split(r"\r\n|\r|\n", text.strip()) if line)


class _Reader:
    """Field access on one parsed message (hl7apy elements are untyped, hence ``Any``)."""

    def __init__(self, message: Any) -> None:
        self.message = message
        self.chars: Mapping[str, str] = message.encoding_chars

    # Header and dispatch ------------------------------------------------------------------

    def header(self) -> Header:
        """MSH, read so that it works in any version hl7apy parses: a message in a version
        the gateway refuses still gets an ACK naming its control id."""
        msh = self.message.msh
        version = self.first_component(msh.msh_12)
        supported = version in SUPPORTED_VERSIONS
        return Header(
            sending_application=self.first_component(msh.msh_3),
            sending_facility=self.first_component(msh.msh_4),
            receiving_application=self.first_component(msh.msh_5),
            receiving_facility=self.first_component(msh.msh_6),
            control_id=self.text(msh.msh_10),
            processing_id=self.first_component(msh.msh_11) or "P",
            version=version,
            trigger=self.text(msh.msh_9.msg_2) if supported else "",
        )

    def notice(self, header: Header, hospitals: Mapping[str, str]) -> Notice:
        if header.version not in SUPPORTED_VERSIONS:
            raise Hl7Error(
                AckCode.REJECT,
                203,
                f"MSH-12: version {header.version!r} not supported; send "
                + " or ".join(SUPPORTED_VERSIONS),
                Location("MSH", 12),
            )
        if not header.control_id:
            raise _missing(Location("MSH", 10), "message control id", AckCode.REJECT)
        kind = self.text(self.message.msh.msh_9.msg_1)
        if kind != "ADT":
            raise Hl7Error(
                AckCode.REJECT,
                200,
                f"MSH-9: message type {kind or '(empty)'}^{header.trigger} not supported; "
                "the gateway takes ADT^A16, A03, A13, A01 and A04",
                Location("MSH", 9, 1),
            )
        hospital_id = self.hospital_id(header, hospitals)
        trigger = header.trigger
        if trigger == "A16":
            return self.discharge(hospital_id, self.pv2_9(), actual=False)
        if trigger == "A03":
            return self.discharge(hospital_id, self.pv1_45(), actual=True)
        if trigger == "A13":
            return self.cancellation(hospital_id)
        if trigger in ("A01", "A04"):
            return self.admission(hospital_id)
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

    # The four kinds of message ------------------------------------------------------------

    def discharge(
        self, hospital_id: str, when: tuple[datetime, Location], *, actual: bool
    ) -> DischargeNotice:
        at, at_where = when
        pid, pv1 = self.segment("PID"), self.segment("PV1")
        name = _first(pid.pid_5)
        address = self.address(pid)
        data = {
            "hospital_id": hospital_id,
            "discharge_ref": self.text(_first(pv1.pv1_19).cx_1) or None,
            "ward": self.text(pv1.pv1_3.pl_1) or None,
            "expected_discharge_at": at,
            "patient": {
                "fiscal_code": self.fiscal_code(pid),
                "given_name": self.text(name.xpn_2) or None,
                "family_name": self.text(name.xpn_1.fn_1) or None,
                "birth_date": self.date(pid.pid_7.ts_1, Location("PID", 7)),
                "municipality_code": address.get("municipality_code"),
                "address": address.get("address"),
                "phone": self.phone(pid.pid_13),
            },
            "caregiver": self.caregiver(),
        }
        fields = {**_ANNOUNCEMENT_FIELDS, ("expected_discharge_at",): (at_where, "")}
        announcement = _validated(DischargeAnnounced, data, fields)
        return DischargeNotice(announcement, actual=actual)

    def cancellation(self, hospital_id: str) -> CancelNotice:
        pv1 = self.segment("PV1")
        reason = self.text(self.message.evn.evn_4)
        data = {
            "hospital_id": hospital_id,
            "discharge_ref": self.text(_first(pv1.pv1_19).cx_1) or None,
            "reason": EVENT_REASONS.get(reason, reason) or None,
        }
        return CancelNotice(_validated(DischargeCancelled, data, _ANNOUNCEMENT_FIELDS))

    def admission(self, hospital_id: str) -> AdmissionNotice:
        pid = self.segment("PID")
        fiscal_code = self.fiscal_code(pid)
        where = Location("PID", 3, 1)
        if fiscal_code is None:
            raise _missing(where, "codice fiscale")
        try:
            fiscal_code = _fiscal_codes.validate_python(fiscal_code)
        except ValidationError as exc:
            raise _invalid(where, "codice fiscale", exc) from None
        pv1 = _first(self.message.pv1)
        candidates = [
            (_first(pv1.pv1_44).ts_1, Location("PV1", 44)),
            (_first(self.message.evn).evn_2.ts_1, Location("EVN", 2)),
            (self.message.msh.msh_7.ts_1, Location("MSH", 7)),
        ]
        for element, location in candidates:
            if self.text(element):
                admitted_at = self.timestamp(element, location)
                break
        else:
            raise _missing(Location("MSH", 7), "date/time of the admission")
        visit = self.text(_first(pv1.pv1_19).cx_1)
        return AdmissionNotice(hospital_id, fiscal_code, admitted_at, visit or None)

    # Fields ---------------------------------------------------------------------------------

    def pv2_9(self) -> tuple[datetime, Location]:
        where = Location("PV2", 9)
        element = _first(self.message.pv2).pv2_9.ts_1
        if not self.text(element):
            raise _missing(where, "expected discharge date/time: an ADT^A16 needs it")
        return self.timestamp(element, where), where

    def pv1_45(self) -> tuple[datetime, Location]:
        where = Location("PV1", 45)
        element = _first(self.segment("PV1").pv1_45).ts_1
        if not self.text(element):
            raise _missing(where, "discharge date/time: an ADT^A03 needs it")
        return self.timestamp(element, where), where

    def fiscal_code(self, pid: Any) -> str | None:
        """The identifier typed as a codice fiscale; else the first that is a valid one. A
        typed but invalid one is returned as it is, so that validation names it."""
        identifiers = list(pid.pid_3)
        for identifier in identifiers:
            if self.text(identifier.cx_5).upper() in FISCAL_CODE_TYPES:
                return self.text(identifier.cx_1) or None
        for identifier in identifiers:
            value = self.text(identifier.cx_1)
            try:
                return _fiscal_codes.validate_python(value)
            except ValidationError:
                continue
        return None

    def address(self, pid: Any) -> dict[str, str | None]:
        """The home address (XAD-7 H), else the legal one (L), else the first."""
        addresses = list(pid.pid_11)
        if not addresses:
            return {}
        types = [self.text(a.xad_7).upper() for a in addresses]
        chosen = addresses[next((types.index(t) for t in ("H", "L") if t in types), 0)]
        street = self.text(chosen.xad_1.sad_1)
        province = self.text(chosen.xad_4)
        locality = " ".join(p for p in (self.text(chosen.xad_5), self.text(chosen.xad_3)) if p)
        if locality and province:
            locality += f" ({province})"
        return {
            "address": ", ".join(p for p in (street, locality) if p) or None,
            "municipality_code": self.text(chosen.xad_9) or None,
        }

    def phone(self, numbers: Any) -> str | None:
        """XTN-1, else XTN-12 (unformatted). Not XTN-5/6/7: hl7apy reads the area code as a
        number and drops the leading zero every Italian area code has."""
        for number in numbers:
            text = self.text(number.xtn_1) or self.text(number.xtn_12)
            if text:
                return text
        return None

    def caregiver(self) -> dict[str, Any]:
        nk1 = _first(self.message.nk1)
        if nk1 is ABSENT:
            return {"present": False}
        name = _first(nk1.nk1_2)
        full_name = " ".join(p for p in (self.text(name.xpn_2), self.text(name.xpn_1.fn_1)) if p)
        return {"present": True, "name": full_name or None, "phone": self.phone(nk1.nk1_5)}

    def segment(self, name: str) -> Any:
        found = _first(getattr(self.message, name.lower()))
        if found is ABSENT:
            raise Hl7Error(AckCode.ERROR, 100, f"{name} segment missing", Location(name))
        return found

    def timestamp(self, element: Any, where: Location) -> datetime:
        return _parse_timestamp(self.text(element), where)

    def date(self, element: Any, where: Location) -> date | None:
        value = self.text(element)
        return _parse_timestamp(value, where).date() if value else None

    def first_component(self, field: Any) -> str:
        """The first component of a field, whatever the version calls it (HD_1, VID_1, ID)."""
        return self.text(_first(field.children))

    def text(self, element: Any) -> str:
        """A leaf's value, with HL7 escape sequences (``\\T\\`` for ``&``, ...) undone."""
        return _unescape(str(element.to_er7()), self.chars).strip()


class _Absent:
    """Stands for a segment, field or component the message lacks: every part of it is
    absent too, and its value is empty, so optional parts read as ``""`` without checks."""

    def __getattr__(self, name: str) -> _Absent:
        return self

    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def to_er7(self) -> str:
        return ""


ABSENT: Final = _Absent()


def _first(elements: Any) -> Any:
    """The first repetition of a field or segment, ``ABSENT`` when there is none."""
    return elements[0] if len(elements) else ABSENT


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
    ("caregiver", "name"): (Location("NK1", 2), "caregiver's name"),
    ("caregiver", "phone"): (Location("NK1", 5), "caregiver's phone"),
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


def _unescape(value: str, chars: Mapping[str, str]) -> str:
    escape = chars["ESCAPE"]
    if escape not in value:
        return value
    table = {
        "F": chars["FIELD"],
        "S": chars["COMPONENT"],
        "T": chars["SUBCOMPONENT"],
        "R": chars["REPETITION"],
        "E": escape,
    }
    pattern = re.compile(f"{re.escape(escape)}([^{re.escape(escape)}]*){re.escape(escape)}")

    def replace(match: re.Match[str]) -> str:
        code = match.group(1)
        if code in table:
            return table[code]
        if code.startswith("X") and re.fullmatch(r"X(?:[0-9A-Fa-f]{2})+", code):
            return bytes.fromhex(code[1:]).decode("latin-1")
        return ""  # formatting (\H\, \N\, \.br\): no meaning in a name or an address

    return pattern.sub(replace, value)


# --- answering ----------------------------------------------------------------------------


def ack(
    header: Header,
    code: AckCode,
    text: str,
    now: datetime,
    error: Hl7Error | None = None,
) -> str:
    """The ACK (ER7, segments ending in CR) for a message: MSA-1 the code, MSA-2 its control
    id, MSA-3 the text; for AE/AR an ERR segment with the location, table 0357 code, and the
    whole text in ERR-8."""
    version = header.version if header.version in SUPPORTED_VERSIONS else SUPPORTED_VERSIONS[0]
    message: Any = Message("ACK", version=version, validation_level=VALIDATION_LEVEL.TOLERANT)
    msh = message.msh
    msh.msh_3 = _hd(header.receiving_application or GATEWAY_APPLICATION)
    msh.msh_4 = _hd(header.receiving_facility or GATEWAY_APPLICATION)
    msh.msh_5 = _hd(header.sending_application)
    msh.msh_6 = _hd(header.sending_facility)
    msh.msh_7 = now.astimezone(ROME).strftime("%Y%m%d%H%M%S%z")
    msh.msh_9 = f"ACK^{header.trigger}^ACK" if header.trigger else "ACK"
    msh.msh_10 = uuid.uuid4().hex[:20]
    msh.msh_11 = header.processing_id if header.processing_id.isalpha() else "P"
    msa = message.msa
    msa.msa_1 = code.value
    msa.msa_2.value = v2_5.ST(header.control_id)
    msa.msa_3.value = v2_5.ST(_shorten(text, MSA_TEXT_MAX))
    if error is not None:
        err = message.add_segment("ERR")
        if error.location is not None:
            err.err_2 = error.location.erl()
        err.err_3 = f"{error.error_code}^{ERROR_CODES[error.error_code]}^HL70357"
        err.err_4 = "E"
        err.err_8.value = v2_5.TX(error.text)
    return str(message.to_er7()) + "\r"


def refusal(refused: Refused, now: datetime) -> str:
    """The ACK (AE or AR, with its ERR segment) for a message that is not accepted."""
    error = refused.error
    return ack(refused.header, error.ack_code, error.text, now, error)


def not_admitted(header: Header, now: datetime) -> str:
    """The AR for a sender that may not speak on this connection: a fixed text, and no id but
    the message's own control id (nothing about other hospitals, patients or cases)."""
    bare = Header(control_id=_hd(header.control_id), trigger=_hd(header.trigger))
    return ack(bare, AckCode.REJECT, NOT_ADMITTED, now)


def too_large(now: datetime) -> str:
    """The AR for a message over the size limit, before its connection is closed."""
    return ack(Header(), AckCode.REJECT, TOO_LARGE, now)


def _hd(value: str) -> str:
    """A namespace id as the HD's first component, without separators that would split it."""
    return re.sub(r"[|^~\\&]", " ", value)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
