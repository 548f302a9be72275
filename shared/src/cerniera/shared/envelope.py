"""CloudEvents 1.0 over Kafka: binary content mode out, binary and structured mode in.

The Kafka protocol binding is fifteen header names; it is written here rather than taken from
the CloudEvents SDK because the SDK's 2.x line declares itself unstable and has moved its Kafka
binding, while this contract must not move.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import ValidationError

from cerniera.shared.contract import EVENT_TYPES, EventData

SPEC_VERSION = "1.0"
JSON = "application/json"
STRUCTURED = "application/cloudevents+json"

Headers = Sequence[tuple[str, bytes]]
D = TypeVar("D", bound=EventData)


class InvalidRecord(Exception):  # noqa: N818 - a verdict on a record, not a crash
    """A record that can never be processed as it is: it belongs on the dead-letter topic."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Envelope:
    """One event: CloudEvents attributes plus the validated contract payload."""

    data: EventData
    source: str
    subject: str | None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    correlation_id: str | None = None
    causation_id: str | None = None

    @property
    def type(self) -> str:
        return self.data.event_type

    @property
    def chain_id(self) -> str:
        """The correlation id of the chain this event belongs to: its own id when it starts
        one (no ``correlation_id`` given). Stored with a case so later work stays in its chain."""
        return self.correlation_id or self.id

    @property
    def digest(self) -> str:
        """A digest of what the event says (its type and data, whatever the encoding it came
        in): the same id with another digest is another event, not a redelivery."""
        body = f"{self.type}\n{self.data.model_dump_json()}".encode()
        return hashlib.sha256(body).hexdigest()

    def data_as(self, kind: builtins.type[D]) -> D:
        """The data, for a handler registered for ``kind`` (so it can be nothing else)."""
        assert isinstance(self.data, kind), f"{self.type} is not a {kind.__name__}"
        return self.data

    @property
    def dedup_key(self) -> tuple[str, str]:
        """The consumer's deduplication key: ``ce_id`` together with ``ce_source``."""
        return (self.source, self.id)

    def caused(
        self,
        data: EventData,
        *,
        source: str,
        subject: str | None = None,
        time: datetime | None = None,
    ) -> Envelope:
        """A new event caused by this one: same correlation id, causation = this event's id."""
        return Envelope(
            data=data,
            source=source,
            subject=subject if subject is not None else self.subject,
            time=time or datetime.now(UTC),
            correlation_id=self.chain_id,
            causation_id=self.id,
        )

    def to_binary(self) -> tuple[bytes, list[tuple[str, bytes]]]:
        """The Kafka record value and headers in binary content mode."""
        headers = [
            ("ce_specversion", SPEC_VERSION.encode()),
            ("ce_id", self.id.encode()),
            ("ce_source", self.source.encode()),
            ("ce_type", self.type.encode()),
            ("ce_time", _rfc3339(self.time).encode()),
            ("content-type", JSON.encode()),
        ]
        if self.subject is not None:
            headers.append(("ce_subject", self.subject.encode()))
        if self.correlation_id is not None:
            headers.append(("ce_correlationid", self.correlation_id.encode()))
        if self.causation_id is not None:
            headers.append(("ce_causationid", self.causation_id.encode()))
        return self.data.model_dump_json().encode(), headers

    def to_structured(self) -> bytes:
        """The whole event as one JSON document (structured content mode)."""
        doc: dict[str, Any] = {
            "specversion": SPEC_VERSION,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": _rfc3339(self.time),
            "datacontenttype": JSON,
            "data": self.data.model_dump(mode="json"),
        }
        if self.subject is not None:
            doc["subject"] = self.subject
        if self.correlation_id is not None:
            doc["correlationid"] = self.correlation_id
        if self.causation_id is not None:
            doc["causationid"] = self.causation_id
        return json.dumps(doc).encode()


