"""FHIR R4 in, notices out, and an OperationOutcome for what is wrong: pure, no I/O.

The models are ``fhir.resources.R4B`` (FHIR 4.3, the technical correction of R4: an R4
Encounter, Patient or Bundle is valid R4B). They parse and validate the structure; this module
knows where the contract's fields live:

=======================  =====================================================================
contract                 FHIR
=======================  =====================================================================
discharge_ref            Encounter.identifier: the one typed VN (visit number), else official,
                         else the first
expected_discharge_at    Encounter.period.end: expected while ``in-progress``, actual once
                         ``finished`` (which also needs hospitalization.dischargeDisposition)
ward                     Encounter.location[0].location: its display, else the Location's name
hospital_id              Encounter.serviceProvider: the Organization's first identifier, else
                         the reference's identifier; else MessageHeader.source.name
patient                  Encounter.subject → the Patient, contained (``#id``) or in the Bundle
patient.fiscal_code      Patient.identifier with system http://hl7.it/sid/codiceFiscale (or
                         the codice fiscale OID), else the first valid one
municipality_code        Patient.address (home, else the first): the ISTAT code of the comune
                         in ``city``'s iso21090-SC-coding extension (HL7 Italia's way of coding
                         address parts), else ``district`` when it is six digits
caregiver                Patient.contact[0]: present; its name and phone. No contact: not present
assessment               the QuestionnaireResponse of ``QUESTIONNAIRE`` in the same Bundle:
                         linkId R1…R99 (valueCoding yes/partial/no), brass (valueInteger),
                         consent (valueBoolean), notes (valueString)
=======================  =====================================================================

Back to the hospital: a ``DischargePostponementRequested`` becomes a FHIR Task
(``postponement_task``) that the hospital's system fetches.

Problems are ``FhirError``: 400 for a document that is not valid FHIR, 422 for valid FHIR
that lacks what a discharge needs. Each names the element at fault as a FHIRPath expression
from the root of the posted document.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, TypeVar

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.fhirresourcemodel import FHIRResourceModel
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.messageheader import MessageHeader
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.questionnaireresponse import (
    QuestionnaireResponse,
    QuestionnaireResponseItem,
)
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.task import Task
from pydantic import TypeAdapter, ValidationError

from cerniera.gateway.domain import DischargeNotice, answer_value, hospital_id_for, start_of_day
from cerniera.shared.contract import (
    DischargeAnnounced,
    DischargePostponementRequested,
    FiscalCode,
    ServiceType,
)

FISCAL_CODE_SYSTEMS: Final = frozenset(
    {
        "http://hl7.it/sid/codiceFiscale",
        "urn:oid:2.16.840.1.113883.2.9.4.3.2",  # the Ministry's OID for the codice fiscale
    }
)
SC_CODING: Final = "http://hl7.org/fhir/StructureDefinition/iso21090-SC-coding"
ISTAT_COMUNI: Final = "https://www.hl7.it/fhir/terminology/CodeSystem/istat-comuni"
VISIT_NUMBER: Final = "VN"  # v2-0203 identifier type
DISCHARGE_EVENT: Final = "notification-discharge"  # Da Vinci Unsolicited Notifications
EXPECTED_STATUSES: Final = frozenset({"in-progress", "onleave"})
FHIR_JSON: Final = "application/fhir+json"

# The Phase-2 checklist and BRASS as a FHIR Questionnaire (examples/fhir/questionnaire-fase2.json).
QUESTIONNAIRE: Final = "urn:dp:fhir:Questionnaire:fase2"
"""Its canonical URL; ``QuestionnaireResponse.questionnaire`` may add ``|<version>``."""
ANSWERS: Final = "urn:dp:fhir:CodeSystem:fase2-risposta"
"""The answers' codes: yes (Sì), partial (Parzialmente), no (No)."""
BRASS_LINK: Final = "brass"
CONSENT_LINK: Final = "consent"
NOTES_LINK: Final = "notes"
ANSWERED: Final = frozenset({"completed", "amended"})
_REQUIREMENT_LINK: Final = re.compile(r"R[1-9][0-9]?")

