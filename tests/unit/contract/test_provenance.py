"""Who may publish what, where (``contract.provenance``): pure, no broker."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cerniera.cli.chaos.scenario import play
from cerniera.cli.demo.hospital import month_of_discharges
from cerniera.shared.contract import (
    EVENT_TYPES,
    TOPIC_NAMES,
    CaseClosed,
    DischargeAnnounced,
    EligibilityConfirmed,
    EventData,
    HoursDelivered,
    ServiceActivationRequested,
    Topics,
    WeeklyCheckDone,
)
from cerniera.shared.contract.provenance import (
    Family,
    allowed_source,
    family_of,
    provider_source,
    refusal,
)
from cerniera.shared.envelope import decode

TOPICS = Topics()
PROVIDER = "coop-il-melograno"
REPORTS = "dp.providers.reports"  # the shared topic, before one topic per provider
START = datetime(2026, 11, 2, 7, tzinfo=UTC)


def example(model: type[EventData], **changes: Any) -> Any:
    extra: Any = model.model_config.get("json_schema_extra") or {}
    return model.model_validate({**extra["examples"][0], **changes})


# --- families ------------------------------------------------------------------------------


def test_every_contract_topic_is_its_own_family_under_the_prefix() -> None:
    for name in TOPIC_NAMES:
        assert family_of(f"dp.{name}") == Family(name)
        assert family_of(f"test-1.{name}", "test-1.") == Family(name)
        assert family_of(f"dp.{name}", "test-1.") is None  # another deployment's topic


def test_per_provider_topics_name_their_provider() -> None:
    assert family_of(f"dp.providers.reports.{PROVIDER}") == Family("providers.reports", PROVIDER)
    assert family_of("dp.activation.requests.coop-x") == Family("activation.requests", "coop-x")
    for other in ("dp.providers.reports.", "dp.nothing", "x.intake.cases"):
        assert family_of(other) is None


def test_per_provider_request_topics_carry_the_request_events_only() -> None:
    types = Family("activation.requests", PROVIDER).event_types
    assert ServiceActivationRequested in types
    assert all("provider_id" in t.model_fields for t in types)


def test_each_topic_has_one_known_kind_of_writer() -> None:
    services = {"intake", "activation", "monitoring", "billing"}
    for model in EVENT_TYPES.values():
        source = allowed_source(example(model))
        kind, _, who = source.removeprefix("urn:dp:").partition(":")
        assert kind in {"hospital", "provider", "service"}, source
        if kind == "service":
            assert who in services, source


# --- what is allowed -----------------------------------------------------------------------


@pytest.mark.parametrize("model", list(EVENT_TYPES.values()), ids=list(EVENT_TYPES))
def test_every_event_from_its_producer_on_its_topic_is_allowed(model: type[EventData]) -> None:
    data = example(model)
    assert refusal(TOPICS.for_event(data), data, allowed_source(data)) is None


def test_the_sources_are_the_hospital_the_provider_and_the_service() -> None:
    assert allowed_source(example(DischargeAnnounced)) == "urn:dp:hospital:asst-vimercate"
    assert allowed_source(example(HoursDelivered)) == f"urn:dp:provider:{PROVIDER}"
    assert allowed_source(example(EligibilityConfirmed)) == "urn:dp:service:intake"
    assert allowed_source(example(CaseClosed)) == "urn:dp:service:monitoring"


def test_per_provider_topics_accept_their_own_provider() -> None:
    delivered = example(HoursDelivered)
    reports = f"dp.providers.reports.{PROVIDER}"
    assert refusal(reports, delivered, provider_source(PROVIDER)) is None
    requested = example(ServiceActivationRequested)
    requests = f"dp.activation.requests.{PROVIDER}"
    assert refusal(requests, requested, "urn:dp:service:activation") is None


# --- what is refused -----------------------------------------------------------------------


def test_a_provider_cannot_close_a_case_or_confirm_eligibility() -> None:
    source = "urn:dp:provider:coop-x"
    closed, confirmed = example(CaseClosed), example(EligibilityConfirmed)
    # On its own reports topic: not an event that belongs there.
    why = refusal(REPORTS, closed, source)
    assert why is not None
    assert "CaseClosed" in why
    assert "dp.providers.reports" in why
    assert refusal(REPORTS, confirmed, source) is not None
    # On the topics where they belong: not the producer.
    why = refusal(TOPICS.monitoring_cases, closed, source)
    assert why is not None
    assert "urn:dp:service:monitoring" in why
    assert refusal(TOPICS.intake_cases, confirmed, source) is not None


def test_a_service_cannot_write_another_services_topic() -> None:
    check = example(WeeklyCheckDone)
    assert refusal(TOPICS.monitoring_cases, check, "urn:dp:service:billing") is not None
    assert refusal(TOPICS.monitoring_cases, check, "urn:dp:service:monitoring") is None


def test_a_hospital_speaks_only_for_its_own_visits() -> None:
    announced = example(DischargeAnnounced)
    other = "urn:dp:hospital:irccs-san-gerardo"
    why = refusal(TOPICS.hospital_discharges, announced, other)
    assert why is not None
    assert "urn:dp:hospital:asst-vimercate" in why
    # The refusal names type, source and topic; nothing of the patient.
    patient = announced.patient
    assert all(v not in why for v in (patient.fiscal_code, patient.family_name, patient.address))


def test_a_provider_reports_only_for_itself_and_only_on_its_own_topic() -> None:
    delivered = example(HoursDelivered)
    assert refusal(REPORTS, delivered, "urn:dp:provider:coop-x") is not None
    theirs = example(HoursDelivered, provider_id="coop-x")
    own = provider_source("coop-x")
    assert refusal(REPORTS, theirs, own) is None
    # On another provider's topic, even with matching payload and source.
    why = refusal(f"dp.providers.reports.{PROVIDER}", theirs, own)
    assert why is not None
    assert PROVIDER in why


def test_a_request_for_another_provider_is_refused_on_a_providers_topic() -> None:
    requested = example(ServiceActivationRequested, provider_id="coop-x")
    activation = "urn:dp:service:activation"
    assert refusal(f"dp.activation.requests.{PROVIDER}", requested, activation) is not None
    mine = example(ServiceActivationRequested)
    assert refusal(f"dp.activation.requests.{PROVIDER}", mine, provider_source(PROVIDER))


def test_a_topic_outside_the_contract_is_refused() -> None:
    data = example(CaseClosed)
    assert refusal("dp.elsewhere", data, "urn:dp:service:monitoring") is not None


def test_a_long_source_is_not_copied_whole() -> None:
    data = example(CaseClosed)
    why = refusal(TOPICS.monitoring_cases, data, "urn:" + "x" * 5000)
    assert why is not None
    assert len(why) < 400


# --- what the command-line tools publish ---------------------------------------------------


def test_the_chaos_run_and_the_demo_wards_publish_with_allowed_sources() -> None:
    for send in play(40, seed=5, topics=TOPICS).sends:
        event = decode(send.value, send.headers)
        assert refusal(send.topic, event.data, event.source) is None, send.what
    for planned in month_of_discharges(START, cases=40, seed=5):
        topic = TOPICS.for_event(planned.data)
        assert refusal(topic, planned.data, planned.source) is None
