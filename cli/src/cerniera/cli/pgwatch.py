"""Stops the embedded PostgreSQL when the process that started it dies, even by SIGKILL.

pgserver's postmaster runs detached (``pg_ctl start``) and is stopped by its last user's exit
hook, which a killed process never runs. This watchdog is started beside it with the kernel's
parent-death signal: when its parent goes, it stops the postmaster (fast shutdown) unless
another live process still uses the same data directory.

    python -m cerniera.cli.pgwatch <data_dir> <postmaster_pid> <parent_pid>
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType

import psutil


def _users(data_dir: Path) -> list[int]:
    """Live processes still holding the server (pgserver's handle list)."""
    try:
        pids = json.loads((data_dir / ".handle_pids.json").read_text() or "[]")
    except (OSError, ValueError):
        return []
    return [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]


def _stop(data_dir: Path, postmaster: int) -> None:
    time.sleep(0.5)  # a clean exit's own hook runs first
    if _users(data_dir):
        return
    try:
        process = psutil.Process(postmaster)
        if "postgres" in process.name():
            process.send_signal(signal.SIGINT)  # PostgreSQL's fast shutdown
    except psutil.Error:
        pass


def main(argv: list[str]) -> None:
    data_dir, postmaster, parent = Path(argv[0]), int(argv[1]), int(argv[2])

    def parent_gone(signum: int, frame: FrameType | None) -> None:
        _stop(data_dir, postmaster)
        sys.exit(0)

    signal.signal(signal.SIGTERM, parent_gone)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which stops us
    if os.getppid() != parent:  # the parent died while we were starting
        parent_gone(signal.SIGTERM, None)
    while True:
        signal.pause()


if __name__ == "__main__":
    main(sys.argv[1:])
