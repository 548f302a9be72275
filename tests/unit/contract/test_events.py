"""Event models of the public contract: names, topics, examples, and JSON round trips."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from cerniera.shared.contract import (
    EVENT_TYPES,
    PER_PROVIDER_TOPICS,
    TOPIC_NAMES,
    Assessment,
    Beneficiary,
    BudgetThresholdReached,
    Caregiver,
    DischargeAnnounced,
    DischargeCancelled,
    DischargeRescheduled,
    EligibilityRejected,
    EventData,
    HoursDelivered,
    Patient,
    PatientReadmitted,
    Reason,
    ServiceActivated,
    ServiceActivationAccepted,
    ServiceActivationDeclined,
    ServiceActivationRequested,
    ServiceDeactivated,
    ServiceLine,
    Topics,
    WeeklyCheckDone,
    topic_events,
)

# The topic table of the contract: 24 event types on seven topics (names without prefix; two
# of them are one topic per provider), copies included.
CONTRACT: dict[str, list[str]] = {
    "hospital.discharges": [
        "DischargeAnnounced",
        "DischargeRescheduled",
        "DischargeCancelled",
        "PatientReadmitted",
        "PatientDetailsUpdated",
    ],
    "intake.cases": [
        "EligibilityConfirmed",
        "EligibilityRejected",
        "PlanRevised",
        "NetworkTaskOpened",
        "NetworkTaskCompleted",
    ],
    "activation.services": [
        "ServiceActivated",
        "ServiceActivationEscalated",
        "EscalationResolved",
        "DischargePostponementRequested",
        "ServiceDeactivated",
    ],
    "activation.requests": ["ServiceActivationRequested", "ServiceDeactivated"],
    "providers.reports": [
        "ServiceActivationAccepted",
        "ServiceActivationDeclined",
        "HoursDelivered",
    ],
    "monitoring.cases": ["WeeklyCheckDone", "CaseHandedOver", "CaseClosed"],
    "billing.ledger": ["BudgetThresholdReached", "ProviderStatementIssued"],
}
NESTED: list[type[BaseModel]] = [
    Patient,
    Caregiver,
    Assessment,
    ServiceLine,
    Beneficiary,
    Reason,
]


def _examples(model: type[EventData]) -> list[dict[str, Any]]:
    examples = model.model_json_schema()["examples"]
    assert isinstance(examples, list)
    return examples


def _example(model: type[EventData]) -> dict[str, Any]:
    return dict(_examples(model)[0])


ALL_EXAMPLES = [
    pytest.param(model, example, id=f"{name}-{index}")
    for name, model in EVENT_TYPES.items()
    for index, example in enumerate(_examples(model))
]


# --- registry ----------------------------------------------------------------------------


def test_registry_covers_every_contract_event_type() -> None:
    expected = {name for names in CONTRACT.values() for name in names}
    assert len(expected) == 24
    assert set(EVENT_TYPES) == expected
    for name, model in EVENT_TYPES.items():
        assert model.event_type == name


@pytest.mark.parametrize(("topic", "names"), CONTRACT.items())
def test_events_are_on_their_contract_topic(topic: str, names: list[str]) -> None:
    assert [model.event_type for model in topic_events(topic)] == names
    assert all(topic in (m.topic, *m.copied_to) for m in topic_events(topic))


def test_topic_events_rejects_unknown_or_prefixed_topic() -> None:
    with pytest.raises(ValueError, match="unknown topic"):
        topic_events("dp.intake.cases")


# --- examples and round trips -----------------------------------------------------------


@pytest.mark.parametrize(("model", "example"), ALL_EXAMPLES)
def test_example_round_trips_through_json(model: type[EventData], example: dict[str, Any]) -> None:
    event = model.model_validate(example)
    wire = event.model_dump_json()
    assert model.model_validate_json(wire) == event
    assert model.model_validate_json(wire).model_dump_json() == wire


@pytest.mark.parametrize("model", [*EVENT_TYPES.values(), *NESTED])
def test_every_field_is_documented_with_examples(model: type[BaseModel]) -> None:
    for name, field in model.model_fields.items():
        assert field.description, f"{model.__name__}.{name} has no description"
        assert field.examples, f"{model.__name__}.{name} has no examples"


@pytest.mark.parametrize("model", EVENT_TYPES.values())
def test_json_schema_generates_in_both_modes(model: type[EventData]) -> None:
    assert model.model_json_schema(mode="validation")["title"] == model.__name__
    assert model.model_json_schema(mode="serialization")["title"] == model.__name__


def test_field_examples_validate() -> None:
    """Field-level examples end up in the generated docs, so they must be valid values."""
    for model in [*EVENT_TYPES.values(), *NESTED]:
        example = {
            name: (field.examples or [None])[0] for name, field in model.model_fields.items()
        }
        model.model_validate(example)


# --- base behaviour ----------------------------------------------------------------------


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    event = ServiceActivationAccepted.model_validate(
        {**_example(ServiceActivationAccepted), "added_in_v1_1": "ignored"}
    )
    assert "added_in_v1_1" not in event.model_dump()
    assert event == ServiceActivationAccepted.model_validate(_example(ServiceActivationAccepted))


def test_events_are_frozen() -> None:
    event = DischargeCancelled.model_validate(_example(DischargeCancelled))
    with pytest.raises(ValidationError, match="frozen"):
        event.reason = "changed"  # type: ignore[misc]  # frozen on purpose
    assert event.reason == _example(DischargeCancelled)["reason"]


def test_strings_are_stripped() -> None:
    event = DischargeRescheduled.model_validate(
        {**_example(DischargeRescheduled), "discharge_ref": "  V2024-000123 "}
    )
    assert event.discharge_ref == "V2024-000123"


@pytest.mark.parametrize("missing", ["case_id", "reasons"])
def test_required_fields_are_required(missing: str) -> None:
    data = _example(EligibilityRejected)
    del data[missing]
    with pytest.raises(ValidationError) as info:
        EligibilityRejected.model_validate(data)
    assert [(e["loc"], e["type"]) for e in info.value.errors()] == [((missing,), "missing")]


def test_rejection_needs_at_least_one_reason() -> None:
    with pytest.raises(ValidationError) as info:
        EligibilityRejected.model_validate({**_example(EligibilityRejected), "reasons": []})
    assert [e["loc"] for e in info.value.errors()] == [("reasons",)]


def test_optional_fields_default_to_none() -> None:
    event = ServiceActivationDeclined.model_validate(
        {"request_id": "r-1", "provider_id": "coop-il-melograno", "reason_code": "other"}
    )
    assert event.note is None


# --- hospital events ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "model", [DischargeAnnounced, DischargeRescheduled, DischargeCancelled, PatientReadmitted]
)
def test_hospital_events_derive_case_id(model: type[DischargeAnnounced]) -> None:
    event = model.model_validate(_example(model))
    assert event.case_id == "asst-vimercate:V2024-000123"
    assert "case_id" not in event.model_dump()


def test_discharge_announced_minimal_has_no_caregiver_or_assessment() -> None:
    data = _example(DischargeAnnounced)
    del data["caregiver"], data["assessment"]
    event = DischargeAnnounced.model_validate(data)
    assert event.caregiver is None
    assert event.assessment is None


@pytest.mark.parametrize(
    "patch",
    [
        {"hospital_id": "ASST Vimercate"},
        {"discharge_ref": "V 2024"},
        {"expected_discharge_at": "2024-10-03T10:00:00"},
        {"patient": {"fiscal_code": "RSSMRA85T10A562T"}},
        {"patient": {"municipality_code": "15130"}},
        {"assessment": {"answers": {"R0": "yes"}}},
        {"assessment": {"answers": {"Q1": "yes"}}},
        {"assessment": {"answers": {"R1": "maybe"}}},
        {"assessment": {"answers": {}, "brass_score": 41}},
    ],
)
def test_discharge_announced_rejects_invalid(patch: dict[str, Any]) -> None:
    data = _example(DischargeAnnounced)
    for key, value in patch.items():
        data[key] = {**data[key], **value} if isinstance(value, dict) else value
    with pytest.raises(ValidationError) as info:
        DischargeAnnounced.model_validate(data)
    (field,) = patch  # refused for the patched field, not for anything else
    assert {e["loc"][0] for e in info.value.errors()} == {field}


# --- money and quantities in events ------------------------------------------------------


def test_money_fields_are_strings_on_the_wire() -> None:
    event = BudgetThresholdReached.model_validate(_example(BudgetThresholdReached))
    assert event.spent == Decimal("263996.00")
    assert '"spent":"263996.00"' in event.model_dump_json()
    with pytest.raises(ValidationError):
        BudgetThresholdReached.model_validate({**_example(BudgetThresholdReached), "spent": 1.5})


def test_hours_delivered_quantity_is_a_json_number() -> None:
    event = HoursDelivered.model_validate_json(
        HoursDelivered.model_validate(_example(HoursDelivered)).model_dump_json()
    )
    assert event.quantity == Decimal("1.5")
    assert '"quantity":1.5' in event.model_dump_json()


# --- topics ------------------------------------------------------------------------------


def test_default_topic_names() -> None:
    topics = Topics()
    assert topics.hospital_discharges == "dp.hospital.discharges"
    assert topics.billing_ledger == "dp.billing.ledger"
    assert topics.all() == [f"dp.{name}" for name in TOPIC_NAMES if name not in PER_PROVIDER_TOPICS]


def test_each_provider_has_its_own_request_and_report_topics() -> None:
    topics = Topics()
    assert topics.provider_requests("coop-a") == "dp.activation.requests.coop-a"
    assert topics.provider_reports("coop-a") == "dp.providers.reports.coop-a"
    # Per provider, its dead letters too: a dead-letter copy is no more widely readable.
    assert topics.dlq(topics.provider_requests("coop-a")) == "dp.activation.requests.coop-a.dlq"
    assert topics.all(["coop-a", "coop-b", "coop-a"]) == [
        "dp.hospital.discharges",
        "dp.intake.cases",
        "dp.activation.services",
        "dp.activation.requests.coop-a",
        "dp.activation.requests.coop-b",
        "dp.providers.reports.coop-a",
        "dp.providers.reports.coop-b",
        "dp.monitoring.cases",
        "dp.billing.ledger",
    ]
    assert "dp.providers.reports.coop-b.dlq" in topics.all_with_dlq(["coop-b"])
    with pytest.raises(ValueError, match="one topic per provider"):
        topics.qualify("providers.reports")


@pytest.mark.parametrize("provider_id", ["", "coop.a", "coop a", "coop/a", "-coop", "x" * 65])
def test_a_provider_id_that_cannot_name_a_topic_is_refused(provider_id: str) -> None:
    with pytest.raises(ValueError, match="provider id"):
        Topics().provider_requests(provider_id)
    with pytest.raises(ValidationError):
        ServiceActivationAccepted.model_validate(
            {**_example(ServiceActivationAccepted), "provider_id": provider_id}
        )


def test_a_full_topic_name_reads_back_to_its_contract_name_and_provider() -> None:
    topics = Topics(prefix="t.")
    assert topics.contract_name("t.providers.reports.coop-a") == "providers.reports"
    assert topics.provider_of("t.providers.reports.coop-a") == "coop-a"
    assert topics.provider_of("t.activation.requests.coop_b") == "coop_b"
    assert topics.contract_name("t.activation.services") == "activation.services"
    assert topics.provider_of("t.activation.services") is None
    for foreign in ("t.providers.reports", "t.activation.requests.a.b", "u.intake.cases"):
        with pytest.raises(ValueError, match=r"no contract topic|prefix"):
            topics.contract_name(foreign)


def test_topic_names_with_custom_prefix() -> None:
    topics = Topics(prefix="test-42.dp.")
    assert topics.hospital_discharges == "test-42.dp.hospital.discharges"
    assert topics.intake_cases == "test-42.dp.intake.cases"
    assert topics.activation_services == "test-42.dp.activation.services"
    assert topics.provider_reports("p") == "test-42.dp.providers.reports.p"
    assert topics.monitoring_cases == "test-42.dp.monitoring.cases"
    assert topics.billing_ledger == "test-42.dp.billing.ledger"
    assert topics.all(["p"]) == [
        f"test-42.dp.{name}{'.p' if name in PER_PROVIDER_TOPICS else ''}" for name in TOPIC_NAMES
    ]
    assert topics.dlq(topics.intake_cases) == "test-42.dp.intake.cases.dlq"


def test_dead_letter_topics_and_back() -> None:
    topics = Topics()
    dlq = topics.dlq(topics.intake_cases)
    assert Topics.is_dlq(dlq)
    assert not Topics.is_dlq(topics.intake_cases)
    assert Topics.dlq_origin(dlq) == topics.intake_cases
    with pytest.raises(ValueError, match="not a dead-letter topic"):
        Topics.dlq_origin(topics.intake_cases)
    assert topics.all_with_dlq()[:2] == [topics.hospital_discharges, "dp.hospital.discharges.dlq"]
    assert topics.all_with_dlq() == [
        name for topic in topics.all() for name in (topic, topics.dlq(topic))
    ]


def test_topic_for_event_by_instance_class_or_type_name() -> None:
    topics = Topics(prefix="")
    event = HoursDelivered.model_validate(_example(HoursDelivered))
    assert topics.for_event(event) == "providers.reports.coop-il-melograno"
    assert topics.for_event(ServiceActivated) == "activation.services"
    assert topics.for_event("CaseClosed") == "monitoring.cases"
    with pytest.raises(ValueError, match="give the event"):
        topics.for_event(HoursDelivered)  # which provider's?
    with pytest.raises(ValueError, match="unknown event type"):
        topics.for_event("DischargeHappened")


def test_a_request_goes_to_its_provider_alone_and_a_deactivation_to_it_too() -> None:
    topics = Topics()
    request = ServiceActivationRequested.model_validate(_example(ServiceActivationRequested))
    stop = ServiceDeactivated.model_validate(_example(ServiceDeactivated))
    assert topics.destinations(request) == ["dp.activation.requests.coop-il-melograno"]
    assert topics.destinations(stop) == [
        "dp.activation.services",
        "dp.activation.requests.coop-il-melograno",
    ]
    assert topics.destinations(ServiceActivated.model_validate(_example(ServiceActivated))) == [
        "dp.activation.services"
    ]


def test_events_on_full_topic_name() -> None:
    topics = Topics()
    assert [m.event_type for m in topics.events_on("dp.intake.cases")] == CONTRACT["intake.cases"]
    assert [m.event_type for m in topics.events_on("dp.activation.requests.coop-a")] == CONTRACT[
        "activation.requests"
    ]
    with pytest.raises(ValueError, match="prefix"):
        topics.events_on("other.intake.cases")


@pytest.mark.parametrize("prefix", ["dp/", "dp .", "è."])
def test_invalid_prefix_rejected(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        Topics(prefix=prefix)


# --- data minimisation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "model",
    [m for m in EVENT_TYPES.values() if m.topic != "hospital.discharges"],
    ids=lambda m: m.event_type,
)
def test_past_the_hospital_no_event_carries_a_fiscal_code_or_free_clinical_notes(
    model: type[EventData],
) -> None:
    """The hospital's announcement is the last event with the fiscal code, the birth date or
    the assessor's notes; the team's check notes are never published."""
    schema = json.dumps(model.model_json_schema())
    for field in ("fiscal_code", "birth_date", "notes", "assessment"):
        assert f'"{field}"' not in schema


def test_check_notes_sent_anyway_are_dropped_not_published() -> None:
    check = WeeklyCheckDone.model_validate(
        {**_example(WeeklyCheckDone), "notes": "Lesione da decubito al sacro."}
    )
    assert "notes" not in check.model_dump()
    assert "decubito" not in check.model_dump_json()