# Back to the hospital: the Task asking to postpone a discharge.
TASK_CODES: Final = "urn:dp:fhir:CodeSystem:task"
POSTPONE_DISCHARGE: Final = "postpone-discharge"
SERVICE_NAMES: Final = {  # what a ward reads
    ServiceType.SAD: "assistenza domiciliare (SAD)",
    ServiceType.MEALS: "pasti a domicilio",
    ServiceType.TELEASSISTANCE: "teleassistenza",
    ServiceType.EMERGENCY_ALARM: "telesoccorso",
}

_fiscal_codes: Final = TypeAdapter(FiscalCode)
_ISTAT: Final = re.compile(r"[0-9]{6}")


class FhirError(Exception):
    """Why a request is not accepted: HTTP status, FHIR issue type, text, and FHIRPath."""

    def __init__(
        self, status: int, code: str, diagnostics: str, expression: str | None = None
    ) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.code = code
        self.diagnostics = diagnostics
        self.expression = expression

    def outcome(self) -> dict[str, Any]:
        issue: dict[str, Any] = {
            "severity": "error",
            "code": self.code,
            "diagnostics": self.diagnostics,
        }
        if self.expression:
            issue["expression"] = [self.expression]
        return operation_outcome(issue)


def operation_outcome(*issues: dict[str, Any]) -> dict[str, Any]:
    """An OperationOutcome, built (and so checked) with the R4B model."""
    model = OperationOutcome.model_validate(
        {"resourceType": "OperationOutcome", "issue": list(issues)}
    )
    return dict(model.model_dump(mode="json"))


def _required(expression: str, what: str) -> FhirError:
    return FhirError(422, "required", f"{expression}: {what}", expression)


@dataclass(frozen=True)
class _Located:
    """A resource and its FHIRPath from the root of the posted document."""

    resource: Any
    path: str


class _Document:
    """What was posted: resolves references to contained resources and Bundle entries."""

    def __init__(self, entries: Sequence[tuple[str | None, _Located]] = ()) -> None:
        self.entries = list(entries)

    def resolve(self, reference: Reference | None, container: _Located) -> _Located | None:
        target = reference.reference if reference is not None else None
        if not target:
            return None
        if target.startswith("#"):
            for index, resource in enumerate(container.resource.contained or []):
                if resource.id == target[1:]:
                    return _Located(resource, f"{container.path}.contained[{index}]")
            return None
        for full_url, located in self.entries:
            resource = located.resource
            local = f"{resource.get_resource_type()}/{resource.id}" if resource.id else None
            if target in (full_url, local) or (
                full_url is not None and local is not None and full_url.endswith(f"/{target}")
            ):
                return located
        return None


# --- requests -----------------------------------------------------------------------------


def load(body: bytes) -> object:
    """The posted document, decoded; not JSON is a 400 like any other structural error."""
    try:
        return json.loads(body)
    except ValueError as exc:
        raise FhirError(400, "structure", f"the body is not JSON: {exc}") from None


def read_encounter(doc: object, hospitals: Mapping[str, str]) -> DischargeNotice:
    """POST /fhir/Encounter: an Encounter with its Patient contained, or a Bundle holding one
    Encounter and the resources it references."""
    kind = _resource_type(doc)
    if kind == "Encounter":
        encounter = _parse(Encounter, doc)
        return _discharge(_Located(encounter, "Encounter"), _Document(), hospitals)
    if kind == "Bundle":
        document = _bundle(_parse(Bundle, doc))
        encounters = [e for _, e in document.entries if isinstance(e.resource, Encounter)]
        if len(encounters) != 1:
            raise FhirError(
                422,
                "invariant",
                f"the Bundle must hold exactly one Encounter; it holds {len(encounters)}",
                "Bundle.entry",
            )
        return _discharge(encounters[0], document, hospitals)
    raise FhirError(
        400,
        "not-supported",
        f"expected an Encounter or a Bundle, got resourceType {kind!r}",
        "resourceType",
    )


