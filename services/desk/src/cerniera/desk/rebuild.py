"""(placeholder: rebuild the read model from the topics)"""

from __future__ import annotations


async def rebuild() -> None:
    raise SystemExit("not yet")
