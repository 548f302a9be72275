"""``cerniera contract``: who reads each topic, from the subscriptions that really run.

The shared library cannot import the services, so the AsyncAPI document takes its readers
from here: each service's ``spec().subscribes`` and the provider adapter's ``subscribes``,
the very functions their consumers subscribe with.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from cerniera.activation import service as activation
from cerniera.billing import service as billing
from cerniera.desk import service as desk
from cerniera.gateway import service as gateway
from cerniera.gateway.config import GatewaySettings
from cerniera.intake import service as intake
from cerniera.monitoring import service as monitoring
from cerniera.provider_adapter import adapter as provider_adapter
from cerniera.shared.ambiti import provider_ids
from cerniera.shared.contract import Topics
from cerniera.shared.contract.asyncapi import write

Subscriptions = Callable[[Topics], list[str]]


def subscriptions() -> dict[str, Subscriptions]:
    """Every reader of the contract in this repository, by the name the document gives it."""
    return {
        "intake": intake.spec().subscribes,
        "activation": activation.spec().subscribes,
        "monitoring": monitoring.spec().subscribes,
        "billing": billing.spec().subscribes,
        "gateway": gateway.spec(GatewaySettings()).subscribes,
        "desk": desk.spec().subscribes,
        # Each adapter reads its own provider's topic; any registered provider shows the family.
        "provider adapters": partial(provider_adapter.subscribes, providers=provider_ids()),
    }


def readers() -> dict[str, list[str]]:
    """Who reads each contract topic (by its name without prefix or provider), in the order
    above."""
    topics = Topics()
    read: dict[str, list[str]] = {}
    for reader, subscribes in subscriptions().items():
        for topic in subscribes(topics):
            readers_of = read.setdefault(topics.contract_name(topic), [])
            if reader not in readers_of:  # a family's topics, one per provider: named once
                readers_of.append(reader)
    return read


def write_contract(directory: Path) -> list[Path]:
    """Write ``asyncapi.yaml`` and ``asyncapi.json`` into ``directory``."""
    return write(directory, readers())
