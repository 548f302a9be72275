"""Issue 8's chaos run, at CI size: 150 cases through their whole lifecycle, with duplicate
deliveries, while a random service is SIGKILLed every few seconds and the database goes away
once; the run itself checks the topics and the databases and prints the four figures.

The verdict's own logic is tested first, without I/O: a run that checked nothing would also
print four zeros.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

import pytest
from aiokafka import TopicPartition

from cerniera.cli.chaos.observe import DeadLetter, Observed
from cerniera.cli.chaos.scenario import WEEKS, CasePlan, Kind, districts_document, play
from cerniera.cli.chaos.verify import Snapshot, Verdict, judge
from cerniera.shared.clock import ROME
from cerniera.shared.contract import Topics

CASE = "asst-vimercate:VIMC-2027-0000001"
REJECTED = "asst-vimercate:VIMC-2027-0000002"
DISCHARGE = datetime(2027, 1, 20, 10, tzinfo=ROME)
CLEAN = "lost 0, duplicated effects 0, good events dead-lettered 0, stuck 0"


# --- the verdict, on made-up observations ------------------------------------------------------


def _plans() -> list[CasePlan]:
    return [
        CasePlan(CASE, Kind.ELIGIBLE, DISCHARGE, hand_over=False),
        CasePlan(REJECTED, Kind.NOT_ELIGIBLE, DISCHARGE, hand_over=False),
    ]


def _followed() -> tuple[Observed, Snapshot]:
    """What a case that went right leaves on the topics and in the databases."""
    seen = Observed()
    snap = Snapshot()
    seen.confirmed[CASE].add("d1")
    seen.package[CASE] = ["sad", "meals"]
    for n, service in enumerate(("sad", "meals")):
        request = f"{CASE}/{service}/1"
        seen.requested[request].add(f"r{n}")
        seen.request_case[request] = (CASE, service)
        seen.by_case.setdefault(CASE, {})[service] = [request]
        seen.activated[request].add(f"a{n}")
        seen.deactivated[request].add(f"x{n}")
        snap.activation_requests[CASE].append((service, "deactivated"))
    for week in range(1, WEEKS + 1):
        seen.checks[(CASE, week)].add(f"w{week}")
        snap.checks[(CASE, week)] = 1
    seen.closed[CASE]["c1"] = "completed"
    seen.closed_on[CASE] = date(2027, 2, 1)  # 12 days after the discharge
    seen.reports[("coop-il-melograno", f"{CASE}/sad/1/2027-01-20/1")] |= {"h1", "h2"}
    snap.lines[("coop-il-melograno", f"{CASE}/sad/1/2027-01-20/1")] = 1
    snap.intake[CASE] = "eligible"
    snap.activation_cases[CASE] = ("ended", "case closed (completed)")
    snap.followups[CASE] = ("closed", "completed")
    snap.billing_cases[CASE] = ("confirmed", True)
    seen.rejected[REJECTED].add("n1")
    snap.intake[REJECTED] = "not_eligible"
    snap.billing_cases[REJECTED] = ("rejected", False)
    snap.leftovers = {"billing": {"outbox": 0, "parked_cases": 0, "parked_events": 0}}
    return seen, snap


def _judge(seen: Observed, snap: Snapshot, lag: int = 0) -> Verdict:
    tp = TopicPartition("dp.providers.reports", 0)
    return judge(_plans(), seen, snap, {("billing", tp): lag})


def test_a_case_that_went_right_is_clean() -> None:
    seen, snap = _followed()
    verdict = _judge(seen, snap)
    assert verdict.findings == []
    assert verdict.line() == CLEAN


def test_an_effect_twice_under_two_event_ids_is_a_duplicate() -> None:
    seen, snap = _followed()
    seen.closed[CASE]["c2"] = "completed"
    seen.activated[f"{CASE}/sad/1"].add("a-again")
    snap.lines[("coop-il-melograno", f"{CASE}/sad/1/2027-01-20/1")] = 2
    assert _judge(seen, snap).duplicated == 3


def test_a_second_request_for_one_service_is_a_duplicate() -> None:
    seen, snap = _followed()
    seen.by_case[CASE]["sad"].append(f"{CASE}/sad/2")
    assert _judge(seen, snap).duplicated == 1


def test_missing_effects_are_lost() -> None:
    seen, snap = _followed()
    del seen.checks[(CASE, WEEKS)]
    del seen.deactivated[f"{CASE}/meals/1"]
    snap.lines.clear()
    verdict = _judge(seen, snap)
    assert verdict.lost == 3
    assert verdict.duplicated == verdict.dead_lettered == verdict.stuck == 0


def test_another_end_state_than_the_inputs_call_for_is_lost() -> None:
    seen, snap = _followed()
    seen.closed[CASE]["c1"] = "handed_over_to_municipality"
    snap.followups[CASE] = ("closed", "handed_over_to_municipality")
    seen.escalated[CASE].add(("sad", "cannot_start_before_discharge"))
    seen.confirmed[REJECTED].add("wrong")
    seen.closed_on[CASE] = date(2027, 1, 30)  # before the end of the follow-up
    assert _judge(seen, snap).lost == 5


def test_dead_letters_lag_and_leftovers() -> None:
    seen, snap = _followed()
    seen.dead_letters.append(
        DeadLetter("dp.intake.cases.dlq", CASE, "EligibilityConfirmed", "billing", "x", "y")
    )
    snap.leftovers["billing"]["outbox"] = 3
    snap.pending_lines.append("ref")
    verdict = _judge(seen, snap, lag=5)
    assert (verdict.dead_lettered, verdict.stuck) == (1, 3)


def test_the_scenario_is_the_seed_s() -> None:
    one, two = play(50, 7, Topics()), play(50, 7, Topics())
    assert [s.value for s in one.sends] == [s.value for s in two.sends]
    assert [dict(s.headers)["ce_id"] for s in one.sends] == [
        dict(s.headers)["ce_id"] for s in two.sends
    ]
    whats = {s.what for s in one.sends}
    assert {"announcement", "duplicate", "re-announcement"} <= whats
    assert "duration_days = 12" in districts_document()


# --- the run -----------------------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.timeout(330)
def test_chaos_run_at_ci_size(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS",)}
    env["COLUMNS"] = "200"  # one line per figure in the captured output
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cerniera.cli.main",
            "chaos",
            "--cases",
            "150",
            "--kill-every",
            "5",
            "--db-outages",
            "1",
            "--timeout",
            "240",
            "--out",
            str(tmp_path),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=320,
    )
    took = time.monotonic() - started
    output = done.stdout + done.stderr
    report = (tmp_path / "report.txt").read_text() if (tmp_path / "report.txt").exists() else ""
    assert CLEAN in output, f"{output[-4000:]}\n{report[:4000]}"
    assert done.returncode == 0, output[-4000:]
    faults = re.search(r"faults: (\d+) services SIGKILLed.*?; (\d+) database outages", output)
    assert faults is not None, output[-2000:]
    assert int(faults.group(1)) >= 5
    assert int(faults.group(2)) == 1
    assert took < 300