def read_notification(doc: object, hospitals: Mapping[str, str]) -> DischargeNotice:
    """POST /fhir: a Da Vinci notification Bundle (type ``message``): its MessageHeader's event
    is ``notification-discharge`` and its focus the Encounter."""
    kind = _resource_type(doc)
    if kind != "Bundle":
        raise FhirError(
            400, "not-supported", f"expected a message Bundle, got {kind!r}", "resourceType"
        )
    bundle = _parse(Bundle, doc)
    if bundle.type != "message":
        raise FhirError(
            422,
            "invariant",
            f"Bundle.type is {bundle.type!r}; a notification is a 'message' Bundle",
            "Bundle.type",
        )
    document = _bundle(bundle)
    header = document.entries[0][1] if document.entries else None
    if header is None or not isinstance(header.resource, MessageHeader):
        raise FhirError(
            422,
            "invariant",
            "the first entry of a message Bundle must be its MessageHeader",
            "Bundle.entry[0].resource",
        )
    event = header.resource.eventCoding
    if event is None or event.code != DISCHARGE_EVENT:
        code = event.code if event is not None else None
        raise FhirError(
            422,
            "not-supported",
            f"event {code!r} not supported: the gateway takes {DISCHARGE_EVENT!r}",
            f"{header.path}.eventCoding",
        )
    focus = header.resource.focus or []
    encounter = document.resolve(focus[0], header) if focus else None
    if encounter is None or not isinstance(encounter.resource, Encounter):
        raise _required(f"{header.path}.focus", "must reference the Encounter in the Bundle")
    source = header.resource.source
    return _discharge(encounter, document, hospitals, source.name if source else None)


def _resource_type(doc: object) -> str | None:
    if not isinstance(doc, dict):
        raise FhirError(400, "structure", "the body must be a FHIR resource: a JSON object")
    kind = doc.get("resourceType")
    return kind if isinstance(kind, str) else None


R = TypeVar("R", bound=FHIRResourceModel)


def _parse(model: type[R], doc: object) -> R:
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        expression = _fhirpath(model.__name__, error["loc"])
        code = (
            "required"
            if "required" in error["msg"] or error["type"] == "missing"
            else ("structure")
        )
        raise FhirError(400, code, f"{expression}: {error['msg']}", expression) from None


def _fhirpath(root: str, loc: Sequence[int | str]) -> str:
    path = root
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part == "resource_type":
            path += ".resourceType"
        elif part == "class_fhir":
            path += ".class"
        else:
            path += f".{part}"
    return path


def _bundle(bundle: Bundle) -> _Document:
    return _Document(
        [
            (entry.fullUrl, _Located(entry.resource, f"Bundle.entry[{index}].resource"))
            for index, entry in enumerate(bundle.entry or [])
            if entry.resource is not None
        ]
    )


# --- the Encounter ------------------------------------------------------------------------


