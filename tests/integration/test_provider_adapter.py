"""The provider adapter on the real broker: it reads what activation would publish on the
provider's own ``activation.requests.<id>`` and we look at what Cerniera would read on its own
``providers.reports.<id>``. Nothing is mocked; the simulated policy stands in for the
provider's own system."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeAlias

import pytest
from aiokafka import ConsumerRecord
from faststream.kafka.subscriber.usecase import BatchSubscriber

from cerniera.provider_adapter.adapter import ProviderAdapter, Stage, provider_source
from cerniera.provider_adapter.policy import ProviderPolicy, SimulatedPolicy
from cerniera.shared.clock import ROME, Clock
from cerniera.shared.contract import (
    DeclineReason,
    HoursDelivered,
    ServiceActivated,
    ServiceActivationAccepted,
    ServiceActivationDeclined,
    ServiceActivationRequested,
    ServiceDeactivated,
    ServiceType,
    Topics,
)
from cerniera.shared.envelope import Envelope, decode
from cerniera.shared.messaging.kafka import provision_topics
from cerniera.shared.settings import KafkaSettings
from support.kafka import headers_of, publish, publish_raw, read_topic
from support.waiting import eventually, read_quiet

pytestmark = pytest.mark.integration

Record: TypeAlias = "ConsumerRecord[Any, Any]"

PROVIDER = "coop-il-melograno"
ACTIVATION = "urn:dp:service:activation"
MONDAY = datetime(2026, 11, 2, 8, 0, tzinfo=ROME)
NO_LEAD = dict.fromkeys(ServiceType, 0)


def requested(
    case_id: str,
    *,
    request_id: str | None = None,
    provider: str = PROVIDER,
    service_type: ServiceType = ServiceType.SAD,
    start_by: date,
    at: datetime,
    correlation_id: str | None = None,
) -> Envelope:
    """A ServiceActivationRequested as activation publishes it (its time is the shared
    clock's: the provider counts its lead time from it)."""
    data = ServiceActivationRequested.model_validate(
        {
            "case_id": case_id,
            "request_id": request_id or str(uuid.uuid4()),
            "provider_id": provider,
            "service_type": service_type,
            "weekly_quantity": 7 if service_type is ServiceType.TELEASSISTANCE else 6,
            "start_by": start_by,
            "beneficiary": {"name": "Mario Rossi", "address": "Via Roma 12, 20832 Desio (MB)"},
        }
    )
    return Envelope(
        data,
        source=ACTIVATION,
        subject=case_id,
        time=at,
        correlation_id=correlation_id or str(uuid.uuid4()),
    )


def request_id_of(envelope: Envelope) -> str:
    assert isinstance(envelope.data, ServiceActivationRequested)
    return envelope.data.request_id


def a_case() -> str:
    return f"asst-vimercate:V{uuid.uuid4().hex[:10]}"


@contextlib.asynccontextmanager
async def adapter(
    kafka: KafkaSettings,
    policy: ProviderPolicy | Mapping[str, ProviderPolicy],
    providers: tuple[str, ...] = (PROVIDER,),
    clock: Clock | None = None,
) -> AsyncIterator[ProviderAdapter]:
    running = ProviderAdapter(providers, policy, kafka=kafka, clock=clock or Clock(), tick_s=0.1)
    async with running.running():
        yield running


PROVIDERS = (PROVIDER, "coop-elsewhere", "coop-busy", "coop-quiet")


@pytest.fixture
async def provisioned(kafka_settings: KafkaSettings, topics: Topics) -> Topics:
    """The platform provisions the topics, each provider's own; the adapter never creates
    them."""
    await provision_topics(kafka_settings, topics.all(PROVIDERS))
    return topics


async def send_requests(kafka: KafkaSettings, topics: Topics, *events: Envelope) -> None:
    """Each event where activation puts it: a request on its provider's own topic, a
    deactivation as the copy there, an activation on ``activation.services``."""
    for event in events:
        await publish(kafka, topics.destinations(event.data)[-1], event)


def of_type(records: list[Record], kind: type[Any]) -> list[tuple[Record, Any]]:
    found = []
    for record in records:
        event = decode(record.value, record.headers)
        if isinstance(event.data, kind):
            found.append((record, event.data))
    return found


# --- only its own topics -----------------------------------------------------------------------


async def test_an_adapter_for_one_provider_never_receives_another_providers_requests(
    kafka_settings: KafkaSettings, provisioned: Topics
) -> None:
    """Its consumer subscribes to its provider's request topic alone: another provider's
    requests never reach it, and a record on its topic naming another provider is skipped."""
    now = Clock().now()
    mine = requested(a_case(), start_by=now.date(), at=now)
    theirs = requested(a_case(), provider="coop-elsewhere", start_by=now.date(), at=now)
    misplaced = requested(a_case(), provider="coop-elsewhere", start_by=now.date(), at=now)
    # A request for this provider, but not written by activation: a forgery, never served.
    forged = replace(
        requested(a_case(), start_by=now.date(), at=now), source="urn:dp:provider:coop-elsewhere"
    )
    await send_requests(kafka_settings, provisioned, mine, theirs)
    own = provisioned.provider_requests(PROVIDER)
    await publish(kafka_settings, own, misplaced, forged)

    policy = SimulatedPolicy(lead_time_days=NO_LEAD)
    async with adapter(kafka_settings, policy, providers=(PROVIDER,)) as running:
        reports = provisioned.provider_reports(PROVIDER)
        await read_topic(kafka_settings, reports, until=lambda rs: rs != [])
        await eventually(
            lambda: _skipped(running), lambda n: n == 2, what="the misplaced and forged skipped"
        )
        [subscriber] = running.broker.subscribers
        assert isinstance(subscriber, BatchSubscriber)
        consumer = subscriber.consumer
        assert consumer is not None
        subscribed, assigned = consumer.subscription(), consumer.assignment()
        answered = await read_quiet(kafka_settings, reports)
        elsewhere = await read_quiet(
            kafka_settings, provisioned.provider_reports("coop-elsewhere"), quiet=0.2
        )

    assert subscribed == {own}
    assert {tp.topic for tp in assigned} == {own}
    assert set(running.requests) == {request_id_of(mine)}
    assert [e.request_id for _, e in of_type(answered, ServiceActivationAccepted)] == [
        request_id_of(mine)
    ]
    assert elsewhere == []


async def _skipped(running: ProviderAdapter) -> int:
    return running.stats.skipped


# --- answers ----------------------------------------------------------------------------------


async def test_accepts_with_the_requests_key_correlation_and_causation(
    kafka_settings: KafkaSettings, provisioned: Topics
) -> None:
    today = Clock().today()
    case = a_case()
    mine = requested(case, start_by=today + timedelta(days=7), at=Clock().now())
    others = requested(case, provider="coop-elsewhere", start_by=today, at=Clock().now())
    activated = Envelope(
        ServiceActivated(
            case_id=case,
            request_id=request_id_of(others),
            provider_id="coop-elsewhere",
            service_type=ServiceType.SAD,
            active_from=today,
        ),
        source=ACTIVATION,
        subject=case,
    )
    # A record that is not an event at all comes first: skipped, the rest is still handled.
    own = provisioned.provider_requests(PROVIDER)
    await publish_raw(kafka_settings, own, [(b"x", b"{oops", [])])
    await send_requests(kafka_settings, provisioned, others, activated, mine)
    reports = provisioned.provider_reports(PROVIDER)

    async with adapter(kafka_settings, SimulatedPolicy(lead_time_days=NO_LEAD)) as running:
        records = await read_topic(kafka_settings, reports, until=lambda rs: len(rs) >= 1)
        records = await read_quiet(kafka_settings, reports)
        assert running.stats.skipped == 1
        elsewhere = await read_quiet(
            kafka_settings, provisioned.provider_reports("coop-elsewhere"), quiet=0.2
        )

    [(record, accepted)] = of_type(records, ServiceActivationAccepted)
    assert len(records) == 1  # nothing for the other provider, nothing for ServiceActivated
    assert elsewhere == []
    assert accepted == ServiceActivationAccepted(
        request_id=request_id_of(mine),
        provider_id=PROVIDER,
        scheduled_start=datetime.combine(today + timedelta(days=7), time(9), tzinfo=ROME),
    )
    headers = headers_of(record)
    assert record.key == case.encode()
    assert headers["ce_subject"] == case
    assert headers["ce_source"] == provider_source(PROVIDER) == f"urn:dp:provider:{PROVIDER}"
    assert headers["ce_correlationid"] == mine.correlation_id
    assert headers["ce_causationid"] == mine.id
    assert headers["ce_type"] == "ServiceActivationAccepted"


async def test_declines_with_a_reason_and_a_silent_provider_says_nothing(
    kafka_settings: KafkaSettings, provisioned: Topics
) -> None:
    """One process, two providers with their own behaviour (as the demo runs them)."""
    now = Clock().now()
    busy_case = a_case()
    busy = requested(busy_case, provider="coop-busy", start_by=now.date(), at=now)
    quiet = requested(a_case(), provider="coop-quiet", start_by=now.date(), at=now)
    await send_requests(kafka_settings, provisioned, busy, quiet)
    policies = {
        "coop-busy": SimulatedPolicy(decline_share=1.0),
        "coop-quiet": SimulatedPolicy(silence_share=1.0),
    }
    reports = [provisioned.provider_reports(p) for p in ("coop-busy", "coop-quiet")]
    async with adapter(kafka_settings, policies, providers=("coop-busy", "coop-quiet")) as running:
        await read_topic(kafka_settings, reports, until=lambda rs: rs != [])
        records = await read_quiet(kafka_settings, reports, quiet=1.5)
        assert (running.stats.declined, running.stats.silent) == (1, 1)
        assert running.requests[request_id_of(quiet)].stage is Stage.SILENT

    [(record, declined)] = of_type(records, ServiceActivationDeclined)
    assert len(records) == 1
    assert record.topic == provisioned.provider_reports("coop-busy")  # its own, and only that
    assert declined.request_id == request_id_of(busy)
    assert declined.provider_id == "coop-busy"
    assert declined.reason_code in set(DeclineReason)
    assert isinstance(declined.note, str)
    assert declined.note.strip()
    assert headers_of(record)["ce_causationid"] == busy.id
    assert record.key == busy_case.encode()
    assert headers_of(record)["ce_subject"] == busy_case


async def test_a_repeated_request_is_answered_again_with_the_new_start(
    kafka_settings: KafkaSettings, provisioned: Topics
) -> None:
    today = Clock().today()
    case, request_id = a_case(), str(uuid.uuid4())
    first = requested(
        case, request_id=request_id, start_by=today + timedelta(days=5), at=Clock().now()
    )
    policy = SimulatedPolicy(lead_time_days=NO_LEAD)
    reports = provisioned.provider_reports(PROVIDER)
    async with adapter(kafka_settings, policy) as running:
        await send_requests(kafka_settings, provisioned, first)
        await read_topic(kafka_settings, reports, until=lambda rs: rs != [])
        # The discharge moved: activation sends the same request with a new start_by.
        moved = requested(
            case,
            request_id=request_id,
            start_by=today + timedelta(days=9),
            at=Clock().now(),
            correlation_id=first.correlation_id,
        )
        await send_requests(kafka_settings, provisioned, moved)
        records = await read_topic(kafka_settings, reports, until=lambda rs: len(rs) >= 2)
        assert running.stats.requests == 1  # an update, not new work
        assert running.stats.updates == 1

    answers = of_type(records, ServiceActivationAccepted)
    assert [a.request_id for _, a in answers] == [request_id, request_id]
    assert [a.scheduled_start.date() for _, a in answers] == [
        today + timedelta(days=5),
        today + timedelta(days=9),
    ]
    assert [headers_of(r)["ce_causationid"] for r, _ in answers] == [first.id, moved.id]


# --- deliveries -------------------------------------------------------------------------------


async def test_deliveries_for_each_day_passed_until_the_deactivation(
    kafka_settings: KafkaSettings, provisioned: Topics
) -> None:
    """1 simulated day = 1 real second, from a Monday morning."""
    clock = Clock(speed=86_400, epoch=MONDAY)
    case = a_case()
    request = requested(
        case,
        service_type=ServiceType.TELEASSISTANCE,
        start_by=MONDAY.date(),
        at=clock.now(),
    )
    topic = provisioned.provider_reports(PROVIDER)

    def delivered(records: list[Record]) -> list[HoursDelivered]:
        return [event for _, event in of_type(records, HoursDelivered)]

    policy = SimulatedPolicy(lead_time_days=NO_LEAD, answer_delay=timedelta(hours=12))
    async with adapter(kafka_settings, policy, clock=clock):
        await send_requests(kafka_settings, provisioned, request)
        records = await read_topic(kafka_settings, topic, until=lambda rs: len(delivered(rs)) >= 3)
        seen = {line.delivered_on for line in delivered(records)}
        assert seen == {MONDAY.date() + timedelta(days=n) for n in range(len(seen))}
        assert max(seen) < clock.today()  # only days that have passed

        until = clock.today() + timedelta(days=2)
        deactivated = request.caused(
            ServiceDeactivated(
                case_id=case,
                request_id=request_id_of(request),
                provider_id=PROVIDER,
                service_type=ServiceType.TELEASSISTANCE,
                until=until,
            ),
            source=ACTIVATION,
            time=clock.now(),
        )
        # The provider's copy, on its own topic, of the deactivation activation publishes.
        await send_requests(kafka_settings, provisioned, deactivated)
        await eventually(
            lambda: _today(clock), lambda today: today > until + timedelta(days=2), timeout=15
        )
        records = await read_quiet(kafka_settings, topic)

    [(answer, _)] = of_type(records, ServiceActivationAccepted)
    answered_at = datetime.fromisoformat(headers_of(answer)["ce_time"])
    assert answered_at >= request.time + timedelta(hours=12)  # the provider's answer delay
    lines = delivered(records)
    days = [line.delivered_on for line in lines]
    assert sorted(days) == [MONDAY.date() + timedelta(days=n) for n in range(len(days))]
    assert max(days) == until  # the last day of service, then nothing
    assert len({line.delivery_ref for line in lines}) == len(lines)
    assert {(line.case_id, line.provider_id, line.service_type) for line in lines} == {
        (case, PROVIDER, ServiceType.TELEASSISTANCE)
    }
    assert {line.quantity for line in lines} == {Decimal(1)}
    for record in records:
        assert record.key == case.encode()
        assert headers_of(record)["ce_correlationid"] == request.correlation_id


async def _today(clock: Clock) -> date:
    return clock.today()


async def test_a_restarted_adapter_repeats_the_same_answers_and_lines(
    kafka_settings: KafkaSettings, provisioned: Topics
) -> None:
    """State is in memory and offsets are never committed: a restart re-reads the requests and
    repeats exactly what it said (same start, same delivery_ref), which Cerniera deduplicates."""
    clock = Clock(speed=86_400, epoch=MONDAY)
    request = requested(
        a_case(), service_type=ServiceType.TELEASSISTANCE, start_by=MONDAY.date(), at=clock.now()
    )
    await send_requests(kafka_settings, provisioned, request)
    topic = provisioned.provider_reports(PROVIDER)
    policy = SimulatedPolicy(lead_time_days=NO_LEAD, seed=5)

    def answered(records: list[Record]) -> list[ServiceActivationAccepted]:
        return [event for _, event in of_type(records, ServiceActivationAccepted)]

    async with adapter(kafka_settings, policy, clock=clock):
        first = await read_topic(kafka_settings, topic, until=lambda rs: len(rs) >= 3)
    before = {e.delivery_ref: e for _, e in of_type(first, HoursDelivered)}
    assert len(answered(first)) == 1
    assert len(before) >= 2

    def again(records: list[Record]) -> dict[str, HoursDelivered]:
        return {e.delivery_ref: e for _, e in of_type(records[len(first) :], HoursDelivered)}

    async with adapter(kafka_settings, policy, clock=clock):
        records = await read_topic(
            kafka_settings, topic, until=lambda rs: set(before) <= set(again(rs))
        )

    # The same answer again, then every line already reported, identical (ref included).
    assert answered(records) == answered(first) * 2
    repeated = again(records)
    assert all(repeated[ref] == line for ref, line in before.items())
