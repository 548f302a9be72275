"""Reading records: every failure is an InvalidRecord with a code, whatever the record holds."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from cerniera.shared.contract import DischargeCancelled
from cerniera.shared.envelope import STRUCTURED, Envelope, InvalidRecord, decode

CANCELLED = DischargeCancelled(
    hospital_id="asst-vimercate",
    discharge_ref="V2026-000123",
)


def _event() -> Envelope:
    return Envelope(
        data=CANCELLED,
        source="urn:dp:hospital:asst-vimercate",
        subject="asst-vimercate:V2026-000123",
        time=datetime(2026, 11, 2, 9, 5, tzinfo=UTC),
        correlation_id="c-1",
        causation_id="e-0",
    )


def _code(value: bytes | None, headers: list[tuple[str, bytes]]) -> str:
    with pytest.raises(InvalidRecord) as refused:
        decode(value, headers)
    return refused.value.code


def test_binary_and_structured_round_trip() -> None:
    event = _event()
    payload, headers = event.to_binary()
    assert decode(payload, headers) == event
    assert decode(event.to_structured(), [("content-type", STRUCTURED.encode())]) == event


def test_a_structured_record_nested_thousands_of_levels_deep_is_invalid_not_a_crash() -> None:
    doc = json.loads(_event().to_structured())
    body = json.dumps(doc)[:-1] + ', "deep": ' + "[" * 5000 + "]" * 5000 + "}"
    assert _code(body.encode(), [("content-type", STRUCTURED.encode())]) == "record.too_deep"


def test_binary_data_nested_deeply_is_invalid() -> None:
    _, headers = _event().to_binary()
    assert _code(b"[" * 5000 + b"]" * 5000, headers) in {"data.invalid", "record.too_deep"}


def test_an_event_without_time_is_refused() -> None:
    payload, headers = _event().to_binary()
    without_time = [(name, value) for name, value in headers if name != "ce_time"]
    assert _code(payload, without_time) == "cloudevents.missing_time"
    doc = json.loads(_event().to_structured())
    del doc["time"]
    structured = [("content-type", STRUCTURED.encode())]
    assert _code(json.dumps(doc).encode(), structured) == "cloudevents.missing_time"


def test_a_time_without_zone_is_refused() -> None:
    payload, headers = _event().to_binary()
    naive = [(n, b"2026-11-02T09:05:00" if n == "ce_time" else v) for n, v in headers]
    assert _code(payload, naive) == "cloudevents.invalid_time"


@pytest.mark.parametrize(
    "value",
    [b"\xff\xfe not text", b"", b"null", b"{" * 3, "é".encode("latin-1")],
)
def test_garbage_in_structured_mode_is_invalid(value: bytes) -> None:
    code = _code(value, [("content-type", STRUCTURED.encode())])
    assert code in {"json.malformed", "cloudevents.not_an_object", "record.unreadable"}


def test_a_tombstone_is_invalid() -> None:
    _, headers = _event().to_binary()
    assert _code(None, headers) == "record.tombstone"
