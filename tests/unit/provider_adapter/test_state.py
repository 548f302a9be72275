"""What the adapter keeps from the records it reads (no broker: ``receive`` is pure state)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from types import SimpleNamespace

from faststream.kafka.subscriber.usecase import BatchSubscriber

from cerniera.provider_adapter.adapter import (
    ProviderAdapter,
    Stage,
    default_group_id,
    subscribes,
)
from cerniera.shared.contract import (
    ServiceActivated,
    ServiceActivationRequested,
    ServiceDeactivated,
    Topics,
)
from cerniera.shared.envelope import Envelope
from cerniera.shared.settings import KafkaSettings

CASE = "asst-vimercate:V2026-000123"
ACTIVATION = "urn:dp:service:activation"


def requested(provider: str, request_id: str, start_by: date = date(2026, 11, 9)) -> Envelope:
    data = ServiceActivationRequested.model_validate(
        {
            "case_id": CASE,
            "request_id": request_id,
            "provider_id": provider,
            "service_type": "sad",
            "weekly_quantity": 6,
            "start_by": start_by,
            "beneficiary": {"name": "Mario Rossi", "address": "Via Roma 12, Desio"},
        }
    )
    return Envelope(data, source=ACTIVATION, subject=CASE, time=datetime(2026, 11, 2, tzinfo=UTC))


def adapter(*providers: str) -> ProviderAdapter:
    # Constructing connects to nothing: the broker and producer start in ``start()``.
    return ProviderAdapter(providers, kafka=KafkaSettings(bootstrap_servers="unused:9092"))


def test_only_requests_for_the_providers_served_are_kept() -> None:
    a = adapter("coop-a", "coop-b")
    a.receive(requested("coop-a", "r1"))
    a.receive(requested("coop-b", "r2"))
    a.receive(requested("coop-elsewhere", "r3"))
    a.receive(
        Envelope(
            ServiceActivated(
                case_id=CASE,
                request_id="r1",
                provider_id="coop-a",
                service_type="sad",
                active_from=date(2026, 11, 9),
            ),
            source=ACTIVATION,
            subject=CASE,
        )
    )
    assert set(a.requests) == {"r1", "r2"}
    assert a.stats.requests == 2
    assert all(t.stage is Stage.RECEIVED for t in a.requests.values())


def test_a_repeated_request_is_an_update_but_a_redelivered_event_is_not() -> None:
    a = adapter("coop-a")
    first = requested("coop-a", "r1")
    a.receive(first)
    a.requests["r1"].stage = Stage.ANSWERED
    a.receive(first)  # the same ce_id again: a redelivery
    assert (a.requests["r1"].version, a.requests["r1"].stage) == (1, Stage.ANSWERED)
    a.receive(requested("coop-a", "r1", start_by=date(2026, 11, 12)))
    tracked = a.requests["r1"]
    assert (tracked.version, tracked.stage) == (2, Stage.RECEIVED)
    assert tracked.request.start_by == date(2026, 11, 12)
    assert a.stats.updates == 1


def test_a_deactivation_sets_the_last_day_of_its_request_only() -> None:
    a = adapter("coop-a")
    a.receive(requested("coop-a", "r1"))
    a.receive(requested("coop-a", "r2"))
    for provider, request_id in (("coop-a", "r1"), ("coop-elsewhere", "r2"), ("coop-a", "r9")):
        a.receive(
            Envelope(
                ServiceDeactivated(
                    case_id=CASE,
                    request_id=request_id,
                    provider_id=provider,
                    service_type="sad",
                    until=date(2026, 11, 30),
                ),
                source=ACTIVATION,
                subject=CASE,
                id=str(uuid.uuid4()),
            )
        )
    assert a.requests["r1"].until == date(2026, 11, 30)
    assert a.requests["r2"].until is None  # that deactivation was another provider's


def test_processes_serving_different_providers_get_different_groups() -> None:
    assert default_group_id(["b", "a"]) == default_group_id(["a", "b"]) == "provider-adapter.a+b"
    assert default_group_id(["a"]) != default_group_id(["a", "b"])
    assert len(default_group_id([f"provider-{n}" for n in range(100)])) < 64


def test_an_adapter_reads_its_own_providers_request_topics_only() -> None:
    """What ``cerniera contract`` reports as the adapters' reading, and what the consumer
    really subscribes to: no other provider's topic, not the shared activation topic."""
    assert subscribes(Topics(prefix="t1."), ["coop-a", "coop-b", "coop-a"]) == [
        "t1.activation.requests.coop-a",
        "t1.activation.requests.coop-b",
    ]
    [consumer] = adapter("coop-a").broker.subscribers
    assert isinstance(consumer, BatchSubscriber)
    assert consumer.topic_names == ["dp.activation.requests.coop-a"]


def test_a_record_naming_another_provider_than_its_topic_is_skipped() -> None:
    """Whatever arrives on coop-a's topic is coop-a's, or it is not served at all."""
    a = adapter("coop-a", "coop-b")
    value, headers = requested("coop-b", "r1").to_binary()
    a._read(
        SimpleNamespace(
            topic="dp.activation.requests.coop-a",
            partition=0,
            offset=7,
            value=value,
            headers=headers,
        )
    )
    assert (dict(a.requests), a.stats.skipped) == ({}, 1)
    a._read(SimpleNamespace(topic="dp.activation.requests.coop-b", value=value, headers=headers))
    assert set(a.requests) == {"r1"}
