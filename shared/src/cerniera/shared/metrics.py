"""Prometheus metrics: what an operator watches to know events flow and nothing is stuck.

Served at ``/metrics`` beside each service's HTTP API (``runtime.ServiceRuntime``).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

EVENTS = Counter(
    "cerniera_events_total",
    "Consumed events by outcome: processed, duplicate (inbox), ignored (type not handled), "
    "dead_lettered.",
    ["service", "outcome"],
)
BATCH_FAILURES = Counter(
    "cerniera_batch_failures_total",
    "Batches that failed on infrastructure and were sought back to be retried.",
    ["service"],
)
PUBLISHED = Counter(
    "cerniera_outbox_published_total", "Outbox rows published and acknowledged.", ["service"]
)
OUTBOX_PENDING = Gauge(
    "cerniera_outbox_pending", "Outbox rows waiting at the last relay pass.", ["service"]
)
OUTBOX_PARKED = Counter(
    "cerniera_outbox_parked_total",
    "Outbox rows the broker refused for good, parked with their error (their case waits).",
    ["service"],
)
