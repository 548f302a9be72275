"""``cerniera bench --rate R``: latency at a steady load, with the four services running.

Announcements are offered at a fixed rate, each at its own moment on a schedule (not in bursts),
for ``--duration`` seconds. Each latency is the difference of two Kafka record timestamps
(CreateTime, set by the producer as it sends: the bench for the announcement, the services'
outbox relays for what they publish): from the announcement to its decision on intake.cases
(a case that waits for the team has none), and to the last of the case's activation requests
on the providers' own topics (all of them are in once activation has consumed every decision
and emptied its outbox). A few warm-up cases go through first, so that every consumer group
has joined and settled before the clock runs; they are left out of the figures.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from aiokafka import AIOKafkaProducer
from rich.console import Console
from rich.table import Table

from cerniera.cli.bench import (
    Announcement,
    BenchOptions,
    BenchReport,
    Offsets,
    Outcomes,
    ProcessTrace,
    Record,
    Span,
    Stack,
    Watch,
    announcements,
    load,
    print_profiles,
    process_names,
    services_running,
    timestamps_used,
    usage_table,
    written,
)
from cerniera.shared.settings import KafkaSettings

T = TypeVar("T")
R = TypeVar("R")

# --- pure parts ---------------------------------------------------------------------------


def sends_in(rate: float, duration: float) -> int:
    """How many announcements ``duration`` seconds at ``rate`` per second make."""
    if rate <= 0 or duration <= 0:
        raise ValueError("rate and duration must be positive")
    return math.floor(rate * duration + 1e-9)  # 0.29 * 100 is 28.999...


def schedule(rate: float, count: int) -> list[float]:
    """When each of ``count`` sends is due, in seconds from the start: evenly, ``rate`` per
    second."""
    return [n / rate for n in range(count)]


async def paced(items: Sequence[T], rate: float, send: Callable[[T], Awaitable[R]]) -> list[R]:
    """``send`` each item at its moment on the schedule, never early; a late send does not
    shift the ones after it (the offered rate holds, and the lateness is reported). Return
    what the sends returned."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    results = []
    for due, item in zip(schedule(rate, len(items)), items, strict=True):
        if (wait := start + due - loop.time()) > 0:
            await asyncio.sleep(wait)
        results.append(await send(item))
    return results


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile: the smallest value with at least ``q`` % of the values at
    or below it (always a value that was observed)."""
    if not values:
        raise ValueError("no values")
    if not 0 < q <= 100:
        raise ValueError("q is in (0, 100]")
    ordered = sorted(values)
    return ordered[math.ceil(q / 100 * len(ordered)) - 1]


@dataclass(frozen=True)
class Percentiles:
    count: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Percentiles | None:
        if not values:
            return None
        return cls(
            len(values),
            percentile(values, 50),
            percentile(values, 95),
            percentile(values, 99),
            max(values),
        )


def latencies(start: dict[str, int], end: dict[str, int], cases: Sequence[str]) -> list[int]:
    """Per case of ``cases`` that has both, ``end − start`` (ms)."""
    return [end[case] - start[case] for case in cases if case in start and case in end]


def lateness(stamps: Sequence[int], rate: float) -> list[float]:
    """How far behind its schedule each send was (ms), the first send being on time: how
    steady the offered load really was."""
    if not stamps:
        return []
    return [stamp - (stamps[0] + 1000 * n / rate) for n, stamp in enumerate(stamps)]


def achieved(stamps: Sequence[int]) -> float | None:
    """The rate the sends (their timestamps, ms, in order) really had."""
    if len(stamps) < 2 or stamps[-1] <= stamps[0]:
        return None
    return (len(stamps) - 1) / ((stamps[-1] - stamps[0]) / 1000)


@dataclass(frozen=True)
class LatencyFigures:
    offered: int
    rate: float
    achieved: float | None
    behind_p99_ms: float
    decision: Percentiles | None
    planned: Percentiles | None
    timestamps: str


def latency_table(figures: LatencyFigures) -> Table:
    table = Table(title=f"Latency at {figures.rate:g} announcements/s offered")
    table.add_column("from the announcement's publish to")
    for column in ("cases", "p50 ms", "p95 ms", "p99 ms", "max ms"):
        table.add_column(column, justify="right")
    rows = [
        ("its decision on intake.cases", figures.decision),
        ("the case's last activation request", figures.planned),
    ]
    for what, p in rows:
        if p is None:
            table.add_row(what, "0", "–", "–", "–", "–")
        else:
            table.add_row(
                what, f"{p.count:,}", *(f"{v:,.0f}" for v in (p.p50, p.p95, p.p99, p.max))
            )
    return table


# --- the run --------------------------------------------------------------------------------


async def offer(
    settings: KafkaSettings, topic: str, prepared: Sequence[Announcement], rate: float
) -> Offsets:
    """Send the prepared announcements at ``rate`` per second, without waiting for the
    acknowledgements in between (they are awaited at the end)."""
    producer = AIOKafkaProducer(**settings.producer_params())
    await producer.start()

    async def send(announcement: Announcement) -> Any:  # the acknowledgement, to await
        value, key, headers = announcement
        return await producer.send(topic, value=value, key=key, headers=headers)

    try:
        acks = await paced(prepared, rate, send)
        return written(await asyncio.gather(*acks))
    finally:
        await producer.stop()


async def measure_latency(console: Console, options: BenchOptions, stack: Stack) -> BenchReport:
    assert options.rate is not None
    settings, topics = stack.settings, stack.topics
    rate = options.rate
    count = sends_in(rate, options.duration)
    warm = range(options.warmup)
    outcomes = Outcomes()
    sent: dict[str, int] = {}
    hospital = Span()

    def on_record(record: Record) -> None:
        if record.topic != topics.hospital_discharges:
            outcomes.add_record(record)
        elif (case := record.key.decode()) not in sent:
            hospital.add(record)
            sent[case] = record.timestamp

    readers = [
        topics.hospital_discharges,
        topics.intake_cases,
        *(topics.provider_requests(p) for p in stack.providers),
    ]
    trace = ProcessTrace()
    with trace, services_running(stack, options, trace) as members:
        async with Watch(
            stack, readers, on_record, members=members, state=outcomes.describe
        ) as watch:
            with console.status(f"warming up: {len(warm)} cases through the pipeline"):
                ends = await load(settings, topics.hospital_discharges, warm, stack.run, None)
                await _settle(watch, options, ends)
            measured = range(len(warm), len(warm) + count)
            prepared = list(announcements(measured, stack.run))
            began = time.time()
            with console.status(f"offering {count:,} announcements at {rate:g}/s"):
                offered = await offer(settings, topics.hospital_discharges, prepared, rate)
            with console.status("waiting for the last decisions and requests"):
                await _settle(watch, options, {**ends, **offered})
            finished = time.time()
    cases = [key.decode() for _, key, _ in prepared]  # in the order they were sent
    stamps = [sent[case] for case in cases]
    behind = lateness(stamps, rate)
    figures = LatencyFigures(
        offered=len(cases),
        rate=rate,
        achieved=achieved(stamps),
        behind_p99_ms=percentile(behind, 99) if behind else 0.0,
        decision=Percentiles.of(latencies(sent, outcomes.decided, cases)),
        planned=Percentiles.of(latencies(sent, outcomes.last_request, cases)),
        timestamps=timestamps_used(hospital.kinds),
    )
    console.print(latency_table(figures))
    console.print(
        f"{figures.offered:,} announcements over {options.duration:g} s (achieved "
        f"{figures.achieved or 0:,.1f}/s, p99 {figures.behind_p99_ms:.0f} ms behind schedule), "
        f"after {len(warm)} warm-up cases left out; the cases without a decision wait for the "
        f"team. Times: {figures.timestamps}."
    )
    summary = trace.summary(since=began, until=finished)
    console.print(usage_table(summary, finished - began))
    if options.profile:
        print_profiles(console, stack.logs, process_names(options), len(warm) + count)
    return BenchReport(latency=figures, usage=summary)


async def _settle(watch: Watch, options: BenchOptions, announced: Offsets) -> None:
    """Every service has consumed the announcements and their decisions and published all
    that follows from them."""
    for group in options.services:
        # Once intake has settled, all its decisions are read.
        decisions = watch.read_of(watch.topics.intake_cases)
        await watch.until_settled(
            group, inputs_of(group, announced, decisions), timeout=options.timeout
        )


def inputs_of(group: str, announced: Offsets, decisions: Offsets) -> Offsets:
    """What a service must have consumed: the announcements, intake's decisions, or both."""
    if group == "intake":
        return announced
    if group == "billing":
        return decisions
    return {**announced, **decisions}
