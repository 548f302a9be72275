"""``cerniera bench`` without a broker: the figures it computes (percentiles, rates and their
ratios to the raw ceiling, memory and CPU over the load), its pacing, and what it keeps per
case."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from aiokafka import TopicPartition

from cerniera.cli.bench import (
    BenchOptions,
    Outcomes,
    Sample,
    Throughput,
    process_names,
    rate,
    ratio_rows,
    usage,
    written,
)
from cerniera.cli.latency import (
    Percentiles,
    achieved,
    inputs_of,
    latencies,
    lateness,
    paced,
    percentile,
    schedule,
    sends_in,
)

# --- percentiles --------------------------------------------------------------------------


def test_a_percentile_is_the_nearest_rank_an_observed_value() -> None:
    values = [float(v) for v in range(100, 0, -1)]  # 1..100, unsorted
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 99)) == (
        50.0,
        95.0,
        99.0,
    )
    assert percentile(values, 100) == 100.0
    # Ten values: the 95th percentile is the largest, not an interpolation below it.
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95) == 10
    assert percentile([7], 99) == 7


def test_a_percentile_of_nothing_or_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match=r"\(0, 100\]"):
        percentile([1], 0)


def test_percentiles_of_latencies_and_none_without_any() -> None:
    p = Percentiles.of([10, 20, 30, 40, 1000])
    assert p == Percentiles(count=5, p50=30, p95=1000, p99=1000, max=1000)
    assert Percentiles.of([]) is None


def test_latencies_are_counted_for_the_cases_that_have_both_ends() -> None:
    sent = {"a": 1_000, "b": 2_000, "c": 3_000}
    decided = {"a": 1_040, "c": 3_010, "z": 9_999}  # b waits for the team; z is not offered
    assert latencies(sent, decided, ["a", "b", "c"]) == [40, 10]


# --- pacing -------------------------------------------------------------------------------


def test_the_schedule_spreads_the_sends_evenly() -> None:
    assert schedule(50, 4) == [0.0, 0.02, 0.04, 0.06]
    assert sends_in(50, 60) == 3000
    assert sends_in(0.29, 100) == 29  # not 28 for 28.999...
    with pytest.raises(ValueError, match="positive"):
        sends_in(0, 10)


async def test_paced_sends_are_never_early() -> None:
    loop = asyncio.get_running_loop()
    sent_at: list[float] = []

    async def send(item: int) -> int:
        sent_at.append(loop.time())
        return item * 2

    start = loop.time()
    results = await paced(list(range(6)), 50, send)
    assert results == [0, 2, 4, 6, 8, 10]
    for n, at in enumerate(sent_at):
        assert at - start >= n / 50 - 0.001  # at its moment or after, never before
    assert sent_at[-1] - sent_at[0] >= 5 / 50 - 0.001  # spread over the schedule, no burst


def test_lateness_is_measured_against_the_schedule_from_the_first_send() -> None:
    # 50/s: due at 0, 20, 40, 60 ms; the third left 15 ms late.
    assert lateness([1_000, 1_020, 1_055, 1_060], 50) == [0, 0, 15, 0]
    assert lateness([], 50) == []


def test_the_achieved_rate_comes_from_the_first_and_last_send() -> None:
    assert achieved([0, 20, 40, 60, 80]) == pytest.approx(50.0)
    assert achieved([5]) is None
    assert achieved([5, 5]) is None


# --- rates and the ratio table --------------------------------------------------------------


def test_a_rate_is_per_second_between_kafka_timestamps() -> None:
    assert rate(1_000, 10_000, 12_000) == 500.0
    assert rate(10, 5_000, 5_000) is None


def test_each_rate_stands_beside_its_ratio_to_the_raw_ceiling() -> None:
    figures = Throughput(intake=1_200.0, activation=370.0, end_to_end=350.0, ceiling=10_000.0)
    assert ratio_rows(figures) == [
        ("raw ceiling: events/s", "10,000", "100.0%"),
        ("intake: decisions/s", "1,200", "12.0%"),
        ("activation: cases planned/s", "370", "3.7%"),
        ("end to end: cases/s", "350", "3.5%"),
    ]


def test_without_the_ceiling_or_a_span_there_is_no_ratio() -> None:
    rows = ratio_rows(Throughput(intake=800.0, end_to_end=None))
    assert rows == [
        ("intake: decisions/s", "800", "–"),
        ("end to end: cases/s", "n/a", "–"),
    ]


# --- what is kept per case ------------------------------------------------------------------


def test_outcomes_keep_the_first_decision_and_the_span_of_a_case_requests() -> None:
    outcomes = Outcomes()
    outcomes.add("EligibilityConfirmed", "c1", 100)
    outcomes.add("EligibilityConfirmed", "c1", 900)  # republished: the first one counts
    outcomes.add("EligibilityRejected", "c2", 120)
    outcomes.add("NetworkTaskOpened", "c3", 130)  # not a decision
    outcomes.add("ServiceActivationRequested", "c1", 300)
    outcomes.add("ServiceActivationRequested", "c1", 250)  # another provider's topic, earlier
    outcomes.add("ServiceActivationRequested", "c1", 320)
    assert outcomes.decided == {"c1": 100, "c2": 120}
    assert outcomes.eligible == {"c1"}
    assert (outcomes.first_request, outcomes.last_request) == ({"c1": 250}, {"c1": 320})


def test_written_offsets_are_one_past_the_last_record_of_each_partition() -> None:
    sent = [
        SimpleNamespace(topic="t", partition=0, offset=4),
        SimpleNamespace(topic="t", partition=0, offset=2),
        SimpleNamespace(topic="t", partition=1, offset=0),
    ]
    assert written(sent) == {TopicPartition("t", 0): 5, TopicPartition("t", 1): 1}


def test_each_service_settles_on_what_it_consumes() -> None:
    announced = {TopicPartition("h", 0): 10}
    decisions = {TopicPartition("d", 0): 7}
    assert inputs_of("intake", announced, decisions) == announced
    assert inputs_of("billing", announced, decisions) == decisions
    assert inputs_of("activation", announced, decisions) == {**announced, **decisions}


def test_replicas_multiply_intake_and_activation_only() -> None:
    assert process_names(BenchOptions()) == ["intake"]
    assert process_names(BenchOptions(pipeline=True, replicas=2)) == [
        "intake-1",
        "intake-2",
        "activation-1",
        "activation-2",
        "monitoring",
        "billing",
    ]
    assert process_names(BenchOptions(rate=50)) == ["intake", "activation", "monitoring", "billing"]


# --- memory and CPU -------------------------------------------------------------------------


def test_usage_runs_from_the_start_of_the_load_to_its_end() -> None:
    mib = 2**20
    samples = [
        Sample(at=0.0, rss=40 * mib, cpu=0.5),  # start-up: left out
        Sample(at=9.5, rss=100 * mib, cpu=3.0),  # the last one before the load began
        Sample(at=10.5, rss=130 * mib, cpu=4.0),
        Sample(at=11.5, rss=120 * mib, cpu=5.5),
        Sample(at=20.5, rss=125 * mib, cpu=6.0),  # shutting down: left out
        Sample(at=21.0, rss=0, cpu=6.0),  # gone
    ]
    used = usage(samples, since=10.0, until=12.0)
    assert used is not None
    assert (used.start, used.peak, used.end) == (100 * mib, 130 * mib, 120 * mib)
    assert used.cpu_s == pytest.approx(2.5)
    assert used.middle == 130 * mib  # halfway (10.5 s): the second half grew by -10 MiB
    assert usage([], since=0, until=1) is None
