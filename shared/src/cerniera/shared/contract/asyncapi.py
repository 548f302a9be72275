"""The public contract as an AsyncAPI document, generated from the pydantic models.

Every topic is described by the events its producer publishes there (one channel per event
type, so each has its own schema and examples) and by who reads it. Run
``cerniera contract`` (or ``python -m cerniera.shared.contract.asyncapi``) to write
``docs/asyncapi.yaml`` and ``docs/asyncapi.json``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from cerniera.shared.contract.events import EVENT_TYPES
from cerniera.shared.contract.topics import Topics

VERSION = "1.1.0"  # 1.1: HoursDelivered.evening, EligibilityRejected.decided_by (optional)

PRODUCERS = {
    "hospital.discharges": "hospital systems (directly, or via the HL7 v2 / FHIR gateway)",
    "intake.cases": "the intake service",
    "activation.services": "the activation service",
    "providers.reports": "provider adapters",
    "monitoring.cases": "the monitoring service",
    "billing.ledger": "the billing service",
}
READERS = {
    "hospital.discharges": "intake, activation, monitoring",
    "intake.cases": "activation, monitoring, billing",
    "activation.services": "provider adapters, monitoring, billing",
    "providers.reports": "activation, billing",
    "monitoring.cases": "intake, activation, billing",
    "billing.ledger": "anyone",
}

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
A record that cannot be read goes to `<topic>.dlq` with `dlq_reason_code` / `dlq_reason`
headers, and can be replayed with `cerniera dlq replay <topic>.dlq`.
Topic names carry a configurable prefix (default `dp.`).
"""


def _unwrap(text: str) -> str:
    """Join the source's wrapped lines into one line per paragraph (Markdown renders both)."""
    return "\n\n".join(" ".join(p.split()) for p in text.split("\n\n"))


def contract_broker(topics: Topics | None = None) -> KafkaBroker:
    topics = topics or Topics()
    broker = KafkaBroker("kafka:9092")
    for event_type, model in EVENT_TYPES.items():
        topic = topics.for_event(model)
        broker.publisher(
            topic,
            title=f"{topic}:{event_type}",
            description=(
                f"{(model.__doc__ or event_type).strip()}\n\n"
                f"Written by {PRODUCERS[model.topic]}; read by {READERS[model.topic]}. "
                f"Header `ce_type: {event_type}`."
            ),
            schema=model,
        )
    return broker


def document() -> AsyncAPI:
    return AsyncAPI(
        contract_broker(),
        title="Cerniera - Dimissioni Protette event contract",
        version=VERSION,
        description=_unwrap(DESCRIPTION),
        schema_version="3.0.0",
    )


def write(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    spec = document().to_specification()
    outputs = {
        directory / "asyncapi.yaml": spec.to_yaml(),
        directory / "asyncapi.json": spec.to_json(),
    }
    for path, text in outputs.items():
        path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return list(outputs)


def main(argv: list[str] | None = None) -> None:
    args = argv if argv is not None else sys.argv[1:]
    for path in write(Path(args[0] if args else "docs")):
        print(path)


if __name__ == "__main__":
    main()
