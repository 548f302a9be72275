"""Kafka records without a broker: what the consumer and the dead letters read of one."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

_offsets = itertools.count()


@dataclass
class FakeRecord:
    """What the consumer reads of an aiokafka ``ConsumerRecord``; each one a new offset unless
    given."""

    value: bytes | None
    headers: list[tuple[str, bytes]]
    topic: str = "dp.hospital.discharges"
    partition: int = 0
    offset: int = field(default_factory=lambda: next(_offsets))
    key: bytes | None = None
