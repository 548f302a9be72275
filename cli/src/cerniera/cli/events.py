"""``cerniera send`` and ``cerniera watch``: put events on topics and see what comes out."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from rich.console import Console

from cerniera.shared.ambiti import provider_ids
from cerniera.shared.contract import Topics
from cerniera.shared.envelope import STRUCTURED, Envelope, InvalidRecord, decode
from cerniera.shared.messaging import dlq
from cerniera.shared.settings import KafkaSettings


def load_event(path: Path) -> tuple[Envelope, bytes]:
    """Read a structured CloudEvent from a JSON file (``id`` and ``time`` may be left out).

    Returns the validated event and the exact structured bytes to send in structured mode.
    """
    try:
        doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SystemExit(f"{path}: cannot read a JSON CloudEvent: {error}") from error
    doc.setdefault("specversion", "1.0")
    doc.setdefault("id", str(uuid.uuid4()))
    doc.setdefault("time", datetime.now(UTC).isoformat())  # sent now, unless the file says
    raw = json.dumps(doc).encode()
    try:
        event = decode(raw, [("content-type", STRUCTURED.encode())])
    except InvalidRecord as invalid:
        raise SystemExit(f"{path}: {invalid.code}: {invalid.detail}") from invalid
    return event, raw


async def send(
    settings: KafkaSettings, paths: list[Path], structured: bool, console: Console
) -> None:
    topics = Topics(prefix=settings.topic_prefix)
    loaded = [load_event(path) for path in paths]  # validate every file before sending any
    producer = AIOKafkaProducer(**settings.producer_params())
    await producer.start()
    try:
        for event, raw in loaded:
            topic = topics.for_event(event.data)  # a provider's event: its own topic
            key = (event.subject or _case_id(event)).encode()
            if structured:
                value, headers = raw, [("content-type", STRUCTURED.encode())]
            else:
                value, headers = event.to_binary()
            meta = await producer.send_and_wait(topic, value=value, key=key, headers=headers)
            console.print(
                f"sent [bold]{event.type}[/] id={event.id} key={key.decode()} "
                f"→ {topic}[{meta.partition}]@{meta.offset}"
            )
    finally:
        await producer.stop()


def _case_id(event: Envelope) -> str:
    return str(getattr(event.data, "case_id", "") or "")


async def watch(
    settings: KafkaSettings,
    topic_names: list[str],
    from_beginning: bool,
    limit: int | None,
    console: Console,
) -> None:
    topics = Topics(prefix=settings.topic_prefix)
    names = topic_names or topics.all_with_dlq(provider_ids())
    consumer = AIOKafkaConsumer(**settings.client_params(), enable_auto_commit=False)
    await consumer.start()
    seen = 0
    try:
        partitions = [
            TopicPartition(name, p)
            for name in names
            for p in sorted(consumer.partitions_for_topic(name) or [])
        ]
        if not partitions:
            raise SystemExit(f"none of these topics exist yet: {', '.join(names)}")
        consumer.assign(partitions)
        if from_beginning:
            await consumer.seek_to_beginning(*partitions)
        console.print(f"watching {', '.join(names)} (Ctrl-C to stop)")
        while limit is None or seen < limit:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    console.print(describe(record.topic, record.value, record.headers))
                    seen += 1
    finally:
        await consumer.stop()


def describe(topic: str, value: bytes | None, headers: list[tuple[str, bytes]]) -> str:
    """One readable line per record."""
    h = {k: v.decode(errors="replace") for k, v in headers}
    if Topics.is_dlq(topic):
        return (
            f"[red]{topic}[/] {h.get('ce_type', '?')} reason={h.get(dlq.REASON_CODE)}: "
            f"{h.get(dlq.REASON, '')[:200]}"
        )
    try:
        event = decode(value, headers)
    except InvalidRecord as invalid:
        return f"[yellow]{topic}[/] unreadable record: {invalid.code}"
    data = event.data.model_dump(mode="json")
    summary = {k: v for k, v in data.items() if k not in ("patient", "beneficiary", "reasons")}
    if "reasons" in data:
        summary["reasons"] = [r["code"] for r in data["reasons"]]
    return (
        f"[cyan]{topic}[/] [bold]{event.type}[/] subject={event.subject} "
        f"correlation={event.correlation_id} {json.dumps(summary, default=str)}"
    )


def run(coro: Any) -> Any:
    return asyncio.run(coro)
