"""``cerniera-desk rebuild``: the read model again from the topics, with the desk stopped.

Everything the desk shows is derived from the topics, so it can always be thrown away and read
again (a fold that changed, a read model that went wrong): the desk consumer group's committed
offsets go back to the beginning of every topic it reads, then the read model, its inbox and
its parked records are emptied. Started again, the desk reads every topic from the start and
builds the read model anew. The outbox (the portal's answers not yet published) and the audit
log are kept.

The offsets go first, committed by a member of the desk's group that must be given every
partition: while a desk runs it is not, and the rebuild stops with the read model as it was.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from sqlalchemy import MetaData, Table, delete, func, select, text

from cerniera.desk.service import MIGRATIONS, every_topic
from cerniera.desk.tables import READ_MODEL, SCHEMA, inbox
from cerniera.shared.contract import Topics
from cerniera.shared.persistence.db import make_engine
from cerniera.shared.persistence.migrations import upgrade
from cerniera.shared.persistence.tables import parked_cases_table, parked_events_table
from cerniera.shared.settings import DatabaseSettings, KafkaSettings

GROUP = SCHEMA
"""The desk's consumer group (a service's group is its name)."""
JOIN_TIMEOUT_S = 60.0
"""How long the group may take to give every partition to the rebuild (the dev broker holds
a join for half a session, and a stopped desk's membership lingers until it expires)."""


@dataclass
class RebuildReport:
    emptied: dict[str, int] = field(default_factory=dict)
    """Rows removed, by table."""
    partitions: dict[str, int] = field(default_factory=dict)
    """Partitions whose committed offset went back to their beginning, by topic."""
    missing_topics: list[str] = field(default_factory=list)
    """Topics the desk reads that the broker does not have (yet): nothing to reset."""


async def rebuild(
    kafka: KafkaSettings | None = None,
    database: DatabaseSettings | None = None,
    *,
    say: Callable[[str], None] = print,
    join_timeout_s: float = JOIN_TIMEOUT_S,
) -> RebuildReport:
    """Reset the desk to read every topic again; ``say`` tells the operator how it goes.
    Raises ``SystemExit``, having changed nothing, if a desk still runs."""
    kafka = kafka or KafkaSettings()
    database = database or DatabaseSettings()
    report = RebuildReport()
    topics = every_topic(Topics(prefix=kafka.topic_prefix))
    say(
        f"desk rebuild: joining group {GROUP!r} to reset {len(topics)} topics "
        "(a stopped desk's membership must expire first: some seconds)"
    )
    await _reset_offsets(kafka, topics, report, join_timeout_s)
    for topic, count in report.partitions.items():
        say(f"  {topic}: {count} partition(s) back to their beginning")
    for topic in report.missing_topics:
        say(f"  {topic}: no such topic, nothing to reset")
    await upgrade(MIGRATIONS, database.database_url, SCHEMA)  # a fresh database too
    await _empty(database, report)
    for table, rows in report.emptied.items():
        say(f"  {table}: {rows} row(s) removed")
    say(
        f"desk rebuild: {sum(report.partitions.values())} partition(s) reset, "
        f"{sum(report.emptied.values())} row(s) removed; start the desk to read every topic again"
    )
    return report


class _Assigned(ConsumerRebalanceListener):  # type: ignore[misc]
    """Holds what the group gave us, paused at once: we commit offsets, we read nothing."""

    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self.consumer = consumer
        self.partitions: set[TopicPartition] = set()

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self.partitions -= set(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.consumer.pause(*assigned)
        self.partitions |= set(assigned)


async def _reset_offsets(
    kafka: KafkaSettings, topics: list[str], report: RebuildReport, join_timeout_s: float
) -> None:
    """Join the desk's group and commit each partition's beginning. As a member of the group:
    brokers refuse (the dev broker always does) a commit from outside a group that has had
    members. Every partition comes to us only when no desk is running."""
    probe = AIOKafkaConsumer(**kafka.client_params(), enable_auto_commit=False)
    await probe.start()
    try:
        await probe.topics()  # fetches the metadata
        wanted: set[TopicPartition] = set()
        for topic in topics:
            known = probe.partitions_for_topic(topic)
            if not known:
                report.missing_topics.append(topic)
                continue
            wanted.update(TopicPartition(topic, p) for p in known)
            report.partitions[topic] = len(known)
        # Beginnings by named partitions: the dev broker's end offsets (not needed) are wrong.
        beginnings = await probe.beginning_offsets(sorted(wanted)) if wanted else {}
    finally:
        await probe.stop()
    if not wanted:
        return
    member = AIOKafkaConsumer(
        **kafka.client_params(),
        **kafka.consumer_params(),
        group_id=GROUP,
        client_id=f"{GROUP}-rebuild",
        enable_auto_commit=False,
    )
    assigned = _Assigned(member)
    await member.start()
    try:
        member.subscribe(topics=sorted({tp.topic for tp in wanted}), listener=assigned)
        deadline = asyncio.get_running_loop().time() + join_timeout_s
        while not wanted <= assigned.partitions:
            if asyncio.get_running_loop().time() > deadline:
                raise SystemExit(
                    f"desk rebuild: the group {GROUP!r} gave only {len(assigned.partitions)} of "
                    f"{len(wanted)} partitions in {join_timeout_s:.0f} s: is a desk still "
                    "running? Stop every desk first; nothing was changed"
                )
            await asyncio.sleep(0.1)
        await member.commit({tp: beginnings[tp] for tp in wanted})
    finally:
        await member.stop()


async def _empty(database: DatabaseSettings, report: RebuildReport) -> None:
    metadata = MetaData(schema=SCHEMA)
    parked = (parked_events_table(metadata), parked_cases_table(metadata))
    engine = make_engine(database, schema=SCHEMA)
    try:
        async with engine.begin() as conn:
            whole: tuple[Table, ...] = (*READ_MODEL, inbox)
            for table in whole:
                report.emptied[table.name] = int(
                    await conn.scalar(select(func.count()).select_from(table)) or 0
                )
            names = ", ".join(f'"{SCHEMA}"."{table.name}"' for table in whole)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))
            for table in parked:  # the desk's own: the schema's parking is its group's alone
                result = await conn.execute(delete(table).where(table.c.consumer == GROUP))
                report.emptied[table.name] = int(result.rowcount or 0)
    finally:
        await engine.dispose()