def _discharge(
    located: _Located,
    document: _Document,
    hospitals: Mapping[str, str],
    source_name: str | None = None,
) -> DischargeNotice:
    encounter: Encounter = located.resource
    path = located.path
    status = encounter.status
    if status == "finished":
        hospitalization = encounter.hospitalization
        if hospitalization is None or hospitalization.dischargeDisposition is None:
            raise _required(
                f"{path}.hospitalization.dischargeDisposition",
                "a finished Encounter must say where the patient was discharged to",
            )
    elif status not in EXPECTED_STATUSES:
        raise FhirError(
            422,
            "not-supported",
            f"status {status!r} not supported: send 'in-progress' with period.end (the "
            "expected discharge) or 'finished' with the discharge",
            f"{path}.status",
        )
    end = encounter.period.end if encounter.period is not None else None
    if end is None:
        raise _required(f"{path}.period.end", "the expected or actual discharge date/time")
    # fhir.resources gives a datetime, a date for a day, and the text of a month or a year.
    if not isinstance(end, date):
        raise FhirError(
            422,
            "value",
            f"{path}.period.end: {end!r} is not precise to the day",
            f"{path}.period.end",
        )
    at = end if isinstance(end, datetime) else start_of_day(end)
    patient = document.resolve(encounter.subject, located)
    if patient is None or not isinstance(patient.resource, Patient):
        raise _required(
            f"{path}.subject", "must reference the Patient, contained (#id) or in the Bundle"
        )
    person = _Person(patient)
    assessment, assessment_fields = _assessment(document, located)
    data = {
        "hospital_id": _hospital(located, document, hospitals, source_name),
        "discharge_ref": _visit_number(encounter),
        "ward": _ward(located, document),
        "expected_discharge_at": at,
        "patient": person.fields(),
        "caregiver": person.caregiver(),
        "assessment": assessment,
    }
    fields = {
        **assessment_fields,
        ("hospital_id",): (
            f"{path}.serviceProvider",
            "the hospital: an Organization with an identifier, or MessageHeader.source.name",
        ),
        ("discharge_ref",): (f"{path}.identifier", "the visit number"),
        ("ward",): (f"{path}.location", "the ward: a location with a display or a name"),
        ("expected_discharge_at",): (f"{path}.period.end", "the discharge date/time"),
        **person.expressions(),
    }
    try:
        announcement = DischargeAnnounced.model_validate(data)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        loc = tuple(str(p) for p in error["loc"])
        expression, label = fields.get(loc, (".".join(loc), ""))
        if error["type"] == "missing" or error.get("input", "") is None:
            raise _required(expression, f"{label} is required") from None
        named = f"{expression} ({label})" if label else expression
        raise FhirError(422, "value", f"{named}: {error['msg']}", expression) from None
    return DischargeNotice(announcement, actual=status == "finished")


def _assessment(
    document: _Document, encounter: _Located
) -> tuple[dict[str, Any] | None, dict[tuple[str, ...], tuple[str, str]]]:
    """The ward's assessment: the one QuestionnaireResponse of ``QUESTIONNAIRE`` in the
    Bundle (``None`` without one), and where its fields come from."""
    responses = [
        e
        for _, e in document.entries
        if isinstance(e.resource, QuestionnaireResponse)
        and (e.resource.questionnaire or "").split("|")[0] == QUESTIONNAIRE
    ]
    if not responses:
        return None, {}
    if len(responses) > 1:
        raise FhirError(
            422,
            "invariant",
            f"the Bundle holds {len(responses)} responses to {QUESTIONNAIRE}; send one",
            "Bundle.entry",
        )
    located = responses[0]
    response: QuestionnaireResponse = located.resource
    path = located.path
    if response.status not in ANSWERED:
        raise FhirError(
            422,
            "not-supported",
            f"{path}.status: {response.status!r}; send the checklist once 'completed'",
            f"{path}.status",
        )
    reference = response.encounter
    if reference is not None and reference.reference:
        target = document.resolve(reference, located)
        if target is None or target.resource is not encounter.resource:
            raise FhirError(
                422,
                "invariant",
                f"{path}.encounter: must reference the Encounter of the Bundle",
                f"{path}.encounter",
            )
    answers: dict[str, str] = {}
    found: dict[str, Any] = {}
    fields: dict[tuple[str, ...], tuple[str, str]] = {}
    for item, at in _items(response.item or [], f"{path}.item"):
        if not item.answer:
            continue
        answer, at = item.answer[0], f"{at}.answer[0]"
        link = item.linkId or ""
        if _REQUIREMENT_LINK.fullmatch(link):
            text = answer.valueCoding.code if answer.valueCoding else answer.valueString
            value = answer_value(text or "")
            if value is None:
                raise FhirError(
                    422, "value", f"{at}: {text!r} is no answer: yes, partial or no", at
                )
            answers[link] = value.value
        elif link == BRASS_LINK:
            found["brass_score"] = _given(answer.valueInteger, f"{at}.valueInteger", "0–40")
            fields[("assessment", "brass_score")] = (f"{at}.valueInteger", "the BRASS score")
        elif link == CONSENT_LINK:
            found["consent"] = _given(answer.valueBoolean, f"{at}.valueBoolean", "true/false")
        elif link == NOTES_LINK:
            found["notes"] = answer.valueString
            fields[("assessment", "notes")] = (f"{at}.valueString", "the notes")
    return {"answers": answers, **found}, fields


