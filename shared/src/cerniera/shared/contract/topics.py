"""Kafka topic names: the contract's defaults under a configurable prefix (default "dp.").

Most topics are one per deployment. Two families have one topic per provider, so that the
broker's literal, per-topic ACLs can give each provider's principal READ on its own requests
(``activation.requests.<provider_id>``: the only events with the beneficiary's contact) and
WRITE on its own reports (``providers.reports.<provider_id>``), and nothing else. Their dead
letters are per provider too (``<topic>.dlq``), so a dead-letter copy is no more widely
readable than its record, and is kept no longer: a ``.dlq`` has its topic's retention (set by
the operator's provisioning, deploy/kafka/setup-acls.sh; a topic a service creates itself
gets the broker's default, the same for both).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from cerniera.shared.contract.events import (
    ACTIVATION_REQUESTS,
    ACTIVATION_SERVICES,
    BILLING_LEDGER,
    EVENT_TYPES,
    HOSPITAL_DISCHARGES,
    INTAKE_CASES,
    MONITORING_CASES,
    PER_PROVIDER_TOPICS,
    PROVIDER_ID_PATTERN,
    PROVIDERS_REPORTS,
    TOPIC_NAMES,
    EventData,
    topic_events,
)

__all__ = ["DEFAULT_PREFIX", "DLQ_SUFFIX", "Topics"]

DEFAULT_PREFIX: Final = "dp."
DLQ_SUFFIX: Final = ".dlq"

# Kafka's legal topic characters; a full name plus ".dlq" must stay within Kafka's 249.
_PREFIX_RE: Final = re.compile(r"^[A-Za-z0-9._-]{0,200}$")
_PROVIDER_RE: Final = re.compile(PROVIDER_ID_PATTERN)
_MAX_TOPIC: Final = 249


@dataclass(frozen=True, slots=True)
class Topics:
    """Full topic names under one prefix, so several deployments can share a cluster."""

    prefix: str = DEFAULT_PREFIX

    def __post_init__(self) -> None:
        if not _PREFIX_RE.fullmatch(self.prefix):
            raise ValueError(f"invalid topic prefix {self.prefix!r}: use [A-Za-z0-9._-]")

    def qualify(self, name: str) -> str:
        """The full name of a topic given without prefix, e.g. "intake.cases"."""
        if name in PER_PROVIDER_TOPICS:
            raise ValueError(f"{name!r} is one topic per provider: name the provider")
        if name not in TOPIC_NAMES:
            raise ValueError(f"unknown topic {name!r}; expected one of {', '.join(TOPIC_NAMES)}")
        return f"{self.prefix}{name}"

    def per_provider(self, family: str, provider_id: str) -> str:
        """The topic of ``family`` (``activation.requests`` or ``providers.reports``) for one
        provider."""
        if family not in PER_PROVIDER_TOPICS:
            raise ValueError(f"{family!r} is not a per-provider topic")
        if not _PROVIDER_RE.fullmatch(provider_id):
            raise ValueError(f"provider id {provider_id!r} cannot name a topic: {_PROVIDER_RE}")
        topic = f"{self.prefix}{family}.{provider_id}"
        if len(topic) + len(DLQ_SUFFIX) > _MAX_TOPIC:
            raise ValueError(f"topic {topic!r} is too long for Kafka (with {DLQ_SUFFIX})")
        return topic

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
        """Written by activation: activations, deactivations, escalations (no personal data)."""
        return self.qualify(ACTIVATION_SERVICES)

    def provider_requests(self, provider_id: str) -> str:
        """Written by activation, read by that provider alone: its requests (with the
        beneficiary's contact) and their deactivations."""
        return self.per_provider(ACTIVATION_REQUESTS, provider_id)

    def provider_reports(self, provider_id: str) -> str:
        """Written by that provider alone: its answers to requests and its deliveries."""
        return self.per_provider(PROVIDERS_REPORTS, provider_id)

    @property
    def monitoring_cases(self) -> str:
        """Written by monitoring: weekly checks and closures."""
        return self.qualify(MONITORING_CASES)

    @property
    def billing_ledger(self) -> str:
        """Written by billing: budget thresholds and provider statements."""
        return self.qualify(BILLING_LEDGER)

    def _topic_of(self, name: str, event: EventData | type[EventData]) -> str:
        if name not in PER_PROVIDER_TOPICS:
            return self.qualify(name)
        provider_id = getattr(event, "provider_id", None)
        if not isinstance(provider_id, str):
            raise ValueError(f"{name} is one topic per provider: give the event, not its type")
        return self.per_provider(name, provider_id)

    def for_event(self, event: EventData | type[EventData] | str) -> str:
        """The full topic of an event given as instance, model class or `ce_type` (only an
        instance names the provider of a per-provider topic)."""
        if isinstance(event, str):
            try:
                event = EVENT_TYPES[event]
            except KeyError:
                raise ValueError(f"unknown event type {event!r}") from None
        return self._topic_of(event.topic, event)

    def destinations(self, event: EventData) -> list[str]:
        """Every topic ``event`` is published to: its own, then those that get a copy."""
        return [self._topic_of(name, event) for name in (event.topic, *event.copied_to)]

    def contract_name(self, topic: str) -> str:
        """The contract's name (no prefix, no provider) of a full topic name, e.g.
        "providers.reports" for "dp.providers.reports.coop-il-melograno"."""
        if not topic.startswith(self.prefix):
            raise ValueError(f"topic {topic!r} does not start with prefix {self.prefix!r}")
        name = topic.removeprefix(self.prefix)
        family, _, provider_id = name.rpartition(".")
        if family in PER_PROVIDER_TOPICS and _PROVIDER_RE.fullmatch(provider_id):
            return family
        if name in TOPIC_NAMES and name not in PER_PROVIDER_TOPICS:
            return name
        raise ValueError(f"{topic!r} is no contract topic under prefix {self.prefix!r}")

    def provider_of(self, topic: str) -> str | None:
        """The provider whose own topic ``topic`` is, or None for a shared topic."""
        if self.contract_name(topic) not in PER_PROVIDER_TOPICS:
            return None
        return topic.rpartition(".")[2]

    def events_on(self, topic: str) -> list[type[EventData]]:
        """The event models written to a full topic name (with this prefix)."""
        return topic_events(self.contract_name(topic))

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

    def all(self, providers: Iterable[str] = ()) -> list[str]:
        """The contract topics, full names, in contract order: each per-provider family once
        for each of ``providers`` (the districts' registry, ``ambiti.provider_ids``)."""
        ids = list(dict.fromkeys(providers))
        return [
            name
            for family in TOPIC_NAMES
            for name in (
                [self.per_provider(family, p) for p in ids]
                if family in PER_PROVIDER_TOPICS
                else [self.qualify(family)]
            )
        ]

    def all_with_dlq(self, providers: Iterable[str] = ()) -> list[str]:
        """The contract topics (see ``all``), each followed by its dead-letter topic."""
        return [name for topic in self.all(providers) for name in (topic, self.dlq(topic))]
