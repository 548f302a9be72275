"""``cerniera up`` stops everything within seconds of SIGINT, also when a script started it in
the background (where the shell leaves SIGINT ignored); killed outright, it leaves no service
behind. Real processes, on the test session's broker and database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest

from cerniera.cli.devstack import DatabaseEndpoint, KafkaEndpoint

pytestmark = pytest.mark.integration


def _ignore_sigint() -> None:
    """What a non-interactive shell does to a command it starts with ``&``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def _up(
    kafka: KafkaEndpoint, database: DatabaseEndpoint, log: Path
) -> Iterator[tuple[subprocess.Popen[bytes], list[psutil.Process]]]:
    """``up`` running, and the services it started (all five at least)."""
    env = dict(
        os.environ,
        KAFKA_BOOTSTRAP_SERVERS=kafka.bootstrap_servers,
        KAFKA_ENABLE_IDEMPOTENCE=str(kafka.supports_idempotence).lower(),
        KAFKA_SESSION_TIMEOUT_MS="3000",
        KAFKA_HEARTBEAT_INTERVAL_MS="1000",
        DATABASE_URL=database.url,
        LOG_FORMAT="json",
    )
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "cerniera.cli.main", "up"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_ignore_sigint,
        )
        try:
            deadline = time.monotonic() + 90
            while b"Cerniera is up" not in log.read_bytes():
                assert process.poll() is None, log.read_text(errors="replace")[-2000:]
                assert time.monotonic() < deadline, "up did not come up"
                time.sleep(0.2)
            services = list(psutil.Process(process.pid).children(recursive=True))
            assert len(services) >= 5
            yield process, services
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def _gone(processes: list[psutil.Process], within: float) -> bool:
    _, alive = psutil.wait_procs(processes, timeout=within)
    return not alive


def test_sigint_stops_up_and_its_services_within_seconds_even_from_a_background_script(
    kafka: KafkaEndpoint, database: DatabaseEndpoint, tmp_path: Path
) -> None:
    with _up(kafka, database, tmp_path / "up.log") as (process, services):
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
        took = time.monotonic() - started
        assert _gone(services, within=2)
    assert took < 10, f"up took {took:.1f} s to stop"


def test_a_killed_up_leaves_no_service_behind(
    kafka: KafkaEndpoint, database: DatabaseEndpoint, tmp_path: Path
) -> None:
    with _up(kafka, database, tmp_path / "up.log") as (process, services):
        process.kill()
        process.wait()
        assert _gone(services, within=10)