def _items(
    items: Sequence[QuestionnaireResponseItem], path: str
) -> Iterator[tuple[QuestionnaireResponseItem, str]]:
    """Every item, groups' items included, with its FHIRPath."""
    for index, item in enumerate(items):
        yield item, f"{path}[{index}]"
        yield from _items(item.item or [], f"{path}[{index}].item")


def _given(value: Any, expression: str, kind: str) -> Any:
    if value is None:
        raise _required(expression, f"the answer ({kind})")
    return value


def _visit_number(encounter: Encounter) -> str | None:
    identifiers = [i for i in encounter.identifier or [] if i.value]
    typed = [
        i
        for i in identifiers
        if i.type is not None and any(c.code == VISIT_NUMBER for c in i.type.coding or [])
    ]
    official = [i for i in identifiers if i.use == "official"]
    chosen = typed or official or identifiers
    return str(chosen[0].value) if chosen else None


def _ward(located: _Located, document: _Document) -> str | None:
    places = located.resource.location or []
    if not places:
        return None
    reference = places[0].location
    if reference.display:
        return str(reference.display)
    place = document.resolve(reference, located)
    if place is not None and isinstance(place.resource, Location) and place.resource.name:
        return str(place.resource.name)
    return None


def _hospital(
    located: _Located,
    document: _Document,
    hospitals: Mapping[str, str],
    source_name: str | None,
) -> str | None:
    reference = located.resource.serviceProvider
    code = None
    if reference is not None:
        organization = document.resolve(reference, located)
        if organization is not None and isinstance(organization.resource, Organization):
            code = next((i.value for i in organization.resource.identifier or [] if i.value), None)
        if code is None and reference.identifier is not None:
            code = reference.identifier.value
    code = code or source_name
    return (hospital_id_for(code, hospitals) or None) if code else None


class _Person:
    """The Patient's fields for the contract, and where each comes from."""

    def __init__(self, located: _Located) -> None:
        self.patient: Patient = located.resource
        self.path = located.path
        addresses = self.patient.address or []
        homes = [i for i, a in enumerate(addresses) if a.use == "home"]
        self.address_index = homes[0] if homes else 0
        self.address = addresses[self.address_index] if addresses else None

    def fields(self) -> dict[str, Any]:
        names = self.patient.name or []
        name = next(
            (n for n in names if n.use in ("official", "usual")), names[0] if names else None
        )
        return {
            "fiscal_code": self.fiscal_code(),
            "given_name": (name.given or [None])[0] if name else None,
            "family_name": name.family if name else None,
            "birth_date": self.patient.birthDate,
            "municipality_code": self.municipality_code(),
            "address": self.address_text(),
            "phone": _phone(self.patient.telecom),
        }

    def expressions(self) -> dict[tuple[str, ...], tuple[str, str]]:
        """Where each patient field comes from (FHIRPath), and what it is."""
        p = self.path
        address = f"{p}.address[{self.address_index}]" if self.address else f"{p}.address"
        return {
            ("patient", "fiscal_code"): (
                f"{p}.identifier",
                "the codice fiscale: an identifier with system http://hl7.it/sid/codiceFiscale",
            ),
            ("patient", "given_name"): (f"{p}.name.given", "the given name"),
            ("patient", "family_name"): (f"{p}.name.family", "the family name"),
            ("patient", "birth_date"): (f"{p}.birthDate", "the birth date"),
            ("patient", "municipality_code"): (
                f"{address}.city.extension('{SC_CODING}')",
                "the ISTAT code of the municipality of residence (or a six-digit district)",
            ),
            ("patient", "address"): (address, "the home address"),
            ("patient", "phone"): (f"{p}.telecom", "the phone"),
            ("caregiver", "name"): (f"{p}.contact[0].name", "the caregiver's name"),
            ("caregiver", "phone"): (f"{p}.contact[0].telecom", "the caregiver's phone"),
        }

    def fiscal_code(self) -> str | None:
        identifiers = [i for i in self.patient.identifier or [] if i.value]
        for identifier in identifiers:
            if identifier.system in FISCAL_CODE_SYSTEMS:
                return str(identifier.value)
        for identifier in identifiers:
            try:
                return _fiscal_codes.validate_python(identifier.value)
            except ValidationError:
                continue
        return None

    def municipality_code(self) -> str | None:
        address = self.address
        if address is None:
            return None
        city_extensions = address.city__ext.extension if address.city__ext is not None else None
        for extension in city_extensions or []:
            coding = extension.valueCoding if extension.url == SC_CODING else None
            if coding is not None and coding.code and coding.system in (ISTAT_COMUNI, None):
                return str(coding.code)
        if address.district and _ISTAT.fullmatch(address.district):
            return str(address.district)
        return None

    def address_text(self) -> str | None:
        address = self.address
        if address is None:
            return None
        if address.line:
            street = ", ".join(str(line) for line in address.line)
            locality = " ".join(p for p in (address.postalCode, address.city) if p)
            province = (
                address.district if address.district and not address.district.isdigit() else None
            )
            if locality and province:
                locality += f" ({province})"
            return ", ".join(p for p in (street, locality) if p)
        return str(address.text) if address.text else None

    def caregiver(self) -> dict[str, Any]:
        contacts = self.patient.contact or []
        if not contacts:
            return {"present": False}
        contact = contacts[0]
        name = None
        if contact.name is not None:
            given = " ".join(str(g) for g in contact.name.given or [])
            name = " ".join(p for p in (given, contact.name.family) if p) or contact.name.text
        return {"present": True, "name": name or None, "phone": _phone(contact.telecom)}


