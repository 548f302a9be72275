"""The published contract documentation is generated from the code and must not drift."""

from __future__ import annotations

import json
from pathlib import Path

from cerniera.shared.contract import EVENT_TYPES
from cerniera.shared.contract.asyncapi import document

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_every_event_type_has_a_channel_with_its_schema() -> None:
    spec = json.loads(document().to_specification().to_json())
    channels = spec["channels"]
    for event_type, model in EVENT_TYPES.items():
        channel = next(c for name, c in channels.items() if name.endswith(f":{event_type}"))
        assert channel["address"] == f"dp.{model.topic}"
    schemas = spec["components"]["schemas"]
    assert "fiscal_code" in json.dumps(schemas["DischargeAnnounced"])


def test_committed_docs_match_the_code() -> None:
    """If this fails, run `./cerniera contract` and commit docs/."""
    generated = json.loads(document().to_specification().to_json())
    committed = json.loads((DOCS / "asyncapi.json").read_text(encoding="utf-8"))
    assert committed == generated
