"""Kafka topic names: the contract's defaults under a configurable prefix (default "dp.")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from cerniera.shared.contract.events import (
    ACTIVATION_SERVICES,
    BILLING_LEDGER,
    EVENT_TYPES,
    HOSPITAL_DISCHARGES,
    INTAKE_CASES,
    MONITORING_CASES,
    PROVIDERS_REPORTS,
    TOPIC_NAMES,
    EventData,
    topic_events,
)

__all__ = ["DEFAULT_PREFIX", "DLQ_SUFFIX", "Topics"]

DEFAULT_PREFIX: Final = "dp."
DLQ_SUFFIX: Final = ".dlq"

# Kafka's legal topic characters; the longest base name plus ".dlq" must stay under 249.
_PREFIX_RE: Final = re.compile(r"^[A-Za-z0-9._-]{0,200}$")


@dataclass(frozen=True, slots=True)
class Topics:
    """Full topic names under one prefix, so several deployments can share a cluster."""

    prefix: str = DEFAULT_PREFIX

    def __post_init__(self) -> None:
        if not _PREFIX_RE.fullmatch(self.prefix):
            raise ValueError(f"invalid topic prefix {self.prefix!r}: use [A-Za-z0-9._-]")

    def qualify(self, name: str) -> str:
        """The full name of a topic given without prefix, e.g. "intake.cases"."""
        if name not in TOPIC_NAMES:
            raise ValueError(f"unknown topic {name!r}; expected one of {', '.join(TOPIC_NAMES)}")
        return f"{self.prefix}{name}"

    @property
    def hospital_discharges(self) -> str:
        """Written by hospital systems: discharges announced, rescheduled, cancelled."""
        return self.qualify(HOSPITAL_DISCHARGES)

    @property
    def intake_cases(self) -> str:
        """Written by intake: eligibility decisions."""
        return self.qualify(INTAKE_CASES)

    @property
    def activation_services(self) -> str:
        """Written by activation: requests to providers, activations, escalations."""
        return self.qualify(ACTIVATION_SERVICES)

    @property
    def providers_reports(self) -> str:
        """Written by provider adapters: answers to requests and deliveries."""
        return self.qualify(PROVIDERS_REPORTS)

    @property
    def monitoring_cases(self) -> str:
        """Written by monitoring: weekly checks and closures."""
        return self.qualify(MONITORING_CASES)

    @property
    def billing_ledger(self) -> str:
        """Written by billing: budget thresholds and provider statements."""
        return self.qualify(BILLING_LEDGER)

    def for_event(self, event: EventData | type[EventData] | str) -> str:
        """The full topic of an event given as instance, model class or `ce_type`."""
        if isinstance(event, str):
            try:
                event = EVENT_TYPES[event]
            except KeyError:
                raise ValueError(f"unknown event type {event!r}") from None
        return self.qualify(event.topic)

    def events_on(self, topic: str) -> list[type[EventData]]:
        """The event models written to a full topic name (with this prefix)."""
        if not topic.startswith(self.prefix):
            raise ValueError(f"topic {topic!r} does not start with prefix {self.prefix!r}")
        return topic_events(topic.removeprefix(self.prefix))

    @staticmethod
    def dlq(topic: str) -> str:
        """The dead-letter topic of ``topic``: unreadable records go there, never dropped."""
        return f"{topic}{DLQ_SUFFIX}"

    @staticmethod
    def is_dlq(topic: str) -> bool:
        """Whether ``topic`` is a dead-letter topic."""
        return topic.endswith(DLQ_SUFFIX)

    @staticmethod
    def dlq_origin(dlq_topic: str) -> str:
        """The topic whose dead letters ``dlq_topic`` holds (where a replay sends them)."""
        if not Topics.is_dlq(dlq_topic):
            raise ValueError(f"{dlq_topic!r} is not a dead-letter topic (no {DLQ_SUFFIX} suffix)")
        return dlq_topic.removesuffix(DLQ_SUFFIX)

    def all(self) -> list[str]:
        """The six contract topics, full names, in contract order."""
        return [self.qualify(name) for name in TOPIC_NAMES]

    def all_with_dlq(self) -> list[str]:
        """The six contract topics, each followed by its dead-letter topic."""
        return [name for topic in self.all() for name in (topic, self.dlq(topic))]
