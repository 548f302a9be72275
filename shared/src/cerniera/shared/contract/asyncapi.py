"""The public contract as an AsyncAPI document, generated from the pydantic models.

Every topic is described by the events its producer publishes there (one channel per event
type and topic, so each has its own schema and examples) and by who reads it; a per-provider
topic is one channel with a ``{provider_id}`` parameter. Who reads a topic is not
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

from cerniera.shared.contract.events import (
    ACTIVATION_REQUESTS,
    EVENT_TYPES,
    PER_PROVIDER_TOPICS,
    PROVIDERS_REPORTS,
    TOPIC_NAMES,
)
from cerniera.shared.contract.topics import Topics

# 1.1: HoursDelivered.evening, EligibilityRejected.decided_by (optional)
# 1.1.1: readers generated from the services' subscriptions (documentation only)
# 1.2: operators' replays and discards (dlq_replay_for / dlq_discard_for headers) that readers
#      other than the named group ignore; ce_time required (an event without it is refused)
# 2.0: per-provider topics activation.requests.<provider_id> (requests, deactivation copies)
#      and providers.reports.<provider_id>; no WeeklyCheckDone.notes; override.team with a
#      fixed text; provider ids topic-safe. The changelog is docs/contract.md.
# 2.1: the district's decisions (PlanRevised, escalations resolved, hand-over, ...)
# 2.2: the desk reads every topic, and writes a provider's reports for a provider that uses
#      its portal instead of an adapter of its own (documentation only: no schema changes)
VERSION = "2.2.0"

PRODUCERS = {
    "hospital.discharges": "hospital systems (directly, or via the HL7 v2 / FHIR gateway)",
    "intake.cases": "the intake service",
    "activation.services": "the activation service",
    "activation.requests": "the activation service",
    "providers.reports": "the provider's own adapter (that provider alone), or the desk's "
    "portal for a provider without a system of its own, with the provider's source",
    "monitoring.cases": "the monitoring service",
    "billing.ledger": "the billing service",
}
PROVIDER_PARAMETER = "provider_id"
ACCESS = {
    ACTIVATION_REQUESTS: (
        "One topic per provider, `{provider_id}` being its id in the districts' registry: the "
        "only topic with the beneficiary's contact. Broker ACLs, literal on the topic name: "
        "the provider's principal may READ its own topic and no other; only activation may "
        "WRITE. Its dead letters go to its own `<topic>.dlq`, retained no longer than the "
        "topic, so no copy is readable more widely or kept longer than the request."
    ),
    PROVIDERS_REPORTS: (
        "One topic per provider, `{provider_id}` being its id in the districts' registry. "
        "Broker ACLs, literal on the topic name: only that provider's principal may WRITE; "
        "activation and billing READ the topics of the providers their districts register "
        "(an explicit list, never a pattern). A record whose `ce_source` is not "
        "`urn:dp:provider:{provider_id}`, or whose `provider_id` is not the topic's, is "
        "dead-lettered (`source.not_allowed`); so is an answer to a request activation did not "
        "send to that provider."
    ),
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

**Only the data each party needs.** Activation requests, the only events with the
beneficiary's contact (name, address, phone: never a fiscal code or clinical data), travel on
one topic per provider, `activation.requests.{provider_id}`, which broker ACLs let that
provider alone read; each provider writes its answers and deliveries on its own
`providers.reports.{provider_id}`. `activation.services` carries activations, deactivations and
escalations without personal data. Clinical free text (the team's check notes, an operator's
reason for overriding the rule) stays in the service that recorded it: events carry codes.
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


def _address(topics: Topics, name: str) -> str:
    """A topic's address; a per-provider family's with the ``{provider_id}`` parameter."""
    if name in PER_PROVIDER_TOPICS:
        return f"{topics.prefix}{name}.{{{PROVIDER_PARAMETER}}}"
    return topics.qualify(name)


def channels(topics: Topics | None = None) -> list[tuple[str, str, str]]:
    """(channel title, contract topic name, event type) of every channel, in contract order:
    by event type, then its own topic before those that get a copy."""
    topics = topics or Topics()
    return [
        (f"{_address(topics, name)}:{event_type}", name, event_type)
        for event_type, model in EVENT_TYPES.items()
        for name in (model.topic, *model.copied_to)
    ]


def contract_broker(readers: Readers, topics: Topics | None = None) -> KafkaBroker:
    topics = topics or Topics()
    read_by = _read_by(readers)
    broker = KafkaBroker("kafka:9092")
    for title, name, event_type in channels(topics):
        model = EVENT_TYPES[event_type]
        access = f"\n\n{ACCESS[name]}" if name in ACCESS else ""
        broker.publisher(
            title.rsplit(":", 1)[0],
            title=title,
            description=_unwrap(
                f"{model.__doc__ or event_type}\n\n"
                f"Written by {PRODUCERS[name]}; read by {read_by[name]}. "
                f"Header `ce_type: {event_type}`.{access}"
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
    """Channels, operations or messages (keyed ``<topic>:<event type>[:Message]``) in the
    order of ``channels()``."""
    rank = {title: i for i, (title, _, _) in enumerate(channels())}
    return dict(sorted(items.items(), key=lambda item: rank[item[0].removesuffix(":Message")]))


def _with_parameters(spec: ApplicationSchema) -> None:
    """Describe the ``{provider_id}`` of per-provider channels (the framework does not)."""
    parameter = {
        "description": (
            "The provider's id in the districts' registry (letters, digits, '-' and '_')."
        ),
        "examples": ["coop-il-melograno"],
    }
    for channel in spec.channels.values():
        if f"{{{PROVIDER_PARAMETER}}}" in (channel.address or ""):
            channel.parameters = {PROVIDER_PARAMETER: parameter}  # type: ignore[attr-defined]


def specification(readers: Readers) -> ApplicationSchema:
    """The document in a stable order: the framework collects channels in no particular
    order, which would reshuffle the files at every generation."""
    spec = document(readers).to_specification()
    assert isinstance(spec, ApplicationSchema)
    _with_parameters(spec)
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
