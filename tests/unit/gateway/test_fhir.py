"""FHIR R4 (R4B models) → notices and OperationOutcomes, from the sample resources: pure."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from fhir.resources.R4B.operationoutcome import OperationOutcome

from cerniera.gateway import fhir
from cerniera.gateway.domain import DischargeNotice
from cerniera.gateway.fhir import FhirError
from cerniera.shared.clock import ROME
from cerniera.shared.contract import Caregiver, Patient
from support.gateway_samples import (
    DAVINCI_CASE,
    DAVINCI_DISCHARGE,
    ENCOUNTER_FINISHED,
    ENCOUNTER_IN_PROGRESS,
    FHIR_CASE,
    fhir_resource,
)

CET = timezone(timedelta(hours=1))
COLOMBO = Patient(
    fiscal_code="CLMRSO36S54F797I",
    given_name="Rosa",
    family_name="Colombo",
    birth_date=date(1936, 11, 14),
    municipality_code="108034",  # Muggiò, from the ISTAT coding on address.city
    address="Via Cavour 31, 20835 Muggiò (MB)",
    phone="039 7890342",
)

Doc = dict[str, Any]


def encounter(change: Callable[[Doc], object] | None = None) -> Doc:
    doc = copy.deepcopy(fhir_resource(ENCOUNTER_IN_PROGRESS))
    if change is not None:
        change(doc)
    return doc


def patient_of(doc: Doc) -> Doc:
    contained: Doc = doc["contained"][0]
    return contained


def problem(doc: object, read: Callable[..., DischargeNotice] = fhir.read_encounter) -> FhirError:
    with pytest.raises(FhirError) as raised:
        read(doc, {})
    return raised.value


# --- the samples ----------------------------------------------------------------------------


def test_encounter_in_progress_with_contained_patient_is_an_expected_discharge() -> None:
    notice = fhir.read_encounter(encounter(), {})
    data = notice.announcement
    assert not notice.actual
    assert data.case_id == FHIR_CASE  # serviceProvider → #hospital → IRCCS_SAN_GERARDO
    assert data.ward == "Geriatria"
    assert data.expected_discharge_at == datetime(2026, 11, 28, 10, 0, tzinfo=CET)
    assert data.patient == COLOMBO
    assert data.caregiver == Caregiver(present=False)  # no Patient.contact


def test_finished_encounter_in_a_bundle_is_the_actual_discharge() -> None:
    notice = fhir.read_encounter(fhir_resource(ENCOUNTER_FINISHED), {})
    data = notice.announcement
    assert notice.actual
    assert data.case_id == FHIR_CASE  # the same visit as the in-progress sample
    assert data.expected_discharge_at == datetime(2026, 11, 29, 11, 30, tzinfo=CET)
    assert data.patient == COLOMBO
    assert data.caregiver == Caregiver(present=True, name="Davide Colombo", phone="+39 340 2271956")


def test_davinci_notification_bundle_follows_the_message_header_focus() -> None:
    notice = fhir.read_notification(fhir_resource(DAVINCI_DISCHARGE), {})
    data = notice.announcement
    assert notice.actual
    assert data.case_id == DAVINCI_CASE  # hospital from MessageHeader.source.name
    assert data.ward == "Ortopedia e Traumatologia"
    assert data.patient.fiscal_code == "RNCNGL39A30L677G"
    assert data.patient.municipality_code == "108045"  # Varedo
    assert data.expected_discharge_at == datetime(2026, 11, 24, 14, 45, tzinfo=CET)


def test_hospital_map_applies_to_fhir_senders_too() -> None:
    notice = fhir.read_encounter(encounter(), {"IRCCS_SAN_GERARDO": "san-gerardo-monza"})
    assert notice.announcement.hospital_id == "san-gerardo-monza"


# --- choices ------------------------------------------------------------------------------


def test_a_six_digit_district_is_the_istat_code_when_city_carries_none() -> None:
    def change(doc: Doc) -> None:
        address = patient_of(doc)["address"][0]
        del address["_city"]
        address["district"] = "108034"

    patient = fhir.read_encounter(encounter(change), {}).announcement.patient
    assert patient.municipality_code == "108034"
    assert patient.address == "Via Cavour 31, 20835 Muggiò"  # a code is no province


def test_fiscal_code_without_its_system_is_the_first_identifier_that_is_one() -> None:
    def change(doc: Doc) -> None:
        patient_of(doc)["identifier"] = [
            {"system": "urn:oid:2.16.840.1.113883.2.9.4.3.99.1", "value": "SG-0091784"},
            {"value": "clmrso36s54f797i"},
        ]

    patient = fhir.read_encounter(encounter(change), {}).announcement.patient
    assert patient.fiscal_code == "CLMRSO36S54F797I"


def test_the_visit_number_is_the_identifier_typed_vn() -> None:
    def change(doc: Doc) -> None:
        doc["identifier"].insert(0, {"system": "urn:x:episode", "value": "EP-1"})

    assert fhir.read_encounter(encounter(change), {}).announcement.discharge_ref == "SG-2026-55871"


def test_a_date_only_end_is_the_start_of_that_day_in_italy() -> None:
    doc = encounter(lambda d: d["period"].update(end="2026-11-28"))
    at = fhir.read_encounter(doc, {}).announcement.expected_discharge_at
    assert at == datetime(2026, 11, 28, 0, 0, tzinfo=ROME)


# --- problems -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "code", "expression", "words"),
    [
        (
            lambda d: patient_of(d)["identifier"][0].update(value="CLMRSO36S54F797X"),
            "value",
            "Encounter.contained[0].identifier",
            "invalid codice fiscale",
        ),
        (lambda d: d.pop("period"), "required", "Encounter.period.end", "discharge date/time"),
        (
            lambda d: d["period"].update(end="2026-11"),
            "value",
            "Encounter.period.end",
            "not precise to the day",
        ),
        (lambda d: d.update(status="planned"), "not-supported", "Encounter.status", "planned"),
        (
            lambda d: patient_of(d)["address"][0].pop("_city"),
            "required",
            "Encounter.contained[0].address[0].city.extension("
            "'http://hl7.org/fhir/StructureDefinition/iso21090-SC-coding')",
            "ISTAT",
        ),
        (
            lambda d: d.update(subject={"reference": "#someone-else"}),
            "required",
            "Encounter.subject",
            "Patient",
        ),
        (
            lambda d: patient_of(d).pop("birthDate"),
            "required",
            "Encounter.contained[0].birthDate",
            "birth date",
        ),
        (lambda d: d.pop("serviceProvider"), "required", "Encounter.serviceProvider", "hospital"),
        (lambda d: d.pop("identifier"), "required", "Encounter.identifier", "visit number"),
        (lambda d: d.pop("location"), "required", "Encounter.location", "ward"),
        (
            lambda d: d.update(status="finished"),
            "required",
            "Encounter.hospitalization.dischargeDisposition",
            "discharged to",
        ),
        # Control characters: no service could keep them (a NUL cannot even be stored), so
        # the gateway refuses them instead of answering 202 for a case that never starts.
        (
            lambda d: patient_of(d)["name"][0].update(family="Colo\x00mbo"),
            "value",
            "Encounter.contained[0].name.family",
            "family name",
        ),
        (
            lambda d: d["location"][0]["location"].update(display="Medicina\x1bgenerale"),
            "value",
            "Encounter.location",
            "ward",
        ),
        (
            lambda d: d["identifier"][0].update(value="SG-2026\x00-55871"),
            "value",
            "Encounter.identifier",
            "visit number",
        ),
    ],
)
def test_valid_fhir_that_lacks_what_a_discharge_needs_is_a_422_naming_the_element(
    change: Callable[[Doc], object], code: str, expression: str, words: str
) -> None:
    error = problem(encounter(change))
    assert (error.status, error.code, error.expression) == (422, code, expression)
    assert words in error.diagnostics


@pytest.mark.parametrize(
    ("doc", "code", "expression", "words"),
    [
        (
            encounter(lambda d: d["period"].update(end="next friday")),
            "structure",
            "Encounter.period.end",
            "DateTime",
        ),
        (
            encounter(lambda d: d["class"].update(code=7)),
            "structure",
            "Encounter.class.code",
            "string",
        ),
        (encounter(lambda d: d.pop("status")), "required", "Encounter.status", "required"),
        (
            encounter(lambda d: patient_of(d).update(birthDate="14/11/1936")),
            "structure",
            "Encounter.contained[0].birthDate",
            "Date",
        ),
        ({"resourceType": "Patient"}, "not-supported", "resourceType", "Encounter or a Bundle"),
        (["not", "a", "resource"], "structure", None, "JSON object"),
    ],
)
def test_invalid_fhir_is_a_400_naming_the_element(
    doc: object, code: str, expression: str | None, words: str
) -> None:
    error = problem(doc)
    assert (error.status, error.code, error.expression) == (400, code, expression)
    assert words in error.diagnostics


def test_a_bundle_with_two_encounters_is_refused() -> None:
    bundle = fhir_resource(ENCOUNTER_FINISHED)
    bundle["entry"].append(copy.deepcopy(bundle["entry"][0]))
    error = problem(bundle)
    assert (error.status, error.expression) == (422, "Bundle.entry")


def test_a_notification_about_another_event_is_not_supported() -> None:
    bundle = fhir_resource(DAVINCI_DISCHARGE)
    bundle["entry"][0]["resource"]["eventCoding"]["code"] = "notification-admit"
    error = problem(bundle, fhir.read_notification)
    assert (error.status, error.code) == (422, "not-supported")
    assert error.expression == "Bundle.entry[0].resource.eventCoding"


def test_a_notification_must_be_a_message_bundle_with_its_header_first() -> None:
    not_message = fhir_resource(DAVINCI_DISCHARGE) | {"type": "collection"}
    assert problem(not_message, fhir.read_notification).expression == "Bundle.type"
    reordered = fhir_resource(DAVINCI_DISCHARGE)
    reordered["entry"].reverse()
    assert problem(reordered, fhir.read_notification).expression == "Bundle.entry[0].resource"


def test_a_notification_whose_focus_is_missing_names_the_focus() -> None:
    bundle = fhir_resource(DAVINCI_DISCHARGE)
    bundle["entry"][0]["resource"]["focus"] = [{"reference": "urn:uuid:nowhere"}]
    assert problem(bundle, fhir.read_notification).expression == ("Bundle.entry[0].resource.focus")


def test_a_patient_in_a_bundle_is_named_by_its_entry() -> None:
    bundle = fhir_resource(ENCOUNTER_FINISHED)
    bundle["entry"][1]["resource"]["identifier"][0]["value"] = "CLMRSO36S54F797X"
    assert problem(bundle).expression == "Bundle.entry[1].resource.identifier"


def test_a_body_is_loaded_as_json_or_refused_as_a_structural_error() -> None:
    assert fhir.load(b'{"resourceType": "Encounter"}') == {"resourceType": "Encounter"}
    with pytest.raises(FhirError) as raised:
        fhir.load(b"{not json")
    assert (raised.value.status, raised.value.code) == (400, "structure")
    assert raised.value.diagnostics.startswith("the body is not JSON: ")


def test_the_operation_outcome_is_a_valid_r4_resource() -> None:
    outcome = problem(encounter(lambda d: d.pop("period"))).outcome()
    OperationOutcome.model_validate(outcome)  # raises if not
    assert outcome["issue"] == [
        {
            "severity": "error",
            "code": "required",
            "diagnostics": "Encounter.period.end: the expected or actual discharge date/time",
            "expression": ["Encounter.period.end"],
        }
    ]
