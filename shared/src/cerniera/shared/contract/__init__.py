"""The public event contract of Cerniera as pydantic models (see /work/shared/contract.md).

Hospitals, provider adapters and other districts integrate through Kafka alone, so these
models, field types and topic names are the one source for validation and generated docs.
What the package exports is what its modules export: the events (``events``), the topic
names (``topics``) and the field types (``types``).
"""

from cerniera.shared.contract import events, topics, types
from cerniera.shared.contract.events import *  # noqa: F403
from cerniera.shared.contract.topics import *  # noqa: F403
from cerniera.shared.contract.types import *  # noqa: F403

__all__ = events.__all__ + topics.__all__ + types.__all__
