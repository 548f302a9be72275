"""The ward's assessment through FHIR (a QuestionnaireResponse in the Bundle), A08 details for
an open case, and the Task that asks a hospital to postpone a discharge: pure, no I/O."""

from __future__ import annotations

import copy
from datetime import date, datetime
from typing import Any

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.task import Task

from cerniera.gateway import fhir
from cerniera.gateway.domain import (
    DetailsNotice,
    Visit,
    VisitStatus,
    answer_value,
    on_details,
)
from cerniera.gateway.fhir import FhirError
from cerniera.shared.clock import ROME
from cerniera.shared.contract import (
    AnswerValue,
    Assessment,
    DischargePostponementRequested,
    PatientDetailsUpdated,
    ServiceType,
)
from support.gateway_samples import (
    QUESTIONNAIRE,
    QUESTIONNAIRE_BUNDLE,
    QUESTIONNAIRE_CASE,
    fhir_resource,
)

Doc = dict[str, Any]


def bundle() -> Doc:
    return copy.deepcopy(fhir_resource(QUESTIONNAIRE_BUNDLE))


def response_of(doc: Doc) -> Doc:
    found: Doc = doc["entry"][2]["resource"]
    return found


def item(doc: Doc, link: str) -> Doc:
    def walk(items: list[Doc]) -> Doc | None:
        for entry in items:
            if entry["linkId"] == link:
                return entry
            found = walk(entry.get("item", []))
            if found is not None:
                return found
        return None

    found = walk(response_of(doc)["item"])
    assert found is not None
    return found


def problem(doc: Doc) -> FhirError:
    with pytest.raises(FhirError) as raised:
        fhir.read_encounter(doc, {})
    return raised.value


# --- the Questionnaire and its answers --------------------------------------------------------


def test_the_questionnaire_sample_is_valid_fhir_with_the_documented_link_ids() -> None:
    questionnaire = Questionnaire.model_validate(fhir_resource(QUESTIONNAIRE))
    assert questionnaire.url == fhir.QUESTIONNAIRE
    [group, brass, consent, notes] = questionnaire.item or []
    requirements = group.item or []
    assert [i.linkId for i in requirements] == [f"R{n}" for n in range(1, 10)]
    assert (brass.linkId, brass.type) == (fhir.BRASS_LINK, "integer")
    assert (consent.linkId, consent.type) == (fhir.CONSENT_LINK, "boolean")
    assert (notes.linkId, notes.type) == (fhir.NOTES_LINK, "text")
    codes = {o.valueCoding.code for o in requirements[0].answerOption or [] if o.valueCoding}
    assert codes == {"yes", "partial", "no"}


def test_a_questionnaire_response_in_the_bundle_is_the_announcement_s_assessment() -> None:
    data = fhir.read_encounter(bundle(), {}).announcement
    assert data.case_id == QUESTIONNAIRE_CASE
    assert data.assessment == Assessment(
        answers={
            "R1": "yes",
            "R2": "no",
            "R3": "yes",
            "R4": "partial",
            "R5": "yes",
            "R6": "yes",
            "R7": "yes",
            "R8": "yes",
            "R9": "partial",
        },
        brass_score=17,
        consent=True,
        notes="Vive solo al terzo piano con ascensore; il nipote passa la domenica.",
    )


def test_a_bundle_without_the_questionnaire_response_has_no_assessment() -> None:
    doc = bundle()
    response_of(doc)["questionnaire"] = "http://example.org/Questionnaire/another"
    assert fhir.read_encounter(doc, {}).announcement.assessment is None


def test_answers_may_be_written_as_the_ward_says_them() -> None:
    doc = bundle()
    item(doc, "R4")["answer"] = [{"valueString": "Parz."}]
    assessment = fhir.read_encounter(doc, {}).announcement.assessment
    assert assessment is not None
    assert assessment.answers["R4"] is AnswerValue.PARTIAL