def decode(value: bytes | None, headers: Headers) -> Envelope:
    """Read a record in either content mode; raise InvalidRecord saying exactly what is wrong.

    Whatever a record holds (nesting deep enough to exhaust the parser's recursion, bytes that
    are no text, ...), reading it fails only with InvalidRecord: a record that cannot be read
    goes to the dead letters and never blocks its partition."""
    try:
        return _decode(value, headers)
    except InvalidRecord:
        raise
    except RecursionError as error:
        raise InvalidRecord("record.too_deep", "nested too deeply to be read") from error
    except Exception as error:
        raise InvalidRecord("record.unreadable", f"{type(error).__name__}: {error}") from error


def _decode(value: bytes | None, headers: Headers) -> Envelope:
    header_map = {name.lower(): raw for name, raw in headers}
    content_type = _text(header_map.get("content-type", b"")).split(";")[0].strip().lower()
    if value is None:
        raise InvalidRecord("record.tombstone", "the record has no value")
    if content_type == STRUCTURED:
        return _decode_structured(value)
    if "ce_specversion" not in header_map:
        raise InvalidRecord(
            "cloudevents.missing_attributes",
            "neither binary-mode ce_* headers nor content-type application/cloudevents+json",
        )
    attributes = {
        name[3:]: _text(raw) for name, raw in header_map.items() if name.startswith("ce_")
    }
    data_type = _event_model(attributes)
    try:
        data = data_type.model_validate_json(value)
    except ValidationError as error:
        raise InvalidRecord("data.invalid", _describe(error)) from error
    return _envelope(attributes, data)


def _decode_structured(value: bytes) -> Envelope:
    try:
        doc = json.loads(value)
    except ValueError as error:
        raise InvalidRecord("json.malformed", str(error)) from error
    if not isinstance(doc, dict):
        raise InvalidRecord("cloudevents.not_an_object", "a structured event is a JSON object")
    attributes = {k: str(v) for k, v in doc.items() if k not in ("data", "data_base64")}
    data_type = _event_model(attributes)
    try:
        data = data_type.model_validate(doc.get("data"))
    except ValidationError as error:
        raise InvalidRecord("data.invalid", _describe(error)) from error
    return _envelope(attributes, data)


def _event_model(attributes: Mapping[str, str]) -> type[EventData]:
    missing = [a for a in ("specversion", "id", "source", "type") if not attributes.get(a)]
    if missing:
        raise InvalidRecord("cloudevents.missing_attributes", f"missing: {', '.join(missing)}")
    if attributes["specversion"] != SPEC_VERSION:
        raise InvalidRecord(
            "cloudevents.unsupported_specversion", f"specversion {attributes['specversion']!r}"
        )
    model = EVENT_TYPES.get(attributes["type"])
    if model is None:
        raise InvalidRecord(
            "cloudevents.unknown_type", f"unknown event type {attributes['type']!r}"
        )
    return model


def _envelope(attributes: Mapping[str, str], data: EventData) -> Envelope:
    raw_time = attributes.get("time")
    if not raw_time:  # the contract requires it: deadlines are judged by when it happened
        raise InvalidRecord("cloudevents.missing_time", "the event has no time (ce_time)")
    try:
        time = datetime.fromisoformat(raw_time)
    except ValueError as error:
        raise InvalidRecord("cloudevents.invalid_time", f"time {raw_time!r}") from error
    if time.tzinfo is None:
        raise InvalidRecord("cloudevents.invalid_time", f"time {raw_time!r} has no time zone")
    return Envelope(
        data=data,
        id=attributes["id"],
        source=attributes["source"],
        subject=attributes.get("subject"),
        time=time,
        correlation_id=attributes.get("correlationid"),
        causation_id=attributes.get("causationid"),
    )


def _describe(error: ValidationError) -> str:
    """Pydantic's errors as one line a hospital integrator can act on."""
    parts = []
    for item in error.errors(include_url=False)[:10]:
        where = ".".join(str(p) for p in item["loc"]) or "(root)"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")
