"""``cerniera send`` and ``cerniera watch`` without a broker: reading event files, and one
readable line per record."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cerniera.cli.events import describe, load_event
from cerniera.shared.contract import Topics
from cerniera.shared.messaging import dlq
from support.discharges import cancelled, from_hospital


def test_an_event_is_its_type_subject_and_data_without_personal_details() -> None:
    event = from_hospital(cancelled("V1"), correlation_id="chain-1")
    value, headers = event.to_binary()
    line = describe("dp.hospital.discharges", value, headers)
    assert line.startswith("[cyan]dp.hospital.discharges[/] [bold]DischargeCancelled[/]")
    assert "subject=asst-vimercate:V1 correlation=chain-1" in line
    assert '"reason": "Peggioramento clinico."' in line


def test_a_dead_letter_is_its_type_and_reason() -> None:
    topic = Topics().dlq("dp.hospital.discharges")
    headers = [
        ("ce_type", b"DischargeRescheduled"),
        (dlq.REASON_CODE, b"case.unknown"),
        (dlq.REASON, b"no such discharge"),
    ]
    line = describe(topic, b"{}", headers)
    assert line == (
        "[red]dp.hospital.discharges.dlq[/] DischargeRescheduled reason=case.unknown: "
        "no such discharge"
    )


def test_an_unreadable_record_says_why() -> None:
    line = describe("dp.hospital.discharges", b"{oops", [])
    assert (
        line
        == "[yellow]dp.hospital.discharges[/] unreadable record: cloudevents.missing_attributes"
    )


EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "events"


def test_an_example_file_gets_an_id_and_the_time_it_is_sent() -> None:
    assert "time" not in json.loads((EXAMPLES / "discharge-announced.json").read_text())
    before = datetime.now(UTC)
    event, raw = load_event(EXAMPLES / "discharge-announced.json")
    assert before <= event.time <= datetime.now(UTC) + timedelta(seconds=1)
    assert event.type == "DischargeAnnounced"
    assert event.subject == "asst-vimercate:V2026-000123"
    sent = json.loads(raw)
    assert (sent["id"], datetime.fromisoformat(sent["time"])) == (event.id, event.time)
    again, _ = load_event(EXAMPLES / "discharge-announced.json")
    assert again.id != event.id  # a new event each time it is sent


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.name)
def test_every_example_is_a_valid_event(path: Path) -> None:
    event, _ = load_event(path)
    assert event.type == json.loads(path.read_text())["type"]