@pytest.mark.parametrize(
    ("change", "status", "code", "expression"),
    [
        (
            lambda doc: item(doc, "R2").update(answer=[{"valueString": "forse"}]),
            422,
            "value",
            "Bundle.entry[2].resource.item[0].item[1].answer[0]",
        ),
        (
            lambda doc: item(doc, "brass").update(answer=[{"valueInteger": 41}]),
            422,
            "value",
            "Bundle.entry[2].resource.item[1].answer[0].valueInteger",
        ),
        (
            lambda doc: item(doc, "consent").update(answer=[{"valueString": "sì"}]),
            422,
            "required",
            "Bundle.entry[2].resource.item[2].answer[0].valueBoolean",
        ),
        (
            lambda doc: response_of(doc).update(status="in-progress"),
            422,
            "not-supported",
            "Bundle.entry[2].resource.status",
        ),
        (
            lambda doc: response_of(doc).update(encounter={"reference": "Encounter/other"}),
            422,
            "invariant",
            "Bundle.entry[2].resource.encounter",
        ),
        (
            lambda doc: doc["entry"].append(copy.deepcopy(doc["entry"][2])),
            422,
            "invariant",
            "Bundle.entry",
        ),
    ],
)
def test_a_wrong_assessment_is_refused_naming_the_element(
    change: Any, status: int, code: str, expression: str
) -> None:
    doc = bundle()
    change(doc)
    error = problem(doc)
    assert (error.status, error.code, error.expression) == (status, code, expression)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Y", AnswerValue.YES),
        ("Sì", AnswerValue.YES),
        ("si", AnswerValue.YES),
        ("yes", AnswerValue.YES),
        ("P", AnswerValue.PARTIAL),
        ("Parz.", AnswerValue.PARTIAL),
        ("parzialmente", AnswerValue.PARTIAL),
        ("N", AnswerValue.NO),
        ("No", AnswerValue.NO),
        ("forse", None),
        ("", None),
    ],
)
def test_answer_values_as_wards_write_them(text: str, value: AnswerValue | None) -> None:
    assert answer_value(text) is value


# --- A08 -------------------------------------------------------------------------------------

UPDATE = PatientDetailsUpdated(
    hospital_id="asst-vimercate", discharge_ref="V1", address="Via Torino 15, 20835 Muggiò (MB)"
)


def visit(status: VisitStatus) -> Visit:
    at = datetime(2026, 12, 4, 11, 0, tzinfo=ROME)
    return Visit("asst-vimercate:V1", "CRTNNA41E47F704K", at, status, "chain")


def test_details_of_an_open_case_are_published_and_the_visit_is_unchanged() -> None:
    outcome = on_details(visit(VisitStatus.OPEN), DetailsNotice(UPDATE))
    [change] = outcome.changes
    assert (change.visit, change.event) == (visit(VisitStatus.OPEN), UPDATE)
    assert outcome.summary == "PatientDetailsUpdated for asst-vimercate:V1"


@pytest.mark.parametrize("status", [None, VisitStatus.CANCELLED, VisitStatus.CLOSED])
def test_details_of_no_open_case_change_nothing(status: VisitStatus | None) -> None:
    outcome = on_details(visit(status) if status else None, DetailsNotice(UPDATE))
    assert outcome.changes == []
    assert "not an open case" in outcome.summary


# --- the Task back to the hospital ------------------------------------------------------------

POSTPONE = DischargePostponementRequested(
    case_id="asst-vimercate:V2026-002201",
    hospital_id="asst-vimercate",
    discharge_ref="V2026-002201",
    postpone_until=date(2026, 12, 9),
    waiting_for=[ServiceType.MEALS, ServiceType.EMERGENCY_ALARM],
    requested_by="op-lbianchi",
    requested_at=datetime(2026, 12, 2, 11, 0, tzinfo=ROME),
)
TASK_ID = "5b0f6a3e-2c1d-4e8a-9f7b-3d2a1c0e9b84"


def test_a_postponement_is_a_requested_task_for_the_visit_until_the_day() -> None:
    resource = fhir.postponement_task(TASK_ID, POSTPONE)
    task = Task.model_validate(resource)  # valid FHIR
    assert (task.id, task.status, task.intent) == (TASK_ID, "requested", "proposal")
    [coding] = task.code.coding if task.code and task.code.coding else []
    assert (coding.system, coding.code) == (fhir.TASK_CODES, "postpone-discharge")
    assert resource["encounter"]["identifier"]["value"] == "V2026-002201"
    assert resource["owner"]["identifier"]["value"] == "asst-vimercate"
    assert resource["restriction"]["period"]["start"] == "2026-12-09"
    assert resource["authoredOn"] == "2026-12-02T11:00:00+01:00"
    # In Italian, for the ward: the day and the services it waits for.
    assert "rinviare la dimissione al 09/12/2026" in resource["description"]
    assert resource["reasonCode"]["text"] == (
        "Servizi non ancora attivabili: pasti a domicilio, telesoccorso"
    )


def test_a_searchset_bundle_holds_the_tasks() -> None:
    task = fhir.postponement_task(TASK_ID, POSTPONE)
    found = fhir.searchset([task])
    assert (found["type"], found["total"]) == ("searchset", 1)
    assert found["entry"][0]["resource"] == task
    assert fhir.searchset([])["total"] == 0