def _phone(telecom: Sequence[Any] | None) -> str | None:
    return next((str(t.value) for t in telecom or [] if t.system == "phone" and t.value), None)


# --- back to the hospital ---------------------------------------------------------------------


def postponement_task(task_id: str, data: DischargePostponementRequested) -> dict[str, Any]:
    """The FHIR Task asking the ward to postpone the discharge until ``postpone_until``: for
    the visit (``encounter`` by its visit number), owned by the hospital, the reason in
    Italian. Built with the R4B model, so what the hospital fetches is valid FHIR."""
    waiting = ", ".join(SERVICE_NAMES.get(s, s.value) for s in data.waiting_for)
    until = data.postpone_until.strftime("%d/%m/%Y")
    visit = {
        "type": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": VISIT_NUMBER}
            ]
        },
        "value": data.discharge_ref,
    }
    task = Task.model_validate(
        {
            "resourceType": "Task",
            "id": task_id,
            "identifier": [{"system": "urn:dp:fhir:discharge-postponement", "value": task_id}],
            "status": "requested",
            "intent": "proposal",
            "priority": "urgent",
            "code": {
                "coding": [
                    {
                        "system": TASK_CODES,
                        "code": POSTPONE_DISCHARGE,
                        "display": "Rinviare la dimissione",
                    }
                ],
                "text": "Rinvio della dimissione protetta",
            },
            "description": (
                f"L'équipe della dimissione protetta chiede di rinviare la dimissione al "
                f"{until}: prima non potranno essere attivi {waiting}."
            ),
            "encounter": {"identifier": visit},
            "focus": {"identifier": visit},
            "authoredOn": data.requested_at.isoformat(),
            "requester": {
                "identifier": {"system": "urn:dp:operator", "value": data.requested_by},
                "display": "Équipe dimissioni protette",
            },
            "owner": {"identifier": {"system": "urn:dp:hospital", "value": data.hospital_id}},
            "reasonCode": {"text": f"Servizi non ancora attivabili: {waiting}"},
            "restriction": {"period": {"start": data.postpone_until.isoformat()}},
        }
    )
    return dict(task.model_dump(mode="json", exclude_none=True))


def searchset(resources: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A search's answer: a ``searchset`` Bundle of the resources found."""
    bundle = Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(resources),
            "entry": [{"resource": r, "search": {"mode": "match"}} for r in resources],
        }
    )
    return dict(bundle.model_dump(mode="json", exclude_none=True))
