"""The published contract documentation is generated from the code and must not drift."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cerniera.cli.contract import readers, subscriptions, write_contract
from cerniera.cli.up import SERVICES
from cerniera.shared.contract import EVENT_TYPES, PER_PROVIDER_TOPICS, TOPIC_NAMES
from cerniera.shared.contract.asyncapi import NO_READER, channels, specification

DOCS = Path(__file__).resolve().parents[3] / "docs"


def generated() -> dict[str, object]:
    spec: dict[str, object] = json.loads(specification(readers()).to_json())
    return spec


def read_by(spec: dict[str, object], event_type: str) -> str:
    """Who reads the event's own topic (its first channel)."""
    channels = spec["channels"]
    assert isinstance(channels, dict)
    channel = next(c for name, c in channels.items() if name.endswith(f":{event_type}"))
    description: str = channel["description"]
    return description.split("; read by ", 1)[1].split(". Header", 1)[0]


def test_every_event_type_has_a_channel_per_topic_with_its_schema() -> None:
    spec = json.loads(specification({}).to_json())
    channels = spec["channels"]
    assert len(channels) == len(EVENT_TYPES) + 1  # ServiceDeactivated: a copy per provider
    for event_type, model in EVENT_TYPES.items():
        found = [c for name, c in channels.items() if name.endswith(f":{event_type}")]
        for channel, name in zip(found, (model.topic, *model.copied_to), strict=True):
            per_provider = name in PER_PROVIDER_TOPICS
            assert channel["address"] == f"dp.{name}" + (".{provider_id}" if per_provider else "")
            assert f"Header `ce_type: {event_type}`" in channel["description"]
            assert ("provider_id" in channel.get("parameters", {})) == per_provider
            assert ("literal" in channel["description"]) == per_provider  # the ACL design
    schemas = spec["components"]["schemas"]
    assert "fiscal_code" in json.dumps(schemas["DischargeAnnounced"])
    assert "fiscal_code" not in json.dumps(schemas["ServiceActivationRequested"])
    assert "notes" not in schemas["WeeklyCheckDone"]["properties"]


def test_channels_come_in_the_contract_order_so_regenerating_changes_nothing() -> None:
    spec = json.loads(specification({}).to_json())
    order = [title for title, _, _ in channels()]
    deactivations = [name for name in order if name.endswith(":ServiceDeactivated")]
    assert [name.split(":")[0] for name in deactivations] == [
        "dp.activation.services",
        "dp.activation.requests.{provider_id}",
    ]
    assert list(spec["channels"]) == order
    assert list(spec["operations"]) == order
    assert [name.removesuffix(":Message") for name in spec["components"]["messages"]] == order


def test_every_service_that_runs_is_asked_who_it_reads() -> None:
    assert set(SERVICES) <= set(subscriptions())


def test_readers_are_the_subscriptions_that_really_run() -> None:
    """Spot checks against what each service's consumer subscribes to."""
    read = readers()
    assert set(read) <= set(TOPIC_NAMES)
    assert read["hospital.discharges"] == ["intake", "activation", "monitoring", "desk"]
    assert "gateway" in read["intake.cases"]  # it learns there when a case is rejected
    # Adapters read their own provider's requests, never the shared activation topic.
    # The desk reads them too: its portal is the adapter of providers without a system.
    assert read["activation.requests"] == ["desk", "provider adapters"]
    assert "provider adapters" not in read.get("activation.services", [])
    assert read["providers.reports"] == ["activation", "billing", "desk"]
    # The desk reads every topic (its read model): billing's ledger too.
    assert all("desk" in readers_of for readers_of in read.values())
    assert "intake" in read["monitoring.cases"]  # a closed case refuses the team's changes


def test_a_topic_no_one_here_reads_says_so() -> None:
    spec = json.loads(specification({"intake.cases": ["activation"]}).to_json())
    assert read_by(spec, "EligibilityConfirmed") == "activation"
    assert read_by(spec, "DischargeAnnounced") == NO_READER
    assert read_by(generated(), "ProviderStatementIssued") == "desk"  # billing.ledger


def test_readers_of_an_unknown_topic_are_refused() -> None:
    with pytest.raises(ValueError, match=r"intake\.case\b"):
        specification({"intake.case": ["activation"]})


def test_committed_docs_match_the_code(tmp_path: Path) -> None:
    """If this fails, run `./cerniera contract` and commit docs/."""
    committed = json.loads((DOCS / "asyncapi.json").read_text(encoding="utf-8"))
    assert committed == generated()
    for path in write_contract(tmp_path):  # byte for byte, so a regeneration is a no-op
        assert (DOCS / path.name).read_bytes() == path.read_bytes(), path.name
