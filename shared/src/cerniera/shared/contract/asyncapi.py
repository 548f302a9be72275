"""The public contract as an AsyncAPI document, generated from the pydantic models.

Every topic is described by the events its producer publishes there (one channel per event
type, so each has its own schema and examples) and by who reads it. Who reads a topic is not
kept here by hand: the caller passes each topic's readers, computed from the subscriptions of
the services and adapters (this library cannot import them). ``cerniera contract`` does, and
writes ``docs/asyncapi.yaml`` and ``docs/asyncapi.json``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from faststream.specification.asyncapi.v3_0_0.schema import ApplicationSchema

from cerniera.shared.contract.events import EVENT_TYPES, TOPIC_NAMES
from cerniera.shared.contract.topics import Topics

# 1.1: HoursDelivered.evening, EligibilityRejected.decided_by (optional)
# 1.1.1: readers generated from the services' subscriptions (documentation only)
# 1.2: operators' replays and discards (dlq_replay_for / dlq_discard_for headers) that readers
#      other than the named group ignore; ce_time required (an event without it is refused)
VERSION = "1.2.0"

PRODUCERS = {
    "hospital.discharges": "hospital systems (directly, or via the HL7 v2 / FHIR gateway)",
    "intake.cases": "the intake service",
    "activation.services": "the activation service",
    "providers.reports": "provider adapters",
    "monitoring.cases": "the monitoring service",
    "billing.ledger": "the billing service",
}
NO_READER = "external consumers only (no Cerniera service reads it)"

Readers = Mapping[str, Sequence[str]]
"""Who reads each topic, by contract topic name (no prefix, e.g. ``"intake.cases"``)."""

DESCRIPTION = """\
Cerniera coordinates protected hospital discharges (Dimissioni Protette) between hospitals,
district teams and home-care providers. This is the public Kafka contract.

**Envelope**: CloudEvents 1.0, binary content mode: the record value is the JSON `data`
shown here; attributes travel as headers `ce_specversion` ("1.0"), `ce_id`, `ce_source`,
`ce_type` (the event name), `ce_time` (RFC 3339, UTC), `ce_subject` (the case id),
`content-type: application/json`, and the extensions `ce_correlationid` and
`ce_causationid`. Structured mode (`content-type: application/cloudevents+json`) is accepted
on every topic outside systems write to. Consumers deduplicate on (`ce_source`, `ce_id`).

**Key** = case id = `<hospital_id>:<discharge_ref>`, so a case's events keep their order.
Dates are ISO 8601, datetimes carry a time zone, money is a decimal string in euros.
Every event carries `ce_time`: deadlines are judged by it, and an event without it is refused.
A record that cannot be read or applied goes to `<topic>.dlq` with `dlq_reason_code` /
`dlq_reason` headers and `dlq_consumer` (the group that failed it); the case's later events
wait in that service until an operator replays (`cerniera dlq replay <topic>.dlq`) or
discards it. A replayed record carries `dlq_replay_for: <group>` and a discard (empty value)
`dlq_discard_for: <group>`: readers other than the named group ignore both.
Topic names carry a configurable prefix (default `dp.`).
"""


def _unwrap(text: str) -> str:
    """Join the source's wrapped lines into one line per paragraph (Markdown renders both)."""
    return "\n\n".join(" ".join(p.split()) for p in text.split("\n\n"))


def _read_by(readers: Readers) -> dict[str, str]:
    """Each topic's readers as prose; a topic nobody here reads says so."""
    unknown = sorted(set(readers) - set(TOPIC_NAMES))
    if unknown:
        raise ValueError(f"readers of unknown topic(s) {', '.join(unknown)}")
    return {
        name: ", ".join(dict.fromkeys(readers.get(name, ()))) or NO_READER for name in TOPIC_NAMES
    }


def contract_broker(readers: Readers, topics: Topics | None = None) -> KafkaBroker:
    topics = topics or Topics()
    read_by = _read_by(readers)
    broker = KafkaBroker("kafka:9092")
    for event_type, model in EVENT_TYPES.items():
        topic = topics.for_event(model)
        broker.publisher(
            topic,
            title=f"{topic}:{event_type}",
            description=(
                f"{(model.__doc__ or event_type).strip()}\n\n"
                f"Written by {PRODUCERS[model.topic]}; read by {read_by[model.topic]}. "
                f"Header `ce_type: {event_type}`."
            ),
            schema=model,
        )
    return broker


def document(readers: Readers) -> AsyncAPI:
    """The contract, ``readers`` naming who reads each topic (see ``Readers``)."""
    return AsyncAPI(
        contract_broker(readers),
        title="Cerniera - Dimissioni Protette event contract",
        version=VERSION,
        description=_unwrap(DESCRIPTION),
        schema_version="3.0.0",
    )


_T = TypeVar("_T")


def _in_contract_order(items: Mapping[str, _T]) -> dict[str, _T]:
    """Channels, operations or messages (keyed ``<topic>:<event type>[:...]``) in the
    contract's order of event types."""
    rank = {event_type: i for i, event_type in enumerate(EVENT_TYPES)}
    return dict(sorted(items.items(), key=lambda item: rank[item[0].split(":")[1]]))


def specification(readers: Readers) -> ApplicationSchema:
    """The document in a stable order: the framework collects channels in no particular
    order, which would reshuffle the files at every generation."""
    spec = document(readers).to_specification()
    assert isinstance(spec, ApplicationSchema)
    spec.channels = _in_contract_order(spec.channels)
    spec.operations = _in_contract_order(spec.operations)
    if spec.components is not None:
        if spec.components.messages is not None:
            spec.components.messages = _in_contract_order(spec.components.messages)
        if spec.components.schemas is not None:
            spec.components.schemas = dict(sorted(spec.components.schemas.items()))
    return spec


def write(directory: Path, readers: Readers) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    spec = specification(readers)
    outputs = {
        directory / "asyncapi.yaml": spec.to_yaml(),
        directory / "asyncapi.json": spec.to_json(),
    }
    for path, text in outputs.items():
        path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return list(outputs)
