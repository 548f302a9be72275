"""(placeholder: the projection of every event into the read model)"""

from __future__ import annotations

from cerniera.desk.live import Changes
from cerniera.shared.messaging.consumer import Handlers


def make_handlers(changes: Changes) -> Handlers:
    return {}
