"""Who may publish what, where: the one rule every consumer applies before a handler runs.

A consumer used to trust an event by its ``ce_type`` alone, so a provider could publish
``CaseClosed`` on its reports topic and monitoring would close the case. Now a record is
applied only when its type is one the contract writes to the record's topic family, and its
``ce_source`` is the one producer allowed to write it there:

- ``hospital.*``: the hospital the payload names, ``urn:dp:hospital:<hospital_id>`` (the HL7 /
  FHIR gateway speaks for the hospital with that source);
- ``providers.*``: the provider the payload names, ``urn:dp:provider:<provider_id>``;
- every other topic: the service named by its first segment (the contract keeps one topic per
  producing context: ``intake.cases`` is intake's), ``urn:dp:service:<name>``.

Provider traffic may also travel on per-provider topics, ``activation.requests.<provider_id>``
and ``providers.reports.<provider_id>``: there the payload's ``provider_id`` must be the topic's
provider too. Pure: no I/O, so it is unit-tested on its own.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Final

from cerniera.shared.contract.events import (
    ACTIVATION_SERVICES,
    PROVIDERS_REPORTS,
    TOPIC_NAMES,
    EventData,
    topic_events,
)
from cerniera.shared.contract.topics import DEFAULT_PREFIX

__all__ = [
    "NOT_ALLOWED",
    "Family",
    "allowed_source",
    "family_of",
    "hospital_source",
    "provider_source",
    "refusal",
    "service_source",
]

NOT_ALLOWED: Final = "source.not_allowed"
"""The dead-letter reason code of a record refused by these rules."""

HOSPITAL_PREFIX: Final = "urn:dp:hospital:"
SERVICE_PREFIX: Final = "urn:dp:service:"
PROVIDER_PREFIX: Final = "urn:dp:provider:"

REQUESTS_PER_PROVIDER: Final = "activation.requests"
"""Base of the per-provider request topics, ``activation.requests.<provider_id>``."""
_PER_PROVIDER: Final = (REQUESTS_PER_PROVIDER, PROVIDERS_REPORTS)
_SHOWN: Final = 120  # a ce_source is the sender's text: quoted in a refusal, never in full


def hospital_source(hospital_id: str) -> str:
    return f"{HOSPITAL_PREFIX}{hospital_id}"


def service_source(service: str) -> str:
    return f"{SERVICE_PREFIX}{service}"


def provider_source(provider_id: str) -> str:
    return f"{PROVIDER_PREFIX}{provider_id}"


@dataclass(frozen=True, slots=True)
class Family:
    """A topic's family: its contract name without prefix, and the provider of a
    per-provider topic."""

    base: str
    provider_id: str | None = None

    @property
    def event_types(self) -> frozenset[type[EventData]]:
        """The event types the contract puts on topics of this family."""
        return _event_types(self.base)


@functools.cache  # asked of every record a consumer reads: the answer never changes
def _event_types(base: str) -> frozenset[type[EventData]]:
    if base in TOPIC_NAMES:
        return frozenset(topic_events(base))
    # Requests to one provider: activation's events about that provider's requests.
    return frozenset(m for m in topic_events(ACTIVATION_SERVICES) if _names_provider(m))


@functools.lru_cache(maxsize=4096)  # a few topics, read over and over
def family_of(topic: str, prefix: str = DEFAULT_PREFIX) -> Family | None:
    """The family of a full topic name under ``prefix``; None for any other topic."""
    if not topic.startswith(prefix):
        return None
    name = topic.removeprefix(prefix)
    if name in TOPIC_NAMES:
        return Family(name)
    for base in _PER_PROVIDER:
        provider = name.removeprefix(f"{base}.")
        if provider != name and provider:
            return Family(base, provider)
    return None


def allowed_source(data: EventData, family: Family | None = None) -> str:
    """The one ``ce_source`` allowed to publish ``data`` (on its contract topic by default)."""
    base = family.base if family is not None else data.topic
    context = base.split(".", 1)[0]
    if context == "hospital":
        return hospital_source(str(getattr(data, "hospital_id", "")))
    if context == "providers":
        return provider_source(str(getattr(data, "provider_id", "")))
    return service_source(context)


def refusal(topic: str, data: EventData, source: str, prefix: str = DEFAULT_PREFIX) -> str | None:
    """None when ``source`` may publish ``data`` on ``topic``; else why not, naming the type,
    the source and the topic (never anything of the payload but the ids that decide)."""
    family = family_of(topic, prefix)
    shown = source[:_SHOWN]
    if family is None:
        return f"{data.event_type} from {shown!r}: {topic!r} is not a contract topic"
    if type(data) not in family.event_types:
        return f"{data.event_type} from {shown!r} does not belong on {topic!r}"
    expected = allowed_source(data, family)
    if source != expected:
        return f"{data.event_type} on {topic!r} from {shown!r}: only {expected!r} may publish it"
    provider = getattr(data, "provider_id", None)
    if family.provider_id is not None and provider != family.provider_id:
        return (
            f"{data.event_type} for provider {provider!r} on {topic!r}, "
            f"the topic of provider {family.provider_id!r}"
        )
    return None


def _names_provider(model: type[EventData]) -> bool:
    return "provider_id" in model.model_fields
